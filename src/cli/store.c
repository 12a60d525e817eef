/*
 * store.c: `homing store migrate --to URL [--dry-run]`, the store as a whole.
 *
 * migrate copies the SQLite store of the configuration into a PostgreSQL
 * store (homing_store_copy, homing/store_copy.h): the source is opened through
 * homing first, so its migrations apply; the target is created or migrated by
 * opening it. The copy is one transaction on each side: a failure leaves the
 * target as it was and the source is never written. Progress goes to stderr,
 * the per-table counts to stdout. --dry-run counts without writing: the
 * target is only inspected, and checked when it already has this homing's
 * schema.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "homing/store_copy.h"

#define STORE_ERR_MAX 1024

static const char store_usage[] =
    "usage: homing store migrate --to URL [--dry-run]\n\n"
    "Copies this instance's SQLite store (store.url) into the PostgreSQL store URL\n"
    "(postgresql://... or postgres://..., with homing's own ?schema=NAME), which is\n"
    "created or brought to the latest schema first. Every table is copied with its ids,\n"
    "in one transaction: a failure leaves the target empty, and the source is only read.\n"
    "The target must hold no data. Stop the daemon first: the copy holds the source's\n"
    "write lock while it runs. Then set store.url to URL and start the daemon again\n"
    "(docs/operations.md, \"Moving a store to PostgreSQL\").\n\n"
    "  --to URL    the PostgreSQL store to copy into\n"
    "  --dry-run   count the rows of each table and check the target; write nothing\n";

static void progress(void *arg, const char *table, int64_t done, int64_t total)
{
    (void)arg;
    fprintf(stderr, "homing store migrate: %s: %lld/%lld rows\n", table, (long long)done,
            (long long)total);
}

/* err on one line: PostgreSQL's messages have DETAIL and CONTEXT lines. */
static const char *one_line(char *err)
{
    size_t o = 0;
    for (size_t i = 0; err[i]; i++) {
        int space = err[i] == '\n' || err[i] == '\t' || err[i] == '\r' || err[i] == ' ';
        if (space && (o == 0 || err[o - 1] == ' ')) continue;
        err[o++] = space ? ' ' : err[i];
    }
    while (o && err[o - 1] == ' ') o--;
    err[o] = '\0';
    return err;
}

static int is_pg_url(const char *u)
{
    return strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0;
}

static int migrate(struct cli *cli, const char *to, int dry)
{
    if (cli_config(cli) < 0) return CLI_ERROR;
    struct homing_store *src = cli_store(cli);
    if (!src) return CLI_ERROR;
    if (strcmp(homing_store_scheme(src), "sqlite") != 0)
        return cli_fail("store migrate: store.url is not a SQLite store: nothing to migrate");
    const char *base = homing_config_base_dir(cli->config);
    char err[STORE_ERR_MAX];
    struct homing_store *dst = NULL;
    const char *note = NULL;
    char notebuf[128];
    if (dry) {
        int version = 0, latest = 0;
        int r = homing_store_inspect(to, base, &version, &latest, err, sizeof err);
        if (r == -ENOENT || (r == 0 && version == 0)) {
            note = "the target does not exist yet: the copy creates it";
        } else if (r < 0) {
            return cli_fail("store migrate: %s", one_line(err));
        } else if (version != latest) {
            snprintf(notebuf, sizeof notebuf,
                     "the target's schema is version %d: the copy migrates it to %d", version,
                     latest);
            note = notebuf;
        } else if (homing_store_open(to, base, "normal", &dst, err, sizeof err) < 0) {
            return cli_fail("store migrate: %s", one_line(err));
        }
    } else if (homing_store_open(to, base, "normal", &dst, err, sizeof err) < 0) {
        return cli_fail("store migrate: cannot open the target: %s", one_line(err));
    }
    struct homing_store_copy_result res;
    int r = homing_store_copy(src, dst, dry ? HOMING_STORE_COPY_DRY_RUN : 0, progress, NULL, &res,
                              err, sizeof err);
    homing_store_close(dst);
    if (r < 0) {
        if (dry) return cli_fail("store migrate: %s", one_line(err));
        return cli_fail("store migrate: %s; nothing was copied (the target is left as it was, "
                        "the source unchanged): fix that and run it again",
                        one_line(err));
    }
    int64_t total = 0;
    printf("%-24s %12s\n", "TABLE", dry ? "ROWS" : "COPIED");
    for (size_t i = 0; i < res.n; i++) {
        printf("%-24s %12lld\n", res.tables[i].name,
               (long long)(dry ? res.tables[i].rows : res.tables[i].copied));
        total += dry ? res.tables[i].rows : res.tables[i].copied;
    }
    if (res.text_fixed)
        printf("%lld text value(s) had bytes that are not UTF-8: stored with '?' for them\n",
               (long long)res.text_fixed);
    if (dry)
        printf("dry run: %lld rows in %zu tables would be copied%s%s\n", (long long)total, res.n,
               note ? "; " : "", note ? note : "");
    else
        printf("copied %lld rows in %zu tables, every count checked; set store.url to the "
               "new URL and start the daemon\n",
               (long long)total, res.n);
    homing_store_copy_result_free(&res);
    return CLI_OK;
}

int cmd_store(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, store_usage)) return CLI_OK;
    if (argc < 2) return cli_usage_error("store", "which subcommand? (migrate)");
    if (strcmp(argv[1], "migrate") != 0)
        return cli_usage_error("store", "unknown subcommand '%s'", argv[1]);
    const char *to = NULL;
    int dry = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--dry-run") == 0)
            dry = 1;
        else
            return cli_usage_error("store", "unknown argument '%s'", argv[i]);
    }
    if (!to) return cli_usage_error("store", "migrate needs --to URL");
    if (!is_pg_url(to))
        return cli_usage_error("store", "--to must be a PostgreSQL URL (postgresql://...)");
    return migrate(cli, to, dry);
}
