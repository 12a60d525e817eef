/*
 * fuzz_track.c: arbitrary bytes through `homing track` without a store:
 * homing_track_prepare, then a copy per recipient and one per message. Must
 * never crash, and every copy written must parse again as a message with
 * GMime (homing_track_check) into as many parts whenever the input did.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"

static struct homing_keyring *keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/homing-fuzz-track-XXXXXX";
    if (!mkdtemp(dir)) abort();
    char path[64];
    snprintf(path, sizeof path, "%s/token.keys", dir);
    char err[256];
    if (homing_keyring_create(path) < 0 || homing_keyring_load(path, &keys, err, sizeof err) < 0)
        abort();
    unlink(path);
    rmdir(dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys) LLVMFuzzerInitialize(NULL, NULL);
    struct homing_track_options o = {
        .base_url = "https://t.example.com",
        .rewrite_text = 1,
        .pixel = 1,
        .read_receipt = size > 0 && (data[0] & 1),
        .max_size = 1 << 20,
    };
    struct homing_track *t;
    char err[256];
    if (homing_track_prepare((const char *)data, size, &o, &t, err, sizeof err) < 0) return 0;
    int parts = homing_track_check((const char *)data, size);
    struct homing_buf out;
    homing_buf_init(&out, 64u << 20);
    for (uint32_t r = 0; r <= 1; r++) {
        homing_buf_reset(&out);
        if (homing_track_render(t, keys, 0x123456789abcdefULL, r, &out) < 0) abort();
        /* a copy must parse, into as many parts as the original */
        if (parts > 0 && homing_track_check(out.data, out.len) != parts) abort();
    }
    homing_buf_free(&out);
    homing_track_free(t);
    return 0;
}
