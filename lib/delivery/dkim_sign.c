/*
 * dkim_sign.c: DKIM-Signature fields for the copies homing sends, made by
 * libopendkim's signer (dkim_sign, dkim_chunk, dkim_eom, dkim_getsighdr_d),
 * and the key files they are made with (homing dkim-keys: RSA keys from
 * libcrypto, their DNS TXT records).
 *
 * Contract: see homing/dkim.h. The From field is found with the project's own
 * field reader and its address read with libopendkim's (dkim_mail_parse); the message itself is
 * read by libopendkim (its FIXCRLF mode: LF-only copies hash as the CRLF copies send.c puts on the
 * wire). A key file is read afresh for each signature, so a rotated or removed key takes effect
 * without a restart.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <opendkim/dkim.h>

#include "homing/dkim.h"
#include "homing/util.h"
#include "lib/mime/mime_int.h"

#define DKIM_SIGN_FROM_MAX   4096 /* bytes of the From field read */
#define DKIM_SIGN_HEADER_MAX 8192 /* bytes of the DKIM-Signature field made */
#define DKIM_SIGN_RECORD_MAX 2048 /* bytes of a TXT record (4096-bit key: ~750) */

const char *const HOMING_DKIM_SIGNED_FIELDS[] = {
    "from",       "to",           "cc",           "subject",          "date",
    "message-id", "mime-version", "content-type", "list-unsubscribe", "list-unsubscribe-post",
    NULL};

/* ---- the libopendkim handle ---- */

/* One DKIM_LIB for the process, set up once and only read after: OpenDKIM's
 * own milter shares one between its threads the same way. The options are the
 * same for every signature. */
static pthread_once_t dkim_sign_once = PTHREAD_ONCE_INIT;
static DKIM_LIB *dkim_sign_lib;

static void dkim_sign_lib_init(void)
{
    DKIM_LIB *lib = dkim_init(NULL, NULL);
    if (!lib) return;
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
    const char **sign = (const char **)HOMING_DKIM_SIGNED_FIELDS;
    static const char *over[] = {"from", NULL};
    const char **overp = over;
    unsigned int bits = HOMING_DKIM_BITS_MIN;
    if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK ||
        dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign, sizeof sign) != DKIM_STAT_OK ||
        dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, overp, sizeof overp) !=
            DKIM_STAT_OK ||
        dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof bits) !=
            DKIM_STAT_OK) {
        dkim_close(lib);
        return;
    }
    dkim_sign_lib = lib;
}

static DKIM_LIB *dkim_sign_lib_get(void)
{
    pthread_once(&dkim_sign_once, dkim_sign_lib_init);
    return dkim_sign_lib;
}

/* ---- names ---- */

int homing_dkim_name_ok(const char *name, int selector)
{
    if (!name) return 0;
    size_t n = strlen(name), label = 0;
    if (n == 0 || n >= (selector ? HOMING_DKIM_SELECTOR_MAX : HOMING_DKIM_DOMAIN_MAX)) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            /* a selector is one label: it is the file name's last part */
            if (selector || label == 0 || i + 1 == n) return 0;
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-') return 0;
        if (c == '-' && (label == 0 || i + 1 == n || name[i + 1] == '.')) return 0;
        if (++label > 63) return 0;
    }
    /* a domain needs a dot: "localhost" or "com" is never a sender domain */
    return selector || strchr(name, '.') != NULL;
}

static void lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

int homing_dkim_selector(const struct homing_settings *s, const char *domain, char *out, size_t cap)
{
    if (!s || !domain || !out || cap == 0) return -EINVAL;
    const char *list = s->dkim.selectors ? s->dkim.selectors : "";
    size_t dl = strlen(domain);
    const char *p = list;
    /* "DOMAIN=SELECTOR, DOMAIN=SELECTOR": the first entry of the domain wins */
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        const char *e = p + strcspn(p, ",");
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq) {
            const char *ne = eq;
            while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
            if ((size_t)(ne - p) == dl && strncasecmp(p, domain, dl) == 0) {
                const char *v = eq + 1, *ve = e;
                while (v < ve && (*v == ' ' || *v == '\t')) v++;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
                if ((size_t)(ve - v) >= cap || (size_t)(ve - v) >= HOMING_DKIM_SELECTOR_MAX)
                    return -EINVAL;
                char sel[HOMING_DKIM_SELECTOR_MAX];
                memcpy(sel, v, (size_t)(ve - v));
                sel[ve - v] = '\0';
                if (!homing_dkim_name_ok(sel, 1)) return -EINVAL;
                lower(sel);
                memcpy(out, sel, strlen(sel) + 1);
                return 0;
            }
        }
        p = e;
    }
    const char *d = s->dkim.selector ? s->dkim.selector : "";
    if (!homing_dkim_name_ok(d, 1) || strlen(d) >= cap) return -EINVAL;
    memcpy(out, d, strlen(d) + 1);
    lower(out);
    return 0;
}

int homing_dkim_key_path(const struct homing_settings *s, const char *domain, const char *selector,
                         char *out, size_t cap)
{
    if (!s || !out || cap == 0) return -EINVAL;
    if (!homing_dkim_name_ok(domain, 0) || !homing_dkim_name_ok(selector, 1)) return -EINVAL;
    const char *dir = s->dkim.keys_dir;
    if (!dir || !*dir) return -ENOENT;
    char d[HOMING_DKIM_DOMAIN_MAX], sel[HOMING_DKIM_SELECTOR_MAX];
    memcpy(d, domain, strlen(domain) + 1);
    memcpy(sel, selector, strlen(selector) + 1);
    lower(d);
    lower(sel);
    int n = snprintf(out, cap, "%s/%s.%s.key", dir, d, sel);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ---- the From domain ---- */

/* Whether an address list holds more than one mailbox or a group: a ',' or a
 * ':' outside quoted strings, comments and angle brackets. libopendkim's
 * dkim_mail_parse reads the first address only, and a copy "From" two people
 * has no one domain to sign for. */
static int from_is_list(const char *v)
{
    int quoted = 0, angle = 0;
    size_t comment = 0;
    for (const char *p = v; *p; p++) {
        if ((quoted || comment) && *p == '\\') {
            if (!*++p) break;
        } else if (quoted) {
            quoted = *p != '"';
        } else if (*p == '(') {
            comment++;
        } else if (comment) {
            comment -= *p == ')';
        } else if (*p == '"') {
            quoted = 1;
        } else if (*p == '<') {
            angle = 1;
        } else if (*p == '>') {
            angle = 0;
        } else if (!angle && (*p == ',' || *p == ':')) {
            return 1;
        }
    }
    return 0;
}

int homing_dkim_from_domain(const char *msg, size_t len, char *out, size_t cap)
{
    if (!msg || !out || cap == 0) return -EINVAL;
    size_t pos = 0;
    struct homing_mime_field f;
    int r, seen = 0;
    char from[DKIM_SIGN_FROM_MAX];
    while ((r = homing_mime_field_next(msg, len, &pos, &f)) != 0) {
        if (r < 0 || !homing_mime_field_is(&f, "From")) continue;
        if (seen++) return -EBADMSG; /* two From fields: whose domain? */
        if (f.value.len >= sizeof from) return -EBADMSG;
        size_t k = 0; /* unfolded: line breaks out, the blanks after them kept */
        for (size_t i = 0; i < f.value.len; i++)
            if (f.value.p[i] != '\r' && f.value.p[i] != '\n') from[k++] = f.value.p[i];
        from[k] = '\0';
        if (memchr(from, '\0', k)) return -EBADMSG;
    }
    if (!seen || from_is_list(from)) return -EBADMSG;
    /* OpenDKIM's own reader of the signing address (comments, quoted display
     * names, angle brackets), rather than GMime's: GLib 2.74's slice allocator
     * behind GMime locks with bare futexes, which ThreadSanitizer cannot see,
     * and homing relay signs from several threads. It writes into from. */
    unsigned char *user = NULL, *domain = NULL;
    if (dkim_mail_parse((unsigned char *)from, &user, &domain) != 0 || !domain) return -EBADMSG;
    /* a U-label (UTF-8) domain fails here too: it is sent unsigned */
    if (!homing_dkim_name_ok((const char *)domain, 0) || strlen((const char *)domain) >= cap)
        return -EBADMSG;
    memcpy(out, domain, strlen((const char *)domain) + 1);
    lower(out);
    return 0;
}

/* ---- key files ---- */

/* The key file's bytes (NUL-terminated, malloc'd) if only its owner may read it. */
static int key_read(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? -ENOENT : -errno;
    struct stat st;
    int r = 0;
    char *buf = NULL;
    if (fstat(fd, &st) < 0)
        r = -errno;
    else if (!S_ISREG(st.st_mode))
        r = -EINVAL;
    else if (st.st_mode & 077)
        r = -EPERM;
    else if (st.st_size <= 0 || (size_t)st.st_size > HOMING_DKIM_KEY_FILE_MAX)
        r = -EINVAL;
    else if (!(buf = malloc((size_t)st.st_size + 1)))
        r = -ENOMEM;
    size_t n = 0;
    while (r == 0 && n < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            r = k < 0 ? -errno : -EIO;
        else
            n += (size_t)k;
    }
    close(fd);
    if (r < 0) {
        if (buf) OPENSSL_cleanse(buf, (size_t)st.st_size);
        free(buf);
        return r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static void key_free(char *k, size_t len)
{
    if (!k) return;
    OPENSSL_cleanse(k, len);
    free(k);
}

/* The RSA key in pem, of HOMING_DKIM_BITS_MIN bits or more. */
static int key_parse(const char *pem, size_t len, EVP_PKEY **out)
{
    if (len > HOMING_DKIM_KEY_FILE_MAX) return -EINVAL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b) return -ENOMEM;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!k) return -EINVAL;
    if (EVP_PKEY_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_bits(k) < HOMING_DKIM_BITS_MIN) {
        EVP_PKEY_free(k);
        return -EINVAL;
    }
    *out = k;
    return 0;
}

int homing_dkim_key_create(const char *path, int bits)
{
    if (!path || bits < HOMING_DKIM_BITS_MIN || bits > HOMING_DKIM_BITS_MAX) return -EINVAL;
    EVP_PKEY *k = EVP_RSA_gen((unsigned)bits);
    if (!k) return -ENOMEM;
    BIO *b = BIO_new(BIO_s_mem());
    int r = b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 ? 0 : -ENOMEM;
    EVP_PKEY_free(k);
    char *p = NULL;
    long pl = r == 0 ? BIO_get_mem_data(b, &p) : 0;
    if (r == 0 && pl <= 0) r = -EIO;
    int fd = -1;
    if (r == 0) {
        /* O_EXCL: an existing key (published in DNS, perhaps) is never replaced */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) r = -errno;
    }
    size_t off = 0;
    while (r == 0 && off < (size_t)pl) {
        ssize_t w = write(fd, p + off, (size_t)pl - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            r = w < 0 ? -errno : -EIO;
        else
            off += (size_t)w;
    }
    if (r == 0 && fsync(fd) < 0) r = -errno;
    if (fd >= 0 && close(fd) < 0 && r == 0) r = -errno;
    if (fd >= 0 && r < 0) unlink(path); /* no half-written key left behind */
    BIO_free(b);                        /* BIO_free_all would be the same: one BIO */
    return r;
}

int homing_dkim_key_record(const char *path, char **record_out, int *bits_out)
{
    if (!path || !record_out) return -EINVAL;
    char *pem = NULL;
    size_t len = 0;
    int r = key_read(path, &pem, &len);
    if (r < 0) return r;
    EVP_PKEY *k = NULL;
    r = key_parse(pem, len, &k);
    key_free(pem, len);
    if (r < 0) return r;
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der); /* SubjectPublicKeyInfo, what p= holds (RFC 6376 3.6.1) */
    int bits = EVP_PKEY_bits(k);
    EVP_PKEY_free(k);
    if (n <= 0) return -ENOMEM;
    size_t b64 = ((size_t)n + 2) / 3 * 4;
    char *rec = b64 + 32 <= DKIM_SIGN_RECORD_MAX ? malloc(b64 + 32) : NULL;
    if (!rec) {
        OPENSSL_free(der);
        return b64 + 32 > DKIM_SIGN_RECORD_MAX ? -E2BIG : -ENOMEM;
    }
    int w = sprintf(rec, "v=DKIM1; k=rsa; p=");
    EVP_EncodeBlock((unsigned char *)rec + w, der, n);
    OPENSSL_free(der);
    *record_out = rec;
    if (bits_out) *bits_out = bits;
    return 0;
}

int homing_dkim_zone_line(const char *domain, const char *selector, const char *record, char **out)
{
    if (!homing_dkim_name_ok(domain, 0) || !homing_dkim_name_ok(selector, 1) || !record || !out)
        return -EINVAL;
    struct homing_buf b;
    homing_buf_init(&b, DKIM_SIGN_RECORD_MAX * 2);
    int r = homing_buf_printf(&b, "%s._domainkey.%s. IN TXT (", selector, domain);
    size_t n = strlen(record);
    for (size_t i = 0; r == 0 && i < n; i += 255) {
        size_t k = n - i < 255 ? n - i : 255; /* one character-string holds 255 bytes */
        r = homing_buf_printf(&b, " \"%.*s\"", (int)k, record + i);
    }
    if (r == 0) r = homing_buf_puts(&b, " )");
    if (r < 0) {
        homing_buf_free(&b);
        return r;
    }
    *out = homing_buf_steal(&b);
    return 0;
}

/* ---- signing ---- */

int homing_dkim_sign_with(const char *domain, const char *selector, const char *key_pem,
                          size_t keylen, const char *msg, size_t len, char **header_out)
{
    if (!msg || !key_pem || !header_out) return -EINVAL;
    if (!homing_dkim_name_ok(domain, 0) || !homing_dkim_name_ok(selector, 1)) return -EINVAL;
    if (len > HOMING_DKIM_MESSAGE_MAX) return -E2BIG;
    /* libcrypto checks the key first: libopendkim's own error for a bad key is
     * only a status, and its minimum size is checked against ours here */
    EVP_PKEY *k = NULL;
    int r = key_parse(key_pem, keylen, &k);
    if (r < 0) return r;
    EVP_PKEY_free(k);
    DKIM_LIB *lib = dkim_sign_lib_get();
    if (!lib) return -ENOMEM;
    /* dkim_sign wants the key NUL-terminated: key_pem may be a slice */
    char *key = malloc(keylen + 1);
    if (!key) return -ENOMEM;
    memcpy(key, key_pem, keylen);
    key[keylen] = '\0';
    DKIM_STAT st = DKIM_STAT_OK;
    DKIM *d = dkim_sign(lib, (const unsigned char *)"homing", NULL, (dkim_sigkey_t)key,
                        (const unsigned char *)selector, (const unsigned char *)domain,
                        DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
    if (!d) {
        key_free(key, keylen);
        return st == DKIM_STAT_NORESOURCE ? -ENOMEM : -EINVAL;
    }
    unsigned char *hdr = NULL;
    size_t hlen = 0;
    /* dkim_chunk does not write through its buffer: the cast drops a const
     * libopendkim's prototype lacks */
    if ((st = dkim_chunk(d, (unsigned char *)(uintptr_t)msg, len)) != DKIM_STAT_OK ||
        (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK || (st = dkim_eom(d, NULL)) != DKIM_STAT_OK ||
        (st = dkim_getsighdr_d(d, strlen("DKIM-Signature: "), &hdr, &hlen)) != DKIM_STAT_OK)
        r = st == DKIM_STAT_NORESOURCE ? -ENOMEM : st == DKIM_STAT_SYNTAX ? -EBADMSG : -EIO;
    struct homing_buf b;
    homing_buf_init(&b, DKIM_SIGN_HEADER_MAX);
    if (r == 0) r = homing_buf_puts(&b, "DKIM-Signature: ");
    /* libopendkim folds with bare LF: the field goes on the wire with CRLF */
    for (size_t i = 0; r == 0 && i < hlen; i++) {
        if (hdr[i] == '\n' && (i == 0 || hdr[i - 1] != '\r')) r = homing_buf_append(&b, "\r", 1);
        if (r == 0) r = homing_buf_append(&b, &hdr[i], 1);
    }
    if (r == 0) r = homing_buf_puts(&b, "\r\n");
    dkim_free(d);
    key_free(key, keylen);
    if (r < 0) {
        homing_buf_free(&b);
        return r;
    }
    *header_out = homing_buf_steal(&b);
    return 0;
}

int homing_dkim_sign(const struct homing_settings *s, const char *msg, size_t len,
                     char **header_out)
{
    if (!s || !msg || !header_out) return -EINVAL;
    if (len > HOMING_DKIM_MESSAGE_MAX) return -E2BIG;
    if (!s->dkim.keys_dir || !*s->dkim.keys_dir) return -ENOENT;
    char domain[HOMING_DKIM_DOMAIN_MAX], sel[HOMING_DKIM_SELECTOR_MAX], path[HOMING_DKIM_PATH_MAX];
    int r = homing_dkim_from_domain(msg, len, domain, sizeof domain);
    if (r < 0) return r;
    if ((r = homing_dkim_selector(s, domain, sel, sizeof sel)) < 0) return r;
    if ((r = homing_dkim_key_path(s, domain, sel, path, sizeof path)) < 0) return r;
    char *key = NULL;
    size_t keylen = 0;
    if ((r = key_read(path, &key, &keylen)) < 0) return r;
    r = homing_dkim_sign_with(domain, sel, key, keylen, msg, len, header_out);
    key_free(key, keylen);
    return r;
}
