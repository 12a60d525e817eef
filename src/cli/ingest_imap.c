/*
 * ingest_imap.c: homing ingest --imap URL: reads new messages of one IMAP
 * mailbox through libcurl and ingests each (delivery_cli_ingest_one).
 *
 * Contract:
 * - The mailbox's UIDVALIDITY and the highest UID ingested are kept in the
 *   store ("imap:URL" -> "UIDVALIDITY UID"): a second run fetches only newer
 *   messages. A changed UIDVALIDITY (the mailbox was recreated) starts over;
 *   ingestion is idempotent, so nothing already recorded counts twice.
 * - Each ingested message is flagged \Seen, or moved with --imap-move FOLDER;
 *   the position is saved after each message, so a crash loses nothing and
 *   repeats at most one message (recorded once).
 * - imap:// upgrades with STARTTLS when offered, imaps:// is TLS from the
 *   start; certificates are verified unless --insecure. Credentials come from
 *   --auth-file only. Server responses are bounded (IMAP_RESPONSE_MAX).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "delivery_cli.h"
#include "homing/report.h"
#include "homing/util.h"

#define IMAP_RESPONSE_MAX (1u << 20) /* bytes of a STATUS/SEARCH response kept */
#define IMAP_UIDS_MAX     100000     /* messages fetched per run */
#define IMAP_URL_MAX      2048
#define IMAP_TIMEOUT_S    60

struct imap {
    CURL *c;
    char base[IMAP_URL_MAX];    /* imap://host:port/ */
    char mailbox[IMAP_URL_MAX]; /* INBOX */
    char err[CURL_ERROR_SIZE];
    struct homing_buf buf;
};

static size_t imap_write(char *p, size_t size, size_t n, void *arg)
{
    struct homing_buf *b = arg;
    return homing_buf_append(b, p, size * n) < 0 ? 0 : size * n;
}

/* Runs a request: url, optional custom command; the response lands in buf. */
static int imap_do(struct imap *m, const char *url, const char *custom, size_t max)
{
    homing_buf_free(&m->buf);
    homing_buf_init(&m->buf, max);
    curl_easy_setopt(m->c, CURLOPT_URL, url);
    curl_easy_setopt(m->c, CURLOPT_CUSTOMREQUEST, custom);
    curl_easy_setopt(m->c, CURLOPT_WRITEDATA, &m->buf);
    m->err[0] = '\0';
    CURLcode rc = curl_easy_perform(m->c);
    if (rc != CURLE_OK) {
        const char *why = m->err[0] ? m->err : curl_easy_strerror(rc);
        switch (rc) {
        case CURLE_LOGIN_DENIED: cli_fail("IMAP login refused: %s", why); return -EACCES;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
            cli_fail("IMAP server unreachable: %s", why);
            return -ECONNREFUSED;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_USE_SSL_FAILED: cli_fail("IMAP TLS failed: %s", why); return -EPROTO;
        default: cli_fail("IMAP %s failed: %s", custom ? custom : "fetch", why); return -EIO;
        }
    }
    return 0;
}

/* The number after "key " in the response, or -1. */
static long long imap_number(const struct homing_buf *b, const char *key)
{
    if (!b->data) return -1;
    char *z = homing_strndup0(b->data, b->len);
    if (!z) return -1;
    const char *p = strstr(z, key);
    long long v = -1;
    if (p) v = strtoll(p + strlen(key), NULL, 10);
    free(z);
    return v;
}

static int imap_cmp(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

int delivery_cli_ingest_imap(struct cli *cli, const char *url, const char *auth_file,
                             const char *move_to, int insecure)
{
    char user[DELIVERY_CLI_CRED_MAX], pass[DELIVERY_CLI_CRED_MAX];
    int tls_from_start = strncmp(url, "imaps://", 8) == 0;
    if (!tls_from_start && strncmp(url, "imap://", 7) != 0)
        return cli_usage_error("ingest", "--imap needs an imap:// or imaps:// URL");
    const char *host = url + (tls_from_start ? 8 : 7);
    const char *slash = strchr(host, '/');
    if (!slash || !slash[1] || strlen(url) >= IMAP_URL_MAX)
        return cli_usage_error("ingest", "--imap URL must name a mailbox: imap://HOST/INBOX");
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    if (delivery_cli_auth_file(auth_file, user, pass) < 0) return CLI_ERROR;

    struct imap m = {0};
    snprintf(m.base, sizeof m.base, "%.*s", (int)(slash - url + 1), url);
    snprintf(m.mailbox, sizeof m.mailbox, "%s", slash + 1);
    size_t ml = strlen(m.mailbox);
    while (ml && m.mailbox[ml - 1] == '/') m.mailbox[--ml] = '\0';
    for (size_t i = 0; i < ml; i++)
        if (m.mailbox[i] == '"' || m.mailbox[i] == '\\' || (unsigned char)m.mailbox[i] < 0x20)
            return cli_usage_error("ingest", "unsupported character in the mailbox name");
    homing_buf_init(&m.buf, IMAP_RESPONSE_MAX);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    m.c = curl_easy_init();
    int status = CLI_ERROR;
    unsigned long long *uids = NULL;
    if (!m.c) {
        cli_fail("out of memory");
        goto out;
    }
    curl_easy_setopt(m.c, CURLOPT_USERNAME, user);
    curl_easy_setopt(m.c, CURLOPT_PASSWORD, pass);
    curl_easy_setopt(m.c, CURLOPT_USE_SSL, tls_from_start ? CURLUSESSL_ALL : CURLUSESSL_TRY);
    curl_easy_setopt(m.c, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
    curl_easy_setopt(m.c, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
    curl_easy_setopt(m.c, CURLOPT_ERRORBUFFER, m.err);
    curl_easy_setopt(m.c, CURLOPT_WRITEFUNCTION, imap_write);
    curl_easy_setopt(m.c, CURLOPT_CONNECTTIMEOUT, (long)IMAP_TIMEOUT_S);
    curl_easy_setopt(m.c, CURLOPT_LOW_SPEED_TIME, (long)IMAP_TIMEOUT_S);
    curl_easy_setopt(m.c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(m.c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m.c, CURLOPT_PROTOCOLS_STR, "imap,imaps");

    char cmd[IMAP_URL_MAX + 64], u[IMAP_URL_MAX * 2 + 64];
    snprintf(cmd, sizeof cmd, "STATUS \"%s\" (UIDVALIDITY)", m.mailbox);
    if (imap_do(&m, m.base, cmd, IMAP_RESPONSE_MAX) < 0) goto out;
    long long validity = imap_number(&m.buf, "UIDVALIDITY ");
    if (validity <= 0) {
        cli_fail("IMAP server gave no UIDVALIDITY for %s", m.mailbox);
        goto out;
    }
    char name[IMAP_URL_MAX + 16], *pos = NULL;
    snprintf(name, sizeof name, "imap:%s", url);
    unsigned long long last = 0, kept_validity = 0;
    int r = homing_store_sync_get(s, name, &pos);
    if (r == 0) {
        if (sscanf(pos, "%llu %llu", &kept_validity, &last) != 2) last = 0;
        free(pos);
    } else if (r != -ENOENT) {
        cli_fail("cannot read the IMAP position: %s", homing_store_errmsg(s));
        goto out;
    }
    if (kept_validity != (unsigned long long)validity) last = 0;

    snprintf(u, sizeof u, "%s%s", m.base, m.mailbox);
    snprintf(cmd, sizeof cmd, "UID SEARCH UID %llu:*", last + 1);
    if (imap_do(&m, u, cmd, IMAP_RESPONSE_MAX) < 0) goto out;
    size_t n = 0;
    uids = calloc(IMAP_UIDS_MAX, sizeof *uids);
    if (!uids) {
        cli_fail("out of memory");
        goto out;
    }
    char *z = m.buf.data ? homing_strndup0(m.buf.data, m.buf.len) : NULL;
    for (char *p = z ? strstr(z, "SEARCH") : NULL; p;) {
        p += 6;
        while (*p == ' ') {
            char *end;
            unsigned long long v = strtoull(p + 1, &end, 10);
            if (end == p + 1) break;
            /* "N:*" also answers the newest message when none is newer */
            if (v > last && n < IMAP_UIDS_MAX) uids[n++] = v;
            p = end;
        }
        p = strstr(p, "SEARCH");
    }
    free(z);
    if (n > 1) qsort(uids, n, sizeof *uids, imap_cmp);

    size_t done = 0;
    status = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        snprintf(u, sizeof u, "%s%s;UIDVALIDITY=%lld/;UID=%llu", m.base, m.mailbox, validity,
                 uids[i]);
        if (imap_do(&m, u, NULL, HOMING_REPORT_SIZE_MAX + 1) < 0) {
            status = CLI_ERROR;
            break;
        }
        char label[64], source[IMAP_URL_MAX + 16];
        snprintf(label, sizeof label, "uid %llu", uids[i]);
        snprintf(source, sizeof source, "imap:%s", url);
        if (delivery_cli_ingest_one(cli, source, label, m.buf.data ? m.buf.data : "", m.buf.len) <
            0) {
            status = CLI_ERROR;
            break;
        }
        snprintf(u, sizeof u, "%s%s", m.base, m.mailbox);
        if (move_to)
            snprintf(cmd, sizeof cmd, "UID MOVE %llu \"%s\"", uids[i], move_to);
        else
            snprintf(cmd, sizeof cmd, "UID STORE %llu +FLAGS (\\Seen)", uids[i]);
        if (imap_do(&m, u, cmd, IMAP_RESPONSE_MAX) < 0) {
            status = CLI_ERROR;
            break;
        }
        char v[64];
        snprintf(v, sizeof v, "%lld %llu", validity, uids[i]);
        if (homing_store_sync_set(s, name, v) < 0) {
            cli_fail("cannot save the IMAP position: %s", homing_store_errmsg(s));
            status = CLI_ERROR;
            break;
        }
        done++;
    }
    if (n == 0 && kept_validity != (unsigned long long)validity) {
        char v[64];
        snprintf(v, sizeof v, "%lld %llu", validity, last);
        if (homing_store_sync_set(s, name, v) < 0) status = CLI_ERROR;
    }
    fprintf(stderr, "homing ingest: %zu message%s fetched from IMAP\n", done, done == 1 ? "" : "s");
out:
    free(uids);
    homing_buf_free(&m.buf);
    if (m.c) curl_easy_cleanup(m.c);
    curl_global_cleanup();
    memset(pass, 0, sizeof pass);
    return status;
}
