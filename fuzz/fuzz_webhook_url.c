/*
 * fuzz_webhook_url.c: the webhook URL parser of the SSRF guard
 * (lib/notify/guard.c), which reads URLs from whoever registers a webhook.
 * Checks what the parser promises: a host is a terminated, bounded string of
 * name or literal characters, a port is never 0, a literal has a class, and
 * the registration check agrees with the parser (it refuses what does not
 * parse; it refuses a private literal without the option).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= HOMING_WEBHOOK_URL_MAX) return 0;
    char *url = malloc(size + 1);
    if (!url) return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    struct homing_webhook_url u;
    int r = homing_webhook_url_parse(url, size, &u);
    if (r != 0 && r != -EINVAL) abort();
    if (r == 0) {
        size_t n = strnlen(u.host, sizeof u.host);
        if (n == 0 || n >= sizeof u.host || u.port == 0) abort();
        for (size_t i = 0; i < n; i++) {
            char c = u.host[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                  c == ':'))
                abort();
        }
        if (u.addr.family && homing_addr_class(&u.addr) < 0) abort();
    }
    /* The registration check, on the same bytes up to a NUL. */
    struct homing_webhook_guard g = {.admin = {.family = 4, .bytes = {127, 0, 0, 1}},
                                     .admin_port = 8081};
    char why[HOMING_NOTIFY_ERROR_MAX];
    int c = homing_webhook_url_check(&g, url, why, sizeof why);
    if (strlen(url) == size) {
        if (r != 0 && c != -EINVAL) abort();
        if (r == 0 && u.addr.family && homing_addr_class(&u.addr) != HOMING_ADDR_PUBLIC &&
            c != -EPERM)
            abort();
    }
    if (c != 0 && c != -EINVAL && c != -EPERM) abort();
    if (c != 0 && strnlen(why, sizeof why) >= sizeof why) abort();
    free(url);
    return 0;
}
