/*
 * maillog.c: the pure parser of Postfix and Exim log lines (homing ingest-log).
 *
 * Contract: see homing/delivery.h. No allocation, no state: one line in, the
 * fields homing needs out, each cut at its named limit. Lines are attacker-
 * influenced (addresses and reply texts come from remote servers), so every
 * scan is bounded by the line's length and the parser has a fuzz target
 * (fuzz/fuzz_maillog.c).
 *
 * Postfix:  [TIME] HOST postfix[/-...]/SERVICE[PID]: QUEUEID: key=value, ...
 *   TIME is BSD syslog ("Nov 22 20:41:36") or RFC 3339 (rsyslog, and Postfix
 *   3.4+'s own maillog_file); the lines used are cleanup's message-id= and the
 *   delivery agents' to=<...>, ..., dsn=X.Y.Z, status=WORD (TEXT).
 * Exim:     DATE TIME [+ZONE] [[PID]] ID FLAG ADDR ...
 *   "<=" arrival (id= the Message-ID), "=>" and "->" delivery, "**" bounce,
 *   "==" deferral.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "homing/delivery.h"
#include "homing/util.h"

#define MAILLOG_TIME_FIELDS_MAX 40 /* bytes of a time stamp we look at */

struct ml_cur {
    const char *p, *end;
};

static void ml_copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap) n = cap - 1;
    /* Control bytes never reach the store or a terminal. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    dst[n] = '\0';
}

static const char *ml_find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; p + n <= end; p++)
        if (memcmp(p, needle, n) == 0) return p;
    return NULL;
}

static int ml_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return 1;
}

static int ml_num(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (p[i] - '0');
    return v;
}

static int64_t ml_epoch(int y, int mo, int d, int h, int mi, int s)
{
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return 0;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm);
    return t < 0 ? 0 : (int64_t)t * 1000000;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac][Z|+hh:mm]" (RFC 3339) or "YYYY-MM-DD HH:MM:SS"
 * (Exim): consumes it and following blanks. Offsets are applied. */
static int64_t ml_iso(struct ml_cur *c)
{
    const char *p = c->p;
    if (c->end - p < 19 || !ml_digits(p, 4) || p[4] != '-' || !ml_digits(p + 5, 2) || p[7] != '-' ||
        !ml_digits(p + 8, 2) || (p[10] != 'T' && p[10] != ' ') || !ml_digits(p + 11, 2) ||
        p[13] != ':' || !ml_digits(p + 14, 2) || p[16] != ':' || !ml_digits(p + 17, 2))
        return -1;
    int64_t t = ml_epoch(ml_num(p, 4), ml_num(p + 5, 2), ml_num(p + 8, 2), ml_num(p + 11, 2),
                         ml_num(p + 14, 2), ml_num(p + 17, 2));
    p += 19;
    if (p < c->end && *p == '.')
        for (p++; p < c->end && *p >= '0' && *p <= '9'; p++) {
        }
    if (p < c->end && *p == 'Z') p++;
    /* "+hh:mm" directly, or Exim's " +hhmm" after a blank */
    const char *z = p;
    if (z < c->end && *z == ' ' && z + 1 < c->end && (z[1] == '+' || z[1] == '-')) z++;
    if (z < c->end && (*z == '+' || *z == '-')) {
        int sign = *z == '-' ? -1 : 1;
        z++;
        if (c->end - z >= 5 && ml_digits(z, 2) && z[2] == ':' && ml_digits(z + 3, 2)) {
            if (t) t -= sign * (int64_t)(ml_num(z, 2) * 3600 + ml_num(z + 3, 2) * 60) * 1000000;
            p = z + 5;
        } else if (c->end - z >= 4 && ml_digits(z, 4)) {
            if (t) t -= sign * (int64_t)(ml_num(z, 2) * 3600 + ml_num(z + 2, 2) * 60) * 1000000;
            p = z + 4;
        }
    }
    while (p < c->end && *p == ' ') p++;
    c->p = p;
    return t;
}

/* "Mmm dd hh:mm:ss" (no year: the one that puts the time nearest to now). */
static int64_t ml_bsd(struct ml_cur *c, int64_t now_us)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *p = c->p;
    if (c->end - p < 15) return -1;
    const char *m = NULL;
    for (int i = 0; i < 12; i++)
        if (memcmp(p, months + 3 * i, 3) == 0) m = months + 3 * i;
    if (!m || p[3] != ' ') return -1;
    int mon = (int)(m - months) / 3 + 1;
    const char *d = p + 4;
    if (*d == ' ') d++;
    if (c->end - d < 11) return -1;
    size_t dl = d[1] == ' ' ? 1 : 2;
    if (!ml_digits(d, dl) || d[dl] != ' ') return -1;
    const char *h = d + dl + 1;
    if (c->end - h < 8 || !ml_digits(h, 2) || h[2] != ':' || !ml_digits(h + 3, 2) || h[5] != ':' ||
        !ml_digits(h + 6, 2))
        return -1;
    time_t now = (time_t)(now_us / 1000000);
    struct tm tm;
    gmtime_r(&now, &tm);
    int year = tm.tm_year + 1900;
    int64_t t =
        ml_epoch(year, mon, ml_num(d, dl), ml_num(h, 2), ml_num(h + 3, 2), ml_num(h + 6, 2));
    /* a December line read in January belongs to last year */
    if (t && t - now_us > (int64_t)31 * 86400 * 1000000)
        t = ml_epoch(year - 1, mon, ml_num(d, dl), ml_num(h, 2), ml_num(h + 3, 2),
                     ml_num(h + 6, 2));
    const char *p2 = h + 8;
    while (p2 < c->end && *p2 == ' ') p2++;
    c->p = p2;
    return t;
}

static size_t ml_word(struct ml_cur *c, const char **w)
{
    *w = c->p;
    while (c->p < c->end && *c->p != ' ') c->p++;
    size_t n = (size_t)(c->p - *w);
    while (c->p < c->end && *c->p == ' ') c->p++;
    return n;
}

/* The value of "name=" in a Postfix key=value list ending at ", " (or at a
 * '(' text for status=). Angle brackets are taken off. */
static int ml_kv(const char *p, const char *end, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *q = p; q + nl < end; q++) {
        if ((q == p || q[-1] == ' ') && memcmp(q, name, nl) == 0 && q[nl] == '=') {
            const char *v = q + nl + 1, *e = v;
            if (e < end && *e == '<') {
                const char *gt = memchr(e, '>', (size_t)(end - e));
                if (!gt) return -1;
                ml_copy(dst, cap, v + 1, (size_t)(gt - v - 1));
                return 0;
            }
            while (e < end && *e != ',' && *e != ' ') e++;
            ml_copy(dst, cap, v, (size_t)(e - v));
            return 0;
        }
    }
    return -1;
}

static int ml_postfix(struct ml_cur *c, struct homing_maillog_line *o)
{
    const char *w;
    size_t n = ml_word(c, &w); /* host */
    if (!n) return 0;
    n = ml_word(c, &w); /* postfix/smtp[123]: */
    if (n < 2 || w[n - 1] != ':' || !ml_find(w, w + n, "postfix")) return 0;
    const char *slash = memchr(w, '/', n);
    if (!slash) return 0;
    const char *svc = slash + 1, *svc_end = memchr(svc, '[', (size_t)(w + n - svc));
    if (!svc_end) svc_end = w + n - 1;
    size_t svl = (size_t)(svc_end - svc);
    n = ml_word(c, &w); /* QUEUEID: */
    if (n < 6 || n > HOMING_MAILLOG_QID_MAX || w[n - 1] != ':') return 0;
    for (size_t i = 0; i + 1 < n; i++) {
        char ch = w[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
            return 0;
    }
    ml_copy(o->qid, sizeof o->qid, w, n - 1);
    const char *rest = c->p, *end = c->end;
    if (svl == 7 && memcmp(svc, "cleanup", 7) == 0) {
        if (ml_kv(rest, end, "message-id", o->message_id, sizeof o->message_id) == 0 &&
            o->message_id[0])
            o->kind = HOMING_MAILLOG_MSGID;
        return 0;
    }
    /* Delivery agents (smtp, lmtp, local, virtual, pipe, error, discard, and
     * bounce's own "status=bounced" for a refused recipient). */
    if (end - rest < 4 || memcmp(rest, "to=<", 4) != 0) return 0;
    char st[16];
    if (ml_kv(rest, end, "to", o->to, sizeof o->to) < 0 ||
        ml_kv(rest, end, "status", st, sizeof st) < 0)
        return 0;
    if (strcmp(st, "sent") == 0 || strcmp(st, "deliverable") == 0)
        o->status = HOMING_MAILLOG_DELIVERED;
    else if (strcmp(st, "deferred") == 0 || strcmp(st, "undeliverable") == 0)
        o->status = HOMING_MAILLOG_DEFERRED;
    else if (strcmp(st, "bounced") == 0 || strcmp(st, "expired") == 0)
        o->status = HOMING_MAILLOG_BOUNCED;
    else
        return 0;
    /* "deliverable"/"undeliverable" come from address verification probes, not
     * from mail: they say nothing about a message. */
    if (strcmp(st, "deliverable") == 0 || strcmp(st, "undeliverable") == 0) return 0;
    ml_kv(rest, end, "orig_to", o->orig_to, sizeof o->orig_to);
    ml_kv(rest, end, "dsn", o->dsn, sizeof o->dsn);
    ml_kv(rest, end, "relay", o->relay, sizeof o->relay);
    const char *s = ml_find(rest, end, "status=");
    const char *paren = s ? memchr(s, '(', (size_t)(end - s)) : NULL;
    if (paren) {
        const char *e = end;
        if (e > paren + 1 && e[-1] == ')') e--;
        ml_copy(o->text, sizeof o->text, paren + 1, (size_t)(e - paren - 1));
    }
    o->kind = HOMING_MAILLOG_RESULT;
    return 0;
}

static int ml_exim_id(const char *w, size_t n)
{
    /* 1tABCd-000123-AB (16) or 1tABCd-00000000123-ABCD (23, Exim 4.97+) */
    if (n != 16 && n != 23) return 0;
    size_t d1 = 6, d2 = n == 16 ? 13 : 18;
    for (size_t i = 0; i < n; i++) {
        char ch = w[i];
        int alnum =
            (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
        if (i == d1 || i == d2) {
            if (ch != '-') return 0;
        } else if (!alnum)
            return 0;
    }
    return 1;
}

/* The value of an Exim " K=value" field (quoted values allowed). */
static void ml_exim_field(const char *p, const char *end, const char *k, char *dst, size_t cap)
{
    size_t kl = strlen(k);
    for (const char *q = p + 1; q + kl < end; q++) {
        if (q[-1] == ' ' && memcmp(q, k, kl) == 0 && q[kl] == '=') {
            const char *v = q + kl + 1, *e;
            if (v < end && *v == '"') {
                v++;
                e = memchr(v, '"', (size_t)(end - v));
                if (!e) e = end;
            } else {
                e = v;
                while (e < end && *e != ' ') e++;
            }
            ml_copy(dst, cap, v, (size_t)(e - v));
            return;
        }
    }
}

static int ml_exim(struct ml_cur *c, struct homing_maillog_line *o)
{
    const char *w;
    size_t n = ml_word(c, &w);
    if (n >= 3 && w[0] == '[' && w[n - 1] == ']') n = ml_word(c, &w); /* [pid] */
    if (!ml_exim_id(w, n)) return 0;
    ml_copy(o->qid, sizeof o->qid, w, n);
    const char *flag;
    size_t fl = ml_word(c, &flag);
    if (fl != 2) return 0;
    const char *addr;
    size_t al = ml_word(c, &addr);
    if (!al) return 0;
    const char *rest = c->p - 1, *end = c->end;
    if (memcmp(flag, "<=", 2) == 0) {
        ml_exim_field(rest, end, "id", o->message_id, sizeof o->message_id);
        if (o->message_id[0]) o->kind = HOMING_MAILLOG_MSGID;
        return 0;
    }
    if (memcmp(flag, "=>", 2) == 0 || memcmp(flag, "->", 2) == 0)
        o->status = HOMING_MAILLOG_DELIVERED;
    else if (memcmp(flag, "**", 2) == 0)
        o->status = HOMING_MAILLOG_BOUNCED;
    else if (memcmp(flag, "==", 2) == 0)
        o->status = HOMING_MAILLOG_DEFERRED;
    else
        return 0;
    if (addr[0] == '<' && al >= 2 && addr[al - 1] == '>') {
        addr++;
        al -= 2;
    }
    ml_copy(o->to, sizeof o->to, addr, al);
    /* "bob@x.org <orig@y.org>": the original address follows in brackets */
    if (c->p < end && *c->p == '<') {
        const char *gt = memchr(c->p, '>', (size_t)(end - c->p));
        if (gt) ml_copy(o->orig_to, sizeof o->orig_to, c->p + 1, (size_t)(gt - c->p - 1));
    }
    ml_exim_field(rest, end, "H", o->relay, sizeof o->relay);
    if (o->status == HOMING_MAILLOG_DELIVERED) {
        ml_exim_field(rest, end, "C", o->text, sizeof o->text);
    } else {
        /* the text after ": " names the error (SMTP reply, or Exim's reason) */
        const char *colon = ml_find(rest, end, ": ");
        if (colon) ml_copy(o->text, sizeof o->text, colon + 2, (size_t)(end - colon - 2));
    }
    /* an enhanced status code in the reply text, e.g. "550 5.1.1" */
    for (const char *q = o->text; *q; q++) {
        if ((q[0] == '2' || q[0] == '4' || q[0] == '5') && q[1] == '.' &&
            (q == o->text || q[-1] == ' ')) {
            size_t k = strspn(q, "0123456789.");
            if (k >= 5 && k < sizeof o->dsn) ml_copy(o->dsn, sizeof o->dsn, q, k);
            break;
        }
    }
    o->kind = HOMING_MAILLOG_RESULT;
    return 0;
}

int homing_maillog_parse(int flavour, const char *line, size_t len, int64_t now_us,
                         struct homing_maillog_line *out)
{
    if (!out || (len && !line)) return -EINVAL;
    if (flavour != HOMING_MAILLOG_POSTFIX && flavour != HOMING_MAILLOG_EXIM) return -EINVAL;
    memset(out, 0, sizeof *out);
    if (len > HOMING_MAILLOG_LINE_MAX) return -E2BIG;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    struct ml_cur c = {line, line + len};
    int64_t t = ml_iso(&c);
    if (t < 0 && flavour == HOMING_MAILLOG_POSTFIX) t = ml_bsd(&c, now_us);
    if (t < 0) return 0;
    out->time_us = t;
    int r = flavour == HOMING_MAILLOG_POSTFIX ? ml_postfix(&c, out) : ml_exim(&c, out);
    if (out->kind == HOMING_MAILLOG_OTHER) {
        int64_t keep = out->time_us;
        memset(out, 0, sizeof *out);
        out->time_us = keep;
    }
    return r;
}
