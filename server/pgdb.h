/* pgdb: a real PostgreSQL behind the simulated queries (--db). Each query
 * a page asks for becomes "SELECT 1 AS one FROM pg_sleep(seconds)" — the
 * drawn query time spent in a real server, and one real row back.
 *
 * Blocking workers (iterative, threads, prefork, pool, and /db?blocking=1
 * in an event loop) wait in the calling thread, on a connection taken from
 * this process's free list, made when none is free (so one per worker in
 * prefork, at most one per query in flight in threads/pool — --db-pool
 * bounds them): PQsendQuery, then poll() on PQsocket until the answer is
 * in or the deadline has passed (a bounded PQexec). An event loop uses
 * libpq's asynchronous API: PQconnectStartParams/PQconnectPoll and
 * PQsendQuery with PQsocket watched by an ev_io, PQconsumeInput/PQisBusy/
 * PQgetResult when it is readable, an ev_timer for the deadline — one
 * connection per query in flight, idle ones kept in a per-loop free list.
 *
 * Deadlines (--db-timeout): a connect gets that long, a query its own time
 * plus that long; then its connection is closed (never reused) and the
 * query fails. A failed connect (server down, max_connections reached, no
 * answer) starts a back-off (100 ms doubling to 2 s, process-wide): during
 * it new connections are not tried and queries fail at once. Every failure
 * is reported as a one-line reason the driver answers as a 503, and
 * counted in the shared counters (metrics.h: sent, answered, failed by
 * reason, connections open, ...). */
#ifndef HTTPMODES_PGDB_H
#define HTTPMODES_PGDB_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct metrics;

/* Sets the PostgreSQL to use: conninfo is a postgres:// URL or a libpq
 * conninfo string ("" = none: queries stay simulated), timeout_ms the
 * --db-timeout, m the shared counters to count in (borrowed; NULL: none).
 * Call once before any worker starts (the string is copied). Returns 0; -1
 * with a reason in err when this build has no libpq. */
int pgdb_configure(const char *conninfo, unsigned timeout_ms, struct metrics *m, char *err,
                   size_t errlen);

/* Returns 1 when queries go to PostgreSQL. */
int pgdb_enabled(void);

/* Runs one query of us microseconds in the calling thread, which waits
 * (at most --db-timeout for a connect, then us + --db-timeout for the
 * answer). Returns 0; on failure -1 with a one-line reason in why. */
int pgdb_query_blocking(uint64_t us, char *why, size_t whylen);

/* Closes this process's idle blocking connections (at exit). */
void pgdb_shutdown(void);

typedef struct pgdb_loop pgdb_loop;
typedef struct pgdb_q pgdb_q;

/* Called in the loop when query q has finished: why is NULL on success,
 * else a one-line reason (borrowed, valid during the call). q is freed
 * after the call returns. */
typedef void pgdb_done_fn(void *arg, const char *why);

/* Returns the PostgreSQL side of an event loop (its free list). */
pgdb_loop *pgdb_loop_new(struct ev_loop *loop);

/* Closes the loop's idle connections and frees pl (no query may be left). */
void pgdb_loop_free(pgdb_loop *pl);

/* Starts a query of us microseconds without blocking. Returns it — done()
 * is called later, never from inside this call — or NULL with a reason in
 * why when it failed at once (back-off, no memory, a bad conninfo). */
pgdb_q *pgdb_loop_query(pgdb_loop *pl, uint64_t us, pgdb_done_fn *done, void *arg, char *why,
                        size_t whylen);

/* The query's request has gone: stops it and closes its connection
 * (PostgreSQL notices when the sleep ends); done() is not called. Counted
 * as cancelled. */
void pgdb_loop_cancel(pgdb_q *q);

#endif
