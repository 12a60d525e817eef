/*
 * fuzz_report.c: libFuzzer target for homing_report_parse (DSN, bounce, MDN,
 * ARF and auto-reply parsing). Any input must give 0 or a negative errno,
 * never a crash, and a report whose strings are all readable.
 */
#include <stdint.h>
#include <string.h>

#include "homing/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct homing_report *r = NULL;
    if (homing_report_parse((const char *)data, size, &r) < 0) return 0;
    size_t sum = 0;
    for (size_t i = 0; i < r->n_rcpts; i++) {
        const struct homing_report_rcpt *x = &r->rcpts[i];
        sum += x->address ? strlen(x->address) : 0;
        sum += x->diagnostic ? strlen(x->diagnostic) : 0;
        sum += x->status ? strlen(x->status) : 0;
        sum += strlen(x->reason);
    }
    sum += r->original_message_id ? strlen(r->original_message_id) : 0;
    homing_report_parsed_free(r);
    return (int)(sum & 0);
}
