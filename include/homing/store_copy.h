/*
 * homing/store_copy.h: copying a whole SQLite store into a PostgreSQL store
 * (`homing store migrate --to postgresql://...`).
 *
 * Contract: both handles come from homing_store_open, so each is at its
 * backend's latest schema. The copy is driven by the catalogs: every source
 * table with a table of the same name in the target, the columns both have,
 * rows in the order the target's foreign keys need. It reads the source in one
 * transaction that holds SQLite's write lock (a consistent copy; nothing is
 * written to the source) and writes the target in one transaction: on any
 * failure the target is rolled back to what it was (empty). Ids are kept and
 * the target's sequences moved past them. Rows go in as they are, with the
 * target's insert triggers off inside that transaction only (counters equal
 * the source's, not recounted). docs/internals/store.md, "Copying a store".
 */
#ifndef HOMING_STORE_COPY_H
#define HOMING_STORE_COPY_H

#include <stdint.h>

#include "homing/store.h"

#define HOMING_STORE_COPY_TABLES_MAX 256 /* tables of a store */
#define HOMING_STORE_COPY_NAME_MAX   64  /* bytes of a table name, with its NUL */

/* Per table of the source: its rows, and how many the target holds after. */
struct homing_store_copy_table {
    char name[HOMING_STORE_COPY_NAME_MAX];
    int64_t rows;   /* in the source */
    int64_t copied; /* in the target after the copy (0 on a dry run) */
};

struct homing_store_copy_result {
    struct homing_store_copy_table *tables; /* in the order they were copied */
    size_t n;
    int64_t text_fixed; /* text values with bytes PostgreSQL refuses (not UTF-8, NUL),
                         * each such byte stored as '?' */
};

/* Called after each batch of a table and once when it is done. */
typedef void (*homing_store_copy_progress_fn)(void *arg, const char *table, int64_t done,
                                              int64_t total);

#define HOMING_STORE_COPY_DRY_RUN 1u /* count and check, write nothing */

/* Copies src (sqlite) into dst (postgresql). dst may be NULL with
 * HOMING_STORE_COPY_DRY_RUN: only the source is counted. -ENOTSUP for other
 * backends, -EEXIST when the target already holds data, -EBUSY when the
 * source's write lock was not free, -EPROTO when a source table or column
 * with data has no counterpart in the target, -EIO for other database
 * errors; err (one line) says which. The result is written only on success
 * (free it with homing_store_copy_result_free). */
int homing_store_copy(struct homing_store *src, struct homing_store *dst, unsigned flags,
                      homing_store_copy_progress_fn progress, void *arg,
                      struct homing_store_copy_result *out, char *err, size_t errcap);
void homing_store_copy_result_free(struct homing_store_copy_result *r);

#endif
