/*
 * fuzz_dkim.c: libFuzzer target for our DKIM verifier (auth_dkim_verify,
 * lib/trace/auth_dkim.c): header splitting, tag-lists, canonicalisation, key
 * records and the libcrypto calls, on arbitrary messages and key records.
 *
 * Input: an optional first line "K:<record>" is the TXT record every key
 * lookup answers with (otherwise the RSA key of tests/data/trace/dkim, or the
 * RFC 8463 Ed25519 key for a selector starting with "ed"); the rest is the
 * message. A selector "nxdomain" gets no record and "tempfail" a temporary
 * failure. Checks that every reported signature has a known result word.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/trace/trace_int.h"

#define RSA_REC                                                                                    \
    "v=DKIM1; k=rsa; "                                                                             \
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDETaw/HEDG83djV3jSahh5JECU/MXfk4mt/"                  \
    "j8iftVF18jsRhrPPXd1xdznOlDZHe1BQy/OnWO+RMUQaFhOiwZ9RBSmPRS3DgoYSlFgm97aRTpVqy/"               \
    "Lvi12N1GcjR2PB1WUqY6MOodu053pNR0YfWvilmTtG3kOFaf7J9Y/LgByHwIDAQAB"
#define ED_REC "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

struct fuzz_zone {
    const char *rec; /* NULL: the defaults */
    size_t len;
};

static int fuzz_lookup(void *ctx, const char *name, enum homing_rr type,
                       struct homing_dns_answer *out)
{
    struct fuzz_zone *z = ctx;
    if (type != HOMING_RR_TXT) return -ENOENT;
    if (strncmp(name, "nxdomain.", 9) == 0) return -ENOENT;
    if (strncmp(name, "tempfail.", 9) == 0) return -EAGAIN;
    const char *rec = z->rec ? z->rec : strncmp(name, "ed", 2) == 0 ? ED_REC : RSA_REC;
    size_t len = z->rec ? z->len : strlen(rec);
    struct homing_dns_answer a = {0};
    a.rr[0] = strndup(rec, len);
    if (!a.rr[0]) return -ENOMEM;
    a.n = 1;
    *out = a;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *msg = (const char *)data;
    size_t len = size;
    struct fuzz_zone z = {0};
    if (len >= 2 && memcmp(msg, "K:", 2) == 0) {
        const char *nl = memchr(msg, '\n', len);
        size_t l = nl ? (size_t)(nl - msg) : len;
        z.rec = msg + 2;
        z.len = l - 2;
        msg += nl ? l + 1 : l;
        len -= nl ? l + 1 : l;
    }
    struct homing_resolver res = {.ctx = &z, .lookup = fuzz_lookup};
    json_t *arr = json_array();
    if (!arr) return 0;
    if (auth_dkim_verify(&res, msg, len, arr) == 0) {
        if (json_array_size(arr) > HOMING_TRACE_DKIM_SIGS_MAX) abort();
        static const char *const words[] = {"pass", "fail", "neutral", "permerror", "temperror"};
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const char *r = json_string_value(json_object_get(json_array_get(arr, i), "result"));
            size_t w = 0;
            while (r && w < 5 && strcmp(r, words[w]) != 0) w++;
            if (!r || w == 5) abort();
        }
    }
    json_decref(arr);
    return 0;
}
