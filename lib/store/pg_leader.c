/*
 * pg_leader.c: what several nodes sharing one PostgreSQL store need for their
 * background work (issue #14 item 4): the leader lock, LISTEN for what others
 * store, and the webhook outbox's claims.
 *
 * Contract (homing/store_engine.h, homing/store.h):
 * - pg_leader: a session-level advisory lock, pg_try_advisory_lock on
 *   (hashtext('homing-leader'), hashtext(schema)), held by the handle's
 *   session. A lost session loses it: pg_alive clears p->leader when it
 *   reconnects, and the call that sees that answers 0 once.
 * - pg_listen_wait: LISTEN homing_events and homing_notifications (NOTIFYed
 *   by migration 0009's statement triggers with the table's schema as the
 *   payload; several stores may share a database, so others' are ignored).
 * - pg_delivery_claim: one row, claimed for lease_us on the server's clock
 *   (homing_clock_us) with FOR UPDATE SKIP LOCKED, so two deliverers never
 *   hold a claim on one delivery at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/store_engine.h"
#include "lib/store/pg_int.h"

int pg_leader(struct homing_store *s, int *leader)
{
    struct pg *p = (struct pg *)s;
    PGresult *res;
    int r;
    if (p->leader) {
        /* The lock holds as long as the session: one round trip says it
         * lives. A reconnect inside pg_run clears p->leader. */
        r = pg_run(p, PG_LEADER_PING, NULL, "checking the leader lock", &res);
        if (r == 0) PQclear(res);
        if (r == 0 && p->leader) {
            *leader = 1;
            return 0;
        }
        p->leader = 0;
        if (r < 0) return r;
        *leader = 0; /* reconnected: the lock went with the old session */
        return 0;
    }
    if ((r = pg_run(p, PG_LEADER_TRY, NULL, "trying the leader lock", &res)) < 0) return r;
    p->leader = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    *leader = p->leader;
    return 0;
}

/* LISTENs on a fresh (or reconnected) session and learns the schema the
 * triggers will name. */
static int listen_start(struct pg *p)
{
    PGresult *res;
    int r = pg_run(p, PG_LEADER_PING, NULL, "connecting to listen", &res); /* reconnects */
    if (r < 0) return r;
    PQclear(res);
    if ((r = pg_cmd(p, "LISTEN homing_events", "listening")) < 0 ||
        (r = pg_cmd(p, "LISTEN homing_notifications", "listening")) < 0)
        return r;
    res = PQexec(p->conn, "SELECT current_schema()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        r = pg_fail(p, res, "listening");
        PQclear(res);
        return r;
    }
    const char *schema = PQgetvalue(res, 0, 0);
    size_t n = strlen(schema);
    if (n > PG_SCHEMA_MAX) n = PG_SCHEMA_MAX;
    memcpy(p->listen_schema, schema, n);
    p->listen_schema[n] = '\0';
    PQclear(res);
    p->listening = 1;
    return 0;
}

int pg_listen_wait(struct homing_store *s, int timeout_ms, unsigned *woke)
{
    struct pg *p = (struct pg *)s;
    int r;
    if (!p->listening || p->broken || PQstatus(p->conn) != CONNECTION_OK) {
        if ((r = listen_start(p)) < 0) return r;
        *woke = HOMING_STORE_WOKE_EVENTS | HOMING_STORE_WOKE_NOTIFICATIONS;
        return 0;
    }
    struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
    if (pfd.fd < 0) {
        p->broken = 1;
        store_set_error(&p->base, "listening: no connection");
        return -EIO;
    }
    int n = poll(&pfd, 1, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    if (n == 0) return 0;
    if (!PQconsumeInput(p->conn) || PQstatus(p->conn) != CONNECTION_OK) {
        p->broken = 1;
        p->listening = 0;
        store_set_error(&p->base, "listening: %s", PQerrorMessage(p->conn));
        return -EIO;
    }
    PGnotify *nt;
    while ((nt = PQnotifies(p->conn))) {
        if (strcmp(nt->extra, p->listen_schema) == 0) {
            if (strcmp(nt->relname, "homing_events") == 0) *woke |= HOMING_STORE_WOKE_EVENTS;
            if (strcmp(nt->relname, "homing_notifications") == 0)
                *woke |= HOMING_STORE_WOKE_NOTIFICATIONS;
        }
        PQfreemem(nt);
    }
    return 0;
}

int pg_delivery_claim(struct homing_store *s, int64_t notification, int64_t webhook,
                      int64_t lease_us)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, notification);
    pg_arg_int(&a, webhook);
    pg_arg_int(&a, p->claimer);
    pg_arg_int(&a, lease_us);
    int64_t n = 0;
    int r = pg_do(p, PG_DELIVERY_CLAIM, &a, "claiming a delivery", &n);
    return r < 0 ? r : n > 0;
}
