/*
 * self_signed.c: the certificate pair `homing init --self-signed HOST` makes
 * for `homing relay`'s STARTTLS (docs/relay.md): an ECDSA P-256 key (mode
 * 0600) and a self-signed X.509 certificate naming HOST (subject CN and
 * subjectAltName), valid SELF_SIGNED_DAYS. Mail clients warn about a
 * self-signed certificate once; an organisation replaces the pair with one
 * its CA signed (relay.tls_cert, relay.tls_key) and the relay reloads nothing
 * else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"

#define SELF_SIGNED_DAYS     825 /* what browsers and mail clients still accept */
#define SELF_SIGNED_HOST_MAX 253

/* Whether host is a DNS name (letters, digits, '-', '.'): it goes into the
 * certificate as its name. */
static int host_ok(const char *host)
{
    size_t n = strlen(host);
    if (n == 0 || n > SELF_SIGNED_HOST_MAX || host[0] == '.' || host[0] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int cli_self_signed(const char *host, const char *crt_path, const char *key_path)
{
    if (!host_ok(host)) return -EINVAL;
    if (!crt_path || !key_path) return 0; /* only the check */
    int r = -EIO;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_EXTENSION *san = NULL;
    FILE *kf = NULL, *cf = NULL;
    if (!key || !x) goto out;
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) goto out;
    serial[0] &= 0x7f; /* a positive serial number (RFC 5280 4.1.2.2) */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    if (!ok || X509_set_version(x, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)SELF_SIGNED_DAYS * 86400) ||
        X509_set_pubkey(x, key) != 1)
        goto out;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1)
        goto out;
    char alt[SELF_SIGNED_HOST_MAX + 8];
    snprintf(alt, sizeof alt, "DNS:%s", host);
    san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, alt);
    if (!san || X509_add_ext(x, san, -1) != 1 || X509_sign(x, key, EVP_sha256()) <= 0) goto out;
    /* the key is created 0600 and never replaced: O_EXCL */
    int kfd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (kfd < 0) {
        r = -errno;
        goto out;
    }
    kf = fdopen(kfd, "w");
    if (!kf) {
        close(kfd);
        goto out;
    }
    int cfd = open(crt_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (cfd < 0) {
        r = -errno;
        goto out;
    }
    cf = fdopen(cfd, "w");
    if (!cf) {
        close(cfd);
        goto out;
    }
    if (PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) == 1 && PEM_write_X509(cf, x) == 1)
        r = 0;
out:
    if (kf && fclose(kf) != 0 && r == 0) r = -EIO;
    if (cf && fclose(cf) != 0 && r == 0) r = -EIO;
    X509_EXTENSION_free(san);
    X509_free(x);
    EVP_PKEY_free(key);
    return r;
}
