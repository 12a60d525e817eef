/*
 * api_keys.c: `homing api-keys create|list|revoke`: keys for the admin API.
 * The key itself is printed once at creation and never stored: the store keeps
 * only its hash (homing/apikey.h), so a lost key is revoked and replaced.
 * A new key gets the least scope, read, unless --scope asks for more: a key
 * that leaks from a dashboard's configuration should not register messages.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "homing/apikey.h"

#define API_KEY_NAME_MAX 64 /* bytes of a key's name */

static const char api_keys_usage[] =
    "usage: homing api-keys create NAME [--scope read|write|admin]\n"
    "       homing api-keys list [--json]\n"
    "       homing api-keys revoke NAME\n\n"
    "create  make a new key for the admin API and print it once (only its hash is\n"
    "        stored: it cannot be shown again). NAME: up to 64 letters, digits, '.',\n"
    "        '_' or '-', unique among active keys. --scope (default read): read may\n"
    "        GET messages, events and the stream; write may also register messages;\n"
    "        admin may also list keys (docs/api.md has the route table)\n"
    "list    every key: id, name, scope, created, revoked (--json: one object per line)\n"
    "revoke  stop accepting the active key named NAME\n";

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > API_KEY_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int api_keys_create(struct cli *cli, const char *name, int scope)
{
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    char key[HOMING_APIKEY_LEN + 1];
    uint8_t hash[32];
    int r = homing_apikey_new(key, hash);
    if (r < 0) return cli_fail("cannot make a key: %s", strerror(-r));
    int64_t id;
    r = homing_store_api_key_add(s, name, hash, scope, &id);
    if (r == -EEXIST) {
        sodium_memzero(key, sizeof key);
        return cli_fail("an active API key is already named '%s' (revoke it first)", name);
    }
    if (r < 0) {
        sodium_memzero(key, sizeof key);
        return cli_fail("cannot store the key: %s", homing_store_errmsg(s));
    }
    /* The key alone on stdout, so KEY=$(homing api-keys create NAME) works; the
     * warning goes to stderr. */
    printf("%s\n", key);
    fflush(stdout);
    sodium_memzero(key, sizeof key);
    fprintf(stderr,
            "API key '%s' (id %lld, scope %s) created. Store it now: it will not be shown "
            "again (only its hash is kept).\n",
            name, (long long)id, homing_apikey_scope_name(scope));
    return CLI_OK;
}

static int api_keys_list(struct cli *cli, int json)
{
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    struct homing_api_key_info *k;
    size_t n;
    if (homing_store_api_key_list(s, &k, &n) < 0)
        return cli_fail("cannot list API keys: %s", homing_store_errmsg(s));
    if (!json) printf("%-6s %-24s %-6s %-20s %s\n", "ID", "NAME", "SCOPE", "CREATED", "REVOKED");
    for (size_t i = 0; i < n && json; i++) {
        char created[HOMING_TIME_STR_MAX], revoked[HOMING_TIME_STR_MAX];
        homing_time_format(k[i].created_us, created);
        homing_time_format(k[i].revoked_us, revoked);
        json_t *j = json_pack("{s:I, s:s, s:s?, s:s, s:s?}", "id", (json_int_t)k[i].id, "name",
                              k[i].name, "scope", homing_apikey_scope_name(k[i].scope), "created",
                              created, "revoked", k[i].revoked_us ? revoked : NULL);
        if (j) {
            homing_json_dumpf(j, stdout, JSON_COMPACT);
            putchar('\n');
        }
        json_decref(j);
    }
    for (size_t i = 0; i < n && !json; i++) {
        char name[API_KEY_NAME_MAX * 2], created[CLI_TIME_SHORT_MAX], revoked[CLI_TIME_SHORT_MAX];
        cli_time_short(k[i].created_us, created);
        cli_time_short(k[i].revoked_us, revoked);
        const char *scope = homing_apikey_scope_name(k[i].scope);
        printf("%-6lld %-24s %-6s %-20s %s\n", (long long)k[i].id,
               cli_safe(k[i].name, name, sizeof name), scope ? scope : "-", created, revoked);
    }
    homing_api_keys_free(k, n);
    return CLI_OK;
}

static int api_keys_revoke(struct cli *cli, const char *name)
{
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    int r = homing_store_api_key_revoke(s, name);
    if (r == -ENOENT) return cli_fail("no active API key named '%s'", name);
    if (r < 0) return cli_fail("cannot revoke '%s': %s", name, homing_store_errmsg(s));
    printf("revoked API key '%s'\n", name);
    return CLI_OK;
}

int cmd_api_keys(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, api_keys_usage)) return CLI_OK;
    if (argc < 2) return cli_usage_error("api-keys", "expected 'create', 'list' or 'revoke'");
    const char *action = argv[1];
    if (strcmp(action, "list") == 0) {
        int json = argc == 3 && strcmp(argv[2], "--json") == 0;
        if (argc != 2 && !json) return cli_usage_error("api-keys", "'list' takes only --json");
        return api_keys_list(cli, json);
    }
    if (strcmp(action, "create") != 0 && strcmp(action, "revoke") != 0) {
        char safe[64];
        return cli_usage_error("api-keys", "unknown action '%s'",
                               cli_safe(action, safe, sizeof safe));
    }
    int scope = HOMING_APIKEY_SCOPE_READ;
    if (strcmp(action, "create") == 0 && argc == 5 && strcmp(argv[3], "--scope") == 0) {
        if ((scope = homing_apikey_scope_parse(argv[4])) < 0) {
            char safe[64];
            return cli_usage_error("api-keys", "bad scope '%s': read, write or admin",
                                   cli_safe(argv[4], safe, sizeof safe));
        }
        argc = 3;
    }
    if (argc != 3) return cli_usage_error("api-keys", "'%s' needs exactly one NAME", action);
    if (!name_ok(argv[2])) {
        char safe[API_KEY_NAME_MAX * 2];
        return cli_usage_error("api-keys",
                               "bad key name '%s': up to %d letters, digits, '.', '_' or '-'",
                               cli_safe(argv[2], safe, sizeof safe), API_KEY_NAME_MAX);
    }
    return strcmp(action, "create") == 0 ? api_keys_create(cli, argv[2], scope)
                                         : api_keys_revoke(cli, argv[2]);
}
