/*
 * privacy.c: the privacy sweep (homing/service.h), one use case for the
 * daemon's background thread (src/serve/privacy.c) and `homing privacy sweep`:
 * client addresses truncated once enriched, then events past
 * privacy.retention_days rolled up and deleted. It changes only what the
 * schema's privacy guard admits (docs/privacy.md).
 */
#include <errno.h>
#include <stdio.h>

#include "homing/config.h"
#include "homing/service.h"
#include "homing/util.h"

#define PRIVACY_DAY_US        (86400LL * 1000000LL)
#define PRIVACY_ENRICH_CURSOR "enrich" /* migration 0004's cursor */

int homing_privacy_settings_read(const struct homing_config *c, struct homing_privacy_settings *p,
                                 char *err, size_t errcap)
{
    /* The ranges were checked when the options were read; the table's are
     * the ones below (unit/config checks every default against its range). */
    const struct homing_settings *set = homing_config_settings(c);
    if (set->privacy.truncate_v4 > 32 || set->privacy.truncate_v6 > 128 ||
        set->privacy.retention_days > HOMING_PRIVACY_RETENTION_MAX) {
        if (err) snprintf(err, errcap, "privacy.truncate_v4, _v6 or retention_days out of range");
        return -EINVAL;
    }
    p->truncate = set->privacy.truncate;
    p->v4_bits = (unsigned)set->privacy.truncate_v4;
    p->v6_bits = (unsigned)set->privacy.truncate_v6;
    p->retention_days = set->privacy.retention_days;
    return 0;
}

int homing_privacy_sweep(struct homing_store *s, const struct homing_privacy_settings *p,
                         int retention, struct homing_privacy_sweep_result *out)
{
    if (!s || !p || !out) return -EINVAL;
    struct homing_privacy_sweep_result res = {0};
    int r = 0;
    if (p->truncate) {
        /* Enrichment needs the whole address (ASN, country, readers): never
         * cut past its cursor. Without enrichment there is nothing to wait for. */
        int64_t upto = -1;
        r = homing_store_cursor_get(s, PRIVACY_ENRICH_CURSOR, &upto);
        if (r == -ENOENT) upto = -1, r = 0;
        if (r == 0)
            r = homing_store_privacy_truncate(s, upto, p->v4_bits, p->v6_bits, &res.truncated);
        if (r < 0) return r;
    }
    if (retention && p->retention_days > 0) {
        int64_t before = homing_now_us() - p->retention_days * PRIVACY_DAY_US;
        r = homing_store_privacy_retention(s, before, &res.rolled, &res.deleted);
        if (r < 0) return r;
    }
    *out = res;
    return 0;
}
