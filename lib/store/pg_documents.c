/*
 * pg_documents.c: the PostgreSQL backend's tracked documents and grants
 * (migration 0007).
 *
 * Contract: homing/store.h for each operation; the helpers of pg_int.h. A
 * grant's uses are counted by the trigger on events (a document-open GET),
 * as in SQLite; grant_check is one read statement.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/pg_int.h"

/* id, name, media_type, size, digest, file, created_us from column c0. */
static int doc_read(const PGresult *res, int i, int c0, struct homing_document *d)
{
    d->id = pg_int(res, i, c0);
    d->size = pg_int(res, i, c0 + 3);
    pg_copy(res, i, c0 + 4, d->digest, sizeof d->digest);
    d->created_us = pg_int(res, i, c0 + 6);
    int r;
    if ((r = pg_dup(res, i, c0 + 1, &d->name)) < 0 ||
        (r = pg_dup(res, i, c0 + 2, &d->media_type)) < 0)
        return r;
    return pg_dup(res, i, c0 + 5, &d->file);
}

int pg_document_add(struct homing_store *s, const struct homing_document *d, int64_t *id_out)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, d->name, -1);
    pg_arg_text(&a, d->media_type, -1);
    pg_arg_int(&a, d->size);
    pg_arg_text(&a, d->digest, (int)strnlen(d->digest, sizeof d->digest));
    pg_arg_text(&a, d->file, -1);
    pg_arg_int(&a, d->created_us ? d->created_us : homing_now_us());
    pg_arg_int(&a, d->digest_keyed ? 1 : 0);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_DOCUMENT_ADD, &a, "adding document", &res);
    if (r < 0) return r;
    *id_out = pg_int(res, 0, 0);
    PQclear(res);
    return 0;
}

int pg_document_get(struct homing_store *s, const char *name, struct homing_document **out)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, name, -1);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_DOCUMENT_GET, &a, "reading document", &res);
    if (r < 0) return r;
    struct homing_document *d = NULL;
    if (!PQntuples(res))
        r = -ENOENT;
    else if (!(d = calloc(1, sizeof *d)))
        r = -ENOMEM;
    else if ((r = doc_read(res, 0, 0, d)) == 0)
        d->digest_keyed = (int)pg_int(res, 0, 7);
    PQclear(res);
    if (r < 0) {
        homing_documents_free(d, d ? 1 : 0);
        return r;
    }
    *out = d;
    return 0;
}

int pg_document_list(struct homing_store *s, struct homing_document **out, size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, HOMING_STORE_DOCUMENTS_MAX);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_DOCUMENT_LIST, &a, "listing documents", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_document *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) {
        struct homing_document *d = &arr[used];
        r = doc_read(res, (int)used, 0, d);
        d->grants = pg_int(res, (int)used, 7);
        d->uses = pg_int(res, (int)used, 8);
        d->digest_keyed = (int)pg_int(res, (int)used, 9);
    }
    PQclear(res);
    if (r < 0) {
        homing_documents_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_document_set_digest(struct homing_store *s, int64_t id, const char *digest)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_text(&a, digest, -1);
    pg_arg_int(&a, id);
    int64_t n = 0;
    int r = pg_do((struct pg *)s, PG_DOCUMENT_SET_DIGEST, &a, "setting document digest", &n);
    return r < 0 ? r : n ? 0 : -ENOENT;
}

int pg_grant_add(struct homing_store *s, const struct homing_grant_spec *g, int64_t *id_out)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, g->document);
    pg_arg_int(&a, (int64_t)g->message);
    pg_arg_int(&a, g->recipient);
    pg_arg_int(&a, homing_now_us());
    if (g->expires_us)
        pg_arg_int(&a, g->expires_us);
    else
        pg_arg_text(&a, NULL, 0);
    if (g->max_uses)
        pg_arg_int(&a, g->max_uses);
    else
        pg_arg_text(&a, NULL, 0);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_GRANT_ADD, &a, "adding grant", &res);
    if (r < 0) return r;
    int rows = PQntuples(res);
    int64_t id = rows ? pg_int(res, 0, 0) : 0;
    PQclear(res);
    /* The SELECT makes a missing document or message insert nothing. */
    if (!rows) {
        store_set_error(s, "no such document or message");
        return -ENOENT;
    }
    if (id > (int64_t)UINT32_MAX) {
        store_set_error(s, "grant ids exhausted");
        return -EOVERFLOW;
    }
    *id_out = id;
    return 0;
}

int pg_grant_list(struct homing_store *s, int64_t document, struct homing_grant **out, size_t *n)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, document);
    pg_arg_int(&a, HOMING_STORE_LIST_MAX);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_GRANT_LIST, &a, "listing grants", &res);
    if (r < 0) return r;
    size_t rows = (size_t)PQntuples(res), used = 0;
    struct homing_grant *arr = rows ? calloc(rows, sizeof *arr) : NULL;
    if (rows && !arr) r = -ENOMEM;
    for (; r == 0 && used < rows; used++) {
        struct homing_grant *g = &arr[used];
        int i = (int)used;
        g->id = pg_int(res, i, 0);
        g->document = pg_int(res, i, 1);
        g->message = (uint64_t)pg_int(res, i, 3);
        g->recipient = (uint32_t)pg_int(res, i, 4);
        g->created_us = pg_int(res, i, 6);
        g->expires_us = pg_int(res, i, 7);
        g->max_uses = pg_int(res, i, 8);
        g->uses = pg_int(res, i, 9);
        g->revoked_us = pg_int(res, i, 10);
        if ((r = pg_dup(res, i, 2, &g->document_name)) == 0) r = pg_dup(res, i, 5, &g->address);
    }
    PQclear(res);
    if (r < 0) {
        homing_grants_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int pg_grant_revoke(struct homing_store *s, int64_t grant, int64_t document, int64_t *revoked)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, homing_now_us());
    pg_arg_int(&a, grant ? grant : -1);
    pg_arg_int(&a, document ? document : -1);
    int64_t n = 0;
    int r = pg_do((struct pg *)s, PG_GRANT_REVOKE, &a, "revoking grant", &n);
    if (r == 0) *revoked = n;
    return r;
}

/* A read only: two downloads of a grant with one use left are kept apart by
 * the caller's count of pending ones (src/serve/document.c). */
int pg_grant_check(struct homing_store *s, int64_t grant, uint64_t message, uint32_t recipient,
                   int64_t now_us, int64_t pending, struct homing_document **doc)
{
    struct pg_args a;
    pg_args_reset(&a);
    pg_arg_int(&a, grant);
    PGresult *res;
    int r = pg_run((struct pg *)s, PG_GRANT_CHECK, &a, "reading grant", &res);
    if (r < 0) return r;
    struct homing_document *d = NULL;
    if (!PQntuples(res) || (uint64_t)pg_int(res, 0, 0) != message ||
        (uint32_t)pg_int(res, 0, 1) != recipient) {
        r = -ENOENT; /* none, or another recipient's or message's grant */
    } else if ((r = store_grant_usable(pg_int(res, 0, 2), pg_int(res, 0, 3), pg_int(res, 0, 4),
                                       pg_int(res, 0, 5), now_us, pending)) == 0) {
        r = (d = calloc(1, sizeof *d)) ? doc_read(res, 0, 6, d) : -ENOMEM;
    }
    PQclear(res);
    if (r < 0) {
        homing_documents_free(d, d ? 1 : 0);
        return r;
    }
    *doc = d;
    return 0;
}
