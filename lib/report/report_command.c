/*
 * report_command.c: which SMTP command a refusal answered, read from the
 * ways MTAs write it into a bounce (one table of command signs, each with
 * the documentation it follows; tests/data/bounce-phrases holds a
 * documented reply for each sign form, README there, key CMD*).
 *
 * Why it matters: only an answer to RCPT TO judges the address itself. A
 * "user unknown" at RCPT is `userunknown`; the same words after DATA are a
 * filter's (`filtered`); at MAIL FROM they are about the sender
 * (`rejected`); a refusal at the greeting or HELO with no words is the
 * sending host's (`blocked`). So the command is read before any phrase is
 * trusted (rp_reason_classify, report_reason.c).
 *
 * Two kinds of sign:
 *   - a transcript of the session (Sendmail's and Courier's ">>> CMD" for
 *     what was sent, "<<< NNN" for the answer; in a Diagnostic-Code the
 *     lines are collapsed onto one): the command right before the first
 *     4xx/5xx answer is the one refused, and nothing else counts;
 *   - words an MTA writes next to the reply (Postfix "(in reply to RCPT TO
 *     command)", Exim "SMTP error from remote mail server after RCPT
 *     TO:<a@b>", qmail-remote "does not like recipient", ...): every sign
 *     present is reported (a text may name a RCPT and an end-of-DATA
 *     refusal; the caller decides which matters).
 *
 * Contract: pure function over lower-cased text (NUL not required); returns
 * a bitmask of RP_CMD_* (report_int.h), 0 when no sign is found. A sign's
 * words match across any run of whitespace (a line folded by the MTA and
 * its indentation read as one space), read in place: the text is neither
 * copied nor changed, whatever its length (the caller's limits hold).
 */
#include <stdbool.h>
#include <string.h>

#include "report_int.h"

struct rp_cmd_sign {
    const char *words; /* lower-case, matched anywhere in the text */
    unsigned cmd;      /* RP_CMD_* */
    const char *source;
};

/* The signs, by command. Keys in brackets are tests/data/bounce-phrases'
 * source keys; each form has a documented reply there. */
static const struct rp_cmd_sign rp_cmd_signs[] = {
    /* RCPT TO */
    {"in reply to rcpt to command", RP_CMD_RCPT,
     "[CMDPOSTFIX] Postfix smtp(8)/lmtp(8): 'host H said: ... (in reply to RCPT TO command)'"},
    {"rcpt to", RP_CMD_RCPT,
     "[CMDEXIM] Exim smtp transport 'SMTP error from remote mail server after RCPT TO:<a@b>' and "
     "'after pipelined RCPT TO:<a@b>'; [CMDSENDMAIL] Sendmail transcript '>>> RCPT To:<a@b>'; "
     "Courier and MDaemon transcripts 'RCPT TO:<a@b>'"},
    {"rcpt command", RP_CMD_RCPT,
     "Exim (older) 'SMTP error from remote mailer after RCPT command'"},
    {"[rcpt_to]", RP_CMD_RCPT, "Yahoo! 'SMTP error codes': '[RCPT_TO]' marks a recipient refusal"},
    {"does not like recipient", RP_CMD_RCPT,
     "[CMDQMAIL] qmail-remote(8): 'H does not like recipient. Remote host said: ...' (its RCPT "
     "refusal)"},
    {"did not like our rcpt to", RP_CMD_RCPT,
     "[CMDDMA] DragonFly Mail Agent: 'H [IP] did not like our RCPT TO:'"},
    {"command rcpt", RP_CMD_RCPT, "PHPMailer-BMH rule samples: 'Command RCPT User <a@b> not OK'"},
    {"resolver.adr.recipnotfound", RP_CMD_RCPT,
     "[CMDEXCH] Exchange categorizer: RESOLVER.ADR.RecipNotFound is the directory lookup of the "
     "recipient address"},
    {"resolver.adr.exrecipnotfound", RP_CMD_RCPT,
     "[CMDEXCH] Exchange: RESOLVER.ADR.ExRecipNotFound (the recipient's directory entry)"},
    {"resolver.adr.recipientnotfound", RP_CMD_RCPT,
     "[EXO] Exchange Online 5.1.10 RESOLVER.ADR.RecipientNotFound"},
    /* DATA and end of DATA */
    {"in reply to end of data", RP_CMD_DATA,
     "[CMDPOSTFIX] Postfix smtp(8): '(in reply to end of DATA command)'"},
    {"in reply to data", RP_CMD_DATA, "[CMDPOSTFIX] Postfix smtp(8): '(in reply to DATA command)'"},
    {"after end of data", RP_CMD_DATA,
     "[CMDEXIM] Exim: 'SMTP error from remote mail server after end of data'"},
    {"after data", RP_CMD_DATA, "[CMDEXIM] Exim: 'SMTP error from remote mail server after DATA'"},
    {"after pipelined data", RP_CMD_DATA,
     "[CMDEXIM] Exim: 'SMTP error from remote mail server after pipelined DATA'"},
    {"failed after i sent the message", RP_CMD_DATA,
     "[CMDQMAIL] qmail-remote(8): 'H failed after I sent the message. Remote host said: ...'"},
    {"smtp command data", RP_CMD_DATA, NULL},
    {"command: data", RP_CMD_DATA, NULL},
    {"for text command", RP_CMD_DATA, NULL},
    {"did not like our final data", RP_CMD_DATA,
     "[CMDDMA] DragonFly Mail Agent (dma, net.c): 'H [IP] did not like our final DATA:'"},
    {"did not like our data", RP_CMD_DATA,
     "[CMDDMA] DragonFly Mail Agent: 'H [IP] did not like our DATA:'"},
    {"smtp error, dot:", RP_CMD_DATA,
     "[CMDCOREMAIL] Coremail/NetEase bounce texts: 'SMTP error, DOT:519 Rejected.' (the end of "
     "the message)"},
    {"smtp error, data:", RP_CMD_DATA,
     "[CMDCOREMAIL] Coremail/NetEase: 'SMTP error, DATA:554 ...'"},
    /* MAIL FROM */
    {"did not like our mail from", RP_CMD_MAIL,
     "[CMDDMA] DragonFly Mail Agent: 'H [IP] did not like our MAIL FROM:'"},
    {"in reply to mail from", RP_CMD_MAIL,
     "[CMDPOSTFIX] Postfix smtp(8): '(in reply to MAIL FROM command)'"},
    {"after mail from", RP_CMD_MAIL,
     "[CMDEXIM] Exim: 'SMTP error from remote mail server after MAIL FROM:<s> SIZE=n'"},
    {"after pipelined mail from", RP_CMD_MAIL,
     "[CMDEXIM] Exim: 'SMTP error from remote mail server after pipelined MAIL FROM:<s>'"},
    {"but sender was rejected", RP_CMD_MAIL,
     "[CMDQMAIL] qmail-remote(8): 'Connected to H but sender was rejected.'"},
    /* the greeting and HELO/EHLO: the sending host is judged */
    {"refused to talk to me", RP_CMD_CONNECT,
     "[CMDPOSTFIX] Postfix smtp(8): 'host H refused to talk to me: 554 ...' (the greeting)"},
    {"after initial connection", RP_CMD_CONNECT,
     "[CMDEXIM] Exim: 'SMTP error from remote mail server after initial connection'"},
    {"but greeting failed", RP_CMD_CONNECT,
     "[CMDQMAIL] qmail-remote(8): 'Connected to H but greeting failed.'"},
    {"in reply to helo command", RP_CMD_HELO,
     "[CMDPOSTFIX] Postfix smtp(8): '(in reply to HELO command)'"},
    {"in reply to ehlo command", RP_CMD_HELO,
     "[CMDPOSTFIX] Postfix smtp(8): '(in reply to EHLO command)'"},
    {"after ehlo ", RP_CMD_HELO,
     "[CMDEXIM] Exim: 'SMTP error from remote mail server after EHLO h'"},
    {"after helo ", RP_CMD_HELO,
     "[CMDEXIM] Exim: 'SMTP error from remote mail server after HELO h'"},
    {"but my name was rejected", RP_CMD_HELO,
     "[CMDQMAIL] qmail-remote(8): 'Connected to H but my name was rejected.'"},
};

static bool rp_cmd_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does sign w stand at t[i..n), any run of whitespace in either (a space,
 * a tab, CR, LF) matching any run in the other? Postfix's bounce(8) writes
 * each recipient's paragraph ("<a@b>: host H said: ... (in reply to RCPT TO
 * command)") and the Remote-MTA and Diagnostic-Code fields through
 * bounce_print_wrap() (src/bounce/bounce_notify_util.c: util/line_wrap.c at
 * 79 columns, continuation lines indented by 4 spaces, breaking at
 * whitespace), so a sign may reach us as "(in reply to RCPT\n    TO
 * command)" or "(in reply to end of\r\n    DATA command)"; the same holds
 * for any MTA whose notice text is wrapped. Reads the text in place: no
 * copy, no allocation. */
static bool rp_cmd_at(const char *t, size_t n, size_t i, const char *w)
{
    while (*w) {
        if (rp_cmd_space(*w)) {
            if (i >= n || !rp_cmd_space(t[i])) return false;
            while (i < n && rp_cmd_space(t[i])) i++;
            while (rp_cmd_space(*w)) w++;
            continue;
        }
        if (i >= n || t[i] != *w) return false;
        i++;
        w++;
    }
    return true;
}

/* Is sign w anywhere in t[0..n)? Candidates are found by the sign's first
 * character (never whitespace: the table's signs start with a word or a
 * bracket); each is checked for at most the sign's length plus the
 * whitespace runs it spans, and the signs are short (the table). */
static bool rp_cmd_has(const char *t, size_t n, const char *w)
{
    if (!*w) return false;
    for (const char *q = t; (q = memchr(q, w[0], n - (size_t)(q - t))) != NULL; q++)
        if (rp_cmd_at(t, n, (size_t)(q - t), w)) return true;
    return false;
}

/* A server's answer to DATA when no RCPT TO was accepted. */
static const char *const rp_cmd_no_rcpt[] = {"need rcpt", "no valid recipients", NULL};

/* The first answer of a transcript with a 4xx or 5xx code: "<<< 5" at a
 * line start or, collapsed into one line, after a space. */
static const char *rp_cmd_first_refusal(const char *t, size_t n)
{
    const char *best = NULL;
    for (const char *q = t; (q = memmem(q, n - (size_t)(q - t), "<<< ", 4)) != NULL; q++) {
        if (q > t && q[-1] != '\n' && q[-1] != ' ') continue;
        if ((size_t)(q - t) + 5 > n) break;
        if (q[4] == '4' || q[4] == '5') {
            best = q;
            break;
        }
    }
    return best;
}

/* The command a transcript sent right before its first refusal, or 0. */
static unsigned rp_cmd_transcript(const char *t, size_t n)
{
    const char *e = rp_cmd_first_refusal(t, n);
    if (!e) return 0;
    const char *c = NULL;
    for (const char *q = t; (q = memmem(q, (size_t)(e - q), ">>> ", 4)) != NULL; q++) c = q;
    if (!c) return 0;
    const char *w = c + 4;
    size_t wn = (size_t)(e - w);
    /* Sendmail sends the end of the message as a lone "." */
    if (wn >= 1 && w[0] == '.' && (wn == 1 || w[1] == ' ' || w[1] == '\n' || w[1] == '\r'))
        return RP_CMD_DATA;
    if (wn >= 4 && (strncmp(w, "data", 4) == 0 || strncmp(w, "bdat", 4) == 0)) {
        /* With PIPELINING the RCPT answers arrive after ">>> DATA": when
         * the server then refuses DATA for want of a recipient (Postfix
         * smtpd "554 5.5.1 Error: no valid recipients", "503 5.5.1 Error:
         * need RCPT command"; Sendmail "503 5.0.0 Need RCPT (recipient)"),
         * the first refusal answered a RCPT. */
        size_t rest = n - (size_t)(e - t);
        for (const char *const *p = rp_cmd_no_rcpt; *p; p++)
            if (rp_cmd_has(e, rest, *p)) return RP_CMD_RCPT;
        return RP_CMD_DATA;
    }
    if (wn >= 4 && strncmp(w, "rcpt", 4) == 0) return RP_CMD_RCPT;
    if (wn >= 4 && strncmp(w, "mail", 4) == 0) return RP_CMD_MAIL;
    if (wn >= 4 && (strncmp(w, "ehlo", 4) == 0 || strncmp(w, "helo", 4) == 0)) return RP_CMD_HELO;
    return 0;
}

unsigned rp_smtp_commands(const char *t, size_t n)
{
    if (!t || n == 0) return 0;
    /* A transcript names the refused command itself. */
    unsigned tx = rp_cmd_transcript(t, n);
    if (tx) return tx;
    unsigned m = 0;
    for (size_t i = 0; i < sizeof rp_cmd_signs / sizeof rp_cmd_signs[0]; i++)
        if (!(m & rp_cmd_signs[i].cmd) && rp_cmd_has(t, n, rp_cmd_signs[i].words))
            m |= rp_cmd_signs[i].cmd;
    return m;
}

bool rp_at_rcpt(const char *t, size_t n)
{
    return (rp_smtp_commands(t, n) & RP_CMD_RCPT) != 0;
}

bool rp_after_data(const char *t, size_t n)
{
    return (rp_smtp_commands(t, n) & RP_CMD_DATA) != 0;
}
