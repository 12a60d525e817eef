/*
 * maillog_store.c: what a parsed mail log line means for the store
 * (homing_maillog_apply, homing/delivery.h).
 *
 * A queue id is tied to one copy by `homing send`, which records the queue id
 * in the relay's reply to DATA (homing_maillog_remember: "PUBLICID:INDEX"),
 * and otherwise to a message through its Message-ID (cleanup's message-id=
 * line, Exim's <= id=) when exactly one registered message has it; the tie is
 * kept in the store's sync_state ("postfix-qid:ID" / "exim-qid:ID") so it
 * survives a restart between the lines. A Message-ID two messages share ties
 * nothing (guessing the newest marked delivered recipients of another message
 * as bounced): a queue id tied to another message is then untied ("-"). Queue ids of mail homing
 * did not register are never remembered. Each result line is recorded with its own key, so reading
 * a log again (after a crash, or from the start) counts nothing twice.
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

/* The tie "PUBLICID" or "PUBLICID:INDEX"; -EINVAL for "-" (untied) or junk. */
static int maillog_tie_parse(const char *v, uint64_t *message, uint32_t *recipient)
{
    char hex[HOMING_ID_STR_MAX];
    size_t n = strcspn(v, ":");
    if (n != HOMING_ID_STR_MAX - 1) return -EINVAL;
    memcpy(hex, v, n);
    hex[n] = '\0';
    if (homing_id_parse(hex, message) < 0) return -EINVAL;
    *recipient = 0;
    if (v[n] == ':') {
        char *end;
        unsigned long idx = strtoul(v + n + 1, &end, 10);
        if (*end || idx == 0 || idx > HOMING_STORE_RECIPIENTS_MAX) return -EINVAL;
        *recipient = (uint32_t)idx;
    }
    return 0;
}

/* Message-IDs compared without their angle brackets. */
static int maillog_mid_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= 2 && a[0] == '<' && a[la - 1] == '>') a++, la -= 2;
    if (lb >= 2 && b[0] == '<' && b[lb - 1] == '>') b++, lb -= 2;
    return la == lb && memcmp(a, b, la) == 0;
}

int homing_maillog_remember(struct homing_store *s, int flavour, const char *queue_id,
                            uint64_t message, uint32_t recipient)
{
    if (!s || !queue_id || !queue_id[0] || strlen(queue_id) >= HOMING_MAILLOG_QID_MAX)
        return -EINVAL;
    char name[HOMING_MAILLOG_QID_MAX + 16], value[HOMING_ID_STR_MAX + 16];
    maillog_qid_name(flavour, queue_id, name, sizeof name);
    homing_id_format(message, value);
    if (recipient) snprintf(value + strlen(value), sizeof value - strlen(value), ":%u", recipient);
    return homing_store_sync_set(s, name, value);
}

/* A message-id= line: keeps a tie whose message has this Message-ID (the one
 * `homing send` recorded), else ties the queue id to the one message with it,
 * else unties it. */
static int maillog_apply_msgid(struct homing_store *s, const char *name,
                               const struct homing_maillog_line *l)
{
    char *cur = NULL;
    int r = homing_store_sync_get(s, name, &cur);
    if (r < 0 && r != -ENOENT) return r;
    uint64_t message;
    uint32_t idx;
    if (cur && maillog_tie_parse(cur, &message, &idx) == 0) {
        struct homing_message *m = NULL;
        r = homing_store_message_get(s, message, &m);
        int same = r == 0 && m->message_id && maillog_mid_equal(m->message_id, l->message_id);
        homing_message_free(m);
        if (r < 0 && r != -ENOENT) {
            free(cur);
            return r;
        }
        if (same) {
            free(cur);
            return 0;
        }
    }
    uint64_t id;
    r = homing_store_message_find(s, l->message_id, &id);
    if (r == -ENOENT || r == -EINVAL) { /* not ours: ignored, as every such line */
        free(cur);
        return 0;
    }
    if (r == -ENOTUNIQ) {
        /* not only ours, and the tie (if any) is to another message: which of
         * them the line means cannot be told */
        r = cur && strcmp(cur, "-") != 0 ? homing_store_sync_set(s, name, "-") : 0;
        free(cur);
        return r;
    }
    free(cur);
    if (r < 0) return r;
    char hex[HOMING_ID_STR_MAX];
    homing_id_format(id, hex);
    return homing_store_sync_set(s, name, hex);
}

int homing_maillog_apply(struct homing_store *s, int flavour, const struct homing_maillog_line *l,
                         const char *key, int *recorded)
{
    if (!s || !l || !key || !recorded) return -EINVAL;
    *recorded = 0;
    char name[HOMING_MAILLOG_QID_MAX + 16];
    maillog_qid_name(flavour, l->qid, name, sizeof name);
    if (l->kind == HOMING_MAILLOG_MSGID) return maillog_apply_msgid(s, name, l);
    if (l->kind != HOMING_MAILLOG_RESULT) return 0;
    char *tie = NULL;
    int r = homing_store_sync_get(s, name, &tie);
    if (r == -ENOENT) return 0; /* not a message of ours */
    if (r < 0) return r;
    uint64_t message;
    uint32_t sent_to;
    r = maillog_tie_parse(tie, &message, &sent_to);
    free(tie);
    if (r < 0) return 0; /* untied */
    struct homing_message *m = NULL;
    if ((r = homing_store_message_get(s, message, &m)) < 0) return r == -ENOENT ? 0 : r;
    /* the copy `homing send` queued had one recipient: that one */
    uint32_t idx = 0;
    for (size_t i = 0; sent_to && i < m->n_recipients; i++)
        if (m->recipients[i].index == sent_to) idx = sent_to;
    if (!idx) idx = delivery_find_recipient(m, l->orig_to);
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
    /* A log line says less than a DSN: only a status whose reason is hard
     * (5.1.1, user unknown) lists the address (docs/suppression.md). */
    if (r == 0 && idx && l->status == HOMING_MAILLOG_BOUNCED && strncmp(l->dsn, "5.1.1", 5) == 0 &&
        (l->dsn[5] == '\0' || l->dsn[5] == ' ')) {
        r = homing_store_suppress_recipient(s, message, idx, HOMING_SUPPRESS_HARD_BOUNCE, l->dsn,
                                            NULL);
        if (r == -ENOENT) r = 0;
    }
    return r;
}
