/*
 * log.c: stderr logging for the programs. One write(2) per line, so lines from
 * several threads never interleave. log_error_limited: one line per interval
 * and limit, claimed by a compare-and-swap so two threads never both log.
 * With log_set_format(LOG_FORMAT_JSON) (log.format = json) each line is one
 * JSON object with fixed names: ts (UTC, seconds), level, prog, msg, and
 * withheld (log_error_limited's count, only when not zero); the message is
 * written by homing_json_buf_text, the one JSON string writer.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "homing/util.h"
#include "log.h"

static const char *log_prog = "homing";
static int log_time;
static enum log_level log_max = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;

#define LOG_LINE_MAX 2048 /* longer messages are cut (at a whole character or escape in JSON) */

void log_set_format(enum log_format format)
{
    log_fmt = format;
}

void log_init(const char *prog, int with_time)
{
    log_prog = prog;
    log_time = with_time;
}

void log_set_level(enum log_level level)
{
    log_max = level;
}

static const char *log_names[] = {"error", "warning", "info", "debug"};

/* One JSON object per line; the message is cut to fit LOG_LINE_MAX. */
static void log_emit_json(enum log_level level, unsigned long long withheld, const char *fmt,
                          va_list ap)
{
    char msg[LOG_LINE_MAX], ts[32];
    vsnprintf(msg, sizeof msg, fmt, ap);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct homing_buf b;
    homing_buf_init(&b, 8 * LOG_LINE_MAX); /* an escape is at most 6 bytes a byte */
    int r =
        homing_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"prog\":", ts, log_names[level]);
    r |= homing_json_buf_text(&b, log_prog);
    r |= homing_buf_puts(&b, ",\"msg\":");
    size_t at = b.len;
    if (homing_json_buf_text(&b, msg) < 0) { /* cannot happen under the cap above */
        b.len = at;
        r |= homing_json_buf_text(&b, "(log message too long to write)");
    }
    if (withheld) r |= homing_buf_printf(&b, ",\"withheld\":%llu", withheld);
    r |= homing_buf_puts(&b, "}\n");
    if (r == 0 && write(STDERR_FILENO, b.data, b.len) < 0) { /* nowhere left to report it */
    }
    homing_buf_free(&b);
}

static void log_emit_tail(enum log_level level, unsigned long long withheld, const char *fmt,
                          va_list ap)
{
    const char **names = log_names;
    if (level > log_max) return;
    if (log_fmt == LOG_FORMAT_JSON) {
        log_emit_json(level, withheld, fmt, ap);
        return;
    }
    char tail[96] = "";
    if (withheld) snprintf(tail, sizeof tail, " (%llu more like it not logged)", withheld);
    char line[LOG_LINE_MAX];
    size_t n = 0;
    if (log_time) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    n += (size_t)snprintf(line + n, sizeof line - n, "%s: %s: ", log_prog, names[level]);
    if (n < sizeof line) vsnprintf(line + n, sizeof line - n, fmt, ap);
    n = strnlen(line, sizeof line - 2);
    if (withheld) {
        snprintf(line + n, sizeof line - 1 - n, "%s", tail);
        n = strnlen(line, sizeof line - 2);
    }
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) { /* nowhere left to report it */
    }
}

static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
    log_emit_tail(level, 0, fmt, ap);
}

void log_error_limited(struct log_limit *limit, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    long long next = atomic_load(&limit->next_us);
    if (now < next ||
        !atomic_compare_exchange_strong(&limit->next_us, &next, now + LOG_LIMIT_INTERVAL_US)) {
        atomic_fetch_add(&limit->withheld, 1);
        return;
    }
    unsigned long long withheld = atomic_exchange(&limit->withheld, 0);
    va_list ap;
    va_start(ap, fmt);
    log_emit_tail(LOG_LEVEL_ERROR, withheld, fmt, ap);
    va_end(ap);
}

#define LOG_FN(name, level)                                                                        \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_emit(level, fmt, ap);                                                                  \
        va_end(ap);                                                                                \
    }
LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
