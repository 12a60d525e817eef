/*
 * maillog_store.c: what a parsed mail log line means for the store
 * (homing_maillog_apply, homing/delivery.h).
 *
 * A queue id is tied to a message through the Message-ID homing assigned
 * (cleanup's message-id= line, Exim's <= id=); the tie is kept in the store's
 * sync_state ("postfix-qid:ID" / "exim-qid:ID" -> public id) so it survives a
 * restart between the two lines. Queue ids of mail homing did not register
 * are never remembered. Each result line is recorded with its own key, so
 * reading a log again (after a crash, or from the start) counts nothing twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/delivery.h"
#include "homing/util.h"
#include "lib/delivery/delivery_int.h"

static void maillog_qid_name(int flavour, const char *qid, char *out, size_t cap)
{
    snprintf(out, cap, "%s-qid:%s", flavour == HOMING_MAILLOG_EXIM ? "exim" : "postfix", qid);
}

int homing_maillog_apply(struct homing_store *s, int flavour, const struct homing_maillog_line *l,
                         const char *key, int *recorded)
{
    if (!s || !l || !key || !recorded) return -EINVAL;
    *recorded = 0;
    char name[HOMING_MAILLOG_QID_MAX + 16];
    maillog_qid_name(flavour, l->qid, name, sizeof name);
    if (l->kind == HOMING_MAILLOG_MSGID) {
        uint64_t id;
        int r = homing_store_message_find(s, l->message_id, &id);
        if (r == -ENOENT) return 0;
        if (r < 0) return r;
        char hex[HOMING_ID_STR_MAX];
        homing_id_format(id, hex);
        return homing_store_sync_set(s, name, hex);
    }
    if (l->kind != HOMING_MAILLOG_RESULT) return 0;
    char *hex = NULL;
    int r = homing_store_sync_get(s, name, &hex);
    if (r == -ENOENT) return 0; /* not a message of ours */
    if (r < 0) return r;
    uint64_t message;
    r = homing_id_parse(hex, &message);
    free(hex);
    if (r < 0) return 0;
    struct homing_message *m = NULL;
    if ((r = homing_store_message_get(s, message, &m)) < 0) return r == -ENOENT ? 0 : r;
    uint32_t idx = delivery_find_recipient(m, l->orig_to);
    if (!idx) idx = delivery_find_recipient(m, l->to);
    homing_message_free(m);

    unsigned kind;
    const char *state;
    switch (l->status) {
    case HOMING_MAILLOG_DELIVERED:
        kind = HOMING_EV_DELIVERED;
        state = "delivered";
        break;
    case HOMING_MAILLOG_DEFERRED:
        kind = HOMING_EV_DELAYED;
        state = "delayed";
        break;
    default:
        kind = HOMING_EV_BOUNCED;
        state = "bounced";
        break;
    }
    json_t *d = json_object();
    if (!d) return -ENOMEM;
    delivery_json_set(d, "source", flavour == HOMING_MAILLOG_EXIM ? "exim-log" : "postfix-log");
    delivery_json_set(d, "queue_id", l->qid);
    delivery_json_set(d, "address", l->to);
    if (l->orig_to[0]) delivery_json_set(d, "original_recipient", l->orig_to);
    if (l->dsn[0]) delivery_json_set(d, "status", l->dsn);
    if (l->relay[0]) delivery_json_set(d, "remote_mta", l->relay);
    if (l->text[0]) delivery_json_set(d, "diagnostic", l->text);
    if (l->status == HOMING_MAILLOG_BOUNCED) {
        const char *reason =
            l->dsn[0] == '5' && strncmp(l->dsn, "5.1.1", 5) == 0 ? "userunknown" : NULL;
        if (reason) delivery_json_set(d, "reason", reason);
        json_object_set_new(d, "hard", json_boolean(l->dsn[0] == '5'));
    }
    struct homing_event ev;
    r = delivery_event(&ev, kind, message, idx, l->time_us, d);
    json_decref(d);
    if (r < 0) return r;
    r = homing_store_events_append_once(s, key, &ev, 1);
    homing_event_clear(&ev);
    if (r == -EALREADY) return 0;
    if (r < 0) return r;
    *recorded = 1;
    if (idx) {
        r = homing_delivery_state_apply(s, message, idx, state,
                                        l->time_us ? l->time_us : homing_now_us());
        if (r == -ENOENT) r = 0;
    }
    return r;
}
