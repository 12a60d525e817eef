/*
 * ingest_log.c: `homing ingest-log --postfix|--exim FILE [--follow]`: reads a
 * mail server's log and records, per recipient of the messages homing
 * registered, delivered / deferred / bounced with DSN code, relay and reply
 * (lib/delivery/maillog.c parses, maillog_store.c records).
 *
 * Contract:
 * - The position (inode and offset) is kept in the store under
 *   "maillog:PATH", so a restart carries on where the last run stopped; each
 *   line is also recorded with its own key, so reading a line twice (a crash
 *   between the events and the offset, a log read again) counts nothing twice.
 * - --follow survives rotation: when the path names another inode, or the file
 *   got shorter (copytruncate), the rest of the old file is read and the new
 *   one opened from its start. Polls every INGEST_LOG_POLL_MS; SIGINT/SIGTERM
 *   stop it after saving the position.
 * - Only whole lines are read: a line still being written waits for its newline.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "homing/delivery.h"
#include "homing/util.h"

#define INGEST_LOG_POLL_MS   200
#define INGEST_LOG_SAVE_EACH 256 /* lines between two saves of the position */
#define INGEST_LOG_NAME_MAX  4200

static const char ingest_log_usage[] =
    "usage: homing ingest-log (--postfix|--exim) FILE [--follow] [--from-start]\n\n"
    "Reads a Postfix (syslog or maillog_file format) or Exim main log, ties queue\n"
    "ids to the Message-IDs homing assigned, and records delivered, deferred and\n"
    "bounced per recipient. The position is kept in the store: a second run reads\n"
    "only new lines, and no line is ever counted twice.\n\n"
    "  --follow      keep reading as the log grows, across rotations\n"
    "  --from-start  ignore the kept position (lines already counted stay counted once)\n";

static volatile sig_atomic_t ingest_log_stop;

static void ingest_log_signal(int sig)
{
    (void)sig;
    ingest_log_stop = 1;
}

struct il {
    struct cli *cli;
    struct homing_store *s;
    int flavour;
    const char *path;
    char name[INGEST_LOG_NAME_MAX];
    FILE *f;
    ino_t ino;
    off_t off; /* offset of the first byte not yet consumed */
    size_t lines, recorded, since_save;
};

static int il_save(struct il *x)
{
    char v[64];
    snprintf(v, sizeof v, "%llu %lld", (unsigned long long)x->ino, (long long)x->off);
    int r = homing_store_sync_set(x->s, x->name, v);
    if (r < 0) cli_fail("cannot save the log position: %s", homing_store_errmsg(x->s));
    x->since_save = 0;
    return r;
}

static int il_open(struct il *x, off_t want, ino_t want_ino)
{
    if (x->f) fclose(x->f);
    x->f = fopen(x->path, "rb");
    if (!x->f) {
        int e = errno;
        cli_fail("cannot open %s: %s", x->path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fileno(x->f), &st) < 0) return -errno;
    x->ino = st.st_ino;
    x->off = 0;
    if (want_ino == st.st_ino && want <= st.st_size) x->off = want;
    if (fseeko(x->f, x->off, SEEK_SET) < 0) return -errno;
    return 0;
}

static int il_line(struct il *x, const char *line, size_t len)
{
    struct homing_maillog_line l;
    x->lines++;
    if (homing_maillog_parse(x->flavour, line, len, homing_now_us(), &l) < 0) return 0;
    if (l.kind == HOMING_MAILLOG_OTHER) return 0;
    char key[200];
    uint8_t h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)line, len, NULL, 0);
    char hex[33];
    homing_hex_encode(h, sizeof h, hex);
    snprintf(key, sizeof key, "%s-log:%s", x->flavour == HOMING_MAILLOG_EXIM ? "exim" : "postfix",
             hex);
    int recorded = 0;
    int r = homing_maillog_apply(x->s, x->flavour, &l, key, &recorded);
    if (r < 0) {
        cli_fail("cannot record a log line: %s", homing_store_errmsg(x->s));
        return r;
    }
    if (recorded) {
        x->recorded++;
        char to[1024], qid[256], dsn[64];
        cli_safe(l.to, to, sizeof to);
        cli_safe(l.qid, qid, sizeof qid);
        printf("%s %s %s %s\n", qid, to,
               l.status == HOMING_MAILLOG_DELIVERED  ? "delivered"
               : l.status == HOMING_MAILLOG_DEFERRED ? "deferred"
                                                     : "bounced",
               l.dsn[0] ? cli_safe(l.dsn, dsn, sizeof dsn) : "-");
        fflush(stdout);
    }
    return 0;
}

/* Reads whole lines to the end of the file; a partial last line is left. */
static int il_drain(struct il *x)
{
    static char buf[HOMING_MAILLOG_LINE_MAX + 2];
    for (;;) {
        if (fseeko(x->f, x->off, SEEK_SET) < 0) return -errno;
        if (!fgets(buf, sizeof buf, x->f)) {
            clearerr(x->f);
            return 0;
        }
        size_t n = strlen(buf);
        if (n == sizeof buf - 1 && buf[n - 1] != '\n') {
            /* over the limit: skip to the end of this line, unread */
            int c;
            off_t skipped = (off_t)n;
            while ((c = fgetc(x->f)) != EOF && c != '\n') skipped++;
            if (c == EOF) {
                clearerr(x->f);
                return 0; /* wait for its end */
            }
            x->off += skipped + 1;
            continue;
        }
        if (buf[n - 1] != '\n') return 0; /* still being written */
        int r = il_line(x, buf, n - 1);
        if (r < 0) return r;
        x->off += (off_t)n;
        if (++x->since_save >= INGEST_LOG_SAVE_EACH && (r = il_save(x)) < 0) return r;
    }
}

int cmd_ingest_log(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, ingest_log_usage)) return CLI_OK;
    struct il x = {.cli = cli};
    int follow = 0, from_start = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--postfix") || !strcmp(a, "--exim")) && i + 1 < argc) {
            if (x.path) return cli_usage_error("ingest-log", "one log file at a time");
            x.flavour = !strcmp(a, "--exim") ? HOMING_MAILLOG_EXIM : HOMING_MAILLOG_POSTFIX;
            x.path = argv[++i];
        } else if (!strcmp(a, "--follow"))
            follow = 1;
        else if (!strcmp(a, "--from-start"))
            from_start = 1;
        else
            return cli_usage_error("ingest-log", "unknown option or missing value: %s", a);
    }
    if (!x.path) return cli_usage_error("ingest-log", "needs --postfix FILE or --exim FILE");
    if (!(x.s = cli_store(cli))) return CLI_ERROR;
    char *real = realpath(x.path, NULL);
    snprintf(x.name, sizeof x.name, "maillog:%s", real ? real : x.path);
    free(real);

    unsigned long long ino = 0;
    long long off = 0;
    char *v = NULL;
    int r = homing_store_sync_get(x.s, x.name, &v);
    if (r == 0) {
        if (sscanf(v, "%llu %lld", &ino, &off) != 2) ino = 0, off = 0;
        free(v);
    } else if (r != -ENOENT) {
        return cli_fail("cannot read the log position: %s", homing_store_errmsg(x.s));
    }
    if (from_start) ino = 0, off = 0;
    if (il_open(&x, (off_t)off, (ino_t)ino) < 0) return CLI_ERROR;

    struct sigaction sa = {.sa_handler = ingest_log_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = CLI_OK;
    for (;;) {
        if ((r = il_drain(&x)) < 0) {
            status = CLI_ERROR;
            break;
        }
        if (!follow || ingest_log_stop) break;
        struct timespec ts = {0, INGEST_LOG_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
        struct stat st;
        if (stat(x.path, &st) == 0) {
            struct stat cur;
            int shrunk = fstat(fileno(x.f), &cur) == 0 && cur.st_size < x.off;
            if (st.st_ino != x.ino || shrunk) {
                /* rotated: finish the old file, then start the new one */
                if (!shrunk && (r = il_drain(&x)) < 0) {
                    status = CLI_ERROR;
                    break;
                }
                if (il_open(&x, 0, 0) < 0) {
                    status = CLI_ERROR;
                    break;
                }
                if (il_save(&x) < 0) {
                    status = CLI_ERROR;
                    break;
                }
            } else if (x.since_save && il_save(&x) < 0) {
                status = CLI_ERROR;
                break;
            }
        }
    }
    if (x.f && il_save(&x) < 0) status = CLI_ERROR;
    if (x.f) fclose(x.f);
    fprintf(stderr, "homing ingest-log: %zu lines read, %zu results recorded\n", x.lines,
            x.recorded);
    return status;
}
