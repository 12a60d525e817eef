/*
 * fuzz_useragent.c: arbitrary bytes as a User-Agent go through the parser
 * (homing's rules, then every uap-core regex) and the verdict rules. The parse
 * must succeed with bounded, terminated fields whatever the input; a small
 * cache makes every run exercise insertion and eviction too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/reader.h"

#define FUZZ_UA_CACHE 64

static struct homing_ua_parser *fuzz_parser;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_parser && homing_ua_parser_new(NULL, NULL, FUZZ_UA_CACHE, &fuzz_parser) < 0) abort();
    struct homing_ua u;
    if (homing_ua_parse(fuzz_parser, (const char *)data, size, &u) != 0) abort();
    check_field(u.family, sizeof u.family);
    check_field(u.major, sizeof u.major);
    check_field(u.minor, sizeof u.minor);
    check_field(u.patch, sizeof u.patch);
    check_field(u.os, sizeof u.os);
    check_field(u.os_major, sizeof u.os_major);
    check_field(u.device, sizeof u.device);
    if (!u.family[0] || u.type > HOMING_DEVICE_BOT || u.ua_class > HOMING_UA_CLASS_BOT) abort();

    /* The same bytes as the event's User-Agent, through the verdict rules. */
    struct homing_event e;
    memset(&e, 0, sizeof e);
    e.kind = size && (data[0] & 1) ? HOMING_EV_CLICK : HOMING_EV_OPEN;
    e.method = HOMING_METHOD_GET;
    size_t n = size < sizeof e.user_agent - 1 ? size : sizeof e.user_agent - 1;
    memcpy(e.user_agent, data, n);
    struct homing_verdict_input in = {.event = &e, .ua = &u};
    struct homing_verdict_result v;
    if (homing_verdict_compute(&in, &v) != 0 || v.verdict >= HOMING_VERDICT_COUNT) abort();
    return 0;
}
