/*
 * sqlite_readers.c: the SQLite backend's enrichments, readers, and the stamps and flags the
 * daemon's enrichment and notifier threads page through (migrations 0004, 0007).
 *
 * Contract: homing/store.h for each operation; the helpers of sqlite_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

/* ---- enrichment (migration 0004) ----
 * Written by the one enrichment thread, a row per open or click; read by the
 * notifier, reports and homing reclassify. Not the hit path: statements are
 * prepared per call, like the notification ones. */

/* The reader row of e's reader: created from e, or its last time and opens
 * moved on. last_us and opens are those of all the hits it stands for. */
static int eq_reader_upsert(struct sq *q, const struct homing_store_enrichment *e, int64_t last_us,
                            int64_t opens)
{
    char client[2 * HOMING_STORE_FACT_MAX + 2];
    snprintf(client, sizeof client, "%s%s%s", e->client_family, e->client_version[0] ? " " : "",
             e->client_version);
    sqlite3_stmt *st = sq_query_cached(q, ST_READER_UPSERT, "ItIIo", e->message, e->reader,
                                       (int64_t)e->recipient, e->time_us, client);
    if (!st) return -EIO;
    sq_bind_opt(st, 6, e->device, sizeof e->device);
    sq_bind_opt(st, 7, e->country, sizeof e->country);
    sqlite3_bind_int64(st, 8, opens);
    sqlite3_bind_int64(st, 9, e->event);
    sqlite3_bind_int(st, 10, e->forward ? 1 : 0);
    sqlite3_bind_int64(st, 11, last_us);
    return sq_run_cached(q, st, "storing reader");
}

static int eq_insert(struct sq *q, const struct homing_store_enrichment *e)
{
    sqlite3_stmt *st = sq_stmt(q, ST_ENRICH_INSERT);
    if (!st) return -EIO;
    const char *kind = homing_event_kind_name(e->kind);
    sqlite3_bind_int64(st, 1, e->event);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)e->message);
    sqlite3_bind_int64(st, 3, e->recipient);
    sqlite3_bind_text(st, 4, kind ? kind : "none", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, e->item);
    sqlite3_bind_int64(st, 6, e->time_us);
    sqlite3_bind_text(st, 7, e->verdict, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, e->confidence);
    sqlite3_bind_text(st, 9, e->reasons, (int)strnlen(e->reasons, sizeof e->reasons),
                      SQLITE_STATIC);
    sqlite3_bind_int(st, 10, e->rules_version);
    sq_bind_opt(st, 11, e->client_family, sizeof e->client_family);
    sq_bind_opt(st, 12, e->client_version, sizeof e->client_version);
    sq_bind_opt(st, 13, e->os, sizeof e->os);
    sq_bind_opt(st, 14, e->device, sizeof e->device);
    sq_bind_opt(st, 15, e->country, sizeof e->country);
    sqlite3_bind_int64(st, 16, e->asn);
    sq_bind_opt(st, 17, e->as_org, sizeof e->as_org);
    sq_bind_opt(st, 18, e->machine, sizeof e->machine);
    sq_bind_opt(st, 19, e->reader, sizeof e->reader);
    sqlite3_bind_int(st, 20, e->new_reader ? 1 : 0);
    sqlite3_bind_int(st, 21, e->forward ? 1 : 0);
    sqlite3_bind_text(st, 22, e->json, -1, SQLITE_STATIC);
    return sq_run_cached(q, st, "storing enrichment");
}

static int eq_cursor(struct sq *q, int64_t cursor)
{
    sqlite3_stmt *st = sq_query_cached(q, ST_ENRICH_CURSOR, "tI", HOMING_ENRICH_CURSOR, cursor);
    if (!st) return -EIO;
    return sq_run_cached(q, st, "moving the enrichment cursor");
}

/* A batch's counters (store.c's stats_of), in the batch's transaction. */
static int eq_stats(struct sq *q, const struct store_stats_put *s)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < s->nrecipients; i++) {
        const struct store_recipient_add *a = &s->recipients[i];
        sqlite3_stmt *st = sq_query_cached(q, ST_STATS_RECIPIENT_ADD, "IIIIIIIIIII",
                                           (int64_t)a->message, (int64_t)a->recipient, a->opens[0],
                                           a->opens[1], a->opens[2], a->clicks[0], a->clicks[1],
                                           a->clicks[2], a->docs[0], a->docs[1], a->docs[2]);
        if (!st) return -EIO;
        /* cached: bind both, a NULL as much as a time */
        if (a->has_open)
            sqlite3_bind_int64(st, 12, a->first_human_open_us);
        else
            sqlite3_bind_null(st, 12);
        if (a->has_click)
            sqlite3_bind_int64(st, 13, a->first_human_click_us);
        else
            sqlite3_bind_null(st, 13);
        r = sq_run_cached(q, st, "storing recipient counters");
    }
    for (size_t i = 0; r == 0 && i < s->nlinks; i++) {
        const struct store_link_add *a = &s->links[i];
        sqlite3_stmt *st =
            sq_query_cached(q, ST_STATS_LINK_ADD, "IIIIII", (int64_t)a->message, (int64_t)a->link,
                            (int64_t)a->recipient, a->clicks[0], a->clicks[1], a->clicks[2]);
        r = st ? sq_run_cached(q, st, "storing link counters") : -EIO;
    }
    for (size_t i = 0; r == 0 && i < s->nhours; i++) {
        const struct store_hour_add *a = &s->hours[i];
        const char *kind = homing_event_kind_name(a->kind);
        sqlite3_stmt *st =
            sq_query_cached(q, ST_STATS_HOUR_ADD, "IIttI", (int64_t)a->message, a->hour,
                            kind ? kind : "none", store_class_names[a->cls], a->count);
        r = st ? sq_run_cached(q, st, "storing hourly counters") : -EIO;
    }
    return r;
}

int sq_enrichments_put(struct homing_store *s, const struct homing_store_enrichment *rows, size_t n,
                       const struct store_reader_put *readers, size_t nr,
                       const struct store_stats_put *stats, int64_t cursor)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    for (size_t i = 0; r == 0 && i < n; i++) r = eq_insert(q, &rows[i]);
    for (size_t i = 0; r == 0 && i < nr; i++)
        r = eq_reader_upsert(q, readers[i].first, readers[i].last_us, readers[i].opens);
    if (r == 0) r = eq_stats(q, stats);
    if (r == 0) r = eq_cursor(q, cursor);
    if (r == 0) r = sq_commit(q);
    if (r < 0) sq_rollback(q);
    return r;
}

static int eq_read_row(sqlite3_stmt *st, struct homing_store_enrichment *e)
{
    e->event = sqlite3_column_int64(st, 0);
    e->message = (uint64_t)sqlite3_column_int64(st, 1);
    e->recipient = (uint32_t)sqlite3_column_int64(st, 2);
    const char *kind = (const char *)sqlite3_column_text(st, 3);
    e->kind = (uint16_t)(kind ? homing_event_kind_parse(kind) : HOMING_EV_NONE);
    e->item = (uint32_t)sqlite3_column_int64(st, 4);
    e->time_us = sqlite3_column_int64(st, 5);
    sq_col_copy(st, 6, e->verdict, sizeof e->verdict);
    e->confidence = sqlite3_column_int(st, 7);
    sq_col_copy(st, 8, e->reasons, sizeof e->reasons);
    e->rules_version = sqlite3_column_int(st, 9);
    sq_col_copy(st, 10, e->client_family, sizeof e->client_family);
    sq_col_copy(st, 11, e->client_version, sizeof e->client_version);
    sq_col_copy(st, 12, e->os, sizeof e->os);
    sq_col_copy(st, 13, e->device, sizeof e->device);
    sq_col_copy(st, 14, e->country, sizeof e->country);
    e->asn = (uint32_t)sqlite3_column_int64(st, 15);
    sq_col_copy(st, 16, e->as_org, sizeof e->as_org);
    sq_col_copy(st, 17, e->machine, sizeof e->machine);
    sq_col_copy(st, 18, e->reader, sizeof e->reader);
    e->new_reader = sqlite3_column_int(st, 19);
    e->forward = sqlite3_column_int(st, 20);
    return sq_col_dup(st, 21, &e->json);
}

int sq_enrichments_list(struct homing_store *s, uint64_t message, int64_t only_event, int64_t after,
                        size_t limit, struct homing_store_enrichment **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st;
    if (only_event) {
        st = sq_query_cached(q, ST_ENRICHMENT_GET, "I", only_event);
        if (!st) return -EIO;
    } else if (message) {
        st = sq_query(q,
                      "SELECT " ENRICH_COLUMNS " FROM enrichments "
                      "WHERE message = ?1 AND event > ?2 ORDER BY event LIMIT ?3",
                      "III", message, after, (int64_t)limit);
        if (!st) return -EIO;
    } else {
        st = sq_query(q,
                      "SELECT " ENRICH_COLUMNS " FROM enrichments "
                      "WHERE event > ?1 ORDER BY event LIMIT ?2",
                      "II", after, (int64_t)limit);
        if (!st) return -EIO;
    }
    struct homing_store_enrichment *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        if ((r = eq_read_row(st, &arr[used++])) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing enrichments");
    if (only_event)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);
    if (r < 0) {
        homing_store_enrichments_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int sq_enrichments_rewrite(struct homing_store *s, const struct homing_store_enrichment *rows,
                           size_t n)
{
    struct sq *q = (struct sq *)s;
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = sq_prepare(q, "UPDATE enrichments SET verdict = ?1, confidence = ?2, "
                                     "reasons = ?3, rules_version = ?4, json = ?5 "
                                     "WHERE event = ?6");
    if (!st) r = -EIO;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct homing_store_enrichment *e = &rows[i];
        sqlite3_bind_text(st, 1, e->verdict, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, e->confidence);
        sqlite3_bind_text(st, 3, e->reasons, (int)strnlen(e->reasons, sizeof e->reasons),
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 4, e->rules_version);
        sqlite3_bind_text(st, 5, e->json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, e->event);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) r = sq_fail(q, rc, "rewriting enrichment");
    }
    sqlite3_finalize(st);
    if (r == 0) r = sq_commit(q);
    if (r < 0) sq_rollback(q);
    return r;
}

int sq_readers_list(struct homing_store *s, uint64_t message, struct homing_store_reader **out,
                    size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(q,
                                "SELECT message, fingerprint, recipient, first_us, last_us, "
                                "client, device, country, opens, first_event, forward "
                                "FROM readers WHERE message = ?1 ORDER BY first_us, "
                                "first_event",
                                "I", message);
    if (!st) return -EIO;
    struct homing_store_reader *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_store_reader *w = &arr[used++];
        w->message = (uint64_t)sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, w->fingerprint, sizeof w->fingerprint);
        w->recipient = (uint32_t)sqlite3_column_int64(st, 2);
        w->first_us = sqlite3_column_int64(st, 3);
        w->last_us = sqlite3_column_int64(st, 4);
        sq_col_copy(st, 5, w->client, sizeof w->client);
        sq_col_copy(st, 6, w->device, sizeof w->device);
        sq_col_copy(st, 7, w->country, sizeof w->country);
        w->opens = sqlite3_column_int64(st, 8);
        w->first_event = sqlite3_column_int64(st, 9);
        w->forward = sqlite3_column_int(st, 10);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing readers");
    sqlite3_finalize(st);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int sq_reader_lookup(struct homing_store *s, uint64_t message, uint32_t recipient,
                     const char *fingerprint, int *known, int64_t *others)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        sq_query_cached(q, ST_READER_LOOKUP, "IIt", message, (int64_t)recipient, fingerprint);
    if (!st) return -EIO;
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        *known = sqlite3_column_int64(st, 0) > 0;
        *others = sqlite3_column_int64(st, 1);
    } else {
        r = sq_fail(q, rc, "looking up reader");
    }
    sqlite3_reset(st);
    return r;
}

int sq_events_stamp(struct homing_store *s, uint64_t message, int64_t upto,
                    struct homing_events_stamp *out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        sq_query_cached(q, ST_EVENTS_STAMP, "IIt", message, upto, STORE_TRUNCATE_CURSOR);
    if (!st) return -EIO;
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        out->count = sqlite3_column_int64(st, 0);
        out->truncated = sqlite3_column_int64(st, 1);
    } else {
        r = sq_fail(q, rc, "stamping events");
    }
    sqlite3_reset(st);
    return r;
}

int sq_enrichment_flags(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                        struct homing_store_enrichment_flags **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query_cached(q, ST_ENRICHMENT_FLAGS, "III", after, upto, (int64_t)limit);
    if (!st) return -EIO;
    struct homing_store_enrichment_flags *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_store_enrichment_flags *f = &arr[used++];
        f->event = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, f->verdict, sizeof f->verdict);
        f->new_reader = sqlite3_column_int(st, 2);
        f->forward = sqlite3_column_int(st, 3);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing enrichment flags");
    sqlite3_reset(st);
    if (r < 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}
