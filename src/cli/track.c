/*
 * track.c: `homing track`: registers a message in the store and writes its
 * tracked copies (the work is in lib/track/track.c, homing/track.h).
 *
 * Order matters: the message is parsed and analysed, and every output is
 * opened, before anything is registered, so bad input or an unwritable output
 * exits 2 with nothing in the store. Only then is the message registered (the
 * store hands out the public id the tokens carry) and the copies rendered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "homing/service.h"
#include "homing/track.h"
#include "homing/util.h"

#define TRACK_TO_MAX        1000 /* --to given on the command line */
#define TRACK_NAME_ADDR_MAX 64   /* address characters kept in an output file name */

static const char track_usage[] =
    "usage: homing track [OPTIONS] [FILE]\n\n"
    "Registers the message in FILE (default: stdin) in the store and writes tracked\n"
    "copies: a pixel in every HTML part, links (and URLs in plain text) rewritten to\n"
    "click URLs. See docs/tracking.md.\n\n"
    "  -o, --output PATH      per recipient: a directory that gets one NNN-ADDRESS.eml\n"
    "                         per recipient; per message: the output file (default:\n"
    "                         standard output)\n"
    "      --mbox FILE        write the copies to one mbox file instead\n"
    "      --per-recipient    one copy per recipient with its own tokens (default)\n"
    "      --per-message      one copy for everyone (opens and clicks are not told apart)\n"
    "      --to ADDR          a recipient (repeatable); default: To, Cc and Bcc\n"
    "      --no-text          leave text/plain parts alone\n"
    "      --read-receipt     ask for a read receipt (Disposition-Notification-To)\n"
    "      --read-receipt-to ADDR  where the receipt goes (default: the sender)\n"
    "      --doc NAME         add a link to document NAME (homing doc add) before the\n"
    "                         pixel of each HTML part, one grant per recipient\n"
    "                         (repeatable); {{doc:NAME}} in the body does the same\n"
    "                         where it stands (docs/documents.md)\n"
    "      --mode MODE        tracking mode (docs/privacy.md): individual (default);\n"
    "                         anonymous (every copy carries per-message tokens, so\n"
    "                         opens and clicks are counted without the recipient);\n"
    "                         delivery or off (no pixel, no link rewritten)\n\n"
    "Links marked data-homing=\"notrack\" are not rewritten. Exit status 2 (and\n"
    "nothing registered) for input that is not a message, broken MIME or a message\n"
    "without recipients.\n";

struct out_file {
    char *path;
    FILE *f;
};

static void name_for(char *dst, size_t cap, const char *dir, size_t index, const char *addr)
{
    char safe[TRACK_NAME_ADDR_MAX + 1];
    size_t k = 0;
    for (const char *p = addr; *p && k < TRACK_NAME_ADDR_MAX; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '@' || c == '.' || c == '_' || c == '+' || c == '-';
        safe[k++] = ok ? c : '_';
    }
    safe[k] = '\0';
    snprintf(dst, cap, "%s/%03zu-%s.eml", dir, index, safe);
}

/* mboxrd: ">" before every line that starts with any number of ">" then
 * "From ", so readers can take every such line back out. */
static int write_mbox(FILE *f, const char *sender, const char *data, size_t len)
{
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
    fprintf(f, "From %s %s\n", sender && *sender ? sender : "MAILER-DAEMON", when);
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - data) - pos + 1 : len - pos;
        size_t q = pos;
        while (q < pos + ll && data[q] == '>') q++;
        if (pos + ll - q >= 5 && memcmp(data + q, "From ", 5) == 0) fputc('>', f);
        fwrite(data + pos, 1, ll, f);
        pos += ll;
    }
    if (len == 0 || data[len - 1] != '\n') fputc('\n', f);
    fputc('\n', f);
    return ferror(f) ? -EIO : 0;
}

static int config_limit(struct cli *cli, const char *name, long long max, long long *out)
{
    if (homing_config_get_int(cli->config, name, 1, max, out) < 0) {
        cli_fail("%s must be an integer from 1 to %lld", name, max);
        return -EINVAL;
    }
    return 0;
}

int cmd_track(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, track_usage)) return CLI_OK;
    const char *output = NULL, *mbox = NULL, *input = "-";
    int per_message = 0, seen_input = 0, tracking = HOMING_TRACKING_INDIVIDUAL;
    struct homing_track_options o = {.rewrite_text = 1, .pixel = 1};
    const char **to = calloc(TRACK_TO_MAX, sizeof *to);
    size_t n_to = 0;
    if (!to) return cli_fail("out of memory");
    int status = CLI_ERROR;
    struct homing_track *t = NULL;
    struct out_file *outs = NULL;
    size_t n_outs = 0;
    char *data = NULL;
    struct homing_buf buf;
    homing_buf_init(&buf, 0);
    const char *doc_names[CLI_TRACK_DOCS_MAX];
    size_t n_docs = 0;
    struct cli_track_docs *tdocs = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_arg = i + 1 < argc;
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has_arg) {
            output = argv[++i];
        } else if (!strcmp(a, "--mbox") && has_arg) {
            mbox = argv[++i];
        } else if (!strcmp(a, "--per-recipient")) {
            per_message = 0;
        } else if (!strcmp(a, "--per-message")) {
            per_message = 1;
        } else if (!strcmp(a, "--to") && has_arg) {
            if (n_to >= TRACK_TO_MAX) {
                cli_usage_error("track", "more than %d --to", TRACK_TO_MAX);
                goto out;
            }
            if (!homing_message_address_ok(argv[i + 1])) {
                cli_usage_error("track", "--to needs a plain address such as bob@example.org");
                goto out;
            }
            to[n_to++] = argv[++i];
        } else if (!strcmp(a, "--mode") && has_arg) {
            if ((tracking = homing_tracking_parse(argv[++i])) < 0) {
                cli_usage_error("track", "--mode must be off, delivery, anonymous or individual");
                goto out;
            }
        } else if (!strcmp(a, "--doc") && has_arg) {
            if (n_docs >= CLI_TRACK_DOCS_MAX) {
                cli_usage_error("track", "more than %d --doc", CLI_TRACK_DOCS_MAX);
                goto out;
            }
            doc_names[n_docs++] = argv[++i];
        } else if (!strcmp(a, "--no-text")) {
            o.rewrite_text = 0;
        } else if (!strcmp(a, "--read-receipt")) {
            o.read_receipt = 1;
        } else if (!strcmp(a, "--read-receipt-to") && has_arg) {
            o.read_receipt = 1;
            o.read_receipt_to = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_usage_error("track", "unknown option or missing value: %s", a);
            goto out;
        } else if (!seen_input) {
            input = a;
            seen_input = 1;
        } else {
            cli_usage_error("track", "more than one input file");
            goto out;
        }
    }
    if (output && mbox) {
        cli_usage_error("track", "-o and --mbox exclude each other");
        goto out;
    }
    if (!per_message && !output && !mbox) {
        cli_usage_error("track", "per-recipient copies need -o DIR or --mbox FILE");
        goto out;
    }
    if (tracking == HOMING_TRACKING_OFF || tracking == HOMING_TRACKING_DELIVERY) {
        /* the copy goes out as written: no pixel, no click URL */
        o.pixel = 0;
        o.rewrite_text = 0;
        o.no_links = 1;
    }
    if (cli_config(cli) < 0) goto out;
    long long max_size, max_depth, max_parts;
    if (config_limit(cli, "track.max_size", 1LL << 30, &max_size) < 0 ||
        config_limit(cli, "track.max_depth", 1000, &max_depth) < 0 ||
        config_limit(cli, "track.max_parts", 1000000, &max_parts) < 0)
        goto out;
    o.max_size = (size_t)max_size;
    o.max_depth = (unsigned)max_depth;
    o.max_parts = (unsigned)max_parts;
    o.base_url = homing_config_get(cli->config, "public.base_url");

    size_t len = 0;
    int r = cli_read_file(input, o.max_size, &data, &len);
    if (r == -E2BIG) {
        cli_fail("%s: message larger than track.max_size (%lld bytes)", input, max_size);
        goto out;
    }
    if (r < 0) {
        cli_fail("cannot read %s: %s", input, strerror(-r));
        goto out;
    }
    const struct homing_keyring *keys = cli_keyring(cli);
    if (!keys) goto out;
    char err[256];
    r = homing_track_prepare(data, len, &o, &t, err, sizeof err);
    if (r < 0) {
        char safe[300];
        cli_escape(safe, sizeof safe, err, strlen(err));
        cli_fail("%s: %s", strcmp(input, "-") ? input : "stdin", safe);
        goto out;
    }
    for (size_t i = 0; i < homing_track_warning_count(t); i++) {
        char safe[1024]; /* a warning may quote the message (a header name) */
        fprintf(stderr, "homing track: warning: %s\n",
                cli_safe(homing_track_warning(t, i), safe, sizeof safe));
    }
    if (homing_track_flags(t) & HOMING_TRACK_DKIM_SIGNED)
        fprintf(stderr, "homing track: warning: the message carries a DKIM-Signature that "
                        "tracking breaks: track first, sign afterwards\n");

    const char **rcpt = to;
    size_t n_rcpt = n_to;
    if (n_rcpt == 0) {
        n_rcpt = homing_track_recipient_count(t);
        if (n_rcpt > TRACK_TO_MAX) {
            free(to);
            to = calloc(n_rcpt, sizeof *to);
            if (!to) {
                cli_fail("out of memory");
                goto out;
            }
            rcpt = to;
        }
        for (size_t i = 0; i < n_rcpt; i++) rcpt[i] = homing_track_recipient(t, i);
    }
    if (n_rcpt == 0) {
        cli_fail("%s: no recipients (no To, Cc or Bcc, and no --to)",
                 strcmp(input, "-") ? input : "stdin");
        goto out;
    }

    /* open every output before registering anything */
    size_t n_copies = per_message ? 1 : n_rcpt;
    outs = calloc(mbox ? 1 : n_copies, sizeof *outs);
    if (!outs) {
        cli_fail("out of memory");
        goto out;
    }
    if (mbox || (per_message && output)) {
        const char *p = mbox ? mbox : output;
        outs[0].path = strdup(p);
        outs[0].f = outs[0].path ? fopen(p, "wb") : NULL;
        n_outs = 1;
        if (!outs[0].f) {
            cli_fail("cannot write %s: %s", p, strerror(errno));
            goto out;
        }
    } else if (per_message) {
        outs[0].f = stdout;
        n_outs = 1;
    } else {
        if (mkdir(output, 0755) < 0 && errno != EEXIST) {
            cli_fail("cannot create %s: %s", output, strerror(errno));
            goto out;
        }
        for (size_t i = 0; i < n_rcpt; i++) {
            char path[4096];
            name_for(path, sizeof path, output, i + 1, rcpt[i]);
            int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0) {
                cli_fail("cannot create %s: %s", path, strerror(errno));
                goto out;
            }
            outs[n_outs].path = strdup(path);
            outs[n_outs].f = fdopen(fd, "wb");
            n_outs++;
            if (!outs[n_outs - 1].f || !outs[n_outs - 1].path) {
                if (!outs[n_outs - 1].f) close(fd);
                cli_fail("out of memory");
                goto out;
            }
        }
    }

    struct homing_store *store = cli_store(cli);
    if (!store) goto out;
    if (cli_track_docs_prepare(store, t, doc_names, n_docs, &tdocs) < 0) goto out;
    const char **links = calloc(homing_track_link_count(t) + 1, sizeof *links);
    if (!links) {
        cli_fail("out of memory");
        goto out;
    }
    for (size_t i = 0; i < homing_track_link_count(t); i++) links[i] = homing_track_link(t, i);
    /* The mail's own Subject and From are kept only when they pass the
     * rules every front end shares: a message is tracked whatever its
     * headers say, and registered without what it could not store. */
    const char *subject = homing_track_subject(t), *sender = homing_track_sender(t);
    if (subject && !homing_message_subject_ok(subject)) subject = NULL;
    if (sender && !homing_message_address_ok(sender)) sender = NULL;
    struct homing_message_request rq = {
        .message_id = homing_track_message_id(t),
        .subject = subject,
        .sender = sender,
        .mode = per_message ? HOMING_MODE_PER_MESSAGE : HOMING_MODE_PER_RECIPIENT,
        .tracking = tracking,
        .recipients = rcpt,
        .n_recipients = n_rcpt,
        .links = links,
        .n_links = homing_track_link_count(t),
    };
    uint64_t id;
    char why[HOMING_MESSAGE_ERR_MAX];
    r = homing_message_register(store, &rq, &id, why, sizeof why);
    free(links);
    if (r < 0) {
        cli_fail("%s", why);
        goto out;
    }
    char idstr[HOMING_ID_STR_MAX];
    homing_id_format(id, idstr);

    /* bounded by the input (track.max_size) times the longest replacement;
     * failing here would leave a registered message without copies */
    homing_buf_init(&buf, SIZE_MAX / 4);
    for (size_t i = 0; i < n_copies; i++) {
        homing_buf_reset(&buf);
        /* anonymous: per-message tokens in every copy, so no hit can name its
         * recipient (the daemon verifies tokens without a store lookup) */
        uint32_t recipient =
            per_message || tracking == HOMING_TRACKING_ANONYMOUS ? 0 : (uint32_t)(i + 1);
        struct homing_track_docs dl;
        r = cli_track_docs_grant(tdocs, store, id, recipient, &dl);
        if (r == 0) r = homing_track_render_docs(t, keys, id, recipient, &dl, &buf);
        if (r < 0) {
            cli_fail("cannot write the copy for %s: %s", per_message ? "everyone" : rcpt[i],
                     strerror(-r));
            goto out;
        }
        FILE *f = outs[mbox ? 0 : i].f;
        if (mbox)
            r = write_mbox(f, homing_track_sender(t), buf.data, buf.len);
        else
            r = fwrite(buf.data, 1, buf.len, f) == buf.len ? 0 : -EIO;
        if (r < 0) {
            cli_fail("cannot write %s: %s",
                     outs[mbox ? 0 : i].path ? outs[mbox ? 0 : i].path : "stdout",
                     strerror(errno ? errno : EIO));
            goto out;
        }
    }
    for (size_t i = 0; i < n_outs; i++) {
        if (outs[i].f == stdout) {
            if (fflush(stdout) != 0) {
                cli_fail("cannot write stdout: %s", strerror(errno));
                goto out;
            }
            continue;
        }
        FILE *f = outs[i].f;
        outs[i].f = NULL;
        if (fclose(f) != 0) {
            cli_fail("cannot write %s: %s", outs[i].path, strerror(errno));
            goto out;
        }
    }
    /* the summary goes where it does not mix with a copy on stdout */
    FILE *info = per_message && !output && !mbox ? stderr : stdout;
    fprintf(info, "tracked %s: %zu recipient%s, %zu link%s, %zu part%s changed, %s\n", idstr,
            n_rcpt, n_rcpt == 1 ? "" : "s", homing_track_link_count(t),
            homing_track_link_count(t) == 1 ? "" : "s", homing_track_part_count(t),
            homing_track_part_count(t) == 1 ? "" : "s",
            per_message ? "one copy for everyone" : "one copy per recipient");
    if (homing_track_refused_count(t))
        fprintf(info, "  %zu link%s left untracked: not a valid destination (see the warnings)\n",
                homing_track_refused_count(t), homing_track_refused_count(t) == 1 ? "" : "s");
    for (size_t i = 0; i < n_outs; i++)
        if (outs[i].path) fprintf(info, "  %s\n", outs[i].path);
    status = CLI_OK;
out:
    for (size_t i = 0; i < n_outs; i++) {
        if (outs[i].f && outs[i].f != stdout) fclose(outs[i].f);
        /* a failed run leaves no half-written copies behind */
        if (status != CLI_OK && outs[i].path && !mbox && !(per_message && output))
            unlink(outs[i].path);
        free(outs[i].path);
    }
    free(outs);
    homing_buf_free(&buf);
    cli_track_docs_free(tdocs);
    homing_track_free(t);
    free(data);
    free(to);
    return status;
}
