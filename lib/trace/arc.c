/*
 * arc.c: ARC (RFC 8617) verified now for `homing trace`: the chain's validity
 * (cv = none, pass or fail, section 5.2), and for each hop (instance) who
 * sealed it (the ARC-Seal's d= and s=), whether its ARC-Message-Signature and
 * its ARC-Seal verify, the cv it claimed, and its ARC-Authentication-Results:
 * what that sealer's own checks said when the message reached it.
 *
 * Both signatures are checked by auth_dkim.c (auth_dkim_int.h): the
 * ARC-Message-Signature as a DKIM signature (its h= fields and body, c=
 * canonicalisation), the ARC-Seal over the ARC sets 1..i in order (relaxed),
 * keys at s._domainkey.d through the run's resolver.
 *
 * Contract: the ARC fields are attacker text: at most ARC_FIELDS_MAX are
 * looked at and ARC_INSTANCE_MAX instances accepted (RFC 8617 4.2.1: i= is
 * 1..50); more, a missing, duplicated or unreadable field make the chain
 * fail, with the reason. Steps follow section 5.2: no ARC fields is none; the
 * newest seal saying cv=fail is fail without further checks; then the
 * structure (one of each field per instance, cv=none at 1 and pass above);
 * the newest ARC-Message-Signature must verify (the older ones are verified
 * and reported, not required); every ARC-Seal, newest first, must verify.
 * Returns a negative errno only on resource failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_dkim_int.h"

#define ARC_INSTANCE_MAX 50                         /* RFC 8617 4.2.1 */
#define ARC_FIELDS_MAX   (3 * ARC_INSTANCE_MAX + 3) /* ARC fields looked at */

enum arc_kind { ARC_AAR, ARC_AMS, ARC_AS, ARC_KINDS };
static const char *const arc_names[ARC_KINDS] = {"ARC-Authentication-Results",
                                                 "ARC-Message-Signature", "ARC-Seal"};

/* One instance: the field index of each of its three fields (or SIZE_MAX),
 * how many of each were found, and the signatures as read. */
struct arc_set {
    size_t field[ARC_KINDS];
    unsigned count[ARC_KINDS];
    struct dkim_taglist tl[2]; /* AMS, AS */
    struct dkim_sig ams, as;
    bool ams_read, as_read; /* tags read and usable */
    char cv[16];
};

struct arc_run {
    struct arc_set *sets; /* [1..ARC_INSTANCE_MAX] */
    unsigned n;           /* highest instance */
    const char *why;      /* the reason of a fail */
};

static bool name_is(const char *msg, const struct dkim_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name_len == n && strncasecmp(msg + f->start, name, n) == 0;
}

/* i= of an ARC-Authentication-Results: "i=N;" before the authserv-id. */
static long aar_instance(const char *v, size_t n, size_t *rest)
{
    size_t i = 0;
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')) i++;
    if (i + 2 > n || (v[i] != 'i' && v[i] != 'I')) return -1;
    i++;
    while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
    if (i >= n || v[i] != '=') return -1;
    i++;
    while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
    long x = 0;
    size_t d = i;
    while (i < n && v[i] >= '0' && v[i] <= '9' && i - d < 4) x = x * 10 + (v[i++] - '0');
    if (i == d) return -1;
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')) i++;
    if (i >= n || v[i] != ';') return -1;
    *rest = i + 1;
    return x;
}

static long tag_instance(const struct dkim_taglist *tl)
{
    const struct dkim_tag *t = auth_dkim_tag(tl, "i");
    if (!t || t->value.len == 0 || t->value.len > 3) return -1;
    long x = 0;
    for (size_t k = 0; k < t->value.len; k++) {
        char c = t->value.p[k];
        if (c < '0' || c > '9') return -1;
        x = x * 10 + (c - '0');
    }
    return x;
}

static bool slice_eq(struct homing_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

/* a=, d=, s=, b= shared by both signatures; false if one is missing. */
static bool sig_common(struct dkim_sig *sig, const struct dkim_taglist *tl, size_t field)
{
    const struct dkim_tag *t;
    sig->field = field;
    if ((t = auth_dkim_tag(tl, "d"))) sig->d = t->value;
    if ((t = auth_dkim_tag(tl, "s"))) sig->s = t->value;
    if ((t = auth_dkim_tag(tl, "a"))) {
        if (slice_eq(t->value, "rsa-sha256"))
            sig->alg = ALG_RSA_SHA256, sig->alg_name = "rsa-sha256";
        else if (slice_eq(t->value, "rsa-sha1"))
            sig->alg = ALG_RSA_SHA1, sig->alg_name = "rsa-sha1";
        else if (slice_eq(t->value, "ed25519-sha256"))
            sig->alg = ALG_ED25519_SHA256, sig->alg_name = "ed25519-sha256";
        else
            sig->alg_name = "unknown";
    }
    sig->b = auth_dkim_tag(tl, "b");
    if (tl->dup)
        sig->err = E_TAGDUP;
    else if (sig->alg == ALG_NONE)
        sig->err = auth_dkim_tag(tl, "a") ? E_INVALID_A : E_MISSING_A;
    else if (!sig->b || sig->b->value.len == 0)
        sig->err = sig->b ? E_EMPTY_B : E_MISSING_B;
    else if (!sig->d.len)
        sig->err = auth_dkim_tag(tl, "d") ? E_EMPTY_D : E_MISSING_D;
    else if (!sig->s.len)
        sig->err = auth_dkim_tag(tl, "s") ? E_EMPTY_S : E_MISSING_S;
    return sig->err == E_OK;
}

/* The ARC-Message-Signature's own tags: h= (never naming ARC-Seal, RFC 8617
 * 4.1.2), bh= and c= (simple/simple when absent, as in DKIM). */
static bool ams_read(struct dkim_sig *sig, const struct dkim_taglist *tl, size_t field)
{
    if (!sig_common(sig, tl, field)) return false;
    const struct dkim_tag *t;
    sig->bh = auth_dkim_tag(tl, "bh");
    if (!sig->bh || sig->bh->value.len == 0) {
        sig->err = sig->bh ? E_EMPTY_BH : E_MISSING_BH;
        return false;
    }
    if (!(t = auth_dkim_tag(tl, "h")) || t->value.len == 0) {
        sig->err = t ? E_EMPTY_H : E_MISSING_H;
        return false;
    }
    sig->h = t->value;
    /* h= names ARC-Seal: a signature that would cover later seals */
    for (size_t i = 0; i + 8 <= sig->h.len; i++)
        if (strncasecmp(sig->h.p + i, "arc-seal", 8) == 0) {
            sig->err = E_INVALID_H;
            return false;
        }
    sig->hc = sig->bc = CANON_SIMPLE;
    if ((t = auth_dkim_tag(tl, "c"))) {
        struct homing_slice v = t->value, hv = v, bv = {0};
        const char *slash = memchr(v.p, '/', v.len);
        if (slash) {
            hv.len = (size_t)(slash - v.p);
            bv = (struct homing_slice){slash + 1, v.len - hv.len - 1};
        }
        if (slice_eq(hv, "relaxed"))
            sig->hc = CANON_RELAXED;
        else if (!slice_eq(hv, "simple")) {
            sig->err = E_INVALID_HC;
            return false;
        }
        if (slash && slice_eq(bv, "relaxed"))
            sig->bc = CANON_RELAXED;
        else if (slash && !slice_eq(bv, "simple")) {
            sig->err = E_INVALID_BC;
            return false;
        }
    }
    return true;
}

static json_t *slice_text(struct homing_slice s)
{
    if (!s.len) return json_null();
    char *c = strndup(s.p, s.len);
    json_t *j = c ? homing_json_text(c) : NULL;
    free(c);
    return j;
}

/* result null: not checked, the chain failed before this signature's turn */
static json_t *sig_json(const struct dkim_sig *sig, bool read)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "d", slice_text(sig->d));
    json_object_set_new(o, "s", slice_text(sig->s));
    json_object_set_new(o, "algorithm", sig->alg_name ? json_string(sig->alg_name) : json_null());
    const char *res = !read                                 ? "permerror"
                      : !sig->processed && sig->err == E_OK ? NULL
                                                            : auth_dkim_result(sig);
    json_object_set_new(o, "result", res ? json_string(res) : json_null());
    const char *err = auth_dkim_error(sig);
    json_object_set_new(o, "error", err ? json_string(err) : json_null());
    return o;
}

/* Reads the ARC fields of the header into r->sets; false (with r->why) when
 * the structure already makes the chain fail. */
static bool arc_collect(struct arc_run *r, const char *msg, const struct dkim_field *f, size_t nf,
                        size_t *n_arc)
{
    size_t seen = 0;
    for (size_t k = 0; k < nf; k++) {
        int kind = -1;
        for (int j = 0; j < ARC_KINDS; j++)
            if (name_is(msg, &f[k], arc_names[j])) kind = j;
        if (kind < 0) continue;
        if (++seen > ARC_FIELDS_MAX) {
            r->why = "more ARC fields than 50 sets can hold";
            return false;
        }
        const char *v = msg + f[k].colon + 1;
        size_t vlen = f[k].end - f[k].colon - 1;
        long inst;
        struct dkim_taglist tl;
        if (kind == ARC_AAR) {
            size_t rest;
            inst = aar_instance(v, vlen, &rest);
        } else {
            inst = auth_dkim_taglist(v, vlen, &tl) == 0 ? tag_instance(&tl) : -1;
        }
        if (inst < 1 || inst > ARC_INSTANCE_MAX) {
            r->why = "an ARC field has no valid instance (i= 1 to 50)";
            return false;
        }
        struct arc_set *s = &r->sets[inst];
        if (s->count[kind]++ == 0) {
            s->field[kind] = k;
            if (kind != ARC_AAR) s->tl[kind == ARC_AS] = tl;
        }
        if ((unsigned)inst > r->n) r->n = (unsigned)inst;
    }
    *n_arc = seen;
    return true;
}

int trace_arc_verify(struct homing_resolver *res, const char *msg, size_t len, json_t *out)
{
    json_t *hops = json_array();
    if (!hops) return -ENOMEM;
    struct dkim_field *f = NULL;
    size_t nf = 0, body_off = 0, n_arc = 0;
    struct arc_run r = {0};
    EVP_MD_CTX *md = NULL;
    const char *cv = "fail";
    int rc = 0;
    if (memchr(msg, '\0', len)) {
        r.why = "message contains NUL bytes: not verified";
        goto report;
    }
    rc = auth_dkim_fields(msg, len, &f, &nf, &body_off);
    if (rc == -ENOMEM) goto out;
    if (rc < 0) {
        rc = 0;
        cv = "none";
        r.why = "no header section ARC can read";
        goto report;
    }
    /* most messages have no ARC field: no table for them */
    bool any = false;
    for (size_t k = 0; k < nf && !any; k++)
        for (int j = 0; j < ARC_KINDS && !any; j++) any = name_is(msg, &f[k], arc_names[j]);
    if (!any) {
        cv = "none";
        goto report;
    }
    r.sets = calloc(ARC_INSTANCE_MAX + 1, sizeof *r.sets);
    md = EVP_MD_CTX_new();
    if (!r.sets || !md) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i <= ARC_INSTANCE_MAX; i++)
        for (int j = 0; j < ARC_KINDS; j++) r.sets[i].field[j] = SIZE_MAX;
    if (!arc_collect(&r, msg, f, nf, &n_arc)) goto report;
    if (n_arc == 0) {
        cv = "none";
        goto report;
    }
    /* the signatures' tags, and the cv each seal claims */
    for (unsigned i = 1; i <= r.n; i++) {
        struct arc_set *s = &r.sets[i];
        if (s->field[ARC_AMS] != SIZE_MAX)
            s->ams_read = ams_read(&s->ams, &s->tl[0], s->field[ARC_AMS]);
        if (s->field[ARC_AS] != SIZE_MAX) {
            s->as_read = sig_common(&s->as, &s->tl[1], s->field[ARC_AS]);
            const struct dkim_tag *t = auth_dkim_tag(&s->tl[1], "cv");
            if (t && t->value.len < sizeof s->cv) {
                for (size_t k = 0; k < t->value.len; k++)
                    s->cv[k] = (char)(t->value.p[k] |
                                      (t->value.p[k] >= 'A' && t->value.p[k] <= 'Z' ? 0x20 : 0));
                s->cv[t->value.len] = '\0';
            }
            /* RFC 8617 4.1.3: an ARC-Seal has no h= */
            if (auth_dkim_tag(&s->tl[1], "h") && s->as_read) {
                s->as.err = E_TAGSYNTAX;
                s->as_read = false;
            }
        }
    }
    /* 5.2 step 2: the newest seal says the chain had already failed */
    if (strcmp(r.sets[r.n].cv, "fail") == 0) {
        r.why = "the newest ARC-Seal says the chain had failed before it (cv=fail)";
        goto report;
    }
    /* step 3: the structure */
    for (unsigned i = 1; i <= r.n && !r.why; i++) {
        const struct arc_set *s = &r.sets[i];
        for (int j = 0; j < ARC_KINDS && !r.why; j++)
            if (s->count[j] != 1)
                r.why = s->count[j] ? "an ARC set has a field twice"
                                    : "an ARC set is incomplete or an instance is missing";
        if (!r.why && strcmp(s->cv, i == 1 ? "none" : "pass") != 0)
            r.why = i == 1 ? "the first ARC-Seal does not say cv=none"
                           : "an ARC-Seal after the first does not say cv=pass";
    }
    if (r.why) goto report;
    /* steps 4 and 5: every message signature (the newest must pass) */
    {
        struct dkim_sig *ams = calloc(r.n, sizeof *ams);
        if (!ams) {
            rc = -ENOMEM;
            goto out;
        }
        for (unsigned i = 1; i <= r.n; i++) ams[i - 1] = r.sets[i].ams;
        for (unsigned i = 1; i <= r.n && rc == 0; i++)
            if (r.sets[i].ams_read)
                rc = auth_dkim_sig_verify(res, ams, i - 1, msg, f, nf, body_off, len, md);
        for (unsigned i = 1; i <= r.n; i++) r.sets[i].ams = ams[i - 1];
        free(ams);
        if (rc < 0) goto out;
    }
    if (!(r.sets[r.n].ams_read && r.sets[r.n].ams.passed && r.sets[r.n].ams.err == E_OK))
        r.why = "the newest ARC-Message-Signature does not verify";
    /* step 6: every seal, newest first, over the sets up to it */
    size_t idx[3 * ARC_INSTANCE_MAX];
    for (unsigned i = r.n; i >= 1 && rc == 0; i--) {
        struct arc_set *s = &r.sets[i];
        if (!s->as_read) {
            if (!r.why) r.why = "an ARC-Seal cannot be read";
            continue;
        }
        size_t n = 0;
        for (unsigned j = 1; j <= i; j++) {
            idx[n++] = r.sets[j].field[ARC_AAR];
            idx[n++] = r.sets[j].field[ARC_AMS];
            if (j < i) idx[n++] = r.sets[j].field[ARC_AS];
        }
        rc = auth_dkim_seal_verify(res, &s->as, msg, f, idx, n, md);
        if (rc == 0 && !(s->as.passed && s->as.err == E_OK) && !r.why)
            r.why = "an ARC-Seal does not verify";
    }
    if (rc < 0) goto out;
    if (!r.why) cv = "pass";
report:
    json_object_set_new(out, "cv", json_string(cv));
    json_object_set_new(out, "reason", r.why ? json_string(r.why) : json_null());
    json_object_set_new(out, "sets", json_integer(r.sets ? r.n : 0));
    json_object_set(out, "hops", hops);
    for (unsigned i = 1; r.sets && i <= r.n; i++) {
        const struct arc_set *s = &r.sets[i];
        json_t *h = json_object();
        if (!h) {
            rc = -ENOMEM;
            goto out;
        }
        json_object_set_new(h, "instance", json_integer(i));
        json_object_set_new(
            h, "seal", s->field[ARC_AS] == SIZE_MAX ? json_null() : sig_json(&s->as, s->as_read));
        if (s->field[ARC_AS] != SIZE_MAX)
            json_object_set_new(json_object_get(h, "seal"), "cv",
                                s->cv[0] ? homing_json_text(s->cv) : json_null());
        json_object_set_new(h, "message_signature",
                            s->field[ARC_AMS] == SIZE_MAX ? json_null()
                                                          : sig_json(&s->ams, s->ams_read));
        json_t *aar = json_null();
        if (s->field[ARC_AAR] != SIZE_MAX) {
            const struct dkim_field *af = &f[s->field[ARC_AAR]];
            const char *v = msg + af->colon + 1;
            size_t vlen = af->end - af->colon - 1, rest = 0;
            struct homing_authres *a = NULL;
            if (aar_instance(v, vlen, &rest) >= 0 &&
                homing_authres_parse(v + rest, vlen - rest, &a) == 0) {
                aar = trace_authres_json(a);
                homing_authres_free(a);
            }
        }
        json_object_set_new(h, "authentication_results", aar ? aar : json_null());
        json_array_append_new(hops, h);
    }
out:
    json_decref(hops); /* out holds its own reference once reported */
    EVP_MD_CTX_free(md);
    free(r.sets);
    free(f);
    return rc;
}
