/*
 * fuzz_url.c: homing_url_check (lib/util/url.c) on arbitrary bytes. Checks
 * what the redirect relies on: a destination that passes is printable ASCII
 * without spaces (homing_url_header_safe), starts with http:// or https://,
 * is at most HOMING_URL_DEST_MAX bytes, and checks to itself; an input with a
 * C0 control, DEL or a backslash never passes; a refused one leaves the
 * buffer as it was and names a reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct homing_buf b;
    homing_buf_init(&b, 4 * HOMING_URL_DEST_MAX);
    if (homing_buf_puts(&b, "x") < 0) abort();
    const char *why = NULL;
    int r = homing_url_check(in, size, &b, &why);
    if (r < 0) {
        if (r != -EINVAL && r != -E2BIG) abort();
        if (!why || !*why || b.len != 1 || strcmp(b.data, "x") != 0) abort();
        homing_buf_free(&b);
        return 0;
    }
    const char *out = b.data + 1;
    size_t n = b.len - 1;
    if (r != 0 || n > HOMING_URL_DEST_MAX || !homing_url_header_safe(out, n)) abort();
    if (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0) abort();
    for (size_t i = 0; i < size; i++)
        if (data[i] < 0x20 || data[i] == 0x7f || data[i] == '\\') abort();
    struct homing_buf again;
    homing_buf_init(&again, 4 * HOMING_URL_DEST_MAX);
    if (homing_url_check(out, n, &again, NULL) != 0 || again.len != n ||
        memcmp(again.data, out, n) != 0)
        abort();
    homing_buf_free(&again);
    homing_buf_free(&b);
    return 0;
}
