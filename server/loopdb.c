/* loopdb: an event loop's database batches (see loopdb.h). */
#include "loopdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "looptimer.h"
#include "pgdb.h"
#include "util.h"

/* One query of a batch. */
typedef struct lq {
    timeheap_node end;      /* its end, in the loop's heap of waits */
    struct loopdb_batch *b; /* its batch */
    dbpool_ticket t;        /* its pool connection */
    uint64_t start_us;      /* it got its connection and began */
    pgdb_q *pq;             /* with --db: its PostgreSQL query under way, or NULL */
} lq;

struct loopdb_batch {
    loopdb *ld;                     /* the loop's side */
    conn *c;                        /* whose batch */
    void *arg;                      /* for done() */
    dbpool *pool;                   /* NULL: not a query (/cake's waits), no pool */
    unsigned n;                     /* queries in the batch */
    unsigned next;                  /* the next query to ask for a connection */
    unsigned left;                  /* queries not finished */
    uint8_t failed;                 /* the queue was full: 503 once the running ones end */
    uint8_t blocking;               /* /db?blocking=1: each query a blocking call in the loop */
    uint8_t parked;                 /* query next waits in the loop's FIFO */
    uint8_t pg;                     /* 1: the queries run on PostgreSQL (--db) */
    char why[256];                  /* with failed: the 503's reason */
    struct loopdb_batch *park_next; /* the FIFO of parked batches */
    struct loopdb_batch *park_prev;
    lq q[]; /* the queries */
};

struct loopdb {
    struct ev_loop *loop;    /* the loop */
    dbpool *pool;            /* the pool, or NULL */
    loopdb_done_fn *done;    /* a batch has finished */
    int efd;                 /* eventfd a release to a parked query writes, or -1 */
    int32_t pid;             /* this process: who holds its pool tickets (cached: getpid is
                                a system call, once per query otherwise) */
    ev_io efd_w;             /* watches it */
    loopdb_batch *park_head; /* parked batches, oldest ticket first */
    loopdb_batch *park_tail;
    pgdb_loop *pg;  /* with --db: the loop's PostgreSQL connections, else NULL */
    looptimer ends; /* the simulated queries' ends, to the microsecond */
};

static void park(loopdb *ld, loopdb_batch *b) {
    b->parked = 1;
    b->park_next = NULL;
    b->park_prev = ld->park_tail;
    if (ld->park_tail)
        ld->park_tail->park_next = b;
    else
        ld->park_head = b;
    ld->park_tail = b;
}

static void unpark(loopdb *ld, loopdb_batch *b) {
    if (!b->parked)
        return;
    if (b->park_prev)
        b->park_prev->park_next = b->park_next;
    else
        ld->park_head = b->park_next;
    if (b->park_next)
        b->park_next->park_prev = b->park_prev;
    else
        ld->park_tail = b->park_prev;
    b->parked = 0;
    b->park_next = b->park_prev = NULL;
}

/* Query q has run from q->start_us to now: timeline, connection back. */
static void query_done(loopdb_batch *b, lq *q) {
    uint64_t end = util_now_us();
    dbwait_release(b->pool, &q->t);
    conn_db_query(b->c, q->start_us, end);
    b->left--;
}

/* b cannot go on (why): the queries not started never will (a parked one
 * gives back its place in the queue); the 503 once the running ones end. */
static void fail(loopdb_batch *b, const char *why) {
    if (b->failed)
        return;
    b->failed = 1;
    snprintf(b->why, sizeof b->why, "%s", why);
    if (b->parked) {
        unpark(b->ld, b);
        dbwait_cancel(b->pool, &b->q[b->next].t);
    }
    b->left -= b->n - b->next;
}

/* Returns what the core wants once every query of b has ended, and frees b. */
static conn_want batch_end(loopdb_batch *b) {
    conn_want w = b->failed ? conn_db_fail(b->c, b->why) : conn_db_done(b->c);
    free(b);
    return w;
}

/* When b's last query has ended: tells the loop, frees b. */
static void maybe_end(loopdb_batch *b) {
    if (b->left == 0 && !b->parked && (b->next == b->n || b->failed)) {
        loopdb *ld = b->ld;
        void *arg = b->arg;
        ld->done(ld->loop, arg, batch_end(b));
    }
}

/* A PostgreSQL query of the loop has ended (why: it failed). */
static void on_pg_end(void *arg, const char *why) {
    lq *q = arg;
    loopdb_batch *b = q->b;
    q->pq = NULL;
    if (why)
        fail(b, why);
    query_done(b, q);
    maybe_end(b);
}

/* Query q runs on PostgreSQL: with blocking, PQexec right here (the loop
 * stopped, the mistake made for real); else libpq's asynchronous calls. */
static void pg_run(loopdb_batch *b, lq *q, uint64_t us) {
    char why[256];
    q->b = b;
    if (b->blocking) {
        if (pgdb_query_blocking(us, why, sizeof why) != 0)
            fail(b, why);
        query_done(b, q);
        return;
    }
    q->pq = pgdb_loop_query(b->ld->pg, us, on_pg_end, q, why, sizeof why);
    if (!q->pq) { /* failed at once (back-off): never completed inside this call's caller */
        fail(b, why);
        query_done(b, q);
    }
}

/* Query i holds its connection: runs it — a timer, or with blocking a
 * sleep right here, the loop stopped; with --db on PostgreSQL. */
static void query_run(loopdb_batch *b, unsigned i) {
    lq *q = &b->q[i];
    uint64_t us = conn_db_next_us(b->c);
    q->start_us = util_now_us();
    if (b->pg) {
        pg_run(b, q, us);
        return;
    }
    if (b->blocking) {
        db_sleep_us(us);
        query_done(b, q);
        return;
    }
    q->b = b;
    if (looptimer_set(&b->ld->ends, &q->end, q->start_us + us) != 0) {
        fail(b, "out of memory for this request's database queries");
        query_done(b, q);
    }
}

/* Asks for connections for b's next queries, one at a time (so a batch has
 * at most one place in the queue), running each that gets one, until one
 * must wait (parked) or all have started. Returns 1 when b has finished. */
static int advance(loopdb_batch *b) {
    loopdb *ld = b->ld;
    while (b->next < b->n && !b->failed) {
        unsigned i = b->next;
        int r = DBPOOL_HELD;
        if (b->pool)
            r = dbpool_acquire(b->pool, ld->pid, ld->efd, util_now_us(), &b->q[i].t);
        if (r == DBPOOL_QUEUED) {
            park(ld, b);
            return 0;
        }
        if (r == DBPOOL_FULL) {
            fail(b, DBWAIT_FULL_WHY); /* those never start */
            break;
        }
        b->next++;
        query_run(b, i);
    }
    return b->left == 0;
}

/* A query's end is due: it has ended. */
static void on_end(struct ev_loop *loop, timeheap_node *node, void *data) {
    lq *q = (lq *)((char *)node - offsetof(lq, end));
    loopdb_batch *b = q->b;
    (void)loop;
    (void)data;
    query_done(b, q);
    maybe_end(b); /* may start other batches: their ends go in the heap */
}

/* The eventfd: connections were handed to parked queries of this loop.
 * The pool hands them over in queue order and this loop parks its batches
 * in ticket order, so the ones granted are at the head. */
static void on_wake(struct ev_loop *loop, ev_io *w, int revents) {
    loopdb *ld = w->data;
    uint64_t count;
    (void)revents;
    while (read(ld->efd, &count, sizeof count) < 0 && errno == EINTR) {
    }
    loopdb_batch *b;
    while ((b = ld->park_head) != NULL) {
        lq *q = &b->q[b->next];
        uint64_t now = util_now_us();
        if (!dbpool_check(b->pool, &q->t, now))
            break;
        unpark(ld, b);
        conn_db_queued(b->c, q->t.since_us, now);
        query_run(b, b->next++);
        if (advance(b)) { /* every query ran (blocking ones) and ended */
            void *arg = b->arg;
            ld->done(loop, arg, batch_end(b));
        }
    }
}

loopdb *loopdb_new(struct ev_loop *loop, dbpool *pool, loopdb_done_fn *done) {
    loopdb *ld = xcalloc(1, sizeof *ld);
    ld->loop = loop;
    ld->pool = pool;
    ld->done = done;
    ld->efd = -1;
    if (looptimer_init(&ld->ends, loop, on_end, ld) != 0) {
        fprintf(stderr, "httpmodes: timerfd: %s\n", strerror(errno));
        free(ld);
        return NULL;
    }
    ld->pid = (int32_t)getpid();
    ld->pg = pgdb_enabled() ? pgdb_loop_new(loop) : NULL;
    if (pool && dbpool_size(pool) > 0) {
        ld->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (ld->efd < 0) {
            fprintf(stderr, "httpmodes: eventfd: %s\n", strerror(errno));
            loopdb_free(ld);
            return NULL;
        }
        ev_io_init(&ld->efd_w, on_wake, ld->efd, EV_READ);
        ld->efd_w.data = ld;
        ev_io_start(loop, &ld->efd_w);
    }
    return ld;
}

void loopdb_free(loopdb *ld) {
    if (!ld)
        return;
    if (ld->efd >= 0) {
        ev_io_stop(ld->loop, &ld->efd_w);
        close(ld->efd);
    }
    looptimer_free(&ld->ends, ld->loop);
    pgdb_loop_free(ld->pg);
    free(ld);
}

loopdb_batch *loopdb_start(loopdb *ld, conn *c, void *arg, conn_want *w) {
    const db_plan *plan = conn_db(c);
    unsigned n = plan->per_batch;
    loopdb_batch *b = calloc(1, sizeof *b + n * sizeof b->q[0]);
    if (!b) { /* no memory for this request's queries: it fails, the loop goes on */
        *w = conn_db_fail(c, "out of memory for this request's database queries");
        return NULL;
    }
    b->ld = ld;
    b->c = c;
    b->arg = arg;
    b->pool = plan->kind == PHASE_DB ? ld->pool : NULL; /* /cake's waits take no connection */
    b->n = b->left = n;
    for (unsigned i = 0; i < n; i++)
        b->q[i].end.pos = TIMEHEAP_OUT;
    b->blocking = plan->blocking != 0;
    b->pg = plan->kind == PHASE_DB && ld->pg;
    if (advance(b)) {
        *w = batch_end(b);
        return NULL;
    }
    return b;
}

void loopdb_cancel(loopdb_batch *b) {
    unpark(b->ld, b);
    for (unsigned i = 0; i < b->n; i++) {
        looptimer_cancel(&b->ld->ends, &b->q[i].end);
        pgdb_loop_cancel(b->q[i].pq);
        dbwait_cancel(b->pool, &b->q[i].t);
    }
    free(b);
}
