/*
 * metrics.c: Prometheus rendering of struct metrics. Histograms are cumulative
 * at render time only, so observing is one relaxed increment per bucket.
 */
#include <errno.h>

#include "metrics.h"
#include "thread.h"

static const unsigned batch_bounds[METRICS_BATCH_BUCKETS] = {1, 4, 16, 64, 256, 1024, 4096, 16384};
static const unsigned latency_bounds_us[METRICS_LATENCY_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000};

void metrics_observe_batch(struct metrics *m, size_t size, int64_t commit_us)
{
    int b = 0;
    while (b < METRICS_BATCH_BUCKETS && size > batch_bounds[b]) b++;
    atomic_fetch_add_explicit(&m->batch_count[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->batch_sum, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->batches, 1, memory_order_relaxed);
    int l = 0;
    while (l < METRICS_LATENCY_BUCKETS && commit_us > latency_bounds_us[l]) l++;
    atomic_fetch_add_explicit(&m->commit_us_count[l], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->commit_us_sum, (unsigned long long)commit_us,
                              memory_order_relaxed);
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

int metrics_render(struct metrics *m, struct homing_buf *out)
{
    static const char *kinds[METRICS_HIT_KINDS] = {"open", "click", "document", "unsubscribe"};
    int r = 0;
    r |= homing_buf_puts(out, "# HELP homing_hits_total Tracking hits recorded, by kind.\n"
                              "# TYPE homing_hits_total counter\n");
    for (int k = 0; k < METRICS_HIT_KINDS; k++)
        r |= homing_buf_printf(out, "homing_hits_total{kind=\"%s\"} %llu\n", kinds[k],
                               LOAD(m->hits[k]));
    r |= homing_buf_puts(out, "# HELP homing_invalid_tokens_total Requests whose token did not "
                              "verify, by route.\n# TYPE homing_invalid_tokens_total counter\n");
    for (int k = 0; k < METRICS_HIT_KINDS; k++)
        r |= homing_buf_printf(out, "homing_invalid_tokens_total{kind=\"%s\"} %llu\n", kinds[k],
                               LOAD(m->invalid[k]));
    r |= homing_buf_printf(
        out,
        "# HELP homing_hits_suppressed_total Hits answered but not recorded (flood control).\n"
        "# TYPE homing_hits_suppressed_total counter\nhoming_hits_suppressed_total %llu\n"
        "# HELP homing_redirects_refused_total Clicks answered 404 because the stored "
        "destination is not a valid one (a control character, ...): never written into a "
        "Location header, not recorded.\n"
        "# TYPE homing_redirects_refused_total counter\nhoming_redirects_refused_total %llu\n"
        "# HELP homing_demo_hits_total Fetches of the example pixel homing serve prints: "
        "answered, never recorded.\n"
        "# TYPE homing_demo_hits_total counter\nhoming_demo_hits_total %llu\n"
        "# HELP homing_store_errors_total Hits that could not be journaled or stored.\n"
        "# TYPE homing_store_errors_total counter\nhoming_store_errors_total %llu\n"
        "# HELP homing_queue_depth Hits journaled and answered, not yet in the store.\n"
        "# TYPE homing_queue_depth gauge\nhoming_queue_depth %lld\n"
        "# HELP homing_background_idle 1 while a loop thread is busy and the background "
        "threads (storing, enrichment, notifications) run only on idle CPU.\n"
        "# TYPE homing_background_idle gauge\nhoming_background_idle %d\n"
        "# HELP homing_background_raises_total Times a writer waited for the store's lock "
        "and raised the background threads to normal priority.\n"
        "# TYPE homing_background_raises_total counter\nhoming_background_raises_total %llu\n"
        "# HELP homing_api_requests_total Admin API requests.\n"
        "# TYPE homing_api_requests_total counter\nhoming_api_requests_total %llu\n"
        "# HELP homing_api_unauthorized_total Admin API requests refused with 401.\n"
        "# TYPE homing_api_unauthorized_total counter\nhoming_api_unauthorized_total %llu\n",
        LOAD(m->suppressed), LOAD(m->redirects_refused), LOAD(m->demo_hits), LOAD(m->store_errors),
        LOAD(m->queue_depth), atomic_load(&m->background_idle), thread_raises(),
        LOAD(m->api_requests), LOAD(m->api_unauthorized));

    r |= homing_buf_printf(
        out,
        "# HELP homing_connections_open Connections open on the public listener.\n"
        "# TYPE homing_connections_open gauge\nhoming_connections_open %lld\n"
        "# HELP homing_connections_max The caps on public connections (0: none): "
        "public.max_connections and public.max_connections_per_client.\n"
        "# TYPE homing_connections_max gauge\nhoming_connections_max{scope=\"total\"} %u\n"
        "homing_connections_max{scope=\"per_client\"} %u\n"
        "# HELP homing_connections_refused_total Public connections closed at accept, over "
        "a cap.\n# TYPE homing_connections_refused_total counter\n"
        "homing_connections_refused_total{reason=\"per_client\"} %llu\n"
        "homing_connections_refused_total{reason=\"total\"} %llu\n"
        "# HELP homing_accept_fd_limit_total Times a listener stopped accepting for a while: "
        "the process was out of file descriptors.\n"
        "# TYPE homing_accept_fd_limit_total counter\nhoming_accept_fd_limit_total %llu\n"
        "# HELP homing_bad_framing_total Public requests refused with 400 for conflicting "
        "Content-Length / Transfer-Encoding fields or a folded field line.\n"
        "# TYPE homing_bad_framing_total counter\nhoming_bad_framing_total %llu\n",
        LOAD(m->conn_open), m->conn_max, m->conn_max_per_client, LOAD(m->conn_refused[0]),
        LOAD(m->conn_refused[1]), LOAD(m->accept_fd_limit), LOAD(m->bad_framing));

    r |= homing_buf_printf(out,
                           "# HELP homing_leader 1 while this node runs the background work "
                           "(enrichment, notifications, webhook deliveries, privacy sweeps) "
                           "of the nodes sharing its store.\n# TYPE homing_leader gauge\n"
                           "homing_leader %d\n",
                           atomic_load(&m->leader));
    r |= homing_buf_printf(out,
                           "# HELP homing_reloads_total SIGHUPs handled (keys, TLS certificate, "
                           "data files reloaded).\n# TYPE homing_reloads_total counter\n"
                           "homing_reloads_total %llu\n",
                           LOAD(m->reloads));

    r |= homing_buf_puts(
        out, "# HELP homing_batch_size Journaled events moved into the store per ingester pass.\n"
             "# TYPE homing_batch_size histogram\n");
    unsigned long long cum = 0;
    for (int b = 0; b < METRICS_BATCH_BUCKETS; b++) {
        cum += LOAD(m->batch_count[b]);
        r |= homing_buf_printf(out, "homing_batch_size_bucket{le=\"%u\"} %llu\n", batch_bounds[b],
                               cum);
    }
    cum += LOAD(m->batch_count[METRICS_BATCH_BUCKETS]);
    r |= homing_buf_printf(out,
                           "homing_batch_size_bucket{le=\"+Inf\"} %llu\n"
                           "homing_batch_size_sum %llu\nhoming_batch_size_count %llu\n",
                           cum, LOAD(m->batch_sum), LOAD(m->batches));

    r |= homing_buf_puts(out, "# HELP homing_commit_seconds Time to commit one batch.\n"
                              "# TYPE homing_commit_seconds histogram\n");
    cum = 0;
    for (int l = 0; l < METRICS_LATENCY_BUCKETS; l++) {
        cum += LOAD(m->commit_us_count[l]);
        r |= homing_buf_printf(out, "homing_commit_seconds_bucket{le=\"%g\"} %llu\n",
                               latency_bounds_us[l] / 1e6, cum);
    }
    cum += LOAD(m->commit_us_count[METRICS_LATENCY_BUCKETS]);
    r |= homing_buf_printf(out,
                           "homing_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
                           "homing_commit_seconds_sum %.6f\nhoming_commit_seconds_count %llu\n",
                           cum, LOAD(m->commit_us_sum) / 1e6, LOAD(m->batches));
    return r ? -E2BIG : 0;
}
