/*
 * relay_users.c: `homing relay-users add|list|remove`: the accounts `homing
 * relay` accepts for AUTH in submission mode, stored only as argon2id hashes
 * (libsodium's crypto_pwhash_str, interactive limits) in the store.
 *
 * Contract: a password is read from the terminal (twice, without echo) or
 * from the first line of standard input, never from the command line, where
 * every user of the machine could read it in the process list; it is wiped
 * from memory once hashed. Exit 2 with one line for a bad name or a store
 * error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "homing/relay.h"
#include "homing/store.h"
#include "homing/util.h"

static const char relay_users_usage[] =
    "usage: homing relay-users add NAME\n"
    "       homing relay-users list\n"
    "       homing relay-users remove NAME\n\n"
    "The accounts 'homing relay' accepts for AUTH PLAIN/LOGIN in submission mode.\n"
    "add reads the password from the terminal (asked twice) or from the first line\n"
    "of standard input, never from the command line, and stores only its argon2id\n"
    "hash; adding an existing NAME replaces its password. NAME: printable ASCII\n"
    "without spaces or ':', e.g. the sender's address.\n";

/* One line of at most cap - 1 bytes from f, without its line end. */
static int users_read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f)) return -EIO;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f))
        return -E2BIG;
    if (n && buf[n - 1] == '\r') buf[--n] = '\0';
    return (int)n;
}

static int users_password(char *pass, size_t cap)
{
    if (!isatty(STDIN_FILENO)) {
        int n = users_read_line(stdin, pass, cap);
        if (n == -E2BIG) return cli_fail("password longer than %zu bytes", cap - 1);
        if (n <= 0) return cli_fail("no password on standard input");
        return 0;
    }
    char again[HOMING_RELAY_PASS_MAX];
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) < 0) return cli_fail("cannot read the terminal");
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    fprintf(stderr, "Password: ");
    int a = users_read_line(stdin, pass, cap);
    fprintf(stderr, "\nAgain: ");
    int b = users_read_line(stdin, again, sizeof again);
    fprintf(stderr, "\n");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    int same = a > 0 && b == a && !strcmp(pass, again);
    sodium_memzero(again, sizeof again);
    if (a <= 0) return cli_fail("no password given");
    if (!same) return cli_fail("the passwords differ");
    return 0;
}

int cmd_relay_users(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, relay_users_usage)) return CLI_OK;
    if (argc < 2) return cli_usage_error("relay-users", "add, list or remove expected");
    const char *verb = argv[1];
    int needs_name = !strcmp(verb, "add") || !strcmp(verb, "remove");
    if (!needs_name && strcmp(verb, "list"))
        return cli_usage_error("relay-users", "unknown subcommand: add, list or remove");
    if (argc != (needs_name ? 3 : 2))
        return cli_usage_error("relay-users", needs_name ? "%s takes one NAME" : "%s takes nothing",
                               verb);
    const char *name = needs_name ? argv[2] : NULL;
    if (name && !homing_relay_user_ok(name))
        return cli_usage_error("relay-users",
                               "NAME: 1 to %d bytes of printable ASCII without spaces or ':'",
                               HOMING_RELAY_USER_MAX - 1);
    if (cli_config(cli) < 0) return CLI_ERROR;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    if (!strcmp(verb, "list")) {
        char **names = NULL;
        size_t n = 0;
        if (homing_store_relay_user_list(s, &names, &n) < 0)
            return cli_fail("cannot list relay users: %s", homing_store_errmsg(s));
        for (size_t i = 0; i < n; i++) {
            char safe[HOMING_RELAY_USER_MAX * 4];
            printf("%s\n", cli_safe(names[i], safe, sizeof safe));
            free(names[i]);
        }
        free(names);
        return CLI_OK;
    }
    if (!strcmp(verb, "remove")) {
        int r = homing_store_relay_user_remove(s, name);
        if (r == -ENOENT) return cli_fail("no relay user %s", name);
        if (r < 0) return cli_fail("cannot remove %s: %s", name, homing_store_errmsg(s));
        printf("removed %s\n", name);
        return CLI_OK;
    }
    if (sodium_init() < 0) return cli_fail("libsodium cannot start");
    char pass[HOMING_RELAY_PASS_MAX], hash[crypto_pwhash_STRBYTES];
    if (users_password(pass, sizeof pass) < 0) return CLI_ERROR;
    int hr = crypto_pwhash_str(hash, pass, strlen(pass), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(pass, sizeof pass);
    if (hr != 0) return cli_fail("cannot hash the password: out of memory");
    if (homing_store_relay_user_set(s, name, hash) < 0)
        return cli_fail("cannot store %s: %s", name, homing_store_errmsg(s));
    printf("relay user %s: password set\n", name);
    return CLI_OK;
}
