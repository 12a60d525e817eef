/*
 * report.c: `homing report MESSAGE`: per recipient, the delivery state, GET
 * opens and clicks with their first and last times, and HEAD probes (counted
 * apart: a HEAD request is a machine checking a URL, never a person reading).
 * Recipient 0 appears only when per-message tokens were hit.
 *
 * Beside them, "who opened it" from the enrichments (homing_store_who_json):
 * opens by class (human / machine / unknown), first and last human open,
 * readers with possible forwards, clicks per link and documents opened, as a
 * table, JSON (--format json, or --json) or CSV (--format csv). The fields and
 * the meaning of unique and total are in docs/reports.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char report_usage[] =
    "usage: homing report MESSAGE [--format text|json|csv] [--json]\n\n"
    "Per-recipient summary of a message (public id or Message-ID): address,\n"
    "delivery state, opens (GET, first and last), clicks (GET, first and last) and\n"
    "HEAD probes; by verdict (docs/reports.md): human / machine / unknown opens,\n"
    "first and last human open, readers (client, device, country, possible\n"
    "forward), clicks per link and documents opened. --json is --format json.\n"
    "Times are UTC. Recipient 0 counts hits on per-message tokens,\n"
    "and those of recipients whose tracking mode is anonymous: their own rows show\n"
    "no opens or clicks (docs/privacy.md).\n";

static json_t *json_time(int64_t t_us)
{
    if (t_us <= 0) return json_null();
    char when[HOMING_TIME_STR_MAX];
    homing_time_format(t_us, when);
    return json_string(when);
}

/* The who object of recipient r in who's "recipients", or NULL. */
static json_t *who_of(json_t *who, uint32_t r)
{
    json_t *arr = json_object_get(who, "recipients"), *o;
    size_t i;
    json_array_foreach(arr, i,
                       o) if (json_integer_value(json_object_get(o, "recipient")) == r) return o;
    return NULL;
}

/* The who object of a row, or NULL when the row's tracking mode allows no
 * per-recipient opens or clicks (docs/privacy.md): hidden like the counts. */
static json_t *who_row(json_t *who, const struct homing_report_row *w)
{
    if (w->recipient && w->tracking != HOMING_TRACKING_INDIVIDUAL) return NULL;
    return who_of(who, w->recipient);
}

static int report_json(const char *hex, const struct homing_message *m,
                       const struct homing_report_row *rows, size_t n, json_t *who)
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
        json_t *wo = who_row(who, w);
        if (o && wo) json_object_update_missing(o, wo);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    json_t *j = arr ? json_pack("{s:s, s:s?, s:s?, s:O?, s:o}", "message", hex, "message_id",
                                m->message_id, "subject", m->subject, "totals",
                                json_object_get(who, "totals"), "recipients", arr)
                    : NULL;
    int r = j ? homing_json_dumpf(j, stdout, JSON_INDENT(2)) : -1;
    putchar('\n');
    json_decref(j);
    return r < 0 ? cli_fail("cannot write JSON") : CLI_OK;
}

/* An integer at a path of object keys (NULL-terminated), 0 if absent. */
static long long jnum(json_t *o, ...)
{
    va_list ap;
    va_start(ap, o);
    const char *k;
    while (o && (k = va_arg(ap, const char *))) o = json_object_get(o, k);
    va_end(ap);
    return (long long)json_integer_value(o);
}

/* A string at key, "" if absent or null. */
static const char *jtext(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* A CSV field (homing_csv_cell): controls escaped, quoted as RFC 4180 says,
 * and a leading = + - @ TAB or CR neutralised so a spreadsheet does not run it
 * as a formula. */
#define REPORT_CSV_CELL_MAX (64u * 1024)
static void csv_field(const char *s, int last)
{
    struct homing_buf b;
    homing_buf_init(&b, REPORT_CSV_CELL_MAX);
    if (homing_csv_cell(&b, s, cli_escape_flags()) == 0 && b.len) fwrite(b.data, 1, b.len, stdout);
    homing_buf_free(&b);
    putchar(last ? '\n' : ',');
}

static void csv_num(long long v)
{
    printf("%lld,", v);
}

/* One line per recipient: the summary and the who counts (readers, links and
 * documents as counts; their detail is in the JSON). */
static int report_csv(const struct homing_report_row *rows, size_t n, json_t *who)
{
    printf("recipient,address,state,opens,human_opens,machine_opens,unknown_opens,"
           "first_human_open,last_human_open,readers,possible_forwards,clicks,human_clicks,"
           "machine_clicks,unknown_clicks,links_clicked,human_document_opens,probes\n");
    for (size_t i = 0; i < n; i++) {
        const struct homing_report_row *w = &rows[i];
        json_t *o = who_row(who, w);
        long long hc = 0, mc = 0, uc = 0, hd = 0, fw = 0;
        size_t k;
        json_t *x;
        json_array_foreach(json_object_get(o, "links_clicked"), k, x)
        {
            hc += jnum(x, "human", NULL);
            mc += jnum(x, "machine", NULL);
            uc += jnum(x, "unknown", NULL);
        }
        json_array_foreach(json_object_get(o, "documents_opened"), k, x) hd +=
            jnum(x, "human", NULL);
        json_array_foreach(json_object_get(o, "readers"), k, x) fw +=
            json_is_true(json_object_get(x, "possible_forward"));
        char when[HOMING_TIME_STR_MAX];
        printf("%u,", w->recipient);
        csv_field(w->address ? w->address : "", 0);
        csv_field(w->recipient ? w->state : "", 0);
        csv_num(w->opens);
        csv_num(jnum(o, "opens_by_class", "human", NULL));
        csv_num(jnum(o, "opens_by_class", "machine", NULL));
        csv_num(jnum(o, "opens_by_class", "unknown", NULL));
        homing_strlcpy(when, jtext(o, "first_human_open"), sizeof when);
        csv_field(when, 0);
        homing_strlcpy(when, jtext(o, "last_human_open"), sizeof when);
        csv_field(when, 0);
        csv_num((long long)json_array_size(json_object_get(o, "readers")));
        csv_num(fw);
        csv_num(w->clicks);
        csv_num(hc);
        csv_num(mc);
        csv_num(uc);
        csv_num((long long)json_array_size(json_object_get(o, "links_clicked")));
        csv_num(hd);
        printf("%lld\n", (long long)w->probes);
    }
    return fflush(stdout) == 0 ? CLI_OK : cli_fail("cannot write CSV");
}

/* Under the table: the totals, then per recipient its readers and links. */
static void report_who_text(json_t *who, const struct homing_report_row *rows, size_t n)
{
    json_t *t = json_object_get(who, "totals");
    printf("\nopens:  %lld human, %lld machine, %lld unknown (total %lld); unique: %lld "
           "recipient(s) with a human open, %lld reader(s), %lld possible forward(s)\n",
           jnum(t, "opens", "human", NULL), jnum(t, "opens", "machine", NULL),
           jnum(t, "opens", "unknown", NULL), jnum(t, "opens", "total", NULL),
           jnum(t, "unique_openers", NULL), jnum(t, "readers", NULL),
           jnum(t, "possible_forwards", NULL));
    printf("clicks: %lld human, %lld machine, %lld unknown; unique: %lld recipient(s)\n",
           jnum(t, "clicks", "human", NULL), jnum(t, "clicks", "machine", NULL),
           jnum(t, "clicks", "unknown", NULL), jnum(t, "unique_clickers", NULL));
    if (jnum(t, "document_opens", "total", NULL))
        printf("documents: %lld human, %lld machine, %lld unknown opens\n",
               jnum(t, "document_opens", "human", NULL), jnum(t, "document_opens", "machine", NULL),
               jnum(t, "document_opens", "unknown", NULL));
    if (jnum(t, "pending", NULL))
        printf("(%lld hit(s) not enriched yet: counted as unknown)\n", jnum(t, "pending", NULL));
    size_t i, k;
    json_t *o, *x;
    char a[1024], b[256], c[64], d[16];
    json_array_foreach(json_object_get(who, "recipients"), i, o)
    {
        json_t *rd = json_object_get(o, "readers"), *lk = json_object_get(o, "links_clicked"),
               *dc = json_object_get(o, "documents_opened");
        if (!json_array_size(rd) && !json_array_size(lk) && !json_array_size(dc)) continue;
        int shown = 0; /* only recipients whose mode lets their hits be shown */
        for (size_t r = 0; r < n; r++)
            if (json_integer_value(json_object_get(o, "recipient")) == rows[r].recipient)
                shown = who_row(who, &rows[r]) != NULL;
        if (!shown) continue;
        printf("recipient %lld:\n", jnum(o, "recipient", NULL));
        json_array_foreach(rd, k, x)
        {
            printf("  reader %s  %-24s %-16s %-2s  %.19s .. %.19s  %lld open(s)%s\n",
                   cli_safe(jtext(x, "reader"), c, sizeof c),
                   cli_safe(jtext(x, "client"), a, sizeof a),
                   cli_safe(jtext(x, "device"), b, sizeof b),
                   jtext(x, "country")[0] ? cli_safe(jtext(x, "country"), d, sizeof d) : "--",
                   jtext(x, "first_seen"), jtext(x, "last_seen"), jnum(x, "opens", NULL),
                   json_is_true(json_object_get(x, "possible_forward")) ? "  POSSIBLE FORWARD"
                                                                        : "");
        }
        json_array_foreach(lk, k, x)
            printf("  link %lld  %lld human, %lld machine, %lld unknown  %s\n",
                   jnum(x, "link", NULL), jnum(x, "human", NULL), jnum(x, "machine", NULL),
                   jnum(x, "unknown", NULL), cli_safe(jtext(x, "url"), a, sizeof a));
        json_array_foreach(dc, k, x) printf(
            "  document %lld  %lld human, %lld machine, %lld unknown\n", jnum(x, "grant", NULL),
            jnum(x, "human", NULL), jnum(x, "machine", NULL), jnum(x, "unknown", NULL));
    }
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, report_usage)) return CLI_OK;
    const char *arg = NULL;
    int json = 0, csv = 0;
    char safe[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--format") == 0) {
            if (++i >= argc) return cli_usage_error("report", "--format needs text, json or csv");
            json = strcmp(argv[i], "json") == 0;
            csv = strcmp(argv[i], "csv") == 0;
            if (!json && !csv && strcmp(argv[i], "text") != 0)
                return cli_usage_error("report", "unknown format '%s' (text, json or csv)",
                                       cli_safe(argv[i], safe, 64));
        } else if (argv[i][0] == '-' || arg)
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
    void *whop = NULL;
    if (homing_store_who_json(s, id, &whop) < 0) {
        homing_report_free(rows, n);
        homing_message_free(m);
        return cli_fail("cannot report on %s: %s", hex, homing_store_errmsg(s));
    }
    json_t *who = whop;
    int rc;
    if (json) {
        rc = report_json(hex, m, rows, n, who);
    } else if (csv) {
        rc = report_csv(rows, n, who);
    } else {
        printf("message %s  %s\n", hex, cli_safe(m->subject, safe, sizeof safe));
        printf("%-4s %-32s %-10s %6s %-19s %-19s %6s %-19s %-19s %6s %5s %5s %5s %-19s %-19s "
               "%7s\n",
               "RCPT", "ADDRESS", "STATE", "OPENS", "FIRST OPEN", "LAST OPEN", "CLICKS",
               "FIRST CLICK", "LAST CLICK", "PROBES", "HUMAN", "MACH", "UNKN", "FIRST HUMAN OPEN",
               "LAST HUMAN OPEN", "READERS");
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
            json_t *o = who_row(who, w);
            char fh[CLI_TIME_SHORT_MAX] = "-", lh[CLI_TIME_SHORT_MAX] = "-";
            /* "2026-01-02T03:04:05.000000Z" shown as "2026-01-02 03:04:05". */
            if (jtext(o, "first_human_open")[0])
                snprintf(fh, sizeof fh, "%.10s %.8s", jtext(o, "first_human_open"),
                         jtext(o, "first_human_open") + 11);
            if (jtext(o, "last_human_open")[0])
                snprintf(lh, sizeof lh, "%.10s %.8s", jtext(o, "last_human_open"),
                         jtext(o, "last_human_open") + 11);
            printf("%-4u %-32s %-10s %6lld %-19s %-19s %6lld %-19s %-19s %6lld %5lld %5lld %5lld "
                   "%-19s %-19s %7zu\n",
                   w->recipient,
                   w->address ? cli_safe(w->address, safe, sizeof safe) : "(per-message)",
                   w->recipient ? cli_safe(w->state, state, sizeof state) : "-",
                   (long long)w->opens, fo, lo, (long long)w->clicks, fc, lc, (long long)w->probes,
                   jnum(o, "opens_by_class", "human", NULL),
                   jnum(o, "opens_by_class", "machine", NULL),
                   jnum(o, "opens_by_class", "unknown", NULL), fh, lh,
                   json_array_size(json_object_get(o, "readers")));
        }
        report_who_text(who, rows, n);
        rc = CLI_OK;
    }
    json_decref(who);
    homing_report_free(rows, n);
    homing_message_free(m);
    return rc;
}
