/*
 * fuzz_html_scan.c: the HTML scanner and strip on arbitrary bytes, and the
 * property strip promises: its output, stripped again, has nothing left to
 * neutralise (no remote load survived) and is otherwise a fixed point. The
 * same bytes as a plain text: unwrapping replaces URLs one for one (the output
 * holds as many URLs as the input). The first byte picks whether the input is
 * also parsed as a whole message, and whether the text is format=flowed with
 * DelSp=yes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/scan/scan_int.h"
#include "homing/scan.h"
#include "homing/trackers.h"
#include "homing_build.h"

static struct homing_trackers *trackers;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    if (homing_trackers_load(HOMING_SRC_DATADIR "/trackers.tsv", &trackers, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_html_scan: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!trackers) LLVMFuzzerInitialize(NULL, NULL);
    struct homing_scan_options o = {.trackers = trackers, .recipient = "Alice@Example.org"};
    const char *html = (const char *)data;
    struct homing_scan_result *res = calloc(1, sizeof *res);
    if (!res) return 0;
    homing_scan_html(html, size, &o, "news@example.com", "1", res);
    /* the two halves as copies of one mailing to other recipients */
    struct homing_scan_options o2 = {.trackers = trackers, .recipient = "Bob@Example.org"};
    struct homing_scan_result *cp[2] = {NULL, NULL};
    if (homing_scan_html_file(html, size / 2, &o2, &cp[0]) == 0 &&
        homing_scan_html_file(html + size / 2, size - size / 2, &o, &cp[1]) == 0) {
        struct homing_scan_result *const all[3] = {res, cp[0], cp[1]};
        homing_scan_copies(all, 3);
    }
    homing_scan_result_free(cp[0]);
    homing_scan_result_free(cp[1]);
    homing_scan_result_free(res);

    struct homing_buf out, again;
    homing_buf_init(&out, HOMING_SCAN_HTML_MAX * 2);
    homing_buf_init(&again, HOMING_SCAN_HTML_MAX * 2);
    struct homing_strip_stats st = {0}, st2 = {0};
    if (homing_strip_html(html, size, &o, &out, &st) == 0) {
        if (homing_strip_html(out.data ? out.data : "", out.len, &o, &again, &st2) == 0 &&
            (st2.pixels || st2.loads)) {
            fprintf(stderr, "strip left %u tracking and %u other loads\n", st2.pixels, st2.loads);
            abort();
        }
    }
    homing_buf_free(&out);
    homing_buf_free(&again);

    homing_buf_init(&out, HOMING_SCAN_HTML_MAX * 2);
    if (homing_strip_text(html, size, &o, size && (data[0] & 2), &out, &st) == 0 &&
        size < HOMING_SCAN_URL_MAX / 4) { /* no destination can reach the URL limit */
        size_t n_in = 0, n_out = 0, pos = 0, s, e;
        while (scan_text_url(html, size, &pos, &s, &e)) n_in++;
        for (pos = 0; scan_text_url(out.data ? out.data : "", out.len, &pos, &s, &e);) n_out++;
        if (n_in != n_out) {
            fprintf(stderr, "text strip turned %zu URLs into %zu\n", n_in, n_out);
            abort();
        }
    }
    homing_buf_free(&out);

    if (size && (data[0] & 1)) {
        struct homing_scan_result *m = NULL;
        if (homing_scan_message(html, size, &o, &m) == 0) homing_scan_result_free(m);
        char *s = NULL;
        size_t sl = 0;
        if (homing_strip_message(html, size, &o, &s, &sl, &st) == 0) free(s);
    }
    return 0;
}
