/*
 * fuzz_track.c: arbitrary bytes through `homing track` without a store:
 * homing_track_prepare, then a copy per recipient and one per message, each
 * marked with its X-Homing-Copy header (lib/track/mark.c). Must never crash,
 * every copy written must parse again as a message with GMime
 * (homing_track_check) into as many parts whenever the input did, and its
 * mark must read back as the message and recipient it was made for.
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
        .pixel_at_end = size > 0 && (data[0] & 4),
        .read_receipt = size > 0 && (data[0] & 1),
        .new_message_id = size > 0 && (data[0] & 2),
        .max_size = 1 << 20,
    };
    struct homing_copy_mark mk;
    (void)homing_copy_find(keys, (const char *)data, size, &mk); /* any input: no crash */
    struct homing_track *t;
    char err[256];
    if (homing_track_prepare((const char *)data, size, &o, &t, err, sizeof err) < 0) return 0;
    int parts = homing_track_check((const char *)data, size);
    struct homing_buf out, marked;
    homing_buf_init(&out, 64u << 20);
    homing_buf_init(&marked, 65u << 20);
    for (uint32_t r = 0; r <= 1; r++) {
        homing_buf_reset(&out);
        homing_buf_reset(&marked);
        if (homing_track_render(t, keys, 0x123456789abcdefULL, r, &out) < 0) abort();
        if (homing_copy_mark(keys, 0x123456789abcdefULL, r, out.data, out.len, &marked) < 0)
            abort();
        /* a copy must parse, into as many parts as the original */
        if (parts > 0 && homing_track_check(marked.data, marked.len) != parts) abort();
        if (homing_copy_find(keys, marked.data, marked.len, &mk) < 0 ||
            mk.message != 0x123456789abcdefULL || mk.recipient != r)
            abort();
    }
    homing_buf_free(&out);
    homing_buf_free(&marked);
    homing_track_free(t);
    return 0;
}
