/* metrics: shared-memory counters and their JSON / Prometheus renderings. */
#include "metrics.h"

#include <stdio.h>
#include <sys/mman.h>

#include "util.h"

metrics *metrics_create(void) {
    void *p =
        mmap(NULL, sizeof(metrics), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    metrics *m = p; /* fresh anonymous pages are zero */
    m->start_us = util_now_us();
    return m;
}

void metrics_destroy(metrics *m) {
    if (m)
        munmap(m, sizeof *m);
}

void metrics_add(_Atomic uint64_t *counter, int64_t delta) {
    atomic_fetch_add_explicit(counter, (uint64_t)delta, memory_order_relaxed);
}

static unsigned my_slot; /* per process: set once in a prefork worker after fork() */

static _Atomic uint64_t *gauge_total(metrics *m, metrics_gauge g) {
    return g == GAUGE_OPEN           ? &m->open
           : g == GAUGE_IN_FLIGHT    ? &m->in_flight
           : g == GAUGE_TLS_OPEN     ? &m->tls_open
           : g == GAUGE_PG_OPEN      ? &m->pg_open
           : g == GAUGE_PG_IN_FLIGHT ? &m->pg_in_flight
                                     : &m->body_memory;
}

void metrics_gauge_add(metrics *m, metrics_gauge g, int64_t delta) {
    metrics_add(gauge_total(m, g), delta);
    metrics_add(&m->slot_gauge[my_slot][g], delta);
}

int metrics_gauge_take(metrics *m, metrics_gauge g, uint64_t n, uint64_t limit) {
    _Atomic uint64_t *total = gauge_total(m, g);
    uint64_t cur = atomic_load_explicit(total, memory_order_relaxed);
    do {
        if (limit && (n > limit || cur > limit - n))
            return -1;
    } while (!atomic_compare_exchange_weak_explicit(total, &cur, cur + n, memory_order_relaxed,
                                                    memory_order_relaxed));
    metrics_add(&m->slot_gauge[my_slot][g], (int64_t)n);
    return 0;
}

void metrics_set_slot(unsigned slot) {
    my_slot = slot < METRICS_SLOTS ? slot : 0;
}

void metrics_release_slot(metrics *m, unsigned slot) {
    if (slot >= METRICS_SLOTS)
        return;
    for (int g = 0; g < GAUGE_COUNT; g++) {
        uint64_t left = atomic_exchange(&m->slot_gauge[slot][g], 0);
        metrics_add(gauge_total(m, (metrics_gauge)g), -(int64_t)left);
    }
}

void metrics_count_response(metrics *m, page_id page, int status) {
    if (status < METRICS_STATUS_MIN || status >= METRICS_STATUS_MIN + METRICS_STATUS_SLOTS ||
        (unsigned)page >= PAGE_COUNT)
        return;
    metrics_add(&m->by_page_status[page][status - METRICS_STATUS_MIN], 1);
    metrics_add(&m->requests, 1);
}

static uint64_t get(const _Atomic uint64_t *c) {
    return atomic_load_explicit(c, memory_order_relaxed);
}

static const char *const pg_fail_names[PG_FAIL_COUNT] = {"connect", "full", "gone", "timeout",
                                                         "error"};

/* Appends "postgres":{...}, (a trailing comma) when --db is set: nothing
 * otherwise, so a simulated database shows no PostgreSQL counters. */
static void pg_json(const metrics *m, const config *cfg, buf *out) {
    if (!cfg->db[0])
        return;
    buf_printf(out,
               "\"postgres\":{\"timeout_ms\":%u,\"queries\":{\"sent\":%llu,\"answered\":%llu,"
               "\"failed\":{",
               cfg->db_timeout_ms, (unsigned long long)get(&m->pg_sent),
               (unsigned long long)get(&m->pg_answered));
    for (int i = 0; i < PG_FAIL_COUNT; i++)
        buf_printf(out, "%s\"%s\":%llu", i ? "," : "", pg_fail_names[i],
                   (unsigned long long)get(&m->pg_failed[i]));
    buf_printf(out,
               "},\"cancelled\":%llu,\"in_flight\":%llu},\"connections\":{\"open\":%llu,"
               "\"made\":%llu,\"backoffs\":%llu}},",
               (unsigned long long)get(&m->pg_cancelled), (unsigned long long)get(&m->pg_in_flight),
               (unsigned long long)get(&m->pg_open), (unsigned long long)get(&m->pg_connects),
               (unsigned long long)get(&m->pg_backoffs));
}

/* Appends the PostgreSQL counters in Prometheus' text format (--db only). */
static void pg_prometheus(const metrics *m, const config *cfg, buf *out) {
    if (!cfg->db[0])
        return;
    buf_printf(out,
               "# HELP httpmodes_postgres_queries_total Queries started on PostgreSQL (--db).\n"
               "# TYPE httpmodes_postgres_queries_total counter\n"
               "httpmodes_postgres_queries_total %llu\n"
               "# HELP httpmodes_postgres_queries_answered_total Of those, answered with their "
               "row.\n"
               "# TYPE httpmodes_postgres_queries_answered_total counter\n"
               "httpmodes_postgres_queries_answered_total %llu\n"
               "# HELP httpmodes_postgres_queries_failed_total Of those, failed (a 503), by "
               "reason.\n"
               "# TYPE httpmodes_postgres_queries_failed_total counter\n",
               (unsigned long long)get(&m->pg_sent), (unsigned long long)get(&m->pg_answered));
    for (int i = 0; i < PG_FAIL_COUNT; i++)
        buf_printf(out, "httpmodes_postgres_queries_failed_total{reason=\"%s\"} %llu\n",
                   pg_fail_names[i], (unsigned long long)get(&m->pg_failed[i]));
    buf_printf(out,
               "# HELP httpmodes_postgres_queries_cancelled_total Of those, dropped because "
               "their request went away.\n"
               "# TYPE httpmodes_postgres_queries_cancelled_total counter\n"
               "httpmodes_postgres_queries_cancelled_total %llu\n"
               "# HELP httpmodes_postgres_queries_in_flight Queries under way on PostgreSQL "
               "now.\n"
               "# TYPE httpmodes_postgres_queries_in_flight gauge\n"
               "httpmodes_postgres_queries_in_flight %llu\n"
               "# HELP httpmodes_postgres_connects_total Connections to PostgreSQL made.\n"
               "# TYPE httpmodes_postgres_connects_total counter\n"
               "httpmodes_postgres_connects_total %llu\n"
               "# HELP httpmodes_postgres_backoffs_total Connects that failed, each starting "
               "or doubling a back-off.\n"
               "# TYPE httpmodes_postgres_backoffs_total counter\n"
               "httpmodes_postgres_backoffs_total %llu\n"
               "# HELP httpmodes_postgres_connections_open Connections to PostgreSQL open now.\n"
               "# TYPE httpmodes_postgres_connections_open gauge\n"
               "httpmodes_postgres_connections_open %llu\n"
               "# HELP httpmodes_postgres_timeout_seconds --db-timeout.\n"
               "# TYPE httpmodes_postgres_timeout_seconds gauge\n"
               "httpmodes_postgres_timeout_seconds %.3f\n",
               (unsigned long long)get(&m->pg_cancelled), (unsigned long long)get(&m->pg_in_flight),
               (unsigned long long)get(&m->pg_connects), (unsigned long long)get(&m->pg_backoffs),
               (unsigned long long)get(&m->pg_open), (double)cfg->db_timeout_ms / 1000.0);
}

void metrics_render_json(const metrics *m, const config *cfg, buf *out) {
    uint64_t now = util_now_us();
    if (cfg->name[0]) /* --name (letters, digits, . _ - only: nothing to escape) */
        buf_printf(out, "{\"name\":\"%s\",", cfg->name);
    else
        buf_puts(out, "{\"name\":null,");
    buf_printf(
        out,
        "\"mode\":\"%s\",\"uptime_s\":%.3f,\"workers\":%u,\"cpus\":%u,\"keep_alive\":%s,"
        "\"connections\":{\"accepted\":%llu,\"open\":%llu,\"accept_errors\":%llu,"
        "\"refused\":%llu},\"body_memory\":{\"bytes\":%llu,\"limit\":%llu,\"refused\":%llu},"
        "\"tls\":{\"accepted\":%llu,\"open\":%llu,\"handshakes\":%llu,\"resumed\":%llu,"
        "\"failures\":%llu},"
        "\"in_flight\":%llu,\"worker_restarts\":%llu,\"reloads\":%llu,\"send_timeouts\":%llu,"
        "\"db\":{\"queries\":%llu,\"wait_us\":%llu},\"cpu\":{\"iterations\":%llu},",
        config_mode_name(cfg->mode), (double)(now - m->start_us) / 1e6, cfg->workers, config_cpus(),
        cfg->keep_alive ? "true" : "false", (unsigned long long)get(&m->accepted),
        (unsigned long long)get(&m->open), (unsigned long long)get(&m->accept_errors),
        (unsigned long long)get(&m->refused_conns), (unsigned long long)get(&m->body_memory),
        (unsigned long long)cfg->max_body_memory, (unsigned long long)get(&m->refused_bodies),
        (unsigned long long)get(&m->tls_accepted), (unsigned long long)get(&m->tls_open),
        (unsigned long long)get(&m->tls_handshakes), (unsigned long long)get(&m->tls_resumed),
        (unsigned long long)get(&m->tls_failures), (unsigned long long)get(&m->in_flight),
        (unsigned long long)get(&m->worker_restarts), (unsigned long long)get(&m->reloads),
        (unsigned long long)get(&m->send_timeouts), (unsigned long long)get(&m->db_queries),
        (unsigned long long)get(&m->db_wait_us), (unsigned long long)get(&m->cpu_iterations));
    pg_json(m, cfg, out);
    buf_printf(out, "\"requests\":{\"total\":%llu,\"by_page\":{",
               (unsigned long long)get(&m->requests));
    uint64_t by_status[METRICS_STATUS_SLOTS] = {0};
    int first_page = 1;
    for (int p = 0; p < PAGE_COUNT; p++) {
        int first = 1;
        for (int s = 0; s < METRICS_STATUS_SLOTS; s++) {
            uint64_t n = get(&m->by_page_status[p][s]);
            if (!n)
                continue;
            by_status[s] += n;
            if (first)
                buf_printf(out, "%s\"%s\":{", first_page ? "" : ",", route_page_name((page_id)p));
            buf_printf(out, "%s\"%d\":%llu", first ? "" : ",", s + METRICS_STATUS_MIN,
                       (unsigned long long)n);
            first = first_page = 0;
        }
        if (!first)
            buf_puts(out, "}");
    }
    buf_puts(out, "},\"by_status\":{");
    int first = 1;
    for (int s = 0; s < METRICS_STATUS_SLOTS; s++) {
        if (!by_status[s])
            continue;
        buf_printf(out, "%s\"%d\":%llu", first ? "" : ",", s + METRICS_STATUS_MIN,
                   (unsigned long long)by_status[s]);
        first = 0;
    }
    buf_puts(out, "}}}\n");
}

void metrics_render_prometheus(const metrics *m, const config *cfg, buf *out) {
    uint64_t now = util_now_us();
    buf_printf(
        out,
        "# HELP httpmodes_info Server version and concurrency mode.\n"
        "# TYPE httpmodes_info gauge\n"
        "httpmodes_info{version=\"%s\",mode=\"%s\"} 1\n"
        "# HELP httpmodes_uptime_seconds Seconds since the server started.\n"
        "# TYPE httpmodes_uptime_seconds gauge\n"
        "httpmodes_uptime_seconds %.3f\n"
        "# HELP httpmodes_workers The pool's size (prefork, pool, reactors) or 1.\n"
        "# TYPE httpmodes_workers gauge\n"
        "httpmodes_workers %u\n"
        "# HELP httpmodes_connections_accepted_total Connections accepted.\n"
        "# TYPE httpmodes_connections_accepted_total counter\n"
        "httpmodes_connections_accepted_total %llu\n"
        "# HELP httpmodes_connections_open Connections open now.\n"
        "# TYPE httpmodes_connections_open gauge\n"
        "httpmodes_connections_open %llu\n"
        "# HELP httpmodes_accept_errors_total accept() failures for lack of descriptors or "
        "memory.\n"
        "# TYPE httpmodes_accept_errors_total counter\n"
        "httpmodes_accept_errors_total %llu\n"
        "# HELP httpmodes_connections_refused_total Connections answered 503 over "
        "--max-connections.\n"
        "# TYPE httpmodes_connections_refused_total counter\n"
        "httpmodes_connections_refused_total %llu\n"
        "# HELP httpmodes_body_memory_bytes Bytes of request bodies held now (server-wide).\n"
        "# TYPE httpmodes_body_memory_bytes gauge\n"
        "httpmodes_body_memory_bytes %llu\n"
        "# HELP httpmodes_bodies_refused_total Request bodies answered 503 for lack of memory "
        "(--max-body-memory).\n"
        "# TYPE httpmodes_bodies_refused_total counter\n"
        "httpmodes_bodies_refused_total %llu\n"
        "# HELP httpmodes_tls_connections_accepted_total Connections accepted on the HTTPS port.\n"
        "# TYPE httpmodes_tls_connections_accepted_total counter\n"
        "httpmodes_tls_connections_accepted_total %llu\n"
        "# HELP httpmodes_tls_connections_open HTTPS connections open now.\n"
        "# TYPE httpmodes_tls_connections_open gauge\n"
        "httpmodes_tls_connections_open %llu\n"
        "# HELP httpmodes_tls_handshakes_total TLS handshakes completed, by kind.\n"
        "# TYPE httpmodes_tls_handshakes_total counter\n"
        "httpmodes_tls_handshakes_total{kind=\"full\"} %llu\n"
        "httpmodes_tls_handshakes_total{kind=\"resumed\"} %llu\n"
        "# HELP httpmodes_tls_handshake_failures_total TLS handshakes that failed or timed out.\n"
        "# TYPE httpmodes_tls_handshake_failures_total counter\n"
        "httpmodes_tls_handshake_failures_total %llu\n"
        "# HELP httpmodes_requests_in_flight Requests being handled now.\n"
        "# TYPE httpmodes_requests_in_flight gauge\n"
        "httpmodes_requests_in_flight %llu\n"
        "# HELP httpmodes_worker_restarts_total Prefork workers restarted after dying.\n"
        "# TYPE httpmodes_worker_restarts_total counter\n"
        "httpmodes_worker_restarts_total %llu\n"
        "# HELP httpmodes_reloads_total SIGHUPs acted on (files re-read, or workers replaced).\n"
        "# TYPE httpmodes_reloads_total counter\n"
        "httpmodes_reloads_total %llu\n"
        "# HELP httpmodes_send_timeouts_total Responses cut because the client read too slowly.\n"
        "# TYPE httpmodes_send_timeouts_total counter\n"
        "httpmodes_send_timeouts_total %llu\n"
        "# HELP httpmodes_db_queries_total Simulated database queries completed.\n"
        "# TYPE httpmodes_db_queries_total counter\n"
        "httpmodes_db_queries_total %llu\n"
        "# HELP httpmodes_db_wait_seconds_total Time requests spent waiting on the database.\n"
        "# TYPE httpmodes_db_wait_seconds_total counter\n"
        "httpmodes_db_wait_seconds_total %.6f\n"
        "# HELP httpmodes_cpu_iterations_total PBKDF2 iterations computed by /cpu.\n"
        "# TYPE httpmodes_cpu_iterations_total counter\n"
        "httpmodes_cpu_iterations_total %llu\n"
        "# HELP httpmodes_requests_total Responses sent, by page and status.\n"
        "# TYPE httpmodes_requests_total counter\n",
        HTTPMODES_VERSION, config_mode_name(cfg->mode), (double)(now - m->start_us) / 1e6,
        cfg->workers, (unsigned long long)get(&m->accepted), (unsigned long long)get(&m->open),
        (unsigned long long)get(&m->accept_errors), (unsigned long long)get(&m->refused_conns),
        (unsigned long long)get(&m->body_memory), (unsigned long long)get(&m->refused_bodies),
        (unsigned long long)get(&m->tls_accepted), (unsigned long long)get(&m->tls_open),
        (unsigned long long)(get(&m->tls_handshakes) - get(&m->tls_resumed)),
        (unsigned long long)get(&m->tls_resumed), (unsigned long long)get(&m->tls_failures),
        (unsigned long long)get(&m->in_flight), (unsigned long long)get(&m->worker_restarts),
        (unsigned long long)get(&m->reloads), (unsigned long long)get(&m->send_timeouts),
        (unsigned long long)get(&m->db_queries), (double)get(&m->db_wait_us) / 1e6,
        (unsigned long long)get(&m->cpu_iterations));
    for (int p = 0; p < PAGE_COUNT; p++)
        for (int s = 0; s < METRICS_STATUS_SLOTS; s++) {
            uint64_t n = get(&m->by_page_status[p][s]);
            if (n)
                buf_printf(out, "httpmodes_requests_total{page=\"%s\",status=\"%d\"} %llu\n",
                           route_page_name((page_id)p), s + METRICS_STATUS_MIN,
                           (unsigned long long)n);
        }
    pg_prometheus(m, cfg, out);
}
