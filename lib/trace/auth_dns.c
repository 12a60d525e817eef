/*
 * auth_dns.c: the resolver interface of `homing trace` and its two
 * implementations: the system resolver (libresolv) for real use, and a zone
 * file of "name TYPE data" lines for tests and offline replays, so that SPF,
 * DKIM and DMARC re-verification never needs the internet in a test.
 *
 * Contract: answers are bounded (HOMING_DNS_ANSWERS_MAX records of at most
 * HOMING_DNS_RDATA_MAX bytes); lookup returns 0 with the records (possibly
 * none), -ENOENT for a name that does not exist, -EAGAIN for a temporary
 * failure. A zone file line with the type TEMPFAIL makes every lookup of that
 * name fail temporarily, to test temperror paths.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trace_int.h"

#define ZONE_LINE_MAX    8192
#define ZONE_RECORDS_MAX 10000
#define DNS_PACKET_MAX   65536
#define DNS_UDP_SIZE     4096 /* EDNS0 payload offered: a 4096-bit DKIM key fits */

void homing_dns_answer_clear(struct homing_dns_answer *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->rr[i]);
    a->n = 0;
}

void homing_resolver_free(struct homing_resolver *r)
{
    if (!r) return;
    if (r->destroy) r->destroy(r->ctx);
    free(r);
}

static int answer_add(struct homing_dns_answer *a, const char *s, size_t n)
{
    if (a->n >= HOMING_DNS_ANSWERS_MAX || n > HOMING_DNS_RDATA_MAX) return 0; /* keep the rest */
    char *c = malloc(n + 1);
    if (!c) return -ENOMEM;
    memcpy(c, s, n);
    c[n] = '\0';
    a->rr[a->n++] = c;
    return 0;
}

/* ---- system resolver ---- */

/* The records of type in the answer section of a reply, as text. */
static int sys_parse(const unsigned char *buf, int len, enum homing_rr type,
                     struct homing_dns_answer *out)
{
    ns_msg msg;
    if (ns_initparse(buf, len, &msg) < 0) return -EIO;
    struct homing_dns_answer a = {0};
    int rc = 0;
    int count = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < count && rc == 0; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) break;
        if ((int)ns_rr_type(rr) != (int)type) continue;
        const unsigned char *rd = ns_rr_rdata(rr);
        size_t rl = ns_rr_rdlen(rr);
        char txt[HOMING_DNS_RDATA_MAX + 1];
        size_t o = 0;
        switch (type) {
        case HOMING_RR_A:
        case HOMING_RR_AAAA:
            if ((type == HOMING_RR_A && rl == 4) || (type == HOMING_RR_AAAA && rl == 16)) {
                inet_ntop(type == HOMING_RR_A ? AF_INET : AF_INET6, rd, txt, sizeof txt);
                rc = answer_add(&a, txt, strlen(txt));
            }
            break;
        case HOMING_RR_MX:
        case HOMING_RR_PTR: {
            char host[NS_MAXDNAME];
            const unsigned char *p = rd;
            unsigned pref = 0;
            if (type == HOMING_RR_MX) {
                if (rl < 3) break;
                pref = ns_get16(p);
                p += 2;
            }
            if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), p, host, sizeof host) < 0) break;
            if (type == HOMING_RR_MX)
                snprintf(txt, sizeof txt, "%u %s", pref, host);
            else
                snprintf(txt, sizeof txt, "%s", host);
            rc = answer_add(&a, txt, strlen(txt));
            break;
        }
        case HOMING_RR_TXT:
            for (size_t k = 0; k < rl;) {
                size_t l = rd[k++];
                if (k + l > rl || o + l > HOMING_DNS_RDATA_MAX) break;
                memcpy(txt + o, rd + k, l);
                o += l;
                k += l;
            }
            rc = answer_add(&a, txt, o);
            break;
        }
    }
    if (rc < 0) {
        homing_dns_answer_clear(&a);
        return rc;
    }
    *out = a;
    return 0;
}

static int sys_lookup(void *ctx, const char *name, enum homing_rr type,
                      struct homing_dns_answer *out)
{
    (void)ctx;
    struct __res_state st;
    memset(&st, 0, sizeof st);
    if (res_ninit(&st) != 0) return -EAGAIN;
    unsigned char *buf = malloc(DNS_PACKET_MAX);
    if (!buf) {
        res_nclose(&st);
        return -ENOMEM;
    }
    int len = res_nquery(&st, name, ns_c_in, (int)type, buf, DNS_PACKET_MAX);
    int herr = st.res_h_errno;
    res_nclose(&st);
    if (len < 0) {
        free(buf);
        if (herr == HOST_NOT_FOUND) return -ENOENT;
        if (herr == NO_DATA) {
            *out = (struct homing_dns_answer){0};
            return 0;
        }
        return herr == TRY_AGAIN ? -EAGAIN : -EIO;
    }
    int rc = sys_parse(buf, len, type, out);
    free(buf);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The query in wire form (RFC 1035 4.1) with an EDNS0 OPT record (RFC 6891)
 * offering DNS_UDP_SIZE bytes, so a DKIM key fits one UDP reply. */
static int sys_mkquery(const char *name, enum homing_rr type, uint16_t id, unsigned char *q,
                       size_t cap)
{
    size_t o = 12;
    memset(q, 0, 12);
    q[0] = (unsigned char)(id >> 8);
    q[1] = (unsigned char)id;
    q[2] = 0x01; /* RD */
    q[5] = 1;    /* QDCOUNT */
    q[11] = 1;   /* ARCOUNT: the OPT record */
    for (const char *p = name; *p;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 || l > 63 || o + l + 1 + 16 > cap) return -EINVAL;
        q[o++] = (unsigned char)l;
        memcpy(q + o, p, l);
        o += l;
        p += l;
        if (*p == '.') p++;
    }
    if (o - 12 > NS_MAXDNAME) return -EINVAL;
    static const unsigned char tail[] = {0,
                                         0,
                                         0,
                                         0,
                                         1, /* root, type later, class IN */
                                         0,
                                         0,
                                         41,
                                         DNS_UDP_SIZE >> 8,
                                         DNS_UDP_SIZE & 0xff,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0};
    memcpy(q + o, tail, sizeof tail);
    q[o + 1] = (unsigned char)((unsigned)type >> 8);
    q[o + 2] = (unsigned char)type;
    return (int)(o + sizeof tail);
}

/* One query over UDP to the servers of resolv.conf, in turn, each waited for
 * as long as resolv.conf says (timeout:) but never past deadline_ms. A reply
 * cut short (TC) is asked again over TCP by libresolv, its timeout cut to
 * the seconds left. */
static int sys_lookup_until(void *ctx, const char *name, enum homing_rr type, int64_t deadline_ms,
                            struct homing_dns_answer *out)
{
    (void)ctx;
    struct __res_state st;
    memset(&st, 0, sizeof st);
    if (res_ninit(&st) != 0) return -EAGAIN;
    unsigned char q[NS_MAXDNAME + 64];
    unsigned char *buf = malloc(DNS_PACKET_MAX);
    uint16_t id;
    if (!buf || getrandom(&id, sizeof id, 0) != sizeof id) {
        free(buf);
        res_nclose(&st);
        return buf ? -EAGAIN : -ENOMEM;
    }
    int qlen = sys_mkquery(name, type, id, q, sizeof q);
    int rc = -EAGAIN, len = -1;
    if (qlen < 0) rc = -ENOENT; /* not a name DNS can hold */
    int tries = st.retry > 0 ? st.retry : 1;
    for (int t = 0; qlen > 0 && len < 0 && t < tries * (st.nscount ? st.nscount : 1); t++) {
        int ns = st.nscount ? t % st.nscount : 0;
        struct sockaddr_storage sa;
        socklen_t salen;
        memset(&sa, 0, sizeof sa);
        if (st._u._ext.nsaddrs[ns] && st._u._ext.nsaddrs[ns]->sin6_family == AF_INET6) {
            memcpy(&sa, st._u._ext.nsaddrs[ns], sizeof(struct sockaddr_in6));
            salen = sizeof(struct sockaddr_in6);
        } else if (st.nscount) {
            memcpy(&sa, &st.nsaddr_list[ns], sizeof(struct sockaddr_in));
            salen = sizeof(struct sockaddr_in);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
            s4->sin_family = AF_INET;
            s4->sin_port = htons(53);
            s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            salen = sizeof *s4;
        }
        int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) break;
        if (connect(fd, (struct sockaddr *)&sa, salen) < 0 || send(fd, q, (size_t)qlen, 0) < 0) {
            close(fd);
            continue;
        }
        int64_t try_end = now_ms() + (st.retrans > 0 ? st.retrans : 5) * 1000;
        if (try_end > deadline_ms) try_end = deadline_ms;
        for (;;) {
            int64_t left = try_end - now_ms();
            if (left <= 0) break;
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            int pr = poll(&pfd, 1, (int)left);
            if (pr < 0 && errno == EINTR) continue;
            if (pr <= 0) break;
            ssize_t n = recv(fd, buf, DNS_PACKET_MAX, 0);
            /* a reply to this query (id, QR), or keep waiting */
            if (n < 12 || buf[0] != q[0] || buf[1] != q[1] || !(buf[2] & 0x80)) continue;
            len = (int)n;
            break;
        }
        close(fd);
        if (now_ms() >= deadline_ms) break;
    }
    if (len >= 12 && (buf[2] & 0x02)) { /* truncated: TCP through libresolv */
        int64_t left = deadline_ms - now_ms();
        len = -1;
        if (left >= 1000) {
            st.options |= RES_USEVC;
            st.retrans = (int)(left / 1000);
            st.retry = 1;
            len = res_nquery(&st, name, ns_c_in, (int)type, buf, DNS_PACKET_MAX);
            if (len < 0 && st.res_h_errno == HOST_NOT_FOUND) rc = -ENOENT;
            if (len < 0 && st.res_h_errno == NO_DATA) {
                memset(buf, 0, 12); /* NOERROR, no answers */
                len = 12;
            }
        }
    }
    res_nclose(&st);
    if (len >= 12) {
        int rcode = buf[3] & 0x0f;
        if (rcode == ns_r_nxdomain)
            rc = -ENOENT;
        else if (rcode != ns_r_noerror)
            rc = -EAGAIN;
        else if (len == 12 || (buf[6] == 0 && buf[7] == 0))
            rc = (*out = (struct homing_dns_answer){0}, 0);
        else
            rc = sys_parse(buf, len, type, out);
    }
    free(buf);
    return rc;
}

int homing_resolver_system_new(struct homing_resolver **out)
{
    struct homing_resolver *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->lookup = sys_lookup;
    r->lookup_until = sys_lookup_until;
    *out = r;
    return 0;
}

/* ---- zone file resolver ---- */

struct zone_rec {
    char *name;
    int type; /* enum homing_rr, or -1 for TEMPFAIL */
    char *data;
};

struct zone {
    size_t n;
    struct zone_rec *r;
};

static void zone_destroy(void *ctx)
{
    struct zone *z = ctx;
    if (!z) return;
    for (size_t i = 0; i < z->n; i++) {
        free(z->r[i].name);
        free(z->r[i].data);
    }
    free(z->r);
    free(z);
}

static int name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '.') la--;
    while (lb && b[lb - 1] == '.') lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static int zone_lookup(void *ctx, const char *name, enum homing_rr type,
                       struct homing_dns_answer *out)
{
    struct zone *z = ctx;
    struct homing_dns_answer a = {0};
    int exists = 0;
    for (size_t i = 0; i < z->n; i++) {
        if (!name_eq(z->r[i].name, name)) continue;
        exists = 1;
        if (z->r[i].type == -1) {
            homing_dns_answer_clear(&a);
            return -EAGAIN;
        }
        if (z->r[i].type != (int)type) continue;
        int rc = answer_add(&a, z->r[i].data, strlen(z->r[i].data));
        if (rc < 0) {
            homing_dns_answer_clear(&a);
            return rc;
        }
    }
    if (!exists) return -ENOENT;
    *out = a;
    return 0;
}

/* TXT data: one or more "quoted strings" joined, or the bare rest of the line. */
static char *zone_txt(const char *p)
{
    size_t n = strlen(p);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (*p != '"') {
        memcpy(s, p, n + 1);
        return s;
    }
    size_t o = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p != '"') break;
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) p++;
            s[o++] = *p++;
        }
        if (*p == '"') p++;
    }
    s[o] = '\0';
    return s;
}

int homing_resolver_zone_new(const char *path, struct homing_resolver **out)
{
    FILE *f = fopen(path, "r");
    if (!f) return -errno;
    struct zone *z = calloc(1, sizeof *z);
    struct homing_resolver *r = calloc(1, sizeof *r);
    char *line = malloc(ZONE_LINE_MAX);
    int rc = 0;
    size_t cap = 0;
    if (!z || !r || !line) {
        rc = -ENOMEM;
        goto fail;
    }
    while (fgets(line, ZONE_LINE_MAX, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char *name = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (*p) *p++ = '\0';
        while (*p == ' ' || *p == '\t') p++;
        char *type = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (*p) *p++ = '\0';
        while (*p == ' ' || *p == '\t') p++;
        int t;
        if (strcasecmp(type, "A") == 0)
            t = HOMING_RR_A;
        else if (strcasecmp(type, "AAAA") == 0)
            t = HOMING_RR_AAAA;
        else if (strcasecmp(type, "MX") == 0)
            t = HOMING_RR_MX;
        else if (strcasecmp(type, "TXT") == 0)
            t = HOMING_RR_TXT;
        else if (strcasecmp(type, "PTR") == 0)
            t = HOMING_RR_PTR;
        else if (strcasecmp(type, "TEMPFAIL") == 0)
            t = -1;
        else {
            rc = -EINVAL;
            goto fail;
        }
        if (z->n >= ZONE_RECORDS_MAX) {
            rc = -E2BIG;
            goto fail;
        }
        if (z->n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            struct zone_rec *nr = realloc(z->r, nc * sizeof *nr);
            if (!nr) {
                rc = -ENOMEM;
                goto fail;
            }
            z->r = nr;
            cap = nc;
        }
        struct zone_rec *zr = &z->r[z->n];
        zr->name = strdup(name);
        zr->type = t;
        zr->data = t == HOMING_RR_TXT ? zone_txt(p) : strdup(p);
        if (!zr->name || !zr->data) {
            free(zr->name);
            free(zr->data);
            rc = -ENOMEM;
            goto fail;
        }
        z->n++;
    }
    fclose(f);
    free(line);
    r->ctx = z;
    r->lookup = zone_lookup;
    r->destroy = zone_destroy;
    *out = r;
    return 0;
fail:
    fclose(f);
    free(line);
    zone_destroy(z);
    free(r);
    return rc;
}

int auth_txt(struct homing_resolver *res, const char *name, struct homing_dns_answer *out)
{
    return res->lookup(res->ctx, name, HOMING_RR_TXT, out);
}
