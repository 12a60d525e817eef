/*
 * suppress.c: the suppression list at sending time (homing/service.h): the
 * one check `homing send` and `homing relay` make before a recipient gets a
 * copy, and the event that records a refusal.
 *
 * Contract: 1 suppressed / 0 not / negative errno; a caller that gets an
 * error must treat the recipient as not sendable (a store that cannot be read
 * must not let a listed address through).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "homing/service.h"
#include "homing/util.h"

#define SHOWN_MAX 96 /* bytes of an address quoted in the refusal line */

int homing_suppressed(struct homing_store *st, const char *sender, const char *rcpt,
                      struct homing_suppression *hit, char *err, size_t errcap)
{
    if (!st || !rcpt) return -EINVAL;
    struct homing_suppression e;
    int r = homing_store_suppress_find(st, sender, rcpt, &e);
    if (r <= 0) return r;
    if (err && errcap) {
        char safe[SHOWN_MAX * 4 + 4], when[HOMING_TIME_STR_MAX];
        size_t n = strlen(e.address);
        homing_str_escape(safe, sizeof safe, e.address, n < SHOWN_MAX ? n : SHOWN_MAX, 0);
        homing_time_format(e.created_us, when);
        snprintf(err, errcap, "%s%s is on the suppression list (%s since %s%s)", safe,
                 n > SHOWN_MAX ? "..." : "", homing_suppress_reason_name(e.reason), when,
                 e.sender[0] ? "" : ", for every sender");
    }
    if (hit) *hit = e;
    return 1;
}

int homing_suppress_refused(struct homing_store *st, uint64_t message, uint32_t recipient,
                            const struct homing_suppression *hit, const char *by)
{
    if (!st || !message || !hit) return -EINVAL;
    json_t *d = json_object();
    if (!d) return -ENOMEM;
    json_object_set_new(d, "action", json_string("refused"));
    json_object_set_new(d, "reason", json_string(homing_suppress_reason_name(hit->reason)));
    json_object_set_new(d, "address", homing_json_text(hit->address));
    json_object_set_new(d, "sender", homing_json_text(hit->sender));
    if (by) json_object_set_new(d, "by", homing_json_text(by));
    return homing_store_suppression_event(st, message, recipient, d);
}
