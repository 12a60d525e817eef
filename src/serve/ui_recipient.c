/*
 * ui_recipient.c: the dashboard's pages below a campaign (docs/dashboard.md):
 * a message's recipients, one recipient's timeline (every event with its
 * verdict and reasons, readers with device, place and network, delivery
 * reports with their DSN text, read receipts), and the live feed of
 * notifications. The timeline and the feed grow without a reload: /ui/live.js
 * asks the JSON twins of these pages for rows after the last id it holds.
 *
 * Privacy: events go through homing_store_events_visible and recipients
 * through homing_store_report_visible, as in the API and `homing report`: a
 * recipient tracked anonymously shows its delivery reports only, never its
 * hits.
 *
 * Every text from outside (addresses, subjects, User-Agents, DSN texts, AS
 * names) is written by homing_buf_html in pages, and by jansson in JSON, which
 * the script puts into the page as text (textContent), never as markup.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/event.h"
#include "homing/store.h"
#include "serve.h"
#include "ui_int.h"

#define UI_RECIPIENTS_PAGE 500  /* recipients on one page of a message */
#define UI_TIMELINE_MAX    1000 /* events on a recipient page (the newest past it are the feed's) */
#define UI_LIVE_ROWS       50   /* notifications a live page opens with */
#define UI_POLL_ROWS       200  /* rows one poll of the script returns */
#define UI_CELLS           7    /* columns of a timeline row */
#define UI_CELL_MAX        600  /* bytes of one cell's text */

/* ---- the query string ---- */

static void ui_qs(h2o_req_t *req, const char **qs, size_t *qn)
{
    *qs = req->query_at == SIZE_MAX ? "" : req->path.base + req->query_at + 1;
    *qn = req->query_at == SIZE_MAX ? 0 : req->path.len - req->query_at - 1;
}

/* A non-negative integer parameter (decimal), def when absent; -EINVAL. */
static int ui_qs_int(const char *qs, size_t qn, const char *key, int64_t def, int64_t max,
                     int64_t *out)
{
    char v[24];
    int n = homing_form_get(qs, qn, key, v, sizeof v);
    if (n == -ENOENT) {
        *out = def;
        return 0;
    }
    if (n <= 0) return -EINVAL;
    int64_t x = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (max - (v[i] - '0')) / 10) return -EINVAL;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

static int ui_qs_message(const char *qs, size_t qn, const char *key, uint64_t *id)
{
    char v[HOMING_ID_STR_MAX + 1];
    if (homing_form_get(qs, qn, key, v, sizeof v) <= 0) return -EINVAL;
    return homing_id_parse(v, id) < 0 ? -EINVAL : 0;
}

/* ---- one event as the cells of a timeline row ---- */

struct ui_row {
    int64_t id;
    char cell[UI_CELLS][UI_CELL_MAX];
};

static void ui_cell(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ui_cell(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, UI_CELL_MAX, fmt, ap);
    va_end(ap);
    if (n < 0) out[0] = '\0';
}

/* The detail of a delivery event ("status: 5.1.1, diagnostic: ...") into out. */
static void ui_detail(const char *detail, char *out)
{
    out[0] = '\0';
    json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
    const char *key;
    json_t *v;
    size_t used = 0;
    json_object_foreach(d, key, v)
    {
        char num[32];
        const char *text = json_string_value(v);
        if (!text && json_is_integer(v)) {
            snprintf(num, sizeof num, "%" PRId64, (int64_t)json_integer_value(v));
            text = num;
        }
        if (!text || used >= UI_CELL_MAX - 1) continue;
        int n = snprintf(out + used, UI_CELL_MAX - used, "%s%s: %s", used ? "; " : "", key, text);
        if (n < 0) break;
        used += (size_t)n;
    }
    json_decref(d);
}

/* Cells: time, what, verdict, why, client and device, place, network. A hit
 * not yet enriched says so; the page asked again later shows its verdict. */
static void ui_event_row(struct homing_store *st, const struct homing_event *e, struct ui_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = e->id;
    char t[HOMING_TIME_STR_MAX];
    homing_time_format(e->time_us, t);
    ui_cell(r->cell[0], "%.10s %.8s", t, t + 11);
    const char *kind = homing_event_kind_name(e->kind);
    if (e->kind == HOMING_EV_CLICK || e->kind == HOMING_EV_DOCUMENT_OPEN)
        ui_cell(r->cell[1], "%s %" PRIu32 "%s", kind ? kind : "?", e->item,
                e->method == HOMING_METHOD_HEAD ? " (HEAD)" : "");
    else
        ui_cell(r->cell[1], "%s%s", kind ? kind : "?",
                e->method == HOMING_METHOD_HEAD ? " (HEAD)" : "");
    if (e->kind != HOMING_EV_OPEN && e->kind != HOMING_EV_CLICK &&
        e->kind != HOMING_EV_DOCUMENT_OPEN) {
        ui_detail(e->detail, r->cell[3]);
        return;
    }
    struct homing_store_enrichment *x = NULL;
    if (homing_store_enrichment_get(st, e->id, &x) < 0) {
        ui_cell(r->cell[2], "pending");
        ui_cell(r->cell[4], "%s", e->user_agent);
        ui_cell(r->cell[6], "%s", e->client);
        return;
    }
    ui_cell(r->cell[2], "%s%s%s", x->verdict, x->new_reader ? ", new reader" : "",
            x->forward ? ", possible forward" : "");
    ui_cell(r->cell[3], "%s", x->reasons);
    /* the parser names what it does not know "Other" */
    const char *dev = x->device[0] && strcmp(x->device, "Other") != 0 ? x->device
                      : strcmp(x->os, "Other") != 0                   ? x->os
                                                                      : "";
    if (x->client_family[0] && strcmp(x->client_family, "Other") != 0)
        ui_cell(r->cell[4], "%s%s%s%s%s", x->client_family, x->client_version[0] ? " " : "",
                x->client_version, dev[0] ? ", " : "", dev);
    else /* a client the parser does not know: what it said it was */
        ui_cell(r->cell[4], "%s", e->user_agent);
    if (x->machine[0]) ui_cell(r->cell[4] + strlen(r->cell[4]), " (%s)", x->machine);
    ui_cell(r->cell[5], "%s", x->country);
    if (x->asn)
        ui_cell(r->cell[6], "%s · AS%" PRIu32 " %s", e->client, x->asn, x->as_org);
    else
        ui_cell(r->cell[6], "%s", e->client);
    homing_store_enrichments_free(x, 1);
}

static void ui_row_html(struct homing_buf *b, const struct ui_row *r)
{
    homing_buf_puts(b, "<tr><th scope=\"row\">");
    homing_buf_html(b, r->cell[0]);
    homing_buf_puts(b, "</th>");
    for (int i = 1; i < UI_CELLS; i++) {
        homing_buf_puts(b, "<td>");
        homing_buf_html(b, r->cell[i]);
        homing_buf_puts(b, "</td>");
    }
    homing_buf_puts(b, "</tr>\n");
}

static json_t *ui_row_json(const struct ui_row *r)
{
    json_t *cells = json_array();
    for (int i = 0; cells && i < UI_CELLS; i++)
        json_array_append_new(cells, homing_json_text(r->cell[i]));
    return json_pack("{s:I, s:o}", "id", (json_int_t)r->id, "cells", cells);
}

/* The visible events of (message, recipient) after `after`: those the modes
 * leave with this recipient (an anonymous recipient's hits lose it). */
static int ui_recipient_events(struct homing_store *st, uint64_t message, uint32_t recipient,
                               int64_t after, size_t limit, struct homing_event **out, size_t *n)
{
    int r = homing_store_recipient_events(st, message, recipient, after, limit, out, n);
    if (r < 0) return r;
    if ((r = homing_store_events_visible(st, *out, *n)) < 0) {
        homing_events_free(*out, *n);
        return r;
    }
    return 0;
}

static int ui_json_bad(h2o_req_t *req)
{
    struct homing_buf b;
    homing_buf_init(&b, 256);
    homing_buf_puts(&b, "{\"error\":\"needs message=MESSAGE&recipient=N&after=ID, or after=ID\"}");
    return ui_send(req, 400, "Bad Request", "application/json", &b);
}

static int ui_json(h2o_req_t *req, json_t *o)
{
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        homing_buf_puts(&b, "{\"error\":\"out of memory\"}");
        return ui_send(req, 500, "Internal Server Error", "application/json", &b);
    }
    homing_buf_puts(&b, s);
    free(s);
    return ui_send(req, 200, "OK", "application/json", &b);
}

/* ---- a message's recipients ---- */

int ui_message(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    const char *qs;
    size_t qn;
    ui_qs(req, &qs, &qn);
    uint64_t id;
    int64_t from;
    if (ui_qs_message(qs, qn, "id", &id) < 0 || ui_qs_int(qs, qn, "from", 0, INT32_MAX, &from) < 0)
        return ui_bad_request(req, s,
                              "This page needs ?id=MESSAGE (16 hex digits) and "
                              "optionally &from=N.");
    struct homing_message *m = NULL;
    if (homing_store_message_get(w->store, id, &m) < 0)
        return ui_bad_request(req, s, "No such message.");
    struct homing_report_row *rows = NULL;
    size_t n = 0;
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, m->subject && m->subject[0] ? m->subject : "(no subject)", s);
    char hex[HOMING_ID_STR_MAX];
    homing_id_format(id, hex);
    homing_buf_printf(&b, "<p>Message <code>%s</code>", hex);
    if (m->campaign) {
        homing_buf_puts(&b, " of campaign ");
        homing_buf_html(&b, m->campaign);
    }
    homing_buf_printf(&b, ". <a href=\"/ui/campaign?message=%s\">Funnel and rates</a></p>\n", hex);
    if (homing_store_report_visible(w->store, id, &rows, &n) < 0) {
        homing_message_free(m);
        homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
        return ui_page(req, &b);
    }
    size_t first = (size_t)from < n ? (size_t)from : n;
    size_t last = n - first > UI_RECIPIENTS_PAGE ? first + UI_RECIPIENTS_PAGE : n;
    homing_buf_printf(&b,
                      "<table><caption>Recipients %zu to %zu of %zu (opens and clicks of "
                      "every kind; the recipient's page tells people from machines)</caption>"
                      "<thead><tr><th scope=\"col\">recipient</th><th scope=\"col\">state</th>"
                      "<th scope=\"col\">tracking</th><th scope=\"col\">opens</th>"
                      "<th scope=\"col\">clicks</th></tr></thead><tbody>\n",
                      n ? first + 1 : 0, last, n);
    for (size_t i = first; i < last; i++) {
        const struct homing_report_row *r = &rows[i];
        if (r->recipient == 0)
            homing_buf_printf(&b,
                              "<tr><th scope=\"row\"><a href=\"/ui/recipient?message=%s&amp;"
                              "recipient=0\">no recipient (per-message hits)</a>",
                              hex);
        else {
            homing_buf_printf(&b,
                              "<tr><th scope=\"row\"><a href=\"/ui/recipient?message=%s&amp;"
                              "recipient=%" PRIu32 "\">",
                              hex, r->recipient);
            homing_buf_html(&b, r->address);
            homing_buf_puts(&b, "</a>");
        }
        homing_buf_puts(&b, "</th><td>");
        homing_buf_html(&b, r->state);
        homing_buf_puts(&b, "</td><td>");
        homing_buf_html(&b, homing_tracking_name(r->tracking));
        homing_buf_printf(&b, "</td><td>%" PRId64 "</td><td>%" PRId64 "</td></tr>\n", r->opens,
                          r->clicks);
    }
    homing_buf_puts(&b, "</tbody></table>\n");
    if (last < n)
        homing_buf_printf(&b, "<p><a href=\"/ui/message?id=%s&amp;from=%zu\">Next %d</a></p>", hex,
                          last, UI_RECIPIENTS_PAGE);
    homing_report_free(rows, n);
    homing_message_free(m);
    return ui_page(req, &b);
}

/* ---- a recipient's timeline ---- */

static int ui_recipient_args(h2o_req_t *req, uint64_t *message, uint32_t *recipient, int64_t *after)
{
    const char *qs;
    size_t qn;
    ui_qs(req, &qs, &qn);
    int64_t r;
    if (ui_qs_message(qs, qn, "message", message) < 0 ||
        ui_qs_int(qs, qn, "recipient", -1, UINT32_MAX, &r) < 0 || r < 0 ||
        ui_qs_int(qs, qn, "after", 0, INT64_MAX, after) < 0)
        return -EINVAL;
    *recipient = (uint32_t)r;
    return 0;
}

static void ui_readers(struct homing_buf *b, struct homing_store *st, uint64_t message,
                       uint32_t recipient)
{
    struct homing_store_reader *rd = NULL;
    size_t n = 0, shown = 0;
    if (homing_store_readers_list(st, message, &rd, &n) < 0) return;
    for (size_t i = 0; i < n; i++) {
        if (rd[i].recipient != recipient) continue;
        if (!shown++)
            homing_buf_puts(b, "<table><caption>Readers of this copy (a reader is one client "
                               "on one device; a new one after the first is a possible "
                               "forward)</caption><thead><tr><th scope=\"col\">reader</th>"
                               "<th scope=\"col\">client</th><th scope=\"col\">device</th>"
                               "<th scope=\"col\">place</th><th scope=\"col\">opens</th>"
                               "<th scope=\"col\">first seen</th><th scope=\"col\">forward"
                               "</th></tr></thead><tbody>\n");
        char t[HOMING_TIME_STR_MAX];
        homing_time_format(rd[i].first_us, t);
        homing_buf_puts(b, "<tr><th scope=\"row\"><code>");
        homing_buf_html(b, rd[i].fingerprint);
        homing_buf_puts(b, "</code></th><td>");
        homing_buf_html(b, rd[i].client);
        homing_buf_puts(b, "</td><td>");
        homing_buf_html(b, rd[i].device);
        homing_buf_puts(b, "</td><td>");
        homing_buf_html(b, rd[i].country);
        homing_buf_printf(b, "</td><td>%" PRId64 "</td><td>%.10s %.8s</td><td>%s</td></tr>\n",
                          rd[i].opens, t, t + 11, rd[i].forward ? "possible forward" : "");
    }
    if (shown)
        homing_buf_puts(b, "</tbody></table>\n");
    else
        homing_buf_puts(b, "<p>No reader of this copy seen yet (machines are not readers).</p>\n");
    homing_store_readers_free(rd, n);
}

int ui_recipient(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    uint64_t message;
    uint32_t rcpt;
    int64_t after;
    if (ui_recipient_args(req, &message, &rcpt, &after) < 0)
        return ui_bad_request(req, s, "This page needs ?message=MESSAGE&recipient=N.");
    struct homing_message *m = NULL;
    if (homing_store_message_get(w->store, message, &m) < 0 || rcpt > m->n_recipients) {
        homing_message_free(m);
        return ui_bad_request(req, s, "No such message or recipient.");
    }
    struct homing_report_row *rows = NULL;
    size_t nrows = 0;
    const struct homing_report_row *me = NULL;
    if (homing_store_report_visible(w->store, message, &rows, &nrows) == 0)
        for (size_t i = 0; i < nrows; i++)
            if (rows[i].recipient == rcpt) me = &rows[i];
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    const char *addr = rcpt ? m->recipients[rcpt - 1].address : "per-message hits";
    ui_head(&b, addr ? addr : "(forgotten)", s);
    char hex[HOMING_ID_STR_MAX];
    homing_id_format(message, hex);
    homing_buf_puts(&b, "<p>Copy of <a href=\"/ui/message?id=");
    homing_buf_puts(&b, hex);
    homing_buf_puts(&b, "\">");
    homing_buf_html(&b, m->subject && m->subject[0] ? m->subject : "(no subject)");
    homing_buf_puts(&b, "</a>");
    if (me && rcpt) {
        homing_buf_puts(&b, ": ");
        homing_buf_html(&b, me->state);
        homing_buf_puts(&b, ", tracking ");
        homing_buf_html(&b, homing_tracking_name(me->tracking));
    }
    homing_buf_puts(&b, ".</p>\n");
    int individual = !me || me->tracking == HOMING_TRACKING_INDIVIDUAL || rcpt == 0;
    if (!individual)
        homing_buf_puts(&b, "<p>This recipient is not tracked individually: its opens and "
                            "clicks count for the message without it, and only its delivery "
                            "reports are shown here.</p>\n");
    homing_report_free(rows, nrows);
    homing_message_free(m);

    struct homing_event *ev = NULL;
    size_t n = 0;
    int64_t last = after;
    homing_buf_puts(&b, "<table><caption>Timeline: every event of this copy, oldest first, "
                        "with the verdict on each hit (people: human, proxy-open; machines: "
                        "prefetch, scanner, probe)</caption><thead><tr><th scope=\"col\">time "
                        "(UTC)</th><th scope=\"col\">event</th><th scope=\"col\">verdict</th>"
                        "<th scope=\"col\">why / report</th><th scope=\"col\">client and "
                        "device</th><th scope=\"col\">place</th><th scope=\"col\">network</th>"
                        "</tr></thead>");
    int r = ui_recipient_events(w->store, message, rcpt, after, UI_TIMELINE_MAX, &ev, &n);
    /* the live script asks for rows after the last id this page holds */
    struct homing_buf body;
    homing_buf_init(&body, UI_PAGE_MAX);
    size_t shown = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        last = ev[i].id;
        if (ev[i].recipient != rcpt) continue; /* the modes took it off this recipient */
        struct ui_row row;
        ui_event_row(w->store, &ev[i], &row);
        ui_row_html(&body, &row);
        shown++;
    }
    homing_events_free(ev, n);
    homing_buf_printf(&b,
                      "<tbody id=\"live\" data-src=\"/ui/recipient.json?message=%s&amp;"
                      "recipient=%" PRIu32 "\" data-after=\"%" PRId64 "\">",
                      hex, rcpt, last);
    if (body.data) homing_buf_append(&b, body.data, body.len);
    homing_buf_free(&body);
    homing_buf_puts(&b, "</tbody></table>\n");
    if (r < 0) homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
    if (shown == 0 && r == 0) homing_buf_puts(&b, "<p id=\"empty\">Nothing yet.</p>");
    homing_buf_puts(&b, "<p class=\"note\">New events appear here as they happen.</p>"
                        "<h2>Readers</h2>");
    if (rcpt && individual) ui_readers(&b, w->store, message, rcpt);
    homing_buf_puts(&b, "<div id=\"toast\" role=\"status\" aria-live=\"polite\"></div>"
                        "<script src=\"/ui/live.js\"></script>");
    return ui_page(req, &b);
}

int ui_recipient_json(struct worker *w, h2o_req_t *req)
{
    uint64_t message;
    uint32_t rcpt;
    int64_t after;
    if (ui_recipient_args(req, &message, &rcpt, &after) < 0) return ui_json_bad(req);
    struct homing_event *ev = NULL;
    size_t n = 0;
    json_t *rowsj = json_array();
    int64_t last = after;
    if (ui_recipient_events(w->store, message, rcpt, after, UI_POLL_ROWS, &ev, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            last = ev[i].id;
            if (ev[i].recipient != rcpt) continue;
            struct ui_row row;
            ui_event_row(w->store, &ev[i], &row);
            json_array_append_new(rowsj, ui_row_json(&row));
        }
        homing_events_free(ev, n);
    }
    return ui_json(req, json_pack("{s:I, s:o}", "after", (json_int_t)last, "rows", rowsj));
}

/* ---- the live feed: notifications as they are made ---- */

static void ui_notification_row(const struct homing_notification *nt, struct ui_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = nt->id;
    char t[HOMING_TIME_STR_MAX], hex[HOMING_ID_STR_MAX];
    homing_time_format(nt->time_us, t);
    homing_id_format(nt->message, hex);
    ui_cell(r->cell[0], "%.10s %.8s", t, t + 11);
    ui_cell(r->cell[1], "%s", nt->kind);
    ui_cell(r->cell[2], "%s", nt->text ? nt->text : "");
    ui_cell(r->cell[3], "/ui/recipient?message=%s&recipient=%" PRIu32, hex, nt->recipient);
}

int ui_live(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, "Live", s);
    int64_t last = 0;
    struct homing_notification *v = NULL;
    size_t n = 0;
    int r = homing_store_notifications_last(w->store, &last);
    if (r == 0)
        r = homing_store_notifications_list(w->store, last > UI_LIVE_ROWS ? last - UI_LIVE_ROWS : 0,
                                            UI_LIVE_ROWS, &v, &n);
    homing_buf_printf(&b,
                      "<table><caption>Notifications as they happen, newest last: the same "
                      "as the webhooks and the event stream receive</caption><thead><tr>"
                      "<th scope=\"col\">time (UTC)</th><th scope=\"col\">kind</th>"
                      "<th scope=\"col\">what</th><th scope=\"col\">recipient</th></tr>"
                      "</thead><tbody id=\"live\" data-src=\"/ui/live.json?\" "
                      "data-after=\"%" PRId64 "\" data-link=\"3\">",
                      last);
    for (size_t i = 0; i < n; i++) {
        struct ui_row row;
        ui_notification_row(&v[i], &row);
        homing_buf_puts(&b, "<tr><th scope=\"row\">");
        homing_buf_html(&b, row.cell[0]);
        homing_buf_puts(&b, "</th><td>");
        homing_buf_html(&b, row.cell[1]);
        homing_buf_puts(&b, "</td><td>");
        homing_buf_html(&b, row.cell[2]);
        homing_buf_puts(&b, "</td><td><a href=\"");
        homing_buf_html(&b, row.cell[3]);
        homing_buf_puts(&b, "\">timeline</a></td></tr>\n");
    }
    homing_notifications_free(v, n);
    homing_buf_puts(&b, "</tbody></table>\n");
    if (r < 0) homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
    homing_buf_puts(&b, "<div id=\"toast\" role=\"status\" aria-live=\"polite\"></div>"
                        "<script src=\"/ui/live.js\"></script>");
    return ui_page(req, &b);
}

int ui_live_json(struct worker *w, h2o_req_t *req)
{
    const char *qs;
    size_t qn;
    ui_qs(req, &qs, &qn);
    int64_t after;
    if (ui_qs_int(qs, qn, "after", 0, INT64_MAX, &after) < 0) return ui_json_bad(req);
    struct homing_notification *v = NULL;
    size_t n = 0;
    json_t *rowsj = json_array();
    int64_t last = after;
    if (homing_store_notifications_list(w->store, after, UI_POLL_ROWS, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct ui_row row;
            ui_notification_row(&v[i], &row);
            last = v[i].id;
            json_array_append_new(rowsj, ui_row_json(&row));
        }
        homing_notifications_free(v, n);
    }
    return ui_json(req, json_pack("{s:I, s:o}", "after", (json_int_t)last, "rows", rowsj));
}
