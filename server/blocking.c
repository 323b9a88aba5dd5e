/* blocking: the one connection loop shared by the iterative, threads and
 * prefork models — read, feed the core, sleep through database work, write —
 * with poll() enforcing the core's deadlines. */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include "pgdb.h"
#include "util.h"

enum { WAIT_READY = 1, WAIT_TIMEOUT = 0, WAIT_STOP = -1, WAIT_CROWDED = 2 };

/* Waits until fd has events, the deadline (µs, 0 = none) passes, — when
 * stoppable — the server is stopping, or — when crowd — a connection waits
 * on a listening socket (WAIT_CROWDED). */
static int wait_fd_crowd(server *s, int fd, short events, uint64_t deadline, int stoppable,
                         int crowd) {
    for (;;) {
        int stopping = atomic_load(&s->stopping);
        if (stoppable && stopping)
            return WAIT_STOP;
        crowd = crowd && !stopping; /* a stopped listener only says it is shut (POLLHUP) */
        int timeout = -1;
        if (deadline) {
            uint64_t now = util_now_us();
            if (now >= deadline)
                return WAIT_TIMEOUT;
            timeout = (int)((deadline - now + 999) / 1000);
        }
        struct pollfd p[4] = {{.fd = fd, .events = events},
                              {.fd = stoppable ? s->stop_pipe[0] : -1, .events = POLLIN},
                              {.fd = crowd ? s->listen_fd : -1, .events = POLLIN},
                              {.fd = crowd ? s->tls_listen_fd : -1, .events = POLLIN}};
        int n = poll(p, 4, timeout);
        if (n < 0 && errno != EINTR)
            return WAIT_STOP;
        if (n > 0 && p[0].revents)
            return WAIT_READY;
        if (n > 0 && p[1].revents) { /* the signal reached another process of ours */
            atomic_store(&s->stopping, 1);
            return WAIT_STOP;
        }
        if (n > 0 && (p[2].revents || p[3].revents))
            return WAIT_CROWDED;
    }
}

static int wait_fd(server *s, int fd, short events, uint64_t deadline, int stoppable) {
    return wait_fd_crowd(s, fd, events, deadline, stoppable, 0);
}

/* What blocking_serve keeps across waits for one connection. */
typedef struct wait_state {
    uint64_t grace_end; /* set at a stop while the connection is fresh (see wait_conn) */
    int crowded;        /* 1 once others were seen queueing for this worker */
} wait_state;

/* Waits for events on connection c (socket fd) until its deadline — with
 * s->crowd_check, conn_crowded_deadline() once a connection is seen waiting
 * in the listen queue. At a stop, an idle connection returns WAIT_STOP at
 * once; a fresh one (accepted, nothing received yet: a request is almost
 * surely on its way) gets until grace_end — CONN_STOP_GRACE_US from when it
 * first saw the stop — to go on. */
static int wait_conn(server *s, int fd, short events, const conn *c, wait_state *ws) {
    uint64_t *grace_end = &ws->grace_end;
    if (*grace_end && conn_fresh(c)) /* stopping, still in its grace */
        return wait_fd(s, fd, events, conn_stop_deadline(c, *grace_end), 0);
    int r;
    while (
        (r = wait_fd_crowd(s, fd, events, ws->crowded ? conn_crowded_deadline(c) : conn_deadline(c),
                           conn_idle(c), s->crowd_check && !ws->crowded)) == WAIT_CROWDED)
        ws->crowded = 1;
    if (r != WAIT_STOP || !conn_fresh(c))
        return r;
    *grace_end = util_now_us() + CONN_STOP_GRACE_US;
    return wait_fd(s, fd, events, conn_stop_deadline(c, *grace_end), 0);
}

/* Runs the TLS handshake (nothing for plain TCP) under the connection's
 * first deadline. Returns what the core should do next: carry on with w,
 * answer a plain HTTP request with 400, or close. */
static conn_want handshake(server *s, transport *t, conn *c, conn_want w, wait_state *ws) {
    conn_want next;
    int r;
    while ((r = net_handshake(t, c, w, &next)) != 0) {
        int wr = wait_conn(s, t->fd, r == TRANSPORT_WANT_READ ? POLLIN : POLLOUT, c, ws);
        if (wr == WAIT_TIMEOUT)
            transport_handshake_timed_out(t);
        if (wr != WAIT_READY)
            return CONN_CLOSE;
    }
    return next;
}

void blocking_serve(server *s, const server_env *env, int fd, const char *peer, int tls,
                    const char *refuse) {
    char in[16384];
    transport t;
    conn c;
    wait_state ws = {0};
    conn_want w = conn_init(&c, env, peer);
    transport_plain(&t, fd);
    if (tls && refuse)
        w = CONN_CLOSE; /* no handshake in the accepting thread: just close */
    else if (tls && transport_tls(&t, s->tls, fd) != 0)
        w = CONN_CLOSE;
    else if (refuse)
        w = conn_refuse(&c, 503, refuse);
    if (w != CONN_CLOSE)
        w = handshake(s, &t, &c, w, &ws);
    short events = 0; /* TLS: what the last WANT asked to wait for (0: the usual) */
    int reset = 0;    /* 1: cut as a slow reader, closed with a reset */
    while (w != CONN_CLOSE) {
        switch (w) {
        case CONN_WANT_READ: {
            int r = WAIT_READY;
            if (!transport_pending(&t))
                r = wait_conn(s, fd, events ? events : POLLIN, &c, &ws);
            if (r == WAIT_TIMEOUT) {
                w = conn_timed_out(&c);
                break;
            }
            /* stopping: an idle connection is closed, unless a request is
             * already waiting in it (sent before the signal): that one is
             * still answered, with Connection: close (so is a fresh
             * connection's first request, given a grace to arrive) */
            ssize_t n = transport_read(&t, in, sizeof in);
            events = n == TRANSPORT_WANT_WRITE ? POLLOUT : 0;
            if (n > 0)
                w = conn_feed(&c, in, (size_t)n);
            else if (n == 0)
                w = conn_eof(&c);
            else if (n == TRANSPORT_FAIL || r == WAIT_STOP)
                w = CONN_CLOSE; /* reset by the peer, or nothing waiting at a stop */
            break;
        }
        case CONN_WANT_WRITE: {
            size_t len;
            const char *out = conn_out(&c, &len);
            ssize_t n = transport_write(&t, out, len);
            if (n >= 0) {
                w = conn_wrote(&c, (size_t)n);
                break;
            }
            /* a response that does not leave: is the client reading at
             * --min-send-rate (and, once others queue for this worker, up to
             * 100 ms ago)? */
            int r = n == TRANSPORT_FAIL ? WAIT_STOP : WAIT_TIMEOUT;
            while (r == WAIT_TIMEOUT || r == WAIT_CROWDED) {
                ws.crowded |= r == WAIT_CROWDED;
                r = wait_fd_crowd(s, fd, n == TRANSPORT_WANT_READ ? POLLIN : POLLOUT,
                                  ws.crowded ? conn_crowded_deadline(&c) : conn_deadline(&c), 0,
                                  s->crowd_check && !ws.crowded);
                if (r == WAIT_TIMEOUT && net_send_overdue(&c, fd, ws.crowded)) {
                    w = conn_timed_out(&c); /* a slow reader: the worker is freed */
                    reset = 1;
                    break;
                }
            }
            if (r != WAIT_READY && !reset)
                w = CONN_CLOSE;
            break;
        }
        case CONN_WANT_DB: /* a blocking worker can only wait for one query at a time */
            w = db_run_blocking(&c);
            break;
        case CONN_WANT_WORK: /* the CPU work runs here: this worker is busy meanwhile */
            conn_work(&c);
            w = conn_work_done(&c);
            break;
        case CONN_CLOSE:
            break;
        }
    }
    conn_destroy(&c);
    transport_close(&t);
    if (reset)
        net_abort(fd);
    else
        net_close(fd);
}

conn_want db_run_blocking(conn *c) {
    const db_plan *plan = conn_db(c);
    dbpool *pool = plan->kind == PHASE_DB ? c->env->dbpool : NULL; /* /cake's waits: no pool */
    for (unsigned i = 0; i < plan->per_batch; i++) {
        dbpool_ticket t;
        if (dbwait_acquire_blocking(pool, c, &t) != 0) /* blocks while the pool is busy */
            return conn_db_fail(c, DBWAIT_FULL_WHY);
        uint64_t start = util_now_us(), us = conn_db_next_us(c);
        char why[256];
        int failed = 0;
        if (plan->kind == PHASE_DB && pgdb_enabled()) /* --db: PQexec, this worker waits */
            failed = pgdb_query_blocking(us, why, sizeof why) != 0;
        else
            db_sleep_us(us);
        uint64_t end = util_now_us();
        dbwait_release(pool, &t);
        conn_db_query(c, start, end); /* the timeline shows the staircase */
        if (failed)
            return conn_db_fail(c, why); /* unreachable, gone, or full: a 503 */
    }
    return conn_db_done(c);
}

void blocking_worker(server *s, unsigned lane) {
    server_env env = worker_env(s, lane);
    char peer[48];
    int fd, tls;
    while ((fd = accept_blocking(s, peer, sizeof peer, &tls)) >= 0) {
        int admitted = net_admit(s); /* matters only with more workers than the cap */
        blocking_serve(s, &env, fd, peer, tls, admitted ? NULL : NET_FULL_WHY);
        if (admitted)
            net_release(s);
    }
}
