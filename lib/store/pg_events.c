/*
 * pg_events.c: the PostgreSQL backend's append-only event log: the
 * group-commit append (with the journal's cursor in the same transaction),
 * listing, counting, the per-recipient report, named cursors.
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h. An
 * append is one transaction: homing_events_partitions (migration 0001) takes
 * the store's append lock and creates the monthly partitions the batch's
 * times need, then PG_EVENT_ROWS events per execution of a prepared
 * multi-row INSERT while enough are left, then one at a time, each RETURNING
 * the ids. Under the lock the sequence hands out increasing ids that commit
 * in order, so a consumer paging with id > cursor never skips one.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

/* The length of the first byte of s[0..n) that does not start a valid UTF-8
 * sequence, n when all are valid. */
static size_t utf8_bad(const char *s, size_t n)
{
    uint32_t cp;
    size_t i = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = homing_utf8_decode(s + i, n - i, &cp);
        if (!l) return i;
        i += l;
    }
    return n;
}

/* Replaces each byte of field (cap bytes) that does not start a valid UTF-8
 * sequence by '?': same length, so it still fits when read back. */
static void utf8_fix(char *field, size_t cap)
{
    size_t n = strnlen(field, cap), i = 0;
    uint32_t cp;
    while (i < n) {
        size_t l = (unsigned char)field[i] < 0x80 ? 1 : homing_utf8_decode(field + i, n - i, &cp);
        if (!l) {
            field[i] = '?';
            l = 1;
        }
        i += l;
    }
}

#define FIELD_OK(e, f)                                                                             \
    (utf8_bad((e)->f, strnlen((e)->f, sizeof(e)->f)) == strnlen((e)->f, sizeof(e)->f))

/* e, or (rarely) its copy in *fixed with the header fields that came from
 * the network made UTF-8: a UTF-8 database refuses other bytes, and the
 * refusal would fail the whole batch. SQLite stores them as they are. */
static const struct homing_event *utf8_event(const struct homing_event *e,
                                             struct homing_event *fixed)
{
    if (FIELD_OK(e, user_agent) && FIELD_OK(e, accept_language) && FIELD_OK(e, via) &&
        FIELD_OK(e, from) && FIELD_OK(e, client))
        return e;
    memcpy(fixed, e, sizeof *fixed);
    utf8_fix(fixed->client, sizeof fixed->client);
    utf8_fix(fixed->user_agent, sizeof fixed->user_agent);
    utf8_fix(fixed->accept_language, sizeof fixed->accept_language);
    utf8_fix(fixed->via, sizeof fixed->via);
    utf8_fix(fixed->from, sizeof fixed->from);
    return fixed;
}

static void arg_event(struct pg_args *a, const struct homing_event *e)
{
    pg_arg_int(a, e->time_us);
    pg_arg_text(a, homing_event_kind_name(e->kind), -1);
    if (e->method == HOMING_METHOD_GET || e->method == HOMING_METHOD_HEAD)
        pg_arg_text(a, homing_http_method_name(e->method), -1);
    else
        pg_arg_text(a, NULL, 0);
    pg_arg_int(a, (int64_t)e->message);
    pg_arg_int(a, e->recipient);
    pg_arg_int(a, e->item);
    pg_arg_opt(a, e->client, sizeof e->client);
    pg_arg_opt(a, e->user_agent, sizeof e->user_agent);
    pg_arg_opt(a, e->accept_language, sizeof e->accept_language);
    pg_arg_opt(a, e->via, sizeof e->via);
    pg_arg_opt(a, e->from, sizeof e->from);
    pg_arg_opt(a, e->detail, 0);
}

/* One time of each month (UTC) the batch's events fall in, as an array
 * literal for homing_events_partitions: almost always one. A month is
 * remembered among the last PG_MONTHS_SEEN seen; a batch of more months than
 * that may list one twice, which the function's DISTINCT absorbs. */
#define PG_MONTHS_SEEN     16
#define PG_MONTHS_TEXT_MAX (1024 * 1024) /* 22 bytes per event of the largest batch */

static int64_t month_of(int64_t time_us)
{
    time_t t = (time_t)(time_us / 1000000 - (time_us % 1000000 < 0));
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return INT64_MIN;
    return (int64_t)tm.tm_year * 12 + tm.tm_mon;
}

static int months_of(const struct homing_event *evs, size_t n, struct homing_buf *out)
{
    int64_t seen[PG_MONTHS_SEEN];
    size_t k = 0, next = 0;
    int r = homing_buf_puts(out, "{");
    for (size_t i = 0; r == 0 && i < n; i++) {
        int64_t m = month_of(evs[i].time_us);
        size_t j = 0;
        while (j < k && seen[j] != m) j++;
        if (j < k) continue;
        r = homing_buf_printf(out, "%s%lld", out->len > 1 ? "," : "", (long long)evs[i].time_us);
        seen[next] = m;
        next = (next + 1) % PG_MONTHS_SEEN;
        if (k < PG_MONTHS_SEEN) k++;
    }
    if (r == 0) r = homing_buf_append(out, "}", 2); /* with its NUL: a C string */
    return r;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int flood_add(struct pg *p, const struct homing_flood_count *f)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_opt(&a, f->client, sizeof f->client);
    pg_arg_int(&a, (int64_t)f->message);
    pg_arg_int(&a, f->recipient);
    pg_arg_int(&a, f->item);
    pg_arg_text(&a, homing_event_kind_name(f->kind), -1);
    pg_arg_int(&a, (int64_t)f->dropped);
    pg_arg_int(&a, f->first_us);
    pg_arg_int(&a, f->last_us);
    return pg_do(p, PG_FLOOD_ADD, &a, "adding a flood count", NULL);
}

/* The one append transaction: once_key (an ingested record's key, claimed
 * first), the events, the flood counts, the cursor. */
static int append_all(struct pg *p, const char *once_key, struct homing_event *evs, size_t n,
                      const struct homing_flood_count *floods, size_t nf, const char *cursor,
                      int64_t position)
{
    struct homing_store *s = &p->base;
    if (n == 0 && nf == 0 && !cursor && !once_key) return 0;
    int r = pg_begin(p);
    if (r < 0) return r;
    struct pg_args *a = &p->args;
    size_t done = 0;
    if (once_key && (r = pg_ingest_claim(p, once_key)) < 0) goto fail;
    if (n) {
        struct homing_buf months;
        homing_buf_init(&months, PG_MONTHS_TEXT_MAX);
        if ((r = months_of(evs, n, &months)) == 0) {
            pg_args_reset(a);
            pg_arg_literal(a, (const char *)months.data);
            r = pg_do(p, PG_PARTITIONS, a, "making the events' partitions", NULL);
        }
        homing_buf_free(&months);
        if (r < 0) goto fail;
    }
    while (done < n) {
        size_t k = n - done >= PG_EVENT_ROWS ? PG_EVENT_ROWS : 1;
        pg_args_reset(a);
        for (size_t i = 0; i < k; i++) arg_event(a, utf8_event(&evs[done + i], &p->fixed[i]));
        PGresult *res;
        if ((r = pg_run(p, k > 1 ? PG_EVENT_INSERT_MANY : PG_EVENT_INSERT, a, "appending event",
                        &res)) < 0) {
            if (r == -EEXIST) r = -EINVAL;
            goto fail;
        }
        if ((size_t)PQntuples(res) != k) {
            PQclear(res);
            store_set_error(s, "appending event: %d ids for %zu rows", PQntuples(res), k);
            r = -EIO;
            goto fail;
        }
        /* The ids in the order of the rows: increasing, handed out under the
         * lock in VALUES order; sorted so RETURNING's order does not matter. */
        int64_t ids[PG_EVENT_ROWS];
        for (size_t i = 0; i < k; i++) ids[i] = pg_int(res, (int)i, 0);
        PQclear(res);
        qsort(ids, k, sizeof ids[0], cmp_i64);
        for (size_t i = 0; i < k; i++) evs[done + i].id = ids[i];
        done += k;
    }
    for (size_t i = 0; i < nf; i++)
        if ((r = flood_add(p, &floods[i])) < 0) goto fail;
    if (cursor && (r = pg_cursor_set(s, cursor, position)) < 0) goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    return 0;
fail:
    pg_rollback(p);
    /* Nothing was stored: take back the ids handed out so far. */
    for (size_t i = 0; i < done; i++) evs[i].id = 0;
    return r;
}

int pg_events_append(struct homing_store *s, struct homing_event *evs, size_t n, const char *cursor,
                     int64_t position)
{
    return append_all((struct pg *)s, NULL, evs, n, NULL, 0, cursor, position);
}

int pg_events_append_floods(struct homing_store *s, struct homing_event *evs, size_t n,
                            const struct homing_flood_count *floods, size_t nf, const char *cursor,
                            int64_t position)
{
    return append_all((struct pg *)s, NULL, evs, n, floods, nf, cursor, position);
}

int pg_events_append_once(struct homing_store *s, const char *key, struct homing_event *evs,
                          size_t n)
{
    return append_all((struct pg *)s, key, evs, n, NULL, 0, NULL, 0);
}

/* Not per hit: a pending flood is closed a few seconds after it ends. The
 * partitions for the closed floods' times first (that also takes the append
 * lock, so the new events' ids stay in commit order). */
int pg_floods_close(struct homing_store *s, int64_t before_us, size_t *closed, size_t *left)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin(p);
    if (r < 0) return r;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT homing_events_partitions(coalesce(array_agg(last_us), '{}')) "
             "FROM flood_pending WHERE last_us < %lld",
             (long long)before_us);
    if ((r = pg_cmd(p, sql, "making the events' partitions")) < 0) goto fail;
    snprintf(sql, sizeof sql,
             "INSERT INTO events (time_us, kind, method, message, recipient, item, client, "
             "detail) SELECT last_us, 'suppressed', NULL, message, recipient, item, client, "
             "'{\"dropped\":' || dropped || ',\"of\":\"' || kind || '\"}' "
             "FROM flood_pending WHERE last_us < %lld ORDER BY first_us",
             (long long)before_us);
    PGresult *res = PQexec(p->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        r = pg_fail(p, res, "closing floods");
        PQclear(res);
        goto fail;
    }
    size_t c = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    snprintf(sql, sizeof sql, "DELETE FROM flood_pending WHERE last_us < %lld",
             (long long)before_us);
    if ((r = pg_cmd(p, sql, "closing floods")) < 0) goto fail;
    res = PQexec(p->conn, "SELECT count(*) FROM flood_pending");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        r = pg_fail(p, res, "counting floods");
        PQclear(res);
        goto fail;
    }
    size_t l = (size_t)pg_int(res, 0, 0);
    PQclear(res);
    if ((r = pg_commit(p)) < 0) goto fail;
    if (closed) *closed = c;
    if (left) *left = l;
    return 0;
fail:
    pg_rollback(p);
    return r;
}

static void read_event_row(const PGresult *res, int i, struct homing_event *e)
{
    e->id = pg_int(res, i, 0);
    e->time_us = pg_int(res, i, 1);
    e->kind = (uint16_t)homing_event_kind_parse(PQgetvalue(res, i, 2));
    const char *method = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
    e->method = !method                       ? HOMING_METHOD_OTHER
                : strcmp(method, "GET") == 0  ? HOMING_METHOD_GET
                : strcmp(method, "HEAD") == 0 ? HOMING_METHOD_HEAD
                                              : HOMING_METHOD_OTHER;
    e->message = (uint64_t)pg_int(res, i, 4);
    e->recipient = (uint32_t)pg_int(res, i, 5);
    e->item = (uint32_t)pg_int(res, i, 6);
    pg_copy(res, i, 7, e->client, sizeof e->client);
    pg_copy(res, i, 8, e->user_agent, sizeof e->user_agent);
    pg_copy(res, i, 9, e->accept_language, sizeof e->accept_language);
    pg_copy(res, i, 10, e->via, sizeof e->via);
    pg_copy(res, i, 11, e->from, sizeof e->from);
}

/* The events of statement st (EVENT_COLUMNS) with parameters a. */
static int list_of(struct pg *p, enum pg_st st, const struct pg_args *a, const char *what,
                   struct homing_event **out, size_t *n)
{
    PGresult *res;
    int r = pg_run(p, st, a, what, &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_event *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) {
        read_event_row(res, (int)used, &arr[used]);
        r = pg_dup(res, (int)used, 12, &arr[used].detail);
    }
    PQclear(res);
    if (r < 0) {
        homing_events_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_events_list(struct homing_store *s, uint64_t message, int64_t after, size_t limit,
                   struct homing_event **out, size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    if (message) pg_arg_int(&a, (int64_t)message);
    pg_arg_int(&a, after);
    pg_arg_int(&a, (int64_t)limit);
    return list_of((struct pg *)s, message ? PG_EVENTS_LIST_MESSAGE : PG_EVENTS_LIST_ALL, &a,
                   "listing events", out, n);
}

int pg_recipient_events(struct homing_store *s, uint64_t message, uint32_t recipient, int64_t after,
                        size_t limit, struct homing_event **out, size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)message);
    pg_arg_int(&a, recipient);
    pg_arg_int(&a, after);
    pg_arg_int(&a, (int64_t)limit);
    return list_of((struct pg *)s, PG_RECIPIENT_EVENTS, &a, "listing a recipient's events", out, n);
}

int pg_events_stamp(struct homing_store *s, uint64_t message, int64_t upto,
                    struct homing_events_stamp *out)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)message);
    pg_arg_int(&a, upto);
    pg_arg_text(&a, STORE_TRUNCATE_CURSOR, -1);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_EVENTS_STAMP, &a, "stamping events", &res);
    if (r < 0) return r;
    out->count = pg_int(res, 0, 0);
    out->truncated = pg_int(res, 0, 1);
    PQclear(res);
    return 0;
}

int pg_events_count(struct homing_store *s, uint64_t message, int64_t *n)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    if (message) pg_arg_int(&a, (int64_t)message);
    PGresult *res;
    int r = pg_run(p, message ? PG_EVENTS_COUNT_MESSAGE : PG_EVENTS_COUNT_ALL, &a,
                   "counting events", &res);
    if (r < 0) return r;
    *n = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

int pg_report(struct homing_store *s, uint64_t message, struct homing_report_row **rows, size_t *n)
{
    struct pg *p = (struct pg *)s;
    int r = pg_begin_read(p);
    if (r < 0) return r;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)message);
    PGresult *res;
    if ((r = pg_run(p, PG_MESSAGE_EXISTS, &a, "reading message", &res)) < 0) goto fail;
    int found = PQntuples(res);
    PQclear(res);
    if (!found) {
        r = -ENOENT;
        goto fail;
    }
    if ((r = pg_run(p, PG_REPORT, &a, "reporting", &res)) < 0) goto fail;
    size_t nrows = (size_t)PQntuples(res), used = 0;
    struct homing_report_row *arr = nrows ? calloc(nrows, sizeof *arr) : NULL;
    if (nrows && !arr) r = -ENOMEM;
    for (; r == 0 && used < nrows; used++) {
        struct homing_report_row *w = &arr[used];
        int i = (int)used;
        w->recipient = (uint32_t)pg_int(res, i, 0);
        if ((r = pg_dup(res, i, 1, &w->address)) < 0 || (r = pg_dup(res, i, 2, &w->state)) < 0)
            break;
        if (!w->state && !(w->state = strdup(""))) {
            r = -ENOMEM;
            break;
        }
        /* NULL aggregates (no events) read as 0. */
        w->state_us = pg_int(res, i, 3);
        w->opens = pg_int(res, i, 4);
        w->first_open_us = pg_int(res, i, 5);
        w->last_open_us = pg_int(res, i, 6);
        w->probes = pg_int(res, i, 7);
        w->clicks = pg_int(res, i, 8);
        w->first_click_us = pg_int(res, i, 9);
        w->last_click_us = pg_int(res, i, 10);
    }
    if (r < 0 && arr && used < nrows) used++; /* the row being read when it failed */
    PQclear(res);
    if (r == 0) r = pg_commit(p);
    if (r < 0) {
        pg_rollback(p);
        homing_report_free(arr, used);
        return r;
    }
    *rows = arr;
    *n = used;
    return 0;
fail:
    pg_rollback(p);
    return r;
}

int pg_cursor_get(struct homing_store *s, const char *name, int64_t *event)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    PGresult *res;
    int r = pg_run(p, PG_CURSOR_GET, &a, "reading cursor", &res);
    if (r < 0) return r;
    if (PQntuples(res))
        *event = pg_int(res, 0, 0);
    else
        r = -ENOENT;
    PQclear(res);
    return r;
}

int pg_cursor_set(struct homing_store *s, const char *name, int64_t event)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    pg_arg_int(&a, event);
    return pg_do(p, PG_CURSOR_SET, &a, "setting cursor", NULL);
}
