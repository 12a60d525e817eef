/*
 * control.c: what `homing relay` decides before it tracks a message
 * (docs/relay.md, "What is tracked"): the tracking the sender asks for
 * (X-Homing-Track, else relay.track_senders, else relay.track), and the
 * messages that must pass untouched whatever was asked: signed or encrypted
 * ones (a changed byte breaks the signature the recipient checks) and copies
 * homing already tracked (tracking them again would give one reader two
 * tokens).
 *
 * Contract: homing/relay.h. Pure functions over bytes: no store, no I/O.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "homing/relay.h"
#include "homing/track.h"

int homing_relay_track_parse(const char *s)
{
    if (!s) return -EINVAL;
    if (!strcasecmp(s, "no")) return HOMING_RELAY_TRACK_NO;
    if (!strcasecmp(s, "message")) return HOMING_RELAY_TRACK_MESSAGE;
    if (!strcasecmp(s, "recipient")) return HOMING_RELAY_TRACK_RECIPIENT;
    return -EINVAL;
}

/* Walks the entries of a senders map, "KEY=MODE" separated by commas or
 * blanks; for each calls fn (which stops the walk by returning non-zero).
 * -EINVAL for an entry without '=', an empty or over-long key, a mode that is
 * not one, or more than HOMING_RELAY_SENDERS_MAX entries. */
static int senders_walk(const char *map, int (*fn)(const char *key, size_t kn, int mode, void *u),
                        void *u)
{
    size_t count = 0;
    for (const char *p = map ? map : ""; *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t') e++;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (!eq || eq == p || (size_t)(eq - p) > HOMING_SMTP_PATH_MAX) return -EINVAL;
        char mode[16];
        size_t mn = (size_t)(e - eq - 1);
        if (mn == 0 || mn >= sizeof mode) return -EINVAL;
        memcpy(mode, eq + 1, mn);
        mode[mn] = '\0';
        int m = homing_relay_track_parse(mode);
        if (m < 0 || ++count > HOMING_RELAY_SENDERS_MAX) return -EINVAL;
        if (fn && fn(p, (size_t)(eq - p), m, u)) return 0;
        p = e;
    }
    return 0;
}

int homing_relay_senders_check(const char *map)
{
    return senders_walk(map, NULL, NULL);
}

struct lookup {
    const char *addr, *domain;
    int by_addr, by_domain;
};

static int lookup_one(const char *key, size_t kn, int mode, void *u)
{
    struct lookup *l = u;
    if (strlen(l->addr) == kn && !strncasecmp(key, l->addr, kn) && l->by_addr < 0)
        l->by_addr = mode;
    else if (l->domain && strlen(l->domain) == kn && !strncasecmp(key, l->domain, kn) &&
             l->by_domain < 0)
        l->by_domain = mode;
    return 0;
}

int homing_relay_track_for(const char *map, int dflt, const char *sender)
{
    if (!sender) return dflt;
    const char *at = strrchr(sender, '@');
    struct lookup l = {
        .addr = sender, .domain = at ? at + 1 : NULL, .by_addr = -1, .by_domain = -1};
    if (senders_walk(map, lookup_one, &l) < 0) return -EINVAL;
    /* the address's own entry before its domain's, whatever their order */
    return l.by_addr >= 0 ? l.by_addr : l.by_domain >= 0 ? l.by_domain : dflt;
}

/* Whether the message's header block holds a field called name. */
static int has_field(const char *msg, size_t len, const char *name)
{
    char v[2];
    int r = homing_relay_header(msg, len, name, v, sizeof v);
    return r != -ENOENT;
}

const char *homing_relay_untouchable(const char *msg, size_t len)
{
    if (!msg) return NULL;
    char ct[256];
    int r = homing_relay_header(msg, len, "Content-Type", ct, sizeof ct);
    if (r > 0 || r == -E2BIG) {
        /* the type alone, before any parameter */
        size_t n = strcspn(ct, "; \t");
        static const char *const sealed[] = {"multipart/signed", "multipart/encrypted",
                                             "application/pkcs7-mime", "application/x-pkcs7-mime",
                                             NULL};
        for (size_t i = 0; sealed[i]; i++)
            if (n == strlen(sealed[i]) && !strncasecmp(ct, sealed[i], n))
                return "signed or encrypted (S/MIME or PGP/MIME)";
    }
    /* inline PGP (RFC 4880 armour) at the start of a body line */
    static const char *const armour[] = {"-----BEGIN PGP SIGNED MESSAGE-----",
                                         "-----BEGIN PGP MESSAGE-----", NULL};
    for (size_t i = 0; armour[i]; i++) {
        size_t an = strlen(armour[i]);
        for (const char *p = msg; (p = memmem(p, len - (size_t)(p - msg), armour[i], an)); p += an)
            if (p == msg || p[-1] == '\n') return "signed or encrypted (inline PGP)";
    }
    if (has_field(msg, len, HOMING_COPY_HEADER)) return "already tracked by homing";
    return NULL;
}
