/*
 * token_keys.c: `homing token-keys list|rotate`. Rotation adds a key that signs
 * from now on; every older key keeps verifying, so mail already sent still works.
 * A running daemon picks the new key up on restart.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char token_keys_usage[] =
    "usage: homing token-keys list\n"
    "       homing token-keys rotate\n\n"
    "list    the keys in the key file: id, creation time, which one signs\n"
    "rotate  add a new signing key; older keys keep verifying tokens already sent\n"
    "        (restart the daemon to sign with it)\n";

int cmd_token_keys(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, token_keys_usage)) return CLI_OK;
    if (argc != 2) return cli_usage_error("token-keys", "expected 'list' or 'rotate'");
    if (cli_config(cli) < 0) return CLI_ERROR;
    const char *path = homing_config_settings(cli->config)->keys.file;
    if (strcmp(argv[1], "rotate") == 0) {
        uint16_t id;
        int r = homing_keyring_rotate(path, &id);
        if (r < 0) return cli_fail("cannot rotate keys in %s: %s", path, strerror(-r));
        printf("key %u now signs new tokens; older keys still verify\n", id);
        return CLI_OK;
    }
    if (strcmp(argv[1], "list") != 0)
        return cli_usage_error("token-keys", "unknown action '%s'", argv[1]);
    struct homing_keyring *k = cli_keyring(cli);
    if (!k) return CLI_ERROR;
    size_t n = homing_keyring_count(k);
    printf("%-6s %-28s %s\n", "ID", "CREATED", "ROLE");
    for (size_t i = 0; i < n; i++) {
        uint16_t id;
        int64_t created;
        char when[HOMING_TIME_STR_MAX];
        homing_keyring_info(k, i, &id, &created);
        homing_time_format(created, when);
        printf("%-6u %-28s %s\n", id, when, i + 1 == n ? "signs and verifies" : "verifies");
    }
    return CLI_OK;
}
