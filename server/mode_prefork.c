/* prefork: a master and a fixed pool of pre-forked worker processes (Apache
 * prefork). Each worker accepts and serves one connection at a time; the
 * master restarts a worker that dies and stops them all on SIGTERM/SIGINT.
 * Counters live in shared memory, so /stats from any worker sees them all. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "util.h"

/* Forks one worker. Returns its pid in the master, or -1 if fork failed. */
static pid_t spawn_worker(server *s) {
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
    if (getppid() == 1)
        _exit(0);
    char peer[48];
    int fd;
    while ((fd = accept_blocking(s, peer, sizeof peer)) >= 0)
        blocking_serve(s, fd, peer, 0);
    _exit(0);
}

int run_prefork(server *s) {
    unsigned n = s->cfg.workers;
    pid_t *pids = xcalloc(n, sizeof *pids);
    for (unsigned i = 0; i < n; i++) {
        pids[i] = spawn_worker(s);
        if (pids[i] < 0) {
            fprintf(stderr, "httpmodes: cannot fork worker %u: %s\n", i + 1, strerror(errno));
            pids[i] = 0;
        }
    }
    while (!atomic_load(&s->stopping)) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == ECHILD) /* every worker failed to start */
                break;
            continue; /* EINTR: a stop signal, checked above */
        }
        for (unsigned i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            if (WIFSIGNALED(status))
                fprintf(stderr, "httpmodes: worker %d killed by signal %d; restarting it\n",
                        (int)pid, WTERMSIG(status));
            else
                fprintf(stderr, "httpmodes: worker %d exited with %d; restarting it\n", (int)pid,
                        WEXITSTATUS(status));
            metrics_add(&s->env.metrics->worker_restarts, 1);
            pid_t again = atomic_load(&s->stopping) ? 0 : spawn_worker(s);
            pids[i] = again > 0 ? again : 0;
        }
    }
    /* Stop: every worker finishes the request it is serving, then exits. */
    for (unsigned i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (unsigned i = 0; i < n; i++)
        if (pids[i] > 0)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {
            }
    free(pids);
    return 0;
}
