/*
 * sqlite_messages.c: the SQLite backend's messages, their recipients and links, link lookups and
 * delivery states (migration 0001).
 *
 * Contract: homing/store.h for each operation; the helpers of sqlite_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

static const char *mode_name(int mode)
{
    return mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient";
}

static int mode_parse(const char *s)
{
    return s && strcmp(s, "per-message") == 0 ? HOMING_MODE_PER_MESSAGE : HOMING_MODE_PER_RECIPIENT;
}

/* ---- messages ---- */

int sq_message_add(struct homing_store *s, const struct homing_message_spec *m, uint64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    int64_t now = homing_now_us();
    int r = sq_begin(q, 1);
    if (r < 0) return r;
    sqlite3_stmt *st = sq_stmt(q, ST_MESSAGE_INSERT);
    if (!st) goto fail_io;
    uint64_t id = 0;
    int rc = SQLITE_CONSTRAINT_PRIMARYKEY;
    for (int attempt = 0; attempt < SQ_ID_ATTEMPTS && rc == SQLITE_CONSTRAINT_PRIMARYKEY;
         attempt++) {
        id = homing_id_random();
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sq_bind_opt(st, 2, m->message_id, 0);
        sq_bind_opt(st, 3, m->subject, 0);
        sq_bind_opt(st, 4, m->sender, 0);
        sqlite3_bind_text(st, 5, mode_name(m->mode), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, now);
        sq_bind_opt(st, 7, m->campaign, 0);
        sqlite3_bind_text(st, 8, homing_tracking_name(m->tracking), -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        r = sq_fail(q, rc, "adding message");
        if (r == -EEXIST) r = -EIO;
        goto fail;
    }

    if (m->n_recipients && !(st = sq_stmt(q, ST_RECIPIENT_INSERT))) goto fail_io;
    for (size_t i = 0; i < m->n_recipients; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(i + 1));
        sqlite3_bind_text(st, 3, m->recipients[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            r = sq_fail(q, rc, "adding recipient");
            goto fail;
        }
    }
    if (m->n_links && !(st = sq_stmt(q, ST_LINK_INSERT))) goto fail_io;
    for (size_t i = 0; i < m->n_links; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(i + 1));
        sqlite3_bind_text(st, 3, m->links[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            r = sq_fail(q, rc, "adding link");
            goto fail;
        }
    }
    if ((r = sq_commit(q)) < 0) goto fail;
    *id_out = id;
    return 0;
fail_io:
    r = -EIO;
fail:
    sq_rollback(q);
    return r;
}

/* Reads the message columns of ST_MESSAGE_GET / ST_MESSAGE_LIST (and the
 * stats queries, sqlite_stats.c) into m. */
int sqlite_read_message_row(sqlite3_stmt *st, struct homing_message *m)
{
    m->id = (uint64_t)sqlite3_column_int64(st, 0);
    int r;
    if ((r = sq_col_dup(st, 1, &m->message_id)) < 0 || (r = sq_col_dup(st, 2, &m->subject)) < 0 ||
        (r = sq_col_dup(st, 3, &m->sender)) < 0 || (r = sq_col_dup(st, 6, &m->campaign)) < 0)
        return r;
    m->mode = mode_parse((const char *)sqlite3_column_text(st, 4));
    m->created_us = sqlite3_column_int64(st, 5);
    return 0;
}

static int read_recipients(struct sq *q, struct homing_message *m)
{
    sqlite3_stmt *st = sq_query_cached(q, ST_RECIPIENTS_GET, "I", m->id);
    if (!st) return -EIO;
    size_t cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&m->recipients, &cap, m->n_recipients, sizeof *m->recipients)) <
            0)
            break;
        struct homing_recipient *rc_ = &m->recipients[m->n_recipients++];
        rc_->index = (uint32_t)sqlite3_column_int64(st, 0);
        rc_->state_us = sqlite3_column_int64(st, 3);
        if ((r = sq_col_dup(st, 1, &rc_->address)) < 0 || (r = sq_col_dup(st, 2, &rc_->state)) < 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading recipients");
    sqlite3_reset(st);
    return r;
}

static int read_links(struct sq *q, struct homing_message *m)
{
    sqlite3_stmt *st = sq_query_cached(q, ST_LINKS_GET, "I", m->id);
    if (!st) return -EIO;
    size_t cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&m->links, &cap, m->n_links, sizeof *m->links)) < 0) break;
        struct homing_link *l = &m->links[m->n_links++];
        l->index = (uint32_t)sqlite3_column_int64(st, 0);
        if ((r = sq_col_dup(st, 1, &l->url)) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "reading links");
    sqlite3_reset(st);
    return r;
}

int sq_message_get(struct homing_store *s, uint64_t id, struct homing_message **out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_MESSAGE_GET);
    if (!st) return -EIO;
    struct homing_message *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    /* One read transaction: the three queries see the same snapshot. */
    int r = sq_begin(q, 0);
    if (r < 0) goto fail;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = sqlite_read_message_row(st, m);
    else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading message");
    sqlite3_reset(st);
    if (r == 0) r = read_recipients(q, m);
    if (r == 0) r = read_links(q, m);
    if (r == 0) r = sq_commit(q);
    if (r < 0) goto fail;
    *out = m;
    return 0;
fail:
    sq_rollback(q);
    homing_message_free(m);
    return r;
}

int sq_message_find(struct homing_store *s, const char *bare_id, size_t len, uint64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_stmt(q, ST_MESSAGE_FIND);
    if (!st) return -EIO;
    sqlite3_bind_text(st, 1, bare_id, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    uint64_t id = 0;
    if (rc == SQLITE_ROW) {
        id = (uint64_t)sqlite3_column_int64(st, 0);
        /* a second message with the same Message-ID: which one is meant
         * cannot be told, and guessing the newest misattributed reports */
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW    ? -ENOTUNIQ
            : rc == SQLITE_DONE ? 0
                                : sq_fail(q, rc, "finding message");
    } else {
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "finding message");
    }
    sqlite3_reset(st);
    if (r == 0) *id_out = id;
    return r;
}

int sq_message_list(struct homing_store *s, size_t limit, struct homing_message **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query_cached(q, ST_MESSAGE_LIST, "I", (int64_t)limit);
    if (!st) return -EIO;
    struct homing_message *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        if ((r = sqlite_read_message_row(st, &arr[used++])) < 0) break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing messages");
    sqlite3_reset(st);
    if (r < 0) {
        homing_messages_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int sq_link_url(struct homing_store *s, uint64_t message, uint32_t index, char **url_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query_cached(q, ST_LINK_URL, "II", message, (int64_t)index);
    if (!st) return -EIO;
    int rc = sqlite3_step(st), r;
    char *url = NULL;
    if (rc == SQLITE_ROW)
        r = sq_col_dup(st, 0, &url);
    else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading link");
    sqlite3_reset(st);
    if (r == 0 && !url) r = -ENOENT;
    if (r < 0) return r;
    *url_out = url;
    return 0;
}

int sq_recipient_set_state(struct homing_store *s, uint64_t message, uint32_t index,
                           const char *state, int64_t at_us)
{
    struct sq *q = (struct sq *)s;
    int r = sq_exec_cached(q, ST_SET_STATE, "setting recipient state", "tIII", state, at_us,
                           message, (int64_t)index);
    if (r < 0) return r;
    return sqlite3_changes(q->db) ? 0 : -ENOENT;
}
