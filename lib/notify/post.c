/*
 * post.c: one signed webhook POST with libcurl. The daemon's notifier calls it
 * for each due delivery, `homing webhooks test` for a test notification.
 *
 * Contract: see homing/notify.h. Only http(s); no redirects (a receiver that
 * moved must be re-registered, never silently followed); a bounded answer is
 * read and thrown away; the whole transfer is bounded by timeout_ms.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "homing/notify.h"

#define POST_CONNECT_TIMEOUT_MS 5000 /* at most; less when timeout_ms is smaller */
#define POST_HEADER_MAX         160

static int post_failed(char *err, size_t errcap, int r, const char *msg)
{
    if (err && errcap) snprintf(err, errcap, "%s", msg);
    return r;
}

/* The answer's body means nothing to us: count it, keep nothing. */
static size_t post_discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

int homing_notify_post(const char *url, const char *secret, int64_t id, const char *kind,
                       const char *body, size_t len, long timeout_ms, long *status, char *err,
                       size_t errcap)
{
    if (!url || !secret || !kind || (!body && len) || timeout_ms <= 0) return -EINVAL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return post_failed(err, errcap, -EINVAL, "not an http or https URL");
    static int curl_ready; /* curl_global_init is idempotent in 7.84+, cheap to guard */
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return post_failed(err, errcap, -EIO, "cannot initialise libcurl");
        curl_ready = 1;
    }
    char sig[HOMING_NOTIFY_SIG_MAX];
    if (homing_notify_sign(secret, (int64_t)time(NULL), body, len, sig) < 0)
        return post_failed(err, errcap, -EINVAL, "cannot sign");
    CURL *c = curl_easy_init();
    if (!c) return post_failed(err, errcap, -ENOMEM, "out of memory");
    char h1[POST_HEADER_MAX], h2[POST_HEADER_MAX], h3[POST_HEADER_MAX];
    snprintf(h1, sizeof h1, "%s: %s", HOMING_NOTIFY_SIG_HEADER, sig);
    snprintf(h2, sizeof h2, "Homing-Notification-Id: %" PRId64, id);
    snprintf(h3, sizeof h3, "Homing-Event: %s", kind);
    struct curl_slist *hdrs = NULL, *t;
    const char *const lines[] = {"Content-Type: application/json",
                                 h1,
                                 h2,
                                 h3,
                                 "Expect:", /* no 100-continue round trip */
                                 NULL};
    for (size_t i = 0; lines[i]; i++) {
        if (!(t = curl_slist_append(hdrs, lines[i]))) {
            curl_slist_free_all(hdrs);
            curl_easy_cleanup(c);
            return post_failed(err, errcap, -ENOMEM, "out of memory");
        }
        hdrs = t;
    }
    long connect_ms = timeout_ms < POST_CONNECT_TIMEOUT_MS ? timeout_ms : POST_CONNECT_TIMEOUT_MS;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we run in a thread of the daemon */
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "homing-webhook/1");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, post_discard);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (status) *status = code;
    if (rc != CURLE_OK) {
        int r = rc == CURLE_OPERATION_TIMEDOUT     ? -ETIMEDOUT
                : rc == CURLE_COULDNT_CONNECT      ? -ECONNREFUSED
                : rc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH
                                                   : -EIO;
        return post_failed(err, errcap, r, curl_easy_strerror(rc));
    }
    if (code < 200 || code > 299) {
        if (err && errcap) snprintf(err, errcap, "receiver answered %ld", code);
        return -EPROTO;
    }
    if (err && errcap) err[0] = '\0';
    return 0;
}
