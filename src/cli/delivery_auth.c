/*
 * delivery_auth.c: reads the credentials file of homing send and homing ingest
 * --imap (user name line, password line; mode 0600 or stricter).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delivery_cli.h"

static int auth_line(FILE *f, char *out)
{
    char line[DELIVERY_CLI_CRED_MAX + 2];
    if (!fgets(line, sizeof line, f)) return -EINVAL;
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[--n] = '\0';
    if (n && line[n - 1] == '\r') line[--n] = '\0';
    if (n == 0 || n >= DELIVERY_CLI_CRED_MAX) return -EINVAL;
    memcpy(out, line, n + 1);
    return 0;
}

int delivery_cli_auth_file(const char *path, char *user, char *password)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        cli_fail("cannot open auth file %s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
        close(fd);
        cli_fail("auth file %s must not be readable by group or others (chmod 600)", path);
        return -EPERM;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return cli_fail("out of memory"), -ENOMEM;
    }
    int r = auth_line(f, user);
    if (r == 0) r = auth_line(f, password);
    fclose(f);
    if (r < 0) cli_fail("auth file %s: needs a user line and a password line", path);
    return r;
}
