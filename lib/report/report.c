/*
 * report.c: homing_report_parse, the entry point of the report parser (see
 * homing/report.h for the contract, docs/internals/report.md for the design).
 *
 * Order of decisions, and why:
 *   1. ARF (message/feedback-report) and MDN (message/disposition-notification)
 *      are recognised by their machine-readable part first: they are never
 *      bounces whatever their text says.
 *   2. A DSN's message/(global-)delivery-status part is authoritative for its
 *      recipients; the human-readable part only fills in a missing diagnostic.
 *   3. Otherwise a message that looks like a bounce (daemon sender, bounce
 *      subject, X-Failed-Recipients, bounce wording) is read from its text.
 *   4. Only then is an auto-reply recognised: Exim and others mark their
 *      bounces "Auto-Submitted: auto-replied" too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "homing/report.h"
#include "report_int.h"

int rp_msg_walk(struct rp_msg *m);

const char *homing_report_kind_name(enum homing_report_kind kind)
{
    switch (kind) {
    case HOMING_REPORT_DSN: return "dsn";
    case HOMING_REPORT_BOUNCE: return "bounce";
    case HOMING_REPORT_MDN: return "mdn";
    case HOMING_REPORT_ARF: return "arf";
    case HOMING_REPORT_AUTOREPLY: return "autoreply";
    case HOMING_REPORT_NONE: break;
    }
    return "none";
}

/* Frees what one recipient block owns (its address too). */
static void rp_rcpt_clear(struct homing_report_rcpt *x)
{
    free(x->address);
    free(x->original_recipient);
    free(x->action);
    free(x->status);
    free(x->reply_code);
    free(x->diagnostic);
    free(x->remote_mta);
    free(x->last_attempt);
}

void homing_report_parsed_free(struct homing_report *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_rcpts; i++) rp_rcpt_clear(&r->rcpts[i]);
    free(r->rcpts);
    free(r->reporting_mta);
    free(r->feedback_type);
    free(r->disposition);
    free(r->disposition_mode);
    free(r->original_message_id);
    free(r->subject);
    free(r->verp);
    free(r->envid);
    free(r->in_reply_to);
    free(r->references);
    free(r->returned_message_id);
    free(r);
}

/* Strips "type;" from a DSN field value ("rfc822; a@b", "smtp; 550 ..."). */
static const char *rp_untype(const char *v)
{
    const char *s = strchr(v, ';');
    if (s && s - v < 24) {
        for (const char *p = v; p < s; p++)
            if (*p == ' ' || *p == '@' || *p == '<') return v;
        s++;
        while (*s == ' ') s++;
        return s;
    }
    return v;
}

static int rp_set(char **dst, const char *v)
{
    if (*dst || !v || !*v) return 0;
    *dst = strdup(v);
    return *dst ? 0 : -ENOMEM;
}

/* The returned message's header block, from a message/rfc822 or a
 * text/rfc822-headers part (decoded into hb when needed). */
static bool rp_returned_headers(const struct rp_msg *m, struct homing_buf *hb, const char **h,
                                size_t *hl)
{
    for (size_t i = 1; i < m->n_parts; i++) {
        const struct rp_part *p = &m->parts[i];
        if (p->in_rfc822 && p->depth > 0 && i > 0 &&
            (strcmp(m->parts[i - 1].type, "message/rfc822") == 0 ||
             strcmp(m->parts[i - 1].type, "message/global") == 0) &&
            m->parts[i - 1].depth == p->depth - 1) {
            *h = p->hdr;
            *hl = p->hlen;
            return true;
        }
        if (strcmp(p->type, "text/rfc822-headers") == 0 ||
            strcmp(p->type, "message/rfc822-headers") == 0 ||
            strcmp(p->type, "message/global-headers") == 0) {
            homing_buf_reset(hb);
            if (rp_decode(p, hb) < 0) return false;
            const char *b;
            size_t bl;
            rp_split(hb->data, hb->len, h, hl, &b, &bl);
            return true;
        }
    }
    return false;
}

/* Message-ID values keep their angle brackets trimmed of spaces only. */
static void rp_trim_id(char *v)
{
    size_t l = strlen(v);
    while (l && (v[l - 1] == ' ')) v[--l] = '\0';
}

/* One recipient block being read: fields may come in any order (Facebook
 * writes Diagnostic-Code before Final-Recipient), so a block is gathered
 * before it becomes a recipient. */
struct rp_block {
    char final[RP_ADDR_MAX];
    char orig[RP_ADDR_MAX];
    char action[32];
    char status[16];
    char *diag;
    char *remote_mta;
    char *last_attempt;
    bool diag_unix; /* Diagnostic-Code: X-Unix; (a local delivery program) */
};

static void rp_block_clear(struct rp_block *b)
{
    free(b->diag);
    free(b->remote_mta);
    free(b->last_attempt);
    memset(b, 0, sizeof *b);
}

static int rp_block_flush(struct homing_report *r, struct rp_block *b)
{
    int rc = 0;
    if (b->final[0] || b->orig[0]) {
        struct homing_report_rcpt *x;
        if ((rc = rp_rcpt_add(r, &x)) < 0) goto out;
        if ((b->final[0] && !(x->address = strdup(b->final))) ||
            (b->orig[0] && !(x->original_recipient = strdup(b->orig))) ||
            (b->action[0] && !(x->action = strdup(b->action))) ||
            (b->status[0] && !(x->status = strdup(b->status)))) {
            rc = -ENOMEM;
            goto out;
        }
        x->diagnostic = b->diag;
        x->remote_mta = b->remote_mta;
        x->last_attempt = b->last_attempt;
        if (b->diag_unix) x->reason = "mailererror"; /* a hint for rp_classify_rcpt */
        b->diag = b->remote_mta = b->last_attempt = NULL;
    }
out:
    rp_block_clear(b);
    return rc;
}

/* Reads a delivery-status (or disposition / feedback) body: blank lines
 * separate blocks; a block naming a recipient becomes one, and a second
 * Final-Recipient inside a block (blank lines lost in transit) starts the
 * next. */
static int rp_read_dsn(struct homing_report *r, const char *body, size_t blen)
{
    char name[64];
    char *val = malloc(RP_HDRVAL_MAX);
    if (!val) return -ENOMEM;
    const char *p = body, *end = body + blen;
    struct rp_block blk;
    memset(&blk, 0, sizeof blk);
    int rc = 0;
    while (p < end && rc >= 0) {
        const char *h, *b;
        size_t hl, bl;
        while (p < end && (*p == '\n' || *p == ' ' || *p == '\t')) p++;
        if (p >= end) break;
        rp_split(p, (size_t)(end - p), &h, &hl, &b, &bl);
        size_t pos = 0;
        while (rc >= 0 && rp_header_next(h, hl, &pos, name, sizeof name, val, RP_HDRVAL_MAX)) {
            const char *v = val;
            char a[RP_ADDR_MAX];
            if (strcasecmp(name, "Final-Recipient") == 0) {
                if (blk.final[0]) rc = rp_block_flush(r, &blk);
                if (rp_addr(v, a, sizeof a) > 0) homing_strlcpy(blk.final, a, sizeof blk.final);
            } else if (strcasecmp(name, "Original-Recipient") == 0) {
                if (blk.orig[0] && blk.final[0]) rc = rp_block_flush(r, &blk);
                if (rp_addr(v, a, sizeof a) > 0) homing_strlcpy(blk.orig, a, sizeof blk.orig);
            } else if (strcasecmp(name, "Action") == 0) {
                homing_strlcpy(blk.action, v, sizeof blk.action);
                char *sp = strpbrk(blk.action, " ;(");
                if (sp) *sp = '\0';
                rp_lower(blk.action, strlen(blk.action));
            } else if (strcasecmp(name, "Status") == 0) {
                rp_find_status(v, strlen(v), blk.status, sizeof blk.status);
            } else if (strcasecmp(name, "Diagnostic-Code") == 0) {
                if (!blk.diag) {
                    const char *u = rp_untype(v);
                    blk.diag_unix = strncasecmp(v, "x-unix", 6) == 0 && u != v;
                    if (!(blk.diag = rp_collapse(u, strlen(u), RP_DIAG_MAX))) rc = -ENOMEM;
                }
            } else if (strcasecmp(name, "Remote-MTA") == 0) {
                rc = rp_set(&blk.remote_mta, rp_untype(v));
            } else if (strcasecmp(name, "Last-Attempt-Date") == 0) {
                rc = rp_set(&blk.last_attempt, v);
            } else if (strcasecmp(name, "Reporting-MTA") == 0) {
                rc = rp_set(&r->reporting_mta, rp_untype(v));
            } else if (strcasecmp(name, "Original-Envelope-Id") == 0) {
                rc = rp_set(&r->envid, v);
            } else if (strcasecmp(name, "X-Original-Message-ID") == 0 ||
                       strcasecmp(name, "Original-Message-ID") == 0) {
                rc = rp_set(&r->original_message_id, v);
            } else if (strcasecmp(name, "Disposition") == 0) {
                /* "manual-action/MDN-sent-manually; displayed" */
                const char *semi = strchr(v, ';');
                if (semi) {
                    char mode[128];
                    size_t ml = (size_t)(semi - v);
                    if (ml >= sizeof mode) ml = sizeof mode - 1;
                    memcpy(mode, v, ml);
                    mode[ml] = '\0';
                    rp_trim_id(mode);
                    const char *t = semi + 1;
                    while (*t == ' ') t++;
                    char d[64];
                    homing_strlcpy(d, t, sizeof d);
                    char *sl = strpbrk(d, " /;");
                    if (sl) *sl = '\0';
                    rp_lower(d, strlen(d));
                    rc = rp_set(&r->disposition, d);
                    if (rc >= 0) rc = rp_set(&r->disposition_mode, mode);
                } else {
                    rc = rp_set(&r->disposition, v);
                }
            } else if (strcasecmp(name, "Feedback-Type") == 0) {
                if (!r->feedback_type) {
                    if (!(r->feedback_type = strdup(v)))
                        rc = -ENOMEM;
                    else
                        rp_lower(r->feedback_type, strlen(r->feedback_type));
                }
            } else if (strcasecmp(name, "Original-Rcpt-To") == 0 ||
                       (strcasecmp(name, "Removal-Recipient") == 0 && !blk.final[0])) {
                if (rp_addr(v, a, sizeof a) > 0 && strcmp(a, blk.final) != 0) {
                    if (blk.final[0]) rc = rp_block_flush(r, &blk);
                    homing_strlcpy(blk.final, a, sizeof blk.final);
                }
            }
        }
        if (rc >= 0) rc = rp_block_flush(r, &blk);
        p = b;
    }
    rp_block_clear(&blk);
    free(val);
    return rc == -E2BIG ? 0 : rc;
}

/* The local part of the first address in v, for the VERP key. */
static int rp_local_part(const char *v, char **out)
{
    char a[RP_ADDR_MAX];
    if (rp_addr_case(v, a, sizeof a, false) <= 0) return 0;
    char *at = strchr(a, '@');
    if (!at) return 0;
    *at = '\0';
    *out = strdup(a);
    return *out ? 0 : -ENOMEM;
}

static bool rp_has_ci(const char *h, const char *const *list)
{
    for (const char *const *p = list; *p; p++)
        if (strcasestr(h, *p)) return true;
    return false;
}

static const char *const rp_bounce_subjects[] = {"undeliver",
                                                 "delivery status notification",
                                                 "failure notice",
                                                 "mail delivery fail",
                                                 "returned mail",
                                                 "delivery failure",
                                                 "non remis",
                                                 "delivery has failed",
                                                 "could not be delivered",
                                                 "nondeliverable",
                                                 "non-deliverable",
                                                 "mail system error",
                                                 "could not send",
                                                 "delivery notification",
                                                 "delivery problem",
                                                 "rejected",
                                                 "failed delivery",
                                                 "delivery failed",
                                                 "bounce",
                                                 "mail failure",
                                                 "unzustellbar",
                                                 "returned to sender",
                                                 "undelivered",
                                                 "warning: message",
                                                 "delayed mail",
                                                 "delivery delay",
                                                 "message not delivered",
                                                 "notice of delivery",
                                                 "error sending",
                                                 "permanent error",
                                                 "not delivered",
                                                 "failed mail",
                                                 "mail could not be",
                                                 "delivery report",
                                                 "nicht zugestellt",
                                                 "undeliverable",
                                                 "delivery error",
                                                 "message delivery",
                                                 "sending failed",
                                                 "fallo en la entrega",
                                                 "mail error",
                                                 "zpr\xc3\xa1va",
                                                 "could not deliver",
                                                 "problem delivering",
                                                 NULL};

static const char *const rp_bounce_senders[] = {"mailer-daemon",
                                                "postmaster",
                                                "mail delivery",
                                                "mail administrator",
                                                "mailer_daemon",
                                                "maildaemon",
                                                "mail-daemon",
                                                "mail system",
                                                "delivery subsystem",
                                                "double-bounce",
                                                "mailerdaemon",
                                                "mail_daemon",
                                                "bounce",
                                                NULL};

static const char *const rp_bounce_body[] = {"could not be delivered",
                                             "following address(es) failed",
                                             "qmail-send program",
                                             "delivery to the following recipient",
                                             "this is the mail system at host",
                                             "transcript of session follows",
                                             "delivery has failed",
                                             "permanent error",
                                             "undeliverable",
                                             "was not delivered",
                                             "message delivery failed",
                                             "could not deliver",
                                             "unable to deliver",
                                             "delivery failed",
                                             "following recipient",
                                             "not be delivered",
                                             "user unknown",
                                             "there was an error delivering",
                                             "returned mail",
                                             "mailbox unavailable",
                                             "delivery to the following",
                                             "failed permanently",
                                             "undelivered mail",
                                             "your message to",
                                             "delivery status notification",
                                             "message could not",
                                             NULL};

/* Where the returned message starts in a bounce's text: past this, addresses
 * belong to the original and must not be taken for recipients. */
static size_t rp_cut_original(const char *t, size_t n)
/* t is lower-cased */
{
    static const char *const marks[] = {"below this line is a copy of the message",
                                        "this is a copy of the message",
                                        "original message follows",
                                        "----- original message -----",
                                        "message headers follow",
                                        "header of the original message",
                                        "unsent message follows",
                                        "------ original message ------",
                                        "original message headers",
                                        "the original message headers",
                                        "message header follows",
                                        "content-type: message/rfc822",
                                        "--- original message ---",
                                        "copy of the original message",
                                        "original message:",
                                        "headers of the original message",
                                        "----- message text follows -----",
                                        "included is a copy of the headers",
                                        "=== original message",
                                        "message headers:",
                                        "--- message follows ---",
                                        NULL};
    size_t best = n;
    for (const char *const *m = marks; *m; m++) {
        const char *f = memmem(t, best, *m, strlen(*m));
        if (f) {
            size_t at = (size_t)(f - t);
            while (at > 0 && t[at - 1] != '\n') at--;
            if (at > 0 && at < best) best = at;
        }
    }
    /* A header block of the original starting mid-text. */
    static const char *const hdrs[] = {"\nreturn-path: <", "\nreceived: from ", NULL};
    for (const char *const *h = hdrs; *h; h++) {
        const char *f = memmem(t, best, *h, strlen(*h));
        if (f && f - t > 40 && (size_t)(f - t) + 1 < best) best = (size_t)(f - t) + 1;
    }
    return best;
}

/* The bounce text: decoded text/plain parts outside returned messages, or the
 * tag-stripped HTML when there is no plain text. */
static int rp_bounce_text(const struct rp_msg *m, struct homing_buf *out)
{
    int rc = 0;
    bool any_plain = false;
    for (size_t pass = 0; pass < 2 && !any_plain; pass++) {
        for (size_t i = 0; i < m->n_parts && rc >= 0; i++) {
            const struct rp_part *p = &m->parts[i];
            if (p->in_rfc822) continue;
            bool plain =
                strcmp(p->type, "text/plain") == 0 ||
                (i == 0 && strncmp(p->type, "text/", 5) == 0 && strcmp(p->type, "text/html") != 0);
            bool html = strcmp(p->type, "text/html") == 0;
            if (pass == 0 && !plain) continue;
            if (pass == 1 && !html) continue;
            if (out->len >= HOMING_REPORT_TEXT_MAX) break;
            size_t start = out->len;
            if ((rc = rp_decode(p, out)) < 0) break;
            if (html) {
                /* strip tags and turn <br>/<p>/<div> into line ends */
                char *s = out->data + start;
                size_t o = 0, l = out->len - start;
                bool tag = false;
                for (size_t k = 0; k < l; k++) {
                    char c = s[k];
                    if (c == '<') {
                        tag = true;
                        if (k + 3 < l && (strncasecmp(s + k + 1, "br", 2) == 0 ||
                                          strncasecmp(s + k + 1, "p", 1) == 0 ||
                                          strncasecmp(s + k + 1, "div", 3) == 0 ||
                                          strncasecmp(s + k + 1, "tr", 2) == 0 ||
                                          strncasecmp(s + k + 1, "/p", 2) == 0))
                            s[o++] = '\n';
                        continue;
                    }
                    if (c == '>' && tag) {
                        tag = false;
                        continue;
                    }
                    if (!tag) s[o++] = c;
                }
                out->len = start + o;
                out->data[out->len] = '\0';
            }
            if (plain) any_plain = true;
            if ((rc = homing_buf_append(out, "\n", 1)) < 0) break;
        }
    }
    if (rc == -E2BIG) rc = 0;
    return rc;
}

static void rp_fill_codes(struct homing_report_rcpt *x, const char *text, size_t n)
{
    char st[16], rc[4];
    if (text && n) {
        /* A diagnostic's own code is more specific than a generic Status
         * (5.0.0 / X.0.0), and fills a missing one. */
        if (rp_find_status(text, n, st, sizeof st)) {
            if (!x->status) {
                x->status = strdup(st);
            } else if (strcmp(st, x->status) != 0 &&
                       ((st[0] == x->status[0] && (strcmp(x->status + 1, ".0.0") == 0 ||
                                                   strcmp(x->status + 1, ".1.1") == 0)) ||
                        (st[0] != x->status[0] && rp_find_reply(text, n, rc, sizeof rc) &&
                         rc[0] == st[0]))) {
                /* The remote server's own code is more precise than the
                 * reporting MTA's summary (often X.0.0 or a blanket X.1.1). */
                free(x->status);
                x->status = strdup(st);
            }
        }
        if (!x->reply_code && rp_find_reply(text, n, rc, sizeof rc)) x->reply_code = strdup(rc);
    }
}

/* Text of the human-readable part near recipient addr: from its line to the
 * next blank-line-separated paragraph end, for DSNs without Diagnostic-Code. */
static const char *rp_text_near(const char *t, size_t n, const struct homing_report *r, size_t self,
                                size_t *len)
{
    const char *addr = r->rcpts[self].address;
    const char *f = addr ? rp_memmem_ci(t, n, addr) : NULL;
    if (!f) return NULL;
    while (f > t && f[-1] != '\n') f--;
    const char *e = f;
    const char *end = t + n;
    int blank = 0;
    while (e < end) {
        const char *nl = memchr(e, '\n', (size_t)(end - e));
        if (!nl) {
            e = end;
            break;
        }
        const char *next = nl + 1;
        if (next < end && *next == '\n' && ++blank >= 2) {
            e = next;
            break;
        }
        /* stop where another recipient's own lines begin */
        const char *ne = memchr(next, '\n', (size_t)(end - next));
        size_t ll = ne ? (size_t)(ne - next) : (size_t)(end - next);
        bool other = false;
        for (size_t i = 0; i < r->n_rcpts && !other && ll; i++)
            if (i != self && r->rcpts[i].address && strcmp(r->rcpts[i].address, addr) != 0 &&
                rp_memmem_ci(next, ll, r->rcpts[i].address))
                other = true;
        e = next;
        if (other) break;
    }
    *len = (size_t)(e - f);
    return f;
}

/* True when a Diagnostic-Code holds only the first line of a multi-line
 * reply ("552-5.7.0 ..." with no "552 " last line after it): Sendmail writes
 * the first line there and the whole reply in its transcript, so the words
 * that name the cause may be missing from it. */
static bool rp_reply_cut(const char *d, size_t dn)
{
    while (dn && (*d == ' ' || *d == '\t')) d++, dn--;
    if (dn < 4 || !(d[0] >= '0' && d[0] <= '9' && d[1] >= '0' && d[1] <= '9' && d[2] >= '0' &&
                    d[2] <= '9' && d[3] == '-'))
        return false;
    char last[5] = {' ', d[0], d[1], d[2], ' '};
    return memmem(d + 4, dn - 4, last, sizeof last) == NULL;
}

static void rp_classify_rcpt(struct homing_report_rcpt *x, const char *extra, size_t en)
{
    char *d = NULL;
    size_t dn = 0;
    if (x->diagnostic) {
        dn = strlen(x->diagnostic);
        d = malloc(dn + 1);
        if (d) {
            memcpy(d, x->diagnostic, dn + 1);
            rp_lower(d, dn);
        }
    }
    /* A cut reply is read from the text around it first, where the whole
     * reply stands. */
    bool cut = d && extra && en && rp_reply_cut(d, dn);
    const char *why = d && !cut ? rp_reason_text(d, dn) : NULL;
    if (!why && extra && en) {
        char *e = malloc(en + 1);
        if (e) {
            memcpy(e, extra, en);
            e[en] = '\0';
            rp_lower(e, en);
            if ((why = rp_reason_text(e, en)) != NULL) {
                free(d);
                d = e;
                dn = en;
            } else {
                free(e);
            }
        }
    }
    if (!why && cut) why = rp_reason_text(d, dn);
    /* The command the refusal answered: the Diagnostic-Code often lacks
     * it where the recipient's paragraph of the text names it (Postfix's
     * "(in reply to RCPT TO command)"). */
    unsigned cmds = d ? rp_smtp_commands(d, dn) : 0;
    if (extra && en) {
        char *e = malloc(en + 1);
        if (e) {
            memcpy(e, extra, en);
            rp_lower(e, en);
            cmds |= rp_smtp_commands(e, en);
            free(e);
        }
    }
    /* A Diagnostic-Code of type X-Unix comes from a local delivery
     * program (rp_read_dsn marks it): its failures are the mailer's unless
     * the words name a narrower cause. */
    bool unix_mailer = x->reason && strcmp(x->reason, "mailererror") == 0;
    x->reason =
        rp_reason_classify(why, d, dn, x->status, x->reply_code, x->action, cmds, x->remote_mta);
    if (unix_mailer && (strcmp(x->reason, "systemerror") == 0 || strcmp(x->reason, "onhold") == 0 ||
                        strcmp(x->reason, "undefined") == 0))
        x->reason = "mailererror";
    free(d);
    x->hard = homing_report_reason_hard(x->reason, x->reply_code ? x->reply_code : x->status);
}

/* Exim delivers a redirect to a file or a pipe and reports the file as the
 * Final-Recipient ("save to /path" / "pipe to |cmd"); the text names the
 * address the mail was sent to on the next line: "generated by a@b". A
 * recipient without '@' takes that address. */
static int rp_generated_by(struct homing_report_rcpt *x, const char *t, size_t n)
{
    if (!x->address || strchr(x->address, '@') || !t || !n) return 0;
    const char *f = rp_memmem_ci(t, n, x->address);
    if (!f) return 0;
    const char *end = t + n;
    const char *nl = memchr(f, '\n', (size_t)(end - f));
    if (!nl) return 0;
    const char *q = nl + 1;
    while (q < end && (*q == ' ' || *q == '\t')) q++;
    if ((size_t)(end - q) < 13 || strncasecmp(q, "generated by ", 13) != 0) return 0;
    q += 13;
    const char *e = q;
    while (e < end && *e != '\n' && *e != ' ') e++;
    if (e - q >= RP_ADDR_MAX) return 0;
    char v[RP_ADDR_MAX], a[RP_ADDR_MAX];
    memcpy(v, q, (size_t)(e - q));
    v[e - q] = '\0';
    if (rp_addr(v, a, sizeof a) <= 0 || !strchr(a, '@')) return 0;
    char *d = strdup(a);
    if (!d) return -ENOMEM;
    free(x->address);
    x->address = d;
    return 0;
}

/* au (EZweb) heads its bounces with one sentence that names the reason for
 * every recipient listed ("The user(s) account is disabled."); the reply
 * quoted under it is au's generic "user unknown", so the headline wins. */
static void rp_headline(struct homing_report_rcpt *x, const char *t, size_t n)
{
    if (!t || !n || !(strcmp(x->reason, "userunknown") == 0 || strcmp(x->reason, "filtered") == 0))
        return;
    if (rp_memmem_ci(t, n, "the user(s) account is disabled")) {
        x->reason = "suspend";
        x->hard = homing_report_reason_hard(x->reason, x->reply_code ? x->reply_code : x->status);
    }
}

/* An Amazon SES notification (bounce, complaint or delivery) in JSON. */
static int rp_ses_json(struct homing_report *r, const char *t, size_t n)
{
    const char *b = t;
    while (b < t + n && (*b == ' ' || *b == '\n')) b++;
    if (b >= t + n || *b != '{' || !memmem(b, (size_t)(t + n - b), "notificationType", 16))
        return 0;
    json_error_t err;
    json_t *j = json_loadb(b, (size_t)(t + n - b), JSON_DISABLE_EOF_CHECK, &err);
    if (!j) {
        /* Notifications forwarded as mail are often wrapped at a fixed width
         * inside the JSON strings: join the lines and try again. */
        size_t m = (size_t)(t + n - b);
        char *flat = malloc(m + 1);
        if (!flat) return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < m; i++) {
            if (b[i] == '\n') {
                if (i + 1 < m && b[i + 1] == '\n') break;
                continue;
            }
            flat[o++] = b[i];
        }
        j = json_loadb(flat, o, JSON_DISABLE_EOF_CHECK, &err);
        free(flat);
        if (!j) return 0;
    }
    /* SNS wraps the SES document as a string in "Message". */
    json_t *msg = json_object_get(j, "Message");
    if (json_is_string(msg)) {
        json_t *inner = json_loads(json_string_value(msg), 0, &err);
        if (inner) {
            json_decref(j);
            j = inner;
        }
    }
    int rc = 0;
    const char *type = json_string_value(json_object_get(j, "notificationType"));
    if (!type) type = json_string_value(json_object_get(j, "eventType"));
    json_t *list = NULL, *obj = NULL;
    const char *reason = NULL;
    if (type && strcasecmp(type, "Bounce") == 0) {
        obj = json_object_get(j, "bounce");
        list = json_object_get(obj, "bouncedRecipients");
    } else if (type && strcasecmp(type, "Complaint") == 0) {
        obj = json_object_get(j, "complaint");
        list = json_object_get(obj, "complainedRecipients");
        reason = "feedback";
        const char *ft = json_string_value(json_object_get(obj, "complaintFeedbackType"));
        rc = rp_set(&r->feedback_type, ft ? ft : "abuse");
        r->kind = HOMING_REPORT_ARF;
    } else if (type && strcasecmp(type, "Delivery") == 0) {
        obj = json_object_get(j, "delivery");
        list = json_object_get(obj, "recipients");
        reason = "delivered";
        r->kind = HOMING_REPORT_DSN;
    }
    json_t *mail = json_object_get(j, "mail");
    const char *mid = json_string_value(json_object_get(mail, "messageId"));
    if (mid && rc >= 0) rc = rp_set(&r->original_message_id, mid);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (rc < 0) break;
        const char *addr = json_is_string(e)
                               ? json_string_value(e)
                               : json_string_value(json_object_get(e, "emailAddress"));
        char a[RP_ADDR_MAX];
        struct homing_report_rcpt *x;
        if (!addr || rp_addr(addr, a, sizeof a) <= 0) continue;
        if ((rc = rp_rcpt_add(r, &x)) < 0) break;
        if (!(x->address = strdup(a))) {
            rc = -ENOMEM;
            break;
        }
        const char *diag = json_string_value(json_object_get(e, "diagnosticCode"));
        if (!diag) diag = json_string_value(json_object_get(obj, "smtpResponse"));
        const char *st = json_string_value(json_object_get(e, "status"));
        const char *act = json_string_value(json_object_get(e, "action"));
        if (diag) x->diagnostic = rp_collapse(diag, strlen(diag), RP_DIAG_MAX);
        if (st) rc = rp_set(&x->status, st);
        if (rc >= 0)
            rc = rp_set(&x->action, act                                          ? act
                                    : reason && strcmp(reason, "delivered") == 0 ? "delivered"
                                    : reason                                     ? NULL
                                                                                 : "failed");
        if (rc >= 0 && x->diagnostic) rp_fill_codes(x, x->diagnostic, strlen(x->diagnostic));
        if (reason) {
            x->reason = reason;
            if (!x->status && strcmp(reason, "delivered") == 0 && x->diagnostic)
                rp_fill_codes(x, x->diagnostic, strlen(x->diagnostic));
        } else {
            const char *sub = json_string_value(json_object_get(obj, "bounceSubType"));
            char extra[128] = "";
            if (sub) snprintf(extra, sizeof extra, "%s", sub);
            rp_classify_rcpt(x, extra, strlen(extra));
            if (!r->kind) r->kind = HOMING_REPORT_BOUNCE;
        }
    }
    json_decref(j);
    if (r->n_rcpts == 0) r->kind = HOMING_REPORT_NONE;
    return rc;
}

static bool rp_autoreply(const char *hdr, size_t hlen, const char *subject)
{
    char v[256];
    if (rp_header(hdr, hlen, "Auto-Submitted", v, sizeof v) >= 0 &&
        strncasecmp(v, "auto-replied", 12) == 0)
        return true;
    if (rp_header(hdr, hlen, "X-Autoreply", v, sizeof v) >= 0 ||
        rp_header(hdr, hlen, "X-Autorespond", v, sizeof v) >= 0 ||
        rp_header(hdr, hlen, "X-Autoresponse", v, sizeof v) >= 0 ||
        rp_header(hdr, hlen, "X-Vacation", v, sizeof v) >= 0)
        return true;
    if (rp_header(hdr, hlen, "Precedence", v, sizeof v) >= 0 &&
        strncasecmp(v, "auto_reply", 10) == 0)
        return true;
    static const char *const subj[] = {"auto:",
                                       "automatic reply",
                                       "autoreply",
                                       "auto-reply",
                                       "auto reply",
                                       "out of office",
                                       "out of the office",
                                       "vacation",
                                       "abwesenheit",
                                       "r\xc3\xa9ponse automatique",
                                       "respuesta autom",
                                       "away from",
                                       "on leave",
                                       "risposta automatica",
                                       "automatisch antwoord",
                                       "autosvar",
                                       NULL};
    return subject && rp_has_ci(subject, subj);
}

/* One run of homing_report_parse: what each step reads and leaves for the
 * next. A step returns 0 to go on, RP_STEP_DONE once the report is complete
 * (its kind is known and nothing later may change it), or a negative errno. */
#define RP_STEP_DONE 1
struct rp_run {
    struct rp_msg *m;
    struct homing_report *r;
    char *v; /* RP_HDRVAL_MAX: a header value being read */
    struct homing_buf text, hb;
    const struct rp_part *top;
    const char *H; /* the top-level header block */
    size_t HL;
    const struct rp_part *status, *mdn, *arf; /* the machine-readable parts */
    const char *rh;                           /* the returned message's headers */
    size_t rhl;
    const char *tx; /* the bounce text, and how much of it comes before the */
    size_t tn;      /* quoted original */
    bool looks_bounce;
};

/* Subject, In-Reply-To, References, and the VERP local part. */
static int step_headers(struct rp_run *t)
{
    struct homing_report *r = t->r;
    char *v = t->v;
    if (rp_header(t->H, t->HL, "Subject", v, RP_HDRVAL_MAX) >= 0 &&
        !(r->subject = rp_decode_words(v)))
        return -ENOMEM;
    if (rp_header(t->H, t->HL, "In-Reply-To", v, RP_HDRVAL_MAX) >= 0 &&
        rp_set(&r->in_reply_to, v) < 0)
        return -ENOMEM;
    if (rp_header(t->H, t->HL, "References", v, RP_HDRVAL_MAX) >= 0 &&
        rp_set(&r->references, v) < 0)
        return -ENOMEM;
    static const char *const verp_hdrs[] = {
        "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", NULL};
    for (const char *const *h = verp_hdrs; *h && !r->verp; h++)
        if (rp_header(t->H, t->HL, *h, v, RP_HDRVAL_MAX) >= 0 && rp_local_part(v, &r->verp) < 0)
            return -ENOMEM;
    return 0;
}

/* The machine-readable parts, the returned message's Message-ID (the
 * correlation), and the human-readable bounce text. */
static int step_parts(struct rp_run *t)
{
    for (size_t i = 0; i < t->m->n_parts; i++) {
        const struct rp_part *p = &t->m->parts[i];
        if (p->in_rfc822) continue;
        if (!t->status && (strcmp(p->type, "message/delivery-status") == 0 ||
                           strcmp(p->type, "message/global-delivery-status") == 0))
            t->status = p;
        else if (!t->mdn && (strcmp(p->type, "message/disposition-notification") == 0 ||
                             strcmp(p->type, "message/global-disposition-notification") == 0))
            t->mdn = p;
        else if (!t->arf && strcmp(p->type, "message/feedback-report") == 0)
            t->arf = p;
    }
    if (rp_returned_headers(t->m, &t->hb, &t->rh, &t->rhl) &&
        rp_header(t->rh, t->rhl, "Message-ID", t->v, RP_HDRVAL_MAX) >= 0) {
        rp_trim_id(t->v);
        if (rp_set(&t->r->returned_message_id, t->v) < 0) return -ENOMEM;
    }
    int rc = rp_bounce_text(t->m, &t->text);
    if (rc < 0) return rc;
    if (t->text.len) {
        char *low = malloc(t->text.len + 1);
        if (!low) return -ENOMEM;
        memcpy(low, t->text.data, t->text.len + 1);
        rp_lower(low, t->text.len);
        t->tn = rp_cut_original(low, t->text.len);
        free(low);
    }
    t->tx = t->text.data ? t->text.data : "";
    return 0;
}

/* Hotmail's complaint loop (JMRP) sends the complained-about message whole,
 * marked X-HmXmrOriginalRecipient, without a feedback part. */
static int step_jmrp(struct rp_run *t)
{
    char rcpt[RP_ADDR_MAX] = "";
    if (t->arf || t->mdn || !t->rh ||
        rp_header(t->rh, t->rhl, "X-HmXmrOriginalRecipient", t->v, RP_HDRVAL_MAX) < 0 ||
        rp_addr(t->v, rcpt, sizeof rcpt) <= 0)
        return 0;
    struct homing_report_rcpt *x;
    t->r->kind = HOMING_REPORT_ARF;
    if (rp_set(&t->r->feedback_type, "abuse") < 0) return -ENOMEM;
    int rc = rp_rcpt_add(t->r, &x);
    if (rc < 0) return rc;
    if (!(x->address = strdup(rcpt))) return -ENOMEM;
    x->reason = "feedback";
    return RP_STEP_DONE;
}

/* A feedback report (ARF) or a read receipt (MDN). */
static int step_feedback(struct rp_run *t)
{
    if (!t->arf && !t->mdn) return 0;
    struct homing_report *r = t->r;
    const struct rp_part *p = t->arf ? t->arf : t->mdn;
    struct homing_buf pb;
    homing_buf_init(&pb, HOMING_REPORT_SIZE_MAX);
    int rc = rp_decode(p, &pb);
    if (rc == 0) rc = rp_read_dsn(r, pb.data ? pb.data : "", pb.len);
    homing_buf_free(&pb);
    if (rc < 0) return rc;
    r->kind = t->arf ? HOMING_REPORT_ARF : HOMING_REPORT_MDN;
    if (t->arf && r->n_rcpts == 0 && t->rh) {
        /* No Original-Rcpt-To: the complaint is about the returned message's
         * recipient. */
        char a[RP_ADDR_MAX];
        struct homing_report_rcpt *x;
        if (rp_header(t->rh, t->rhl, "To", t->v, RP_HDRVAL_MAX) >= 0 &&
            rp_addr(t->v, a, sizeof a) > 0 && strchr(a, '@')) {
            if ((rc = rp_rcpt_add(r, &x)) < 0) return rc;
            if (!(x->address = strdup(a))) return -ENOMEM;
        }
    }
    if (t->arf && r->n_rcpts == 0) {
        struct homing_report_rcpt *x;
        if ((rc = rp_rcpt_add(r, &x)) < 0) return rc;
    }
    for (size_t i = 0; i < r->n_rcpts; i++) {
        r->rcpts[i].reason = t->arf ? "feedback" : "undefined";
        r->rcpts[i].hard = false;
    }
    return RP_STEP_DONE;
}

/* Amazon SES notifications through SNS: a JSON document as the body. */
static int step_ses(struct rp_run *t)
{
    int rc = rp_ses_json(t->r, t->tx, t->text.len);
    if (rc < 0) return rc;
    return t->r->n_rcpts ? RP_STEP_DONE : 0;
}

/* A delivery status notification: the message/delivery-status part, or the
 * same fields some MTAs write into the text itself. */
static int step_dsn(struct rp_run *t)
{
    struct homing_report *r = t->r;
    const struct rp_part *top = t->top;
    const char *inline_dsn = NULL;
    if (!t->status) {
        inline_dsn = rp_memmem_ci(top->body, top->blen, "\nfinal-recipient:");
        if (inline_dsn) {
            const char *rm =
                rp_memmem_ci(top->body, (size_t)(inline_dsn - top->body), "\nreporting-mta:");
            if (rm) inline_dsn = rm;
        }
    }
    if (!t->status && !inline_dsn) return 0;
    struct homing_buf pb;
    homing_buf_init(&pb, HOMING_REPORT_SIZE_MAX);
    int rc = t->status ? rp_decode(t->status, &pb)
                       : homing_buf_append(&pb, inline_dsn + 1,
                                           (size_t)(top->body + top->blen - inline_dsn - 1));
    if (rc == 0) rc = rp_read_dsn(r, pb.data ? pb.data : "", pb.len);
    homing_buf_free(&pb);
    if (rc < 0) return rc;
    /* drop blocks that named nobody */
    size_t k = 0;
    for (size_t i = 0; i < r->n_rcpts; i++) {
        struct homing_report_rcpt *x = &r->rcpts[i];
        if (!x->address && x->original_recipient) x->address = strdup(x->original_recipient);
        if (!x->address) {
            rp_rcpt_clear(x);
            continue;
        }
        r->rcpts[k++] = *x;
    }
    r->n_rcpts = k;
    if (!r->n_rcpts) return 0;
    r->kind = HOMING_REPORT_DSN;
    for (size_t i = 0; i < r->n_rcpts; i++) {
        struct homing_report_rcpt *x = &r->rcpts[i];
        if ((rc = rp_generated_by(x, t->tx, t->tn)) < 0) return rc;
        size_t nl = 0;
        const char *near = rp_text_near(t->tx, t->tn, r, i, &nl);
        if (x->diagnostic) rp_fill_codes(x, x->diagnostic, strlen(x->diagnostic));
        if (!x->diagnostic && near) x->diagnostic = rp_collapse(near, nl, RP_DIAG_MAX);
        if (near && (!x->status || !x->reply_code)) rp_fill_codes(x, near, nl);
        rp_classify_rcpt(x, near ? near : t->tx, near ? nl : t->tn);
        rp_headline(x, t->tx, t->tn);
    }
    return RP_STEP_DONE;
}

/* A bounce in words only: who it names, or the returned message's To. */
static int step_text_bounce(struct rp_run *t)
{
    struct homing_report *r = t->r;
    const char *H = t->H, *tx = t->tx, *rh = t->rh;
    size_t HL = t->HL, tn = t->tn, rhl = t->rhl;
    char *v = t->v;
    char from[512] = "", to[512] = "";
    rp_header(H, HL, "From", from, sizeof from);
    rp_header(H, HL, "To", to, sizeof to);
    char failed[2048] = "";
    bool has_failed = rp_header(H, HL, "X-Failed-Recipients", failed, sizeof failed) > 0;
    bool looks = has_failed || rp_has_ci(from, rp_bounce_senders) ||
                 (r->subject && rp_has_ci(r->subject, rp_bounce_subjects));
    if (!looks) {
        char lowbuf[4096];
        size_t ln = tn < sizeof lowbuf - 1 ? tn : sizeof lowbuf - 1;
        memcpy(lowbuf, tx, ln);
        lowbuf[ln] = '\0';
        looks = rp_has_ci(lowbuf, rp_bounce_body) && !rp_autoreply(H, HL, r->subject);
    }
    t->looks_bounce = looks;
    if (!looks) return 0;
    /* The sender's own addresses are never recipients. */
    char ex[6][RP_ADDR_MAX];
    const char *exl[6];
    size_t ne = 0;
    static const char *const exh[] = {"From",         "To",       "Return-Path",
                                      "Delivered-To", "Reply-To", NULL};
    for (const char *const *h = exh; *h; h++)
        if (rp_header(H, HL, *h, v, RP_HDRVAL_MAX) >= 0 && rp_addr(v, ex[ne], sizeof ex[ne]) > 0)
            exl[ne] = ex[ne], ne++;
    if (rh && rp_header(rh, rhl, "From", v, RP_HDRVAL_MAX) >= 0 &&
        rp_addr(v, ex[ne], sizeof ex[ne]) > 0)
        exl[ne] = ex[ne], ne++;
    int rc = rp_text_bounce(t->m, tx, tn, r, exl, ne, has_failed ? failed : NULL);
    if (rc < 0) return rc;
    /* Nobody named in the bounce text: the returned message's To, from its
     * headers part or from headers quoted after the text. */
    bool have_to = rh && rp_header(rh, rhl, "To", v, RP_HDRVAL_MAX) >= 0;
    size_t all = t->text.len;
    if (r->n_rcpts == 0 && !have_to && tn < all) {
        const char *q = rp_memmem_ci(tx + tn, all - tn, "\nto:");
        if (q) {
            const char *e = memchr(q + 4, '\n', (size_t)(tx + all - q - 4));
            size_t l = e ? (size_t)(e - q - 4) : (size_t)(tx + all - q - 4);
            if (l < RP_HDRVAL_MAX) {
                memcpy(v, q + 4, l);
                v[l] = '\0';
                have_to = true;
            }
        }
    }
    if (r->n_rcpts == 0 && have_to) {
        char a[RP_ADDR_MAX];
        struct homing_report_rcpt *x;
        if (rp_addr(v, a, sizeof a) > 0 && strchr(a, '@')) {
            if ((rc = rp_rcpt_add(r, &x)) < 0) return rc;
            if (!(x->address = strdup(a))) return -ENOMEM;
            x->action = strdup("failed");
            rp_fill_codes(x, tx, tn);
            x->diagnostic = rp_collapse(tx, tn, RP_DIAG_MAX);
            rp_classify_rcpt(x, tx, tn);
        }
    }
    for (size_t i = 0; i < r->n_rcpts; i++) {
        /* Google Groups refuses a post (not a member, no such group) in many
         * languages but always for a @googlegroups.com address: the sender
         * was refused. */
        const char *ad = r->rcpts[i].address;
        size_t al = ad ? strlen(ad) : 0;
        if (al > 17 && strcmp(ad + al - 17, "@googlegroups.com") == 0 &&
            (strcmp(r->rcpts[i].reason, "undefined") == 0 ||
             strcmp(r->rcpts[i].reason, "onhold") == 0))
            r->rcpts[i].reason = "rejected";
    }
    for (size_t i = 0; i < r->n_rcpts; i++)
        r->rcpts[i].hard = homing_report_reason_hard(r->rcpts[i].reason,
                                                     r->rcpts[i].reply_code ? r->rcpts[i].reply_code
                                                                            : r->rcpts[i].status);
    if (!r->n_rcpts) return 0;
    r->kind = HOMING_REPORT_BOUNCE;
    return RP_STEP_DONE;
}

/* An auto-reply (vacation and the like), when nothing above matched. */
static int step_autoreply(struct rp_run *t)
{
    if (t->looks_bounce || !rp_autoreply(t->H, t->HL, t->r->subject)) return 0;
    t->r->kind = HOMING_REPORT_AUTOREPLY;
    char a[RP_ADDR_MAX];
    struct homing_report_rcpt *x;
    if (rp_header(t->H, t->HL, "From", t->v, RP_HDRVAL_MAX) >= 0 &&
        rp_addr(t->v, a, sizeof a) > 0) {
        int rc = rp_rcpt_add(t->r, &x);
        if (rc < 0) return rc;
        if (!(x->address = strdup(a))) return -ENOMEM;
        x->reason = "vacation";
    }
    return RP_STEP_DONE;
}

/* The kinds in the order they are tried: the first step to recognise the
 * message completes the report. */
static int (*const rp_steps[])(struct rp_run *) = {
    step_headers, step_parts, step_jmrp,        step_feedback,
    step_ses,     step_dsn,   step_text_bounce, step_autoreply,
};

int homing_report_parse(const char *data, size_t len, struct homing_report **out)
{
    if (!data || !len || !out) return -EINVAL;
    if (len > HOMING_REPORT_SIZE_MAX) return -E2BIG;
    struct rp_msg *m = malloc(sizeof *m);
    if (!m) return -ENOMEM;
    int rc = rp_msg_init(m, data, len);
    if (rc < 0) {
        free(m);
        return rc;
    }
    rp_msg_walk(m);
    struct rp_run t = {.m = m, .r = calloc(1, sizeof *t.r), .v = malloc(RP_HDRVAL_MAX)};
    homing_buf_init(&t.text, HOMING_REPORT_TEXT_MAX + 65536);
    homing_buf_init(&t.hb, HOMING_REPORT_SIZE_MAX);
    struct homing_report *r = t.r;
    rc = r && t.v ? 0 : -ENOMEM;
    if (rc == 0) {
        r->truncated = m->truncated;
        t.top = &m->parts[0];
        t.H = t.top->hdr;
        t.HL = t.top->hlen;
    }
    for (size_t i = 0; rc == 0 && i < sizeof rp_steps / sizeof rp_steps[0]; i++)
        rc = rp_steps[i](&t);
    if (rc > 0) rc = 0;
    if (r && !r->original_message_id && r->returned_message_id)
        r->original_message_id = strdup(r->returned_message_id);
    if (rc == 0 && r && r->original_message_id) rp_trim_id(r->original_message_id);
    homing_buf_free(&t.text);
    homing_buf_free(&t.hb);
    free(t.v);
    rp_msg_free(m);
    free(m);
    if (rc < 0) {
        homing_report_parsed_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
