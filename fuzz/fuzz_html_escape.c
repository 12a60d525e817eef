/*
 * fuzz_html_escape.c: homing_buf_html (lib/util/escape.c), the dashboard's
 * writer of outside text into HTML, and homing_form_get, its reader of form
 * bodies, on arbitrary bytes. Checks: the HTML never holds a raw < > " ' or a
 * control byte, and every & starts a character reference; a form value
 * decodes to at most its encoded length, without a NUL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct homing_buf b;
    homing_buf_init(&b, (size_t)1 << 24);
    if (homing_buf_html(&b, s) == 0) {
        for (size_t i = 0; i < b.len; i++) {
            unsigned char c = (unsigned char)b.data[i];
            if (c == '<' || c == '>' || c == '"' || c == '\'' || c < 0x20 || c == 0x7f) abort();
            if (c == '&' && strncmp(b.data + i, "&amp;", 5) != 0 &&
                strncmp(b.data + i, "&lt;", 4) != 0 && strncmp(b.data + i, "&gt;", 4) != 0 &&
                strncmp(b.data + i, "&quot;", 6) != 0 && strncmp(b.data + i, "&#39;", 5) != 0)
                abort();
        }
    }
    homing_buf_free(&b);
    char out[256];
    int r = homing_form_get(s, size, "key", out, sizeof out);
    if (r >= 0 && ((size_t)r != strlen(out) || (size_t)r > size)) abort();
    if (r < 0 && r != -ENOENT && r != -EINVAL && r != -E2BIG) abort();
    free(s);
    return 0;
}
