/*
 * document.c: the answer of GET /d/<token>: a shared document, decrypted as it
 * is sent (docs/internals/document.md).
 *
 * Contract: public.c verifies the token (kind DOCUMENT) and calls
 * document_prepare, which checks the grant in the store (exactly this
 * recipient of this message; not revoked, expired or used up), opens the
 * encrypted file and its header, and only then lets the hit be queued: an
 * event is recorded only for a document that can be served. Anything else is
 * answered here (404 unknown, 410 gone, 503 store or file trouble). After the
 * commit, document_send starts a streamed response: one chunk is read and
 * decrypted per proceed callback of h2o, so a large file never holds the loop
 * for more than one chunk's work, and never sits in memory whole.
 *
 * Everything lives in the request's pool; its dispose callback closes the file,
 * so a client that goes away at any point leaks nothing.
 *
 * document_digests_upgrade runs once at start, before any request: it keys the
 * digests of documents added before migration 0009 (homing/document.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "document.h"
#include "homing/document.h"

#define DOC_DISPOSITION_MAX 2048 /* a Content-Disposition value: name escaped twice */

struct doc_stream {
    h2o_generator_t gen; /* first: h2o hands the generator back to proceed */
    int fd;
    struct homing_doc_reader *rd;
    uint8_t *buf; /* HOMING_DOC_CHUNK: one decrypted chunk, alive until the next proceed */
    char *media_type, *disposition;
    int64_t size;
};

static const char gone_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Link no longer valid</title>"
    "</head><body><h1>Link no longer valid</h1><p>This document link has expired, has been "
    "revoked or has been used as often as allowed. Ask the sender for a new one.</p></body>"
    "</html>\n";

static const char missing_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Link not found</title></head>"
    "<body><h1>Link not found</h1><p>This link is not valid or has expired.</p></body></html>\n";

static void page(h2o_req_t *req, int status, const char *reason, const char *body)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store, private"));
    req->res.content_length = strlen(body);
    h2o_send_inline(req, body, strlen(body));
}

static void stream_dispose(void *p)
{
    struct doc_stream *d = p;
    homing_doc_reader_free(d->rd);
    d->rd = NULL;
    if (d->fd >= 0) close(d->fd);
    d->fd = -1;
    if (d->buf) sodium_memzero(d->buf, HOMING_DOC_CHUNK);
    free(d->buf);
    d->buf = NULL;
}

void document_not_found(h2o_req_t *req)
{
    page(req, 404, "Not Found", missing_page);
}

/* The counts of document.h; one mutex for every loop thread and the ingester.
 * Downloads are rare and entries live milliseconds (until the ingester stores
 * their events), so a short array scanned under the lock is enough. */
struct doc_pending {
    pthread_mutex_t mu;
    int held; /* the ingester holds mu across a commit (document_stored); its own */
    size_t used;
    struct {
        int64_t grant;
        uint32_t n;
    } e[DOC_PENDING_MAX];
};

int document_pending_init(struct serve *s)
{
    struct doc_pending *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    s->doc_pending = p;
    return 0;
}

void document_pending_free(struct serve *s)
{
    if (!s->doc_pending) return;
    pthread_mutex_destroy(&s->doc_pending->mu);
    free(s->doc_pending);
    s->doc_pending = NULL;
}

/* Under p->mu. The slot of grant, or used if it has none. */
static size_t pending_find(const struct doc_pending *p, int64_t grant)
{
    size_t i = 0;
    while (i < p->used && p->e[i].grant != grant) i++;
    return i;
}

/* Under p->mu. */
static void pending_drop(struct doc_pending *p, int64_t grant)
{
    size_t i = pending_find(p, grant);
    if (i < p->used && --p->e[i].n == 0) p->e[i] = p->e[--p->used];
}

static void pending_forget(struct doc_pending *p, int64_t grant)
{
    pthread_mutex_lock(&p->mu);
    pending_drop(p, grant);
    pthread_mutex_unlock(&p->mu);
}

static int is_download(const struct homing_event *ev)
{
    return ev->kind == HOMING_EV_DOCUMENT_OPEN && ev->method == HOMING_METHOD_GET;
}

/* The journal's ingester, around each transaction (homing/journal.h). A batch
 * with downloads in it is committed under the lock: a loop thread checking a
 * grant then sees either the store before the commit and the download still
 * counted here, or the store after it and the download forgotten, never the
 * download in both (which would refuse a use that is left) or in neither. */
void document_stored(void *serve, const struct homing_event *evs, size_t n,
                     enum homing_journal_phase phase)
{
    struct doc_pending *p = ((struct serve *)serve)->doc_pending;
    if (phase == HOMING_JOURNAL_BEFORE) {
        for (size_t i = 0; i < n; i++)
            if (is_download(&evs[i])) {
                pthread_mutex_lock(&p->mu);
                p->held = 1;
                break;
            }
        return;
    }
    if (!p->held) return;
    /* Stored: counted by the store now. Skipped: never will be. Failed: the
     * same events come again, so they stay counted here. */
    if (phase != HOMING_JOURNAL_FAILED)
        for (size_t i = 0; i < n; i++)
            if (is_download(&evs[i])) pending_drop(p, evs[i].item);
    p->held = 0;
    pthread_mutex_unlock(&p->mu);
}

void document_unanswered(struct serve *s, const struct homing_event *ev)
{
    if (is_download(ev)) pending_forget(s->doc_pending, ev->item);
}

/* The grant's check against the store and the downloads still on their way
 * there, and for a GET the count of this one, under one lock: two loop threads
 * serving the last use of one grant cannot both pass, and no commit of a
 * download lands between the two reads (document_stored). The store read
 * never waits for a writer (WAL); the lock waits at most for one commit of a
 * batch that holds a download. */
static int grant_take(struct worker *w, const struct homing_token *t, int get,
                      struct homing_document **doc)
{
    struct doc_pending *p = w->serve->doc_pending;
    pthread_mutex_lock(&p->mu);
    size_t i = pending_find(p, t->item);
    int64_t pending = i < p->used ? p->e[i].n : 0;
    int r = homing_store_grant_check(w->store, t->item, t->message, t->recipient, homing_now_us(),
                                     pending, doc);
    if (r == 0 && get) {
        if (i == p->used && p->used == DOC_PENDING_MAX) {
            homing_documents_free(*doc, 1);
            *doc = NULL;
            r = -ENOSPC;
        } else {
            if (i == p->used) p->e[p->used++] = (typeof(p->e[0])){.grant = t->item, .n = 0};
            p->e[i].n++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

int document_prepare(struct worker *w, h2o_req_t *req, const struct homing_token *t, void **out)
{
    struct serve *s = w->serve;
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    struct homing_document *doc = NULL;
    /* A HEAD (link scanners, previews) is answered and recorded but does not
     * use up a download. */
    int r = grant_take(w, t, get, &doc);
    if (r == -ENOENT) {
        atomic_fetch_add(&s->metrics.invalid[METRICS_HIT_DOCUMENT], 1);
        document_not_found(req);
        return -1;
    }
    if (r == -EKEYREVOKED || r == -EKEYEXPIRED || r == -EDQUOT) {
        page(req, 410, "Gone", gone_page);
        return -1;
    }
    if (r == -ENOSPC) {
        log_error("document grant %u: %d downloads of other grants on their way to the store",
                  t->item, DOC_PENDING_MAX);
        return -2;
    }
    if (r < 0) {
        log_error("document grant %u: %s", t->item, homing_store_errmsg(w->store));
        return -2; /* the caller answers 503 */
    }
    struct doc_stream *d = h2o_mem_alloc_shared(&req->pool, sizeof *d, stream_dispose);
    memset(d, 0, sizeof *d);
    d->fd = -1;
    d->size = doc->size;
    /* Checked on the way in (doc add), and again here: a header value comes
     * from the store only once it is known to be one (an old or planted row
     * must not split the response). */
    const char *mt = doc->media_type;
    if (!homing_doc_media_type_ok(mt)) {
        char safe[128];
        homing_str_escape(safe, sizeof safe, mt ? mt : "", mt ? strlen(mt) : 0, 0);
        log_warn("document grant %u: stored media type \"%s\" is not one; sent as "
                 "application/octet-stream",
                 t->item, safe);
        mt = "application/octet-stream";
    }
    d->media_type = h2o_strdup(&req->pool, mt, SIZE_MAX).base;
    char disp[DOC_DISPOSITION_MAX];
    if (homing_doc_disposition(doc->name, disp, sizeof disp) < 0)
        snprintf(disp, sizeof disp, "attachment; filename=\"document\"");
    d->disposition = h2o_strdup(&req->pool, disp, SIZE_MAX).base;

    char path[4096];
    uint8_t key[HOMING_DOC_KEY_LEN];
    snprintf(path, sizeof path, "%s/%s", s->docs_dir, doc->file);
    r = homing_keyring_doc_key(s->keyring, key);
    if (r == 0) {
        d->fd = open(path, O_RDONLY | O_CLOEXEC);
        r = d->fd < 0 ? -errno : 0;
    }
    if (r == 0) r = homing_doc_reader_open(key, doc->file, d->fd, &d->rd);
    sodium_memzero(key, sizeof key);
    if (r == 0 && !(d->buf = malloc(HOMING_DOC_CHUNK))) r = -ENOMEM;
    if (r < 0) {
        log_error("document %s: cannot open %s: %s", doc->digest, path, strerror(-r));
        homing_documents_free(doc, 1);
        if (get) pending_forget(s->doc_pending, t->item); /* answered 503, never stored */
        return -2;
    }
    homing_documents_free(doc, 1);
    *out = d;
    return 0;
}

static void send_chunk(struct doc_stream *d, h2o_req_t *req)
{
    size_t n = 0;
    int final = 0;
    int r = homing_doc_reader_next(d->rd, d->buf, &n, &final);
    if (r < 0) {
        /* Headers are gone already: cutting the body is the only honest answer. */
        log_error("document stream: %s", strerror(-r));
        h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    h2o_iovec_t v = h2o_iovec_init(d->buf, n);
    h2o_send(req, &v, 1, final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    send_chunk((struct doc_stream *)g, req);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    (void)g;
    (void)req; /* the pool's dispose closes the file */
}

void document_send(h2o_req_t *req, void *p)
{
    struct doc_stream *d = p;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, d->media_type,
                   strlen(d->media_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_DISPOSITION, NULL,
                   d->disposition, strlen(d->disposition));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store, private"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0,
                          NULL, H2O_STRLIT("nosniff"));
    /* The token in the URL must not leak to whatever the document links to. */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    req->res.content_length = (size_t)d->size;
    d->gen.proceed = on_proceed;
    d->gen.stop = on_stop;
    h2o_start_response(req, &d->gen);
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    send_chunk(d, req);
}

void document_digests_upgrade(struct serve *s, struct homing_store *st)
{
    uint8_t key[HOMING_DOC_KEY_LEN], dkey[HOMING_DOC_KEY_LEN];
    size_t up = 0, failed = 0;
    int r = homing_keyring_doc_key(s->keyring, key);
    if (r == 0) r = homing_keyring_digest_key(s->keyring, dkey);
    if (r == 0) r = homing_doc_digests_upgrade(st, key, dkey, s->docs_dir, &up, &failed);
    sodium_memzero(key, sizeof key);
    sodium_memzero(dkey, sizeof dkey);
    if (r < 0) {
        log_warn("documents: cannot key the stored digests: %s", strerror(-r));
        return;
    }
    if (up) log_info("documents: keyed the stored digest of %zu document(s)", up);
    if (failed)
        log_warn("documents: %zu document(s) keep an unkeyed digest: their files cannot be "
                 "read or do not decrypt in %s",
                 failed, s->docs_dir);
}
