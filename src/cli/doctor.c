/*
 * doctor.c: `homing doctor`, a check of a setup before (or while) it runs.
 *
 * Each check prints one line: "ok", "warn" (works, but look at it) or "FAIL"
 * (the daemon will not work as configured), and a FAIL line says what to do.
 * Exit 0 when nothing failed, 1 when something did (warnings do not count), 2
 * when the configuration itself does not load. The doctor changes nothing: it
 * does not create or migrate the store (homing_store_inspect opens it read
 * only) and sends no traffic beyond loopback and the system resolver (a name
 * under .invalid is answered at once, RFC 6761, without a query).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "serve.h"
#include "homing/journal.h"

#define DOCTOR_CERT_WARN_DAYS 14   /* a certificate this close to its end is a warning */
#define DOCTOR_CLOCK_SKEW_S   300  /* the store written this far in the future: clock went back */
#define DOCTOR_PROBE_MS       1000 /* an HTTP probe of a port in use */
#define DOCTOR_YEAR_MIN       2024 /* a clock before this is not set */
#define DOCTOR_HOST_MAX       256

static const char doctor_usage[] =
    "usage: homing doctor\n\n"
    "Checks this instance's setup and says what to fix: the listeners' ports (free,\n"
    "or held by this homing), the key file (mode, loads), the store (there, schema\n"
    "up to date; on a store nodes may share, node.id), the clock, DNS of public.base_url's host "
    "and of each sending\n"
    "domain's (public.domain_base_urls), serve.user, and with TLS\n"
    "the certificate (expiry, matching key, names base_url's host, key file mode).\n"
    "Changes nothing. Exit 0: all good (warnings allowed); 1: a check failed.\n";

struct doctor {
    int failed, warned;
};

static void say(struct doctor *d, int level, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* level: 0 ok, 1 warn, 2 FAIL */
static void say(struct doctor *d, int level, const char *what, const char *fmt, ...)
{
    static const char *tag[] = {"ok  ", "warn", "FAIL"};
    char msg[1024], safe[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("%s  %s: %s\n", tag[level], what, cli_safe(msg, safe, sizeof safe));
    if (level == 2) d->failed++;
    if (level == 1) d->warned++;
}

/* "host:port" or "[v6]:port" into host and port. */
static int split_hostport(const char *spec, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') return -EINVAL;
        snprintf(host, hcap, "%.*s", (int)(close - spec - 1), spec + 1);
        colon = close + 1;
    } else {
        if (!(colon = strrchr(spec, ':'))) return -EINVAL;
        snprintf(host, hcap, "%.*s", (int)(colon - spec), spec);
    }
    snprintf(port, pcap, "%s", colon + 1);
    return *port ? 0 : -EINVAL;
}

/* Whether addr:port can be bound now: 0, or the errno of bind. */
static int try_bind(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0) return EINVAL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, e = 0;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        e = errno;
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return e;
}

/* Whether a homing daemon answers /metrics on the admin listener spec. */
static int admin_is_homing(const char *spec)
{
    char host[DOCTOR_HOST_MAX], port[16];
    if (split_hostport(spec, host, sizeof host, port, sizeof port) < 0) return 0;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai;
    if (getaddrinfo(host[0] && strcmp(host, "0.0.0.0") ? host : "127.0.0.1", port, &hints, &ai))
        return 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), yes = 0;
    struct timeval tv = {0, DOCTOR_PROBE_MS * 1000};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
    char buf[8192];
    size_t got = 0;
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1)) {
        ssize_t n;
        while (got < sizeof buf - 1 && (n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0)
            got += (size_t)n;
        buf[got] = '\0';
        yes = strstr(buf, "\nhoming_hits_total") != NULL;
    }
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return yes;
}

static void check_port(struct doctor *d, struct cli *cli, const char *opt)
{
    const char *spec = homing_config_get(cli->config, opt);
    char host[DOCTOR_HOST_MAX], port[16];
    if (split_hostport(spec, host, sizeof host, port, sizeof port) < 0) {
        say(d, 2, opt, "'%s' is not HOST:PORT or [V6]:PORT", spec);
        return;
    }
    int e = try_bind(host, port);
    if (e == 0)
        say(d, 0, opt, "%s is free", spec);
    else if (e == EADDRINUSE && admin_is_homing(homing_config_settings(cli->config)->admin.listen))
        say(d, 0, opt, "%s is in use by this homing (its admin listener answers)", spec);
    else if (e == EADDRINUSE)
        say(d, 2, opt, "%s is in use by another program: stop it or choose another port (ss -ltnp)",
            spec);
    else if (e == EACCES)
        say(d, 2, opt,
            "%s: port below 1024 needs root or CAP_NET_BIND_SERVICE "
            "(AmbientCapabilities= in the unit)",
            spec);
    else if (e == EADDRNOTAVAIL)
        say(d, 2, opt, "%s: no interface has that address", spec);
    else
        say(d, 2, opt, "%s: %s", spec, strerror(e));
}

/* A private file: no access for others (and for the group when strict). */
static void check_private_file(struct doctor *d, const char *opt, const char *path, int strict,
                               uid_t want_uid)
{
    struct stat sb;
    if (stat(path, &sb) < 0) {
        say(d, 2, opt, "%s: %s", path, strerror(errno));
        return;
    }
    mode_t bad = strict ? 077 : 007;
    if (sb.st_mode & bad)
        say(d, 2, opt, "%s has mode %04o: readable by %s; fix: chmod %s %s", path,
            (unsigned)(sb.st_mode & 07777), strict ? "group or others" : "others",
            strict ? "600" : "640", path);
    else if (want_uid != (uid_t)-1 && sb.st_uid != want_uid && !(sb.st_mode & 040))
        say(d, 1, opt,
            "%s belongs to uid %u, not serve.user: a reload (SIGHUP) after the daemon left "
            "root cannot read it; fix: chown the file to serve.user",
            path, (unsigned)sb.st_uid);
    else
        say(d, 0, opt, "%s mode %04o", path, (unsigned)(sb.st_mode & 07777));
}

static void check_store(struct doctor *d, struct cli *cli)
{
    int version, latest;
    char err[512];
    int r = homing_store_inspect(homing_config_settings(cli->config)->store.url,
                                 homing_config_base_dir(cli->config), &version, &latest, err,
                                 sizeof err);
    if (r == -ENOENT)
        say(d, 2, "store.url", "%s: fix: run 'homing init' for this configuration", err);
    else if (r < 0)
        say(d, 2, "store.url", "%s", err);
    else if (version < latest && strstr(homing_config_settings(cli->config)->store.url, "://"))
        /* a shared store: a node's login may not apply migrations */
        say(d, 2, "store.url",
            "schema version %d, this homing needs %d: fix: back the database up, then run "
            "'homing init --store URL' with a URL of the store's owner or an admin (it "
            "migrates)",
            version, latest);
    else if (version < latest)
        say(d, 2, "store.url",
            "schema version %d, this homing needs %d: fix: stop the daemon, back up (homing "
            "backup), then run any homing command (it migrates)",
            version, latest);
    else if (version > latest)
        say(d, 2, "store.url", "schema version %d is newer than this homing (%d): upgrade homing",
            version, latest);
    else
        say(d, 0, "store.url", "reachable, schema version %d (current)", version);
}

/* A store other nodes may share (any scheme:// store; SQLite's is one file of
 * one node) needs this node's name: homing serve refuses to start without. */
static void check_node(struct doctor *d, struct cli *cli)
{
    const struct homing_settings *set = homing_config_settings(cli->config);
    if (!strstr(set->store.url, "://") || strncmp(set->store.url, "sqlite:", 7) == 0) return;
    if (!set->node.id[0])
        say(d, 2, "node.id",
            "empty, and store.url may be shared by several nodes: homing serve refuses to "
            "start; fix: set node.id to a name of this node, different on each");
    else if (homing_journal_node_check(set->node.id) < 0)
        say(d, 2, "node.id", "%s: at most %d letters, digits, '-' or '_'", set->node.id,
            HOMING_JOURNAL_NODE_MAX);
    else
        say(d, 0, "node.id", "%s (its journal positions: journal.%s.N)", set->node.id,
            set->node.id);
}

static void check_clock(struct doctor *d, struct cli *cli)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (tm.tm_year + 1900 < DOCTOR_YEAR_MIN) {
        say(d, 2, "clock", "the system clock says %d: set it (timedatectl set-ntp true)",
            tm.tm_year + 1900);
        return;
    }
    /* A store written in the future: the clock went back since. */
    const char *url = homing_config_settings(cli->config)->store.url;
    if (strncmp(url, "sqlite:", 7) == 0) {
        char path[4096];
        const char *p = url + 7;
        snprintf(path, sizeof path, "%s%s%s",
                 p[0] == '/' ? "" : homing_config_base_dir(cli->config), p[0] == '/' ? "" : "/", p);
        struct stat sb;
        if (stat(path, &sb) == 0 && sb.st_mtime > now + DOCTOR_CLOCK_SKEW_S) {
            say(d, 2, "clock",
                "the store was written %lld s in the future: the clock went back; fix it "
                "(timedatectl) before serving, event times would go backwards",
                (long long)(sb.st_mtime - now));
            return;
        }
    }
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state == TIME_ERROR || (tx.status & STA_UNSYNC))
        say(d, 1, "clock",
            "not synchronised (NTP): event times may drift; timedatectl set-ntp true");
    else
        say(d, 0, "clock", "synchronised");
}

/* The host of public.base_url into host; 0, or -EINVAL. */
static int base_url_host(const char *url, char *host, size_t cap, int *https)
{
    *https = strncmp(url, "https://", 8) == 0;
    if (!*https && strncmp(url, "http://", 7) != 0) return -EINVAL;
    const char *h = url + (*https ? 8 : 7);
    size_t n;
    if (*h == '[') {
        const char *close = strchr(h, ']');
        if (!close) return -EINVAL;
        h++;
        n = (size_t)(close - h);
    } else {
        n = strcspn(h, ":/?#");
    }
    if (!n || n >= cap) return -EINVAL;
    memcpy(host, h, n);
    host[n] = '\0';
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* DNS of one tracking host: option names the setting it came from. */
static void check_dns(struct doctor *d, const char *option, const char *host)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        say(d, 0, option, "%s is an address: no DNS needed", host);
        return;
    }
    /* RFC 6761 6.4: a name under .invalid never resolves; answered without a query. */
    if (ends_with(host, ".invalid") || strcasecmp(host, "invalid") == 0) {
        say(d, 2, option,
            "%s is under .invalid (RFC 6761): it never resolves; set the name recipients reach",
            host);
        return;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int e = getaddrinfo(host, NULL, &hints, &ai);
    if (e) {
        say(d, 2, option,
            "%s does not resolve (%s): recipients cannot load the pixel; add its A/AAAA record",
            host, gai_strerror(e));
        return;
    }
    char first[INET6_ADDRSTRLEN] = "?";
    getnameinfo(ai->ai_addr, ai->ai_addrlen, first, sizeof first, NULL, 0, NI_NUMERICHOST);
    freeaddrinfo(ai);
    say(d, 0, option, "%s resolves (%s)", host, first);
}

/* The tracking host of each sending domain (public.domain_base_urls) resolves. */
static void check_domain_hosts(struct doctor *d, const char *map)
{
    const char *p = map;
    char dom[HOMING_DOMAIN_NAME_MAX + 1], url[HOMING_DOMAIN_URL_MAX + 1], host[DOCTOR_HOST_MAX];
    int r, https;
    while ((r = homing_domain_urls_next(&p, dom, sizeof dom, url, sizeof url)) == 1) {
        if (base_url_host(url, host, sizeof host, &https) < 0)
            say(d, 2, "public.domain_base_urls", "%s: '%s' is not a URL with a host", dom, url);
        else
            check_dns(d, "public.domain_base_urls", host);
    }
    if (r < 0) say(d, 2, "public.domain_base_urls", "not a list of DOMAIN=URL");
}

static void check_tls(struct doctor *d, struct cli *cli, const char *host, int https,
                      uid_t daemon_uid)
{
    const char *cert = homing_config_settings(cli->config)->public.tls_cert;
    const char *key = homing_config_settings(cli->config)->public.tls_key;
    if (!*cert && !*key) {
        if (https)
            say(d, 1, "public.tls_cert",
                "public.base_url is https but the listener is cleartext: fine behind a TLS "
                "proxy, else set public.tls_cert and public.tls_key");
        else
            say(d, 0, "public.tls_cert", "not set: the public listener speaks plain HTTP");
        return;
    }
    if (!*cert || !*key) {
        say(d, 2, "public.tls_cert", "public.tls_cert and public.tls_key go together: set both");
        return;
    }
    if (!https)
        say(d, 1, "public.base_url", "the listener speaks TLS but base_url is http://: use https");
    FILE *f = fopen(cert, "re");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f) fclose(f);
    if (!x) {
        say(d, 2, "public.tls_cert", "%s: not a PEM certificate%s%s", cert, f ? "" : ": ",
            f ? "" : strerror(errno));
        return;
    }
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
    if (days < 0 || (days == 0 && secs <= 0))
        say(d, 2, "public.tls_cert",
            "%s expired %d day(s) ago: renew it, then kill -HUP the daemon", cert, -days);
    else if (days < DOCTOR_CERT_WARN_DAYS)
        say(d, 1, "public.tls_cert", "%s expires in %d day(s): renew it (certbot renew)", cert,
            days);
    else
        say(d, 0, "public.tls_cert", "%s valid for %d more day(s)", cert, days);
    unsigned char addr[16];
    int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    int match = is_ip ? X509_check_ip_asc(x, host, 0) : X509_check_host(x, host, 0, 0, NULL);
    if (match != 1)
        say(d, 1, "public.tls_cert", "%s does not name %s (public.base_url's host)", cert, host);
    X509_free(x);
    char err[512];
    SSL_CTX *ctx;
    if (tls_context_new(cert, key, &ctx, err, sizeof err) < 0) {
        say(d, 2, "public.tls_key", "%s", err);
    } else {
        SSL_CTX_free(ctx);
        say(d, 0, "public.tls_key", "matches the certificate");
    }
    check_private_file(d, "public.tls_key", key, 0, daemon_uid);
}

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, doctor_usage)) return CLI_OK;
    if (argc > 1) return cli_usage_error("doctor", "no arguments");
    if (cli_config(cli) < 0) return CLI_ERROR;
    struct doctor d = {0, 0};
    say(&d, 0, "config", "%s loads", cli->config_path);
    uid_t daemon_uid = (uid_t)-1;
    const char *user = homing_config_settings(cli->config)->serve.user;
    if (geteuid() == 0) {
        struct passwd *pw = *user ? getpwnam(user) : NULL;
        if (!*user)
            say(&d, 1, "serve.user", "empty: the daemon would keep running as root");
        else if (!pw)
            say(&d, 2, "serve.user", "user '%s' does not exist: useradd --system %s", user, user);
        else
            say(&d, 0, "serve.user", "%s (uid %u)", user, (unsigned)(daemon_uid = pw->pw_uid));
    }
    check_port(&d, cli, "public.listen");
    check_port(&d, cli, "admin.listen");
    const char *keys = homing_config_settings(cli->config)->keys.file;
    check_private_file(&d, "keys.file", keys, 1, daemon_uid);
    char err[512];
    struct homing_keyring *kr;
    int r = homing_keyring_load(keys, &kr, err, sizeof err);
    if (r == 0) {
        say(&d, 0, "keys.file", "%zu key(s) load", homing_keyring_count(kr));
        homing_keyring_free(kr);
    } else if (r != -ENOENT && r != -EPERM) {
        say(&d, 2, "keys.file", "%s", err);
    }
    const char *data_key = homing_config_settings(cli->config)->keys.data;
    if (access(data_key, F_OK) == 0)
        check_private_file(&d, "keys.data", data_key, 1, daemon_uid);
    else
        say(&d, 1, "keys.data",
            "%s is missing: the next start makes a new one, and a store sealed with the old "
            "one then refuses it; restore the backup of data.key if you have one",
            data_key);
    check_store(&d, cli);
    check_node(&d, cli);
    check_clock(&d, cli);
    char host[DOCTOR_HOST_MAX];
    int https = 0;
    if (base_url_host(homing_config_settings(cli->config)->public.base_url, host, sizeof host,
                      &https) < 0) {
        say(&d, 2, "public.base_url", "'%s' is not an http:// or https:// URL with a host",
            homing_config_settings(cli->config)->public.base_url);
    } else {
        check_dns(&d, "public.base_url", host);
        check_tls(&d, cli, host, https, daemon_uid);
    }
    check_domain_hosts(&d, homing_config_settings(cli->config)->public.domain_base_urls);
    printf("%d problem(s), %d warning(s)\n", d.failed, d.warned);
    return d.failed ? CLI_NEGATIVE : CLI_OK;
}
