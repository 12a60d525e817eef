/*
 * stats.c: `homing stats`: the figures of a campaign, a message or every
 * message (docs/reports.md, "Campaigns and rates") as a short table, JSON
 * (the API's shape, homing_stats_json) or CSV; `--series hour|day` prints the
 * time series instead; `--campaigns` lists the campaigns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "homing/service.h"

static const char stats_usage[] =
    "usage: homing stats [--campaign NAME | --no-campaign] [--message ID]\n"
    "                    [--since DATE] [--until DATE] [--json | --csv]\n"
    "                    [--series hour|day] [--campaigns]\n\n"
    "The figures of the messages picked (all when no filter is given): recipients\n"
    "by delivery state, bounces by reason, opens, clicks and document opens in\n"
    "human, machine, unknown and all forms, unique openers and clickers, readers,\n"
    "possible forwards, clicks per link, and rates with their definitions\n"
    "(docs/reports.md). DATE is YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC) and picks\n"
    "messages by the time they were registered. --series prints hits per hour or\n"
    "day instead; --campaigns lists the campaigns. The counts come from counters\n"
    "the daemon keeps, not from reading the events.\n";

static const char *pct(json_t *v, char *buf, size_t cap)
{
    if (!json_is_number(v)) return "-";
    snprintf(buf, cap, "%.1f%%", json_number_value(v) * 100.0);
    return buf;
}

static json_int_t num(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    return json_integer_value(b ? json_object_get(x, b) : x);
}

/* The table: 80 columns at most; outside text escaped for the terminal. */
static void stats_text(json_t *o)
{
    char a[16], b[16], c[16];
    printf("messages %lld, recipients %lld, delivered %lld\n", (long long)num(o, "messages", NULL),
           (long long)num(o, "recipients", NULL), (long long)num(o, "delivered", NULL));
    json_t *st = json_object_get(o, "states");
    const char *key;
    json_t *v;
    printf("states  ");
    json_object_foreach(st, key, v) if (json_integer_value(v))
        printf(" %s %lld", key, (long long)json_integer_value(v));
    printf("\n\n%-18s %9s %9s %9s %9s\n", "", "human", "machine", "unknown", "all");
    static const char *const rows[] = {"opens", "openers", "clicks", "clickers", "document_opens"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("%-18s %9lld %9lld %9lld %9lld\n", rows[i], (long long)num(o, rows[i], "human"),
               (long long)num(o, rows[i], "machine"), (long long)num(o, rows[i], "unknown"),
               (long long)num(o, rows[i], "all"));
    printf("\nreaders %lld, possible forwards %lld, complaints %lld, read receipts %lld\n",
           (long long)num(o, "readers", NULL), (long long)num(o, "possible_forwards", NULL),
           (long long)num(o, "complaints", NULL), (long long)num(o, "read_receipts", NULL));
    json_t *rates = json_object_get(o, "rates");
    printf("\n%-18s %9s %9s %9s  definition\n", "rate", "human", "machine", "all");
    json_object_foreach(rates, key, v)
    {
        printf("%-18s %9s %9s %9s  %s\n", key, pct(json_object_get(v, "human"), a, sizeof a),
               pct(json_object_get(v, "machine"), b, sizeof b),
               pct(json_object_get(v, "all"), c, sizeof c),
               json_string_value(json_object_get(v, "definition")));
    }
    json_t *by = json_object_get(json_object_get(o, "bounces"), "by_reason");
    size_t i;
    if (json_array_size(by)) printf("\n%-24s %6s %6s\n", "bounce reason", "hard", "soft");
    json_array_foreach(by, i, v)
    {
        char r[64];
        printf("%-24s %6lld %6lld\n",
               cli_safe(json_string_value(json_object_get(v, "reason")), r, sizeof r),
               (long long)num(v, "hard", NULL), (long long)num(v, "soft", NULL));
    }
    json_t *links = json_object_get(o, "links");
    if (json_array_size(links))
        printf("\n%-16s %4s %7s %8s %7s  url\n", "message", "link", "clicks", "clickers", "(all)");
    json_array_foreach(links, i, v)
    {
        char u[256];
        printf("%-16s %4lld %7lld %8lld %7lld  %s\n",
               json_string_value(json_object_get(v, "message")), (long long)num(v, "link", NULL),
               (long long)num(v, "clicks", "human"), (long long)num(v, "clickers", "human"),
               (long long)num(v, "clicks", "all"),
               cli_safe(json_string_value(json_object_get(v, "url")), u, sizeof u));
    }
}

/* metric,class,value: one line per figure, for a spreadsheet. */
static void stats_csv(json_t *o)
{
    struct homing_buf b = {.max = 1 << 24};
    homing_buf_puts(&b, "metric,class,value\n");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (json_is_integer(v)) {
            homing_buf_printf(&b, "%s,,%lld\n", key, (long long)json_integer_value(v));
        } else if (json_is_object(v) && strcmp(key, "bounces") != 0 && strcmp(key, "rates") != 0) {
            const char *k2;
            json_t *w;
            json_object_foreach(v, k2, w)
                homing_buf_printf(&b, "%s,%s,%lld\n", key, k2, (long long)json_integer_value(w));
        }
    }
    json_t *rates = json_object_get(o, "rates");
    json_object_foreach(rates, key, v)
    {
        static const char *const cls[] = {"human", "machine", "all"};
        for (size_t k = 0; k < 3; k++) {
            json_t *r = json_object_get(v, cls[k]);
            if (json_is_number(r))
                homing_buf_printf(&b, "rate_%s,%s,%.6f\n", key, cls[k], json_number_value(r));
            else
                homing_buf_printf(&b, "rate_%s,%s,\n", key, cls[k]);
        }
    }
    size_t i;
    json_array_foreach(json_object_get(json_object_get(o, "bounces"), "by_reason"), i, v)
    {
        homing_buf_puts(&b, "bounced_hard,");
        homing_csv_cell(&b, json_string_value(json_object_get(v, "reason")), 0);
        homing_buf_printf(&b, ",%lld\nbounced_soft,", (long long)num(v, "hard", NULL));
        homing_csv_cell(&b, json_string_value(json_object_get(v, "reason")), 0);
        homing_buf_printf(&b, ",%lld\n", (long long)num(v, "soft", NULL));
    }
    fwrite(b.data ? b.data : "", 1, b.len, stdout);
    homing_buf_free(&b);
}

static int stats_campaigns(struct homing_store *st, int json)
{
    struct homing_campaign *c = NULL;
    size_t n = 0;
    if (homing_store_campaigns_list(st, &c, &n) < 0)
        return cli_fail("cannot list campaigns: %s", homing_store_errmsg(st));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char f[HOMING_TIME_STR_MAX], l[HOMING_TIME_STR_MAX];
        homing_time_format(c[i].first_us, f);
        homing_time_format(c[i].last_us, l);
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", c[i].name,
                                             "messages", (json_int_t)c[i].messages, "recipients",
                                             (json_int_t)c[i].recipients, "first", f, "last", l));
    }
    free(c);
    if (json) {
        /* the wrapper owns arr; written as every --json output is (controls
         * and bidirectional overrides escaped) */
        json_t *o = json_pack("{s:o}", "campaigns", arr);
        int r = o ? homing_json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) : -ENOMEM;
        json_decref(o);
        if (r < 0) return cli_fail("cannot write the campaigns");
        putchar('\n');
        return CLI_OK;
    }
    printf("%-32s %8s %10s  last message\n", "campaign", "messages", "recipients");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char name[128];
        printf("%-32s %8lld %10lld  %s\n",
               cli_safe(json_string_value(json_object_get(v, "name")), name, sizeof name),
               (long long)num(v, "messages", NULL), (long long)num(v, "recipients", NULL),
               json_string_value(json_object_get(v, "last")));
    }
    json_decref(arr);
    return CLI_OK;
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, stats_usage)) return CLI_OK;
    struct homing_message_query q = {0};
    int json = 0, csv = 0, campaigns = 0;
    const char *series = NULL, *message = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--csv") == 0)
            csv = 1;
        else if (strcmp(a, "--campaigns") == 0)
            campaigns = 1;
        else if (strcmp(a, "--no-campaign") == 0)
            q.campaign = "";
        else if (strcmp(a, "--campaign") == 0 && has) {
            q.campaign = argv[++i];
            if (!homing_campaign_ok(q.campaign))
                return cli_usage_error("stats",
                                       "--campaign: 1 to 200 bytes of UTF-8 without controls");
        } else if (strcmp(a, "--message") == 0 && has)
            message = argv[++i];
        else if ((strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0) && has) {
            int64_t t;
            if (homing_time_parse(argv[i + 1], &t) < 0)
                return cli_usage_error("stats", "%s: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", a);
            if (a[2] == 's')
                q.since_us = t;
            else
                q.until_us = t;
            i++;
        } else if (strcmp(a, "--series") == 0 && has) {
            series = argv[++i];
            if (strcmp(series, "hour") != 0 && strcmp(series, "day") != 0)
                return cli_usage_error("stats", "--series takes hour or day");
        } else {
            char safe[64];
            return cli_usage_error("stats", "unknown argument '%s'",
                                   cli_safe(a, safe, sizeof safe));
        }
    }
    if (json && csv) return cli_usage_error("stats", "--json and --csv exclude each other");
    struct homing_store *st = cli_store(cli);
    if (!st) return CLI_ERROR;
    if (campaigns) return stats_campaigns(st, json);
    if (message && cli_message_arg(cli, "stats", message, &q.message) < 0) return CLI_ERROR;
    json_t *o = NULL;
    if (series) {
        int64_t bucket = strcmp(series, "day") == 0 ? 86400000000LL : 3600000000LL;
        struct homing_stats_point *p = NULL;
        size_t n = 0;
        if (homing_store_stats_series(st, &q, bucket, &p, &n) < 0)
            return cli_fail("cannot read the series: %s", homing_store_errmsg(st));
        o = homing_stats_series_json(p, n, bucket);
        free(p);
        if (!json && o) {
            /* a table, or CSV (kind and class are words of our own, t a time) */
            static const char *const head[2] = {"%-28s %-14s %-9s %8s\n", "%s,%s,%s,%s\n"};
            static const char *const row[2] = {"%-28s %-14s %-9s %8lld\n", "%s,%s,%s,%lld\n"};
            size_t i;
            json_t *v;
            printf(head[csv], csv ? "t" : "time (UTC)", "kind", "class", "count");
            json_array_foreach(json_object_get(o, "points"), i, v) printf(
                row[csv], json_string_value(json_object_get(v, "t")),
                json_string_value(json_object_get(v, "kind")),
                json_string_value(json_object_get(v, "class")), (long long)num(v, "count", NULL));
            json_decref(o);
            return CLI_OK;
        }
    } else {
        struct homing_stats s;
        if (homing_store_stats(st, &q, &s) < 0)
            return cli_fail("cannot read the figures: %s", homing_store_errmsg(st));
        o = homing_stats_json(&s);
        homing_stats_clear(&s);
        if (o && !json && !csv) {
            stats_text(o);
            json_decref(o);
            return CLI_OK;
        }
        if (o && csv) {
            stats_csv(o);
            json_decref(o);
            return CLI_OK;
        }
    }
    if (!o) return cli_fail("out of memory");
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(o);
    if (!text) return cli_fail("out of memory");
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}
