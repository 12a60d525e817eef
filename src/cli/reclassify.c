/*
 * reclassify.c: `homing reclassify`: recomputes every stored verdict with the
 * current rules (lib/reader: User-Agent rules, machine knowledge, verdict rules
 * of HOMING_VERDICT_RULES_VERSION) and rewrites the enrichments table, never
 * the events. Prints how many verdicts changed, per old -> new verdict.
 *
 * Each enrichment is recomputed from its event with the same context the
 * daemon's enrichment thread gives (registration and delivery time, the
 * message's other events; later events too, so a burst is now seen whole).
 * Reader rows and the forward flags are kept as they were decided: they say
 * what was known when the hit came in. Safe while the daemon runs: rows are
 * rewritten one page per transaction, and the thread only ever inserts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "homing/reader.h"

#define RECLASSIFY_PAGE       500  /* enrichments read and rewritten per transaction */
#define RECLASSIFY_OTHERS_MAX 2000 /* other events of a message (as the daemon gives) */

static const char reclassify_usage[] =
    "usage: homing reclassify [--dry-run]\n\n"
    "Recomputes the verdict of every enriched open, click and document open with\n"
    "the current rules and data files, rewrites the stored verdicts (events are\n"
    "never changed), and prints how many changed, per old -> new verdict.\n"
    "--dry-run prints the same counts and writes nothing.\n";

/* The context of one message, kept while consecutive rows belong to it. */
struct reclassify_ctx {
    uint64_t message;
    int64_t registered_us;
    struct homing_event *events;
    size_t n;
};

static void ctx_clear(struct reclassify_ctx *c)
{
    homing_events_free(c->events, c->n);
    memset(c, 0, sizeof *c);
}

static int ctx_load(struct homing_store *s, struct reclassify_ctx *c, uint64_t message)
{
    if (c->message == message && c->events) return 0;
    ctx_clear(c);
    struct homing_message *m = NULL;
    int r = homing_store_message_get(s, message, &m);
    if (r < 0 && r != -ENOENT) return r;
    c->registered_us = m ? m->created_us : 0;
    homing_message_free(m);
    if ((r = homing_store_events_list(s, message, 0, RECLASSIFY_OTHERS_MAX, &c->events, &c->n)) < 0)
        return r;
    c->message = message;
    return 0;
}

/* The event of a row: among the message's events when it is there, else read. */
static int event_of(struct homing_store *s, const struct reclassify_ctx *c, int64_t id,
                    struct homing_event **owned, const struct homing_event **ev)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->events[i].id == id) {
            *ev = &c->events[i];
            return 0;
        }
    size_t n = 0;
    int r = homing_store_events_list(s, c->message, id - 1, 1, owned, &n);
    if (r < 0) return r;
    if (n != 1 || (*owned)[0].id != id) {
        homing_events_free(*owned, n);
        *owned = NULL;
        return -ENOENT;
    }
    *ev = *owned;
    return 0;
}

/* As the daemon: the first delivered report of the recipient, else the first sent. */
static int64_t delivered_at(const struct homing_event *ev, const struct reclassify_ctx *c)
{
    int64_t delivered = 0, sent = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct homing_event *o = &c->events[i];
        if (ev->recipient && o->recipient != ev->recipient) continue;
        if (o->kind == HOMING_EV_DELIVERED && (!delivered || o->time_us < delivered))
            delivered = o->time_us;
        if (o->kind == HOMING_EV_SENT && (!sent || o->time_us < sent)) sent = o->time_us;
    }
    return delivered ? delivered : sent;
}

static int row_cmp(const void *a, const void *b)
{
    const struct homing_store_enrichment *x = a, *y = b;
    if (x->message != y->message) return x->message < y->message ? -1 : 1;
    return x->event < y->event ? -1 : x->event > y->event;
}

static struct homing_reader *reader_open(struct cli *cli)
{
    struct homing_reader *rd = NULL;
    int geo_err;
    int r = homing_reader_open(cli->config, &rd, &geo_err);
    if (r < 0) {
        cli_fail("cannot load the User-Agent rules and machine knowledge: %s", strerror(-r));
        return NULL;
    }
    if (geo_err)
        fprintf(stderr,
                "homing reclassify: warning: geo databases not usable (%s): verdicts "
                "without country and ASN\n",
                strerror(-geo_err));
    return rd;
}

int cmd_reclassify(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, reclassify_usage)) return CLI_OK;
    int dry = 0;
    char safe[128];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry = 1;
        else
            return cli_usage_error("reclassify", "unexpected argument '%s'",
                                   cli_safe(argv[i], safe, 64));
    }
    if (cli_config(cli) < 0) return CLI_ERROR;
    struct homing_store *s = cli_store(cli);
    if (!s) return CLI_ERROR;
    struct homing_reader *rd = reader_open(cli);
    if (!rd) return CLI_ERROR;

    int64_t changes[HOMING_VERDICT_COUNT][HOMING_VERDICT_COUNT] = {{0}};
    int64_t seen = 0, changed = 0, missing = 0, after = 0;
    struct reclassify_ctx ctx = {0};
    int rc = CLI_OK;
    for (;;) {
        struct homing_store_enrichment *rows = NULL;
        size_t n = 0;
        if (homing_store_enrichments_list(s, 0, after, RECLASSIFY_PAGE, &rows, &n) < 0) {
            rc = cli_fail("cannot read enrichments: %s", homing_store_errmsg(s));
            break;
        }
        size_t out = 0; /* rows[0..out) are rewritten: compacted in place */
        if (n) after = rows[n - 1].event;
        /* A message's rows together: its events are read once per page. */
        if (n > 1) qsort(rows, n, sizeof *rows, row_cmp);
        for (size_t i = 0; i < n && rc == CLI_OK; i++) {
            struct homing_store_enrichment *row = &rows[i];
            seen++;
            if (ctx_load(s, &ctx, row->message) < 0) {
                rc = cli_fail("cannot read events: %s", homing_store_errmsg(s));
                break;
            }
            struct homing_event *owned = NULL;
            const struct homing_event *ev = NULL;
            int r = event_of(s, &ctx, row->event, &owned, &ev);
            if (r == -ENOENT) {
                missing++; /* cannot happen: events are never deleted */
                continue;
            }
            if (r < 0) {
                rc = cli_fail("cannot read event %" PRId64 ": %s", row->event,
                              homing_store_errmsg(s));
                break;
            }
            struct homing_verdict_input in = {
                .event = ev,
                .registered_us = ctx.registered_us,
                .delivered_us = delivered_at(ev, &ctx),
                .others = ctx.events,
                .n_others = ctx.n,
            };
            struct homing_enrichment x;
            int old_v = homing_verdict_parse(row->verdict);
            r = homing_reader_enrich(rd, &in, &x);
            if (r == 0) r = homing_store_enrichment_redo(row, &x, ev);
            homing_events_free(owned, owned ? 1 : 0);
            if (r < 0) {
                rc = cli_fail("cannot recompute event %" PRId64 ": %s", row->event, strerror(-r));
                break;
            }
            int new_v = homing_verdict_parse(row->verdict);
            if (old_v >= 0 && new_v >= 0 && old_v != new_v) {
                changes[old_v][new_v]++;
                changed++;
            }
            if (r == 0) continue;
            /* Compacted in place: rows[0..out) are the rewritten ones. */
            struct homing_store_enrichment *w = &rows[out++];
            if (w != row) {
                free(w->json);
                *w = *row;
                row->json = NULL;
            }
        }
        if (rc == CLI_OK && !dry && out && homing_store_enrichments_rewrite(s, rows, out) < 0)
            rc = cli_fail("cannot rewrite verdicts: %s", homing_store_errmsg(s));
        homing_store_enrichments_free(rows, n);
        if (rc != CLI_OK || n < RECLASSIFY_PAGE) break;
    }
    ctx_clear(&ctx);
    homing_reader_free(rd);
    if (rc != CLI_OK) return rc;
    printf("reclassify: %" PRId64 " verdicts recomputed with rules version %d: %" PRId64
           " changed%s\n",
           seen, HOMING_VERDICT_RULES_VERSION, changed, dry ? " (dry run: nothing written)" : "");
    for (int a = 0; a < HOMING_VERDICT_COUNT; a++)
        for (int b = 0; b < HOMING_VERDICT_COUNT; b++)
            if (changes[a][b])
                printf("  %s -> %s: %" PRId64 "\n", homing_verdict_name((unsigned)a),
                       homing_verdict_name((unsigned)b), changes[a][b]);
    if (missing) printf("  %" PRId64 " enrichments without their event\n", missing);
    return CLI_OK;
}
