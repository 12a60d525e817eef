/*
 * received.c: parses one Received field (RFC 5321 section 4.4) into its
 * clauses: from (HELO name, the reverse name and address the receiver
 * recorded), by, via, with (protocol), id, for, the TLS details MTAs put in
 * comments, and the time stamp after the last ';'.
 *
 * Contract: the input is attacker text. The tokenizer keeps at most
 * RECEIVED_TOKENS_MAX tokens of at most HOMING_TRACE_TOKEN_MAX bytes, comments
 * nest at most RECEIVED_DEPTH_MAX deep, and the field is at most
 * HOMING_TRACE_HEADER_MAX bytes; beyond that the result is -E2BIG. Anything
 * the grammar does not expect is skipped rather than guessed at: a field is
 * -EBADMSG only when neither a from, a by nor a date could be read. The
 * forms handled beyond the RFC are those of Postfix, Sendmail, Exim, Gmail and
 * Microsoft Exchange, whose TLS notes are the only record of the link's
 * security.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "homing/trace.h"
#include "homing/util.h"
#include "trace_int.h"

#define RECEIVED_TOKENS_MAX 256
#define RECEIVED_DEPTH_MAX  8

enum tok_kind { TOK_ATOM, TOK_COMMENT, TOK_LITERAL };

struct tok {
    enum tok_kind kind;
    const char *p; /* for comments: the text inside the outer parentheses */
    size_t len;
};

struct toks {
    size_t n;
    struct tok t[RECEIVED_TOKENS_MAX];
};

static int tokenize(const char *s, size_t n, struct toks *out)
{
    size_t i = 0;
    out->n = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        struct tok t;
        if (c == '(') {
            int depth = 1;
            size_t start = ++i;
            while (i < n && depth > 0) {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                else if (s[i] == '(') {
                    if (++depth > RECEIVED_DEPTH_MAX) return -E2BIG;
                } else if (s[i] == ')')
                    depth--;
                i++;
            }
            t.kind = TOK_COMMENT;
            t.p = s + start;
            t.len = (depth == 0 ? i - 1 : i) - start;
        } else if (c == '[') {
            size_t start = i;
            while (i < n && s[i] != ']') i++;
            if (i < n) i++;
            t.kind = TOK_LITERAL;
            t.p = s + start;
            t.len = i - start;
        } else {
            size_t start = i;
            while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' &&
                   s[i] != '(' && s[i] != ';')
                i++;
            if (i == start) { /* a stray ';' before the date part */
                i++;
                continue;
            }
            t.kind = TOK_ATOM;
            t.p = s + start;
            t.len = i - start;
        }
        if (t.len > HOMING_TRACE_TOKEN_MAX) return -E2BIG;
        if (out->n >= RECEIVED_TOKENS_MAX) return -E2BIG;
        out->t[out->n++] = t;
    }
    return 0;
}

static int tok_is(const struct tok *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == TOK_ATOM && t->len == n && strncasecmp(t->p, word, n) == 0;
}

enum clause { CL_NONE, CL_FROM, CL_BY, CL_VIA, CL_WITH, CL_ID, CL_FOR };

static enum clause clause_of(const struct tok *t)
{
    if (tok_is(t, "from")) return CL_FROM;
    if (tok_is(t, "by")) return CL_BY;
    if (tok_is(t, "via")) return CL_VIA;
    if (tok_is(t, "with")) return CL_WITH;
    if (tok_is(t, "id")) return CL_ID;
    if (tok_is(t, "for")) return CL_FOR;
    return CL_NONE;
}

/* Text is kept as written (trace_text_dup): a look-alike "p\xd0\xb0ypal.com"
 * replaced by '?' hid the very letter a reader must see (issue 15). Every
 * output escapes it: JSON by homing_json_text, the terminal by
 * homing_str_escape. A host name as written, without its trailing root dot, ASCII in lower case. */
static char *host_dup(const char *p, size_t n)
{
    while (n && p[n - 1] == '.') n--;
    if (n == 0) return NULL;
    return trace_text_dup(p, n, 1);
}

static char *text_dup(const char *p, size_t n)
{
    return trace_text_dup(p, n, 0);
}

/* "[192.0.2.1]", "[IPv6:2001:db8::1]", "192.0.2.1" -> canonical text, or NULL. */
static char *ip_dup(const char *p, size_t n)
{
    if (n && p[0] == '[') {
        p++;
        n--;
        if (n && p[n - 1] == ']') n--;
    }
    if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
        p += 5;
        n -= 5;
    }
    struct homing_addr a;
    if (homing_addr_parse(p, n, &a) < 0) return NULL;
    char out[HOMING_ADDR_STR_MAX];
    homing_addr_format(&a, out);
    return strdup(out);
}

static void set_once(char **dst, char *v)
{
    if (!v) return;
    if (*dst)
        free(v);
    else
        *dst = v;
}

/* Words of a comment (or of the with clause), split on blanks and commas. */
struct words {
    size_t n;
    struct homing_slice w[32];
};

static void split_words(const char *p, size_t n, struct words *out)
{
    out->n = 0;
    size_t i = 0;
    while (i < n && out->n < sizeof out->w / sizeof out->w[0]) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ',' || p[i] == '\r' ||
                         p[i] == '\n' || p[i] == '(' || p[i] == ')'))
            i++;
        size_t start = i;
        while (i < n && !(p[i] == ' ' || p[i] == '\t' || p[i] == ',' || p[i] == '\r' ||
                          p[i] == '\n' || p[i] == '(' || p[i] == ')'))
            i++;
        if (i > start) out->w[out->n++] = (struct homing_slice){p + start, i - start};
    }
}

static int word_is(const struct homing_slice *w, const char *s)
{
    size_t n = strlen(s);
    return w->len == n && strncasecmp(w->p, s, n) == 0;
}

static int word_prefix(const struct homing_slice *w, const char *s)
{
    size_t n = strlen(s);
    return w->len > n && strncasecmp(w->p, s, n) == 0;
}

/* TLS notes: Postfix "using TLSv1.3 with cipher X", Sendmail "version=TLSv1.3
 * cipher=X", Exchange "version=TLS1_2, cipher=X", Exim "(TLS1.3)" and
 * "tls X", Gmail "(Google Transport Security)". */
static void scan_tls(struct homing_received *r, const char *p, size_t n)
{
    struct words w;
    split_words(p, n, &w);
    for (size_t i = 0; i < w.n; i++) {
        struct homing_slice *x = &w.w[i];
        if (word_is(x, "using") && i + 1 < w.n && word_prefix(&w.w[i + 1], "TLS")) {
            r->tls = 1;
            set_once(&r->tls_version, text_dup(w.w[i + 1].p, w.w[i + 1].len));
        } else if (word_prefix(x, "version=TLS")) {
            r->tls = 1;
            set_once(&r->tls_version, text_dup(x->p + 8, x->len - 8));
        } else if (word_prefix(x, "cipher=")) {
            r->tls = 1;
            set_once(&r->tls_cipher, text_dup(x->p + 7, x->len - 7));
        } else if (word_is(x, "cipher") && i + 1 < w.n && i > 0 && word_is(&w.w[i - 1], "with")) {
            r->tls = 1;
            set_once(&r->tls_cipher, text_dup(w.w[i + 1].p, w.w[i + 1].len));
        } else if (w.n == 1 && (word_prefix(x, "TLS1") || word_prefix(x, "TLSv1"))) {
            r->tls = 1;
            set_once(&r->tls_version, text_dup(x->p, x->len));
        } else if (word_is(x, "Google") && i + 2 < w.n && word_is(&w.w[i + 1], "Transport") &&
                   word_is(&w.w[i + 2], "Security")) {
            r->tls = 1;
        }
    }
}

/* The comment after the from name: "(rdns [ip])", "(unknown [ip])",
 * "([ip] helo=name)", "(helo=name)". Returns 1 if it carried a helo=. */
static int scan_from_comment(struct homing_received *r, const char *p, size_t n)
{
    struct words w;
    split_words(p, n, &w);
    int helo = 0;
    for (size_t i = 0; i < w.n; i++) {
        struct homing_slice *x = &w.w[i];
        if (x->len && x->p[0] == '[') {
            set_once(&r->from_ip, ip_dup(x->p, x->len));
        } else if (word_prefix(x, "helo=")) {
            free(r->from_helo);
            r->from_helo = host_dup(x->p + 5, x->len - 5);
            helo = 1;
        } else if (i == 0 && !word_is(x, "unknown") && memchr(x->p, '.', x->len) &&
                   !memchr(x->p, '=', x->len) && !memchr(x->p, '@', x->len)) {
            /* May be a bare address (some MTAs omit the brackets). */
            char *ip = ip_dup(x->p, x->len);
            if (ip)
                set_once(&r->from_ip, ip);
            else
                set_once(&r->from_rdns, host_dup(x->p, x->len));
        }
    }
    return helo;
}

static int is_tls_protocol(const char *p)
{
    /* RFC 3848 and RFC 8314: an S before an optional A means TLS. */
    static const char *const names[] = {"ESMTPS", "ESMTPSA",   "UTF8SMTPS",  "UTF8SMTPSA", "LMTPS",
                                        "LMTPSA", "UTF8LMTPS", "UTF8LMTPSA", "SMTPS",      "HTTPS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(p, names[i]) == 0) return 1;
    return 0;
}

void homing_received_free(struct homing_received *r)
{
    if (!r) return;
    free(r->from_helo);
    free(r->from_rdns);
    free(r->from_ip);
    free(r->by_host);
    free(r->via);
    free(r->protocol);
    free(r->id);
    free(r->for_addr);
    free(r->tls_version);
    free(r->tls_cipher);
    free(r);
}

int homing_received_parse(const char *s, size_t n, struct homing_received **out)
{
    if (!s || n > HOMING_TRACE_HEADER_MAX) return -E2BIG;
    /* The stamp follows the last ';' outside comments. */
    size_t semi = n;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && depth && i + 1 < n)
            i++;
        else if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && depth)
            depth--;
        else if (s[i] == ';' && !depth)
            semi = i;
    }
    /* The tokens on the stack (6 KiB): a malloc of that size for every field
     * made glibc consolidate its free lists each time. */
    struct toks toks, *tk = &toks;
    struct homing_received *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    int rc = tokenize(s, semi, tk);
    if (rc < 0) goto fail;
    if (semi < n) {
        int64_t t;
        int tz;
        if (homing_date_parse(s + semi + 1, n - semi - 1, &t, &tz) == 0) {
            r->has_date = 1;
            r->date = t;
            r->tz_min = tz;
        }
    }

    enum clause cl = CL_NONE;
    int have_value = 0, from_main_literal = 0;
    struct tok from_main = {0};
    for (size_t i = 0; i < tk->n; i++) {
        struct tok *t = &tk->t[i];
        enum clause k = clause_of(t);
        /* A keyword starts a clause only where a value is not expected. */
        if (k != CL_NONE && (have_value || cl == CL_NONE || cl == CL_WITH)) {
            cl = k;
            have_value = 0;
            continue;
        }
        if (t->kind == TOK_COMMENT) {
            scan_tls(r, t->p, t->len);
            if (cl == CL_FROM && scan_from_comment(r, t->p, t->len) && !from_main_literal &&
                from_main.p) {
                /* Exim: the main name is the verified reverse name. */
                free(r->from_rdns);
                r->from_rdns = host_dup(from_main.p, from_main.len);
            }
            continue;
        }
        switch (cl) {
        case CL_FROM:
            if (have_value && t->kind == TOK_LITERAL) {
                /* "from name [192.0.2.1]" without the comment (RFC 6376 A.2). */
                set_once(&r->from_ip, ip_dup(t->p, t->len));
            } else if (!have_value) {
                from_main = *t;
                if (t->kind == TOK_LITERAL) {
                    from_main_literal = 1;
                    set_once(&r->from_ip, ip_dup(t->p, t->len));
                } else {
                    set_once(&r->from_helo, host_dup(t->p, t->len));
                }
            }
            break;
        case CL_BY:
            if (!have_value) set_once(&r->by_host, host_dup(t->p, t->len));
            break;
        case CL_VIA:
            if (!have_value) set_once(&r->via, text_dup(t->p, t->len));
            break;
        case CL_WITH:
            if (!have_value) {
                set_once(&r->protocol, text_dup(t->p, t->len));
            } else if (tok_is(t, "tls") && i + 1 < tk->n && tk->t[i + 1].kind == TOK_ATOM) {
                r->tls = 1;
                set_once(&r->tls_cipher, text_dup(tk->t[i + 1].p, tk->t[i + 1].len));
                i++;
            } else if (r->protocol && strlen(r->protocol) + t->len + 2 < HOMING_TRACE_TOKEN_MAX &&
                       t->kind == TOK_ATOM) {
                /* Multi-word protocols: "Microsoft SMTP Server". */
                size_t l = strlen(r->protocol);
                char *np = realloc(r->protocol, l + t->len + 2);
                if (!np) {
                    rc = -ENOMEM;
                    goto fail;
                }
                np[l] = ' ';
                for (size_t k = 0; k < t->len; k++) np[l + 1 + k] = t->p[k] ? t->p[k] : '?';
                np[l + 1 + t->len] = '\0';
                r->protocol = np;
            }
            break;
        case CL_ID:
            if (!have_value) set_once(&r->id, text_dup(t->p, t->len));
            break;
        case CL_FOR:
            if (!have_value) {
                const char *p = t->p;
                size_t l = t->len;
                if (l >= 2 && p[0] == '<' && p[l - 1] == '>') {
                    p++;
                    l -= 2;
                }
                if (l) set_once(&r->for_addr, text_dup(p, l));
            }
            break;
        case CL_NONE: break;
        }
        have_value = 1;
    }
    if (r->protocol && is_tls_protocol(r->protocol)) r->tls = 1;
    if (!r->from_helo && !r->from_ip && !r->by_host && !r->has_date) {
        rc = -EBADMSG;
        goto fail;
    }
    *out = r;
    return 0;
fail:
    homing_received_free(r);
    return rc;
}
