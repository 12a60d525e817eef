/*
 * milter.c: `homing milter`, the mail filter front end for Postfix and
 * Sendmail (smtpd_milters / INPUT_MAIL_FILTER). It speaks the milter protocol
 * through the codec of lib/scan/milter_proto.c (homing/milter.h), gathers
 * each message (headers and body, up to milter.max_message bytes), takes the
 * strictest policy of its envelope recipients from the configured table, and
 * applies what homing_filter_message (lib/scan/filter.c) decides: header
 * edits, one new body, quarantine or a 5.7.1 refusal. See docs/milter.md.
 *
 * Threads: the main thread accepts; each connection is served from start to
 * end by one worker thread with blocking reads (a pool: a worker that is done
 * waits for the next connection). libmilter, used before, handed every
 * connection between its poll thread and a worker at each command, which cost
 * the milter more CPU in context switches than the filtering itself
 * (docs/benchmarks.md).
 *
 * Contract: never loses mail. A failure inside homing answers
 * milter.on_error (default accept: delivered unchanged), a message over
 * milter.max_message answers milter.oversize (default accept, untouched),
 * connections past milter.max_connections are passed through untouched; each
 * is logged; a connection that breaks the protocol (a packet over
 * HOMING_MILTER_PACKET_MAX, a malformed payload, an unknown command) is
 * closed, and the MTA applies its milter_default_action. Runs in the
 * foreground until SIGTERM, SIGINT or SIGHUP, then waits up to
 * MILTER_STOP_WAIT_S for the messages being filtered. Exit: 0 stopped, 2
 * error at start (one line on stderr).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "cli.h"
#include "homing/filter.h"
#include "homing/milter.h"
#include "homing/trackers.h"
#include "homing/util.h"
#include "homing_build.h"
#include "log.h"

#define MILTER_QID_MAX      64
#define MILTER_BACKLOG      128        /* connections waiting for accept */
#define MILTER_IO_TIMEOUT_S 7210       /* a read or write waiting this long closes (libmilter's) */
#define MILTER_STOP_WAIT_S  10         /* at a stop, for the messages being filtered */
#define MILTER_IDLE_MAX     16         /* workers kept waiting for a connection */
#define MILTER_IDLE_S       60         /* how long one waits before it ends */
#define MILTER_READ_MIN     (16 << 10) /* free bytes asked of each recv */
#define MILTER_IN_MAX       (HOMING_MILTER_LEN_BYTES + HOMING_MILTER_PACKET_MAX + MILTER_READ_MIN)
#define MILTER_OUT_FLUSH    (256 << 10) /* a new body goes out in pieces this large */
#define MILTER_OUT_MAX      (MILTER_OUT_FLUSH + 2 * HOMING_MILTER_PACKET_MAX)

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

/* What every connection thread reads; set before the first accept, then read-only. */
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

/* One MTA connection, served by one worker thread from its CONNECT to its
 * QUIT; the message fields are reset per transaction. */
struct conn {
    int fd;
    int counted; /* holds one of milter.max_connections' slots */
    int pass;    /* accept everything untouched (over the limit, or an MTA
                    that cannot let us change a message) */
    int nr_hdr, nr_mail, nr_rcpt, nr_eoh, nr_body; /* the MTA reads no reply to these */
    int in_message;        /* between MAIL and the message's end: counted in busy */
    struct homing_buf msg; /* headers then body, CRLF, at most g.max_message */
    int policy;            /* strictest of the recipients so far */
    unsigned rcpts;
    int pending; /* the answer a step without a reply decided, given at the next reply */
    char qid[MILTER_QID_MAX];
    struct homing_buf out; /* replies not yet written */
    char *in;              /* bytes read, not yet a whole packet */
    size_t in_len, in_cap;
    int broken;      /* a write failed: the MTA is gone */
    unsigned writes; /* flushes so far (a change half sent cannot be taken back) */
};

/* What a step answers the MTA. */
enum verdict { V_NONE = -1, V_CONTINUE, V_ACCEPT, V_TEMPFAIL, V_REJECT_OVERSIZE };

static int unix_socket;  /* listening on a unix socket (set before the first accept) */
static _Atomic int busy; /* connections in the middle of a message (stop waits for them) */

static void message_end(struct conn *c)
{
    if (c->in_message) atomic_fetch_sub(&busy, 1);
    c->in_message = 0;
}

static void message_reset(struct conn *c)
{
    homing_buf_free(&c->msg);
    homing_buf_init(&c->msg, g.max_message);
    c->policy = HOMING_FILTER_OFF;
    c->rcpts = 0;
    c->pending = V_NONE;
}

static const char *error_verdict_name(void)
{
    return g.on_error_tempfail ? "tempfail" : "accept";
}

static enum verdict on_error(void)
{
    return g.on_error_tempfail ? V_TEMPFAIL : V_ACCEPT;
}

static int put_verdict(struct conn *c, enum verdict v)
{
    switch (v) {
    case V_NONE: return 0;
    case V_CONTINUE: return homing_milter_put(&c->out, HOMING_MILTER_R_CONTINUE, NULL, 0);
    case V_ACCEPT: return homing_milter_put(&c->out, HOMING_MILTER_R_ACCEPT, NULL, 0);
    case V_TEMPFAIL: return homing_milter_put(&c->out, HOMING_MILTER_R_TEMPFAIL, NULL, 0);
    case V_REJECT_OVERSIZE:
        return homing_milter_put_reply(&c->out, "552", "5.3.4",
                                       "message too large for the tracker filter");
    }
    return -EINVAL;
}

/* Writes every pending reply; -errno when the MTA is gone or stalled past
 * the socket's send timeout. */
static int flush(struct conn *c)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EPIPE;
        off += (size_t)n;
    }
    homing_buf_reset(&c->out);
    c->writes++;
    return 0;
}

/* Past milter.max_message: the held bytes are dropped at once (the memory
 * bound is the point) and the message gets milter.oversize. */
static enum verdict oversize(struct conn *c)
{
    homing_buf_free(&c->msg);
    homing_buf_init(&c->msg, g.max_message);
    stats.oversize++;
    stats_dirty = 1;
    static const char *const what[] = {"passed through untouched", "deferred", "refused"};
    log_warn("milter: %s: larger than %zu bytes (milter.max_message): %s", c->qid, g.max_message,
             what[g.oversize]);
    return g.oversize == 1 ? V_TEMPFAIL : g.oversize == 2 ? V_REJECT_OVERSIZE : V_ACCEPT;
}

static enum verdict header(struct conn *c, const char *name, const char *value)
{
    if (c->policy == HOMING_FILTER_OFF) return V_ACCEPT; /* nothing to do for anyone */
    int r = homing_buf_printf(&c->msg, "%s: ", name);
    /* folded lines come with LF alone: back to CRLF, as on the wire */
    for (const char *p = value; r == 0 && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        r = homing_buf_append(&c->msg, p, n);
        if (r == 0 && nl) r = homing_buf_append(&c->msg, "\r\n", 2);
        p += n + (nl != NULL);
    }
    if (r == 0) r = homing_buf_append(&c->msg, "\r\n", 2);
    if (r == -E2BIG) return oversize(c);
    if (r < 0) {
        stats.errors++;
        log_error("milter: out of memory reading a header; answering %s", error_verdict_name());
        return on_error();
    }
    return V_CONTINUE;
}

static enum verdict body(struct conn *c, const char *chunk, size_t len)
{
    int r = homing_buf_append(&c->msg, chunk, len);
    if (r == -E2BIG) return oversize(c);
    if (r < 0) {
        stats.errors++;
        log_error("milter: out of memory reading a body; answering %s", error_verdict_name());
        return on_error();
    }
    return V_CONTINUE;
}

static enum verdict failed(struct conn *c, const char *what, int rc)
{
    stats.errors++;
    stats_dirty = 1;
    log_error("milter: %s: %s (%s); answering %s", c->qid, what, strerror(-rc),
              g.on_error_tempfail ? "tempfail (the MTA keeps it and retries)"
                                  : "accept (delivered unchanged)");
    return on_error();
}

/* The header edits and the new body, in the order the MTA applies them.
 * Queued in c->out (flushed every MILTER_OUT_FLUSH bytes of a large body). */
static int apply(struct conn *c, const struct homing_filter_result *res)
{
    for (size_t i = 0; i < res->n_edits; i++) {
        const struct homing_filter_edit *e = &res->edits[i];
        int r =
            e->op == HOMING_FILTER_ADD
                ? homing_milter_put_header(&c->out, HOMING_MILTER_R_ADDHEADER, 0, e->name, e->value)
                : homing_milter_put_header(&c->out, HOMING_MILTER_R_CHGHEADER, (uint32_t)e->index,
                                           e->name,
                                           e->op == HOMING_FILTER_DELETE ? NULL : e->value);
        if (r < 0) return r;
    }
    if (res->body) {
        /* as libmilter's smfi_replacebody: an empty body sends no packet */
        for (size_t off = 0; off < res->body_len;) {
            size_t n = res->body_len - off;
            if (n > HOMING_MILTER_CHUNK_MAX) n = HOMING_MILTER_CHUNK_MAX;
            int r = homing_milter_put(&c->out, HOMING_MILTER_R_REPLBODY, res->body + off, n);
            if (r < 0) return r;
            if (c->out.len >= MILTER_OUT_FLUSH && flush(c) < 0) {
                c->broken = 1;
                return -EPIPE;
            }
            off += n;
        }
    }
    return 0;
}

/* The end of a message: filter it, queue the edits and the final answer.
 * -errno only when the connection is lost. */
static int eom(struct conn *c)
{
    if (c->policy == HOMING_FILTER_OFF) return put_verdict(c, V_ACCEPT);
    struct homing_filter_options o = {.trackers = g.trackers,
                                      .policy = c->policy,
                                      .hold_min = g.hold_min,
                                      .authserv = g.authserv};
    struct homing_filter_result *res = NULL;
    int rc = homing_filter_message(c->msg.data ? c->msg.data : "", c->msg.len, &o, &res);
    homing_buf_free(&c->msg);
    homing_buf_init(&c->msg, g.max_message);
    if (rc < 0)
        return put_verdict(c, failed(c,
                                     rc == -EBADMSG  ? "not a message"
                                     : rc == -ELOOP  ? "an address header nested too deep to parse"
                                     : rc == -EMLINK ? "HTML nested too deep to strip"
                                     : rc == -EILSEQ ? "an HTML part's charset cannot be converted"
                                     : rc == -E2BIG  ? "beyond the scanner's limits"
                                                     : "cannot filter",
                                     rc));
    stats.messages[res->policy]++;
    stats.trackers += res->trackers;
    stats.signed_kept += res->st.signed_kept;
    char vend[300];
    homing_str_escape(vend, sizeof vend, res->vendors, strlen(res->vendors), 0);
    const char *outcome = "accept";
    size_t mark = c->out.len;
    unsigned writes = c->writes;
    if (res->verdict == HOMING_FILTER_REFUSE) {
        rc = homing_milter_put_reply(&c->out, "550", "5.7.1", res->reason);
        stats.refused++;
        outcome = "reject";
    } else {
        rc = apply(c, res);
        if (rc == 0 && res->verdict == HOMING_FILTER_HOLD)
            rc = homing_milter_put_quarantine(&c->out, res->reason);
        if (rc == 0) rc = put_verdict(c, V_ACCEPT);
        if (rc == 0) {
            stats.header_edits += res->n_edits;
            stats.bodies += res->body != NULL;
            stats.dkim += res->dkim_invalidated;
            if (res->verdict == HOMING_FILTER_HOLD) {
                stats.held++;
                outcome = "quarantine";
            } else {
                stats.accepted++;
            }
        }
    }
    if (c->broken || (rc < 0 && c->writes != writes)) {
        /* the MTA is gone, or has part of a new body: closing makes it
         * apply its milter_default_action to the message */
        rc = -EPIPE;
    } else if (rc < 0) {
        /* nothing of the changes sent yet: take them back */
        c->out.len = mark;
        if (c->out.data) c->out.data[mark] = '\0';
        rc = put_verdict(c, failed(c, "cannot encode the changes for the MTA", rc));
        outcome = error_verdict_name();
    }
    log_info("milter: %s: policy=%s rcpts=%u trackers=%u vendors=\"%s\" outcome=%s body=%s "
             "headers=%zu removed=%u/%u/%u/%u signed_kept=%u%s",
             c->qid, homing_filter_policy_name(res->policy), c->rcpts, res->trackers, vend, outcome,
             res->body ? "replaced" : "unchanged", res->n_edits, res->st.pixels, res->st.loads,
             res->st.unwrapped, res->st.receipts, res->st.signed_kept,
             res->dkim_invalidated ? " dkim=invalidated" : "");
    homing_filter_result_free(res);
    stats_dirty = 1;
    return rc;
}

/* A step the MTA reads no reply to: the first answer other than "go on"
 * is kept and given at the next step that has a reply. */
static enum verdict no_reply(struct conn *c, enum verdict v)
{
    if (v != V_CONTINUE && v != V_NONE && c->pending == V_NONE) c->pending = v;
    return V_NONE;
}

/* Takes one of milter.max_connections' slots, or says why not. */
static int take_slot(void)
{
    int open = stats.open;
    while ((unsigned)open < g.max_connections)
        if (atomic_compare_exchange_weak(&stats.open, &open, open + 1)) return 1;
    return 0;
}

static void protocol_error(const char *what, int cmd)
{
    static struct log_limit lim = LOG_LIMIT_INIT;
    stats.errors++;
    log_error_limited(&lim, "milter: %s (%s packet); connection closed", what,
                      homing_milter_cmd_name(cmd));
}

/* One packet. 0 to go on, 1 when the MTA said QUIT, -1 to close the
 * connection (a protocol error, already logged, or out of memory). */
static int dispatch(struct conn *c, const struct homing_milter_packet *p)
{
    const int cont = c->pass ? V_ACCEPT : V_CONTINUE;
    enum verdict v = V_NONE;
    switch (p->cmd) {
    case HOMING_MILTER_OPTNEG: {
        uint32_t ver, act, steps;
        if (homing_milter_optneg_parse(p->data, p->len, &ver, &act, &steps) < 0 || ver < 2) {
            protocol_error("bad option negotiation", p->cmd);
            return -1;
        }
        const uint32_t want = HOMING_MILTER_F_ADDHDRS | HOMING_MILTER_F_CHGHDRS |
                              HOMING_MILTER_F_CHGBODY | HOMING_MILTER_F_QUARANTINE;
        uint32_t mine = 0;
        if ((act & want) != want) {
            /* an MTA that cannot take our changes: everything passes */
            c->pass = 1;
            act &= want;
        } else {
            /* no HELO, DATA or unknown commands (nothing here uses them),
             * and no reply to MAIL, RCPT, each header, the end of the
             * headers and each body chunk (an answer they decide, such as
             * oversize, waits for the end of the message): one round trip
             * per message instead of about 25. Over TCP this relies on the
             * quick ACK in serve(), else every packet without a reply would
             * hold the next one 40 ms in Postfix's Nagle algorithm. */
            uint32_t nr = (steps & HOMING_MILTER_P_NR_HDR)
                              ? HOMING_MILTER_P_NR_HDR | HOMING_MILTER_P_NR_MAIL |
                                    HOMING_MILTER_P_NR_RCPT | HOMING_MILTER_P_NR_EOH |
                                    HOMING_MILTER_P_NR_BODY
                              : 0;
            mine = steps & (HOMING_MILTER_P_NOHELO | HOMING_MILTER_P_NOUNKNOWN |
                            HOMING_MILTER_P_NODATA | nr);
            act = want;
        }
        c->nr_hdr = !!(mine & HOMING_MILTER_P_NR_HDR);
        c->nr_mail = !!(mine & HOMING_MILTER_P_NR_MAIL);
        c->nr_rcpt = !!(mine & HOMING_MILTER_P_NR_RCPT);
        c->nr_eoh = !!(mine & HOMING_MILTER_P_NR_EOH);
        c->nr_body = !!(mine & HOMING_MILTER_P_NR_BODY);
        uint32_t vers = ver < HOMING_MILTER_VERSION ? ver : HOMING_MILTER_VERSION;
        return homing_milter_put_optneg(&c->out, vers, act, mine) < 0 ? -1 : 0;
    }
    case HOMING_MILTER_MACRO: {
        const char *q;
        int r = homing_milter_macro_find(p->data, p->len, "i", &q);
        if (r == -EBADMSG) {
            protocol_error("bad macro list", p->cmd);
            return -1;
        }
        if (r == 0) homing_str_escape(c->qid, sizeof c->qid, q, strlen(q), 0);
        return 0;
    }
    case HOMING_MILTER_CONNECT: {
        const char *host;
        int fam;
        if (homing_milter_connect_parse(p->data, p->len, &host, &fam) < 0) {
            protocol_error("bad connect", p->cmd);
            return -1;
        }
        stats.connections++;
        if (c->pass) {
            v = V_ACCEPT;
        } else if (c->counted || take_slot()) {
            c->counted = 1;
            v = V_CONTINUE;
        } else {
            stats.overload++;
            stats_dirty = 1;
            static struct log_limit lim = LOG_LIMIT_INIT;
            log_error_limited(&lim,
                              "milter: more than %u connections at once "
                              "(milter.max_connections); this one is passed through untouched",
                              g.max_connections);
            v = V_ACCEPT;
        }
        break;
    }
    case HOMING_MILTER_HELO:
    case HOMING_MILTER_DATA:
    case HOMING_MILTER_UNKNOWN: v = cont; break;
    case HOMING_MILTER_MAIL:
        message_reset(c);
        if (!c->in_message) atomic_fetch_add(&busy, 1);
        c->in_message = 1;
        v = c->pass ? V_ACCEPT : c->nr_mail ? V_NONE : V_CONTINUE;
        break;
    case HOMING_MILTER_RCPT: {
        const char *argv[HOMING_MILTER_ARGS_MAX];
        size_t n = 0;
        if (homing_milter_strings(p->data, p->len, argv, HOMING_MILTER_ARGS_MAX, &n) < 0) {
            protocol_error("bad recipient", p->cmd);
            return -1;
        }
        if (c->pass) {
            v = V_ACCEPT;
            break;
        }
        int pol = homing_filter_table_lookup(g.table, argv[0]);
        if (pol > c->policy) c->policy = pol; /* the strictest wins: one body for all */
        c->rcpts++;
        v = c->nr_rcpt ? V_NONE : V_CONTINUE;
        break;
    }
    case HOMING_MILTER_HEADER: {
        const char *name, *value;
        if (homing_milter_header_parse(p->data, p->len, &name, &value) < 0) {
            protocol_error("bad header", p->cmd);
            return -1;
        }
        if (c->pass) {
            v = V_ACCEPT;
        } else if (c->pending != V_NONE) {
            v = c->nr_hdr ? V_NONE : c->pending; /* decided already */
        } else {
            v = header(c, name, value);
            if (c->nr_hdr) v = no_reply(c, v);
        }
        break;
    }
    case HOMING_MILTER_EOH:
        if (c->pass)
            v = V_ACCEPT;
        else if (c->pending != V_NONE)
            v = c->pending;
        else if (c->policy == HOMING_FILTER_OFF)
            v = V_ACCEPT;
        else {
            int r = homing_buf_append(&c->msg, "\r\n", 2);
            v = r == -E2BIG ? oversize(c) : r < 0 ? on_error() : V_CONTINUE;
        }
        if (c->nr_eoh && !c->pass) v = no_reply(c, v);
        break;
    case HOMING_MILTER_BODY:
        if (c->pass)
            v = V_ACCEPT;
        else if (c->pending != V_NONE)
            v = c->pending; /* the body of a message decided already is dropped */
        else
            v = body(c, p->data, p->len);
        if (c->nr_body && !c->pass) v = no_reply(c, v);
        break;
    case HOMING_MILTER_BODYEOB: {
        /* the end of the body may carry its last chunk */
        int r = 0;
        if (c->pass)
            v = V_ACCEPT;
        else if (c->pending != V_NONE)
            v = c->pending;
        else if (!p->len || (v = body(c, p->data, p->len)) == V_CONTINUE)
            r = eom(c), v = V_NONE;
        message_end(c);
        homing_strlcpy(c->qid, "-", sizeof c->qid);
        if (r < 0) return -1;
        break;
    }
    case HOMING_MILTER_ABORT:
        message_reset(c);
        message_end(c);
        homing_strlcpy(c->qid, "-", sizeof c->qid);
        return 0;
    case HOMING_MILTER_QUIT_NC: /* a new SMTP connection on this milter connection */
        message_reset(c);
        message_end(c);
        homing_strlcpy(c->qid, "-", sizeof c->qid);
        return 0;
    case HOMING_MILTER_QUIT: return 1;
    default: protocol_error("unknown command from the MTA", p->cmd); return -1;
    }
    return put_verdict(c, v) < 0 ? -1 : 0;
}

/* Serves one MTA connection to its end. Reads as much as the socket holds,
 * answers every whole packet in it, then writes all the answers at once. */
static void serve(int fd)
{
    struct conn c = {.fd = fd, .pending = V_NONE};
    homing_buf_init(&c.msg, g.max_message);
    homing_buf_init(&c.out, MILTER_OUT_MAX);
    homing_strlcpy(c.qid, "-", sizeof c.qid);
    struct timeval tv = {MILTER_IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    if (!unix_socket) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (int done = 0; !done;) {
        if (c.in_cap - c.in_len < MILTER_READ_MIN) {
            size_t cap = c.in_cap ? c.in_cap * 2 : MILTER_READ_MIN * 4;
            if (cap > MILTER_IN_MAX) cap = MILTER_IN_MAX;
            char *p = cap > c.in_cap ? realloc(c.in, cap) : NULL;
            if (!p) {
                /* only a packet bigger than MILTER_IN_MAX gets here, and
                 * homing_milter_frame refused it already */
                stats.errors++;
                log_error("milter: out of memory for a connection; closed");
                break;
            }
            c.in = p;
            c.in_cap = cap;
        }
        /* Over TCP, acknowledge at once: Postfix writes a macro packet and
         * then its command as two segments, and its Nagle algorithm holds
         * the second until our ACK, which a delayed ACK sends 40 ms later.
         * The kernel leaves quick-ACK mode by itself: set before each read. */
        if (!unix_socket) setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        ssize_t n = recv(fd, c.in + c.in_len, c.in_cap - c.in_len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                log_warn("milter: %s: nothing from the MTA for %d s; connection closed", c.qid,
                         MILTER_IO_TIMEOUT_S);
            break; /* the MTA closed it (with a message open: it applies its default) */
        }
        c.in_len += (size_t)n;
        size_t off = 0;
        while (!done) {
            struct homing_milter_packet p;
            ssize_t k = homing_milter_frame(c.in + off, c.in_len - off, &p);
            if (k == 0) break;
            if (k < 0) {
                protocol_error("a packet longer than HOMING_MILTER_PACKET_MAX or empty", 0);
                done = -1;
                break;
            }
            off += (size_t)k;
            int r = dispatch(&c, &p);
            if (r != 0) done = r;
        }
        memmove(c.in, c.in + off, c.in_len - off);
        c.in_len -= off;
        if (done >= 0 && flush(&c) < 0) break;
    }
    message_end(&c);
    if (c.counted) atomic_fetch_sub(&stats.open, 1);
    homing_buf_free(&c.msg);
    homing_buf_free(&c.out);
    free(c.in);
    close(fd);
}

/* The workers: a thread serves one connection at a time from start to end
 * (a blocking read per command: no hand-off between threads inside a
 * message), then waits up to MILTER_IDLE_S for the next one; at most
 * MILTER_IDLE_MAX wait, the others end. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int queue[MILTER_IDLE_MAX];
    unsigned head, len, idle;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *worker_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    for (;;) {
        serve(fd);
        pthread_mutex_lock(&pool.lock);
        if (pool.idle >= MILTER_IDLE_MAX) {
            pthread_mutex_unlock(&pool.lock);
            return NULL;
        }
        pool.idle++;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += MILTER_IDLE_S;
        while (pool.len == 0)
            if (pthread_cond_timedwait(&pool.cond, &pool.lock, &until) == ETIMEDOUT) break;
        pool.idle--;
        if (pool.len == 0) {
            pthread_mutex_unlock(&pool.lock);
            return NULL;
        }
        fd = pool.queue[pool.head];
        pool.head = (pool.head + 1) % MILTER_IDLE_MAX;
        pool.len--;
        pthread_mutex_unlock(&pool.lock);
    }
}

/* A new connection to a waiting worker, else to a new one; 0 or -errno
 * (then the caller closes it and the MTA applies milter_default_action). */
static int dispatch_conn(int fd)
{
    pthread_mutex_lock(&pool.lock);
    if (pool.len < pool.idle) {
        pool.queue[(pool.head + pool.len) % MILTER_IDLE_MAX] = fd;
        pool.len++;
        pthread_cond_signal(&pool.cond);
        pthread_mutex_unlock(&pool.lock);
        return 0;
    }
    pthread_mutex_unlock(&pool.lock);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int r = pthread_create(&th, &at, worker_main, (void *)(intptr_t)fd);
    pthread_attr_destroy(&at);
    return -r;
}

/* The listening socket of milter.listen: "unix:/path" (or libmilter's
 * "local:/path"), "HOST:PORT", "[V6]:PORT", or libmilter's
 * "inet:PORT@HOST" / "inet6:PORT@HOST". An existing unix socket file is
 * replaced. The fd, or -errno (-EINVAL for a malformed spec). */
static int listen_on(const char *spec)
{
    const char *path = strncmp(spec, "unix:", 5) == 0    ? spec + 5
                       : strncmp(spec, "local:", 6) == 0 ? spec + 6
                                                         : NULL;
    if (path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (!*path || strlen(path) >= sizeof sun.sun_path) return -EINVAL;
        memcpy(sun.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -errno;
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, MILTER_BACKLOG) < 0) {
            int e = -errno;
            close(fd);
            return e;
        }
        unix_socket = 1;
        return fd;
    }
    char host[256], port[16];
    int family = AF_UNSPEC;
    if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
        family = spec[4] == '6' ? AF_INET6 : AF_INET;
        const char *p = strchr(spec, ':') + 1, *at = strchr(p, '@');
        size_t pl = at ? (size_t)(at - p) : strlen(p);
        if (pl == 0 || pl >= sizeof port) return -EINVAL;
        memcpy(port, p, pl);
        port[pl] = '\0';
        const char *h = at ? at + 1 : (family == AF_INET ? "0.0.0.0" : "::");
        if (strlen(h) >= sizeof host) return -EINVAL;
        homing_strlcpy(host, h, sizeof host);
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon || !colon[1] || colon == spec) return -EINVAL;
        int six = spec[0] == '[';
        const char *h = spec + six;
        size_t hl = (size_t)(colon - h) - (six && colon[-1] == ']');
        if (hl == 0 || hl >= sizeof host || strlen(colon + 1) >= sizeof port) return -EINVAL;
        memcpy(host, h, hl);
        host[hl] = '\0';
        homing_strlcpy(port, colon + 1, sizeof port);
    }
    for (const char *q = port; *q; q++)
        if (*q < '0' || *q > '9') return -EINVAL;
    struct addrinfo hints = {.ai_family = family,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) return -EADDRNOTAVAIL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, e = 0;
    if (fd < 0)
        e = -errno;
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
             bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, MILTER_BACKLOG) < 0) {
        e = -errno;
        close(fd);
    }
    freeaddrinfo(ai);
    return e < 0 ? e : fd;
}

/* Accepts until SIGTERM, SIGINT or SIGHUP (blocked in every thread, read
 * here from a signalfd), then waits up to MILTER_STOP_WAIT_S for the
 * messages in progress to be answered. */
static void accept_loop(int lfd, int sfd)
{
    static struct log_limit lim = LOG_LIMIT_INIT;
    for (;;) {
        struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            log_error("milter: poll: %s", strerror(errno));
            break;
        }
        if (pf[1].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                log_info("milter: signal %u: stopping", si.ssi_signo);
                break;
            }
        }
        if (!(pf[0].revents & POLLIN)) continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
                log_error_limited(&lim, "milter: accept: %s", strerror(errno));
                if (errno == EMFILE || errno == ENFILE) poll(NULL, 0, 100); /* let some close */
            }
            continue;
        }
        int r = dispatch_conn(fd);
        if (r < 0) {
            stats.errors++;
            log_error_limited(&lim, "milter: cannot start a thread (%s); connection closed",
                              strerror(-r));
            close(fd);
        }
    }
    for (int i = 0; i < MILTER_STOP_WAIT_S * 20 && busy > 0; i++) poll(NULL, 0, 50);
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
    const char *lv = set->milter.listen;
    int rc = CLI_ERROR;
    /* the signals are taken by the accept loop's signalfd: blocked here,
     * so every worker thread starts with them blocked */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int lfd = listen_on(lv), sfd = -1;
    if (lfd < 0) {
        char safe[128];
        if (lfd == -EINVAL)
            cli_fail("milter.listen = %s: ADDRESS:PORT or unix:/PATH",
                     cli_safe(lv, safe, sizeof safe));
        else
            cli_fail("cannot listen on %s: %s", cli_safe(lv, safe, sizeof safe), strerror(-lfd));
    } else if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
        cli_fail("signalfd: %s", strerror(errno));
    } else {
        if (verbose) log_set_level(LOG_LEVEL_DEBUG);
        /* the MTA runs as another user: a socket for our group (add postfix to it) */
        const char *path = strncmp(lv, "unix:", 5) == 0    ? lv + 5
                           : strncmp(lv, "local:", 6) == 0 ? lv + 6
                                                           : NULL;
        if (path && chmod(path, 0660) < 0)
            log_warn("milter: cannot chmod %s: %s", path, strerror(errno));
        char safe[128];
        log_info("milter: listening on %s (default policy %s, %s on error, at most %zu bytes "
                 "per message, %u connections)",
                 cli_safe(lv, safe, sizeof safe), homing_filter_policy_name(defp),
                 g.on_error_tempfail ? "tempfail" : "accept", g.max_message, g.max_connections);
        stats_write();
        pthread_t th;
        int have_th =
            g.stats_file && *g.stats_file && pthread_create(&th, NULL, stats_main, NULL) == 0;
        accept_loop(lfd, sfd);
        close(lfd);
        lfd = -1;
        if (path) unlink(path);
        stats_stop = 1;
        if (have_th) pthread_join(th, NULL);
        stats_write();
        log_info("milter: stopped after %llu connections, %llu errors",
                 (unsigned long long)stats.connections, (unsigned long long)stats.errors);
        rc = CLI_OK;
    }
    if (lfd >= 0) close(lfd);
    if (sfd >= 0) close(sfd);
    homing_trackers_free(g.trackers);
    homing_filter_table_free(g.table);
    return rc;
}
