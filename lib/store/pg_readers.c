/*
 * pg_readers.c: the PostgreSQL backend's enrichments and readers (migration
 * 0004): the enrichment thread's batch with its cursor and campaign
 * counters (0008), listing, rewriting
 * (homing reclassify), the readers of a message, the forward question, and
 * the notifier's flags.
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h.
 * The statements of the per-hit threads are prepared once per connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

static int reader_upsert(struct pg *p, const struct homing_store_enrichment *e, int64_t last_us,
                         int64_t opens)
{
    char client[2 * HOMING_STORE_FACT_MAX + 2];
    snprintf(client, sizeof client, "%.*s%s%.*s",
             (int)strnlen(e->client_family, sizeof e->client_family), e->client_family,
             e->client_version[0] ? " " : "",
             (int)strnlen(e->client_version, sizeof e->client_version), e->client_version);
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)e->message);
    pg_arg_text(&a, e->reader, (int)strnlen(e->reader, sizeof e->reader));
    pg_arg_int(&a, e->recipient);
    pg_arg_int(&a, e->time_us);
    pg_arg_opt(&a, client, 0);
    pg_arg_opt(&a, e->device, sizeof e->device);
    pg_arg_opt(&a, e->country, sizeof e->country);
    pg_arg_int(&a, opens);
    pg_arg_int(&a, e->event);
    pg_arg_int(&a, e->forward ? 1 : 0);
    pg_arg_int(&a, last_us);
    return pg_do(p, PG_READER_UPSERT, &a, "storing reader", NULL);
}

static int enrich_insert(struct pg *p, const struct homing_store_enrichment *e)
{
    const char *kind = homing_event_kind_name(e->kind);
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, e->event);
    pg_arg_int(&a, (int64_t)e->message);
    pg_arg_int(&a, e->recipient);
    pg_arg_text(&a, kind ? kind : "none", -1);
    pg_arg_int(&a, e->item);
    pg_arg_int(&a, e->time_us);
    pg_arg_text(&a, e->verdict, (int)strnlen(e->verdict, sizeof e->verdict));
    pg_arg_int(&a, e->confidence);
    pg_arg_text(&a, e->reasons, (int)strnlen(e->reasons, sizeof e->reasons));
    pg_arg_int(&a, e->rules_version);
    pg_arg_opt(&a, e->client_family, sizeof e->client_family);
    pg_arg_opt(&a, e->client_version, sizeof e->client_version);
    pg_arg_opt(&a, e->os, sizeof e->os);
    pg_arg_opt(&a, e->device, sizeof e->device);
    pg_arg_opt(&a, e->country, sizeof e->country);
    pg_arg_int(&a, e->asn);
    pg_arg_opt(&a, e->as_org, sizeof e->as_org);
    pg_arg_opt(&a, e->machine, sizeof e->machine);
    pg_arg_opt(&a, e->reader, sizeof e->reader);
    pg_arg_int(&a, e->new_reader ? 1 : 0);
    pg_arg_int(&a, e->forward ? 1 : 0);
    pg_arg_text(&a, e->json, -1);
    return pg_do(p, PG_ENRICH_INSERT, &a, "storing enrichment", NULL);
}

/* A batch's counters (store.c's stats_of), in the batch's transaction: one
 * upsert per recipient, clicked link and hour (migration 0008). */
static int stats_put(struct pg *p, const struct store_stats_put *st)
{
    int r = 0;
    struct pg_args a;
    for (size_t i = 0; r == 0 && i < st->nrecipients; i++) {
        const struct store_recipient_add *x = &st->recipients[i];
        pg_args_reset(&a);
        pg_arg_int(&a, (int64_t)x->message);
        pg_arg_int(&a, x->recipient);
        for (int c = 0; c < STORE_CLASSES; c++) pg_arg_int(&a, x->opens[c]);
        for (int c = 0; c < STORE_CLASSES; c++) pg_arg_int(&a, x->clicks[c]);
        for (int c = 0; c < STORE_CLASSES; c++) pg_arg_int(&a, x->docs[c]);
        if (x->has_open)
            pg_arg_int(&a, x->first_human_open_us);
        else
            pg_arg_text(&a, NULL, 0);
        if (x->has_click)
            pg_arg_int(&a, x->first_human_click_us);
        else
            pg_arg_text(&a, NULL, 0);
        r = pg_do(p, PG_STATS_RECIPIENT_ADD, &a, "storing recipient counters", NULL);
    }
    for (size_t i = 0; r == 0 && i < st->nlinks; i++) {
        const struct store_link_add *x = &st->links[i];
        pg_args_reset(&a);
        pg_arg_int(&a, (int64_t)x->message);
        pg_arg_int(&a, x->link);
        pg_arg_int(&a, x->recipient);
        for (int c = 0; c < STORE_CLASSES; c++) pg_arg_int(&a, x->clicks[c]);
        r = pg_do(p, PG_STATS_LINK_ADD, &a, "storing link counters", NULL);
    }
    for (size_t i = 0; r == 0 && i < st->nhours; i++) {
        const struct store_hour_add *x = &st->hours[i];
        const char *kind = homing_event_kind_name(x->kind);
        pg_args_reset(&a);
        pg_arg_int(&a, (int64_t)x->message);
        pg_arg_int(&a, x->hour);
        pg_arg_text(&a, kind ? kind : "none", -1);
        pg_arg_text(&a, store_class_names[x->cls], -1);
        pg_arg_int(&a, x->count);
        r = pg_do(p, PG_STATS_HOUR_ADD, &a, "storing hourly counters", NULL);
    }
    return r;
}

int pg_enrichments_put(struct homing_store *s, const struct homing_store_enrichment *rows, size_t n,
                       const struct store_reader_put *readers, size_t nr,
                       const struct store_stats_put *stats, int64_t cursor)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    for (size_t i = 0; r == 0 && i < n; i++) r = enrich_insert(p, &rows[i]);
    for (size_t i = 0; r == 0 && i < nr; i++)
        r = reader_upsert(p, readers[i].first, readers[i].last_us, readers[i].opens);
    if (r == 0 && stats) r = stats_put(p, stats);
    if (r == 0) {
        struct pg_args a;
        pg_args_reset(&a);
        pg_arg_text(&a, HOMING_ENRICH_CURSOR, -1);
        pg_arg_int(&a, cursor);
        r = pg_do(p, PG_ENRICH_CURSOR, &a, "moving the enrichment cursor", NULL);
    }
    if (r == 0) r = pg_commit(p);
    if (r < 0) pg_rollback(p);
    return r;
}

static int read_enrichment(const PGresult *res, int i, struct homing_store_enrichment *e)
{
    e->event = pg_int(res, i, 0);
    e->message = (uint64_t)pg_int(res, i, 1);
    e->recipient = (uint32_t)pg_int(res, i, 2);
    e->kind = (uint16_t)homing_event_kind_parse(PQgetvalue(res, i, 3));
    e->item = (uint32_t)pg_int(res, i, 4);
    e->time_us = pg_int(res, i, 5);
    pg_copy(res, i, 6, e->verdict, sizeof e->verdict);
    e->confidence = (int)pg_int(res, i, 7);
    pg_copy(res, i, 8, e->reasons, sizeof e->reasons);
    e->rules_version = (int)pg_int(res, i, 9);
    pg_copy(res, i, 10, e->client_family, sizeof e->client_family);
    pg_copy(res, i, 11, e->client_version, sizeof e->client_version);
    pg_copy(res, i, 12, e->os, sizeof e->os);
    pg_copy(res, i, 13, e->device, sizeof e->device);
    pg_copy(res, i, 14, e->country, sizeof e->country);
    e->asn = (uint32_t)pg_int(res, i, 15);
    pg_copy(res, i, 16, e->as_org, sizeof e->as_org);
    pg_copy(res, i, 17, e->machine, sizeof e->machine);
    pg_copy(res, i, 18, e->reader, sizeof e->reader);
    e->new_reader = (int)pg_int(res, i, 19);
    e->forward = (int)pg_int(res, i, 20);
    return pg_dup(res, i, 21, &e->json);
}

int pg_enrichments_list(struct homing_store *s, uint64_t message, int64_t only_event, int64_t after,
                        size_t limit, struct homing_store_enrichment **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    enum pg_st st;
    if (only_event) {
        st = PG_ENRICHMENT_GET;
        pg_arg_int(&a, only_event);
    } else {
        st = message ? PG_ENRICHMENTS_MESSAGE : PG_ENRICHMENTS_ALL;
        if (message) pg_arg_int(&a, (int64_t)message);
        pg_arg_int(&a, after);
        pg_arg_int(&a, (int64_t)limit);
    }
    PGresult *res;
    int r = pg_run(p, st, &a, "listing enrichments", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_store_enrichment *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) r = read_enrichment(res, (int)used, &arr[used]);
    PQclear(res);
    if (r < 0) {
        homing_store_enrichments_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_enrichments_rewrite(struct homing_store *s, const struct homing_store_enrichment *rows,
                           size_t n)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct homing_store_enrichment *e = &rows[i];
        struct pg_args a;
        pg_args_reset(&a);
        pg_arg_text(&a, e->verdict, (int)strnlen(e->verdict, sizeof e->verdict));
        pg_arg_int(&a, e->confidence);
        pg_arg_text(&a, e->reasons, (int)strnlen(e->reasons, sizeof e->reasons));
        pg_arg_int(&a, e->rules_version);
        pg_arg_text(&a, e->json, -1);
        pg_arg_int(&a, e->event);
        r = pg_do(p, PG_ENRICH_REWRITE, &a, "rewriting enrichment", NULL);
    }
    if (r == 0) r = pg_commit(p);
    if (r < 0) pg_rollback(p);
    return r;
}

int pg_readers_list(struct homing_store *s, uint64_t message, struct homing_store_reader **out,
                    size_t *n)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)message);
    PGresult *res;
    int r = pg_run(p, PG_READERS_LIST, &a, "listing readers", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res);
    struct homing_store_reader *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) {
        PQclear(res);
        return -ENOMEM;
    }
    for (size_t k = 0; k < rows; k++) {
        struct homing_store_reader *w = &arr[k];
        int i = (int)k;
        w->message = (uint64_t)pg_int(res, i, 0);
        pg_copy(res, i, 1, w->fingerprint, sizeof w->fingerprint);
        w->recipient = (uint32_t)pg_int(res, i, 2);
        w->first_us = pg_int(res, i, 3);
        w->last_us = pg_int(res, i, 4);
        pg_copy(res, i, 5, w->client, sizeof w->client);
        pg_copy(res, i, 6, w->device, sizeof w->device);
        pg_copy(res, i, 7, w->country, sizeof w->country);
        w->opens = pg_int(res, i, 8);
        w->first_event = pg_int(res, i, 9);
        w->forward = (int)pg_int(res, i, 10);
    }
    PQclear(res);
    *out = arr;
    *n = rows;
    return 0;
}

int pg_reader_lookup(struct homing_store *s, uint64_t message, uint32_t recipient,
                     const char *fingerprint, int *known, int64_t *others)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)message);
    pg_arg_int(&a, recipient);
    pg_arg_text(&a, fingerprint, -1);
    PGresult *res;
    int r = pg_run(p, PG_READER_LOOKUP, &a, "looking up reader", &res);
    if (r < 0) return r;
    *known = pg_int(res, 0, 0) > 0;
    *others = pg_int(res, 0, 1);
    PQclear(res);
    return 0;
}

int pg_enrichment_flags(struct homing_store *s, int64_t after, int64_t upto, size_t limit,
                        struct homing_store_enrichment_flags **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, after);
    pg_arg_int(&a, upto);
    pg_arg_int(&a, (int64_t)limit);
    PGresult *res;
    int r = pg_run(p, PG_ENRICHMENT_FLAGS, &a, "listing enrichment flags", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res);
    struct homing_store_enrichment_flags *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) {
        PQclear(res);
        return -ENOMEM;
    }
    for (size_t k = 0; k < rows; k++) {
        arr[k].event = pg_int(res, (int)k, 0);
        pg_copy(res, (int)k, 1, arr[k].verdict, sizeof arr[k].verdict);
        arr[k].new_reader = (int)pg_int(res, (int)k, 2);
        arr[k].forward = (int)pg_int(res, (int)k, 3);
    }
    PQclear(res);
    *out = arr;
    *n = rows;
    return 0;
}
