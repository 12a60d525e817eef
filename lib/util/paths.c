/*
 * paths.c: where the read-only data files are (homing/config.h,
 * homing_data_dir). An installed binary reads HOMING_DATADIR (under the
 * install prefix, /usr/share/homing for a package); a binary run from the
 * build tree it was built in reads the source tree's data/, so tests and
 * `make run` work without installing anything. Deciding by the running
 * executable's own path (not an environment variable or the working
 * directory) means nothing a caller controls can point an installed binary at
 * other data.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "homing/config.h"
#include "homing_build.h"

/* Whether the running executable lies under the build directory. */
static int running_from_build_tree(void)
{
    char exe[PATH_MAX], root[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = '\0';
    if (!realpath(HOMING_BUILD_ROOT, root)) return 0;
    size_t len = strlen(root);
    return strncmp(exe, root, len) == 0 && exe[len] == '/';
}

int homing_data_dir(char *out, size_t cap)
{
    const char *dir = running_from_build_tree() ? HOMING_SRC_DATADIR : HOMING_DATADIR;
    int n = snprintf(out, cap, "%s", dir);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int homing_data_path(const char *name, char *out, size_t cap)
{
    char dir[PATH_MAX];
    int r = homing_data_dir(dir, sizeof dir);
    if (r < 0) return r;
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
