/*
 * sse.c: a parser of text/event-stream (the Server-Sent Events format of the
 * HTML standard), for `homing watch` reading /api/v1/stream.
 *
 * The bytes come from a server, so they are outside input: a line longer than
 * HOMING_SSE_LINE_MAX is cut (the rest of it is skipped), an event whose data
 * passes HOMING_SSE_DATA_MAX is dropped whole with -E2BIG, id and event values
 * are cut at HOMING_SSE_FIELD_MAX. Lines end with LF, CR or CRLF, in any
 * split across calls. Comments (":...") and unknown fields are ignored; "retry"
 * is ignored too (the caller has its own reconnect policy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/notify.h"
#include "homing/util.h"

struct homing_sse {
    homing_sse_cb cb;
    void *arg;
    char *line; /* HOMING_SSE_LINE_MAX bytes */
    size_t line_len;
    int line_cut; /* the current line passed the limit: skip to its end */
    int after_cr; /* the last byte was CR: a following LF belongs to it */
    struct homing_buf data;
    int has_data; /* a data field was seen (even empty) */
    int too_big;  /* this event's data passed the limit */
    char id[HOMING_SSE_FIELD_MAX];
    char event[HOMING_SSE_FIELD_MAX];
};

int homing_sse_new(homing_sse_cb cb, void *arg, struct homing_sse **out)
{
    if (!cb || !out) return -EINVAL;
    struct homing_sse *p = calloc(1, sizeof *p);
    if (!p || !(p->line = malloc(HOMING_SSE_LINE_MAX))) {
        free(p);
        return -ENOMEM;
    }
    p->cb = cb;
    p->arg = arg;
    homing_buf_init(&p->data, HOMING_SSE_DATA_MAX);
    *out = p;
    return 0;
}

void homing_sse_free(struct homing_sse *p)
{
    if (!p) return;
    homing_buf_free(&p->data);
    free(p->line);
    free(p);
}

static void sse_event_reset(struct homing_sse *p)
{
    homing_buf_reset(&p->data);
    p->has_data = 0;
    p->too_big = 0;
    p->id[0] = p->event[0] = '\0';
}

void homing_sse_reset(struct homing_sse *p)
{
    if (!p) return;
    p->line_len = 0;
    p->line_cut = 0;
    p->after_cr = 0;
    sse_event_reset(p);
}

static void sse_field_copy(char *dst, const char *v, size_t n)
{
    if (n >= HOMING_SSE_FIELD_MAX) n = HOMING_SSE_FIELD_MAX - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* Handles one complete line (without its end). */
static int sse_line(struct homing_sse *p, const char *l, size_t n)
{
    if (n == 0) { /* blank line: dispatch */
        int r = 0;
        if (p->too_big)
            r = -E2BIG;
        else if (p->has_data) {
            struct homing_sse_event ev;
            memcpy(ev.id, p->id, sizeof ev.id);
            memcpy(ev.event, p->event, sizeof ev.event);
            ev.data = p->data.data ? p->data.data : "";
            ev.data_len = p->data.len;
            r = p->cb(&ev, p->arg);
        }
        sse_event_reset(p);
        return r;
    }
    if (l[0] == ':') return 0;
    const char *colon = memchr(l, ':', n);
    size_t fl = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vl = colon ? n - fl - 1 : 0;
    if (vl && *v == ' ') {
        v++;
        vl--;
    }
    if (fl == 4 && memcmp(l, "data", 4) == 0) {
        if (p->too_big) return 0;
        if ((p->has_data && homing_buf_append(&p->data, "\n", 1) < 0) ||
            homing_buf_append(&p->data, v, vl) < 0) {
            p->too_big = 1;
            homing_buf_reset(&p->data);
            return 0;
        }
        p->has_data = 1;
    } else if (fl == 2 && memcmp(l, "id", 2) == 0) {
        if (!memchr(v, '\0', vl)) sse_field_copy(p->id, v, vl);
    } else if (fl == 5 && memcmp(l, "event", 5) == 0) {
        sse_field_copy(p->event, v, vl);
    }
    return 0;
}

int homing_sse_feed(struct homing_sse *p, const char *buf, size_t n)
{
    if (!p || (!buf && n)) return -EINVAL;
    int first_err = 0;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n' && p->after_cr) {
            p->after_cr = 0;
            continue;
        }
        p->after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            int r = sse_line(p, p->line, p->line_len);
            p->line_len = 0;
            p->line_cut = 0;
            if (r > 0) return r; /* the callback asked to stop */
            if (r < 0 && !first_err) first_err = r;
            continue;
        }
        if (p->line_len < HOMING_SSE_LINE_MAX)
            p->line[p->line_len++] = c;
        else
            p->line_cut = 1;
    }
    return first_err;
}
