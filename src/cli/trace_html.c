/*
 * trace_html.c: `homing trace --html FILE`: the analysis and the indicators
 * of one message as a self-contained HTML page to attach to a ticket.
 *
 * Contract: the page loads nothing (no script, style sheet, image, font or
 * link to anything; a Content-Security-Policy of default-src 'none' says so
 * to the browser too) and every value from the message is written as text:
 * escaped for the terminal rules first (controls, bidirectional overrides and
 * every non-ASCII character as \u escapes, so a look-alike shows), then for
 * HTML (& < > " '). URLs, domains and addresses are shown defanged and never
 * as links. The file is written whole to a temporary name and renamed, so a
 * failure leaves no half page.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "homing/trace.h"
#include "homing/util.h"

#define TRACE_HTML_MAX   (64u * 1024 * 1024) /* bytes of one report page */
#define TRACE_HTML_VALUE 8192                /* bytes of one value shown */

/* s as HTML text: terminal-escaped (non-ASCII as \u escapes), then & < > " '. */
static void text(struct homing_buf *b, const char *s)
{
    if (!s) s = "-";
    size_t n = strlen(s);
    if (n > TRACE_HTML_VALUE) n = TRACE_HTML_VALUE;
    char *e = malloc(n * HOMING_ESCAPE_GROWTH + 1);
    if (!e) return;
    homing_str_escape(e, n * HOMING_ESCAPE_GROWTH + 1, s, n, 0);
    for (const char *p = e; *p; p++) {
        switch (*p) {
        case '&': homing_buf_puts(b, "&amp;"); break;
        case '<': homing_buf_puts(b, "&lt;"); break;
        case '>': homing_buf_puts(b, "&gt;"); break;
        case '"': homing_buf_puts(b, "&quot;"); break;
        case '\'': homing_buf_puts(b, "&#39;"); break;
        default: homing_buf_append(b, p, 1);
        }
    }
    free(e);
}

static void jtext(struct homing_buf *b, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v))
        text(b, json_string_value(v));
    else if (json_is_integer(v))
        homing_buf_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        homing_buf_puts(b, json_is_true(v) ? "yes" : "no");
    else
        homing_buf_puts(b, "-");
}

/* o's values of the keys at even places of spec (NULL-terminated), each
 * followed by the literal HTML at the next odd place: one cell's text. */
static void jfields(struct homing_buf *b, json_t *o, const char *const *spec)
{
    for (size_t i = 0; spec[i]; i += 2) {
        jtext(b, o, spec[i]);
        if (!spec[i + 1]) break;
        homing_buf_puts(b, spec[i + 1]);
    }
}

static void row(struct homing_buf *b, const char *label, json_t *o, const char *k)
{
    homing_buf_puts(b, "<tr><th>");
    text(b, label);
    homing_buf_puts(b, "</th><td>");
    jtext(b, o, k);
    homing_buf_puts(b, "</td></tr>\n");
}

static void defanged(struct homing_buf *b, const char *s)
{
    char d[HOMING_IOCS_DEFANG_MAX];
    homing_iocs_defang(s ? s : "", d, sizeof d);
    text(b, d);
}

static void render(struct homing_buf *b, json_t *trace, json_t *iocs, const char *file)
{
    size_t i;
    json_t *h;
    homing_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                       "'none'; style-src 'unsafe-inline'\">\n"
                       "<meta name=\"referrer\" content=\"no-referrer\">\n"
                       "<title>homing trace report</title>\n<style>\n"
                       "body{font:14px/1.4 sans-serif;margin:2em;color:#222}\n"
                       "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
                       "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;"
                       "vertical-align:top;font-family:monospace;word-break:break-all}\n"
                       "th{background:#f3f3f3}\n.high{color:#b00;font-weight:bold}\n"
                       "</style></head><body>\n<h1>homing trace report</h1>\n<p>File: ");
    text(b, file);
    homing_buf_puts(b, "</p>\n<h2>Hops (oldest first)</h2>\n<table><tr><th>#</th><th>from "
                       "(HELO)</th><th>address</th><th>by</th><th>with</th><th>time</th>"
                       "<th>trusted</th></tr>\n");
    json_array_foreach(json_object_get(trace, "hops"), i, h)
    {
        homing_buf_printf(b, "<tr><td>%zu</td><td>", i + 1);
        jfields(b, h,
                (const char *const[]){"from_helo", "</td><td>", "from_ip", "</td><td>", "by",
                                      "</td><td>", "protocol", "</td><td>", "time", "</td><td>",
                                      NULL});
        homing_buf_puts(b, json_is_true(json_object_get(h, "boundary"))  ? "boundary"
                           : json_is_true(json_object_get(h, "trusted")) ? "yes"
                                                                         : "no");
        homing_buf_puts(b, "</td></tr>\n");
    }
    homing_buf_puts(b, "</table>\n<h2>Addresses</h2>\n<table>\n");
    json_t *ad = json_object_get(trace, "addresses");
    static const char *const who[] = {"from", "reply_to", "return_path", "sender"};
    for (size_t k = 0; k < 4; k++) {
        json_t *a = json_object_get(ad, who[k]);
        homing_buf_puts(b, "<tr><th>");
        text(b, who[k]);
        homing_buf_puts(b, "</th><td>");
        if (json_is_object(a)) {
            jtext(b, a, "display");
            homing_buf_puts(b, " &lt;");
            jtext(b, a, "address");
            homing_buf_puts(b, "&gt;");
        } else {
            homing_buf_puts(b, "-");
        }
        homing_buf_puts(b, "</td></tr>\n");
    }
    json_t *bnd = json_object_get(trace, "boundary");
    homing_buf_puts(b, "</table>\n<h2>Trusted boundary</h2>\n<table>\n");
    row(b, "by", bnd, "by");
    row(b, "connecting ip", bnd, "connecting_ip");
    row(b, "connecting rdns", bnd, "connecting_rdns");
    row(b, "connecting helo", bnd, "connecting_helo");
    row(b, "note", bnd, "note");
    homing_buf_puts(b, "</table>\n<h2>Verified now</h2>\n<table>\n");
    json_t *v = json_object_get(trace, "verification");
    if (json_string_value(json_object_get(v, "skipped"))) {
        row(b, "skipped", v, "skipped");
    } else {
        json_t *spf = json_object_get(v, "spf");
        row(b, "spf", spf, "result");
        json_array_foreach(json_object_get(v, "dkim"), i, h)
        {
            homing_buf_puts(b, "<tr><th>dkim</th><td>");
            jfields(b, h,
                    (const char *const[]){"result", " d=", "d", " s=", "s", "</td></tr>\n", NULL});
        }
        json_t *arc = json_object_get(v, "arc");
        row(b, "arc", arc, "cv");
        json_array_foreach(json_object_get(arc, "hops"), i, h)
        {
            json_t *seal = json_object_get(h, "seal"),
                   *ams = json_object_get(h, "message_signature");
            homing_buf_printf(b, "<tr><th>arc i=%lld</th><td>sealed by d=",
                              (long long)json_integer_value(json_object_get(h, "instance")));
            jfields(b, seal,
                    (const char *const[]){"d", " cv=", "cv", " seal ", "result",
                                          " message signature ", NULL});
            jfields(b, ams, (const char *const[]){"result", "</td></tr>\n", NULL});
        }
        row(b, "dmarc", json_object_get(v, "dmarc"), "result");
    }
    homing_buf_puts(b, "</table>\n<h2>Indicators</h2>\n<table>\n");
    json_array_foreach(json_object_get(trace, "indicators"), i, h)
    {
        const char *sev = json_string_value(json_object_get(h, "severity"));
        homing_buf_printf(b, "<tr><th%s>",
                          sev && strcmp(sev, "high") == 0 ? " class=\"high\"" : "");
        jtext(b, h, "kind");
        homing_buf_puts(b, "</th><td>");
        jtext(b, h, "detail");
        homing_buf_puts(b, "</td></tr>\n");
    }
    homing_buf_puts(b, "</table>\n<h2>Anti-spam filters' fields</h2>\n<table>\n");
    json_array_foreach(json_object_get(trace, "vendor_headers"), i, h)
    {
        homing_buf_puts(b, "<tr><th>");
        jtext(b, h, "field");
        homing_buf_puts(b, "</th><td>verdict ");
        jtext(b, h, "verdict");
        homing_buf_puts(b, json_is_true(json_object_get(h, "trusted")) ? " (trusted)"
                                                                       : " (untrusted)");
        const char *key;
        json_t *val;
        json_object_foreach(json_object_get(h, "values"), key, val)
        {
            homing_buf_puts(b, "<br>");
            text(b, key);
            homing_buf_puts(b, "=");
            text(b, json_string_value(val));
        }
        homing_buf_puts(b, "</td></tr>\n");
    }
    homing_buf_puts(b, "</table>\n<h2>Indicators of compromise (defanged)</h2>\n<table>\n");
    static const char *const kinds[] = {"urls", "domains", "ips", "emails"};
    for (size_t k = 0; k < 4; k++) {
        json_array_foreach(json_object_get(iocs, kinds[k]), i, h)
        {
            homing_buf_puts(b, "<tr><th>");
            text(b, kinds[k]);
            homing_buf_puts(b, "</th><td>");
            defanged(b, json_string_value(h));
            homing_buf_puts(b, "</td></tr>\n");
        }
    }
    json_array_foreach(json_object_get(iocs, "attachments"), i, h)
    {
        homing_buf_puts(b, "<tr><th>attachment</th><td>");
        jfields(b, h,
                (const char *const[]){"name", " (", "content_type", ", ", "size", " bytes) sha256 ",
                                      "sha256", "</td></tr>\n", NULL});
    }
    homing_buf_puts(b, "</table>\n<h2>Everything (JSON)</h2>\n<pre>");
    char *js = homing_json_dumps(trace, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    if (js) {
        for (const char *p = js; *p; p++) {
            if (*p == '<')
                homing_buf_puts(b, "&lt;");
            else if (*p == '>')
                homing_buf_puts(b, "&gt;");
            else if (*p == '&')
                homing_buf_puts(b, "&amp;");
            else
                homing_buf_append(b, p, 1);
        }
        free(js);
    }
    homing_buf_puts(b, "</pre>\n</body></html>\n");
}

int trace_html_write(const char *path, json_t *trace, json_t *iocs, const char *file)
{
    struct homing_buf b;
    homing_buf_init(&b, TRACE_HTML_MAX);
    render(&b, trace, iocs, file);
    /* an append refused on the way (memory, TRACE_HTML_MAX) leaves no end */
    static const char end[] = "</body></html>\n";
    if (!b.data || b.len < sizeof end - 1 ||
        memcmp(b.data + b.len - (sizeof end - 1), end, sizeof end - 1)) {
        homing_buf_free(&b);
        return -E2BIG;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        homing_buf_free(&b);
        return -ENAMETOOLONG;
    }
    FILE *f = fopen(tmp, "w");
    int rc = f ? 0 : -errno;
    if (f && fwrite(b.data, 1, b.len, f) != b.len) rc = -EIO;
    if (f && fclose(f) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0) rc = -errno;
    if (rc < 0) unlink(tmp);
    homing_buf_free(&b);
    return rc;
}
