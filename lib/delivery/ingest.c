/*
 * ingest.c: homing ingest's core: one report in, events and recipient states
 * out, or the report kept as unmatched. The sources (stdin, Maildir, IMAP)
 * live in the CLI; this file never touches files or the network.
 *
 * Correlation, first match wins, because the earlier keys survive more of what
 * remote servers do to a bounce:
 *   1. the VERP token in the bounce's envelope recipient (verified with the
 *      keyring: it names message and recipient even when nothing else is kept),
 *   2. ENVID (Original-Envelope-Id = the message's public id, set by send),
 *   3. Original-Message-ID, then In-Reply-To, then References,
 *   4. the Message-ID in the returned headers.
 * Within a message, each recipient block is tied to a recipient by its
 * Original-Recipient (ORCPT) or Final-Recipient, else to the VERP recipient.
 *
 * Contract: see homing/delivery.h. The raw report is hashed into the
 * idempotence key, so a Maildir message processed twice after a crash, or an
 * IMAP message seen again, is recorded once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/delivery.h"
#include "homing/report.h"
#include "homing/util.h"
#include "lib/delivery/delivery_int.h"

#define INGEST_REFS_MAX  16  /* Message-IDs tried from References */
#define INGEST_MSGID_MAX 512 /* bytes of one Message-ID */

/* Tries each <id> of a Message-ID list, last first (the message replied to
 * comes last in References). */
static int ingest_find_ids(struct homing_store *s, const char *list, uint64_t *out)
{
    const char *starts[INGEST_REFS_MAX];
    size_t lens[INGEST_REFS_MAX], n = 0;
    const char *p = list;
    while (*p && n < INGEST_REFS_MAX) {
        const char *lt = strchr(p, '<');
        if (!lt) break;
        const char *gt = strchr(lt, '>');
        if (!gt) break;
        starts[n] = lt + 1;
        lens[n] = (size_t)(gt - lt - 1);
        n++;
        p = gt + 1;
    }
    if (n == 0 && *list) { /* a bare id without brackets */
        starts[0] = list;
        lens[0] = strcspn(list, " \t");
        n = 1;
    }
    for (size_t i = n; i-- > 0;) {
        if (lens[i] == 0 || lens[i] >= INGEST_MSGID_MAX) continue;
        char id[INGEST_MSGID_MAX];
        memcpy(id, starts[i], lens[i]);
        id[lens[i]] = '\0';
        int r = homing_store_message_find(s, id, out);
        if (r == 0) return 0;
        /* two messages share it: no guess (the VERP token or ENVID decides) */
        if (r != -ENOENT && r != -ENOTUNIQ) return r;
    }
    return -ENOENT;
}

/* Message (and, from VERP, recipient) of a report; -ENOENT if nothing ties. */
static int ingest_correlate(struct homing_store *s, const struct homing_keyring *keys,
                            const struct homing_report *rp, uint64_t *message, uint32_t *verp_rcpt,
                            const char **how)
{
    struct homing_token t;
    if (keys && rp->verp && homing_verp_find(keys, rp->verp, &t) == 0) {
        struct homing_message *m = NULL;
        int r = homing_store_message_get(s, t.message, &m);
        if (r == 0) {
            homing_message_free(m);
            *message = t.message;
            *verp_rcpt = t.recipient;
            *how = "verp";
            return 0;
        }
        if (r != -ENOENT) return r;
    }
    uint64_t id;
    if (rp->envid && homing_id_parse(rp->envid, &id) == 0) {
        struct homing_message *m = NULL;
        int r = homing_store_message_get(s, id, &m);
        if (r == 0) {
            homing_message_free(m);
            *message = id;
            *how = "envid";
            return 0;
        }
        if (r != -ENOENT) return r;
    }
    const struct {
        const char *v, *name;
    } keys_in_order[] = {
        {rp->original_message_id, "original-message-id"},
        {rp->in_reply_to, "in-reply-to"},
        {rp->references, "references"},
        {rp->returned_message_id, "returned-message-id"},
    };
    for (size_t i = 0; i < sizeof keys_in_order / sizeof keys_in_order[0]; i++) {
        if (!keys_in_order[i].v) continue;
        int r = ingest_find_ids(s, keys_in_order[i].v, message);
        if (r == 0) {
            *how = keys_in_order[i].name;
            return 0;
        }
        if (r != -ENOENT) return r;
    }
    return -ENOENT;
}

/* Event kind and recipient state of one block of a report. state NULL: the
 * event changes no state (an auto-reply is never a bounce). */
static unsigned ingest_kind(const struct homing_report *rp, const struct homing_report_rcpt *x,
                            const char **state)
{
    *state = NULL;
    switch (rp->kind) {
    case HOMING_REPORT_MDN:
        if (rp->disposition && strcmp(rp->disposition, "displayed") == 0) *state = "read";
        return HOMING_EV_READ;
    case HOMING_REPORT_ARF: *state = "complained"; return HOMING_EV_COMPLAINT;
    case HOMING_REPORT_AUTOREPLY: return HOMING_EV_AUTOREPLY;
    default: break;
    }
    const char *a = x ? x->action : NULL;
    if (a && strcmp(a, "delayed") == 0) {
        *state = "delayed";
        return HOMING_EV_DELAYED;
    }
    if (a &&
        (strcmp(a, "delivered") == 0 || strcmp(a, "relayed") == 0 || strcmp(a, "expanded") == 0)) {
        *state = "delivered";
        return HOMING_EV_DELIVERED;
    }
    *state = "bounced";
    return HOMING_EV_BOUNCED;
}

/* The suppression reason of one block of a report, 0 for none: a bounce
 * whose classification is hard (homing_report_reason_hard: the address does
 * not exist, its domain does not, it moved) and any ARF complaint. */
static int ingest_suppress_reason(const struct homing_report *rp,
                                  const struct homing_report_rcpt *x, unsigned kind)
{
    if (kind == HOMING_EV_COMPLAINT) return HOMING_SUPPRESS_COMPLAINT;
    if (kind == HOMING_EV_BOUNCED && x && x->hard &&
        (rp->kind == HOMING_REPORT_DSN || rp->kind == HOMING_REPORT_BOUNCE))
        return HOMING_SUPPRESS_HARD_BOUNCE;
    return 0;
}

static json_t *ingest_detail(const struct homing_report *rp, const struct homing_report_rcpt *x,
                             const char *how, const char *source)
{
    json_t *d = json_object();
    if (!d) return NULL;
    delivery_json_set(d, "report", homing_report_kind_name(rp->kind));
    delivery_json_set(d, "matched_by", how);
    delivery_json_set(d, "source", source);
    if (x) {
        delivery_json_set(d, "address", x->address);
        delivery_json_set(d, "original_recipient", x->original_recipient);
        delivery_json_set(d, "action", x->action);
        delivery_json_set(d, "status", x->status);
        delivery_json_set(d, "reply_code", x->reply_code);
        if (rp->kind == HOMING_REPORT_DSN || rp->kind == HOMING_REPORT_BOUNCE) {
            delivery_json_set(d, "reason", x->reason);
            json_object_set_new(d, "hard", json_boolean(x->hard));
        }
        delivery_json_set(d, "diagnostic", x->diagnostic);
        delivery_json_set(d, "remote_mta", x->remote_mta);
        delivery_json_set(d, "last_attempt", x->last_attempt);
    }
    delivery_json_set(d, "reporting_mta", rp->reporting_mta);
    delivery_json_set(d, "feedback_type", rp->feedback_type);
    delivery_json_set(d, "disposition", rp->disposition);
    delivery_json_set(d, "disposition_mode", rp->disposition_mode);
    return d;
}

static void ingest_events_free(struct homing_event *evs, size_t n)
{
    for (size_t i = 0; i < n; i++) homing_event_clear(&evs[i]);
    free(evs);
}

/* Keeps the report with its reason, claiming its key in the same transaction:
 * never lost between the two, never kept twice. */
static int ingest_keep(struct homing_store *s, const char *key, const char *source,
                       const char *kind, const char *data, size_t len,
                       struct homing_ingest_result *res)
{
    int64_t id;
    int r = homing_store_unmatched_add_once(s, key, source, kind, res->reason, data, len, &id);
    if (r == -EALREADY) {
        res->outcome = HOMING_INGEST_DUPLICATE;
        r = 0;
    }
    return r;
}

int homing_ingest_report(struct homing_store *s, const struct homing_keyring *keys,
                         const char *source, const char *data, size_t len,
                         struct homing_ingest_result *res)
{
    if (!s || !res || (len && !data)) return -EINVAL;
    if (!source) source = "unknown";
    struct homing_ingest_result out = {0};
    char key[DELIVERY_KEY_MAX];
    delivery_hash_key("report", data ? data : "", len, key, sizeof key);

    struct homing_report *rp = NULL;
    int r = homing_report_parse(data, len, &rp);
    if (r == -ENOMEM) return r;
    if (r < 0) {
        out.outcome = HOMING_INGEST_UNPARSABLE;
        snprintf(out.reason, sizeof out.reason, "%s",
                 r == -E2BIG ? "message too big" : "empty or invalid message");
        /* a message over the size limit is kept without its bytes */
        r = ingest_keep(s, key, source, "unparsable", data, len > HOMING_REPORT_SIZE_MAX ? 0 : len,
                        &out);
        if (r < 0) return r;
        *res = out;
        return 0;
    }
    out.report_kind = rp->kind;
    if (rp->kind == HOMING_REPORT_NONE) {
        out.outcome = HOMING_INGEST_UNMATCHED;
        snprintf(out.reason, sizeof out.reason,
                 "not a delivery report, read receipt, complaint "
                 "or auto-reply");
        goto keep;
    }
    uint64_t message = 0;
    uint32_t verp_rcpt = 0;
    const char *how = NULL;
    r = ingest_correlate(s, keys, rp, &message, &verp_rcpt, &how);
    if (r == -ENOENT) {
        out.outcome = HOMING_INGEST_UNMATCHED;
        snprintf(out.reason, sizeof out.reason,
                 "no known message: no verifying VERP token, ENVID, Message-ID or "
                 "returned headers of a registered message");
        goto keep;
    }
    if (r < 0) goto out;

    struct homing_message *m = NULL;
    if ((r = homing_store_message_get(s, message, &m)) < 0) goto out;
    size_t nb = rp->n_rcpts ? rp->n_rcpts : 1;
    struct homing_event *evs = calloc(nb, sizeof *evs);
    const char **states = calloc(nb, sizeof *states);
    if (!evs || !states) {
        free(evs);
        free(states);
        homing_message_free(m);
        r = -ENOMEM;
        goto out;
    }
    int64_t now = homing_now_us();
    for (size_t i = 0; i < nb; i++) {
        const struct homing_report_rcpt *x = rp->n_rcpts ? &rp->rcpts[i] : NULL;
        uint32_t idx = 0;
        if (x) idx = delivery_find_recipient(m, x->original_recipient);
        if (x && !idx) idx = delivery_find_recipient(m, x->address);
        /* A VERP token names the recipient the bounce was sent for; an MDN's
         * or ARF's Final-Recipient may be an alias of it. */
        if (!idx && (nb == 1 || rp->kind == HOMING_REPORT_MDN)) idx = verp_rcpt;
        if (!idx && m->n_recipients == 1 && rp->kind != HOMING_REPORT_NONE)
            idx = m->recipients[0].index;
        unsigned kind = ingest_kind(rp, x, &states[i]);
        json_t *d = ingest_detail(rp, x, how, source);
        r = d ? delivery_event(&evs[i], kind, message, idx, now, d) : -ENOMEM;
        json_decref(d);
        if (r < 0) break;
        if (!idx) states[i] = NULL;
    }
    homing_message_free(m);
    if (r == 0) r = homing_store_events_append_once(s, key, evs, nb);
    if (r == -EALREADY) {
        out.outcome = HOMING_INGEST_DUPLICATE;
        r = 0;
    } else if (r == 0) {
        out.outcome = HOMING_INGEST_MATCHED;
        out.message = message;
        out.n_events = nb;
        out.matched_by = how;
        for (size_t i = 0; i < nb && r == 0; i++) {
            if (!states[i]) continue;
            int q = homing_delivery_state_apply(s, message, evs[i].recipient, states[i], now);
            if (q < 0 && q != -ENOENT) r = q;
        }
        /* A hard bounce or a complaint lists the address (docs/suppression.md);
         * after the events, so a report seen twice (-EALREADY above) lists
         * nothing twice. */
        for (size_t i = 0; i < nb && r == 0; i++) {
            const struct homing_report_rcpt *x = rp->n_rcpts ? &rp->rcpts[i] : NULL;
            int why = ingest_suppress_reason(rp, x, evs[i].kind);
            if (!why || !evs[i].recipient) continue;
            int q = homing_store_suppress_recipient(s, message, evs[i].recipient, why,
                                                    x && x->status ? x->status : NULL, NULL);
            if (q < 0 && q != -ENOENT) r = q;
        }
    }
    ingest_events_free(evs, nb);
    free(states);
    if (r < 0) goto out;
    *res = out;
    goto out;

keep:
    r = ingest_keep(s, key, source, homing_report_kind_name(rp->kind), data, len, &out);
    if (r == 0) *res = out;
out:
    homing_report_parsed_free(rp);
    return r;
}
