/*
 * auth_dkim_opendkim.c: the libopendkim-based DKIM verifier that auth_dkim.c
 * (our own, on libcrypto) replaced as the default, kept as the reference it is
 * checked against (tests/unit/test_dkim_diff.c signs message variants with
 * libopendkim and asserts both verifiers agree, docs/internals/trace.md) and
 * as a choice at run time: `homing trace --dkim-verifier opendkim`
 * (HOMING_DKIM_OPENDKIM in struct homing_trace_options).
 *
 * Key queries go through OpenDKIM's pluggable DNS hooks to struct
 * homing_resolver: the answer is rebuilt as a DNS reply packet because that
 * is what libopendkim parses.
 *
 * Contract: that of auth_dkim_verify (auth_dkim.c, trace_int.h), with
 * OpenDKIM's own reasons in "error". Safe to call from several threads at once
 * (one library handle for the process, see dkim_lib_get).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <opendkim/dkim.h>

#include "trace_int.h"

struct dkim_query {
    size_t len;
    int error;
};

/* OpenDKIM's DNS hooks belong to the library handle, which is shared, while
 * the resolver belongs to the call: auth_dkim_verify points this at its
 * resolver for the duration of the verification, and OpenDKIM calls its hooks
 * synchronously from the calling thread (dkim_eoh, dkim_eom). */
static __thread struct homing_resolver *dkim_resolver;

/* Writes a DNS reply packet for (qname, TXT) with the given answer. */
static int build_reply(const char *qname, int qtype, int rcode, const struct homing_dns_answer *a,
                       unsigned char *buf, size_t cap, size_t *len)
{
    size_t o = 12;
    if (cap < 12) return -ENOSPC;
    memset(buf, 0, 12);
    buf[2] = 0x81; /* QR, RD */
    buf[3] = (unsigned char)(0x80 | (rcode & 0x0f));
    buf[5] = 1; /* QDCOUNT */
    /* Question name, label by label. */
    const char *p = qname;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 || l > 63 || o + l + 1 >= cap) return -ENOSPC;
        buf[o++] = (unsigned char)l;
        memcpy(buf + o, p, l);
        o += l;
        p += l;
        if (*p == '.') p++;
    }
    if (o + 5 > cap) return -ENOSPC;
    buf[o++] = 0;
    buf[o++] = (unsigned char)(qtype >> 8);
    buf[o++] = (unsigned char)qtype;
    buf[o++] = 0;
    buf[o++] = 1;
    size_t an = 0;
    for (size_t i = 0; a && i < a->n; i++) {
        size_t tl = strlen(a->rr[i]);
        size_t rdlen = tl + (tl + 254) / 255 + (tl == 0);
        if (rdlen > 0xffff || o + 12 + rdlen > cap) return -ENOSPC;
        buf[o++] = 0xc0; /* pointer to the question name */
        buf[o++] = 12;
        buf[o++] = 0;
        buf[o++] = ns_t_txt;
        buf[o++] = 0;
        buf[o++] = 1;
        buf[o++] = 0;
        buf[o++] = 0;
        buf[o++] = 1;
        buf[o++] = 0x2c; /* TTL 300 */
        buf[o++] = (unsigned char)(rdlen >> 8);
        buf[o++] = (unsigned char)rdlen;
        size_t k = 0;
        do {
            size_t cl = tl - k > 255 ? 255 : tl - k;
            buf[o++] = (unsigned char)cl;
            memcpy(buf + o, a->rr[i] + k, cl);
            o += cl;
            k += cl;
        } while (k < tl);
        an++;
    }
    buf[6] = (unsigned char)(an >> 8);
    buf[7] = (unsigned char)an;
    *len = o;
    return 0;
}

static int q_start(void *srv, int type, unsigned char *query, unsigned char *buf, size_t buflen,
                   void **qh)
{
    (void)srv;
    struct homing_resolver *res = dkim_resolver;
    struct dkim_query *q = calloc(1, sizeof *q);
    if (!q) return DKIM_DNS_ERROR;
    struct homing_dns_answer a = {0};
    int rc = !res               ? -EAGAIN /* never: set around every OpenDKIM call */
             : type == ns_t_txt ? res->lookup(res->ctx, (const char *)query, HOMING_RR_TXT, &a)
                                : -ENOENT;
    if (rc == -EAGAIN || (rc < 0 && rc != -ENOENT)) {
        q->error = 1;
    } else if (build_reply((const char *)query, type, rc == -ENOENT ? 3 : 0, &a, buf, buflen,
                           &q->len) < 0) {
        q->error = 1;
    }
    homing_dns_answer_clear(&a);
    *qh = q;
    return 0;
}

static int q_cancel(void *srv, void *qh)
{
    (void)srv;
    free(qh);
    return 0;
}

static int q_wait(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error, int *dnssec)
{
    (void)srv;
    (void)to;
    struct dkim_query *q = qh;
    if (dnssec) *dnssec = DKIM_DNSSEC_UNKNOWN;
    if (q->error) {
        if (error) *error = 1;
        return DKIM_DNS_ERROR;
    }
    if (bytes) *bytes = q->len;
    if (error) *error = 0;
    return DKIM_DNS_SUCCESS;
}

/* One DKIM_LIB for the process, made on first use and kept to the end:
 * dkim_init runs res_init (stat of /etc/resolv.conf) and sets up its tables,
 * a tenth of the verification of a small message when it was done per call.
 * OpenDKIM's own milter shares one handle between all its threads; the handle
 * is only read after this setup. A failed dkim_init (out of memory) is tried
 * again on the next call. */
static pthread_mutex_t dkim_lib_lock = PTHREAD_MUTEX_INITIALIZER;
static DKIM_LIB *dkim_lib;

static DKIM_LIB *dkim_lib_get(void)
{
    pthread_mutex_lock(&dkim_lib_lock);
    if (!dkim_lib) {
        DKIM_LIB *lib = dkim_init(NULL, NULL);
        if (lib) {
            unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
            dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
            dkim_dns_set_init(lib, NULL);
            dkim_dns_set_close(lib, NULL);
            dkim_dns_set_nslist(lib, NULL);
            dkim_dns_set_config(lib, NULL);
            dkim_dns_set_trustanchor(lib, NULL);
            dkim_dns_set_query_service(lib, NULL);
            dkim_dns_set_query_start(lib, q_start);
            dkim_dns_set_query_cancel(lib, q_cancel);
            dkim_dns_set_query_waitreply(lib, q_wait);
        }
        dkim_lib = lib;
    }
    DKIM_LIB *lib = dkim_lib;
    pthread_mutex_unlock(&dkim_lib_lock);
    return lib;
}

static const char *alg_name(DKIM_SIGINFO *sig)
{
    dkim_alg_t alg;
    if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK) return NULL;
    switch (alg) {
    case DKIM_SIGN_RSASHA1: return "rsa-sha1";
    case DKIM_SIGN_RSASHA256: return "rsa-sha256";
    case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
    default: return "unknown";
    }
}

int auth_dkim_verify_opendkim(struct homing_resolver *res, const char *msg, size_t len,
                              json_t *out_arr)
{
    /* RFC 5322 has no NUL bytes, and OpenDKIM 2.11 reads past its own buffers
     * when a header holds one (found by fuzz/fuzz_received.c): such a message is
     * reported, never handed to the library. */
    if (memchr(msg, '\0', len)) {
        json_array_append_new(out_arr, json_pack("{s:s, s:s}", "result", "permerror", "note",
                                                 "message contains NUL bytes: not verified"));
        return 0;
    }
    if (!trace_names_dkim_signature(msg, len)) return 0;
    DKIM_LIB *lib = dkim_lib_get();
    if (!lib) return -ENOMEM;

    DKIM_STAT st;
    DKIM *d = dkim_verify(lib, (const unsigned char *)"homing-trace", NULL, &st);
    if (!d) return -ENOMEM;
    int rc = 0;
    /* dkim_chunk reads the raw message as opendkim-testmsg does. */
    dkim_resolver = res;
    st = dkim_chunk(d, (unsigned char *)(uintptr_t)msg, len);
    if (st == DKIM_STAT_OK) st = dkim_chunk(d, NULL, 0);
    if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG) {
        _Bool testkey;
        (void)dkim_eom(d, &testkey);
    }
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;
    if (dkim_getsiglist(d, &sigs, &nsigs) == DKIM_STAT_OK) {
        for (int i = 0; i < nsigs && i < HOMING_TRACE_DKIM_SIGS_MAX; i++) {
            DKIM_SIGINFO *s = sigs[i];
            unsigned int f = dkim_sig_getflags(s);
            int bh = dkim_sig_getbh(s);
            int err = dkim_sig_geterror(s);
            const char *result;
            if ((f & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
                result = "pass";
            else if (err == DKIM_SIGERROR_KEYFAIL || err == DKIM_SIGERROR_DNSSYNTAX)
                result = "temperror";
            else if (err == DKIM_SIGERROR_NOKEY || err == DKIM_SIGERROR_KEYREVOKED ||
                     err == DKIM_SIGERROR_KEYDECODE || err == DKIM_SIGERROR_MULTIREPLY)
                result = "permerror";
            else if (!(f & DKIM_SIGFLAG_PROCESSED))
                result = "neutral";
            else
                result = "fail";
            const char *es = err != DKIM_SIGERROR_OK ? dkim_sig_geterrorstr(err) : NULL;
            if (!es && bh == DKIM_SIGBH_MISMATCH) es = "body hash mismatch";
            json_t *o = json_object();
            if (!o) {
                rc = -ENOMEM;
                break;
            }
            const char *dom = (const char *)dkim_sig_getdomain(s);
            const char *sel = (const char *)dkim_sig_getselector(s);
            json_object_set_new(o, "d", dom ? json_string(dom) : json_null());
            json_object_set_new(o, "s", sel ? json_string(sel) : json_null());
            const char *an = alg_name(s);
            json_object_set_new(o, "algorithm", an ? json_string(an) : json_null());
            json_object_set_new(o, "result", json_string(result));
            json_object_set_new(o, "error", es ? json_string(es) : json_null());
            json_object_set_new(o, "key_missing_now", json_boolean(err == DKIM_SIGERROR_NOKEY));
            json_array_append_new(out_arr, o);
        }
    }
    dkim_free(d);
    dkim_resolver = NULL;
    return rc;
}
