/*
 * log.h: the one logging module of the programs (the library never logs).
 * Messages go to stderr as "homing: LEVEL: text"; the daemon adds a timestamp.
 * Attacker-controlled text must pass through homing_str_escape first
 * (docs/hacking.md, "Output escaping").
 *
 * An error that can repeat once per request (a full disk fails every hit)
 * goes through log_error_limited with a `struct log_limit` of its own (a
 * static at the call site, shared by every thread): at most one line per
 * LOG_LIMIT_INTERVAL_US, which says how many like it were left out before it.
 */
#ifndef HOMING_LOG_H
#define HOMING_LOG_H

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(const char *prog, int with_time);
void log_set_level(enum log_level level);
/* log.format: text ("TIME homing: LEVEL: text") or json (one object per line:
 * ts, level, prog, msg, withheld; see log.c). */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
void log_set_format(enum log_format format);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LOG_LIMIT_INTERVAL_US 1000000 /* one line per kind of error per second at most */

struct log_limit {
    _Atomic long long next_us;           /* monotonic time of the next line allowed */
    _Atomic unsigned long long withheld; /* lines left out since the last one */
};
#define LOG_LIMIT_INIT                                                                             \
    {                                                                                              \
        0, 0                                                                                       \
    }

/* log_error, unless a line of this limit went out less than
 * LOG_LIMIT_INTERVAL_US ago: then only counted, and the next line ends with
 * "(N more like it not logged)". */
void log_error_limited(struct log_limit *limit, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
