/*
 * fuzz_stats_query.c: homing_message_query_parse (lib/service/stats.c), the
 * query string of the admin API's /messages, /campaigns and /stats, on
 * arbitrary bytes. Checks what the store relies on: an accepted query names
 * a campaign that is empty or passes homing_campaign_ok, a known state, and a
 * limit in range; a refused one says why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct homing_message_query q;
    struct homing_query_text t = {0};
    char err[256] = "";
    int r = homing_message_query_parse((const char *)data, size, &q, &t, err, sizeof err);
    if (r < 0) {
        if ((r != -EINVAL && r != -E2BIG) || !err[0]) abort();
        return 0;
    }
    if (r != 0 || q.limit < 1 || q.limit > HOMING_MESSAGE_PAGE_MAX) abort();
    if (q.campaign && q.campaign[0] && !homing_campaign_ok(q.campaign)) abort();
    if (q.state && !strchr("rsdbc", q.state[0])) abort();
    if (t.bucket_us != 0 && t.bucket_us != 3600000000LL && t.bucket_us != 86400000000LL) abort();
    return 0;
}
