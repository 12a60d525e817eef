/*
 * sdnotify.h: systemd's service notification protocol, spoken by the daemon
 * itself: one datagram per state change to the unix socket named by
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace). READY=1 once
 * serving, WATCHDOG=1 at half of $WATCHDOG_USEC while the main thread's watch
 * loop runs, STOPPING=1 at shutdown. Without $NOTIFY_SOCKET every call does
 * nothing, so the daemon runs the same outside systemd. Written here rather
 * than linking libsystemd: three messages over one sendto, and no library in
 * the package's dependencies for them. Main thread only.
 */
#ifndef HOMING_SERVE_SDNOTIFY_H
#define HOMING_SERVE_SDNOTIFY_H

#include <stdint.h>

/* Longest notification sent (READY=1 plus a STATUS= line). */
#define SDNOTIFY_MESSAGE_MAX 512
/* Shortest ping interval honoured, so a tiny WATCHDOG_USEC cannot make the
 * main thread spin on sendto. */
#define SDNOTIFY_WATCHDOG_MIN_US 10000

/* Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog is for
 * this process only when the pid is ours or unset), then unsets them so no
 * child inherits them. Returns 1 when notifications will be sent, 0 when not,
 * -EINVAL for a malformed variable (logged by the caller; nothing is sent). */
int sdnotify_init(void);

/* Sends msg (e.g. "READY=1\nSTATUS=serving"); 0, or a negative errno. */
int sdnotify_send(const char *msg);

/* Called from the watch loop with the monotonic time: sends WATCHDOG=1 when
 * half the watchdog interval has passed since the last one. */
void sdnotify_watchdog(int64_t now_us);

/* The watchdog interval in microseconds, 0 when there is none. */
uint64_t sdnotify_watchdog_us(void);

#endif
