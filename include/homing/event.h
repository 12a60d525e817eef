/*
 * homing/event.h: the event record. Every hit, delivery report, read receipt and
 * complaint becomes one append-only event.
 *
 * On the hot path an event is a fixed-size value (no allocation per hit): header
 * fields are cut at the named limits below, which are the stored limits too.
 */
#ifndef HOMING_EVENT_H
#define HOMING_EVENT_H

#include <stdint.h>

#include "homing/util.h"

#define HOMING_EVENT_UA_MAX   512 /* User-Agent bytes kept, NUL included */
#define HOMING_EVENT_LANG_MAX 96  /* Accept-Language */
#define HOMING_EVENT_VIA_MAX  160 /* Via */
#define HOMING_EVENT_FROM_MAX 128 /* From (the HTTP request header some crawlers send) */

enum homing_event_kind {
    HOMING_EV_NONE = 0,
    HOMING_EV_OPEN = 1,          /* pixel fetched */
    HOMING_EV_CLICK = 2,         /* click redirect followed */
    HOMING_EV_DOCUMENT_OPEN = 3, /* document link served */
    HOMING_EV_SENT = 10,         /* relay accepted the recipient */
    HOMING_EV_REJECTED = 11,     /* relay refused the recipient */
    HOMING_EV_DELIVERED = 12,
    HOMING_EV_DELAYED = 13,
    HOMING_EV_BOUNCED = 14,
    HOMING_EV_READ = 15,      /* MDN (read receipt) */
    HOMING_EV_COMPLAINT = 16, /* ARF */
    HOMING_EV_AUTOREPLY = 17,
    HOMING_EV_SUPPRESSED = 18,  /* flood control: hits answered but not recorded */
    HOMING_EV_UNSUBSCRIBE = 19, /* one-click unsubscribe POST (RFC 8058) */
    /* the suppression list (not flood control's "suppressed"): the recipient
     * was listed, or a send to it refused, detail {"action": ...} */
    HOMING_EV_SUPPRESSION = 20,
    HOMING_EV_KIND_MAX = 21,
};

enum homing_http_method {
    HOMING_METHOD_OTHER = 0,
    HOMING_METHOD_GET = 1,
    HOMING_METHOD_HEAD = 2,
};

struct homing_event {
    int64_t id;      /* assigned by the store on commit; the consumer cursor */
    int64_t time_us; /* microseconds since the epoch */
    uint16_t kind;   /* enum homing_event_kind */
    uint8_t method;  /* enum homing_http_method; OTHER for non-HTTP events */
    uint64_t message;
    uint32_t recipient; /* 0: per-message token or unknown */
    uint32_t item;      /* link index of a click, grant of a document, else 0 */
    char client[HOMING_ADDR_STR_MAX];
    char user_agent[HOMING_EVENT_UA_MAX];
    char accept_language[HOMING_EVENT_LANG_MAX];
    char via[HOMING_EVENT_VIA_MAX];
    char from[HOMING_EVENT_FROM_MAX];
    /* Extra facts as a JSON object (status codes, diagnostics, verdicts), or NULL.
     * Owned by the event: homing_event_clear frees it. NULL on the hot path. */
    char *detail;
};

/* "open", "click", "document-open", "sent", ...; NULL for an unknown kind. */
const char *homing_event_kind_name(unsigned kind);
/* The kind named s, or HOMING_EV_NONE. */
unsigned homing_event_kind_parse(const char *s);
const char *homing_http_method_name(unsigned method);

/* The event as a JSON object (jansson json_t *, returned as void * so this
 * header does not need jansson.h): id, time (RFC 3339), time_us, kind, method,
 * message (16 hex), recipient, item, client, user_agent, accept_language, via,
 * from, detail (parsed JSON, or null). NULL on allocation failure. The caller
 * owns the reference (json_decref). The API and `homing events --json` share it
 * so both speak the same format. */
void *homing_event_json(const struct homing_event *e);

void homing_event_clear(struct homing_event *e);
void homing_events_free(struct homing_event *evs, size_t n);

#endif
