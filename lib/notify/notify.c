/*
 * notify.c: the producer API of notifications (homing_notify_add), the kinds and
 * webhook filters, and the JSON form every consumer sees (webhook body, SSE
 * data, homing watch --json).
 *
 * Contract: see homing/notify.h. Nothing here logs; the store does the writing,
 * in one transaction with the notification's webhook deliveries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/notify.h"
#include "homing/util.h"

static const char *const notify_kinds[] = {
    "open",    "new-reader", "click", "document-open", "delivered",
    "bounced", "delayed",    "read",  "complaint",     NULL,
};

int homing_notify_kind_valid(const char *s)
{
    if (!s) return 0;
    for (size_t i = 0; notify_kinds[i]; i++)
        if (strcmp(s, notify_kinds[i]) == 0) return 1;
    return 0;
}

int homing_notify_filter_normalise(const char *filter, char *out, size_t cap)
{
    if (!filter || !out || cap == 0) return -EINVAL;
    char buf[HOMING_WEBHOOK_EVENTS_MAX];
    size_t len = 0;
    const char *p = filter;
    int any = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t') p++;
        size_t n = (size_t)(p - start);
        if (n == 0) break;
        char kind[HOMING_NOTIFY_KIND_MAX];
        if (n >= sizeof kind) return -EINVAL;
        memcpy(kind, start, n);
        kind[n] = '\0';
        if (strcmp(kind, "*") == 0) {
            /* "*" means everything: nothing else may stand beside it. */
            any = 1;
            continue;
        }
        if (!homing_notify_kind_valid(kind)) return -EINVAL;
        if (len + n + 2 > sizeof buf) return -E2BIG;
        if (len) buf[len++] = ',';
        memcpy(buf + len, kind, n);
        len += n;
    }
    if (any) {
        if (len) return -EINVAL;
        buf[len++] = '*';
    }
    if (len == 0) return -EINVAL;
    if (len + 1 > cap) return -E2BIG;
    memcpy(out, buf, len);
    out[len] = '\0';
    return (int)len;
}

int homing_notify_add(struct homing_store *s, const char *kind, uint64_t message,
                      uint32_t recipient, uint32_t item, int64_t source_event, const char *reader,
                      const char *text, const void *payload, int64_t *id_out)
{
    if (!s || !homing_notify_kind_valid(kind) || !text) return -EINVAL;
    const json_t *in = payload;
    if (in && !json_is_object(in)) return -EINVAL;
    /* A copy: the caller keeps its payload, and "text" always matches the column. */
    json_t *p = in ? json_deep_copy(in) : json_object();
    if (!p || json_object_set_new(p, "text", json_string(text)) < 0) {
        json_decref(p);
        return -ENOMEM;
    }
    char *dump = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!dump) return -ENOMEM;
    struct homing_notification_spec spec = {
        .time_us = homing_now_us(),
        .kind = kind,
        .message = message,
        .recipient = recipient,
        .item = item,
        .event = source_event,
        .reader = reader,
        .text = text,
        .payload = dump,
    };
    int r = homing_store_notification_add(s, &spec, id_out);
    free(dump);
    return r;
}

void *homing_notification_json(const struct homing_notification *n)
{
    if (!n) return NULL;
    char t[HOMING_TIME_STR_MAX], id[HOMING_ID_STR_MAX];
    homing_time_format(n->time_us, t);
    homing_id_format(n->message, id);
    json_t *payload = n->payload ? json_loads(n->payload, 0, NULL) : NULL;
    if (!payload) payload = json_object();
    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:o}", "id", (json_int_t)n->id,
                     "kind", n->kind, "time", t, "time_us", (json_int_t)n->time_us, "message", id,
                     "recipient", (json_int_t)n->recipient, "item", (json_int_t)n->item, "event",
                     (json_int_t)n->event, "text", n->text ? n->text : "", "payload", payload);
}
