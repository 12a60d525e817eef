/*
 * fuzz_allow_list.c: an allow-list of `homing scan --allow` (SENDER HOST per
 * line, '#' comments; lib/scan/scan.c) on arbitrary bytes. Refused with a
 * reason, or accepted and answering matches for any sender and host.
 */
#include <stdint.h>
#include <stdlib.h>

#include "homing/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct homing_allow *a = NULL;
    char err[256] = "";
    if (homing_allow_parse((const char *)data, size, &a, err, sizeof err) < 0) {
        if (a || !err[0]) abort();
        return 0;
    }
    homing_allow_match(a, "news@example.com", "t.example.com");
    homing_allow_match(a, "", "");
    homing_allow_match(a, NULL, "x");
    homing_allow_free(a);
    return 0;
}
