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
 */
#include <errno.h>
#include <fcntl.h>
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

int document_prepare(struct worker *w, h2o_req_t *req, const struct homing_token *t, void **out)
{
    struct serve *s = w->serve;
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    struct homing_document *doc = NULL;
    /* A HEAD (link scanners, previews) is answered and recorded but does not
     * use up a download. */
    int r = homing_store_grant_use(w->store, t->item, t->message, t->recipient, homing_now_us(),
                                   get, &doc);
    if (r == -ENOENT) {
        atomic_fetch_add(&s->metrics.invalid[METRICS_HIT_DOCUMENT], 1);
        document_not_found(req);
        return -1;
    }
    if (r == -EKEYREVOKED || r == -EKEYEXPIRED || r == -EDQUOT) {
        page(req, 410, "Gone", gone_page);
        return -1;
    }
    if (r < 0) {
        log_error("document grant %u: %s", t->item, homing_store_errmsg(w->store));
        return -2; /* the caller answers 503 */
    }
    struct doc_stream *d = h2o_mem_alloc_shared(&req->pool, sizeof *d, stream_dispose);
    memset(d, 0, sizeof *d);
    d->fd = -1;
    d->size = doc->size;
    d->media_type = h2o_strdup(&req->pool, doc->media_type, SIZE_MAX).base;
    char disp[DOC_DISPOSITION_MAX];
    if (homing_doc_disposition(doc->name, disp, sizeof disp) < 0)
        snprintf(disp, sizeof disp, "attachment; filename=\"document\"");
    d->disposition = h2o_strdup(&req->pool, disp, SIZE_MAX).base;

    char path[4096];
    uint8_t key[HOMING_DOC_KEY_LEN];
    snprintf(path, sizeof path, "%s/%s", homing_config_get(s->config, "docs.dir"), doc->file);
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
