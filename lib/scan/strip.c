/*
 * strip.c: one HTML document with every remote load neutralised and wrapped
 * links unwrapped, by splicing the original text at the offsets scan_collect
 * recorded: loading attributes are renamed (src -> data-homing-blocked-src, so
 * the URL stays visible to a reader of the source but nothing loads), CSS url()
 * and image-set() become "none", @import rules are removed, and a wrapped
 * link's href value is replaced by its destination. Every byte outside those
 * spans is copied unchanged. homing_strip_text does the last for the URLs of
 * a plain text.
 *
 * Contract: see homing/scan.h. Edits never overlap (each comes from a distinct
 * attribute or CSS token); an edit that would is dropped, which can only leave
 * an attribute renamed instead of rewritten, never a load in place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan_int.h"

struct edit {
    size_t start, end;
    const char *text;
    char *owned;
};

static int cmp_edit(const void *a, const void *b)
{
    const struct edit *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static char *quoted_attr(const char *s)
{
    struct homing_buf b;
    homing_buf_init(&b, HOMING_SCAN_URL_MAX * 6 + 3);
    int r = homing_buf_puts(&b, "\"");
    for (const char *p = s; *p && r == 0; p++) {
        if (*p == '&')
            r = homing_buf_puts(&b, "&amp;");
        else if (*p == '"')
            r = homing_buf_puts(&b, "&quot;");
        else if (*p == '<')
            r = homing_buf_puts(&b, "&lt;");
        else if (*p == '>')
            r = homing_buf_puts(&b, "&gt;");
        else
            r = homing_buf_append(&b, p, 1);
    }
    if (r == 0) r = homing_buf_puts(&b, "\"");
    if (r < 0) {
        homing_buf_free(&b);
        return NULL;
    }
    return homing_buf_steal(&b);
}

int homing_strip_html(const char *html, size_t len, const struct homing_scan_options *o,
                      struct homing_buf *out, struct homing_strip_stats *st)
{
    if (!html) html = ""; /* (NULL, 0) is an empty document */
    struct scan_refs refs;
    int r = scan_collect(html, len, &refs);
    if (r < 0) return r;
    if (refs.truncated) { /* past the nesting or reference limit a load could stay */
        scan_refs_free(&refs);
        return -E2BIG;
    }
    struct homing_strip_stats s = {0};
    struct edit *ed = calloc(refs.n + 1, sizeof *ed);
    if (!ed) {
        scan_refs_free(&refs);
        return -ENOMEM;
    }
    size_t ne = 0;
    const struct homing_trackers *t = o ? o->trackers : NULL;
    for (size_t i = 0; i < refs.n; i++) {
        const struct scan_ref *x = &refs.v[i];
        char why[512];
        if (x->type == SCAN_REF_LINK) {
            char *dest = NULL;
            if (!x->vend || scan_url_unwrap(t, x->url, &dest, why, sizeof why) <= 0) continue;
            char *q = quoted_attr(dest);
            free(dest);
            if (!q) {
                r = -ENOMEM;
                break;
            }
            ed[ne++] = (struct edit){x->vstart, x->vend, q, q};
            s.unwrapped++;
            continue;
        }
        if (x->edit == SCAN_EDIT_NONE) continue;
        const struct homing_tracker_rule *rule;
        if (scan_ref_classify(x, t, scan_refs_count_url(&refs, x->url), why, sizeof why, &rule,
                              NULL, 0) >= 0)
            s.pixels++;
        else
            s.loads++;
        if (x->edit == SCAN_EDIT_INSERT)
            ed[ne++] = (struct edit){x->start, x->start, SCAN_RENAME_PREFIX, NULL};
        else
            ed[ne++] = (struct edit){x->start, x->end, x->repl ? x->repl : "", NULL};
    }
    if (r == 0) {
        if (ne > 1) qsort(ed, ne, sizeof *ed, cmp_edit);
        size_t pos = 0;
        for (size_t i = 0; i < ne && r == 0; i++) {
            if (ed[i].start < pos) continue; /* overlapping: keep the earlier edit */
            r = homing_buf_append(out, html + pos, ed[i].start - pos);
            if (r == 0) r = homing_buf_puts(out, ed[i].text);
            pos = ed[i].end;
        }
        if (r == 0) r = homing_buf_append(out, html + pos, len - pos);
    }
    for (size_t i = 0; i < ne; i++) free(ed[i].owned);
    free(ed);
    scan_refs_free(&refs);
    if (r < 0) return r;
    if (st) {
        st->pixels += s.pixels;
        st->loads += s.loads;
        st->unwrapped += s.unwrapped;
        if (s.pixels || s.loads || s.unwrapped) st->html_parts++;
    }
    return 0;
}

/* A destination in plain text: the characters that end a URL there (and
 * sentence punctuation at its end, which readers leave out of the link) are
 * percent-encoded, so the whole destination stays one link. */
static int text_dest(struct homing_buf *out, const char *d)
{
    size_t n = strlen(d);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        char c = d[i];
        if (c == '<' || c == '>' || c == '"' || (i + 1 == n && strchr(SCAN_TEXT_URL_TRAIL, c)))
            r = homing_buf_printf(out, "%%%02X", (unsigned char)c);
        else
            r = homing_buf_append(out, d + i, 1);
    }
    return r;
}

/* A soft line break of format=flowed at s[i]: a space ending the line. */
static int soft_break(const char *s, size_t len, size_t i)
{
    return i + 1 < len && s[i] == ' ' &&
           (s[i + 1] == '\n' || (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n'));
}

int homing_strip_text(const char *text, size_t len, const struct homing_scan_options *o, int delsp,
                      struct homing_buf *out, struct homing_strip_stats *st)
{
    if (!text) text = ""; /* (NULL, 0) is an empty text */
    if (len > HOMING_SCAN_HTML_MAX) return -E2BIG;
    const struct homing_trackers *t = o ? o->trackers : NULL;
    unsigned n = 0;
    size_t pos = 0, copied = 0, start, end;
    int r = 0;
    while (r == 0 && scan_text_url(text, len, &pos, &start, &end)) {
        if (pos - start >= HOMING_SCAN_URL_MAX - 1 || (delsp && soft_break(text, len, pos)))
            continue; /* where the URL ends is not known */
        char url[HOMING_SCAN_URL_MAX], why[512];
        memcpy(url, text + start, end - start);
        url[end - start] = '\0';
        char *dest = NULL;
        int k = scan_url_unwrap(t, url, &dest, why, sizeof why);
        if (k <= 0) {
            r = k;
            continue;
        }
        r = homing_buf_append(out, text + copied, start - copied);
        if (r == 0) r = text_dest(out, dest);
        free(dest);
        copied = end;
        n++;
    }
    if (r == 0) r = homing_buf_append(out, text + copied, len - copied);
    if (r < 0) return r;
    if (st && n) {
        st->unwrapped += n;
        st->text_parts++;
    }
    return 0;
}
