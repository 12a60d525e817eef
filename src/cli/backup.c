/*
 * backup.c: `homing backup DIR` and `homing restore DIR`.
 *
 * A backup directory holds: homing.db (a consistent copy of the SQLite store
 * taken with the online backup API while the daemon keeps running,
 * homing_store_backup), keys.sealed (keys.file, then BACKUP_DATA_MARK and
 * keys.data, the key that seals the store's addresses, sealed together with a
 * passphrase, homing_keys_seal: argon2id + XSalsa20-Poly1305; a backup made
 * before keys.data has no mark), homing.conf (the
 * configuration as it was), documents/ (docs.dir's encrypted files, as
 * stored) and MANIFEST (one "SHA-256 SIZE NAME" line per file, written last:
 * a directory without it is not a finished backup).
 *
 * Restore checks everything before it writes anything: the manifest, every
 * file's digest, the passphrase (by opening keys.sealed) and that the keys
 * parse. Only then are the files written beside their targets and renamed
 * into place, so a wrong passphrase or a damaged backup leaves the target as
 * it was. Existing targets are refused unless --force.
 *
 * The passphrase never comes from argv (it would show in ps and shell
 * history): --passphrase-file FILE (its first line), else the environment
 * variable HOMING_BACKUP_PASSPHRASE, else a prompt on the terminal.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

#define BACKUP_PASS_MAX     1024               /* bytes of a passphrase */
#define BACKUP_FILES_MAX    100000             /* files in a backup (documents) */
#define BACKUP_MANIFEST_MAX (16 * 1024 * 1024) /* bytes of MANIFEST */
/* Between keys.file and keys.data in keys.sealed's plaintext. */
#define BACKUP_DATA_MARK "\n#--- homing data key (keys.data) ---\n"
#define BACKUP_NAME_MAX  512           /* a file's name in the manifest */
#define BACKUP_CONF_MAX  (1024 * 1024) /* bytes of homing.conf */
#define BACKUP_PASS_ENV  "HOMING_BACKUP_PASSPHRASE"
/* Directories and files named by the user or the configuration; every path
 * built from them (one of them plus a name under BACKUP_NAME_MAX) then fits
 * BACKUP_PATH_BUF. */
#define BACKUP_DIR_MAX  3000
#define BACKUP_PATH_BUF 4096

/* snprintf for paths whose parts were checked against BACKUP_DIR_MAX and
 * BACKUP_NAME_MAX: they always fit. */
__attribute__((format(printf, 3, 4))) static void pathf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

/* Refuses a directory or file name too long for pathf. */
static int path_ok(const char *what, const char *p)
{
    if (strlen(p) < BACKUP_DIR_MAX) return 1;
    cli_fail("%s: a path longer than %d bytes", what, BACKUP_DIR_MAX);
    return 0;
}

/* path_ok for the paths both backup and restore write or read: the backup's
 * DIR, the key file and the documents' folder. */
static int paths_ok(struct cli *cli, const char *dir)
{
    const struct homing_settings *set = homing_config_settings(cli->config);
    return path_ok("DIR", dir) && path_ok("keys.file", set->keys.file) &&
           path_ok("docs.dir", set->docs.dir);
}

static const char backup_usage[] =
    "usage: homing backup DIR [--passphrase-file FILE]\n\n"
    "Writes a backup of this instance into DIR (created, must not exist): a consistent\n"
    "copy of the SQLite store taken while the daemon runs, the key file sealed with a\n"
    "passphrase (argon2id), the configuration and the encrypted documents, and a\n"
    "MANIFEST of their SHA-256 digests. The passphrase comes from --passphrase-file\n"
    "(first line), else $" BACKUP_PASS_ENV ", else a prompt; at least 8 bytes.\n"
    "PostgreSQL stores are backed up with pg_dump (docs/operations.md).\n";

static const char restore_usage[] =
    "usage: homing restore DIR [--passphrase-file FILE] [--force]\n\n"
    "Restores a backup made by 'homing backup' into the instance of the configuration\n"
    "(-c): its store, keys.file and docs.dir. Every digest and the passphrase are\n"
    "checked before anything is written; a wrong passphrase changes nothing. Existing\n"
    "files are refused unless --force. Stop the daemon first.\n";

/* The first line of a file, the environment, or the terminal (twice when
 * confirm). 0 and the passphrase in buf, or CLI_ERROR after one line. */
static int read_passphrase(const char *file, int confirm, char *buf, size_t cap)
{
    if (file) {
        char *data;
        size_t len;
        int r = cli_read_file(file, cap, &data, &len);
        if (r < 0) {
            cli_fail("--passphrase-file %s: %s", file, strerror(-r));
            return CLI_ERROR;
        }
        size_t n = strcspn(data, "\r\n");
        memcpy(buf, data, n);
        buf[n] = '\0';
        sodium_memzero(data, len);
        free(data);
        return 0;
    }
    const char *env = getenv(BACKUP_PASS_ENV);
    if (env) {
        if (strlen(env) >= cap) return cli_fail("$%s is too long", BACKUP_PASS_ENV), CLI_ERROR;
        snprintf(buf, cap, "%s", env);
        return 0;
    }
    FILE *tty = fopen("/dev/tty", "r+e");
    if (!tty) {
        cli_fail("no passphrase: use --passphrase-file FILE or $%s (no terminal to ask on)",
                 BACKUP_PASS_ENV);
        return CLI_ERROR;
    }
    struct termios old, quiet;
    int have = tcgetattr(fileno(tty), &old) == 0;
    char again[BACKUP_PASS_MAX + 2];
    int r = 0;
    for (int round = 0; round < (confirm ? 2 : 1) && r == 0; round++) {
        char *dst = round ? again : buf;
        size_t dcap = round ? sizeof again : cap;
        fputs(round ? "Passphrase again: " : "Backup passphrase: ", tty);
        fflush(tty);
        if (have) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
        }
        if (!fgets(dst, (int)dcap, tty)) r = -EIO;
        if (have) tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fputc('\n', tty);
        if (r == 0) dst[strcspn(dst, "\r\n")] = '\0';
    }
    fclose(tty);
    if (r == 0 && confirm && strcmp(buf, again) != 0) r = -EINVAL;
    sodium_memzero(again, sizeof again);
    if (r == -EINVAL) return cli_fail("the passphrases differ"), CLI_ERROR;
    if (r < 0) return cli_fail("cannot read the passphrase"), CLI_ERROR;
    return 0;
}

/* The SQLite file of store.url (sqlite:PATH or a bare path, relative to the
 * configuration's directory), or NULL for another backend. */
static int store_file(struct cli *cli, char *out, size_t cap)
{
    const char *url = homing_config_settings(cli->config)->store.url;
    if (strncmp(url, "postgres", 8) == 0) return -ENOTSUP;
    const char *p = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    int n = p[0] == '/' ? snprintf(out, cap, "%s", p)
                        : snprintf(out, cap, "%s/%s", homing_config_base_dir(cli->config), p);
    return n < 0 || (size_t)n >= BACKUP_DIR_MAX ? -ENAMETOOLONG : 0;
}

/* Reads a whole file; digest and size in the manifest's form. */
static int file_digest(const char *path, char out[65], long long *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    uint8_t buf[65536];
    long long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
        total += n;
    }
    int e = n < 0 ? -errno : 0;
    close(fd);
    if (e) return e;
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 65, h, sizeof h);
    *size = total;
    return 0;
}

/* Writes data to path (created, mode), fsync'd. */
static int write_file(const char *path, const void *data, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return -errno;
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = -errno;
            close(fd);
            unlink(path);
            return e;
        }
        p += w, n -= (size_t)w;
    }
    int e = fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && !e) e = -errno;
    if (e) unlink(path);
    return e;
}

/* Copies src to dst (created, mode, fsync'd). */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
    char *data;
    size_t len;
    struct stat sb;
    if (stat(src, &sb) < 0) return -errno;
    int r = cli_read_file(src, (size_t)sb.st_size + 1, &data, &len);
    if (r < 0) return r;
    r = write_file(dst, data, len, mode);
    free(data);
    return r;
}

static int manifest_add(FILE *m, const char *dir, const char *name)
{
    char path[BACKUP_PATH_BUF], hex[65];
    long long size;
    pathf(path, sizeof path, "%s/%s", dir, name);
    int r = file_digest(path, hex, &size);
    if (r < 0) return r;
    fprintf(m, "%s %lld %s\n", hex, size, name);
    return 0;
}

/* A document's file name as docs.dir holds them: no path, no dot first. */
static int plain_name(const char *n)
{
    return n[0] && n[0] != '.' && !strchr(n, '/') && strlen(n) < BACKUP_NAME_MAX;
}

/* The arguments of backup and restore: DIR, --passphrase-file FILE and, for
 * restore only (force not NULL), --force. CLI_OK, or the usage error. */
static int backup_args(const char *cmd, int argc, char **argv, const char **dir,
                       const char **passfile, int *force)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--passphrase-file") == 0 && i + 1 < argc)
            *passfile = argv[++i];
        else if (force && strcmp(argv[i], "--force") == 0)
            *force = 1;
        else if (argv[i][0] == '-')
            return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        else if (!*dir)
            *dir = argv[i];
        else
            return cli_usage_error(cmd, "one directory");
    }
    return *dir ? CLI_OK : cli_usage_error(cmd, "which directory?");
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, backup_usage)) return CLI_OK;
    const char *dir = NULL, *passfile = NULL;
    int ar = backup_args("backup", argc, argv, &dir, &passfile, NULL);
    if (ar != CLI_OK) return ar;
    if (cli_config(cli) < 0) return CLI_ERROR;
    if (!paths_ok(cli, dir) || !path_ok("-c", cli->config_path)) return CLI_ERROR;
    char db[BACKUP_PATH_BUF];
    int sf = store_file(cli, db, sizeof db);
    if (sf == -ENAMETOOLONG)
        return cli_fail("store.url: a path longer than %d bytes", BACKUP_DIR_MAX);
    if (sf == -ENOTSUP)
        return cli_fail("store.url is PostgreSQL: back it up with pg_dump (docs/operations.md)");
    /* The passphrase before any work, so a mistyped one costs nothing. */
    char pass[BACKUP_PASS_MAX + 2];
    if (read_passphrase(passfile, 1, pass, sizeof pass) != 0) return CLI_ERROR;
    if (strlen(pass) < HOMING_SEAL_PASS_MIN) {
        sodium_memzero(pass, sizeof pass);
        return cli_fail("the passphrase must have at least %d bytes", HOMING_SEAL_PASS_MIN);
    }
    struct homing_store *st = cli_store(cli);
    if (!st) {
        sodium_memzero(pass, sizeof pass);
        return CLI_ERROR;
    }
    if (mkdir(dir, 0700) < 0) {
        sodium_memzero(pass, sizeof pass);
        return cli_fail("cannot create %s: %s", dir, strerror(errno));
    }
    char path[BACKUP_PATH_BUF], docs[4096];
    int r = 0;
    const char *what = "";
    /* The keys. */
    char *keys = NULL;
    size_t klen = 0;
    uint8_t *sealed = NULL;
    size_t slen = 0;
    what = homing_config_settings(cli->config)->keys.file;
    r = cli_read_file(what, HOMING_SEAL_PLAIN_MAX / 2, &keys, &klen);
    /* the data key goes with them: without it the store's addresses are lost */
    char *data = NULL;
    size_t dlen = 0;
    if (r == 0) {
        what = homing_config_settings(cli->config)->keys.data;
        r = cli_read_file(what, HOMING_SEAL_PLAIN_MAX / 4, &data, &dlen);
        char *both = r == 0 ? malloc(klen + strlen(BACKUP_DATA_MARK) + dlen) : NULL;
        if (r == 0 && !both) r = -ENOMEM;
        if (r == 0) {
            memcpy(both, keys, klen);
            memcpy(both + klen, BACKUP_DATA_MARK, strlen(BACKUP_DATA_MARK));
            memcpy(both + klen + strlen(BACKUP_DATA_MARK), data, dlen);
            sodium_memzero(keys, klen);
            free(keys);
            keys = both;
            klen += strlen(BACKUP_DATA_MARK) + dlen;
        }
        if (data) sodium_memzero(data, dlen);
        free(data);
        if (r < 0) {
            sodium_memzero(keys, klen);
            free(keys);
        }
    }
    if (r == 0) {
        r = homing_keys_seal((const uint8_t *)keys, klen, pass, strlen(pass), &sealed, &slen);
        sodium_memzero(keys, klen);
        free(keys);
    }
    sodium_memzero(pass, sizeof pass);
    if (r == 0) {
        pathf(path, sizeof path, "%s/keys.sealed", dir);
        what = path;
        r = write_file(path, sealed, slen, 0600);
    }
    free(sealed);
    /* The store, the configuration, the documents. */
    if (r == 0) {
        pathf(path, sizeof path, "%s/homing.db", dir);
        what = homing_store_errmsg(st);
        r = homing_store_backup(st, path);
        if (r == 0) r = chmod(path, 0600) < 0 ? -errno : 0;
    }
    if (r == 0) {
        pathf(path, sizeof path, "%s/homing.conf", dir);
        what = cli->config_path;
        r = copy_file(cli->config_path, path, 0600);
    }
    const char *ddir = homing_config_settings(cli->config)->docs.dir;
    DIR *d = r == 0 ? opendir(ddir) : NULL;
    size_t ndocs = 0;
    if (r == 0) {
        pathf(docs, sizeof docs, "%s/documents", dir);
        what = docs;
        r = mkdir(docs, 0700) < 0 ? -errno : 0;
    }
    for (struct dirent *e; r == 0 && d && (e = readdir(d));) {
        if (!plain_name(e->d_name)) continue;
        char src[BACKUP_PATH_BUF], dst[BACKUP_PATH_BUF];
        pathf(src, sizeof src, "%s/%s", ddir, e->d_name);
        pathf(dst, sizeof dst, "%s/%s", docs, e->d_name);
        struct stat sb;
        if (stat(src, &sb) < 0 || !S_ISREG(sb.st_mode)) continue;
        if (++ndocs > BACKUP_FILES_MAX) r = -E2BIG;
        what = src;
        if (r == 0) r = copy_file(src, dst, 0600);
    }
    if (d) closedir(d);
    /* The manifest last: its presence says the backup is whole. */
    if (r == 0) {
        pathf(path, sizeof path, "%s/MANIFEST.tmp", dir);
        what = path;
        FILE *m = fopen(path, "we");
        if (!m) r = -errno;
        if (r == 0) r = manifest_add(m, dir, "homing.db");
        if (r == 0) r = manifest_add(m, dir, "keys.sealed");
        if (r == 0) r = manifest_add(m, dir, "homing.conf");
        d = r == 0 ? opendir(docs) : NULL;
        for (struct dirent *e; r == 0 && d && (e = readdir(d));) {
            if (!plain_name(e->d_name)) continue;
            char name[BACKUP_NAME_MAX + 16];
            snprintf(name, sizeof name, "documents/%s", e->d_name);
            r = manifest_add(m, dir, name);
        }
        if (d) closedir(d);
        if (m && (fflush(m) != 0 || fsync(fileno(m)) < 0) && r == 0) r = -errno;
        if (m && fclose(m) != 0 && r == 0) r = -errno;
        char final[BACKUP_PATH_BUF];
        pathf(final, sizeof final, "%s/MANIFEST", dir);
        if (r == 0 && rename(path, final) < 0) r = -errno;
    }
    if (r < 0)
        return cli_fail("backup into %s failed: %s: %s (the directory is incomplete: remove it)",
                        dir, what, strerror(-r));
    printf("backup written to %s: store, sealed keys, configuration, %zu document(s)\n", dir,
           ndocs);
    return CLI_OK;
}

struct manifest_entry {
    char hex[65];
    long long size;
    char name[BACKUP_NAME_MAX + 16];
};

/* Reads and checks DIR/MANIFEST and every file it names. */
static int manifest_check(const char *dir, struct manifest_entry **out, size_t *n)
{
    char path[BACKUP_PATH_BUF];
    pathf(path, sizeof path, "%s/MANIFEST", dir);
    char *data;
    size_t len;
    int r = cli_read_file(path, BACKUP_MANIFEST_MAX, &data, &len);
    if (r < 0) {
        cli_fail("%s: %s (not a finished backup)", path, strerror(-r));
        return r;
    }
    struct manifest_entry *es = NULL;
    size_t count = 0, cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line && r == 0;
         line = strtok_r(NULL, "\n", &save)) {
        struct manifest_entry e;
        int used = 0;
        if (count >= BACKUP_FILES_MAX + 3 ||
            sscanf(line, "%64[0-9a-f] %lld %n", e.hex, &e.size, &used) != 2 || !used ||
            strlen(e.hex) != 64 || strlen(line + used) >= sizeof e.name) {
            cli_fail("%s: a line is not 'SHA-256 SIZE NAME'", path);
            r = -EINVAL;
            break;
        }
        snprintf(e.name, sizeof e.name, "%s", line + used);
        const char *base = strncmp(e.name, "documents/", 10) == 0 ? e.name + 10 : e.name;
        if (!plain_name(base)) {
            cli_fail("%s: a file name that is not plain", path);
            r = -EINVAL;
            break;
        }
        char fpath[BACKUP_PATH_BUF], hex[65];
        long long size;
        pathf(fpath, sizeof fpath, "%s/%s", dir, e.name);
        int fr = file_digest(fpath, hex, &size);
        if (fr < 0 || size != e.size || strcmp(hex, e.hex) != 0) {
            char safe[256];
            cli_fail("%s: %s (the backup is damaged; nothing was restored)",
                     cli_safe(fpath, safe, sizeof safe),
                     fr < 0 ? strerror(-fr) : "its digest differs from MANIFEST");
            r = -EBADMSG;
            break;
        }
        if (homing_array_grow((void **)&es, &cap, count, sizeof *es, 16) < 0) {
            r = -ENOMEM;
            cli_fail("out of memory");
            break;
        }
        es[count++] = e;
    }
    free(data);
    const char *need[] = {"homing.db", "keys.sealed", "homing.conf"};
    for (size_t k = 0; r == 0 && k < 3; k++) {
        size_t i = 0;
        while (i < count && strcmp(es[i].name, need[k]) != 0) i++;
        if (i == count) {
            cli_fail("%s: names no %s (not a backup of homing)", path, need[k]);
            r = -EINVAL;
        }
    }
    if (r < 0) {
        free(es);
        return r;
    }
    *out = es;
    *n = count;
    return 0;
}

/* Started as root (restoring /var/lib/homing), the restored files go to
 * serve.user, as `homing init` gives it the files it makes: the daemon reads
 * and writes them after it dropped root. */
static void give_to_user(struct cli *cli, const char *path)
{
    if (geteuid() != 0) return;
    struct passwd *pw = getpwnam(homing_config_settings(cli->config)->serve.user);
    if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
        fprintf(stderr, "homing restore: warning: chown %s: %s\n", path, strerror(errno));
}

/* A target must not exist unless force. */
static int target_free(const char *path, int force)
{
    if (!force && access(path, F_OK) == 0) {
        cli_fail("%s exists: restore into a fresh instance, or pass --force to replace it", path);
        return -EEXIST;
    }
    return 0;
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, restore_usage)) return CLI_OK;
    const char *dir = NULL, *passfile = NULL;
    int force = 0;
    int ar = backup_args("restore", argc, argv, &dir, &passfile, &force);
    if (ar != CLI_OK) return ar;
    if (cli_config(cli) < 0) return CLI_ERROR;
    if (!paths_ok(cli, dir)) return CLI_ERROR;
    char db[BACKUP_PATH_BUF];
    int sf = store_file(cli, db, sizeof db);
    if (sf == -ENAMETOOLONG)
        return cli_fail("store.url: a path longer than %d bytes", BACKUP_DIR_MAX);
    if (sf == -ENOTSUP)
        return cli_fail("store.url is PostgreSQL: restore it with pg_restore (docs/operations.md)");
    const char *keyfile = homing_config_settings(cli->config)->keys.file;
    const char *datafile = homing_config_settings(cli->config)->keys.data;
    const char *ddir = homing_config_settings(cli->config)->docs.dir;
    /* 1. Everything checked, nothing written. */
    struct manifest_entry *es;
    size_t n;
    if (manifest_check(dir, &es, &n) < 0) return CLI_ERROR;
    char path[BACKUP_PATH_BUF];
    int fail = 0;
    if (target_free(db, force) < 0 || target_free(keyfile, force) < 0 ||
        target_free(datafile, force) < 0)
        fail = 1;
    for (size_t i = 0; !fail && i < n; i++) {
        if (strncmp(es[i].name, "documents/", 10) != 0) continue;
        pathf(path, sizeof path, "%s/%s", ddir, es[i].name + 10);
        if (target_free(path, force) < 0) fail = 1;
    }
    char pass[BACKUP_PASS_MAX + 2];
    if (fail || read_passphrase(passfile, 0, pass, sizeof pass) != 0) {
        free(es);
        return CLI_ERROR;
    }
    pathf(path, sizeof path, "%s/keys.sealed", dir);
    char *sealed;
    size_t slen;
    uint8_t *keys = NULL;
    size_t klen = 0;
    int r = cli_read_file(path, 2 * HOMING_SEAL_PLAIN_MAX, &sealed, &slen);
    if (r == 0) {
        r = homing_keys_unseal((const uint8_t *)sealed, slen, pass, strlen(pass), &keys, &klen);
        free(sealed);
    }
    sodium_memzero(pass, sizeof pass);
    if (r == -EBADMSG) {
        free(es);
        return cli_fail("wrong passphrase (or keys.sealed was changed): nothing was restored");
    }
    if (r < 0) {
        free(es);
        return cli_fail("%s: %s: nothing was restored", path,
                        r == -EINVAL ? "not a sealed key file" : strerror(-r));
    }
    /* The keys must load as a key file before anything goes in place; so
     * must the data key, when the backup has one. */
    char keytmp[BACKUP_PATH_BUF], datatmp[BACKUP_PATH_BUF], err[512];
    pathf(keytmp, sizeof keytmp, "%s.restore-tmp", keyfile);
    pathf(datatmp, sizeof datatmp, "%s.restore-tmp", datafile);
    unlink(keytmp);
    unlink(datatmp);
    const char *mark = memmem(keys, klen, BACKUP_DATA_MARK, strlen(BACKUP_DATA_MARK));
    size_t tlen = mark ? (size_t)(mark - (const char *)keys) : klen;
    int has_data = mark != NULL;
    r = write_file(keytmp, keys, tlen, 0600);
    if (r == 0 && has_data) {
        const char *d0 = mark + strlen(BACKUP_DATA_MARK);
        r = write_file(datatmp, d0, klen - (size_t)(d0 - (const char *)keys), 0600);
        struct homing_seal *dk = NULL;
        if (r == 0 && homing_seal_load(datatmp, 0, &dk, NULL, err, sizeof err) < 0) {
            unlink(datatmp);
            sodium_memzero(keys, klen);
            free(keys);
            free(es);
            return cli_fail("the data key in the backup does not load (%s): nothing was restored",
                            err);
        }
        homing_seal_free(dk);
    }
    sodium_memzero(keys, klen);
    free(keys);
    struct homing_keyring *kr = NULL;
    if (r == 0 && homing_keyring_load(keytmp, &kr, err, sizeof err) < 0) {
        unlink(keytmp);
        unlink(datatmp);
        free(es);
        return cli_fail("the keys in the backup do not load (%s): nothing was restored", err);
    }
    homing_keyring_free(kr);
    /* 2. Files beside their targets, then renamed into place. */
    char dbtmp[BACKUP_PATH_BUF];
    pathf(dbtmp, sizeof dbtmp, "%s.restore-tmp", db);
    unlink(dbtmp);
    pathf(path, sizeof path, "%s/homing.db", dir);
    const char *what = dbtmp;
    if (r == 0) r = copy_file(path, dbtmp, 0600);
    if (r == 0 && mkdir(ddir, 0700) < 0 && errno != EEXIST) r = -errno, what = ddir;
    if (r == 0) {
        give_to_user(cli, homing_config_base_dir(cli->config));
        give_to_user(cli, ddir);
        give_to_user(cli, dbtmp);
        give_to_user(cli, keytmp);
        if (has_data) give_to_user(cli, datatmp);
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (strncmp(es[i].name, "documents/", 10) != 0) continue;
        char src[BACKUP_PATH_BUF], dst[BACKUP_PATH_BUF], tmp[BACKUP_PATH_BUF];
        pathf(src, sizeof src, "%s/%s", dir, es[i].name);
        pathf(dst, sizeof dst, "%s/%s", ddir, es[i].name + 10);
        pathf(tmp, sizeof tmp, "%s.restore-tmp", dst);
        unlink(tmp);
        what = dst;
        r = copy_file(src, tmp, 0600);
        if (r == 0) give_to_user(cli, tmp);
        if (r == 0 && rename(tmp, dst) < 0) r = -errno;
    }
    /* A store of another instance may keep -wal and -shm files: they belong
     * to the database being replaced. */
    char side[BACKUP_PATH_BUF];
    if (r == 0) {
        pathf(side, sizeof side, "%s-wal", db);
        unlink(side);
        pathf(side, sizeof side, "%s-shm", db);
        unlink(side);
        what = db;
        if (rename(dbtmp, db) < 0) r = -errno;
    }
    if (r == 0) {
        what = keyfile;
        if (rename(keytmp, keyfile) < 0) r = -errno;
    }
    if (r == 0 && has_data) {
        what = datafile;
        if (rename(datatmp, datafile) < 0) r = -errno;
    }
    free(es);
    if (r < 0) {
        unlink(dbtmp);
        unlink(keytmp);
        unlink(datatmp);
        return cli_fail("restore failed: %s: %s", what, strerror(-r));
    }
    /* Opening migrates a backup of an older version to this one. */
    if (!cli_store(cli)) return CLI_ERROR;
    int version = 0;
    homing_store_schema_version(cli->store, &version);
    printf("restored %s into %s (store schema %d); start the daemon\n", dir, db, version);
    return CLI_OK;
}
