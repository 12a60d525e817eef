/*
 * fingerprint.c: reader ids. A reader is (client network prefix, client family
 * and major version, Accept-Language) taken from hits a person made: a proxy's
 * or scanner's address describes the provider, not the reader, so those hits
 * have no fingerprint. The id is a 64-bit FNV-1a hash of a canonical text, so it
 * is stable across restarts, nodes and versions of homing; it is not secret (a
 * reader id groups hits inside one message, it grants nothing).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "homing/reader.h"

/* Primary language tags of an Accept-Language value, lower-cased, q-values and
 * blanks dropped: "en-GB,en;q=0.9" -> "en-gb,en". Browsers of one person send
 * the same list; the q-values differ between versions of one browser. */
static void lang_canon(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    int skipping = 0;
    for (; *s && o + 1 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == ',') {
            skipping = 0;
            if (o && out[o - 1] != ',') out[o++] = ',';
        } else if (ch == ';') {
            skipping = 1;
        } else if (!skipping && (isalnum(ch) || ch == '-' || ch == '*')) {
            out[o++] = (char)tolower(ch);
        }
    }
    while (o && out[o - 1] == ',') o--;
    out[o] = '\0';
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

int homing_fingerprint_compute(const struct homing_event *ev, const struct homing_ua *ua,
                               const struct homing_verdict_result *v, uint64_t *out)
{
    if (!ev || !out) return -EINVAL;
    if (v && v->verdict != HOMING_VERDICT_HUMAN && v->verdict != HOMING_VERDICT_UNKNOWN)
        return -EPERM;
    if (ua && (ua->type == HOMING_DEVICE_PROXY || ua->type == HOMING_DEVICE_BOT ||
               ua->ua_class == HOMING_UA_CLASS_PROXY || ua->ua_class == HOMING_UA_CLASS_PREFETCH ||
               ua->ua_class == HOMING_UA_CLASS_SCANNER || ua->ua_class == HOMING_UA_CLASS_TOOL ||
               ua->ua_class == HOMING_UA_CLASS_BOT))
        return -EPERM;
    struct homing_addr a;
    int rc = homing_addr_parse(ev->client, strnlen(ev->client, sizeof ev->client), &a);
    if (rc < 0) return -EINVAL;
    homing_addr_truncate(&a,
                         a.family == 4 ? HOMING_FINGERPRINT_V4_BITS : HOMING_FINGERPRINT_V6_BITS);
    char net[HOMING_ADDR_STR_MAX];
    homing_addr_format(&a, net);
    char lang[HOMING_FINGERPRINT_LANG_MAX];
    char al[HOMING_EVENT_LANG_MAX];
    homing_strlcpy(al, ev->accept_language, sizeof al);
    lang_canon(al, lang, sizeof lang);
    char text[256];
    int n = snprintf(text, sizeof text, "r1|%s/%u|%s|%s|%s", net,
                     a.family == 4 ? HOMING_FINGERPRINT_V4_BITS : HOMING_FINGERPRINT_V6_BITS,
                     ua ? ua->family : "Other", ua ? ua->major : "", lang);
    if (n < 0) return -EINVAL;
    if ((size_t)n >= sizeof text) n = sizeof text - 1;
    uint64_t h = fnv1a(text, (size_t)n);
    *out = h ? h : 1; /* 0 means "no fingerprint" to callers */
    return 0;
}

void homing_fingerprint_format(uint64_t fp, char out[HOMING_FINGERPRINT_STR_MAX])
{
    snprintf(out, HOMING_FINGERPRINT_STR_MAX, "%016llx", (unsigned long long)fp);
}

int homing_fingerprint_is_new(uint64_t fp, const uint64_t *known, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (known[i] == fp) return 0;
    return 1;
}
