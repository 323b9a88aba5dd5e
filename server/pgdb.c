/* pgdb: queries on a real PostgreSQL (see pgdb.h). Built without libpq,
 * only pgdb_configure("") succeeds. */
#include "pgdb.h"

#include <stdio.h>
#include <string.h>

#ifndef HTTPMODES_HAVE_LIBPQ

int pgdb_configure(const char *conninfo, char *err, size_t errlen) {
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

#include <pthread.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "util.h"

#define BACKOFF_MIN_US 100000u  /* the first wait after a failed connect */
#define BACKOFF_MAX_US 2000000u /* the longest */
#define ANSWER_SLACK_S 10.0     /* an event-loop query gets its time plus this to answer */
#define WHY_MAX 240             /* a reason's length */

static char *g_conninfo; /* NULL: simulated */

/* Process-wide: the back-off after failed connects, and the blocking free list. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_down_until;    /* no connect is tried before this (µs, util_now_us) */
static uint64_t g_backoff;       /* the current back-off, µs; 0 = last connect worked */
static char g_last_why[WHY_MAX]; /* why the last connect failed */

typedef struct idle {
    PGconn *pg;        /* an idle connection */
    struct idle *next; /* the next one */
} idle;
static idle *g_idle; /* the blocking calls' free list (this process's) */

int pgdb_configure(const char *conninfo, char *err, size_t errlen) {
    (void)err, (void)errlen;
    free(g_conninfo);
    g_conninfo = conninfo[0] ? xstrdup(conninfo) : NULL;
    return 0;
}

int pgdb_enabled(void) {
    return g_conninfo != NULL;
}

/* Copies the first line of msg (libpq's messages end in newlines, and may
 * say "FATAL:  ...") into why as "what: msg". */
static void say(char *why, size_t whylen, const char *what, const char *msg) {
    size_t n = strcspn(msg, "\r\n");
    snprintf(why, whylen, "PostgreSQL %s: %.*s", what, (int)(n > 180 ? 180 : n), msg);
}

/* Returns 0 when a connect may be tried now; else -1, with why. */
static int may_connect(char *why, size_t whylen) {
    uint64_t now = util_now_us();
    pthread_mutex_lock(&g_lock);
    int down = now < g_down_until;
    if (down)
        snprintf(why, whylen, "PostgreSQL unreachable: %s (next try in %llu ms)", g_last_why,
                 (unsigned long long)((g_down_until - now + 999) / 1000));
    pthread_mutex_unlock(&g_lock);
    return down ? -1 : 0;
}

/* A connect finished: ok, or failed with msg (starts or doubles the back-off). */
static void connected(int ok, const char *msg) {
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
    }
    pthread_mutex_unlock(&g_lock);
}

/* The connection parameters: ours first, so that the URL's own override them. */
static const char *const g_keys[] = {"connect_timeout", "application_name", "dbname", NULL};

static PGconn *connect_start(void) {
    const char *values[] = {"5", "httpmodes", g_conninfo, NULL};
    return PQconnectStartParams(g_keys, values, 1);
}

/* Returns 1 when an idle connection still looks alive (the server may have
 * closed it meanwhile: reading what is there, without blocking, tells). */
static int alive(PGconn *pg) {
    return PQconsumeInput(pg) && PQstatus(pg) == CONNECTION_OK &&
           PQtransactionStatus(pg) == PQTRANS_IDLE;
}

static void query_text(char *sql, size_t len, uint64_t us) {
    snprintf(sql, len, "SELECT 1 AS one FROM pg_sleep(%llu.%06llu)",
             (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
}

/* Checks a query's result (the one row); returns 0, or -1 with why. */
static int check_result(PGresult *res, PGconn *pg, char *why, size_t whylen) {
    if (!res) {
        say(why, whylen, "query failed", PQerrorMessage(pg));
        return -1;
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        const char *m = PQresultErrorMessage(res);
        say(why, whylen, "query failed", m[0] ? m : PQerrorMessage(pg));
        return -1;
    }
    return 0;
}

int pgdb_query_blocking(uint64_t us, char *why, size_t whylen) {
    PGconn *pg = NULL;
    pthread_mutex_lock(&g_lock);
    while (!pg && g_idle) {
        idle *i = g_idle;
        g_idle = i->next;
        pg = i->pg;
        free(i);
        if (!alive(pg)) {
            PQfinish(pg);
            pg = NULL;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (!pg) {
        if (may_connect(why, whylen) != 0)
            return -1;
        const char *values[] = {"5", "httpmodes", g_conninfo, NULL};
        pg = PQconnectdbParams(g_keys, values, 1);
        if (!pg || PQstatus(pg) != CONNECTION_OK) {
            const char *m = pg ? PQerrorMessage(pg) : "out of memory";
            say(why, whylen, "cannot connect", m);
            connected(0, m);
            PQfinish(pg);
            return -1;
        }
        connected(1, NULL);
    }
    char sql[80];
    query_text(sql, sizeof sql, us);
    PGresult *res = PQexec(pg, sql);
    int r = check_result(res, pg, why, whylen);
    PQclear(res);
    if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) != PQTRANS_IDLE) {
        PQfinish(pg); /* gone mid-query: the next query connects anew */
        return r;
    }
    idle *i = xcalloc(1, sizeof *i);
    i->pg = pg;
    pthread_mutex_lock(&g_lock);
    i->next = g_idle;
    g_idle = i;
    pthread_mutex_unlock(&g_lock);
    return r;
}

void pgdb_shutdown(void) {
    pthread_mutex_lock(&g_lock);
    while (g_idle) {
        idle *i = g_idle;
        g_idle = i->next;
        PQfinish(i->pg);
        free(i);
    }
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
    ev_timer timeout;   /* gives up when PostgreSQL does not answer */
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
    while (pl->free) {
        idle *i = pl->free;
        pl->free = i->next;
        PQfinish(i->pg);
        free(i);
    }
    free(pl);
}

/* Watches q's socket for events (it may change while connecting). */
static void watch(pgdb_q *q, int events) {
    ev_io_stop(q->pl->loop, &q->io);
    ev_io_set(&q->io, PQsocket(q->pg), events);
    ev_io_start(q->pl->loop, &q->io);
}

/* q has ended (why NULL: with its row): its connection back to the free
 * list if it is still good, done(), q freed. */
static void finish(pgdb_q *q, const char *why) {
    pgdb_loop *pl = q->pl;
    ev_io_stop(pl->loop, &q->io);
    ev_timer_stop(pl->loop, &q->timeout);
    if (!why && PQstatus(q->pg) == CONNECTION_OK && PQtransactionStatus(q->pg) == PQTRANS_IDLE) {
        idle *i = xcalloc(1, sizeof *i);
        i->pg = q->pg;
        i->next = pl->free;
        pl->free = i;
    } else {
        PQfinish(q->pg);
    }
    q->done(q->arg, why);
    free(q);
}

/* Connected: sends the query and waits for it to leave, then for its answer. */
static void send_query(pgdb_q *q) {
    char why[WHY_MAX];
    if (PQsetnonblocking(q->pg, 1) != 0 || !PQsendQuery(q->pg, q->sql)) {
        say(why, sizeof why, "query failed", PQerrorMessage(q->pg));
        finish(q, why);
        return;
    }
    int f = PQflush(q->pg);
    if (f < 0) {
        say(why, sizeof why, "query failed", PQerrorMessage(q->pg));
        finish(q, why);
        return;
    }
    watch(q, f ? EV_READ | EV_WRITE : EV_READ);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
    pgdb_q *q = (pgdb_q *)((char *)w - offsetof(pgdb_q, io));
    char why[WHY_MAX];
    (void)loop;
    if (q->connecting) {
        switch (PQconnectPoll(q->pg)) {
        case PGRES_POLLING_READING:
            watch(q, EV_READ);
            return;
        case PGRES_POLLING_WRITING:
            watch(q, EV_WRITE);
            return;
        case PGRES_POLLING_OK:
            q->connecting = 0;
            q->unsent = 0;
            connected(1, NULL);
            send_query(q);
            return;
        default:
            say(why, sizeof why, "cannot connect", PQerrorMessage(q->pg));
            connected(0, PQerrorMessage(q->pg));
            finish(q, why);
            return;
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
            finish(q, why);
            return;
        }
        if (f == 0)
            watch(q, EV_READ);
    }
    if (!(revents & EV_READ))
        return;
    if (!PQconsumeInput(q->pg)) { /* the server went away */
        say(why, sizeof why, "connection lost", PQerrorMessage(q->pg));
        finish(q, why);
        return;
    }
    int failed = 0;
    while (!PQisBusy(q->pg)) {
        PGresult *res = PQgetResult(q->pg);
        if (!res) { /* the query's results are all in */
            finish(q, failed ? why : NULL);
            return;
        }
        if (!failed && check_result(res, q->pg, why, sizeof why) != 0)
            failed = 1;
        PQclear(res);
    }
    if (failed) { /* an error with more to come: give up the connection now */
        finish(q, why);
    }
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents) {
    pgdb_q *q = (pgdb_q *)((char *)t - offsetof(pgdb_q, timeout));
    (void)loop, (void)revents;
    char why[WHY_MAX];
    snprintf(why, sizeof why, "PostgreSQL did not answer in time (the query's time + %.0f s)",
             ANSWER_SLACK_S);
    if (q->connecting)
        connected(0, "connect timed out");
    PQfinish(q->pg);
    q->pg = NULL;
    ev_io_stop(q->pl->loop, &q->io);
    q->done(q->arg, why);
    free(q);
}

pgdb_q *pgdb_loop_query(pgdb_loop *pl, uint64_t us, pgdb_done_fn *done, void *arg, char *why,
                        size_t whylen) {
    PGconn *pg = NULL;
    while (!pg && pl->free) {
        idle *i = pl->free;
        pl->free = i->next;
        pg = i->pg;
        free(i);
        if (!alive(pg)) {
            PQfinish(pg);
            pg = NULL;
        }
    }
    int connecting = 0;
    if (!pg) {
        if (may_connect(why, whylen) != 0)
            return NULL;
        pg = connect_start();
        if (!pg || PQstatus(pg) == CONNECTION_BAD) {
            const char *m = pg ? PQerrorMessage(pg) : "out of memory";
            say(why, whylen, "cannot connect", m);
            connected(0, m);
            PQfinish(pg);
            return NULL;
        }
        connecting = 1;
    }
    pgdb_q *q = xcalloc(1, sizeof *q);
    q->pl = pl;
    q->pg = pg;
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
    ev_timer_init(&q->timeout, on_timeout, (double)us / 1e6 + ANSWER_SLACK_S, 0.0);
    ev_timer_start(pl->loop, &q->timeout);
    return q;
}

void pgdb_loop_cancel(pgdb_q *q) {
    if (!q)
        return;
    ev_io_stop(q->pl->loop, &q->io);
    ev_timer_stop(q->pl->loop, &q->timeout);
    PQfinish(q->pg);
    free(q);
}

#endif
