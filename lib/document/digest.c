/*
 * digest.c: the upgrade of document digests stored before they were keyed
 * (migration 0009; homing/document.h "Digest").
 *
 * Contract: homing_doc_digests_upgrade rewrites each row still marked unkeyed
 * with the keyed digest of its decrypted file, one row at a time; a row whose
 * file is missing or does not authenticate is left as it was (counted as
 * failed), so the caller can say so and the next run tries again. Never logs.
 * The store cannot do this in SQL: it never holds the key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <sodium.h>

#include "homing/document.h"
#include "homing/store.h"
#include "homing/util.h"

#define DOC_DIGEST_PATH_MAX 4096 /* dir + "/" + file name */

int homing_doc_digests_upgrade(struct homing_store *s, const uint8_t key[HOMING_DOC_KEY_LEN],
                               const uint8_t digest_key[HOMING_DOC_KEY_LEN], const char *dir,
                               size_t *upgraded, size_t *failed)
{
    if (!s || !key || !digest_key || !dir) return -EINVAL;
    struct homing_document *d;
    size_t n;
    int r = homing_store_document_list(s, &d, &n);
    if (r < 0) return r;
    size_t up = 0, bad = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (d[i].digest_keyed) continue;
        char path[DOC_DIGEST_PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, d[i].file) >= (int)sizeof path) {
            bad++;
            continue;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t dg[HOMING_DOC_DIGEST_LEN];
        int e = fd < 0 ? -errno : homing_doc_digest_sealed(key, digest_key, d[i].file, fd, dg);
        if (fd >= 0) close(fd);
        if (e < 0) {
            bad++;
            continue;
        }
        char hex[2 * HOMING_DOC_DIGEST_LEN + 1];
        homing_hex_encode(dg, sizeof dg, hex);
        e = homing_store_document_set_digest(s, d[i].id, hex);
        if (e == 0)
            up++;
        else if (e != -ENOENT) /* -ENOENT: another process upgraded it first */
            r = e;
    }
    homing_documents_free(d, n);
    if (r < 0) return r;
    if (upgraded) *upgraded = up;
    if (failed) *failed = bad;
    return 0;
}
