/*
 * ingest.c: `homing ingest`: reads delivery reports (DSNs, bounces, MDNs, ARF
 * complaints, auto-replies) from stdin, a Maildir or an IMAP mailbox, and
 * records what each says (lib/delivery/ingest.c does the work).
 *
 * Contract:
 * - stdin (one message, for an MTA pipe transport or .forward): exit 0 once
 *   the report is recorded or kept as unmatched, 75 (EX_TEMPFAIL) when the
 *   store cannot take it now, so the MTA keeps the mail and retries.
 * - --maildir DIR: each message of new/ is claimed by renaming it into cur/
 *   with the info ":2," (rename is atomic: of several concurrent runs exactly
 *   one gets it), ingested, then marked seen (":2,S"). A claim left by a run
 *   that crashed (":2," older than INGEST_STALE_S) is ingested again: ingestion
 *   is idempotent, so nothing is counted twice. A store failure puts the
 *   message back into new/ and stops with exit 2.
 * - --unmatched lists the reports kept because nothing tied them to a message.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "delivery_cli.h"
#include "homing/delivery.h"
#include "homing/report.h"
#include "homing/util.h"

#define INGEST_EX_TEMPFAIL 75  /* sysexits.h: the MTA retries later */
#define INGEST_STALE_S     300 /* a claim older than this was left by a crash */
#define INGEST_PATH_MAX    4096

static const char ingest_usage[] =
    "usage: homing ingest [--json] [-]               one report from stdin\n"
    "       homing ingest --maildir DIR [--json]\n"
    "       homing ingest --imap URL --auth-file FILE [--imap-move FOLDER] [--insecure]\n"
    "       homing ingest --unmatched [--raw ID] [--json]\n\n"
    "Reads delivery reports (DSNs, bounces, MDNs, ARF complaints, auto-replies),\n"
    "ties each to the message and recipient it is about (VERP token, ENVID,\n"
    "ORCPT/Final-Recipient, Original-Message-ID, In-Reply-To/References, returned\n"
    "headers) and records events and recipient states. Reports that match nothing\n"
    "are kept: --unmatched lists them, --raw ID prints one.\n\n"
    "  --maildir DIR      process DIR/new, moving each message to DIR/cur (flag S)\n"
    "  --imap URL         imap[s]://HOST[:PORT]/MAILBOX; new messages are flagged\n"
    "                     \\Seen (or moved with --imap-move FOLDER); the mailbox's\n"
    "                     UIDVALIDITY and last UID are kept in the store\n"
    "  --auth-file FILE   IMAP user (line 1) and password (line 2), mode 0600\n"
    "  --insecure         do not verify the IMAP server's TLS certificate (tests)\n\n"
    "Exit status from stdin: 0 recorded or kept, 75 store unavailable (the MTA\n"
    "retries). Otherwise 0, or 2 on an error.\n";

static int ingest_json;

static const char *ingest_outcome_name(int o)
{
    switch (o) {
    case HOMING_INGEST_MATCHED: return "matched";
    case HOMING_INGEST_UNMATCHED: return "unmatched";
    case HOMING_INGEST_UNPARSABLE: return "unparsable";
    case HOMING_INGEST_DUPLICATE: return "duplicate";
    }
    return "none";
}

int delivery_cli_ingest_one(struct cli *cli, const char *source, const char *label,
                            const char *data, size_t len)
{
    struct homing_store *s = cli_store(cli);
    if (!s) return -EIO;
    /* without a key file VERP tokens cannot be checked, but the other keys
     * still tie reports to messages */
    struct homing_keyring *keys = NULL;
    if (!cli->keyring) {
        char err[256];
        if (homing_keyring_load(homing_config_settings(cli->config)->keys.file, &cli->keyring, err,
                                sizeof err) < 0)
            cli->keyring = NULL;
    }
    keys = cli->keyring;
    struct homing_ingest_result res;
    int r = homing_ingest_report(s, keys, source, data, len, &res);
    char safe[600];
    cli_safe(label, safe, sizeof safe);
    if (r < 0) {
        fprintf(stderr, "homing: %s: cannot record: %s\n", safe, homing_store_errmsg(s));
        return r;
    }
    char id[HOMING_ID_STR_MAX] = "";
    if (res.message) homing_id_format(res.message, id);
    if (ingest_json) {
        json_t *o = json_object();
        json_object_set_new(o, "source", json_string(safe));
        json_object_set_new(o, "outcome", json_string(ingest_outcome_name(res.outcome)));
        json_object_set_new(o, "kind", json_string(homing_report_kind_name(res.report_kind)));
        json_object_set_new(o, "message", res.message ? json_string(id) : json_null());
        json_object_set_new(o, "matched_by",
                            res.matched_by ? json_string(res.matched_by) : json_null());
        json_object_set_new(o, "events", json_integer((json_int_t)res.n_events));
        json_object_set_new(o, "reason", res.reason[0] ? json_string(res.reason) : json_null());
        char *t = homing_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (t) puts(t);
        free(t);
        json_decref(o);
    } else if (res.outcome == HOMING_INGEST_MATCHED) {
        char by[64];
        printf("%s: %s for message %s (by %s): %zu event%s\n", safe,
               homing_report_kind_name(res.report_kind), id,
               cli_safe(res.matched_by, by, sizeof by), res.n_events, res.n_events == 1 ? "" : "s");
    } else {
        char reason[sizeof res.reason * HOMING_ESCAPE_GROWTH];
        printf("%s: %s %s%s%s\n", safe, homing_report_kind_name(res.report_kind),
               ingest_outcome_name(res.outcome), res.reason[0] ? ": " : "",
               cli_safe(res.reason, reason, sizeof reason));
    }
    fflush(stdout);
    return 0;
}

/* ---- Maildir ---- */

static int ingest_file(struct cli *cli, const char *dir, const char *path, const char *name)
{
    char *data = NULL;
    size_t len = 0;
    int r = cli_read_file(path, HOMING_REPORT_SIZE_MAX + 1, &data, &len);
    if (r == -E2BIG) { /* kept as unparsable, without its bytes */
        data = NULL;
        len = HOMING_REPORT_SIZE_MAX + 1;
        r = 0;
    }
    if (r < 0) {
        cli_fail("cannot read %s: %s", path, strerror(-r));
        return r;
    }
    char source[INGEST_PATH_MAX + 16];
    snprintf(source, sizeof source, "maildir:%s", dir);
    r = delivery_cli_ingest_one(cli, source, name, data ? data : "", data ? len : 0);
    free(data);
    return r;
}

/* Ingests cur/NAME (claimed), then marks it seen. */
static int ingest_claimed(struct cli *cli, const char *dir, const char *claimed)
{
    char from[INGEST_PATH_MAX + 8], to[INGEST_PATH_MAX + 16];
    snprintf(from, sizeof from, "%s/cur/%s", dir, claimed);
    int r = ingest_file(cli, dir, from, claimed);
    if (r < 0) return r;
    snprintf(to, sizeof to, "%s/cur/%sS", dir, claimed);
    if (rename(from, to) < 0 && errno != ENOENT) {
        int e = errno;
        cli_fail("cannot mark %s seen: %s", from, strerror(e));
        return -e;
    }
    return 0;
}

static int ingest_maildir(struct cli *cli, const char *dir)
{
    char path[INGEST_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/new", dir) >= (int)sizeof path)
        return cli_fail("%s: path too long", dir);
    if (!cli_store(cli)) return CLI_ERROR;
    size_t done = 0, failed = 0;
    /* first, claims a crashed run left behind */
    snprintf(path, sizeof path, "%s/cur", dir);
    DIR *d = opendir(path);
    if (!d) return cli_fail("cannot open %s: %s", path, strerror(errno));
    struct dirent *de;
    time_t now = time(NULL);
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 3 || strcmp(de->d_name + n - 3, ":2,") != 0) continue;
        char p[INGEST_PATH_MAX];
        struct stat st;
        snprintf(p, sizeof p, "%s/cur/%s", dir, de->d_name);
        if (stat(p, &st) < 0 || now - st.st_ctime < INGEST_STALE_S) continue;
        if (ingest_claimed(cli, dir, de->d_name) < 0) {
            failed++;
            break;
        }
        done++;
    }
    closedir(d);
    if (failed) return CLI_ERROR;

    snprintf(path, sizeof path, "%s/new", dir);
    d = opendir(path);
    if (!d) return cli_fail("cannot open %s: %s", path, strerror(errno));
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char from[INGEST_PATH_MAX], to[INGEST_PATH_MAX + 8], claimed[INGEST_PATH_MAX];
        /* a name in new/ carries no info yet; drop any anyway */
        size_t base = strcspn(de->d_name, ":");
        snprintf(claimed, sizeof claimed, "%.*s:2,", (int)base, de->d_name);
        snprintf(from, sizeof from, "%s/new/%s", dir, de->d_name);
        snprintf(to, sizeof to, "%s/cur/%s", dir, claimed);
        if (rename(from, to) < 0) {
            if (errno == ENOENT) continue; /* another run claimed it */
            cli_fail("cannot claim %s: %s", from, strerror(errno));
            failed++;
            break;
        }
        if (ingest_claimed(cli, dir, claimed) < 0) {
            /* give it back, so the next run tries again */
            rename(to, from);
            failed++;
            break;
        }
        done++;
    }
    closedir(d);
    if (!ingest_json)
        fprintf(stderr, "homing ingest: %zu message%s processed\n", done, done == 1 ? "" : "s");
    return failed ? CLI_ERROR : CLI_OK;
}

/* ---- the unmatched list ---- */

static int ingest_list_unmatched(struct cli *cli, long long raw_id)
{
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    int64_t after = raw_id > 0 ? raw_id - 1 : 0;
    for (;;) {
        struct homing_unmatched *u = NULL;
        size_t n = 0;
        int r = homing_store_unmatched_list(s, after, raw_id > 0 ? 1 : HOMING_STORE_LIST_MAX,
                                            raw_id > 0, &u, &n);
        if (r < 0) return cli_fail("cannot list unmatched reports: %s", homing_store_errmsg(s));
        if (raw_id > 0) {
            if (n == 0 || u[0].id != raw_id) {
                homing_unmatched_free(u, n);
                return cli_fail("no unmatched report %lld", raw_id);
            }
            if (u[0].raw) fwrite(u[0].raw, 1, u[0].raw_len, stdout);
            homing_unmatched_free(u, n);
            return fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
        }
        for (size_t i = 0; i < n; i++) {
            char when[CLI_TIME_SHORT_MAX], src[600], reason[600];
            cli_time_short(u[i].time_us, when);
            cli_safe(u[i].source, src, sizeof src);
            cli_safe(u[i].reason, reason, sizeof reason);
            if (ingest_json) {
                json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)u[i].id, "time_us",
                                      (json_int_t)u[i].time_us, "source", src, "kind",
                                      u[i].kind ? u[i].kind : "", "reason", reason);
                char *t = o ? homing_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
                if (t) puts(t);
                free(t);
                json_decref(o);
            } else {
                printf("%-6lld %s  %-10s %s  %s\n", (long long)u[i].id, when,
                       u[i].kind ? u[i].kind : "", src, reason);
            }
        }
        if (n) after = u[n - 1].id;
        homing_unmatched_free(u, n);
        if (n < HOMING_STORE_LIST_MAX) break;
    }
    return fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
}

int cmd_ingest(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, ingest_usage)) return CLI_OK;
    const char *maildir = NULL, *imap = NULL, *auth = NULL, *move = NULL;
    int unmatched = 0, insecure = 0;
    long long raw = 0;
    ingest_json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--maildir") && has)
            maildir = argv[++i];
        else if (!strcmp(a, "--imap") && has)
            imap = argv[++i];
        else if (!strcmp(a, "--auth-file") && has)
            auth = argv[++i];
        else if (!strcmp(a, "--imap-move") && has)
            move = argv[++i];
        else if (!strcmp(a, "--insecure"))
            insecure = 1;
        else if (!strcmp(a, "--unmatched"))
            unmatched = 1;
        else if (!strcmp(a, "--raw") && has) {
            unmatched = 1;
            if (cli_parse_count("ingest", "--raw", argv[++i], 1, INT64_MAX, &raw) < 0)
                return CLI_ERROR;
        } else if (!strcmp(a, "--json"))
            ingest_json = 1;
        else if (!strcmp(a, "-"))
            continue;
        else
            return cli_usage_error("ingest", "unknown option or missing value: %s", a);
    }
    if ((maildir != NULL) + (imap != NULL) + unmatched > 1)
        return cli_usage_error("ingest", "--maildir, --imap and --unmatched exclude each other");
    if (unmatched) return ingest_list_unmatched(cli, raw);
    if (maildir) return ingest_maildir(cli, maildir);
    if (imap) {
        if (!auth) return cli_usage_error("ingest", "--imap needs --auth-file FILE");
        return delivery_cli_ingest_imap(cli, imap, auth, move, insecure);
    }
    /* stdin: an MTA is waiting on the exit status */
    char *data = NULL;
    size_t len = 0;
    int r = cli_read_file("-", HOMING_REPORT_SIZE_MAX + 1, &data, &len);
    if (r == -E2BIG) {
        data = NULL;
        len = 0;
        r = 0;
    } else if (r < 0) {
        cli_fail("cannot read stdin: %s", strerror(-r));
        return INGEST_EX_TEMPFAIL;
    }
    if (cli_config(cli) < 0) {
        free(data);
        return INGEST_EX_TEMPFAIL;
    }
    r = delivery_cli_ingest_one(cli, "stdin", "stdin", data ? data : "", len);
    free(data);
    return r < 0 ? INGEST_EX_TEMPFAIL : CLI_OK;
}
