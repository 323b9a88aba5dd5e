/* prefork: a master and a fixed pool of pre-forked worker processes (Apache
 * prefork). Each worker accepts and serves one connection at a time; the
 * master restarts a worker that dies and stops them all on SIGTERM/SIGINT.
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

#include "util.h"

static int child_pipe[2]; /* SIGCHLD makes [0] readable: the master's self-pipe */

static void on_child(int sig) {
    (void)sig;
    int saved = errno;
    if (write(child_pipe[1], "c", 1) < 0) {
        /* already readable */
    }
    errno = saved;
}

/* Forks one worker. Returns its pid in the master, or -1 if fork failed. */
static pid_t spawn_worker(server *s) {
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    signal(SIGCHLD, SIG_DFL);
    close(child_pipe[0]);
    close(child_pipe[1]);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
    if (getppid() == 1)
        _exit(0);
    char peer[48];
    int fd;
    while ((fd = accept_blocking(s, peer, sizeof peer)) >= 0)
        blocking_serve(s, fd, peer, 0);
    _exit(0);
}

/* Reaps every worker that has exited and starts a new one in its place. */
static void reap_and_restart(server *s, pid_t *pids, unsigned n) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            if (WIFSIGNALED(status))
                fprintf(stderr, "httpmodes: worker %d killed by signal %d; restarting it\n",
                        (int)pid, WTERMSIG(status));
            else
                fprintf(stderr, "httpmodes: worker %d exited with %d; restarting it\n", (int)pid,
                        WEXITSTATUS(status));
            pid_t again = spawn_worker(s);
            if (again > 0)
                metrics_add(&s->env.metrics->worker_restarts, 1);
            pids[i] = again > 0 ? again : 0;
        }
    }
}

int run_prefork(server *s) {
    unsigned n = s->cfg.workers;
    pid_t *pids = xcalloc(n, sizeof *pids);
    if (pipe2(child_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "httpmodes: pipe: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_child, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    for (unsigned i = 0; i < n; i++) {
        pids[i] = spawn_worker(s);
        if (pids[i] < 0) {
            fprintf(stderr, "httpmodes: cannot fork worker %u: %s\n", i + 1, strerror(errno));
            pids[i] = 0;
        }
    }
    /* Wait for a stop signal or a dead worker. Both arrive through pipes
     * (self-pipe trick), so a signal between a check and a wait is never lost. */
    for (;;) {
        struct pollfd p[2] = {{.fd = s->stop_pipe[0], .events = POLLIN},
                              {.fd = child_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents || atomic_load(&s->stopping))
            break;
        if (p[1].revents) {
            char drain[64];
            while (read(child_pipe[0], drain, sizeof drain) > 0) {
            }
            reap_and_restart(s, pids, n);
        }
    }
    atomic_store(&s->stopping, 1);
    /* Stop: every worker finishes the request it is serving, then exits. */
    signal(SIGCHLD, SIG_DFL);
    for (unsigned i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (unsigned i = 0; i < n; i++)
        if (pids[i] > 0)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {
            }
    free(pids);
    close(child_pipe[0]);
    close(child_pipe[1]);
    return 0;
}
