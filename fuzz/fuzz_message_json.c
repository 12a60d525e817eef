/*
 * fuzz_message_json.c: the admin API's body of POST /api/v1/messages on
 * arbitrary bytes, through homing_message_request_json and
 * homing_message_check (lib/service/message.c), everything short of the
 * store. Checks what registration relies on: a body is accepted or refused
 * with a reason and nothing held; an accepted request that passes the check
 * has every link in a header-safe http(s) form or a {{doc:}} placeholder,
 * recipients within their limit, and an error text free of controls.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_controls(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct homing_message_request rq;
    void *hold = NULL;
    char err[HOMING_MESSAGE_ERR_MAX] = "";
    int r = homing_message_request_json((const char *)data, size, &rq, &hold, err, sizeof err);
    if (r < 0) {
        if (hold || (r != -EINVAL && r != -E2BIG && r != -ENOMEM) || !err[0]) abort();
        no_controls(err);
        return 0;
    }
    struct homing_message_checked c;
    err[0] = '\0';
    r = homing_message_check(&rq, &c, err, sizeof err);
    if (r < 0) {
        if ((r != -EINVAL && r != -E2BIG && r != -ENOMEM) || (r != -ENOMEM && !err[0])) abort();
        no_controls(err);
    } else {
        if (rq.n_recipients == 0 || rq.n_recipients > HOMING_STORE_RECIPIENTS_MAX) abort();
        if (c.n_links != rq.n_links) abort();
        for (size_t i = 0; i < c.n_links; i++) {
            const char *l = c.links[i];
            if (strncmp(l, "{{doc:", 6) == 0) continue;
            if (!homing_url_header_safe(l, strlen(l))) abort();
            if (strncmp(l, "http://", 7) != 0 && strncmp(l, "https://", 8) != 0) abort();
        }
        for (size_t i = 0; i < rq.n_recipients; i++)
            if (!homing_message_address_ok(rq.recipients[i])) abort();
        homing_message_checked_free(&c);
    }
    homing_message_json_free(hold);
    return 0;
}
