/*
 * log.c: stderr logging for the programs. One write(2) per line, so lines from
 * several threads never interleave.
 */
#include <stdarg.h>
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

static void log_emit(enum log_level level, const char *fmt, va_list ap)
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
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) { /* nowhere left to report it */
    }
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
