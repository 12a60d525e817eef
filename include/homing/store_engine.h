/*
 * homing/store_engine.h: engine-specific store maintenance, each operation
 * behind a capability of homing/store.h. A backend without the capability
 * returns -ENOTSUP (or does nothing, for the process-wide hook), so a caller
 * checks homing_store_caps(s) first and skips the work (and the thread that
 * would do it) on a backend that has no such thing.
 *
 * Contract: the same as homing/store.h (one thread per handle, 0 or a
 * negative errno).
 */
#ifndef HOMING_STORE_ENGINE_H
#define HOMING_STORE_ENGINE_H

#include "homing/store.h"

/* HOMING_STORE_CAP_CHECKPOINT: write-ahead-log maintenance. The daemon turns
 * automatic checkpoints off on the handles of its loop threads (pages = 0), so
 * copying the log back into the database never happens on the request path,
 * and runs homing_store_checkpoint from a background thread instead. */
int homing_store_set_autocheckpoint(struct homing_store *s, int pages);
/* A passive checkpoint: copies what it can without waiting for readers or
 * writers; safe to call at any time from a handle of its own. */
int homing_store_checkpoint(struct homing_store *s);

/* HOMING_STORE_CAP_BUSY_HOOK: hook is called on the waiting thread when a
 * handle of s's backend has to wait for another's write lock, once per wait.
 * The daemon raises its background threads' priority with it
 * (src/common/thread.h), so a holder that runs only on idle CPU finishes
 * first. Process-wide for the backend; NULL (the default) for none. -ENOTSUP
 * for a backend whose waits are not in this process. */
int homing_store_set_wait_hook(struct homing_store *s, void (*hook)(void));

/* HOMING_STORE_CAP_LEADER: one handle of one node at a time is the leader of
 * the nodes sharing the store (the one running their background work).
 * Tries to become it, or checks that it still is: *leader = 1 while this
 * handle holds the leader lock, 0 while another handle holds it. The lock
 * lives as long as the handle's connection: a call that finds the
 * connection lost answers 0 (or an error) once, even if it could take the
 * lock again at once, so the caller always sees the loss; a later call
 * tries again. Closing the handle gives the lock up. Use a handle for
 * nothing else (its connection is the lock). */
int homing_store_leader(struct homing_store *s, int *leader);

/* HOMING_STORE_CAP_LISTEN: waits up to timeout_ms for another handle (of any
 * process) to commit events or notifications to this store; *woke gets
 * HOMING_STORE_WOKE_* bits (0: the time ran out). The first call, and the
 * first after the connection was lost, starts listening and answers every
 * bit at once (what was stored meanwhile was not heard). -EIO when the
 * connection is lost (the next call reconnects). Use a handle for nothing
 * else. */
#define HOMING_STORE_WOKE_EVENTS        (1u << 0)
#define HOMING_STORE_WOKE_NOTIFICATIONS (1u << 1)
int homing_store_listen_wait(struct homing_store *s, int timeout_ms, unsigned *woke);

/* A store shared by several nodes (homing init --store): what
 * homing_store_provision made or found, for one node. */
struct homing_store_node {
    char *url;    /* the node's own store URL, with its credentials: store.url (or NULL) */
    char *role;   /* the login made for this node (or NULL) */
    char *schema; /* the store's schema; its key silo is schema "_keys" */
    int created;  /* 1: the schemas and the roles were made now; 0: found */
    int version;  /* the store's migration, now current */
};

/* Prepares (or upgrades) the store url names for nodes and, with
 * HOMING_STORE_PROVISION_LOGIN, makes one node's login, in one transaction
 * (nothing is left of a failed run); without it out->url and out->role are
 * NULL. url's user must be able to
 * create roles. PostgreSQL: the schemas (the store's and its key silo), the
 * owner roles and the nodes' group role when missing, the migrations applied
 * and the objects handed to their owners, the nodes' rights, then a login
 * role of the group with a generated password (docs/internals/store.md, "The
 * key silo"). -ENOTSUP for a backend with nothing to prepare (SQLite); err
 * gets one line on failure. *out is the caller's: homing_store_node_clear. */
#define HOMING_STORE_PROVISION_LOGIN 1 /* also make a node's login (out->url, out->role) */
int homing_store_provision(const char *url, unsigned flags, struct homing_store_node *out,
                           char *err, size_t errcap);
void homing_store_node_clear(struct homing_store_node *n);

/* Lets homing_store_open and _inspect open backends with
 * HOMING_STORE_CAP_PARTIAL in this process (on != 0) or not (0, the default).
 * For the backend test suite (tests/unit/store_backends.h), which runs the
 * operations such a backend has; no program calls it. Process-wide; call it
 * before opening stores, not while other threads open them. */
void homing_store_partial_allow(int on);

#endif
