/*
 * fuzz_received.c: libFuzzer target for the Received parser and the RFC 5322
 * date parser, and for the whole `homing trace` analysis (header splitting,
 * addresses, spoofing indicators and, for inputs whose first byte is odd,
 * the SPF/DKIM/DMARC glue over libspf2, OpenDKIM and OpenDMARC with a stub
 * resolver that answers every name from memory). The input is used as a
 * Received value, as a date, and as a message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/trace.h"

/* Answers with fixed records so every code path past the lookup runs. */
static int stub_lookup(void *ctx, const char *name, enum homing_rr type,
                       struct homing_dns_answer *out)
{
    (void)ctx;
    const char *v = NULL;
    if (strstr(name, "nx")) return -ENOENT;
    if (strstr(name, "temp")) return -EAGAIN;
    switch (type) {
    case HOMING_RR_TXT:
        if (strstr(name, "._domainkey."))
            v = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        else if (strncmp(name, "_dmarc.", 7) == 0)
            v = "v=DMARC1; p=reject; adkim=s; aspf=r";
        else
            v = "v=spf1 a mx ip4:192.0.2.0/24 include:nx.%{d} exists:%{i}.x.example ~all";
        break;
    case HOMING_RR_A: v = "192.0.2.1"; break;
    case HOMING_RR_AAAA: v = "2001:db8::1"; break;
    case HOMING_RR_MX: v = "10 mx.example"; break;
    case HOMING_RR_PTR: v = "mail.example"; break;
    }
    out->n = 0;
    if (v) {
        out->rr[0] = strdup(v);
        if (!out->rr[0]) return -ENOMEM;
        out->n = 1;
    }
    return 0;
}

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
    struct homing_resolver res = {.lookup = stub_lookup};
    struct homing_trace_options o = {.trusted_hosts = trusted,
                                     .n_trusted_hosts = 2,
                                     .authserv_ids = ids,
                                     .n_authserv_ids = 1,
                                     .offline = !(size > 0 && (data[0] & 1)),
                                     .resolver = &res};
    json_t *j = NULL;
    if (homing_trace_run(s, size, &o, &j) == 0) json_decref(j);
    return 0;
}
