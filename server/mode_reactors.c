/* reactors: --workers libev loops (default one per CPU), one per thread,
 * each with its own SO_REUSEPORT listening socket, so the kernel spreads new
 * connections across the loops (nginx with worker_processes auto, lwan).
 * Each loop is the event model: waits overlap by the thousand; and the loops
 * run in parallel, so CPU work uses every core.
 *
 * Why one listener per loop, not one shared: with a shared socket every loop
 * wakes for every new connection and all but one find nothing (the
 * thundering herd), and the busiest loop tends to win the accept race; with
 * SO_REUSEPORT the kernel hashes each connection to one loop's queue. The
 * cost: a connection queued behind a loop burning CPU waits for that loop
 * even while another is free. And the hash can put two connections on one
 * loop while another has none (wrk -c2 /cpu then used one core half the
 * time): a loop with no connection is handed the next one (mode_event.c
 * hand_off).
 *
 * Measured and not kept: pinning each loop to a CPU and steering a
 * connection to the loop on the CPU its client ran on (a classic BPF
 * program on the SO_REUSEPORT group, SKF_AD_CPU). wrk -t2 -c100 /hello went
 * from about 205,000 to 313,000-335,000 req/s in most runs, as client and
 * loop shared a core, but to 153,000-203,000 in about one run in five (wrk's
 * threads connecting from one CPU), and to 155,000-160,000 with every client
 * on one CPU (taskset -c 0 wrk; nginx auto 200,000-206,000, the hash
 * 189,000-197,000): the pinned loop shares its core with the client. A
 * model whose rate doubles or halves with where the client runs would hide
 * the lesson. */
#include "server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

typedef struct reactor {
    server *s;         /* the server */
    unsigned lane;     /* its lane: its index */
    int serve_fd;      /* the listener it serves (SO_REUSEPORT, one per loop) */
    int serve_tls_fd;  /* and HTTPS one, or -1 */
    int listen_fd;     /* serve_fd when this driver opened it (to close), else -1 */
    int tls_listen_fd; /* likewise for serve_tls_fd */
    loop_group *group; /* the loops it balances with */
    pthread_t t;       /* the thread */
} reactor;

static void *reactor_thread(void *arg) {
    reactor *r = arg;
    server_env env = worker_env(r->s, r->lane);
    loop_serve(r->s, &env, r->serve_fd, r->serve_tls_fd, NULL, r->group);
    conn_thread_done();
    return NULL;
}

int run_reactors(server *s) {
    unsigned n = s->cfg.workers, started = 0;
    reactor *rs = xcalloc(n, sizeof *rs);
    loop_group *group = loop_group_new(n);
    char err[256];
    int rc = 0;
    for (unsigned i = 0; i < n; i++)
        rs[i].listen_fd = rs[i].tls_listen_fd = -1;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        reactor *r = &rs[i];
        r->s = s;
        r->lane = i;
        r->group = group;
        unsigned port;
        /* the first loop takes the sockets main() opened (with SO_REUSEPORT);
         * the others open their own on the same ports */
        int fd = i == 0
                     ? s->listen_fd
                     : net_listen(s->cfg.bind, s->cfg.port, NET_SHARE_JOIN, &port, err, sizeof err);
        int tls_fd =
            i == 0 || s->tls_listen_fd < 0 || fd < 0
                ? (i == 0 ? s->tls_listen_fd : -1)
                : net_listen(s->cfg.bind, s->tls_port, NET_SHARE_JOIN, &port, err, sizeof err);
        r->serve_fd = fd;
        r->serve_tls_fd = tls_fd;
        if (i > 0) { /* ours to close, and to set up as main() did the first */
            r->listen_fd = fd;
            r->tls_listen_fd = tls_fd;
            net_defer_accept(&s->cfg, fd);
            net_defer_accept(&s->cfg, tls_fd);
        }
        if (fd < 0 || (s->tls_listen_fd >= 0 && tls_fd < 0)) {
            fprintf(stderr, "httpmodes: reactor %u: %s\n", i + 1, err);
            rc = 1;
        } else if (pthread_create(&r->t, NULL, reactor_thread, r) != 0) {
            fprintf(stderr, "httpmodes: cannot start reactor %u of %u\n", i + 1, n);
            rc = 1;
        } else {
            started++;
        }
    }
    if (rc != 0 && started > 0) { /* stop the loops already running */
        atomic_store(&s->stopping, 1);
        if (write(s->stop_pipe[1], "x", 1) < 0) {
            /* already readable */
        }
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(rs[i].t, NULL);
    for (unsigned i = 0; i < n; i++) {
        if (rs[i].listen_fd >= 0)
            close(rs[i].listen_fd);
        if (rs[i].tls_listen_fd >= 0)
            close(rs[i].tls_listen_fd);
    }
    free(rs);
    loop_group_free(group);
    return rc;
}
