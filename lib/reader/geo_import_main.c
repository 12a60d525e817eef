/*
 * geo_import_main.c: homing-geo-import OUT CSV..., the setup-time converter of
 * the ip-location-db ASN ranges into the compact file of asn.c. It links asn.c
 * alone (libc only), so scripts/setup.sh can build it with cc before homing
 * itself is built. Exit 0 on success, 2 after one line on stderr.
 */
#include <stdio.h>

#include "homing/reader.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: homing-geo-import OUT.hmasn CSV...\n");
        return 2;
    }
    char err[512] = "";
    int n =
        homing_asn_build((const char *const *)argv + 2, (size_t)argc - 2, argv[1], err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "homing-geo-import: %s\n", err[0] ? err : "failed");
        return 2;
    }
    printf("homing-geo-import: %d ranges written to %s\n", n, argv[1]);
    return 0;
}
