/*
 * fuzz_token.c: arbitrary bytes as a token must verify or fail cleanly; a fixed
 * key ring is used so the fuzzer can also reach the MAC comparison.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "homing/token.h"

static struct homing_keyring *fuzz_keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_keys(void)
{
    char path[] = "/tmp/homing-fuzz-token-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) abort();
    const char *line = "1 0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
                       "2 0 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n";
    if (write(fd, line, strlen(line)) < 0) abort();
    fchmod(fd, 0600);
    close(fd);
    if (homing_keyring_load(path, &fuzz_keys, NULL, 0) < 0) abort();
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_keys) load_keys();
    struct homing_token t;
    if (homing_token_verify(fuzz_keys, (const char *)data, size, &t) == 0) {
        /* Whatever verifies must re-encode to a verifying token of the same value. */
        char again[HOMING_TOKEN_LEN + 1];
        struct homing_token u;
        if (homing_token_encode(fuzz_keys, &t, again) < 0) abort();
        if (homing_token_verify(fuzz_keys, again, HOMING_TOKEN_LEN, &u) < 0) abort();
        if (u.message != t.message || u.recipient != t.recipient || u.item != t.item) abort();
    }
    return 0;
}
