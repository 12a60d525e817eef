/*
 * delivery_int.h: helpers shared by lib/delivery/delivery.c, ingest.c, maillog*.c
 * and send.c; not public.
 */
#ifndef HOMING_DELIVERY_INT_H
#define HOMING_DELIVERY_INT_H

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>

#include "homing/delivery.h"
#include "homing/event.h"
#include "homing/store.h"

#define DELIVERY_KEY_MAX 96 /* "prefix:" + 32 hex digits */

/* Sets key to v in o, escaped to ASCII if it is not UTF-8; skips NULL. */
void delivery_json_set(json_t *o, const char *key, const char *v);
/* Fills e (zeroed first); detail (may be NULL) is serialised into e->detail,
 * which the caller frees with homing_event_clear. at_us 0 = now. */
int delivery_event(struct homing_event *e, unsigned kind, uint64_t message, uint32_t recipient,
                   int64_t at_us, json_t *detail);
/* The index of the recipient of m with address addr ("rfc822;" and angle
 * brackets allowed, case ignored), or 0. */
uint32_t delivery_find_recipient(const struct homing_message *m, const char *addr);
/* "prefix:" + a 128-bit hash of data: the idempotence key of a source record. */
void delivery_hash_key(const char *prefix, const void *data, size_t len, char *out, size_t cap);

#endif
