/*
 * policy.c: which notifications a committed event deserves, and the line a
 * person reads ("bob@example.net opened 'Q3 offer' on Thunderbird 115
 * (Windows), DE").
 *
 * Pure: the caller (the daemon's notifier, later the enrichment step) looks up
 * what the store knows (first open of this recipient? this link clicked
 * before? a new reader on an opened message?) and passes the verdict and the
 * reader it computed; nothing here touches the store, so the rules are unit
 * tested on their own (tests/unit/test_notify.c). The rules are listed in
 * homing/notify.h; machine verdicts stay silent by default because a proxy
 * pre-fetch or a link scanner is not someone reading the mail.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "homing/notify.h"
#include "homing/reader.h"

#define POLICY_SUBJECT_MAX 120 /* bytes of subject quoted in a text */
#define POLICY_ADDRESS_MAX 160
#define POLICY_URL_MAX     200
#define POLICY_CLIENT_MAX  160
#define POLICY_REASON_MAX  64 /* status code or reason name of a report */

/* Subject, address and URL come from whoever registered or sent the mail and
 * the client from the hit: all are escaped (homing_str_escape) so the text can
 * be shown as it is by whatever receives it, and still shows what was there. */
static void safe(char *dst, size_t cap, const char *s)
{
    homing_str_escape(dst, cap, s ? s : "", s ? strlen(s) : 0, HOMING_ESCAPE_UTF8);
}

/* snprintf that may cut: a text is a summary, and a cut one is still useful. */
static void textf(char *t, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void textf(char *t, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, cap, fmt, ap);
    va_end(ap);
}

static int is_machine(const struct homing_notify_facts *f)
{
    if (f->event->method == HOMING_METHOD_HEAD) return 1;
    if (!f->enrich) return 0;
    unsigned v = f->enrich->verdict.verdict;
    return v == HOMING_VERDICT_PREFETCH || v == HOMING_VERDICT_SCANNER || v == HOMING_VERDICT_PROBE;
}

/* "Thunderbird 115 (Windows), DE", "via Gmail Image Proxy", or "an unknown
 * client"; the verdict is named when it is not a plain human one. */
static void client_text(const struct homing_notify_facts *f, char *out, size_t cap)
{
    const struct homing_enrichment *e = f->enrich;
    if (!e) {
        textf(out, cap, "on an unknown client");
        return;
    }
    char fam[HOMING_UA_FIELD_MAX], os[HOMING_UA_FIELD_MAX], dev[HOMING_UA_FIELD_MAX];
    safe(fam, sizeof fam, e->ua.family);
    safe(os, sizeof os, e->ua.os);
    safe(dev, sizeof dev, e->ua.device);
    char where[16] = "";
    if (e->country[0]) textf(where, sizeof where, ", %.2s", e->country);
    if (e->verdict.verdict == HOMING_VERDICT_PROXY_OPEN || e->ua.type == HOMING_DEVICE_PROXY) {
        textf(out, cap, "via %s (client hidden)", fam[0] ? fam : "a mail proxy");
        return;
    }
    const char *named = dev[0] && strcmp(dev, "Other") && strcmp(dev, "Generic Smartphone") ? dev
                        : fam[0] && strcmp(fam, "Other")                                    ? fam
                                                                                            : NULL;
    char ver[HOMING_UA_VERSION_MAX + 1] = "";
    if (named == fam && e->ua.major[0]) textf(ver, sizeof ver, " %s", e->ua.major);
    char osp[HOMING_UA_FIELD_MAX + 3] = "";
    if (os[0] && strcmp(os, "Other") && (!named || strcmp(os, named)))
        textf(osp, sizeof osp, " (%s)", os);
    unsigned v = e->verdict.verdict;
    const char *vn =
        v != HOMING_VERDICT_HUMAN && v != HOMING_VERDICT_PROXY_OPEN ? homing_verdict_name(v) : NULL;
    textf(out, cap, "on %s%s%s%s%s%s%s", named ? named : "an unknown client", ver, osp, where,
          vn ? " [" : "", vn ? vn : "", vn ? "]" : "");
}

const char *const homing_notify_state_kinds[] = {"delayed", "delivered", "read",
                                                 "bounced", "complaint", NULL};

int homing_notify_state_rank(const char *kind)
{
    for (int i = 0; kind && homing_notify_state_kinds[i]; i++)
        if (strcmp(kind, homing_notify_state_kinds[i]) == 0) return i + 1;
    return 0;
}

static const char *decide(const struct homing_notify_facts *f)
{
    const struct homing_event *e = f->event;
    switch (e->kind) {
    case HOMING_EV_OPEN:
        if (is_machine(f) && !f->notify_machine) return NULL;
        if (!f->already_notified) return "open";
        if (f->message_opened && f->reader_new) return "new-reader";
        return NULL;
    case HOMING_EV_CLICK:
    case HOMING_EV_DOCUMENT_OPEN:
        if (is_machine(f) && !f->notify_machine) return NULL;
        if (f->already_notified) return NULL;
        return e->kind == HOMING_EV_CLICK ? "click" : "document-open";
    /* one notification per step of the recipient's state (rule 4) */
    case HOMING_EV_DELIVERED: return f->state_notified ? NULL : "delivered";
    case HOMING_EV_BOUNCED: return f->state_notified ? NULL : "bounced";
    case HOMING_EV_DELAYED: return f->state_notified ? NULL : "delayed";
    case HOMING_EV_READ: return f->state_notified ? NULL : "read";
    case HOMING_EV_COMPLAINT: return f->state_notified ? NULL : "complaint";
    default: return NULL;
    }
}

int homing_notify_policy(const struct homing_notify_facts *f,
                         struct homing_notify_decision out[HOMING_NOTIFY_POLICY_MAX])
{
    if (!f || !f->event || !out) return -EINVAL;
    const char *kind = decide(f);
    if (!kind) return 0;
    char subj[POLICY_SUBJECT_MAX], who[POLICY_ADDRESS_MAX], url[POLICY_URL_MAX],
        client[POLICY_CLIENT_MAX];
    safe(subj, sizeof subj, f->subject);
    safe(who, sizeof who, f->address && *f->address ? f->address : "a recipient");
    safe(url, sizeof url, f->link_url && *f->link_url ? f->link_url : "a link");
    client_text(f, client, sizeof client);
    /* ": 5.1.1 user-unknown" after a bounce or delay, when the report said. */
    char status[POLICY_REASON_MAX], reason[POLICY_REASON_MAX], why[2 * POLICY_REASON_MAX + 4] = "";
    safe(status, sizeof status, f->status);
    safe(reason, sizeof reason, f->reason);
    if (status[0] || reason[0])
        textf(why, sizeof why, ": %s%s%s", status, status[0] && reason[0] ? " " : "", reason);
    char *t = out[0].text;
    const size_t cap = sizeof out[0].text;
    out[0].kind = kind;
    if (strcmp(kind, "open") == 0)
        textf(t, cap, "%s opened '%s' %s", who, subj, client);
    else if (strcmp(kind, "new-reader") == 0)
        textf(t, cap, "a new reader opened '%s' (sent to %s) %s: possibly forwarded", subj, who,
              client);
    else if (strcmp(kind, "click") == 0)
        textf(t, cap, "%s clicked %s in '%s' %s", who, url, subj, client);
    else if (strcmp(kind, "document-open") == 0)
        textf(t, cap, "%s opened a document of '%s' %s", who, subj, client);
    else if (strcmp(kind, "delivered") == 0)
        textf(t, cap, "'%s' was delivered to %s", subj, who);
    else if (strcmp(kind, "bounced") == 0)
        textf(t, cap, "'%s' bounced for %s%s", subj, who, why);
    else if (strcmp(kind, "delayed") == 0)
        textf(t, cap, "'%s' is delayed for %s%s", subj, who, why);
    else if (strcmp(kind, "read") == 0)
        textf(t, cap, "%s sent a read receipt for '%s'", who, subj);
    else
        textf(t, cap, "%s reported '%s' as spam", who, subj);
    return 1;
}
