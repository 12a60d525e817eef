/*
 * send.c: `homing send`: submits tracked messages to an SMTP relay with DSN
 * and VERP (the session is lib/delivery/send.c), and records each recipient's
 * reply as an event (sent / rejected) and a recipient state.
 *
 * What is sent: the copies `homing track` wrote, each to the recipient its
 * X-Homing-Copy header names (its file name means nothing; the header is
 * removed before sending), or a file without that header only to the
 * registered recipients named with --message ID --to ADDR. The relay's queue
 * id (its reply to DATA) is remembered per copy for homing ingest-log. The envelope sender of each
 * copy is its recipient's VERP address (send.verp with a signed token), ENVID the message's public
 * id, ORCPT the recipient: every later report can be tied back to one recipient.
 * Each copy is DKIM-signed as it is sent when dkim.keys_dir holds the key of
 * its From domain (homing dkim-keys; docs/delivery.md).
 *
 * A recipient on the suppression list (docs/suppression.md) under the
 * message's sender is not sent to: one line on stderr names the address and
 * the reason, a `suppression` event {"action": "refused"} is recorded, and the
 * other recipients of the run are sent as usual; the run then exits 1.
 *
 * Contract: one progress line per message copy on stdout, a summary on stderr;
 * exit 0 when every copy was accepted, 1 when the relay refused some
 * recipients or some were suppressed, 2 on an error (unreachable relay, TLS, authentication: one
 * line naming it). Sessions run on --jobs threads; the store is written from the main thread only,
 * after the sessions end (one handle, one thread).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <auth-client.h>
#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "delivery_cli.h"
#include "homing/delivery.h"
#include "homing/dkim.h"
#include "homing/service.h"
#include "homing/track.h"
#include "homing/util.h"

#define SEND_FILES_MAX 100000 /* message copies per run */
#define SEND_TO_MAX    1000   /* --to given */
#define SEND_JOBS_MAX  64
#define SEND_BATCH     25                  /* envelopes per SMTP session */
#define SEND_SIZE_MAX  (64u * 1024 * 1024) /* largest message file */

static const char send_usage[] =
    "usage: homing send [OPTIONS] FILE|DIR...\n"
    "       homing send [OPTIONS] --message ID --to ADDR... FILE\n\n"
    "Submits tracked copies to an SMTP relay: per recipient NOTIFY=SUCCESS,FAILURE,\n"
    "DELAY and ORCPT, per message RET=HDRS and ENVID (the public id), and a VERP\n"
    "envelope sender (send.verp) carrying the recipient's signed token. Each reply\n"
    "is recorded (events 'sent' / 'rejected', recipient state). A copy is\n"
    "DKIM-signed when dkim.keys_dir holds the key of its From domain\n"
    "(homing dkim-keys).\n\n"
    "  FILE|DIR          copies written by 'homing track': each goes to the recipient\n"
    "                    its X-Homing-Copy header names (removed before sending)\n"
    "  --message ID      the message (public id or Message-ID) of a FILE without that\n"
    "                    header (an untracked message is refused without it)\n"
    "  --to ADDR         send FILE to this registered recipient (repeatable)\n"
    "  --smtp HOST:PORT  the relay (send.smtp)\n"
    "  --starttls MODE   required, opportunistic or off (send.starttls)\n"
    "  --auth-file FILE  AUTH user (line 1) and password (line 2); mode 0600\n"
    "  --jobs N          SMTP sessions at once (send.jobs, default 4)\n\n"
    "A recipient on the suppression list ('homing suppress') gets nothing: one line\n"
    "names it and why, a 'suppression' event is recorded, the others are sent.\n\n"
    "Exit status: 0 all accepted, 1 some recipients refused or suppressed, 2 an error.\n";

struct send_job {
    char *path;
    char *data;
    size_t len;
    uint64_t message;
    uint32_t index;
    char envid[HOMING_ID_STR_MAX];
    char rcpt[HOMING_VERP_ADDR_MAX];
    char verp[HOMING_VERP_ADDR_MAX];
    struct homing_send_item item;
    int session_failed;
};

struct send_run {
    struct homing_send_options o;
    struct send_job *jobs;
    size_t n_jobs;
    size_t next; /* next batch start, under lock */
    pthread_mutex_t lock;
    int fatal; /* a session error: stop handing out work */
    int fatal_errno;
    char fatal_msg[512];
};

static void *send_worker(void *arg)
{
    struct send_run *run = arg;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        size_t start = run->next;
        int stop = run->fatal || start >= run->n_jobs;
        if (!stop) run->next += SEND_BATCH;
        pthread_mutex_unlock(&run->lock);
        if (stop) return NULL;
        size_t n = run->n_jobs - start < SEND_BATCH ? run->n_jobs - start : SEND_BATCH;
        struct homing_send_item items[SEND_BATCH];
        for (size_t i = 0; i < n; i++) items[i] = run->jobs[start + i].item;
        char err[512];
        int r = homing_send_session(&run->o, items, n, err, sizeof err);
        pthread_mutex_lock(&run->lock);
        for (size_t i = 0; i < n; i++) {
            struct send_job *j = &run->jobs[start + i];
            j->item = items[i];
            char p[600], t[600];
            cli_safe(j->path, p, sizeof p);
            if (r < 0) { /* nothing about the recipient is known: record nothing */
                j->session_failed = 1;
                printf("failed   %s -> %s\n", p, j->rcpt);
                continue;
            }
            cli_safe(j->item.text, t, sizeof t);
            printf("%-8s %s -> %s: %d %s\n", j->item.accepted ? "sent" : "rejected", p, j->rcpt,
                   j->item.code, t);
        }
        fflush(stdout);
        if (r < 0 && !run->fatal) {
            run->fatal = 1;
            run->fatal_errno = r;
            homing_strlcpy(run->fatal_msg, err, sizeof run->fatal_msg);
        }
        pthread_mutex_unlock(&run->lock);
    }
}

static int send_add_job(struct send_job **jobs, size_t *n, const char *path, const char *data,
                        size_t len, uint64_t message, uint32_t index, const char *rcpt)
{
    if (*n >= SEND_FILES_MAX) return -E2BIG;
    struct send_job *p = realloc(*jobs, (*n + 1) * sizeof *p);
    if (!p) return -ENOMEM;
    *jobs = p;
    struct send_job *j = &p[(*n)++];
    memset(j, 0, sizeof *j);
    j->path = strdup(path);
    j->data = malloc(len + 1);
    if (!j->path || !j->data) return -ENOMEM;
    memcpy(j->data, data, len);
    j->len = len;
    j->message = message;
    j->index = index;
    homing_strlcpy(j->rcpt, rcpt, sizeof j->rcpt);
    return 0;
}

/* One file. A tracked copy names its message and recipient in its mark
 * (X-Homing-Copy, lib/track/mark.c), which is taken out of what is sent: a
 * copy made for one recipient goes to that recipient only, whatever the file
 * is called, and a copy for everyone (--per-message) to every registered
 * recipient or those --to names. A file without a mark is sent only to the
 * recipients --to names (with --message): an untracked original is never sent
 * to everyone by accident, and its recipients are never guessed. */
static int send_file(struct cli *cli, const struct homing_keyring *keys, const char *path,
                     uint64_t message_arg, char **to, size_t n_to, struct send_job **jobs,
                     size_t *n_jobs, size_t *n_suppressed)
{
    struct homing_store *s = cli->store;
    char *data = NULL;
    size_t len = 0;
    int r = cli_read_file(path, SEND_SIZE_MAX, &data, &len);
    if (r < 0) return cli_fail("cannot read %s: %s", path, strerror(-r)), r;
    char p[600];
    cli_safe(path, p, sizeof p);
    struct homing_copy_mark mk = {0};
    r = homing_copy_find(keys, data, len, &mk);
    if (r == -EBADMSG) {
        free(data);
        return cli_fail("%s: its %s header does not verify with this installation's token keys "
                        "(or there are two): not sent",
                        p, HOMING_COPY_HEADER),
               -EBADMSG;
    }
    if (r == -ENOENT && !n_to) {
        free(data);
        return cli_fail("%s: not a tracked copy (no %s header): track it with 'homing track', "
                        "or send it as it is with --message ID --to ADDR",
                        p, HOMING_COPY_HEADER),
               -ENOENT;
    }
    if (r < 0 && r != -ENOENT) {
        free(data);
        return cli_fail("%s: %s", p, strerror(-r)), r;
    }
    int marked = r == 0;
    uint64_t message = marked ? mk.message : message_arg;
    if (marked && message_arg && message_arg != mk.message) {
        free(data);
        return cli_fail("%s: a copy of another message than --message names", p), -EINVAL;
    }
    if (marked) { /* the mark is ours: it never leaves */
        memmove(data + mk.start, data + mk.end, len - mk.end);
        len -= mk.end - mk.start;
    }
    struct homing_message *m = NULL;
    if ((r = homing_store_message_get(s, message, &m)) < 0) {
        free(data);
        cli_fail("%s: its message is not in this store", p);
        return r;
    }
    const struct homing_recipient *only = NULL;
    if (marked && mk.recipient) {
        for (size_t i = 0; i < m->n_recipients; i++)
            if (m->recipients[i].index == mk.recipient) only = &m->recipients[i];
        if (!only) {
            cli_fail("%s: recipient %u of its message is not registered", p, mk.recipient);
            r = -ENOENT;
        }
    }
    for (size_t k = 0; k < n_to && r >= 0; k++) {
        int found = 0;
        for (size_t i = 0; i < m->n_recipients; i++)
            if (strcasecmp(to[k], m->recipients[i].address) == 0) found = 1;
        char t[400];
        cli_safe(to[k], t, sizeof t);
        if (!found) {
            cli_fail("%s is not a recipient of that message (register it with homing track)", t);
            r = -ENOENT;
        } else if (only && strcasecmp(to[k], only->address) != 0) {
            char a[400];
            cli_safe(only->address, a, sizeof a);
            cli_fail("%s is the copy for %s: sending it to %s would record their opens as %s's", p,
                     a, t, a);
            r = -EINVAL;
        }
    }
    r = r < 0 ? r : 0;
    for (size_t i = 0; i < m->n_recipients && r == 0; i++) {
        const struct homing_recipient *x = &m->recipients[i];
        int take = 0;
        if (only)
            take = x == only;
        else if (n_to)
            for (size_t k = 0; k < n_to; k++) take |= strcasecmp(to[k], x->address) == 0;
        else
            take = 1; /* a copy made for everyone */
        if (take) {
            /* The suppression list, under the From address the message was
             * registered with: a store that cannot be read sends nothing. */
            struct homing_suppression hit;
            char why[HOMING_SUPPRESS_ADDR_MAX * 4 + 128];
            int q = homing_suppressed(s, m->sender, x->address, &hit, why, sizeof why);
            if (q < 0 && q != -EINVAL) {
                cli_fail("cannot read the suppression list: %s", homing_store_errmsg(s));
                r = q;
            } else if (q == 1) {
                cli_fail("%s: %s: not sent", p, why);
                if ((r = homing_suppress_refused(s, message, x->index, &hit, "send")) < 0)
                    cli_fail("cannot record the refusal: %s", homing_store_errmsg(s));
                (*n_suppressed)++;
                take = 0;
            }
        }
        if (take && r == 0)
            r = send_add_job(jobs, n_jobs, path, data, len, message, x->index, x->address);
    }
    homing_message_free(m);
    free(data);
    if (r == -ENOMEM || r == -E2BIG)
        cli_fail("%s", r == -E2BIG ? "too many copies" : "out of memory");
    return r;
}

static int send_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int send_path(struct cli *cli, const struct homing_keyring *keys, const char *path,
                     uint64_t message, char **to, size_t n_to, struct send_job **jobs,
                     size_t *n_jobs, size_t *n_suppressed)
{
    struct stat st;
    if (stat(path, &st) < 0) return cli_fail("cannot read %s: %s", path, strerror(errno)), -errno;
    if (!S_ISDIR(st.st_mode))
        return send_file(cli, keys, path, message, to, n_to, jobs, n_jobs, n_suppressed);
    DIR *d = opendir(path);
    if (!d) return cli_fail("cannot open %s: %s", path, strerror(errno)), -errno;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".eml") != 0) continue;
        char **p = realloc(names, (n + 1) * sizeof *p);
        if (!p || !(p[n] = malloc(strlen(path) + l + 2))) {
            if (p) names = p;
            r = -ENOMEM;
            break;
        }
        names = p;
        sprintf(names[n++], "%s/%s", path, de->d_name);
    }
    closedir(d);
    if (r == 0 && names) qsort(names, n, sizeof *names, send_cmp);
    for (size_t i = 0; i < n && r == 0; i++)
        r = send_file(cli, keys, names[i], message, to, n_to, jobs, n_jobs, n_suppressed);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return r;
}

static int send_record(struct homing_store *s, struct send_job *j, const char *relay)
{
    const struct homing_send_item *it = &j->item;
    json_t *d = json_object();
    if (!d) return -ENOMEM;
    json_object_set_new(d, "code", json_integer(it->code));
    json_object_set_new(d, "text", json_string(it->text));
    json_object_set_new(d, "relay", json_string(relay));
    json_object_set_new(d, "address", json_string(j->rcpt));
    json_object_set_new(d, "verp", json_string(j->verp));
    if (it->queue_id[0]) json_object_set_new(d, "queue_id", json_string(it->queue_id));
    if (!it->accepted) json_object_set_new(d, "temporary", json_boolean(it->code < 500));
    struct homing_event ev = {0};
    ev.kind = it->accepted ? HOMING_EV_SENT : HOMING_EV_REJECTED;
    ev.time_us = homing_now_us();
    ev.message = j->message;
    ev.recipient = j->index;
    ev.detail = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    if (!ev.detail) return -ENOMEM;
    int r = homing_store_events_append(s, &ev, 1);
    homing_event_clear(&ev);
    if (r < 0) return r;
    const char *state = it->accepted ? "sent" : it->code >= 500 ? "rejected" : NULL;
    if (state) r = homing_delivery_state_apply(s, j->message, j->index, state, ev.time_us);
    if (r == -ENOENT) r = 0;
    /* the relay's log names this copy by its queue id (homing ingest-log) */
    if (r == 0 && it->accepted && it->queue_flavour)
        r = homing_maillog_remember(s, it->queue_flavour, it->queue_id, j->message, j->index);
    return r;
}

/* DKIM-signs the copy as it will be sent (its mark already taken out) when
 * dkim.keys_dir holds the key of its From domain (homing/dkim.h): 1 signed,
 * 0 sent unsigned (no key, or no single From domain to sign for), or a
 * negative errno after saying why (a key that cannot be used stops the run:
 * mail meant to be signed never leaves unsigned because of a bad key). */
static int send_dkim(const struct homing_settings *set, struct send_job *j)
{
    char *sig = NULL, p[600];
    int r = homing_dkim_sign(set, j->data, j->len, &sig);
    if (r == -ENOENT || r == -EBADMSG) return 0;
    cli_safe(j->path, p, sizeof p);
    if (r == -EPERM)
        return cli_fail("%s: the DKIM key of its From domain is readable by others (chmod 600)", p),
               r;
    if (r < 0)
        return cli_fail("%s: cannot DKIM-sign it: %s", p,
                        r == -EINVAL ? "the key of its From domain is not a usable RSA key"
                                     : strerror(-r)),
               r;
    size_t hl = strlen(sig);
    char *d = malloc(hl + j->len + 1);
    if (!d) {
        free(sig);
        return cli_fail("out of memory"), -ENOMEM;
    }
    memcpy(d, sig, hl);
    memcpy(d + hl, j->data, j->len);
    d[hl + j->len] = '\0';
    free(sig);
    free(j->data);
    j->data = d;
    j->len += hl;
    return 1;
}

int cmd_send(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, send_usage)) return CLI_OK;
    const char *smtp = NULL, *tls = NULL, *auth = NULL, *message_arg = NULL;
    long long jobs_n = 0;
    char **to = calloc(SEND_TO_MAX, sizeof *to), **paths = calloc((size_t)argc, sizeof *paths);
    size_t n_to = 0, n_paths = 0;
    if (!to || !paths) {
        free(to);
        free(paths);
        return cli_fail("out of memory");
    }
    int status = CLI_ERROR;
    struct send_job *jobs = NULL;
    size_t n_jobs = 0, n_suppressed = 0;
    char user[DELIVERY_CLI_CRED_MAX] = "", pass[DELIVERY_CLI_CRED_MAX] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--smtp") && has)
            smtp = argv[++i];
        else if (!strcmp(a, "--starttls") && has)
            tls = argv[++i];
        else if (!strcmp(a, "--auth-file") && has)
            auth = argv[++i];
        else if (!strcmp(a, "--message") && has)
            message_arg = argv[++i];
        else if (!strcmp(a, "--to") && has) {
            if (n_to >= SEND_TO_MAX) {
                cli_usage_error("send", "more than %d --to", SEND_TO_MAX);
                goto out;
            }
            to[n_to++] = argv[++i];
        } else if (!strcmp(a, "--jobs") && has) {
            if (cli_parse_count("send", "--jobs", argv[++i], 1, SEND_JOBS_MAX, &jobs_n) < 0)
                goto out;
        } else if (a[0] == '-' && a[1]) {
            cli_usage_error("send", "unknown option or missing value: %s", a);
            goto out;
        } else
            paths[n_paths++] = argv[i];
    }
    if (n_paths == 0) {
        cli_usage_error("send", "no message file or directory given");
        goto out;
    }
    if (n_to && (!message_arg || n_paths != 1)) {
        cli_usage_error("send", "--to needs --message ID and exactly one FILE");
        goto out;
    }
    if (cli_config(cli) < 0) goto out;
    const struct homing_settings *set = homing_config_settings(cli->config);
    if (!smtp) smtp = set->send.smtp;
    if (!tls) tls = set->send.starttls;
    int tls_mode = !strcmp(tls, "required")        ? HOMING_SEND_TLS_REQUIRED
                   : !strcmp(tls, "opportunistic") ? HOMING_SEND_TLS_OPPORTUNISTIC
                   : !strcmp(tls, "off")           ? HOMING_SEND_TLS_OFF
                                                   : -1;
    if (tls_mode < 0) {
        cli_usage_error("send", "--starttls must be required, opportunistic or off");
        goto out;
    }
    /* send.jobs (1..64, SEND_JOBS_MAX) and send.timeout were checked when read */
    long long timeout = set->send.timeout;
    if (!jobs_n) jobs_n = set->send.jobs;
    if (jobs_n > SEND_JOBS_MAX) jobs_n = SEND_JOBS_MAX; /* th[] below */
    const char *verp = set->send.verp;
    if (!verp || !*verp) {
        cli_fail("send.verp is not set: configure the VERP envelope sender, e.g. "
                 "bounce+{token}@bounces.example");
        goto out;
    }
    if (auth && delivery_cli_auth_file(auth, user, pass) < 0) goto out;
    struct homing_keyring *keys = cli_keyring(cli);
    struct homing_store *s = keys ? cli_store(cli) : NULL;
    if (!s) goto out;
    uint64_t message = 0;
    if (message_arg && cli_message_arg(cli, "send", message_arg, &message) < 0) goto out;
    for (size_t i = 0; i < n_paths; i++)
        if (send_path(cli, keys, paths[i], message, to, n_to, &jobs, &n_jobs, &n_suppressed) < 0)
            goto out;
    if (n_jobs == 0 && n_suppressed) {
        fprintf(stderr, "homing send: 0 sent, 0 refused, 0 not sent, %zu suppressed\n",
                n_suppressed);
        status = CLI_NEGATIVE;
        goto out;
    }
    if (n_jobs == 0) {
        cli_fail("nothing to send");
        goto out;
    }
    size_t n_signed = 0;
    for (size_t i = 0; i < n_jobs; i++) {
        int r = send_dkim(set, &jobs[i]);
        if (r < 0) goto out;
        n_signed += r;
    }
    struct stat kst;
    if (n_signed || (*set->dkim.keys_dir && stat(set->dkim.keys_dir, &kst) == 0))
        fprintf(
            stderr,
            "homing send: %zu of %zu copies DKIM-signed (a copy is signed when dkim.keys_dir holds "
            "the key of its From domain)\n",
            n_signed, n_jobs);
    for (size_t i = 0; i < n_jobs; i++) {
        struct send_job *j = &jobs[i];
        if (homing_verp_address(verp, keys, j->message, j->index, j->verp, sizeof j->verp) < 0) {
            cli_fail("send.verp must hold one {token} before an '@': %s", verp);
            goto out;
        }
        homing_id_format(j->message, j->envid);
        j->item = (struct homing_send_item){.data = j->data,
                                            .len = j->len,
                                            .envid = j->envid,
                                            .mail_from = j->verp,
                                            .rcpt = j->rcpt};
        /* tracking mode off: not even a delivery report is asked for */
        int mm, *modes = NULL;
        size_t nm = 0;
        if (homing_store_tracking_get(s, j->message, &mm, &modes, &nm) == 0)
            j->item.no_dsn =
                (j->index && j->index <= nm ? modes[j->index - 1] : mm) == HOMING_TRACKING_OFF;
        free(modes);
    }

    auth_client_init();
    struct send_run run = {.o = {.server = smtp,
                                 .tls = tls_mode,
                                 .user = auth ? user : NULL,
                                 .password = auth ? pass : NULL,
                                 .timeout_s = (int)timeout},
                           .jobs = jobs,
                           .n_jobs = n_jobs};
    pthread_mutex_init(&run.lock, NULL);
    size_t nt = (size_t)jobs_n;
    if (nt > (n_jobs + SEND_BATCH - 1) / SEND_BATCH) nt = (n_jobs + SEND_BATCH - 1) / SEND_BATCH;
    pthread_t th[SEND_JOBS_MAX];
    size_t started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, send_worker, &run) != 0) break;
    if (started == 0) send_worker(&run);
    for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&run.lock);
    auth_client_exit();

    size_t sent = 0, refused = 0, failed = 0;
    for (size_t i = 0; i < n_jobs; i++) {
        struct send_job *j = &jobs[i];
        if (j->session_failed || !j->item.done) {
            failed++;
            continue;
        }
        if (send_record(s, j, smtp) < 0) {
            cli_fail("cannot record the reply for %s: %s", j->rcpt, homing_store_errmsg(s));
            goto out;
        }
        if (j->item.accepted)
            sent++;
        else
            refused++;
    }
    fprintf(stderr, "homing send: %zu sent, %zu refused, %zu not sent", sent, refused, failed);
    if (n_suppressed) fprintf(stderr, ", %zu suppressed", n_suppressed);
    fputc('\n', stderr);
    if (run.fatal) {
        cli_fail("%s", run.fatal_msg);
        goto out;
    }
    status = failed ? CLI_ERROR : refused || n_suppressed ? CLI_NEGATIVE : CLI_OK;
out:
    for (size_t i = 0; i < n_jobs; i++) {
        free(jobs[i].path);
        free(jobs[i].data);
    }
    free(jobs);
    free(to);
    free(paths);
    sodium_memzero(pass, sizeof pass);
    return status;
}
