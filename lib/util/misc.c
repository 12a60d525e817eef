/*
 * misc.c: time, random public ids and bounded string helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "homing/util.h"

int64_t homing_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t homing_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void homing_time_format(int64_t t_us, char *out)
{
    time_t s = (time_t)(t_us / 1000000);
    long us = (long)(t_us % 1000000);
    if (us < 0) {
        us += 1000000;
        s -= 1;
    }
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, HOMING_TIME_STR_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, HOMING_TIME_STR_MAX - n, ".%06ldZ", us);
}

uint64_t homing_id_random(void)
{
    uint64_t id;
    do {
        randombytes_buf(&id, sizeof id);
        id &= 0x7fffffffffffffffULL; /* fits a signed 64-bit SQL integer */
    } while (id == 0 || id == HOMING_ID_DEMO);
    return id;
}

void homing_id_format(uint64_t id, char *out)
{
    snprintf(out, HOMING_ID_STR_MAX, "%016llx", (unsigned long long)id);
}

int homing_id_parse(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (n != 16) return -EINVAL;
    uint8_t b[8];
    if (homing_hex_decode(s, n, b, sizeof b) != 8) return -EINVAL;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | b[i];
    if (v == 0 || v > 0x7fffffffffffffffULL) return -EINVAL;
    *out = v;
    return 0;
}

char *homing_strdup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *homing_strndup0(const char *s, size_t n)
{
    return s ? strndup(s, n) : NULL;
}

size_t homing_strlcpy(char *dst, const char *src, size_t cap)
{
    if (cap == 0) return 0;
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

void homing_str_sanitize(char *dst, size_t cap, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    dst[o] = '\0';
}

/* See homing/util.h. */
int homing_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
    long us = 0;
    size_t len = strlen(s);
    if (len == 10) {
        if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return -EINVAL;
    } else if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) == 6 &&
               n == 19) {
        const char *p = s + 19;
        if (*p == '.') {
            int k = 0;
            for (p++; *p >= '0' && *p <= '9' && k < 6; p++, k++) us = us * 10 + (*p - '0');
            if (k == 0) return -EINVAL;
            for (; k < 6; k++) us *= 10;
        }
        if (strcmp(p, "Z") != 0) return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60)
        return -EINVAL;
    /* days from the civil date (proleptic Gregorian), without the C library's
     * time zone */
    int yy = y - (mo <= 2);
    int era = yy / 400, yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *out = ((days * 86400 + h * 3600 + mi * 60 + se) * 1000000LL) + us;
    return 0;
}
