/*
 * auth_spf.c: SPF (RFC 7208) re-verified now with libspf2, for the address
 * that connected to the trusted boundary, its HELO name and the envelope
 * sender (Return-Path). libspf2's DNS goes through a layer of our own that
 * asks struct homing_resolver, so tests answer from a zone file.
 *
 * Contract: fills out with "result" (none, neutral, pass, fail, softfail,
 * temperror, permerror), "domain" (the identity checked) and "explanation";
 * returns a negative errno only when memory or libspf2 itself fails. libspf2
 * prints warnings to stderr by default; its handlers are silenced because the
 * library never logs. Safe to call from several threads at once (a libspf2
 * server per thread, see spf_thread_get).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "trace_int.h"

static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
                                  int should_cache)
{
    (void)should_cache;
    struct homing_resolver *res = srv->hook;
    struct homing_dns_answer a = {0};
    int rc = res->lookup(res->ctx, domain, (enum homing_rr)type, &a);
    if (rc == -ENOENT) return SPF_dns_rr_new_nxdomain(srv, domain);
    if (rc < 0) return SPF_dns_rr_new_init(srv, domain, type, 0, TRY_AGAIN);
    SPF_dns_rr_t *rr = SPF_dns_rr_new_init(srv, domain, type, 0, a.n ? NETDB_SUCCESS : NO_DATA);
    if (!rr) {
        homing_dns_answer_clear(&a);
        return NULL;
    }
    int k = 0;
    for (size_t i = 0; i < a.n; i++) {
        const char *v = a.rr[i];
        if (type == ns_t_mx) { /* "pref host" -> host */
            const char *sp = strchr(v, ' ');
            if (sp) v = sp + 1;
        }
        size_t need = type == ns_t_a      ? sizeof(struct in_addr)
                      : type == ns_t_aaaa ? sizeof(struct in6_addr)
                                          : strlen(v) + 1;
        if (SPF_dns_rr_buf_realloc(rr, k, need) != SPF_E_SUCCESS) break;
        if (type == ns_t_a) {
            if (inet_pton(AF_INET, v, &rr->rr[k]->a) != 1) continue;
        } else if (type == ns_t_aaaa) {
            if (inet_pton(AF_INET6, v, &rr->rr[k]->aaaa) != 1) continue;
        } else {
            memcpy(rr->rr[k]->txt, v, need);
        }
        k++;
    }
    rr->num_rr = k;
    if (k == 0 && a.n) rr->herrno = NO_DATA;
    homing_dns_answer_clear(&a);
    return rr;
}

/* A libspf2 server and its DNS layer, kept per thread: SPF_server_new_dns
 * compiles the default explanation and local policy and asks for the host
 * name, about a quarter of an SPF check when it was done per call. libspf2
 * does not promise that a server may be used by two threads at once, so each
 * thread has its own, freed when the thread ends (spf_thread_free; the main
 * thread's lives as long as the process). The layer's hook is the resolver of
 * the check in progress. */
struct spf_thread {
    SPF_dns_server_t layer;
    SPF_server_t *srv;
};

static pthread_once_t spf_once = PTHREAD_ONCE_INIT;
static pthread_key_t spf_key;
static int spf_key_ready;

static void spf_thread_free(void *p)
{
    struct spf_thread *t = p;
    SPF_server_free(t->srv); /* the layer's destroy is NULL: it is ours */
    free(t);
}

static void spf_setup(void)
{
    SPF_warning_handler = NULL;
    SPF_info_handler = NULL;
    SPF_debug_handler = NULL;
    spf_key_ready = pthread_key_create(&spf_key, spf_thread_free) == 0;
}

static struct spf_thread *spf_thread_get(void)
{
    pthread_once(&spf_once, spf_setup);
    if (!spf_key_ready) return NULL;
    struct spf_thread *t = pthread_getspecific(spf_key);
    if (t) return t;
    if (!(t = calloc(1, sizeof *t))) return NULL;
    t->layer.destroy = NULL;
    t->layer.lookup = layer_lookup;
    t->layer.name = "homing";
    if (!(t->srv = SPF_server_new_dns(&t->layer, 0))) {
        free(t);
        return NULL;
    }
    if (pthread_setspecific(spf_key, t) != 0) {
        spf_thread_free(t);
        return NULL;
    }
    return t;
}

int auth_spf_check(struct homing_resolver *res, const char *ip, const char *helo,
                   const char *mailfrom, json_t *out)
{
    struct spf_thread *t = spf_thread_get();
    if (!t) return -ENOMEM;
    t->layer.hook = res;
    SPF_request_t *req = SPF_request_new(t->srv);
    SPF_response_t *resp = NULL;
    int rc = 0;
    const char *result = "permerror";
    if (!req) {
        rc = -ENOMEM;
        goto done;
    }
    int v6 = strchr(ip, ':') != NULL;
    /* libspf2 answers pass for every loopback client before it looks at any
     * record ("localhost always gets a free ride"), which made a domain with
     * no SPF record and no DNS at all pass. A loopback client is checked as
     * its IPv4-mapped form instead, which libspf2 does not short-circuit:
     * whether a record exists (none), whether DNS works (temperror) and
     * whether the record parses (permerror) do not depend on the address.
     * Its ip4 and a mechanisms do not match a mapped address, though, so any
     * other answer is not reported (loopback_checked below). */
    int loopback = 0;
    struct in_addr a4;
    if (!v6 && inet_pton(AF_INET, ip, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) {
        struct in6_addr m = {0};
        m.s6_addr[10] = m.s6_addr[11] = 0xff;
        memcpy(m.s6_addr + 12, &a4, 4);
        loopback = SPF_request_set_ipv6(req, m) == SPF_E_SUCCESS;
    }
    if (!loopback && (v6 ? SPF_request_set_ipv6_str(req, ip) : SPF_request_set_ipv4_str(req, ip)) !=
                         SPF_E_SUCCESS) {
        json_object_set_new(out, "result", json_string("permerror"));
        json_object_set_new(out, "note", json_string("connecting address not usable"));
        goto done;
    }
    if (helo && *helo && SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) helo = NULL;
    /* An empty Return-Path (a bounce) means RFC 7208 2.4: check the HELO. */
    const char *identity = helo;
    if (mailfrom && *mailfrom) {
        const char *at = strrchr(mailfrom, '@');
        identity = at ? at + 1 : mailfrom;
        if (SPF_request_set_env_from(req, mailfrom) != SPF_E_SUCCESS) identity = NULL;
    }
    /* libspf2 aborts the process (SPF_errorx "domain is NULL") when it has no
     * domain to check, so a message with neither a usable Return-Path domain
     * nor a HELO name is answered here: there is nothing to verify. */
    if (!identity || !*identity) {
        json_object_set_new(out, "result", json_string("none"));
        json_object_set_new(out, "note", json_string("no domain to check (Return-Path and HELO)"));
        json_object_set_new(out, "ip", json_string(ip));
        goto done;
    }
    SPF_errcode_t qe = SPF_request_query_mailfrom(req, &resp);
    if (resp) result = SPF_strresult(SPF_response_result(resp));
    if (!result || result[0] == '(') result = "permerror";
    /* libspf2 reports a temporary DNS failure as an invalid result; RFC 7208
     * 2.6.6 calls it temperror, and it must not read as a broken record. */
    if (qe == SPF_E_DNS_ERROR && (!resp || SPF_response_result(resp) != SPF_RESULT_PASS))
        result = "temperror";
    if (loopback && strcmp(result, "none") != 0 && strcmp(result, "temperror") != 0 &&
        strcmp(result, "permerror") != 0) {
        json_object_set_new(out, "result", json_null());
        json_object_set_new(out, "note",
                            json_string("loopback client: libspf2 cannot evaluate the record "
                                        "for a loopback address, so it was not checked"));
    } else {
        json_object_set_new(out, "result", json_string(result));
    }
    json_object_set_new(out, "domain", identity ? json_string(identity) : json_null());
    json_object_set_new(out, "ip", json_string(ip));
done:
    if (resp) SPF_response_free(resp);
    if (req) SPF_request_free(req);
    t->layer.hook = NULL;
    return rc;
}
