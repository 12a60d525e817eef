/*
 * fuzz_rewrite_diff.c: rewrite_html (our tokenizer) and rewrite_html_gumbo
 * (gumbo's tree) on arbitrary bytes must find the same sites: the same
 * ranges, quotes, destinations and pixel place, or fail the same way. Inputs
 * that reach a documented difference (docs/internals/track.md, "HTML") are
 * run through both but not compared; without_known_difference names them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/track/rewrite_int.h"
#include "lib/html/tokenize_int.h"

#define BASE "https://t.example.com"

static int has_word(const uint8_t *d, size_t n, const char *w)
{
    size_t k = strlen(w);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp((const char *)d + i, w, k) == 0) return 1;
    return 0;
}

/* A numeric character reference of 2^31 or more: gumbo 0.10 computes it in an
 * int that overflows (&#4294967361; is 'A' there), the standard says U+FFFD. */
static int huge_numeric_ref(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++) {
        if (d[i] != '&' || d[i + 1] != '#') continue;
        size_t j = i + 2;
        int hex = d[j] == 'x' || d[j] == 'X';
        if (hex) j++;
        uint64_t x = 0;
        for (; j < n; j++) {
            int v = d[j] >= '0' && d[j] <= '9'                            ? d[j] - '0'
                    : hex && (d[j] | 0x20) >= 'a' && (d[j] | 0x20) <= 'f' ? (d[j] | 0x20) - 'a' + 10
                                                                          : -1;
            if (v < 0) break;
            x = x * (hex ? 16 : 10) + (uint64_t)v;
            if (x >= 0x80000000u) return 1;
        }
    }
    return 0;
}

/* A tag that repeats an attribute name: gumbo under the old code's arena (a
 * free that does nothing) keeps the repeated name's text in the next one
 * (<a x x href=...> has "xhref"), so the old code missed that href; gumbo
 * with its own allocator, browsers and the tokenizer find it. Tags are
 * looked for in the data state only, which can only find more. */
static int repeated_attribute(const uint8_t *d, size_t n)
{
    struct html_tok t;
    struct html_token tok;
    int found = 0;
    html_tok_init(&t, (const char *)d, n);
    while (!found && html_tok_next(&t, &tok) != HTML_TOK_EOF) {
        if (tok.type != HTML_TOK_START && tok.type != HTML_TOK_END) continue;
        for (size_t i = 0; i < tok.n_attrs && !found; i++)
            for (size_t j = 0; j < i && !found; j++)
                found =
                    tok.attrs[i].name_len == tok.attrs[j].name_len &&
                    strncasecmp((const char *)d + tok.attrs[i].name,
                                (const char *)d + tok.attrs[j].name, tok.attrs[i].name_len) == 0;
    }
    html_tok_free(&t);
    return found || t.nomem;
}

/* Where the two legitimately differ (docs/internals/track.md): tree-building
 * that the tokenizer does not follow (foreign content, framesets, tree depth
 * past REWRITE_HTML_DEPTH, a select among table parts), and gumbo's
 * overflowing numeric references. */
static int known_difference(const uint8_t *d, size_t n)
{
    if (huge_numeric_ref(d, n) || repeated_attribute(d, n)) return 1;
    /* a select in a table: the tree builder's table scope, which we count */
    if (has_word(d, n, "<select") && has_word(d, n, "<t")) return 1;
    if (has_word(d, n, "<svg") || has_word(d, n, "<math") || has_word(d, n, "<frameset")) return 1;
    size_t lt = 0;
    for (size_t i = 0; i < n; i++) lt += d[i] == '<';
    return lt > REWRITE_HTML_DEPTH / 4;
}

static void dump(const char *what, const struct rewrite_list *l)
{
    fprintf(stderr, "%s: %zu sites\n", what, l->n);
    for (size_t i = 0; i < l->n; i++)
        fprintf(stderr, "  kind %d [%zu,%zu) quote %d url %s\n", l->v[i].kind, l->v[i].start,
                l->v[i].end, l->v[i].quote, l->v[i].url ? l->v[i].url : "-");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *html = (const char *)data;
    int pixel = size == 0 || !(data[0] & 1) ? REWRITE_PIXEL_NONE
                : data[0] & 2               ? REWRITE_PIXEL_AT_TOP
                                            : REWRITE_PIXEL_AT_END;
    /* after <plaintext> all is text; gumbo calls a "</body" in it markup when
     * the text hangs under a reconstructed formatting element, not under the
     * plaintext element: the pixel's fallback place differs (both in text) */
    if (has_word(data, size, "<plaintext")) pixel = 0;
    struct rewrite_list a = {0}, b = {0};
    int ra = rewrite_html(html, size, BASE, pixel, &a);
    int rb = rewrite_html_gumbo(html, size, BASE, pixel, &b);
    if (!known_difference(data, size) && (ra != rb || !rewrite_list_same(&a, &b))) {
        fprintf(stderr, "tokenizer %d, gumbo %d, pixel %d\n", ra, rb, pixel);
        dump("tokenizer", &a);
        dump("gumbo", &b);
        abort();
    }
    rewrite_list_free(&a);
    rewrite_list_free(&b);
    /* the top pixel's place, when the tokenizer finds one, is gumbo's (foreign
     * content and framesets aside, as above; and a leading BOM, which gumbo
     * reads as text where a browser's decoder drops it, as the standard says) */
    size_t top = rewrite_body_start(html, size);
    int bom = size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0;
    if (top != SIZE_MAX && !bom && !known_difference(data, size) &&
        top != rewrite_gumbo_body_start(html, size)) {
        fprintf(stderr, "body starts at %zu, gumbo %zu\n", top,
                rewrite_gumbo_body_start(html, size));
        abort();
    }
    return 0;
}
