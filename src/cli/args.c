/*
 * args.c: what the store-centric subcommands (message, events, report,
 * api-keys) share: naming a message on the command line, parsing counts, and
 * printing stored text safely (subjects, addresses and User-Agents come from
 * outside and may hold terminal escapes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_message_arg(struct cli *cli, const char *cmd, const char *arg, uint64_t *out)
{
    /* 16 hex digits is a public id; anything with an '@' is a Message-ID. */
    if (strlen(arg) == HOMING_ID_STR_MAX - 1 && homing_id_parse(arg, out) == 0) return 0;
    if (!strchr(arg, '@')) {
        char safe[80];
        cli_escape(safe, sizeof safe, arg, strlen(arg));
        cli_usage_error(cmd, "'%s' is neither a message id (16 hex digits) nor a Message-ID", safe);
        return -EINVAL;
    }
    struct homing_store *s = cli_store(cli);
    if (!s) return -EIO;
    int r = homing_store_message_find(s, arg, out);
    if (r == -ENOENT || r == -EINVAL) {
        char safe[256];
        cli_escape(safe, sizeof safe, arg, strlen(arg));
        cli_fail("no message with Message-ID %s", safe);
    } else if (r == -ENOTUNIQ) {
        char safe[256];
        cli_escape(safe, sizeof safe, arg, strlen(arg));
        cli_fail("more than one message has Message-ID %s: name it by its public id", safe);
    } else if (r < 0) {
        cli_fail("cannot look up %s: %s", arg, homing_store_errmsg(s));
    }
    return r;
}

int cli_parse_count(const char *cmd, const char *opt, const char *arg, long long min, long long max,
                    long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        char safe[64];
        cli_escape(safe, sizeof safe, arg, strlen(arg));
        cli_usage_error(cmd, "%s needs a number from %lld to %lld, not '%s'", opt, min, max, safe);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

unsigned cli_escape_flags(void)
{
    /* The locale as setlocale(LC_CTYPE, "") would pick it, read without
     * calling it (the rest of the program keeps the C locale). */
    static int flags = -1;
    if (flags >= 0) return (unsigned)flags;
    const char *l = NULL;
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0] && !(l && *l); i++) l = getenv(vars[i]);
    flags = l && (strcasestr(l, "utf-8") || strcasestr(l, "utf8")) ? HOMING_ESCAPE_UTF8 : 0;
    return (unsigned)flags;
}

void cli_escape(char *dst, size_t cap, const char *src, size_t n)
{
    homing_str_escape(dst, cap, src, n, cli_escape_flags());
}

const char *cli_safe(const char *s, char *buf, size_t cap)
{
    if (!s) s = "";
    cli_escape(buf, cap, s, strlen(s));
    return buf;
}

void cli_time_short(int64_t t_us, char out[CLI_TIME_SHORT_MAX])
{
    if (t_us <= 0) {
        strcpy(out, "-");
        return;
    }
    time_t t = (time_t)(t_us / 1000000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, CLI_TIME_SHORT_MAX, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        strcpy(out, "?");
}
