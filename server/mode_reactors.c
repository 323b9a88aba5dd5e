/* reactors: --workers libev loops (default one per CPU), one per thread,
 * each pinned to a CPU and with its own SO_REUSEPORT listening socket (nginx
 * with worker_processes auto and worker_cpu_affinity auto, lwan). Each loop
 * is the event model: waits overlap by the thousand; and the loops run in
 * parallel, so CPU work uses every core.
 *
 * Which loop takes a connection: a classic BPF program on the SO_REUSEPORT
 * group sends it to the loop on the CPU that handled its first packet (for a
 * loopback client, the CPU the client ran on), so a client and its loop
 * share a core and wake each other without crossing cores; and a loop with
 * no connection yet is handed the next one (mode_event.c hand_off), so two
 * connections from one client thread still use two cores on /cpu.
 *
 * Why one listener per loop, not one shared: with a shared socket every loop
 * wakes for every new connection and all but one find nothing (the
 * thundering herd), and the busiest loop tends to win the accept race. The
 * cost: a connection queued behind a loop burning CPU waits for that loop
 * even while another is free. */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <sys/socket.h>

#include "pages.h"
#include "util.h"

typedef struct reactor {
    server *s;         /* the server */
    unsigned lane;     /* its lane: its index */
    int serve_fd;      /* the listener it serves (SO_REUSEPORT, one per loop) */
    int serve_tls_fd;  /* and HTTPS one, or -1 */
    int listen_fd;     /* serve_fd when this driver opened it (to close), else -1 */
    int tls_listen_fd; /* likewise for serve_tls_fd */
    int cpu;           /* the CPU it runs on, or -1: wherever the scheduler puts it */
    loop_group *group; /* the loops it balances with */
    pthread_t t;       /* the thread */
} reactor;

static void *reactor_thread(void *arg) {
    reactor *r = arg;
    if (r->cpu >= 0) { /* its connections' packets are handled on this CPU (steer) */
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(r->cpu, &one);
        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    }
    server_env env = worker_env(r->s, r->lane);
    loop_serve(r->s, &env, r->serve_fd, r->serve_tls_fd, NULL, r->group);
    pages_thread_done();
    return NULL;
}

/* The CPUs this process may use (--cpus, taskset), in order: cpus[i] for
 * loop i (mod their number). Returns how many, 0 when unknown. */
static unsigned allowed_cpus(int *cpus, unsigned max) {
    cpu_set_t set;
    unsigned k = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    for (int c = 0; c < CPU_SETSIZE && k < max; c++)
        if (CPU_ISSET(c, &set))
            cpus[k++] = c;
    return k;
}

/* Steers each new connection to the loop on the CPU that handled its first
 * packet (for a loopback client, the CPU it ran on): a classic BPF program
 * on the SO_REUSEPORT group (loop i's socket is the group's i-th) mapping
 * CPU cpus[i] to socket i. Client and loop then share a core's caches and
 * wake each other without crossing cores: with wrk's two threads on two
 * CPUs, /hello went from 205,000 to 330,000 req/s. When every connection
 * comes from one CPU the loops balance them (hand_off in mode_event.c).
 * Without the program (an old kernel) the kernel hashes, as before. */
static void steer(int fd, const int *cpus, unsigned ncpus, unsigned n) {
    if (fd < 0 || ncpus == 0 || ncpus > 255)
        return;
    struct sock_filter code[2 * 255 + 2];
    unsigned k = 0;
    code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_CPU);
    for (unsigned i = 0; i < ncpus; i++) { /* cpu == cpus[i]: socket i mod n */
        code[k++] =
            (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)cpus[i], 0, 1);
        code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, i % n);
    }
    code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, n); /* out of range: the hash */
    struct sock_fprog prog = {.len = (unsigned short)k, .filter = code};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
        fprintf(stderr,
                "httpmodes: reactors: SO_ATTACH_REUSEPORT_CBPF: %s (connections "
                "are hashed to the loops)\n",
                strerror(errno));
}

int run_reactors(server *s) {
    unsigned n = s->cfg.workers, started = 0;
    reactor *rs = xcalloc(n, sizeof *rs);
    loop_group *group = loop_group_new(n);
    int cpus[CPU_SETSIZE];
    unsigned ncpus = allowed_cpus(cpus, CPU_SETSIZE);
    char err[256];
    int rc = 0;
    for (unsigned i = 0; i < n; i++)
        rs[i].listen_fd = rs[i].tls_listen_fd = -1;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        reactor *r = &rs[i];
        r->s = s;
        r->lane = i;
        r->group = group;
        r->cpu = ncpus ? cpus[i % ncpus] : -1;
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
        if (i + 1 == n && fd >= 0) { /* every socket has joined its group */
            steer(rs[0].serve_fd, cpus, ncpus, n);
            steer(rs[0].serve_tls_fd, cpus, ncpus, n);
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
