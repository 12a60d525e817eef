/*
 * stats.c: the figures of a campaign or a message as JSON, the one shape the
 * API, `homing stats --json` and the dashboard show, with each rate's
 * definition written beside it (docs/reports.md, "Campaigns and rates").
 *
 * Contract: see homing/service.h. Text from the store (campaign names, link
 * URLs, bounce reasons) goes out through jansson, which escapes it; a
 * terminal or HTML writer escapes again for where it goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homing/service.h"
#include "homing/util.h"

static json_t *count_json(const struct homing_stats_count *c)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "human", (json_int_t)c->human, "machine",
                     (json_int_t)c->machine, "unknown", (json_int_t)c->unknown, "all",
                     (json_int_t)c->all);
}

/* num / den, or null when there is nothing to divide by. */
static json_t *ratio(int64_t num, int64_t den)
{
    return den > 0 ? json_real((double)num / (double)den) : json_null();
}

static json_t *rate_json(const char *definition, const struct homing_stats_count *num, int64_t den)
{
    return json_pack("{s:s, s:o, s:o, s:o}", "definition", definition, "human",
                     ratio(num->human, den), "machine", ratio(num->machine, den), "all",
                     ratio(num->all, den));
}

/* A rate of recipients' states, which have no class: "all" only. */
static json_t *state_rate_json(const char *definition, int64_t num, int64_t den)
{
    return json_pack("{s:s, s:n, s:n, s:o}", "definition", definition, "human", "machine", "all",
                     ratio(num, den));
}

int64_t homing_stats_delivered(const struct homing_stats *st)
{
    /* A read receipt or a complaint came from a delivered copy. */
    return st->delivered + st->read + st->complained;
}

json_t *homing_stats_json(const struct homing_stats *st)
{
    json_t *o = json_object();
    if (!o) return NULL;
    int64_t delivered = homing_stats_delivered(st);
    json_object_set_new(o, "messages", json_integer(st->messages));
    json_object_set_new(o, "recipients", json_integer(st->recipients));
    json_object_set_new(
        o, "states",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "registered",
                  (json_int_t)st->registered, "sent", (json_int_t)st->sent, "delayed",
                  (json_int_t)st->delayed, "delivered", (json_int_t)st->delivered, "read",
                  (json_int_t)st->read, "rejected", (json_int_t)st->rejected, "bounced",
                  (json_int_t)st->bounced, "complained", (json_int_t)st->complained));
    json_object_set_new(o, "delivered", json_integer(delivered));
    json_object_set_new(o, "opens", count_json(&st->opens));
    json_object_set_new(o, "openers", count_json(&st->openers));
    json_object_set_new(o, "clicks", count_json(&st->clicks));
    json_object_set_new(o, "clickers", count_json(&st->clickers));
    json_object_set_new(o, "document_opens", count_json(&st->documents));
    json_object_set_new(o, "readers", json_integer(st->readers));
    json_object_set_new(o, "possible_forwards", json_integer(st->possible_forwards));
    json_object_set_new(o, "complaints", json_integer(st->complaints));
    json_object_set_new(o, "autoreplies", json_integer(st->autoreplies));
    json_object_set_new(o, "read_receipts", json_integer(st->read_receipts));
    /* Unsubscribes arrive with the relay's one-click links (docs/reports.md). */
    json_object_set_new(o, "unsubscribes", json_integer(0));

    json_t *reasons = json_array();
    int64_t hard = 0, soft = 0;
    for (size_t i = 0; i < st->n_reasons; i++) {
        const struct homing_stats_reason *x = &st->reasons[i];
        hard += x->hard;
        soft += x->soft;
        json_array_append_new(reasons, json_pack("{s:s, s:I, s:I}", "reason",
                                                 x->reason[0] ? x->reason : "unknown", "hard",
                                                 (json_int_t)x->hard, "soft", (json_int_t)x->soft));
    }
    json_object_set_new(o, "bounces",
                        json_pack("{s:I, s:I, s:o}", "hard", (json_int_t)hard, "soft",
                                  (json_int_t)soft, "by_reason", reasons));

    json_t *links = json_array();
    for (size_t i = 0; i < st->n_links; i++) {
        const struct homing_stats_link *l = &st->links[i];
        char id[HOMING_ID_STR_MAX];
        homing_id_format(l->message, id);
        json_array_append_new(links, json_pack("{s:s, s:I, s:s, s:o, s:o}", "message", id, "link",
                                               (json_int_t)l->link, "url", l->url, "clicks",
                                               count_json(&l->clicks), "clickers",
                                               count_json(&l->clickers)));
    }
    json_object_set_new(o, "links", links);

    /* Rates: unique recipients over the base each definition names. */
    json_t *rates = json_object();
    json_object_set_new(rates, "delivery",
                        state_rate_json("delivered / recipients", delivered, st->recipients));
    json_object_set_new(rates, "bounce",
                        state_rate_json("bounced / recipients", st->bounced, st->recipients));
    json_object_set_new(rates, "open",
                        rate_json("unique openers / delivered", &st->openers, delivered));
    json_object_set_new(rates, "open_of_recipients",
                        rate_json("unique openers / recipients", &st->openers, st->recipients));
    json_object_set_new(rates, "click",
                        rate_json("unique clickers / delivered", &st->clickers, delivered));
    json_object_set_new(rates, "click_to_open",
                        json_pack("{s:s, s:o, s:o, s:o}", "definition",
                                  "unique clickers / unique openers, per class", "human",
                                  ratio(st->clickers.human, st->openers.human), "machine",
                                  ratio(st->clickers.machine, st->openers.machine), "all",
                                  ratio(st->clickers.all, st->openers.all)));
    json_object_set_new(rates, "complaint",
                        state_rate_json("complained / delivered", st->complained, delivered));
    json_object_set_new(o, "rates", rates);
    return o;
}

json_t *homing_stats_series_json(const struct homing_stats_point *p, size_t n, int64_t bucket_us)
{
    json_t *arr = json_array();
    if (!arr) return NULL;
    for (size_t i = 0; i < n; i++) {
        char t[HOMING_TIME_STR_MAX];
        homing_time_format(p[i].t_us, t);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I}", "t", t, "kind", p[i].kind,
                                             "class", p[i].cls[0] ? p[i].cls : "delivery", "count",
                                             (json_int_t)p[i].count));
    }
    return json_pack("{s:s, s:o}", "bucket", bucket_us >= 86400000000LL ? "day" : "hour", "points",
                     arr);
}

/* ---- the query string of GET /api/v1/messages and /stats ---- */

int homing_message_query_parse(const char *qs, size_t n, struct homing_message_query *q,
                               struct homing_query_text *text, char *err, size_t errcap)
{
    *q = (struct homing_message_query){.limit = HOMING_QUERY_LIMIT_DEFAULT};
    *text = (struct homing_query_text){0};
    if (n > HOMING_QUERY_MAX) {
        if (err) snprintf(err, errcap, "query string longer than %d bytes", HOMING_QUERY_MAX);
        return -E2BIG;
    }
    size_t i = 0;
    while (i < n) {
        size_t amp = i;
        while (amp < n && qs[amp] != '&') amp++;
        if (amp == i) { /* "&&" or a trailing '&' */
            i++;
            continue;
        }
        size_t eq = i;
        while (eq < amp && qs[eq] != '=') eq++;
        char key[32], val[HOMING_QUERY_MAX + 1];
        int r =
            eq - i < sizeof key - 1 ? homing_pct_decode(qs + i, eq - i, key, sizeof key) : -E2BIG;
        if (r == 0)
            r = homing_pct_decode(qs + eq + (eq < amp), amp - eq - (eq < amp), val, sizeof val);
        i = amp + 1;
        if (r < 0) {
            if (err) snprintf(err, errcap, "a parameter is not well percent-encoded");
            return -EINVAL;
        }
        const char *bad = NULL;
        if (strcmp(key, "campaign") == 0) {
            if (val[0] && !homing_campaign_ok(val))
                bad = "campaign: 1 to 200 bytes of UTF-8 without controls, or empty for none";
            homing_strlcpy(text->campaign, val, sizeof text->campaign);
            q->campaign = text->campaign;
        } else if (strcmp(key, "message") == 0) {
            if (homing_id_parse(val, &q->message) < 0 || q->message == 0)
                bad = "message: a public id of 16 hex digits";
        } else if (strcmp(key, "since") == 0 || strcmp(key, "until") == 0) {
            int64_t t;
            if (homing_time_parse(val, &t) < 0)
                bad = "since and until: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.ffffff]Z";
            else if (key[0] == 's')
                q->since_us = t;
            else
                q->until_us = t;
        } else if (strcmp(key, "state") == 0) {
            static const char *const states[] = {"registered", "sent",     "delayed", "delivered",
                                                 "read",       "rejected", "bounced", "complained"};
            bad = "state: registered, sent, delayed, delivered, read, rejected, bounced or "
                  "complained";
            for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
                if (strcmp(val, states[k]) == 0) {
                    q->state = states[k];
                    bad = NULL;
                }
        } else if (strcmp(key, "limit") == 0) {
            char *end;
            long long v = strtoll(val, &end, 10);
            if (!val[0] || *end || v < 1 || v > HOMING_MESSAGE_PAGE_MAX)
                bad = "limit: 1 to 1000";
            else
                q->limit = (size_t)v;
        } else if (strcmp(key, "cursor") == 0) {
            /* the "next" of the page before: CREATED_US-ID (hex) */
            char *dash = strchr(val, '-'), *end;
            long long t = dash ? strtoll(val, &end, 10) : -1;
            if (!dash || end != dash || t <= 0 || homing_id_parse(dash + 1, &q->after_id) < 0)
                bad = "cursor: the next value of the page before";
            else
                q->after_us = t;
        } else if (strcmp(key, "bucket") == 0) {
            if (strcmp(val, "hour") == 0)
                text->bucket_us = 3600000000LL;
            else if (strcmp(val, "day") == 0)
                text->bucket_us = 86400000000LL;
            else
                bad = "bucket: hour or day";
        } else {
            char k[64];
            homing_str_escape(k, sizeof k, key, strlen(key), 0);
            if (err) snprintf(err, errcap, "unknown parameter %s", k);
            return -EINVAL;
        }
        if (bad) {
            if (err) snprintf(err, errcap, "%s", bad);
            return -EINVAL;
        }
    }
    return 0;
}
