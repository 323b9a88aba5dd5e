/* pgdb: queries on a real PostgreSQL (see pgdb.h). Built without libpq,
 * only pgdb_configure("") succeeds. */
#include "pgdb.h"

#include <stdio.h>
#include <string.h>

#ifndef HTTPMODES_HAVE_LIBPQ

int pgdb_configure(const char *conninfo, unsigned timeout_ms, struct metrics *m, char *err,
                   size_t errlen) {
    (void)timeout_ms, (void)m;
    if (!conninfo[0])
        return 0;
    snprintf(err, errlen,
             "--db: this build has no PostgreSQL support (libpq was not found when it was "
             "built: install libpq-dev and rebuild)");
    return -1;
}
int pgdb_enabled(void) {
    return 0;
}
int pgdb_query_blocking(uint64_t us, char *why, size_t whylen) {
    (void)us;
    snprintf(why, whylen, "no PostgreSQL support in this build");
    return -1;
}
void pgdb_shutdown(void) {}
pgdb_loop *pgdb_loop_new(struct ev_loop *loop) {
    (void)loop;
    return NULL;
}
void pgdb_loop_free(pgdb_loop *pl) {
    (void)pl;
}
pgdb_q *pgdb_loop_query(pgdb_loop *pl, uint64_t us, pgdb_done_fn *done, void *arg, char *why,
                        size_t whylen) {
    (void)pl, (void)us, (void)done, (void)arg;
    snprintf(why, whylen, "no PostgreSQL support in this build");
    return NULL;
}
void pgdb_loop_cancel(pgdb_q *q) {
    (void)q;
}

#else

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "metrics.h"
#include "util.h"

#define BACKOFF_MIN_US 100000u        /* the first wait after a failed connect */
#define BACKOFF_MAX_US 2000000u       /* the longest */
#define WHY_MAX 240                   /* a reason's length */
#define ENDED_OK (-1)                 /* how a query ended, besides a metrics_pg_fail: answered */
#define ENDED_CANCELLED PG_FAIL_COUNT /* ... or dropped with its request */

static char *g_conninfo;                 /* NULL: simulated */
static uint64_t g_timeout_us = 10000000; /* --db-timeout, µs */
static metrics *g_m;                     /* the shared counters, or NULL */

/* Process-wide: the back-off after failed connects, and the blocking free list. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_down_until;    /* no connect is tried before this (µs, util_now_us) */
static uint64_t g_backoff;       /* the current back-off, µs; 0 = last connect worked */
static char g_last_why[WHY_MAX]; /* why the last connect failed */
static int g_last_class;         /* and its metrics_pg_fail */

typedef struct idle {
    PGconn *pg;        /* an idle connection */
    struct idle *next; /* the next one */
} idle;
static idle *g_idle; /* the blocking calls' free list (this process's) */

int pgdb_configure(const char *conninfo, unsigned timeout_ms, struct metrics *m, char *err,
                   size_t errlen) {
    (void)err, (void)errlen;
    free(g_conninfo);
    g_conninfo = conninfo[0] ? xstrdup(conninfo) : NULL;
    g_timeout_us = (uint64_t)timeout_ms * 1000;
    g_m = m;
    return 0;
}

int pgdb_enabled(void) {
    return g_conninfo != NULL;
}

/* ---- the counters ---- */

static void query_started(void) {
    if (!g_m)
        return;
    metrics_add(&g_m->pg_sent, 1);
    metrics_gauge_add(g_m, GAUGE_PG_IN_FLIGHT, 1);
}

/* A query ended: ENDED_OK, ENDED_CANCELLED or a metrics_pg_fail. */
static void query_ended(int how) {
    if (!g_m)
        return;
    metrics_gauge_add(g_m, GAUGE_PG_IN_FLIGHT, -1);
    metrics_add(how == ENDED_OK          ? &g_m->pg_answered
                : how == ENDED_CANCELLED ? &g_m->pg_cancelled
                                         : &g_m->pg_failed[how],
                1);
}

/* ---- connections ---- */

/* The connection parameters: ours first, so that the URL's own override
 * them. No connect_timeout: libpq ignores it under PQconnectPoll, which
 * both paths use, each with its own deadline (--db-timeout). */
static const char *const g_keys[] = {"application_name", "dbname", NULL};

/* Starts a connection (counted open until pg_close). Returns it, or NULL
 * when out of memory. Resolving a host name is libpq's one blocking step. */
static PGconn *pg_start(void) {
    const char *values[] = {"httpmodes", g_conninfo, NULL};
    PGconn *pg = PQconnectStartParams(g_keys, values, 1);
    if (pg && g_m)
        metrics_gauge_add(g_m, GAUGE_PG_OPEN, 1);
    return pg;
}

static void pg_close(PGconn *pg) {
    if (!pg)
        return;
    PQfinish(pg);
    if (g_m)
        metrics_gauge_add(g_m, GAUGE_PG_OPEN, -1);
}

/* Copies the first line of msg (libpq's messages end in newlines, and may
 * say "FATAL:  ...") into why as "what: msg". */
static void say(char *why, size_t whylen, const char *what, const char *msg) {
    size_t n = strcspn(msg, "\r\n");
    snprintf(why, whylen, "PostgreSQL %s: %.*s", what, (int)(n > 180 ? 180 : n), msg);
}

/* Returns the metrics_pg_fail of a connect that failed with msg. */
static int connect_class(const char *msg) {
    return strstr(msg, "too many clients") || strstr(msg, "connection slots are reserved")
               ? PG_FAIL_FULL
               : PG_FAIL_CONNECT;
}

/* Returns 0 when a connect may be tried now; else -1, with why and *cls. */
static int may_connect(char *why, size_t whylen, int *cls) {
    uint64_t now = util_now_us();
    pthread_mutex_lock(&g_lock);
    int down = now < g_down_until;
    if (down) {
        snprintf(why, whylen, "PostgreSQL unreachable: %s (next try in %llu ms)", g_last_why,
                 (unsigned long long)((g_down_until - now + 999) / 1000));
        *cls = g_last_class;
    }
    pthread_mutex_unlock(&g_lock);
    return down ? -1 : 0;
}

/* A connect finished: ok, or failed with msg of class cls (starts or
 * doubles the back-off). */
static void connected(int ok, const char *msg, int cls) {
    if (g_m)
        metrics_add(ok ? &g_m->pg_connects : &g_m->pg_backoffs, 1);
    pthread_mutex_lock(&g_lock);
    if (ok) {
        g_backoff = 0;
        g_down_until = 0;
    } else {
        g_backoff = g_backoff ? g_backoff * 2 : BACKOFF_MIN_US;
        if (g_backoff > BACKOFF_MAX_US)
            g_backoff = BACKOFF_MAX_US;
        g_down_until = util_now_us() + g_backoff;
        size_t n = strcspn(msg, "\r\n");
        snprintf(g_last_why, sizeof g_last_why, "%.*s", (int)(n > 180 ? 180 : n), msg);
        g_last_class = cls;
    }
    pthread_mutex_unlock(&g_lock);
}

/* A connect got no answer in time: why, and the back-off. */
static void connect_timed_out(char *why, size_t whylen) {
    snprintf(why, whylen, "PostgreSQL did not answer within %llu ms (connecting; --db-timeout)",
             (unsigned long long)(g_timeout_us / 1000));
    connected(0, "no answer to a connect within --db-timeout", PG_FAIL_TIMEOUT);
}

/* A query got no answer in time (its time us): why. */
static void query_timed_out(uint64_t us, char *why, size_t whylen) {
    snprintf(why, whylen,
             "PostgreSQL did not answer within %llu ms (the query's %llu ms + --db-timeout %llu "
             "ms)",
             (unsigned long long)((us + g_timeout_us) / 1000), (unsigned long long)(us / 1000),
             (unsigned long long)(g_timeout_us / 1000));
}

/* Returns 1 when pg can carry the next query: connected, no transaction open. */
static int reusable(PGconn *pg) {
    return PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) == PQTRANS_IDLE;
}

/* Returns 1 when an idle connection still looks alive (the server may have
 * closed it meanwhile: reading what is there, without blocking, tells). A
 * server that shuts down sends an idle connection a FATAL message and then
 * closes it; libpq reads the message as a notice (PQisBusy parses it) and
 * sees the close only on the next read, so read twice. */
static int alive(PGconn *pg) {
    for (int i = 0; i < 2; i++) {
        if (!PQconsumeInput(pg))
            return 0;
        (void)PQisBusy(pg);
    }
    return reusable(pg);
}

/* A free list (the blocking calls' under g_lock, or one loop's): takes the
 * first connection that is still alive, closing the dead ones; NULL if none. */
static PGconn *idle_take(idle **list) {
    while (*list) {
        idle *i = *list;
        PGconn *pg = i->pg;
        *list = i->next;
        free(i);
        if (alive(pg))
            return pg;
        pg_close(pg);
    }
    return NULL;
}

/* Puts pg on a free list. */
static void idle_put(idle **list, PGconn *pg) {
    idle *i = xcalloc(1, sizeof *i);
    i->pg = pg;
    i->next = *list;
    *list = i;
}

/* Closes every connection of a free list. */
static void idle_close_all(idle **list) {
    while (*list) {
        idle *i = *list;
        *list = i->next;
        pg_close(i->pg);
        free(i);
    }
}

static void query_text(char *sql, size_t len, uint64_t us) {
    snprintf(sql, len, "SELECT 1 AS one FROM pg_sleep(%llu.%06llu)",
             (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
}

/* Returns the metrics_pg_fail of a failure on a connection: gone when the
 * connection broke, else an error. */
static int lost_class(PGconn *pg) {
    return PQstatus(pg) == CONNECTION_BAD ? PG_FAIL_GONE : PG_FAIL_ERROR;
}

/* Checks a query's result (the one row); returns 0, or -1 with why and
 * *cls: gone for a broken connection or PostgreSQL stopping it (SQLSTATE
 * class 08, 57P), full for "too many clients" (53300), else an error. */
static int check_result(PGresult *res, PGconn *pg, char *why, size_t whylen, int *cls) {
    if (!res) {
        say(why, whylen, "query failed", PQerrorMessage(pg));
        *cls = PG_FAIL_GONE;
        return -1;
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        const char *m = PQresultErrorMessage(res);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        say(why, whylen, "query failed", m[0] ? m : PQerrorMessage(pg));
        *cls = state && strcmp(state, "53300") == 0 ? PG_FAIL_FULL
               : state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
                   ? PG_FAIL_GONE
                   : lost_class(pg);
        return -1;
    }
    return 0;
}

/* Takes the results that have arrived. Returns 1 when they are all in (the
 * first failure kept in *failed, why and *cls), 0 when more must arrive. */
static int take_results(PGconn *pg, int *failed, char *why, size_t whylen, int *cls) {
    while (!PQisBusy(pg)) {
        PGresult *res = PQgetResult(pg);
        if (!res)
            return 1;
        if (!*failed && check_result(res, pg, why, whylen, cls) != 0)
            *failed = 1;
        PQclear(res);
    }
    return 0;
}

/* ---- blocking calls ---- */

/* Waits until pg's socket is ready for events (POLLIN, POLLOUT) or the
 * deadline (util_now_us) has passed. Returns 1 when ready (or when there
 * is no socket: libpq then says why), 0 at the deadline, -1 on an error. */
static int wait_socket(PGconn *pg, short events, uint64_t deadline) {
    for (;;) {
        uint64_t now = util_now_us();
        if (now >= deadline)
            return 0;
        struct pollfd p = {.fd = PQsocket(pg), .events = events};
        if (p.fd < 0)
            return 1;
        uint64_t ms = (deadline - now + 999) / 1000;
        int r = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* Connects, waiting at most until deadline. Returns the connection, or
 * NULL with why and *cls (the failure also starts the back-off). */
static PGconn *connect_blocking(uint64_t deadline, char *why, size_t whylen, int *cls) {
    PGconn *pg = pg_start();
    /* libpq's docs: before the first PQconnectPoll, act as if it said WRITING */
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    if (!pg || PQstatus(pg) == CONNECTION_BAD)
        st = PGRES_POLLING_FAILED;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        int r = wait_socket(pg, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (r == 0) {
            connect_timed_out(why, whylen);
            *cls = PG_FAIL_TIMEOUT;
            pg_close(pg);
            return NULL;
        }
        st = r < 0 ? PGRES_POLLING_FAILED : PQconnectPoll(pg);
    }
    if (st == PGRES_POLLING_FAILED) {
        const char *m = !pg                     ? "out of memory"
                        : PQerrorMessage(pg)[0] ? PQerrorMessage(pg)
                                                : strerror(errno);
        *cls = connect_class(m);
        say(why, whylen, "cannot connect", m);
        connected(0, m, *cls);
        pg_close(pg);
        return NULL;
    }
    connected(1, NULL, 0);
    return pg;
}

/* Runs the query of us microseconds on pg, waiting until its answer is in
 * or its deadline has passed. Returns ENDED_OK, or a metrics_pg_fail with
 * why. */
static int run_blocking(PGconn *pg, uint64_t us, char *why, size_t whylen) {
    char sql[80];
    int cls = ENDED_OK, failed = 0, r = 1, f;
    uint64_t deadline = util_now_us() + us + g_timeout_us;
    query_text(sql, sizeof sql, us);
    if (PQsetnonblocking(pg, 1) != 0 || !PQsendQuery(pg, sql)) {
        say(why, whylen, "query failed", PQerrorMessage(pg));
        return lost_class(pg);
    }
    while (r > 0 && (f = PQflush(pg)) != 0) { /* the query leaves */
        if (f < 0 || (r = wait_socket(pg, POLLIN | POLLOUT, deadline)) < 0 ||
            (r > 0 && !PQconsumeInput(pg))) {
            say(why, whylen, "connection lost", PQerrorMessage(pg));
            return PG_FAIL_GONE;
        }
    }
    while (r > 0 && !take_results(pg, &failed, why, whylen, &cls)) { /* its answer comes */
        if ((r = wait_socket(pg, POLLIN, deadline)) < 0 || (r > 0 && !PQconsumeInput(pg))) {
            say(why, whylen, "connection lost", PQerrorMessage(pg));
            return PG_FAIL_GONE;
        }
    }
    if (r == 0) {
        query_timed_out(us, why, whylen);
        return PG_FAIL_TIMEOUT;
    }
    return failed ? cls : ENDED_OK;
}

int pgdb_query_blocking(uint64_t us, char *why, size_t whylen) {
    int cls = ENDED_OK;
    query_started();
    pthread_mutex_lock(&g_lock);
    PGconn *pg = idle_take(&g_idle);
    pthread_mutex_unlock(&g_lock);
    if (!pg && may_connect(why, whylen, &cls) == 0)
        pg = connect_blocking(util_now_us() + g_timeout_us, why, whylen, &cls);
    if (pg)
        cls = run_blocking(pg, us, why, whylen);
    if (pg && cls == ENDED_OK && reusable(pg)) {
        pthread_mutex_lock(&g_lock);
        idle_put(&g_idle, pg);
        pthread_mutex_unlock(&g_lock);
    } else {
        pg_close(pg); /* failed, gone or late: never reused, the next query connects anew */
    }
    query_ended(cls);
    return cls == ENDED_OK ? 0 : -1;
}

void pgdb_shutdown(void) {
    pthread_mutex_lock(&g_lock);
    idle_close_all(&g_idle);
    pthread_mutex_unlock(&g_lock);
}

/* ---- the event loop's side ---- */

struct pgdb_loop {
    struct ev_loop *loop; /* the loop */
    idle *free;           /* its idle connections (only the loop's thread touches them) */
};

struct pgdb_q {
    pgdb_loop *pl;      /* the loop's side */
    PGconn *pg;         /* its connection */
    ev_io io;           /* watches PQsocket(pg) */
    ev_timer timeout;   /* gives up when PostgreSQL does not answer (--db-timeout) */
    uint64_t us;        /* the query's time */
    int connecting;     /* 1 while PQconnectPoll is under way */
    int unsent;         /* 1 until the query has been handed to libpq */
    pgdb_done_fn *done; /* its end */
    void *arg;          /* for done() */
    char sql[80];       /* the query */
};

pgdb_loop *pgdb_loop_new(struct ev_loop *loop) {
    pgdb_loop *pl = xcalloc(1, sizeof *pl);
    pl->loop = loop;
    return pl;
}

void pgdb_loop_free(pgdb_loop *pl) {
    if (!pl)
        return;
    idle_close_all(&pl->free);
    free(pl);
}

/* Watches q's socket for events (it may change while connecting). */
static void watch(pgdb_q *q, int events) {
    ev_io_stop(q->pl->loop, &q->io);
    ev_io_set(&q->io, PQsocket(q->pg), events);
    ev_io_start(q->pl->loop, &q->io);
}

/* q has ended — how: ENDED_OK (with its row) or a metrics_pg_fail with
 * why: its connection back to the free list if it is still good, done(),
 * q freed. */
static void finish(pgdb_q *q, int how, const char *why) {
    pgdb_loop *pl = q->pl;
    ev_io_stop(pl->loop, &q->io);
    ev_timer_stop(pl->loop, &q->timeout);
    if (how == ENDED_OK && reusable(q->pg))
        idle_put(&pl->free, q->pg);
    else
        pg_close(q->pg);
    query_ended(how);
    q->done(q->arg, how == ENDED_OK ? NULL : why);
    free(q);
}

/* Connected: sends the query and waits for it to leave, then for its answer. */
static void send_query(pgdb_q *q) {
    char why[WHY_MAX];
    if (PQsetnonblocking(q->pg, 1) != 0 || !PQsendQuery(q->pg, q->sql)) {
        say(why, sizeof why, "query failed", PQerrorMessage(q->pg));
        finish(q, lost_class(q->pg), why);
        return;
    }
    int f = PQflush(q->pg);
    if (f < 0) {
        say(why, sizeof why, "query failed", PQerrorMessage(q->pg));
        finish(q, PG_FAIL_GONE, why);
        return;
    }
    watch(q, f ? EV_READ | EV_WRITE : EV_READ);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
    pgdb_q *q = (pgdb_q *)((char *)w - offsetof(pgdb_q, io));
    char why[WHY_MAX];
    if (q->connecting) {
        switch (PQconnectPoll(q->pg)) {
        case PGRES_POLLING_READING:
            watch(q, EV_READ);
            return;
        case PGRES_POLLING_WRITING:
            watch(q, EV_WRITE);
            return;
        case PGRES_POLLING_OK: /* the query's own deadline starts now */
            q->connecting = 0;
            q->unsent = 0;
            connected(1, NULL, 0);
            ev_timer_stop(loop, &q->timeout);
            ev_timer_set(&q->timeout, (double)(q->us + g_timeout_us) / 1e6, 0.0);
            ev_timer_start(loop, &q->timeout);
            send_query(q);
            return;
        default: {
            const char *m = PQerrorMessage(q->pg);
            int cls = connect_class(m);
            say(why, sizeof why, "cannot connect", m);
            connected(0, m, cls);
            finish(q, cls, why);
            return;
        }
        }
    }
    if (q->unsent) { /* a free connection, taken in pgdb_loop_query */
        q->unsent = 0;
        send_query(q);
        return;
    }
    if (revents & EV_WRITE) {
        int f = PQflush(q->pg);
        if (f < 0) {
            say(why, sizeof why, "query failed", PQerrorMessage(q->pg));
            finish(q, PG_FAIL_GONE, why);
            return;
        }
        if (f == 0)
            watch(q, EV_READ);
    }
    if (!(revents & EV_READ))
        return;
    if (!PQconsumeInput(q->pg)) { /* the server went away */
        say(why, sizeof why, "connection lost", PQerrorMessage(q->pg));
        finish(q, PG_FAIL_GONE, why);
        return;
    }
    int failed = 0, cls = ENDED_OK;
    if (take_results(q->pg, &failed, why, sizeof why, &cls))
        finish(q, failed ? cls : ENDED_OK, why); /* the query's results are all in */
    else if (failed) /* an error with more to come: give up the connection now */
        finish(q, cls, why);
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents) {
    pgdb_q *q = (pgdb_q *)((char *)t - offsetof(pgdb_q, timeout));
    (void)loop, (void)revents;
    char why[WHY_MAX];
    if (q->connecting)
        connect_timed_out(why, sizeof why);
    else
        query_timed_out(q->us, why, sizeof why);
    finish(q, PG_FAIL_TIMEOUT, why); /* closes the connection: never reused */
}

pgdb_q *pgdb_loop_query(pgdb_loop *pl, uint64_t us, pgdb_done_fn *done, void *arg, char *why,
                        size_t whylen) {
    query_started();
    PGconn *pg = idle_take(&pl->free);
    int connecting = 0;
    if (!pg) {
        int cls;
        if (may_connect(why, whylen, &cls) != 0) {
            query_ended(cls);
            return NULL;
        }
        pg = pg_start();
        if (!pg || PQstatus(pg) == CONNECTION_BAD) {
            const char *m = pg ? PQerrorMessage(pg) : "out of memory";
            cls = connect_class(m);
            say(why, whylen, "cannot connect", m);
            connected(0, m, cls);
            pg_close(pg);
            query_ended(cls);
            return NULL;
        }
        connecting = 1;
    }
    pgdb_q *q = xcalloc(1, sizeof *q);
    q->pl = pl;
    q->pg = pg;
    q->us = us;
    q->done = done;
    q->arg = arg;
    q->connecting = connecting;
    q->unsent = 1;
    query_text(q->sql, sizeof q->sql, us);
    /* connecting: PQconnectPoll's first step is as if it said WRITING; a
     * free connection sends from the loop's next turn (its socket is
     * writable at once), never from inside this call */
    ev_io_init(&q->io, on_io, PQsocket(pg), EV_WRITE);
    ev_io_start(pl->loop, &q->io);
    ev_now_update(pl->loop);
    /* a connect gets --db-timeout; the query then its time + --db-timeout */
    ev_timer_init(&q->timeout, on_timeout,
                  (double)(connecting ? g_timeout_us : us + g_timeout_us) / 1e6, 0.0);
    ev_timer_start(pl->loop, &q->timeout);
    return q;
}

void pgdb_loop_cancel(pgdb_q *q) {
    if (!q)
        return;
    ev_io_stop(q->pl->loop, &q->io);
    ev_timer_stop(q->pl->loop, &q->timeout);
    pg_close(q->pg);
    query_ended(ENDED_CANCELLED);
    free(q);
}

#endif
