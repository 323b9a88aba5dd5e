/* event: one thread running a libev loop with non-blocking sockets (an
 * nginx worker). Database waits become timers, so thousands of requests wait
 * at once; the only blocking is the CPU page, on purpose — while it burns,
 * every other connection waits, which is the lesson it teaches.
 *
 * Each connection is one allocation: the core's conn with its socket's
 * watcher and its place among the loop's deadlines embedded (libev's
 * documented pattern). An idle keep-alive connection holds no buffers: the
 * loop reads into one shared buffer and the core copies only what a request
 * needs. The deadlines are one heap per loop under one timerfd (looptimer.c),
 * not an ev_timer per connection: a heap entry of 16 bytes instead of a
 * 48-byte watcher and libev's 16-byte heap slot (loadtest/idle-connections). */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <ev.h>

#include "evsys.h"
#include "loopdb.h"
#include "looptimer.h"
#include "util.h"

typedef struct ev_conn {
    ev_io io;                    /* readiness of fd; data = the server */
    timeheap_node due;           /* in event_server.deadlines while its wait has a deadline */
    struct ev_conn *prev, *next; /* all connections, to close idle ones at shutdown */
    transport t;                 /* the socket, plain or TLS */
    struct ev_conn *done_next;   /* offload: next in event_server.done */
    loopdb_batch *batch;         /* a database batch: its queries, timers and pool connections */
    uint8_t want;                /* the core's last conn_want */
    uint8_t db_wait;             /* 1 while a database batch runs (batch) */
    uint8_t counted;             /* 1: let in by net_admit (net_release at close) */
    uint8_t closing;             /* 1: closed, freed after this loop iteration */
    uint8_t reset;               /* 1: cut as a slow reader, closed with a reset */
    conn c;                      /* the core (fields kept together: an idle connection is
                                    this struct, see loadtest/idle-connections) */
} ev_conn;

/* A connection one loop of a group accepted and hands to another. */
typedef struct handed {
    struct handed *next;
    int fd;
    uint8_t tls;     /* from the HTTPS listener */
    uint8_t counted; /* let in by net_admit (net_release at close) */
    char peer[48];
} handed;

struct loop_group {
    unsigned n;
    atomic_uint *load;             /* each member's connections, counting those handed to it */
    pthread_mutex_t lock;          /* guards members, hand and gone */
    struct event_server **members; /* NULL before its loop starts and once it has ended */
    handed **hand;                 /* what was handed to each, newest first (kept here, so a
                                      loop that has not started yet finds it when it does) */
    uint8_t *gone;                 /* 1: its loop ended, or could not start */
};

typedef struct event_server {
    server *s;             /* settings and stop flag */
    const server_env *env; /* what this loop's connections see (its lane, its pages) */
    struct ev_loop *loop;
    int listen_fd;       /* this loop's listening socket */
    int tls_listen_fd;   /* its HTTPS one, or -1 */
    ev_io accept_w;      /* the listening socket */
    ev_io accept_tls_w;  /* the HTTPS one (active only with --tls-port) */
    ev_timer resume_w;   /* re-enables accept after running out of descriptors */
    ev_io stop_w;        /* the stop pipe: SIGTERM/SIGINT arrived */
    ev_conn *conns;      /* list of open connections */
    looptimer deadlines; /* theirs (ev_conn.due): room for one per open connection */
    ev_conn *closed;     /* closed this loop iteration, freed by on_check (linked by next) */
    ev_check check_w;    /* frees the closed connections after each iteration's callbacks */
    unsigned open;       /* connections in the list */
    int capped;          /* 1: its connections count against --max-connections */
    uint64_t grace_end;  /* set by on_stop (0 before): when fresh connections' grace ends (µs) */
    work_pool *pool;     /* offload: where page CPU work runs; NULL: in the loop */
    loopdb *db;          /* database batches: timers, the pool's eventfd */
    ev_async work_w;     /* offload: the pool finished work (done holds the connections) */
    pthread_mutex_t done_lock; /* guards done */
    struct ev_conn *done;      /* connections whose work the pool finished */
    loop_group *group;         /* reactors: the loops it balances with, else NULL */
    unsigned lane;             /* its member number in group */
    ev_async hand_w;           /* group: connections were handed to this loop */
    char inbuf[65536];         /* one read buffer for the whole loop */
} event_server;

static event_server *es_of(struct ev_loop *loop) {
    return ev_userdata(loop);
}

/* Closes ec: its socket and core go now, its memory after this iteration of
 * the loop (on_check), as redis schedules a client's close — so a callback
 * further up the stack, or one libev still has pending for ec this
 * iteration, never touches freed memory. */
static void close_conn(struct ev_loop *loop, ev_conn *ec) {
    event_server *es = es_of(loop);
    if (ec->closing)
        return;
    ec->closing = 1;
    ev_io_stop(loop, &ec->io);
    looptimer_cancel(&es->deadlines, &ec->due);
    if (ec->batch) /* closed mid-query (at the very end of a stop): give its connections back */
        loopdb_cancel(ec->batch);
    conn_destroy(&ec->c);
    transport_close(&ec->t);
    if (ec->reset)
        net_abort(ec->t.fd);
    else
        net_close(ec->t.fd);
    if (ec->prev)
        ec->prev->next = ec->next;
    else
        es->conns = ec->next;
    if (ec->next)
        ec->next->prev = ec->prev;
    ec->next = es->closed;
    es->closed = ec;
    es->open--;
    if (es->group)
        atomic_fetch_sub_explicit(&es->group->load[es->lane], 1, memory_order_relaxed);
    if (ec->counted)
        net_release(es->s);
    if (es->grace_end && es->open == 0) /* on_stop has run (and taken the queue) */
        ev_break(loop, EVBREAK_ALL);
}

/* Frees the connections closed during this iteration. */
static void free_closed(event_server *es) {
    while (es->closed) {
        ev_conn *ec = es->closed;
        es->closed = ec->next;
        free(ec);
    }
}

static void on_check(struct ev_loop *loop, ev_check *w, int revents) {
    (void)w;
    (void)revents;
    free_closed(es_of(loop));
}

/* Returns the time (µs, 0 = none) by which ec's current wait must end: the
 * core's deadline, and at a stop no later than the grace a fresh connection
 * gets to send its first request (see CONN_STOP_GRACE_US). */
static uint64_t deadline_of(const event_server *es, const ev_conn *ec) {
    return atomic_load(&es->s->stopping) ? conn_stop_deadline(&ec->c, es->grace_end)
                                         : conn_deadline(&ec->c);
}

/* Watches fd for events (EV_READ or EV_WRITE) and sets ec's deadline.
 *
 * Its place in the heap moves only when the deadline moved earlier than the
 * one it holds (or it holds none). Between keep-alive requests the deadline
 * only moves later, so a busy connection keeps the place it has (no heap
 * removal and insertion per request, as nginx and libev's ev.pod "Be smart
 * about timeouts" advise): it comes due early at most once per keep-alive
 * timeout, and on_due sets the real deadline. */
static void wait_for(struct ev_loop *loop, ev_conn *ec, int events) {
    event_server *es = es_of(loop);
    if (!ev_is_active(&ec->io) || (ec->io.events & (EV_READ | EV_WRITE)) != events) {
        ev_io_stop(loop, &ec->io);
        ev_io_set(&ec->io, ec->t.fd, events);
        ev_io_start(loop, &ec->io);
    }
    uint64_t deadline = deadline_of(es, ec);
    if (deadline && ec->due.pos != TIMEHEAP_OUT && ec->due.at <= deadline)
        return; /* due no later than the deadline: on_due looks again then */
    if (deadline)
        looptimer_set(&es->deadlines, &ec->due, deadline); /* never fails: adopt reserved room */
    else
        looptimer_cancel(&es->deadlines, &ec->due);
}

/* Waits for what a TLS WANT asks (TRANSPORT_WANT_READ / _WANT_WRITE). */
static void wait_transport(struct ev_loop *loop, ev_conn *ec, ssize_t want) {
    wait_for(loop, ec, want == TRANSPORT_WANT_WRITE ? EV_WRITE : EV_READ);
}

/* Goes back to the loop until ec is readable again: the other connections
 * ready now come first (libev reports ec again if its bytes are there). */
static void yield_read(struct ev_loop *loop, ev_conn *ec) {
    ec->want = CONN_WANT_READ; /* what the next event goes on with */
    wait_for(loop, ec, EV_READ);
    if (transport_pending(&ec->t)) /* already decrypted: no socket event will come */
        ev_feed_event(loop, &ec->io, EV_READ);
}

static void offloaded(void *a, void *b);
static void drive(struct ev_loop *loop, ev_conn *ec, conn_want w);

/* A database batch has finished: the connection goes on. */
static void on_db_done(struct ev_loop *loop, void *arg, conn_want w) {
    ev_conn *ec = arg;
    ec->batch = NULL;
    ec->db_wait = 0;
    drive(loop, ec, w);
}

/* Carries out what the core wants until it has to wait for the network,
 * a timer, or is done. The only place a connection is closed. */
static void drive(struct ev_loop *loop, ev_conn *ec, conn_want w) {
    event_server *es = es_of(loop);
    ec->want = (uint8_t)w;
    if (!ec->t.handshook) { /* TLS: the handshake comes first, never blocking */
        int r = net_handshake(&ec->t, &ec->c, w, &w);
        if (r != 0) {
            wait_transport(loop, ec, r); /* at a stop, until the fresh connection's grace ends */
            return;
        }
    }
    for (int reads = 0;;) {
        ec->want = (uint8_t)w;
        switch (w) {
        case CONN_WANT_READ: {
            if (reads++ == 16) { /* be fair to the other connections */
                yield_read(loop, ec);
                return;
            }
            ssize_t n = transport_read(&ec->t, es->inbuf, sizeof es->inbuf);
            if (n > 0)
                w = conn_feed(&ec->c, es->inbuf, (size_t)n);
            else if (n == 0)
                w = conn_eof(&ec->c);
            else if (n == TRANSPORT_FAIL)
                w = CONN_CLOSE;
            else if (atomic_load(&es->s->stopping) && conn_idle(&ec->c) && !conn_fresh(&ec->c))
                w = CONN_CLOSE; /* stopping: idle, no request waiting (a fresh one gets a grace) */
            else {
                wait_transport(loop, ec, n);
                return;
            }
            break;
        }
        case CONN_WANT_WRITE: {
            size_t len;
            const char *out = conn_out(&ec->c, &len);
            ssize_t n = transport_write(&ec->t, out, len);
            if (n >= 0) {
                w = conn_wrote(&ec->c, (size_t)n);
                if (w == CONN_WANT_READ && conn_idle(&ec->c)) {
                    /* a response went out whole: the next request waits its
                     * turn behind the connections already ready. Read at
                     * once, a client that answers fast (wrk woken on this
                     * core) was served up to 16 times in a row, and on
                     * /cpu the others waited 16 x 37 ms (reactors' p50
                     * 35 ms, p99 1.7 s at 10 connections) */
                    yield_read(loop, ec);
                    return;
                }
            } else if (n == TRANSPORT_FAIL)
                w = CONN_CLOSE;
            else {
                wait_transport(loop, ec, n);
                return;
            }
            break;
        }
        case CONN_WANT_WORK:
            if (es->pool) { /* off the loop: nothing of ec is touched till it comes back */
                ev_io_stop(loop, &ec->io);
                looptimer_cancel(&es->deadlines, &ec->due);
                if (work_pool_submit(es->pool, offloaded, es, ec) == 0)
                    return;
                /* no memory to queue it: run it here, as event does */
            }
            conn_work(&ec->c); /* in the loop: every other connection waits meanwhile */
            w = conn_work_done(&ec->c);
            break;
        case CONN_WANT_DB: {
            /* each query on its own timer, after taking a pool connection
             * (parked meanwhile); /db?blocking=1 stops the loop for each.
             * The socket stays watched for reading, as the answer leaves
             * it: stopped and started again, it cost an epoll_ctl per
             * request (failing: libev keeps a stopped fd in epoll). Bytes
             * that come meanwhile stop it (on_io), so it never spins. */
            looptimer_cancel(&es->deadlines, &ec->due);
            ec->batch = loopdb_start(es->db, &ec->c, ec, &w);
            if (!ec->batch) { /* finished at once: blocking calls, or a full queue */
                ev_now_update(loop);
                break;
            }
            ec->db_wait = 1;
            return;
        }
        case CONN_CLOSE:
            close_conn(loop, ec);
            return;
        }
    }
}

/* A pool thread: runs ec's work, then hands ec back to its loop. */
static void offloaded(void *a, void *b) {
    event_server *es = a;
    ev_conn *ec = b;
    conn_work(&ec->c);
    pthread_mutex_lock(&es->done_lock);
    ec->done_next = es->done;
    es->done = ec;
    pthread_mutex_unlock(&es->done_lock);
    ev_async_send(es->loop, &es->work_w);
}

/* The loop: connections whose work the pool finished go on. */
static void on_work_done(struct ev_loop *loop, ev_async *w, int revents) {
    event_server *es = es_of(loop);
    (void)w;
    (void)revents;
    pthread_mutex_lock(&es->done_lock);
    ev_conn *list = es->done;
    es->done = NULL;
    pthread_mutex_unlock(&es->done_lock);
    while (list) {
        ev_conn *ec = list;
        list = ec->done_next;
        drive(loop, ec, conn_work_done(&ec->c));
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
    ev_conn *ec = (ev_conn *)((char *)w - offsetof(ev_conn, io));
    (void)revents;
    if (ec->db_wait) { /* a pipelined request or the peer's close: read after the answer */
        ev_io_stop(loop, w);
        return;
    }
    drive(loop, ec, (conn_want)ec->want);
}

/* ec's place in the deadlines came due (it has left the heap). */
static void on_due(struct ev_loop *loop, timeheap_node *node, void *data) {
    ev_conn *ec = (ev_conn *)((char *)node - offsetof(ev_conn, due));
    (void)data;
    uint64_t deadline = deadline_of(es_of(loop), ec);
    if (deadline && util_now_us() >= deadline) {
        if (!ec->t.handshook) { /* a stalled TLS handshake: nothing to answer */
            transport_handshake_timed_out(&ec->t);
            close_conn(loop, ec);
        } else if (ec->want == CONN_WANT_WRITE && !net_send_overdue(&ec->c, ec->t.fd, 0)) {
            wait_for(loop, ec, ec->io.events & (EV_READ | EV_WRITE)); /* it reads fast enough */
        } else {
            ec->reset = ec->want == CONN_WANT_WRITE; /* a slow reader: drop what it left */
            drive(loop, ec, conn_timed_out(&ec->c));
        }
    } else
        wait_for(loop, ec, ec->io.events & (EV_READ | EV_WRITE)); /* due early */
}

/* Starts serving fd, a new connection (tls: from the HTTPS listener). Its
 * place in the group's load is already counted. */
static void adopt(struct ev_loop *loop, int fd, const char *peer, int tls, int admitted,
                  int counted) {
    event_server *es = es_of(loop);
    ev_conn *ec = calloc(1, sizeof *ec);
    if (ec && looptimer_reserve(&es->deadlines, es->open + 1) != 0) {
        free(ec);
        ec = NULL;
    }
    if (!ec) { /* out of memory: this one is closed, the others go on */
        net_close(fd);
        if (counted)
            net_release(es->s);
        if (es->group)
            atomic_fetch_sub_explicit(&es->group->load[es->lane], 1, memory_order_relaxed);
        return;
    }
    transport_plain(&ec->t, fd);
    ec->counted = (uint8_t)counted;
    ev_io_init(&ec->io, on_io, fd, EV_READ);
    /* in each loop iteration the sockets come before the timers (answers
     * from the database, deadlines): reading a request is cheaper than
     * sending an answer, so the requests already waiting start their
     * wait first, and fewer wait behind a burst of answers (at 1,000
     * /db connections the p99 fell from 114-119 ms to 108-114) */
    ev_set_priority(&ec->io, 1);
    ec->due.pos = TIMEHEAP_OUT;
    ec->prev = NULL;
    ec->next = es->conns;
    if (es->conns)
        es->conns->prev = ec;
    es->conns = ec;
    es->open++;
    conn_want first = conn_init(&ec->c, es->env, peer);
    if (tls && (!admitted || transport_tls(&ec->t, es->s->tls, fd) != 0))
        first = CONN_CLOSE;
    else if (!admitted)
        first = conn_refuse(&ec->c, 503, NET_FULL_WHY);
    drive(loop, ec, first);
}

/* In a group: hands fd to a loop that has no connection, when this one
 * has some. The kernel's hash can put two connections on one loop while
 * another has none: two clients of /cpu then share one core (wrk -t1 -c2:
 * 31 instead of 62 req/s, in about half the runs). Otherwise a connection
 * stays where the kernel put it; evening out every imbalance would move
 * connections between loops for no gain on a hash that is even on average.
 * Returns 1 when handed, 0 to serve it here. */
static int hand_off(event_server *es, int fd, const char *peer, int tls, int counted) {
    loop_group *g = es->group;
    if (!g || atomic_load(&es->s->stopping) ||
        atomic_load_explicit(&g->load[es->lane], memory_order_relaxed) == 0)
        return 0;
    unsigned to = g->n;
    for (unsigned i = 0; i < g->n && to == g->n; i++)
        if (i != es->lane && atomic_load_explicit(&g->load[i], memory_order_relaxed) == 0)
            to = i;
    if (to == g->n)
        return 0;
    handed *h = malloc(sizeof *h);
    if (!h)
        return 0;
    h->fd = fd;
    h->tls = (uint8_t)tls;
    h->counted = (uint8_t)counted;
    snprintf(h->peer, sizeof h->peer, "%s", peer);
    pthread_mutex_lock(&g->lock);
    /* not after the stop: on_stop has taken (or is taking) what was handed */
    int ok = !g->gone[to] && !atomic_load(&es->s->stopping);
    if (ok) {
        h->next = g->hand[to];
        g->hand[to] = h;
        atomic_fetch_add_explicit(&g->load[to], 1, memory_order_relaxed);
        event_server *dest = g->members[to]; /* NULL: it takes them when it starts */
        if (dest)
            ev_async_send(dest->loop, &dest->hand_w);
    }
    pthread_mutex_unlock(&g->lock);
    if (!ok)
        free(h);
    return ok;
}

/* Reverses a hand list: oldest first. */
static handed *oldest_first(handed *list) {
    handed *rev = NULL;
    while (list) {
        handed *h = list;
        list = h->next;
        h->next = rev;
        rev = h;
    }
    return rev;
}

/* Takes what was handed to es (oldest first). */
static handed *take_handed(event_server *es) {
    loop_group *g = es->group;
    pthread_mutex_lock(&g->lock);
    handed *list = g->hand[es->lane];
    g->hand[es->lane] = NULL;
    pthread_mutex_unlock(&g->lock);
    return oldest_first(list);
}

/* Closes the connections of a hand list no loop will serve (s: release
 * their places in --max-connections; NULL at exit). */
static void close_handed(handed *h, server *s) {
    for (handed *next; h; h = next) {
        next = h->next;
        net_close(h->fd);
        if (h->counted && s)
            net_release(s);
        free(h);
    }
}

/* Lane leaves g for good (its loop has ended, or could not start): nothing
 * is handed to it any more, and what was is closed. */
static void leave_group(loop_group *g, unsigned lane, server *s) {
    pthread_mutex_lock(&g->lock);
    g->members[lane] = NULL;
    g->gone[lane] = 1;
    atomic_store(&g->load[lane], UINT_MAX / 2); /* never the least loaded again */
    handed *list = g->hand[lane];
    g->hand[lane] = NULL;
    pthread_mutex_unlock(&g->lock);
    close_handed(list, s);
}

/* Connections another loop of the group handed to this one. */
static void on_handed(struct ev_loop *loop, ev_async *w, int revents) {
    (void)w;
    (void)revents;
    for (handed *h = take_handed(es_of(loop)), *next; h; h = next) {
        next = h->next;
        adopt(loop, h->fd, h->peer, h->tls, 1, h->counted);
        free(h);
    }
}

/* Accepts up to max connections waiting on w's socket and starts them (or
 * hands them to a less loaded loop of the group). Returns how many it took
 * (fewer than max: the queue is empty, or out of descriptors and accepting
 * is paused). */
static int accept_some(struct ev_loop *loop, ev_io *w, int max) {
    event_server *es = es_of(loop);
    int taken = 0;
    for (int i = 0; i < max; i++) {
        char peer[48];
        int fd = net_accept(w->fd, peer, sizeof peer);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (net_accept_failed(es->s, errno)) {
                ev_io_stop(loop, &es->accept_w);
                ev_io_stop(loop, &es->accept_tls_w);
                /* a one-shot timer must be set again before each start, or
                 * after its first expiry it fires at once: a busy loop */
                ev_timer_set(&es->resume_w, ACCEPT_PAUSE_MS / 1000.0, 0.0);
                ev_timer_start(loop, &es->resume_w);
            }
            return taken; /* EAGAIN: accepted everything waiting */
        }
        taken++;
        int tls = w == &es->accept_tls_w;
        int admitted = !es->capped || net_admit(es->s);
        int counted = es->capped && admitted;
        if (admitted && hand_off(es, fd, peer, tls, counted))
            continue;
        if (es->group)
            atomic_fetch_add_explicit(&es->group->load[es->lane], 1, memory_order_relaxed);
        adopt(loop, fd, peer, tls, admitted, counted);
    }
    return taken;
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents) {
    (void)revents;
    accept_some(loop, w, 64);
}

static void on_resume(struct ev_loop *loop, ev_timer *w, int revents) {
    event_server *es = es_of(loop);
    (void)w;
    (void)revents;
    ev_io_start(loop, &es->accept_w);
    if (es->tls_listen_fd >= 0)
        ev_io_start(loop, &es->accept_tls_w);
}

static void on_stop(struct ev_loop *loop, ev_io *w, int revents) {
    event_server *es = es_of(loop);
    (void)w;
    (void)revents;
    es->grace_end = util_now_us() + CONN_STOP_GRACE_US;
    atomic_store(&es->s->stopping, 1);
    int paused = ev_is_active(&es->resume_w); /* out of descriptors: take no more */
    ev_io_stop(loop, &es->accept_w);
    ev_io_stop(loop, &es->accept_tls_w);
    ev_io_stop(loop, &es->stop_w);
    ev_timer_stop(loop, &es->resume_w);
    /* what another loop handed over before the stop (none comes after) */
    if (es->group)
        on_handed(loop, &es->hand_w, EV_ASYNC);
    /* Take the connections already queued (they get the grace below), then
     * stop listening: a connection made from now on is refused at once. */
    if (!paused && es->s->at_stop == STOP_DRAIN) {
        accept_some(loop, &es->accept_w, NET_DRAIN_MAX);
        if (es->tls_listen_fd >= 0)
            accept_some(loop, &es->accept_tls_w, NET_DRAIN_MAX);
    }
    net_unlisten(es->listen_fd);
    net_unlisten(es->tls_listen_fd);
    /* Idle connections close now, unless a request already waits in them
     * (sent before the signal: it is answered, with Connection: close);
     * busy ones close after their response; fresh ones (and half-done
     * handshakes) get CONN_STOP_GRACE_US for their first request. */
    for (ev_conn *ec = es->conns, *next; ec; ec = next) {
        next = ec->next;
        if (ec->want == CONN_WANT_READ && !ec->db_wait && conn_idle(&ec->c))
            drive(loop, ec, CONN_WANT_READ);
    }
    /* a connection closed during the drain asked to break while others were still to come */
    ev_break(loop, es->open == 0 ? EVBREAK_ALL : EVBREAK_CANCEL);
}

/* The descriptors a loop makes for itself: epoll, the timerfds of its
 * connections' deadlines and of its database waits, libev's eventfd for
 * ev_async, the pool's eventfd. */
#define LOOP_OWN_FDS 5

/* Returns 1 when LOOP_OWN_FDS descriptors can be opened now, 0 when the
 * process is out of them (EMFILE, ENFILE). */
static int descriptors_free(void) {
    int fds[LOOP_OWN_FDS], k = 0, ok = 1;
    while (k < LOOP_OWN_FDS && (fds[k] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        k++;
    if (k < LOOP_OWN_FDS)
        ok = errno != EMFILE && errno != ENFILE; /* another error: the set-up says it */
    while (k > 0)
        close(fds[--k]);
    return ok;
}

/* Makes es's loop and its database side. A loop whose thread starts while a
 * flood holds every descriptor (reactors under load: the start-up line is
 * out and clients connect before each thread runs) waits for them, as
 * accepting does, instead of giving up: its SO_REUSEPORT listener would go
 * on queueing connections no loop takes (test_exhaustion, 3 runs in 10
 * under a busy CPU). The probe can be beaten to a descriptor by another
 * thread's accept: libev's wake-up pipe then waits in evsys's handler
 * (instead of libev's abort), the others fail and go round again. Returns
 * 0, or -1 (said) when it cannot, or the stop came first. */
static int loop_setup(event_server *es) {
    evsys_init();
    for (int said = 0;; said = 1) {
        if (descriptors_free()) {
            /* epoll alone: out of descriptors, EVFLAG_AUTO would quietly fall
             * back to poll(2) for the loop's whole life */
            es->loop = ev_loop_new(EVBACKEND_EPOLL);
            if (!es->loop && descriptors_free())
                es->loop = ev_loop_new(EVFLAG_AUTO); /* no epoll here at all */
            if (!es->loop && !descriptors_free())
                goto wait;
            if (!es->loop) {
                fprintf(stderr, "httpmodes: cannot start a libev loop\n");
                return -1;
            }
            ev_set_userdata(es->loop, es);
            /* libev makes its eventfd here, at the first ev_async_start */
            ev_async_init(&es->hand_w, on_handed);
            ev_async_start(es->loop, &es->hand_w);
            if (looptimer_init(&es->deadlines, es->loop, on_due, es) == 0) {
                es->db = loopdb_new(es->loop, es->env->dbpool, on_db_done);
                if (es->db)
                    return 0;
                looptimer_free(&es->deadlines, es->loop);
            } else
                fprintf(stderr, "httpmodes: timerfd: %s\n", strerror(errno));
            ev_async_stop(es->loop, &es->hand_w);
            ev_loop_destroy(es->loop);
            es->loop = NULL;
            if (descriptors_free()) /* not for want of descriptors: loopdb_new said why */
                return -1;
        }
    wait:
        if (atomic_load(&es->s->stopping))
            return -1;
        if (!said)
            fprintf(stderr, "httpmodes: a loop waits for free descriptors to start\n");
        usleep(ACCEPT_PAUSE_MS * 1000);
    }
}

int loop_serve(server *s, const server_env *env, int listen_fd, int tls_listen_fd, work_pool *pool,
               loop_group *g) {
    /* one allocation per loop: its read buffer is not shared with another */
    event_server *es = xcalloc(1, sizeof *es);
    es->s = s;
    es->env = env;
    es->listen_fd = listen_fd;
    es->tls_listen_fd = tls_listen_fd;
    es->pool = pool;
    pthread_mutex_init(&es->done_lock, NULL);
    es->capped = listen_fd != s->status_fd; /* the live view's few are not counted */
    if (loop_setup(es) != 0) {
        if (g && env->lane < g->n)
            leave_group(g, env->lane, s);
        pthread_mutex_destroy(&es->done_lock);
        free(es);
        return 1;
    }
    struct ev_loop *loop = es->loop;
    ev_io_init(&es->accept_w, on_accept, listen_fd, EV_READ);
    ev_io_start(loop, &es->accept_w);
    ev_io_init(&es->accept_tls_w, on_accept, tls_listen_fd, EV_READ);
    if (tls_listen_fd >= 0)
        ev_io_start(loop, &es->accept_tls_w);
    ev_timer_init(&es->resume_w, on_resume, 0.1, 0.0);
    ev_io_init(&es->stop_w, on_stop, s->stop_pipe[0], EV_READ);
    ev_io_start(loop, &es->stop_w);
    ev_check_init(&es->check_w, on_check);
    ev_check_start(loop, &es->check_w);
    ev_unref(loop); /* the check watcher alone does not keep the loop running */
    ev_async_init(&es->work_w, on_work_done);
    if (pool)
        ev_async_start(loop, &es->work_w);
    if (!(g && env->lane < g->n))
        ev_async_stop(loop, &es->hand_w); /* no group: nothing is ever handed */
    if (g && env->lane < g->n) {          /* from now on the others may hand it connections */
        es->group = g;
        es->lane = env->lane; /* hand_w runs (loop_setup) */
        pthread_mutex_lock(&g->lock);
        g->members[es->lane] = es;
        pthread_mutex_unlock(&g->lock);
        ev_async_send(loop, &es->hand_w); /* what was handed before it started */
    }
    /* A stop before the loop began (reactors: a loop whose thread started
     * late) still takes what its listener has queued, with the grace a fresh
     * connection gets; skipped, they were reset when the listener closed. */
    if (atomic_load(&s->stopping))
        on_stop(loop, &es->stop_w, EV_READ);
    if (!es->grace_end || es->open > 0) /* a stop from here on comes through stop_w */
        ev_run(loop, 0);
    /* only reached once stopped: free whatever is left */
    if (es->group) { /* out of the group; anything handed since on_stop is closed */
        leave_group(g, es->lane, s);
        ev_async_stop(loop, &es->hand_w);
    }
    while (es->conns)
        close_conn(loop, es->conns);
    free_closed(es);
    looptimer_free(&es->deadlines, loop);
    loopdb_free(es->db);
    ev_ref(loop);
    ev_check_stop(loop, &es->check_w);
    ev_loop_destroy(loop);
    pthread_mutex_destroy(&es->done_lock);
    free(es);
    return 0;
}

loop_group *loop_group_new(unsigned n) {
    loop_group *g = xcalloc(1, sizeof *g);
    g->n = n;
    g->load = xcalloc(n, sizeof *g->load);
    g->members = xcalloc(n, sizeof *g->members);
    g->hand = xcalloc(n, sizeof *g->hand);
    g->gone = xcalloc(n, sizeof *g->gone);
    pthread_mutex_init(&g->lock, NULL);
    return g;
}

void loop_group_free(loop_group *g) {
    if (!g)
        return;
    for (unsigned i = 0; i < g->n; i++) /* a lane whose thread never started */
        close_handed(g->hand[i], NULL);
    pthread_mutex_destroy(&g->lock);
    free(g->hand);
    free(g->gone);
    free(g->members);
    free(g->load);
    free(g);
}

int run_event(server *s) {
    server_env env = worker_env(s, 0); /* one lane: this thread */
    return loop_serve(s, &env, s->listen_fd, s->tls_listen_fd, NULL, NULL);
}
