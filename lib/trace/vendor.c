/*
 * vendor.c: the verdicts anti-spam filters leave in a message's header,
 * decoded for `homing trace`: Microsoft 365 / Exchange Online Protection
 * (X-Forefront-Antispam-Report, X-Microsoft-Antispam), SpamAssassin
 * (X-Spam-Status, X-Spam-Score, X-Spam-Flag, X-Spam-Level), Barracuda
 * (X-Barracuda-Spam-Status, -Score, -Flag), Proofpoint
 * (X-Proofpoint-Spam-Details), Mimecast (X-Mimecast-Spam-Score and the
 * other X-Mimecast-*-Signature fields) and Google (X-Gm-*). Each decoder
 * names its source (the "source" member); where a vendor publishes nothing
 * the fields are split into their names and values and not interpreted.
 *
 * Sources:
 * - Microsoft: "Anti-spam message headers in Microsoft 365",
 *   https://learn.microsoft.com/en-us/defender-office-365/message-headers-eop-mdo
 *   (X-Forefront-Antispam-Report fields CAT, CIP, CTRY, DIR, H, IPV, LANG,
 *   PTR, SCL, SFTY, SFV, SRV; X-Microsoft-Antispam BCL, PCL) and
 *   https://learn.microsoft.com/en-us/defender-office-365/anti-spam-bulk-complaint-level-bcl-about
 * - SpamAssassin: Mail::SpamAssassin::Conf, add_header and its template
 *   tags (_YESNO_, _SCORE_, _REQD_, _TESTS_, _AUTOLEARN_, _VERSION_),
 *   https://spamassassin.apache.org/full/4.0.x/doc/Mail_SpamAssassin_Conf.html
 * - Barracuda: no field reference is published; the layout ("Yes, SCORE=3.60
 *   using per-user scores of TAG_LEVEL=3.5 QUARANTINE_LEVEL=9.0
 *   KILL_LEVEL=1000.0 tests=...") as a site running it documents it,
 *   https://wiki.umiacs.umd.edu/umiacs/index.php/BarracudaSpamFirewall/Scoring
 * - Proofpoint, Mimecast, Google X-Gm-*: no public field reference; split
 *   into name=value pairs (Proofpoint) or shown as written, not interpreted.
 *
 * Contract: the values are attacker text (anyone can write these fields):
 * at most VENDOR_PAIRS_MAX pairs and VENDOR_RULES_MAX rule names of
 * VENDOR_TOKEN_MAX bytes are kept from one field, the rest counted as cut;
 * the caller says whether the field was written at or above the trusted
 * boundary. Returns 1 with *out for a recognised field, 0 for another
 * field, a negative errno when memory fails.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trace_int.h"

#define VENDOR_PAIRS_MAX 64  /* name=value pairs kept from one field */
#define VENDOR_RULES_MAX 256 /* rule names kept from one tests= list */
#define VENDOR_TOKEN_MAX 256 /* bytes of one name, value or rule kept */

#define SRC_MICROSOFT                                                                              \
    "https://learn.microsoft.com/en-us/defender-office-365/message-headers-eop-mdo"
#define SRC_SPAMASSASSIN                                                                           \
    "https://spamassassin.apache.org/full/4.0.x/doc/Mail_SpamAssassin_Conf.html"
#define SRC_BARRACUDA "https://wiki.umiacs.umd.edu/umiacs/index.php/BarracudaSpamFirewall/Scoring"

struct code_text {
    const char *code, *text;
};

static const struct code_text ms_sfv[] = {
    {"BLK", "blocked: the sender is on a blocked senders or domains list"},
    {"NSPM", "not spam"},
    {"SFE", "allowed: the sender is on the recipient's safe senders list"},
    {"SKA", "allowed by an anti-spam policy's allowed senders or domains"},
    {"SKB", "spam: the sender is on an anti-spam policy's blocked senders or domains"},
    {"SKI", "skipped: intra-organisation mail"},
    {"SKN", "not spam: marked so before filtering (a mail flow rule)"},
    {"SKQ", "released from quarantine"},
    {"SKS", "spam: marked so before filtering (a mail flow rule)"},
    {"SPM", "spam"},
    {NULL, NULL},
};

static const struct code_text ms_cat[] = {
    {"AMP", "anti-malware"},
    {"BULK", "bulk"},
    {"DIMP", "domain impersonation"},
    {"FTBP", "anti-malware common attachments filter"},
    {"GIMP", "mailbox intelligence impersonation"},
    {"HPHSH", "high confidence phishing"},
    {"HPHISH", "high confidence phishing"},
    {"HSPM", "high confidence spam"},
    {"INTOS", "intra-organisation phishing"},
    {"MALW", "malware"},
    {"OSPM", "outbound spam"},
    {"PHSH", "phishing"},
    {"SAP", "Safe Attachments"},
    {"SPM", "spam"},
    {"SPOOF", "spoofing"},
    {"UIMP", "user impersonation"},
    {"NONE", "none"},
    {NULL, NULL},
};

static const struct code_text ms_ipv[] = {
    {"CAL", "allowed by the connection filter's IP Allow List"},
    {"NLI", "the address is on no IP reputation list"},
    {NULL, NULL},
};

static const struct code_text ms_dir[] = {
    {"INB", "inbound"},
    {"OUT", "outbound"},
    {"INT", "internal"},
    {NULL, NULL},
};

static const char *code_lookup(const struct code_text *t, const char *code)
{
    for (; t->code; t++)
        if (strcasecmp(t->code, code) == 0) return t->text;
    return NULL;
}

static const char *ms_scl(long v)
{
    if (v == -1) return "skipped spam filtering (an allow rule or list)";
    if (v == 0 || v == 1) return "not spam";
    if (v == 5 || v == 6) return "spam";
    if (v >= 7 && v <= 9) return "high confidence spam";
    return "not a value Microsoft documents";
}

static const char *ms_bcl(long v)
{
    if (v == 0) return "not from a bulk sender";
    if (v >= 1 && v <= 3) return "bulk sender with few complaints";
    if (v >= 4 && v <= 7) return "bulk sender with a mixed number of complaints";
    if (v >= 8 && v <= 9) return "bulk sender with many complaints";
    return "not a value Microsoft documents";
}

static int parse_long(const char *s, long *out)
{
    char *end;
    if (!*s) return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < -1000 || v > 1000) return -1;
    *out = v;
    return 0;
}

/* One token cut to VENDOR_TOKEN_MAX bytes, trimmed. */
static json_t *tok_json(const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p)) p++, n--;
    while (n && isspace((unsigned char)p[n - 1])) n--;
    if (n > VENDOR_TOKEN_MAX) n = VENDOR_TOKEN_MAX;
    char buf[VENDOR_TOKEN_MAX + 1];
    memcpy(buf, p, n);
    buf[n] = '\0';
    return homing_json_text(buf);
}

static void tok_copy(char *dst, size_t cap, const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p)) p++, n--;
    while (n && isspace((unsigned char)p[n - 1])) n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

/* "A:v;B:w;..." (Microsoft) or "a=v b=w" (Proofpoint) into values. */
static void pairs_parse(const char *v, char sep, char kv, json_t *values, size_t *cut)
{
    size_t kept = 0;
    const char *p = v;
    while (*p) {
        while (*p == sep || isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != sep && !(sep == ' ' && isspace((unsigned char)*e))) e++;
        const char *c = memchr(p, kv, (size_t)(e - p));
        if (c && c > p) {
            char name[VENDOR_TOKEN_MAX + 1];
            tok_copy(name, sizeof name, p, (size_t)(c - p));
            if (kept >= VENDOR_PAIRS_MAX)
                (*cut)++;
            else if (!json_object_get(values, name)) {
                json_object_set_new(values, name, tok_json(c + 1, (size_t)(e - c - 1)));
                kept++;
            }
        }
        p = e;
    }
}

static json_t *field_obj(const char *vendor, const char *field, const char *source)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "vendor", json_string(vendor));
    json_object_set_new(o, "field", json_string(field));
    json_object_set_new(o, "source", source ? json_string(source) : json_null());
    json_object_set_new(o, "verdict", json_null());
    json_object_set_new(o, "values", json_object());
    json_object_set_new(o, "meaning", json_object());
    return o;
}

static void microsoft(json_t *o, const char *v)
{
    json_t *values = json_object_get(o, "values"), *meaning = json_object_get(o, "meaning");
    size_t cut = 0;
    pairs_parse(v, ';', ':', values, &cut);
    json_object_set_new(o, "cut", json_integer((json_int_t)cut));
    const char *key;
    json_t *val;
    const char *verdict = NULL;
    json_object_foreach(values, key, val)
    {
        const char *s = json_string_value(val);
        long n;
        const char *m = NULL;
        if (!s) continue;
        if (strcasecmp(key, "SCL") == 0 && parse_long(s, &n) == 0) {
            m = ms_scl(n);
            verdict = m;
        } else if (strcasecmp(key, "BCL") == 0 && parse_long(s, &n) == 0) {
            m = ms_bcl(n);
        } else if (strcasecmp(key, "SFV") == 0) {
            m = code_lookup(ms_sfv, s);
        } else if (strcasecmp(key, "CAT") == 0) {
            m = code_lookup(ms_cat, s);
        } else if (strcasecmp(key, "IPV") == 0) {
            m = code_lookup(ms_ipv, s);
        } else if (strcasecmp(key, "DIR") == 0) {
            m = code_lookup(ms_dir, s);
        } else if (strcasecmp(key, "CIP") == 0) {
            m = "connecting IP address";
        } else if (strcasecmp(key, "CTRY") == 0) {
            m = "country of the connecting address";
        } else if (strcasecmp(key, "H") == 0) {
            m = "HELO/EHLO name of the connecting server";
        } else if (strcasecmp(key, "PTR") == 0) {
            m = "reverse DNS name of the connecting address";
        } else if (strcasecmp(key, "LANG") == 0) {
            m = "language of the message";
        } else if (strcasecmp(key, "SRV") == 0 && strcasecmp(s, "BULK") == 0) {
            m = "bulk";
        } else if (strcasecmp(key, "SFTY") == 0) {
            m = "phishing safety tip category (9.x)";
        }
        if (m) json_object_set_new(meaning, key, json_string(m));
    }
    if (verdict) json_object_set_new(o, "verdict", json_string(verdict));
}

/* "Yes, score=5.3 required=5.0 tests=A,B,\n\tC autolearn=no version=3.4.6"
 * (SpamAssassin) or "Yes, SCORE=3.60 using per-user scores of TAG_LEVEL=3.5
 * QUARANTINE_LEVEL=9.0 KILL_LEVEL=1000.0 tests=A, B" (Barracuda). */
static void status_line(json_t *o, const char *v)
{
    json_t *values = json_object_get(o, "values");
    json_t *rules = json_array();
    size_t cut = 0;
    const char *p = v;
    while (isspace((unsigned char)*p)) p++;
    const char *comma = strchr(p, ',');
    size_t yl = comma ? (size_t)(comma - p) : strcspn(p, " \t");
    if ((yl == 3 && strncasecmp(p, "yes", 3) == 0) || (yl == 2 && strncasecmp(p, "no", 2) == 0))
        json_object_set_new(o, "verdict", json_string(yl == 3 ? "spam" : "not spam"));
    p += yl;
    size_t kept = 0;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *e = p;
        while (*e && !isspace((unsigned char)*e)) e++;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq && (size_t)(eq - p) == 5 && strncasecmp(p, "tests", 5) == 0) {
            /* rule names separated by commas, with blanks or folding after them */
            const char *q = eq + 1;
            for (;;) {
                const char *r = q;
                while (*r && *r != ',' && !isspace((unsigned char)*r)) r++;
                if (r > q) {
                    if (json_array_size(rules) < VENDOR_RULES_MAX)
                        json_array_append_new(rules, tok_json(q, (size_t)(r - q)));
                    else
                        cut++;
                }
                if (*r != ',') {
                    p = r;
                    break;
                }
                q = r + 1;
                while (isspace((unsigned char)*q)) q++;
                if (!*q || memchr(q, '=', strcspn(q, ", \t\r\n"))) { /* next key, not a rule */
                    p = q;
                    break;
                }
            }
            continue;
        }
        if (eq && eq > p) {
            char name[VENDOR_TOKEN_MAX + 1];
            tok_copy(name, sizeof name, p, (size_t)(eq - p));
            for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
            if (kept >= VENDOR_PAIRS_MAX)
                cut++;
            else if (!json_object_get(values, name)) {
                json_object_set_new(values, name, tok_json(eq + 1, (size_t)(e - eq - 1)));
                kept++;
            }
        }
        p = e;
    }
    json_object_set_new(o, "rules", rules);
    json_object_set_new(o, "cut", json_integer((json_int_t)cut));
}

static void plain(json_t *o, const char *name, const char *v)
{
    json_object_set_new(json_object_get(o, "values"), name, tok_json(v, strlen(v)));
}

int trace_vendor_known(const char *p, size_t n)
{
    static const char *const prefixes[] = {
        "X-Forefront-Antispam-Report",
        "X-Microsoft-Antispam",
        "X-Spam-Status",
        "X-Spam-Score",
        "X-Spam-Level",
        "X-Spam-Flag",
        "X-Barracuda-Spam-",
        "X-Proofpoint-Spam-Details",
        "X-Mimecast-",
        "X-Gm-",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t l = strlen(prefixes[i]);
        if (n >= l && strncasecmp(p, prefixes[i], l) == 0) return 1;
    }
    return 0;
}

int trace_vendor_decode(const char *field, const char *v, json_t **out)
{
    json_t *o = NULL;
    if (strcasecmp(field, "X-Forefront-Antispam-Report") == 0 ||
        strcasecmp(field, "X-Microsoft-Antispam") == 0 ||
        strcasecmp(field, "X-Forefront-Antispam-Report-Untrusted") == 0 ||
        strcasecmp(field, "X-Microsoft-Antispam-Untrusted") == 0) {
        if (!(o = field_obj("microsoft", field, SRC_MICROSOFT))) return -ENOMEM;
        microsoft(o, v);
    } else if (strcasecmp(field, "X-Spam-Status") == 0) {
        if (!(o = field_obj("spamassassin", field, SRC_SPAMASSASSIN))) return -ENOMEM;
        status_line(o, v);
    } else if (strcasecmp(field, "X-Spam-Score") == 0 || strcasecmp(field, "X-Spam-Level") == 0 ||
               strcasecmp(field, "X-Spam-Flag") == 0) {
        if (!(o = field_obj("spamassassin", field, SRC_SPAMASSASSIN))) return -ENOMEM;
        plain(o, field + 7, v);
        if (strcasecmp(field, "X-Spam-Flag") == 0)
            json_object_set_new(o, "verdict",
                                json_string(strncasecmp(v, "yes", 3) == 0 ? "spam" : "not spam"));
    } else if (strcasecmp(field, "X-Barracuda-Spam-Status") == 0) {
        if (!(o = field_obj("barracuda", field, SRC_BARRACUDA))) return -ENOMEM;
        status_line(o, v);
    } else if (strncasecmp(field, "X-Barracuda-Spam-", 17) == 0) {
        if (!(o = field_obj("barracuda", field, SRC_BARRACUDA))) return -ENOMEM;
        plain(o, field + 17, v);
    } else if (strcasecmp(field, "X-Proofpoint-Spam-Details") == 0) {
        if (!(o = field_obj("proofpoint", field, NULL))) return -ENOMEM;
        size_t cut = 0;
        pairs_parse(v, ' ', '=', json_object_get(o, "values"), &cut);
        json_object_set_new(o, "cut", json_integer((json_int_t)cut));
        const char *rule = json_string_value(json_object_get(json_object_get(o, "values"), "rule"));
        if (rule) json_object_set_new(o, "verdict", tok_json(rule, strlen(rule)));
    } else if (strncasecmp(field, "X-Mimecast-", 11) == 0) {
        if (!(o = field_obj("mimecast", field, NULL))) return -ENOMEM;
        plain(o, field + 11, v);
    } else if (strncasecmp(field, "X-Gm-", 5) == 0) {
        if (!(o = field_obj("google", field, NULL))) return -ENOMEM;
        plain(o, field + 5, v);
    } else {
        return 0;
    }
    *out = o;
    return 1;
}
