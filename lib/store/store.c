/*
 * store.c: the public homing_store_* functions. Picks the backend from the
 * URL's scheme in the registry below, checks arguments once for every backend,
 * applies the policy every backend shares, then dispatches through the
 * backend's ops; an optional operation only when the backend declares its
 * capability. Also the _free functions, which do not depend on the backend.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "homing/apikey.h"
#include "homing/seal.h"
#include "homing/store.h"
#include "homing/store_engine.h"
#include "homing/util.h"
#include "lib/store/store_int.h"

void store_set_error(struct homing_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
}

int store_open_fail(char *err, size_t errcap, int r, const char *fmt, ...)
{
    if (err && errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
    return r;
}

/* The registry: every backend of this build. The first is the default, for a
 * URL that names no scheme (a bare path). A new backend adds its line here and
 * its file to lib/store/meson.build (docs/internals/store.md). */
static const struct homing_store_backend *const store_backends[] = {
    &store_backend_sqlite,
    &store_backend_postgresql,
};
#define STORE_BACKENDS (sizeof store_backends / sizeof store_backends[0])

/* Other names of a registered scheme: "postgres" is libpq's other URI scheme,
 * so a URL copied from a libpq setting opens as written. */
static const struct {
    const char *alias, *scheme;
} store_aliases[] = {{"postgres", "postgresql"}};

/* Whether backends with HOMING_STORE_CAP_PARTIAL may be opened: only the
 * backend test suite sets it (homing_store_partial_allow). */
static int store_partial_ok;

void homing_store_partial_allow(int on)
{
    store_partial_ok = on != 0;
}

/* The data key handles opened from now on seal with (homing_store_seal_use). */
static const struct homing_seal *store_seal_default;

void homing_store_seal_use(const struct homing_seal *k)
{
    store_seal_default = k;
}

/* The sync_state row naming the data key a store is sealed with. */
#define STORE_SEAL_ROW "seal-key"

/* A store sealed with one key is opened with that key only: without it (or
 * with another) every address would read as garbage. An unsealed store
 * opened with a key is sealed from then on: the key's id is recorded, and the
 * rows written before are sealed in place (store_seal_legacy). */
static int store_seal_attach(struct homing_store *s, char *err, size_t errcap)
{
    char *id = NULL;
    int r = s->ops->sync_get(s, STORE_SEAL_ROW, &id);
    if (r < 0 && r != -ENOENT)
        return store_open_fail(err, errcap, r, "reading the store's data key id: %s", s->errmsg);
    if (id && !s->seal) {
        r = store_open_fail(err, errcap, -ENOKEY,
                            "the store's addresses are sealed with data key %s: its key file "
                            "(keys.data) is needed to open it",
                            id);
    } else if (id && strcmp(id, homing_seal_id(s->seal)) != 0) {
        r = store_open_fail(
            err, errcap, -EKEYREJECTED,
            "the store's addresses are sealed with data key %s, but keys.data holds "
            "key %s: restore the store's own key file",
            id, homing_seal_id(s->seal));
    } else if (s->seal) {
        r = 0;
        if (!id && (r = s->ops->sync_set(s, STORE_SEAL_ROW, homing_seal_id(s->seal))) < 0)
            r = store_open_fail(err, errcap, r, "recording the data key id: %s", s->errmsg);
        if (r == 0 && (r = store_seal_legacy(s)) < 0)
            r = store_open_fail(err, errcap, r, "sealing the rows written before: %s", s->errmsg);
    } else {
        r = 0;
    }
    free(id);
    return r;
}

/* The backend url names, and in *target what it is given: the URL after
 * "scheme:", or the whole URL for a bare path. A failure's reason in err. */
static int store_pick(const char *url, const struct homing_store_backend **out, const char **target,
                      char *err, size_t errcap)
{
    size_t n = strcspn(url, ":/");
    if (url[n] == ':' && n > 0) {
        const char *scheme = url;
        size_t len = n;
        for (size_t i = 0; i < sizeof store_aliases / sizeof store_aliases[0]; i++)
            if (strlen(store_aliases[i].alias) == n &&
                strncmp(url, store_aliases[i].alias, n) == 0) {
                scheme = store_aliases[i].scheme;
                len = strlen(scheme);
            }
        for (size_t i = 0; i < STORE_BACKENDS; i++)
            if (strlen(store_backends[i]->scheme) == len &&
                strncmp(scheme, store_backends[i]->scheme, len) == 0) {
                if ((store_backends[i]->caps & HOMING_STORE_CAP_PARTIAL) && !store_partial_ok)
                    return store_open_fail(
                        err, errcap, -EPROTONOSUPPORT,
                        "the %s store backend is not finished in this build (for "
                        "its tests only); use sqlite:PATH",
                        store_backends[i]->scheme);
                *out = store_backends[i];
                *target = url + n + 1;
                return 0;
            }
        /* A scheme we do not know must not be taken for a relative file name. */
        if (strncmp(url + n, "://", 3) == 0)
            return store_open_fail(err, errcap, -EINVAL, "unknown store URL scheme in '%.*s'",
                                   (int)n + 3, url);
    }
    *out = store_backends[0];
    *target = url;
    return 0;
}

int homing_store_open(const char *url, const char *base_dir, const char *sync,
                      struct homing_store **out, char *err, size_t errcap)
{
    char scratch[1];
    if (!err || !errcap) {
        /* The backends always write a reason; give them somewhere to write it. */
        err = scratch;
        errcap = sizeof scratch;
    }
    err[0] = '\0';
    if (!out) return store_open_fail(err, errcap, -EINVAL, "no output handle");
    if (!url || !*url) return store_open_fail(err, errcap, -EINVAL, "empty store URL");
    if (!sync || !*sync) sync = "normal";
    if (strcmp(sync, "normal") != 0 && strcmp(sync, "full") != 0)
        return store_open_fail(err, errcap, -EINVAL,
                               "store.sync must be 'normal' or 'full', not '%s'", sync);
    const struct homing_store_backend *b;
    const char *target;
    int r = store_pick(url, &b, &target, err, errcap);
    if (r < 0) return r;
    if (!(b->caps & HOMING_STORE_CAP_SYNC) && strcmp(sync, "normal") != 0)
        return store_open_fail(err, errcap, -ENOTSUP,
                               "store.sync = %s: the %s backend has no such setting", sync,
                               b->scheme);
    struct homing_store *s = NULL;
    if ((r = b->ops->open(target, base_dir, sync, &s, err, errcap)) < 0) return r;
    s->backend = b;
    s->seal = store_seal_default;
    if ((r = store_seal_attach(s, err, errcap)) < 0) {
        s->ops->close(s);
        return r;
    }
    *out = s;
    return 0;
}

unsigned homing_store_caps(const struct homing_store *s)
{
    return s ? s->backend->caps : 0;
}

const char *homing_store_scheme(const struct homing_store *s)
{
    return s ? s->backend->scheme : "";
}

int homing_store_backend_get(size_t i, const char **scheme, unsigned *caps)
{
    if (i >= STORE_BACKENDS) return -ENOENT;
    if (scheme) *scheme = store_backends[i]->scheme;
    if (caps) *caps = store_backends[i]->caps;
    return 0;
}

void homing_store_close(struct homing_store *s)
{
    if (s) s->ops->close(s);
}

const char *homing_store_errmsg(struct homing_store *s)
{
    if (!s) return "no store";
    return s->errmsg[0] ? s->errmsg : "no error";
}

int homing_store_schema_version(struct homing_store *s, int *version)
{
    if (!s || !version) return -EINVAL;
    return s->ops->schema_version(s, version);
}

/* The store takes a link only in the form homing_url_check writes (so nothing
 * a front end forgot to check, old or new, can reach a redirect's Location
 * header), or as the document placeholder of `homing track` ({{doc:NAME}},
 * homing/track.h; never redirected to: no click URL is made for it). Returns 0
 * or -EINVAL with *why set, -ENOMEM. */
#define STORE_DOC_PREFIX "{{doc:"
static int link_ok(const char *url, const char **why)
{
    size_t n = strlen(url), pl = sizeof STORE_DOC_PREFIX - 1;
    if (n > pl + 2 && memcmp(url, STORE_DOC_PREFIX, pl) == 0 && strcmp(url + n - 2, "}}") == 0) {
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)url[i] < 0x20 || url[i] == 0x7f) {
                *why = "a control character";
                return -EINVAL;
            }
        return 0;
    }
    struct homing_buf b;
    homing_buf_init(&b, HOMING_URL_DEST_MAX + 1);
    int r = homing_url_check(url, n, &b, why);
    if (r == -E2BIG) r = -EINVAL;
    if (r == 0 && (b.len != n || memcmp(b.data, url, n) != 0)) {
        *why = "not in the form homing_url_check gives";
        r = -EINVAL;
    }
    homing_buf_free(&b);
    return r;
}

int homing_store_message_add(struct homing_store *s, const struct homing_message_spec *m,
                             uint64_t *id_out)
{
    if (!s || !m || !id_out) return -EINVAL;
    if (m->mode != HOMING_MODE_PER_RECIPIENT && m->mode != HOMING_MODE_PER_MESSAGE) return -EINVAL;
    if (m->n_recipients > HOMING_STORE_RECIPIENTS_MAX || m->n_links > HOMING_STORE_LINKS_MAX)
        return -E2BIG;
    if ((m->n_recipients && !m->recipients) || (m->n_links && !m->links)) return -EINVAL;
    if (m->campaign && !homing_campaign_ok(m->campaign)) return -EINVAL;
    if (!homing_tracking_name(m->tracking)) return -EINVAL;
    for (size_t i = 0; i < m->n_recipients; i++)
        if (!m->recipients[i]) return -EINVAL;
    for (size_t i = 0; i < m->n_links; i++) {
        if (!m->links[i]) return -EINVAL;
        const char *why = "";
        int r = link_ok(m->links[i], &why);
        if (r < 0) {
            store_set_error(s, "link %zu is not a valid destination: %s", i + 1, why);
            return r;
        }
    }
    char **sealed;
    int r = store_seal_list(s, m->recipients, m->n_recipients, &sealed);
    if (r < 0) return r;
    if (!sealed) return s->ops->message_add(s, m, id_out);
    struct homing_message_spec copy = *m;
    copy.recipients = (const char *const *)sealed;
    r = s->ops->message_add(s, &copy, id_out);
    store_list_free(sealed, m->n_recipients);
    return r;
}

/* A list row type: its size, its heap strings (freed by rows_free, at most
 * STORE_ROW_HEAP_MAX) and those of them that are sealed (opened by
 * rows_opened, at most STORE_ROW_SEALED_MAX): whole (a recipient address)
 * or text with addresses, with its length at len_at (0: none; no row type
 * starts with a text's length). Offsets into the row. */
#define STORE_ROW_HEAP_MAX   5
#define STORE_ROW_SEALED_MAX 2
struct store_row_type {
    size_t size;
    size_t heap[STORE_ROW_HEAP_MAX], nheap;
    struct {
        size_t at, len_at;
        int text;
    } sealed[STORE_ROW_SEALED_MAX];
    size_t nsealed;
};

/* Frees n rows of type t and their heap strings (rows may be NULL). */
static void rows_free(const struct store_row_type *t, void *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < t->nheap; f++)
            free(*(char **)((char *)rows + i * t->size + t->heap[f]));
    free(rows);
}

/* r, the result of a backend's list of n rows of type t, with the rows'
 * sealed fields opened; if either fails the rows are freed and *n is 0 (the
 * caller then sets its list to NULL). */
static int rows_opened(struct homing_store *s, int r, const struct store_row_type *t, void *rows,
                       size_t *n)
{
    for (size_t i = 0; r == 0 && s->seal && i < *n; i++) {
        void *row = (char *)rows + i * t->size;
        for (size_t f = 0; r == 0 && f < t->nsealed; f++) {
            char **field = (char **)((char *)row + t->sealed[f].at);
            size_t *len =
                t->sealed[f].len_at ? (size_t *)((char *)row + t->sealed[f].len_at) : NULL;
            r = t->sealed[f].text ? store_open_text(s, field, len)
                                  : store_open_whole(s, field, "recipient address");
        }
    }
    if (r < 0 && rows) {
        rows_free(t, rows, *n);
        *n = 0;
    }
    return r;
}

/* The row types of the lists the store returns (messages and events are
 * opened by messages_open and store_events_open, and freed by their own). */
#define AT(type, f) offsetof(type, f)
/* clang-format off */
#define WHOLE(type, f)         {AT(type, f), 0, 0}
#define TEXT(type, f)          {AT(type, f), 0, 1}
#define TEXT_LEN(type, f, len) {AT(type, f), AT(type, len), 1}
/* clang-format on */
static const struct store_row_type report_rows = {
    .size = sizeof(struct homing_report_row),
    .heap = {AT(struct homing_report_row, address), AT(struct homing_report_row, state)},
    .nheap = 2,
    .sealed = {WHOLE(struct homing_report_row, address)},
    .nsealed = 1,
};
static const struct store_row_type unmatched_rows = {
    .size = sizeof(struct homing_unmatched),
    .heap = {AT(struct homing_unmatched, source), AT(struct homing_unmatched, kind),
             AT(struct homing_unmatched, reason), AT(struct homing_unmatched, raw)},
    .nheap = 4,
    .sealed = {TEXT(struct homing_unmatched, reason),
               TEXT_LEN(struct homing_unmatched, raw, raw_len)},
    .nsealed = 2,
};
static const struct store_row_type notification_rows = {
    .size = sizeof(struct homing_notification),
    .heap = {AT(struct homing_notification, reader), AT(struct homing_notification, text),
             AT(struct homing_notification, payload)},
    .nheap = 3,
    .sealed = {TEXT(struct homing_notification, text), TEXT(struct homing_notification, payload)},
    .nsealed = 2,
};
static const struct store_row_type delivery_rows = {
    .size = sizeof(struct homing_delivery),
    .heap = {AT(struct homing_delivery, url), AT(struct homing_delivery, secret),
             AT(struct homing_delivery, n.reader), AT(struct homing_delivery, n.text),
             AT(struct homing_delivery, n.payload)},
    .nheap = 5,
    .sealed = {TEXT(struct homing_delivery, n.text), TEXT(struct homing_delivery, n.payload)},
    .nsealed = 2,
};
/* lists without sealed fields */
static const struct store_row_type webhook_rows = {
    .size = sizeof(struct homing_webhook),
    .heap = {AT(struct homing_webhook, url), AT(struct homing_webhook, events),
             AT(struct homing_webhook, secret)},
    .nheap = 3,
};
static const struct store_row_type document_rows = {
    .size = sizeof(struct homing_document),
    .heap = {AT(struct homing_document, name), AT(struct homing_document, media_type),
             AT(struct homing_document, file)},
    .nheap = 3,
};
static const struct store_row_type grant_rows = {
    .size = sizeof(struct homing_grant),
    .heap = {AT(struct homing_grant, document_name), AT(struct homing_grant, address)},
    .nheap = 2,
    .sealed = {WHOLE(struct homing_grant, address)},
    .nsealed = 1,
};

/* Opens the recipient addresses of n messages in place. */
static int messages_open(struct homing_store *s, struct homing_message *m, size_t n)
{
    int r = 0;
    for (size_t i = 0; i < n && r == 0 && s->seal; i++)
        for (size_t j = 0; j < m[i].n_recipients && r == 0; j++)
            r = store_open_whole(s, &m[i].recipients[j].address, "recipient address");
    return r;
}

int homing_store_message_get(struct homing_store *s, uint64_t id, struct homing_message **out)
{
    if (!s || !out) return -EINVAL;
    int r = s->ops->message_get(s, id, out);
    if (r == 0 && (r = messages_open(s, *out, 1)) < 0) {
        homing_message_free(*out);
        *out = NULL;
    }
    return r;
}

int homing_store_message_find(struct homing_store *s, const char *message_id, uint64_t *id_out)
{
    if (!s || !message_id || !id_out) return -EINVAL;
    /* Message-IDs are written both ways in the wild; the store compares the
     * text between the brackets. */
    size_t len = strlen(message_id);
    if (len >= 2 && message_id[0] == '<' && message_id[len - 1] == '>') {
        message_id++;
        len -= 2;
    }
    if (len == 0) return -EINVAL;
    return s->ops->message_find(s, message_id, len, id_out);
}

int homing_store_message_list(struct homing_store *s, size_t limit, struct homing_message **out,
                              size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    if (limit > HOMING_STORE_LIST_MAX) limit = HOMING_STORE_LIST_MAX;
    int r = s->ops->message_list(s, limit, out, n);
    if (r == 0 && (r = messages_open(s, *out, *n)) < 0) {
        homing_messages_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return r;
}

static void message_fields_free(struct homing_message *m)
{
    free(m->message_id);
    free(m->subject);
    free(m->sender);
    free(m->campaign);
    for (size_t i = 0; i < m->n_recipients; i++) {
        free(m->recipients[i].address);
        free(m->recipients[i].state);
    }
    free(m->recipients);
    for (size_t i = 0; i < m->n_links; i++) free(m->links[i].url);
    free(m->links);
}

void homing_message_free(struct homing_message *m)
{
    if (!m) return;
    message_fields_free(m);
    free(m);
}

int homing_campaign_ok(const char *s)
{
    /* Well-formed UTF-8 without any code point the output writers always
     * escape (controls, bidirectional overrides): a name shows as written. */
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > HOMING_CAMPAIGN_MAX) return 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = homing_utf8_decode(s + i, n - i, &cp);
        if (k == 0 || homing_escape_codepoint(cp)) return 0;
        i += k;
    }
    return 1;
}

int homing_store_message_query(struct homing_store *s, const struct homing_message_query *q,
                               struct homing_message **out, size_t *n)
{
    if (!s || !q || !out || !n || q->limit == 0 || q->limit > HOMING_MESSAGE_PAGE_MAX)
        return -EINVAL;
    if (q->campaign && q->campaign[0] && !homing_campaign_ok(q->campaign)) return -EINVAL;
    return s->ops->message_query(s, q, out, n);
}

int homing_store_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    return s->ops->campaigns_list(s, out, n);
}

int homing_store_stats(struct homing_store *s, const struct homing_message_query *q,
                       struct homing_stats *out)
{
    if (!s || !q || !out) return -EINVAL;
    if (q->campaign && q->campaign[0] && !homing_campaign_ok(q->campaign)) return -EINVAL;
    *out = (struct homing_stats){0};
    return s->ops->stats(s, q, out);
}

void homing_stats_clear(struct homing_stats *st)
{
    if (!st) return;
    for (size_t i = 0; i < st->n_links; i++) free(st->links[i].url);
    free(st->links);
    free(st->reasons);
    *st = (struct homing_stats){0};
}

int homing_store_stats_series(struct homing_store *s, const struct homing_message_query *q,
                              int64_t bucket_us, struct homing_stats_point **out, size_t *n)
{
    if (!s || !q || !out || !n || bucket_us < 60000000LL) return -EINVAL;
    if (q->campaign && q->campaign[0] && !homing_campaign_ok(q->campaign)) return -EINVAL;
    return s->ops->stats_series(s, q, bucket_us, out, n);
}

void homing_messages_free(struct homing_message *m, size_t n)
{
    if (!m) return;
    for (size_t i = 0; i < n; i++) message_fields_free(&m[i]);
    free(m);
}

int homing_store_link_url(struct homing_store *s, uint64_t message, uint32_t index, char **url_out)
{
    if (!s || !url_out) return -EINVAL;
    return s->ops->link_url(s, message, index, url_out);
}

int homing_store_recipient_set_state(struct homing_store *s, uint64_t message, uint32_t index,
                                     const char *state, int64_t at_us)
{
    if (!s || !state || !*state) return -EINVAL;
    return s->ops->recipient_set_state(s, message, index, state, at_us);
}

int homing_store_events_append(struct homing_store *s, struct homing_event *evs, size_t n)
{
    if (!s || (n && !evs)) return -EINVAL;
    if (n == 0) return 0;
    /* Checked before the transaction so a bad record fails the batch cheaply. */
    for (size_t i = 0; i < n; i++)
        if (!homing_event_kind_name(evs[i].kind)) return -EINVAL;
    struct store_ev_saved *sv;
    int r = store_events_seal(s, evs, n, &sv);
    if (r < 0) return r;
    r = s->ops->events_append(s, evs, n, NULL, 0);
    store_events_restore(evs, n, sv);
    return r;
}

int homing_store_events_append_cursor(struct homing_store *s, struct homing_event *evs, size_t n,
                                      const char *cursor, int64_t position)
{
    if (!s || (n && !evs) || !cursor) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!homing_event_kind_name(evs[i].kind)) return -EINVAL;
    struct store_ev_saved *sv;
    int r = store_events_seal(s, evs, n, &sv);
    if (r < 0) return r;
    r = s->ops->events_append(s, evs, n, cursor, position);
    store_events_restore(evs, n, sv);
    return r;
}

static int flood_kind_ok(unsigned kind)
{
    return kind == HOMING_EV_OPEN || kind == HOMING_EV_CLICK || kind == HOMING_EV_DOCUMENT_OPEN;
}

int homing_store_events_append_floods(struct homing_store *s, struct homing_event *evs, size_t n,
                                      const struct homing_flood_count *floods, size_t nf,
                                      const char *cursor, int64_t position)
{
    if (!s || (n && !evs) || (nf && !floods) || !cursor) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!homing_event_kind_name(evs[i].kind)) return -EINVAL;
    for (size_t i = 0; i < nf; i++)
        if (!flood_kind_ok(floods[i].kind) || floods[i].dropped == 0 ||
            floods[i].dropped > INT64_MAX ||
            !memchr(floods[i].client, '\0', sizeof floods[i].client))
            return -EINVAL;
    struct store_ev_saved *sv;
    int r = store_events_seal(s, evs, n, &sv);
    if (r < 0) return r;
    struct homing_flood_count *fc = NULL;
    if (nf && s->seal) {
        if (!(fc = malloc(nf * sizeof *fc))) r = -ENOMEM;
        for (size_t i = 0; i < nf && r == 0; i++) {
            fc[i] = floods[i];
            r = store_seal_client(s, fc[i].client, sizeof fc[i].client);
        }
        floods = fc;
    }
    if (r == 0)
        r = nf == 0 ? s->ops->events_append(s, evs, n, cursor, position)
                    : s->ops->events_append_floods(s, evs, n, floods, nf, cursor, position);
    free(fc);
    store_events_restore(evs, n, sv);
    return r;
}

int homing_store_floods_close(struct homing_store *s, int64_t before_us, size_t *closed,
                              size_t *left)
{
    if (!s) return -EINVAL;
    size_t c = 0, l = 0;
    int r = s->ops->floods_close(s, before_us, &c, &l);
    if (r < 0) return r;
    if (closed) *closed = c;
    if (left) *left = l;
    return 0;
}

/* r, the result of a backend's list of events, with the events opened. */
static int events_opened(struct homing_store *s, int r, struct homing_event **out, size_t *n)
{
    if (r == 0 && (r = store_events_open(s, *out, *n)) < 0) {
        homing_events_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return r;
}

int homing_store_events_list(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
                             struct homing_event **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    if (limit == 0 || limit > HOMING_STORE_LIST_MAX) return -EINVAL;
    return events_opened(s, s->ops->events_list(s, message, after, limit, out, n), out, n);
}

int homing_store_recipient_events(struct homing_store *s, uint64_t message, uint32_t recipient,
                                  int64_t after, size_t limit, struct homing_event **out, size_t *n)
{
    if (!s || !message || !out || !n) return -EINVAL;
    if (limit == 0 || limit > HOMING_STORE_LIST_MAX) return -EINVAL;
    return events_opened(s, s->ops->recipient_events(s, message, recipient, after, limit, out, n),
                         out, n);
}

int homing_store_events_count(struct homing_store *s, uint64_t message, int64_t *n)
{
    if (!s || !n) return -EINVAL;
    return s->ops->events_count(s, message, n);
}

int homing_store_report(struct homing_store *s, uint64_t message, struct homing_report_row **rows,
                        size_t *n)
{
    if (!s || !rows || !n) return -EINVAL;
    *rows = NULL;
    *n = 0;
    int r = s->ops->report(s, message, rows, n);
    if ((r = rows_opened(s, r, &report_rows, *rows, n)) < 0) *rows = NULL;
    return r;
}

void homing_report_free(struct homing_report_row *rows, size_t n)
{
    rows_free(&report_rows, rows, n);
}

int homing_store_api_key_add(struct homing_store *s, const char *name, const uint8_t hash[32],
                             int scope, int64_t *id_out)
{
    if (!s || !name || !*name || !hash || !homing_apikey_scope_name(scope)) return -EINVAL;
    return s->ops->api_key_add(s, name, hash, scope, id_out);
}

int homing_store_api_key_check(struct homing_store *s, const uint8_t hash[32])
{
    if (!s || !hash) return -EINVAL;
    return s->ops->api_key_check(s, hash);
}

int homing_store_api_key_list(struct homing_store *s, struct homing_api_key_info **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    return s->ops->api_key_list(s, out, n);
}

void homing_api_keys_free(struct homing_api_key_info *k, size_t n)
{
    if (!k) return;
    for (size_t i = 0; i < n; i++) free(k[i].name);
    free(k);
}

int homing_store_api_key_revoke(struct homing_store *s, const char *name)
{
    if (!s || !name || !*name) return -EINVAL;
    return s->ops->api_key_revoke(s, name);
}

/* ---- engine maintenance (homing/store_engine.h), behind capabilities ---- */

int homing_store_set_autocheckpoint(struct homing_store *s, int pages)
{
    if (!s || pages < 0) return -EINVAL;
    if (!(s->backend->caps & HOMING_STORE_CAP_CHECKPOINT)) return -ENOTSUP;
    return s->ops->set_autocheckpoint(s, pages);
}

int homing_store_checkpoint(struct homing_store *s)
{
    if (!s) return -EINVAL;
    if (!(s->backend->caps & HOMING_STORE_CAP_CHECKPOINT)) return -ENOTSUP;
    return s->ops->checkpoint(s);
}

int homing_store_set_wait_hook(struct homing_store *s, void (*hook)(void))
{
    if (!s) return -EINVAL;
    if (!(s->backend->caps & HOMING_STORE_CAP_BUSY_HOOK)) return -ENOTSUP;
    s->ops->set_wait_hook(hook);
    return 0;
}

int homing_store_leader(struct homing_store *s, int *leader)
{
    if (!s || !leader) return -EINVAL;
    if (!(s->backend->caps & HOMING_STORE_CAP_LEADER)) return -ENOTSUP;
    return s->ops->leader(s, leader);
}

int homing_store_listen_wait(struct homing_store *s, int timeout_ms, unsigned *woke)
{
    if (!s || !woke || timeout_ms < 0) return -EINVAL;
    if (!(s->backend->caps & HOMING_STORE_CAP_LISTEN)) return -ENOTSUP;
    *woke = 0;
    return s->ops->listen_wait(s, timeout_ms, woke);
}

int homing_store_inspect(const char *url, const char *base_dir, int *version, int *latest,
                         char *err, size_t errcap)
{
    char scratch[1];
    if (!err || !errcap) err = scratch, errcap = sizeof scratch;
    err[0] = '\0';
    if (!url || !*url || !version || !latest)
        return store_open_fail(err, errcap, -EINVAL, "no store URL");
    const struct homing_store_backend *b;
    const char *target;
    int r = store_pick(url, &b, &target, err, errcap);
    if (r < 0) return r;
    return b->ops->inspect(target, base_dir, version, latest, err, errcap);
}

int homing_store_provision(const char *url, unsigned flags, struct homing_store_node *out,
                           char *err, size_t errcap)
{
    char scratch[1];
    if (!err || !errcap) err = scratch, errcap = sizeof scratch;
    err[0] = '\0';
    if (!url || !*url || !out) return store_open_fail(err, errcap, -EINVAL, "no store URL");
    const struct homing_store_backend *b;
    const char *target;
    int r = store_pick(url, &b, &target, err, errcap);
    if (r < 0) return r;
    if (!b->ops->provision)
        return store_open_fail(err, errcap, -ENOTSUP,
                               "a %s store is one node's: homing init makes it without --store",
                               b->scheme);
    struct homing_store_node n = {0};
    if ((r = b->ops->provision(target, flags, &n, err, errcap)) < 0) return r;
    *out = n;
    return 0;
}

void homing_store_node_clear(struct homing_store_node *n)
{
    if (!n) return;
    if (n->url) sodium_memzero(n->url, strlen(n->url)); /* it holds a password */
    free(n->url);
    free(n->role);
    free(n->schema);
    memset(n, 0, sizeof *n);
}

int homing_store_backup(struct homing_store *s, const char *dest)
{
    if (!s || !dest || !*dest) return -EINVAL;
    if (!(s->backend->caps & HOMING_STORE_CAP_BACKUP)) {
        store_set_error(s, "backup: the %s backend has no file to copy", s->backend->scheme);
        return -ENOTSUP;
    }
    return s->ops->backup(s, dest);
}

/* ---- delivery (migration 0002) ---- */

int homing_store_unmatched_add(struct homing_store *s, const char *source, const char *kind,
                               const char *reason, const char *raw, size_t raw_len, int64_t *id_out)
{
    if (!s || !source || !kind || !reason || (raw_len && !raw)) return -EINVAL;
    if (raw_len > INT32_MAX) return -E2BIG; /* SQLite's bind takes an int */
    int64_t scratch;
    char *sr = NULL, *sraw = NULL;
    size_t sraw_len = 0;
    int r = store_seal_text(s, reason, strlen(reason), &sr, NULL);
    if (r == 0) r = store_seal_text(s, raw, raw_len, &sraw, &sraw_len);
    if (r == 0)
        r = s->ops->unmatched_add(s, source, kind, sr ? sr : reason, sraw ? sraw : raw,
                                  sraw ? sraw_len : raw_len, id_out ? id_out : &scratch);
    free(sr);
    free(sraw);
    return r;
}

int homing_store_unmatched_list(struct homing_store *s, int64_t after, size_t limit, int with_raw,
                                struct homing_unmatched **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    if (limit == 0 || limit > HOMING_STORE_LIST_MAX) return -EINVAL;
    *out = NULL;
    *n = 0;
    int r = s->ops->unmatched_list(s, after, limit, with_raw, out, n);
    if ((r = rows_opened(s, r, &unmatched_rows, *out, n)) < 0) *out = NULL;
    return r;
}

void homing_unmatched_free(struct homing_unmatched *u, size_t n)
{
    rows_free(&unmatched_rows, u, n);
}

static int sync_name_ok(const char *name)
{
    return name && *name && strlen(name) <= HOMING_STORE_SYNC_NAME_MAX;
}

int homing_store_sync_get(struct homing_store *s, const char *name, char **value_out)
{
    if (!s || !sync_name_ok(name) || !value_out) return -EINVAL;
    return s->ops->sync_get(s, name, value_out);
}

int homing_store_sync_set(struct homing_store *s, const char *name, const char *value)
{
    if (!s || !sync_name_ok(name) || !value) return -EINVAL;
    if (strlen(value) > HOMING_STORE_SYNC_VALUE_MAX) return -E2BIG;
    return s->ops->sync_set(s, name, value);
}

int homing_store_events_append_once(struct homing_store *s, const char *key,
                                    struct homing_event *evs, size_t n)
{
    if (!s || !sync_name_ok(key) || (n && !evs)) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!homing_event_kind_name(evs[i].kind)) return -EINVAL;
    struct store_ev_saved *sv;
    int r = store_events_seal(s, evs, n, &sv);
    if (r < 0) return r;
    r = s->ops->events_append_once(s, key, evs, n);
    store_events_restore(evs, n, sv);
    return r;
}

/* ---- notifications ---- */

int homing_store_webhook_add(struct homing_store *s, const char *url, const char *events,
                             const char *secret, int64_t *id_out)
{
    if (!s || !url || !*url || !secret || !*secret) return -EINVAL;
    if (!events || !*events) events = "*";
    if (strlen(url) >= HOMING_WEBHOOK_URL_MAX || strlen(events) >= HOMING_WEBHOOK_EVENTS_MAX ||
        strlen(secret) >= HOMING_WEBHOOK_SECRET_MAX)
        return -E2BIG;
    return s->ops->webhook_add(s, url, events, secret, id_out);
}

int homing_store_webhook_list(struct homing_store *s, struct homing_webhook **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    return s->ops->webhook_list(s, 0, out, n);
}

int homing_store_webhook_get(struct homing_store *s, int64_t id, struct homing_webhook **out)
{
    if (!s || !out || id <= 0) return -EINVAL;
    struct homing_webhook *w = NULL;
    size_t n = 0;
    int r = s->ops->webhook_list(s, id, &w, &n);
    if (r < 0) return r;
    if (n == 0) {
        homing_webhooks_free(w, n);
        return -ENOENT;
    }
    *out = w;
    return 0;
}

int homing_store_webhook_disable(struct homing_store *s, int64_t id)
{
    if (!s || id <= 0) return -EINVAL;
    return s->ops->webhook_disable(s, id);
}

void homing_webhooks_free(struct homing_webhook *w, size_t n)
{
    rows_free(&webhook_rows, w, n);
}

int homing_store_notification_add(struct homing_store *s, const struct homing_notification_spec *n,
                                  int64_t *id_out)
{
    if (!s || !n || !n->kind || !n->text || !n->payload) return -EINVAL;
    if (!*n->kind || strlen(n->kind) >= HOMING_NOTIFY_KIND_MAX || n->event < 0) return -EINVAL;
    char *text = NULL, *payload = NULL;
    int r = store_seal_text(s, n->text, strlen(n->text), &text, NULL);
    if (r == 0) r = store_seal_text(s, n->payload, strlen(n->payload), &payload, NULL);
    if (r == 0) {
        struct homing_notification_spec copy = *n;
        if (text) copy.text = text;
        if (payload) copy.payload = payload;
        r = s->ops->notification_add(s, &copy, id_out);
    }
    free(text);
    free(payload);
    return r;
}

int homing_store_notifications_list(struct homing_store *s, int64_t after, size_t limit,
                                    struct homing_notification **out, size_t *n)
{
    if (!s || !out || !n || limit == 0 || limit > HOMING_STORE_LIST_MAX) return -EINVAL;
    *out = NULL;
    *n = 0;
    int r = s->ops->notifications_list(s, after, limit, out, n);
    if ((r = rows_opened(s, r, &notification_rows, *out, n)) < 0) *out = NULL;
    return r;
}

void homing_notifications_free(struct homing_notification *v, size_t n)
{
    rows_free(&notification_rows, v, n);
}

int homing_store_notifications_last(struct homing_store *s, int64_t *id)
{
    if (!s || !id) return -EINVAL;
    return s->ops->notifications_last(s, id);
}

int homing_store_notification_exists(struct homing_store *s,
                                     const struct homing_notification_query *q, int *exists)
{
    if (!s || !q || !exists) return -EINVAL;
    return s->ops->notification_exists(s, q, exists);
}

int homing_store_deliveries_due_fair(struct homing_store *s, int64_t now_us, size_t per_webhook,
                                     size_t limit, struct homing_delivery **out, size_t *n)
{
    if (!s || !out || !n || per_webhook == 0 || limit == 0 || limit > HOMING_STORE_DELIVERIES_MAX)
        return -EINVAL;
    *out = NULL;
    *n = 0;
    int r = s->ops->deliveries_due_fair(s, now_us, per_webhook, limit, out, n);
    if ((r = rows_opened(s, r, &delivery_rows, *out, n)) < 0) *out = NULL;
    return r;
}

void homing_deliveries_free(struct homing_delivery *d, size_t n)
{
    rows_free(&delivery_rows, d, n);
}

int homing_store_delivery_result(struct homing_store *s, int64_t notification, int64_t webhook,
                                 int ok, int64_t next_us, const char *error)
{
    if (!s || notification <= 0 || webhook <= 0) return -EINVAL;
    return s->ops->delivery_result(s, notification, webhook, ok, next_us, error);
}

int homing_store_delivery_claim(struct homing_store *s, int64_t notification, int64_t webhook,
                                int64_t lease_us)
{
    if (!s || notification <= 0 || webhook <= 0 || lease_us <= 0) return -EINVAL;
    if (!s->ops->delivery_claim) return 1;
    return s->ops->delivery_claim(s, notification, webhook, lease_us);
}

int homing_store_delivery_counts(struct homing_store *s, int64_t *pending, int64_t *delivered,
                                 int64_t *failed)
{
    if (!s) return -EINVAL;
    return s->ops->delivery_counts(s, pending, delivered, failed);
}

int homing_store_cursor_get(struct homing_store *s, const char *name, int64_t *event)
{
    if (!s || !name || !*name || !event) return -EINVAL;
    return s->ops->cursor_get(s, name, event);
}

int homing_store_cursor_set(struct homing_store *s, const char *name, int64_t event)
{
    if (!s || !name || !*name || event < 0) return -EINVAL;
    return s->ops->cursor_set(s, name, event);
}

/* ---- privacy (migration 0006) ---- */

static const char *const tracking_names[] = {
    [HOMING_TRACKING_INDIVIDUAL] = "individual",
    [HOMING_TRACKING_ANONYMOUS] = "anonymous",
    [HOMING_TRACKING_DELIVERY] = "delivery",
    [HOMING_TRACKING_OFF] = "off",
};

const char *homing_tracking_name(int mode)
{
    if (mode < 0 || mode > HOMING_TRACKING_OFF) return NULL;
    return tracking_names[mode];
}

int homing_tracking_parse(const char *s)
{
    for (int i = 0; s && i <= HOMING_TRACKING_OFF; i++)
        if (strcmp(s, tracking_names[i]) == 0) return i;
    return -EINVAL;
}

int homing_store_tracking_set(struct homing_store *s, uint64_t message, uint32_t recipient,
                              int mode)
{
    if (!s || message == 0) return -EINVAL;
    if (!homing_tracking_name(mode) && !(recipient && mode == HOMING_TRACKING_INHERIT))
        return -EINVAL;
    return s->ops->tracking_set(s, message, recipient, mode);
}

int homing_store_tracking_get(struct homing_store *s, uint64_t message, int *message_mode,
                              int **modes, size_t *n)
{
    if (!s || !message_mode || !modes || !n) return -EINVAL;
    return s->ops->tracking_get(s, message, message_mode, modes, n);
}

/* One chunk of the truncation, in the caller's write transaction: up to
 * HOMING_PRIVACY_CHUNK events after the cursor read first (no statement stays
 * open on events while they change), those whose client shrinks rewritten,
 * the cursor moved to the last one read. *n: events read. */
static int truncate_chunk(struct homing_store *s, int64_t upto, unsigned v4, unsigned v6,
                          struct store_client *rows, size_t *n, int64_t *changed)
{
    int64_t from = 0;
    int r = s->ops->cursor_get(s, STORE_TRUNCATE_CURSOR, &from);
    if (r == -ENOENT) r = 0;
    if (r == 0) r = s->ops->privacy_clients(s, from, upto, rows, HOMING_PRIVACY_CHUNK, n);
    if (r < 0 || *n == 0) return r;
    int64_t last = rows[*n - 1].id;
    size_t cut = 0; /* rows[0..cut) now hold the rewrites, in place */
    for (size_t i = 0; i < *n; i++) {
        char out[HOMING_ADDR_STR_MAX];
        int c = store_client_truncate(s, rows[i].client, v4, v6, out);
        if (c < 0) return c;
        if (c == 0) continue;
        rows[cut].id = rows[i].id;
        memcpy(rows[cut].client, out, sizeof out);
        cut++;
    }
    if (cut > 0 && (r = s->ops->privacy_clients_set(s, rows, cut, changed)) < 0) return r;
    return s->ops->cursor_set(s, STORE_TRUNCATE_CURSOR, last);
}

int homing_store_privacy_truncate(struct homing_store *s, int64_t upto, unsigned v4_bits,
                                  unsigned v6_bits, int64_t *changed)
{
    if (!s || v4_bits > 32 || v6_bits > 128) return -EINVAL;
    struct store_client *rows = malloc(HOMING_PRIVACY_CHUNK * sizeof *rows);
    if (!rows) return -ENOMEM;
    if (upto < 0) upto = INT64_MAX;
    int64_t total = 0;
    int r = 0;
    for (;;) {
        if ((r = s->ops->write_begin(s)) < 0) break;
        size_t n = 0;
        int64_t chunk_changed = 0;
        r = truncate_chunk(s, upto, v4_bits, v6_bits, rows, &n, &chunk_changed);
        if (r == 0) r = s->ops->write_commit(s);
        if (r < 0) {
            s->ops->write_rollback(s);
            break;
        }
        total += chunk_changed;
        if (n < HOMING_PRIVACY_CHUNK) break;
    }
    free(rows);
    if (r < 0) return r;
    if (changed) *changed = total;
    return 0;
}

/* Other records of the same age as the events retention deletes, derived
 * from events or naming recipients: enrichments, readers last seen before the
 * cutoff, notifications (with their deliveries, by foreign key) and reports
 * kept unmatched. */
static const struct store_aged retention_aged[] = {
    {"enrichments", "time_us"},       {"readers", "last_us"}, {"notifications", "time_us"},
    {"unmatched_reports", "time_us"}, {NULL, NULL},
};

int homing_store_privacy_retention(struct homing_store *s, int64_t before_us, int64_t *rolled,
                                   int64_t *deleted)
{
    if (!s || before_us < 0) return -EINVAL;
    int64_t a, b;
    return s->ops->privacy_retention(s, before_us, retention_aged, rolled ? rolled : &a,
                                     deleted ? deleted : &b);
}

int homing_store_rollups_list(struct homing_store *s, uint64_t message, struct homing_rollup **out,
                              size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    return s->ops->rollups_list(s, message, out, n);
}

void homing_rollups_free(struct homing_rollup *r, size_t n)
{
    (void)n; /* fixed-size fields only */
    free(r);
}

/* Tables forget leaves to their own rule (events, recipients, messages: the
 * backend's forget handles them itself) or alone: schema bookkeeping, the
 * operator's own keys and webhooks, link destinations shared by every
 * recipient of a message, rollups that name nobody, cursors. Every other
 * table is searched, so tables added later are covered without a change. */
static const char *const forget_keep[] = {
    "events",   "recipients", "messages", "privacy_guard", "schema_migrations",
    "api_keys", "webhooks",   "links",    "event_rollups", "cursors",
    NULL,
};

void store_forget_count(struct homing_forget_result *out, const char *table, int64_t rows)
{
    if (!out || rows <= 0) return;
    for (size_t i = 0; i < out->n; i++) {
        if (strcmp(out->t[i].table, table) == 0) {
            out->t[i].rows += rows;
            return;
        }
    }
    if (out->n == HOMING_FORGET_TABLES_MAX) return;
    homing_strlcpy(out->t[out->n].table, table, sizeof out->t[out->n].table);
    out->t[out->n++].rows = rows;
}

int store_delete_cascade(struct homing_store *s, const char *table, const char *where,
                         const struct store_del *a, int depth, struct homing_forget_result *out,
                         int64_t *deleted)
{
    if (depth < 0) return -ELOOP;
    struct store_fk *fks = NULL;
    size_t nfk = 0;
    int r = s->ops->privacy_fks(s, table, &fks, &nfk);
    for (size_t i = 0; r == 0 && i < nfk; i++) {
        char sub[STORE_DELETE_SQL_MAX];
        if (snprintf(sub, sizeof sub, "%s IN (SELECT %s FROM \"%s\" WHERE %s)", fks[i].column,
                     fks[i].parent, table, where) >= (int)sizeof sub)
            r = -E2BIG;
        else
            r = store_delete_cascade(s, fks[i].child, sub, a, depth - 1, out, NULL);
    }
    free(fks);
    if (r < 0) return r;
    char sql[STORE_DELETE_SQL_MAX];
    if (snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE %s", table, where) >= (int)sizeof sql)
        return -E2BIG;
    int64_t n = 0;
    if ((r = s->ops->privacy_delete(s, sql, a, &n)) < 0) return r;
    store_forget_count(out, table, n);
    if (deleted) *deleted += n;
    return 0;
}

int homing_store_privacy_forget(struct homing_store *s, const char *address,
                                struct homing_forget_result *out)
{
    if (!s || !address || !out) return -EINVAL;
    size_t len = strlen(address);
    const char *at = strchr(address, '@');
    if (len < 3 || len > HOMING_FORGET_ADDR_MAX || !at || at == address || !at[1]) return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)address[i];
        if (c <= 0x20 || c == 0x7f) return -EINVAL; /* matched as text, never as a pattern */
    }
    /* Compared without case: the backend is given the lower-case form. */
    char addr[HOMING_FORGET_ADDR_MAX + 1];
    for (size_t i = 0; i <= len; i++)
        addr[i] =
            address[i] >= 'A' && address[i] <= 'Z' ? (char)(address[i] - 'A' + 'a') : address[i];
    if (!s->seal) return s->ops->privacy_forget(s, addr, NULL, forget_keep, out);
    /* Sealed: the rows are found by the address's lookup prefix; a first pass
     * by the address itself takes rows written before the store was sealed
     * that are still in clear (store_seal_legacy did not finish them). */
    struct homing_forget_result legacy = {0}, sealed = {0};
    char lookup[HOMING_SEAL_LOOKUP_LEN + 1];
    homing_seal_lookup(s->seal, addr, len, lookup);
    int r = s->ops->privacy_forget(s, addr, NULL, forget_keep, &legacy);
    if (r == 0) r = s->ops->privacy_forget(s, addr, lookup, forget_keep, &sealed);
    if (r < 0) return r;
    for (size_t i = 0; i < legacy.n; i++) {
        size_t j = 0;
        while (j < sealed.n && strcmp(sealed.t[j].table, legacy.t[i].table) != 0) j++;
        if (j == sealed.n && sealed.n == HOMING_FORGET_TABLES_MAX) continue;
        if (j == sealed.n) {
            memcpy(sealed.t[j].table, legacy.t[i].table, sizeof sealed.t[j].table);
            sealed.t[sealed.n++].rows = 0;
        }
        sealed.t[j].rows += legacy.t[i].rows;
    }
    *out = sealed;
    return 0;
}

/* ---- enrichment (migration 0004) ---- */

int homing_store_enrichment_put(struct homing_store *s, const struct homing_store_enrichment *e,
                                int64_t cursor)
{
    if (!s || cursor < 0) return -EINVAL;
    if (e && (e->event <= 0 || !e->verdict[0] || !e->json || e->event > cursor)) return -EINVAL;
    return homing_store_enrichments_put(s, e, e ? 1 : 0, cursor);
}

/* One reader row per reader of the batch, not per hit (a flood's hits are one
 * reader): its first row's facts, the latest time and the sum of opens, which
 * is the row that one upsert per hit, in event order, leaves. *nr readers. */
static int readers_of(const struct homing_store_enrichment *rows, size_t n,
                      struct store_reader_put **out, size_t *nr)
{
    struct store_reader_put *v = NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct homing_store_enrichment *e = &rows[i];
        if (!e->reader[0]) continue;
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = rows[j].message != e->message || strcmp(rows[j].reader, e->reader) != 0;
        if (!first) continue; /* counted with the first */
        if (!v && !(v = calloc(n, sizeof *v))) return -ENOMEM;
        int64_t last_us = e->time_us, opens = e->kind == HOMING_EV_OPEN;
        for (size_t j = i + 1; j < n; j++) {
            if (rows[j].message != e->message || strcmp(rows[j].reader, e->reader) != 0) continue;
            if (rows[j].time_us > last_us) last_us = rows[j].time_us;
            opens += rows[j].kind == HOMING_EV_OPEN;
        }
        v[k++] = (struct store_reader_put){e, last_us, opens};
    }
    *out = v;
    *nr = k;
    return 0;
}

const char *const store_class_names[STORE_CLASSES] = {"human", "machine", "unknown"};

static enum store_class class_of(const char *verdict)
{
    if (!strcmp(verdict, "human") || !strcmp(verdict, "proxy-open")) return STORE_CLASS_HUMAN;
    if (!strcmp(verdict, "prefetch") || !strcmp(verdict, "scanner") || !strcmp(verdict, "probe"))
        return STORE_CLASS_MACHINE;
    return STORE_CLASS_UNKNOWN;
}

static void stats_free(struct store_stats_put *st)
{
    free(st->recipients);
    free(st->links);
    free(st->hours);
    *st = (struct store_stats_put){0};
}

/* The batch's counters, one entry per group (linear search: a batch is at
 * most a page of the enrichment thread, and a flood's hits are one group). */
static int stats_of(const struct homing_store_enrichment *rows, size_t n,
                    struct store_stats_put *out)
{
    *out = (struct store_stats_put){0};
    if (!n) return 0;
    out->recipients = calloc(n, sizeof *out->recipients);
    out->links = calloc(n, sizeof *out->links);
    out->hours = calloc(n, sizeof *out->hours);
    if (!out->recipients || !out->links || !out->hours) {
        stats_free(out);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct homing_store_enrichment *e = &rows[i];
        enum store_class c = class_of(e->verdict);
        struct store_recipient_add *ra = NULL;
        for (size_t j = 0; j < out->nrecipients && !ra; j++)
            if (out->recipients[j].message == e->message &&
                out->recipients[j].recipient == e->recipient)
                ra = &out->recipients[j];
        if (!ra) {
            ra = &out->recipients[out->nrecipients++];
            ra->message = e->message;
            ra->recipient = e->recipient;
        }
        if (e->kind == HOMING_EV_OPEN) {
            ra->opens[c]++;
            if (c == STORE_CLASS_HUMAN && (!ra->has_open || e->time_us < ra->first_human_open_us))
                ra->has_open = 1, ra->first_human_open_us = e->time_us;
        } else if (e->kind == HOMING_EV_CLICK) {
            ra->clicks[c]++;
            if (c == STORE_CLASS_HUMAN && (!ra->has_click || e->time_us < ra->first_human_click_us))
                ra->has_click = 1, ra->first_human_click_us = e->time_us;
            struct store_link_add *la = NULL;
            for (size_t j = 0; j < out->nlinks && !la; j++)
                if (out->links[j].message == e->message && out->links[j].link == e->item &&
                    out->links[j].recipient == e->recipient)
                    la = &out->links[j];
            if (!la) {
                la = &out->links[out->nlinks++];
                la->message = e->message;
                la->link = e->item;
                la->recipient = e->recipient;
            }
            la->clicks[c]++;
        } else if (e->kind == HOMING_EV_DOCUMENT_OPEN) {
            ra->docs[c]++;
        }
        int64_t hour = e->time_us / 3600000000LL;
        struct store_hour_add *ha = NULL;
        for (size_t j = 0; j < out->nhours && !ha; j++)
            if (out->hours[j].message == e->message && out->hours[j].hour == hour &&
                out->hours[j].kind == e->kind && out->hours[j].cls == c)
                ha = &out->hours[j];
        if (!ha) {
            ha = &out->hours[out->nhours++];
            *ha = (struct store_hour_add){e->message, hour, e->kind, c, 0};
        }
        ha->count++;
    }
    return 0;
}

int homing_store_enrichments_put(struct homing_store *s, const struct homing_store_enrichment *rows,
                                 size_t n, int64_t cursor)
{
    if (!s || cursor < 0 || (n && !rows)) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (rows[i].event <= 0 || !rows[i].verdict[0] || !rows[i].json || rows[i].event > cursor ||
            (i && rows[i].event <= rows[i - 1].event))
            return -EINVAL;
    struct store_reader_put *readers = NULL;
    size_t nr = 0;
    struct store_stats_put stats;
    int r = readers_of(rows, n, &readers, &nr);
    if (r < 0) return r;
    if ((r = stats_of(rows, n, &stats)) < 0) {
        free(readers);
        return r;
    }
    r = s->ops->enrichments_put(s, rows, n, readers, nr, &stats, cursor);
    stats_free(&stats);
    free(readers);
    return r;
}

int homing_store_enrichment_get(struct homing_store *s, int64_t event,
                                struct homing_store_enrichment **out)
{
    if (!s || event <= 0 || !out) return -EINVAL;
    struct homing_store_enrichment *e = NULL;
    size_t n = 0;
    int r = s->ops->enrichments_list(s, 0, event, 0, 1, &e, &n);
    if (r < 0) return r;
    if (n == 0) {
        homing_store_enrichments_free(e, n);
        return -ENOENT;
    }
    *out = e;
    return 0;
}

int homing_store_enrichments_list(struct homing_store *s, uint64_t message, int64_t after,
                                  size_t limit, struct homing_store_enrichment **out, size_t *n)
{
    if (!s || !out || !n || limit == 0 || limit > HOMING_STORE_LIST_MAX) return -EINVAL;
    return s->ops->enrichments_list(s, message, 0, after, limit, out, n);
}

int homing_store_enrichments_rewrite(struct homing_store *s,
                                     const struct homing_store_enrichment *rows, size_t n)
{
    if (!s || (n && !rows)) return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (rows[i].event <= 0 || !rows[i].verdict[0] || !rows[i].json) return -EINVAL;
    if (n == 0) return 0;
    return s->ops->enrichments_rewrite(s, rows, n);
}

void homing_store_enrichments_free(struct homing_store_enrichment *e, size_t n)
{
    if (!e) return;
    for (size_t i = 0; i < n; i++) free(e[i].json);
    free(e);
}

int homing_store_readers_list(struct homing_store *s, uint64_t message,
                              struct homing_store_reader **out, size_t *n)
{
    if (!s || !message || !out || !n) return -EINVAL;
    return s->ops->readers_list(s, message, out, n);
}

void homing_store_readers_free(struct homing_store_reader *r, size_t n)
{
    (void)n; /* fixed-size rows: nothing inside to free */
    free(r);
}

int homing_store_reader_lookup(struct homing_store *s, uint64_t message, uint32_t recipient,
                               const char *fingerprint, int *known, int64_t *others)
{
    if (!s || !message || !fingerprint || !*fingerprint || !known || !others) return -EINVAL;
    return s->ops->reader_lookup(s, message, recipient, fingerprint, known, others);
}

int homing_store_events_stamp(struct homing_store *s, uint64_t message, int64_t upto,
                              struct homing_events_stamp *out)
{
    if (!s || !message || !out) return -EINVAL;
    struct homing_events_stamp v;
    int r = s->ops->events_stamp(s, message, upto, &v);
    if (r < 0) return r;
    *out = v;
    return 0;
}

int homing_store_enrichment_flags(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                                  struct homing_store_enrichment_flags **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    if (limit == 0 || limit > HOMING_STORE_LIST_MAX) return -EINVAL;
    return s->ops->enrichment_flags(s, after, upto, limit, out, n);
}

/* ---- documents (migration 0005) ---- */

int homing_store_document_add(struct homing_store *s, const struct homing_document *d,
                              int64_t *id_out)
{
    if (!s || !d || !id_out || !d->name || !*d->name || !d->media_type || !d->file ||
        strlen(d->digest) != 64 || d->size < 0)
        return -EINVAL;
    if (!s->ops->document_add) return -ENOTSUP;
    return s->ops->document_add(s, d, id_out);
}

int homing_store_document_get(struct homing_store *s, const char *name,
                              struct homing_document **out)
{
    if (!s || !name || !out) return -EINVAL;
    if (!s->ops->document_get) return -ENOTSUP;
    return s->ops->document_get(s, name, out);
}

int homing_store_document_list(struct homing_store *s, struct homing_document **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    if (!s->ops->document_list) return -ENOTSUP;
    return s->ops->document_list(s, out, n);
}

int homing_store_document_set_digest(struct homing_store *s, int64_t id, const char *digest)
{
    if (!s || id <= 0 || !digest || strlen(digest) != 64) return -EINVAL;
    if (!s->ops->document_set_digest) return -ENOTSUP;
    return s->ops->document_set_digest(s, id, digest);
}

void homing_documents_free(struct homing_document *d, size_t n)
{
    rows_free(&document_rows, d, n);
}

int homing_store_grant_add(struct homing_store *s, const struct homing_grant_spec *g,
                           int64_t *id_out)
{
    if (!s || !g || !id_out || g->document <= 0 || !g->message || g->expires_us < 0 ||
        g->max_uses < 0)
        return -EINVAL;
    if (!s->ops->grant_add) return -ENOTSUP;
    return s->ops->grant_add(s, g, id_out);
}

int homing_store_grant_list(struct homing_store *s, int64_t document, struct homing_grant **out,
                            size_t *n)
{
    if (!s || !out || !n || document < 0) return -EINVAL;
    if (!s->ops->grant_list) return -ENOTSUP;
    *out = NULL;
    *n = 0;
    int r = s->ops->grant_list(s, document, out, n);
    if ((r = rows_opened(s, r, &grant_rows, *out, n)) < 0) *out = NULL;
    return r;
}

void homing_grants_free(struct homing_grant *g, size_t n)
{
    rows_free(&grant_rows, g, n);
}

int homing_store_grant_revoke(struct homing_store *s, int64_t grant, int64_t document,
                              int64_t *revoked)
{
    if (!s || grant < 0 || document < 0 || (grant == 0) == (document == 0)) return -EINVAL;
    if (!s->ops->grant_revoke) return -ENOTSUP;
    int64_t n = 0;
    int r = s->ops->grant_revoke(s, grant, document, &n);
    if (r < 0) return r;
    if (n == 0) {
        store_set_error(s, "no grant to revoke");
        return -ENOENT;
    }
    if (revoked) *revoked = n;
    return 0;
}

int store_grant_usable(int64_t revoked_us, int64_t expires_us, int64_t max_uses, int64_t uses,
                       int64_t now_us, int64_t pending)
{
    if (revoked_us) return -EKEYREVOKED;
    if (expires_us && now_us >= expires_us) return -EKEYEXPIRED;
    if (max_uses && uses + pending >= max_uses) return -EDQUOT;
    return 0;
}

int homing_store_grant_check(struct homing_store *s, int64_t grant, uint64_t message,
                             uint32_t recipient, int64_t now_us, int64_t pending,
                             struct homing_document **doc)
{
    if (!s || grant <= 0 || pending < 0 || !doc) return -EINVAL;
    if (!s->ops->grant_check) return -ENOTSUP;
    return s->ops->grant_check(s, grant, message, recipient, now_us, pending, doc);
}

int homing_store_report_visible(struct homing_store *s, uint64_t message,
                                struct homing_report_row **rows, size_t *n)
{
    if (!s || !rows || !n) return -EINVAL;
    int mm, *modes = NULL;
    size_t nm = 0, nr = 0;
    struct homing_report_row *r = NULL;
    int e = s->ops->tracking_get(s, message, &mm, &modes, &nm);
    if (e == 0) e = homing_store_report(s, message, &r, &nr);
    if (e < 0) {
        free(modes);
        return e;
    }
    struct homing_report_row *zero = NULL;
    int need_zero = 0;
    for (size_t i = 0; i < nr; i++) {
        uint32_t idx = r[i].recipient;
        r[i].tracking = idx == 0 ? mm : idx <= nm ? modes[idx - 1] : mm;
        if (idx == 0) zero = &r[i];
        if (idx && r[i].tracking != HOMING_TRACKING_INDIVIDUAL &&
            (r[i].opens || r[i].clicks || r[i].probes))
            need_zero = 1;
    }
    free(modes);
    if (need_zero && !zero) {
        /* the rows are ordered by recipient: the new row 0 goes first */
        struct homing_report_row *v = realloc(r, (nr + 1) * sizeof *v);
        char *state = strdup("");
        if (!v || !state) {
            free(state);
            homing_report_free(v ? v : r, nr);
            return -ENOMEM;
        }
        r = v;
        memmove(r + 1, r, nr * sizeof *r);
        memset(r, 0, sizeof *r);
        r[0].state = state;
        r[0].tracking = mm;
        zero = &r[0];
        nr++;
    }
    for (size_t i = 0; i < nr; i++) {
        struct homing_report_row *w = &r[i];
        if (w->recipient == 0 || w->tracking == HOMING_TRACKING_INDIVIDUAL) continue;
        if (w->tracking == HOMING_TRACKING_ANONYMOUS) {
            /* counts stay, without the recipient; times only widen row 0's range */
            zero->opens += w->opens;
            zero->clicks += w->clicks;
            zero->probes += w->probes;
#define WIDEN(f, cmp)                                                                              \
    if (w->f && (!zero->f || w->f cmp zero->f)) zero->f = w->f
            WIDEN(first_open_us, <);
            WIDEN(last_open_us, >);
            WIDEN(first_click_us, <);
            WIDEN(last_click_us, >);
#undef WIDEN
        }
        w->opens = w->clicks = w->probes = 0;
        w->first_open_us = w->last_open_us = w->first_click_us = w->last_click_us = 0;
        if (w->tracking == HOMING_TRACKING_OFF) {
            w->state[0] = '\0';
            w->state_us = 0;
        }
    }
    *rows = r;
    *n = nr;
    return 0;
}

int homing_store_events_visible(struct homing_store *s, struct homing_event *evs, size_t n)
{
    if (!s || (n && !evs)) return -EINVAL;
    uint64_t cached = 0;
    int mm = 0, *modes = NULL;
    size_t nm = 0;
    for (size_t i = 0; i < n; i++) {
        struct homing_event *e = &evs[i];
        if (!e->recipient) continue;
        if (e->message != cached) {
            free(modes);
            modes = NULL;
            nm = 0;
            int r = s->ops->tracking_get(s, e->message, &mm, &modes, &nm);
            if (r == -ENOENT) {
                mm = HOMING_TRACKING_INDIVIDUAL; /* not this node's message: nothing to hide by */
            } else if (r < 0) {
                return r;
            }
            cached = e->message;
        }
        int mode = e->recipient <= nm ? modes[e->recipient - 1] : mm;
        if (mode == HOMING_TRACKING_INDIVIDUAL) continue;
        e->recipient = 0;
        e->client[0] = e->user_agent[0] = e->accept_language[0] = e->via[0] = e->from[0] = '\0';
    }
    free(modes);
    return 0;
}

int homing_store_unmatched_add_once(struct homing_store *s, const char *key, const char *source,
                                    const char *kind, const char *reason, const char *raw,
                                    size_t raw_len, int64_t *id_out)
{
    if (!s || !sync_name_ok(key) || !source || !kind || !reason || (raw_len && !raw))
        return -EINVAL;
    if (raw_len > INT32_MAX) return -E2BIG;
    int64_t scratch;
    char *sr = NULL, *sraw = NULL;
    size_t sraw_len = 0;
    int r = store_seal_text(s, reason, strlen(reason), &sr, NULL);
    if (r == 0) r = store_seal_text(s, raw, raw_len, &sraw, &sraw_len);
    if (r == 0)
        r = s->ops->unmatched_add_once(s, key, source, kind, sr ? sr : reason, sraw ? sraw : raw,
                                       sraw ? sraw_len : raw_len, id_out ? id_out : &scratch);
    free(sr);
    free(sraw);
    return r;
}

int homing_store_relay_user_set(struct homing_store *s, const char *name, const char *hash)
{
    if (!s || !name || !*name || !hash || strlen(hash) > HOMING_STORE_RELAY_HASH_MAX)
        return -EINVAL;
    return s->ops->relay_user_set(s, name, hash);
}

int homing_store_relay_user_get(struct homing_store *s, const char *name, char **hash_out)
{
    if (!s || !name || !hash_out) return -EINVAL;
    return s->ops->relay_user_get(s, name, hash_out);
}

int homing_store_relay_user_list(struct homing_store *s, char ***names, size_t *n)
{
    if (!s || !names || !n) return -EINVAL;
    return s->ops->relay_user_list(s, names, n);
}

int homing_store_relay_user_remove(struct homing_store *s, const char *name)
{
    if (!s || !name) return -EINVAL;
    return s->ops->relay_user_remove(s, name);
}
