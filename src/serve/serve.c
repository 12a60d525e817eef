/*
 * serve.c: `homing serve`: binds the listeners, opens one store handle per
 * thread, drops privileges, runs the loops, and on SIGTERM/SIGINT stops
 * accepting, lets every queued hit commit and be answered, and exits 0.
 */
#include <errno.h>
#include <linux/capability.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "homing/journal.h"
#include "homing/store_engine.h"
#include "cli.h"
#include "document.h"
#include "log.h"
#include "thread.h"
#include "sdnotify.h"
#include "serve.h"

#define SERVE_LOOP_TICK_MS  100  /* how often loops look at the stop flag */
#define SERVE_CHECKPOINT_MS 1000 /* how often the log is copied into the database */
#define SERVE_DRAIN_MS      200  /* responses flushing after the stop */
/* Descriptors the daemon keeps besides public connections: stores, journal,
 * listeners, admin connections and streams, webhooks. */
#define SERVE_FD_RESERVE 256
/* The watch (watch_loops): every SERVE_WATCH_MS the main thread reads what
 * the loop threads asked of the CPU (ran or waited to run); flood mode
 * (thread.h) starts when one of them asked for more than SERVE_FLOOD_ON_PCT of
 * that time and ends when all asked for less than SERVE_FLOOD_OFF_PCT. An
 * ordinary day's hits keep a loop busy well under 1 %. */
#define SERVE_WATCH_MS      100
#define SERVE_FLOOD_ON_PCT  50
#define SERVE_FLOOD_OFF_PCT 25

static const char serve_usage[] =
    "usage: homing serve [--listen ADDR:PORT] [--admin-listen ADDR:PORT] [--threads N]\n\n"
    "Runs the tracking daemon in the foreground:\n"
    "  public listener  GET|HEAD /o/TOKEN.gif (pixel), /c/TOKEN (click), /healthz\n"
    "  admin listener   /api/v1/... (Authorization: Bearer API-KEY), /metrics\n"
    "Every hit is written to the journal (store.journal) before it is answered and\n"
    "reaches the store milliseconds later; a crash loses no answered hit (the next\n"
    "start stores what the journal holds). SIGTERM or SIGINT stores everything\n"
    "journaled and exits. Started as root, it switches to serve.user after\n"
    "binding. Options override the configuration file (docs/configuration.md).\n"
    "Under systemd (Type=notify, contrib/systemd/homing.service) it sends READY=1\n"
    "once serving, and WATCHDOG=1 while running when WatchdogSec= is set.\n";

/* Binds "host:port" ("[v6]:port" for IPv6) with SO_REUSEPORT so each loop thread
 * can have its own socket. */
static int bind_listener(const char *spec, char *err, size_t errcap)
{
    char host[256];
    const char *port;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') goto bad;
        snprintf(host, sizeof host, "%.*s", (int)(close - spec - 1), spec + 1);
        port = close + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon) goto bad;
        snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai) {
        snprintf(err, errcap, "%s: %s", spec, gai_strerror(gai));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        snprintf(err, errcap, "cannot listen on %s: %s", spec, strerror(e));
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return -e;
    }
    freeaddrinfo(ai);
    return fd;
bad:
    snprintf(err, errcap, "bad listen address '%s' (want HOST:PORT or [V6]:PORT)", spec);
    return -EINVAL;
}

/* Refused over a cap (guard.c): a short answer the client may read before the
 * close (best effort: a full send buffer or a reset loses it). */
static const char serve_busy_answer[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                        "Retry-After: 1\r\nConnection: close\r\n"
                                        "Content-Length: 0\r\n\r\n";

static void on_accept(h2o_socket_t *listener, const char *err);

static void accept_resume(h2o_timeout_entry_t *entry)
{
    struct worker *w = H2O_STRUCT_FROM_MEMBER(struct worker, accept_resume, entry);
    if (w->listener) h2o_socket_read_start(w->listener, on_accept);
}

/* Out of file descriptors: the pending connection stays in the backlog, so
 * the listener stays readable, and level-triggered epoll would run this loop
 * flat out retrying it. Stop watching it for SERVE_ACCEPT_PAUSE_MS instead;
 * closing connections meanwhile frees descriptors. */
static void accept_pause(struct worker *w, int err)
{
    atomic_fetch_add_explicit(&w->serve->metrics.accept_fd_limit, 1, memory_order_relaxed);
    h2o_socket_read_stop(w->listener);
    if (!h2o_timeout_is_linked(&w->accept_resume))
        h2o_timeout_link(w->loop, &w->accept_pause, &w->accept_resume);
    int64_t now = homing_mono_us();
    if (!w->fd_limit_logged_us || now - w->fd_limit_logged_us > 60 * 1000000LL) {
        w->fd_limit_logged_us = now;
        log_warn("accept: %s: not accepting for %d ms at a time until descriptors are free "
                 "(raise RLIMIT_NOFILE or lower public.max_connections)",
                 strerror(err), SERVE_ACCEPT_PAUSE_MS);
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err) return;
    struct worker *w = listener->data;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (!sock) {
        int e = errno;
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) accept_pause(w, e);
        return;
    }
    if (w->guarded && conn_guard_admit(sock) < 0) {
        ssize_t n = send(h2o_socket_get_fd(sock), serve_busy_answer, sizeof serve_busy_answer - 1,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)n;
        h2o_socket_close(sock);
        return;
    }
    if (w->guarded) tls_worker_refresh(w);
    h2o_accept(&w->accept_ctx, sock);
}

static void worker_setup(struct serve *s, struct worker *w, h2o_globalconf_t *conf, int fd)
{
    w->serve = s;
    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, conf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = conf->hosts;
    w->listen_fd = fd;
    w->listener = h2o_evloop_socket_create(w->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_timeout_init(w->loop, &w->accept_pause, SERVE_ACCEPT_PAUSE_MS);
    w->accept_resume.cb = accept_resume;
    h2o_socket_read_start(w->listener, on_accept);
}

static void *worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-loop");
    struct worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    /* One round of the loop, then one commit for every hit it gathered. */
    while (!atomic_load(&w->serve->stopping)) {
        h2o_evloop_run(w->loop, SERVE_LOOP_TICK_MS);
        batch_commit(w);
        /* old TLS contexts are freed even when no connection comes (tls.c) */
        if (w->guarded) tls_worker_refresh(w);
        /* The end of a round: nothing from it holds the keyring (reload.c). */
        atomic_fetch_add_explicit(&w->rounds, 1, memory_order_release);
    }
    /* Stop accepting, commit and answer what is in hand, let responses flush and
     * idle keep-alive connections close. */
    if (h2o_timeout_is_linked(&w->accept_resume)) h2o_timeout_unlink(&w->accept_resume);
    h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    w->listener = NULL;
    batch_commit(w);
    h2o_context_request_shutdown(&w->ctx);
    int64_t deadline = homing_mono_us() + SERVE_DRAIN_MS * 1000LL;
    while (homing_mono_us() < deadline) {
        h2o_evloop_run(w->loop, 10);
        batch_commit(w);
    }
    return NULL;
}

/* Copies the write-ahead log back into the database off the request path: the
 * loop threads' handles have automatic checkpoints turned off. */
static void *checkpointer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "homing-ckpt");
    thread_background();
    struct serve *s = arg;
    while (!atomic_load(&s->stopping)) {
        for (int i = 0; i < SERVE_CHECKPOINT_MS / 50 && !atomic_load(&s->stopping); i++)
            usleep(50000);
        if (homing_store_checkpoint(s->checkpoint_store) < 0)
            log_warn("checkpoint: %s", homing_store_errmsg(s->checkpoint_store));
    }
    thread_background_end();
    return NULL;
}

/* What a thread asked of the CPU since it started, in microseconds: the time
 * it ran plus the time it waited on a run queue, from the kernel's
 * /proc/self/task/TID/schedstat. CPU time alone would not see a flood on a
 * machine short of cores: a loop thread the scheduler keeps waiting looks
 * half idle. -1 if the file cannot be read (kernel without schedstats). */
static int64_t thread_demand_us(pid_t tid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    unsigned long long run_ns, wait_ns;
    int n = fgets(buf, sizeof buf, f) ? sscanf(buf, "%llu %llu", &run_ns, &wait_ns) : 0;
    fclose(f);
    return n == 2 ? (int64_t)((run_ns + wait_ns) / 1000) : -1;
}

/* The main thread, until SIGTERM or SIGINT: watches how much CPU the loop
 * threads ask for and switches the background threads between normal and
 * flood mode (thread.h), and reloads on SIGHUP (reload.c). Returns the
 * signal that stops the daemon. */
static int watch_loops(struct serve *s, const sigset_t *stop_signals)
{
    int64_t last[SERVE_THREADS_MAX] = {0};
    int flood = 0;
    int64_t then = homing_mono_us();
    struct timespec tick = {0, SERVE_WATCH_MS * 1000000L};
    for (;;) {
        int sig = sigtimedwait(stop_signals, NULL, &tick);
        if (sig == SIGHUP) {
            serve_reload(s);
            continue;
        }
        if (sig > 0) return sig;
        int64_t now = homing_mono_us(), busiest = 0;
        sdnotify_watchdog(now);
        for (int i = 0; i < s->nthreads; i++) {
            pid_t tid = s->workers[i].tid;
            int64_t d = tid ? thread_demand_us(tid) : -1;
            if (d < 0) continue;
            if (last[i] && d - last[i] > busiest) busiest = d - last[i];
            last[i] = d;
        }
        int64_t pct = now > then ? busiest * 100 / (now - then) : 0;
        then = now;
        if (!flood && pct > SERVE_FLOOD_ON_PCT)
            flood = 1;
        else if (flood && pct < SERVE_FLOOD_OFF_PCT)
            flood = 0;
        thread_set_flood(flood);
        atomic_store(&s->metrics.background_idle, flood);
    }
}

/* The background threads move between nice +10, 0 and SCHED_IDLE (thread.h);
 * after the switch to serve.user only RLIMIT_NICE 20 (or CAP_SYS_NICE) lets
 * them back to 0, and only root can raise the limit: so now, while still root.
 * Returns whether the limit is now 20. A root without CAP_SYS_RESOURCE (some
 * containers) cannot; drop_privileges then keeps CAP_SYS_NICE instead. */
static int allow_renice(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NICE, &rl) < 0) return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 20) rl.rlim_max = 20;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 20) rl.rlim_cur = 20; /* nice down to 0 */
    return setrlimit(RLIMIT_NICE, &rl) == 0;
}

/* After setuid with PR_SET_KEEPCAPS: keeps CAP_SYS_NICE alone, which lets the
 * daemon lower its own threads' nice values, and nothing else. glibc has no
 * wrapper for capset. */
static int keep_cap_sys_nice(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2] = {{0}};
    d[CAP_SYS_NICE / 32].effective = d[CAP_SYS_NICE / 32].permitted = 1u << (CAP_SYS_NICE % 32);
    return (int)syscall(SYS_capset, &h, d);
}

static int drop_privileges(const char *user)
{
    if (geteuid() != 0) return 0;
    if (!user || !*user) {
        log_warn("running as root: serve.user is empty");
        return 0;
    }
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        log_error("serve.user '%s' does not exist: create it (scripts/setup.sh does) or set "
                  "serve.user",
                  user);
        return -ENOENT;
    }
    int keep_nice = !allow_renice() && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) == 0;
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        log_error("cannot switch to user %s: %s", user, strerror(errno));
        return -errno;
    }
    if (keep_nice) {
        if (keep_cap_sys_nice() < 0)
            log_warn("cannot keep CAP_SYS_NICE (%s): background threads stay at nice +10 "
                     "under a flood",
                     strerror(errno));
        prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    }
    return 0;
}

/* Raises the descriptor limit to its hard limit and says when the public
 * connection cap does not fit under it (accepting then pauses at the limit,
 * and the admin listener can run short too). */
static void raise_fd_limit(long long max_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY &&
        (!max_connections || (rlim_t)max_connections + SERVE_FD_RESERVE > rl.rlim_cur))
        log_warn("public.max_connections (%lld, 0: no cap) plus %d for the daemon's own files "
                 "exceeds RLIMIT_NOFILE (%llu): past it, accepting pauses until descriptors "
                 "are free",
                 max_connections, SERVE_FD_RESERVE, (unsigned long long)rl.rlim_cur);
}

static int open_store(struct cli *cli, struct homing_store **out)
{
    char err[512];
    const struct homing_settings *set = homing_config_settings(cli->config);
    int r = homing_store_open(set->store.url, homing_config_base_dir(cli->config), set->store.sync,
                              out, err, sizeof err);
    if (r < 0) log_error("cannot open store: %s", err);
    return r;
}

/* The example pixel is the demo message's (HOMING_ID_DEMO), never a real
 * recipient's: fetching it to try the daemon records no open for anyone. */
static void print_example(struct serve *s)
{
    struct homing_token t = {.kind = HOMING_TOKEN_OPEN, .message = HOMING_ID_DEMO, .recipient = 1};
    char tok[HOMING_TOKEN_LEN + 1];
    if (homing_token_encode(s->keyring, &t, tok) == 0)
        printf("example pixel (a demo: answered, recorded nowhere): %s/o/%s.gif\n", s->base_url,
               tok);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, serve_usage)) return CLI_OK;
    if (cli_config(cli) < 0 || cli_seal(cli) < 0) return CLI_ERROR;
    for (int i = 1; i < argc; i++) {
        const char *opt = NULL;
        if (strcmp(argv[i], "--listen") == 0)
            opt = "public.listen";
        else if (strcmp(argv[i], "--admin-listen") == 0)
            opt = "admin.listen";
        else if (strcmp(argv[i], "--threads") == 0)
            opt = "serve.threads";
        else
            return cli_usage_error("serve", "unknown argument '%s'", argv[i]);
        if (++i >= argc) return cli_usage_error("serve", "%s needs a value", argv[i - 1]);
        char why[256], safe[128];
        if (homing_config_check(opt, argv[i], why, sizeof why) < 0)
            return cli_usage_error("serve", "%s: %s", argv[i - 1],
                                   cli_safe(why, safe, sizeof safe));
        homing_config_set(cli->config, opt, argv[i]);
    }
    log_init("homing", 1);
    log_set_format(strcmp(homing_config_settings(cli->config)->log.format, "json") == 0
                       ? LOG_FORMAT_JSON
                       : LOG_FORMAT_TEXT);
    static struct serve s; /* large; one per process */
    s.config = cli->config;
    /* Every value was checked against its option's range when read; the
     * arrays sized by these limits hold the table's widest value. */
    const struct homing_settings *set = homing_config_settings(s.config);
    s.docs_dir = set->docs.dir;
    long long threads = set->serve.threads, batch_max = set->serve.batch_max,
              cache = set->serve.link_cache, flood_rate = set->serve.flood_rate,
              flood_burst = set->serve.flood_burst, flood_table = set->serve.flood_table,
              max_conns = set->public.max_connections,
              max_conns_client = set->public.max_connections_per_client;
    if (threads > SERVE_THREADS_MAX || flood_table > (long long)FLOOD_TABLE_MAX)
        return cli_fail("serve.threads or serve.flood_table past what this build holds");
    s.nthreads = (int)threads;
    s.base_url = set->public.base_url;
    s.domain_base_urls = set->public.domain_base_urls;
    if (trusted_proxies_parse(set->public.trusted_proxies, &s.proxies) < 0)
        return cli_fail("public.trusted_proxies: not a list of addresses or prefixes");
    struct homing_keyring *keyring = cli_keyring(cli);
    if (!keyring) return CLI_ERROR;
    atomic_store(&s.keyring, keyring);
    cli->keyring = NULL; /* the daemon's now: a reload replaces and frees it */
    if (conn_guard_init(&s, (unsigned)max_conns, (unsigned)max_conns_client) < 0)
        return cli_fail("cannot initialise libsodium");
    raise_fd_limit(max_conns);

    /* Every thread blocks SIGTERM/SIGINT/SIGHUP; the main thread takes them
     * with sigwait, so no handler races with the loops. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Before any thread starts: it unsets the variables it reads. */
    if (sdnotify_init() < 0)
        log_warn("NOTIFY_SOCKET, WATCHDOG_USEC or WATCHDOG_PID malformed: not notifying systemd");

    /* Bind everything first, then open every store handle, then drop root. */
    char err[512];
    if (tls_load(&s, err, sizeof err) < 0) return cli_fail("%s", err);
    int fds[SERVE_THREADS_MAX];
    for (int i = 0; i < s.nthreads; i++) {
        fds[i] = bind_listener(set->public.listen, err, sizeof err);
        /* Name the option to change, not only the address it holds. */
        if (fds[i] < 0) return cli_fail("public.listen (--listen): %s", err);
    }
    int admin_fd = bind_listener(set->admin.listen, err, sizeof err);
    if (admin_fd < 0) return cli_fail("admin.listen (--admin-listen): %s", err);

    for (int i = 0; i < s.nthreads; i++) {
        if (open_store(cli, &s.workers[i].store) < 0) return CLI_ERROR;
        if (homing_store_caps(s.workers[i].store) & HOMING_STORE_CAP_CHECKPOINT)
            homing_store_set_autocheckpoint(s.workers[i].store, 0);
    }
    if (open_store(cli, &s.checkpoint_store) < 0) return CLI_ERROR;
    if (open_store(cli, &s.ingest_store) < 0) return CLI_ERROR;
    if (open_store(cli, &s.admin.store) < 0) return CLI_ERROR;
    document_digests_upgrade(&s, s.admin.store); /* before root is dropped: files of any owner */
    struct homing_store *notify_store;
    if (open_store(cli, &notify_store) < 0 || notifier_init(&s, notify_store) < 0) return CLI_ERROR;
    struct homing_store *enrich_store;
    if (open_store(cli, &enrich_store) < 0 || enricher_init(&s, enrich_store) < 0) return CLI_ERROR;
    static struct privacy_sweeper sweeper; /* truncation and retention (privacy.c) */
    struct homing_store *privacy_store;
    if (open_store(cli, &privacy_store) < 0 ||
        privacy_sweeper_init(&sweeper, s.config, privacy_store, &s.stages_stop) < 0)
        return CLI_ERROR;
    /* Nodes sharing the store: the leader lock's and the listener's handles (leader.c). */
    unsigned caps = homing_store_caps(s.ingest_store);
    struct homing_store *lock_store = NULL, *listen_store = NULL;
    if (((caps & HOMING_STORE_CAP_LEADER) && open_store(cli, &lock_store) < 0) ||
        ((caps & HOMING_STORE_CAP_LISTEN) && open_store(cli, &listen_store) < 0))
        return CLI_ERROR;
    if (drop_privileges(set->serve.user) < 0) return CLI_ERROR;

    /* The journal after the switch of user: its files belong to the daemon's
     * user. Hits a crash left in it reach the store before anything is served. */
    s.sync_full = strcmp(set->store.sync, "full") == 0;
    size_t recovered = 0;
    if (homing_journal_node_check(set->node.id) < 0)
        return cli_fail("node.id = %s: at most %d letters, digits, '-' or '_'", set->node.id,
                        HOMING_JOURNAL_NODE_MAX);
    /* A store other nodes may share needs a name for this node's cursors;
     * SQLite's file has one node, whose cursors keep their old names. */
    if (!set->node.id[0] && strcmp(homing_store_scheme(s.ingest_store), "sqlite") != 0)
        return cli_fail("store.url is a %s store, which several nodes may share: set node.id "
                        "(a name of this node, different on each; docs/operations.md)",
                        homing_store_scheme(s.ingest_store));
    if (homing_journal_open(set->store.journal, set->node.id, (unsigned)s.nthreads, s.sync_full,
                            s.ingest_store, &s.journal, &recovered, err, sizeof err) < 0)
        return cli_fail("%s", err);
    if (recovered) log_info("journal: stored %zu hit(s) left by the previous run", recovered);
    /* Downloads count against their grant when their events are stored. */
    if (document_pending_init(&s) < 0) return cli_fail("out of memory for document downloads");
    homing_journal_set_stored(s.journal, document_stored, &s);

    h2o_config_init(&s.public_conf);
    s.public_conf.server_name = h2o_iovec_init(H2O_STRLIT("homing"));
    s.public_conf.max_request_entity_size = PUBLIC_BODY_MAX;
    /* No h2c: an upgraded request reaches the handler as HTTP/2, past the
     * framing check of its HTTP/1 head (public.c), and h2c through a proxy
     * in front is a known way around it. Nothing here needs HTTP/2 over
     * cleartext. */
    s.public_conf.http1.upgrade_to_http2 = 0;
    public_register(
        &s, h2o_config_register_host(&s.public_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535));
    h2o_config_init(&s.admin_conf);
    s.admin_conf.server_name = h2o_iovec_init(H2O_STRLIT("homing"));
    s.admin_conf.max_request_entity_size = SERVE_REQUEST_BODY_MAX;
    admin_register(
        &s, h2o_config_register_host(&s.admin_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535));

    for (int i = 0; i < s.nthreads; i++) {
        struct worker *w = &s.workers[i];
        w->index = i;
        w->cache_size = (size_t)cache;
        w->cache = calloc(w->cache_size, sizeof *w->cache);
        if (!w->cache || batch_init(w, (size_t)batch_max) < 0 ||
            flood_init(&w->flood, (size_t)flood_table, (double)flood_rate, (double)flood_burst) < 0)
            return cli_fail("out of memory for the link cache, batch and flood table");
        worker_setup(&s, w, &s.public_conf, fds[i]);
        w->guarded = 1;
        tls_worker_attach(w);
    }
    worker_setup(&s, &s.admin, &s.admin_conf, admin_fd);

    printf("homing serve: public listener %s://%s (tracking URLs: %s)\n"
           "homing serve: admin listener  http://%s (/api/v1/, /metrics)\n",
           s.tls_ctx ? "https" : "http", set->public.listen, s.base_url, set->admin.listen);
    print_example(&s);
    fflush(stdout);
    log_info("ready: %d public thread(s), batch_max %lld", s.nthreads, batch_max);

    /* Process-wide for the backend; one handle names it. */
    if (homing_store_caps(s.ingest_store) & HOMING_STORE_CAP_BUSY_HOOK)
        homing_store_set_wait_hook(s.ingest_store, thread_store_waits);
    if (ingester_start(&s) < 0) return cli_fail("cannot start the journal's ingester thread");
    /* Enrichment, notifications, deliveries, privacy: here or on another node;
     * before the listeners, so /metrics says homing_leader 1 from its first
     * answer on a store that is this node's alone. */
    if (leader_start(&s, lock_store, listen_store, &sweeper) < 0)
        log_error("cannot start the leader election: background work does not run");
    for (int i = 0; i < s.nthreads; i++)
        pthread_create(&s.workers[i].thread, NULL, worker_main, &s.workers[i]);
    pthread_create(&s.admin.thread, NULL, worker_main, &s.admin);
    /* A backend without a write-ahead log to copy back gets no such thread. */
    int checkpoints = (homing_store_caps(s.checkpoint_store) & HOMING_STORE_CAP_CHECKPOINT) != 0;
    pthread_t checkpointer;
    if (checkpoints) pthread_create(&checkpointer, NULL, checkpointer_main, &s);

    sdnotify_send("READY=1\nSTATUS=serving");
    int sig = watch_loops(&s, &stop_signals);
    sdnotify_send("STOPPING=1");
    thread_set_flood(0);
    log_info("stopping (%s): answering what is in hand, then storing every journaled hit",
             sig == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&s.stopping, 1);
    for (int i = 0; i < s.nthreads; i++) pthread_join(s.workers[i].thread, NULL);
    pthread_join(s.admin.thread, NULL);
    ingester_stop(&s);
    homing_journal_close(s.journal);
    homing_store_close(s.ingest_store);
    leader_stop(&s);
    notifier_stop(&s);
    enricher_stop(&s);
    if (checkpoints) pthread_join(checkpointer, NULL);
    privacy_sweeper_stop(&sweeper);
    if (checkpoints) homing_store_checkpoint(s.checkpoint_store);
    homing_store_close(s.checkpoint_store);
    for (int i = 0; i < s.nthreads; i++) {
        homing_store_close(s.workers[i].store);
        for (size_t j = 0; j < s.workers[i].cache_size; j++) free(s.workers[i].cache[j].url);
        free(s.workers[i].cache);
        flood_free(&s.workers[i].flood);
        tls_worker_detach(&s.workers[i]);
    }
    tls_free(&s);
    homing_keyring_free(s.keyring);
    homing_store_close(s.admin.store);
    document_pending_free(&s);
    log_info("stopped");
    return CLI_OK;
}
