/*
 * lines.c: bounded file reading and the one line splitter of libhoming (see
 * homing/util.h). Data files are read whole (each has its own named maximum)
 * and split in place, so that every loader keeps pointers into one buffer and
 * no loader has a fixed line buffer of its own to get wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "homing/util.h"

#define FILE_READ_CHUNK 65536

int homing_file_read(const char *path, size_t max, struct homing_buf *out)
{
    if (!path || !out) return -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct homing_buf b;
    homing_buf_init(&b, max);
    char chunk[FILE_READ_CHUNK];
    int r = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0) break;
        if ((r = homing_buf_append(&b, chunk, (size_t)n)) < 0) break;
    }
    close(fd);
    /* An empty file is an empty, still NUL-terminated text. */
    if (r == 0 && !b.data) r = homing_buf_append(&b, "", 0);
    if (r == 0 && memchr(b.data, '\0', b.len)) r = -EINVAL;
    if (r < 0) {
        homing_buf_free(&b);
        return r;
    }
    *out = b;
    return 0;
}

void homing_lines_init(struct homing_lines *l, char *text, size_t len, size_t line_max,
                       unsigned flags)
{
    l->p = text;
    l->end = text ? text + len : NULL;
    l->line_max = line_max;
    l->flags = flags;
    l->lineno = 0;
}

int homing_lines_next(struct homing_lines *l, char **line, size_t *len)
{
    while (l->p && l->p < l->end) {
        char *s = l->p;
        char *nl = memchr(s, '\n', (size_t)(l->end - s));
        char *e = nl ? nl : l->end;
        l->p = nl ? nl + 1 : l->end;
        l->lineno++;
        if (e > s && e[-1] == '\r') e--;
        size_t n = (size_t)(e - s);
        if (n > l->line_max) return -E2BIG;
        *e = '\0';
        if ((l->flags & HOMING_LINES_SKIP) && (n == 0 || s[0] == '#')) continue;
        *line = s;
        if (len) *len = n;
        return 1;
    }
    return 0;
}
