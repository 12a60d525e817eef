/*
 * fuzz_smtp_cmd.c: arbitrary bytes as the relay's SMTP input (lib/relay):
 * the first byte picks the command parser, the DATA decoder (fed in chunks
 * the second byte sizes), AUTH PLAIN decoding or the Bcc-free copy. Every
 * field the parser fills must stay NUL-terminated within its limit, and the
 * DATA decoder must consume every byte it is given or stop at the end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/relay.h"
#include "homing/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_field(const char *f, size_t cap)
{
    if (strnlen(f, cap) >= cap) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int mode = data[0] & 3;
    size_t chunk = (size_t)data[1] + 1;
    size_t n = size - 2;
    /* a copy without a terminator, so reads past the end are caught */
    char *in = malloc(n ? n : 1);
    if (!in) return 0;
    memcpy(in, data + 2, n);
    if (mode == 0) {
        struct homing_smtp_cmd *c = malloc(sizeof *c);
        char err[128];
        if (c && homing_smtp_parse(in, n, c, err, sizeof err) == 0) {
            fuzz_field(c->path, sizeof c->path);
            fuzz_field(c->arg, sizeof c->arg);
            fuzz_field(c->envid, sizeof c->envid);
            fuzz_field(c->orcpt, sizeof c->orcpt);
            if (c->verb < HOMING_SMTP_HELO || c->verb > HOMING_SMTP_AUTH) abort();
        } else if (strnlen(err, sizeof err) >= sizeof err || !err[0]) {
            abort();
        }
        free(c);
    } else if (mode == 1) {
        struct homing_buf out;
        homing_buf_init(&out, 1 << 20);
        struct homing_smtp_data d;
        homing_smtp_data_init(&d, &out, 4096);
        size_t pos = 0;
        int r = 0;
        while (pos < n && r == 0) {
            size_t used = 0, k = n - pos < chunk ? n - pos : chunk;
            r = homing_smtp_data_feed(&d, in + pos, k, &used);
            if (used > k || (r == 0 && used != k)) abort();
            pos += used;
        }
        if (out.len > 4096) abort();
        homing_buf_free(&out);
    } else if (mode == 2) {
        char u[HOMING_RELAY_USER_MAX], p[HOMING_RELAY_PASS_MAX];
        if (homing_smtp_auth_plain(in, n, u, sizeof u, p, sizeof p) == 0) {
            fuzz_field(u, sizeof u);
            fuzz_field(p, sizeof p);
        }
    } else {
        struct homing_buf out;
        homing_buf_init(&out, 1 << 20);
        if (homing_relay_strip_bcc(in, n, NULL, &out) == 0 && out.len > n) abort();
        homing_buf_free(&out);
        char v[HOMING_CAMPAIGN_MAX + 1];
        int r = homing_relay_header(in, n, HOMING_RELAY_CAMPAIGN_FIELD, v, sizeof v);
        if (r >= 0 && ((size_t)r != strlen(v) || (size_t)r >= sizeof v)) abort();
        const char *why = homing_relay_untouchable(in, n);
        if (why && !*why) abort();
        /* relay.track_senders is a configuration string: NUL-terminated */
        char *map = strndup(in, n);
        int m = map ? homing_relay_track_for(map, HOMING_RELAY_TRACK_RECIPIENT, "a@example.org")
                    : -EINVAL;
        free(map);
        if (m != -EINVAL && (m < HOMING_RELAY_TRACK_NO || m > HOMING_RELAY_TRACK_RECIPIENT))
            abort();
    }
    free(in);
    return 0;
}
