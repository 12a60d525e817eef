/*
 * admin.c: the private listener: the JSON API under /api/v1/ (bearer API keys,
 * checked against the hashes in the store), /metrics (Prometheus text) and
 * /healthz. Runs on its own loop thread with its own store handle, so slow API
 * calls never delay tracking hits.
 *
 *   POST /api/v1/messages                 register a message; returns its URLs
 *   GET  /api/v1/messages/ID              message, recipients and their state
 *   GET  /api/v1/messages/ID/events       its events   (?after=CURSOR&limit=N)
 *   GET  /api/v1/events                   all events   (?after=CURSOR&limit=N)
 *   GET  /api/v1/stream                   notifications as Server-Sent Events (notify.c)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/apikey.h"
#include "log.h"
#include "homing/journal.h"
#include "homing/track.h"
#include "serve.h"

#define ADMIN_LIST_DEFAULT 100
#define ADMIN_QUERY_MAX    1024
#define ADMIN_BARRIER_MS   2000 /* longest wait of a read for the journal to be stored */

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
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
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

static int authorized(struct worker *w, h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len < 7 || strncasecmp(v.base, "Bearer ", 7) != 0) return 0;
    uint8_t hash[32];
    if (homing_apikey_hash(v.base + 7, v.len - 7, hash) < 0) return 0;
    return homing_store_api_key_check(w->store, hash) == 0;
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
    if (!req->entity.base) return send_error(req, 400, "Bad Request", "a JSON body is required");
    json_error_t jerr;
    json_t *body = json_loadb(req->entity.base, req->entity.len, 0, &jerr);
    if (!body || !json_is_object(body)) {
        json_decref(body);
        return send_error(req, 400, "Bad Request", "body is not a JSON object");
    }
    json_t *rcpts = json_object_get(body, "recipients"), *links = json_object_get(body, "links");
    const char *mode = json_string_value(json_object_get(body, "mode"));
    json_t *jtracking = json_object_get(body, "tracking");
    int tracking = jtracking ? homing_tracking_parse(json_string_value(jtracking))
                             : HOMING_TRACKING_INDIVIDUAL;
    struct homing_message_spec spec = {
        .message_id = json_string_value(json_object_get(body, "message_id")),
        .subject = json_string_value(json_object_get(body, "subject")),
        .sender = json_string_value(json_object_get(body, "from")),
        .mode = mode && strcmp(mode, "per-message") == 0 ? HOMING_MODE_PER_MESSAGE
                                                         : HOMING_MODE_PER_RECIPIENT,
    };
    const char *err = NULL;
    if (mode && strcmp(mode, "per-message") && strcmp(mode, "per-recipient"))
        err = "mode must be per-recipient or per-message";
    else if (tracking < 0)
        err = "tracking must be off, delivery, anonymous or individual";
    else if (!json_is_array(rcpts) || json_array_size(rcpts) == 0)
        err = "recipients must be a non-empty array of addresses";
    else if (links && !json_is_array(links))
        err = "links must be an array of URLs";
    else if (json_array_size(rcpts) > HOMING_STORE_RECIPIENTS_MAX ||
             json_array_size(links) > HOMING_STORE_LINKS_MAX)
        err = "too many recipients or links";
    size_t nr = json_array_size(rcpts), nl = json_array_size(links);
    const char **rv = calloc(nr + 1, sizeof *rv), **lv = calloc(nl + 1, sizeof *lv);
    for (size_t i = 0; !err && i < nr; i++)
        if (!(rv[i] = json_string_value(json_array_get(rcpts, i))) || !strchr(rv[i], '@'))
            err = "each recipient must be an address";
    for (size_t i = 0; !err && i < nl; i++) {
        lv[i] = json_string_value(json_array_get(links, i));
        if (!lv[i] || (strncasecmp(lv[i], "http://", 7) && strncasecmp(lv[i], "https://", 8)))
            err = "each link must be an http or https URL";
    }
    if (err) {
        free(rv);
        free(lv);
        json_decref(body);
        return send_error(req, 400, "Bad Request", err);
    }
    spec.recipients = rv;
    spec.n_recipients = nr;
    spec.links = lv;
    spec.n_links = nl;
    uint64_t id;
    int r = homing_store_message_add(w->store, &spec, &id);
    if (r < 0) {
        free(rv);
        free(lv);
        json_decref(body);
        log_error("api: cannot register message: %s", homing_store_errmsg(w->store));
        return send_error(req, 500, "Internal Server Error", "cannot register the message");
    }
    free(rv);
    free(lv);
    json_decref(body);
    if (tracking != HOMING_TRACKING_INDIVIDUAL &&
        homing_store_tracking_set(w->store, id, 0, tracking) < 0) {
        log_error("api: cannot set the tracking mode: %s", homing_store_errmsg(w->store));
        return send_error(req, 500, "Internal Server Error", "cannot set the tracking mode");
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
        json_array_append_new(copies, homing_copy_json(s->base_url, s->keyring, m, 0, NULL));
    else
        for (size_t i = 0; i < m->n_recipients; i++)
            json_array_append_new(copies, homing_copy_json(s->base_url, s->keyring, m,
                                                           m->recipients[i].index,
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
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:o}", "id", ids, "message_id",
                          m->message_id, "subject", m->subject, "from", m->sender, "mode",
                          m->mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient",
                          "created", time_or_null(m->created_us));
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
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    int post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
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
    static const char api[] = "/api/v1/";
    if (path.len < sizeof api - 1 || memcmp(path.base, api, sizeof api - 1) != 0)
        return send_error(req, 404, "Not Found", "no such endpoint");
    atomic_fetch_add(&s->metrics.api_requests, 1);
    if (!authorized(w, req)) {
        atomic_fetch_add(&s->metrics.api_unauthorized, 1);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("www-authenticate"), 0,
                              NULL, H2O_STRLIT("Bearer realm=\"homing\""));
        return send_error(req, 401, "Unauthorized", "a valid API key is required");
    }
    const char *rest = path.base + sizeof api - 1;
    size_t rlen = path.len - (sizeof api - 1);
    /* Hits reach the store through the journal a few milliseconds after their
     * answer: a read waits (briefly, this listener is for a few consumers) until
     * every hit answered before it is stored, so the API never lags its own
     * answers. Streams follow the store anyway. */
    if (get && homing_journal_barrier(s->journal, ADMIN_BARRIER_MS) < 0)
        log_warn("api: hits answered %d ms ago are not in the store yet", ADMIN_BARRIER_MS);
    if (rlen == 6 && memcmp(rest, "events", 6) == 0) {
        if (!get) return send_error(req, 405, "Method Not Allowed", "use GET");
        return api_events(w, req, 0);
    }
    if (rlen == 6 && memcmp(rest, "stream", 6) == 0) {
        if (!get) return send_error(req, 405, "Method Not Allowed", "use GET");
        int r = stream_start(w, req);
        if (r == -EBUSY)
            return send_error(req, 503, "Service Unavailable", "too many streams open");
        if (r < 0)
            return send_error(req, 400, "Bad Request", "Last-Event-ID must be a notification id");
        return 0;
    }
    if (rlen == 8 && memcmp(rest, "messages", 8) == 0) {
        if (!post) return send_error(req, 405, "Method Not Allowed", "use POST");
        return api_message_add(w, req);
    }
    if (rlen > 9 && memcmp(rest, "messages/", 9) == 0) {
        const char *idp = rest + 9;
        size_t idlen = rlen - 9;
        const char *slash = memchr(idp, '/', idlen);
        size_t n = slash ? (size_t)(slash - idp) : idlen;
        char ids[HOMING_ID_STR_MAX];
        uint64_t id;
        if (n != 16) return send_error(req, 404, "Not Found", "no such message");
        memcpy(ids, idp, 16);
        ids[16] = '\0';
        if (homing_id_parse(ids, &id) < 0)
            return send_error(req, 404, "Not Found", "no such message");
        if (!get) return send_error(req, 405, "Method Not Allowed", "use GET");
        if (!slash) return api_message_get(w, req, id);
        if (idlen - n == 7 && memcmp(slash, "/events", 7) == 0) return api_events(w, req, id);
    }
    return send_error(req, 404, "Not Found", "no such endpoint");
}

void admin_register(struct serve *s, h2o_hostconf_t *host)
{
    (void)s;
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_admin;
}
