/*
 * fuzz_maillog.c: arbitrary bytes as Postfix and Exim log lines must parse or
 * be ignored cleanly; every field the parser fills must stay NUL-terminated
 * within its limit and free of control bytes. The first byte picks the flavour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/delivery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_field(const char *f, size_t cap)
{
    size_t n = strnlen(f, cap);
    if (n >= cap) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)f[i] < 0x20) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int flavour = data[0] & 1 ? HOMING_MAILLOG_EXIM : HOMING_MAILLOG_POSTFIX;
    /* a copy without a terminator, so reads past the end are caught */
    char *line = malloc(size - 1 ? size - 1 : 1);
    if (!line) return 0;
    memcpy(line, data + 1, size - 1);
    struct homing_maillog_line l;
    /* a fixed "now" keeps runs reproducible (BSD time stamps have no year) */
    int r = homing_maillog_parse(flavour, line, size - 1, INT64_C(1795000000000000), &l);
    if (r == 0) {
        fuzz_field(l.qid, sizeof l.qid);
        fuzz_field(l.message_id, sizeof l.message_id);
        fuzz_field(l.to, sizeof l.to);
        fuzz_field(l.orig_to, sizeof l.orig_to);
        fuzz_field(l.dsn, sizeof l.dsn);
        fuzz_field(l.relay, sizeof l.relay);
        fuzz_field(l.text, sizeof l.text);
        if (l.kind == HOMING_MAILLOG_RESULT && (l.status < 1 || l.status > 3)) abort();
    }
    free(line);
    return 0;
}
