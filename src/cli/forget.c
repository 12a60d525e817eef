/*
 * forget.c: `homing forget ADDRESS`: removes everything the store holds about
 * one recipient address, in one transaction (homing_store_privacy_forget), and
 * prints what went, per table. Idempotent: a second run removes nothing and
 * still exits 0. Exit 2 on a bad address or a store error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char forget_usage[] =
    "usage: homing forget ADDRESS\n\n"
    "Removes everything about one recipient address (compared without case): its\n"
    "recipient rows become tombstones ('forgotten', so the other recipients'\n"
    "indexes and tokens stay valid), and its events, enrichments, readers,\n"
    "notifications with their webhook deliveries, and every other row tied to it or\n"
    "naming it (unmatched reports, ingest keys) are deleted; a message sender or\n"
    "subject naming it is blanked. Rollups (counts without recipients) stay.\n"
    "One transaction: all of it or nothing. See docs/privacy.md.\n";

int cmd_forget(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, forget_usage)) return CLI_OK;
    char safe[HOMING_FORGET_ADDR_MAX + 1];
    if (argc != 2) return cli_usage_error("forget", "expected one ADDRESS");
    const char *addr = argv[1];
    struct homing_store *s = NULL;
    struct homing_forget_result res;
    /* the address is checked before the store is opened: bad input changes nothing */
    const char *at = strchr(addr, '@');
    if (!at || at == addr || !at[1] || strlen(addr) > HOMING_FORGET_ADDR_MAX)
        return cli_usage_error("forget", "'%s' is not an address",
                               cli_safe(addr, safe, sizeof safe));
    if (!(s = cli_store(cli))) return CLI_ERROR;
    int r = homing_store_privacy_forget(s, addr, &res);
    if (r == -EINVAL)
        return cli_usage_error("forget", "'%s' is not an address",
                               cli_safe(addr, safe, sizeof safe));
    if (r < 0)
        return cli_fail("cannot forget %s: %s", cli_safe(addr, safe, sizeof safe),
                        homing_store_errmsg(s));
    int64_t total = 0;
    for (size_t i = 0; i < res.n; i++) total += res.t[i].rows;
    printf("forgot %s: %lld row%s\n", cli_safe(addr, safe, sizeof safe), (long long)total,
           total == 1 ? "" : "s");
    for (size_t i = 0; i < res.n; i++)
        printf("  %-20s %lld\n", res.t[i].table, (long long)res.t[i].rows);
    return CLI_OK;
}
