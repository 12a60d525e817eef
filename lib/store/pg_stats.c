/*
 * pg_stats.c: the PostgreSQL backend's campaigns and figures (migration
 * 0008): messages by filter, campaigns, the counters its triggers and the
 * enrichment batches keep, and the hourly series; the same queries as
 * lib/store/sqlite_stats.c. Every query reads the per-message counters of the
 * messages the filter picks (the SEL_MESSAGES set): one row per message, never
 * one per recipient or event.
 *
 * Contract: see homing/store.h, "Campaigns and their figures". Each call runs
 * in one read-only REPEATABLE READ transaction, so the figures of one
 * homing_store_stats come from one snapshot. These are dashboard and CLI
 * reads, not per hit: statements are not prepared. Text orderings use the
 * "C" collation, so that both backends list ties in the same (byte) order
 * whatever the database's locale.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

/* The messages a filter picks: $1 campaign (NULL any, '' none), $2 message
 * (0 any), $3 since, $4 until (0: no bound), $5 state (NULL any). */
#define SEL_MESSAGES                                                                               \
    "SELECT id FROM messages m WHERE ($1::text IS NULL OR ($1::text = '' AND m.campaign IS NULL) " \
    "OR m.campaign = $1::text) AND ($2::bigint = 0 OR m.id = $2::bigint) AND "                     \
    "m.created_us >= $3::bigint AND ($4::bigint = 0 OR m.created_us < $4::bigint) AND "            \
    "($5::text IS NULL OR EXISTS (SELECT 1 FROM message_states s WHERE s.message = m.id AND "      \
    "s.state = $5::text AND s.count > 0))"

#define PG_STATS_EXTRA_MAX 3 /* parameters after the filter's five */
#define PG_STATS_PARAMS    (5 + PG_STATS_EXTRA_MAX)

/* Runs sql with the filter q as $1..$5 and extra[0..nextra) as $6...; *res
 * on success (the caller PQclears it). */
static int stats_query(struct pg *p, const char *sql, const struct homing_message_query *q,
                       const int64_t *extra, int nextra, const char *what, PGresult **res)
{
    if (nextra > PG_STATS_EXTRA_MAX) return -EINVAL;
    char num[PG_STATS_PARAMS][24];
    const char *v[PG_STATS_PARAMS];
    int64_t ints[PG_STATS_PARAMS] = {0, (int64_t)q->message, q->since_us, q->until_us, 0};
    for (int i = 0; i < nextra; i++) ints[5 + i] = extra[i];
    for (int i = 0; i < 5 + nextra; i++) {
        snprintf(num[i], sizeof num[i], "%lld", (long long)ints[i]);
        v[i] = num[i];
    }
    v[0] = q->campaign; /* NULL: SQL NULL */
    v[4] = q->state;
    PGresult *x = PQexecParams(p->conn, sql, 5 + nextra, NULL, v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(x);
    if (st != PGRES_TUPLES_OK) {
        int r = pg_fail(p, x, what);
        PQclear(x);
        return r;
    }
    *res = x;
    return 0;
}

int pg_message_query(struct homing_store *s, const struct homing_message_query *q,
                     struct homing_message **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    int64_t extra[3] = {q->after_us, (int64_t)q->after_id, (int64_t)q->limit};
    int r = pg_begin_read(p);
    if (r < 0) return r;
    PGresult *res;
    r = stats_query(p,
                    "SELECT id, message_id, subject, sender, mode, created_us, campaign, "
                    "(SELECT coalesce(sum(count), 0) FROM message_states s WHERE s.message = m.id) "
                    "FROM messages m WHERE m.id IN (" SEL_MESSAGES ") AND ($6::bigint = 0 OR "
                    "m.created_us < $6::bigint OR (m.created_us = $6::bigint AND "
                    "m.id < $7::bigint)) ORDER BY m.created_us DESC, m.id DESC LIMIT $8::bigint",
                    q, extra, 3, "listing messages", &res);
    if (r == 0 && (r = pg_commit(p)) < 0) PQclear(res);
    if (r < 0) {
        pg_rollback(p);
        return r;
    }
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_message *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) {
        if ((r = pg_read_message_row(res, (int)used, &arr[used])) == 0)
            arr[used].recipient_count = (size_t)pg_int(res, (int)used, 7);
    }
    PQclear(res);
    if (r < 0) {
        homing_messages_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin_read(p);
    if (r < 0) return r;
    PGresult *res = PQexecParams(
        p->conn,
        "SELECT campaign, count(*), (SELECT coalesce(sum(s.count), 0) FROM message_states s "
        "JOIN messages x ON x.id = s.message WHERE x.campaign = m.campaign), min(created_us), "
        "max(created_us) FROM messages m WHERE campaign IS NOT NULL GROUP BY campaign "
        "ORDER BY max(created_us) DESC, campaign COLLATE \"C\"",
        0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) r = pg_fail(p, res, "listing campaigns");
    if (r == 0) r = pg_commit(p);
    if (r < 0) {
        PQclear(res);
        pg_rollback(p);
        return r;
    }
    size_t rows = (size_t)PQntuples(res);
    struct homing_campaign *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) {
        PQclear(res);
        return -ENOMEM;
    }
    for (size_t k = 0; k < rows; k++) {
        struct homing_campaign *c = &arr[k];
        int i = (int)k;
        pg_copy(res, i, 0, c->name, sizeof c->name);
        c->messages = pg_int(res, i, 1);
        c->recipients = pg_int(res, i, 2);
        c->first_us = pg_int(res, i, 3);
        c->last_us = pg_int(res, i, 4);
    }
    PQclear(res);
    *out = arr;
    *n = rows;
    return 0;
}

/* One row of integer columns into v[0..k). */
static int stats_row(struct homing_store *s, const char *sql, const struct homing_message_query *q,
                     int64_t *v, int k, const char *what)
{
    struct pg *p = (struct pg *)s;
    PGresult *res;
    int r = stats_query(p, sql, q, NULL, 0, what, &res);
    if (r < 0) return r;
    for (int i = 0; i < k; i++) v[i] = PQntuples(res) ? pg_int(res, 0, i) : 0;
    PQclear(res);
    return 0;
}

static int stats_states(struct homing_store *s, const struct homing_message_query *q,
                        struct homing_stats *o)
{
    struct pg *p = (struct pg *)s;
    PGresult *res;
    int r = stats_query(p,
                        "SELECT state, sum(count) FROM message_states WHERE message IN "
                        "(" SEL_MESSAGES ") GROUP BY state",
                        q, NULL, 0, "counting states", &res);
    if (r < 0) return r;
    for (int i = 0; i < PQntuples(res); i++)
        store_stats_state_add(o, PQgetvalue(res, i, 0), pg_int(res, i, 1));
    PQclear(res);
    return 0;
}

static int stats_reasons(struct homing_store *s, const struct homing_message_query *q,
                         struct homing_stats *o)
{
    struct pg *p = (struct pg *)s;
    PGresult *res;
    int r = stats_query(p,
                        "SELECT b.reason, count(*) FILTER (WHERE b.hard != 0), "
                        "count(*) FILTER (WHERE b.hard = 0) FROM recipient_bounces b "
                        "JOIN recipients r ON r.message = b.message AND r.idx = b.recipient "
                        "WHERE r.state = 'bounced' AND b.message IN (" SEL_MESSAGES ") "
                        "GROUP BY b.reason ORDER BY count(*) DESC, b.reason COLLATE \"C\"",
                        q, NULL, 0, "counting bounce reasons", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res);
    if (rows && !(o->reasons = calloc(rows, sizeof *o->reasons))) r = -ENOMEM;
    for (size_t k = 0; r == 0 && k < rows; k++) {
        struct homing_stats_reason *x = &o->reasons[o->n_reasons++];
        pg_copy(res, (int)k, 0, x->reason, sizeof x->reason);
        x->hard = pg_int(res, (int)k, 1);
        x->soft = pg_int(res, (int)k, 2);
    }
    PQclear(res);
    return r;
}

static int stats_links(struct homing_store *s, const struct homing_message_query *q,
                       struct homing_stats *o)
{
    struct pg *p = (struct pg *)s;
    const int64_t max = HOMING_STATS_LINKS_MAX;
    PGresult *res;
    int r = stats_query(
        p,
        "SELECT l.message, l.link, k.url, l.human, l.machine, l.unknown, "
        "l.human + l.machine + l.unknown, l.clickers_human, l.clickers_machine, "
        "l.clickers_unknown, l.clickers_all FROM link_totals l JOIN links k ON "
        "k.message = l.message AND k.idx = l.link WHERE l.message IN (" SEL_MESSAGES ") "
        "AND l.clickers_all > 0 ORDER BY l.human DESC, l.message, l.link LIMIT $6::bigint",
        q, &max, 1, "counting clicks per link", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res);
    if (rows && !(o->links = calloc(rows, sizeof *o->links))) r = -ENOMEM;
    for (size_t k = 0; r == 0 && k < rows; k++) {
        struct homing_stats_link *x = &o->links[o->n_links++];
        int i = (int)k;
        x->message = (uint64_t)pg_int(res, i, 0);
        x->link = (uint32_t)pg_int(res, i, 1);
        if (!(x->url = strdup(PQgetvalue(res, i, 2)))) {
            r = -ENOMEM;
            break;
        }
        int64_t v[8];
        for (int c = 0; c < 8; c++) v[c] = pg_int(res, i, 3 + c);
        store_stats_count_set(&x->clicks, v);
        store_stats_count_set(&x->clickers, v + 4);
    }
    PQclear(res);
    return r;
}

static int stats_begin(struct homing_store *s)
{
    return pg_begin_read((struct pg *)s);
}

static const struct store_stats_steps stats_steps = {
    .begin = stats_begin,
    .commit = pg_store_commit,
    .rollback = pg_store_rollback,
    .row = stats_row,
    .states = stats_states,
    .reasons = stats_reasons,
    .links = stats_links,
    .sql_messages = "SELECT count(*) FROM (" SEL_MESSAGES ") x",
    .sql_totals = "SELECT coalesce(sum(opens_human), 0), coalesce(sum(opens_machine), 0), "
                  "coalesce(sum(opens_unknown), 0), "
                  "coalesce(sum(opens_human + opens_machine + opens_unknown), 0), "
                  "coalesce(sum(clicks_human), 0), coalesce(sum(clicks_machine), 0), "
                  "coalesce(sum(clicks_unknown), 0), "
                  "coalesce(sum(clicks_human + clicks_machine + clicks_unknown), 0), "
                  "coalesce(sum(docs_human), 0), coalesce(sum(docs_machine), 0), "
                  "coalesce(sum(docs_unknown), 0), "
                  "coalesce(sum(docs_human + docs_machine + docs_unknown), 0), "
                  "coalesce(sum(openers_human), 0), coalesce(sum(openers_machine), 0), "
                  "coalesce(sum(openers_unknown), 0), coalesce(sum(openers_all), 0), "
                  "coalesce(sum(clickers_human), 0), coalesce(sum(clickers_machine), 0), "
                  "coalesce(sum(clickers_unknown), 0), coalesce(sum(clickers_all), 0) "
                  "FROM message_stats WHERE message IN (" SEL_MESSAGES ")",
    .sql_readers = "SELECT count(*), count(*) FILTER (WHERE forward != 0) FROM readers "
                   "WHERE message IN (" SEL_MESSAGES ")",
    .sql_reports = "SELECT coalesce(sum(count) FILTER (WHERE kind = 'complaint'), 0), "
                   "coalesce(sum(count) FILTER (WHERE kind = 'autoreply'), 0), "
                   "coalesce(sum(count) FILTER (WHERE kind = 'read'), 0) FROM hourly_stats "
                   "WHERE class = '' AND message IN (" SEL_MESSAGES ")",
};

int pg_stats(struct homing_store *s, const struct homing_message_query *q, struct homing_stats *o)
{
    return store_stats_run(s, &stats_steps, q, o);
}

int pg_stats_series(struct homing_store *s, const struct homing_message_query *q, int64_t bucket_us,
                    struct homing_stats_point **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    /* Hours are the stored grain: a bucket is a whole number of hours, or
     * less (then each point is its hour). */
    int64_t hours = bucket_us / 3600000000LL;
    if (hours < 1) hours = 1;
    const int64_t extra[2] = {hours, HOMING_STATS_POINTS_MAX};
    int r = pg_begin_read(p);
    if (r < 0) return r;
    PGresult *res;
    r = stats_query(p,
                    "SELECT (hour / $6::bigint) * $6::bigint AS t, kind, class, sum(count) "
                    "FROM hourly_stats WHERE message IN (" SEL_MESSAGES ") GROUP BY 1, 2, 3 "
                    "HAVING sum(count) > 0 ORDER BY 1, kind COLLATE \"C\", class COLLATE \"C\" "
                    "LIMIT $7::bigint",
                    q, extra, 2, "reading the series", &res);
    if (r == 0 && (r = pg_commit(p)) < 0) PQclear(res);
    if (r < 0) {
        pg_rollback(p);
        return r;
    }
    size_t rows = (size_t)PQntuples(res);
    struct homing_stats_point *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) {
        PQclear(res);
        return -ENOMEM;
    }
    for (size_t k = 0; k < rows; k++) {
        struct homing_stats_point *pt = &arr[k];
        int i = (int)k;
        pt->t_us = pg_int(res, i, 0) * 3600000000LL;
        pg_copy(res, i, 1, pt->kind, sizeof pt->kind);
        pg_copy(res, i, 2, pt->cls, sizeof pt->cls);
        pt->count = pg_int(res, i, 3);
    }
    PQclear(res);
    *out = arr;
    *n = rows;
    return 0;
}
