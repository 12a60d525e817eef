/*
 * fuzz_asn_file.c: arbitrary bytes as an ASN range file (the mapped format of
 * lib/reader/asn.c) must be refused or, once accepted, answer lookups without
 * reading outside the mapping: the loader's checks are what lookups trust.
 * The input is put in a memfd so the real open/mmap path runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "homing/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("homing-fuzz-asn", MFD_CLOEXEC);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct homing_asn_db *db;
    if (homing_asn_open(path, &db) == 0) {
        /* Probe both families at the edges and inside. */
        static const char *probes[] = {
            "0.0.0.0", "10.0.0.1",    "255.255.255.255",
            "::",      "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
            struct homing_addr a;
            if (homing_addr_parse(probes[i], strlen(probes[i]), &a) < 0) abort();
            uint32_t asn;
            const char *org;
            if (homing_asn_lookup(db, &a, &asn, &org) == 0 && strlen(org) >= size) abort();
        }
        homing_asn_close(db);
    }
    close(fd);
    return 0;
}
