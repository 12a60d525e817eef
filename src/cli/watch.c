/*
 * watch.c: `homing watch`: a live terminal feed of notifications, read from the
 * daemon's Server-Sent Events stream (GET /api/v1/stream on the admin
 * listener) with libcurl.
 *
 * One line per notification ("2026-11-22 20:16:10  open  bob@... opened ..."),
 * or with --json the notification object, one per line. When the connection
 * ends or fails it reconnects after WATCH_RECONNECT_MS with Last-Event-ID set
 * to the last id it printed, so nothing is missed or printed twice. The stream
 * is outside input: lib/notify/sse.c parses it within named limits, and every
 * text is sanitised before it reaches the terminal. SIGINT or SIGTERM ends it
 * with status 0; a refused API key ends it with status 2.
 *
 * The API key comes from --key or $HOMING_API_KEY (never from a file the
 * daemon reads: a key is a client's credential); the URL from --url or from
 * admin.listen in the configuration.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli.h"
#include "homing/notify.h"

#define WATCH_RECONNECT_MS 1000
#define WATCH_CONNECT_MS   5000
#define WATCH_URL_MAX      2048
#define WATCH_KEY_MAX      256
#define WATCH_HEADER_MAX   (WATCH_KEY_MAX + 32)

static const char watch_usage[] =
    "usage: homing watch [--key KEY] [--url URL] [--after ID] [--json]\n\n"
    "Prints notifications as they happen (open, new-reader, click, delivered, ...),\n"
    "one line each, from the daemon's /api/v1/stream. Reconnects by itself and\n"
    "resumes after the last notification shown. Stop with Ctrl-C.\n\n"
    "  --key KEY   admin API key (default: $HOMING_API_KEY)\n"
    "  --url URL   the admin listener (default: http:// + admin.listen)\n"
    "  --after ID  start after notification ID (default: only new ones)\n"
    "  --json      one JSON object per notification\n";

static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
    (void)sig;
    watch_stop = 1;
}

struct watch {
    int json;
    int64_t last_id; /* the resume point: Last-Event-ID */
    struct homing_sse *sse;
};

static void print_line(const json_t *j)
{
    json_int_t t = json_integer_value(json_object_get(j, "time_us"));
    const char *kind = json_string_value(json_object_get(j, "kind"));
    const char *text = json_string_value(json_object_get(j, "text"));
    char when[CLI_TIME_SHORT_MAX], k[HOMING_NOTIFY_KIND_MAX], tx[HOMING_NOTIFY_TEXT_MAX];
    cli_time_short((int64_t)t, when);
    /* the text comes escaped (lib/notify/policy.c): escaped again for the
     * terminal, but its backslashes not doubled */
    homing_str_escape(tx, sizeof tx, text ? text : "", text ? strlen(text) : 0,
                      cli_escape_flags() | HOMING_ESCAPE_KEEP_BACKSLASH);
    printf("%s  %-13s %s\n", when, cli_safe(kind, k, sizeof k), tx);
}

static int on_event(const struct homing_sse_event *ev, void *arg)
{
    struct watch *w = arg;
    json_t *j = json_loadb(ev->data, ev->data_len, 0, NULL);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return 0; /* not ours: skip it */
    }
    char *end;
    long long id = strtoll(ev->id, &end, 10);
    if (ev->id[0] && !*end && id > w->last_id) w->last_id = id;
    if (strcmp(ev->event, "ready") == 0) {
        /* Where the stream starts: the resume point, nothing to show. */
        json_decref(j);
        return 0;
    }
    if (w->json) {
        /* Dumped again so every control byte is escaped. */
        homing_json_dumpf(j, stdout, JSON_COMPACT);
        putchar('\n');
    } else {
        print_line(j);
    }
    fflush(stdout);
    json_decref(j);
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct watch *w = arg;
    homing_sse_feed(w->sse, p, size * n); /* an over-long event is dropped, not fatal */
    return size * n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)arg;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return watch_stop ? 1 : 0;
}

/* http://HOST:PORT from admin.listen; a wildcard bind is reached on loopback. */
static int admin_url(struct cli *cli, char *out, size_t cap)
{
    if (cli_config(cli) < 0) return -ENOENT;
    const char *l = homing_config_settings(cli->config)->admin.listen;
    int n;
    if (strncmp(l, "0.0.0.0:", 8) == 0)
        n = snprintf(out, cap, "http://127.0.0.1:%s", l + 8);
    else if (strncmp(l, "[::]:", 5) == 0)
        n = snprintf(out, cap, "http://[::1]:%s", l + 5);
    else
        n = snprintf(out, cap, "http://%s", l);
    return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

static void sleep_ms(long ms)
{
    for (long slept = 0; slept < ms && !watch_stop; slept += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, watch_usage)) return CLI_OK;
    const char *key = getenv("HOMING_API_KEY"), *url_arg = NULL;
    struct watch w = {.last_id = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            w.json = 1;
        } else if (strcmp(a, "--key") == 0 || strcmp(a, "--url") == 0 ||
                   strcmp(a, "--after") == 0) {
            if (++i >= argc) return cli_usage_error("watch", "%s needs a value", a);
            if (a[2] == 'k')
                key = argv[i];
            else if (a[2] == 'u')
                url_arg = argv[i];
            else {
                long long v;
                if (cli_parse_count("watch", "--after", argv[i], 0, INT64_MAX, &v) != 0)
                    return CLI_ERROR;
                w.last_id = v;
            }
        } else {
            return cli_usage_error("watch", "unknown argument '%s'", a);
        }
    }
    if (!key || !*key)
        return cli_usage_error("watch", "no API key: pass --key or set HOMING_API_KEY");
    if (strlen(key) >= WATCH_KEY_MAX || strpbrk(key, "\r\n"))
        return cli_usage_error("watch", "that is not an API key");
    char url[WATCH_URL_MAX], base[WATCH_URL_MAX];
    if (url_arg) {
        snprintf(base, sizeof base, "%s", url_arg);
    } else if (admin_url(cli, base, sizeof base) < 0) {
        return CLI_ERROR;
    }
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') base[--bl] = '\0';
    if (snprintf(url, sizeof url, "%.*s/api/v1/stream", (int)(sizeof url - 16), base) >=
        (int)sizeof url)
        return cli_fail("watch: the admin URL is too long");

    struct sigaction sa = {0};
    sa.sa_handler = on_signal; /* no SA_RESTART: let blocking calls return */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return cli_fail("cannot start libcurl");
    if (homing_sse_new(on_event, &w, &w.sse) < 0) return cli_fail("out of memory");
    CURL *c = curl_easy_init();
    if (!c) {
        homing_sse_free(w.sse);
        return cli_fail("out of memory");
    }
    char auth[WATCH_HEADER_MAX];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    int rc = CLI_OK, warned = 0;
    while (!watch_stop) {
        char resume[64];
        struct curl_slist *h = curl_slist_append(NULL, auth);
        struct curl_slist *h2 = h ? curl_slist_append(h, "Accept: text/event-stream") : NULL;
        if (h2 && w.last_id >= 0) {
            /* -1: no resume point yet; the server then starts with new ones. */
            snprintf(resume, sizeof resume, "Last-Event-ID: %" PRId64, w.last_id);
            h2 = curl_slist_append(h2, resume);
        }
        if (!h2) {
            curl_slist_free_all(h);
            rc = cli_fail("out of memory");
            break;
        }
        homing_sse_reset(w.sse);
        curl_easy_reset(c);
        /* The first connection without --after asks for new ones only; the
         * ready event then gives the resume point for the reconnections. */
        char first[WATCH_URL_MAX + 16];
        snprintf(first, sizeof first, "%s?after=now", url);
        curl_easy_setopt(c, CURLOPT_URL, w.last_id < 0 ? first : url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h2);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)WATCH_CONNECT_MS);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "homing-watch/1");
        CURLcode cr = curl_easy_perform(c);
        curl_slist_free_all(h2);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (watch_stop) break;
        if (status == 401 || status == 403) {
            rc = cli_fail("the daemon refused the API key (HTTP %ld)", status);
            break;
        }
        if (cr != CURLE_OK && !warned) {
            /* Said once: the daemon may be restarting; we keep trying. */
            fprintf(stderr, "homing watch: %s; reconnecting\n", curl_easy_strerror(cr));
            warned = 1;
        } else if (cr == CURLE_OK) {
            warned = 0;
        }
        sleep_ms(WATCH_RECONNECT_MS);
    }
    curl_easy_cleanup(c);
    curl_global_cleanup();
    homing_sse_free(w.sse);
    return rc;
}
