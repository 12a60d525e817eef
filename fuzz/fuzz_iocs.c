/*
 * fuzz_iocs.c: libFuzzer target for the indicator extraction of `homing
 * trace --iocs` (homing_trace_iocs, lib/trace/iocs.c): GMime's walk of the
 * parts, the URL, address, domain and IP scanners over header and text, and
 * the defanging of each indicator found.
 *
 * Input: a message. Checks every list stays within HOMING_IOCS_MAX and every
 * indicator within HOMING_IOCS_ITEM_MAX bytes, and that a defanged URL never
 * starts with "http".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "homing/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = NULL;
    if (homing_trace_iocs((const char *)data, size, &o) != 0) return 0;
    static const char *const kinds[] = {"urls", "domains", "ips", "emails"};
    size_t total = 0;
    for (size_t k = 0; k < 4; k++) {
        json_t *arr = json_object_get(o, kinds[k]);
        total += json_array_size(arr);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const char *s = json_string_value(json_array_get(arr, i));
            if (!s || strlen(s) > 4 * HOMING_IOCS_ITEM_MAX) abort();
            char d[HOMING_IOCS_DEFANG_MAX];
            homing_iocs_defang(s, d, sizeof d);
            if (k == 0 && strncasecmp(d, "http", 4) == 0) abort();
        }
    }
    if (total > HOMING_IOCS_MAX) abort();
    json_decref(o);
    return 0;
}
