/*
 * message.c: `homing message add|show|list`: registers a message by hand (the
 * way `homing track` will for a real .eml) and prints the tracking URLs to put
 * in each recipient's copy: the open pixel and one click URL per link. In
 * per-message mode every copy is the same and carries recipient 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "homing/service.h"
#include "homing/track.h"

#define MESSAGE_URL_MAX      8192 /* a stored link shown whole (rows older than the check too) */
#define MESSAGE_LIST_DEFAULT 50
#define MESSAGE_URL_BUF_MAX  16384

static const char message_usage[] =
    "usage: homing message add --subject S --from ADDR --to ADDR... [--link URL...]\n"
    "                          [--message-id ID] [--per-message] [--mode MODE]\n"
    "                          [--campaign NAME] [--json]\n"
    "       homing message show MESSAGE [--json]\n"
    "       homing message list [--limit N] [--json]\n\n"
    "add   register a message and print its public id and, per recipient, the open\n"
    "      pixel URL (<public.base_url>/o/TOKEN.gif) and each link's click URL\n"
    "      (<public.base_url>/c/TOKEN; the --from domain's URL when\n"
    "      public.domain_base_urls names it). --to and --link may be repeated; links get\n"
    "      indexes 1, 2, ... in order. --per-message: one copy for all recipients\n"
    "      (recipient 0), so opens cannot be told apart by recipient. --campaign: the\n"
    "      campaign it belongs to (homing stats --campaign NAME). --mode: the\n"
    "      tracking mode, individual (default), anonymous (per-message tokens for\n"
    "      all), delivery or off (no tracking URLs printed); docs/privacy.md\n"
    "show  a message with its recipients (and delivery states) and links\n"
    "list  the most recent messages, newest first (default 50)\n"
    "MESSAGE is a public id (16 hex digits) or a Message-ID.\n";

/* The tracking URLs of one copy (recipient index rcpt, 0 = per-message), as
 * text or appended to a JSON array. */
static int print_copy(struct cli *cli, const struct homing_message *m, uint32_t rcpt,
                      const char *address, json_t *jcopies)
{
    const struct homing_settings *set = homing_config_settings(cli->config);
    char base[HOMING_DOMAIN_URL_MAX + 1]; /* the sender's domain's, else public.base_url */
    if (homing_domain_base_url(set->public.domain_base_urls, m->sender, set->public.base_url, base,
                               sizeof base) < 0)
        return -EINVAL;
    struct homing_keyring *k = cli_keyring(cli);
    if (!k) return -EIO;
    struct homing_buf b;
    homing_buf_init(&b, MESSAGE_URL_BUF_MAX);
    int r = homing_token_url(base, k, HOMING_TOKEN_OPEN, m->id, rcpt, 0, &b);
    if (r < 0) goto out;
    char safe[HOMING_MESSAGE_ADDR_MAX + 1];
    if (jcopies) {
        json_t *jc = homing_copy_json(base, NULL, k, m, rcpt, address);
        r = jc && json_array_append_new(jcopies, jc) == 0 ? 0 : -ENOMEM;
        goto out;
    } else if (rcpt) {
        printf("recipient %u %s\n", rcpt, cli_safe(address, safe, sizeof safe));
        printf("  open    %s\n", b.data);
    } else {
        printf("all recipients (per-message)\n  open    %s\n", b.data);
    }
    for (size_t i = 0; i < m->n_links; i++) {
        homing_buf_reset(&b);
        r = homing_token_url(base, k, HOMING_TOKEN_CLICK, m->id, rcpt, m->links[i].index, &b);
        if (r < 0) goto out;
        printf("  link %u  %s\n", m->links[i].index, b.data);
    }
    r = 0;
out:
    homing_buf_free(&b);
    return r;
}

static int message_add(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"subject", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"message-id", required_argument, NULL, 'm'},
        {"per-message", no_argument, NULL, 'p'},
        {"to", required_argument, NULL, 't'},
        {"link", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"mode", required_argument, NULL, 'M'},
        {"campaign", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    /* Checked by the one validation every front end shares (homing/service.h);
     * what is left here is the command line's own policy: a subject, a
     * sender and at least one recipient are required. */
    struct homing_message_request rq = {.mode = HOMING_MODE_PER_RECIPIENT,
                                        .tracking = HOMING_TRACKING_INDIVIDUAL};
    const char **to = calloc(argc, sizeof *to), **links = calloc(argc, sizeof *links);
    int json = 0, rc = CLI_ERROR;
    char safe[128];
    if (!to || !links) {
        rc = cli_fail("out of memory");
        goto out;
    }
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 's': rq.subject = optarg; break;
        case 'f': rq.sender = optarg; break;
        case 'm': rq.message_id = optarg; break;
        case 'C': rq.campaign = optarg; break;
        case 'p': rq.mode = HOMING_MODE_PER_MESSAGE; break;
        case 'j': json = 1; break;
        case 'M':
            if ((rq.tracking = homing_tracking_parse(optarg)) < 0) {
                rc = cli_usage_error("message add",
                                     "--mode must be off, delivery, anonymous or individual");
                goto out;
            }
            break;
        case 't': to[rq.n_recipients++] = optarg; break;
        case 'l': links[rq.n_links++] = optarg; break;
        case ':':
            rc = cli_usage_error("message add", "%s needs a value",
                                 cli_safe(argv[optind - 1], safe, sizeof safe));
            goto out;
        default:
            rc = cli_usage_error("message add", "unknown option '%s'",
                                 cli_safe(argv[optind - 1], safe, sizeof safe));
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("message add", "unexpected argument '%s'",
                             cli_safe(argv[optind], safe, sizeof safe));
        goto out;
    }
    if (!rq.subject) {
        rc = cli_usage_error("message add", "--subject is required: one line of UTF-8 text");
        goto out;
    }
    if (!rq.sender) {
        rc = cli_usage_error("message add", "--from needs the sender's address");
        goto out;
    }
    if (rq.n_recipients == 0) {
        rc = cli_usage_error("message add", "at least one --to is required");
        goto out;
    }
    rq.recipients = to;
    rq.links = links;
    char err[HOMING_MESSAGE_ERR_MAX];
    struct homing_message_checked checked;
    int r = homing_message_check(&rq, &checked, err, sizeof err);
    if (r == -ENOMEM) {
        rc = cli_fail("out of memory");
        goto out;
    }
    if (r < 0) {
        rc = cli_usage_error("message add", "%s", err); /* err is escaped already */
        goto out;
    }
    homing_message_checked_free(&checked);

    /* Keys first: a message registered without a way to print its URLs would
     * only be clutter. */
    if (!cli_keyring(cli)) goto out;
    struct homing_store *s = cli_store(cli);
    if (!s) goto out;
    uint64_t id;
    if (homing_message_register(s, &rq, &id, err, sizeof err) < 0) {
        rc = cli_fail("%s", err);
        goto out;
    }
    int tracking = rq.tracking;
    struct homing_message *m;
    if (homing_store_message_get(s, id, &m) < 0) {
        rc = cli_fail("cannot read the message back: %s", homing_store_errmsg(s));
        goto out;
    }
    char hex[HOMING_ID_STR_MAX];
    homing_id_format(id, hex);
    json_t *jroot = NULL, *jcopies = NULL;
    if (json) {
        jroot = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:[]}", "id", hex, "message_id",
                          m->message_id, "subject", m->subject, "from", m->sender, "mode",
                          m->mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient",
                          "tracking", homing_tracking_name(tracking), "copies");
        jcopies = jroot ? json_object_get(jroot, "copies") : NULL;
        if (!jcopies) {
            json_decref(jroot);
            homing_message_free(m);
            rc = cli_fail("out of memory");
            goto out;
        }
    } else {
        printf("message %s\n", hex);
    }
    r = 0;
    if (tracking == HOMING_TRACKING_OFF || tracking == HOMING_TRACKING_DELIVERY) {
        if (!json) printf("tracking %s: no tracking URLs\n", homing_tracking_name(tracking));
    } else if (m->mode == HOMING_MODE_PER_MESSAGE || tracking == HOMING_TRACKING_ANONYMOUS)
        r = print_copy(cli, m, 0, NULL, jcopies);
    else
        for (size_t i = 0; i < m->n_recipients && r == 0; i++)
            r = print_copy(cli, m, m->recipients[i].index, m->recipients[i].address, jcopies);
    homing_message_free(m);
    if (r == 0 && jroot) {
        r = homing_json_dumpf(jroot, stdout, JSON_INDENT(2)) < 0 ? -EIO : 0;
        putchar('\n');
    }
    json_decref(jroot);
    rc = r < 0 ? cli_fail("cannot make tracking URLs: %s", strerror(-r)) : CLI_OK;
out:
    free(to);
    free(links);
    return rc;
}

static int message_show(struct cli *cli, const char *arg, int json)
{
    uint64_t id;
    if (cli_message_arg(cli, "message show", arg, &id) < 0) return CLI_ERROR;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    struct homing_message *m;
    int r = homing_store_message_get(s, id, &m);
    char hex[HOMING_ID_STR_MAX], when[HOMING_TIME_STR_MAX];
    homing_id_format(id, hex);
    if (r == -ENOENT) return cli_fail("no message %s", hex);
    if (r < 0) return cli_fail("cannot read message %s: %s", hex, homing_store_errmsg(s));
    const char *mode = m->mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient";
    homing_time_format(m->created_us, when);
    int tracking = HOMING_TRACKING_INDIVIDUAL, *modes = NULL;
    size_t n_modes = 0;
    if (homing_store_tracking_get(s, id, &tracking, &modes, &n_modes) < 0) {
        homing_message_free(m);
        return cli_fail("cannot read message %s: %s", hex, homing_store_errmsg(s));
    }
    free(modes);
    if (json) {
        json_t *jr = json_array(), *jl = json_array();
        for (size_t i = 0; i < m->n_recipients; i++) {
            char st[HOMING_TIME_STR_MAX];
            homing_time_format(m->recipients[i].state_us, st);
            json_array_append_new(jr, json_pack("{s:I, s:s, s:s, s:s}", "index",
                                                (json_int_t)m->recipients[i].index, "address",
                                                m->recipients[i].address, "state",
                                                m->recipients[i].state, "state_time", st));
        }
        for (size_t i = 0; i < m->n_links; i++)
            json_array_append_new(jl,
                                  json_pack("{s:I, s:s}", "index", (json_int_t)m->links[i].index,
                                            "url", m->links[i].url));
        json_t *j = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:s, s:o, s:o}", "id", hex,
                              "message_id", m->message_id, "subject", m->subject, "from", m->sender,
                              "campaign", m->campaign, "mode", mode, "tracking",
                              homing_tracking_name(tracking), "created", when, "recipients", jr,
                              "links", jl);
        r = j ? homing_json_dumpf(j, stdout, JSON_INDENT(2)) : -1;
        putchar('\n');
        json_decref(j);
        homing_message_free(m);
        return r < 0 ? cli_fail("cannot write JSON") : CLI_OK;
    }
    char safe[HOMING_MESSAGE_TEXT_MAX * HOMING_ESCAPE_GROWTH + 1];
    printf("message     %s\n", hex);
    printf("message-id  %s\n", cli_safe(m->message_id, safe, sizeof safe));
    printf("subject     %s\n", cli_safe(m->subject, safe, sizeof safe));
    printf("from        %s\n", cli_safe(m->sender, safe, sizeof safe));
    printf("mode        %s\n", mode);
    printf("tracking    %s\n", homing_tracking_name(tracking));
    printf("created     %s\n", when);
    printf("recipients  %zu\n", m->n_recipients);
    for (size_t i = 0; i < m->n_recipients; i++) {
        char st[CLI_TIME_SHORT_MAX], addr[HOMING_MESSAGE_ADDR_MAX * HOMING_ESCAPE_GROWTH + 1];
        cli_time_short(m->recipients[i].state_us, st);
        printf("  %-4u %-40s %-12s %s\n", m->recipients[i].index,
               cli_safe(m->recipients[i].address, addr, sizeof addr),
               cli_safe(m->recipients[i].state, safe, sizeof safe), st);
    }
    printf("links       %zu\n", m->n_links);
    for (size_t i = 0; i < m->n_links; i++) {
        char url[MESSAGE_URL_MAX + 1];
        printf("  %-4u %s\n", m->links[i].index, cli_safe(m->links[i].url, url, sizeof url));
    }
    homing_message_free(m);
    return CLI_OK;
}

static int message_list(struct cli *cli, long long limit, int json)
{
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    struct homing_message *m;
    size_t n;
    if (homing_store_message_list(s, (size_t)limit, &m, &n) < 0)
        return cli_fail("cannot list messages: %s", homing_store_errmsg(s));
    if (!json) printf("%-16s  %-19s  %-13s  %s\n", "ID", "CREATED", "MODE", "SUBJECT");
    for (size_t i = 0; i < n; i++) {
        char hex[HOMING_ID_STR_MAX];
        homing_id_format(m[i].id, hex);
        const char *mode = m[i].mode == HOMING_MODE_PER_MESSAGE ? "per-message" : "per-recipient";
        if (json) {
            char when[HOMING_TIME_STR_MAX];
            homing_time_format(m[i].created_us, when);
            json_t *j =
                json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:s}", "id", hex, "message_id",
                          m[i].message_id, "subject", m[i].subject, "from", m[i].sender, "campaign",
                          m[i].campaign, "mode", mode, "created", when);
            if (j) {
                homing_json_dumpf(j, stdout, JSON_COMPACT);
                putchar('\n');
            }
            json_decref(j);
        } else {
            char when[CLI_TIME_SHORT_MAX], subj[HOMING_MESSAGE_TEXT_MAX * HOMING_ESCAPE_GROWTH + 1];
            cli_time_short(m[i].created_us, when);
            printf("%-16s  %-19s  %-13s  %s\n", hex, when, mode,
                   cli_safe(m[i].subject, subj, sizeof subj));
        }
    }
    homing_messages_free(m, n);
    return CLI_OK;
}

int cmd_message(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, message_usage)) return CLI_OK;
    if (argc < 2) return cli_usage_error("message", "expected 'add', 'show' or 'list'");
    const char *action = argv[1];
    if (strcmp(action, "add") == 0) return message_add(cli, argc - 1, argv + 1);
    char safe[64];
    int json = 0;
    long long limit = MESSAGE_LIST_DEFAULT;
    const char *arg = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(action, "list") == 0 && strcmp(argv[i], "--limit") == 0) {
            if (++i >= argc) return cli_usage_error("message", "--limit needs a number");
            if (cli_parse_count("message", "--limit", argv[i], 1, HOMING_STORE_LIST_MAX, &limit) <
                0)
                return CLI_ERROR;
        } else if (argv[i][0] == '-' || arg || strcmp(action, "list") == 0) {
            return cli_usage_error("message", "unexpected argument '%s'",
                                   cli_safe(argv[i], safe, sizeof safe));
        } else {
            arg = argv[i];
        }
    }
    if (strcmp(action, "list") == 0) return message_list(cli, limit, json);
    if (strcmp(action, "show") == 0) {
        if (!arg) return cli_usage_error("message", "'show' needs a MESSAGE");
        return message_show(cli, arg, json);
    }
    return cli_usage_error("message", "unknown action '%s'", cli_safe(action, safe, sizeof safe));
}
