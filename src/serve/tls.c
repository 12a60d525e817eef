/*
 * tls.c: TLS on the public listener (public.tls_cert, public.tls_key).
 *
 * Contract: tls_load builds an OpenSSL server context from the two files
 * (TLS 1.2 and 1.3 only, forward-secret AEAD ciphers, no compression or
 * renegotiation, HTTP/2 and HTTP/1.1 offered by ALPN) or leaves the listener
 * on cleartext when public.tls_cert is empty. tls_reload (the main thread, on
 * SIGHUP) builds a new context from the files as they are now and, only when
 * that succeeds, publishes it: the old one keeps serving otherwise.
 *
 * Why a lock and a generation and not a plain pointer swap: each loop thread
 * keeps its own reference in its h2o_accept_ctx_t (h2o reads it there for every
 * accept). A loop looks at the generation (one atomic load) before each
 * accept; when it moved, it takes the lock, takes a reference on the current
 * context and keeps its old one a while (below). A connection whose
 * handshake has begun holds its own reference through its SSL object, so the
 * last SSL_free of the old context happens when its last connection closes:
 * nothing is cut.
 *
 * Why the old context is kept for a grace period and not dropped at once:
 * h2o 2.2 copies the accept context's SSL_CTX pointer into the socket at
 * accept but calls SSL_new (which takes the reference) only when the client's
 * first bytes arrive. A client that connected before a reload and spoke after
 * it would reach SSL_new on a context another loop thread had just freed
 * (ASan saw this in integration/tls). Such a socket lives at most h2o's
 * handshake timeout without speaking, so each loop keeps the contexts it
 * switched away from for TLS_GRACE_US past that and frees them from its own
 * thread; at most TLS_RETIRED_MAX at once, so a storm of reloads delays the
 * switch instead of growing the list.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "serve.h"

/* TLS 1.2 suites with forward secrecy and an AEAD (TLS 1.3's default suites
 * are all of that kind); the order prefers ECDSA then AES-GCM, which has
 * hardware support on the machines this runs on. */
#define TLS_CIPHERS_12                                                                             \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* How long past h2o's handshake timeout an old context is kept: the timeout
 * is checked by the loop's timers, which a busy loop runs late. */
#define TLS_GRACE_SLACK_US (10 * 1000000LL)

/* The first OpenSSL error on the queue as text (then clears the queue). */
static void tls_err(char *err, size_t errcap, const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char why[256] = "unknown error";
    if (e) ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    snprintf(err, errcap, "%s%s%s: %s", what, path ? " " : "", path ? path : "", why);
}

int tls_context_new(const char *cert, const char *key, SSL_CTX **out, char *err, size_t errcap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_err(err, errcap, "cannot create a TLS context", NULL);
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
        tls_err(err, errcap, "cannot set the TLS 1.2 ciphers", NULL);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        tls_err(err, errcap, "public.tls_cert: cannot read", cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        /* OpenSSL compares the key with the certificate as it loads it. */
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            snprintf(err, errcap, "public.tls_key %s does not match public.tls_cert %s", key, cert);
        } else {
            tls_err(err, errcap, "public.tls_key: cannot read", key);
        }
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_err(err, errcap, "public.tls_key does not match public.tls_cert", NULL);
        goto fail;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols); /* h2, then http/1.1 */
    *out = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    return -EINVAL;
}

int tls_load(struct serve *s, char *err, size_t errcap)
{
    const char *cert = homing_config_settings(s->config)->public.tls_cert;
    const char *key = homing_config_settings(s->config)->public.tls_key;
    pthread_mutex_init(&s->tls_lock, NULL);
    if (!*cert && !*key) return 0;
    if (!*cert || !*key) {
        snprintf(err, errcap,
                 "public.tls_cert and public.tls_key go together: set both or "
                 "neither");
        return -EINVAL;
    }
    return tls_context_new(cert, key, &s->tls_ctx, err, errcap);
}

int tls_reload(struct serve *s)
{
    if (!s->tls_ctx) return 0; /* cleartext listener: a restart turns TLS on */
    char err[512];
    SSL_CTX *ctx;
    if (tls_context_new(homing_config_settings(s->config)->public.tls_cert,
                        homing_config_settings(s->config)->public.tls_key, &ctx, err,
                        sizeof err) < 0) {
        log_error("reload: %s: keeping the certificate in use", err);
        return -EINVAL;
    }
    pthread_mutex_lock(&s->tls_lock);
    SSL_CTX *old = s->tls_ctx;
    s->tls_ctx = ctx;
    atomic_fetch_add(&s->tls_gen, 1);
    pthread_mutex_unlock(&s->tls_lock);
    SSL_CTX_free(old); /* the loops' and connections' references keep it while used */
    return 0;
}

void tls_worker_attach(struct worker *w)
{
    struct serve *s = w->serve;
    pthread_mutex_lock(&s->tls_lock);
    if (s->tls_ctx) SSL_CTX_up_ref(s->tls_ctx);
    w->accept_ctx.ssl_ctx = s->tls_ctx;
    w->tls_gen = atomic_load(&s->tls_gen);
    pthread_mutex_unlock(&s->tls_lock);
}

/* Frees the retired contexts whose grace is over (all of them with force):
 * no connection this loop accepted before the switch can still be waiting
 * for its first bytes. */
static void tls_worker_expire(struct worker *w, int force)
{
    int64_t grace_us =
        (int64_t)w->serve->public_conf.handshake_timeout * 1000LL + TLS_GRACE_SLACK_US;
    int64_t now = force ? 0 : homing_mono_us();
    unsigned kept = 0;
    for (unsigned i = 0; i < w->tls_nretired; i++) {
        if (force || now - w->tls_retired[i].since_us >= grace_us)
            SSL_CTX_free(w->tls_retired[i].ctx);
        else
            w->tls_retired[kept++] = w->tls_retired[i];
    }
    w->tls_nretired = kept;
}

void tls_worker_refresh(struct worker *w)
{
    struct serve *s = w->serve;
    if (w->tls_nretired) tls_worker_expire(w, 0);
    if (atomic_load_explicit(&s->tls_gen, memory_order_acquire) == w->tls_gen) return;
    if (w->tls_nretired == TLS_RETIRED_MAX) return; /* switch once one's grace is over */
    SSL_CTX *old = w->accept_ctx.ssl_ctx;
    tls_worker_attach(w);
    if (old) {
        w->tls_retired[w->tls_nretired].ctx = old;
        w->tls_retired[w->tls_nretired].since_us = homing_mono_us();
        w->tls_nretired++;
    }
}

void tls_worker_detach(struct worker *w)
{
    tls_worker_expire(w, 1);
    SSL_CTX_free(w->accept_ctx.ssl_ctx);
    w->accept_ctx.ssl_ctx = NULL;
}

void tls_free(struct serve *s)
{
    SSL_CTX_free(s->tls_ctx);
    s->tls_ctx = NULL;
    pthread_mutex_destroy(&s->tls_lock);
}
