/*
 * fuzz_received.c: libFuzzer target for the Received parser and the RFC 5322
 * date parser, and for the whole `homing trace` analysis offline (header
 * splitting, addresses, spoofing indicators), which reads the same attacker
 * text. The input is used as a Received value, as a date, and as a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct homing_received *r = NULL;
    if (homing_received_parse(s, size, &r) == 0) homing_received_free(r);
    int64_t t;
    int tz;
    (void)homing_date_parse(s, size, &t, &tz);

    static const char *const trusted[] = {"mx.example.org", ".int.example.org"};
    static const char *const ids[] = {"mx.example.org"};
    struct homing_trace_options o = {.trusted_hosts = trusted,
                                     .n_trusted_hosts = 2,
                                     .authserv_ids = ids,
                                     .n_authserv_ids = 1,
                                     .offline = 1};
    json_t *j = NULL;
    if (homing_trace_run(s, size, &o, &j) == 0) json_decref(j);
    return 0;
}
