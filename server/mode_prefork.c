/* prefork: a master and a fixed pool of pre-forked worker processes (Apache
 * prefork). Each worker accepts and serves one connection at a time; the
 * master restarts a worker that dies, replaces them all gracefully on SIGHUP
 * (as nginx's master does) and stops them all on SIGTERM/SIGINT.
 * Counters live in shared memory, so /stats from any worker sees them all. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "pgdb.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

static int child_pipe[2]; /* SIGCHLD makes [0] readable: the master's self-pipe */
static pid_t master_pid;  /* the master, so a worker can tell it has been orphaned */

static void on_child(int sig) {
    (void)sig;
    int saved = errno;
    if (write(child_pipe[1], "c", 1) < 0) {
        /* already readable */
    }
    errno = saved;
}

typedef struct worker_slot {
    pid_t pid;           /* running worker, or 0 for an empty slot */
    uint64_t started_us; /* when it was forked */
    uint64_t retry_us;   /* empty slot: when to fork again */
} worker_slot;

/* Forks the worker for slot (1-based, its counter slot). Returns its pid in
 * the master, or -1 if fork failed. */
static pid_t spawn_worker(server *s, unsigned slot) {
    fflush(NULL); /* nothing buffered may be written twice */
    /* Until the worker has its own stop pipe, a SIGTERM sent to it would run
     * the master's handler and write to the master's pipe, stopping the whole
     * server: hold stop signals across the fork, let them in after. */
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGHUP); /* the master's to act on */
    sigprocmask(SIG_BLOCK, &stops, &old);
    pid_t pid = fork();
    if (pid != 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return pid;
    }
    signal(SIGCHLD, SIG_DFL);
    close(child_pipe[0]);
    close(child_pipe[1]);
    close(s->hup_pipe[0]);
    close(s->hup_pipe[1]);
    s->hup_pipe[0] = s->hup_pipe[1] = -1;
    signal(SIGHUP, SIG_IGN);          /* a hangup of the terminal's group: the master decides */
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
    if (getppid() != master_pid)      /* it died before prctl */
        _exit(0);
    /* A SIGTERM sent to this worker alone stops it alone (the master then
     * starts another); the master stops workers with kill() at shutdown. */
    if (signals_own_pipe(s) != 0)
        _exit(1);
    s->at_stop = STOP_KEEP_LISTENING;     /* the listener is the master's to stop */
    sigprocmask(SIG_SETMASK, &old, NULL); /* a stop signal held till now reaches our pipe */
    metrics_set_slot(slot);
    if (s->status_fd >= 0) /* the master's status thread serves it, not us */
        close(s->status_fd);
    blocking_worker(s, slot - 1);
    conn_thread_done();
    pgdb_shutdown(); /* its idle PostgreSQL connections: closed and counted out of the slot */
#if defined(__SANITIZE_ADDRESS__)
    __lsan_do_leak_check(); /* _exit skips the sanitizer's own check at exit */
#endif
    _exit(0);
}

/* Forks a worker into every empty slot whose retry time has come. Returns the
 * time (µs) of the next retry still pending, or 0 when every slot is full. */
static uint64_t fill_slots(server *s, worker_slot *slots, unsigned n) {
    uint64_t now = util_now_us(), next = 0;
    for (unsigned i = 0; i < n; i++) {
        worker_slot *w = &slots[i];
        if (w->pid == 0 && w->retry_us <= now) {
            pid_t pid = spawn_worker(s, i + 1);
            if (pid > 0) {
                w->pid = pid;
                w->started_us = now;
            } else {
                fprintf(stderr, "httpmodes: cannot fork worker %u: %s; retrying in 1 s\n", i + 1,
                        strerror(errno));
                w->retry_us = now + 1000000;
            }
        }
        if (w->pid == 0 && (next == 0 || w->retry_us < next))
            next = w->retry_us;
    }
    return next;
}

/* Workers replaced at a SIGHUP that are finishing their requests: a static
 * for the same reason as master_slots below. */
static pid_t *retiring;
static unsigned nretiring, retiring_cap;

/* Takes pid out of the retiring workers. Returns 1 if it was one. */
static int retired(pid_t pid, int status) {
    for (unsigned i = 0; i < nretiring; i++) {
        if (retiring[i] != pid)
            continue;
        retiring[i] = retiring[--nretiring];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fprintf(stderr, "httpmodes: replaced worker %d ended abnormally (%s %d)\n", (int)pid,
                    WIFSIGNALED(status) ? "signal" : "status",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        /* its counter slot and lane are its successor's now: a clean exit
         * left nothing in them (every connection it closed counted itself out) */
        return 1;
    }
    return 0;
}

/* SIGHUP (nginx's reload): re-reads the TLS certificate files (before the
 * fork, so the new workers share one context and its ticket keys), asks
 * for the access log to be reopened, starts a new worker in every slot and
 * tells the old ones to stop — each finishes the request it is serving,
 * answered with Connection: close, and exits; the listening socket stays
 * open throughout, so no connection is refused or lost. Says what it did in
 * one line. */
static void replace_workers(server *s, worker_slot *slots, unsigned n) {
    char tls_note[800] = "";
    if (s->tls && s->cfg.tls_cert[0]) {
        tls_note[0] = ';';
        tls_note[1] = ' ';
        tls_ctx_reload(s->tls, tls_note + 2, sizeof tls_note - 2);
    }
    access_log_reopen_later(s->env.log);
    if (nretiring + n > retiring_cap) {
        retiring_cap = nretiring + n;
        retiring = xrealloc(retiring, retiring_cap * sizeof *retiring);
    }
    unsigned replaced = 0;
    for (unsigned i = 0; i < n; i++)
        if (slots[i].pid > 0) {
            retiring[nretiring++] = slots[i].pid;
            slots[i].pid = 0;
            slots[i].retry_us = 0;
            replaced++;
        }
    fill_slots(s, slots, n); /* the new ones first: the queue is never without a taker */
    for (unsigned i = nretiring - replaced; i < nretiring; i++)
        kill(retiring[i], SIGTERM);
    metrics_add(&s->env.metrics->reloads, 1);
    fprintf(stderr,
            "httpmodes: SIGHUP: %u workers replaced (the old ones finish their requests and "
            "exit)%s%s%s%s\n",
            replaced, s->env.log ? "; access log " : "", s->env.log ? s->cfg.access_log : "",
            s->env.log ? " reopened" : "", tls_note);
}

/* Reaps every worker that has exited: takes its counters out of the totals
 * and schedules its restart — at once, or after 1 s if it died within 1 s of
 * starting (a worker that cannot run must not become a fork storm). A
 * worker replaced at a SIGHUP is only taken off the list. */
static void reap(server *s, worker_slot *slots, unsigned n) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (retired(pid, status))
            continue;
        for (unsigned i = 0; i < n; i++) {
            worker_slot *w = &slots[i];
            if (w->pid != pid)
                continue;
            uint64_t now = util_now_us();
            if (WIFSIGNALED(status))
                fprintf(stderr, "httpmodes: worker %d killed by signal %d; restarting it\n",
                        (int)pid, WTERMSIG(status));
            else
                fprintf(stderr, "httpmodes: worker %d exited with %d; restarting it\n", (int)pid,
                        WEXITSTATUS(status));
            metrics_release_slot(s->env.metrics, i + 1);
            dbwait_release_owner(s->env.dbpool, pid); /* its pool connections and place in line */
            if (s->env.timeline)                      /* what it was doing when it died is over */
                timeline_lane_release(s->env.timeline, i);
            metrics_add(&s->env.metrics->worker_restarts, 1);
            w->pid = 0;
            w->retry_us = now - w->started_us < 1000000 ? now + 1000000 : now;
        }
    }
}

/* The master's worker table: a static, so that it stays reachable (not a
 * leak to LeakSanitizer) in the workers that inherit it with the fork. */
static worker_slot *master_slots;

int run_prefork(server *s) {
    unsigned n = s->cfg.workers;
    master_slots = xcalloc(n, sizeof *master_slots);
    master_pid = getpid();
    s->crowd_check = 1;             /* a worker sees the listen queue its slow client makes wait */
    s->at_stop = STOP_UNLISTEN_NOW; /* the master refuses new connections at once */
    if (pipe2(child_pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
        pipe2(s->hup_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "httpmodes: pipe: %s\n", strerror(errno));
        free(master_slots);
        master_slots = NULL;
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_child, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    /* Wait for a stop signal, a dead worker or a retry time. Signals arrive
     * through pipes (self-pipe trick), so none is lost between a check and
     * the wait. */
    for (;;) {
        uint64_t next = fill_slots(s, master_slots, n), now = util_now_us();
        int timeout = next == 0 ? -1 : next <= now ? 0 : (int)((next - now + 999) / 1000);
        struct pollfd p[3] = {{.fd = s->stop_pipe[0], .events = POLLIN},
                              {.fd = child_pipe[0], .events = POLLIN},
                              {.fd = s->hup_pipe[0], .events = POLLIN}};
        if (poll(p, 3, timeout) < 0 && errno != EINTR)
            break;
        if (p[0].revents || atomic_load(&s->stopping))
            break;
        char drain[64];
        if (p[1].revents) {
            while (read(child_pipe[0], drain, sizeof drain) > 0) {
            }
            reap(s, master_slots, n);
        }
        if (p[2].revents) {
            while (read(s->hup_pipe[0], drain, sizeof drain) > 0) {
            }
            replace_workers(s, master_slots, n);
        }
    }
    atomic_store(&s->stopping, 1);
    /* Stop: every worker finishes the request it is serving, then exits. */
    signal(SIGCHLD, SIG_DFL);
    for (unsigned i = 0; i < n; i++)
        if (master_slots[i].pid > 0)
            kill(master_slots[i].pid, SIGTERM);
    for (unsigned i = 0; i < n; i++)
        if (master_slots[i].pid > 0)
            while (waitpid(master_slots[i].pid, NULL, 0) < 0 && errno == EINTR) {
            }
    for (unsigned i = 0; i < nretiring; i++) /* replaced ones still finishing: already told */
        while (waitpid(retiring[i], NULL, 0) < 0 && errno == EINTR) {
        }
    free(master_slots);
    master_slots = NULL;
    free(retiring);
    retiring = NULL;
    nretiring = retiring_cap = 0;
    close(child_pipe[0]);
    close(child_pipe[1]);
    close(s->hup_pipe[0]);
    close(s->hup_pipe[1]);
    s->hup_pipe[0] = s->hup_pipe[1] = -1;
    return 0;
}
