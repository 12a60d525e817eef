/*
 * authres.c: parses Authentication-Results fields (RFC 8601): the
 * authserv-id that wrote the field, and each method's result with its reason
 * and properties (smtp.mailfrom, header.d, header.from ...).
 *
 * Contract: the input is attacker text and anyone can add such a field on the
 * way; this parser only reads it, and the caller decides whether the
 * authserv-id is one it trusts. Comments nest at most AUTHRES_DEPTH_MAX deep,
 * a field is at most HOMING_TRACE_HEADER_MAX bytes, a value at most
 * HOMING_TRACE_TOKEN_MAX, results and properties are capped by
 * HOMING_AUTHRES_RESULTS_MAX and HOMING_AUTHRES_PROPS_MAX (-E2BIG beyond).
 * A resinfo that does not follow the grammar is skipped up to the next ';'
 * (providers add words such as Microsoft's "action=none"; those are kept as
 * properties with an empty ptype). A field without an authserv-id is -EBADMSG.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "homing/trace.h"
#include "homing/util.h"
#include "trace_int.h"

#define AUTHRES_DEPTH_MAX 8
/* Room made at first for results in a field and properties in a result
 * (doubled when needed): what a usual field holds. */
#define AUTHRES_RESULTS_FIRST 4
#define AUTHRES_PROPS_FIRST   4

struct cur {
    const char *p, *end;
};

static int skip_cfws(struct cur *c)
{
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            c->p++;
        } else if (ch == '(') {
            int depth = 0;
            do {
                if (*c->p == '\\' && c->p + 1 < c->end)
                    c->p++;
                else if (*c->p == '(') {
                    if (++depth > AUTHRES_DEPTH_MAX) return -E2BIG;
                } else if (*c->p == ')')
                    depth--;
                c->p++;
            } while (c->p < c->end && depth > 0);
        } else {
            break;
        }
    }
    return 0;
}

static int is_tspecial(char ch)
{
    return strchr("()<>@,;:\\\"/[]?=", ch) != NULL;
}

/* The bytes as written (trace_text_dup): a replacement would hide a
 * look-alike letter. */
static char *dup_lower(const char *p, size_t n)
{
    return trace_text_dup(p, n, 1);
}

static char *dup_text(const char *p, size_t n)
{
    return trace_text_dup(p, n, 0);
}

/* Keyword: letters, digits, '-' and '_' (RFC 8601 section 2.2, lenient on '_'). */
static int read_keyword(struct cur *c, struct homing_slice *out)
{
    const char *s = c->p;
    while (c->p < c->end && (isalnum((unsigned char)*c->p) || *c->p == '-' || *c->p == '_')) c->p++;
    out->p = s;
    out->len = (size_t)(c->p - s);
    if (out->len > HOMING_TRACE_TOKEN_MAX) return -E2BIG;
    return out->len ? 0 : -EBADMSG;
}

/* value = token / quoted-string (RFC 2045); quoted pairs are kept as is. */
static int read_value(struct cur *c, struct homing_slice *out, int pvalue)
{
    if (c->p < c->end && *c->p == '"') {
        const char *s = ++c->p;
        while (c->p < c->end && *c->p != '"') {
            if (*c->p == '\\' && c->p + 1 < c->end) c->p++;
            c->p++;
        }
        if (c->p >= c->end) return -EBADMSG;
        out->p = s;
        out->len = (size_t)(c->p - s);
        c->p++;
    } else {
        const char *s = c->p;
        while (c->p < c->end) {
            unsigned char ch = (unsigned char)*c->p;
            if (ch <= ' ' || ch == 0x7f) break;
            /* pvalue also allows local-part@domain. */
            if (is_tspecial((char)ch) && !(pvalue && (ch == '@' || ch == '/' || ch == ':' ||
                                                      ch == '=' || ch == '<' || ch == '>')))
                break;
            c->p++;
        }
        out->p = s;
        out->len = (size_t)(c->p - s);
        if (!out->len) return -EBADMSG;
    }
    if (out->len > HOMING_TRACE_TOKEN_MAX) return -E2BIG;
    return 0;
}

static void skip_to_semicolon(struct cur *c)
{
    int depth = 0, quoted = 0;
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == '\\' && c->p + 1 < c->end && (depth || quoted))
            c->p++;
        else if (ch == '"' && !depth)
            quoted = !quoted;
        else if (ch == '(' && !quoted)
            depth++;
        else if (ch == ')' && depth)
            depth--;
        else if (ch == ';' && !depth && !quoted)
            return;
        c->p++;
    }
}

static void result_clear(struct homing_authres_result *r)
{
    free(r->method);
    free(r->result);
    free(r->reason);
    for (size_t i = 0; i < r->n_props; i++) {
        free(r->props[i].ptype);
        free(r->props[i].name);
        free(r->props[i].value);
    }
    free(r->props);
    memset(r, 0, sizeof *r);
}

void homing_authres_free(struct homing_authres *a)
{
    if (!a) return;
    free(a->authserv_id);
    for (size_t i = 0; i < a->n_results; i++) result_clear(&a->results[i]);
    free(a->results);
    free(a);
}

const char *homing_authres_prop(const struct homing_authres_result *r, const char *ptype,
                                const char *name)
{
    for (size_t i = 0; i < r->n_props; i++)
        if (strcmp(r->props[i].ptype, ptype) == 0 && strcmp(r->props[i].name, name) == 0)
            return r->props[i].value;
    return NULL;
}

/* One resinfo after its ';': 0 parsed, 1 skipped (not the grammar), <0 error. */
static int parse_resinfo(struct cur *c, struct homing_authres *a)
{
    struct homing_slice m, res, v;
    int rc;
    if ((rc = skip_cfws(c)) < 0) return rc;
    if (read_keyword(c, &m) < 0) return 1;
    if ((rc = skip_cfws(c)) < 0) return rc;
    if (m.len == 4 && strncasecmp(m.p, "none", 4) == 0 && (c->p >= c->end || *c->p != '=')) {
        a->none = 1;
        return 0;
    }
    if (c->p < c->end && *c->p == '/') { /* method-version */
        c->p++;
        if ((rc = skip_cfws(c)) < 0) return rc;
        while (c->p < c->end && isdigit((unsigned char)*c->p)) c->p++;
        if ((rc = skip_cfws(c)) < 0) return rc;
    }
    if (c->p >= c->end || *c->p != '=') return 1;
    c->p++;
    if ((rc = skip_cfws(c)) < 0) return rc;
    if (read_keyword(c, &res) < 0) return 1;
    if (a->n_results >= HOMING_AUTHRES_RESULTS_MAX) return -E2BIG;
    if ((rc = homing_array_grow((void **)&a->results, &a->results_cap, a->n_results,
                                sizeof *a->results, AUTHRES_RESULTS_FIRST)) < 0)
        return rc;
    struct homing_authres_result *r = &a->results[a->n_results];
    memset(r, 0, sizeof *r);
    r->method = dup_lower(m.p, m.len);
    r->result = dup_lower(res.p, res.len);
    if (!r->method || !r->result) {
        result_clear(r);
        return -ENOMEM;
    }
    a->n_results++;
    for (;;) {
        if ((rc = skip_cfws(c)) < 0) return rc;
        if (c->p >= c->end || *c->p == ';') return 0;
        struct homing_slice k, prop = {0};
        if (read_keyword(c, &k) < 0) return 1;
        if ((rc = skip_cfws(c)) < 0) return rc;
        int is_reason = k.len == 6 && strncasecmp(k.p, "reason", 6) == 0;
        if (c->p < c->end && *c->p == '.') {
            c->p++;
            if ((rc = skip_cfws(c)) < 0) return rc;
            if (read_keyword(c, &prop) < 0) return 1;
            if ((rc = skip_cfws(c)) < 0) return rc;
        }
        if (c->p >= c->end || *c->p != '=') return 1;
        c->p++;
        if ((rc = skip_cfws(c)) < 0) return rc;
        if ((rc = read_value(c, &v, 1)) < 0) return rc == -E2BIG ? rc : 1;
        if (is_reason && !prop.p) {
            if (!r->reason && !(r->reason = dup_text(v.p, v.len))) return -ENOMEM;
            continue;
        }
        if (r->n_props >= HOMING_AUTHRES_PROPS_MAX) return -E2BIG;
        if ((rc = homing_array_grow((void **)&r->props, &r->props_cap, r->n_props, sizeof *r->props,
                                    AUTHRES_PROPS_FIRST)) < 0)
            return rc;
        struct homing_authres_prop *pp = &r->props[r->n_props];
        pp->ptype = prop.p ? dup_lower(k.p, k.len) : strdup("");
        pp->name = prop.p ? dup_lower(prop.p, prop.len) : dup_lower(k.p, k.len);
        pp->value = dup_text(v.p, v.len);
        r->n_props++;
        if (!pp->ptype || !pp->name || !pp->value) return -ENOMEM;
    }
}

int homing_authres_parse(const char *s, size_t n, struct homing_authres **out)
{
    if (!s || n > HOMING_TRACE_HEADER_MAX) return -E2BIG;
    struct cur c = {s, s + n};
    struct homing_authres *a = calloc(1, sizeof *a);
    if (!a) return -ENOMEM;
    int rc;
    struct homing_slice id;
    if ((rc = skip_cfws(&c)) < 0) goto fail;
    if ((rc = read_value(&c, &id, 0)) < 0) {
        if (rc != -E2BIG) rc = -EBADMSG;
        goto fail;
    }
    if (!(a->authserv_id = dup_lower(id.p, id.len))) {
        rc = -ENOMEM;
        goto fail;
    }
    a->version = 1;
    if ((rc = skip_cfws(&c)) < 0) goto fail;
    if (c.p < c.end && isdigit((unsigned char)*c.p)) {
        int v = 0;
        while (c.p < c.end && isdigit((unsigned char)*c.p) && v < 1000) v = v * 10 + (*c.p++ - '0');
        a->version = v;
    }
    for (;;) {
        if ((rc = skip_cfws(&c)) < 0) goto fail;
        if (c.p >= c.end) break;
        if (*c.p != ';') {
            /* Garbage between resinfos: resynchronise at the next ';'. */
            skip_to_semicolon(&c);
            continue;
        }
        c.p++;
        rc = parse_resinfo(&c, a);
        if (rc < 0) goto fail;
        if (rc == 1) skip_to_semicolon(&c);
    }
    *out = a;
    return 0;
fail:
    homing_authres_free(a);
    return rc;
}
