/* db: the simulated slow database. A page never waits itself: it returns a
 * db_plan, and the driver carries it out — blocking workers one query after
 * another with db_sleep_us(), the event loop with timers. How long each
 * query takes is drawn from a latency distribution (--db-latency, ?dist=)
 * by db_draw_us(): a pure function of the seed and the query's number, so a
 * run with the same --db-seed sees the same latencies in the same order. */
#ifndef HTTPMODES_DB_H
#define HTTPMODES_DB_H

#include <stddef.h>
#include <stdint.h>

struct config;

typedef enum {
    DB_DIST_FIXED,       /* every query takes the mean */
    DB_DIST_UNIFORM,     /* uniform on [0, 2 x mean] */
    DB_DIST_EXPONENTIAL, /* memoryless: many short, a few very long (p99 = 4.6 x mean) */
    DB_DIST_LOGNORMAL,   /* a real database's long tail: mean and p99 (--db-p99) as given */
    DB_DIST_COUNT
} db_dist;

typedef struct db_plan {
    unsigned batches;   /* steps that depend on each other: run one after another */
    unsigned per_batch; /* independent queries within one step: may run at once */
    unsigned delay_ms;  /* mean time each query takes */
    unsigned blocking;  /* 1: made as a blocking call even in an event loop (/db?blocking=1,
                           the classic mistake): the loop stops for it */
    unsigned kind;      /* the phase_kind the timeline shows the waits as (0: db) */
    unsigned dist;      /* a db_dist: how each query's time is drawn around delay_ms */
} db_plan;

/* The p99/mean ratio lognormal uses without --db-p99. */
#define DB_LOGNORMAL_RATIO 4.0
/* The largest p99/mean ratio a lognormal can have (exp(z99^2 / 2)): past it no
 * lognormal has that mean and that p99. */
#define DB_LOGNORMAL_RATIO_MAX 14.9

/* Returns the db_dist named s[0..n) ("fixed", "uniform", "exponential",
 * "lognormal", case-insensitive), or -1. */
int db_dist_find(const char *s, size_t n);

/* Returns the name of d ("fixed", ...), "?" past the list. */
const char *db_dist_name(unsigned d);

/* Returns the n-th draw (µs) of distribution d with mean mean_us — for
 * lognormal with p99 = p99_ratio x mean (<= 1 or past DB_LOGNORMAL_RATIO_MAX:
 * DB_LOGNORMAL_RATIO) — from the stream of seed, at most cap_us (0: no
 * cap). A pure function: the same arguments give the same answer. */
uint64_t db_latency_us(db_dist d, uint64_t mean_us, double p99_ratio, uint64_t seed, uint64_t n,
                       uint64_t cap_us);

/* Returns how long the n-th query of the server takes (µs) under cfg
 * (--db-seed, --db-p99 for the default --db-delay, at most --max-delay):
 * delay_ms exactly for a wait that is not a query (plan->kind != 0),
 * else drawn from plan->dist. */
uint64_t db_draw_us(const struct config *cfg, const db_plan *plan, uint64_t n);

/* Blocks the calling thread for us microseconds — one simulated query —
 * resuming after signals (EINTR) until the whole time has passed. */
void db_sleep_us(uint64_t us);

/* db_sleep_us(ms x 1000). */
void db_query_blocking(unsigned ms);

#endif
