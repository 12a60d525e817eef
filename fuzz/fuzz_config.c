/*
 * fuzz_config.c: homing.conf (lib/util/config.c, read with inih) on arbitrary
 * bytes through the real file path (a memfd). A file is refused with a
 * one-line reason, or accepted with every option's value passing its own
 * type's check (homing_config_check), so no reader meets a bad value later.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "homing/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("homing-fuzz-config", MFD_CLOEXEC);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct homing_config *c;
    if (homing_config_new("/nonexistent", &c) < 0) abort();
    char err[512] = "";
    int r = homing_config_load(c, path, err, sizeof err);
    if (r < 0) {
        if (!err[0] || strchr(err, '\n')) abort();
    } else {
        for (const struct homing_config_option *o = homing_config_options; o->name; o++) {
            const char *v = homing_config_get(c, o->name);
            if (!v) abort();
            /* a path comes back resolved: the check is of the text set */
            if (o->type != HOMING_OPT_PATH && homing_config_check(o->name, v, NULL, 0) < 0) abort();
        }
    }
    homing_config_free(c);
    close(fd);
    return 0;
}
