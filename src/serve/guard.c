/*
 * guard.c: the public listener's connection caps (contract in serve.h).
 *
 * Each admitted connection is counted in the total and in two counters chosen
 * by a SipHash of its client address under a key drawn at start, and counted
 * out by the socket's on_close callback, which h2o calls whenever it disposes
 * of the socket. The counters a connection used ride in on_close.data, so
 * nothing is allocated per connection. Admission increments first and takes
 * the increment back when over a cap: two loop threads admitting at once can
 * never both pass the last place.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "serve.h"

_Static_assert((CONN_GUARD_SLOTS & (CONN_GUARD_SLOTS - 1)) == 0, "a power of two");
_Static_assert(CONN_GUARD_SLOTS <= 1 << 15, "two slot numbers and a flag fit in 31 bits");

#define GUARD_PER_CLIENT_FLAG (1u << 30) /* the connection is in the per-client counters */

/* One per process, like the daemon's struct serve. */
static struct {
    struct serve *serve;
    unsigned max_total, max_per_client;
    unsigned char key[crypto_shorthash_KEYBYTES];
    atomic_uint slots[2][CONN_GUARD_SLOTS];
} guard;

int conn_guard_init(struct serve *s, unsigned max_total, unsigned max_per_client)
{
    if (sodium_init() < 0) return -EIO;
    guard.serve = s;
    guard.max_total = max_total;
    guard.max_per_client = max_per_client;
    randombytes_buf(guard.key, sizeof guard.key);
    s->metrics.conn_max = max_total;
    s->metrics.conn_max_per_client = max_per_client;
    return 0;
}

static void guard_release(void *data)
{
    unsigned ticket = (unsigned)(uintptr_t)data;
    if (ticket & GUARD_PER_CLIENT_FLAG) {
        atomic_fetch_sub_explicit(&guard.slots[0][ticket & (CONN_GUARD_SLOTS - 1)], 1,
                                  memory_order_relaxed);
        atomic_fetch_sub_explicit(&guard.slots[1][(ticket >> 15) & (CONN_GUARD_SLOTS - 1)], 1,
                                  memory_order_relaxed);
    }
    atomic_fetch_sub_explicit(&guard.serve->metrics.conn_open, 1, memory_order_relaxed);
}

/* The peer as the key of its counters: an IPv4 address (also when mapped into
 * IPv6), or the /64 of an IPv6 address, which one subscriber line gets whole.
 * Returns the key's length, 0 for another family. */
static size_t client_key(h2o_socket_t *sock, uint8_t key[17], struct homing_addr *addr)
{
    struct sockaddr_storage ss;
    socklen_t len = h2o_socket_getpeername(sock, (struct sockaddr *)&ss);
    if (homing_addr_from_sockaddr((struct sockaddr *)&ss, len, addr) < 0) return 0;
    key[0] = addr->family;
    memcpy(key + 1, addr->bytes, addr->family == 4 ? 4 : 8);
    return addr->family == 4 ? 5 : 9;
}

int conn_guard_admit(h2o_socket_t *sock)
{
    struct metrics *m = &guard.serve->metrics;
    long long open = atomic_fetch_add_explicit(&m->conn_open, 1, memory_order_relaxed);
    if (guard.max_total && open >= (long long)guard.max_total) {
        atomic_fetch_sub_explicit(&m->conn_open, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->conn_refused[CONN_REFUSED_TOTAL], 1, memory_order_relaxed);
        return -EUSERS;
    }
    unsigned ticket = 0;
    uint8_t key[17];
    struct homing_addr addr;
    size_t keylen = guard.max_per_client ? client_key(sock, key, &addr) : 0;
    if (keylen && !trusted_proxies_contains(&guard.serve->proxies, &addr)) {
        uint8_t h[crypto_shorthash_BYTES];
        crypto_shorthash(h, key, keylen, guard.key);
        unsigned a = ((unsigned)h[0] | (unsigned)h[1] << 8) & (CONN_GUARD_SLOTS - 1);
        unsigned b = ((unsigned)h[2] | (unsigned)h[3] << 8) & (CONN_GUARD_SLOTS - 1);
        unsigned na = atomic_fetch_add_explicit(&guard.slots[0][a], 1, memory_order_relaxed);
        unsigned nb = atomic_fetch_add_explicit(&guard.slots[1][b], 1, memory_order_relaxed);
        if ((na < nb ? na : nb) >= guard.max_per_client) {
            atomic_fetch_sub_explicit(&guard.slots[0][a], 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&guard.slots[1][b], 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&m->conn_open, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&m->conn_refused[CONN_REFUSED_PER_CLIENT], 1,
                                      memory_order_relaxed);
            return -EMLINK;
        }
        ticket = GUARD_PER_CLIENT_FLAG | a | b << 15;
    }
    sock->on_close.cb = guard_release;
    sock->on_close.data = (void *)(uintptr_t)ticket;
    return 0;
}
