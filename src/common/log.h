/*
 * log.h: the one logging module of the programs (the library never logs).
 * Messages go to stderr as "homing: LEVEL: text"; the daemon adds a timestamp.
 * Attacker-controlled text must pass through homing_str_escape first
 * (docs/hacking.md, "Output escaping").
 */
#ifndef HOMING_LOG_H
#define HOMING_LOG_H

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(const char *prog, int with_time);
void log_set_level(enum log_level level);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
