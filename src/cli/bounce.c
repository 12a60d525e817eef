/*
 * bounce.c: `homing bounce [--json] FILE...` reads delivery reports (DSNs,
 * bounces, MDNs, ARF complaints, auto-replies) and prints what each says.
 *
 * Output contract (used by tests and benchmarks): with --json one JSON object
 * per file on its own line:
 *   {"file", "kind", "recipients": [{"address", "action", "status", "reply_code",
 *    "reason", "hard", "diagnostic", "remote_mta"}], "feedback_type",
 *    "original_message_id", ...}
 * with null where unknown. A file that cannot be read or parsed gives a line
 * with "kind": "none" and an "error" field; the batch always continues, and the
 * exit status is 2 at the end if any file failed to be read, else 0.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "homing/report.h"
#include "homing/util.h"

static const char bounce_usage[] =
    "usage: homing bounce [--json] FILE...\n\n"
    "Reads delivery reports (DSN, bounce, MDN, ARF, auto-reply) and prints, per file,\n"
    "its kind and each recipient's action, status, reason and hard/soft verdict.\n\n"
    "  --json   one JSON object per file and line\n"
    "  FILE     a message file; - reads stdin\n";

static void bounce_set(json_t *o, const char *k, const char *v)
{
    /* jansson refuses invalid UTF-8: such a field is kept in its escaped form */
    json_object_set_new(o, k, homing_json_text(v));
}

static void bounce_json(const char *file, const struct homing_report *r, const char *err)
{
    json_t *o = json_object();
    bounce_set(o, "file", file);
    bounce_set(o, "kind", homing_report_kind_name(r ? r->kind : HOMING_REPORT_NONE));
    json_t *a = json_array();
    for (size_t i = 0; r && i < r->n_rcpts; i++) {
        const struct homing_report_rcpt *x = &r->rcpts[i];
        json_t *j = json_object();
        bounce_set(j, "address", x->address);
        bounce_set(j, "original_recipient", x->original_recipient);
        bounce_set(j, "action", x->action);
        bounce_set(j, "status", x->status);
        bounce_set(j, "reply_code", x->reply_code);
        bounce_set(j, "reason", x->reason);
        json_object_set_new(j, "hard", json_boolean(x->hard));
        bounce_set(j, "diagnostic", x->diagnostic);
        bounce_set(j, "remote_mta", x->remote_mta);
        bounce_set(j, "last_attempt", x->last_attempt);
        json_array_append_new(a, j);
    }
    json_object_set_new(o, "recipients", a);
    bounce_set(o, "feedback_type", r ? r->feedback_type : NULL);
    bounce_set(o, "original_message_id", r ? r->original_message_id : NULL);
    bounce_set(o, "disposition", r ? r->disposition : NULL);
    bounce_set(o, "disposition_mode", r ? r->disposition_mode : NULL);
    bounce_set(o, "envid", r ? r->envid : NULL);
    bounce_set(o, "verp", r ? r->verp : NULL);
    bounce_set(o, "returned_message_id", r ? r->returned_message_id : NULL);
    if (err) bounce_set(o, "error", err);
    char *s = homing_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(o);
}

static void bounce_text_out(const char *file, const struct homing_report *r, const char *err)
{
    char f[512], d[1024];
    cli_escape(f, sizeof f, file, strlen(file));
    if (err) {
        printf("%s: error: %s\n", f, cli_safe(err, d, sizeof d));
        return;
    }
    printf("%s: %s", f, homing_report_kind_name(r->kind));
    if (r->feedback_type) {
        cli_escape(d, sizeof d, r->feedback_type, strlen(r->feedback_type));
        printf(" feedback-type=%s", d);
    }
    if (r->disposition) {
        cli_escape(d, sizeof d, r->disposition, strlen(r->disposition));
        printf(" disposition=%s", d);
    }
    putchar('\n');
    for (size_t i = 0; i < r->n_rcpts; i++) {
        const struct homing_report_rcpt *x = &r->rcpts[i];
        char a[1024], act[64], st[64], rc[64], rs[64];
        const char *ad = x->address ? x->address : "(unknown)";
        cli_escape(a, sizeof a, ad, strlen(ad));
        /* every field of a report is the bouncing server's text */
        printf("  %s  %s %s %s %s (%s)\n", a,
               cli_safe(x->action ? x->action : "-", act, sizeof act),
               cli_safe(x->status ? x->status : "-", st, sizeof st),
               cli_safe(x->reply_code ? x->reply_code : "-", rc, sizeof rc),
               cli_safe(x->reason, rs, sizeof rs), x->hard ? "hard" : "soft");
        if (x->diagnostic) {
            cli_escape(d, sizeof d, x->diagnostic, strlen(x->diagnostic));
            printf("    %s\n", d);
        }
    }
}

int cmd_bounce(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    if (cli_wants_help(argc, argv, bounce_usage)) return CLI_OK;
    bool json = false;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("bounce", "unknown option '%s'", argv[i]);
        else
            break;
    }
    if (i >= argc) return cli_usage_error("bounce", "no file given");
    int status = CLI_OK;
    for (; i < argc; i++) {
        char *data = NULL;
        size_t len = 0;
        struct homing_report *r = NULL;
        const char *err = NULL;
        int rc = cli_read_file(argv[i], HOMING_REPORT_SIZE_MAX, &data, &len);
        if (rc < 0) {
            err = rc == -E2BIG ? "file too big" : strerror(-rc);
            status = CLI_ERROR;
        } else if ((rc = homing_report_parse(data, len, &r)) < 0) {
            err = rc == -E2BIG    ? "message too big"
                  : rc == -EINVAL ? "empty or invalid message"
                                  : strerror(-rc);
        }
        if (json)
            bounce_json(argv[i], r, err);
        else
            bounce_text_out(argv[i], r, err);
        homing_report_parsed_free(r);
        free(data);
    }
    fflush(stdout);
    return status;
}
