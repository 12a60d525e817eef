/*
 * privacy.c: `homing privacy mode|show|sweep`: the tracking mode of a message
 * or of one recipient, and the privacy sweep (client addresses truncated once
 * enriched, events past privacy.retention_days rolled up then deleted). The
 * sweep is the library's (homing/service.h); the daemon runs the same one on
 * its privacy thread (src/serve/privacy.c).
 *
 * Contract: one-line errors and exit 2 on bad input; the sweep changes only
 * what the schema's privacy guard admits (docs/privacy.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "homing/service.h"

static const char privacy_usage[] =
    "usage: homing privacy mode MESSAGE [RECIPIENT] MODE\n"
    "       homing privacy show MESSAGE\n"
    "       homing privacy sweep [--retention-days N]\n\n"
    "mode   sets the tracking mode of a message, or of one recipient (its index or\n"
    "       address); MODE is off, delivery, anonymous or individual, and for a\n"
    "       recipient also inherit (back to the message's mode). A mode changes\n"
    "       what reports and the API show at once; copies already sent keep the\n"
    "       tracking they were made with.\n"
    "show   the message's mode and each recipient's effective mode\n"
    "sweep  truncates client addresses of enriched events (privacy.truncate,\n"
    "       privacy.truncate_v4, privacy.truncate_v6), then rolls up and deletes\n"
    "       events older than privacy.retention_days (0: keep forever). The\n"
    "       daemon does the same on its own; see docs/privacy.md.\n"
    "MESSAGE is a public id (16 hex digits) or a Message-ID.\n";

static int privacy_mode(struct cli *cli, int argc, char **argv)
{
    char safe[128];
    if (argc != 3 && argc != 4)
        return cli_usage_error("privacy", "'mode' needs MESSAGE [RECIPIENT] MODE");
    uint64_t id;
    if (cli_message_arg(cli, "privacy mode", argv[1], &id) < 0) return CLI_ERROR;
    const char *mname = argv[argc - 1];
    int mode = strcmp(mname, "inherit") == 0 && argc == 4 ? HOMING_TRACKING_INHERIT
                                                          : homing_tracking_parse(mname);
    if (mode == -EINVAL)
        return cli_usage_error("privacy",
                               "unknown mode '%s' (off, delivery, anonymous, individual%s)",
                               cli_safe(mname, safe, sizeof safe), argc == 4 ? ", inherit" : "");
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    char hex[HOMING_ID_STR_MAX];
    homing_id_format(id, hex);
    uint32_t rcpt = 0;
    if (argc == 4) {
        const char *ra = argv[2];
        char *end;
        unsigned long v = strtoul(ra, &end, 10);
        if (ra[0] >= '0' && ra[0] <= '9' && !*end && v >= 1 && v <= HOMING_STORE_RECIPIENTS_MAX) {
            rcpt = (uint32_t)v;
        } else if (strchr(ra, '@')) {
            struct homing_message *m;
            int r = homing_store_message_get(s, id, &m);
            if (r == -ENOENT) return cli_fail("no message %s", hex);
            if (r < 0) return cli_fail("cannot read message %s: %s", hex, homing_store_errmsg(s));
            for (size_t i = 0; i < m->n_recipients && !rcpt; i++)
                if (strcasecmp(m->recipients[i].address, ra) == 0) rcpt = m->recipients[i].index;
            homing_message_free(m);
            if (!rcpt)
                return cli_fail("message %s has no recipient %s", hex,
                                cli_safe(ra, safe, sizeof safe));
        } else {
            return cli_usage_error("privacy",
                                   "RECIPIENT must be an index (1, 2, ...) or an address");
        }
    }
    int r = homing_store_tracking_set(s, id, rcpt, mode);
    if (r == -ENOENT)
        return rcpt ? cli_fail("message %s has no recipient %u", hex, rcpt)
                    : cli_fail("no message %s", hex);
    if (r < 0) return cli_fail("cannot set the mode: %s", homing_store_errmsg(s));
    if (rcpt)
        printf("message %s recipient %u: %s\n", hex, rcpt, mname);
    else
        printf("message %s: %s\n", hex, mname);
    return CLI_OK;
}

static int privacy_show(struct cli *cli, int argc, char **argv)
{
    if (argc != 2) return cli_usage_error("privacy", "'show' needs one MESSAGE");
    uint64_t id;
    if (cli_message_arg(cli, "privacy show", argv[1], &id) < 0) return CLI_ERROR;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    char hex[HOMING_ID_STR_MAX];
    homing_id_format(id, hex);
    int mm, *modes;
    size_t n;
    int r = homing_store_tracking_get(s, id, &mm, &modes, &n);
    if (r == -ENOENT) return cli_fail("no message %s", hex);
    if (r < 0) return cli_fail("cannot read message %s: %s", hex, homing_store_errmsg(s));
    printf("message %s: %s\n", hex, homing_tracking_name(mm));
    for (size_t i = 0; i < n; i++)
        printf("  recipient %zu: %s\n", i + 1, homing_tracking_name(modes[i]));
    free(modes);
    return CLI_OK;
}

static int privacy_sweep_cmd(struct cli *cli, int argc, char **argv)
{
    if (cli_config(cli) < 0) return CLI_ERROR;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--retention-days") == 0 && i + 1 < argc) {
            long long d;
            if (cli_parse_count("privacy", "--retention-days", argv[++i], 0,
                                HOMING_PRIVACY_RETENTION_MAX, &d) < 0)
                return CLI_ERROR;
            homing_config_set(cli->config, "privacy.retention_days", argv[i]);
        } else {
            char safe[64];
            return cli_usage_error("privacy", "unexpected argument '%s'",
                                   cli_safe(argv[i], safe, sizeof safe));
        }
    }
    struct homing_privacy_settings p;
    char err[256];
    if (homing_privacy_settings_read(cli->config, &p, err, sizeof err) < 0)
        return cli_fail("%s", err);
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    struct homing_privacy_sweep_result res;
    if (homing_privacy_sweep(s, &p, 1, &res) < 0)
        return cli_fail("privacy sweep: %s", homing_store_errmsg(s));
    printf("truncated %lld client address%s; rolled up and deleted %lld event%s\n",
           (long long)res.truncated, res.truncated == 1 ? "" : "es", (long long)res.deleted,
           res.deleted == 1 ? "" : "s");
    return CLI_OK;
}

int cmd_privacy(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, privacy_usage)) return CLI_OK;
    if (argc < 2) return cli_usage_error("privacy", "expected 'mode', 'show' or 'sweep'");
    const char *a = argv[1];
    if (strcmp(a, "mode") == 0) return privacy_mode(cli, argc - 1, argv + 1);
    if (strcmp(a, "show") == 0) return privacy_show(cli, argc - 1, argv + 1);
    if (strcmp(a, "sweep") == 0) return privacy_sweep_cmd(cli, argc - 1, argv + 1);
    char safe[64];
    return cli_usage_error("privacy", "unknown action '%s'", cli_safe(a, safe, sizeof safe));
}
