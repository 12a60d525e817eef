/*
 * public.c: the public listener's routes: /o/ pixel, /c/ click, /d/ document,
 * /healthz, /u/ one-click unsubscribe. A valid hit is answered only once its
 * event is in the journal (batch.c, public_answer). Invalid pixel tokens still
 * get the GIF (a broken image would harm the message) but are only counted;
 * invalid click tokens get a 404 page and never a redirect to anything the
 * request supplied.
 *
 * /u/<token> (RFC 8058, docs/suppression.md): a GET or HEAD only shows a page
 * whose form POSTs back (link scanners fetch every GET: a GET never
 * unsubscribes, nor is it recorded); a POST with the body
 * List-Unsubscribe=One-Click is journaled as an `unsubscribe` event and
 * answered 200 once journaled; the enrichment thread then judges it and lists
 * the recipient (enrich.c). The pages are constant text: nothing of the
 * request is written into them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"
#include "log.h"
#include "serve.h"

#define PUBLIC_LINK_LOGGED_MAX 200 /* bytes of a refused destination in the log line */

/* The 43-byte transparent 1x1 GIF89a. */
static const unsigned char pixel_gif[43] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static const char not_found_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Link not found</title></head>"
    "<body><h1>Link not found</h1><p>This link is not valid or has expired.</p></body></html>\n";

/* The form posts to the page's own address (action omitted): the token
 * is never written into the page, and a base URL with a path works as is. */
static const char unsubscribe_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width\"><title>Unsubscribe</title></head>"
    "<body><h1>Unsubscribe</h1><p>Stop receiving messages from this sender at this address?</p>"
    "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
    "value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form></body></html>\n";

static const char unsubscribed_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head>"
    "<body><h1>Unsubscribed</h1><p>Your request has been recorded: this address will not be "
    "sent messages from this sender any more.</p></body></html>\n";

static const char bad_unsubscribe_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Bad request</title></head>"
    "<body><h1>Bad request</h1><p>A one-click unsubscribe is a POST with the body "
    "List-Unsubscribe=One-Click.</p></body></html>\n";

struct hit_link {
    struct hit *hit;
};

static void hit_link_dispose(void *p)
{
    struct hit_link *l = p;
    if (l->hit) l->hit->req = NULL; /* the request went away before the commit */
}

static void add_no_cache(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store, no-cache, must-revalidate, private"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("pragma"), 0, NULL,
                          H2O_STRLIT("no-cache"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_EXPIRES, NULL, H2O_STRLIT("0"));
}

static void send_pixel(h2o_req_t *req)
{
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("image/gif"));
    add_no_cache(req);
    req->res.content_length = sizeof pixel_gif;
    h2o_send_inline(req, (const char *)pixel_gif, sizeof pixel_gif);
}

static void send_page(h2o_req_t *req, int status, const char *reason, const char *body)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/html; charset=utf-8"));
    add_no_cache(req);
    req->res.content_length = strlen(body);
    h2o_send_inline(req, body, strlen(body));
}

/* The unsubscribe pages: their URL carries a token, which no other site
 * may learn from a Referer, and they load nothing. */
static void send_unsubscribe_page(h2o_req_t *req, int status, const char *reason, const char *body)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0,
                          NULL,
                          H2O_STRLIT("default-src 'none'; form-action 'self'; "
                                     "frame-ancestors 'none'"));
    send_page(req, status, reason, body);
}

static void send_unavailable(h2o_req_t *req)
{
    req->res.status = 503;
    req->res.reason = "Service Unavailable";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain"));
    add_no_cache(req);
    req->res.content_length = sizeof("busy, try again\n") - 1;
    h2o_send_inline(req, H2O_STRLIT("busy, try again\n"));
}

/* An answer without a body. h2o_send_inline with an empty body hands h2o one
 * zero-length buffer, which its HTTP/1 writer sends as a writev of 0 bytes and
 * then treats as a write still pending: two epoll_ctl and one more wake-up of
 * the loop per click (seen with strace under wrk). No buffer at all completes
 * at once, as a HEAD answer does. */
static void send_empty(h2o_req_t *req)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_start_response(req, &generator);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

/* The destination was resolved before queueing (link_lookup checked it) and
 * kept in the request pool. Whatever reaches here, a header value with a
 * control character, space or non-ASCII byte is never written: a CR LF in it
 * would end the header block and start a response of the store's making
 * (issue 11); the click gets the 404 page instead. */
static void send_redirect(h2o_req_t *req, h2o_iovec_t location)
{
    if (!homing_url_header_safe(location.base, location.len)) {
        struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, ctx, req->conn->ctx);
        atomic_fetch_add_explicit(&w->serve->metrics.redirects_refused, 1, memory_order_relaxed);
        send_page(req, 404, "Not Found", not_found_page);
        return;
    }
    req->res.status = 302;
    req->res.reason = "Found";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, location.base,
                   location.len);
    /* The destination must not learn the tracking URL (it carries the token). */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    add_no_cache(req);
    req->res.content_length = 0;
    send_empty(req);
}

static void copy_header(h2o_req_t *req, const h2o_token_t *token, char *dst, size_t cap)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    dst[0] = '\0';
    if (i < 0) return;
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    memcpy(dst, v.base, n);
    dst[n] = '\0';
    /* Stored text is cut at a NUL, which HTTP/1 forbids anyway. */
}

static void peer_addr(h2o_req_t *req, struct homing_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    homing_addr_from_sockaddr((struct sockaddr *)&ss, len, out); /* zero: no address */
}

/* Fills the request's part of an event; client gets the resolved client. */
static void fill_event(struct serve *s, h2o_req_t *req, struct homing_event *ev,
                       struct homing_addr *client_out)
{
    memset(ev, 0, sizeof *ev);
    ev->time_us = homing_now_us();
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
        ev->method = HOMING_METHOD_GET;
    else if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        ev->method = HOMING_METHOD_HEAD;

    struct homing_addr peer, client;
    peer_addr(req, &peer);
    const char *xff = NULL, *fwd = NULL;
    size_t xff_len = 0, fwd_len = 0;
    if (s->proxies.n) {
        ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_X_FORWARDED_FOR, -1);
        if (i >= 0)
            xff = req->headers.entries[i].value.base, xff_len = req->headers.entries[i].value.len;
        i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("forwarded"), -1);
        if (i >= 0)
            fwd = req->headers.entries[i].value.base, fwd_len = req->headers.entries[i].value.len;
    }
    clientaddr_resolve(&s->proxies, &peer, xff, xff_len, fwd, fwd_len, &client);
    homing_addr_format(&client, ev->client);
    *client_out = client;
    copy_header(req, H2O_TOKEN_USER_AGENT, ev->user_agent, sizeof ev->user_agent);
    copy_header(req, H2O_TOKEN_ACCEPT_LANGUAGE, ev->accept_language, sizeof ev->accept_language);
    copy_header(req, H2O_TOKEN_VIA, ev->via, sizeof ev->via);
    copy_header(req, H2O_TOKEN_FROM, ev->from, sizeof ev->from);
}

/* Click destinations: a direct-mapped cache in front of this thread's store.
 * A destination read from the store is checked again before it is cached:
 * the store may hold rows written before every way in checked its links
 * (issue 11), or rows written by hand. The cache keeps what homing_url_check
 * writes (the stored text for every row it passed), or that the link was
 * refused, so a refused link is logged once per cache fill, not per click.
 * NULL for an unknown link, for a refused one (*refused 1), and when the
 * store could not be asked (*refused -1: a store error other than no such
 * link, e.g. PostgreSQL down: answered 503, not 404, as the link may well
 * exist). */
static const char *link_lookup(struct worker *w, uint64_t message, uint32_t index, int *refused)
{
    uint64_t h = (message ^ ((uint64_t)index * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
    struct link_cache_entry *e = &w->cache[(h >> 17) % w->cache_size];
    *refused = 0;
    if ((e->url || e->refused) && e->message == message && e->index == index) {
        *refused = e->refused;
        return e->url;
    }
    char *url;
    int got = homing_store_link_url(w->store, message, index, &url);
    if (got < 0) {
        if (got != -ENOENT && got != -EINVAL) *refused = -1;
        return NULL;
    }
    struct homing_buf b;
    homing_buf_init(&b, HOMING_URL_DEST_MAX + 1);
    const char *why = NULL;
    int r = homing_url_check(url, strlen(url), &b, &why);
    if (r == -ENOMEM) {
        homing_buf_free(&b);
        free(url);
        return NULL;
    }
    free(e->url);
    e->message = message;
    e->index = index;
    e->url = NULL;
    e->refused = r < 0;
    if (r < 0) {
        char safe[PUBLIC_LINK_LOGGED_MAX + 1], id[HOMING_ID_STR_MAX];
        size_t n = strlen(url);
        homing_str_escape(safe, sizeof safe, url, n, 0);
        homing_id_format(message, id);
        log_warn("click: link %u of message %s is not a valid destination (%s), answered 404 "
                 "instead of a redirect: \"%s%s\"",
                 index, id, why, safe, n > PUBLIC_LINK_LOGGED_MAX ? "..." : "");
        homing_buf_free(&b);
        free(url);
        *refused = 1;
        return NULL;
    }
    free(url);
    e->url = homing_buf_steal(&b);
    return e->url;
}

static int is_post(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
}

/* GET and HEAD everywhere; POST on /u/ only. */
static int is_method_ok(h2o_req_t *req, enum route_kind kind)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")) ||
           (kind == ROUTE_UNSUBSCRIBE && is_post(req));
}

/* Journals a verified hit and answers it (batch.c); location is the redirect
 * target of a click, or {NULL, 0} for a pixel. A hit over its client's flood
 * rate takes the same way, journaled as a count of its flood instead of an
 * event: its answer too means it is recorded. */
static int queue_hit(struct worker *w, h2o_req_t *req, unsigned kind, const struct homing_token *t,
                     h2o_iovec_t location, void *doc)
{
    /* Answered within batch_add unless the journal must reach the disk first:
     * then the hit outlives this call. */
    int wait = w->serve->sync_full;
    struct hit local, *h = wait ? malloc(sizeof *h) : &local;
    if (!h) {
        send_unavailable(req);
        return 0;
    }
    struct homing_addr client;
    fill_event(w->serve, req, &h->ev, &client);
    h->ev.kind = (uint16_t)kind;
    h->ev.message = t->message;
    h->ev.recipient = t->recipient;
    h->ev.item = t->item;
    /* A download is never suppressed: its stored event is what counts the
     * grant's use (document.c), and each one is a real file served. Nor is
     * an unsubscribe: it is a request to act on, not a count. */
    int download = (kind == HOMING_EV_DOCUMENT_OPEN && h->ev.method == HOMING_METHOD_GET) ||
                   kind == HOMING_EV_UNSUBSCRIBE;
    h->suppressed = !download && !flood_admit(&w->flood, &client, h->ev.time_us, h->ev.kind,
                                              t->message, t->recipient, t->item);
    h->req = req;
    h->location = location;
    h->doc = doc;
    h->heap = wait;
    h->link = NULL;
    if (wait) {
        h->link = h2o_mem_alloc_shared(&req->pool, sizeof *h->link, hit_link_dispose);
        h->link->hit = h;
    }
    batch_add(w, h);
    return 0;
}

_Static_assert(ROUTE_HEAD_MAX >= H2O_MAX_REQLEN, "route_framing_check sees whole heads");

/* Request smuggling (RFC 9112 section 6.3). h2o 2.2 frames a body by the first
 * of several Content-Length fields, or by Transfer-Encoding over a
 * Content-Length, and keeps both out of req->headers; so the check reads the
 * request head itself, which h2o keeps at the start of the socket's input
 * buffer until the answer is sent (it consumes it then). Requests without
 * either field have no entity: for them (the pixel's hot path) it is one
 * comparison and a look at the few fields for an obsolete line folding, which
 * h2o keeps as a field without a name. */
static int framing_bad(h2o_req_t *req)
{
    for (size_t i = 0; i < req->headers.size; i++)
        if (req->headers.entries[i].name->len == 0) return 1;
    /* HTTP/2 (over TLS, by ALPN) frames bodies in DATA frames, and the
     * socket's input then holds frames, not a head to read. */
    if (!req->entity.base || req->version >= 0x200) return 0;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (!sock || !sock->input) return 1; /* cannot tell: refuse */
    size_t n = sock->input->size < ROUTE_HEAD_MAX ? sock->input->size : ROUTE_HEAD_MAX;
    return route_framing_check(sock->input->bytes, n) < 0;
}

static int on_public(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, ctx, req->conn->ctx);
    struct serve *s = w->serve;
    if (framing_bad(req)) {
        /* Nothing after this request is read: h2o closes once it is sent. */
        atomic_fetch_add_explicit(&s->metrics.bad_framing, 1, memory_order_relaxed);
        req->http1_is_persistent = 0;
        h2o_send_error_400(req, "Bad Request", "conflicting message framing\n",
                           H2O_SEND_ERROR_HTTP1_CLOSE_CONNECTION);
        return 0;
    }
    struct route route;
    route_parse(req->path.base, req->path.len, &route);
    if (route.kind == ROUTE_NOT_FOUND) {
        send_page(req, 404, "Not Found", not_found_page);
        return 0;
    }
    if (!is_method_ok(req, route.kind)) {
        req->res.status = 405;
        req->res.reason = "Method Not Allowed";
        if (route.kind == ROUTE_UNSUBSCRIBE)
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("allow"), 0, NULL,
                                  H2O_STRLIT("GET, HEAD, POST"));
        else
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("allow"), 0, NULL,
                                  H2O_STRLIT("GET, HEAD"));
        req->res.content_length = sizeof("method not allowed\n") - 1;
        h2o_send_inline(req, H2O_STRLIT("method not allowed\n"));
        return 0;
    }
    struct homing_token t;
    switch (route.kind) {
    case ROUTE_HEALTHZ:
        req->res.status = 200;
        req->res.reason = "OK";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("text/plain"));
        req->res.content_length = 3;
        h2o_send_inline(req, H2O_STRLIT("ok\n"));
        return 0;
    case ROUTE_PIXEL:
        if (homing_token_verify(s->keyring, route.token.p, route.token.len, &t) < 0 ||
            t.kind != HOMING_TOKEN_OPEN) {
            atomic_fetch_add(&s->metrics.invalid[METRICS_HIT_OPEN], 1);
            send_pixel(req);
            return 0;
        }
        if (t.message == HOMING_ID_DEMO) { /* the example pixel: nobody's open */
            atomic_fetch_add(&s->metrics.demo_hits, 1);
            send_pixel(req);
            return 0;
        }
        return queue_hit(w, req, HOMING_EV_OPEN, &t, h2o_iovec_init(NULL, 0), NULL);
    case ROUTE_CLICK: {
        const char *url = NULL;
        int refused = 0;
        if (homing_token_verify(s->keyring, route.token.p, route.token.len, &t) < 0 ||
            t.kind != HOMING_TOKEN_CLICK || !(url = link_lookup(w, t.message, t.item, &refused))) {
            if (refused < 0) { /* not recorded: the client is told to come back */
                atomic_fetch_add(&s->metrics.store_errors, 1);
                send_unavailable(req);
                return 0;
            }
            /* a refused destination is not recorded as a click either */
            atomic_fetch_add(refused ? &s->metrics.redirects_refused
                                     : &s->metrics.invalid[METRICS_HIT_CLICK],
                             1);
            send_page(req, 404, "Not Found", not_found_page);
            return 0;
        }
        /* Copied into the request's pool: the cache may evict its entry meanwhile. */
        return queue_hit(w, req, HOMING_EV_CLICK, &t, h2o_strdup(&req->pool, url, SIZE_MAX), NULL);
    }
    case ROUTE_DOCUMENT: {
        /* The token is the credential (no API key): verified, then its grant
         * checked in the store by document_prepare. */
        void *doc = NULL;
        if (homing_token_verify(s->keyring, route.token.p, route.token.len, &t) < 0 ||
            t.kind != HOMING_TOKEN_DOCUMENT) {
            atomic_fetch_add(&s->metrics.invalid[METRICS_HIT_DOCUMENT], 1);
            send_page(req, 404, "Not Found", not_found_page);
            return 0;
        }
        int r = document_prepare(w, req, &t, &doc);
        if (r == -1) return 0;
        if (r < 0) {
            send_unavailable(req);
            return 0;
        }
        return queue_hit(w, req, HOMING_EV_DOCUMENT_OPEN, &t, h2o_iovec_init(NULL, 0), doc);
    }
    case ROUTE_UNSUBSCRIBE:
        if (homing_token_verify(s->keyring, route.token.p, route.token.len, &t) < 0 ||
            t.kind != HOMING_TOKEN_UNSUBSCRIBE) {
            atomic_fetch_add(&s->metrics.invalid[METRICS_HIT_UNSUBSCRIBE], 1);
            send_page(req, 404, "Not Found", not_found_page);
            return 0;
        }
        if (!is_post(req)) { /* a look, by a person or a link scanner: nothing changes */
            send_unsubscribe_page(req, 200, "OK", unsubscribe_page);
            return 0;
        }
        if (!route_one_click(req->entity.base, req->entity.len)) {
            send_unsubscribe_page(req, 400, "Bad Request", bad_unsubscribe_page);
            return 0;
        }
        return queue_hit(w, req, HOMING_EV_UNSUBSCRIBE, &t, h2o_iovec_init(NULL, 0), NULL);
    default: break;
    }
    send_page(req, 404, "Not Found", not_found_page);
    return 0;
}

void public_answer(struct hit *h, int committed)
{
    if (!h->req) return; /* the client went away before the commit */
    if (committed) {
        struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, ctx, h->req->conn->ctx);
        int k = h->ev.kind == HOMING_EV_OPEN          ? METRICS_HIT_OPEN
                : h->ev.kind == HOMING_EV_CLICK       ? METRICS_HIT_CLICK
                : h->ev.kind == HOMING_EV_UNSUBSCRIBE ? METRICS_HIT_UNSUBSCRIBE
                                                      : METRICS_HIT_DOCUMENT;
        if (h->suppressed)
            atomic_fetch_add_explicit(&w->serve->metrics.suppressed, 1, memory_order_relaxed);
        else
            atomic_fetch_add_explicit(&w->serve->metrics.hits[k], 1, memory_order_relaxed);
    }
    h2o_req_t *req = h->req;
    if (!committed)
        send_unavailable(req);
    else if (h->ev.kind == HOMING_EV_UNSUBSCRIBE)
        send_unsubscribe_page(req, 200, "OK", unsubscribed_page);
    else if (h->doc)
        document_send(req, h->doc);
    else if (h->location.base)
        send_redirect(req, h->location);
    else
        send_pixel(req);
}

void public_hit_free(struct hit *h)
{
    if (h->req && h->link) h->link->hit = NULL;
    free(h->ev.detail);
    if (h->heap) free(h);
}

void public_register(struct serve *s, h2o_hostconf_t *host)
{
    (void)s;
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_public;
}
