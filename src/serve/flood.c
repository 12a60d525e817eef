/*
 * flood.c: the token buckets of flood.h. The table is two-way set-associative
 * by a hash of the client address and URL: a new pair takes over the slot of
 * its set used longer ago, which at worst gives an attacker with very many
 * addresses a fresh bucket: the same as having many addresses anyway.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flood.h"

int flood_init(struct flood *f, size_t size, double rate, double burst)
{
    memset(f, 0, sizeof *f);
    f->rate = rate;
    f->burst = burst < 1 ? 1 : burst;
    if (rate <= 0) return 0;
    if (size == 0 || size > FLOOD_TABLE_MAX) return -EINVAL;
    f->table = calloc(size, sizeof *f->table);
    if (!f->table) return -ENOMEM;
    f->size = size;
    return 0;
}

void flood_free(struct flood *f)
{
    free(f->table);
    f->table = NULL;
}

static size_t flood_slot(const struct flood *f, const struct homing_addr *a, uint64_t message,
                         uint32_t recipient, uint32_t item, uint16_t kind)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ a->family;
    for (int i = 0; i < 16; i++) h = (h ^ a->bytes[i]) * 0x100000001b3ULL;
    uint64_t k[3] = {message, (uint64_t)recipient << 32 | item, kind};
    for (int i = 0; i < 3; i++) h = (h ^ k[i]) * 0x100000001b3ULL, h ^= h >> 29;
    return (size_t)(h % f->size);
}

static int bucket_is(const struct flood_bucket *b, const struct homing_addr *client,
                     uint64_t message, uint32_t recipient, uint32_t item, uint16_t kind)
{
    return b->client.family == client->family && memcmp(b->client.bytes, client->bytes, 16) == 0 &&
           b->message == message && b->recipient == recipient && b->item == item && b->kind == kind;
}

int flood_admit(struct flood *f, const struct homing_addr *client, int64_t now_us, uint16_t kind,
                uint64_t message, uint32_t recipient, uint32_t item)
{
    if (!f->table) return 1;
    /* Two-way: a pair lives in its slot or the one beside it. Direct-mapped,
     * one other client whose pair hashed to a flooder's slot reset the
     * flooder's bucket at each of its hits, and the flood went through. */
    size_t i = flood_slot(f, client, message, recipient, item, kind), j = i ^ 1;
    struct flood_bucket *b = &f->table[i], *other = j < f->size ? &f->table[j] : b;
    if (!bucket_is(b, client, message, recipient, item, kind) &&
        (bucket_is(other, client, message, recipient, item, kind) || other->last_us < b->last_us))
        b = other; /* its own, or else the slot used longer ago */
    if (!bucket_is(b, client, message, recipient, item, kind)) {
        /* A new pair (or a stale one's slot): start full. The old owner's
         * suppressed hits are already journaled (its flood closes by time). */
        memset(b, 0, sizeof *b);
        b->client = *client;
        b->message = message;
        b->recipient = recipient;
        b->item = item;
        b->kind = kind;
        b->tokens = f->burst;
        b->last_us = now_us;
    }
    double elapsed = (double)(now_us - b->last_us) / 1e6;
    if (elapsed > 0) {
        b->tokens += elapsed * f->rate;
        if (b->tokens > f->burst) b->tokens = f->burst;
        b->last_us = now_us;
    }
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 1;
    }
    return 0;
}
