/*
 * received_date.c: RFC 5322 date-time parsing (section 3.3 and the obsolete
 * syntax of section 4.3) for Date fields and the stamps at the end of Received
 * fields.
 *
 * Contract: homing_date_parse never reads past n bytes, never allocates, and
 * fills its outputs only for a complete, range-checked date. The epoch value
 * comes from days_from_civil arithmetic rather than timegm/mktime so it does
 * not depend on TZ, locale or the range of time_t, and a date across midnight,
 * a month or a year end always yields the full difference in seconds.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "homing/trace.h"

#define DATE_TEXT_MAX    256 /* a date longer than this (after comments) is malformed */
#define DATE_COMMENT_MAX 8   /* nesting depth of comments */

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int month_days(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

/* Copies s to out with comments replaced by a space (comments may nest and
 * hold quoted pairs), so the grammar below only sees tokens. */
static int strip_comments(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (depth > 0) {
            if (c == '\\' && i + 1 < n)
                i++;
            else if (c == '(') {
                if (++depth > DATE_COMMENT_MAX) return -EBADMSG;
            } else if (c == ')')
                depth--;
            continue;
        }
        if (c == '(') {
            depth = 1;
            c = ' ';
        }
        if (c == '\r' || c == '\n' || c == '\t') c = ' ';
        if (o + 1 >= cap) return -EBADMSG;
        out[o++] = c;
    }
    if (depth) return -EBADMSG;
    out[o] = '\0';
    return (int)o;
}

static void skip_ws(const char **p)
{
    while (**p == ' ') (*p)++;
}

/* Reads 1..maxd digits; returns the count read (0 if none). */
static int read_num(const char **p, int maxd, int *v)
{
    int n = 0, x = 0;
    while (n < maxd && **p >= '0' && **p <= '9') {
        x = x * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n && **p >= '0' && **p <= '9') return 0; /* too many digits */
    *v = x;
    return n;
}

static int read_word(const char **p, char *w, size_t cap)
{
    size_t n = 0;
    while ((**p >= 'A' && **p <= 'Z') || (**p >= 'a' && **p <= 'z')) {
        if (n + 1 >= cap) return -1;
        w[n++] = **p;
        (*p)++;
    }
    w[n] = '\0';
    return (int)n;
}

/* Named zones of RFC 5322 4.3; military letters mean -0000 (unknown) there
 * because RFC 822 defined their signs backwards and senders disagreed. */
static int obs_zone(const char *w, int *tz)
{
    static const struct {
        const char *name;
        int min;
    } zones[] = {{"UT", 0},        {"UTC", 0},       {"GMT", 0},       {"Z", 0},
                 {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
                 {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60}};
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strcasecmp(w, zones[i].name) == 0) {
            *tz = zones[i].min;
            return 0;
        }
    if (strlen(w) == 1 && ((*w >= 'A' && *w <= 'I') || (*w >= 'K' && *w <= 'Y') ||
                           (*w >= 'a' && *w <= 'i') || (*w >= 'k' && *w <= 'y'))) {
        *tz = 0;
        return 0;
    }
    return -EBADMSG;
}

int homing_date_parse(const char *s, size_t n, int64_t *t, int *tz_min)
{
    static const char *const wdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[DATE_TEXT_MAX];
    char w[16];
    if (!s || n >= DATE_TEXT_MAX * 4) return -EBADMSG;
    if (strip_comments(s, n, buf, sizeof buf) < 0) return -EBADMSG;
    const char *p = buf;
    skip_ws(&p);

    /* Optional day-of-week and comma (the comma is optional in practice). */
    const char *save = p;
    int wl = read_word(&p, w, sizeof w);
    if (wl > 0) {
        int found = -1;
        if (wl >= 3)
            for (int i = 0; i < 7; i++)
                if (strncasecmp(w, wdays[i], 3) == 0) found = i;
        if (found < 0) return -EBADMSG;
        skip_ws(&p);
        if (*p == ',') p++;
        skip_ws(&p);
    } else {
        p = save;
    }

    int day, year, hour, min, sec = 0;
    if (read_num(&p, 2, &day) == 0) return -EBADMSG;
    skip_ws(&p);
    if (*p == '-') p++; /* "1-Jul-2003" appears in old mailers */
    if (read_word(&p, w, sizeof w) < 3) return -EBADMSG;
    int mon = -1;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(w, months[i], 3) == 0) mon = i;
    if (mon < 0) return -EBADMSG;
    skip_ws(&p);
    if (*p == '-') p++;
    int yd = read_num(&p, 4, &year);
    if (yd < 2) return -EBADMSG;
    if (yd == 2)
        year += year < 50 ? 2000 : 1900;
    else if (yd == 3)
        year += 1900;
    if (year < 1900) return -EBADMSG;
    skip_ws(&p);

    if (read_num(&p, 2, &hour) == 0) return -EBADMSG;
    skip_ws(&p);
    if (*p++ != ':') return -EBADMSG;
    skip_ws(&p);
    if (read_num(&p, 2, &min) == 0) return -EBADMSG;
    skip_ws(&p);
    if (*p == ':') {
        p++;
        skip_ws(&p);
        if (read_num(&p, 2, &sec) == 0) return -EBADMSG;
    }
    skip_ws(&p);

    int tz = 0;
    if (*p == '+' || *p == '-') {
        int neg = *p == '-', z;
        p++;
        const char *zs = p;
        if (read_num(&p, 4, &z) != 4 || p - zs != 4) return -EBADMSG;
        if (z % 100 >= 60) return -EBADMSG;
        tz = (z / 100) * 60 + z % 100;
        if (neg) tz = -tz;
    } else if (read_word(&p, w, sizeof w) > 0) {
        if (obs_zone(w, &tz) < 0) return -EBADMSG;
    } else {
        return -EBADMSG;
    }
    skip_ws(&p);
    if (*p != '\0') return -EBADMSG;

    if (mon < 0 || day < 1 || day > month_days(year, mon + 1) || hour > 23 || min > 59 || sec > 60)
        return -EBADMSG;
    int64_t days = days_from_civil(year, (unsigned)mon + 1, (unsigned)day);
    *t = days * 86400 + hour * 3600 + min * 60 + sec - (int64_t)tz * 60;
    *tz_min = tz;
    return 0;
}
