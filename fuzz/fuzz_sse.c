/*
 * fuzz_sse.c: the Server-Sent Events parser that `homing watch` runs over the
 * bytes of /api/v1/stream (lib/notify/sse.c). The input is fed in pieces whose
 * sizes come from its first byte, so line ends split across reads (CR then LF
 * in the next piece) are exercised; the callback checks what it is handed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_event(const struct homing_sse_event *ev, void *arg)
{
    size_t *events = arg;
    /* The limits hold and the fields are terminated. */
    if (ev->data_len > HOMING_SSE_DATA_MAX) abort();
    if (strlen(ev->id) >= HOMING_SSE_FIELD_MAX || strlen(ev->event) >= HOMING_SSE_FIELD_MAX)
        abort();
    if (ev->data_len && !ev->data) abort();
    (*events)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    size_t events = 0;
    struct homing_sse *p;
    if (homing_sse_new(check_event, &events, &p) < 0) return 0;
    for (size_t off = 1; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        homing_sse_feed(p, (const char *)data + off, n);
    }
    homing_sse_reset(p);
    homing_sse_feed(p, (const char *)data + 1, size - 1); /* once more, in one piece */
    homing_sse_free(p);
    return 0;
}
