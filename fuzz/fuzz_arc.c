/*
 * fuzz_arc.c: libFuzzer target for ARC verification (trace_arc_verify,
 * lib/trace/arc.c): the ARC fields' instances and tag-lists, the structure
 * checks of RFC 8617 5.2, ARC-Authentication-Results through the
 * Authentication-Results parser, and both signatures through auth_dkim.c.
 *
 * Input: as fuzz_dkim.c: an optional first line "K:<record>" answers every
 * key lookup (otherwise the RSA test key that signs tests/data/trace/arc, so
 * the seeds verify), the rest is the message. Checks the verdict is one of
 * none, pass, fail and that no more than ARC_INSTANCE_MAX hops are reported.
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
    json_t *o = json_object();
    if (!o) return 0;
    if (trace_arc_verify(&res, msg, len, o) == 0) {
        const char *cv = json_string_value(json_object_get(o, "cv"));
        if (!cv || (strcmp(cv, "none") != 0 && strcmp(cv, "pass") != 0 && strcmp(cv, "fail") != 0))
            abort();
        if (json_array_size(json_object_get(o, "hops")) > 50) abort();
        if (strcmp(cv, "pass") == 0 && json_array_size(json_object_get(o, "hops")) == 0) abort();
    }
    json_decref(o);
    return 0;
}
