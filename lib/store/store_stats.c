/*
 * store_stats.c: the order of a stats operation (homing_store_stats), for
 * every backend: one read transaction, the messages the filter picks, their
 * states, their counters, readers and reports, bounce reasons and links. A
 * backend gives its SQL and the steps that read rows (struct
 * store_stats_steps, store_int.h), so both backends count the same way.
 *
 * Contract: store_int.h.
 */
#include <stddef.h>
#include <string.h>

#include "homing/store.h"
#include "lib/store/store_int.h"

void store_stats_state_add(struct homing_stats *o, const char *state, int64_t count)
{
    static const struct {
        const char *name;
        size_t off;
    } states[] = {
        {"registered", offsetof(struct homing_stats, registered)},
        {"sent", offsetof(struct homing_stats, sent)},
        {"delayed", offsetof(struct homing_stats, delayed)},
        {"delivered", offsetof(struct homing_stats, delivered)},
        {"read", offsetof(struct homing_stats, read)},
        {"rejected", offsetof(struct homing_stats, rejected)},
        {"bounced", offsetof(struct homing_stats, bounced)},
        {"complained", offsetof(struct homing_stats, complained)},
    };
    o->recipients += count;
    for (size_t i = 0; state && i < sizeof states / sizeof states[0]; i++)
        if (strcmp(state, states[i].name) == 0) *(int64_t *)((char *)o + states[i].off) += count;
}

int store_stats_run(struct homing_store *s, const struct store_stats_steps *st,
                    const struct homing_message_query *q, struct homing_stats *o)
{
    int r = st->begin(s);
    if (r < 0) return r;
    int64_t v[STORE_STATS_N] = {0};
    if ((r = st->row(s, st->sql_messages, q, &o->messages, 1, "counting messages")) < 0 ||
        (r = st->states(s, q, o)) < 0 ||
        (r = st->row(s, st->sql_totals, q, v + STORE_STATS_TOTALS, 20, "counting hits")) < 0 ||
        (r = st->row(s, st->sql_readers, q, v + STORE_STATS_READERS, 2, "counting readers")) < 0 ||
        (r = st->row(s, st->sql_reports, q, v + STORE_STATS_REPORTS, 3, "counting reports")) < 0)
        goto fail;
    store_stats_totals_set(o, v);
    if ((r = st->reasons(s, q, o)) < 0 || (r = st->links(s, q, o)) < 0 || (r = st->commit(s)) < 0)
        goto fail;
    return 0;
fail:
    st->rollback(s);
    homing_stats_clear(o);
    return r;
}
