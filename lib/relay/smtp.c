/*
 * smtp.c: the SMTP server's command parser (RFC 5321 with the ESMTP
 * parameters of SIZE (RFC 1870), 8BITMIME (RFC 6152), DSN (RFC 3461) and
 * AUTH (RFC 4954)) and the DATA decoder, for `homing relay`.
 *
 * Contract: homing/relay.h. Strict by design: a path is a Mailbox as RFC 5321
 * 4.1.2 writes it (ASCII only: the relay does not offer SMTPUTF8), each
 * parameter once, each value in its grammar, and only the parameters the
 * relay announces. One leniency, because common clients need it: spaces
 * between "FROM:" / "TO:" and the path. Reasons in err never quote the
 * client's bytes, so a caller can send them back or log them as they are.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "homing/relay.h"

#define SMTP_ERR(code, ...)                                                                        \
    do {                                                                                           \
        if (err && errcap) snprintf(err, errcap, __VA_ARGS__);                                     \
        return code;                                                                               \
    } while (0)

static int smtp_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int smtp_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 5322 atext */
static int smtp_atext(int c)
{
    return smtp_alpha(c) || smtp_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static const struct {
    const char *name;
    int verb;
    size_t max; /* line length with CRLF */
} smtp_verbs[] = {
    {"HELO", HOMING_SMTP_HELO, HOMING_SMTP_LINE_MAX},
    {"EHLO", HOMING_SMTP_EHLO, HOMING_SMTP_LINE_MAX},
    {"MAIL", HOMING_SMTP_MAIL, HOMING_SMTP_MAIL_LINE_MAX},
    {"RCPT", HOMING_SMTP_RCPT, HOMING_SMTP_RCPT_LINE_MAX},
    {"DATA", HOMING_SMTP_DATA, HOMING_SMTP_LINE_MAX},
    {"RSET", HOMING_SMTP_RSET, HOMING_SMTP_LINE_MAX},
    {"NOOP", HOMING_SMTP_NOOP, HOMING_SMTP_LINE_MAX},
    {"QUIT", HOMING_SMTP_QUIT, HOMING_SMTP_LINE_MAX},
    {"VRFY", HOMING_SMTP_VRFY, HOMING_SMTP_LINE_MAX},
    {"HELP", HOMING_SMTP_HELP, HOMING_SMTP_LINE_MAX},
    {"STARTTLS", HOMING_SMTP_STARTTLS, HOMING_SMTP_LINE_MAX},
    {"AUTH", HOMING_SMTP_AUTH, HOMING_SMTP_AUTH_LINE_MAX},
};

/* A domain (RFC 5321 4.1.2 Domain: sub-domains of Let-dig [Ldh-str]) or an
 * address literal ("[" 1*dcontent "]"; its inside is checked for printable
 * ASCII only: the relay never connects to it). Returns its length or 0. */
static size_t smtp_domain(const char *p, size_t n)
{
    if (n && p[0] == '[') {
        size_t i = 1;
        while (i < n && p[i] != ']') {
            if (p[i] < 33 || p[i] > 126 || p[i] == '[' || p[i] == '\\') return 0;
            i++;
        }
        return i < n && i > 1 ? i + 1 : 0;
    }
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && (smtp_alpha(p[i]) || smtp_digit(p[i]) || p[i] == '-')) i++;
        if (i == start || p[start] == '-' || p[i - 1] == '-' || i - start > 63) return 0;
        if (i < n && p[i] == '.' && i + 1 < n && (smtp_alpha(p[i + 1]) || smtp_digit(p[i + 1]))) {
            i++;
            continue;
        }
        return i > HOMING_SMTP_DOMAIN_MAX ? 0 : i;
    }
}

/* A Mailbox: Local-part "@" Domain, the local part a Dot-string or a
 * Quoted-string. Returns its length or 0. */
static size_t smtp_mailbox(const char *p, size_t n)
{
    size_t i = 0;
    if (n && p[0] == '"') {
        for (i = 1; i < n && p[i] != '"'; i++) {
            if (p[i] == '\\') {
                if (++i >= n || p[i] < 32 || p[i] > 126) return 0;
            } else if (p[i] < 32 || p[i] > 126) {
                return 0;
            }
        }
        if (i >= n) return 0;
        i++;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && smtp_atext((unsigned char)p[i])) i++;
            if (i == start) return 0;
            if (i < n && p[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i > HOMING_SMTP_LOCAL_MAX || i >= n || p[i] != '@') return 0;
    size_t d = smtp_domain(p + i + 1, n - i - 1);
    return d ? i + 1 + d : 0;
}

/* "<" [ A-d-l ":" ] Mailbox ">" (or "<>" when null_ok, or "<Postmaster>"
 * for RCPT). The mailbox goes to out; returns the bytes consumed or 0. */
static size_t smtp_path(const char *p, size_t n, int null_ok, int postmaster_ok, char *out)
{
    if (n < 2 || p[0] != '<') return 0;
    if (p[1] == '>') {
        if (!null_ok) return 0;
        out[0] = '\0';
        return 2;
    }
    size_t i = 1;
    if (p[i] == '@') { /* a source route: read and ignored (RFC 5321 4.1.2) */
        for (;;) {
            if (i >= n || p[i] != '@') return 0;
            size_t d = smtp_domain(p + i + 1, n - i - 1);
            if (!d) return 0;
            i += 1 + d;
            if (i < n && p[i] == ',') {
                i++;
                continue;
            }
            if (i >= n || p[i] != ':') return 0;
            i++;
            break;
        }
    }
    size_t m = smtp_mailbox(p + i, n - i);
    if (!m && postmaster_ok && n - i >= 11 && !strncasecmp(p + i, "postmaster>", 11)) m = 10;
    if (!m || i + m >= n || p[i + m] != '>' || m + 2 > HOMING_SMTP_PATH_MAX) return 0;
    memcpy(out, p + i, m);
    out[m] = '\0';
    return i + m + 1;
}

/* xtext (RFC 3461 4): "+" two upper-case hex digits, or a byte 33..126
 * other than '+' and '='. Decoded into out (cap with its NUL). */
static int smtp_xtext(const char *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '+') {
            if (i + 2 >= n) return -EINVAL;
            int v = 0;
            for (int j = 1; j <= 2; j++) {
                char h = p[i + j];
                v = v * 16 + (smtp_digit(h) ? h - '0' : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -999);
            }
            if (v < 0) return -EINVAL;
            c = (unsigned char)v;
            i += 2;
        } else if (c < 33 || c > 126 || c == '=') {
            return -EINVAL;
        }
        if (k + 1 >= cap) return -E2BIG;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return 0;
}

static int smtp_param(const char *kw, size_t kn, const char *val, size_t vn, int has_val, int verb,
                      struct homing_smtp_cmd *c, unsigned *seen, char *err, size_t errcap)
{
#define KW(s) (kn == sizeof s - 1 && !strncasecmp(kw, s, kn))
    unsigned bit;
    if (verb == HOMING_SMTP_MAIL && KW("SIZE"))
        bit = 1;
    else if (verb == HOMING_SMTP_MAIL && KW("BODY"))
        bit = 2;
    else if (verb == HOMING_SMTP_MAIL && KW("RET"))
        bit = 4;
    else if (verb == HOMING_SMTP_MAIL && KW("ENVID"))
        bit = 8;
    else if (verb == HOMING_SMTP_MAIL && KW("AUTH"))
        bit = 16;
    else if (verb == HOMING_SMTP_RCPT && KW("NOTIFY"))
        bit = 32;
    else if (verb == HOMING_SMTP_RCPT && KW("ORCPT"))
        bit = 64;
    else
        SMTP_ERR(-ENOSYS, "5.5.4 unsupported parameter");
    if (*seen & bit) SMTP_ERR(-EINVAL, "5.5.4 a parameter given twice");
    *seen |= bit;
    if (!has_val || vn == 0) SMTP_ERR(-EINVAL, "5.5.4 a parameter without its value");
    char tmp[HOMING_SMTP_ORCPT_MAX + 1];
    switch (bit) {
    case 1: {
        unsigned long long v = 0;
        if (vn > 20) SMTP_ERR(-EINVAL, "5.5.4 SIZE out of range");
        for (size_t i = 0; i < vn; i++) {
            if (!smtp_digit(val[i])) SMTP_ERR(-EINVAL, "5.5.4 SIZE must be a number");
            v = v * 10 + (unsigned)(val[i] - '0');
            if (v > HOMING_SMTP_SIZE_MAX) SMTP_ERR(-EINVAL, "5.5.4 SIZE out of range");
        }
        c->size = v;
        c->has_size = 1;
        return 0;
    }
    case 2:
        if (vn == 4 && !strncasecmp(val, "7BIT", 4))
            c->body = HOMING_SMTP_BODY_7BIT;
        else if (vn == 8 && !strncasecmp(val, "8BITMIME", 8))
            c->body = HOMING_SMTP_BODY_8BITMIME;
        else
            SMTP_ERR(-EINVAL, "5.5.4 BODY must be 7BIT or 8BITMIME");
        return 0;
    case 4:
        if (vn == 4 && !strncasecmp(val, "FULL", 4))
            c->ret = HOMING_SMTP_RET_FULL;
        else if (vn == 4 && !strncasecmp(val, "HDRS", 4))
            c->ret = HOMING_SMTP_RET_HDRS;
        else
            SMTP_ERR(-EINVAL, "5.5.4 RET must be FULL or HDRS");
        return 0;
    case 8: {
        int r = smtp_xtext(val, vn, c->envid, sizeof c->envid);
        if (r == -E2BIG) SMTP_ERR(-EINVAL, "5.5.4 ENVID longer than 100 characters");
        if (r < 0) SMTP_ERR(-EINVAL, "5.5.4 ENVID is not xtext");
        return 0;
    }
    case 16: /* RFC 4954 5: the submitter's identity; checked, not used */
        if (vn == 2 && !memcmp(val, "<>", 2)) return 0;
        if (smtp_xtext(val, vn, tmp, sizeof tmp) < 0) SMTP_ERR(-EINVAL, "5.5.4 AUTH= is not xtext");
        return 0;
    case 32: {
        unsigned n = 0;
        size_t i = 0;
        while (i < vn) {
            size_t j = i;
            while (j < vn && val[j] != ',') j++;
            unsigned b = 0;
            if (j - i == 5 && !strncasecmp(val + i, "NEVER", 5))
                b = HOMING_SMTP_NOTIFY_NEVER;
            else if (j - i == 7 && !strncasecmp(val + i, "SUCCESS", 7))
                b = HOMING_SMTP_NOTIFY_SUCCESS;
            else if (j - i == 7 && !strncasecmp(val + i, "FAILURE", 7))
                b = HOMING_SMTP_NOTIFY_FAILURE;
            else if (j - i == 5 && !strncasecmp(val + i, "DELAY", 5))
                b = HOMING_SMTP_NOTIFY_DELAY;
            if (!b || (n & b)) SMTP_ERR(-EINVAL, "5.5.4 bad NOTIFY value");
            n |= b;
            if (j < vn && j + 1 == vn) SMTP_ERR(-EINVAL, "5.5.4 bad NOTIFY value");
            i = j + 1;
        }
        if ((n & HOMING_SMTP_NOTIFY_NEVER) && n != HOMING_SMTP_NOTIFY_NEVER)
            SMTP_ERR(-EINVAL, "5.5.4 NOTIFY=NEVER goes alone");
        c->notify = n;
        return 0;
    }
    default: { /* ORCPT: addr-type ";" xtext, addr-type an atom */
        size_t semi = 0;
        while (semi < vn && val[semi] != ';') {
            if (!smtp_atext((unsigned char)val[semi])) SMTP_ERR(-EINVAL, "5.5.4 bad ORCPT");
            semi++;
        }
        if (semi == 0 || semi >= vn - 1 || vn > HOMING_SMTP_ORCPT_MAX)
            SMTP_ERR(-EINVAL, "5.5.4 bad ORCPT");
        memcpy(tmp, val, semi + 1);
        if (smtp_xtext(val + semi + 1, vn - semi - 1, tmp + semi + 1, sizeof tmp - semi - 1) < 0)
            SMTP_ERR(-EINVAL, "5.5.4 bad ORCPT");
        memcpy(c->orcpt, tmp, strlen(tmp) + 1);
        return 0;
    }
    }
#undef KW
}

int homing_smtp_parse(const char *line, size_t len, struct homing_smtp_cmd *out, char *err,
                      size_t errcap)
{
    if (err && errcap) err[0] = '\0';
    if (!line || !out) SMTP_ERR(-EINVAL, "5.5.2 no command");
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\0' || line[i] == '\r' || line[i] == '\n')
            SMTP_ERR(-EINVAL, "5.5.2 control character in the command");
    size_t vlen = 0;
    while (vlen < len && line[vlen] != ' ') vlen++;
    int verb = 0;
    size_t max = 0;
    for (size_t i = 0; i < sizeof smtp_verbs / sizeof smtp_verbs[0]; i++)
        if (vlen == strlen(smtp_verbs[i].name) && !strncasecmp(line, smtp_verbs[i].name, vlen)) {
            verb = smtp_verbs[i].verb;
            max = smtp_verbs[i].max;
        }
    if (!verb) {
        if (len + 2 > HOMING_SMTP_READ_LINE_MAX) SMTP_ERR(-E2BIG, "5.5.2 line too long");
        SMTP_ERR(-ENOSYS, "5.5.1 command unrecognized");
    }
    if (len + 2 > max) SMTP_ERR(-E2BIG, "5.5.2 line too long");
    struct homing_smtp_cmd c = {.verb = verb};
    const char *rest = line + vlen;
    size_t rn = len - vlen;
    switch (verb) {
    case HOMING_SMTP_DATA:
    case HOMING_SMTP_RSET:
    case HOMING_SMTP_QUIT:
    case HOMING_SMTP_STARTTLS:
        if (rn) SMTP_ERR(-EINVAL, "5.5.4 this command takes no argument");
        break;
    case HOMING_SMTP_NOOP:
    case HOMING_SMTP_HELP:
    case HOMING_SMTP_VRFY:
        if (rn) { /* the text is ignored: only its bytes are checked */
            for (size_t i = 1; i < rn; i++)
                if ((unsigned char)rest[i] < 32 || rest[i] == 127)
                    SMTP_ERR(-EINVAL, "5.5.4 control character in the argument");
            memcpy(c.arg, rest + 1, rn - 1);
            c.arg[rn - 1] = '\0';
        }
        if (verb == HOMING_SMTP_VRFY && rn < 2) SMTP_ERR(-EINVAL, "5.5.4 VRFY needs an argument");
        break;
    case HOMING_SMTP_HELO:
    case HOMING_SMTP_EHLO: {
        if (rn < 2 || rest[0] != ' ') SMTP_ERR(-EINVAL, "5.5.4 HELO/EHLO needs a domain");
        size_t d = smtp_domain(rest + 1, rn - 1);
        /* a trailing dot, as some clients send */
        if (d && d + 2 == rn && rest[rn - 1] == '.') d++;
        if (d + 1 != rn) SMTP_ERR(-EINVAL, "5.5.4 HELO/EHLO needs a domain or address literal");
        memcpy(c.arg, rest + 1, rn - 1);
        c.arg[rn - 1] = '\0';
        break;
    }
    case HOMING_SMTP_AUTH: {
        if (rn < 2 || rest[0] != ' ') SMTP_ERR(-EINVAL, "5.5.4 AUTH needs a mechanism");
        size_t i = 1, k = 0;
        while (i < rn && rest[i] != ' ') {
            char ch = rest[i];
            if (!(smtp_alpha(ch) || smtp_digit(ch) || ch == '-' || ch == '_') || k >= 20)
                SMTP_ERR(-EINVAL, "5.5.4 bad SASL mechanism name");
            c.arg[k++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
            i++;
        }
        if (k == 0) SMTP_ERR(-EINVAL, "5.5.4 AUTH needs a mechanism");
        if (i < rn) { /* initial response: base64 or "=" */
            if (i + 1 >= rn) SMTP_ERR(-EINVAL, "5.5.4 empty initial response");
            c.arg[k++] = ' ';
            for (i++; i < rn; i++) {
                char ch = rest[i];
                if (!(smtp_alpha(ch) || smtp_digit(ch) || ch == '+' || ch == '/' || ch == '='))
                    SMTP_ERR(-EINVAL, "5.5.2 initial response is not base64");
                c.arg[k++] = ch;
            }
        }
        c.arg[k] = '\0';
        break;
    }
    default: { /* MAIL FROM:<path> [params] / RCPT TO:<path> [params] */
        int mail = verb == HOMING_SMTP_MAIL;
        const char *kw = mail ? " FROM:" : " TO:";
        size_t kn = strlen(kw);
        if (rn < kn || strncasecmp(rest, kw, kn))
            SMTP_ERR(-EINVAL, mail ? "5.5.2 syntax: MAIL FROM:<address>"
                                   : "5.5.2 syntax: RCPT TO:<address>");
        size_t i = kn;
        while (i < rn && rest[i] == ' ') i++; /* the one leniency (see above) */
        size_t used = smtp_path(rest + i, rn - i, mail, !mail, c.path);
        if (!used)
            SMTP_ERR(-EINVAL, mail ? "5.1.7 bad sender address syntax"
                                   : "5.1.3 bad recipient address syntax");
        i += used;
        unsigned seen = 0;
        size_t nparams = 0;
        while (i < rn) {
            if (rest[i] != ' ' || i + 1 >= rn) SMTP_ERR(-EINVAL, "5.5.4 bad parameter syntax");
            i++;
            size_t ks = i;
            if (!smtp_alpha(rest[i]) && !smtp_digit(rest[i]))
                SMTP_ERR(-EINVAL, "5.5.4 bad parameter syntax");
            while (i < rn && (smtp_alpha(rest[i]) || smtp_digit(rest[i]) || rest[i] == '-')) i++;
            size_t kl = i - ks, vs = i, vl = 0;
            int has_val = 0;
            if (i < rn && rest[i] == '=') {
                has_val = 1;
                vs = ++i;
                while (i < rn && rest[i] > 32 && rest[i] < 127 && rest[i] != '=') i++;
                vl = i - vs;
            }
            if (i < rn && rest[i] != ' ') SMTP_ERR(-EINVAL, "5.5.4 bad parameter syntax");
            if (++nparams > HOMING_SMTP_PARAMS_MAX) SMTP_ERR(-E2BIG, "5.5.4 too many parameters");
            int r = smtp_param(rest + ks, kl, rest + vs, vl, has_val, verb, &c, &seen, err, errcap);
            if (r < 0) return r;
        }
        break;
    }
    }
    *out = c;
    return 0;
}

/* ---- DATA ---- */

enum {
    DATA_BOL = 0, /* at the start of a line */
    DATA_MID,     /* inside a line */
    DATA_CR,      /* after a CR inside a line */
    DATA_DOT,     /* after a '.' at the start of a line */
    DATA_DOT_CR,  /* after "." CR at the start of a line */
};

void homing_smtp_data_init(struct homing_smtp_data *d, struct homing_buf *out, size_t max)
{
    *d = (struct homing_smtp_data){.out = out, .max = max, .state = DATA_BOL};
}

static int data_put(struct homing_smtp_data *d, const char *p, size_t n)
{
    if (d->over) return 0;
    if (d->out->len + n > d->max) {
        d->over = 1;
        return 0;
    }
    return homing_buf_append(d->out, p, n) == -ENOMEM ? -ENOMEM : 0;
}

int homing_smtp_data_feed(struct homing_smtp_data *d, const char *in, size_t n, size_t *used)
{
    size_t i = 0;
    int r = 0;
    for (; i < n && r == 0; i++) {
        char c = in[i];
        switch (d->state) {
        case DATA_BOL:
            if (c == '.') {
                d->state = DATA_DOT;
                continue;
            }
            /* fall through */
        case DATA_MID:
            if (c == '\r') {
                d->state = DATA_CR;
                continue;
            }
            if (c == '\n') d->bare = 1;
            r = data_put(d, &c, 1);
            d->state = DATA_MID;
            continue;
        case DATA_CR:
            if (c == '\n') {
                r = data_put(d, "\r\n", 2);
                d->state = DATA_BOL;
                continue;
            }
            d->bare = 1;
            r = data_put(d, "\r", 1);
            d->state = DATA_MID;
            i--; /* c again, inside the line */
            continue;
        case DATA_DOT:
            if (c == '\r') {
                d->state = DATA_DOT_CR;
                continue;
            }
            /* the stuffed dot is dropped: c starts the line's text */
            d->state = DATA_MID;
            i--;
            continue;
        default: /* DATA_DOT_CR */
            if (c == '\n') {
                *used = i + 1;
                d->state = DATA_BOL;
                if (d->over) return -E2BIG;
                if (d->bare) return -EBADMSG;
                return 1;
            }
            d->bare = 1; /* "." CR then something else: a bare CR */
            r = data_put(d, "\r", 1);
            d->state = DATA_MID;
            i--;
            continue;
        }
    }
    *used = i;
    return r;
}

/* ---- AUTH ---- */

int homing_smtp_auth_b64(const char *b64, size_t len, char *out, size_t cap)
{
    if (!b64 || !out || cap == 0) return -EINVAL;
    if (len == 1 && b64[0] == '*') return -ECANCELED;
    if (len == 1 && b64[0] == '=') { /* RFC 4954 4: an empty response */
        out[0] = '\0';
        return 0;
    }
    if (len % 4) return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char ch = b64[i];
        if (!(smtp_alpha(ch) || smtp_digit(ch) || ch == '+' || ch == '/' ||
              (ch == '=' && i + 2 >= len)))
            return -EINVAL;
    }
    int n = homing_base64_decode(b64, len, (uint8_t *)out, cap - 1, 0);
    if (n < 0) return n;
    out[n] = '\0';
    return n;
}

int homing_smtp_auth_plain(const char *b64, size_t len, char *user, size_t ucap, char *pass,
                           size_t pcap)
{
    char buf[HOMING_RELAY_USER_MAX * 2 + HOMING_RELAY_PASS_MAX + 4];
    int n = homing_smtp_auth_b64(b64, len, buf, sizeof buf);
    if (n < 0) return n;
    const char *authz = buf, *nul1 = memchr(buf, '\0', (size_t)n);
    if (!nul1 || nul1 + 1 >= buf + n) return -EINVAL;
    const char *authc = nul1 + 1, *nul2 = memchr(authc, '\0', (size_t)(buf + n - authc));
    if (!nul2) return -EINVAL;
    const char *pw = nul2 + 1;
    size_t pl = (size_t)(buf + n - pw), al = (size_t)(nul2 - authc);
    if (memchr(pw, '\0', pl)) return -EINVAL;
    if (al + 1 > ucap || pl + 1 > pcap || al == 0) return -E2BIG;
    if (*authz && strcmp(authz, authc)) return -EPERM;
    memcpy(user, authc, al + 1);
    memcpy(pass, pw, pl);
    pass[pl] = '\0';
    memset(buf, 0, sizeof buf);
    return 0;
}

int homing_relay_user_ok(const char *name)
{
    if (!name) return 0;
    size_t n = strlen(name);
    if (n == 0 || n >= HOMING_RELAY_USER_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] <= 32 || name[i] >= 127 || name[i] == ':') return 0;
    return 1;
}
