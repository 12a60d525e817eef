/*
 * fuzz_milter_body.c: the milter's body handling (homing_filter_message,
 * lib/scan/filter.c) on arbitrary bytes, the first byte picking the policy.
 * Properties the milter front end (src/cli/milter.c) relies on: at most
 * HOMING_FILTER_EDITS_MAX edits; every header name non-empty, printable and
 * without a colon; every value without NUL or CR, each "\n" a fold (followed
 * by a space or tab); DELETE edits carry no value and an index from 1; a
 * refusal changes nothing; only strip and notice replace the body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/filter.h"
#include "homing/config.h"
#include "homing/trackers.h"
#include "homing_build.h"

static struct homing_trackers *trackers;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256], path[4096];
    /* the source tree's data/ when run from the build tree (lib/util/paths.c) */
    if (homing_data_path("trackers.tsv", path, sizeof path) < 0 ||
        homing_trackers_load(path, &trackers, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_milter_body: %s\n", err);
        abort();
    }
    return 0;
}

static void check_value(const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\r') abort();
        if (*p == '\n' && p[1] != ' ' && p[1] != '\t') abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!trackers) LLVMFuzzerInitialize(NULL, NULL);
    if (size < 1) return 0;
    struct homing_filter_options o = {.trackers = trackers,
                                      .policy = data[0] % HOMING_FILTER_POLICY_COUNT,
                                      .hold_min = 1 + (data[0] >> 4),
                                      .authserv = "mx.example.org"};
    struct homing_filter_result *r = NULL;
    if (homing_filter_message((const char *)data + 1, size - 1, &o, &r) < 0) return 0;
    if (r->n_edits > HOMING_FILTER_EDITS_MAX) abort();
    for (size_t i = 0; i < r->n_edits; i++) {
        const struct homing_filter_edit *e = &r->edits[i];
        if (!e->name[0]) abort();
        for (const char *p = e->name; *p; p++)
            if (*p <= ' ' || *p == ':' || *p == 0x7f) abort();
        if (e->op == HOMING_FILTER_DELETE) {
            if (e->value || e->index < 1) abort();
        } else {
            if (!e->value) abort();
            check_value(e->value);
            if (e->op == HOMING_FILTER_CHANGE && e->index < 1) abort();
        }
    }
    if (r->verdict == HOMING_FILTER_REFUSE && (r->n_edits || r->body)) abort();
    if (r->body && o.policy != HOMING_FILTER_STRIP && o.policy != HOMING_FILTER_NOTICE) abort();
    if (o.policy == HOMING_FILTER_OFF && (r->n_edits || r->body)) abort();
    homing_filter_result_free(r);
    return 0;
}
