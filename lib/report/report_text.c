/*
 * report_text.c: reading a non-standard bounce from its human-readable text, and
 * the small text scanners the rest of the report parser shares (status and
 * reply codes, addresses).
 *
 * A non-standard bounce names its failed recipients in a handful of shapes
 * across MTAs ("<a@b>:" for qmail, an indented address under "The following
 * address(es) failed" for Exim, "<a@b>... User unknown" for Sendmail, "a@b"
 * alone on a line for Gmail and many ESPs). Rather than one parser per MTA,
 * recipients are the addresses of the text that are not the sender's own
 * (the caller passes those as `exclude`) nor a daemon's, in text order; each
 * recipient's block of text runs to the next recipient and is what its status,
 * reply code and reason are read from. X-Failed-Recipients, when present, is
 * authoritative for who failed.
 *
 * Contract: bounded by HOMING_REPORT_RCPTS_MAX and the text size the caller
 * passes; never reads outside [text, text + n).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report_int.h"

void rp_lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z') s[i] = (char)(s[i] + 32);
}

static bool rp_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

static bool rp_isalnum(char c)
{
    return rp_isdigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Matches "C.S.D" at t[i]; returns its length or 0. */
static size_t rp_status_at(const char *t, size_t n, size_t i)
{
    if (i > 0 && (rp_isalnum(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == '-')) return 0;
    if (i >= n || (t[i] != '2' && t[i] != '4' && t[i] != '5')) return 0;
    size_t j = i + 1;
    if (j >= n || t[j] != '.') return 0;
    j++;
    size_t d = 0;
    while (j < n && rp_isdigit(t[j]) && d < 3) j++, d++;
    if (d == 0 || j >= n || t[j] != '.') return 0;
    j++;
    d = 0;
    while (j < n && rp_isdigit(t[j]) && d < 3) j++, d++;
    if (d == 0) return 0;
    if (j < n && (rp_isdigit(t[j]) || (t[j] == '.' && j + 1 < n && rp_isdigit(t[j + 1])))) return 0;
    return j - i;
}

bool rp_find_status(const char *t, size_t n, char *out, size_t cap)
{
    /* A bounce's own failure code beats a "2.0.0" echoed from an earlier
     * accepted command. */
    const char *best = NULL;
    size_t bl = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] != '2' && t[i] != '4' && t[i] != '5') continue;
        size_t l = rp_status_at(t, n, i);
        if (!l) continue;
        if (t[i] != '2') {
            best = t + i;
            bl = l;
            break;
        }
        if (!best) best = t + i, bl = l;
    }
    if (!best || bl + 1 > cap) return false;
    memcpy(out, best, bl);
    out[bl] = '\0';
    return true;
}

static size_t rp_reply_at(const char *t, size_t n, size_t i)
{
    if (i + 3 > n) return 0;
    if (t[i] != '2' && t[i] != '4' && t[i] != '5') return 0;
    if (!rp_isdigit(t[i + 1]) || !rp_isdigit(t[i + 2])) return 0;
    if (t[i + 1] > '5') return 0;
    if (i > 0 && (rp_isalnum(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == '-' || t[i - 1] == '#' ||
                  t[i - 1] == '/' || t[i - 1] == ':' || t[i - 1] == '='))
        return 0;
    if (i + 3 < n && !(t[i + 3] == ' ' || t[i + 3] == '-' || t[i + 3] == '\n')) return 0;
    return 3;
}

bool rp_find_reply(const char *t, size_t n, char *out, size_t cap)
{
    if (cap < 4) return false;
    /* Best: a reply code followed by an enhanced status code. */
    for (size_t i = 0; i < n; i++) {
        if (!rp_reply_at(t, n, i)) continue;
        size_t j = i + 4;
        if (j < n && rp_status_at(t, n, j) && t[j] == t[i]) {
            memcpy(out, t + i, 3);
            out[3] = '\0';
            return true;
        }
    }
    /* Else a code at a line start or after "said:" / a host's ": ". */
    for (size_t i = 0; i < n; i++) {
        if (!rp_reply_at(t, n, i)) continue;
        if (t[i] == '2') continue;
        size_t k = i;
        while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '\t')) k--;
        bool ok = k == 0 || t[k - 1] == '\n' || t[k - 1] == ':' || t[k - 1] == '(' ||
                  t[k - 1] == ';' || t[k - 1] == ']' || t[k - 1] == '>' || t[k - 1] == '"';
        if (ok && i + 3 < n &&
            (t[i + 3] == '\n' || (t[i + 3] == ' ' && i + 4 < n && !rp_isdigit(t[i + 4])))) {
            memcpy(out, t + i, 3);
            out[3] = '\0';
            return true;
        }
    }
    return false;
}

/* Bytes >= 0x80 count as address characters: RFC 6531 allows UTF-8 in both
 * parts, and message/global-delivery-status carries such addresses. */
static bool rp_local_char(char c)
{
    return rp_isalnum(c) || (unsigned char)c >= 0x80 || (c && strchr(".!#$%&'*+-/=?^_`{|}~", c));
}

static bool rp_domain_char(char c)
{
    return rp_isalnum(c) || (unsigned char)c >= 0x80 || c == '.' || c == '-' || c == '_';
}

/* Finds the address around the '@' at t[at]; returns its start and length. */
static bool rp_addr_around(const char *t, size_t n, size_t at, size_t *start, size_t *len)
{
    size_t s = at;
    if (at > 1 && t[at - 1] == '"') {
        /* a quoted local part: "john..doe"@example.org */
        size_t q = at - 1;
        while (q > 0 && t[q - 1] != '"' && t[q - 1] != '\n' && at - q < 64 + 8) q--;
        if (q > 0 && t[q - 1] == '"' && q + 1 < at) {
            s = q - 1;
            goto domain;
        }
    }
    while (s > 0 && rp_local_char(t[s - 1]) && at - s < 64 + 8) s--;
    while (s < at &&
           (t[s] == '.' || t[s] == '\'' || (t[s] == '=' && t[s + 1] != '?') || t[s] == '/'))
        s++;
domain:;
    size_t e = at + 1;
    while (e < n && rp_domain_char(t[e]) && e - at < 256) e++;
    while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-')) e--;
    if (s == at || e <= at + 1) return false;
    if (!memchr(t + at + 1, '.', e - at - 1)) return false;
    *start = s;
    *len = e - s;
    return true;
}

int rp_addr(const char *v, char *out, size_t cap)
{
    return rp_addr_case(v, out, cap, true);
}

int rp_addr_case(const char *v, char *out, size_t cap, bool lower)
{
    const char *semi = strchr(v, ';');
    if (semi && semi - v < 20) v = semi + 1;
    size_t n = strlen(v);
    const char *at = memchr(v, '@', n);
    size_t s, l;
    if (at) {
        /* inside <> when the value has them */
        const char *lt = strchr(v, '<');
        const char *gt = lt ? strchr(lt, '>') : NULL;
        if (lt && gt && at > lt && at < gt) {
            s = (size_t)(lt - v) + 1;
            l = (size_t)(gt - lt) - 1;
            while (l && v[s] == ' ') s++, l--;
            while (l && v[s + l - 1] == ' ') l--;
        } else if (!rp_addr_around(v, n, (size_t)(at - v), &s, &l)) {
            return -1;
        }
    } else {
        /* a bare local part (some MTAs write no domain) */
        while (*v == ' ' || *v == '<' || *v == '"') v++;
        l = 0;
        while (v[l] && v[l] != '>' && v[l] != ' ' && v[l] != '"' && v[l] != ';') l++;
        s = 0;
        if (l == 0) return -1;
    }
    if (l + 1 > cap || l == 0) return -1;
    memcpy(out, v + s, l);
    out[l] = '\0';
    /* strip a quoted local part's quotes and a trailing dot */
    while (l && (out[l - 1] == '.' || out[l - 1] == '"' || out[l - 1] == '\'')) out[--l] = '\0';
    if ((out[0] == '"' || out[0] == '\'') && !strstr(out + 1, "\"@")) {
        memmove(out, out + 1, l);
        l--;
    }
    if (lower) rp_lower(out, l);
    return l ? (int)l : -1;
}

int rp_rcpt_add(struct homing_report *r, struct homing_report_rcpt **out)
{
    if (r->n_rcpts >= HOMING_REPORT_RCPTS_MAX) {
        r->truncated = true;
        return -E2BIG;
    }
    if ((r->n_rcpts & (r->n_rcpts - 1)) == 0 || r->n_rcpts == 0) {
        size_t cap = r->n_rcpts ? r->n_rcpts * 2 : 2;
        void *p = realloc(r->rcpts, cap * sizeof *r->rcpts);
        if (!p) return -ENOMEM;
        r->rcpts = p;
    }
    struct homing_report_rcpt *x = &r->rcpts[r->n_rcpts++];
    memset(x, 0, sizeof *x);
    x->reason = "undefined";
    *out = x;
    return 0;
}

/* Length of a multi-line SMTP reply's continuation prefix at s ("550-5.7.1 ",
 * "550 5.7.1 ", "550-"), so the diagnostic reads as the server's sentence. */
static size_t rp_reply_prefix(const char *s, size_t n)
{
    if (n < 4 || (s[0] != '4' && s[0] != '5') || !rp_isdigit(s[1]) || !rp_isdigit(s[2]) ||
        (s[3] != '-' && s[3] != ' '))
        return 0;
    size_t l = rp_status_at(s, n, 4);
    if (l) return 4 + l + (4 + l < n && s[4 + l] == ' ' ? 1 : 0);
    return s[3] == '-' ? 4 : 0;
}

char *rp_collapse(const char *s, size_t n, size_t max)
{
    char *o = malloc((n < max ? n : max) + 1);
    if (!o) return NULL;
    size_t k = 0;
    bool sp = true;
    char last_code[3] = {0, 0, 0}; /* reply code starting the previous line */
    for (size_t i = 0; i < n && k < max; i++) {
        if (i == 0 || s[i - 1] == '\n') {
            size_t j = i;
            while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
            size_t pl = rp_reply_prefix(s + j, n - j);
            bool cont = pl && memcmp(s + j, last_code, 3) == 0;
            if (pl)
                memcpy(last_code, s + j, 3);
            else if (j < n && s[j] != '\n')
                memset(last_code, 0, 3);
            if (cont) i = j + pl; /* a continuation line of a multi-line reply */
            if (i >= n) break;
        }
        char c = s[i];
        if (c == '\n' || c == '\t' || c == ' ' || c == '\r') {
            if (!sp) o[k++] = ' ';
            sp = true;
            continue;
        }
        o[k++] = c;
        sp = false;
    }
    while (k && o[k - 1] == ' ') k--;
    o[k] = '\0';
    /* Folded replies arrive as one line: drop the repeated "550-5.7.1 " of
     * each continuation after the first. */
    size_t first = rp_reply_prefix(o, k);
    if (first) {
        size_t w = first;
        for (size_t r = first; r < k;) {
            size_t pl = o[r] == ' ' && r + 4 <= k && memcmp(o + r + 1, o, 3) == 0
                            ? rp_reply_prefix(o + r + 1, k - r - 1)
                            : 0;
            if (pl) {
                o[w++] = ' ';
                r += 1 + pl;
                continue;
            }
            o[w++] = o[r++];
        }
        k = w;
        while (k && o[k - 1] == ' ') k--;
        o[k] = '\0';
    }
    return o;
}

static bool rp_is_daemon(const char *a)
{
    static const char *const daemons[] = {"mailer-daemon@",
                                          "postmaster@",
                                          "mailer_daemon@",
                                          "mail-daemon@",
                                          "maildaemon@",
                                          "mailerdaemon@",
                                          "noreply@",
                                          "no-reply@",
                                          "bounce@",
                                          "bounces@",
                                          "root@",
                                          "double-bounce@",
                                          NULL};
    for (const char *const *d = daemons; *d; d++)
        if (strncmp(a, *d, strlen(*d)) == 0) return true;
    return false;
}

struct rp_cand {
    char addr[RP_ADDR_MAX];
    size_t pos; /* first occurrence in the text, or SIZE_MAX */
};

static bool rp_line_is_noise(const char *lt, size_t n, size_t at)
{
    size_t ls = at;
    while (ls > 0 && lt[ls - 1] != '\n') ls--;
    size_t le = at;
    while (le < n && lt[le] != '\n') le++;
    static const char *const noise[] = {
        "message-id",  "in-reply-to", "references:", "mail from:",   "mail from: ", "envelope-from",
        "return-path", "from:",       "sender:",     "reply-to:",    "x-",          "list-",
        "http://",     "https://",    "contact",     "send mail to", NULL};
    size_t at_rel = at - ls;
    for (const char *const *p = noise; *p; p++) {
        const char *f = memmem(lt + ls, le - ls, *p, strlen(*p));
        if (f && (size_t)(f - (lt + ls)) < at_rel) {
            /* "x-" and "from:" only count at the line start (a header) */
            if (((*p)[0] == 'x' && (*p)[1] == '-') || strcmp(*p, "from:") == 0 ||
                strcmp(*p, "sender:") == 0 || strcmp(*p, "reply-to:") == 0 ||
                strcmp(*p, "list-") == 0) {
                size_t k = ls;
                while (k < le && lt[k] == ' ') k++;
                if (lt + k != f) continue;
            }
            return true;
        }
    }
    /* Exim names a sender other than the report's addressee on a line of
     * its own under "A message sent by" (its bounce and delay-warning texts,
     * deliver.c): the sender, not a recipient. */
    size_t pe = ls;
    while (pe > 0 && (lt[pe - 1] == '\n' || lt[pe - 1] == ' ' || lt[pe - 1] == '\r')) pe--;
    if (pe >= 17 && memcmp(lt + pe - 17, "a message sent by", 17) == 0) return true;
    /* "... from <addr>" about the sender: "sender <a>", "from <a>" */
    if (at_rel >= 6) {
        const char *lt_ = memchr(lt + ls, '<', at_rel);
        if (lt_ && lt_ + 1 == lt + at) {
        }
    }
    return false;
}

/* The MTAs' own delay warnings, sent while they still retry: Exim's default
 * warning ("A message that you sent has not yet been delivered to one or more
 * of its recipients after more than 24 hours on the queue", deliver.c; Exim
 * specification, delay_warning), Postfix's delayed-mail notice ("THIS IS A
 * WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE.", bounce(8) templates,
 * delay_template) and Sendmail's ("THIS IS A WARNING MESSAGE ONLY", "Warning:
 * message still undelivered after", savemail.c / the warning of
 * Timeout.queuewarn) and OpenSMTPD's ("A message is delayed for more than N
 * for the following list of recipients", "Please note that this is only a
 * temporary failure report.", bounce.c). Their recipients are delayed, not
 * failed. Matched on the text with its white space runs made one (line wraps
 * vary). */
static const char *const rp_delay_warnings[] = {
    "has not yet been delivered to one or more of its recipients",
    "the address to which the message has not yet been delivered",
    "the addresses to which the message has not yet been delivered",
    "this is a warning only. you do not need to resend your message",
    "this is a warning message only",
    "message still undelivered after",
    "this is only a temporary failure report",
    "a message is delayed for more than",
    NULL};

/* How much of a text bounce is searched for a delay warning's words: the
 * MTAs write them in the first lines, before any transcript or returned
 * message. */
#define RP_TEXT_WARNING_SCAN 4096

static bool rp_is_delay_warning(const char *lt, size_t n)
{
    char stackbuf[RP_TEXT_WARNING_SCAN];
    size_t m = 0;
    for (size_t i = 0; i < n && m + 1 < sizeof stackbuf; i++) {
        char c = lt[i];
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
        if (c == ' ' && (m == 0 || stackbuf[m - 1] == ' ')) continue;
        stackbuf[m++] = c;
    }
    stackbuf[m] = '\0';
    for (const char *const *p = rp_delay_warnings; *p; p++)
        if (strstr(stackbuf, *p)) return true;
    return false;
}

int rp_text_bounce(const struct rp_msg *m, const char *text, size_t n, struct homing_report *r,
                   const char *exclude[], size_t n_exclude, const char *failed_hdr)
{
    (void)m;
    int rc = 0;
    char *lt = malloc(n + 1);
    struct rp_cand *c = calloc(HOMING_REPORT_RCPTS_MAX, sizeof *c);
    if (!lt || !c) {
        free(lt);
        free(c);
        return -ENOMEM;
    }
    memcpy(lt, text, n);
    lt[n] = '\0';
    rp_lower(lt, n);
    size_t nc = 0;
    bool warning = rp_is_delay_warning(lt, n);
    /* Exim's delay warning (deliver.c, the default warning text) lists each
     * address that is still waiting with its own "Delay reason:" line under
     * it when it has one: there an address without that line has no known
     * cause, and the text as a whole speaks for the other addresses only. */
    bool own_causes = warning && rp_memmem_ci(lt, n, "delay reason:") != NULL;

    if (failed_hdr && *failed_hdr) {
        /* X-Failed-Recipients: a comma-separated list */
        const char *p = failed_hdr;
        while (*p && nc < HOMING_REPORT_RCPTS_MAX) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            char one[RP_ADDR_MAX];
            if (l < sizeof one) {
                memcpy(one, p, l);
                one[l] = '\0';
                if (rp_addr(one, c[nc].addr, sizeof c[nc].addr) > 0 && strchr(c[nc].addr, '@')) {
                    bool dup = false;
                    for (size_t k = 0; k < nc; k++)
                        if (strcmp(c[k].addr, c[nc].addr) == 0) dup = true;
                    if (!dup) {
                        const char *f = strstr(lt, c[nc].addr);
                        c[nc].pos = f ? (size_t)(f - lt) : (size_t)-1;
                        nc++;
                    }
                }
            }
            if (!e) break;
            p = e + 1;
        }
    }
    if (nc == 0) {
        for (const char *at = memchr(lt, '@', n); at && nc < HOMING_REPORT_RCPTS_MAX;
             at = memchr(at + 1, '@', n - (size_t)(at + 1 - lt))) {
            size_t s, l;
            if (!rp_addr_around(lt, n, (size_t)(at - lt), &s, &l)) continue;
            if (l >= RP_ADDR_MAX) continue;
            char a[RP_ADDR_MAX];
            memcpy(a, lt + s, l);
            a[l] = '\0';
            if (rp_is_daemon(a)) continue;
            bool skip = false;
            /* An address that starts its line is a recipient list entry
             * even when it is also the sender's (mail to oneself). */
            size_t ls = s;
            while (ls > 0 && (lt[ls - 1] == ' ' || lt[ls - 1] == '<' || lt[ls - 1] == '"' ||
                              lt[ls - 1] == '\t'))
                ls--;
            bool line_start = ls == 0 || lt[ls - 1] == '\n';
            for (size_t k = 0; k < n_exclude && !skip && !line_start; k++)
                if (exclude[k] && strcmp(exclude[k], a) == 0) skip = true;
            for (size_t k = 0; k < nc && !skip; k++)
                if (strcmp(c[k].addr, a) == 0) skip = true;
            if (skip || rp_line_is_noise(lt, n, s)) continue;
            memcpy(c[nc].addr, a, l + 1);
            c[nc].pos = s;
            nc++;
        }
    }

    for (size_t i = 0; i < nc; i++) {
        struct homing_report_rcpt *x;
        if ((rc = rp_rcpt_add(r, &x)) < 0) break;
        x->address = strdup(c[i].addr);
        if (!x->address) {
            rc = -ENOMEM;
            break;
        }
        /* The block: from the start of the recipient's line to the start of
         * the next recipient's line. */
        size_t bs = 0, be = n;
        if (c[i].pos != (size_t)-1) {
            bs = c[i].pos;
            while (bs > 0 && lt[bs - 1] != '\n') bs--;
            size_t nextpos = (size_t)-1;
            for (size_t k = 0; k < nc; k++)
                if (c[k].pos != (size_t)-1 && c[k].pos > c[i].pos && c[k].pos < nextpos)
                    nextpos = c[k].pos;
            if (nextpos != (size_t)-1) {
                be = nextpos;
                while (be > bs && lt[be - 1] != '\n') be--;
                if (be <= bs) be = nextpos;
            }
        }
        const char *bl = lt + bs;
        size_t bn = be - bs;
        char st[16] = "", rcode[4] = "";
        bool has_st = rp_find_status(text + bs, bn, st, sizeof st);
        bool has_rc = rp_find_reply(text + bs, bn, rcode, sizeof rcode);
        const char *why = rp_reason_text(bl, bn);
        if (!why && !has_st && !has_rc && (bs != 0 || be != n) && !own_causes) {
            /* nothing in the block: the text as a whole speaks for all */
            bl = lt;
            bn = n;
            has_st = rp_find_status(text, n, st, sizeof st);
            has_rc = rp_find_reply(text, n, rcode, sizeof rcode);
            why = rp_reason_text(bl, bn);
            bs = 0;
        }
        if (has_st) x->status = strdup(st);
        if (has_rc) x->reply_code = strdup(rcode);
        x->action = strdup(st[0] == '4' || rcode[0] == '4' || warning ? "delayed" : "failed");
        x->reason = rp_reason_classify(why, bl, bn, has_st ? st : NULL, has_rc ? rcode : NULL,
                                       x->action, rp_smtp_commands(bl, bn), NULL);
        x->diagnostic = rp_collapse(text + bs, bn, RP_DIAG_MAX);
        if (!x->action || !x->diagnostic) {
            rc = -ENOMEM;
            break;
        }
    }
    free(lt);
    free(c);
    return rc < 0 && rc != -E2BIG ? rc : 0;
}

const char *rp_memmem_ci(const char *h, size_t hn, const char *needle)
{
    size_t nl = strlen(needle);
    if (nl == 0) return h;
    if (hn < nl) return NULL;
    /* Candidates are found with memchr on both cases of the first byte, so
     * the scan runs at memchr speed over long bodies. */
    char lo = needle[0], up = needle[0];
    if (lo >= 'A' && lo <= 'Z') lo = (char)(lo + 32);
    if (up >= 'a' && up <= 'z') up = (char)(up - 32);
    const char *end = h + hn - nl + 1;
    const char *pl = memchr(h, lo, (size_t)(end - h));
    const char *pu = lo == up ? NULL : memchr(h, up, (size_t)(end - h));
    while (pl || pu) {
        const char *p = pl && (!pu || pl < pu) ? pl : pu;
        if (strncasecmp(p + 1, needle + 1, nl - 1) == 0) return p;
        if (p == pl)
            pl = p + 1 < end ? memchr(p + 1, lo, (size_t)(end - p - 1)) : NULL;
        else
            pu = p + 1 < end ? memchr(p + 1, up, (size_t)(end - p - 1)) : NULL;
    }
    return NULL;
}
