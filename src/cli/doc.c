/*
 * doc.c: `homing doc`: documents shared through per-recipient links
 * (docs/documents.md). add encrypts a file into the documents directory
 * (docs.dir) and registers it; grant gives recipients their own /d/ link;
 * list shows documents or one document's grants; revoke ends grants; verify
 * checks a file against a document's stored (keyed) digest.
 *
 * Every doc command first keys the digests of documents stored before digests
 * were keyed (migration 0009, homing_doc_digests_upgrade), so list and verify
 * never meet an unkeyed one while the key file is readable.
 *
 * Order in add: the encrypted file is written completely (O_EXCL, mode 0600)
 * before the store row exists, and removed again if registering fails, so the
 * store never names a file that is not there. The keys come from the key file
 * (homing_keyring_doc_key, homing_keyring_digest_key) and are never written
 * anywhere. add prints the plain BLAKE2b-256 of the file once, for the sender to
 * keep; the store keeps only the keyed one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "homing/document.h"
#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"

#define DOC_RECIPIENTS_MAX 1000 /* recipients of one grant command */
#define DOC_PATH_MAX       4096
#define DOC_DURATION_MAX   (3650LL * 86400) /* --expires: ten years at most */

static const char doc_usage[] =
    "usage: homing doc add FILE [--name NAME] [--type MEDIA/TYPE]\n"
    "       homing doc list [NAME]\n"
    "       homing doc grant NAME RECIPIENT... [--expires DURATION] [--max-uses N]\n"
    "                        [--message ID]\n"
    "       homing doc revoke NAME|GRANT\n"
    "       homing doc verify NAME FILE\n\n"
    "Documents are stored encrypted in docs.dir and served by the daemon at\n"
    "/d/TOKEN: one link per recipient and document (see docs/documents.md).\n\n"
    "  add      encrypts FILE and registers it under NAME (default: the file name)\n"
    "  list     the documents; with NAME, that document's grants\n"
    "  grant    gives each RECIPIENT (an address) a link of its own and prints it.\n"
    "           Without --message, a message is registered for them (subject\n"
    "           \"Document: NAME\"); with it, the recipients must be its recipients.\n"
    "           DURATION: N[smhdw] (e.g. 30s, 12h, 7d); --max-uses: downloads allowed\n"
    "  revoke   ends one grant (its number) or every grant of a document (its name)\n"
    "  verify   whether FILE (e.g. a downloaded copy) is the document NAME: its\n"
    "           keyed digest against the stored one; exit 0 if so, 1 if not\n";

/* What a file name says about its media type; octet-stream otherwise. */
static const char *guess_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".pdf", "application/pdf"},
        {".txt", "text/plain"},
        {".html", "text/html"},
        {".htm", "text/html"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".zip", "application/zip"},
        {".csv", "text/csv"},
        {".json", "application/json"},
        {".xml", "application/xml"},
        {".odt", "application/vnd.oasis.opendocument.text"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

/* N[smhdw] (no unit: seconds) into microseconds; -EINVAL. */
static int parse_duration(const char *s, int64_t *us)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (end == s || errno || n <= 0) return -EINVAL;
    long long mul = 1;
    switch (*end) {
    case '\0':
    case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    case 'w': mul = 7 * 86400; break;
    default: return -EINVAL;
    }
    if (*end && end[1]) return -EINVAL;
    if (n > DOC_DURATION_MAX / mul) return -EINVAL;
    *us = (int64_t)(n * mul) * 1000000;
    return 0;
}

/* The document key and the digest key (either may be NULL). */
static int doc_keys(struct cli *cli, uint8_t key[HOMING_DOC_KEY_LEN],
                    uint8_t dkey[HOMING_DOC_KEY_LEN])
{
    const struct homing_keyring *k = cli_keyring(cli);
    if (!k) return -ENOKEY;
    if ((key && homing_keyring_doc_key(k, key) < 0) ||
        (dkey && homing_keyring_digest_key(k, dkey) < 0)) {
        if (key) sodium_memzero(key, HOMING_DOC_KEY_LEN);
        cli_fail("cannot derive the document keys from the key file");
        return -ENOKEY;
    }
    return 0;
}

static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > HOMING_DOC_NAME_MAX) return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f) return 0;
    /* all digits would read as a grant number in `doc revoke` */
    return strspn(n, "0123456789") != len;
}

/* Run as root, files go to the owner of the key file: the daemon, which
 * needs both, reads them after dropping to serve.user (homing init gives the
 * key file to that user). */
static void give_like_keys(struct cli *cli, const char *path, int fd)
{
    struct stat st;
    if (geteuid() != 0 || stat(homing_config_settings(cli->config)->keys.file, &st) < 0) return;
    int r = fd >= 0 ? fchown(fd, st.st_uid, st.st_gid) : chown(path, st.st_uid, st.st_gid);
    if (r < 0) fprintf(stderr, "homing doc: warning: chown %s: %s\n", path, strerror(errno));
}

static int doc_add(struct cli *cli, int argc, char **argv)
{
    const char *file = NULL, *name = NULL, *type = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "--type") && i + 1 < argc)
            type = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("doc", "unknown option or missing value: %s", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return cli_usage_error("doc", "add takes one FILE");
    }
    if (!file) return cli_usage_error("doc", "add needs a FILE");
    if (!name) {
        const char *slash = strrchr(file, '/');
        name = slash ? slash + 1 : file;
    }
    if (!name_ok(name))
        return cli_usage_error("doc", "a name is 1 to %d printable bytes, not only digits",
                               HOMING_DOC_NAME_MAX);
    if (!type) type = guess_type(file);
    if (!homing_doc_media_type_ok(type))
        return cli_usage_error("doc", "--type needs a media type such as application/pdf");
    uint8_t key[HOMING_DOC_KEY_LEN], dkey[HOMING_DOC_KEY_LEN];
    if (doc_keys(cli, key, dkey) < 0) return CLI_ERROR;
    struct homing_store *store = cli_store(cli);
    if (!store) return CLI_ERROR;
    char safe[HOMING_DOC_NAME_MAX + 1];
    struct homing_document *old = NULL;
    if (homing_store_document_get(store, name, &old) == 0) {
        homing_documents_free(old, 1);
        return cli_fail("a document named %s exists already", cli_safe(name, safe, sizeof safe));
    }

    const char *dir = homing_config_settings(cli->config)->docs.dir;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return cli_fail("cannot create %s: %s", dir, strerror(errno));
    give_like_keys(cli, dir, -1);
    int in = open(file, O_RDONLY | O_CLOEXEC);
    if (in < 0) return cli_fail("cannot read %s: %s", file, strerror(errno));
    char fname[HOMING_DOC_FILE_MAX], path[DOC_PATH_MAX];
    homing_doc_file_name(fname);
    snprintf(path, sizeof path, "%s/%s", dir, fname);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return cli_fail("cannot create %s: %s", path, strerror(errno));
    }
    give_like_keys(cli, path, out);
    uint64_t size;
    uint8_t digest[HOMING_DOC_DIGEST_LEN], plain[HOMING_DOC_DIGEST_LEN];
    int r = homing_doc_encrypt(key, dkey, fname, in, out, &size, digest, plain);
    sodium_memzero(key, sizeof key);
    sodium_memzero(dkey, sizeof dkey);
    close(in);
    if (r == 0 && fsync(out) < 0) r = -EIO;
    if (close(out) < 0 && r == 0) r = -EIO;
    if (r < 0) {
        unlink(path);
        return cli_fail("cannot encrypt %s: %s", file, strerror(-r));
    }
    struct homing_document d = {.name = (char *)name,
                                .media_type = (char *)type,
                                .size = (int64_t)size,
                                .file = fname,
                                .digest_keyed = 1};
    homing_hex_encode(digest, sizeof digest, d.digest);
    int64_t id;
    r = homing_store_document_add(store, &d, &id);
    if (r < 0) {
        unlink(path);
        return cli_fail("cannot register the document: %s", homing_store_errmsg(store));
    }
    /* The plain digest, shown here only: what b2sum -l 256 prints for the
     * original and for a faithful download. Not stored, so a copy of the
     * database cannot test guesses of the content against it. */
    char plain_hex[2 * HOMING_DOC_DIGEST_LEN + 1];
    homing_hex_encode(plain, sizeof plain, plain_hex);
    printf("added %s: %llu bytes, %s, blake2b-256 %s\n", cli_safe(name, safe, sizeof safe),
           (unsigned long long)size, type, plain_hex);
    return CLI_OK;
}

static void print_limit(const struct homing_grant *g, int64_t now)
{
    char t[CLI_TIME_SHORT_MAX];
    const char *state = g->revoked_us                           ? "revoked"
                        : g->expires_us && now >= g->expires_us ? "expired"
                        : g->max_uses && g->uses >= g->max_uses ? "used-up"
                                                                : "active";
    printf("  %-8s", state);
    if (g->expires_us) {
        cli_time_short(g->expires_us, t);
        printf(" expires %s", t);
    }
    if (g->max_uses)
        printf(" uses %lld/%lld", (long long)g->uses, (long long)g->max_uses);
    else
        printf(" uses %lld", (long long)g->uses);
}

static int doc_list(struct cli *cli, int argc, char **argv)
{
    if (argc > 1) return cli_usage_error("doc", "list takes at most one NAME");
    struct homing_store *store = cli_store(cli);
    if (!store) return CLI_ERROR;
    char safe[HOMING_DOC_NAME_MAX + 1], t[CLI_TIME_SHORT_MAX];
    if (argc == 0) {
        struct homing_document *d;
        size_t n;
        if (homing_store_document_list(store, &d, &n) < 0)
            return cli_fail("cannot list documents: %s", homing_store_errmsg(store));
        for (size_t i = 0; i < n; i++) {
            cli_time_short(d[i].created_us, t);
            /* keyed: compare with `homing doc verify`, not with b2sum */
            printf("%s  %lld bytes  %s  %s  grants %lld  downloads %lld  %s %s\n",
                   cli_safe(d[i].name, safe, sizeof safe), (long long)d[i].size, d[i].media_type, t,
                   (long long)d[i].grants, (long long)d[i].uses,
                   d[i].digest_keyed ? "keyed-digest" : "blake2b-256", d[i].digest);
        }
        homing_documents_free(d, n);
        return CLI_OK;
    }
    struct homing_document *d;
    if (homing_store_document_get(store, argv[0], &d) < 0)
        return cli_fail("no document named %s", cli_safe(argv[0], safe, sizeof safe));
    struct homing_grant *g;
    size_t n;
    int r = homing_store_grant_list(store, d->id, &g, &n);
    homing_documents_free(d, 1);
    if (r < 0) return cli_fail("cannot list grants: %s", homing_store_errmsg(store));
    int64_t now = homing_now_us();
    for (size_t i = 0; i < n; i++) {
        char id[HOMING_ID_STR_MAX], addr[330];
        homing_id_format(g[i].message, id);
        printf("grant %lld  message %s  recipient %u %s", (long long)g[i].id, id, g[i].recipient,
               cli_safe(g[i].address, addr, sizeof addr));
        print_limit(&g[i], now);
        putchar('\n');
    }
    homing_grants_free(g, n);
    return CLI_OK;
}

/* Registers a message whose recipients are addrs, for grants given outside
 * `homing track`: the events of the downloads then belong to a message. */
static int grant_message(struct homing_store *store, const char *docname, const char **addrs,
                         size_t n, uint64_t *id)
{
    char subject[HOMING_DOC_NAME_MAX + 16];
    snprintf(subject, sizeof subject, "Document: %s", docname);
    struct homing_message_spec spec = {
        .subject = subject,
        .mode = HOMING_MODE_PER_RECIPIENT,
        .recipients = addrs,
        .n_recipients = n,
    };
    return homing_store_message_add(store, &spec, id);
}

static int doc_grant(struct cli *cli, int argc, char **argv)
{
    const char *name = NULL, *msg = NULL;
    int64_t expires = 0;
    long long max_uses = 0;
    const char **addrs = calloc(DOC_RECIPIENTS_MAX, sizeof *addrs);
    size_t n = 0;
    int status = CLI_ERROR;
    struct homing_document *d = NULL;
    struct homing_message *m = NULL;
    uint32_t *idx = NULL;
    if (!addrs) return cli_fail("out of memory");
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--expires") && i + 1 < argc) {
            if (parse_duration(argv[++i], &expires) < 0) {
                cli_usage_error("doc", "--expires needs N[smhdw], e.g. 7d");
                goto out;
            }
        } else if (!strcmp(argv[i], "--max-uses") && i + 1 < argc) {
            if (cli_parse_count("doc", "--max-uses", argv[++i], 1, 1000000, &max_uses) < 0)
                goto out;
        } else if (!strcmp(argv[i], "--message") && i + 1 < argc) {
            msg = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_usage_error("doc", "unknown option or missing value: %s", argv[i]);
            goto out;
        } else if (!name) {
            name = argv[i];
        } else if (n < DOC_RECIPIENTS_MAX) {
            if (!strchr(argv[i], '@')) {
                cli_usage_error("doc", "a recipient is an address: %s", argv[i]);
                goto out;
            }
            addrs[n++] = argv[i];
        } else {
            cli_usage_error("doc", "more than %d recipients", DOC_RECIPIENTS_MAX);
            goto out;
        }
    }
    if (!name || n == 0) {
        cli_usage_error("doc", "grant needs a document NAME and at least one RECIPIENT");
        goto out;
    }
    if (cli_config(cli) < 0) goto out;
    const struct homing_keyring *keys = cli_keyring(cli);
    struct homing_store *store = keys ? cli_store(cli) : NULL;
    if (!store) goto out;
    char safe[HOMING_DOC_NAME_MAX + 1];
    if (homing_store_document_get(store, name, &d) < 0) {
        cli_fail("no document named %s", cli_safe(name, safe, sizeof safe));
        goto out;
    }
    idx = calloc(n, sizeof *idx);
    if (!idx) {
        cli_fail("out of memory");
        goto out;
    }
    uint64_t message;
    if (msg) {
        if (cli_message_arg(cli, "doc", msg, &message) < 0) goto out;
        if (homing_store_message_get(store, message, &m) < 0) {
            cli_fail("cannot read message %s: %s", msg, homing_store_errmsg(store));
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < m->n_recipients && !idx[i]; j++)
                if (strcasecmp(m->recipients[j].address, addrs[i]) == 0)
                    idx[i] = m->recipients[j].index;
            if (!idx[i]) {
                char a[330];
                cli_fail("%s is not a recipient of message %s", cli_safe(addrs[i], a, sizeof a),
                         msg);
                goto out;
            }
        }
    } else {
        if (grant_message(store, d->name, addrs, n, &message) < 0) {
            cli_fail("cannot register a message for the grants: %s", homing_store_errmsg(store));
            goto out;
        }
        for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)(i + 1);
    }
    const char *base = homing_config_settings(cli->config)->public.base_url;
    char idstr[HOMING_ID_STR_MAX];
    homing_id_format(message, idstr);
    printf("document %s, message %s\n", cli_safe(d->name, safe, sizeof safe), idstr);
    for (size_t i = 0; i < n; i++) {
        struct homing_grant_spec g = {
            .document = d->id,
            .message = message,
            .recipient = idx[i],
            .expires_us = expires ? homing_now_us() + expires : 0,
            .max_uses = max_uses,
        };
        int64_t gid;
        if (homing_store_grant_add(store, &g, &gid) < 0) {
            cli_fail("cannot add a grant: %s", homing_store_errmsg(store));
            goto out;
        }
        struct homing_buf url;
        homing_buf_init(&url, 4096);
        int r = homing_token_url(base, keys, HOMING_TOKEN_DOCUMENT, message, idx[i], (uint32_t)gid,
                                 &url);
        if (r < 0) {
            homing_buf_free(&url);
            cli_fail("cannot make the link: %s", strerror(-r));
            goto out;
        }
        char a[330];
        printf("grant %lld %s %s\n", (long long)gid, cli_safe(addrs[i], a, sizeof a), url.data);
        homing_buf_free(&url);
    }
    status = CLI_OK;
out:
    homing_message_free(m);
    homing_documents_free(d, d ? 1 : 0);
    free(idx);
    free(addrs);
    return status;
}

static int doc_revoke(struct cli *cli, int argc, char **argv)
{
    if (argc != 1) return cli_usage_error("doc", "revoke takes one NAME or GRANT number");
    struct homing_store *store = cli_store(cli);
    if (!store) return CLI_ERROR;
    const char *a = argv[0];
    int64_t n = 0;
    int r;
    char safe[HOMING_DOC_NAME_MAX + 1];
    if (*a && strspn(a, "0123456789") == strlen(a)) {
        long long id;
        if (cli_parse_count("doc", "GRANT", a, 1, INT64_MAX, &id) < 0) return CLI_ERROR;
        r = homing_store_grant_revoke(store, id, 0, &n);
    } else {
        struct homing_document *d;
        if (homing_store_document_get(store, a, &d) < 0)
            return cli_fail("no document named %s", cli_safe(a, safe, sizeof safe));
        r = homing_store_grant_revoke(store, 0, d->id, &n);
        homing_documents_free(d, 1);
    }
    if (r == -ENOENT) return cli_fail("nothing to revoke: %s", cli_safe(a, safe, sizeof safe));
    if (r < 0) return cli_fail("cannot revoke: %s", homing_store_errmsg(store));
    printf("revoked %lld grant%s\n", (long long)n, n == 1 ? "" : "s");
    return CLI_OK;
}

/* homing doc verify NAME FILE: 0 when FILE has the document's digest, 1 when
 * not. The stored digest is keyed, so this is the way to check a download
 * without the plain digest that add printed. */
static int doc_verify(struct cli *cli, int argc, char **argv)
{
    if (argc != 2) return cli_usage_error("doc", "verify takes a NAME and a FILE");
    char safe[HOMING_DOC_NAME_MAX + 1], fsafe[DOC_PATH_MAX];
    struct homing_store *store = cli_store(cli);
    if (!store) return CLI_ERROR;
    struct homing_document *d;
    if (homing_store_document_get(store, argv[0], &d) < 0)
        return cli_fail("no document named %s", cli_safe(argv[0], safe, sizeof safe));
    uint8_t dkey[HOMING_DOC_KEY_LEN] = {0}, dg[HOMING_DOC_DIGEST_LEN];
    /* A row not keyed yet (the key file could not be read to upgrade it) holds
     * the plain digest: compare with that. */
    if (d->digest_keyed && doc_keys(cli, NULL, dkey) < 0) {
        homing_documents_free(d, 1);
        return CLI_ERROR;
    }
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        homing_documents_free(d, 1);
        sodium_memzero(dkey, sizeof dkey);
        return cli_fail("cannot read %s: %s", cli_safe(argv[1], fsafe, sizeof fsafe), strerror(e));
    }
    int r;
    if (d->digest_keyed)
        r = homing_doc_digest_fd(dkey, fd, dg);
    else {
        /* an empty key: crypto_generichash's unkeyed BLAKE2b, as before 0009 */
        crypto_generichash_state h;
        uint8_t buf[8192];
        ssize_t n;
        crypto_generichash_init(&h, NULL, 0, sizeof dg);
        while ((n = read(fd, buf, sizeof buf)) > 0) crypto_generichash_update(&h, buf, (size_t)n);
        r = n < 0 ? -errno : 0;
        if (r == 0) crypto_generichash_final(&h, dg, sizeof dg);
    }
    close(fd);
    sodium_memzero(dkey, sizeof dkey);
    if (r < 0) {
        homing_documents_free(d, 1);
        return cli_fail("cannot read %s: %s", cli_safe(argv[1], fsafe, sizeof fsafe), strerror(-r));
    }
    char hex[2 * HOMING_DOC_DIGEST_LEN + 1];
    homing_hex_encode(dg, sizeof dg, hex);
    int same = sodium_memcmp(hex, d->digest, sizeof hex - 1) == 0;
    printf("%s: %s %s\n", cli_safe(argv[1], fsafe, sizeof fsafe),
           same ? "is the document" : "is NOT the document", cli_safe(d->name, safe, sizeof safe));
    homing_documents_free(d, 1);
    return same ? CLI_OK : 1;
}

/* Keys the digests of documents stored before migration 0009. Only when there
 * are such rows does it need the key file; if that cannot be read, a warning
 * says so and the command goes on (list shows those digests as unkeyed). */
static void doc_digests_upgrade(struct cli *cli)
{
    struct homing_store *store = cli_store(cli);
    if (!store) return; /* the command itself reports it */
    struct homing_document *d;
    size_t n, unkeyed = 0;
    if (homing_store_document_list(store, &d, &n) < 0) return;
    for (size_t i = 0; i < n; i++) unkeyed += !d[i].digest_keyed;
    homing_documents_free(d, n);
    if (!unkeyed) return;
    uint8_t key[HOMING_DOC_KEY_LEN], dkey[HOMING_DOC_KEY_LEN];
    if (doc_keys(cli, key, dkey) < 0) {
        fprintf(stderr, "homing doc: warning: %zu document digest(s) are not keyed yet\n", unkeyed);
        return;
    }
    size_t up = 0, failed = 0;
    int r = homing_doc_digests_upgrade(store, key, dkey,
                                       homing_config_settings(cli->config)->docs.dir, &up, &failed);
    sodium_memzero(key, sizeof key);
    sodium_memzero(dkey, sizeof dkey);
    if (r < 0)
        fprintf(stderr, "homing doc: warning: cannot key the stored digests: %s\n",
                homing_store_errmsg(store));
    else if (failed)
        fprintf(stderr,
                "homing doc: warning: %zu document digest(s) stay unkeyed: their files in "
                "docs.dir cannot be read or do not decrypt\n",
                failed);
}

int cmd_doc(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, doc_usage)) return CLI_OK;
    if (argc < 2)
        return cli_usage_error("doc", "missing subcommand (add, list, grant, revoke, verify)");
    const char *sub = argv[1];
    if (!strcmp(sub, "add") || !strcmp(sub, "list") || !strcmp(sub, "grant") ||
        !strcmp(sub, "revoke") || !strcmp(sub, "verify"))
        doc_digests_upgrade(cli);
    if (!strcmp(sub, "verify")) return doc_verify(cli, argc - 2, argv + 2);
    if (!strcmp(sub, "add")) return doc_add(cli, argc - 2, argv + 2);
    if (!strcmp(sub, "list")) return doc_list(cli, argc - 2, argv + 2);
    if (!strcmp(sub, "grant")) return doc_grant(cli, argc - 2, argv + 2);
    if (!strcmp(sub, "revoke")) return doc_revoke(cli, argc - 2, argv + 2);
    return cli_usage_error("doc", "unknown subcommand %s", sub);
}

/* ---- document links of `homing track` (--doc NAME, {{doc:NAME}}) ---- */

struct cli_track_docs {
    size_t n_links;
    int64_t *link_doc;    /* [i]: document id of link i + 1, 0 if not a placeholder */
    uint32_t *link_items; /* grant indexes of the copy being written */
    size_t n;             /* --doc documents */
    int64_t *doc_ids;
    const char **names;
    uint32_t *items;
};

void cli_track_docs_free(struct cli_track_docs *d)
{
    if (!d) return;
    free(d->link_doc);
    free(d->link_items);
    free(d->doc_ids);
    free(d->names);
    free(d->items);
    free(d);
}

static int doc_id_of(struct homing_store *store, const char *name, size_t len, int64_t *id)
{
    char buf[HOMING_DOC_NAME_MAX + 1], safe[HOMING_DOC_NAME_MAX + 1];
    if (len > HOMING_DOC_NAME_MAX) return cli_fail("document name too long");
    memcpy(buf, name, len);
    buf[len] = '\0';
    struct homing_document *d;
    if (homing_store_document_get(store, buf, &d) < 0)
        return cli_fail("no document named %s (homing doc add FILE --name NAME)",
                        cli_safe(buf, safe, sizeof safe));
    *id = d->id;
    homing_documents_free(d, 1);
    return 0;
}

int cli_track_docs_prepare(struct homing_store *store, const struct homing_track *t,
                           const char *const *names, size_t n, struct cli_track_docs **out)
{
    struct cli_track_docs *d = calloc(1, sizeof *d);
    size_t nl = homing_track_link_count(t);
    if (!d || !(d->link_doc = calloc(nl + 1, sizeof *d->link_doc)) ||
        !(d->link_items = calloc(nl + 1, sizeof *d->link_items)) ||
        !(d->doc_ids = calloc(n + 1, sizeof *d->doc_ids)) ||
        !(d->names = calloc(n + 1, sizeof *d->names)) ||
        !(d->items = calloc(n + 1, sizeof *d->items))) {
        cli_track_docs_free(d);
        return cli_fail("out of memory");
    }
    d->n_links = nl;
    size_t pl = strlen(HOMING_TRACK_DOC_PREFIX);
    for (size_t i = 0; i < nl; i++) {
        const char *l = homing_track_link(t, i);
        if (strncmp(l, HOMING_TRACK_DOC_PREFIX, pl) != 0) continue;
        if (doc_id_of(store, l + pl, strlen(l) - pl - 2, &d->link_doc[i]) != 0) {
            cli_track_docs_free(d);
            return -ENOENT;
        }
    }
    for (size_t i = 0; i < n; i++) {
        d->names[i] = names[i];
        if (doc_id_of(store, names[i], strlen(names[i]), &d->doc_ids[i]) != 0) {
            cli_track_docs_free(d);
            return -ENOENT;
        }
    }
    d->n = n;
    *out = d;
    return 0;
}

/* One grant per document and recipient: a placeholder used twice, or also
 * named by --doc, shares it. */
static int grant_for(struct homing_store *store, int64_t doc, uint64_t message, uint32_t recipient,
                     int64_t *seen_doc, uint32_t *seen_item, size_t *n_seen, uint32_t *item)
{
    for (size_t i = 0; i < *n_seen; i++)
        if (seen_doc[i] == doc) {
            *item = seen_item[i];
            return 0;
        }
    struct homing_grant_spec g = {.document = doc, .message = message, .recipient = recipient};
    int64_t id;
    int r = homing_store_grant_add(store, &g, &id);
    if (r < 0) return r;
    seen_doc[*n_seen] = doc;
    seen_item[(*n_seen)++] = (uint32_t)id;
    *item = (uint32_t)id;
    return 0;
}

int cli_track_docs_grant(struct cli_track_docs *d, struct homing_store *store, uint64_t message,
                         uint32_t recipient, struct homing_track_docs *out)
{
    size_t cap = d->n_links + d->n + 1, n_seen = 0;
    int64_t *seen_doc = calloc(cap, sizeof *seen_doc);
    uint32_t *seen_item = calloc(cap, sizeof *seen_item);
    int r = seen_doc && seen_item ? 0 : -ENOMEM;
    for (size_t i = 0; i < d->n_links && r == 0; i++) {
        d->link_items[i] = 0;
        if (d->link_doc[i])
            r = grant_for(store, d->link_doc[i], message, recipient, seen_doc, seen_item, &n_seen,
                          &d->link_items[i]);
    }
    for (size_t i = 0; i < d->n && r == 0; i++)
        r = grant_for(store, d->doc_ids[i], message, recipient, seen_doc, seen_item, &n_seen,
                      &d->items[i]);
    free(seen_doc);
    free(seen_item);
    if (r < 0) return r;
    out->link_items = d->link_items;
    out->n_link_items = d->n_links;
    out->names = d->names;
    out->items = d->items;
    out->n = d->n;
    return 0;
}
