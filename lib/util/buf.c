/*
 * buf.c: bounded growable buffers. Every buffer has a maximum fixed by its owner,
 * so an append past it fails with -E2BIG instead of growing without bound.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/util.h"

void homing_buf_init(struct homing_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static int buf_reserve(struct homing_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) return -E2BIG;
    size_t need = b->len + extra + 1; /* +1 for the NUL */
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int homing_buf_append(struct homing_buf *b, const void *p, size_t n)
{
    int r = buf_reserve(b, n);
    if (r < 0) return r;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int homing_buf_puts(struct homing_buf *b, const char *s)
{
    return homing_buf_append(b, s, strlen(s));
}

int homing_buf_vprintf(struct homing_buf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0) return -EINVAL;
    int r = buf_reserve(b, (size_t)n);
    if (r < 0) return r;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int homing_buf_printf(struct homing_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = homing_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

void homing_buf_reset(struct homing_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

char *homing_buf_steal(struct homing_buf *b)
{
    char *p = b->data;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void homing_buf_free(struct homing_buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int homing_array_grow(void **arr, size_t *cap, size_t used, size_t el, size_t first)
{
    if (used < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : (first ? first : 1);
    if (ncap < *cap || el == 0 || ncap > SIZE_MAX / el) return -E2BIG;
    void *p = realloc(*arr, ncap * el);
    if (!p) return -ENOMEM;
    memset((char *)p + *cap * el, 0, (ncap - *cap) * el);
    *arr = p;
    *cap = ncap;
    return 0;
}
