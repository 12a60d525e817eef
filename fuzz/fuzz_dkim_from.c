/*
 * fuzz_dkim_from.c: arbitrary bytes as the message homing_dkim_sign reads the
 * From domain of (lib/delivery/dkim_sign.c: the field reader, the list and
 * group check, libopendkim's dkim_mail_parse) and as dkim.selectors. Either
 * there is no domain (-EBADMSG) or there is one that homing_dkim_name_ok
 * accepts, in lower case, NUL-terminated within its limit: it becomes part of
 * a file name, so nothing else may come out. The first byte splits the input
 * into the selectors text and the message.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t cut = data[0] < size - 1 ? data[0] : size - 1;
    const uint8_t *msg = data + 1 + cut;
    size_t len = size - 1 - cut;
    /* a copy without a terminator, so reads past the end are caught */
    char *m = malloc(len ? len : 1);
    char *sels = malloc(cut + 1);
    if (!m || !sels) abort();
    memcpy(m, msg, len);
    memcpy(sels, data + 1, cut);
    sels[cut] = '\0';

    char dom[HOMING_DKIM_DOMAIN_MAX];
    int r = homing_dkim_from_domain(m, len, dom, sizeof dom);
    if (r != 0 && r != -EBADMSG) abort();
    if (r == 0) {
        if (strnlen(dom, sizeof dom) >= sizeof dom || !homing_dkim_name_ok(dom, 0)) abort();
        for (const char *p = dom; *p; p++)
            if (isupper((unsigned char)*p)) abort();
        struct homing_settings s;
        memset(&s, 0, sizeof s);
        s.dkim.keys_dir = "/nonexistent";
        s.dkim.selector = "homing";
        s.dkim.selectors = sels;
        char sel[HOMING_DKIM_SELECTOR_MAX], path[HOMING_DKIM_PATH_MAX];
        r = homing_dkim_selector(&s, dom, sel, sizeof sel);
        if (r != 0 && r != -EINVAL) abort();
        if (r == 0) {
            if (!homing_dkim_name_ok(sel, 1)) abort();
            if (homing_dkim_key_path(&s, dom, sel, path, sizeof path) != 0) abort();
            if (strstr(path, "..") || strchr(path + strlen("/nonexistent/"), '/')) abort();
        }
    }
    free(m);
    free(sels);
    return 0;
}
