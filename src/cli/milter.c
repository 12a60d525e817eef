/*
 * milter.c: `homing milter`, the libmilter front end for Postfix and Sendmail
 * (smtpd_milters / INPUT_MAIL_FILTER). It only gathers each message (headers
 * and body, up to milter.max_message bytes), takes the strictest policy of its
 * envelope recipients from the configured table, and applies what
 * homing_filter_message (lib/scan/filter.c) decides: header edits, one new
 * body, quarantine or a 5.7.1 refusal. See docs/milter.md.
 *
 * Contract: never loses mail. A failure inside homing answers
 * milter.on_error (default accept: delivered unchanged), a message over
 * milter.max_message answers milter.oversize (default accept, untouched),
 * connections past milter.max_connections are passed through untouched; each
 * is logged. Runs in the foreground until SIGTERM/SIGINT (libmilter's signal
 * thread). Exit: 0 stopped, 2 error at start (one line on stderr).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <sys/stat.h>

#include "cli.h"
#include "homing/filter.h"
#include "homing/trackers.h"
#include "homing/util.h"
#include "homing_build.h"
#include "log.h"

#define MILTER_SPEC_MAX     512        /* bytes of libmilter's socket spec */
#define MILTER_REPLACE_STEP (64 << 10) /* bytes per smfi_replacebody call */
#define MILTER_QID_MAX      64

static const char milter_usage[] =
    "usage: homing milter [OPTIONS]\n\n"
    "Runs the mail filter (milter) for Postfix's smtpd_milters or Sendmail's\n"
    "INPUT_MAIL_FILTER. Per recipient (milter.policy, milter.default_policy) it tags\n"
    "messages with X-Homing-Trackers, strips their trackers as `homing strip` does,\n"
    "adds a visible notice saying what was removed, quarantines or rejects them.\n"
    "Signed and encrypted content is never changed. A failure inside homing answers\n"
    "milter.on_error (default: accept, the message delivered unchanged). In main.cf:\n\n"
    "  smtpd_milters = inet:127.0.0.1:8899\n"
    "  milter_default_action = accept\n\n"
    "Options:\n"
    "  --listen ADDR:PORT  listen here (or unix:/path) instead of milter.listen\n"
    "  --policy TEXT       per-recipient policies instead of milter.policy\n"
    "  --default POLICY    off, tag, strip, notice, quarantine or reject\n"
    "  -v, --verbose       log every message's decision at debug detail too\n"
    "  -h, --help          this help\n\n"
    "Logs one line per message on stderr; milter.stats_file gets counters in the\n"
    "Prometheus text format. See docs/milter.md.\n";

/* What every connection thread reads; set before smfi_main, then read-only. */
static struct {
    struct homing_trackers *trackers;
    struct homing_filter_table *table;
    unsigned hold_min;
    int on_error_tempfail;
    int oversize; /* 0 accept, 1 tempfail, 2 reject */
    size_t max_message;
    unsigned max_connections;
    char authserv[256];
    const char *stats_file;
} g;

/* Counters for the stats file and the log at exit. */
static struct {
    _Atomic unsigned long long messages[HOMING_FILTER_POLICY_COUNT];
    _Atomic unsigned long long accepted, held, refused, bodies, header_edits, trackers;
    _Atomic unsigned long long errors, oversize, overload, signed_kept, dkim, connections;
    _Atomic int open;
} stats;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int stats_dirty, stats_stop;

/* Rewrites the stats file (atomically: a temporary file renamed over it). */
static void stats_write(void)
{
    if (!g.stats_file || !*g.stats_file) return;
    pthread_mutex_lock(&stats_lock);
    stats_dirty = 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", g.stats_file);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        pthread_mutex_unlock(&stats_lock);
        log_warn("milter: cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "# HELP homing_milter_messages_total Messages filtered, by the policy applied.\n"
               "# TYPE homing_milter_messages_total counter\n");
    for (int i = 0; i < HOMING_FILTER_POLICY_COUNT; i++)
        fprintf(f, "homing_milter_messages_total{policy=\"%s\"} %llu\n",
                homing_filter_policy_name(i), (unsigned long long)stats.messages[i]);
    static const char *const names[] = {
        "accepted", "held",     "refused",  "bodies_replaced", "header_edits",     "trackers",
        "errors",   "oversize", "overload", "signed_kept",     "dkim_invalidated", "connections"};
    unsigned long long v[] = {stats.accepted,    stats.held,         stats.refused,
                              stats.bodies,      stats.header_edits, stats.trackers,
                              stats.errors,      stats.oversize,     stats.overload,
                              stats.signed_kept, stats.dkim,         stats.connections};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fprintf(f, "# TYPE homing_milter_%s_total counter\nhoming_milter_%s_total %llu\n", names[i],
                names[i], v[i]);
    fprintf(f, "# TYPE homing_milter_connections_open gauge\nhoming_milter_connections_open %d\n",
            (int)stats.open);
    int ok = fclose(f) == 0;
    if (!ok || rename(tmp, g.stats_file) < 0) {
        unlink(tmp);
        log_warn("milter: cannot write %s", g.stats_file);
    }
    pthread_mutex_unlock(&stats_lock);
}

/* The stats file's writer: once a second when something was counted, so a
 * flood of messages costs one write a second and the file is never more
 * than a second behind. */
static void *stats_main(void *arg)
{
    (void)arg;
    while (!stats_stop) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        for (int i = 0; i < 10 && !stats_stop; i++) nanosleep(&ts, NULL);
        if (stats_dirty) stats_write();
    }
    return NULL;
}

/* One MTA connection; the message fields are reset per transaction. */
struct conn {
    struct homing_buf msg; /* headers then body, CRLF, at most g.max_message */
    int policy;            /* strictest of the recipients so far */
    unsigned rcpts;
    int counted; /* within max_connections */
    int nr_hdr;  /* the MTA expects no reply to each header (SMFIP_NR_HDR) */
    int pending; /* with nr_hdr: the answer a header decided, given at end of headers */
};

static struct conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static void message_reset(struct conn *c)
{
    homing_buf_free(&c->msg);
    homing_buf_init(&c->msg, g.max_message);
    c->policy = HOMING_FILTER_OFF;
    c->rcpts = 0;
    c->pending = -1;
}

static const char *qid_of(SMFICTX *ctx, char out[MILTER_QID_MAX])
{
    const char *q = smfi_getsymval(ctx, "i");
    homing_str_escape(out, MILTER_QID_MAX, q ? q : "-", strlen(q ? q : "-"), 0);
    return out;
}

static int unix_socket; /* listening on a unix socket (set before smfi_main) */

/* The protocol steps: no HELO, DATA or unknown commands (nothing here uses
 * them), and on a unix socket no reply to MAIL, RCPT and each header (they
 * always go on), which saves the MTA a round trip for each of them in every
 * message. (Over TCP a packet that gets no reply
 * makes Postfix's next one wait for our delayed ACK, 40 ms.) */
static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    (void)f2, (void)f3;
    unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE;
    if ((f0 & want) != want) return SMFIS_ALL_OPTS;
    struct conn *c = calloc(1, sizeof *c);
    if (c) {
        homing_buf_init(&c->msg, g.max_message);
        c->pending = -1;
        c->nr_hdr = unix_socket && (f1 & SMFIP_NR_HDR);
        if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
            free(c);
            c = NULL;
        }
    }
    *pf0 = want;
    unsigned long nr = c && c->nr_hdr ? SMFIP_NR_HDR | SMFIP_NR_MAIL | SMFIP_NR_RCPT : 0;
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | nr);
    *pf2 = *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
    (void)host, (void)sa;
    struct conn *c = conn_of(ctx);
    if (!c && (c = calloc(1, sizeof *c))) {
        homing_buf_init(&c->msg, g.max_message);
        c->pending = -1;
        if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
            free(c);
            c = NULL;
        }
    }
    if (!c) {
        stats.errors++;
        log_error("milter: out of memory for a connection; passed through untouched");
        return SMFIS_ACCEPT;
    }
    homing_buf_init(&c->msg, g.max_message);
    stats.connections++;
    if ((unsigned)atomic_fetch_add(&stats.open, 1) >= g.max_connections) {
        atomic_fetch_sub(&stats.open, 1);
        smfi_setpriv(ctx, NULL);
        homing_buf_free(&c->msg);
        free(c);
        stats.overload++;
        stats_dirty = 1;
        static struct log_limit lim = LOG_LIMIT_INIT;
        log_error_limited(&lim,
                          "milter: more than %u connections at once (milter.max_connections); "
                          "this one is passed through untouched",
                          g.max_connections);
        return SMFIS_ACCEPT;
    }
    c->counted = 1;
    return SMFIS_CONTINUE;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    (void)argv;
    struct conn *c = conn_of(ctx);
    if (!c) return SMFIS_ACCEPT;
    message_reset(c);
    return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    if (!c) return SMFIS_ACCEPT;
    int p = homing_filter_table_lookup(g.table, argv && argv[0] ? argv[0] : "");
    if (p > c->policy) c->policy = p; /* the strictest wins: one body for all */
    c->rcpts++;
    return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Past milter.max_message: the held bytes are dropped at once (the memory
 * bound is the point) and the message gets milter.oversize. */
static sfsistat oversize(SMFICTX *ctx, struct conn *c)
{
    homing_buf_free(&c->msg);
    homing_buf_init(&c->msg, g.max_message);
    stats.oversize++;
    stats_dirty = 1;
    char q[MILTER_QID_MAX];
    static const char *const what[] = {"passed through untouched", "deferred", "refused"};
    log_warn("milter: %s: larger than %zu bytes (milter.max_message): %s", qid_of(ctx, q),
             g.max_message, what[g.oversize]);
    if (g.oversize == 1) return SMFIS_TEMPFAIL;
    if (g.oversize == 2) {
        smfi_setreply(ctx, "552", "5.3.4", "message too large for the tracker filter");
        return SMFIS_REJECT;
    }
    return SMFIS_ACCEPT;
}

static sfsistat header(SMFICTX *ctx, struct conn *c, const char *name, const char *value);

/* With nr_hdr the MTA reads no answer to a header: the first answer other
 * than "go on" is kept and given at the end of the headers. */
static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = conn_of(ctx);
    if (!c) return SMFIS_ACCEPT;
    if (!c->nr_hdr) return header(ctx, c, name, value);
    if (c->pending < 0) {
        sfsistat r = header(ctx, c, name, value);
        if (r != SMFIS_CONTINUE) c->pending = r;
    }
    return SMFIS_NOREPLY;
}

static sfsistat header(SMFICTX *ctx, struct conn *c, const char *name, const char *value)
{
    if (c->policy == HOMING_FILTER_OFF) return SMFIS_ACCEPT; /* nothing to do for anyone */
    int r = homing_buf_printf(&c->msg, "%s: ", name);
    /* folded lines come with LF alone: back to CRLF, as on the wire */
    for (const char *p = value; r == 0 && *p; p++)
        r = *p == '\n' ? homing_buf_append(&c->msg, "\r\n", 2) : homing_buf_append(&c->msg, p, 1);
    if (r == 0) r = homing_buf_append(&c->msg, "\r\n", 2);
    if (r == -E2BIG) return oversize(ctx, c);
    if (r < 0) {
        stats.errors++;
        log_error("milter: out of memory reading a header; answering %s",
                  g.on_error_tempfail ? "tempfail" : "accept");
        return g.on_error_tempfail ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_eoh(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (!c) return SMFIS_ACCEPT;
    if (c->pending >= 0) return (sfsistat)c->pending;
    if (c->policy == HOMING_FILTER_OFF) return SMFIS_ACCEPT;
    int r = homing_buf_append(&c->msg, "\r\n", 2);
    if (r == -E2BIG) return oversize(ctx, c);
    return r < 0 ? (g.on_error_tempfail ? SMFIS_TEMPFAIL : SMFIS_ACCEPT) : SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct conn *c = conn_of(ctx);
    if (!c) return SMFIS_ACCEPT;
    int r = homing_buf_append(&c->msg, chunk, len);
    if (r == -E2BIG) return oversize(ctx, c);
    if (r < 0) {
        stats.errors++;
        log_error("milter: out of memory reading a body; answering %s",
                  g.on_error_tempfail ? "tempfail" : "accept");
        return g.on_error_tempfail ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat failed(SMFICTX *ctx, const char *what, int rc)
{
    char q[MILTER_QID_MAX];
    stats.errors++;
    stats_dirty = 1;
    log_error("milter: %s: %s (%s); answering %s", qid_of(ctx, q), what, strerror(-rc),
              g.on_error_tempfail ? "tempfail (the MTA keeps it and retries)"
                                  : "accept (delivered unchanged)");
    return g.on_error_tempfail ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
}

static sfsistat apply(SMFICTX *ctx, const struct homing_filter_result *res)
{
    for (size_t i = 0; i < res->n_edits; i++) {
        const struct homing_filter_edit *e = &res->edits[i];
        int ok = e->op == HOMING_FILTER_ADD
                     ? smfi_addheader(ctx, e->name, e->value)
                     : smfi_chgheader(ctx, e->name, (int)e->index,
                                      e->op == HOMING_FILTER_DELETE ? NULL : e->value);
        if (ok != MI_SUCCESS) return failed(ctx, "the MTA refused a header change", -EPROTO);
    }
    stats.header_edits += res->n_edits;
    if (res->body) {
        for (size_t off = 0; off < res->body_len || off == 0;) {
            size_t n = res->body_len - off;
            if (n > MILTER_REPLACE_STEP) n = MILTER_REPLACE_STEP;
            if (smfi_replacebody(ctx, (unsigned char *)res->body + off, (int)n) != MI_SUCCESS)
                return failed(ctx, "the MTA refused the new body", -EPROTO);
            off += n;
            if (n == 0) break;
        }
        stats.bodies++;
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (!c) return SMFIS_ACCEPT;
    if (c->policy == HOMING_FILTER_OFF) return SMFIS_ACCEPT;
    struct homing_filter_options o = {.trackers = g.trackers,
                                      .policy = c->policy,
                                      .hold_min = g.hold_min,
                                      .authserv = g.authserv};
    struct homing_filter_result *res = NULL;
    int rc = homing_filter_message(c->msg.data ? c->msg.data : "", c->msg.len, &o, &res);
    homing_buf_free(&c->msg);
    homing_buf_init(&c->msg, g.max_message);
    if (rc < 0)
        return failed(ctx,
                      rc == -EBADMSG  ? "not a message"
                      : rc == -ELOOP  ? "an address header nested too deep to parse"
                      : rc == -EMLINK ? "HTML nested too deep to strip"
                      : rc == -EILSEQ ? "an HTML part's charset cannot be converted"
                      : rc == -E2BIG  ? "beyond the scanner's limits"
                                      : "cannot filter",
                      rc);
    stats.messages[res->policy]++;
    stats.trackers += res->trackers;
    stats.signed_kept += res->st.signed_kept;
    char q[MILTER_QID_MAX], vend[300];
    homing_str_escape(vend, sizeof vend, res->vendors, strlen(res->vendors), 0);
    sfsistat ret = SMFIS_CONTINUE;
    const char *outcome = "accept";
    if (res->verdict == HOMING_FILTER_REFUSE) {
        smfi_setreply(ctx, "550", "5.7.1", res->reason);
        stats.refused++;
        ret = SMFIS_REJECT;
        outcome = "reject";
    } else {
        ret = apply(ctx, res);
        if (ret == SMFIS_CONTINUE && res->verdict == HOMING_FILTER_HOLD) {
            if (smfi_quarantine(ctx, res->reason) != MI_SUCCESS)
                ret = failed(ctx, "the MTA refused to quarantine", -EPROTO);
            else {
                stats.held++;
                outcome = "quarantine";
            }
        }
        if (ret == SMFIS_CONTINUE) {
            if (res->verdict != HOMING_FILTER_HOLD) stats.accepted++;
            stats.dkim += res->dkim_invalidated;
            ret = SMFIS_ACCEPT;
        }
    }
    log_info("milter: %s: policy=%s rcpts=%u trackers=%u vendors=\"%s\" outcome=%s body=%s "
             "headers=%zu removed=%u/%u/%u/%u signed_kept=%u%s",
             qid_of(ctx, q), homing_filter_policy_name(res->policy), c->rcpts, res->trackers, vend,
             outcome, res->body ? "replaced" : "unchanged", res->n_edits, res->st.pixels,
             res->st.loads, res->st.unwrapped, res->st.receipts, res->st.signed_kept,
             res->dkim_invalidated ? " dkim=invalidated" : "");
    homing_filter_result_free(res);
    stats_dirty = 1;
    return ret;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (c) message_reset(c);
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (!c) return SMFIS_CONTINUE;
    smfi_setpriv(ctx, NULL);
    homing_buf_free(&c->msg);
    if (c->counted) atomic_fetch_sub(&stats.open, 1);
    free(c);
    return SMFIS_CONTINUE;
}

/* "127.0.0.1:8899" -> "inet:8899@127.0.0.1", "[::1]:8899" -> "inet6:8899@::1";
 * "unix:/path", "inet:..." and "local:..." are libmilter's own and pass. */
static int milter_spec(const char *listen, char *out, size_t cap)
{
    if (strncmp(listen, "unix:", 5) == 0 || strncmp(listen, "local:", 6) == 0 ||
        strncmp(listen, "inet:", 5) == 0 || strncmp(listen, "inet6:", 6) == 0) {
        if (strlen(listen) >= cap) return -E2BIG;
        snprintf(out, cap, "%s", listen);
        return 0;
    }
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1] || colon == listen) return -EINVAL;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9') return -EINVAL;
    int six = listen[0] == '[';
    const char *h = listen + six;
    size_t hl = (size_t)(colon - h) - (six && colon[-1] == ']');
    int n = snprintf(out, cap, "%s:%s@%.*s", six ? "inet6" : "inet", colon + 1, (int)hl, h);
    return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}

int cmd_milter(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, milter_usage)) return CLI_OK;
    const char *listen = NULL, *policy = NULL, *def = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--listen") == 0 || strcmp(a, "--policy") == 0 ||
            strcmp(a, "--default") == 0) {
            if (++i >= argc) return cli_usage_error("milter", "%s needs a value", a);
            if (a[2] == 'l')
                listen = argv[i];
            else if (a[2] == 'p')
                policy = argv[i];
            else
                def = argv[i];
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else {
            char safe[64];
            cli_escape(safe, sizeof safe, a, strlen(a));
            return cli_usage_error("milter", "unknown argument '%s'", safe);
        }
    }
    log_init("homing", 1); /* a daemon: every line with its time */
    if (cli_config(cli) < 0) return CLI_ERROR;
    struct homing_config *cf = cli->config;
    char err[512];
    if (def && homing_config_set(cf, "milter.default_policy", def) < 0)
        return cli_usage_error("milter", "--default: one of off, tag, strip, notice, quarantine, "
                                         "reject");
    if (policy && homing_config_set(cf, "milter.policy", policy) < 0)
        return cli_usage_error("milter", "--policy: bad value");
    if (listen && homing_config_set(cf, "milter.listen", listen) < 0)
        return cli_usage_error("milter", "--listen: bad value");
    /* every [milter] value was checked against its option when read */
    const struct homing_settings *set = homing_config_settings(cf);
    int defp = HOMING_FILTER_TAG;
    homing_filter_policy_parse(set->milter.default_policy, &defp);
    if (homing_filter_table_parse(set->milter.policy, defp, &g.table, err, sizeof err) < 0)
        return cli_fail("milter.policy: %s", err);
    g.hold_min = (unsigned)set->milter.hold_min;
    g.max_message = (size_t)set->milter.max_message;
    g.max_connections = (unsigned)set->milter.max_connections;
    g.on_error_tempfail = strcmp(set->milter.on_error, "tempfail") == 0;
    const char *ov = set->milter.oversize;
    g.oversize = strcmp(ov, "tempfail") == 0 ? 1 : strcmp(ov, "reject") == 0 ? 2 : 0;
    const char *as = set->milter.authserv_id;
    if (*as)
        homing_strlcpy(g.authserv, as, sizeof g.authserv);
    else if (gethostname(g.authserv, sizeof g.authserv - 1) < 0)
        homing_strlcpy(g.authserv, "homing", sizeof g.authserv);
    g.stats_file = set->milter.stats_file;
    const char *tp = set->milter.trackers;
    if (cli_trackers_load(*tp ? tp : NULL, &g.trackers) < 0) {
        homing_filter_table_free(g.table);
        return CLI_ERROR;
    }
    char spec[MILTER_SPEC_MAX];
    const char *lv = set->milter.listen;
    int rc = CLI_ERROR;
    struct smfiDesc desc = {
        .xxfi_name = "homing",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE,
        .xxfi_connect = on_connect,
        .xxfi_envfrom = on_envfrom,
        .xxfi_envrcpt = on_envrcpt,
        .xxfi_header = on_header,
        .xxfi_eoh = on_eoh,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_abort = on_abort,
        .xxfi_close = on_close,
        .xxfi_negotiate = on_negotiate,
    };
    int spec_ok = milter_spec(lv, spec, sizeof spec) == 0;
    unix_socket = spec_ok && (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0);
    if (!spec_ok) {
        char safe[128];
        cli_fail("milter.listen = %s: ADDRESS:PORT or unix:/PATH", cli_safe(lv, safe, sizeof safe));
    } else if (smfi_register(desc) != MI_SUCCESS) {
        cli_fail("cannot register with libmilter");
    } else if (smfi_setconn(spec) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
        char safe[128];
        cli_fail("cannot listen on %s", cli_safe(lv, safe, sizeof safe));
    } else {
        if (verbose) log_set_level(LOG_LEVEL_DEBUG);
        /* the MTA runs as another user: a socket for our group (add postfix to it) */
        if (strncmp(spec, "unix:", 5) == 0 && chmod(spec + 5, 0660) < 0)
            log_warn("milter: cannot chmod %s: %s", spec + 5, strerror(errno));
        log_info("milter: listening on %s (default policy %s, %s on error, at most %zu bytes "
                 "per message)",
                 spec, homing_filter_policy_name(defp), g.on_error_tempfail ? "tempfail" : "accept",
                 g.max_message);
        stats_write();
        /* libmilter's signal thread takes SIGTERM and friends (sigwait); in
         * the stats thread their default action would end the process
         * without a clean stop. Blocked here, so the thread starts with them
         * blocked (smfi_main blocks them in this thread too). */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        pthread_t th;
        int have_th =
            g.stats_file && *g.stats_file && pthread_create(&th, NULL, stats_main, NULL) == 0;
        rc = smfi_main() == MI_SUCCESS ? CLI_OK : CLI_ERROR;
        stats_stop = 1;
        if (have_th) pthread_join(th, NULL);
        stats_write();
        log_info("milter: stopped after %llu connections, %llu errors",
                 (unsigned long long)stats.connections, (unsigned long long)stats.errors);
    }
    homing_trackers_free(g.trackers);
    homing_filter_table_free(g.table);
    return rc;
}
