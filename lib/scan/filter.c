/*
 * filter.c: the body handling of `homing milter` (homing/filter.h): scan the
 * message, decide by policy, strip it with homing_strip_message (signed
 * content kept, the notice put in for `notice`), and turn what strip wrote
 * into the few edits a milter can make: header additions, changes and
 * deletions (found by comparing the header blocks before and after) and one
 * new body, returned only when a part really changed.
 *
 * Contract: see homing/filter.h. No GMime here: strip and scan own the MIME.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "homing/filter.h"

static const char *const policy_names[HOMING_FILTER_POLICY_COUNT] = {
    "off", "tag", "strip", "notice", "quarantine", "reject"};

const char *homing_filter_policy_name(int policy)
{
    return policy >= 0 && policy < HOMING_FILTER_POLICY_COUNT ? policy_names[policy] : "?";
}

int homing_filter_policy_parse(const char *name, int *out)
{
    for (int i = 0; i < HOMING_FILTER_POLICY_COUNT; i++)
        if (strcasecmp(name, policy_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -EINVAL;
}

/* ---- the per-recipient table ---- */

struct filter_rule {
    char key[HOMING_FILTER_KEY_MAX]; /* lower case; "*" for everyone */
    int policy;
};

struct homing_filter_table {
    struct filter_rule *r;
    size_t n;
    int def;
};

void homing_filter_table_free(struct homing_filter_table *t)
{
    if (!t) return;
    free(t->r);
    free(t);
}

int homing_filter_table_parse(const char *text, int def, struct homing_filter_table **out,
                              char *err, size_t errcap)
{
    if (err && errcap) err[0] = '\0';
    struct homing_filter_table *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    t->def = def;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',' && !isspace((unsigned char)*e)) e++;
        size_t n = (size_t)(e - p);
        const char *eq = memchr(p, '=', n);
        char entry[64];
        snprintf(entry, sizeof entry, "%.*s", (int)(n < 60 ? n : 60), p);
        int pol = 0;
        char name[32];
        size_t kn = eq ? (size_t)(eq - p) : 0, vn = eq ? n - kn - 1 : 0;
        if (eq) snprintf(name, sizeof name, "%.*s", (int)(vn < 31 ? vn : 31), eq + 1);
        if (!eq || kn == 0 || kn >= HOMING_FILTER_KEY_MAX || vn >= sizeof name ||
            homing_filter_policy_parse(name, &pol) < 0) {
            if (err)
                snprintf(err, errcap,
                         "'%s': not ADDRESS=POLICY, DOMAIN=POLICY or *=POLICY with POLICY one of "
                         "off, tag, strip, notice, quarantine, reject",
                         entry);
            homing_filter_table_free(t);
            return -EINVAL;
        }
        if (t->n >= HOMING_FILTER_RULES_MAX) {
            if (err) snprintf(err, errcap, "more than %d entries", HOMING_FILTER_RULES_MAX);
            homing_filter_table_free(t);
            return -E2BIG;
        }
        struct filter_rule *nr = realloc(t->r, (t->n + 1) * sizeof *nr);
        if (!nr) {
            homing_filter_table_free(t);
            return -ENOMEM;
        }
        t->r = nr;
        struct filter_rule *r = &t->r[t->n++];
        const char *k = p;
        if (*k == '@') k++, kn--; /* "@example.org" means the domain */
        for (size_t i = 0; i < kn; i++) r->key[i] = (char)tolower((unsigned char)k[i]);
        r->key[kn] = '\0';
        r->policy = pol;
        p = e;
    }
    *out = t;
    return 0;
}

int homing_filter_table_lookup(const struct homing_filter_table *t, const char *rcpt)
{
    char a[HOMING_FILTER_KEY_MAX];
    size_t n = 0;
    for (const char *p = rcpt; *p && n + 1 < sizeof a; p++)
        if (*p != '<' && *p != '>') a[n++] = (char)tolower((unsigned char)*p);
    a[n] = '\0';
    const char *at = strrchr(a, '@');
    const char *dom = at ? at + 1 : a;
    int best = -1, star = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *k = t->r[i].key;
        if (strcmp(k, "*") == 0) {
            star = t->r[i].policy;
        } else if (strchr(k, '@')) {
            if (strcmp(k, a) == 0) return t->r[i].policy; /* an address beats any domain */
        } else {
            size_t kl = strlen(k), dl = strlen(dom);
            if (kl > dl || strcmp(dom + dl - kl, k) != 0) continue;
            if (kl < dl && dom[dl - kl - 1] != '.') continue;
            if (best < 0 || kl > best_len) best = t->r[i].policy, best_len = kl;
        }
    }
    return best >= 0 ? best : star >= 0 ? star : t->def;
}

/* ---- header blocks ---- */

struct hfield {
    const char *name;
    size_t name_len;
    const char *value; /* after the colon, up to the field's last line end */
    size_t value_len;
};

struct hblock {
    struct hfield *f;
    size_t n;
    size_t end; /* offset of the body (after the blank line) */
};

/* The fields of a header block; a line without a colon or without a valid
 * field name before it is skipped (it ends nothing, as in GMime). */
static int hblock_parse(const char *s, size_t len, struct hblock *h)
{
    memset(h, 0, sizeof *h);
    size_t i = 0, cap = 0;
    while (i < len) {
        if (s[i] == '\n' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')) {
            i += s[i] == '\r' ? 2 : 1;
            h->end = i;
            return 0;
        }
        size_t start = i;
        /* the field runs over continuation lines (starting with space or tab) */
        for (;;) {
            const char *nl = memchr(s + i, '\n', len - i);
            i = nl ? (size_t)(nl - s) + 1 : len;
            if (i >= len || (s[i] != ' ' && s[i] != '\t')) break;
        }
        const char *colon = memchr(s + start, ':', i - start);
        if (!colon) continue;
        if (h->n == cap) {
            cap = cap ? cap * 2 : 32;
            struct hfield *nf = realloc(h->f, cap * sizeof *nf);
            if (!nf) {
                free(h->f);
                h->f = NULL;
                return -ENOMEM;
            }
            h->f = nf;
        }
        size_t nl = (size_t)(colon - (s + start));
        while (nl && (s[start + nl - 1] == ' ' || s[start + nl - 1] == '\t')) nl--;
        /* not a field name (RFC 5322: printable ASCII but ':'): Postfix hands
         * a milter no such line as a header, and no edit may name one */
        int name_ok = nl > 0;
        for (size_t k = 0; k < nl && name_ok; k++)
            name_ok = s[start + k] > ' ' && s[start + k] < 0x7f;
        if (!name_ok) continue;
        h->f[h->n++] = (struct hfield){s + start, nl, colon + 1, (size_t)(s + i - (colon + 1))};
    }
    h->end = len; /* no body */
    return 0;
}

/* A value as libmilter carries it: leading white space dropped, CR dropped,
 * the final line end dropped, folds kept as "\n" + white space. */
static char *value_norm(const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t')) v++, n--;
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != '\r') o[k++] = v[i];
    while (k && o[k - 1] == '\n') k--;
    o[k] = '\0';
    return o;
}

static int name_eq(const struct hfield *a, const struct hfield *b)
{
    return a->name_len == b->name_len && strncasecmp(a->name, b->name, a->name_len) == 0;
}

static int add_edit(struct homing_filter_result *r, int op, const char *name, size_t name_len,
                    unsigned index, char *value)
{
    if (r->n_edits >= HOMING_FILTER_EDITS_MAX) {
        free(value);
        return -E2BIG;
    }
    struct homing_filter_edit *ne = realloc(r->edits, (r->n_edits + 1) * sizeof *ne);
    char *nm = strndup(name, name_len);
    if (!ne || !nm) {
        if (ne) r->edits = ne;
        free(nm);
        free(value);
        return -ENOMEM;
    }
    r->edits = ne;
    r->edits[r->n_edits++] = (struct homing_filter_edit){op, nm, index, value};
    return 0;
}

/* How many fields of h[0..upto) are named like f. */
static size_t count_named(const struct hblock *h, size_t upto, const struct hfield *f)
{
    size_t n = 0;
    for (size_t i = 0; i < upto && i < h->n; i++) n += name_eq(&h->f[i], f);
    return n;
}

/* The k-th (from 1) field of h named like f, or NULL. */
static const struct hfield *nth_named(const struct hblock *h, const struct hfield *f, size_t k)
{
    for (size_t i = 0; i < h->n; i++)
        if (name_eq(&h->f[i], f) && --k == 0) return &h->f[i];
    return NULL;
}

/* The edits that make header block a into b: the k-th field of a name
 * changed where b's k-th differs, the fields b has fewer of deleted (from
 * the last, so the indices of the ones before stay right whichever way the
 * MTA counts), then b's extra fields appended in b's order. */
static int hdiff(const struct hblock *a, const struct hblock *b, struct homing_filter_result *r)
{
    int rc = 0;
    for (size_t j = 0; j < a->n && rc == 0; j++) {
        size_t k = count_named(a, j + 1, &a->f[j]);
        const struct hfield *fb = nth_named(b, &a->f[j], k);
        if (!fb) continue;
        char *va = value_norm(a->f[j].value, a->f[j].value_len);
        char *vb = value_norm(fb->value, fb->value_len);
        if (!va || !vb) {
            free(va);
            free(vb);
            return -ENOMEM;
        }
        if (strcmp(va, vb) != 0)
            rc = add_edit(r, HOMING_FILTER_CHANGE, a->f[j].name, a->f[j].name_len, (unsigned)k, vb);
        else
            free(vb);
        free(va);
    }
    for (size_t j = 0; j < a->n && rc == 0; j++) {
        if (count_named(a, j, &a->f[j])) continue; /* each name once */
        size_t na = count_named(a, a->n, &a->f[j]), nb = count_named(b, b->n, &a->f[j]);
        for (size_t d = na; d > nb && rc == 0; d--)
            rc = add_edit(r, HOMING_FILTER_DELETE, a->f[j].name, a->f[j].name_len, (unsigned)d,
                          NULL);
    }
    for (size_t j = 0; j < b->n && rc == 0; j++) {
        if (count_named(b, j + 1, &b->f[j]) <= count_named(a, a->n, &b->f[j])) continue;
        char *v = value_norm(b->f[j].value, b->f[j].value_len);
        if (!v) return -ENOMEM;
        rc = add_edit(r, HOMING_FILTER_ADD, b->f[j].name, b->f[j].name_len, 0, v);
    }
    return rc;
}

/* ---- the tag headers ---- */

/* text reduced to what is safe inside a header value, a quoted string and an
 * SMTP reply (where libmilter gives '%' a meaning): printable ASCII other than
 * '"', ';', '%' and '\'. */
static void header_safe(char *dst, size_t cap, const char *s)
{
    size_t k = 0;
    for (; s && *s && k + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        dst[k++] =
            (c < 0x20 || c > 0x7e || c == '"' || c == ';' || c == '%' || c == '\\') ? '?' : (char)c;
    }
    if (cap) dst[k] = '\0';
}

static void url_host(char *dst, size_t cap, const char *url)
{
    dst[0] = '\0';
    if (!url) return;
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *e = p + strcspn(p, "/?#\\");
    const char *at = memchr(p, '@', (size_t)(e - p));
    if (at) p = at + 1;
    size_t n = 0;
    for (; p < e && *p != ':' && n + 1 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        dst[n++] = (isalnum(c) || c == '.' || c == '-' || c == '_') ? (char)tolower(c) : '?';
    }
    dst[n] = '\0';
}

static void vendors_of(const struct homing_scan_result *s, char *out, size_t cap)
{
    out[0] = '\0';
    size_t named = 0;
    for (size_t i = 0; i < s->n && named < HOMING_FILTER_VENDORS_MAX; i++) {
        if (!s->f[i].vendor || !*s->f[i].vendor) continue;
        char v[64];
        header_safe(v, sizeof v, s->f[i].vendor);
        for (char *c = v; *c; c++)
            if (*c == ',') *c = ' ';
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = s->f[j].vendor && strcmp(s->f[j].vendor, s->f[i].vendor) == 0;
        if (dup) continue;
        size_t l = strlen(out);
        if (l + strlen(v) + 3 >= cap) break;
        snprintf(out + l, cap - l, "%s%s", l ? ", " : "", v);
        named++;
    }
}

static int tag_headers(const struct homing_scan_result *s, const struct homing_filter_options *o,
                       int policy, struct homing_filter_result *r)
{
    char v[512];
    if (r->vendors[0])
        snprintf(v, sizeof v, "%u; vendors=\"%s\"; policy=%s", r->trackers, r->vendors,
                 homing_filter_policy_name(policy));
    else
        snprintf(v, sizeof v, "%u; policy=%s", r->trackers, homing_filter_policy_name(policy));
    char *dup = strdup(v);
    if (!dup) return -ENOMEM;
    int rc = add_edit(r, HOMING_FILTER_ADD, "X-Homing-Trackers", 17, 0, dup);
    if (rc < 0) return rc;

    struct homing_buf b;
    homing_buf_init(&b, 8192);
    char id[128];
    header_safe(id, sizeof id, o->authserv && *o->authserv ? o->authserv : "homing");
    for (char *c = id; *c; c++)
        if (*c == ' ') *c = '?';
    rc = homing_buf_printf(&b, "%s; tracking=%s (%u device%s%s)", id, s->n ? "found" : "none",
                           r->trackers, r->trackers == 1 ? "" : "s",
                           s->truncated ? ", more not listed" : "");
    for (size_t i = 0; i < s->n && i < HOMING_FILTER_EVIDENCE_MAX && rc == 0; i++) {
        const struct homing_scan_finding *f = &s->f[i];
        char host[128], part[HOMING_SCAN_PART_MAX], vendor[64];
        url_host(host, sizeof host, f->url);
        header_safe(part, sizeof part, f->part[0] ? f->part : "header");
        header_safe(vendor, sizeof vendor, f->vendor);
        for (char *c = vendor; *c; c++)
            if (*c == ' ' || *c == '(' || *c == ')') *c = '_';
        rc = homing_buf_printf(&b, ";\n\t%s=found part.path=%s", homing_scan_kind_name(f->kind),
                               part);
        if (rc == 0 && host[0]) rc = homing_buf_printf(&b, " url.host=%s", host);
        if (rc == 0 && vendor[0]) rc = homing_buf_printf(&b, " vendor.name=%s", vendor);
        if (rc == 0 && f->attribute && f->element)
            rc = strcmp(f->element, "header") == 0
                     ? homing_buf_printf(&b, " header.name=%s", f->attribute)
                     : homing_buf_printf(&b, " html.%s=%s", f->element, f->attribute);
    }
    if (rc == 0 && s->n > HOMING_FILTER_EVIDENCE_MAX)
        rc = homing_buf_printf(&b, ";\n\tmore=%zu (homing scan lists them all)",
                               s->n - HOMING_FILTER_EVIDENCE_MAX);
    if (rc == 0) rc = homing_buf_append(&b, "", 1);
    if (rc < 0) {
        homing_buf_free(&b);
        return rc;
    }
    return add_edit(r, HOMING_FILTER_ADD, "X-Homing-Tracker-Results", 24, 0, homing_buf_steal(&b));
}

/* The signing domains of the message's DKIM-Signature fields, "a.org b.org". */
static void dkim_domains(const struct hblock *h, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < h->n; i++) {
        if (h->f[i].name_len != 14 || strncasecmp(h->f[i].name, "DKIM-Signature", 14) != 0)
            continue;
        const char *v = h->f[i].value, *e = v + h->f[i].value_len;
        char d[128] = "";
        for (const char *p = v; p < e; p++) {
            if (*p != 'd' || (p > v && p[-1] != ';' && !isspace((unsigned char)p[-1]))) continue;
            const char *q = p + 1;
            while (q < e && isspace((unsigned char)*q)) q++;
            if (q >= e || *q != '=') continue;
            q++;
            while (q < e && isspace((unsigned char)*q)) q++;
            size_t n = 0;
            while (q + n < e && q[n] != ';' && !isspace((unsigned char)q[n]) && n + 1 < sizeof d)
                n++;
            char raw[128];
            snprintf(raw, sizeof raw, "%.*s", (int)n, q);
            header_safe(d, sizeof d, raw);
            break;
        }
        size_t l = strlen(out);
        if (!d[0] || strstr(out, d) || l + strlen(d) + 2 >= cap) continue;
        snprintf(out + l, cap - l, "%s%s", l ? " " : "", d);
    }
}

void homing_filter_result_free(struct homing_filter_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_edits; i++) {
        free(r->edits[i].name);
        free(r->edits[i].value);
    }
    free(r->edits);
    free(r->body);
    free(r);
}

/* The notice, in text and HTML, from what scan found: ASCII only, so it can go
 * into a part of any ASCII-compatible charset unchanged. */
static void notice_texts(const struct homing_filter_result *r, char *text, size_t tcap, char *html,
                         size_t hcap)
{
    char what[400];
    if (r->vendors[0])
        snprintf(what, sizeof what, "%u tracker%s (%s)", r->trackers, r->trackers == 1 ? "" : "s",
                 r->vendors);
    else
        snprintf(what, sizeof what, "%u tracker%s", r->trackers, r->trackers == 1 ? "" : "s");
    snprintf(text, tcap,
             "[homing removed %s from this message: remote images and other loads are blocked, "
             "tracked links go straight to their destination.]",
             what);
    /* what holds no markup characters: header_safe left printable ASCII, and
     * '<', '>', '&' are turned into '?' below */
    for (char *c = what; *c; c++)
        if (*c == '<' || *c == '>' || *c == '&') *c = '?';
    snprintf(html, hcap,
             "<div style=\"margin:0 0 12px 0;padding:8px 12px;border:1px solid #c9c9c9;"
             "background:#f4f4f4;color:#333;font:13px/1.4 sans-serif\">homing removed %s from "
             "this message: remote images and other loads are blocked, tracked links go "
             "straight to their destination.</div>",
             what);
}

int homing_filter_message(const char *data, size_t len, const struct homing_filter_options *o,
                          struct homing_filter_result **out)
{
    if (len > HOMING_SCAN_MESSAGE_MAX) return -E2BIG;
    struct homing_filter_result *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    int policy = o->policy;
    r->policy = policy;
    r->verdict = HOMING_FILTER_ACCEPT;
    if (policy <= HOMING_FILTER_OFF || policy >= HOMING_FILTER_POLICY_COUNT) {
        *out = r;
        return 0;
    }
    struct homing_scan_options so = {.trackers = o->trackers};
    struct homing_scan_result *s = NULL;
    int rc = homing_scan_message(data, len, &so, &s);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->trackers = (unsigned)s->n;
    vendors_of(s, r->vendors, sizeof r->vendors);
    unsigned hold_min = o->hold_min ? o->hold_min : 1;
    if ((policy == HOMING_FILTER_REJECT || policy == HOMING_FILTER_QUARANTINE) &&
        r->trackers >= hold_min) {
        r->verdict = policy == HOMING_FILTER_REJECT ? HOMING_FILTER_REFUSE : HOMING_FILTER_HOLD;
        snprintf(r->reason, sizeof r->reason, "the message carries %u tracker%s%s%s%s", r->trackers,
                 r->trackers == 1 ? "" : "s", r->vendors[0] ? " (" : "", r->vendors,
                 r->vendors[0] ? ")" : "");
    }
    if (r->verdict != HOMING_FILTER_REFUSE) rc = tag_headers(s, o, policy, r);
    homing_scan_result_free(s);
    if (rc < 0 || (policy != HOMING_FILTER_STRIP && policy != HOMING_FILTER_NOTICE)) {
        if (rc < 0) {
            homing_filter_result_free(r);
            return rc;
        }
        *out = r;
        return 0;
    }

    char ntext[600], nhtml[1000];
    notice_texts(r, ntext, sizeof ntext, nhtml, sizeof nhtml);
    struct homing_scan_options st = {.trackers = o->trackers, .keep_signed = 1};
    if (policy == HOMING_FILTER_NOTICE && r->trackers) {
        st.notice_text = ntext;
        st.notice_html = nhtml;
    }
    char *sm = NULL;
    size_t smlen = 0;
    rc = homing_strip_message(data, len, &st, &sm, &smlen, &r->st);
    if (rc < 0) {
        homing_filter_result_free(r);
        return rc;
    }
    int body_changed = r->st.html_parts + r->st.text_parts + r->st.notices > 0;
    if (!body_changed && r->st.receipts == 0) { /* strip found nothing to do */
        free(sm);
        *out = r;
        return 0;
    }
    struct hblock a, b;
    rc = hblock_parse(data, len, &a);
    if (rc == 0 && (rc = hblock_parse(sm, smlen, &b)) < 0) free(a.f);
    if (rc == 0) {
        rc = hdiff(&a, &b, r);
        if (rc == 0 && body_changed) {
            r->body_len = smlen - b.end;
            r->body = malloc(r->body_len + 1);
            if (!r->body) {
                rc = -ENOMEM;
            } else {
                memcpy(r->body, sm + b.end, r->body_len);
                r->body[r->body_len] = '\0';
            }
        }
        char doms[256];
        dkim_domains(&a, doms, sizeof doms);
        if (rc == 0 && doms[0]) {
            char v[512];
            snprintf(v, sizeof v,
                     "invalidated; d=%s; homing %s changed the %s, so the original "
                     "DKIM-Signature no longer verifies",
                     doms, homing_filter_policy_name(policy),
                     body_changed ? "body" : "read-receipt headers");
            char *dup = strdup(v);
            rc = dup ? add_edit(r, HOMING_FILTER_ADD, "X-Homing-DKIM", 13, 0, dup) : -ENOMEM;
            r->dkim_invalidated = rc == 0;
        }
        free(a.f);
        free(b.f);
    }
    free(sm);
    if (rc < 0) {
        homing_filter_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
