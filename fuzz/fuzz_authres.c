/*
 * fuzz_authres.c: libFuzzer target for the Authentication-Results parser
 * (RFC 8601), checking on the way that what it returns is well formed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct homing_authres *a = NULL;
    if (homing_authres_parse((const char *)data, size, &a) == 0) {
        if (!a->authserv_id || a->n_results > HOMING_AUTHRES_RESULTS_MAX) abort();
        for (size_t i = 0; i < a->n_results; i++) {
            const struct homing_authres_result *r = &a->results[i];
            if (!r->method || !r->result || r->n_props > HOMING_AUTHRES_PROPS_MAX) abort();
            (void)homing_authres_prop(r, "header", "d");
        }
        homing_authres_free(a);
    }
    return 0;
}
