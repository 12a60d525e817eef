/*
 * cli.h: what every subcommand of `homing` shares: the command table, the
 * configuration and store it works on, and the exit-status convention.
 *
 * Exit statuses: 0 success; 1 a negative answer where a command defines one
 * (e.g. scan found trackers); 2 an error (usage, bad input, store failure),
 * always after a one-line message on stderr naming the problem.
 */
#ifndef HOMING_CLI_H
#define HOMING_CLI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "homing/config.h"
#include "homing/seal.h"
#include "homing/store.h"
#include "homing/token.h"

#define CLI_OK       0
#define CLI_NEGATIVE 1
#define CLI_ERROR    2

struct cli {
    const char *config_path; /* -c, $HOMING_CONFIG or HOMING_SYSCONFDIR/homing.conf */
    struct homing_config *config;
    struct homing_store *store;     /* opened on demand by cli_store */
    struct homing_keyring *keyring; /* loaded on demand by cli_keyring */
    struct homing_seal *seal;       /* the data key, loaded by cli_seal */
};

struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(struct cli *cli, int argc, char **argv);
};

/* Loads the configuration (needed by every command that touches state). */
int cli_config(struct cli *cli);

/* The state directory of a configuration file, which its relative paths are
 * resolved against: the file's own directory, except HOMING_STATEDIR for a
 * file in HOMING_SYSCONFDIR (the system one). The caller frees it; NULL when
 * out of memory. */
char *cli_state_dir(const char *config_path);
/* Cuts path (a buffer of cap bytes) to its directory, in place: "/" for a
 * file at the root, "." for a bare name. */
void cli_dirname(char *path, size_t cap);
/* Opens the store named by the configuration, reporting failures itself. */
struct homing_store *cli_store(struct cli *cli);
/* Loads the data key (keys.data), creating it when missing (a store that
 * already holds sealed rows then refuses the new key), and makes it the key
 * of every store handle opened afterwards (homing_store_seal_use). cli_store
 * calls it; `homing serve` before its threads open theirs. 0 or -errno,
 * reported. */
int cli_seal(struct cli *cli);
/* Loads the token key file named by the configuration. */
struct homing_keyring *cli_keyring(struct cli *cli);

/* True if argv holds -h or --help; prints usage to stdout then. Every command
 * calls this so `homing CMD --help` always works. */
int cli_wants_help(int argc, char **argv, const char *usage);
/* Prints "homing CMD: message" and the usage hint to stderr; returns CLI_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a one-line error; returns CLI_ERROR. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file ("-" = stdin) up to max bytes into a malloc'd buffer. */
int cli_read_file(const char *path, size_t max, char **data, size_t *len);

/* Helpers of the store-centric subcommands (src/cli/args.c). */
/* A message named by its public id (16 hex digits) or its Message-ID; prints
 * its own one-line error. */
int cli_message_arg(struct cli *cli, const char *cmd, const char *arg, uint64_t *out);
/* An integer option value in [min, max]; prints a usage error otherwise. */
int cli_parse_count(const char *cmd, const char *opt, const char *arg, long long min, long long max,
                    long long *out);
/* s (NULL = "") escaped for a terminal in buf (homing_str_escape, cut at a
 * whole escape when it does not fit); returns buf. */
const char *cli_safe(const char *s, char *buf, size_t cap);
/* homing_str_escape of src[0..n) with the flags for this terminal: UTF-8 other
 * than controls passes when the locale (LC_ALL, LC_CTYPE, LANG) says UTF-8. */
void cli_escape(char *dst, size_t cap, const char *src, size_t n);
unsigned cli_escape_flags(void);
/* "YYYY-MM-DD HH:MM:SS" UTC, or "-" for 0 (no such time). */
#define CLI_TIME_SHORT_MAX 24
void cli_time_short(int64_t t_us, char out[CLI_TIME_SHORT_MAX]);

/* The subcommands, one file each under src/cli/. */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_bounce(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_store(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);
int cmd_token_keys(struct cli *cli, int argc, char **argv);
int cmd_dkim_keys(struct cli *cli, int argc, char **argv);
int cmd_api_keys(struct cli *cli, int argc, char **argv);
int cmd_message(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_reclassify(struct cli *cli, int argc, char **argv);
int cmd_update_data(struct cli *cli, int argc, char **argv);
int cmd_geo_import(struct cli *cli, int argc, char **argv);
int cmd_trace(struct cli *cli, int argc, char **argv);
/* trace --html (trace_html.c): the report page of trace's JSON and the
 * indicators, written whole to path. */
struct json_t;
int trace_html_write(const char *path, struct json_t *trace, struct json_t *iocs, const char *file);
int cmd_track(struct cli *cli, int argc, char **argv);
int cmd_scan(struct cli *cli, int argc, char **argv);
int cmd_strip(struct cli *cli, int argc, char **argv);
int cmd_rules(struct cli *cli, int argc, char **argv);
int cmd_webhooks(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);
int cmd_send(struct cli *cli, int argc, char **argv);
int cmd_suppress(struct cli *cli, int argc, char **argv);
int cmd_ingest(struct cli *cli, int argc, char **argv);
int cmd_ingest_log(struct cli *cli, int argc, char **argv);
int cmd_privacy(struct cli *cli, int argc, char **argv);
int cmd_forget(struct cli *cli, int argc, char **argv);
int cmd_doc(struct cli *cli, int argc, char **argv);
int cmd_milter(struct cli *cli, int argc, char **argv);
int cmd_ui_link(struct cli *cli, int argc, char **argv);
/* self_signed.c: an ECDSA key (0600) and a self-signed certificate naming host
 * (a DNS name), neither replacing a file: 0, -EINVAL for a bad host, -EEXIST,
 * another -errno or -EIO. With NULL paths it only checks host. */
int cli_self_signed(const char *host, const char *crt_path, const char *key_path);
int cmd_relay(struct cli *cli, int argc, char **argv);
int cmd_relay_users(struct cli *cli, int argc, char **argv);
/* doc.c: the document links of homing track. prepare checks that every
 * {{doc:NAME}} placeholder of t and every name (--doc) is a document (printing
 * its own error); grant makes one grant per document for the copy of
 * `recipient` and fills out for homing_track_render_docs. */
#define CLI_TRACK_DOCS_MAX 16 /* --doc options */
struct cli_track_docs;
struct homing_track;
struct homing_track_docs;
int cli_track_docs_prepare(struct homing_store *store, const struct homing_track *t,
                           const char *const *names, size_t n, struct cli_track_docs **out);
int cli_track_docs_grant(struct cli_track_docs *d, struct homing_store *store, uint64_t message,
                         uint32_t recipient, struct homing_track_docs *out);
void cli_track_docs_free(struct cli_track_docs *d);
/* Loads the tracker knowledge file (NULL = the installed one), reporting errors (scan.c). */
struct homing_trackers;
int cli_trackers_load(const char *path, struct homing_trackers **out);

#endif
