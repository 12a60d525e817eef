/*
 * fuzz_router.c: the public listener's request routing and client-address
 * resolution, fed arbitrary bytes: a path, then X-Forwarded-For and Forwarded
 * values and a trusted-proxy list, split at NUL bytes of the input; the first
 * part also as the body of a one-click unsubscribe POST; and the whole input
 * as a request head to the framing check.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *parts[4] = {"", "", "", ""};
    size_t lens[4] = {0, 0, 0, 0};
    size_t start = 0;
    int n = 0;
    for (size_t i = 0; i <= size && n < 4; i++) {
        if (i == size || p[i] == '\0') {
            parts[n] = p + start;
            lens[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    struct route r;
    route_parse(parts[0], lens[0], &r);
    if (r.token.p && (r.token.p < parts[0] || r.token.p + r.token.len > parts[0] + lens[0]))
        abort(); /* the token must be a slice of the path */
    if (r.token.p && memchr(r.token.p, '/', r.token.len)) abort();

    int oc = route_one_click(parts[0], lens[0]);
    if (oc != 0 && oc != 1) abort();

    char proxies[256];
    size_t pl = lens[3] < sizeof proxies - 1 ? lens[3] : sizeof proxies - 1;
    memcpy(proxies, parts[3], pl);
    proxies[pl] = '\0';
    struct trusted_proxies t;
    if (trusted_proxies_parse(proxies, &t) < 0)
        trusted_proxies_parse("127.0.0.0/8, ::1, 10.0.0.0/8", &t);
    struct homing_addr peer = {.family = 4, .bytes = {127, 0, 0, 1}}, out;
    clientaddr_resolve(&t, &peer, parts[1], lens[1], parts[2], lens[2], &out);
    if (out.family != 4 && out.family != 6) abort();
    char text[HOMING_ADDR_STR_MAX];
    homing_addr_format(&out, text);

    int f = route_framing_check(p, size);
    if (f != 0 && f != -EINVAL) abort();
    return 0;
}
