/*
 * webhooks.c: `homing webhooks add|list|remove|test`: the receivers of signed
 * notification POSTs (docs/notifications.md).
 *
 * A secret is generated unless --secret gives one, and printed once: the store
 * keeps it (it must, to sign), but list never shows it. remove disables the
 * webhook and fails its pending deliveries; its history stays. test POSTs a
 * signed notification of kind "test" (id 0, not stored) from this process, so
 * it works without the daemon.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "homing/notify.h"

#define WEBHOOKS_TEST_TIMEOUT_MS 10000

static const char webhooks_usage[] =
    "usage: homing webhooks add URL [--events KINDS] [--secret SECRET]\n"
    "       homing webhooks list [--json]\n"
    "       homing webhooks remove ID\n"
    "       homing webhooks test ID\n\n"
    "Webhooks receive each notification as a signed JSON POST (docs/notifications.md).\n\n"
    "  --events KINDS   comma-separated, from " HOMING_NOTIFY_KINDS ";\n"
    "                   '*' (default) for all\n"
    "  --secret SECRET  the signing secret; without it one is generated and printed\n"
    "                   once (keep it: 'list' never shows it)\n";

static int parse_id(const char *arg, int64_t *id)
{
    long long v;
    if (cli_parse_count("webhooks", "ID", arg, 1, INT64_MAX, &v) != 0) return -EINVAL;
    *id = v;
    return 0;
}

static int webhooks_add(struct cli *cli, int argc, char **argv)
{
    const char *url = NULL, *events = "*", *secret = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--events") == 0 || strcmp(argv[i], "--secret") == 0) {
            if (i + 1 >= argc) return cli_usage_error("webhooks", "%s needs a value", argv[i]);
            if (argv[i][2] == 'e')
                events = argv[++i];
            else
                secret = argv[++i];
        } else if (argv[i][0] == '-') {
            return cli_usage_error("webhooks", "unknown option '%s'", argv[i]);
        } else if (!url) {
            url = argv[i];
        } else {
            return cli_usage_error("webhooks", "one URL only");
        }
    }
    if (!url) return cli_usage_error("webhooks", "add needs a URL");
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return cli_usage_error("webhooks", "the URL must start with http:// or https://");
    if (cli_config(cli) < 0) return CLI_ERROR;
    if (strlen(url) >= HOMING_WEBHOOK_URL_MAX) return cli_usage_error("webhooks", "URL too long");
    struct homing_webhook_guard guard;
    if (homing_webhook_guard_from_config(cli->config, &guard) < 0)
        return cli_fail("webhooks.allow_private or admin.listen is not valid");
    char why[HOMING_NOTIFY_ERROR_MAX];
    int g = homing_webhook_url_check(&guard, url, why, sizeof why);
    if (g == -EINVAL) return cli_usage_error("webhooks", "%s", why);
    if (g < 0) return cli_fail("%s", why);
    char filter[HOMING_WEBHOOK_EVENTS_MAX];
    if (homing_notify_filter_normalise(events, filter, sizeof filter) < 0)
        return cli_usage_error("webhooks", "--events: '*' or kinds from %s", HOMING_NOTIFY_KINDS);
    char fresh[HOMING_NOTIFY_SECRET_LEN + 1];
    if (!secret) {
        if (homing_notify_secret_new(fresh) < 0) return cli_fail("cannot make a secret");
        secret = fresh;
    } else if (!*secret || strlen(secret) >= HOMING_WEBHOOK_SECRET_MAX) {
        return cli_usage_error("webhooks", "--secret must be 1 to %d bytes",
                               HOMING_WEBHOOK_SECRET_MAX - 1);
    }
    struct homing_store *st = cli_store(cli);
    if (!st) return CLI_ERROR;
    int64_t id;
    if (homing_store_webhook_add(st, url, filter, secret, &id) < 0)
        return cli_fail("cannot add webhook: %s", homing_store_errmsg(st));
    printf("webhook %" PRId64 " added: %s (events %s)\n", id, url, filter);
    if (secret == fresh)
        printf("secret: %s\n(shown once: receivers need it to verify signatures)\n", secret);
    return CLI_OK;
}

static int webhooks_list(struct cli *cli, int argc, char **argv)
{
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            return cli_usage_error("webhooks", "unknown argument '%s'", argv[i]);
    }
    struct homing_store *st = cli_store(cli);
    if (!st) return CLI_ERROR;
    struct homing_webhook *w = NULL;
    size_t n = 0;
    if (homing_store_webhook_list(st, &w, &n) < 0)
        return cli_fail("cannot list webhooks: %s", homing_store_errmsg(st));
    if (!json && n == 0) printf("no webhooks: add one with 'homing webhooks add URL'\n");
    if (!json && n) printf("%-4s %-8s %-20s %-30s %s\n", "ID", "STATE", "CREATED", "EVENTS", "URL");
    for (size_t i = 0; i < n; i++) {
        char created[CLI_TIME_SHORT_MAX], url[HOMING_WEBHOOK_URL_MAX],
            ev[HOMING_WEBHOOK_EVENTS_MAX];
        if (json) {
            json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:b}", "id", (json_int_t)w[i].id, "url",
                                  w[i].url, "events", w[i].events, "created_us",
                                  (json_int_t)w[i].created_us, "enabled", !w[i].disabled_us);
            if (o) {
                homing_json_dumpf(o, stdout, JSON_COMPACT);
                putchar('\n');
                json_decref(o);
            }
            continue;
        }
        cli_time_short(w[i].created_us, created);
        printf("%-4" PRId64 " %-8s %-20s %-30s %s\n", w[i].id,
               w[i].disabled_us ? "removed" : "enabled", created,
               cli_safe(w[i].events, ev, sizeof ev), cli_safe(w[i].url, url, sizeof url));
    }
    homing_webhooks_free(w, n);
    return CLI_OK;
}

static int webhooks_remove(struct cli *cli, int argc, char **argv)
{
    int64_t id;
    if (argc != 1) return cli_usage_error("webhooks", "remove needs one ID");
    if (parse_id(argv[0], &id) < 0) return CLI_ERROR;
    struct homing_store *st = cli_store(cli);
    if (!st) return CLI_ERROR;
    int r = homing_store_webhook_disable(st, id);
    if (r == -ENOENT) return cli_fail("no enabled webhook %" PRId64, id);
    if (r < 0) return cli_fail("cannot remove webhook: %s", homing_store_errmsg(st));
    printf("webhook %" PRId64 " removed (pending deliveries to it are failed)\n", id);
    return CLI_OK;
}

static int webhooks_test(struct cli *cli, int argc, char **argv)
{
    int64_t id;
    if (argc != 1) return cli_usage_error("webhooks", "test needs one ID");
    if (parse_id(argv[0], &id) < 0) return CLI_ERROR;
    struct homing_store *st = cli_store(cli);
    if (!st) return CLI_ERROR;
    struct homing_webhook_guard guard;
    if (homing_webhook_guard_from_config(cli->config, &guard) < 0)
        return cli_fail("webhooks.allow_private or admin.listen is not valid");
    struct homing_webhook *w;
    int r = homing_store_webhook_get(st, id, &w);
    if (r == -ENOENT) return cli_fail("no webhook %" PRId64, id);
    if (r < 0) return cli_fail("cannot read webhook: %s", homing_store_errmsg(st));
    struct homing_notification n = {
        .id = 0,
        .time_us = homing_now_us(),
        .kind = "test",
        .text = "a test notification from homing webhooks test",
        .payload = "{\"test\":true}",
    };
    json_t *j = homing_notification_json(&n);
    char *body = j ? homing_json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char err[HOMING_NOTIFY_ERROR_MAX], safe[HOMING_NOTIFY_ERROR_MAX], url[HOMING_WEBHOOK_URL_MAX];
    long status = 0;
    r = body ? homing_notify_post(&guard, w->url, w->secret, 0, "test", body, strlen(body),
                                  WEBHOOKS_TEST_TIMEOUT_MS, &status, err, sizeof err)
             : -ENOMEM;
    free(body);
    cli_safe(w->url, url, sizeof url);
    homing_webhooks_free(w, 1);
    if (r < 0)
        return cli_fail("webhook %" PRId64 " (%s): %s", id, url,
                        r == -ENOMEM ? "out of memory" : cli_safe(err, safe, sizeof safe));
    printf("webhook %" PRId64 " (%s) answered %ld\n", id, url, status);
    return CLI_OK;
}

int cmd_webhooks(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, webhooks_usage)) return CLI_OK;
    if (argc < 2) return cli_usage_error("webhooks", "add, list, remove or test?");
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0) return webhooks_add(cli, argc - 2, argv + 2);
    if (strcmp(sub, "list") == 0) return webhooks_list(cli, argc - 2, argv + 2);
    if (strcmp(sub, "remove") == 0) return webhooks_remove(cli, argc - 2, argv + 2);
    if (strcmp(sub, "test") == 0) return webhooks_test(cli, argc - 2, argv + 2);
    return cli_usage_error("webhooks", "unknown subcommand '%s'", sub);
}
