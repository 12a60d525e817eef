/*
 * events.c: `homing events`: the event log, oldest first, one line per event
 * (or one JSON object per line), optionally of one message, and with --follow
 * the new events as they are committed, until SIGINT or SIGTERM (exit 0).
 *
 * Following polls the store rather than the daemon, so it works with or without
 * a running daemon and on any node sharing the store; the event id is the
 * cursor (ids only grow).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

#define EVENTS_POLL_MS 500 /* --follow: how often the store is asked for news */
#define EVENTS_PAGE    HOMING_STORE_LIST_MAX

static const char events_usage[] =
    "usage: homing events [--message MESSAGE] [--after ID] [--limit N] [--follow] [--json]\n\n"
    "Lists events oldest first: id, time (UTC), kind, method, message, recipient,\n"
    "item, client address and User-Agent (controls shown escaped, docs/cli.md).\n\n"
    "  --message MESSAGE  only this message (public id or Message-ID)\n"
    "  --after ID         only events with an id greater than ID (a cursor)\n"
    "  --limit N          at most N events\n"
    "  --follow           keep printing new events until interrupted\n"
    "  --json             one JSON object per line, with every field\n";

static volatile sig_atomic_t events_stop;

static void on_signal(int sig)
{
    (void)sig;
    events_stop = 1;
}

static int print_json(const struct homing_event *e)
{
    /* header fields that are not UTF-8 come out escaped (homing_json_text) */
    json_t *j = homing_event_json(e);
    if (!j) return -ENOMEM;
    int r = homing_json_dumpf(j, stdout, JSON_COMPACT);
    json_decref(j);
    putchar('\n');
    return r < 0 ? -EIO : 0;
}

static void print_line(const struct homing_event *e)
{
    /* room for every byte escaped: an investigator sees the whole header */
    char when[HOMING_TIME_STR_MAX], msg[HOMING_ID_STR_MAX],
        client[HOMING_ADDR_STR_MAX * HOMING_ESCAPE_GROWTH];
    char ua[HOMING_EVENT_UA_MAX * HOMING_ESCAPE_GROWTH];
    homing_time_format(e->time_us, when);
    homing_id_format(e->message, msg);
    const char *kind = homing_event_kind_name(e->kind);
    const char *method = homing_http_method_name(e->method);
    cli_safe(e->client, client, sizeof client);
    cli_safe(e->user_agent, ua, sizeof ua);
    printf("%-8lld %s %-13s %-4s %s r%-3u i%-3u %-15s %s\n", (long long)e->id, when,
           kind ? kind : "unknown", *method ? method : "-", msg, e->recipient, e->item,
           *client ? client : "-", *ua ? ua : "-");
}

/* Prints events after *after until none are left or *left reaches 0 (a
 * negative *left means no limit); advances *after. */
static int drain(struct homing_store *s, uint64_t message, int64_t *after, long long *left,
                 int json)
{
    for (;;) {
        size_t want = EVENTS_PAGE;
        if (*left >= 0 && (long long)want > *left) want = (size_t)*left;
        if (want == 0) return 0;
        struct homing_event *evs;
        size_t n;
        int r = homing_store_events_list(s, message, *after, want, &evs, &n);
        if (r < 0) return r;
        /* as the tracking modes allow (docs/privacy.md) */
        if ((r = homing_store_events_visible(s, evs, n)) < 0) {
            homing_events_free(evs, n);
            return r;
        }
        for (size_t i = 0; i < n && r == 0; i++) {
            if (json)
                r = print_json(&evs[i]);
            else
                print_line(&evs[i]);
        }
        if (n) *after = evs[n - 1].id;
        homing_events_free(evs, n);
        if (r < 0) return r;
        if (*left >= 0) *left -= (long long)n;
        fflush(stdout);
        if (n < want || events_stop) return 0;
    }
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, events_usage)) return CLI_OK;
    const char *msg_arg = NULL;
    long long after = 0, limit = -1;
    int follow = 0, json = 0;
    char safe[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value =
            strcmp(a, "--message") == 0 || strcmp(a, "--after") == 0 || strcmp(a, "--limit") == 0;
        if (has_value && i + 1 >= argc) return cli_usage_error("events", "%s needs a value", a);
        if (strcmp(a, "--message") == 0) {
            msg_arg = argv[++i];
        } else if (strcmp(a, "--after") == 0) {
            if (cli_parse_count("events", a, argv[++i], 0, INT64_MAX, &after) < 0) return CLI_ERROR;
        } else if (strcmp(a, "--limit") == 0) {
            if (cli_parse_count("events", a, argv[++i], 1, INT64_MAX, &limit) < 0) return CLI_ERROR;
        } else if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
            follow = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else {
            return cli_usage_error("events", "unexpected argument '%s'",
                                   cli_safe(a, safe, sizeof safe));
        }
    }
    uint64_t message = 0;
    if (msg_arg && cli_message_arg(cli, "events", msg_arg, &message) < 0) return CLI_ERROR;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;

    if (follow) {
        /* No SA_RESTART: the signal must cut the sleep short. */
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    int64_t cursor = after;
    long long left = limit;
    int r = drain(s, message, &cursor, &left, json);
    while (r == 0 && follow && !events_stop && left != 0) {
        struct timespec ts = {EVENTS_POLL_MS / 1000, (EVENTS_POLL_MS % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (events_stop) break;
        r = drain(s, message, &cursor, &left, json);
        /* A writer holding the lock past the busy timeout is no reason to stop
         * following: ask again at the next poll. */
        if (r == -EBUSY) r = 0;
    }
    if (r < 0) return cli_fail("cannot list events: %s", homing_store_errmsg(s));
    return CLI_OK;
}
