/*
 * sdnotify.c: see sdnotify.h. The protocol (sd_notify(3)): the payload is
 * newline-separated VAR=value assignments in one datagram; an address starting
 * with '@' is in the abstract namespace (the '@' becomes a NUL byte).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

static struct sockaddr_un addr;
static socklen_t addr_len; /* 0: no notifications */
static uint64_t watchdog_us;
static int64_t last_ping_us;

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -EINVAL;
    *out = v;
    return 0;
}

int sdnotify_init(void)
{
    const char *sock = getenv("NOTIFY_SOCKET");
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    int r = 0;
    addr_len = 0;
    watchdog_us = 0;
    if (sock && *sock) {
        size_t n = strlen(sock);
        if ((sock[0] != '/' && sock[0] != '@') || n >= sizeof addr.sun_path) {
            r = -EINVAL;
        } else {
            memset(&addr, 0, sizeof addr);
            addr.sun_family = AF_UNIX;
            memcpy(addr.sun_path, sock, n);
            if (sock[0] == '@') addr.sun_path[0] = '\0';
            /* An abstract name is exactly its bytes; a path ends at its NUL. */
            addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (sock[0] == '/'));
        }
    }
    if (r == 0 && addr_len && usec) {
        uint64_t us, p;
        if (parse_u64(usec, &us) < 0 || us == 0)
            r = -EINVAL;
        else if (!pid || (parse_u64(pid, &p) == 0 && p == (uint64_t)getpid()))
            watchdog_us = us < 2 * SDNOTIFY_WATCHDOG_MIN_US ? 2 * SDNOTIFY_WATCHDOG_MIN_US : us;
        else if (parse_u64(pid, &p) < 0)
            r = -EINVAL;
    }
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (r < 0) {
        addr_len = 0;
        watchdog_us = 0;
        return r;
    }
    return addr_len ? 1 : 0;
}

int sdnotify_send(const char *msg)
{
    if (!addr_len) return 0;
    size_t len = strlen(msg);
    if (len > SDNOTIFY_MESSAGE_MAX) return -EMSGSIZE;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    ssize_t n = sendto(fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&addr, addr_len);
    int r = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
    close(fd);
    return r;
}

void sdnotify_watchdog(int64_t now_us)
{
    if (!watchdog_us || now_us - last_ping_us < (int64_t)(watchdog_us / 2)) return;
    last_ping_us = now_us;
    sdnotify_send("WATCHDOG=1");
}

uint64_t sdnotify_watchdog_us(void)
{
    return watchdog_us;
}
