/*
 * relay.c: `homing relay`: an SMTP server for mail clients (submission mode:
 * STARTTLS, AUTH PLAIN/LOGIN against `homing relay-users`) or for Postfix
 * (filter mode: content_filter, re-injection to the smarthost), which splits
 * each message by envelope recipient, tracks each copy as `homing track`
 * does (lib/track, lib/service: one registration per message, one copy per
 * recipient with that recipient's tokens, Bcc removed from every copy), and
 * hands the copies to the smarthost (lib/delivery/send.c) with DSN (NOTIFY,
 * ORCPT, ENVID) and VERP (send.verp) before it answers the client's DATA.
 *
 * Contract (docs/relay.md): no queue of our own. DATA gets 250 only once the
 * smarthost accepted every copy; 451 when the store or the smarthost is not
 * available or deferred a copy (the client retries; the retry finds the
 * message by the Message-ID the relay derived from the envelope and the
 * bytes, and sends only the copies not yet accepted: nothing is registered
 * or sent twice); 554 when the smarthost refused every copy. A mix of
 * accepted and permanently refused copies gets 250 with the refusals named
 * in the reply text and recorded as `rejected` events (one DATA reply cannot
 * say more). Parsing is lib/relay/smtp.c. One thread per connection, at most
 * relay.max_connections; the store handle is shared under one lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <auth-client.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "cli.h"
#include "homing/delivery.h"
#include "homing/dkim.h"
#include "homing/relay.h"
#include "homing/service.h"
#include "homing/track.h"
#include "homing/util.h"
#include "log.h"

#define RELAY_ERRORS_MAX 10 /* bad commands before the relay hangs up (421) */
#define RELAY_READ_BUF   16384
#define RELAY_REPLY_MAX  1024 /* one reply line */
#define RELAY_DRAIN_S    30   /* seconds SIGTERM waits for open sessions */
/* argon2id verifications at once: each takes crypto_pwhash_MEMLIMIT_INTERACTIVE
 * (64 MiB) for about 0.1 s, so AUTH from every connection at once must not
 * multiply that by relay.max_connections */
#define RELAY_AUTH_PARALLEL_MAX 2
/* copies rendered and held at once per message (one SMTP session each) */
#define RELAY_BATCH_MAX 10
#define RELAY_TLS_CIPHERS                                                                          \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static const char relay_usage[] =
    "usage: homing relay [--listen ADDR:PORT] [--smarthost HOST:PORT] [--mode MODE]\n\n"
    "An SMTP server that tracks every message it is given, one copy per envelope\n"
    "recipient (Bcc recipients get their own copy; no copy carries a Bcc header),\n"
    "and hands each copy to the smarthost with DSN and VERP before it answers the\n"
    "client. Runs in the foreground until SIGTERM or SIGINT. See docs/relay.md.\n\n"
    "  --listen ADDR:PORT     listen here instead of relay.listen (127.0.0.1:2525)\n"
    "  --smarthost HOST:PORT  hand copies to this MTA instead of relay.smarthost\n"
    "  --mode MODE            submission (mail clients: STARTTLS, AUTH against\n"
    "                         'homing relay-users') or filter (Postfix content_filter)\n\n"
    "Replies to DATA: 250 once the smarthost accepted every copy; 451 when the\n"
    "store or the smarthost is unavailable (a retry sends only what was not\n"
    "accepted); 554 when the smarthost refused every recipient.\n";

struct relay_rcpt {
    char addr[HOMING_SMTP_PATH_MAX + 1];
    unsigned notify;
};

struct relay {
    const struct homing_settings *set;
    struct homing_store *store;
    pthread_mutex_t store_lock;
    const struct homing_keyring *keys;
    SSL_CTX *tls;
    int filter;
    int send_tls;
    char hostname[256];
    atomic_int active;
    /* counters for relay.stats_file */
    atomic_llong messages, copies, refused, tempfail, latency_us, latency_n, signed_copies,
        untracked;
    pthread_mutex_t stats_lock;
    /* the open sessions' sockets, so that a stop can end sessions waiting
     * for their client (relay.max_connections entries, under conns_lock) */
    pthread_mutex_t conns_lock;
    int *conns;
    sem_t auth_slots; /* RELAY_AUTH_PARALLEL_MAX */
    /* verified against when the user does not exist, so that an unknown
     * name takes as long as a wrong password (no user enumeration) */
    char dummy_hash[crypto_pwhash_STRBYTES];
};

struct conn {
    struct relay *r;
    int fd;
    SSL *ssl;
    int loopback;
    char peer[64];
    char in[RELAY_READ_BUF];
    size_t ilen, ipos;
    int helo, authed, errors;
    char helo_name[HOMING_SMTP_PATH_MAX + 1];
    char user[HOMING_RELAY_USER_MAX];
    int has_from;
    char from[HOMING_SMTP_PATH_MAX + 1];
    char envid[HOMING_SMTP_ENVID_MAX + 1];
    struct relay_rcpt *rcpts;
    size_t n_rcpt;
};

/* set by SIGTERM/SIGINT; read by every session (lock-free, so signal-safe) */
static atomic_int relay_stop;

static void relay_on_signal(int sig)
{
    (void)sig;
    atomic_store(&relay_stop, 1);
}

/* ---- I/O ---- */

static int conn_write(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int conn_write(struct conn *c, const char *fmt, ...)
{
    char buf[RELAY_REPLY_MAX + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n < 0) return -EIO;
    if ((size_t)n > sizeof buf - 3) n = (int)sizeof buf - 3;
    buf[n++] = '\r';
    buf[n++] = '\n';
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, buf + off, (int)((size_t)n - off))
                           : send(c->fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);
        if (w <= 0) {
            if (!c->ssl && w < 0 && errno == EINTR) continue;
            return -EIO;
        }
        off += (size_t)w;
    }
    return 0;
}

/* More bytes into the read buffer: > 0, or 0 at the end, < 0 on error. */
static ssize_t conn_fill(struct conn *c)
{
    if (c->ipos == c->ilen) c->ipos = c->ilen = 0;
    if (c->ipos > 0 && c->ilen == sizeof c->in) {
        memmove(c->in, c->in + c->ipos, c->ilen - c->ipos);
        c->ilen -= c->ipos;
        c->ipos = 0;
    }
    for (;;) {
        ssize_t n = c->ssl ? SSL_read(c->ssl, c->in + c->ilen, (int)(sizeof c->in - c->ilen))
                           : recv(c->fd, c->in + c->ilen, sizeof c->in - c->ilen, 0);
        if (n < 0 && !c->ssl && errno == EINTR && !atomic_load(&relay_stop)) continue;
        if (n > 0) c->ilen += (size_t)n;
        return n;
    }
}

/* One command line without its line end into line (cap bytes with NUL).
 * 1: a line; 0: too long (read up to its end and dropped); < 0: the
 * connection ended. */
static int conn_line(struct conn *c, char *line, size_t cap, size_t *len)
{
    size_t k = 0;
    int over = 0;
    for (;;) {
        while (c->ipos < c->ilen) {
            char ch = c->in[c->ipos++];
            if (ch == '\n') {
                if (k && line[k - 1] == '\r') k--;
                line[k] = '\0';
                *len = k;
                return over ? 0 : 1;
            }
            if (k + 1 < cap)
                line[k++] = ch;
            else
                over = 1;
        }
        if (conn_fill(c) <= 0) return -EIO;
    }
}

/* ---- the transaction ---- */

static void conn_reset(struct conn *c)
{
    c->has_from = 0;
    c->from[0] = c->envid[0] = '\0';
    c->n_rcpt = 0;
}

static void relay_stats_write(struct relay *r)
{
    const char *path = r->set->relay.stats_file;
    if (!path || !*path) return;
    pthread_mutex_lock(&r->stats_lock);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f,
                "# TYPE homing_relay_messages_total counter\nhoming_relay_messages_total %lld\n"
                "# TYPE homing_relay_copies_total counter\nhoming_relay_copies_total %lld\n"
                "# TYPE homing_relay_refused_total counter\nhoming_relay_refused_total %lld\n"
                "# TYPE homing_relay_tempfail_total counter\nhoming_relay_tempfail_total %lld\n"
                "# TYPE homing_relay_dkim_signed_total counter\nhoming_relay_dkim_signed_total "
                "%lld\n"
                "# TYPE homing_relay_untracked_total counter\nhoming_relay_untracked_total %lld\n"
                "# TYPE homing_relay_upstream_seconds summary\n"
                "homing_relay_upstream_seconds_sum %.6f\nhoming_relay_upstream_seconds_count "
                "%lld\n",
                (long long)r->messages, (long long)r->copies, (long long)r->refused,
                (long long)r->tempfail, (long long)r->signed_copies, (long long)r->untracked,
                (double)r->latency_us / 1e6, (long long)r->latency_n);
        if (fclose(f) != 0 || rename(tmp, path) < 0) log_warn("relay: cannot write %s", path);
    }
    pthread_mutex_unlock(&r->stats_lock);
}

/* Signs a finished copy (DKIM, after tracking: the signature covers the copy
 * as it leaves) with the key of its From domain (homing/dkim.h); a copy whose
 * domain has no key, or whose From names no single domain, goes unsigned.
 * copy holds the whole message; on success it holds the signed message. */
static int relay_dkim_sign_copy(struct relay *r, struct homing_buf *copy)
{
    char *hdr = NULL;
    int e = homing_dkim_sign(r->set, copy->data, copy->len, &hdr);
    if (e == -ENOENT || e == -EBADMSG) return 0;
    if (e < 0) return e;
    struct homing_buf signed_copy;
    homing_buf_init(&signed_copy, copy->max);
    e = homing_buf_puts(&signed_copy, hdr);
    if (e == 0) e = homing_buf_append(&signed_copy, copy->data, copy->len);
    free(hdr);
    if (e < 0) {
        homing_buf_free(&signed_copy);
        return e;
    }
    homing_buf_free(copy);
    *copy = signed_copy;
    atomic_fetch_add(&r->signed_copies, 1);
    return 0;
}

/* The Message-ID the relay gives a message: the same for the same envelope
 * and bytes, so that a client's retry after a 451 finds what it registered. */
static void relay_message_id(const struct conn *c, const struct homing_buf *msg, char *out,
                             size_t cap)
{
    crypto_generichash_state h;
    unsigned char d[16];
    crypto_generichash_init(&h, NULL, 0, sizeof d);
    crypto_generichash_update(&h, (const unsigned char *)c->from, strlen(c->from) + 1);
    for (size_t i = 0; i < c->n_rcpt; i++)
        crypto_generichash_update(&h, (const unsigned char *)c->rcpts[i].addr,
                                  strlen(c->rcpts[i].addr) + 1);
    crypto_generichash_update(&h, (const unsigned char *)msg->data, msg->len);
    crypto_generichash_final(&h, d, sizeof d);
    char hex[sizeof d * 2 + 1];
    homing_hex_encode(d, sizeof d, hex);
    hex[sizeof d * 2] = '\0';
    const char *at = strrchr(c->from, '@');
    snprintf(out, cap, "relay.%s@%s", hex, at && at[1] ? at + 1 : c->r->hostname);
}

/* The sync row that says a copy was answered for good (accepted or refused
 * with 5xx): a retry never sends it again. Untracked messages have no public
 * id: their key names the relay's hash of envelope and bytes instead. */
static void relay_sent_key(char *key, size_t cap, int untracked, const char *idstr, uint32_t ix)
{
    snprintf(key, cap, "%s:%s:%u", untracked ? "relay-pass" : "relay-sent", idstr, ix);
}

static int relay_record(struct relay *r, uint64_t id, uint32_t index, const char *rcpt,
                        const char *verp, const struct homing_send_item *it)
{
    json_t *d = json_object();
    if (!d) return -ENOMEM;
    json_object_set_new(d, "code", json_integer(it->code));
    json_object_set_new(d, "text", json_string(it->text));
    json_object_set_new(d, "relay", json_string(r->set->relay.smarthost));
    json_object_set_new(d, "address", json_string(rcpt));
    json_object_set_new(d, "verp", json_string(verp));
    json_object_set_new(d, "via", json_string("relay"));
    if (it->queue_id[0]) json_object_set_new(d, "queue_id", json_string(it->queue_id));
    if (!it->accepted) json_object_set_new(d, "temporary", json_boolean(it->code < 500));
    struct homing_event ev = {0};
    ev.kind = it->accepted ? HOMING_EV_SENT : HOMING_EV_REJECTED;
    ev.time_us = homing_now_us();
    ev.message = id;
    ev.recipient = index;
    ev.detail = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    if (!ev.detail) return -ENOMEM;
    int rc = homing_store_events_append(r->store, &ev, 1);
    homing_event_clear(&ev);
    if (rc < 0) return rc;
    const char *state = it->accepted ? "sent" : it->code >= 500 ? "rejected" : NULL;
    if (state) rc = homing_delivery_state_apply(r->store, id, index, state, ev.time_us);
    if (rc == -ENOENT) rc = 0;
    if (rc == 0 && it->accepted && it->queue_flavour)
        rc = homing_maillog_remember(r->store, it->queue_flavour, it->queue_id, id, index);
    if (rc == 0 && (it->accepted || it->code >= 500)) { /* answered for good */
        char key[64], idstr[HOMING_ID_STR_MAX];
        homing_id_format(id, idstr);
        relay_sent_key(key, sizeof key, 0, idstr, index);
        rc = homing_store_sync_set(r->store, key, it->accepted ? "sent" : "refused");
    }
    return rc;
}

/* Registers the message (or finds it, on a retry): 0 with *id, or < 0 with
 * the reply to give. */
static int relay_register(struct relay *r, struct conn *c, const struct homing_track *t,
                          const char *campaign, int per_message, uint64_t *id, char *reply,
                          size_t cap)
{
    uint64_t found = 0;
    int fr = homing_store_message_find(r->store, homing_track_message_id(t), &found);
    if (fr == 0) {
        *id = found;
        return 0;
    }
    if (fr != -ENOENT) {
        snprintf(reply, cap, "451 4.3.0 store unavailable, try again later");
        return -EIO;
    }
    size_t n_links = homing_track_link_count(t);
    const char **links = calloc(n_links + 1, sizeof *links);
    const char **rcpts = calloc(c->n_rcpt, sizeof *rcpts);
    if (!links || !rcpts) {
        free(links);
        free(rcpts);
        snprintf(reply, cap, "451 4.3.0 out of memory, try again later");
        return -ENOMEM;
    }
    for (size_t i = 0; i < n_links; i++) links[i] = homing_track_link(t, i);
    for (size_t i = 0; i < c->n_rcpt; i++) rcpts[i] = c->rcpts[i].addr;
    const char *subject = homing_track_subject(t);
    if (subject && !homing_message_subject_ok(subject)) subject = NULL;
    const char *sender = *c->from ? c->from : NULL;
    if (sender && !homing_message_address_ok(sender)) sender = NULL;
    struct homing_message_request rq = {
        .message_id = homing_track_message_id(t),
        .subject = subject,
        .sender = sender,
        .mode = per_message ? HOMING_MODE_PER_MESSAGE : HOMING_MODE_PER_RECIPIENT,
        .tracking = HOMING_TRACKING_INDIVIDUAL,
        .recipients = rcpts,
        .n_recipients = c->n_rcpt,
        .links = links,
        .n_links = n_links,
        .campaign = campaign,
    };
    char why[HOMING_MESSAGE_ERR_MAX];
    int rr = homing_message_register(r->store, &rq, id, why, sizeof why);
    free(links);
    free(rcpts);
    if (rr < 0) {
        if (rr == -EINVAL || rr == -E2BIG)
            snprintf(reply, cap, "554 5.6.0 cannot register the message: %s", why);
        else
            snprintf(reply, cap, "451 4.3.0 store unavailable, try again later");
        return rr;
    }
    return 0;
}

/* The address of a From field's value: inside <...>, else the whole value. */
static void relay_addr_of(const char *from_hdr, char *out, size_t cap)
{
    const char *lt = strrchr(from_hdr, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    size_t n = lt && gt ? (size_t)(gt - lt - 1) : strlen(from_hdr);
    const char *a = lt && gt ? lt + 1 : from_hdr;
    if (n >= cap) n = 0; /* too long to be an address: none */
    memcpy(out, a, n);
    out[n] = '\0';
}

/* Whether rcpt is one of the sender's own addresses (the envelope sender or
 * the From address): mail to oneself is never tracked (docs/relay.md). */
static int relay_is_own(const struct conn *c, const char *from_addr, const char *rcpt)
{
    return !strcasecmp(rcpt, c->from) || (from_addr[0] && !strcasecmp(rcpt, from_addr));
}

/* track.list_unsubscribe: the one-click unsubscribe fields of recipient ix
 * (RFC 8058) added to a tracked copy, under the sender domain's base URL. */
static int relay_list_unsubscribe(struct relay *r, const char *base, uint64_t id, uint32_t ix,
                                  struct homing_buf *copy)
{
    struct homing_buf out;
    homing_buf_init(&out, copy->max);
    int e = homing_list_unsubscribe_add(base, r->keys, id, ix, copy->data, copy->len, &out);
    if (e < 0) {
        homing_buf_free(&out);
        return e;
    }
    homing_buf_free(copy);
    *copy = out;
    return 0;
}

/* Everything after the end of DATA: the reply to give goes to reply. */
static void relay_deliver(struct conn *c, const struct homing_buf *msg, char *reply, size_t cap)
{
    struct relay *r = c->r;
    const struct homing_settings *set = r->set;
    char mid[HOMING_SMTP_PATH_MAX + 64];
    relay_message_id(c, msg, mid, sizeof mid);
    struct homing_buf base, *copies = NULL;
    homing_buf_init(&base, (size_t)set->relay.max_message_size + sizeof mid + 32);
    struct homing_track *t = NULL;
    struct homing_send_item *items = NULL;
    uint32_t *index = NULL;
    char(*verps)[HOMING_VERP_ADDR_MAX] = NULL;
    size_t n = 0;
    atomic_fetch_add(&r->messages, 1);
    /* the campaign the client names (X-Homing-Campaign, #13), which no copy
     * carries: homing_relay_strip_bcc drops the field */
    char campaign[HOMING_CAMPAIGN_MAX + 1] = "";
    int cr = homing_relay_header(msg->data, msg->len, HOMING_RELAY_CAMPAIGN_FIELD, campaign,
                                 sizeof campaign);
    if (cr == -ENOENT)
        campaign[0] = '\0';
    else if (cr < 0 || !homing_campaign_ok(campaign)) {
        snprintf(reply, cap,
                 "554 5.6.0 " HOMING_RELAY_CAMPAIGN_FIELD
                 ": 1 to %d bytes of UTF-8 without controls",
                 HOMING_CAMPAIGN_MAX);
        goto out;
    }
    /* RFC 5321 4.4: a relay adds its trace field (who handed it over, how) */
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (homing_buf_printf(
            &base, "Received: from %s ([%s])\r\n\tby %s (homing relay) with %s;\r\n\t%s\r\n",
            c->helo_name, c->peer, r->hostname,
            c->ssl ? (c->authed ? "ESMTPSA" : "ESMTPS") : (c->authed ? "ESMTPA" : "ESMTP"),
            date) < 0 ||
        homing_relay_strip_bcc(msg->data, msg->len, mid, &base) < 0) {
        snprintf(reply, cap, "451 4.3.0 out of memory, try again later");
        goto out;
    }
    /* what tracking it gets (docs/relay.md, "What is tracked"): the client's
     * X-Homing-Track, else the sender's entry, else relay.track; signed,
     * encrypted, already tracked and oversized messages pass untouched */
    char tv[16];
    int track;
    int tr = homing_relay_header(msg->data, msg->len, HOMING_RELAY_TRACK_FIELD, tv, sizeof tv);
    if (tr == -ENOENT)
        track = homing_relay_track_for(set->relay.track_senders,
                                       homing_relay_track_parse(set->relay.track), c->from);
    else
        track = tr < 0 ? -EINVAL : homing_relay_track_parse(tv);
    if (track < 0) {
        snprintf(reply, cap, "554 5.6.0 " HOMING_RELAY_TRACK_FIELD ": no, message or recipient");
        goto out;
    }
    const char *untouched = track == HOMING_RELAY_TRACK_NO
                                ? "not to be tracked"
                                : homing_relay_untouchable(msg->data, msg->len);
    char from_hdr[HOMING_SMTP_PATH_MAX * 2] = "", from_addr[HOMING_SMTP_PATH_MAX + 1];
    if (homing_relay_header(msg->data, msg->len, "From", from_hdr, sizeof from_hdr) < 0)
        from_hdr[0] = '\0';
    relay_addr_of(from_hdr, from_addr, sizeof from_addr);
    /* the tracking host of the From domain (public.domain_base_urls) */
    char base_url[HOMING_DOMAIN_URL_MAX];
    if (homing_domain_base_url(set->public.domain_base_urls, from_addr, set->public.base_url,
                               base_url, sizeof base_url) < 0)
        homing_strlcpy(base_url, set->public.base_url, sizeof base_url);
    struct homing_track_options o = {
        .base_url = set->public.base_url,
        .domain_base_urls = set->public.domain_base_urls,
        .rewrite_text = 1,
        .pixel = 1,
        .new_message_id = 0, /* the relay's own, above */
        .max_size = (size_t)set->track.max_size,
        .max_depth = (unsigned)set->track.max_depth,
        .max_parts = (unsigned)set->track.max_parts,
    };
    char err[256];
    int pr = untouched ? 0 : homing_track_prepare(base.data, base.len, &o, &t, err, sizeof err);
    if (pr == -E2BIG && base.len > o.max_size)
        untouched = "over track.max_size";
    else if (pr < 0) {
        char safe[300];
        homing_str_escape(safe, sizeof safe, err, strlen(err), 0);
        log_info("relay: %s: message refused: %s", c->peer, safe);
        snprintf(reply, cap, "554 5.6.0 message cannot be tracked: %s", safe);
        goto out;
    }
    if (untouched) track = HOMING_RELAY_TRACK_NO;
    uint64_t id = 0;
    char idstr[HOMING_ID_STR_MAX];
    if (untouched) {
        /* no public id: the hash the relay named the message by */
        snprintf(idstr, sizeof idstr, "%.16s", mid + strlen("relay."));
        atomic_fetch_add(&r->untracked, 1);
        log_info("relay: %s: %s: sent untracked: %s", c->peer, idstr, untouched);
    } else {
        pthread_mutex_lock(&r->store_lock);
        int rr = relay_register(r, c, t, campaign[0] ? campaign : NULL,
                                track == HOMING_RELAY_TRACK_MESSAGE, &id, reply, cap);
        pthread_mutex_unlock(&r->store_lock);
        if (rr < 0) {
            if (reply[0] == '4') atomic_fetch_add(&r->tempfail, 1);
            goto out;
        }
        homing_id_format(id, idstr);
    }
    items = calloc(RELAY_BATCH_MAX, sizeof *items);
    index = calloc(RELAY_BATCH_MAX, sizeof *index);
    copies = calloc(RELAY_BATCH_MAX, sizeof *copies);
    verps = calloc(RELAY_BATCH_MAX, sizeof *verps);
    if (!items || !index || !copies || !verps) {
        snprintf(reply, cap, "451 4.3.0 out of memory, try again later");
        goto out;
    }
    size_t already = 0, accepted = 0, temp = 0, perm = 0, next = 0;
    char first_perm[HOMING_SEND_TEXT_MAX + 8] = "";
    int sr = 0, store_bad = 0;
    struct homing_send_options so = {.server = set->relay.smarthost,
                                     .tls = r->send_tls,
                                     .helo = r->hostname,
                                     .timeout_s = (int)set->relay.timeout};
    /* RELAY_BATCH_MAX copies rendered and sent at a time, so a message's
     * memory is its size times the batch, not times its recipients */
    while (next < c->n_rcpt && sr >= 0) {
        n = 0;
        for (; next < c->n_rcpt && n < RELAY_BATCH_MAX; next++) {
            size_t i = next;
            uint32_t ix = (uint32_t)(i + 1);
            char key[64], *v = NULL;
            relay_sent_key(key, sizeof key, untouched != NULL, idstr, ix);
            pthread_mutex_lock(&r->store_lock);
            int g = homing_store_sync_get(r->store, key, &v);
            pthread_mutex_unlock(&r->store_lock);
            free(v);
            if (g == 0) { /* answered for good on an earlier try: never sent twice */
                already++;
                continue;
            }
            if (g != -ENOENT) {
                snprintf(reply, cap, "451 4.3.0 store unavailable, try again later");
                atomic_fetch_add(&r->tempfail, 1);
                goto out;
            }
            struct homing_buf *b = &copies[n];
            homing_buf_free(b);
            homing_buf_init(b, SIZE_MAX / 4);
            /* mail to the sender's own addresses goes as it came */
            int plain = untouched || relay_is_own(c, from_addr, c->rcpts[i].addr);
            int e = plain ? homing_buf_append(b, base.data, base.len)
                          : homing_track_render(t, r->keys, id,
                                                track == HOMING_RELAY_TRACK_MESSAGE ? 0 : ix, b);
            if (e == 0 && !plain && track == HOMING_RELAY_TRACK_RECIPIENT &&
                set->track.list_unsubscribe)
                e = relay_list_unsubscribe(r, base_url, id, ix, b);
            if (e == 0 && !untouched) e = relay_dkim_sign_copy(r, b);
            if (e < 0) {
                snprintf(reply, cap, "451 4.3.0 cannot write a copy, try again later");
                goto out;
            }
            const char *verp = set->send.verp;
            /* each copy's own VERP sender ties its bounce to its recipient */
            if (untouched || !verp || !*verp ||
                homing_verp_address(verp, r->keys, id, ix, verps[n], sizeof verps[n]) < 0)
                homing_strlcpy(verps[n], c->from, sizeof verps[n]);
            items[n] = (struct homing_send_item){
                .data = b->data,
                .len = b->len,
                .envid = idstr,
                .mail_from = verps[n],
                .rcpt = c->rcpts[i].addr,
                .no_dsn = c->rcpts[i].notify == HOMING_SMTP_NOTIFY_NEVER,
            };
            index[n++] = ix;
        }
        if (n == 0) break;
        int64_t t0 = homing_mono_us();
        sr = homing_send_session(&so, items, n, err, sizeof err);
        atomic_fetch_add(&r->latency_us, homing_mono_us() - t0);
        atomic_fetch_add(&r->latency_n, 1);
        pthread_mutex_lock(&r->store_lock);
        for (size_t i = 0; i < n; i++) {
            struct homing_send_item *it = &items[i];
            if (sr < 0 || !it->done) {
                temp++;
                continue;
            }
            if (!untouched) {
                if (relay_record(r, id, index[i], it->rcpt, it->mail_from, it) < 0) store_bad = 1;
            } else if (it->accepted || it->code >= 500) { /* answered for good */
                char key[64];
                relay_sent_key(key, sizeof key, 1, idstr, index[i]);
                if (homing_store_sync_set(r->store, key, it->accepted ? "sent" : "refused") < 0)
                    store_bad = 1;
            }
            if (it->accepted)
                accepted++;
            else if (it->code >= 500) {
                perm++;
                if (!first_perm[0])
                    snprintf(first_perm, sizeof first_perm, "%d %s", it->code, it->text);
            } else
                temp++;
        }
        pthread_mutex_unlock(&r->store_lock);
    }
    temp += c->n_rcpt - next; /* not tried after a session failure */
    if (accepted + perm + temp == 0) {
        snprintf(reply, cap, "250 2.0.0 Ok: %s already sent to every recipient", idstr);
        goto out;
    }
    atomic_fetch_add(&r->copies, (long long)accepted);
    atomic_fetch_add(&r->refused, (long long)perm);
    if (sr < 0) {
        char safe[300];
        homing_str_escape(safe, sizeof safe, err, strlen(err), 0);
        log_warn("relay: %s: smarthost: %s", idstr, safe);
        snprintf(reply, cap, "451 4.4.1 smarthost unavailable, try again later");
        atomic_fetch_add(&r->tempfail, 1);
    } else if (temp) {
        snprintf(reply, cap, "451 4.4.1 %zu of %zu copies deferred by the smarthost, try again",
                 temp, c->n_rcpt - already);
        atomic_fetch_add(&r->tempfail, 1);
    } else if (perm && !accepted && !already) {
        snprintf(reply, cap, "554 5.5.0 the smarthost refused every recipient: %s", first_perm);
    } else if (perm) {
        snprintf(reply, cap, "250 2.0.0 Ok: %s sent, but %zu recipient%s refused: %s", idstr, perm,
                 perm == 1 ? "" : "s", first_perm);
    } else {
        snprintf(reply, cap, "250 2.0.0 Ok: %s sent as %zu cop%s", idstr, accepted + already,
                 accepted + already == 1 ? "y" : "ies");
    }
    if (store_bad) log_warn("relay: %s: cannot record a reply: store error", idstr);
    log_info("relay: %s: %s: %zu recipient%s, %zu accepted, %zu refused, %zu deferred", c->peer,
             idstr, c->n_rcpt, c->n_rcpt == 1 ? "" : "s", accepted + already, perm, temp);
out:
    /* calloc'd: the copies never rendered are empty buffers */
    for (size_t i = 0; copies && i < RELAY_BATCH_MAX; i++) homing_buf_free(&copies[i]);
    free(copies);
    free(items);
    free(index);
    free(verps);
    homing_track_free(t);
    homing_buf_free(&base);
    relay_stats_write(r);
}

/* ---- AUTH ---- */

static int relay_check_password(struct relay *r, const char *user, const char *pass)
{
    char *hash = NULL;
    int g = -ENOENT;
    if (homing_relay_user_ok(user)) {
        pthread_mutex_lock(&r->store_lock);
        g = homing_store_relay_user_get(r->store, user, &hash);
        pthread_mutex_unlock(&r->store_lock);
    }
    if (g < 0 && g != -ENOENT) return g;
    while (sem_wait(&r->auth_slots) < 0 && errno == EINTR) {
    }
    int ok = crypto_pwhash_str_verify(g == 0 ? hash : r->dummy_hash, pass, strlen(pass)) == 0;
    sem_post(&r->auth_slots);
    free(hash);
    return g == 0 && ok;
}

static int relay_auth(struct conn *c, const char *arg)
{
    char user[HOMING_RELAY_USER_MAX] = "", pass[HOMING_RELAY_PASS_MAX] = "";
    char line[HOMING_SMTP_AUTH_LINE_MAX];
    size_t len;
    int r = -EINVAL;
    const char *sp = strchr(arg, ' ');
    size_t mlen = sp ? (size_t)(sp - arg) : strlen(arg);
    const char *initial = sp ? sp + 1 : NULL;
    if (mlen == 5 && !strncmp(arg, "PLAIN", 5)) {
        if (!initial) {
            if (conn_write(c, "334 ") < 0) return -EIO;
            int l = conn_line(c, line, sizeof line, &len);
            if (l < 0) return -EIO;
            initial = l ? line : "!";
        }
        r = homing_smtp_auth_plain(initial, strlen(initial), user, sizeof user, pass, sizeof pass);
    } else if (mlen == 5 && !strncmp(arg, "LOGIN", 5)) {
        if (initial)
            r = homing_smtp_auth_b64(initial, strlen(initial), user, sizeof user);
        else {
            if (conn_write(c, "334 VXNlcm5hbWU6") < 0) return -EIO;
            int l = conn_line(c, line, sizeof line, &len);
            if (l < 0) return -EIO;
            r = l ? homing_smtp_auth_b64(line, len, user, sizeof user) : -EINVAL;
        }
        if (r >= 0) {
            if (conn_write(c, "334 UGFzc3dvcmQ6") < 0) return -EIO;
            int l = conn_line(c, line, sizeof line, &len);
            if (l < 0) return -EIO;
            r = l ? homing_smtp_auth_b64(line, len, pass, sizeof pass) : -EINVAL;
        }
    } else {
        return conn_write(c, "504 5.5.4 unrecognized authentication type");
    }
    sodium_memzero(line, sizeof line);
    if (r == -ECANCELED) return conn_write(c, "501 5.7.0 authentication cancelled");
    if (r < 0) {
        sodium_memzero(pass, sizeof pass);
        return conn_write(c, "501 5.5.2 cannot decode the response");
    }
    int ok = relay_check_password(c->r, user, pass);
    sodium_memzero(pass, sizeof pass);
    if (ok < 0) return conn_write(c, "454 4.7.0 temporary authentication failure");
    char safe[HOMING_RELAY_USER_MAX * 4];
    homing_str_escape(safe, sizeof safe, user, strlen(user), 0);
    if (!ok) {
        log_info("relay: %s: authentication failed for %s", c->peer, safe);
        c->errors++;
        return conn_write(c, "535 5.7.8 authentication credentials invalid");
    }
    c->authed = 1;
    homing_strlcpy(c->user, user, sizeof c->user);
    log_info("relay: %s: authenticated as %s", c->peer, safe);
    return conn_write(c, "235 2.7.0 authentication successful");
}

/* ---- the session ---- */

static int relay_auth_allowed(const struct conn *c)
{
    const struct homing_settings *set = c->r->set;
    if (c->r->filter) return 0;
    if (c->ssl || !set->relay.require_tls) return 1;
    return c->loopback && set->relay.loopback_plain_auth;
}

static int relay_ehlo(struct conn *c, int ehlo)
{
    struct relay *r = c->r;
    if (!ehlo) return conn_write(c, "250 %s", r->hostname);
    if (conn_write(c, "250-%s", r->hostname) < 0 ||
        conn_write(c, "250-SIZE %lld", r->set->relay.max_message_size) < 0 ||
        conn_write(c, "250-8BITMIME") < 0 || conn_write(c, "250-ENHANCEDSTATUSCODES") < 0)
        return -EIO;
    if (r->tls && !c->ssl && !r->filter && conn_write(c, "250-STARTTLS") < 0) return -EIO;
    if (relay_auth_allowed(c) && !c->authed && conn_write(c, "250-AUTH PLAIN LOGIN") < 0)
        return -EIO;
    return conn_write(c, "250 DSN");
}

static int relay_data(struct conn *c)
{
    struct relay *r = c->r;
    if (conn_write(c, "354 End data with <CR><LF>.<CR><LF>") < 0) return -EIO;
    struct homing_buf msg;
    size_t max = (size_t)r->set->relay.max_message_size;
    homing_buf_init(&msg, max + 1);
    struct homing_smtp_data d;
    homing_smtp_data_init(&d, &msg, max);
    int fr = 0;
    for (;;) {
        if (c->ipos == c->ilen && conn_fill(c) <= 0) {
            homing_buf_free(&msg);
            return -EIO;
        }
        size_t used = 0;
        fr = homing_smtp_data_feed(&d, c->in + c->ipos, c->ilen - c->ipos, &used);
        c->ipos += used;
        if (fr != 0) break;
    }
    int w;
    if (fr == -E2BIG) {
        atomic_fetch_add(&r->refused, 1);
        w = conn_write(c, "552 5.3.4 message larger than %lld bytes",
                       r->set->relay.max_message_size);
    } else if (fr == -EBADMSG) {
        w = conn_write(c, "554 5.6.11 bare CR or LF in the message: only CRLF line ends");
    } else if (fr < 0) {
        w = conn_write(c, "451 4.3.0 out of memory, try again later");
    } else {
        char reply[RELAY_REPLY_MAX];
        relay_deliver(c, &msg, reply, sizeof reply);
        w = conn_write(c, "%s", reply);
    }
    homing_buf_free(&msg);
    conn_reset(c);
    return w;
}

static int relay_starttls(struct conn *c)
{
    if (!c->r->tls || c->ssl || c->r->filter)
        return conn_write(c, "502 5.5.1 STARTTLS not offered");
    /* bytes pipelined after STARTTLS would be read as if encrypted
     * (CVE-2011-0411): refuse them */
    if (c->ipos != c->ilen) return conn_write(c, "501 5.5.2 no commands after STARTTLS");
    if (conn_write(c, "220 2.0.0 ready to start TLS") < 0) return -EIO;
    SSL *ssl = SSL_new(c->r->tls);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1 || SSL_accept(ssl) != 1) {
        log_info("relay: %s: TLS handshake failed", c->peer);
        ERR_clear_error();
        SSL_free(ssl);
        return -EIO;
    }
    c->ssl = ssl;
    c->helo = 0; /* RFC 3207 4.2: forget everything, EHLO again */
    c->authed = 0;
    conn_reset(c);
    return 0;
}

/* One command; < 0 ends the session. */
static int relay_command(struct conn *c, const char *line, size_t len)
{
    struct relay *r = c->r;
    struct homing_smtp_cmd *cmd = malloc(sizeof *cmd);
    if (!cmd) return -ENOMEM;
    char err[128];
    int p = homing_smtp_parse(line, len, cmd, err, sizeof err), w = 0;
    if (p < 0) {
        c->errors++;
        int code = p == -E2BIG ? 500 : p == -ENOSYS ? (err[4] == '4' ? 555 : 500) : 501;
        w = conn_write(c, "%d %s", code, err);
        free(cmd);
        return w;
    }
    int submission_gate = !r->filter && !c->authed;
    switch (cmd->verb) {
    case HOMING_SMTP_HELO:
    case HOMING_SMTP_EHLO:
        c->helo = 1;
        homing_strlcpy(c->helo_name, cmd->arg, sizeof c->helo_name);
        conn_reset(c);
        w = relay_ehlo(c, cmd->verb == HOMING_SMTP_EHLO);
        break;
    case HOMING_SMTP_STARTTLS: w = relay_starttls(c); break;
    case HOMING_SMTP_AUTH:
        if (r->filter || !relay_auth_allowed(c))
            w = conn_write(c, r->filter ? "502 5.5.1 AUTH not offered"
                                        : "538 5.7.11 encryption required for authentication");
        else if (c->authed)
            w = conn_write(c, "503 5.5.1 already authenticated");
        else if (!c->helo)
            w = conn_write(c, "503 5.5.1 EHLO first");
        else if (c->has_from)
            w = conn_write(c, "503 5.5.1 not during a transaction");
        else
            w = relay_auth(c, cmd->arg);
        break;
    case HOMING_SMTP_MAIL:
        if (!c->helo)
            w = conn_write(c, "503 5.5.1 EHLO first");
        else if (submission_gate)
            w = conn_write(c, "530 5.7.0 authentication required");
        else if (c->has_from)
            w = conn_write(c, "503 5.5.1 nested MAIL command");
        else if (cmd->has_size && cmd->size > (unsigned long long)r->set->relay.max_message_size)
            w = conn_write(c, "552 5.3.4 message size exceeds fixed limit");
        else if (*cmd->path && !homing_message_address_ok(cmd->path))
            w = conn_write(c, "553 5.1.7 sender address not accepted");
        else if (!r->filter && r->set->relay.sender_login_match && strcasecmp(cmd->path, c->user))
            /* one login may not send as another user */
            w = conn_write(c, "553 5.7.1 sender address not owned by the login");
        else {
            c->has_from = 1;
            homing_strlcpy(c->from, cmd->path, sizeof c->from);
            homing_strlcpy(c->envid, cmd->envid, sizeof c->envid);
            c->n_rcpt = 0;
            w = conn_write(c, "250 2.1.0 Ok");
        }
        break;
    case HOMING_SMTP_RCPT: {
        if (!c->has_from) {
            w = conn_write(c, "503 5.5.1 need MAIL first");
            break;
        }
        if (!homing_message_address_ok(cmd->path)) {
            w = conn_write(c, "553 5.1.3 recipient address not accepted");
            break;
        }
        int dup = 0;
        for (size_t i = 0; i < c->n_rcpt; i++)
            if (!strcasecmp(c->rcpts[i].addr, cmd->path)) dup = 1;
        if (dup) { /* one copy per recipient, however often it is named */
            w = conn_write(c, "250 2.1.5 Ok");
            break;
        }
        if (c->n_rcpt >= (size_t)r->set->relay.max_recipients) {
            w = conn_write(c, "452 4.5.3 too many recipients");
            break;
        }
        /* the sender's suppression list (docs/suppression.md): refused here,
         * per recipient, so the client's other recipients still go */
        char why[HOMING_SUPPRESS_ADDR_MAX * 4 + 128];
        pthread_mutex_lock(&r->store_lock);
        int sup = homing_suppressed(r->store, c->from, cmd->path, NULL, why, sizeof why);
        pthread_mutex_unlock(&r->store_lock);
        if (sup < 0) {
            w = conn_write(c, "451 4.3.0 store unavailable, try again later");
            break;
        }
        if (sup == 1) {
            atomic_fetch_add(&r->refused, 1);
            log_info("relay: %s: %s", c->peer, why);
            w = conn_write(c, "550 5.7.1 %s", why);
            break;
        }
        struct relay_rcpt *x = &c->rcpts[c->n_rcpt++];
        homing_strlcpy(x->addr, cmd->path, sizeof x->addr);
        x->notify = cmd->notify;
        w = conn_write(c, "250 2.1.5 Ok");
        break;
    }
    case HOMING_SMTP_DATA:
        if (!c->has_from)
            w = conn_write(c, "503 5.5.1 need MAIL first");
        else if (!c->n_rcpt)
            w = conn_write(c, "554 5.5.1 no valid recipients");
        else
            w = relay_data(c);
        break;
    case HOMING_SMTP_RSET:
        conn_reset(c);
        w = conn_write(c, "250 2.0.0 Ok");
        break;
    case HOMING_SMTP_NOOP: w = conn_write(c, "250 2.0.0 Ok"); break;
    case HOMING_SMTP_VRFY: w = conn_write(c, "252 2.5.2 cannot verify, but will try"); break;
    case HOMING_SMTP_HELP: w = conn_write(c, "214 2.0.0 see docs/relay.md"); break;
    case HOMING_SMTP_QUIT:
        conn_write(c, "221 2.0.0 bye");
        w = -ECONNRESET;
        break;
    }
    free(cmd);
    return w;
}

static void *relay_session(void *arg)
{
    struct conn *c = arg;
    struct relay *r = c->r;
    sigset_t block; /* SIGTERM and SIGINT interrupt the accepting thread */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    char *line = malloc(HOMING_SMTP_READ_LINE_MAX + 1);
    c->rcpts = calloc((size_t)r->set->relay.max_recipients, sizeof *c->rcpts);
    if (!line || !c->rcpts) goto out;
    if (conn_write(c, "220 %s ESMTP homing relay", r->hostname) < 0) goto out;
    while (!atomic_load(&relay_stop)) {
        size_t len = 0;
        int l = conn_line(c, line, HOMING_SMTP_READ_LINE_MAX + 1, &len);
        if (l < 0) break;
        int w;
        if (l == 0) {
            c->errors++;
            w = conn_write(c, "500 5.5.2 line too long");
        } else {
            w = relay_command(c, line, len);
        }
        if (w < 0) break;
        if (c->errors >= RELAY_ERRORS_MAX) {
            conn_write(c, "421 4.7.0 too many errors, closing");
            break;
        }
    }
out:
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    pthread_mutex_lock(&r->conns_lock);
    for (long long i = 0; i < r->set->relay.max_connections; i++)
        if (r->conns[i] == c->fd) r->conns[i] = -1;
    close(c->fd);
    pthread_mutex_unlock(&r->conns_lock);
    free(line);
    free(c->rcpts);
    free(c);
    atomic_fetch_sub(&r->active, 1);
    return NULL;
}

/* ---- setup ---- */

static int relay_tls_load(struct relay *r)
{
    const char *cert = r->set->relay.tls_cert, *key = r->set->relay.tls_key;
    if (!cert || !*cert) return 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return cli_fail("cannot create a TLS context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(ctx, RELAY_TLS_CIPHERS) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key && *key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char why[256] = "unknown error";
        unsigned long e = ERR_get_error();
        if (e) ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return cli_fail("relay.tls_cert / relay.tls_key: %s", why);
    }
    r->tls = ctx;
    return 0;
}

static int relay_listen(const char *spec)
{
    char host[256], port[16];
    const char *colon = strrchr(spec, ':');
    if (!colon || !colon[1] || colon == spec || strlen(colon + 1) >= sizeof port) return -EINVAL;
    size_t hl = (size_t)(colon - spec);
    if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
        spec++;
        hl -= 2;
    }
    if (hl >= sizeof host) return -EINVAL;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV},
                    *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return -EINVAL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return -e;
    }
    freeaddrinfo(ai);
    return fd;
}

static int relay_peer(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(out, cap, "?");
        return 0;
    }
    char a[INET6_ADDRSTRLEN] = "?";
    int loop = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        loop = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        loop = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
    }
    snprintf(out, cap, "%s", a);
    return loop;
}

int cmd_relay(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, relay_usage)) return CLI_OK;
    const char *listen_arg = NULL, *smarthost = NULL, *mode = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--listen") && has)
            listen_arg = argv[++i];
        else if (!strcmp(a, "--smarthost") && has)
            smarthost = argv[++i];
        else if (!strcmp(a, "--mode") && has)
            mode = argv[++i];
        else
            return cli_usage_error("relay", "unknown option or missing value: %s", a);
    }
    if (cli_config(cli) < 0) return CLI_ERROR;
    if ((listen_arg && homing_config_set(cli->config, "relay.listen", listen_arg) < 0) ||
        (smarthost && homing_config_set(cli->config, "relay.smarthost", smarthost) < 0) ||
        (mode && homing_config_set(cli->config, "relay.mode", mode) < 0))
        return cli_usage_error("relay", "bad --listen, --smarthost or --mode value");
    static struct relay r; /* lives as long as the detached sessions */
    r.set = homing_config_settings(cli->config);
    if (homing_relay_senders_check(r.set->relay.track_senders) < 0)
        return cli_fail("relay.track_senders: want ADDRESS=MODE or DOMAIN=MODE entries, MODE "
                        "no, message or recipient, at most %d",
                        HOMING_RELAY_SENDERS_MAX);
    r.filter = !strcmp(r.set->relay.mode, "filter");
    const char *st = r.set->relay.smarthost_tls;
    r.send_tls = !strcmp(st, "required")        ? HOMING_SEND_TLS_REQUIRED
                 : !strcmp(st, "opportunistic") ? HOMING_SEND_TLS_OPPORTUNISTIC
                                                : HOMING_SEND_TLS_OFF;
    if (r.set->relay.hostname && *r.set->relay.hostname)
        homing_strlcpy(r.hostname, r.set->relay.hostname, sizeof r.hostname);
    else if (gethostname(r.hostname, sizeof r.hostname) < 0)
        homing_strlcpy(r.hostname, "localhost", sizeof r.hostname);
    r.hostname[sizeof r.hostname - 1] = '\0';
    if (sodium_init() < 0) return cli_fail("libsodium cannot start");
    if (!(r.keys = cli_keyring(cli)) || !(r.store = cli_store(cli))) return CLI_ERROR;
    if (relay_tls_load(&r) < 0) return CLI_ERROR;
    unsigned char noise[32];
    randombytes_buf(noise, sizeof noise);
    if (crypto_pwhash_str(r.dummy_hash, (const char *)noise, sizeof noise,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        SSL_CTX_free(r.tls);
        return cli_fail("cannot hash: out of memory");
    }
    sem_init(&r.auth_slots, 0, RELAY_AUTH_PARALLEL_MAX);
    if (!r.filter && !r.tls && r.set->relay.require_tls && !r.set->relay.loopback_plain_auth)
        log_warn("relay: submission mode without relay.tls_cert and with relay.require_tls: no "
                 "client can authenticate");
    int lfd = relay_listen(r.set->relay.listen);
    if (lfd < 0) {
        char safe[300];
        SSL_CTX_free(r.tls);
        return cli_fail("cannot listen on relay.listen = %s: %s",
                        cli_safe(r.set->relay.listen, safe, sizeof safe),
                        lfd == -EINVAL ? "ADDRESS:PORT expected" : strerror(-lfd));
    }
    r.conns = malloc((size_t)r.set->relay.max_connections * sizeof *r.conns);
    if (!r.conns) {
        close(lfd);
        SSL_CTX_free(r.tls);
        return cli_fail("out of memory");
    }
    for (long long i = 0; i < r.set->relay.max_connections; i++) r.conns[i] = -1;
    pthread_mutex_init(&r.store_lock, NULL);
    pthread_mutex_init(&r.stats_lock, NULL);
    pthread_mutex_init(&r.conns_lock, NULL);
    struct sigaction sa = {.sa_handler = relay_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    auth_client_init();
    relay_stats_write(&r);
    log_info("relay: listening on %s (%s mode), smarthost %s", r.set->relay.listen,
             r.filter ? "filter" : "submission", r.set->relay.smarthost);
    while (!atomic_load(&relay_stop)) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            log_error("relay: accept: %s", strerror(errno));
            break;
        }
        struct timeval tv = {.tv_sec = r.set->relay.timeout};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        /* replies go out whole and at once: no Nagle wait behind the client's
         * delayed ACK (a unix socket refuses it: harmless) */
        int nodelay = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
        if (atomic_load(&r.active) >= r.set->relay.max_connections) {
            static const char busy[] = "421 4.7.0 too many connections, try again later\r\n";
            ssize_t ignored = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
            (void)ignored;
            close(fd);
            log_warn("relay: relay.max_connections (%lld) reached: a connection refused",
                     r.set->relay.max_connections);
            continue;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->r = &r;
        c->fd = fd;
        c->loopback = relay_peer(fd, c->peer, sizeof c->peer);
        atomic_fetch_add(&r.active, 1);
        pthread_mutex_lock(&r.conns_lock);
        for (long long i = 0; i < r.set->relay.max_connections; i++)
            if (r.conns[i] < 0) {
                r.conns[i] = fd;
                break;
            }
        pthread_mutex_unlock(&r.conns_lock);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, relay_session, c) != 0) {
            pthread_mutex_lock(&r.conns_lock);
            for (long long i = 0; i < r.set->relay.max_connections; i++)
                if (r.conns[i] == fd) r.conns[i] = -1;
            pthread_mutex_unlock(&r.conns_lock);
            atomic_fetch_sub(&r.active, 1);
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&at);
    }
    close(lfd);
    /* a session waiting for its client ends now; one in the middle of a
     * message finishes it (its reply cannot be read, the client retries) */
    pthread_mutex_lock(&r.conns_lock);
    for (long long i = 0; i < r.set->relay.max_connections; i++)
        if (r.conns[i] >= 0) shutdown(r.conns[i], SHUT_RD);
    pthread_mutex_unlock(&r.conns_lock);
    for (int i = 0; i < RELAY_DRAIN_S * 10 && atomic_load(&r.active) > 0; i++) usleep(100000);
    log_info("relay: stopped");
    if (atomic_load(&r.active) == 0) {
        auth_client_exit();
        SSL_CTX_free(r.tls);
        free(r.conns);
    }
    return CLI_OK;
}
