/*
 * event.c: names of event kinds, shared by the store (which stores the name, so
 * a database stays readable by hand) and the programs.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/event.h"

static const char *const kind_names[HOMING_EV_KIND_MAX] = {
    [HOMING_EV_OPEN] = "open",
    [HOMING_EV_CLICK] = "click",
    [HOMING_EV_DOCUMENT_OPEN] = "document-open",
    [HOMING_EV_SENT] = "sent",
    [HOMING_EV_REJECTED] = "rejected",
    [HOMING_EV_DELIVERED] = "delivered",
    [HOMING_EV_DELAYED] = "delayed",
    [HOMING_EV_BOUNCED] = "bounced",
    [HOMING_EV_READ] = "read",
    [HOMING_EV_COMPLAINT] = "complaint",
    [HOMING_EV_AUTOREPLY] = "autoreply",
    [HOMING_EV_SUPPRESSED] = "suppressed",
    [HOMING_EV_UNSUBSCRIBE] = "unsubscribe",
    [HOMING_EV_SUPPRESSION] = "suppression",
};

const char *homing_event_kind_name(unsigned kind)
{
    return kind < HOMING_EV_KIND_MAX ? kind_names[kind] : NULL;
}

unsigned homing_event_kind_parse(const char *s)
{
    for (unsigned i = 0; i < HOMING_EV_KIND_MAX; i++)
        if (kind_names[i] && strcmp(kind_names[i], s) == 0) return i;
    return HOMING_EV_NONE;
}

const char *homing_http_method_name(unsigned method)
{
    switch (method) {
    case HOMING_METHOD_GET: return "GET";
    case HOMING_METHOD_HEAD: return "HEAD";
    default: return "";
    }
}

void homing_event_clear(struct homing_event *e)
{
    if (!e) return;
    free(e->detail);
    e->detail = NULL;
}

void homing_events_free(struct homing_event *evs, size_t n)
{
    if (!evs) return;
    for (size_t i = 0; i < n; i++) free(evs[i].detail);
    free(evs);
}

void *homing_event_json(const struct homing_event *e)
{
    char when[HOMING_TIME_STR_MAX], msg[HOMING_ID_STR_MAX];
    homing_time_format(e->time_us, when);
    homing_id_format(e->message, msg);
    const char *kind = homing_event_kind_name(e->kind);
    json_t *detail = NULL;
    /* the request's header fields are raw bytes, not always UTF-8 */
    if (e->detail) detail = json_loads(e->detail, 0, NULL);
    json_t *o = json_pack(
        "{s:I, s:s, s:I, s:s, s:s?, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o?}", "id",
        (json_int_t)e->id, "time", when, "time_us", (json_int_t)e->time_us, "kind",
        kind ? kind : "unknown", "method", e->method ? homing_http_method_name(e->method) : NULL,
        "message", msg, "recipient", (json_int_t)e->recipient, "item", (json_int_t)e->item,
        "client", homing_json_text(e->client), "user_agent", homing_json_text(e->user_agent),
        "accept_language", homing_json_text(e->accept_language), "via", homing_json_text(e->via),
        "from", homing_json_text(e->from), "detail", detail);
    return o;
}
