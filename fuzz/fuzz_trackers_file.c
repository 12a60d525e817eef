/*
 * fuzz_trackers_file.c: the tracker knowledge file (lib/scan/trackers.c,
 * docs/trackers-format.md) on arbitrary bytes. A file is refused with a reason
 * or, once accepted, every rule has a host, a path starting with '/' or '*',
 * and lookups by host and URL answer without reading outside the rules.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/trackers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct homing_trackers *t = NULL;
    char err[256] = "";
    if (homing_trackers_parse((const char *)data, size, &t, err, sizeof err) < 0) {
        if (t || !err[0]) abort();
        return 0;
    }
    size_t n = homing_trackers_count(t);
    for (size_t i = 0; i < n; i++) {
        const struct homing_tracker_rule *r = homing_trackers_rule(t, i);
        if (!r || !r->host[0] || (r->path[0] != '/' && r->path[0] != '*')) abort();
        homing_trackers_match(t, r->host, r->path[0] == '/' ? r->path : "/x", HOMING_TRACKER_BOTH);
        homing_trackers_vendor(t, r->host);
    }
    homing_trackers_match(t, "example.com", "/o/abc.gif", HOMING_TRACKER_PIXEL);
    homing_trackers_free(t);
    return 0;
}
