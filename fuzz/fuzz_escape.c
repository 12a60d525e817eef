/*
 * fuzz_escape.c: the output escapers (lib/util/escape.c, lib/util/json.c) over
 * any bytes. What they promise, checked on each input: terminal text holds no
 * control, no C1 control, no bidi override and no byte that is not UTF-8 (and
 * only printable ASCII without HOMING_ESCAPE_UTF8); the buffer and the fixed
 * size writers agree; a CSV cell holds no CR or LF and is guarded when it
 * starts like a formula; the JSON text parses, holds no raw C1 or DEL, gives
 * back the string (or its escaped form) and is what homing_json_dumps writes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ESCAPE_IN_MAX 4096

static void check_terminal(const char *s, size_t n, unsigned flags)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = homing_utf8_decode(s + i, n - i, &cp);
        if (!len || homing_escape_codepoint(cp)) abort();
        if (!(flags & HOMING_ESCAPE_UTF8) && cp >= 0x7f) abort();
        i += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_ESCAPE_IN_MAX) return 0;
    const char *in = (const char *)data;
    size_t cap = size * HOMING_ESCAPE_GROWTH + 1;
    char *out = malloc(cap);
    if (!out) return 0;
    for (unsigned flags = 0; flags <= HOMING_ESCAPE_UTF8; flags++) {
        size_t n = homing_str_escape(out, cap, in, size, flags);
        if (n != strlen(out)) abort();
        check_terminal(out, n, flags);
        struct homing_buf b;
        homing_buf_init(&b, cap);
        if (homing_buf_escape(&b, in, size, flags) < 0) abort();
        if (b.len != n || (n && memcmp(b.data, out, n) != 0)) abort();
        homing_buf_free(&b);
        /* a short destination is a prefix, cut at a whole unit */
        char small[16];
        size_t k = homing_str_escape(small, sizeof small, in, size, flags);
        if (k > n || memcmp(small, out, k) != 0) abort();
    }

    /* the rest works on C strings: up to the first NUL */
    char *s = malloc(size + 1);
    if (!s) {
        free(out);
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);

    struct homing_buf b;
    homing_buf_init(&b, cap * 2 + 16);
    if (homing_csv_cell(&b, s, HOMING_ESCAPE_UTF8) < 0) abort();
    if (b.len && (memchr(b.data, '\r', b.len) || memchr(b.data, '\n', b.len))) abort();
    if (len && strchr("=+-@\t\r", s[0]) && strncmp(b.data, "\"'", 2) != 0) abort();
    homing_buf_free(&b);

    homing_buf_init(&b, cap * 2 + 16);
    if (homing_json_buf_text(&b, s) < 0) abort();
    const unsigned char *u = (const unsigned char *)b.data;
    for (size_t i = 0; i < b.len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f) abort();
        if (u[i] == 0xc2 && i + 1 < b.len && u[i + 1] <= 0x9f) abort();
    }
    json_t *a = json_array();
    json_array_append_new(a, homing_json_text(s));
    char *doc = homing_json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!doc || strlen(doc) != b.len + 2 || memcmp(doc + 1, b.data, b.len) != 0) abort();
    json_t *back = json_loads(doc, 0, NULL);
    const char *got = json_string_value(json_array_get(back, 0));
    if (!got) abort();
    json_t *t = json_string(s);
    if (t) {
        if (strcmp(got, s) != 0) abort();
    } else {
        homing_str_escape(out, cap, s, len, HOMING_ESCAPE_UTF8);
        if (strcmp(got, out) != 0) abort();
    }
    json_decref(t);
    json_decref(back);
    free(doc);
    homing_buf_free(&b);
    free(s);
    free(out);
    return 0;
}
