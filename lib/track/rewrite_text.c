/*
 * rewrite_text.c: finds http and https URLs in text/plain parts (contract in
 * rewrite.h).
 *
 * A URL starts at "http://" or "https://" (any case) not preceded by a letter
 * or digit, and runs to the first space, control character, non-ASCII byte or
 * one of < > " `; trailing punctuation that usually closes a sentence
 * (. , ; : ! ? ' *) is left out, and so is a closing bracket without an
 * opening one inside the URL, so "(see https://x.org/a)." tracks
 * https://x.org/a. Mail clients linkify plain text the same way.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rewrite_int.h"

static int url_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' && c != '`';
}

static size_t trim_end(const char *u, size_t n)
{
    for (;;) {
        if (n == 0) return 0;
        char c = u[n - 1];
        if (strchr(".,;:!?'*", c)) {
            n--;
            continue;
        }
        if (c == ')' || c == ']') {
            char open = c == ')' ? '(' : '[';
            size_t o = 0, cl = 0;
            for (size_t i = 0; i < n; i++) {
                if (u[i] == open) o++;
                if (u[i] == c) cl++;
            }
            if (cl > o) {
                n--;
                continue;
            }
        }
        return n;
    }
}

int rewrite_text(const char *text, size_t len, const char *base_url, struct rewrite_list *out)
{
    size_t from = out->n;
    int r = 0;
    size_t i = 0;
    while (i + 7 < len && r == 0) {
        while (i < len && (text[i] | 0x20) != 'h' && text[i] != '{') i++;
        if (i + 7 >= len) break;
        const char *p = text + i;
        size_t at = i;
        size_t n;
        if (*p == '{') { /* a document placeholder (homing/track.h) */
            n = rewrite_doc_placeholder(p, len - at);
            i = at + (n ? n : 1);
            if (n == 0) continue;
            goto site;
        }
        size_t skip = 0;
        if (len - at > 7 && strncasecmp(p, "http://", 7) == 0)
            skip = 7;
        else if (len - at > 8 && strncasecmp(p, "https://", 8) == 0)
            skip = 8;
        if (skip == 0 || (at > 0 && isalnum((unsigned char)text[at - 1]))) {
            i = at + 1;
            continue;
        }
        size_t end = at + skip;
        while (end < len && url_char((unsigned char)text[end])) end++;
        n = trim_end(p, end - at);
        i = at + (n > skip ? n : skip);
        if (n <= skip) continue;
    site:;
        char *url = NULL;
        const char *why = NULL;
        r = rewrite_url_trackable(p, n, base_url, &url, &why);
        if (r <= 0) continue;
        struct rewrite_site s = {
            r == REWRITE_URL_REFUSED ? REWRITE_REFUSED : REWRITE_LINK, at, at + n, 0, 0, url, why};
        r = 0;
        if (out->n >= REWRITE_SITES_MAX) {
            r = -E2BIG;
        } else if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            struct rewrite_site *v = realloc(out->v, cap * sizeof *v);
            if (!v) {
                r = -ENOMEM;
            } else {
                out->v = v;
                out->cap = cap;
            }
        }
        if (r < 0) {
            free(url);
            break;
        }
        out->v[out->n++] = s;
    }
    if (r < 0) {
        for (size_t k = from; k < out->n; k++) free(out->v[k].url);
        out->n = from;
    }
    return r < 0 ? r : 0;
}
