/*
 * post.c: signed webhook POSTs with libcurl, many at once. The daemon's
 * notifier keeps one sender (a curl multi handle) and runs every endpoint's
 * transfers side by side on it, so a receiver that hangs only ever holds its
 * own transfers; `homing webhooks test` sends one with homing_notify_post.
 *
 * Contract: see homing/notify.h. Only http(s); no redirects (a receiver that
 * moved must be re-registered, never silently followed); a bounded answer is
 * read and thrown away; each transfer is bounded by its timeout_ms. With a
 * guard, every socket libcurl opens is checked first (post_open_socket): the
 * address it is about to connect to, after DNS, so a name that resolves (or
 * later re-resolves) to a refused address is refused, and proxies from the
 * environment are not used (a proxy would connect where the guard cannot see).
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

#include "homing/notify.h"

#define POST_CONNECT_TIMEOUT_MS 5000 /* at most; less when timeout_ms is smaller */
#define POST_HEADER_MAX         160
/* Connections one sender keeps open to receivers between transfers. */
#define POST_CONNECTIONS_MAX 64

struct homing_notify_sender {
    CURLM *multi;
    int guarded;
    struct homing_webhook_guard guard;
    size_t active;
    struct post_request *first; /* the transfers running, to abandon them in _free */
};

/* One transfer: the easy handle and what it must outlive. */
struct post_request {
    CURL *easy;
    struct curl_slist *hdrs;
    struct homing_notify_sender *sender; /* set while in the multi handle */
    struct post_request *next, *prev;
    void *tag;
    char refused[HOMING_NOTIFY_ERROR_MAX]; /* why the guard closed the way, "" if it did not */
};

/* The answer's body means nothing to us: count it, keep nothing. */
static size_t post_discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* CURLOPT_OPENSOCKETFUNCTION: libcurl asks us for each socket it connects,
 * with the resolved address; refusing here covers names, rebinding DNS and
 * every address of a happy-eyeballs race alike. */
static curl_socket_t post_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *sa)
{
    struct post_request *q = arg;
    (void)purpose;
    struct homing_addr a = {0};
    uint16_t port = 0;
    if (sa->family == AF_INET && sa->addrlen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&sa->addr;
        a.family = 4;
        memcpy(a.bytes, &in->sin_addr, 4);
        port = ntohs(in->sin_port);
    } else if (sa->family == AF_INET6 && sa->addrlen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa->addr;
        a.family = 6;
        memcpy(a.bytes, &in6->sin6_addr, 16);
        port = ntohs(in6->sin6_port);
    } else {
        snprintf(q->refused, sizeof q->refused, "webhook address of an unknown family");
        return CURL_SOCKET_BAD;
    }
    if (homing_webhook_addr_check(&q->sender->guard, &a, port, q->refused, sizeof q->refused) < 0)
        return CURL_SOCKET_BAD;
    q->refused[0] = '\0';
    return socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
}

static int post_curl_ready(void)
{
    static int ready; /* curl_global_init is idempotent in 7.84+, cheap to guard */
    if (!ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -EIO;
        ready = 1;
    }
    return 0;
}

int homing_notify_sender_new(const struct homing_webhook_guard *g,
                             struct homing_notify_sender **out)
{
    if (!out) return -EINVAL;
    if (post_curl_ready() < 0) return -EIO;
    struct homing_notify_sender *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    if (!(s->multi = curl_multi_init())) {
        free(s);
        return -ENOMEM;
    }
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)POST_CONNECTIONS_MAX);
    if (g) {
        s->guarded = 1;
        s->guard = *g;
    }
    *out = s;
    return 0;
}

static void post_request_free(struct post_request *q)
{
    if (!q) return;
    if (q->sender) {
        struct homing_notify_sender *s = q->sender;
        curl_multi_remove_handle(s->multi, q->easy);
        if (q->prev)
            q->prev->next = q->next;
        else
            s->first = q->next;
        if (q->next) q->next->prev = q->prev;
        s->active--;
    }
    if (q->easy) curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->hdrs);
    free(q);
}

void homing_notify_sender_free(struct homing_notify_sender *s)
{
    if (!s) return;
    /* Transfers still running are abandoned: their deliveries stay pending. */
    while (s->first) post_request_free(s->first);
    curl_multi_cleanup(s->multi);
    free(s);
}

int homing_notify_sender_start(struct homing_notify_sender *s, const char *url, const char *secret,
                               int64_t id, const char *kind, const char *body, size_t len,
                               long timeout_ms, void *tag)
{
    if (!s || !url || !secret || !kind || (!body && len) || timeout_ms <= 0) return -EINVAL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) return -EINVAL;
    char sig[HOMING_NOTIFY_SIG_MAX];
    if (homing_notify_sign(secret, (int64_t)time(NULL), body, len, sig) < 0) return -EINVAL;
    struct post_request *q = calloc(1, sizeof *q);
    if (!q) return -ENOMEM;
    q->tag = tag;
    if (!(q->easy = curl_easy_init())) {
        free(q);
        return -ENOMEM;
    }
    char h1[POST_HEADER_MAX], h2[POST_HEADER_MAX], h3[POST_HEADER_MAX];
    snprintf(h1, sizeof h1, "%s: %s", HOMING_NOTIFY_SIG_HEADER, sig);
    snprintf(h2, sizeof h2, "Homing-Notification-Id: %" PRId64, id);
    snprintf(h3, sizeof h3, "Homing-Event: %s", kind);
    const char *const lines[] = {"Content-Type: application/json",
                                 h1,
                                 h2,
                                 h3,
                                 "Expect:", /* no 100-continue round trip */
                                 NULL};
    for (size_t i = 0; lines[i]; i++) {
        struct curl_slist *t = curl_slist_append(q->hdrs, lines[i]);
        if (!t) {
            post_request_free(q);
            return -ENOMEM;
        }
        q->hdrs = t;
    }
    CURL *c = q->easy;
    long connect_ms = timeout_ms < POST_CONNECT_TIMEOUT_MS ? timeout_ms : POST_CONNECT_TIMEOUT_MS;
    curl_easy_setopt(c, CURLOPT_PRIVATE, q);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we run in a thread of the daemon */
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    /* A copy: the caller may free body as soon as this returns. */
    if (curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body ? body : "") != CURLE_OK) {
        post_request_free(q);
        return -ENOMEM;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "homing-webhook/1");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, post_discard);
    if (s->guarded) {
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, post_open_socket);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, q);
        curl_easy_setopt(c, CURLOPT_PROXY, ""); /* direct: the guard sees the real peer */
    }
    if (curl_multi_add_handle(s->multi, c) != CURLM_OK) {
        post_request_free(q);
        return -ENOMEM;
    }
    q->sender = s;
    q->next = s->first;
    if (s->first) s->first->prev = q;
    s->first = q;
    s->active++;
    return 0;
}

size_t homing_notify_sender_active(const struct homing_notify_sender *s)
{
    return s ? s->active : 0;
}

int homing_notify_sender_run(struct homing_notify_sender *s, int wait_ms)
{
    if (!s) return -EINVAL;
    int running;
    if (curl_multi_perform(s->multi, &running) != CURLM_OK) return -EIO;
    if (curl_multi_poll(s->multi, NULL, 0, wait_ms < 0 ? 0 : wait_ms, NULL) != CURLM_OK)
        return -EIO;
    if (curl_multi_perform(s->multi, &running) != CURLM_OK) return -EIO;
    return 0;
}

int homing_notify_sender_done(struct homing_notify_sender *s, struct homing_notify_result *out)
{
    if (!s || !out) return -EINVAL;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(s->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        struct post_request *q = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        if (!q) continue;
        CURLcode rc = m->data.result;
        long code = 0;
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
        struct homing_notify_result r = {.tag = q->tag, .status = code};
        if (rc != CURLE_OK && q->refused[0]) {
            r.r = -EPERM;
            snprintf(r.err, sizeof r.err, "%s", q->refused);
        } else if (rc != CURLE_OK) {
            r.r = rc == CURLE_OPERATION_TIMEDOUT     ? -ETIMEDOUT
                  : rc == CURLE_COULDNT_CONNECT      ? -ECONNREFUSED
                  : rc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH
                                                     : -EIO;
            snprintf(r.err, sizeof r.err, "%s", curl_easy_strerror(rc));
        } else if (code < 200 || code > 299) {
            r.r = -EPROTO;
            snprintf(r.err, sizeof r.err, "receiver answered %ld", code);
        }
        post_request_free(q);
        *out = r;
        return 1;
    }
    return 0;
}

int homing_notify_post(const struct homing_webhook_guard *g, const char *url, const char *secret,
                       int64_t id, const char *kind, const char *body, size_t len, long timeout_ms,
                       long *status, char *err, size_t errcap)
{
    if (!url || !secret || !kind || (!body && len) || timeout_ms <= 0) return -EINVAL;
    struct homing_notify_sender *s;
    int r = homing_notify_sender_new(g, &s);
    if (r < 0) {
        if (err && errcap) snprintf(err, errcap, "cannot initialise libcurl");
        return r;
    }
    r = homing_notify_sender_start(s, url, secret, id, kind, body, len, timeout_ms, NULL);
    if (r < 0) {
        homing_notify_sender_free(s);
        if (err && errcap)
            snprintf(err, errcap, "%s",
                     r == -ENOMEM ? "out of memory" : "not an http or https URL");
        return r;
    }
    struct homing_notify_result res;
    while ((r = homing_notify_sender_done(s, &res)) == 0)
        if ((r = homing_notify_sender_run(s, 1000)) < 0) break;
    homing_notify_sender_free(s);
    if (r < 0) {
        if (err && errcap) snprintf(err, errcap, "libcurl failed");
        return r;
    }
    if (status) *status = res.status;
    if (err && errcap) snprintf(err, errcap, "%s", res.err);
    return res.r;
}
