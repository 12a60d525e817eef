/*
 * log.c: stderr logging for the programs. One write(2) per line, so lines from
 * several threads never interleave. log_error_limited: one line per interval
 * and limit, claimed by a compare-and-swap so two threads never both log.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "homing";
static int log_time;
static enum log_level log_max = LOG_LEVEL_INFO;

void log_init(const char *prog, int with_time)
{
    log_prog = prog;
    log_time = with_time;
}

void log_set_level(enum log_level level)
{
    log_max = level;
}

static void log_emit_tail(enum log_level level, const char *tail, const char *fmt, va_list ap)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level > log_max) return;
    char line[2048];
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
    if (tail) {
        snprintf(line + n, sizeof line - 1 - n, "%s", tail);
        n = strnlen(line, sizeof line - 2);
    }
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) { /* nowhere left to report it */
    }
}

static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
    log_emit_tail(level, NULL, fmt, ap);
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
    char tail[96] = "";
    if (withheld) snprintf(tail, sizeof tail, " (%llu more like it not logged)", withheld);
    va_list ap;
    va_start(ap, fmt);
    log_emit_tail(LOG_LEVEL_ERROR, withheld ? tail : NULL, fmt, ap);
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
