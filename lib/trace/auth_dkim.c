/*
 * auth_dkim.c: DKIM (RFC 6376; RSA-SHA256, RSA-SHA1, and Ed25519-SHA256 per
 * RFC 8463) re-verified now, with our own verifier on libcrypto. It replaced
 * libopendkim because OpenDKIM decodes every RSA key with d2i_PUBKEY_bio,
 * which on OpenSSL 3.0 builds a whole decoder chain per call (130-210 us per
 * key, a third of a verified trace; docs/benchmarks.md, Trace), where
 * d2i_RSA_PUBKEY on the same bytes takes 2-3 us. OpenDKIM stays the reference
 * and a run-time choice (auth_dkim_opendkim.c, `trace --dkim-verifier
 * opendkim`); tests/unit/test_dkim_diff.c checks that both give the same d, s,
 * algorithm and result.
 *
 * Contract: appends one object per signature to out_arr with "d", "s",
 * "algorithm", "result" (pass, fail, neutral, permerror, temperror), "error"
 * (OpenDKIM's wording for the reason, null on pass) and "key_missing_now"
 * (the selector has no key now, the usual sign of a rotated key). A message
 * without signatures appends nothing; neither does one whose header section
 * has a line that is not a field (OpenDKIM refuses those whole). At most
 * HOMING_TRACE_DKIM_SIGS_MAX signatures, the topmost, are verified and
 * reported. Keys are looked up through res (TXT at s._domainkey.d), one lookup
 * per signature, nothing kept between calls. Returns a negative errno only on
 * resource failure (then out_arr may hold the objects of the signatures before
 * it). Thread-safe: no state outside the call but libcrypto's.
 *
 * Input is attacker text: every loop is bounded by the message length and the
 * limits below, and no field or tag is copied beyond them. Bare LF line ends
 * are taken as CRLF, as OpenDKIM does with DKIM_LIBFLAGS_FIXCRLF.
 */
/* RSA keys are read with d2i_RSA_PUBKEY and checked with RSA_verify: both are
 * deprecated in OpenSSL 3.0, but the EVP route decodes through the provider
 * decoders (the cost this file exists to avoid) and RSA_verify skips the
 * per-call EVP_PKEY_CTX and key export to a provider, a third of what is left
 * of an RSA verification (measured, docs/benchmarks.md). The API is stable in
 * 3.x; this keeps -Werror builds quiet about it. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "lib/mime/mime_int.h"
#include "auth_dkim_int.h"

static const char *const err_str[E_COUNT] = {
    [E_VERSION] = "unsupported signature version",
    [E_DOMAIN] = "invalid domain coverage",
    [E_EXPIRED] = "signature expired",
    [E_FUTURE] = "signature timestamp in the future",
    [E_TIMESTAMPS] = "signature timestamp order error",
    [E_INVALID_HC] = "invalid header canonicalization",
    [E_INVALID_BC] = "invalid body canonicalization",
    [E_MISSING_A] = "signature algorithm missing",
    [E_INVALID_A] = "signature algorithm invalid",
    [E_MISSING_H] = "header list missing",
    [E_INVALID_L] = "body length value invalid",
    [E_INVALID_Q] = "query method invalid",
    [E_INVALID_QO] = "query option invalid",
    [E_MISSING_D] = "domain tag missing",
    [E_EMPTY_D] = "domain tag empty",
    [E_MISSING_S] = "selector tag missing",
    [E_EMPTY_S] = "selector tag empty",
    [E_MISSING_B] = "signature data missing",
    [E_EMPTY_B] = "signature data empty",
    [E_CORRUPT_B] = "signature data corrupt",
    [E_NOKEY] = "key not found in DNS",
    [E_DNSSYNTAX] = "key DNS reply corrupt",
    [E_KEYFAIL] = "key DNS query failed",
    [E_MISSING_BH] = "body hash missing",
    [E_EMPTY_BH] = "body hash empty",
    [E_CORRUPT_BH] = "body hash corrupt",
    [E_BADSIG] = "signature verification failed",
    [E_SUBDOMAIN] = "unauthorized subdomain",
    [E_MULTIREPLY] = "multiple keys found",
    [E_EMPTY_H] = "header list tag empty",
    [E_INVALID_H] = "header list missing required entries",
    [E_TOOLARGE_L] = "length tag value exceeds body size",
    [E_KEYVERSION] = "unknown key version",
    [E_KEYUNKNOWNHASH] = "unknown key hash",
    [E_KEYHASHMISMATCH] = "signature-key hash mismatch",
    [E_NOTEMAILKEY] = "not an e-mail key",
    [E_KEYTYPEMISSING] = "key type missing",
    [E_KEYTYPEUNKNOWN] = "unknown key type",
    [E_KEYREVOKED] = "key revoked",
    [E_KEYDECODE] = "unable to apply public key",
    [E_MISSING_V] = "version missing",
    [E_EMPTY_V] = "version empty",
    [E_KEYTOOSMALL] = "signing key too small",
    [E_TAGSYNTAX] = "signature tag-list malformed",
    [E_TAGDUP] = "signature tag duplicated",
    [E_TIMESYNTAX] = "signature timestamp malformed",
};

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Blanks a tag-list may hold between its parts: WSP and the CR LF of folding. */
static bool is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool slice_is(struct homing_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool slice_case_is(struct homing_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* RFC 6376 3.2 tag-list: tag-spec *( ";" tag-spec ) [ ";" ]. Returns 0, or
 * -EBADMSG when it is malformed or over DKIM_TAGS_MAX tags. A tag named twice
 * sets out->dup ("Tags with duplicate names MUST NOT occur": the caller makes
 * it a permanent error) and the first is kept. */
static int taglist_parse(const char *p, size_t len, struct dkim_taglist *out)
{
    size_t i = 0;
    out->n = 0;
    out->dup = false;
    if (len > DKIM_TAGLIST_MAX) return -EBADMSG;
    while (i < len) {
        while (i < len && is_fws(p[i])) i++;
        if (i == len) break;
        size_t ns = i;
        /* tag-name = ALPHA *ALNUMPUNC */
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))) return -EBADMSG;
        while (i < len && (((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') ||
                           (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            i++;
        size_t ne = i;
        while (i < len && is_fws(p[i])) i++;
        if (i == len || p[i] != '=') return -EBADMSG;
        i++;
        while (i < len && is_fws(p[i])) i++;
        size_t vs = i;
        while (i < len && p[i] != ';') i++;
        size_t ve = i;
        while (ve > vs && is_fws(p[ve - 1])) ve--;
        if (out->n >= DKIM_TAGS_MAX) return -EBADMSG;
        struct dkim_tag *t = &out->t[out->n];
        t->name = (struct homing_slice){p + ns, ne - ns};
        t->value = (struct homing_slice){p + vs, ve - vs};
        t->value_off = vs;
        t->next_off = i;
        bool dup = false;
        for (size_t k = 0; k < out->n && !dup; k++)
            dup = out->t[k].name.len == t->name.len &&
                  memcmp(out->t[k].name.p, t->name.p, t->name.len) == 0;
        if (dup)
            out->dup = true;
        else
            out->n++;
        if (i < len) i++; /* the ';' */
    }
    return 0;
}

static const struct dkim_tag *tag_get(const struct dkim_taglist *tl, const char *name)
{
    for (size_t k = 0; k < tl->n; k++)
        if (slice_is(tl->t[k].name, name)) return &tl->t[k];
    return NULL;
}

/* Base64 (RFC 4648) of b=, bh= and p=. Characters outside the alphabet (the
 * folding blanks DKIM allows, padding, and anything else) are skipped, as
 * OpenDKIM's decoder does: a stray character then makes the signature fail
 * to verify rather than be malformed, the answer the reference gives. Returns
 * the decoded length, or -EBADMSG past cap bytes. */
static int b64_decode(struct homing_slice in, unsigned char *out, size_t cap)
{
    int r = homing_base64_decode(in.p, in.len, out, cap, HOMING_B64_SKIP);
    return r == -E2BIG ? -EBADMSG : r;
}

/* ---- the message: header fields and body ---- */

/* Splits the header section into fields as OpenDKIM reads it (the shared
 * reader of lib/mime: a field runs to the next line that does not start with
 * WSP, its name to the colon), refusing a header with a line that is not a
 * field. Returns 0 with *body_off at the body (after the empty line; the
 * message's end when there is none), -EBADMSG for a line that is not a field,
 * -E2BIG past HOMING_TRACE_FIELDS_MAX fields, -ENOMEM. */
static int fields_split(const char *msg, size_t len, struct dkim_field **fv, size_t *nf,
                        size_t *body_off)
{
    size_t pos = 0, n = 0, cap = 0;
    struct dkim_field *f = NULL;
    struct homing_mime_field mf;
    int rc;
    while ((rc = homing_mime_field_next(msg, len, &pos, &mf)) > 0) {
        rc = n >= HOMING_TRACE_FIELDS_MAX ? -E2BIG
                                          : homing_array_grow((void **)&f, &cap, n, sizeof *f, 32);
        if (rc < 0) break;
        f[n++] = (struct dkim_field){mf.start, mf.end, mf.colon, mf.name.len};
    }
    if (rc < 0) {
        free(f);
        return rc;
    }
    *body_off = pos;
    *fv = f;
    *nf = n;
    return 0;
}

/* Canonical bytes go through a small buffer into the digest, and stop at the
 * l= limit. */
struct canon_out {
    EVP_MD_CTX *md;
    unsigned char buf[DKIM_CANON_BUF];
    size_t n;
    bool limited;
    uint64_t left;  /* bytes still hashed when limited */
    uint64_t total; /* canonical bytes produced, hashed or not */
    bool fail;
};

static void co_flush(struct canon_out *co)
{
    if (co->n && EVP_DigestUpdate(co->md, co->buf, co->n) != 1) co->fail = true;
    co->n = 0;
}

static void co_put(struct canon_out *co, const char *p, size_t n)
{
    co->total += n;
    if (co->limited) {
        if (co->left < n) n = (size_t)co->left;
        co->left -= n;
    }
    while (n) {
        size_t room = sizeof co->buf - co->n, k = n < room ? n : room;
        memcpy(co->buf + co->n, p, k);
        co->n += k;
        p += k;
        n -= k;
        if (co->n == sizeof co->buf) co_flush(co);
    }
}

/* One header field canonicalised (RFC 6376 3.4.1, 3.4.2), with [cut_from,
 * cut_to) of the raw field left out (the b= value of the signature being
 * verified) and, with crlf false, no line end after it (the signature field
 * is hashed last and without one). Bare LF counts as CRLF. */
static void canon_header(struct canon_out *co, const char *msg, const struct dkim_field *f,
                         enum dkim_canon c, size_t cut_from, size_t cut_to, bool crlf)
{
    size_t end = f->end;
    /* the field's own line end is not part of its value */
    if (end > f->start && msg[end - 1] == '\n') end--;
    if (end > f->start && msg[end - 1] == '\r') end--;
    if (c == CANON_SIMPLE) {
        for (size_t i = f->start; i < end; i++) {
            if (i == cut_from) {
                i = cut_to - 1;
                continue;
            }
            if (msg[i] == '\n' && (i == f->start || msg[i - 1] != '\r')) co_put(co, "\r", 1);
            co_put(co, msg + i, 1);
        }
    } else {
        char name[256];
        size_t nl = f->name_len;
        for (size_t i = 0; i < nl; i++) {
            char ch = msg[f->start + i];
            name[i % sizeof name] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
            if (i % sizeof name == sizeof name - 1) co_put(co, name, sizeof name);
        }
        co_put(co, name, nl % sizeof name);
        co_put(co, ":", 1);
        /* Unfold, runs of WSP to one SP, none at the start or the end. */
        bool pending_sp = false, started = false;
        for (size_t i = f->colon + 1; i < end; i++) {
            if (i == cut_from) {
                i = cut_to - 1;
                continue;
            }
            char ch = msg[i];
            if (ch == '\r' || ch == '\n') continue;
            if (is_wsp(ch)) {
                pending_sp = started;
                continue;
            }
            if (pending_sp) co_put(co, " ", 1);
            pending_sp = false;
            started = true;
            co_put(co, &ch, 1);
        }
    }
    if (crlf) co_put(co, "\r\n", 2);
}

/* The body canonicalised (RFC 6376 3.4.3, 3.4.4) into co, line by line.
 * Empty lines are held back and written only when a non-empty line follows,
 * so the trailing ones disappear; simple writes a lone CRLF for an empty body. */
static void canon_body(struct canon_out *co, const char *p, size_t len, enum dkim_canon c)
{
    uint64_t held = 0;
    bool any = false;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - p) : len, next = nl ? e + 1 : len;
        if (nl && e > i && p[e - 1] == '\r') e--;
        if (c == CANON_RELAXED) {
            while (e > i && is_wsp(p[e - 1])) e--;
        }
        if (e == i) {
            held++;
        } else {
            for (; held; held--) co_put(co, "\r\n", 2);
            if (c == CANON_SIMPLE) {
                co_put(co, p + i, e - i);
            } else {
                size_t k = i;
                while (k < e) {
                    size_t r = k;
                    while (r < e && !is_wsp(p[r])) r++;
                    co_put(co, p + k, r - k);
                    if (r == e) break;
                    while (r < e && is_wsp(p[r])) r++;
                    co_put(co, " ", 1);
                    k = r;
                }
            }
            co_put(co, "\r\n", 2);
            any = true;
        }
        i = next;
    }
    if (!any && c == CANON_SIMPLE) co_put(co, "\r\n", 2);
}

static const EVP_MD *alg_md(enum dkim_alg a)
{
    return a == ALG_RSA_SHA1 ? EVP_sha1() : EVP_sha256();
}

/* ---- one signature: its tags ---- */

static uint64_t parse_uint(struct homing_slice v, bool *ok)
{
    uint64_t x = 0;
    *ok = v.len > 0 && v.len <= 19;
    for (size_t i = 0; *ok && i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            *ok = false;
        else
            x = x * 10 + (uint64_t)(v.p[i] - '0');
    }
    return x;
}

/* Whether dom is d or a subdomain of it (case-insensitive). */
static bool domain_within(struct homing_slice dom, struct homing_slice d)
{
    if (dom.len == d.len) return strncasecmp(dom.p, d.p, d.len) == 0;
    return dom.len > d.len && dom.p[dom.len - d.len - 1] == '.' &&
           strncasecmp(dom.p + dom.len - d.len, d.p, d.len) == 0;
}

static struct homing_slice i_domain(struct homing_slice i)
{
    const char *at = memchr(i.p, '@', i.len);
    if (!at) return (struct homing_slice){i.p + i.len, 0};
    return (struct homing_slice){at + 1, (size_t)(i.p + i.len - at - 1)};
}

/* Whether the colon-separated list of names holds name, FWS around entries
 * ignored (h= and the key's h= and s=). */
static bool list_has(struct homing_slice list, const char *name)
{
    size_t i = 0;
    while (i <= list.len) {
        size_t s = i;
        while (i < list.len && list.p[i] != ':') i++;
        size_t e = i;
        while (s < e && is_fws(list.p[s])) s++;
        while (e > s && is_fws(list.p[e - 1])) e--;
        if (slice_case_is((struct homing_slice){list.p + s, e - s}, name)) return true;
        i++;
    }
    return false;
}

/* A tag every signature has, with a value: *t is it (NULL when absent). False
 * with sig->err set to missing or empty when it is absent or empty. */
static bool tag_required(struct dkim_sig *sig, const struct dkim_taglist *tl, const char *name,
                         enum dkim_err missing, enum dkim_err empty, const struct dkim_tag **t)
{
    *t = tag_get(tl, name);
    if (*t && (*t)->value.len > 0) return true;
    sig->err = *t ? empty : missing;
    return false;
}

/* Reads the tags of one DKIM-Signature (tl already parsed) into sig and checks
 * them in the order OpenDKIM does; sig->err says what is wrong, if anything. */
static void sig_tags(struct dkim_sig *sig, const struct dkim_taglist *tl, int64_t now)
{
    const struct dkim_tag *t;
    /* d and s first: they are reported even when something else is wrong. */
    if ((t = tag_get(tl, "d"))) sig->d = t->value;
    if ((t = tag_get(tl, "s"))) sig->s = t->value;
    if (tl->dup) {
        sig->err = E_TAGDUP;
        return;
    }
    if ((t = tag_get(tl, "a"))) {
        if (slice_is(t->value, "rsa-sha256"))
            sig->alg = ALG_RSA_SHA256, sig->alg_name = "rsa-sha256";
        else if (slice_is(t->value, "rsa-sha1"))
            sig->alg = ALG_RSA_SHA1, sig->alg_name = "rsa-sha1";
        else if (slice_is(t->value, "ed25519-sha256"))
            sig->alg = ALG_ED25519_SHA256, sig->alg_name = "ed25519-sha256";
        else
            sig->alg_name = "unknown";
    }
    sig->b = tag_get(tl, "b");
    sig->bh = tag_get(tl, "bh");

    if (!tag_required(sig, tl, "v", E_MISSING_V, E_EMPTY_V, &t)) return;
    if (!slice_is(t->value, "1")) {
        sig->err = E_VERSION;
        return;
    }
    if (!(t = tag_get(tl, "a"))) {
        sig->err = E_MISSING_A;
        return;
    }
    if (sig->alg == ALG_NONE) {
        sig->err = E_INVALID_A;
        return;
    }
    if (!tag_required(sig, tl, "b", E_MISSING_B, E_EMPTY_B, &t) ||
        !tag_required(sig, tl, "bh", E_MISSING_BH, E_EMPTY_BH, &t))
        return;
    sig->hc = sig->bc = CANON_SIMPLE;
    if ((t = tag_get(tl, "c"))) {
        struct homing_slice v = t->value, hv = v, bv = {0};
        const char *slash = memchr(v.p, '/', v.len);
        if (slash) {
            hv.len = (size_t)(slash - v.p);
            bv = (struct homing_slice){slash + 1, v.len - hv.len - 1};
        }
        if (slice_is(hv, "relaxed"))
            sig->hc = CANON_RELAXED;
        else if (!slice_is(hv, "simple")) {
            sig->err = E_INVALID_HC;
            return;
        }
        if (slash) {
            if (slice_is(bv, "relaxed"))
                sig->bc = CANON_RELAXED;
            else if (!slice_is(bv, "simple")) {
                sig->err = E_INVALID_BC;
                return;
            }
        }
    }
    if (!tag_required(sig, tl, "d", E_MISSING_D, E_EMPTY_D, &t) ||
        !tag_required(sig, tl, "h", E_MISSING_H, E_EMPTY_H, &t))
        return;
    sig->h = t->value;
    if (!list_has(sig->h, "from")) {
        sig->err = E_INVALID_H;
        return;
    }
    if ((t = tag_get(tl, "i"))) {
        sig->i = t->value;
        if (!domain_within(i_domain(sig->i), sig->d)) {
            sig->err = E_DOMAIN;
            return;
        }
    }
    if ((t = tag_get(tl, "l"))) {
        bool ok;
        sig->l = parse_uint(t->value, &ok);
        if (!ok) {
            sig->err = E_INVALID_L;
            return;
        }
        sig->has_l = true;
    }
    if ((t = tag_get(tl, "q"))) {
        /* a colon-separated list of methods; dns/txt is the only one */
        if (!list_has(t->value, "dns/txt") && !list_has(t->value, "dns")) {
            sig->err = E_INVALID_Q;
            return;
        }
    }
    if (!tag_required(sig, tl, "s", E_MISSING_S, E_EMPTY_S, &t)) return;
    bool ok_t = false, ok_x = false;
    uint64_t ts = 0, tx = 0;
    if ((t = tag_get(tl, "t")) && !(ts = parse_uint(t->value, &ok_t), ok_t)) {
        sig->err = E_TIMESYNTAX;
        return;
    }
    if ((t = tag_get(tl, "x")) && !(tx = parse_uint(t->value, &ok_x), ok_x)) {
        sig->err = E_TIMESYNTAX;
        return;
    }
    if (ok_t && ok_x && tx < ts) {
        sig->err = E_TIMESTAMPS;
        return;
    }
    if (ok_x && (int64_t)tx < now) {
        sig->err = E_EXPIRED;
        return;
    }
    if (ok_t && (int64_t)ts > now + DKIM_CLOCK_DRIFT) {
        sig->err = E_FUTURE;
        return;
    }
}

/* ---- the key ---- */

static void key_clear(struct dkim_key *k)
{
    EVP_PKEY_free(k->pkey);
    RSA_free(k->rsa);
    *k = (struct dkim_key){0};
}

/* Fetches and reads the key of sig (RFC 6376 3.6.1, RFC 8463 4). Returns 0
 * with the key, a positive dkim_err, or -ENOMEM. */
static int key_fetch(struct homing_resolver *res, const struct dkim_sig *sig, struct dkim_key *key)
{
    char qname[HOMING_TRACE_TOKEN_MAX + 16];
    static const char mid[] = "._domainkey.";
    if (sig->s.len + sig->d.len + sizeof mid > sizeof qname) return E_NOKEY;
    if (memchr(sig->s.p, '\0', sig->s.len) || memchr(sig->d.p, '\0', sig->d.len)) return E_NOKEY;
    memcpy(qname, sig->s.p, sig->s.len);
    memcpy(qname + sig->s.len, mid, sizeof mid - 1);
    memcpy(qname + sig->s.len + sizeof mid - 1, sig->d.p, sig->d.len);
    qname[sig->s.len + sizeof mid - 1 + sig->d.len] = '\0';

    struct homing_dns_answer a = {0};
    int rc = res->lookup(res->ctx, qname, HOMING_RR_TXT, &a);
    if (rc == -ENOMEM) return rc;
    if (rc == -ENOENT) return E_NOKEY;
    if (rc < 0) return E_KEYFAIL;
    int err = 0;
    struct dkim_taglist *tl = NULL;
    if (a.n == 0) {
        err = E_NOKEY;
        goto out;
    }
    if (a.n > 1) {
        err = E_MULTIREPLY;
        goto out;
    }
    tl = malloc(sizeof *tl);
    if (!tl) {
        err = -ENOMEM;
        goto out;
    }
    if (taglist_parse(a.rr[0], strlen(a.rr[0]), tl) < 0) {
        err = E_DNSSYNTAX;
        goto out;
    }
    const struct dkim_tag *t;
    /* OpenDKIM takes a p= outside the base64 alphabet for a corrupt reply */
    if ((t = tag_get(tl, "p"))) {
        for (size_t i = 0; i < t->value.len; i++) {
            char c = t->value.p[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || c == '=' || is_fws(c))) {
                err = E_DNSSYNTAX;
                goto out;
            }
        }
    }
    if ((t = tag_get(tl, "v")) && !slice_is(t->value, "DKIM1")) {
        err = E_KEYVERSION;
        goto out;
    }
    if ((t = tag_get(tl, "h")) &&
        !list_has(t->value, sig->alg == ALG_RSA_SHA1 ? "sha1" : "sha256")) {
        err = E_KEYHASHMISMATCH;
        goto out;
    }
    /* k= must name a known type, but the key is read as the signature's a=
     * says, whatever k= names: OpenDKIM does the same, and a key of the other
     * kind then fails to decode. */
    bool ed = sig->alg == ALG_ED25519_SHA256;
    if ((t = tag_get(tl, "k")) && !slice_is(t->value, "ed25519") && !slice_is(t->value, "rsa")) {
        err = E_KEYTYPEUNKNOWN;
        goto out;
    }
    if ((t = tag_get(tl, "s")) && !list_has(t->value, "email") && !list_has(t->value, "*")) {
        err = E_NOTEMAILKEY;
        goto out;
    }
    if ((t = tag_get(tl, "t")) && list_has(t->value, "s") && sig->i.len) {
        struct homing_slice id = i_domain(sig->i);
        if (id.len != sig->d.len || strncasecmp(id.p, sig->d.p, id.len) != 0) {
            err = E_SUBDOMAIN;
            goto out;
        }
    }
    if (!(t = tag_get(tl, "p"))) {
        err = E_DNSSYNTAX;
        goto out;
    }
    if (t->value.len == 0) {
        err = E_KEYREVOKED;
        goto out;
    }
    unsigned char der[DKIM_KEY_BYTES_MAX];
    int n = b64_decode(t->value, der, sizeof der);
    if (n <= 0) {
        err = E_KEYDECODE;
        goto out;
    }
    if (ed) {
        key->pkey = n == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32) : NULL;
        if (!key->pkey) err = E_KEYDECODE;
        goto out;
    }
    /* SubjectPublicKeyInfo as RFC 6376 says, or a bare RSAPublicKey, which
     * OpenDKIM accepts too. */
    const unsigned char *q = der;
    key->rsa = d2i_RSA_PUBKEY(NULL, &q, n);
    if (!key->rsa) {
        q = der;
        key->rsa = d2i_RSAPublicKey(NULL, &q, n);
    }
    if (!key->rsa) {
        err = E_KEYDECODE;
        goto out;
    }
    int bits = RSA_bits(key->rsa);
    if (bits < DKIM_RSA_BITS_MIN) err = E_KEYTOOSMALL;
    if (bits > DKIM_RSA_BITS_MAX) err = E_KEYDECODE;
out:
    free(tl);
    homing_dns_answer_clear(&a);
    if (err) key_clear(key);
    return err;
}

/* The key of sig for a check (a signature or an ARC seal). Returns 0 with
 * the key; 1 when there is none to check with, sig then settled: a key record
 * that is there but unusable makes a checked signature that failed, as in
 * OpenDKIM; no key, a revoked or undecodable one are errors of their own
 * (result_word); -ENOMEM. */
static int sig_key(struct homing_resolver *res, struct dkim_sig *sig, struct dkim_key *key)
{
    int rc = key_fetch(res, sig, key);
    if (rc <= 0) return rc;
    sig->err = (enum dkim_err)rc;
    sig->processed = true;
    return 1;
}

/* ---- one signature: the hashes and the check ---- */

/* The body hash of sig, shared with an earlier signature of the same message
 * that canonicalises and hashes the body the same way. */
static int body_hash(struct dkim_sig *sigs, size_t k, const char *body, size_t blen, EVP_MD_CTX *md)
{
    struct dkim_sig *sig = &sigs[k];
    for (size_t j = 0; j < k; j++) {
        const struct dkim_sig *o = &sigs[j];
        if (o->bh_len && o->bc == sig->bc && alg_md(o->alg) == alg_md(sig->alg) &&
            o->has_l == sig->has_l && o->l == sig->l) {
            memcpy(sig->bh_digest, o->bh_digest, o->bh_len);
            sig->bh_len = o->bh_len;
            return 0;
        }
    }
    struct canon_out *co = malloc(sizeof *co);
    if (!co) return -ENOMEM;
    *co = (struct canon_out){.md = md, .limited = sig->has_l, .left = sig->l};
    if (EVP_DigestInit_ex(md, alg_md(sig->alg), NULL) != 1) co->fail = true;
    canon_body(co, body, blen, sig->bc);
    co_flush(co);
    if (!co->fail && EVP_DigestFinal_ex(md, sig->bh_digest, &sig->bh_len) != 1) co->fail = true;
    int rc = co->fail ? -ENOMEM : 0;
    if (sig->has_l && co->total < sig->l) {
        /* OpenDKIM counts this as a checked signature: fail, not neutral */
        sig->err = E_TOOLARGE_L;
        sig->processed = true;
    }
    free(co);
    return rc;
}

/* The header hash (RFC 6376 3.7): the fields h= names, each the bottom-most
 * one not used yet (a name with no field left, an over-signed one, adds
 * nothing), then the signature's own field with its b= value left out. */
static int header_hash(const struct dkim_sig *sig, const char *msg, const struct dkim_field *f,
                       size_t nf, const struct dkim_tag *b_tag, EVP_MD_CTX *md, unsigned char *out,
                       unsigned int *out_len)
{
    /* fields used so far, as a bitmap over the field table */
    size_t words = (nf + 63) / 64;
    uint64_t *used = calloc(words ? words : 1, sizeof *used);
    struct canon_out *co = malloc(sizeof *co);
    int rc = 0;
    if (!used || !co) {
        rc = -ENOMEM;
        goto out;
    }
    *co = (struct canon_out){.md = md};
    if (EVP_DigestInit_ex(md, alg_md(sig->alg), NULL) != 1) co->fail = true;
    size_t i = 0, names = 0;
    while (i <= sig->h.len && names < DKIM_H_NAMES_MAX) {
        size_t s = i;
        while (i < sig->h.len && sig->h.p[i] != ':') i++;
        size_t e = i++;
        while (s < e && is_fws(sig->h.p[s])) s++;
        while (e > s && is_fws(sig->h.p[e - 1])) e--;
        names++;
        if (s == e) continue;
        for (size_t k = nf; k-- > 0;) {
            if ((used[k / 64] >> (k % 64)) & 1) continue;
            if (f[k].name_len != e - s || strncasecmp(msg + f[k].start, sig->h.p + s, e - s))
                continue;
            used[k / 64] |= (uint64_t)1 << (k % 64);
            canon_header(co, msg, &f[k], sig->hc, SIZE_MAX, SIZE_MAX, true);
            break;
        }
    }
    /* b_tag's value is a slice of the raw field value, so its offsets are too */
    const struct dkim_field *sf = &f[sig->field];
    size_t cut_from = (size_t)(b_tag->value.p - msg);
    size_t cut_to = (size_t)(msg + sf->colon + 1 + b_tag->next_off - msg);
    canon_header(co, msg, sf, sig->hc, cut_from, cut_to, false);
    co_flush(co);
    if (!co->fail && EVP_DigestFinal_ex(md, out, out_len) != 1) co->fail = true;
    if (co->fail) rc = -ENOMEM;
out:
    free(used);
    free(co);
    return rc;
}

/* Checks b= over the header hash with the key: RSA PKCS#1 v1.5 with the hash's
 * DigestInfo (RFC 6376 3.3.1), or Ed25519 over the SHA-256 hash itself
 * (RFC 8463 3). Returns 1 for a match, 0 for none, -ENOMEM. */
static int sig_check(const struct dkim_sig *sig, const struct dkim_key *key,
                     const unsigned char *hash, unsigned int hlen, const unsigned char *b,
                     size_t blen)
{
    if (key->rsa)
        return RSA_verify(sig->alg == ALG_RSA_SHA1 ? NID_sha1 : NID_sha256, hash, hlen, b,
                          (unsigned int)blen, key->rsa) == 1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return -ENOMEM;
    int ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestVerify(ctx, b, blen, hash, hlen) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* sig_check's answer recorded in sig: passed, or E_BADSIG. 0, or -ENOMEM. */
static int sig_verdict(struct dkim_sig *sig, const struct dkim_key *key, const unsigned char *hash,
                       unsigned int hlen, const unsigned char *b, size_t blen)
{
    int rc = sig_check(sig, key, hash, hlen, b, blen);
    if (rc == 1)
        sig->passed = true;
    else if (rc == 0)
        sig->err = E_BADSIG;
    return rc < 0 ? rc : 0;
}

/* Verifies sigs[k] whose tags were read without error. */
static int sig_verify(struct homing_resolver *res, struct dkim_sig *sigs, size_t k, const char *msg,
                      const struct dkim_field *f, size_t nf, size_t body_off, size_t len,
                      EVP_MD_CTX *md)
{
    struct dkim_sig *sig = &sigs[k];
    unsigned char b[DKIM_SIG_BYTES_MAX];
    int blen = b64_decode(sig->b->value, b, sizeof b);
    if (blen <= 0) {
        sig->err = E_CORRUPT_B;
        return 0;
    }
    unsigned char bh[EVP_MAX_MD_SIZE];
    int bhlen = b64_decode(sig->bh->value, bh, sizeof bh);
    if (bhlen <= 0) {
        sig->err = E_CORRUPT_BH;
        return 0;
    }
    struct dkim_key key = {0};
    int rc = sig_key(res, sig, &key);
    if (rc != 0) return rc < 0 ? rc : 0;
    rc = body_hash(sigs, k, msg + body_off, len - body_off, md);
    unsigned char hh[EVP_MAX_MD_SIZE];
    unsigned int hhlen = 0;
    if (rc == 0) rc = header_hash(sig, msg, f, nf, sig->b, md, hh, &hhlen);
    if (rc == 0 && sig->err == E_OK) {
        sig->processed = true;
        /* OpenDKIM reports a body that does not match as a failed signature */
        if ((unsigned)bhlen != sig->bh_len || memcmp(bh, sig->bh_digest, sig->bh_len) != 0) {
            sig->err = E_BADSIG;
        } else {
            rc = sig_verdict(sig, &key, hh, hhlen, b, (size_t)blen);
        }
    }
    key_clear(&key);
    return rc;
}

/* ---- the entry point ---- */

/* The result word as it was with OpenDKIM (auth_dkim_opendkim.c). */
static const char *result_word(const struct dkim_sig *s)
{
    if (s->passed && s->err == E_OK) return "pass";
    switch (s->err) {
    case E_KEYFAIL:
    case E_DNSSYNTAX: return "temperror";
    case E_NOKEY:
    case E_KEYREVOKED:
    case E_KEYDECODE:
    case E_MULTIREPLY:
    case E_TAGSYNTAX:
    case E_TAGDUP:
    case E_TIMESYNTAX: return "permerror";
    default: return s->processed ? "fail" : "neutral";
    }
}

static json_t *slice_json(struct homing_slice s, bool present)
{
    if (!present) return json_null();
    char *c = strndup(s.p, s.len);
    if (!c) return NULL;
    json_t *j = homing_json_text(c);
    free(c);
    return j;
}

int auth_dkim_verify(struct homing_resolver *res, const char *msg, size_t len, json_t *out_arr)
{
    /* RFC 5322 has no NUL bytes: such a message is reported, not verified
     * (OpenDKIM read past its buffers on one; kept for the same answer). */
    if (memchr(msg, '\0', len)) {
        json_array_append_new(out_arr, json_pack("{s:s, s:s}", "result", "permerror", "note",
                                                 "message contains NUL bytes: not verified"));
        return 0;
    }
    if (!trace_names_dkim_signature(msg, len)) return 0;
    struct dkim_field *f = NULL;
    size_t nf = 0, body_off = 0;
    int rc = fields_split(msg, len, &f, &nf, &body_off);
    if (rc == -ENOMEM) return rc;
    if (rc < 0) return 0; /* not a header OpenDKIM would read: no signatures */

    struct dkim_sig *sigs = NULL;
    struct dkim_taglist *tls = NULL;
    EVP_MD_CTX *md = NULL;
    size_t ns = 0;
    for (size_t k = 0; k < nf && ns < HOMING_TRACE_DKIM_SIGS_MAX; k++)
        if (f[k].name_len == 14 && strncasecmp(msg + f[k].start, "DKIM-Signature", 14) == 0) ns++;
    if (ns == 0) goto done;
    sigs = calloc(ns, sizeof *sigs);
    tls = calloc(ns, sizeof *tls);
    md = EVP_MD_CTX_new();
    if (!sigs || !tls || !md) {
        rc = -ENOMEM;
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    size_t k = 0;
    for (size_t j = 0; j < nf && k < ns; j++) {
        if (!(f[j].name_len == 14 && strncasecmp(msg + f[j].start, "DKIM-Signature", 14) == 0))
            continue;
        struct dkim_sig *sig = &sigs[k];
        sig->field = j;
        const char *v = msg + f[j].colon + 1;
        size_t vlen = f[j].end - f[j].colon - 1;
        if (taglist_parse(v, vlen, &tls[k]) < 0) {
            tls[k].n = 0; /* nothing of it is reported */
            sig->err = E_TAGSYNTAX;
        } else {
            sig_tags(sig, &tls[k], now);
        }
        k++;
    }
    for (k = 0; k < ns; k++) {
        if (sigs[k].err != E_OK) continue;
        rc = sig_verify(res, sigs, k, msg, f, nf, body_off, len, md);
        if (rc < 0) goto done;
    }
    rc = 0;
    for (k = 0; k < ns; k++) {
        const struct dkim_sig *s = &sigs[k];
        /* OpenDKIM leaves a signature without v= out of its list altogether */
        if (s->err == E_MISSING_V) continue;
        json_t *o = json_object();
        if (!o) {
            rc = -ENOMEM;
            break;
        }
        /* an empty d= or s= is reported as none, and s only beside a d, as
         * OpenDKIM did (it keeps them only once they passed its checks) */
        json_object_set_new(o, "d", slice_json(s->d, s->d.len > 0));
        json_object_set_new(o, "s", slice_json(s->s, s->d.len > 0 && s->s.len > 0));
        json_object_set_new(o, "algorithm", s->alg_name ? json_string(s->alg_name) : json_null());
        json_object_set_new(o, "result", json_string(result_word(s)));
        json_object_set_new(o, "error",
                            s->err != E_OK ? json_string(err_str[s->err]) : json_null());
        json_object_set_new(o, "key_missing_now", json_boolean(s->err == E_NOKEY));
        json_array_append_new(out_arr, o);
    }
done:
    EVP_MD_CTX_free(md);
    free(tls);
    free(sigs);
    free(f);
    return rc;
}

/* ---- what ARC (arc.c) shares: the same canonicalisation, keys and checks ---- */

int auth_dkim_fields(const char *msg, size_t len, struct dkim_field **fv, size_t *nf,
                     size_t *body_off)
{
    return fields_split(msg, len, fv, nf, body_off);
}

int auth_dkim_taglist(const char *p, size_t len, struct dkim_taglist *out)
{
    return taglist_parse(p, len, out);
}

const struct dkim_tag *auth_dkim_tag(const struct dkim_taglist *tl, const char *name)
{
    return tag_get(tl, name);
}

int auth_dkim_sig_verify(struct homing_resolver *res, struct dkim_sig *sigs, size_t k,
                         const char *msg, const struct dkim_field *f, size_t nf, size_t body_off,
                         size_t len, EVP_MD_CTX *md)
{
    return sig_verify(res, sigs, k, msg, f, nf, body_off, len, md);
}

int auth_dkim_seal_verify(struct homing_resolver *res, struct dkim_sig *sig, const char *msg,
                          const struct dkim_field *f, const size_t *idx, size_t n, EVP_MD_CTX *md)
{
    unsigned char b[DKIM_SIG_BYTES_MAX];
    int blen = b64_decode(sig->b->value, b, sizeof b);
    if (blen <= 0) {
        sig->err = E_CORRUPT_B;
        return 0;
    }
    struct dkim_key key = {0};
    int rc = sig_key(res, sig, &key);
    if (rc != 0) return rc < 0 ? rc : 0;
    struct canon_out *co = malloc(sizeof *co);
    if (!co) {
        key_clear(&key);
        return -ENOMEM;
    }
    *co = (struct canon_out){.md = md};
    if (EVP_DigestInit_ex(md, alg_md(sig->alg), NULL) != 1) co->fail = true;
    for (size_t i = 0; i < n; i++)
        canon_header(co, msg, &f[idx[i]], CANON_RELAXED, SIZE_MAX, SIZE_MAX, true);
    const struct dkim_field *sf = &f[sig->field];
    size_t cut_from = (size_t)(sig->b->value.p - msg);
    size_t cut_to = sf->colon + 1 + sig->b->next_off;
    canon_header(co, msg, sf, CANON_RELAXED, cut_from, cut_to, false);
    co_flush(co);
    unsigned char hh[EVP_MAX_MD_SIZE];
    unsigned int hhlen = 0;
    if (!co->fail && EVP_DigestFinal_ex(md, hh, &hhlen) != 1) co->fail = true;
    rc = co->fail ? -ENOMEM : 0;
    free(co);
    if (rc == 0) {
        sig->processed = true;
        rc = sig_verdict(sig, &key, hh, hhlen, b, (size_t)blen);
    }
    key_clear(&key);
    return rc;
}

const char *auth_dkim_result(const struct dkim_sig *s)
{
    return result_word(s);
}

const char *auth_dkim_error(const struct dkim_sig *s)
{
    return s->err != E_OK && s->err < E_COUNT ? err_str[s->err] : NULL;
}
