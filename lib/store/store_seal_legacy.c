/*
 * store_seal_legacy.c: sealing in place the rows a store held before it was
 * first opened with a data key (docs/privacy.md#encryption-at-rest).
 *
 * Contract: store_seal_legacy runs at open, after the key's id is recorded
 * (so every row written from then on is sealed); it walks the columns below
 * and the events in transactions of STORE_SEAL_BATCH rows through the
 * backend's seal_batch and seal_events, and marks the store done (sync_state
 * "seal-legacy") only when every column is through. A crash or a second
 * process in between costs a repeat, never a double seal: a sealed value is
 * passed over. The events are rewritten under the guard 'seal' (migration
 * 0018), which lets a value go from clear to sealed and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/seal.h"
#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/store_int.h"

#define STORE_SEAL_BATCH 512 /* rows per transaction */
#define STORE_SEAL_DONE  "seal-legacy"

/* Every column outside events that holds a recipient or client address. */
static const struct store_seal_col store_seal_cols[] = {
    {"recipients", "address", STORE_SEAL_WHOLE},
    {"suppressions", "address", STORE_SEAL_WHOLE},
    {"suppressions", "note", STORE_SEAL_TEXT_VALUE},
    {"flood_pending", "client", STORE_SEAL_CLIENT},
    {"notifications", "text", STORE_SEAL_TEXT},
    {"notifications", "payload", STORE_SEAL_TEXT},
    {"unmatched_reports", "reason", STORE_SEAL_TEXT},
    {"unmatched_reports", "raw", STORE_SEAL_TEXT},
};

int store_seal_legacy_value(struct homing_store *s, enum store_seal_kind kind, const char *in,
                            size_t n, char **out, size_t *out_n)
{
    *out = NULL;
    if (!s->seal || !in || homing_seal_is(in, n)) return 0;
    if (kind == STORE_SEAL_TEXT || kind == STORE_SEAL_TEXT_VALUE)
        return store_seal_text(s, in, n, out, out_n);
    if (n == 0 || memchr(in, '\0', n) || (n == 9 && memcmp(in, "forgotten", 9) == 0)) return 0;
    size_t cap = HOMING_SEAL_LEN(n) + 1;
    char *plain = strndup(in, n), *t = malloc(cap);
    int r = plain && t ? 0 : -ENOMEM;
    if (r == 0 && kind == STORE_SEAL_CLIENT) {
        r = homing_seal_client(s->seal, plain, t, cap);
    } else if (r == 0) {
        r = homing_seal_value(s->seal, plain, n, t, cap);
    }
    free(plain);
    if (r < 0) {
        free(t);
        return r;
    }
    *out = t;
    *out_n = (size_t)r;
    return 0;
}

int store_seal_legacy_event(struct homing_store *s, char *client, size_t client_cap, char *from,
                            size_t from_cap, char **detail)
{
    char c0 = client[0], f0 = from[0];
    size_t cl = strlen(client), fl = strlen(from);
    char before_c[HOMING_ADDR_STR_MAX];
    homing_strlcpy(before_c, client, sizeof before_c);
    int r = store_seal_client(s, client, client_cap);
    int changed = r == 0 && c0 && (strlen(client) != cl || strcmp(client, before_c) != 0);
    if (r == 0 && f0 && memchr(from, '@', fl) && homing_seal_text_pending(from, fl)) {
        if ((r = store_seal_fixed_text(s, from, from_cap)) == 0) changed = 1;
    }
    char *d = NULL;
    if (r == 0 && *detail && (r = store_seal_text(s, *detail, strlen(*detail), &d, NULL)) == 0 &&
        d) {
        free(*detail);
        *detail = d;
        changed = 1;
    }
    return r < 0 ? r : changed;
}

int store_seal_legacy(struct homing_store *s)
{
    if (!s->seal || !s->ops->seal_batch || !s->ops->seal_events) return 0;
    char *done = NULL;
    int r = s->ops->sync_get(s, STORE_SEAL_DONE, &done);
    if (r == 0) {
        free(done);
        return 0;
    }
    if (r != -ENOENT) return r;
    for (size_t i = 0; i < sizeof store_seal_cols / sizeof *store_seal_cols; i++) {
        int64_t after = 0, before;
        size_t n;
        do { /* whole values: *after counts the values sealed, so a batch
              * that seals none (values that stay) ends the walk */
            before = after;
            if ((r = s->ops->seal_batch(s, &store_seal_cols[i], &after, STORE_SEAL_BATCH, &n)) < 0)
                return r;
        } while (n == STORE_SEAL_BATCH && after != before);
    }
    int64_t after = 0;
    size_t n;
    do {
        if ((r = s->ops->seal_events(s, &after, STORE_SEAL_BATCH, &n)) < 0) return r;
    } while (n == STORE_SEAL_BATCH);
    return s->ops->sync_set(s, STORE_SEAL_DONE, "done");
}
