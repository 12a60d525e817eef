/*
 * sqlite_documents.c: the SQLite backend's documents and their grants (migrations 0005, 0009,
 * 0011).
 *
 * Contract: homing/store.h for each operation; the helpers of sqlite_int.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "homing/store.h"
#include "homing/util.h"
#include "lib/store/sqlite_int.h"

/* ---- documents (migration 0005) ----
 * Used by the CLI and once per document download: statements are prepared per
 * call, like the delivery ones. */

#define DOC_COLUMNS "id, name, media_type, size, digest, file, created_us, digest_keyed"

static int doc_read_row(sqlite3_stmt *st, struct homing_document *d)
{
    d->id = sqlite3_column_int64(st, 0);
    d->size = sqlite3_column_int64(st, 3);
    sq_col_copy(st, 4, d->digest, sizeof d->digest);
    d->created_us = sqlite3_column_int64(st, 6);
    int r;
    if ((r = sq_col_dup(st, 1, &d->name)) < 0 || (r = sq_col_dup(st, 2, &d->media_type)) < 0 ||
        (r = sq_col_dup(st, 5, &d->file)) < 0)
        return r;
    return 0;
}

int sq_document_add(struct homing_store *s, const struct homing_document *d, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(
        q,
        "INSERT INTO documents (name, media_type, size, digest, file, created_us, "
        "digest_keyed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        "ttIttIi", d->name, d->media_type, d->size, d->digest, d->file,
        (int64_t)(d->created_us ? d->created_us : homing_now_us()), d->digest_keyed ? 1 : 0);
    if (!st) return -EIO;
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "adding document");
    sqlite3_finalize(st);
    if (r == 0) *id_out = sqlite3_last_insert_rowid(q->db);
    return r;
}

int sq_document_get(struct homing_store *s, const char *name, struct homing_document **out)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        sq_query(q, "SELECT " DOC_COLUMNS " FROM documents WHERE name = ?1", "t", name);
    if (!st) return -EIO;
    struct homing_document *d = calloc(1, sizeof *d);
    int rc = sqlite3_step(st), r;
    if (!d)
        r = -ENOMEM;
    else if (rc == SQLITE_ROW) {
        r = doc_read_row(st, d);
        d->digest_keyed = sqlite3_column_int(st, 7);
    } else
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading document");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_documents_free(d, 1);
        return r;
    }
    *out = d;
    return 0;
}

int sq_document_list(struct homing_store *s, struct homing_document **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st =
        sq_query(q,
                 "SELECT d.id, d.name, d.media_type, d.size, d.digest, d.file, d.created_us, "
                 "(SELECT count(*) FROM grants g WHERE g.document = d.id), "
                 "(SELECT coalesce(sum(uses), 0) FROM grants g WHERE g.document = d.id), "
                 "d.digest_keyed FROM documents d ORDER BY d.id LIMIT ?1",
                 "I", (int64_t)HOMING_STORE_DOCUMENTS_MAX);
    if (!st) return -EIO;
    struct homing_document *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_document *d = &arr[used++];
        if ((r = doc_read_row(st, d)) < 0) break;
        d->grants = sqlite3_column_int64(st, 7);
        d->uses = sqlite3_column_int64(st, 8);
        d->digest_keyed = sqlite3_column_int(st, 9);
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing documents");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_documents_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

/* Only an unkeyed row is rewritten: two processes upgrading at once compute
 * the same keyed digest, and the second finds nothing left to change. */
int sq_document_set_digest(struct homing_store *s, int64_t id, const char *digest)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(q,
                                "UPDATE documents SET digest = ?1, digest_keyed = 1 "
                                "WHERE id = ?2 AND digest_keyed = 0",
                                "tI", digest, id);
    if (!st) return -EIO;
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? 0 : sq_fail(q, rc, "setting document digest");
    if (r == 0 && sqlite3_changes(q->db) == 0) r = -ENOENT;
    sqlite3_finalize(st);
    return r;
}

int sq_grant_add(struct homing_store *s, const struct homing_grant_spec *g, int64_t *id_out)
{
    struct sq *q = (struct sq *)s;
    /* The SELECT makes a missing document or message insert nothing (-ENOENT)
     * rather than depend on foreign-key enforcement being on. */
    int r = sq_exec(
        q, "adding grant",
        "INSERT INTO grants (document, message, recipient, created_us, expires_us, max_uses) "
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM documents WHERE id = ?1) "
        "AND EXISTS (SELECT 1 FROM messages WHERE id = ?2)",
        "IIIIzz", g->document, g->message, (int64_t)g->recipient, homing_now_us(), g->expires_us,
        g->max_uses);
    if (r == 0 && sqlite3_changes(q->db) == 0) {
        store_set_error(s, "no such document or message");
        r = -ENOENT;
    }
    if (r == 0) {
        int64_t id = sqlite3_last_insert_rowid(q->db);
        if (id > (int64_t)UINT32_MAX) {
            store_set_error(s, "grant ids exhausted");
            return -EOVERFLOW;
        }
        *id_out = id;
    }
    return r;
}

int sq_grant_list(struct homing_store *s, int64_t document, struct homing_grant **out, size_t *n)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_query(
        q,
        "SELECT g.id, g.document, d.name, g.message, g.recipient, r.address, g.created_us, "
        "coalesce(g.expires_us, 0), coalesce(g.max_uses, 0), g.uses, "
        "coalesce(g.revoked_us, 0) FROM grants g JOIN documents d ON d.id = g.document "
        "LEFT JOIN recipients r ON r.message = g.message AND r.idx = g.recipient "
        "WHERE ?1 = 0 OR g.document = ?1 ORDER BY g.id LIMIT ?2",
        "II", document, (int64_t)HOMING_STORE_LIST_MAX);
    if (!st) return -EIO;
    struct homing_grant *arr = NULL;
    size_t cap = 0, used = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = sq_grow((void **)&arr, &cap, used, sizeof *arr)) < 0) break;
        struct homing_grant *g = &arr[used++];
        g->id = sqlite3_column_int64(st, 0);
        g->document = sqlite3_column_int64(st, 1);
        g->message = (uint64_t)sqlite3_column_int64(st, 3);
        g->recipient = (uint32_t)sqlite3_column_int64(st, 4);
        g->created_us = sqlite3_column_int64(st, 6);
        g->expires_us = sqlite3_column_int64(st, 7);
        g->max_uses = sqlite3_column_int64(st, 8);
        g->uses = sqlite3_column_int64(st, 9);
        g->revoked_us = sqlite3_column_int64(st, 10);
        if ((r = sq_col_dup(st, 2, &g->document_name)) < 0 ||
            (r = sq_col_dup(st, 5, &g->address)) < 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE) r = sq_fail(q, rc, "listing grants");
    sqlite3_finalize(st);
    if (r < 0) {
        homing_grants_free(arr, used);
        return r;
    }
    *out = arr;
    *n = used;
    return 0;
}

int sq_grant_revoke(struct homing_store *s, int64_t grant, int64_t document, int64_t *revoked)
{
    struct sq *q = (struct sq *)s;
    int r = sq_exec(q, "revoking grant",
                    "UPDATE grants SET revoked_us = ?1 WHERE revoked_us IS NULL "
                    "AND (id = ?2 OR document = ?3)",
                    "III", homing_now_us(), (int64_t)(grant ? grant : -1),
                    (int64_t)(document ? document : -1));
    if (r == 0) *revoked = sqlite3_changes(q->db);
    return r;
}

int sq_grant_check(struct homing_store *s, int64_t grant, uint64_t message, uint32_t recipient,
                   int64_t now_us, int64_t pending, struct homing_document **doc)
{
    struct sq *q = (struct sq *)s;
    sqlite3_stmt *st = sq_prepare(
        q, "SELECT g.message, g.recipient, coalesce(g.revoked_us, 0), coalesce(g.expires_us, 0), "
           "coalesce(g.max_uses, 0), g.uses, d.id, d.name, d.media_type, d.size, d.digest, "
           "d.file, d.created_us FROM grants g JOIN documents d ON d.id = g.document "
           "WHERE g.id = ?1");
    struct homing_document *d = calloc(1, sizeof *d);
    int r = st ? 0 : -EIO;
    if (r == 0 && !d) r = -ENOMEM;
    /* A read: in WAL mode it never waits for a writer. Two downloads of a
     * grant with one use left are kept apart by the caller's count of
     * pending ones (src/serve/document.c), not by a write lock here. */
    if (r == 0) r = sq_begin(q, 0);
    if (r < 0) goto out;
    sqlite3_bind_int64(st, 1, grant);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? -ENOENT : sq_fail(q, rc, "reading grant");
        goto fail;
    }
    if ((uint64_t)sqlite3_column_int64(st, 0) != message ||
        (uint32_t)sqlite3_column_int64(st, 1) != recipient) {
        r = -ENOENT; /* another recipient's or message's grant */
        goto fail;
    }
    r = store_grant_usable(sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                           sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5), now_us,
                           pending);
    if (r < 0) goto fail;
    d->id = sqlite3_column_int64(st, 6);
    d->size = sqlite3_column_int64(st, 9);
    sq_col_copy(st, 10, d->digest, sizeof d->digest);
    d->created_us = sqlite3_column_int64(st, 12);
    if ((r = sq_col_dup(st, 7, &d->name)) < 0 || (r = sq_col_dup(st, 8, &d->media_type)) < 0 ||
        (r = sq_col_dup(st, 11, &d->file)) < 0)
        goto fail;
    sqlite3_reset(st);
    if ((r = sq_commit(q)) < 0) goto fail;
    goto out;
fail:
    if (st) sqlite3_reset(st);
    sq_rollback(q);
out:
    sqlite3_finalize(st);
    if (r < 0) {
        homing_documents_free(d, d ? 1 : 0);
        return r;
    }
    *doc = d;
    return 0;
}
