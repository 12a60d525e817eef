/*
 * admin.c: the private listener: the JSON API under /api/v1/ (bearer API keys,
 * checked against the hashes in the store), /metrics (Prometheus text) and
 * /healthz. Runs on its own loop thread with its own store handle, so slow API
 * calls never delay tracking hits.
 *
 * /api/v1/openapi.yaml (docs/api/openapi.yaml, built in) needs no key.
 *
 * Every API route is a row of admin_routes (below) with the key scope it needs
 * (homing/apikey.h: read < write < admin): the dispatcher finds the row, checks
 * the key's scope against it, and only then calls the handler, so a route
 * cannot be added without saying who may call it. A key below the route's scope
 * gets 403 with a JSON error naming the scope it lacks. docs/api.md has the same
 * table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/apikey.h"
#include "log.h"
#include "homing/journal.h"
#include "homing/service.h"
#include "homing/track.h"
#include "serve.h"
#include "ui.h"

#define ADMIN_LIST_DEFAULT 100
#define ADMIN_QUERY_MAX    1024
#define ADMIN_BARRIER_MS   2000 /* longest wait of a read for the journal to be stored */

/* docs/api/openapi.yaml as built in (scripts/embed_text.py, src/serve/meson.build). */
extern const char admin_openapi_yaml[];
extern const size_t admin_openapi_yaml_len;

static void send_text(h2o_req_t *req, int status, const char *reason, const char *type,
                      const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

/* Sends and releases j. */
static int send_json(h2o_req_t *req, int status, const char *reason, json_t *j)
{
    char *text = j ? homing_json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        send_text(req, 500, "Internal Server Error", "application/json",
                  H2O_STRLIT("{\"error\":\"out of memory\"}\n"));
        return 0;
    }
    size_t n = strlen(text);
    char *body = h2o_mem_alloc_pool(&req->pool, n + 1);
    memcpy(body, text, n);
    body[n] = '\n';
    free(text);
    send_text(req, status, reason, "application/json", body, n + 1);
    return 0;
}

static int send_error(h2o_req_t *req, int status, const char *reason, const char *msg)
{
    return send_json(req, status, reason, json_pack("{s:s}", "error", msg));
}

/* The scope of the request's active API key, or 0 without one. */
static int key_scope(struct worker *w, h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len < 7 || strncasecmp(v.base, "Bearer ", 7) != 0) return 0;
    uint8_t hash[32];
    if (homing_apikey_hash(v.base + 7, v.len - 7, hash) < 0) return 0;
    int scope = homing_store_api_key_check(w->store, hash);
    return scope > 0 ? scope : 0;
}

/* Reads ?after= and ?limit= from the query string. */
static int parse_paging(h2o_req_t *req, int64_t *after, size_t *limit)
{
    *after = 0;
    *limit = ADMIN_LIST_DEFAULT;
    if (req->query_at == SIZE_MAX) return 0;
    const char *q = req->path.base + req->query_at + 1;
    size_t n = req->path.len - req->query_at - 1;
    if (n > ADMIN_QUERY_MAX) return -EINVAL;
    char buf[ADMIN_QUERY_MAX + 1];
    memcpy(buf, q, n);
    buf[n] = '\0';
    char *save = NULL;
    for (char *kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = '\0';
        char *end;
        long long v = strtoll(eq + 1, &end, 10);
        if (*end || v < 0) return -EINVAL;
        if (strcmp(kv, "after") == 0) *after = v;
        if (strcmp(kv, "limit") == 0) {
            if (v < 1 || v > HOMING_STORE_LIST_MAX) return -EINVAL;
            *limit = (size_t)v;
        }
    }
    return 0;
}

static int api_message_add(struct worker *w, h2o_req_t *req)
{
    struct serve *s = w->serve;
    /* One validation for every front end (homing/service.h): the API only
     * turns its JSON into a request and the reason into a 400. */
    struct homing_message_request rq;
    void *hold = NULL;
    char err[HOMING_MESSAGE_ERR_MAX];
    int r =
        homing_message_request_json(req->entity.base, req->entity.len, &rq, &hold, err, sizeof err);
    if (r == -ENOMEM) return send_error(req, 500, "Internal Server Error", "out of memory");
    if (r < 0) return send_error(req, 400, "Bad Request", err);
    uint64_t id;
    r = homing_message_register(w->store, &rq, &id, err, sizeof err);
    int tracking = rq.tracking;
    homing_message_json_free(hold);
    if (r == -EINVAL || r == -E2BIG) return send_error(req, 400, "Bad Request", err);
    if (r < 0) {
        log_error("api: %s", err);
        return send_error(req, 500, "Internal Server Error", "cannot register the message");
    }
    struct homing_message *m;
    if (homing_store_message_get(w->store, id, &m) < 0)
        return send_error(req, 500, "Internal Server Error", "cannot read the message back");
    char ids[HOMING_ID_STR_MAX];
    homing_id_format(id, ids);
    json_t *out =
        json_pack("{s:s, s:s, s:[]}", "id", ids, "mode",
                  m->mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient", "copies");
    json_t *copies = json_object_get(out, "copies");
    json_object_set_new(out, "tracking", json_string(homing_tracking_name(tracking)));
    if (tracking == HOMING_TRACKING_OFF || tracking == HOMING_TRACKING_DELIVERY)
        ; /* nothing to put in the copies: they go out untracked */
    else if (m->mode == HOMING_MODE_PER_MESSAGE || tracking == HOMING_TRACKING_ANONYMOUS)
        json_array_append_new(
            copies, homing_copy_json(s->base_url, s->domain_base_urls, s->keyring, m, 0, NULL));
    else
        for (size_t i = 0; i < m->n_recipients; i++)
            json_array_append_new(copies, homing_copy_json(s->base_url, s->domain_base_urls,
                                                           s->keyring, m, m->recipients[i].index,
                                                           m->recipients[i].address));
    homing_message_free(m);
    return send_json(req, 201, "Created", out);
}

static json_t *time_or_null(int64_t us)
{
    if (!us) return json_null();
    char t[HOMING_TIME_STR_MAX];
    homing_time_format(us, t);
    return json_string(t);
}

static int api_message_get(struct worker *w, h2o_req_t *req, uint64_t id)
{
    struct homing_message *m;
    int r = homing_store_message_get(w->store, id, &m);
    if (r == -ENOENT) return send_error(req, 404, "Not Found", "no such message");
    if (r < 0) return send_error(req, 500, "Internal Server Error", "store error");
    struct homing_report_row *rows = NULL;
    size_t nrows = 0;
    homing_store_report_visible(w->store, id, &rows, &nrows); /* as the modes allow */
    char ids[HOMING_ID_STR_MAX];
    homing_id_format(m->id, ids);
    json_t *o =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:o}", "id", ids, "message_id", m->message_id,
                  "subject", m->subject, "from", m->sender, "campaign", m->campaign, "mode",
                  m->mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient", "created",
                  time_or_null(m->created_us));
    json_t *rs = json_array();
    for (size_t i = 0; i < m->n_recipients; i++) {
        const struct homing_recipient *rc = &m->recipients[i];
        json_t *ro = json_pack("{s:I, s:s, s:s, s:o}", "index", (json_int_t)rc->index, "address",
                               rc->address, "state", rc->state ? rc->state : "registered",
                               "state_time", time_or_null(rc->state_us));
        for (size_t j = 0; j < nrows; j++) {
            if (rows[j].recipient != rc->index) continue;
            json_object_set_new(ro, "tracking",
                                json_string(homing_tracking_name(rows[j].tracking)));
            if (rows[j].tracking == HOMING_TRACKING_OFF) {
                json_object_set_new(ro, "state", json_null());
                json_object_set_new(ro, "state_time", json_null());
            }
            if (rows[j].tracking != HOMING_TRACKING_INDIVIDUAL)
                continue; /* no per-recipient data */
            json_object_set_new(ro, "opens", json_integer(rows[j].opens));
            json_object_set_new(ro, "first_open", time_or_null(rows[j].first_open_us));
            json_object_set_new(ro, "last_open", time_or_null(rows[j].last_open_us));
            json_object_set_new(ro, "clicks", json_integer(rows[j].clicks));
            json_object_set_new(ro, "first_click", time_or_null(rows[j].first_click_us));
            json_object_set_new(ro, "last_click", time_or_null(rows[j].last_click_us));
            json_object_set_new(ro, "probes", json_integer(rows[j].probes));
        }
        json_array_append_new(rs, ro);
    }
    /* Who opened it (lib/reader/who.c): verdict classes, readers, links and
     * documents, merged only into recipients whose counts the tracking mode
     * lets this API show (they have "opens"); the totals are counts only. */
    void *who = NULL;
    if (homing_store_who_json(w->store, id, &who) == 0) {
        size_t wi, wk;
        json_t *wro, *wwo;
        json_array_foreach(rs, wi, wro)
        {
            if (!json_object_get(wro, "opens")) continue;
            json_array_foreach(json_object_get(who, "recipients"), wk, wwo)
            {
                if (json_equal(json_object_get(wwo, "recipient"), json_object_get(wro, "index")))
                    json_object_update_missing(wro, wwo);
            }
        }
        json_object_set(o, "totals", json_object_get(who, "totals"));
        json_decref(who);
    }
    json_object_set_new(o, "recipients", rs);
    int mm, *modes = NULL;
    size_t nm = 0;
    if (homing_store_tracking_get(w->store, id, &mm, &modes, &nm) == 0)
        json_object_set_new(o, "tracking", json_string(homing_tracking_name(mm)));
    free(modes);
    for (size_t j = 0; j < nrows; j++) {
        if (rows[j].recipient != 0) continue;
        /* per-message tokens and anonymous recipients: counts without a recipient */
        json_object_set_new(
            o, "unattributed",
            json_pack("{s:I, s:o, s:o, s:I, s:o, s:o, s:I}", "opens", (json_int_t)rows[j].opens,
                      "first_open", time_or_null(rows[j].first_open_us), "last_open",
                      time_or_null(rows[j].last_open_us), "clicks", (json_int_t)rows[j].clicks,
                      "first_click", time_or_null(rows[j].first_click_us), "last_click",
                      time_or_null(rows[j].last_click_us), "probes", (json_int_t)rows[j].probes));
    }
    json_t *ls = json_array();
    for (size_t i = 0; i < m->n_links; i++)
        json_array_append_new(ls, json_pack("{s:I, s:s}", "index", (json_int_t)m->links[i].index,
                                            "url", m->links[i].url));
    json_object_set_new(o, "links", ls);
    homing_report_free(rows, nrows);
    homing_message_free(m);
    return send_json(req, 200, "OK", o);
}

static int api_events(struct worker *w, h2o_req_t *req, uint64_t message)
{
    int64_t after;
    size_t limit;
    if (parse_paging(req, &after, &limit) < 0)
        return send_error(req, 400, "Bad Request", "after and limit must be non-negative integers");
    struct homing_event *evs = NULL;
    size_t n = 0;
    if (homing_store_events_list(w->store, message, after, limit, &evs, &n) < 0 ||
        homing_store_events_visible(w->store, evs, n) < 0) { /* as the modes allow */
        homing_events_free(evs, n);
        return send_error(req, 500, "Internal Server Error", "store error");
    }
    json_t *arr = json_array();
    int64_t next = after;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, homing_event_json(&evs[i]));
        next = evs[i].id;
    }
    homing_events_free(evs, n);
    return send_json(req, 200, "OK",
                     json_pack("{s:o, s:I}", "events", arr, "next", (json_int_t)next));
}

/* GET /api/v1/api-keys: every key's name, scope and times; never a key or
 * its hash. */
static int api_keys_list(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    struct homing_api_key_info *k;
    size_t n;
    if (homing_store_api_key_list(w->store, &k, &n) < 0)
        return send_error(req, 500, "Internal Server Error", "store error");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s?, s:o, s:o}", "id",
                                             (json_int_t)k[i].id, "name", k[i].name, "scope",
                                             homing_apikey_scope_name(k[i].scope), "created",
                                             time_or_null(k[i].created_us), "revoked",
                                             time_or_null(k[i].revoked_us)));
    homing_api_keys_free(k, n);
    return send_json(req, 200, "OK", json_pack("{s:o}", "api_keys", arr));
}

static int api_all_events(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    return api_events(w, req, 0);
}

static int api_stream(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    int r = stream_start(w, req);
    if (r == -EBUSY) return send_error(req, 503, "Service Unavailable", "too many streams open");
    if (r < 0)
        return send_error(req, 400, "Bad Request", "Last-Event-ID must be a notification id");
    return 0;
}

/* The filters of the query string, parsed by the library (one validation
 * for every front end); a 400 naming the parameter otherwise. */
static int query_filters(h2o_req_t *req, struct homing_message_query *q,
                         struct homing_query_text *text)
{
    const char *qs = req->query_at == SIZE_MAX ? "" : req->path.base + req->query_at + 1;
    size_t n = req->query_at == SIZE_MAX ? 0 : req->path.len - req->query_at - 1;
    char err[256];
    if (homing_message_query_parse(qs, n, q, text, err, sizeof err) < 0)
        return send_error(req, 400, "Bad Request", err), -1;
    return 0;
}

/* GET /api/v1/messages: messages by campaign, time and state, newest first,
 * a page at a time ("next" is the cursor of the following page). */
static int api_messages_list(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    struct homing_message_query q;
    struct homing_query_text text;
    if (query_filters(req, &q, &text) < 0) return 0;
    struct homing_message *m = NULL;
    size_t n = 0;
    if (homing_store_message_query(w->store, &q, &m, &n) < 0)
        return send_error(req, 500, "Internal Server Error", "store error");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char hex[HOMING_ID_STR_MAX];
        homing_id_format(m[i].id, hex);
        json_array_append_new(arr, json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:I}", "id", hex,
                                             "message_id", m[i].message_id, "subject", m[i].subject,
                                             "from", m[i].sender, "campaign", m[i].campaign,
                                             "created", time_or_null(m[i].created_us), "recipients",
                                             (json_int_t)m[i].recipient_count));
    }
    json_t *next = json_null();
    if (n == q.limit) {
        char hex[HOMING_ID_STR_MAX], cur[64];
        homing_id_format(m[n - 1].id, hex);
        snprintf(cur, sizeof cur, "%lld-%s", (long long)m[n - 1].created_us, hex);
        next = json_string(cur);
    }
    homing_messages_free(m, n);
    return send_json(req, 200, "OK", json_pack("{s:o, s:o}", "messages", arr, "next", next));
}

/* GET /api/v1/campaigns */
static int api_campaigns(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    struct homing_campaign *c = NULL;
    size_t n = 0;
    if (homing_store_campaigns_list(w->store, &c, &n) < 0)
        return send_error(req, 500, "Internal Server Error", "store error");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:o, s:o}", "name", c[i].name,
                                             "messages", (json_int_t)c[i].messages, "recipients",
                                             (json_int_t)c[i].recipients, "first",
                                             time_or_null(c[i].first_us), "last",
                                             time_or_null(c[i].last_us)));
    free(c);
    return send_json(req, 200, "OK", json_pack("{s:o}", "campaigns", arr));
}

/* GET /api/v1/stats: the figures of the messages the filters pick, from the
 * counters (docs/reports.md, "Campaigns and rates"). */
static int api_stats(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    struct homing_message_query q;
    struct homing_query_text text;
    if (query_filters(req, &q, &text) < 0) return 0;
    struct homing_stats st;
    if (homing_store_stats(w->store, &q, &st) < 0)
        return send_error(req, 500, "Internal Server Error", "store error");
    json_t *o = homing_stats_json(&st);
    homing_stats_clear(&st);
    if (!o) return send_error(req, 500, "Internal Server Error", "out of memory");
    return send_json(req, 200, "OK", o);
}

/* GET /api/v1/stats/series?bucket=hour|day */
static int api_stats_series(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    struct homing_message_query q;
    struct homing_query_text text;
    if (query_filters(req, &q, &text) < 0) return 0;
    int64_t bucket = text.bucket_us ? text.bucket_us : 3600000000LL;
    struct homing_stats_point *p = NULL;
    size_t n = 0;
    if (homing_store_stats_series(w->store, &q, bucket, &p, &n) < 0)
        return send_error(req, 500, "Internal Server Error", "store error");
    json_t *o = homing_stats_series_json(p, n, bucket);
    free(p);
    if (!o) return send_error(req, 500, "Internal Server Error", "out of memory");
    return send_json(req, 200, "OK", o);
}

static int api_message_add_route(struct worker *w, h2o_req_t *req, uint64_t unused)
{
    (void)unused;
    return api_message_add(w, req);
}

/* The API's routes: path under /api/v1/ ("{id}" stands for one 16-hex-digit
 * message id), method, the least key scope allowed to call it, handler (given
 * the parsed id, 0 for routes without one). A new route goes here, and in the
 * table of docs/api.md, with its scope. */
struct admin_route {
    const char *path;
    const char *method;
    int scope;
    int (*handler)(struct worker *w, h2o_req_t *req, uint64_t id);
};
static const struct admin_route admin_routes[] = {
    {"events", "GET", HOMING_APIKEY_SCOPE_READ, api_all_events},
    {"stream", "GET", HOMING_APIKEY_SCOPE_READ, api_stream},
    {"messages/{id}", "GET", HOMING_APIKEY_SCOPE_READ, api_message_get},
    {"messages/{id}/events", "GET", HOMING_APIKEY_SCOPE_READ, api_events},
    {"messages", "POST", HOMING_APIKEY_SCOPE_WRITE, api_message_add_route},
    {"messages", "GET", HOMING_APIKEY_SCOPE_READ, api_messages_list},
    {"campaigns", "GET", HOMING_APIKEY_SCOPE_READ, api_campaigns},
    {"stats", "GET", HOMING_APIKEY_SCOPE_READ, api_stats},
    {"stats/series", "GET", HOMING_APIKEY_SCOPE_READ, api_stats_series},
    {"api-keys", "GET", HOMING_APIKEY_SCOPE_ADMIN, api_keys_list},
};
#define ADMIN_ROUTES (sizeof admin_routes / sizeof *admin_routes)

/* Whether rest (the path after /api/v1/) matches pattern; the text standing
 * for "{id}" is copied into id (HOMING_ID_STR_MAX), unchecked: a 16-byte
 * segment that is not an id is the handler's 404, as any unknown id. */
static int route_match(const char *pattern, const char *rest, size_t rlen, char *id)
{
    static const char idp[] = "{id}";
    const char *at = strstr(pattern, idp);
    if (!at) return strlen(pattern) == rlen && memcmp(pattern, rest, rlen) == 0;
    size_t pre = (size_t)(at - pattern), post = strlen(at + sizeof idp - 1);
    if (rlen != pre + 16 + post) return 0;
    if (memcmp(rest, pattern, pre) != 0 || memcmp(rest + pre + 16, at + sizeof idp - 1, post))
        return 0;
    if (memchr(rest + pre, '/', 16)) return 0;
    memcpy(id, rest + pre, 16);
    id[16] = '\0';
    return 1;
}

static int path_is(h2o_iovec_t p, const char *s)
{
    return p.len == strlen(s) && memcmp(p.base, s, p.len) == 0;
}

static int on_admin(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, ctx, req->conn->ctx);
    struct serve *s = w->serve;
    h2o_iovec_t path =
        h2o_iovec_init(req->path.base, req->query_at == SIZE_MAX ? req->path.len : req->query_at);
    if (path_is(path, "/healthz")) {
        send_text(req, 200, "OK", "text/plain", H2O_STRLIT("ok\n"));
        return 0;
    }
    if (path_is(path, "/metrics")) {
        struct homing_buf b;
        homing_buf_init(&b, 1 << 20);
        /* Read now, not at the ingester's last pass: a client that got its
         * answer and then sees 0 here knows the hit is in the store. */
        atomic_store(&s->metrics.queue_depth, (long long)homing_journal_backlog(s->journal));
        metrics_render(&s->metrics, &b);
        send_text(req, 200, "OK", "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
        homing_buf_free(&b);
        return 0;
    }
    /* The API's description needs no key: it holds nothing but the routes. */
    if (path_is(path, "/api/v1/openapi.yaml")) {
        if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
            !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
            return send_error(req, 405, "Method Not Allowed", "use GET");
        send_text(req, 200, "OK", "application/yaml", admin_openapi_yaml, admin_openapi_yaml_len);
        return 0;
    }
    if (path.len >= 3 && memcmp(path.base, "/ui", 3) == 0 && (path.len == 3 || path.base[3] == '/'))
        return ui_handle(w, req, path);
    static const char api[] = "/api/v1/";
    if (path.len < sizeof api - 1 || memcmp(path.base, api, sizeof api - 1) != 0)
        return send_error(req, 404, "Not Found", "no such endpoint");
    atomic_fetch_add(&s->metrics.api_requests, 1);
    int scope = key_scope(w, req);
    if (!scope) {
        atomic_fetch_add(&s->metrics.api_unauthorized, 1);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("www-authenticate"), 0,
                              NULL, H2O_STRLIT("Bearer realm=\"homing\""));
        return send_error(req, 401, "Unauthorized", "a valid API key is required");
    }
    const char *rest = path.base + sizeof api - 1;
    size_t rlen = path.len - (sizeof api - 1);
    const struct admin_route *route = NULL, *other_method = NULL;
    char ids[HOMING_ID_STR_MAX] = "";
    for (size_t i = 0; i < ADMIN_ROUTES && !route; i++) {
        if (!route_match(admin_routes[i].path, rest, rlen, ids)) continue;
        if (h2o_memis(req->method.base, req->method.len, admin_routes[i].method,
                      strlen(admin_routes[i].method)))
            route = &admin_routes[i];
        else
            other_method = &admin_routes[i];
    }
    if (!route && other_method) {
        char msg[32];
        snprintf(msg, sizeof msg, "use %s", other_method->method);
        return send_error(req, 405, "Method Not Allowed", msg);
    }
    if (!route) return send_error(req, 404, "Not Found", "no such endpoint");
    if (scope < route->scope) {
        const char *need = homing_apikey_scope_name(route->scope);
        char msg[96];
        snprintf(msg, sizeof msg, "this API key lacks the %s scope (it has %s)", need,
                 homing_apikey_scope_name(scope));
        return send_json(req, 403, "Forbidden",
                         json_pack("{s:s, s:s, s:s}", "error", msg, "required_scope", need, "scope",
                                   homing_apikey_scope_name(scope)));
    }
    uint64_t id = 0;
    if (ids[0] && homing_id_parse(ids, &id) < 0)
        return send_error(req, 404, "Not Found", "no such message");
    /* Hits reach the store through the journal a few milliseconds after their
     * answer: a read waits (briefly, this listener is for a few consumers) until
     * every hit answered before it is stored, so the API never lags its own
     * answers. Streams follow the store anyway. */
    if (strcmp(route->method, "GET") == 0 &&
        homing_journal_barrier(s->journal, ADMIN_BARRIER_MS) < 0)
        log_warn("api: hits answered %d ms ago are not in the store yet", ADMIN_BARRIER_MS);
    return route->handler(w, req, id);
}

void admin_register(struct serve *s, h2o_hostconf_t *host)
{
    (void)s;
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_admin;
}
