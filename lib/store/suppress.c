/*
 * suppress.c: the suppression list's public functions (homing/store.h, "The
 * suppression list"): address normalisation, argument checks, dispatch to the
 * backend, and homing_store_suppress_recipient, which the automatic ways in
 * (lib/delivery on a hard bounce or a complaint, the daemon on an
 * unsubscribe) share so that each lists the same address under the same
 * sender and records the same event.
 *
 * Contract: 0 or more on success, a negative errno on failure; outputs only
 * on success. Addresses are normalised here, never by the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/event.h"
#include "homing/util.h"
#include "lib/store/store_int.h"

static const char *const reason_names[] = {
    [HOMING_SUPPRESS_HARD_BOUNCE] = "hard_bounce",
    [HOMING_SUPPRESS_COMPLAINT] = "complaint",
    [HOMING_SUPPRESS_UNSUBSCRIBE] = "unsubscribe",
    [HOMING_SUPPRESS_MANUAL] = "manual",
};
#define REASONS (sizeof reason_names / sizeof reason_names[0])

const char *homing_suppress_reason_name(int reason)
{
    return reason > 0 && (size_t)reason < REASONS ? reason_names[reason] : NULL;
}

int homing_suppress_reason_parse(const char *s)
{
    for (size_t i = 1; s && i < REASONS; i++)
        if (strcmp(s, reason_names[i]) == 0) return (int)i;
    return -EINVAL;
}

int homing_suppress_normalize(const char *addr, char *out, size_t cap)
{
    if (!addr || !out) return -EINVAL;
    const char *p = addr;
    size_t n = strlen(p);
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n >= 2 && p[0] == '<' && p[n - 1] == '>') p++, n -= 2;
    if (n == 0 || n > HOMING_SUPPRESS_ADDR_MAX) return -EINVAL;
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',') return -EINVAL;
        if (c == '@') at = p + i;
    }
    /* the last '@' splits: a quoted local part may hold one */
    if (!at || at == p || at == p + n - 1) return -EINVAL;
    if (n + 1 > cap) return -ENOSPC;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return 0;
}

/* sender NULL or "" -> ""; else normalised into buf. */
static int norm_sender(const char *sender, char *buf, size_t cap)
{
    if (!sender || !*sender) {
        buf[0] = '\0';
        return 0;
    }
    return homing_suppress_normalize(sender, buf, cap);
}

/* A normalised address (in a field of HOMING_SUPPRESS_STORED_MAX + 1 bytes)
 * sealed in place: the list is searched by the sealed form, which is the same
 * for the same address. */
static int sup_seal(struct homing_store *s, char *address)
{
    if (!s->seal) return 0;
    char out[HOMING_SUPPRESS_STORED_MAX + 1];
    int r = store_seal_whole(s, address, out, sizeof out);
    if (r == 0) memcpy(address, out, sizeof out);
    return r;
}

static int sup_open(struct homing_store *s, struct homing_suppression *e)
{
    int r = store_open_fixed(s, e->address, sizeof e->address, "suppressed address");
    return r == 0 ? store_open_fixed_text(s, e->note, sizeof e->note) : r;
}

int homing_store_suppress_add(struct homing_store *s, const char *sender, const char *address,
                              int reason, uint64_t message, uint32_t recipient, const char *note,
                              int *added)
{
    if (!s || !address || !homing_suppress_reason_name(reason)) return -EINVAL;
    if (note && strlen(note) > HOMING_SUPPRESS_NOTE_MAX) return -EINVAL;
    struct homing_suppression e = {.reason = reason,
                                   .message = message,
                                   .recipient = recipient,
                                   .created_us = homing_now_us()};
    int r;
    if ((r = norm_sender(sender, e.sender, sizeof e.sender)) < 0 ||
        (r = homing_suppress_normalize(address, e.address, HOMING_SUPPRESS_ADDR_MAX + 1)) < 0)
        return r;
    if (note) homing_strlcpy(e.note, note, sizeof e.note);
    if ((r = sup_seal(s, e.address)) < 0 ||
        (r = store_seal_fixed_text(s, e.note, sizeof e.note)) < 0)
        return r;
    int a = 0;
    if ((r = s->ops->suppress_add(s, &e, &a)) < 0) return r;
    if (added) *added = a;
    return 0;
}

int homing_store_suppress_remove(struct homing_store *s, const char *sender, const char *address,
                                 size_t *removed)
{
    if (!s || !address) return -EINVAL;
    char sn[HOMING_SUPPRESS_ADDR_MAX + 1], an[HOMING_SUPPRESS_STORED_MAX + 1];
    int r;
    if ((sender && (r = norm_sender(sender, sn, sizeof sn)) < 0) ||
        (r = homing_suppress_normalize(address, an, HOMING_SUPPRESS_ADDR_MAX + 1)) < 0 ||
        (r = sup_seal(s, an)) < 0)
        return r;
    return s->ops->suppress_remove(s, sender ? sn : NULL, an, removed);
}

int homing_store_suppress_find(struct homing_store *s, const char *sender, const char *address,
                               struct homing_suppression *out)
{
    if (!s || !address) return -EINVAL;
    char sn[HOMING_SUPPRESS_ADDR_MAX + 1], an[HOMING_SUPPRESS_STORED_MAX + 1];
    int r;
    if ((r = norm_sender(sender, sn, sizeof sn)) < 0 ||
        (r = homing_suppress_normalize(address, an, HOMING_SUPPRESS_ADDR_MAX + 1)) < 0 ||
        (r = sup_seal(s, an)) < 0)
        return r;
    r = s->ops->suppress_find(s, sn, an, out);
    if (r > 0 && out && (r = sup_open(s, out)) == 0) r = 1;
    return r;
}

int homing_store_suppress_list(struct homing_store *s, const char *sender,
                               struct homing_suppression **out, size_t *n)
{
    if (!s || !out || !n) return -EINVAL;
    char sn[HOMING_SUPPRESS_ADDR_MAX + 1];
    int r;
    if (sender && (r = norm_sender(sender, sn, sizeof sn)) < 0) return r;
    if ((r = s->ops->suppress_list(s, sender ? sn : NULL, out, n)) < 0) return r;
    for (size_t i = 0; i < *n && r == 0; i++) r = sup_open(s, &(*out)[i]);
    if (r < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return r;
}

int homing_store_suppress_recipient(struct homing_store *s, uint64_t message, uint32_t recipient,
                                    int reason, const char *note, int *added)
{
    if (!s || !message || !recipient || !homing_suppress_reason_name(reason)) return -EINVAL;
    struct homing_message *m = NULL;
    int r = homing_store_message_get(s, message, &m);
    if (r < 0) return r;
    const char *addr = NULL;
    for (size_t i = 0; i < m->n_recipients; i++)
        if (m->recipients[i].index == recipient) addr = m->recipients[i].address;
    /* A message registered with a From that is not an address (it was never
     * checked by old versions) lists under every sender: the safe side. */
    char sender[HOMING_SUPPRESS_ADDR_MAX + 1] = "";
    if (m->sender && norm_sender(m->sender, sender, sizeof sender) < 0) sender[0] = '\0';
    char note_cut[HOMING_SUPPRESS_NOTE_MAX + 1] = "";
    if (note) homing_strlcpy(note_cut, note, sizeof note_cut);
    int a = 0;
    r = addr ? homing_store_suppress_add(s, sender, addr, reason, message, recipient, note_cut, &a)
             : -ENOENT;
    char listed[HOMING_SUPPRESS_ADDR_MAX + 1] = "";
    if (r == 0) homing_suppress_normalize(addr, listed, sizeof listed);
    homing_message_free(m);
    if (r < 0) return r;
    if (a) {
        json_t *d = json_object();
        if (!d) return -ENOMEM;
        json_object_set_new(d, "action", json_string("listed"));
        json_object_set_new(d, "reason", json_string(homing_suppress_reason_name(reason)));
        json_object_set_new(d, "address", homing_json_text(listed));
        json_object_set_new(d, "sender", homing_json_text(sender));
        if (note_cut[0]) json_object_set_new(d, "note", homing_json_text(note_cut));
        if ((r = homing_store_suppression_event(s, message, recipient, d)) < 0) return r;
    }
    if (added) *added = a;
    return 0;
}

int homing_store_suppression_event(struct homing_store *s, uint64_t message, uint32_t recipient,
                                   void *detail)
{
    json_t *d = detail;
    if (!s || !message || !d) {
        json_decref(d);
        return -EINVAL;
    }
    struct homing_event ev = {.kind = HOMING_EV_SUPPRESSION,
                              .time_us = homing_now_us(),
                              .message = message,
                              .recipient = recipient};
    ev.detail = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    if (!ev.detail) return -ENOMEM;
    int r = homing_store_events_append(s, &ev, 1);
    homing_event_clear(&ev);
    return r;
}
