/*
 * ui.c: the dashboard at /ui/ on the admin listener (docs/dashboard.md):
 * server-rendered pages built from the same structures as the API
 * (homing_stats_json, homing_store_message_query), so what a page shows and
 * what `homing stats --json` prints cannot differ.
 *
 * Sign-in: an API key posted once becomes a session cookie (HttpOnly,
 * SameSite=Strict, Path=/ui/, UI_SESSION_TTL_S); the key itself is never
 * kept. Every state-changing form carries the session's CSRF token, and the
 * sign-in form a token of its own (double submit: cookie and field). Every
 * answer carries a Content-Security-Policy that allows no script, no inline
 * style and no load from elsewhere; every outside text goes out through
 * homing_buf_html.
 *
 * Threads: only the admin listener's loop thread runs this file, so the
 * session table needs no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "homing/apikey.h"
#include "homing/service.h"
#include "serve.h"
#include "ui.h"
#include "ui_int.h"

/* The dashboard's own script (/ui/live.js) is its only one: no inline script,
 * no eval, nothing from another origin; it may only ask this listener. */
static const char ui_csp[] = "default-src 'none'; script-src 'self'; connect-src 'self'; "
                             "style-src 'self'; img-src 'self'; form-action 'self'; "
                             "frame-ancestors 'none'; base-uri 'none'";

static struct ui_session ui_sessions[UI_SESSIONS_MAX];

extern const char ui_live_js[]; /* src/serve/ui_assets/live.js, embedded at build time */
extern const size_t ui_live_js_len;

static void ui_token(char out[UI_TOKEN_TEXT])
{
    uint8_t raw[UI_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    homing_b64url_encode(raw, sizeof raw, out);
}

static void ui_hash(const char *id, size_t n, unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)id, n, NULL, 0);
}

/* The value of cookie name in the request, or an empty slice. */
static h2o_iovec_t ui_cookie(h2o_req_t *req, const char *name)
{
    size_t nl = strlen(name);
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) != -1;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        for (size_t p = 0; p < v.len;) {
            while (p < v.len && (v.base[p] == ' ' || v.base[p] == ';')) p++;
            size_t e = p;
            while (e < v.len && v.base[e] != ';') e++;
            if (e - p > nl && memcmp(v.base + p, name, nl) == 0 && v.base[p + nl] == '=')
                return h2o_iovec_init(v.base + p + nl + 1, e - p - nl - 1);
            p = e;
        }
    }
    return h2o_iovec_init(NULL, 0);
}

static struct ui_session *ui_session_of(h2o_req_t *req)
{
    h2o_iovec_t c = ui_cookie(req, UI_COOKIE);
    if (c.len == 0 || c.len >= UI_TOKEN_TEXT) return NULL;
    unsigned char h[crypto_generichash_BYTES];
    ui_hash(c.base, c.len, h);
    time_t now = time(NULL);
    for (size_t i = 0; i < UI_SESSIONS_MAX; i++) {
        struct ui_session *s = &ui_sessions[i];
        if (s->expires > now && sodium_memcmp(s->id_hash, h, sizeof h) == 0) return s;
    }
    return NULL;
}

void ui_headers(h2o_req_t *req)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0,
                          NULL, ui_csp, strlen(ui_csp));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0,
                          NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL,
                          H2O_STRLIT("DENY"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
}

int ui_send(h2o_req_t *req, int status, const char *reason, const char *type, struct homing_buf *b)
{
    req->res.status = status;
    req->res.reason = reason;
    ui_headers(req);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    size_t n = b->len;
    char *body = h2o_mem_alloc_pool(&req->pool, n ? n : 1);
    if (n) memcpy(body, b->data, n);
    homing_buf_free(b);
    req->res.content_length = n;
    h2o_send_inline(req, body, n);
    return 0;
}

static int ui_redirect(h2o_req_t *req, const char *to)
{
    req->res.status = 303;
    req->res.reason = "See Other";
    ui_headers(req);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, to, strlen(to));
    req->res.content_length = 0;
    h2o_send_inline(req, "", 0);
    return 0;
}

void ui_head(struct homing_buf *b, const char *title, const struct ui_session *s)
{
    homing_buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width\">"
                       "<link rel=\"stylesheet\" href=\"/ui/style.css\"><title>");
    homing_buf_html(b, title);
    homing_buf_puts(b, " · homing</title></head><body><header><nav aria-label=\"main\">"
                       "<a href=\"/ui/\">Campaigns</a> <a href=\"/ui/messages\">Messages</a> "
                       "<a href=\"/ui/live\">Live</a> <a href=\"/ui/webhooks\">Webhooks</a> "
                       "<a href=\"/ui/documents\">Documents</a>");
    if (s) {
        homing_buf_puts(b, "<form method=\"post\" action=\"/ui/logout\" class=\"out\">"
                           "<input type=\"hidden\" name=\"csrf\" value=\"");
        homing_buf_html(b, s->csrf);
        homing_buf_puts(b, "\"><button type=\"submit\">Sign out</button></form>");
    }
    homing_buf_puts(b, "</nav></header><main><h1>");
    homing_buf_html(b, title);
    homing_buf_puts(b, "</h1>\n");
}

void ui_foot(struct homing_buf *b)
{
    homing_buf_puts(b, "</main></body></html>\n");
}

int ui_page(h2o_req_t *req, struct homing_buf *b)
{
    ui_foot(b);
    return ui_send(req, 200, "OK", "text/html; charset=utf-8", b);
}

/* ---- sign-in ---- */

/* The sign-in form; with link (a one-time link's token, from ?link=), a
 * button that redeems it instead of the key field: a GET never signs in, so a
 * link previewer that fetches the URL uses nothing up. */
static int ui_login_form(h2o_req_t *req, const char *why, const char *link)
{
    char tok[UI_TOKEN_TEXT];
    ui_token(tok);
    char cookie[128];
    snprintf(cookie, sizeof cookie, UI_LOGIN_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/ui/",
             tok);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
                   h2o_strdup(&req->pool, cookie, SIZE_MAX).base, strlen(cookie));
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, "Sign in", NULL);
    if (why) {
        homing_buf_puts(&b, "<p class=\"err\" role=\"alert\">");
        homing_buf_html(&b, why);
        homing_buf_puts(&b, "</p>");
    }
    homing_buf_puts(&b, "<form method=\"post\" action=\"/ui/login\"><input type=\"hidden\" "
                        "name=\"token\" value=\"");
    homing_buf_html(&b, tok);
    if (link) {
        homing_buf_puts(&b, "\"><input type=\"hidden\" name=\"link\" value=\"");
        homing_buf_html(&b, link);
        homing_buf_puts(&b, "\"><button type=\"submit\">Sign in with this one-time link</button>"
                            "</form><p>The link from <code>homing ui-link</code> (or <code>make "
                            "run</code>) works once.</p>");
        ui_foot(&b);
        return ui_send(req, 200, "OK", "text/html; charset=utf-8", &b);
    }
    homing_buf_puts(&b, "\"><label for=\"key\">API key</label> <input id=\"key\" name=\"key\" "
                        "type=\"password\" autocomplete=\"off\" required> <button "
                        "type=\"submit\">Sign in</button></form><p>An API key of any scope "
                        "(<code>homing api-keys create NAME</code>); it is not kept: the "
                        "browser gets a session of its own.</p>");
    ui_foot(&b);
    return ui_send(req, why ? 403 : 200, why ? "Forbidden" : "OK", "text/html; charset=utf-8", &b);
}

static int ui_login(struct worker *w, h2o_req_t *req)
{
    if (req->entity.len > UI_FORM_MAX) return ui_login_form(req, "the form is too large", NULL);
    char key[512], tok[UI_TOKEN_TEXT];
    h2o_iovec_t c = ui_cookie(req, UI_LOGIN_COOKIE);
    if (homing_form_get(req->entity.base, req->entity.len, "token", tok, sizeof tok) < 0 ||
        c.len != strlen(tok) || c.len == 0 || sodium_memcmp(c.base, tok, c.len) != 0)
        return ui_login_form(req, "the sign-in form expired: try again", NULL);
    uint8_t hash[32];
    int scope = 0;
    char link[HOMING_UI_LINK_MAX];
    if (homing_form_get(req->entity.base, req->entity.len, "link", link, sizeof link) > 0) {
        if (homing_ui_link_redeem(w->store, link) < 0)
            return ui_login_form(req,
                                 "that sign-in link was used, replaced or has expired: run "
                                 "homing ui-link for a new one, or sign in with an API key",
                                 NULL);
        scope = HOMING_APIKEY_SCOPE_READ;
    } else if (homing_form_get(req->entity.base, req->entity.len, "key", key, sizeof key) > 0 &&
               homing_apikey_hash(key, strlen(key), hash) == 0)
        scope = homing_store_api_key_check(w->store, hash);
    sodium_memzero(key, sizeof key);
    if (scope <= 0) return ui_login_form(req, "that is not a valid API key", NULL);
    /* a free or expired slot, else the one that expires first */
    time_t now = time(NULL);
    struct ui_session *s = &ui_sessions[0];
    for (size_t i = 0; i < UI_SESSIONS_MAX; i++) {
        if (ui_sessions[i].expires <= now) {
            s = &ui_sessions[i];
            break;
        }
        if (ui_sessions[i].expires < s->expires) s = &ui_sessions[i];
    }
    char id[UI_TOKEN_TEXT];
    ui_token(id);
    ui_hash(id, strlen(id), s->id_hash);
    ui_token(s->csrf);
    s->scope = scope;
    s->expires = now + UI_SESSION_TTL_S;
    char cookie[160];
    /* Not Secure: the admin listener speaks no TLS (keep it on loopback, or
     * put a TLS proxy in front, which should add Secure: docs/dashboard.md). */
    snprintf(cookie, sizeof cookie,
             UI_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/ui/; Max-Age=%d", id,
             UI_SESSION_TTL_S);
    sodium_memzero(id, sizeof id);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
                   h2o_strdup(&req->pool, cookie, SIZE_MAX).base, strlen(cookie));
    return ui_redirect(req, "/ui/");
}

static int ui_logout(h2o_req_t *req, struct ui_session *s)
{
    memset(s, 0, sizeof *s);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
                   H2O_STRLIT(UI_COOKIE "=; HttpOnly; SameSite=Strict; Path=/ui/; Max-Age=0"));
    return ui_redirect(req, "/ui/login");
}

/* ---- pages ---- */

void ui_num(struct homing_buf *b, json_t *v)
{
    if (json_is_integer(v))
        homing_buf_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        homing_buf_printf(b, "%.1f%%", json_real_value(v) * 100.0);
    else
        homing_buf_puts(b, "–");
}

/* A row of a figure in the classes the view shows (human only by default). */
static void ui_class_row(struct homing_buf *b, const char *label, json_t *o, int all)
{
    homing_buf_puts(b, "<tr><th scope=\"row\">");
    homing_buf_html(b, label);
    homing_buf_puts(b, "</th><td>");
    ui_num(b, json_object_get(o, "human"));
    if (all) {
        homing_buf_puts(b, "</td><td>");
        ui_num(b, json_object_get(o, "machine"));
        homing_buf_puts(b, "</td><td>");
        ui_num(b, json_object_get(o, "unknown"));
        homing_buf_puts(b, "</td><td>");
        ui_num(b, json_object_get(o, "all"));
    }
    homing_buf_puts(b, "</td></tr>\n");
}

/* Hits per day as bars, drawn here: no script, no chart library. */
static void ui_series_svg(struct homing_buf *b, const struct homing_stats_point *p, size_t n)
{
    int64_t maxv = 1, days = 0, first = n ? p[0].t_us : 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].cls, "human") != 0 || strcmp(p[i].kind, "open") != 0) continue;
        if (p[i].count > maxv) maxv = p[i].count;
        days = (p[i].t_us - first) / 86400000000LL + 1;
    }
    if (days == 0) {
        homing_buf_puts(b, "<p>No human opens yet.</p>");
        return;
    }
    if (days > 120) days = 120;
    int w = 600, h = 120, bw = (int)(w / days);
    homing_buf_printf(b,
                      "<svg role=\"img\" aria-label=\"human opens per day\" viewBox=\"0 0 %d %d\" "
                      "width=\"%d\" height=\"%d\"><title>Human opens per day</title>",
                      w, h + 2, w, h + 2);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].cls, "human") != 0 || strcmp(p[i].kind, "open") != 0) continue;
        int64_t d = (p[i].t_us - first) / 86400000000LL;
        if (d >= days) break;
        int bh = (int)(p[i].count * h / maxv);
        char t[HOMING_TIME_STR_MAX];
        homing_time_format(p[i].t_us, t);
        homing_buf_printf(b,
                          "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\">"
                          "<title>%.10s: %lld</title></rect>",
                          (int)d * bw, h - bh, bw > 2 ? bw - 1 : 1, bh, t, (long long)p[i].count);
    }
    homing_buf_puts(b, "</svg>");
}

static int ui_campaigns(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    struct homing_campaign *c = NULL;
    size_t n = 0;
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, "Campaigns", s);
    if (homing_store_campaigns_list(w->store, &c, &n) < 0) {
        homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
        return ui_page(req, &b);
    }
    if (n == 0)
        homing_buf_puts(&b, "<p>No campaign yet: register messages with <code>--campaign "
                            "NAME</code> (or <code>\"campaign\"</code> in the API).</p>");
    else
        homing_buf_puts(&b, "<table><caption>Campaigns, most recent first; rates count people "
                            "only (human)</caption><thead><tr><th scope=\"col\">Campaign</th>"
                            "<th scope=\"col\">Messages</th><th scope=\"col\">Recipients</th>"
                            "<th scope=\"col\">Unique openers</th><th scope=\"col\">Unique "
                            "clickers</th><th scope=\"col\">Open rate</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        struct homing_message_query q = {.campaign = c[i].name};
        struct homing_stats st;
        json_t *o = homing_store_stats(w->store, &q, &st) == 0 ? homing_stats_json(&st) : NULL;
        if (o) homing_stats_clear(&st);
        struct homing_buf url;
        homing_buf_init(&url, 1024);
        for (const char *p = c[i].name; *p; p++) {
            unsigned char ch = (unsigned char)*p;
            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-' || ch == '_' || ch == '.')
                homing_buf_append(&url, p, 1);
            else
                homing_buf_printf(&url, "%%%02X", ch);
        }
        homing_buf_puts(&b, "<tr><th scope=\"row\"><a href=\"/ui/campaign?campaign=");
        homing_buf_html(&b, url.data ? url.data : "");
        homing_buf_puts(&b, "\">");
        homing_buf_html(&b, c[i].name);
        homing_buf_printf(&b, "</a></th><td>%lld</td><td>%lld</td><td>", (long long)c[i].messages,
                          (long long)c[i].recipients);
        homing_buf_free(&url);
        json_t *rates = json_object_get(o, "rates");
        ui_num(&b, json_object_get(json_object_get(o, "openers"), "human"));
        homing_buf_puts(&b, "</td><td>");
        ui_num(&b, json_object_get(json_object_get(o, "clickers"), "human"));
        homing_buf_puts(&b, "</td><td>");
        /* of delivered recipients; of all recipients when no delivery report came */
        json_t *open = json_object_get(rates, "open");
        if (json_is_null(json_object_get(open, "human")))
            open = json_object_get(rates, "open_of_recipients");
        ui_num(&b, json_object_get(open, "human"));
        homing_buf_puts(&b, "</td></tr>\n");
        json_decref(o);
    }
    if (n) homing_buf_puts(&b, "</tbody></table>");
    free(c);
    return ui_page(req, &b);
}

int ui_error_page(h2o_req_t *req, const struct ui_session *s, int status, const char *reason,
                  const char *why)
{
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, status == 403 ? "Refused" : "Not found", s);
    homing_buf_puts(&b, "<p class=\"err\">");
    homing_buf_html(&b, why);
    homing_buf_puts(&b, "</p>");
    ui_foot(&b);
    return ui_send(req, status, reason, "text/html; charset=utf-8", &b);
}

int ui_bad_request(h2o_req_t *req, const struct ui_session *s, const char *why)
{
    return ui_error_page(req, s, 400, "Bad Request", why);
}

static int ui_campaign(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    struct homing_message_query q;
    struct homing_query_text text;
    const char *qs = req->query_at == SIZE_MAX ? "" : req->path.base + req->query_at + 1;
    size_t qn = req->query_at == SIZE_MAX ? 0 : req->path.len - req->query_at - 1;
    /* the page's own switch, then the API's filters */
    int all = 0;
    char view[16];
    if (homing_form_get(qs, qn, "view", view, sizeof view) > 0) all = strcmp(view, "all") == 0;
    char rest[HOMING_QUERY_MAX + 1], err[256];
    size_t rl = 0;
    for (size_t i = 0; i < qn && rl < sizeof rest - 1;) {
        size_t amp = i;
        while (amp < qn && qs[amp] != '&') amp++;
        if (!(amp - i >= 5 && memcmp(qs + i, "view=", 5) == 0) && amp - i < sizeof rest - rl - 1) {
            if (rl) rest[rl++] = '&';
            memcpy(rest + rl, qs + i, amp - i);
            rl += amp - i;
        }
        i = amp + 1;
    }
    rest[rl] = '\0';
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    if (homing_message_query_parse(rest, rl, &q, &text, err, sizeof err) < 0) {
        homing_buf_free(&b);
        return ui_bad_request(req, s, err);
    }
    struct homing_stats st;
    if (homing_store_stats(w->store, &q, &st) < 0) {
        ui_head(&b, "Error", s);
        homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
        return ui_page(req, &b);
    }
    json_t *o = homing_stats_json(&st);
    homing_stats_clear(&st);
    ui_head(&b, q.campaign && q.campaign[0] ? q.campaign : "All messages", s);
    homing_buf_printf(&b, "<p>%lld message(s), %lld recipient(s), %lld delivered. ",
                      (long long)json_integer_value(json_object_get(o, "messages")),
                      (long long)json_integer_value(json_object_get(o, "recipients")),
                      (long long)json_integer_value(json_object_get(o, "delivered")));
    if (q.message) {
        char hex[HOMING_ID_STR_MAX];
        homing_id_format(q.message, hex);
        homing_buf_printf(&b,
                          "<a href=\"/ui/message?id=%s\">Recipients and their "
                          "timelines</a>. ",
                          hex);
    }
    homing_buf_puts(&b, all ? "Showing people and machines: <a href=\"?view=human&amp;"
                            : "Showing people only: <a href=\"?view=all&amp;");
    homing_buf_html(&b, rest);
    homing_buf_puts(&b, all ? "\">people only</a>" : "\">show machines too</a>");
    homing_buf_puts(&b, "</p>\n<table><caption>Funnel</caption><thead><tr><th></th>"
                        "<th scope=\"col\">human</th>");
    if (all)
        homing_buf_puts(&b, "<th scope=\"col\">machine</th><th scope=\"col\">unknown</th>"
                            "<th scope=\"col\">all</th>");
    homing_buf_puts(&b, "</tr></thead><tbody>\n");
    static const char *const rows[][2] = {{"opens", "Opens"},
                                          {"openers", "Unique openers"},
                                          {"clicks", "Clicks"},
                                          {"clickers", "Unique clickers"},
                                          {"document_opens", "Document opens"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ui_class_row(&b, rows[i][1], json_object_get(o, rows[i][0]), all);
    homing_buf_puts(&b, "</tbody></table>\n<table><caption>Rates (unique recipients)"
                        "</caption><thead><tr><th scope=\"col\">rate</th>"
                        "<th scope=\"col\">human</th>");
    if (all) homing_buf_puts(&b, "<th scope=\"col\">machine</th><th scope=\"col\">all</th>");
    homing_buf_puts(&b, "<th scope=\"col\">definition</th></tr></thead><tbody>\n");
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(o, "rates"), key, v)
    {
        homing_buf_puts(&b, "<tr><th scope=\"row\">");
        homing_buf_html(&b, key);
        homing_buf_puts(&b, "</th><td>");
        ui_num(&b, json_object_get(v, "human"));
        if (all) {
            homing_buf_puts(&b, "</td><td>");
            ui_num(&b, json_object_get(v, "machine"));
            homing_buf_puts(&b, "</td><td>");
            ui_num(&b, json_object_get(v, "all"));
        }
        homing_buf_puts(&b, "</td><td>");
        homing_buf_html(&b, json_string_value(json_object_get(v, "definition")));
        homing_buf_puts(&b, "</td></tr>\n");
    }
    homing_buf_puts(&b, "</tbody></table>\n<p>");
    homing_buf_printf(&b,
                      "Readers %lld, possible forwards %lld, complaints %lld, read receipts "
                      "%lld.</p>\n",
                      (long long)json_integer_value(json_object_get(o, "readers")),
                      (long long)json_integer_value(json_object_get(o, "possible_forwards")),
                      (long long)json_integer_value(json_object_get(o, "complaints")),
                      (long long)json_integer_value(json_object_get(o, "read_receipts")));
    size_t i;
    json_t *by = json_object_get(json_object_get(o, "bounces"), "by_reason");
    if (json_array_size(by)) {
        homing_buf_puts(&b, "<table><caption>Bounced recipients by reason</caption><thead><tr>"
                            "<th scope=\"col\">reason</th><th scope=\"col\">hard</th>"
                            "<th scope=\"col\">soft</th></tr></thead><tbody>\n");
        json_array_foreach(by, i, v)
        {
            homing_buf_puts(&b, "<tr><th scope=\"row\">");
            homing_buf_html(&b, json_string_value(json_object_get(v, "reason")));
            homing_buf_puts(&b, "</th><td>");
            ui_num(&b, json_object_get(v, "hard"));
            homing_buf_puts(&b, "</td><td>");
            ui_num(&b, json_object_get(v, "soft"));
            homing_buf_puts(&b, "</td></tr>\n");
        }
        homing_buf_puts(&b, "</tbody></table>\n");
    }
    json_t *links = json_object_get(o, "links");
    if (json_array_size(links)) {
        homing_buf_puts(&b, "<table><caption>Clicks per link</caption><thead><tr>"
                            "<th scope=\"col\">link</th><th scope=\"col\">clicks (human)</th>"
                            "<th scope=\"col\">unique clickers (human)</th></tr></thead><tbody>");
        json_array_foreach(links, i, v)
        {
            homing_buf_puts(&b, "<tr><th scope=\"row\" class=\"url\">");
            homing_buf_html(&b, json_string_value(json_object_get(v, "url")));
            homing_buf_puts(&b, "</th><td>");
            ui_num(&b, json_object_get(json_object_get(v, "clicks"), "human"));
            homing_buf_puts(&b, "</td><td>");
            ui_num(&b, json_object_get(json_object_get(v, "clickers"), "human"));
            homing_buf_puts(&b, "</td></tr>\n");
        }
        homing_buf_puts(&b, "</tbody></table>\n");
    }
    json_decref(o);
    struct homing_stats_point *p = NULL;
    size_t n = 0;
    homing_buf_puts(&b, "<h2>Human opens per day</h2>");
    if (homing_store_stats_series(w->store, &q, 86400000000LL, &p, &n) == 0)
        ui_series_svg(&b, p, n);
    free(p);
    return ui_page(req, &b);
}

static int ui_messages(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    struct homing_message_query q = {.limit = 100};
    struct homing_message *m = NULL;
    size_t n = 0;
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, "Messages", s);
    if (homing_store_message_query(w->store, &q, &m, &n) < 0) {
        homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
        return ui_page(req, &b);
    }
    homing_buf_puts(&b, "<table><caption>The 100 most recent messages</caption><thead><tr>"
                        "<th scope=\"col\">subject</th><th scope=\"col\">campaign</th>"
                        "<th scope=\"col\">recipients</th><th scope=\"col\">registered</th>"
                        "</tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        char id[HOMING_ID_STR_MAX], t[HOMING_TIME_STR_MAX];
        homing_id_format(m[i].id, id);
        homing_time_format(m[i].created_us, t);
        homing_buf_printf(&b, "<tr><th scope=\"row\"><a href=\"/ui/campaign?message=%s\">", id);
        homing_buf_html(&b, m[i].subject ? m[i].subject : "(no subject)");
        homing_buf_puts(&b, "</a></th><td>");
        homing_buf_html(&b, m[i].campaign ? m[i].campaign : "");
        homing_buf_printf(&b, "</td><td>%zu</td><td>%.19s</td></tr>\n", m[i].recipient_count, t);
    }
    homing_buf_puts(&b, "</tbody></table>");
    homing_messages_free(m, n);
    return ui_page(req, &b);
}

static const char ui_style[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}"
    "header{background:#123;padding:.5em 1em}header a,header button{color:#fff;margin-right:1em}"
    "header .out{display:inline;float:right}header button{background:none;border:1px solid "
    "#fff;cursor:pointer}main{padding:1em;max-width:60em}table{border-collapse:collapse;"
    "margin:1em 0}caption{text-align:left;font-weight:600}th,td{border-bottom:1px solid #ccc;"
    "padding:.2em .6em;text-align:right}th[scope=row],th.url{text-align:left;"
    "overflow-wrap:anywhere}.err{color:#a00}.bar{fill:#2a6}a{color:#0645ad}"
    "#toast{position:fixed;bottom:1em;right:1em;background:#123;color:#fff;padding:.5em 1em;"
    "border-radius:4px;opacity:0;transition:opacity .3s}#toast.show{opacity:1}"
    "tr.new{background:#efe}.note{color:#555}\n";

int ui_handle(struct worker *w, h2o_req_t *req, h2o_iovec_t path)
{
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    int post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
    struct homing_buf b;
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/style.css")) && get) {
        homing_buf_init(&b, sizeof ui_style);
        homing_buf_puts(&b, ui_style);
        return ui_send(req, 200, "OK", "text/css; charset=utf-8", &b);
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/live.js")) && get) {
        homing_buf_init(&b, ui_live_js_len + 1);
        homing_buf_append(&b, ui_live_js, ui_live_js_len);
        return ui_send(req, 200, "OK", "text/javascript; charset=utf-8", &b);
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/login"))) {
        if (post) return ui_login(w, req);
        if (get) {
            const char *qs = req->query_at == SIZE_MAX ? "" : req->path.base + req->query_at + 1;
            size_t qn = req->query_at == SIZE_MAX ? 0 : req->path.len - req->query_at - 1;
            char link[HOMING_UI_LINK_MAX];
            int has = homing_form_get(qs, qn, "link", link, sizeof link) > 0;
            return ui_login_form(req, NULL, has ? link : NULL);
        }
    }
    struct ui_session *s = ui_session_of(req);
    if (!s) return ui_redirect(req, "/ui/login");
    if (post) {
        /* every state-changing form carries the session's token */
        char tok[UI_TOKEN_TEXT];
        if (req->entity.len > UI_FORM_MAX ||
            homing_form_get(req->entity.base, req->entity.len, "csrf", tok, sizeof tok) < 0 ||
            strlen(tok) != strlen(s->csrf) || sodium_memcmp(tok, s->csrf, strlen(tok)) != 0) {
            homing_buf_init(&b, UI_PAGE_MAX);
            ui_head(&b, "Refused", s);
            homing_buf_puts(&b, "<p class=\"err\">This form did not come from this session's "
                                "page: nothing was changed.</p>");
            ui_foot(&b);
            return ui_send(req, 403, "Forbidden", "text/html; charset=utf-8", &b);
        }
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/logout"))) return ui_logout(req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/grant/revoke")))
            return ui_grant_revoke(w, req, s);
    } else if (get) {
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/")) ||
            h2o_memis(path.base, path.len, H2O_STRLIT("/ui")))
            return ui_campaigns(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/campaign")))
            return ui_campaign(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/messages")))
            return ui_messages(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/message"))) return ui_message(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/recipient")))
            return ui_recipient(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/recipient.json")))
            return ui_recipient_json(w, req);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/live"))) return ui_live(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/webhooks")))
            return ui_webhooks(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/documents")))
            return ui_documents(w, req, s);
        if (h2o_memis(path.base, path.len, H2O_STRLIT("/ui/live.json")))
            return ui_live_json(w, req);
    }
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, "Not found", s);
    homing_buf_puts(&b, "<p>No such page. <a href=\"/ui/\">Campaigns</a></p>");
    ui_foot(&b);
    return ui_send(req, 404, "Not Found", "text/html; charset=utf-8", &b);
}
