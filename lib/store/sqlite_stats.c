/*
 * sqlite_stats.c: the SQLite backend's campaigns and figures (migration
 * 0012, 0013): messages by filter, campaigns, the counters its triggers keep, and
 * the hourly series. Every query reads the per-message counters of the
 * messages the filter picks (the SEL_MESSAGES set): one row per message, never
 * one per recipient or event, so a campaign costs the same with 100,000
 * recipients as with ten (bench/dashboard).
 *
 * Contract: see homing/store.h, "Campaigns and their figures". Statements
 * are prepared per call (these are dashboard and CLI reads, not per hit);
 * the figures of one homing_store_stats come from one read transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/util.h"
#include "lib/store/sqlite_int.h"

/* The messages a filter picks: ?1 campaign (NULL any, '' none), ?2 message
 * (0 any), ?3 since, ?4 until (0: no bound), ?5 state (NULL any). */
#define SEL_MESSAGES                                                                               \
    "SELECT id FROM messages m WHERE (?1 IS NULL OR (?1 = '' AND m.campaign IS NULL) OR "          \
    "m.campaign = ?1) AND (?2 = 0 OR m.id = ?2) AND m.created_us >= ?3 AND "                       \
    "(?4 = 0 OR m.created_us < ?4) AND (?5 IS NULL OR EXISTS (SELECT 1 FROM message_states s "     \
    "WHERE s.message = m.id AND s.state = ?5 AND s.count > 0))"

#define STATS_CLASS_HUMAN   "('human', 'proxy-open')"
#define STATS_CLASS_MACHINE "('prefetch', 'scanner', 'probe')"

static sqlite3_stmt *stats_prepare(struct homing_store *s, const char *sql,
                                   const struct homing_message_query *q)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sqlite_db(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite_fail(s, rc, "preparing a stats query");
        sqlite3_finalize(st);
        return NULL;
    }
    if (q->campaign)
        sqlite3_bind_text(st, 1, q->campaign, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)q->message);
    sqlite3_bind_int64(st, 3, q->since_us);
    sqlite3_bind_int64(st, 4, q->until_us);
    if (q->state)
        sqlite3_bind_text(st, 5, q->state, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    return st;
}

/* Steps a statement to its end; -EIO and the message on error. */
static int stats_done(struct homing_store *s, sqlite3_stmt *st, int rc, const char *what)
{
    int r = rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, what);
    sqlite3_finalize(st);
    return r;
}

/* Ends a loop over rows that may have stopped early on its own error r (out
 * of memory growing the result): the statement finalized and r kept, or, when
 * it ran to its end, stats_done's verdict. */
static int stats_end(struct homing_store *s, sqlite3_stmt *st, int rc, int r, const char *what)
{
    if (r == 0) return stats_done(s, st, rc, what);
    sqlite3_finalize(st);
    return r;
}

int sqlite_message_query(struct homing_store *s, const struct homing_message_query *q,
                         struct homing_message **out, size_t *n)
{
    sqlite3_stmt *st = stats_prepare(
        s,
        "SELECT id, message_id, subject, sender, mode, created_us, campaign, "
        "(SELECT total(count) FROM message_states s WHERE s.message = m.id) FROM messages m "
        "WHERE m.id IN (" SEL_MESSAGES ") AND (?6 = 0 OR m.created_us < ?6 OR "
        "(m.created_us = ?6 AND m.id < ?7)) ORDER BY m.created_us DESC, m.id DESC LIMIT ?8",
        q);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 6, q->after_us);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)q->after_id);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)q->limit);
    struct homing_message *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = homing_array_grow((void **)&arr, &cap, used, sizeof *arr, 64)) < 0) break;
        struct homing_message *m = &arr[used++];
        if ((r = sqlite_read_message_row(st, m)) < 0) break;
        m->recipient_count = (size_t)sqlite3_column_int64(st, 7);
    }
    r = stats_end(s, st, rc, r, "listing messages");
    if (r < 0) {
        homing_messages_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int sqlite_campaigns_list(struct homing_store *s, struct homing_campaign **out, size_t *n)
{
    const struct homing_message_query all = {0};
    sqlite3_stmt *st = stats_prepare(
        s,
        "SELECT campaign, count(*), (SELECT total(s.count) FROM message_states s JOIN messages x "
        "ON x.id = s.message WHERE x.campaign = m.campaign), min(created_us), max(created_us) "
        "FROM messages m WHERE campaign IS NOT NULL AND ?1 IS NULL AND ?2 = 0 AND ?3 = 0 AND "
        "?4 = 0 AND ?5 IS NULL GROUP BY campaign ORDER BY max(created_us) DESC, campaign",
        &all);
    if (!st) return -EIO;
    struct homing_campaign *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = homing_array_grow((void **)&arr, &cap, used, sizeof *arr, 16)) < 0) break;
        struct homing_campaign *c = &arr[used++];
        const char *name = (const char *)sqlite3_column_text(st, 0);
        homing_strlcpy(c->name, name ? name : "", sizeof c->name);
        c->messages = sqlite3_column_int64(st, 1);
        c->recipients = sqlite3_column_int64(st, 2);
        c->first_us = sqlite3_column_int64(st, 3);
        c->last_us = sqlite3_column_int64(st, 4);
    }
    r = stats_end(s, st, rc, r, "listing campaigns");
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

/* One row of int64 columns into v[0..k). */
static int stats_row(struct homing_store *s, const char *sql, const struct homing_message_query *q,
                     int64_t *v, int k, const char *what)
{
    sqlite3_stmt *st = stats_prepare(s, sql, q);
    if (!st) return -EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < k; i++) v[i] = sqlite3_column_int64(st, i);
        rc = sqlite3_step(st);
    }
    return stats_done(s, st, rc, what);
}

static int stats_states(struct homing_store *s, const struct homing_message_query *q,
                        struct homing_stats *o)
{
    sqlite3_stmt *st =
        stats_prepare(s,
                      "SELECT state, total(count) FROM message_states WHERE message IN "
                      "(" SEL_MESSAGES ") GROUP BY state",
                      q);
    if (!st) return -EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        store_stats_state_add(o, (const char *)sqlite3_column_text(st, 0),
                              sqlite3_column_int64(st, 1));
    return stats_done(s, st, rc, "counting states");
}

static int stats_reasons(struct homing_store *s, const struct homing_message_query *q,
                         struct homing_stats *o)
{
    sqlite3_stmt *st =
        stats_prepare(s,
                      "SELECT b.reason, sum(b.hard != 0), sum(b.hard = 0) FROM recipient_bounces b "
                      "JOIN recipients r ON r.message = b.message AND r.idx = b.recipient "
                      "WHERE r.state = 'bounced' AND b.message IN (" SEL_MESSAGES ") "
                      "GROUP BY b.reason ORDER BY count(*) DESC, b.reason",
                      q);
    if (!st) return -EIO;
    size_t cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = homing_array_grow((void **)&o->reasons, &cap, o->n_reasons, sizeof *o->reasons,
                                   8)) < 0)
            break;
        struct homing_stats_reason *x = &o->reasons[o->n_reasons++];
        const char *reason = (const char *)sqlite3_column_text(st, 0);
        homing_strlcpy(x->reason, reason ? reason : "", sizeof x->reason);
        x->hard = sqlite3_column_int64(st, 1);
        x->soft = sqlite3_column_int64(st, 2);
    }
    if (r < 0) {
        sqlite3_finalize(st);
        return r;
    }
    return stats_done(s, st, rc, "counting bounce reasons");
}

static int stats_links(struct homing_store *s, const struct homing_message_query *q,
                       struct homing_stats *o)
{
    sqlite3_stmt *st = stats_prepare(
        s,
        "SELECT l.message, l.link, k.url, l.human, l.machine, l.unknown, "
        "l.human + l.machine + l.unknown, l.clickers_human, l.clickers_machine, "
        "l.clickers_unknown, l.clickers_all FROM link_totals l JOIN links k ON "
        "k.message = l.message AND k.idx = l.link WHERE l.message IN (" SEL_MESSAGES ") "
        "AND l.clickers_all > 0 ORDER BY l.human DESC, l.message, l.link LIMIT ?6",
        q);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 6, HOMING_STATS_LINKS_MAX);
    size_t cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = homing_array_grow((void **)&o->links, &cap, o->n_links, sizeof *o->links, 16)) < 0)
            break;
        struct homing_stats_link *x = &o->links[o->n_links++];
        x->message = (uint64_t)sqlite3_column_int64(st, 0);
        x->link = (uint32_t)sqlite3_column_int64(st, 1);
        const char *url = (const char *)sqlite3_column_text(st, 2);
        if (!(x->url = strdup(url ? url : ""))) {
            r = -ENOMEM;
            break;
        }
        int64_t v[8];
        for (int i = 0; i < 8; i++) v[i] = sqlite3_column_int64(st, 3 + i);
        store_stats_count_set(&x->clicks, v);
        store_stats_count_set(&x->clickers, v + 4);
    }
    if (r < 0) {
        sqlite3_finalize(st);
        return r;
    }
    return stats_done(s, st, rc, "counting clicks per link");
}

static const struct store_stats_steps stats_steps = {
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .row = stats_row,
    .states = stats_states,
    .reasons = stats_reasons,
    .links = stats_links,
    .sql_messages = "SELECT count(*) FROM (" SEL_MESSAGES ")",
    .sql_totals = "SELECT total(opens_human), total(opens_machine), total(opens_unknown), "
                  "total(opens_human + opens_machine + opens_unknown), "
                  "total(clicks_human), total(clicks_machine), total(clicks_unknown), "
                  "total(clicks_human + clicks_machine + clicks_unknown), "
                  "total(docs_human), total(docs_machine), total(docs_unknown), "
                  "total(docs_human + docs_machine + docs_unknown), "
                  "total(openers_human), total(openers_machine), total(openers_unknown), "
                  "total(openers_all), total(clickers_human), total(clickers_machine), "
                  "total(clickers_unknown), total(clickers_all) "
                  "FROM message_stats WHERE message IN (" SEL_MESSAGES ")",
    .sql_readers = "SELECT count(*), total(forward != 0) FROM readers WHERE message IN "
                   "(" SEL_MESSAGES ")",
    .sql_reports = "SELECT total(count * (kind = 'complaint')), total(count * (kind = "
                   "'autoreply')), total(count * (kind = 'read')) FROM hourly_stats "
                   "WHERE class = '' AND message IN (" SEL_MESSAGES ")",
};

int sqlite_stats(struct homing_store *s, const struct homing_message_query *q,
                 struct homing_stats *o)
{
    return store_stats_run(s, &stats_steps, q, o);
}

int sqlite_stats_series(struct homing_store *s, const struct homing_message_query *q,
                        int64_t bucket_us, struct homing_stats_point **out, size_t *n)
{
    /* Hours are the stored grain: a bucket is a whole number of hours, or
     * less (then each point is its hour). */
    int64_t hours = bucket_us / 3600000000LL;
    if (hours < 1) hours = 1;
    sqlite3_stmt *st = stats_prepare(
        s,
        "SELECT (hour / ?6) * ?6, kind, class, sum(count) FROM hourly_stats WHERE message IN "
        "(" SEL_MESSAGES ") GROUP BY 1, 2, 3 HAVING sum(count) > 0 ORDER BY 1, 2, 3 LIMIT ?7",
        q);
    if (!st) return -EIO;
    sqlite3_bind_int64(st, 6, hours);
    sqlite3_bind_int64(st, 7, HOMING_STATS_POINTS_MAX);
    struct homing_stats_point *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = homing_array_grow((void **)&arr, &cap, used, sizeof *arr, 64)) < 0) break;
        struct homing_stats_point *p = &arr[used++];
        p->t_us = sqlite3_column_int64(st, 0) * 3600000000LL;
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *cls = (const char *)sqlite3_column_text(st, 2);
        homing_strlcpy(p->kind, kind ? kind : "", sizeof p->kind);
        homing_strlcpy(p->cls, cls ? cls : "", sizeof p->cls);
        p->count = sqlite3_column_int64(st, 3);
    }
    r = stats_end(s, st, rc, r, "reading the series");
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}
