/*
 * suppress.c: `homing suppress list|add|remove`: the suppression list
 * (docs/suppression.md) by hand. Addresses are normalised by the library
 * (homing_suppress_normalize); a sender is a From address, and no --sender
 * means every sender.
 *
 * Contract: list writes a table, JSON (--format json / --json) or CSV with
 * every stored value escaped (cli_escape, homing_json_dumpf, homing_csv_cell);
 * add exits 0 whether the address was listed now or already (saying which on
 * stderr); remove exits 1 when there was nothing to remove; 2 on an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "homing/util.h"

#define SUPPRESS_CSV_CELL_MAX 4096

static const char suppress_usage[] =
    "usage: homing suppress list [--sender ADDR] [--format text|json|csv] [--json]\n"
    "       homing suppress add ADDR [--sender ADDR] [--note TEXT]\n"
    "       homing suppress remove ADDR [--sender ADDR]\n\n"
    "The suppression list: addresses that 'homing send' and 'homing relay' refuse\n"
    "to send to. A hard bounce or a complaint of a recipient, and a one-click\n"
    "unsubscribe (track.list_unsubscribe), list its address under the sender of\n"
    "the message (its From address); 'add' lists one by hand (reason 'manual').\n"
    "Addresses are compared with ASCII letters folded to lower case.\n\n"
    "  --sender ADDR   the From address the entry applies to; without it, 'add'\n"
    "                  lists the address for every sender, 'list' shows every\n"
    "                  entry and 'remove' removes the address under every sender\n"
    "                  (--sender '' names only the entries for every sender)\n"
    "  --note TEXT     a note kept with the entry (at most 512 bytes)\n"
    "  --format FMT    list as a table (text, default), json or csv\n\n"
    "Exit status: 0 done; 1 'remove' found nothing to remove; 2 an error.\n";

static void csv_cell(const char *s, int last)
{
    struct homing_buf b;
    homing_buf_init(&b, SUPPRESS_CSV_CELL_MAX);
    if (homing_csv_cell(&b, s, cli_escape_flags()) == 0 && b.len) fwrite(b.data, 1, b.len, stdout);
    homing_buf_free(&b);
    putchar(last ? '\n' : ',');
}

static int suppress_list(const struct homing_suppression *e, size_t n, int format)
{
    if (format == 1) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            char when[HOMING_TIME_STR_MAX], id[HOMING_ID_STR_MAX];
            homing_time_format(e[i].created_us, when);
            homing_id_format(e[i].message, id);
            json_t *o = json_object();
            if (!o || json_array_append_new(arr, o) < 0) {
                json_decref(arr);
                return cli_fail("out of memory");
            }
            json_object_set_new(o, "address", homing_json_text(e[i].address));
            json_object_set_new(o, "sender",
                                e[i].sender[0] ? homing_json_text(e[i].sender) : json_null());
            json_object_set_new(o, "reason", json_string(homing_suppress_reason_name(e[i].reason)));
            json_object_set_new(o, "created", json_string(when));
            json_object_set_new(o, "message", e[i].message ? json_string(id) : json_null());
            json_object_set_new(o, "recipient",
                                e[i].recipient ? json_integer(e[i].recipient) : json_null());
            json_object_set_new(o, "note",
                                e[i].note[0] ? homing_json_text(e[i].note) : json_null());
        }
        json_t *j = arr ? json_pack("{s:o}", "suppressions", arr) : NULL;
        int r = j ? homing_json_dumpf(j, stdout, JSON_INDENT(2)) : -1;
        if (j) putchar('\n');
        json_decref(j);
        return r < 0 ? cli_fail("out of memory") : CLI_OK;
    }
    if (format == 2) {
        printf("address,sender,reason,created,message,recipient,note\n");
        for (size_t i = 0; i < n; i++) {
            char when[HOMING_TIME_STR_MAX], id[HOMING_ID_STR_MAX] = "", rc[16] = "";
            homing_time_format(e[i].created_us, when);
            if (e[i].message) homing_id_format(e[i].message, id);
            if (e[i].recipient) snprintf(rc, sizeof rc, "%u", e[i].recipient);
            csv_cell(e[i].address, 0);
            csv_cell(e[i].sender, 0);
            csv_cell(homing_suppress_reason_name(e[i].reason), 0);
            csv_cell(when, 0);
            csv_cell(id, 0);
            csv_cell(rc, 0);
            csv_cell(e[i].note, 1);
        }
        return CLI_OK;
    }
    if (n == 0) {
        fprintf(stderr, "homing suppress: the suppression list is empty\n");
        return CLI_OK;
    }
    printf("%-32s %-28s %-12s %-19s %s\n", "ADDRESS", "SENDER", "REASON", "SINCE", "FROM");
    for (size_t i = 0; i < n; i++) {
        char a[HOMING_SUPPRESS_ADDR_MAX * 4 + 4], s[HOMING_SUPPRESS_ADDR_MAX * 4 + 4];
        char when[CLI_TIME_SHORT_MAX], from[HOMING_ID_STR_MAX + 16] = "-";
        cli_escape(a, sizeof a, e[i].address, strlen(e[i].address));
        cli_escape(s, sizeof s, e[i].sender, strlen(e[i].sender));
        cli_time_short(e[i].created_us, when);
        if (e[i].message) {
            char id[HOMING_ID_STR_MAX];
            homing_id_format(e[i].message, id);
            snprintf(from, sizeof from, "%s/%u", id, e[i].recipient);
        }
        printf("%-32s %-28s %-12s %-19s %s\n", a, e[i].sender[0] ? s : "(every sender)",
               homing_suppress_reason_name(e[i].reason), when, from);
    }
    return CLI_OK;
}

int cmd_suppress(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, suppress_usage)) return CLI_OK;
    char safe[400];
    if (argc < 2) return cli_usage_error("suppress", "which of list, add or remove?");
    const char *sub = argv[1], *addr = NULL, *sender = NULL, *note = NULL;
    int format = 0;
    int is_list = !strcmp(sub, "list"), is_add = !strcmp(sub, "add"),
        is_remove = !strcmp(sub, "remove");
    if (!is_list && !is_add && !is_remove)
        return cli_usage_error("suppress", "unknown subcommand '%s' (list, add or remove)",
                               cli_safe(sub, safe, 64));
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--sender") && has)
            sender = argv[++i];
        else if (!strcmp(a, "--note") && has && is_add)
            note = argv[++i];
        else if (!strcmp(a, "--json") && is_list)
            format = 1;
        else if (!strcmp(a, "--format") && has && is_list) {
            const char *f = argv[++i];
            format = !strcmp(f, "json") ? 1 : !strcmp(f, "csv") ? 2 : !strcmp(f, "text") ? 0 : -1;
            if (format < 0)
                return cli_usage_error("suppress", "unknown format '%s' (text, json or csv)",
                                       cli_safe(f, safe, 64));
        } else if (a[0] == '-' || addr || is_list)
            return cli_usage_error("suppress", "unexpected argument '%s'", cli_safe(a, safe, 64));
        else
            addr = a;
    }
    if (!is_list && !addr) return cli_usage_error("suppress", "%s needs an ADDR", sub);
    char norm[HOMING_SUPPRESS_ADDR_MAX + 1];
    if (addr && homing_suppress_normalize(addr, norm, sizeof norm) < 0)
        return cli_fail("not an address: %s", cli_safe(addr, safe, sizeof safe));
    if (sender && *sender && homing_suppress_normalize(sender, norm, sizeof norm) < 0)
        return cli_fail("--sender is not an address: %s", cli_safe(sender, safe, sizeof safe));
    if (note && strlen(note) > HOMING_SUPPRESS_NOTE_MAX)
        return cli_usage_error("suppress", "--note is longer than %d bytes",
                               HOMING_SUPPRESS_NOTE_MAX);
    if (cli_config(cli) < 0) return CLI_ERROR;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    int r;
    if (is_list) {
        struct homing_suppression *e = NULL;
        size_t n = 0;
        if ((r = homing_store_suppress_list(s, sender, &e, &n)) < 0)
            return cli_fail("cannot read the suppression list: %s", homing_store_errmsg(s));
        r = suppress_list(e, n, format);
        free(e);
        return r;
    }
    homing_suppress_normalize(addr, norm, sizeof norm);
    char shown[HOMING_SUPPRESS_ADDR_MAX * 4 + 4];
    cli_escape(shown, sizeof shown, norm, strlen(norm));
    if (is_add) {
        int added = 0;
        r = homing_store_suppress_add(s, sender, addr, HOMING_SUPPRESS_MANUAL, 0, 0, note, &added);
        if (r < 0) return cli_fail("cannot add %s: %s", shown, homing_store_errmsg(s));
        fprintf(stderr, "homing suppress: %s %s\n", shown,
                added ? "added" : "was listed already (its entry is kept)");
        return CLI_OK;
    }
    size_t removed = 0;
    r = homing_store_suppress_remove(s, sender, addr, &removed);
    if (r == -ENOENT) {
        fprintf(stderr, "homing suppress: %s is not on the list%s\n", shown,
                sender ? " for that sender" : "");
        return CLI_NEGATIVE;
    }
    if (r < 0) return cli_fail("cannot remove %s: %s", shown, homing_store_errmsg(s));
    fprintf(stderr, "homing suppress: %s removed (%zu entr%s)\n", shown, removed,
            removed == 1 ? "y" : "ies");
    return CLI_OK;
}
