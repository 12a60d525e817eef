/*
 * dnsbl.c: DNS blocklist lookups (RFC 5782) of the address that connected to
 * the trusted boundary, in the zones the configuration names
 * (trace.dnsbl_zones, --dnsbl-zone; none by default, so nothing is asked
 * unless an investigator chooses a list). Each zone is asked through the
 * run's resolver, under its DNS budget.
 *
 * Contract: appends one object per zone to out: {zone, query, result
 * ("listed", "not_listed", "temperror", "error"), codes[] (the A records of a
 * listing)}. An answer outside 127.0.0.0/8, or 127.255.255.0/24 (the lists'
 * own error codes, RFC 5782 2.1 and e.g. Spamhaus's "query refused"), is
 * "error", not a listing. At most HOMING_TRACE_DNSBL_ZONES_MAX zones. Returns
 * a negative errno only when memory fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "trace_int.h"

/* The query name of ip in zone: reversed octets (IPv4) or nibbles (IPv6). */
int trace_dnsbl_name(const char *ip, const char *zone, char *out, size_t cap)
{
    unsigned char a[16];
    int n;
    if (inet_pton(AF_INET, ip, a) == 1) {
        n = snprintf(out, cap, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone);
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        static const char hex[] = "0123456789abcdef";
        char nib[64];
        for (int i = 0; i < 16; i++) {
            nib[(15 - i) * 4] = hex[a[i] & 15];
            nib[(15 - i) * 4 + 1] = '.';
            nib[(15 - i) * 4 + 2] = hex[a[i] >> 4];
            nib[(15 - i) * 4 + 3] = '.';
        }
        n = snprintf(out, cap, "%.64s%s", nib, zone);
    } else {
        return -EINVAL;
    }
    return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}

int trace_dnsbl_check(struct homing_resolver *res, const char *ip, const char *const *zones,
                      size_t n_zones, json_t *out)
{
    for (size_t z = 0; z < n_zones && z < HOMING_TRACE_DNSBL_ZONES_MAX; z++) {
        char name[HOMING_TRACE_TOKEN_MAX + 80];
        json_t *o = json_object(), *codes = json_array();
        if (!o || !codes) {
            json_decref(o);
            json_decref(codes);
            return -ENOMEM;
        }
        json_object_set_new(o, "zone", homing_json_text(zones[z]));
        const char *result;
        if (trace_dnsbl_name(ip, zones[z], name, sizeof name) < 0) {
            json_object_set_new(o, "query", json_null());
            result = "error";
        } else {
            json_object_set_new(o, "query", homing_json_text(name));
            struct homing_dns_answer a = {0};
            int rc = res->lookup(res->ctx, name, HOMING_RR_A, &a);
            if (rc == -ENOMEM) {
                json_decref(o);
                json_decref(codes);
                return rc;
            }
            if (rc == -ENOENT || (rc == 0 && a.n == 0)) {
                result = "not_listed";
            } else if (rc < 0) {
                result = "temperror";
            } else {
                result = "listed";
                for (size_t i = 0; i < a.n; i++) {
                    struct in_addr v;
                    unsigned long h = inet_pton(AF_INET, a.rr[i], &v) == 1 ? ntohl(v.s_addr) : 0;
                    if ((h >> 24) != 127 || (h >> 8) == 0x7fffffUL) result = "error";
                    json_array_append_new(codes, homing_json_text(a.rr[i]));
                }
            }
            homing_dns_answer_clear(&a);
        }
        json_object_set_new(o, "result", json_string(result));
        json_object_set_new(o, "codes", codes);
        if (json_array_append_new(out, o) < 0) return -ENOMEM;
    }
    return 0;
}
