/*
 * fuzz_vendor.c: libFuzzer target for the anti-spam vendor field decoders
 * (trace_vendor_decode, lib/trace/vendor.c): Microsoft's "A:v;" lists,
 * SpamAssassin's and Barracuda's status lines with their tests= lists, and
 * Proofpoint's "a=v" pairs.
 *
 * Input: the field name up to the first ':' (a name the decoders do not know
 * is tried as each of them in turn), the rest is the value. Checks the limits
 * hold: at most VENDOR_PAIRS_MAX values and VENDOR_RULES_MAX rules.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/trace/trace_int.h"

static const char *const names[] = {
    "X-Forefront-Antispam-Report", "X-Microsoft-Antispam",      "X-Spam-Status",
    "X-Barracuda-Spam-Status",     "X-Proofpoint-Spam-Details", "X-Spam-Flag",
    "X-Mimecast-Spam-Score",       "X-Gm-Message-State",
};

static void one(const char *name, const char *v)
{
    json_t *o = NULL;
    if (trace_vendor_decode(name, v, &o) != 1) return;
    if (json_object_size(json_object_get(o, "values")) > 64) abort();
    if (json_array_size(json_object_get(o, "rules")) > 256) abort();
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *colon = strchr(s, ':');
    if (colon) {
        *colon = '\0';
        one(s, colon + 1);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        one(names[i], colon ? colon + 1 : s);
    free(s);
    return 0;
}
