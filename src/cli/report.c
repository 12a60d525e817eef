/*
 * report.c: `homing report MESSAGE`: per recipient, the delivery state, GET
 * opens and clicks with their first and last times, and HEAD probes (counted
 * apart: a HEAD request is a machine checking a URL, never a person reading).
 * Recipient 0 appears only when per-message tokens were hit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char report_usage[] =
    "usage: homing report MESSAGE [--json]\n\n"
    "Per-recipient summary of a message (public id or Message-ID): address,\n"
    "delivery state, opens (GET, first and last), clicks (GET, first and last) and\n"
    "HEAD probes. Times are UTC. Recipient 0 counts hits on per-message tokens,\n"
    "and those of recipients whose tracking mode is anonymous: their own rows show\n"
    "no opens or clicks (docs/privacy.md).\n";

static json_t *json_time(int64_t t_us)
{
    if (t_us <= 0) return json_null();
    char when[HOMING_TIME_STR_MAX];
    homing_time_format(t_us, when);
    return json_string(when);
}

static int report_json(const char *hex, const struct homing_message *m,
                       const struct homing_report_row *rows, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const struct homing_report_row *w = &rows[i];
        json_t *o = json_pack(
            "{s:I, s:s?, s:s?, s:o, s:I, s:o, s:o, s:I, s:o, s:o, s:I}", "recipient",
            (json_int_t)w->recipient, "address", w->address, "state",
            w->recipient ? w->state : NULL, "state_time",
            w->recipient ? json_time(w->state_us) : json_null(), "opens", (json_int_t)w->opens,
            "first_open", json_time(w->first_open_us), "last_open", json_time(w->last_open_us),
            "clicks", (json_int_t)w->clicks, "first_click", json_time(w->first_click_us),
            "last_click", json_time(w->last_click_us), "probes", (json_int_t)w->probes);
        if (o && w->recipient && w->tracking != HOMING_TRACKING_INDIVIDUAL) {
            /* the mode allows no per-recipient opens or clicks: none shown */
            static const char *const hide[] = {"opens",       "first_open", "last_open", "clicks",
                                               "first_click", "last_click", "probes"};
            for (size_t k = 0; k < sizeof hide / sizeof hide[0]; k++)
                json_object_set_new(o, hide[k], json_null());
            if (w->tracking == HOMING_TRACKING_OFF) {
                json_object_set_new(o, "state", json_null());
                json_object_set_new(o, "state_time", json_null());
            }
        }
        if (o) json_object_set_new(o, "tracking", json_string(homing_tracking_name(w->tracking)));
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    json_t *j = arr ? json_pack("{s:s, s:s?, s:s?, s:o}", "message", hex, "message_id",
                                m->message_id, "subject", m->subject, "recipients", arr)
                    : NULL;
    int r = j ? json_dumpf(j, stdout, JSON_INDENT(2)) : -1;
    putchar('\n');
    json_decref(j);
    return r < 0 ? cli_fail("cannot write JSON") : CLI_OK;
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, report_usage)) return CLI_OK;
    const char *arg = NULL;
    int json = 0;
    char safe[1024];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' || arg)
            return cli_usage_error("report", "unexpected argument '%s'",
                                   cli_safe(argv[i], safe, 64));
        else
            arg = argv[i];
    }
    if (!arg) return cli_usage_error("report", "which MESSAGE?");
    uint64_t id;
    if (cli_message_arg(cli, "report", arg, &id) < 0) return CLI_ERROR;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    char hex[HOMING_ID_STR_MAX];
    homing_id_format(id, hex);
    struct homing_message *m;
    int r = homing_store_message_get(s, id, &m);
    if (r == -ENOENT) return cli_fail("no message %s", hex);
    if (r < 0) return cli_fail("cannot read message %s: %s", hex, homing_store_errmsg(s));
    struct homing_report_row *rows;
    size_t n;
    if (homing_store_report_visible(s, id, &rows, &n) < 0) {
        homing_message_free(m);
        return cli_fail("cannot report on %s: %s", hex, homing_store_errmsg(s));
    }
    int rc;
    if (json) {
        rc = report_json(hex, m, rows, n);
    } else {
        printf("message %s  %s\n", hex, cli_safe(m->subject, safe, sizeof safe));
        printf("%-4s %-32s %-10s %6s %-19s %-19s %6s %-19s %-19s %6s\n", "RCPT", "ADDRESS", "STATE",
               "OPENS", "FIRST OPEN", "LAST OPEN", "CLICKS", "FIRST CLICK", "LAST CLICK", "PROBES");
        for (size_t i = 0; i < n; i++) {
            const struct homing_report_row *w = &rows[i];
            char fo[CLI_TIME_SHORT_MAX], lo[CLI_TIME_SHORT_MAX], fc[CLI_TIME_SHORT_MAX],
                lc[CLI_TIME_SHORT_MAX], state[64];
            cli_time_short(w->first_open_us, fo);
            cli_time_short(w->last_open_us, lo);
            cli_time_short(w->first_click_us, fc);
            cli_time_short(w->last_click_us, lc);
            if (w->recipient && w->tracking != HOMING_TRACKING_INDIVIDUAL) {
                printf("%-4u %-32s %-10s %6s (tracking %s: %s)\n", w->recipient,
                       cli_safe(w->address, safe, sizeof safe),
                       w->tracking == HOMING_TRACKING_OFF ? "-"
                                                          : cli_safe(w->state, state, sizeof state),
                       "-", homing_tracking_name(w->tracking),
                       w->tracking == HOMING_TRACKING_ANONYMOUS ? "counted in row 0"
                                                                : "no opens or clicks shown");
                continue;
            }
            printf("%-4u %-32s %-10s %6lld %-19s %-19s %6lld %-19s %-19s %6lld\n", w->recipient,
                   w->address ? cli_safe(w->address, safe, sizeof safe) : "(per-message)",
                   w->recipient ? cli_safe(w->state, state, sizeof state) : "-",
                   (long long)w->opens, fo, lo, (long long)w->clicks, fc, lc, (long long)w->probes);
        }
        rc = CLI_OK;
    }
    homing_report_free(rows, n);
    homing_message_free(m);
    return rc;
}
