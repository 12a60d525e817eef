/*
 * ui_link.c: `homing ui-link`: prints the dashboard's address and a one-time
 * sign-in link for the local operator (lib/service/ui_link.c), which `make
 * run` shows before it starts the daemon. The link signs one browser in with
 * read scope, once, within --ttl seconds; a new link replaces the last one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "homing/config.h"
#include "homing/service.h"

#define UI_LINK_HOST_MAX 300 /* bytes of admin.listen's host shown in the link */

static const char ui_link_usage[] =
    "usage: homing ui-link [--ttl SECONDS]\n\n"
    "Prints the dashboard's address (the admin listener's /ui/) and a link that\n"
    "signs one browser in without an API key: once, within --ttl seconds\n"
    "(default 900, at most 86400), with read scope. Making a new link cancels\n"
    "the last one. The daemon need not be running. For a dashboard reached\n"
    "through a proxy, replace the address part; docs/dashboard.md.\n";

int cmd_ui_link(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, ui_link_usage)) return CLI_OK;
    long ttl = HOMING_UI_LINK_TTL_S;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
            char *end;
            ttl = strtol(argv[++i], &end, 10);
            if (*end || ttl <= 0 || ttl > HOMING_UI_LINK_TTL_MAX_S)
                return cli_usage_error("ui-link", "--ttl: 1 to %d seconds",
                                       HOMING_UI_LINK_TTL_MAX_S);
        } else
            return cli_usage_error("ui-link", "unknown argument '%s'", argv[i]);
    }
    if (cli_config(cli) < 0) return CLI_ERROR;
    const char *listen = homing_config_settings(cli->config)->admin.listen;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    /* a wildcard listener is reached on loopback from this machine */
    char host[UI_LINK_HOST_MAX];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return cli_fail("admin.listen '%s' is not host:port", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0 || host[0] == '\0')
        strcpy(host, "127.0.0.1");
    else if (strcmp(host, "[::]") == 0)
        strcpy(host, "[::1]");
    char token[HOMING_UI_LINK_MAX];
    int r = homing_ui_link_create(s, (int)ttl, token);
    if (r < 0) return cli_fail("cannot make a sign-in link: %s", homing_store_errmsg(s));
    printf("Dashboard: http://%s:%s/ui/\n"
           "Sign in once, within %ld minute(s), with: http://%s:%s/ui/login?link=%s\n",
           host, colon + 1, (ttl + 59) / 60, host, colon + 1, token);
    sodium_memzero(token, sizeof token);
    return CLI_OK;
}
