/* dbpool: the simulated database's connection pool (--db-pool N) — at most
 * N queries in flight across the whole server, the rest waiting in one FIFO
 * queue — kept in anonymous shared memory so that every thread, every
 * prefork process and every event loop takes from the same pool.
 *
 * This module only keeps the state (under a process-shared, robust mutex)
 * and says who must be woken; waiting and waking are the drivers' (server/
 * dbwait.c: a blocking worker sleeps on its queue entry's futex word, an
 * event loop is woken through its eventfd). A query:
 *
 *   dbpool_acquire -> DBPOOL_HELD    run the query, then dbpool_release
 *                  -> DBPOOL_QUEUED  wait until dbpool_check says 1 (woken
 *                                    by whoever released), then the same
 *                  -> DBPOOL_FULL    the queue is full: the request gets 503
 *
 * A connection released while queries wait goes straight to the oldest of
 * them (a hand-off: it is never free in between, so a newcomer cannot jump
 * the queue). With size 0 (--db-pool off) every query is let in at once and
 * only counted. */
#ifndef HTTPMODES_DBPOOL_H
#define HTTPMODES_DBPOOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"

#define DBPOOL_MAX 10000   /* largest --db-pool */
#define DBPOOL_QUEUE 65536 /* queries that may wait at once, server-wide */

typedef struct dbpool dbpool;

typedef enum {
    DBPOOL_NONE,   /* the ticket holds nothing */
    DBPOOL_QUEUED, /* waiting for a connection */
    DBPOOL_HELD,   /* holds a connection: release it when the query ends */
    DBPOOL_FULL    /* dbpool_acquire: the queue is full, nothing held */
} dbpool_state;

/* One query's claim on the pool, kept by the driver (plain memory). */
typedef struct dbpool_ticket {
    uint64_t id;       /* place in the queue (DBPOOL_QUEUED) */
    uint64_t since_us; /* when it asked */
    uint32_t holder;   /* the connection it holds (DBPOOL_HELD) */
    uint8_t state;     /* a dbpool_state */
} dbpool_ticket;

/* Whom a release handed a connection to: the driver wakes it. */
typedef struct dbpool_wake {
    _Atomic uint32_t *word; /* futex word a blocking waiter sleeps on */
    int32_t pid;            /* the waiter's process */
    int32_t fd;             /* its event loop's eventfd, or -1 (a blocking waiter) */
} dbpool_wake;

/* Returns a pool of size connections (0: unlimited) in anonymous shared
 * memory (inherited by fork), or NULL (size past DBPOOL_MAX, or no memory).
 * Free with dbpool_destroy(). */
dbpool *dbpool_create(unsigned size);
void dbpool_destroy(dbpool *p);

/* Returns the pool's size (0: unlimited). */
unsigned dbpool_size(const dbpool *p);

/* Asks for a connection for one query at now_us, for process pid — woken
 * through eventfd fd (an event loop's), or -1 for a blocking waiter (its
 * futex word, dbpool_word). Returns DBPOOL_HELD, DBPOOL_QUEUED (t filled;
 * wait, then dbpool_check) or DBPOOL_FULL. */
int dbpool_acquire(dbpool *p, int32_t pid, int32_t fd, uint64_t now_us, dbpool_ticket *t);

/* For a queued ticket: returns 1 once it has been handed a connection (t is
 * DBPOOL_HELD from now on, its wait counted), else 0. Lock-free while
 * nothing has happened. */
int dbpool_check(dbpool *p, dbpool_ticket *t, uint64_t now_us);

/* The futex word a blocking waiter with queued ticket t sleeps on, and in
 * *expect its value while t still waits (any change: check again). */
_Atomic uint32_t *dbpool_word(dbpool *p, const dbpool_ticket *t, uint32_t *expect);

/* Gives t's connection back (t becomes DBPOOL_NONE). Returns 1 when it went
 * to a waiting query, which the caller must wake (*w), else 0. */
int dbpool_release(dbpool *p, dbpool_ticket *t, dbpool_wake *w);

/* Gives up t whatever its state (a connection closed while its query
 * waited): a queued ticket leaves the queue; a held one is released.
 * Returns 1 with *w to wake, as dbpool_release. */
int dbpool_cancel(dbpool *p, dbpool_ticket *t, dbpool_wake *w);

/* A process died: its queued tickets leave the queue and its connections go
 * back to the pool, each handed to a waiter woken through wake(w, arg).
 * Returns how many connections it held. */
unsigned dbpool_release_owner(dbpool *p, int32_t pid, void (*wake)(const dbpool_wake *w, void *arg),
                              void *arg);

/* Returns a number unique across the server: the next query's draw (see
 * db_draw_us). */
uint64_t dbpool_next_draw(dbpool *p);

/* What /stats shows. */
typedef struct dbpool_view {
    unsigned size;     /* 0: unlimited */
    uint64_t in_use;   /* connections running a query now */
    uint64_t queued;   /* queries waiting now */
    uint64_t acquired; /* queries that got a connection */
    uint64_t waited;   /* of those, how many had to queue */
    uint64_t refused;  /* queries refused: the queue was full */
    uint64_t wait_us;  /* total time queued */
    uint64_t p50_us;   /* percentiles of the wait for a connection, over all acquired */
    uint64_t p90_us;
    uint64_t p99_us;
    uint64_t max_us; /* the longest wait */
} dbpool_view;

/* Copies the pool's counters into *v. */
void dbpool_view_get(dbpool *p, dbpool_view *v);

/* Appends "db_pool":{...} (JSON, no leading comma) / Prometheus lines to out. */
void dbpool_render_json(dbpool *p, buf *out);
void dbpool_render_prometheus(dbpool *p, buf *out);

#endif
