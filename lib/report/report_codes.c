/*
 * report_codes.c: reasons read from enhanced status codes whose meaning a
 * mail provider documents, as one table (code, optional words, reason,
 * source). This is the first thing the reason classifier asks
 * (rp_reason_classify): a code like Exchange Online's 5.7.606 or Gmail's
 * 4.2.1 "receiving mail too quickly" says exactly why, where the words
 * around it are free-form and the RFC 3463 meaning of the same digits is
 * broader or different.
 *
 * Sources (each row names one):
 *   [EXO]   Microsoft, "Email non-delivery reports and SMTP errors in
 *           Exchange Online" (learn.microsoft.com, exchange/mail-flow-best-
 *           practices/non-delivery-reports-in-exchange-online), and its
 *           per-code pages (fix-error-code-5-1-10, 5-4-1, 5-7-606-649, ...)
 *   [GMAIL] Google, "Gmail SMTP errors and codes"
 *           (support.google.com/a/answer/3726730)
 *   [OUTLOOK] Microsoft, Outlook.com postmaster "Troubleshooting": 4.7.650
 *           and 4.7.651 (sendersupport.olc.protection.outlook.com/pm/)
 *   [YAHOO] Yahoo, "SMTP error codes" (senders.yahooinc.com/smtp-error-codes)
 *
 * Contract: pure function over lower-cased text; reasons are static strings.
 * A row matches a code of the Status field or one written in the text (the
 * DSN's Status is often a generic 5.0.0 while the reply carries 5.7.606).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* The most codes read from one text: a transcript quotes a handful. */
#define RP_CODES_SCAN_MAX 8

struct rp_code_rule {
    char cls;          /* '4', '5', or 0 for either */
    unsigned subject;  /* S of C.S.D */
    unsigned lo, hi;   /* D range, inclusive */
    const char *words; /* lower-case phrase that must occur too, or NULL */
    const char *reason;
    const char *source; /* documentation the row follows (see above) */
};

static const struct rp_code_rule rp_code_rules[] = {
    /* Exchange Online: recipient-side codes */
    {0, 1, 10, 10, "not found", "userunknown", "[EXO] 5.1.10 RESOLVER.ADR.RecipientNotFound"},
    /* The status name alone, without the description after it: X.1.10 is RFC
     * 7505's null MX in the IANA registry, so the name decides. */
    {0, 1, 10, 10, "recipientnotfound", "userunknown",
     "[EXO] 5.1.10 RESOLVER.ADR.RecipientNotFound (the status name Exchange writes)"},
    {0, 4, 1, 1, "recipient address rejected: access denied", "userunknown",
     "[EXO] 5.4.1 directory-based edge blocking: the recipient does not exist"},
    {0, 2, 121, 122, NULL, "speeding", "[EXO] 5.2.121/5.2.122 recipient's hourly receive limit"},
    {0, 1, 90, 90, NULL, "speeding", "[EXO] 5.1.90 sender's daily recipient limit"},
    /* 5.2.2 is RFC 3463's "mailbox full", but Exchange Online answers it for
     * the sender's own rate limit ("Submission quota exceeded"): the words
     * decide (round 14). */
    {0, 2, 2, 2, "submission quota", "speeding", "[EXO] 5.2.2 submission quota exceeded"},
    {0, 7, 321, 321, NULL, "failedstarttls",
     "[EXO] 4.7.321/5.7.321 starttls-not-supported: destination must support TLS"},
    {0, 4, 14, 14, NULL, "networkerror", "[EXO] 5.4.14 hop count exceeded (RFC 3463 X.4.6)"},
    {0, 4, 300, 300, NULL, "expired", "[EXO] 5.4.300 message expired"},
    {0, 4, 310, 310, NULL, "hostunknown", "[EXO] 5.4.310 DNS domain does not exist"},
    {0, 4, 312, 312, NULL, "networkerror", "[EXO] 4.4.312/5.4.312 DNS query failed"},
    {0, 4, 315, 315, NULL, "networkerror", "[EXO] 4.4.315 connection timed out"},
    {0, 4, 316, 316, NULL, "networkerror", "[EXO] 4.4.316/5.4.316 connection refused"},
    {0, 4, 318, 318, NULL, "networkerror", "[EXO] 4.4.318 connection closed abruptly"},
    {0, 6, 11, 11, NULL, "contenterror", "[EXO] 5.6.11 invalid characters (bare line feed)"},
    /* Exchange Online: sender-side and policy codes */
    {0, 7, 64, 64, NULL, "norelaying", "[EXO] 5.7.64 TenantAttribution; relay access denied"},
    {0, 7, 57, 57, NULL, "securityerror", "[EXO] 5.7.57 client not authenticated"},
    {0, 7, 509, 509, NULL, "authfailure", "[EXO] 5.7.509 sending domain does not pass DMARC"},
    {0, 7, 515, 515, NULL, "authfailure", "[EXO] 5.7.515 required authentication level not met"},
    {0, 7, 501, 503, NULL, "rejected",
     "[EXO] 5.7.501 spam abuse detected, 5.7.502/5.7.503 banned sender: the sending account"},
    /* Round 14 (the NDR table of 2024-03-08): 5.7.505 "Access denied, banned
     * recipient" (the recipient is not valid), 5.7.506 "Access Denied, Bad
     * HELO" and 5.7.507 "Access denied, rejected by recipient" (the sending
     * IP blocked by the recipient's organization), 5.7.508 "... has exceeded
     * permitted limits within $range range" (too many messages too fast).
     * Class 5 only: 4.7.500-699 is the temporary restriction below. */
    {'5', 7, 505, 505, NULL, "userunknown", "[EXO] 5.7.505 access denied, banned recipient"},
    {'5', 7, 506, 507, NULL, "blocked",
     "[EXO] 5.7.506 bad HELO, 5.7.507 sending IP blocked by the recipient's organization"},
    {'5', 7, 508, 508, NULL, "speeding", "[EXO] 5.7.508 IPv6 range exceeded permitted limits"},
    {0, 7, 510, 510, NULL, "blocked", "[EXO] 5.7.510 the domain does not accept email over IPv6"},
    {0, 7, 511, 511, NULL, "rejected", "[EXO] 5.7.511 banned sender"},
    {0, 7, 512, 512, NULL, "notcompliantrfc", "[EXO] 5.7.512 message not RFC 5322 compliant"},
    {0, 7, 513, 513, NULL, "blocked", "[EXO] 5.7.513 client host blocked"},
    {0, 7, 520, 520, NULL, "policyviolation",
     "[EXO] 5.7.520 the organization does not allow external forwarding"},
    {'4', 7, 650, 651, NULL, "badreputation",
     "[OUTLOOK] 451 4.7.650/4.7.651 temporarily rate limited due to IP reputation"},
    {'4', 7, 500, 699, NULL, "blocked", "[EXO] 4.7.500-699 access denied, try again later"},
    {0, 7, 606, 649, NULL, "blocked", "[EXO] 5.7.606-649 banned sending IP"},
    {0, 7, 700, 750, NULL, "blocked", "[EXO] 5.7.700-750 tenant or IP banned for spam"},
    /* Gmail */
    {'4', 2, 1, 1, "receiving mail", "speeding", "[GMAIL] 450 4.2.1 receiving mail too quickly"},
    {'4', 2, 1, 1, "relay limit", "speeding", "[GMAIL] 450 4.2.1 peak SMTP relay limit"},
    {0, 2, 1, 1, "is disabled", "suspend", "[GMAIL] 550 5.2.1 the account is disabled"},
    {0, 2, 1, 1, "inactive", "suspend", "[GMAIL] 550 5.2.1 the account is inactive"},
    {0, 4, 5, 5, "sending limit", "speeding", "[GMAIL] 550 5.4.5 daily sending quota exceeded"},
    {0, 4, 5, 5, "server busy", "systemerror", "[GMAIL] 421 4.4.5 server busy"},
    {0, 3, 0, 0, "temporary system problem", "systemerror", "[GMAIL] 4.3.0 temporary problem"},
    {0, 7, 0, 0, "tls required", "failedstarttls", "[GMAIL] 421 4.7.0 TLS required"},
    {0, 7, 0, 0, "unusual rate of unsolicited", "blocked",
     "[GMAIL] 421 4.7.0 unsolicited mail from your IP: temporarily blocked"},
    {0, 7, 0, 0, "ip not in whitelist", "blocked", "[GMAIL] 421 4.7.0 IP not in whitelist"},
    {0, 7, 1, 1, "not authorized to send email directly", "blocked",
     "[GMAIL] 550 5.7.1 the IP you're using is not authorized to send email directly to our "
     "servers"},
    {0, 7, 1, 1, "multiple addresses in from", "notcompliantrfc",
     "[GMAIL] 550 5.7.1 more than one From address"},
    /* Yahoo */
    {0, 7, 0, 9, "will be permanently deferred", "blocked",
     "[YAHOO] 553 5.7.2 [TSS09], 421 4.7.1 [TS03] all messages from <IP> will be permanently "
     "deferred"},
    {0, 7, 9, 9, "policy reasons", "policyviolation",
     "[YAHOO] 554 5.7.9 message not accepted for policy reasons"},
};

/* Reads "C.S.D" at s (the caller found it with rp_find_status's rules). */
static bool rp_code_parse(const char *s, char *cls, unsigned *subj, unsigned *det)
{
    if (!s || (s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    char *e = NULL;
    unsigned long a = strtoul(s + 2, &e, 10);
    if (e == s + 2 || *e != '.' || a > 999) return false;
    const char *d = e + 1;
    unsigned long b = strtoul(d, &e, 10);
    if (e == d || b > 999) return false;
    *cls = s[0];
    *subj = (unsigned)a;
    *det = (unsigned)b;
    return true;
}

/* The words of a row, in the text as written or, for a reply wrapped over
 * several lines ("550-5.7.1 ... not authorized to 550-5.7.1 send email"), in
 * the text with its line prefixes removed. */
static bool rp_code_words(const char *t, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (!t || n == 0) return false;
    if (memmem(t, n, w, wl)) return true;
    char *f = malloc(n + 1);
    if (!f) return false;
    size_t m = rp_reply_flatten(t, n, f);
    bool hit = memmem(f, m, w, wl) != NULL;
    free(f);
    return hit;
}

static const char *rp_code_lookup(const char *code, const char *t, size_t n)
{
    char cls;
    unsigned s, d;
    if (!rp_code_parse(code, &cls, &s, &d)) return NULL;
    for (size_t i = 0; i < sizeof rp_code_rules / sizeof rp_code_rules[0]; i++) {
        const struct rp_code_rule *r = &rp_code_rules[i];
        if ((r->cls && r->cls != cls) || r->subject != s || d < r->lo || d > r->hi) continue;
        if (r->words && !rp_code_words(t, n, r->words)) continue;
        return r->reason;
    }
    return NULL;
}

const char *rp_reason_code(const char *status, const char *t, size_t n)
{
    const char *r = rp_code_lookup(status, t, n);
    if (r || !t) return r;
    /* the codes written in the reply text, first first */
    size_t off = 0;
    for (int k = 0; k < RP_CODES_SCAN_MAX && off < n; k++) {
        char code[16];
        if (!rp_find_status(t + off, n - off, code, sizeof code)) break;
        if ((r = rp_code_lookup(code, t, n)) != NULL) return r;
        const char *at = memmem(t + off, n - off, code, strlen(code));
        if (!at) break;
        off = (size_t)(at - t) + strlen(code);
    }
    return NULL;
}
