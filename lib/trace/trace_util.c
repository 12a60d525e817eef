/*
 * trace_util.c: the small readers `homing trace` needs around its parsers:
 * splitting the header section into fields, unfolding, addresses with
 * RFC 2047 display names, organisational domains and the table of sending
 * services.
 *
 * Contract: inputs are attacker text; every loop is bounded by the input
 * length and the named limits of homing/trace.h, copies are bounded by
 * HOMING_TRACE_HEADER_MAX, and results are written only on success.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mime/mime_int.h"
#include "trace_int.h"

/* Fields room is made for at first: most messages have fewer (it doubles). */
#define TRACE_FIELDS_FIRST 32

int trace_fields_split(const char *msg, size_t len, struct trace_fields *out)
{
    size_t pos = 0;
    struct homing_mime_field mf;
    int rc;
    out->n = 0;
    while ((rc = homing_mime_field_next(msg, len, &pos, &mf)) != 0) {
        if (rc < 0 || !homing_mime_field_name_strict(&mf)) {
            /* Not a field (an mbox "From " line or junk): skipped, but a
             * message that starts with body text has no header section. */
            if (out->n == 0 && mf.start == 0 && !(len > 5 && memcmp(msg, "From ", 5) == 0))
                return -EBADMSG;
            continue;
        }
        struct trace_field f = {mf.name, mf.value};
        if (f.value.len > HOMING_TRACE_HEADER_MAX) f.value.len = HOMING_TRACE_HEADER_MAX;
        if (out->n >= HOMING_TRACE_FIELDS_MAX) return -E2BIG;
        rc = homing_array_grow((void **)&out->f, &out->cap, out->n, sizeof *out->f,
                               TRACE_FIELDS_FIRST);
        if (rc < 0) return rc;
        out->f[out->n++] = f;
    }
    out->header_len = pos; /* past the empty line; the whole input when headers only */
    return out->n ? 0 : -EBADMSG;
}

char *trace_text_dup(const char *p, size_t n, int lower)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        s[i] = c == 0 ? '?' : lower ? (char)tolower(c) : (char)c;
    }
    s[n] = '\0';
    return s;
}

void trace_fields_clear(struct trace_fields *fs)
{
    free(fs->f);
    *fs = (struct trace_fields){0};
}

int trace_field_is(const struct trace_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name.len == n && strncasecmp(f->name.p, name, n) == 0;
}

char *trace_unfold(struct homing_slice v)
{
    char *s = malloc(v.len + 1);
    if (!s) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == '\r' || c == '\n') continue;
        if (c == '\t') c = ' ';
        s[o++] = c;
    }
    while (o && s[o - 1] == ' ') o--;
    s[o] = '\0';
    size_t lead = 0;
    while (s[lead] == ' ') lead++;
    memmove(s, s + lead, o - lead + 1);
    return s;
}

void trace_addr_clear(struct trace_addr *a)
{
    free(a->display);
    free(a->addr);
    free(a->domain);
    memset(a, 0, sizeof *a);
}

/* Strips comments and surrounding blanks and quotes from a display name. */
static char *clean_display(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '"')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '"')) n--;
    if (!n) return NULL;
    char *tmp = malloc(n + 1);
    if (!tmp) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) i++;
        tmp[o++] = s[i];
    }
    tmp[o] = '\0';
    char *d = homing_mime_decode_words(tmp);
    free(tmp);
    return d;
}

int trace_addr_parse(const char *s, struct trace_addr *out)
{
    struct trace_addr a = {0};
    size_t n = strlen(s);
    if (n > HOMING_TRACE_HEADER_MAX) return -E2BIG;
    /* The first mailbox only: split at a ',' outside quotes and brackets. */
    int q = 0, ang = 0;
    size_t end = n;
    const char *lt = NULL, *gt = NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (s[i] == '"') q = !q;
        if (q) continue;
        if (s[i] == '<' && !lt) {
            lt = s + i;
            ang = 1;
        } else if (s[i] == '>' && ang) {
            gt = s + i;
            ang = 0;
        } else if (s[i] == ',' && !ang) {
            end = i;
            break;
        }
    }
    const char *ap;
    size_t an;
    if (lt && gt && gt > lt) {
        ap = lt + 1;
        an = (size_t)(gt - lt - 1);
        a.display = clean_display(s, (size_t)(lt - s));
    } else {
        ap = s;
        an = end;
    }
    /* Drop comments and blanks around a bare addr-spec. */
    char *addr = malloc(an + 1);
    if (!addr) {
        trace_addr_clear(&a);
        return -ENOMEM;
    }
    size_t o = 0;
    int depth = 0;
    for (size_t i = 0; i < an; i++) {
        char c = ap[i];
        if (c == '(') depth++;
        if (depth == 0 && c != ' ' && c != '\t') addr[o++] = c;
        if (c == ')' && depth) depth--;
    }
    addr[o] = '\0';
    if (o > HOMING_TRACE_TOKEN_MAX) {
        free(addr);
        trace_addr_clear(&a);
        return -E2BIG;
    }
    a.addr = addr;
    const char *at = strrchr(addr, '@');
    if (at && at[1]) {
        a.domain = strdup(at + 1);
        if (!a.domain) {
            trace_addr_clear(&a);
            return -ENOMEM;
        }
        size_t dl = strlen(a.domain);
        while (dl && a.domain[dl - 1] == '.') a.domain[--dl] = '\0';
        for (char *p = a.domain; *p; p++) *p = (char)tolower((unsigned char)*p);
    }
    *out = a;
    return 0;
}

void trace_org_domain(const char *domain, char *out, size_t cap)
{
    /* Second-level labels under which registrations happen at the third. */
    static const char *const sld[] = {"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or"};
    size_t n = strlen(domain);
    const char *last = NULL, *prev = NULL, *prev2 = NULL;
    for (size_t i = n; i-- > 0;) {
        if (domain[i] == '.') {
            if (!last)
                last = domain + i;
            else if (!prev)
                prev = domain + i;
            else if (!prev2) {
                prev2 = domain + i;
                break;
            }
        }
    }
    const char *start = domain;
    if (prev) {
        start = prev + 1;
        size_t tld = n - (size_t)(last + 1 - domain);
        size_t l2 = (size_t)(last - start);
        int two = 0;
        for (size_t k = 0; k < sizeof sld / sizeof sld[0]; k++)
            if (strlen(sld[k]) == l2 && strncmp(start, sld[k], l2) == 0) two = 1;
        if (two && tld == 2) start = prev2 ? prev2 + 1 : domain;
    }
    homing_strlcpy(out, start, cap);
}

const char *trace_esp_lookup(const char *host)
{
    /* Suffix -> service. Sources: the services' own documentation of their
     * DKIM signing domains and outbound host names. */
    static const struct {
        const char *suffix, *name;
    } esp[] = {
        {"amazonses.com", "Amazon SES"},
        {"sendgrid.net", "SendGrid"},
        {"mailgun.org", "Mailgun"},
        {"mailgun.net", "Mailgun"},
        {"mcsv.net", "Mailchimp"},
        {"mcdlv.net", "Mailchimp"},
        {"mailchimpapp.net", "Mailchimp"},
        {"rsgsv.net", "Mailchimp"},
        {"mandrillapp.com", "Mandrill"},
        {"sparkpostmail.com", "SparkPost"},
        {"mtasv.net", "Postmark"},
        {"pmbounces.net", "Postmark"},
        {"postmarkapp.com", "Postmark"},
        {"sendinblue.com", "Brevo"},
        {"brevo.com", "Brevo"},
        {"mailjet.com", "Mailjet"},
        {"hubspotemail.net", "HubSpot"},
        {"exacttarget.com", "Salesforce Marketing Cloud"},
        {"outbound.protection.outlook.com", "Microsoft 365"},
        {"onmicrosoft.com", "Microsoft 365"},
        {"google.com", "Google"},
        {"googlemail.com", "Google"},
        {"zendesk.com", "Zendesk"},
        {"constantcontact.com", "Constant Contact"},
        {"klaviyomail.com", "Klaviyo"},
        {"mailerlite.com", "MailerLite"},
        {"smtp2go.com", "SMTP2GO"},
    };
    if (!host) return NULL;
    size_t n = strlen(host);
    for (size_t i = 0; i < sizeof esp / sizeof esp[0]; i++) {
        size_t l = strlen(esp[i].suffix);
        if (n == l && strcasecmp(host, esp[i].suffix) == 0) return esp[i].name;
        if (n > l && host[n - l - 1] == '.' && strcasecmp(host + n - l, esp[i].suffix) == 0)
            return esp[i].name;
    }
    return NULL;
}

int trace_names_dkim_signature(const char *msg, size_t len)
{
    static const char before[] = "dkim", after[] = "signature";
    const size_t nb = sizeof before - 1, na = sizeof after - 1;
    const char *p = msg, *end = msg + len;
    while ((p = memchr(p, '-', (size_t)(end - p))) != NULL) {
        if ((size_t)(p - msg) >= nb && (size_t)(end - p) > na &&
            strncasecmp(p - nb, before, nb) == 0 && strncasecmp(p + 1, after, na) == 0)
            return 1;
        p++;
    }
    return 0;
}
