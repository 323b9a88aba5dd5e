/* metrics: request and connection counters kept in shared memory, so one
 * /stats answer is right across every thread and every prefork worker. */
#ifndef HTTPMODES_METRICS_H
#define HTTPMODES_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "route.h"

#define METRICS_SLOTS 1025 /* slot 0: a single process; 1..1024: prefork workers */

typedef enum {
    GAUGE_OPEN,         /* connections open */
    GAUGE_IN_FLIGHT,    /* requests being handled */
    GAUGE_TLS_OPEN,     /* HTTPS connections open */
    GAUGE_BODY_MEMORY,  /* bytes of request bodies held (the --max-body-memory budget) */
    GAUGE_PG_OPEN,      /* --db: PostgreSQL connections open (connecting, busy or idle) */
    GAUGE_PG_IN_FLIGHT, /* --db: queries started on PostgreSQL and not ended */
    GAUGE_COUNT
} metrics_gauge;

/* Why a PostgreSQL query failed (--db), as /stats counts it. */
typedef enum {
    PG_FAIL_CONNECT, /* no connection: refused, unreachable, or in the back-off after that */
    PG_FAIL_FULL,    /* no connection: max_connections reached ("too many clients") */
    PG_FAIL_GONE,    /* the connection broke mid-query (PostgreSQL stopped, network lost) */
    PG_FAIL_TIMEOUT, /* no answer within --db-timeout (connecting, or past the query's time) */
    PG_FAIL_ERROR,   /* PostgreSQL answered with an error, the connection still good */
    PG_FAIL_COUNT
} metrics_pg_fail;

#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_SLOTS 500 /* codes 100..599 */

typedef struct metrics {
    uint64_t start_us;                /* util_now_us() at creation */
    _Atomic uint64_t accepted;        /* connections accepted */
    _Atomic uint64_t accept_errors;   /* accept() failures for lack of descriptors or memory */
    _Atomic uint64_t accept_log_us;   /* when the last accept failure was logged (rate limit) */
    _Atomic uint64_t open;            /* connections open now */
    _Atomic uint64_t in_flight;       /* requests being handled now */
    _Atomic uint64_t requests;        /* responses finished */
    _Atomic uint64_t db_queries;      /* simulated queries completed */
    _Atomic uint64_t db_wait_us;      /* total time requests spent waiting on them */
    _Atomic uint64_t cpu_iterations;  /* PBKDF2 iterations computed */
    _Atomic uint64_t worker_restarts; /* prefork workers restarted after dying */
    _Atomic uint64_t tls_accepted;    /* connections accepted on the HTTPS port */
    _Atomic uint64_t tls_open;        /* of those, open now */
    _Atomic uint64_t tls_handshakes;  /* TLS handshakes completed */
    _Atomic uint64_t tls_resumed;     /* of those, resumed sessions (no full handshake) */
    _Atomic uint64_t tls_failures;    /* handshakes that failed or timed out */
    _Atomic uint64_t body_memory;     /* bytes of request bodies held now, server-wide */
    _Atomic uint64_t refused_conns;   /* connections answered 503 over --max-connections */
    _Atomic uint64_t refused_bodies; /* bodies answered 503: over --max-body-memory, or no memory */
    _Atomic uint64_t send_timeouts;  /* responses cut: their client read too slowly */
    _Atomic uint64_t reloads;        /* SIGHUPs acted on (re-read, or workers replaced) */
    _Atomic uint64_t pg_sent;        /* --db: queries started on PostgreSQL */
    _Atomic uint64_t pg_answered;    /* of those, answered with their row */
    _Atomic uint64_t pg_failed[PG_FAIL_COUNT]; /* of those, failed (a 503), by why */
    _Atomic uint64_t pg_cancelled; /* of those, dropped because their request went away */
    _Atomic uint64_t pg_in_flight; /* of those, under way now (a gauge) */
    _Atomic uint64_t pg_connects;  /* connections to PostgreSQL made */
    _Atomic uint64_t pg_backoffs;  /* connects that failed, each starting or doubling a back-off */
    _Atomic uint64_t pg_open;      /* connections open now (a gauge) */
    _Atomic uint64_t by_page_status[PAGE_COUNT][METRICS_STATUS_SLOTS]; /* responses */
    _Atomic uint64_t slot_gauge[METRICS_SLOTS][GAUGE_COUNT]; /* open/in_flight per process */
} metrics;

/* Returns zeroed counters in anonymous shared memory (inherited by fork),
 * or NULL if the mapping fails. Free with metrics_destroy(). */
metrics *metrics_create(void);
void metrics_destroy(metrics *m);

/* Adds delta (may be negative for gauges) to a counter, thread- and process-safe. */
void metrics_add(_Atomic uint64_t *counter, int64_t delta);

/* Adds delta to a gauge (open connections, requests in flight): to the
 * total and to this process's slot, so that a prefork worker that dies
 * can be taken out of the totals (metrics_release_slot). */
void metrics_gauge_add(metrics *m, metrics_gauge g, int64_t delta);

/* Adds n to gauge g only if its total stays within limit (0: no limit),
 * atomically across threads and processes: a budget shared by the whole
 * server. Returns 0 when added; -1 (nothing added) when it would not fit. */
int metrics_gauge_take(metrics *m, metrics_gauge g, uint64_t n, uint64_t limit);

/* Sets the slot this process counts its gauges in (0 outside prefork workers). */
void metrics_set_slot(unsigned slot);

/* Takes a dead process's gauges out of the totals and clears its slot. */
void metrics_release_slot(metrics *m, unsigned slot);

/* Counts one finished response. Status codes outside 100..599 are ignored. */
void metrics_count_response(metrics *m, page_id page, int status);

/* Appends the counters as a JSON object / Prometheus text to out. */
void metrics_render_json(const metrics *m, const config *cfg, buf *out);
void metrics_render_prometheus(const metrics *m, const config *cfg, buf *out);

#endif
