/*
 * pg_messages.c: the PostgreSQL backend's messages, their recipients and
 * links, link lookups and delivery states.
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h. A
 * message with its recipients and links is one transaction of three
 * statements (recipients and links each go in as one array parameter, not a
 * round trip per row).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

#define PG_ARRAY_BYTES_MAX (64u * 1024 * 1024) /* the array literal of a message's rows */

static const char *mode_name(int mode)
{
    return mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient";
}

static int mode_parse(const char *s)
{
    return s && strcmp(s, "per-message") == 0 ? HOMING_MODE_PER_MESSAGE : HOMING_MODE_PER_RECIPIENT;
}

/* Inserts the rows of one array statement (recipients or links) of message id. */
static int insert_array(struct pg *p, enum pg_st st, uint64_t id, const char *const *v, size_t n,
                        int64_t now, const char *what)
{
    if (!n) return 0;
    struct homing_buf b;
    homing_buf_init(&b, PG_ARRAY_BYTES_MAX);
    int r = pg_array_text(&b, v, n);
    if (r == 0) {
        struct pg_args a;
        pg_args_reset(&a);
        pg_arg_int(&a, (int64_t)id);
        pg_arg_literal(&a, (const char *)b.data);
        if (st == PG_RECIPIENTS_INSERT) pg_arg_int(&a, now);
        r = pg_do(p, st, &a, what, NULL);
    }
    homing_buf_free(&b);
    return r;
}

int pg_message_add(struct homing_store *s, const struct homing_message_spec *m, uint64_t *id_out)
{
    struct pg *p = (struct pg *)s;
    int64_t now = homing_now_us();
    int r = pg_begin(p);
    if (r < 0) return r;
    uint64_t id = 0;
    int64_t added = 0;
    for (int attempt = 0; attempt < PG_ID_ATTEMPTS && !added; attempt++) {
        id = homing_id_random();
        struct pg_args a;
        pg_args_reset(&a);
        pg_arg_int(&a, (int64_t)id);
        pg_arg_opt(&a, m->message_id, 0);
        pg_arg_opt(&a, m->subject, 0);
        pg_arg_opt(&a, m->sender, 0);
        pg_arg_text(&a, mode_name(m->mode), -1);
        pg_arg_int(&a, now);
        pg_arg_opt(&a, m->campaign, 0);
        pg_arg_text(&a, homing_tracking_name(m->tracking), -1);
        /* ON CONFLICT DO NOTHING: a taken id adds no row, and the
         * transaction stays usable for the next attempt. */
        if ((r = pg_do(p, PG_MESSAGE_INSERT, &a, "adding message", &added)) < 0) goto fail;
    }
    if (!added) {
        store_set_error(s, "adding message: no free id in %d attempts", PG_ID_ATTEMPTS);
        r = -EIO;
        goto fail;
    }
    if ((r = insert_array(p, PG_RECIPIENTS_INSERT, id, m->recipients, m->n_recipients, now,
                          "adding recipients")) < 0 ||
        (r = insert_array(p, PG_LINKS_INSERT, id, m->links, m->n_links, now, "adding links")) < 0)
        goto fail;
    if ((r = pg_commit(p)) < 0) goto fail;
    *id_out = id;
    return 0;
fail:
    pg_rollback(p);
    return r;
}

/* The message columns of PG_MESSAGE_GET / PG_MESSAGE_LIST, row i, into m. */
int pg_read_message_row(const PGresult *res, int i, struct homing_message *m)
{
    m->id = (uint64_t)pg_int(res, i, 0);
    int r;
    if ((r = pg_dup(res, i, 1, &m->message_id)) < 0 || (r = pg_dup(res, i, 2, &m->subject)) < 0 ||
        (r = pg_dup(res, i, 3, &m->sender)) < 0 || (r = pg_dup(res, i, 6, &m->campaign)) < 0)
        return r;
    m->mode = mode_parse(PQgetvalue(res, i, 4));
    m->created_us = pg_int(res, i, 5);
    return 0;
}

static int read_recipients(struct pg *p, struct homing_message *m)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)m->id);
    PGresult *res;
    int r = pg_run(p, PG_RECIPIENTS_GET, &a, "reading recipients", &res);
    if (r < 0) return r;
    int rows = PQntuples(res);
    if (rows && !(m->recipients = calloc((size_t)rows, sizeof *m->recipients))) r = -ENOMEM;
    for (int i = 0; r == 0 && i < rows; i++) {
        struct homing_recipient *rc = &m->recipients[m->n_recipients++];
        rc->index = (uint32_t)pg_int(res, i, 0);
        rc->state_us = pg_int(res, i, 3);
        if ((r = pg_dup(res, i, 1, &rc->address)) == 0) r = pg_dup(res, i, 2, &rc->state);
    }
    PQclear(res);
    return r;
}

static int read_links(struct pg *p, struct homing_message *m)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)m->id);
    PGresult *res;
    int r = pg_run(p, PG_LINKS_GET, &a, "reading links", &res);
    if (r < 0) return r;
    int rows = PQntuples(res);
    if (rows && !(m->links = calloc((size_t)rows, sizeof *m->links))) r = -ENOMEM;
    for (int i = 0; r == 0 && i < rows; i++) {
        struct homing_link *l = &m->links[m->n_links++];
        l->index = (uint32_t)pg_int(res, i, 0);
        r = pg_dup(res, i, 1, &l->url);
    }
    PQclear(res);
    return r;
}

int pg_message_get(struct homing_store *s, uint64_t id, struct homing_message **out)
{
    struct pg *p = (struct pg *)s;
    struct homing_message *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    /* One snapshot: the three queries see the same message. */
    int r = pg_begin_read(p);
    if (r < 0) goto fail;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)id);
    PGresult *res;
    if ((r = pg_run(p, PG_MESSAGE_GET, &a, "reading message", &res)) < 0) goto fail;
    r = PQntuples(res) ? pg_read_message_row(res, 0, m) : -ENOENT;
    PQclear(res);
    if (r == 0) r = read_recipients(p, m);
    if (r == 0) r = read_links(p, m);
    if (r == 0) r = pg_commit(p);
    if (r < 0) goto fail;
    *out = m;
    return 0;
fail:
    pg_rollback(p);
    homing_message_free(m);
    return r;
}

int pg_message_find(struct homing_store *s, const char *bare_id, size_t len, uint64_t *id_out)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, bare_id, (int)len);
    PGresult *res;
    int r = pg_run(p, PG_MESSAGE_FIND, &a, "finding message", &res);
    if (r < 0) return r;
    int rows = PQntuples(res);
    /* a second message with the same Message-ID: which one is meant cannot be
     * told, and guessing the newest misattributed reports */
    r = rows == 0 ? -ENOENT : rows > 1 ? -ENOTUNIQ : 0;
    if (r == 0) *id_out = (uint64_t)pg_int(res, 0, 0);
    PQclear(res);
    return r;
}

int pg_message_list(struct homing_store *s, size_t limit, struct homing_message **out, size_t *n)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)limit);
    PGresult *res;
    int r = pg_run(p, PG_MESSAGE_LIST, &a, "listing messages", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_message *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) r = pg_read_message_row(res, (int)used, &arr[used]);
    PQclear(res);
    if (r < 0) {
        homing_messages_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_link_url(struct homing_store *s, uint64_t message, uint32_t index, char **url_out)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, (int64_t)message);
    pg_arg_int(&a, (int64_t)index);
    PGresult *res;
    int r = pg_run(p, PG_LINK_URL, &a, "reading link", &res);
    if (r < 0) return r;
    char *url = NULL;
    r = PQntuples(res) ? pg_dup(res, 0, 0, &url) : -ENOENT;
    PQclear(res);
    if (r == 0 && !url) r = -ENOENT;
    if (r < 0) return r;
    *url_out = url;
    return 0;
}

int pg_recipient_set_state(struct homing_store *s, uint64_t message, uint32_t index,
                           const char *state, int64_t at_us)
{
    struct pg *p = (struct pg *)s;
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, state, -1);
    pg_arg_int(&a, at_us);
    pg_arg_int(&a, (int64_t)message);
    pg_arg_int(&a, (int64_t)index);
    int64_t changed = 0;
    int r = pg_do(p, PG_SET_STATE, &a, "setting recipient state", &changed);
    if (r < 0) return r;
    return changed ? 0 : -ENOENT;
}
