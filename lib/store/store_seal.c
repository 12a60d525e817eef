/*
 * store_seal.c: encryption at rest in the backend-neutral layer (issue #14
 * item 6). store.c seals what it hands a backend and opens what a backend
 * hands back, so both backends store the same bytes and their SQL changes
 * only where it looked into a value (forget's search, truncation).
 *
 * Contract: with no data key on the handle (s->seal NULL) every function here
 * leaves values as they are (a store that was never sealed). With one,
 * whole values (recipient addresses, clients, suppressed addresses) are sealed
 * with homing_seal_value/_client and opened strictly: a value that does not
 * open is -EBADMSG with the reason in homing_store_errmsg; text fields
 * (details, From headers, notification texts and payloads, unmatched
 * reports, notes) have each address sealed (homing_seal_text) and are opened
 * leniently, since anyone can put "~s1:" into a bounce. Values written before
 * the store was sealed (no prefix) read back as they are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/seal.h"
#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/store_int.h"

static int seal_refused(struct homing_store *s, int r, const char *what)
{
    if (r == -EBADMSG)
        store_set_error(s,
                        "a sealed %s does not open with this data key: it was changed, or "
                        "sealed with another key (keys.data)",
                        what);
    else if (r == -ENOSPC || r == -E2BIG)
        store_set_error(s, "a sealed %s is too long", what);
    return r;
}

int store_seal_whole(struct homing_store *s, const char *v, char *out, size_t cap)
{
    int r = homing_seal_value(s->seal, v, strlen(v), out, cap);
    return r < 0 ? seal_refused(s, r, "address") : 0;
}

int store_seal_client(struct homing_store *s, char *client, size_t cap)
{
    if (!s->seal || !client[0] || homing_seal_is(client, strlen(client))) return 0;
    char out[HOMING_SEAL_LEN(HOMING_ADDR_STR_MAX)];
    int r = homing_seal_client(s->seal, client, out, sizeof out);
    if (r < 0 || (size_t)r >= cap) return seal_refused(s, r < 0 ? r : -ENOSPC, "client address");
    memcpy(client, out, (size_t)r + 1);
    return 0;
}

int store_open_fixed(struct homing_store *s, char *field, size_t cap, const char *what)
{
    size_t n = strnlen(field, cap);
    if (!homing_seal_is(field, n)) return 0;
    if (!s->seal) return 0;
    char out[HOMING_SEAL_VALUE_MAX + 1];
    int r = homing_seal_open(s->seal, field, n, out, sizeof out);
    if (r < 0) return seal_refused(s, r, what);
    if ((size_t)r >= cap) return seal_refused(s, -ENOSPC, what);
    memcpy(field, out, (size_t)r + 1);
    return 0;
}

int store_open_whole(struct homing_store *s, char **p, const char *what)
{
    if (!*p || !s->seal || !homing_seal_is(*p, strlen(*p))) return 0;
    char out[HOMING_SEAL_VALUE_MAX + 1];
    int r = homing_seal_open(s->seal, *p, strlen(*p), out, sizeof out);
    if (r < 0) return seal_refused(s, r, what);
    char *d = strdup(out);
    if (!d) return -ENOMEM;
    free(*p);
    *p = d;
    return 0;
}

int store_seal_text(struct homing_store *s, const char *in, size_t n, char **owned,
                    size_t *owned_len)
{
    *owned = NULL;
    if (!s->seal || !in || !memchr(in, '@', n) || !homing_seal_text_pending(in, n)) return 0;
    size_t len;
    int r = homing_seal_text(s->seal, in, n, owned, &len);
    if (r == 0 && owned_len) *owned_len = len;
    return r;
}

int store_seal_fixed_text(struct homing_store *s, char *field, size_t cap)
{
    size_t n = strnlen(field, cap);
    char *t;
    int r = store_seal_text(s, field, n, &t, NULL);
    if (r < 0 || !t) return r;
    size_t len = strlen(t);
    if (len >= cap) {
        /* Too long once sealed: each address keeps only its lookup prefix. */
        free(t);
        if ((r = homing_seal_text_refs(s->seal, field, n, &t, &len)) < 0) return r;
        if (len >= cap) len = cap - 1;
    }
    memcpy(field, t, len);
    field[len] = '\0';
    free(t);
    return 0;
}

int store_open_text(struct homing_store *s, char **p, size_t *len)
{
    if (!*p || !s->seal) return 0;
    size_t n = len ? *len : strlen(*p);
    if (!memmem(*p, n, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN)) return 0;
    char *t;
    size_t tl;
    int r = homing_seal_open_text(s->seal, *p, n, 0, &t, &tl);
    if (r < 0) return r;
    free(*p);
    *p = t;
    if (len) *len = tl;
    return 0;
}

int store_open_fixed_text(struct homing_store *s, char *field, size_t cap)
{
    size_t n = strnlen(field, cap);
    if (!s->seal || !memmem(field, n, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN)) return 0;
    char *t;
    size_t tl;
    int r = homing_seal_open_text(s->seal, field, n, 0, &t, &tl);
    if (r < 0) return r;
    if (tl >= cap) tl = cap - 1;
    memcpy(field, t, tl);
    field[tl] = '\0';
    free(t);
    return 0;
}

/* ---- events ---- */

struct store_ev_saved {
    char client[HOMING_ADDR_STR_MAX];
    char from[HOMING_EVENT_FROM_MAX];
    char *detail; /* the caller's; evs[i].detail is ours while sealed */
    int sealed_detail;
};

int store_events_seal(struct homing_store *s, struct homing_event *evs, size_t n,
                      struct store_ev_saved **saved)
{
    *saved = NULL;
    if (!s->seal || n == 0) return 0;
    struct store_ev_saved *sv = malloc(n * sizeof *sv);
    if (!sv) return -ENOMEM;
    int r = 0;
    size_t i = 0;
    /* Hits come in runs from one client: seal each run once. */
    char last_in[HOMING_ADDR_STR_MAX] = "", last_out[HOMING_ADDR_STR_MAX] = "";
    for (; i < n && r == 0; i++) {
        struct homing_event *e = &evs[i];
        memcpy(sv[i].client, e->client, sizeof e->client);
        memcpy(sv[i].from, e->from, sizeof e->from);
        sv[i].detail = e->detail;
        sv[i].sealed_detail = 0;
        if (e->client[0]) {
            if (last_in[0] && strcmp(e->client, last_in) == 0) {
                memcpy(e->client, last_out, sizeof e->client);
            } else if ((r = store_seal_client(s, e->client, sizeof e->client)) == 0) {
                memcpy(last_in, sv[i].client, sizeof last_in);
                memcpy(last_out, e->client, sizeof last_out);
            }
        }
        if (r == 0 && e->from[0] && memchr(e->from, '@', sizeof e->from))
            r = store_seal_fixed_text(s, e->from, sizeof e->from);
        char *d;
        if (r == 0 && e->detail &&
            (r = store_seal_text(s, e->detail, strlen(e->detail), &d, NULL)) == 0 && d) {
            e->detail = d;
            sv[i].sealed_detail = 1;
        }
    }
    if (r < 0) {
        store_events_restore(evs, i, sv);
        return r;
    }
    *saved = sv;
    return 0;
}

void store_events_restore(struct homing_event *evs, size_t n, struct store_ev_saved *sv)
{
    if (!sv) return;
    for (size_t i = 0; i < n; i++) {
        memcpy(evs[i].client, sv[i].client, sizeof evs[i].client);
        memcpy(evs[i].from, sv[i].from, sizeof evs[i].from);
        if (sv[i].sealed_detail) free(evs[i].detail);
        evs[i].detail = sv[i].detail;
    }
    free(sv);
}

int store_events_open(struct homing_store *s, struct homing_event *evs, size_t n)
{
    if (!s->seal) return 0;
    int r = 0;
    /* Hits come in runs from one client: open each run once. */
    char last_in[HOMING_ADDR_STR_MAX] = "", last_out[HOMING_ADDR_STR_MAX] = "";
    for (size_t i = 0; i < n && r == 0; i++) {
        char *c = evs[i].client;
        if (last_in[0] && strncmp(c, last_in, sizeof last_in) == 0) {
            memcpy(c, last_out, sizeof last_out);
        } else if (homing_seal_is(c, strnlen(c, sizeof evs[i].client))) {
            memcpy(last_in, c, sizeof last_in);
            if ((r = store_open_fixed(s, c, sizeof evs[i].client, "client address")) == 0)
                memcpy(last_out, c, sizeof last_out);
        }
        if (r == 0) r = store_open_fixed_text(s, evs[i].from, sizeof evs[i].from);
        if (r == 0) r = store_open_text(s, &evs[i].detail, NULL);
    }
    return r;
}

/* ---- lists of strings ---- */

int store_seal_list(struct homing_store *s, const char *const *in, size_t n, char ***out)
{
    *out = NULL;
    if (!s->seal || n == 0) return 0;
    char **v = calloc(n, sizeof *v);
    if (!v) return -ENOMEM;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        size_t cap = HOMING_SEAL_LEN(strlen(in[i])) + 1;
        if (!(v[i] = malloc(cap)))
            r = -ENOMEM;
        else
            r = store_seal_whole(s, in[i], v[i], cap);
    }
    if (r < 0) {
        store_list_free(v, n);
        return r;
    }
    *out = v;
    return 0;
}

void store_list_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

int store_client_truncate(struct homing_store *s, const char *stored, unsigned v4, unsigned v6,
                          char out[HOMING_ADDR_STR_MAX])
{
    char plain[HOMING_ADDR_STR_MAX];
    homing_strlcpy(plain, stored, sizeof plain);
    int r = store_open_fixed(s, plain, sizeof plain, "client address");
    if (r < 0) return r;
    struct homing_addr a;
    if (!plain[0] || homing_addr_parse(plain, strlen(plain), &a) < 0)
        return 0; /* nothing stored, or not an address: nothing to cut */
    homing_addr_truncate(&a, a.family == 4 ? v4 : v6);
    homing_addr_format(&a, out);
    if (strcmp(out, plain) == 0) return 0;
    /* sealed stays sealed: the same length (an address's bytes), which the
     * append-only guard's "no longer than before" checks */
    if (homing_seal_is(stored, strlen(stored)) &&
        (r = store_seal_client(s, out, HOMING_ADDR_STR_MAX)) < 0)
        return r;
    return 1;
}
