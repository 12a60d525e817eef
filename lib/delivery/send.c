/*
 * send.c: one SMTP session through libesmtp for homing send: STARTTLS, AUTH,
 * and per envelope RET=HDRS, ENVID, and per recipient NOTIFY=SUCCESS,FAILURE,
 * DELAY and ORCPT, each envelope with its own (VERP) sender.
 *
 * Contract: see homing/delivery.h. The library never prints: a session failure
 * comes back as a negative errno and a one-line reason, each item's result as
 * the server's reply code and text. Credentials are only passed through.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <auth-client.h>
#include <libesmtp.h>

#include "homing/delivery.h"
#include "homing/util.h"

#define SEND_SIZE_MAX (64u * 1024 * 1024) /* largest message sent */

struct send_ctx {
    const struct homing_send_options *o;
    int no_starttls; /* the server did not offer STARTTLS */
    int no_dsn;
    unsigned port; /* the server's, for send_nodelay (0: unknown) */
};

/* One message's CRLF copy handed to libesmtp in one piece. */
struct send_body {
    char *data;
    size_t len;
    int given;
};

static const char *send_body_cb(void **buf, int *len, void *arg)
{
    struct send_body *b = arg;
    (void)buf;
    if (!len) { /* rewind */
        b->given = 0;
        return NULL;
    }
    if (b->given) {
        *len = 0;
        return NULL;
    }
    b->given = 1;
    *len = (int)b->len;
    return b->data;
}

/* LF or CRLF in, CRLF out (SMTP's line end), ending with CRLF. */
static int send_crlf(const char *in, size_t n, struct send_body *b)
{
    if (n > SEND_SIZE_MAX) return -E2BIG;
    size_t lf = 0;
    for (size_t i = 0; i < n; i++) lf += in[i] == '\n';
    char *o = malloc(n + lf + 3);
    if (!o) return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) o[k++] = '\r';
        o[k++] = in[i];
    }
    if (k < 2 || o[k - 2] != '\r' || o[k - 1] != '\n') {
        o[k++] = '\r';
        o[k++] = '\n';
    }
    b->data = o;
    b->len = k;
    b->given = 0;
    return 0;
}

static int send_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
    const struct homing_send_options *o = arg;
    for (int i = 0; i < fields; i++) {
        if (req[i].flags & AUTH_PASS)
            result[i] = (char *)o->password;
        else if (req[i].flags & AUTH_USER)
            result[i] = (char *)o->user;
        else
            result[i] = NULL;
        if (!result[i]) return 0;
    }
    return 1;
}

/* TCP_NODELAY on this process's TCP sockets connected to port. libesmtp
 * keeps its socket to itself and writes a message in 2,048-byte blocks with
 * Nagle's algorithm on: the last, short block waited for the server's delayed
 * ACK, 40 ms per message whatever the server (bench/relay: 48 ms a message
 * into smtp-sink, 21 messages/s a connection). Right after it connects, its
 * socket is one of ours connected to the server's port: every such socket
 * gets the option, which only ever sends sooner. Best effort: any failure
 * leaves a socket as it was. */
static void send_nodelay(unsigned port)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    int self = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || fd < 0 || fd == self) continue;
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int type = 0;
        socklen_t tl = sizeof type;
        if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM ||
            getpeername((int)fd, (struct sockaddr *)&peer, &pl) < 0)
            continue;
        unsigned p = peer.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&peer)->sin_port)
                     : peer.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&peer)->sin6_port)
                                                  : 0;
        int one = 1;
        if (p && p == port) setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    closedir(d);
}

static void send_event(smtp_session_t session, int event, void *arg, ...)
{
    struct send_ctx *c = arg;
    (void)session;
    if (event == SMTP_EV_CONNECT && c->port) send_nodelay(c->port);
    if (event == SMTP_EV_EXTNA_STARTTLS) c->no_starttls = 1;
    if (event == SMTP_EV_EXTNA_DSN) c->no_dsn = 1;
}

static void send_text(char *dst, size_t cap, const char *t)
{
    size_t n = t ? strlen(t) : 0;
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\r')) n--;
    homing_str_sanitize(dst, cap, t ? t : "", n);
}

int homing_send_queue_id(const char *text, char *out, size_t cap)
{
    if (!text || !out || cap == 0) return -EINVAL;
    out[0] = '\0';
    /* Postfix: "2.0.0 Ok: queued as 4Fz3Yk1Wb2z9sQ"; Exim: "OK id=1rAbCd-000Ab1-2x" */
    static const struct {
        const char *mark;
        int flavour;
    } forms[] = {{"queued as ", HOMING_MAILLOG_POSTFIX}, {"id=", HOMING_MAILLOG_EXIM}};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        const char *p = strstr(text, forms[f].mark);
        if (!p || (f == 1 && p > text && p[-1] != ' ')) continue;
        p += strlen(forms[f].mark);
        size_t n = 0;
        while ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'A' && p[n] <= 'Z') ||
               (p[n] >= 'a' && p[n] <= 'z') ||
               (forms[f].flavour == HOMING_MAILLOG_EXIM && p[n] == '-'))
            n++;
        if (n == 0 || n >= cap || n >= HOMING_MAILLOG_QID_MAX) return 0;
        memcpy(out, p, n);
        out[n] = '\0';
        return forms[f].flavour;
    }
    return 0;
}

int homing_send_session(const struct homing_send_options *o, struct homing_send_item *items,
                        size_t n, char *err, size_t errcap)
{
    if (!o || !o->server || (n && !items) || !err || !errcap) return -EINVAL;
    err[0] = '\0';
    struct send_ctx c = {.o = o};
    /* the port of "host:port" (libesmtp's default, 587, without one) */
    const char *colon = o->server ? strrchr(o->server, ':') : NULL;
    long port = colon ? strtol(colon + 1, NULL, 10) : 587;
    c.port = port > 0 && port < 65536 ? (unsigned)port : 0;
    struct send_body *bodies = calloc(n ? n : 1, sizeof *bodies);
    smtp_recipient_t *rcpts = calloc(n ? n : 1, sizeof *rcpts);
    smtp_message_t *msgs = calloc(n ? n : 1, sizeof *msgs);
    smtp_session_t session = smtp_create_session();
    auth_context_t auth = NULL;
    int r = 0;
    if (!bodies || !rcpts || !msgs || !session) {
        r = -ENOMEM;
        goto out;
    }
    char host[256];
    if (o->helo)
        homing_strlcpy(host, o->helo, sizeof host);
    else if (gethostname(host, sizeof host) < 0)
        homing_strlcpy(host, "localhost", sizeof host);
    host[sizeof host - 1] = '\0';
    smtp_set_hostname(session, host);
    if (!smtp_set_server(session, o->server)) {
        snprintf(err, errcap, "bad relay address '%s'", o->server);
        r = -EINVAL;
        goto out;
    }
    smtp_starttls_enable(session, o->tls == HOMING_SEND_TLS_REQUIRED        ? Starttls_REQUIRED
                                  : o->tls == HOMING_SEND_TLS_OPPORTUNISTIC ? Starttls_ENABLED
                                                                            : Starttls_DISABLED);
    if (o->timeout_s > 0) {
        long t = (long)o->timeout_s * 1000 | Timeout_OVERRIDE_RFC2822_MINIMUM;
        smtp_set_timeout(session, Timeout_GREETING, t);
        smtp_set_timeout(session, Timeout_ENVELOPE, t);
        smtp_set_timeout(session, Timeout_DATA, t);
        smtp_set_timeout(session, Timeout_TRANSFER, t);
        smtp_set_timeout(session, Timeout_DATA2, t);
    }
    smtp_set_eventcb(session, send_event, &c);
    if (o->user && o->password) {
        auth = auth_create_context();
        if (!auth) {
            r = -ENOMEM;
            goto out;
        }
        auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
        auth_set_interact_cb(auth, send_interact, (void *)o);
        smtp_auth_set_context(session, auth);
    }
    for (size_t i = 0; i < n; i++) {
        struct homing_send_item *it = &items[i];
        it->done = it->accepted = it->code = it->queue_flavour = 0;
        it->text[0] = it->queue_id[0] = '\0';
        if ((r = send_crlf(it->data, it->len, &bodies[i])) < 0) goto out;
        smtp_message_t m = smtp_add_message(session);
        if (!m) {
            r = -ENOMEM;
            goto out;
        }
        msgs[i] = m;
        smtp_set_reverse_path(m, it->mail_from);
        smtp_set_messagecb(m, send_body_cb, &bodies[i]);
        smtp_dsn_set_ret(m, Ret_HDRS);
        if (it->envid) smtp_dsn_set_envid(m, it->envid);
        smtp_recipient_t rc = smtp_add_recipient(m, it->rcpt);
        if (!rc) {
            r = -ENOMEM;
            goto out;
        }
        smtp_dsn_set_notify(rc, it->no_dsn ? Notify_NEVER
                                           : Notify_SUCCESS | Notify_FAILURE | Notify_DELAY);
        smtp_dsn_set_orcpt(rc, "rfc822", it->rcpt);
        rcpts[i] = rc;
    }
    if (!smtp_start_session(session)) {
        int e = smtp_errno();
        char buf[256];
        const char *why = smtp_strerror(e, buf, sizeof buf);
        if (c.no_starttls && o->tls == HOMING_SEND_TLS_REQUIRED) {
            snprintf(err, errcap, "relay %s does not offer STARTTLS (--starttls required)",
                     o->server);
            r = -EPROTO;
        } else if (e < 0 || e == SMTP_ERR_EAI_ADDRFAMILY || e == SMTP_ERR_EAI_NONAME ||
                   e == SMTP_ERR_EAI_NODATA || e == SMTP_ERR_EAI_AGAIN || e == SMTP_ERR_EAI_FAIL) {
            snprintf(err, errcap, "relay %s unreachable: %s", o->server, why ? why : "error");
            r = e < 0 && -e == ETIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
        } else if (e == SMTP_ERR_DROPPED_CONNECTION && o->tls != HOMING_SEND_TLS_OFF &&
                   !c.no_starttls) {
            snprintf(err, errcap, "relay %s dropped the connection (TLS handshake failed?)",
                     o->server);
            r = -EPROTO;
        } else {
            snprintf(err, errcap, "SMTP session with %s failed: %s", o->server,
                     why ? why : "error");
            r = -EIO;
        }
        goto out;
    }
    if (c.no_starttls && o->tls == HOMING_SEND_TLS_REQUIRED) {
        /* libesmtp ends such a session quietly, before MAIL */
        snprintf(err, errcap, "relay %s does not offer STARTTLS (--starttls required)", o->server);
        r = -EPROTO;
        goto out;
    }
    int auth_failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct homing_send_item *it = &items[i];
        const smtp_status_t *mail = smtp_reverse_path_status(msgs[i]);
        const smtp_status_t *rs = smtp_recipient_status(rcpts[i]);
        const smtp_status_t *data = smtp_message_transfer_status(msgs[i]);
        if (mail && (mail->code == 530 || mail->code == 535 || mail->code == 534)) auth_failed = 1;
        if (mail && mail->code >= 400) {
            it->done = 1;
            it->code = mail->code;
            send_text(it->text, sizeof it->text, mail->text);
        } else if (rs && rs->code >= 400) {
            it->done = 1;
            it->code = rs->code;
            send_text(it->text, sizeof it->text, rs->text);
        } else if (data && data->code) {
            it->done = 1;
            it->code = data->code;
            it->accepted = data->code >= 200 && data->code < 300;
            send_text(it->text, sizeof it->text, data->text);
            /* the relay's queue id ties its log lines to this one copy */
            if (it->accepted)
                it->queue_flavour =
                    homing_send_queue_id(it->text, it->queue_id, sizeof it->queue_id);
        } else if (rs && rs->code) {
            it->done = 1;
            it->code = rs->code;
            send_text(it->text, sizeof it->text, rs->text);
        }
    }
    size_t answered = 0;
    for (size_t i = 0; i < n; i++) answered += items[i].done;
    if (n && !answered && !auth_failed) {
        int e = smtp_errno();
        char buf[256];
        const char *why = smtp_strerror(e, buf, sizeof buf);
        snprintf(err, errcap, "relay %s ended the session without answering: %s", o->server,
                 why ? why : "no reply");
        r = -EIO;
    }
    if (auth_failed) {
        snprintf(err, errcap, "relay %s refused the sender: authentication %s", o->server,
                 o->user ? "failed" : "required (--auth-file)");
        r = -EACCES;
    }
out:
    if (session) smtp_destroy_session(session);
    if (auth) auth_destroy_context(auth);
    for (size_t i = 0; bodies && i < n; i++) free(bodies[i].data);
    free(bodies);
    free(rcpts);
    free(msgs);
    return r;
}
