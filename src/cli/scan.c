/*
 * scan.c: `homing scan [FILE|DIR...]`: every tracking device in each message,
 * with its evidence. FILE may be one message, an mbox file, a Maildir (a
 * directory with cur/ and new/) or a directory of message files; none or "-"
 * reads one message from stdin. Text for people, --json for programs.
 *
 * Exit: 0 no tracking found, 1 found, 2 error (one line on stderr). Also holds
 * cli_trackers_load, which strip and rules share.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "homing/scan.h"
#include "homing/trackers.h"
#include "homing/util.h"
#include "homing_build.h"

static const char scan_usage[] =
    "usage: homing scan [OPTIONS] [FILE|DIR...]\n\n"
    "Lists every tracking device in each message: hidden or tiny remote images, known\n"
    "tracker hosts, images whose URL carries a unique id, CSS and font beacons,\n"
    "@import, <link>, frames, objects, meta refresh, redirect-wrapped links, the\n"
    "recipient's address leaked in URLs (plain, encoded or hashed) and read-receipt\n"
    "headers. FILE is a message, an mbox file, a Maildir or a directory of messages;\n"
    "none or '-' reads one message from stdin. A file that starts with '<' (after a\n"
    "byte order mark and white space) is read as an HTML document, one text/html part.\n\n"
    "Options:\n"
    "  --json             machine-readable output\n"
    "  --html             read every input as an HTML document, not a message\n"
    "  --copies           the messages are copies of one mailing to different\n"
    "                     recipients: an image whose id changes between them is\n"
    "                     reported (one copy alone cannot show it)\n"
    "  --recipient ADDR   the address to look for (default: Delivered-To, else To)\n"
    "  --trackers FILE    tracker knowledge file (default: " HOMING_DATADIR "/trackers.tsv)\n"
    "  --allow FILE       per-sender allow-list: lines 'SENDER HOST'\n"
    "  -h, --help         this help\n\n"
    "Exit status: 0 nothing found, 1 tracking found, 2 error.\n";

int cli_trackers_load(const char *path, struct homing_trackers **out)
{
    char err[512], def[4096];
    if (!path) {
        if (homing_data_path("trackers.tsv", def, sizeof def) < 0) {
            cli_fail("data directory path too long");
            return -ENAMETOOLONG;
        }
        path = def;
    }
    if (homing_trackers_load(path, out, err, sizeof err) < 0) {
        cli_fail("cannot load tracker knowledge: %s", err);
        return -EINVAL;
    }
    return 0;
}

struct msg_counts {
    unsigned total, pixels, links, leaks, css, receipts;
};

/* --json output held until every message is scanned, so that an error prints
 * no partial document. */
#define SCAN_JSON_OUT_MAX (1024u * 1024 * 1024)

struct scan_run {
    const struct homing_scan_options *o;
    int json;
    int html;   /* --html: every input is an HTML document */
    int copies; /* --copies: results held, compared, then written */
    struct held {
        char *name;
        struct homing_scan_result *r;
    } * held;
    size_t nheld, capheld;
    /* The "messages" array as text: each message's object is written as
     * soon as it is scanned (json_out_message), instead of one jansson tree of
     * every message formatted at the end (that tree and its one big string
     * were a sixth of the command's time over a large directory). */
    struct homing_buf out;
    unsigned nmsg, found;
    struct {
        char name[256];
        struct msg_counts c;
    } * rows;
    size_t nrows, caprows;
};

static void count_kinds(const struct homing_scan_result *r, struct msg_counts *c)
{
    memset(c, 0, sizeof *c);
    c->total = (unsigned)r->n;
    for (size_t i = 0; i < r->n; i++) {
        switch (r->f[i].kind) {
        case HOMING_SCAN_PIXEL:
        case HOMING_SCAN_TRACKER_IMAGE:
        case HOMING_SCAN_ID_IMAGE: c->pixels++; break;
        case HOMING_SCAN_WRAPPED_LINK:
        case HOMING_SCAN_TRACKED_LINK: c->links++; break;
        case HOMING_SCAN_RECIPIENT_LEAK: c->leaks++; break;
        case HOMING_SCAN_READ_RECEIPT: c->receipts++; break;
        default: c->css++;
        }
    }
}

static void print_text(const char *name, const struct homing_scan_result *r)
{
    char safe[1024], s2[512];
    cli_escape(safe, sizeof safe, name, strlen(name));
    printf("%s: %zu tracking device%s", safe, r->n, r->n == 1 ? "" : "s");
    if (r->recipient) {
        cli_escape(s2, sizeof s2, r->recipient, strlen(r->recipient));
        printf(" (recipient %s)", s2);
    }
    printf("%s\n", r->truncated ? " [limits reached: list incomplete]" : "");
    for (size_t i = 0; i < r->n; i++) {
        const struct homing_scan_finding *f = &r->f[i];
        char loc[160];
        if (f->part[0])
            snprintf(loc, sizeof loc, "part %s <%s %s>", f->part, f->element ? f->element : "",
                     f->attribute ? f->attribute : "");
        else
            snprintf(loc, sizeof loc, "header %s", f->attribute ? f->attribute : "");
        printf("  %-14s %s", homing_scan_kind_name(f->kind), loc);
        if (f->vendor) {
            cli_escape(s2, sizeof s2, f->vendor, strlen(f->vendor));
            printf("  [%s]", s2);
        }
        printf("\n");
        if (f->url) {
            cli_escape(safe, sizeof safe, f->url, strlen(f->url));
            printf("      url:  %s\n", safe);
        }
        if (f->destination) {
            cli_escape(safe, sizeof safe, f->destination, strlen(f->destination));
            printf("      to:   %s\n", safe);
        }
        cli_escape(safe, sizeof safe, f->evidence, strlen(f->evidence));
        printf("      why:  %s\n", safe);
    }
}

/* One element of "messages", after "[" or the previous one's ",": the
 * message's object as homing_json_dumps(JSON_INDENT(2) | JSON_PRESERVE_ORDER) writes
 * it at that depth, written straight into b (building a jansson tree per
 * message and dumping it was most of the output's cost). Strings are what
 * homing_json_text gives; kind, part, element and attribute are ASCII. */
static int json_out_message(struct homing_buf *b, const char *name,
                            const struct homing_scan_result *r)
{
    static const char *const keys[] = {
        "\n        {\n          \"kind\": ",
        ",\n          \"part\": ",
        ",\n          \"element\": ",
        ",\n          \"attribute\": ",
        ",\n          \"url\": ",
        ",\n          \"vendor\": ",
        ",\n          \"evidence\": ",
        ",\n          \"destination\": ",
    };
    int rc =
        homing_buf_puts(b, b->len ? ",\n    {\n      \"source\": " : "\n    {\n      \"source\": ");
    if (rc == 0) rc = homing_json_buf_text(b, name);
    if (rc == 0) rc = homing_buf_puts(b, ",\n      \"recipient\": ");
    if (rc == 0) rc = homing_json_buf_text(b, r->recipient);
    if (rc == 0)
        rc = homing_buf_printf(b,
                               ",\n      \"html_parts\": %u,\n      \"truncated\": %s,\n"
                               "      \"count\": %zu,\n      \"findings\": [",
                               r->html_parts, r->truncated ? "true" : "false", r->n);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        const struct homing_scan_finding *f = &r->f[i];
        const char *v[] = {homing_scan_kind_name(f->kind),
                           f->part,
                           f->element,
                           f->attribute,
                           f->url,
                           f->vendor,
                           f->evidence,
                           f->destination};
        if (i) rc = homing_buf_append(b, ",", 1);
        for (size_t k = 0; rc == 0 && k < sizeof v / sizeof v[0]; k++) {
            rc = homing_buf_puts(b, keys[k]);
            if (rc == 0) rc = homing_json_buf_text(b, v[k]);
        }
        if (rc == 0) rc = homing_buf_puts(b, "\n        }");
    }
    if (rc == 0) rc = homing_buf_puts(b, r->n ? "\n      ]\n    }" : "]\n    }");
    return rc;
}

static int emit_one(struct scan_run *run, const char *name, struct homing_scan_result *r);

static int scan_one(struct scan_run *run, const char *name, const char *data, size_t len)
{
    struct homing_scan_result *r = NULL;
    int rc = run->html || homing_scan_looks_html(data, len)
                 ? homing_scan_html_file(data, len, run->o, &r)
                 : homing_scan_message(data, len, run->o, &r);
    if (rc < 0) {
        char safe[512];
        cli_escape(safe, sizeof safe, name, strlen(name));
        if (rc == -ELOOP)
            cli_fail("cannot scan %s: an address header nested deeper than %d groups or comments "
                     "(or with more than %d colons)",
                     safe, HOMING_MIME_ADDR_DEPTH_MAX, HOMING_MIME_ADDR_COLONS_MAX);
        else
            cli_fail("cannot scan %s: %s", safe,
                     rc == -EBADMSG ? "not a message"
                     : rc == -E2BIG ? "too large"
                                    : strerror(-rc));
        return rc;
    }
    if (!run->copies) return emit_one(run, name, r);
    /* held until every copy is scanned: homing_scan_copies compares them */
    int e =
        homing_array_grow((void **)&run->held, &run->capheld, run->nheld, sizeof *run->held, 16);
    char *nm = e < 0 ? NULL : strdup(name);
    if (!nm) {
        homing_scan_result_free(r);
        cli_fail("out of memory");
        return -ENOMEM;
    }
    run->held[run->nheld].name = nm;
    run->held[run->nheld].r = r;
    run->nheld++;
    return 0;
}

/* Counts and writes one message's result, and frees it. */
static int emit_one(struct scan_run *run, const char *name, struct homing_scan_result *r)
{
    int rc;
    run->nmsg++;
    if (r->n) run->found++;
    if (run->nrows == run->caprows) {
        size_t nc = run->caprows ? run->caprows * 2 : 16;
        void *nr = realloc(run->rows, nc * sizeof *run->rows);
        if (!nr) {
            homing_scan_result_free(r);
            return -ENOMEM;
        }
        run->rows = nr;
        run->caprows = nc;
    }
    cli_escape(run->rows[run->nrows].name, sizeof run->rows[run->nrows].name, name, strlen(name));
    count_kinds(r, &run->rows[run->nrows].c);
    run->nrows++;
    if (run->json) {
        rc = json_out_message(&run->out, name, r);
        if (rc < 0) {
            homing_scan_result_free(r);
            if (rc == -E2BIG)
                cli_fail("--json output over %u bytes: scan fewer messages at once",
                         SCAN_JSON_OUT_MAX);
            else
                cli_fail("cannot format JSON");
            return rc;
        }
    } else {
        print_text(name, r);
    }
    homing_scan_result_free(r);
    return 0;
}

static int scan_mbox(struct scan_run *run, const char *path, char *data, size_t len)
{
    /* messages start at lines beginning "From " (the first line is one) */
    size_t start = 0, idx = 0;
    int rc = 0;
    while (start < len && rc == 0) {
        size_t body = start;
        const char *nl = memchr(data + start, '\n', len - start);
        body = nl ? (size_t)(nl - data) + 1 : len;
        size_t end = body;
        for (;;) {
            const char *p = memmem(data + end, len - end, "\nFrom ", 6);
            if (!p) {
                end = len;
                break;
            }
            end = (size_t)(p - data) + 1;
            break;
        }
        char name[4200];
        snprintf(name, sizeof name, "%s:%zu", path, ++idx);
        rc = scan_one(run, name, data + body, end - body);
        start = end;
    }
    return rc;
}

/* A regular file is read in one go at its size (a Maildir is thousands of small
 * files, and growing a buffer chunk by chunk showed in the profile), with
 * open, fstat and read: no stat of the path before and no stdio buffer.
 * O_NONBLOCK so that a FIFO does not block here; anything but a regular file
 * (and a path that does not open, for cli_read_file's error) goes through
 * cli_read_file. */
static int read_whole(const char *path, char **data, size_t *len)
{
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) return cli_read_file(path, HOMING_SCAN_MESSAGE_MAX, data, len);
    if ((uint64_t)st.st_size > HOMING_SCAN_MESSAGE_MAX) {
        close(fd);
        return -E2BIG;
    }
    /* one byte more than the size, to see a file that grew */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = malloc(cap + 1);
    int rc = b ? 0 : -ENOMEM;
    while (rc == 0 && n < cap) {
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) rc = -EIO;
        if (k <= 0) break;
        n += (size_t)k;
    }
    close(fd);
    if (rc == 0 && n > (size_t)st.st_size) rc = -EIO;
    if (rc < 0) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    *data = b;
    *len = n;
    return 0;
}

static int scan_file(struct scan_run *run, const char *path)
{
    char *data;
    size_t len;
    int rc = read_whole(path, &data, &len);
    if (rc < 0) {
        char safe[512];
        cli_escape(safe, sizeof safe, path, strlen(path));
        cli_fail("cannot read %s: %s", safe,
                 rc == -E2BIG ? "larger than the limit" : strerror(-rc));
        return rc;
    }
    if (len >= 5 && memcmp(data, "From ", 5) == 0)
        rc = scan_mbox(run, path, data, len);
    else
        rc = scan_one(run, strcmp(path, "-") == 0 ? "(stdin)" : path, data, len);
    free(data);
    return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int scan_dir(struct scan_run *run, const char *dir, int depth)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        cli_fail("cannot read directory %s: %s", dir, strerror(errno));
        return -errno;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/cur", dir);
    struct stat st;
    int maildir = depth == 0 && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *d = names[i]->d_name;
        if (rc == 0 && d[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, d);
            /* the entry's type from the directory when it is known; a link
             * or an unknown type is looked up, as before */
            unsigned char type = names[i]->d_type;
            if (type != DT_DIR && type != DT_REG)
                type = stat(p, &st) < 0      ? DT_UNKNOWN
                       : S_ISDIR(st.st_mode) ? DT_DIR
                       : S_ISREG(st.st_mode) ? DT_REG
                                             : DT_UNKNOWN;
            if (type == DT_DIR) {
                if (maildir && (strcmp(d, "cur") == 0 || strcmp(d, "new") == 0))
                    rc = scan_dir(run, p, depth + 1);
            } else if (type == DT_REG) {
                rc = scan_file(run, p);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int cmd_scan(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    if (cli_wants_help(argc, argv, scan_usage)) return CLI_OK;
    const char *trackers_path = NULL, *allow_path = NULL, *recipient = NULL;
    int json = 0, html = 0, copies = 0, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--html") == 0) {
            html = 1;
        } else if (strcmp(a, "--copies") == 0) {
            copies = 1;
        } else if (strcmp(a, "--recipient") == 0 || strcmp(a, "--trackers") == 0 ||
                   strcmp(a, "--allow") == 0) {
            if (++i >= argc) return cli_usage_error("scan", "%s needs a value", a);
            if (a[2] == 'r')
                recipient = argv[i];
            else if (a[2] == 't')
                trackers_path = argv[i];
            else
                allow_path = argv[i];
        } else {
            char safe[64];
            cli_escape(safe, sizeof safe, a, strlen(a));
            return cli_usage_error("scan", "unknown option '%s'", safe);
        }
    }
    if (recipient && (!strchr(recipient, '@') || strlen(recipient) > 320))
        return cli_usage_error("scan", "--recipient needs an address");
    struct homing_trackers *t = NULL;
    if (cli_trackers_load(trackers_path, &t) < 0) return CLI_ERROR;
    struct homing_allow *allow = NULL;
    if (allow_path) {
        char *data;
        size_t len;
        char err[256];
        int rc = cli_read_file(allow_path, HOMING_TRACKERS_FILE_MAX, &data, &len);
        if (rc < 0) {
            homing_trackers_free(t);
            return cli_fail("cannot read %s: %s", allow_path, strerror(-rc));
        }
        rc = homing_allow_parse(data, len, &allow, err, sizeof err);
        free(data);
        if (rc < 0) {
            homing_trackers_free(t);
            return cli_fail("%s: %s", allow_path, err);
        }
    }
    struct homing_scan_options o = {.trackers = t, .allow = allow, .recipient = recipient};
    struct scan_run run = {.o = &o, .json = json, .html = html, .copies = copies};
    homing_buf_init(&run.out, SCAN_JSON_OUT_MAX);
    int rc = 0;
    if (i >= argc) {
        rc = scan_file(&run, "-");
    } else {
        for (; i < argc && rc == 0; i++) {
            struct stat st;
            if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                rc = scan_dir(&run, argv[i], 0);
            else
                rc = scan_file(&run, argv[i]);
        }
    }
    if (rc == 0 && run.nheld) {
        struct homing_scan_result **v = malloc(run.nheld * sizeof *v);
        if (!v) {
            rc = cli_fail("out of memory");
        } else {
            for (size_t k = 0; k < run.nheld; k++) v[k] = run.held[k].r;
            int e = homing_scan_copies(v, run.nheld);
            if (e == -E2BIG)
                rc = cli_fail("--copies compares at most %d messages", HOMING_SCAN_COPIES_MAX);
            else if (e < 0)
                rc = cli_fail("out of memory");
            free(v);
        }
    }
    for (size_t k = 0; k < run.nheld; k++) {
        if (rc == 0)
            rc = emit_one(&run, run.held[k].name, run.held[k].r);
        else
            homing_scan_result_free(run.held[k].r);
        free(run.held[k].name);
    }
    free(run.held);
    if (rc == 0) {
        if (json) {
            /* The document homing_json_dumps(JSON_INDENT(2) | JSON_PRESERVE_ORDER)
             * of {"messages": [...], "total": N} would be, byte for byte. */
            unsigned total = 0;
            for (size_t k = 0; k < run.nrows; k++) total += run.rows[k].c.total;
            fputs("{\n  \"messages\": [", stdout);
            if (run.out.len) fwrite(run.out.data, 1, run.out.len, stdout);
            printf("%s],\n  \"total\": %u\n}\n", run.out.len ? "\n  " : "", total);
        } else if (run.nrows > 1) {
            printf("\n%-40s %7s %7s %6s %6s %5s %8s\n", "message", "devices", "images", "links",
                   "leaks", "css", "receipts");
            for (size_t k = 0; k < run.nrows; k++) {
                const struct msg_counts *c = &run.rows[k].c;
                printf("%-40.40s %7u %7u %6u %6u %5u %8u\n", run.rows[k].name, c->total, c->pixels,
                       c->links, c->leaks, c->css, c->receipts);
            }
            printf("%u message%s, %u with tracking\n", run.nmsg, run.nmsg == 1 ? "" : "s",
                   run.found);
        }
    }
    homing_buf_free(&run.out);
    free(run.rows);
    homing_allow_free(allow);
    homing_trackers_free(t);
    if (rc < 0 || rc == CLI_ERROR) return CLI_ERROR;
    if (run.nmsg == 0) return cli_fail("no messages found");
    return run.found ? CLI_NEGATIVE : CLI_OK;
}
