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
    "      --keep-message-id  keep the message's own Message-ID (default: each tracked\n"
    "                         message gets a fresh one, so mail logs can tell them apart)\n"
    "      --retrack          with --keep-message-id: register it even when a message\n"
    "                         with that Message-ID is registered already\n"
    "      --read-receipt     ask for a read receipt (Disposition-Notification-To)\n"
    "      --read-receipt-to ADDR  where the receipt goes (default: the sender)\n"
    "      --doc NAME         add a link to document NAME (homing doc add) before the\n"
    "                         pixel of each HTML part, one grant per recipient\n"
    "                         (repeatable); {{doc:NAME}} in the body does the same\n"
    "                         where it stands (docs/documents.md)\n"
    "      --campaign NAME    the campaign the message belongs to (homing stats)\n"
    "      --mode MODE        tracking mode (docs/privacy.md): individual (default);\n"
    "                         anonymous (every copy carries per-message tokens, so\n"
    "                         opens and clicks are counted without the recipient);\n"
    "                         delivery or off (no pixel, no link rewritten)\n\n"
    "Every copy carries an X-Homing-Copy header naming (signed) its message and\n"
    "recipient: 'homing send' reads it and removes it. With track.list_unsubscribe\n"
    "= yes each per-recipient copy also gets a one-click List-Unsubscribe (RFC 8058)\n"
    "to the public listener (docs/suppression.md). Links marked\n"
    "data-homing=\"notrack\" are not rewritten. Exit status 2 (and\n"
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

/* One run of `homing track`: what each step reads and leaves for the next.
 * A step returns 0 to go on or CLI_ERROR once it has said what is wrong. */
struct track_run {
    struct cli *cli;
    const char *output, *mbox, *input;
    int per_message, tracking, retrack;
    const char *campaign; /* --campaign NAME, or NULL */
    struct homing_track_options o;
    long long max_size;
    const char **to; /* TRACK_TO_MAX, or the message's own recipients */
    size_t n_to;
    const char **rcpt;
    size_t n_rcpt, n_copies;
    const char *doc_names[CLI_TRACK_DOCS_MAX];
    size_t n_docs;
    struct cli_track_docs *tdocs;
    char *data;
    size_t len;
    const struct homing_keyring *keys;
    struct homing_track *t;
    struct out_file *outs;
    size_t n_outs;
    struct homing_store *store;
    uint64_t id;
    struct homing_buf buf, marked, unsub;
    int list_unsubscribe; /* track.list_unsubscribe */
};

static const char *track_input_name(const struct track_run *x)
{
    return strcmp(x->input, "-") ? x->input : "stdin";
}

static int track_args(struct track_run *x, int argc, char **argv)
{
    int seen_input = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_arg = i + 1 < argc;
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has_arg) {
            x->output = argv[++i];
        } else if (!strcmp(a, "--mbox") && has_arg) {
            x->mbox = argv[++i];
        } else if (!strcmp(a, "--per-recipient")) {
            x->per_message = 0;
        } else if (!strcmp(a, "--per-message")) {
            x->per_message = 1;
        } else if (!strcmp(a, "--to") && has_arg) {
            if (x->n_to >= TRACK_TO_MAX)
                return cli_usage_error("track", "more than %d --to", TRACK_TO_MAX);
            if (!homing_message_address_ok(argv[i + 1]))
                return cli_usage_error("track",
                                       "--to needs a plain address such as bob@example.org");
            x->to[x->n_to++] = argv[++i];
        } else if (!strcmp(a, "--campaign") && has_arg) {
            if (!homing_campaign_ok(argv[i + 1]))
                return cli_usage_error("track",
                                       "--campaign: 1 to 200 bytes of UTF-8 without controls");
            x->campaign = argv[++i];
        } else if (!strcmp(a, "--mode") && has_arg) {
            if ((x->tracking = homing_tracking_parse(argv[++i])) < 0)
                return cli_usage_error("track",
                                       "--mode must be off, delivery, anonymous or individual");
        } else if (!strcmp(a, "--doc") && has_arg) {
            if (x->n_docs >= CLI_TRACK_DOCS_MAX)
                return cli_usage_error("track", "more than %d --doc", CLI_TRACK_DOCS_MAX);
            x->doc_names[x->n_docs++] = argv[++i];
        } else if (!strcmp(a, "--keep-message-id")) {
            x->o.new_message_id = 0;
        } else if (!strcmp(a, "--retrack")) {
            x->retrack = 1;
        } else if (!strcmp(a, "--no-text")) {
            x->o.rewrite_text = 0;
        } else if (!strcmp(a, "--read-receipt")) {
            x->o.read_receipt = 1;
        } else if (!strcmp(a, "--read-receipt-to") && has_arg) {
            x->o.read_receipt = 1;
            x->o.read_receipt_to = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage_error("track", "unknown option or missing value: %s", a);
        } else if (!seen_input) {
            x->input = a;
            seen_input = 1;
        } else {
            return cli_usage_error("track", "more than one input file");
        }
    }
    if (x->output && x->mbox) return cli_usage_error("track", "-o and --mbox exclude each other");
    if (x->retrack && x->o.new_message_id)
        return cli_usage_error("track", "--retrack goes with --keep-message-id");
    if (!x->per_message && !x->output && !x->mbox)
        return cli_usage_error("track", "per-recipient copies need -o DIR or --mbox FILE");
    if (x->tracking == HOMING_TRACKING_OFF || x->tracking == HOMING_TRACKING_DELIVERY) {
        /* the copy goes out as written: no pixel, no click URL */
        x->o.pixel = 0;
        x->o.rewrite_text = 0;
        x->o.no_links = 1;
    }
    return 0;
}

/* The configuration's limits, the message read and parsed, its warnings. */
static int track_prepare(struct track_run *x)
{
    struct cli *cli = x->cli;
    if (cli_config(cli) < 0) return CLI_ERROR;
    /* in their options' ranges (lib/util/config.c) since the file was read */
    const struct homing_settings *set = homing_config_settings(cli->config);
    x->max_size = set->track.max_size;
    x->o.max_size = (size_t)set->track.max_size;
    x->o.max_depth = (unsigned)set->track.max_depth;
    x->o.max_parts = (unsigned)set->track.max_parts;
    x->list_unsubscribe = set->track.list_unsubscribe;
    x->o.pixel_at_end = strcmp(set->track.pixel_placement, "bottom") == 0;
    x->o.base_url = set->public.base_url;
    x->o.domain_base_urls = set->public.domain_base_urls;
    int r = cli_read_file(x->input, x->o.max_size, &x->data, &x->len);
    if (r == -E2BIG)
        return cli_fail("%s: message larger than track.max_size (%lld bytes)", x->input,
                        x->max_size);
    if (r < 0) return cli_fail("cannot read %s: %s", x->input, strerror(-r));
    if (!(x->keys = cli_keyring(cli))) return CLI_ERROR;
    char err[256];
    if (homing_track_prepare(x->data, x->len, &x->o, &x->t, err, sizeof err) < 0) {
        char safe[300];
        cli_escape(safe, sizeof safe, err, strlen(err));
        return cli_fail("%s: %s", track_input_name(x), safe);
    }
    for (size_t i = 0; i < homing_track_warning_count(x->t); i++) {
        char safe[1024]; /* a warning may quote the message (a header name) */
        fprintf(stderr, "homing track: warning: %s\n",
                cli_safe(homing_track_warning(x->t, i), safe, sizeof safe));
    }
    if (homing_track_flags(x->t) & HOMING_TRACK_DKIM_SIGNED)
        fprintf(stderr, "homing track: warning: the message carries a DKIM-Signature that "
                        "tracking breaks: track first, sign afterwards\n");
    return 0;
}

/* The recipients: --to, else the message's own To, Cc and Bcc. */
static int track_recipients(struct track_run *x)
{
    x->rcpt = x->to;
    x->n_rcpt = x->n_to;
    if (x->n_rcpt == 0) {
        x->n_rcpt = homing_track_recipient_count(x->t);
        if (x->n_rcpt > TRACK_TO_MAX) {
            free(x->to);
            if (!(x->to = calloc(x->n_rcpt, sizeof *x->to))) return cli_fail("out of memory");
            x->rcpt = x->to;
        }
        for (size_t i = 0; i < x->n_rcpt; i++) x->rcpt[i] = homing_track_recipient(x->t, i);
    }
    if (x->n_rcpt == 0)
        return cli_fail("%s: no recipients (no To, Cc or Bcc, and no --to)", track_input_name(x));
    x->n_copies = x->per_message ? 1 : x->n_rcpt;
    return 0;
}

/* Every output opened before anything is registered. */
static int track_open_outputs(struct track_run *x)
{
    if (!(x->outs = calloc(x->mbox ? 1 : x->n_copies, sizeof *x->outs)))
        return cli_fail("out of memory");
    if (x->mbox || (x->per_message && x->output)) {
        const char *p = x->mbox ? x->mbox : x->output;
        x->outs[0].path = strdup(p);
        x->outs[0].f = x->outs[0].path ? fopen(p, "wb") : NULL;
        x->n_outs = 1;
        if (!x->outs[0].f) return cli_fail("cannot write %s: %s", p, strerror(errno));
        return 0;
    }
    if (x->per_message) {
        x->outs[0].f = stdout;
        x->n_outs = 1;
        return 0;
    }
    if (mkdir(x->output, 0755) < 0 && errno != EEXIST)
        return cli_fail("cannot create %s: %s", x->output, strerror(errno));
    for (size_t i = 0; i < x->n_rcpt; i++) {
        char path[4096];
        name_for(path, sizeof path, x->output, i + 1, x->rcpt[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) return cli_fail("cannot create %s: %s", path, strerror(errno));
        struct out_file *o = &x->outs[x->n_outs++];
        o->path = strdup(path);
        o->f = fdopen(fd, "wb");
        if (!o->f || !o->path) {
            if (!o->f) close(fd);
            return cli_fail("out of memory");
        }
    }
    return 0;
}

/* The message registered, through the one validation every front end shares. */
static int track_register(struct track_run *x)
{
    if (!(x->store = cli_store(x->cli))) return CLI_ERROR;
    if (cli_track_docs_prepare(x->store, x->t, x->doc_names, x->n_docs, &x->tdocs) < 0)
        return CLI_ERROR;
    size_t n_links = homing_track_link_count(x->t);
    const char **links = calloc(n_links + 1, sizeof *links);
    if (!links) return cli_fail("out of memory");
    for (size_t i = 0; i < n_links; i++) links[i] = homing_track_link(x->t, i);
    /* The mail's own Subject and From are kept only when they pass the rules
     * every front end shares: a message is tracked whatever its headers say,
     * and registered without what it could not store. */
    const char *subject = homing_track_subject(x->t), *sender = homing_track_sender(x->t);
    if (subject && !homing_message_subject_ok(subject)) subject = NULL;
    if (sender && !homing_message_address_ok(sender)) sender = NULL;
    /* One Message-ID, one registered message: a log line or report naming
     * it must not be matched to the wrong one (docs/tracking.md). */
    uint64_t other;
    int fr = homing_store_message_find(x->store, homing_track_message_id(x->t), &other);
    if (fr != -ENOENT && !x->retrack) {
        char safe[300];
        const char *mid = homing_track_message_id(x->t);
        cli_escape(safe, sizeof safe, mid, strlen(mid));
        free(links);
        if (fr < 0 && fr != -ENOTUNIQ)
            return cli_fail("cannot look up Message-ID <%s>: %s", safe,
                            homing_store_errmsg(x->store));
        return cli_fail("Message-ID <%s> is registered already: leave out --keep-message-id for "
                        "a fresh one, or give --retrack",
                        safe);
    }
    struct homing_message_request rq = {
        .message_id = homing_track_message_id(x->t),
        .subject = subject,
        .sender = sender,
        .mode = x->per_message ? HOMING_MODE_PER_MESSAGE : HOMING_MODE_PER_RECIPIENT,
        .tracking = x->tracking,
        .campaign = x->campaign,
        .recipients = x->rcpt,
        .n_recipients = x->n_rcpt,
        .links = links,
        .n_links = n_links,
    };
    char why[HOMING_MESSAGE_ERR_MAX];
    int r = homing_message_register(x->store, &rq, &x->id, why, sizeof why);
    free(links);
    return r < 0 ? cli_fail("%s", why) : 0;
}

/* Each copy rendered with its recipient's tokens and written out. */
static int track_write(struct track_run *x)
{
    /* bounded by the input (track.max_size) times the longest replacement;
     * failing here would leave a registered message without copies */
    homing_buf_init(&x->buf, SIZE_MAX / 4);
    homing_buf_init(&x->marked, SIZE_MAX / 4);
    homing_buf_init(&x->unsub, SIZE_MAX / 4);
    for (size_t i = 0; i < x->n_copies; i++) {
        homing_buf_reset(&x->buf);
        /* anonymous: per-message tokens in every copy, so no hit can name its
         * recipient (the daemon verifies tokens without a store lookup) */
        uint32_t recipient =
            x->per_message || x->tracking == HOMING_TRACKING_ANONYMOUS ? 0 : (uint32_t)(i + 1);
        struct homing_track_docs dl;
        int r = cli_track_docs_grant(x->tdocs, x->store, x->id, recipient, &dl);
        if (r == 0) r = homing_track_render_docs(x->t, x->keys, x->id, recipient, &dl, &x->buf);
        if (r < 0)
            return cli_fail("cannot write the copy for %s: %s",
                            x->per_message ? "everyone" : x->rcpt[i], strerror(-r));
        /* track.list_unsubscribe: a one-click unsubscribe of this recipient,
         * only where a token may name them (not the copy for everyone, not
         * the anonymous mode) */
        const struct homing_buf *copy = &x->buf;
        if (x->list_unsubscribe && recipient) {
            homing_buf_reset(&x->unsub);
            r = homing_list_unsubscribe_add(x->o.base_url, x->keys, x->id, recipient, x->buf.data,
                                            x->buf.len, &x->unsub);
            if (r < 0)
                return cli_fail("cannot write the copy for %s: %s", x->rcpt[i], strerror(-r));
            copy = &x->unsub;
        }
        /* the copy says whom it is for (X-Homing-Copy), whatever its file is
         * called later: `homing send` takes the envelope recipient from it */
        homing_buf_reset(&x->marked);
        r = homing_copy_mark(x->keys, x->id, x->per_message ? 0 : (uint32_t)(i + 1), copy->data,
                             copy->len, &x->marked);
        if (r < 0)
            return cli_fail("cannot write the copy for %s: %s",
                            x->per_message ? "everyone" : x->rcpt[i], strerror(-r));
        struct out_file *o = &x->outs[x->mbox ? 0 : i];
        if (x->mbox)
            r = write_mbox(o->f, homing_track_sender(x->t), x->marked.data, x->marked.len);
        else
            r = fwrite(x->marked.data, 1, x->marked.len, o->f) == x->marked.len ? 0 : -EIO;
        if (r < 0)
            return cli_fail("cannot write %s: %s", o->path ? o->path : "stdout",
                            strerror(errno ? errno : EIO));
    }
    for (size_t i = 0; i < x->n_outs; i++) {
        if (x->outs[i].f == stdout) {
            if (fflush(stdout) != 0) return cli_fail("cannot write stdout: %s", strerror(errno));
            continue;
        }
        FILE *f = x->outs[i].f;
        x->outs[i].f = NULL;
        if (fclose(f) != 0)
            return cli_fail("cannot write %s: %s", x->outs[i].path, strerror(errno));
    }
    return 0;
}

/* The summary, where it does not mix with a copy on stdout. */
static int track_summary(struct track_run *x)
{
    char idstr[HOMING_ID_STR_MAX];
    homing_id_format(x->id, idstr);
    FILE *info = x->per_message && !x->output && !x->mbox ? stderr : stdout;
    size_t nl = homing_track_link_count(x->t), np = homing_track_part_count(x->t);
    fprintf(info, "tracked %s: %zu recipient%s, %zu link%s, %zu part%s changed, %s\n", idstr,
            x->n_rcpt, x->n_rcpt == 1 ? "" : "s", nl, nl == 1 ? "" : "s", np, np == 1 ? "" : "s",
            x->per_message ? "one copy for everyone" : "one copy per recipient");
    size_t refused = homing_track_refused_count(x->t);
    if (refused)
        fprintf(info, "  %zu link%s left untracked: not a valid destination (see the warnings)\n",
                refused, refused == 1 ? "" : "s");
    for (size_t i = 0; i < x->n_outs; i++)
        if (x->outs[i].path) fprintf(info, "  %s\n", x->outs[i].path);
    return 0;
}

/* After the arguments, in this order: nothing is registered before the
 * message has parsed and every output is open, and a failure after that
 * leaves no half-written copies behind. */
static int (*const track_steps[])(struct track_run *) = {
    track_prepare, track_recipients, track_open_outputs, track_register, track_write, track_summary,
};

int cmd_track(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, track_usage)) return CLI_OK;
    struct track_run x = {.cli = cli,
                          .input = "-",
                          .tracking = HOMING_TRACKING_INDIVIDUAL,
                          .o = {.rewrite_text = 1, .pixel = 1, .new_message_id = 1}};
    homing_buf_init(&x.buf, 0);
    homing_buf_init(&x.marked, 0);
    homing_buf_init(&x.unsub, 0);
    if (!(x.to = calloc(TRACK_TO_MAX, sizeof *x.to))) return cli_fail("out of memory");
    int status = track_args(&x, argc, argv);
    for (size_t i = 0; status == CLI_OK && i < sizeof track_steps / sizeof track_steps[0]; i++)
        status = track_steps[i](&x) ? CLI_ERROR : CLI_OK;
    for (size_t i = 0; i < x.n_outs; i++) {
        if (x.outs[i].f && x.outs[i].f != stdout) fclose(x.outs[i].f);
        /* a failed run leaves no half-written copies behind */
        if (status != CLI_OK && x.outs[i].path && !x.mbox && !(x.per_message && x.output))
            unlink(x.outs[i].path);
        free(x.outs[i].path);
    }
    free(x.outs);
    homing_buf_free(&x.buf);
    homing_buf_free(&x.marked);
    homing_buf_free(&x.unsub);
    cli_track_docs_free(x.tdocs);
    homing_track_free(x.t);
    free(x.data);
    free(x.to);
    return status;
}
