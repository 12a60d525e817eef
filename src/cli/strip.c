/*
 * strip.c: `homing strip FILE`: the message with every remote load neutralised,
 * wrapped links unwrapped where the destination is recoverable, read-receipt
 * headers removed and an X-Homing-Stripped header saying what was done.
 * Everything else is unchanged and still valid MIME.
 *
 * Exit: 0 written, 2 error (one line on stderr; nothing written to -o then).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "homing/scan.h"
#include "homing/trackers.h"
#include "homing_build.h"

static const char strip_usage[] =
    "usage: homing strip [OPTIONS] FILE|-\n\n"
    "Writes the message with every remote load neutralised (images, srcset, CSS url(),\n"
    "@import, fonts, <link>, frames, objects, posters, meta refresh), wrapped links\n"
    "replaced by their destination where it is recoverable, read-receipt headers\n"
    "removed, and an X-Homing-Stripped header summarising the changes. A file that\n"
    "starts with '<' (after a byte order mark and white space) is an HTML document:\n"
    "it is written back as HTML, stripped the same way.\n\n"
    "Options:\n"
    "  --html             read the input as an HTML document, not a message\n"
    "  -o, --output FILE  write here instead of stdout (replaced atomically)\n"
    "  --trackers FILE    tracker knowledge file (default: " HOMING_DATADIR "/trackers.tsv)\n"
    "  -h, --help         this help\n";

int cmd_strip(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    if (cli_wants_help(argc, argv, strip_usage)) return CLI_OK;
    const char *out_path = NULL, *trackers_path = NULL, *in = NULL;
    int html = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--html") == 0) {
            html = 1;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
                   strcmp(a, "--trackers") == 0) {
            if (++i >= argc) return cli_usage_error("strip", "%s needs a value", a);
            if (a[1] == 'o' || a[2] == 'o')
                out_path = argv[i];
            else
                trackers_path = argv[i];
        } else if (a[0] == '-' && a[1]) {
            char safe[64];
            cli_escape(safe, sizeof safe, a, strlen(a));
            return cli_usage_error("strip", "unknown option '%s'", safe);
        } else if (in) {
            return cli_usage_error("strip", "one message at a time");
        } else {
            in = a;
        }
    }
    if (!in) return cli_usage_error("strip", "which message? (FILE, or - for stdin)");
    struct homing_trackers *t = NULL;
    if (cli_trackers_load(trackers_path, &t) < 0) return CLI_ERROR;
    char *data = NULL, *out = NULL;
    size_t len = 0, outlen = 0;
    int rc = cli_read_file(in, HOMING_SCAN_MESSAGE_MAX, &data, &len);
    if (rc < 0) {
        homing_trackers_free(t);
        return cli_fail("cannot read %s: %s", in, rc == -E2BIG ? "too large" : strerror(-rc));
    }
    struct homing_scan_options o = {.trackers = t};
    struct homing_strip_stats st;
    if (html || homing_scan_looks_html(data, len)) {
        /* an HTML document: stripped as the one text/html part of a message
         * would be, and written back as HTML (it has no header to note it in) */
        struct homing_buf b;
        homing_buf_init(&b, HOMING_SCAN_HTML_MAX * 2);
        memset(&st, 0, sizeof st);
        rc = len > HOMING_SCAN_HTML_MAX ? -E2BIG : homing_strip_html(data, len, &o, &b, &st);
        if (rc == 0 && !(out = malloc(b.len + 1))) rc = -ENOMEM;
        if (rc == 0) {
            memcpy(out, b.data, b.len);
            outlen = b.len;
        }
        homing_buf_free(&b);
    } else {
        rc = homing_strip_message(data, len, &o, &out, &outlen, &st);
    }
    free(data);
    homing_trackers_free(t);
    if (rc == -ELOOP)
        return cli_fail("cannot strip %s: an address header nested deeper than %d groups or "
                        "comments (or with more than %d colons)",
                        in, HOMING_MIME_ADDR_DEPTH_MAX, HOMING_MIME_ADDR_COLONS_MAX);
    if (rc == -EMLINK)
        return cli_fail("cannot strip %s: an HTML part nested deeper than %d elements (or past %u "
                        "steps of nesting work)",
                        in, HOMING_SCAN_HTML_NEST_MAX, HOMING_SCAN_HTML_WORK_MAX);
    if (rc < 0)
        return cli_fail("cannot strip %s: %s", in,
                        rc == -EBADMSG  ? "not a message"
                        : rc == -EILSEQ ? "an HTML part's charset cannot be converted"
                        : rc == -E2BIG  ? "beyond the scanner's limits"
                                        : strerror(-rc));
    if (out_path) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp%ld", out_path, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (!f) {
            free(out);
            return cli_fail("cannot write %s: %s", tmp, strerror(errno));
        }
        int ok = fwrite(out, 1, outlen, f) == outlen;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, out_path) < 0) {
            unlink(tmp);
            free(out);
            return cli_fail("cannot write %s", out_path);
        }
    } else if (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0) {
        free(out);
        return cli_fail("cannot write the output");
    }
    free(out);
    return CLI_OK;
}
