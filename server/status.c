/* status: the status listener — one thread of its own running one libev
 * loop (the same loop driver as the event model) that serves the live view's
 * pages, so it answers within milliseconds whatever the model being shown is
 * doing: an iterative server with a queue, prefork with every worker in a
 * database wait, event with a /cpu burning. It reads what every thread and
 * worker process writes to shared memory; its own connections count nowhere
 * (its counters are its own, and it records no timeline).
 *
 * In a model whose master forks (prefork) it is a process of its own
 * instead: a thread in the master could hold a lock (the allocator's, stdio's)
 * at the moment the master forks a worker, and the worker would inherit the
 * lock held by a thread that does not exist in it — and hang. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "util.h"

static void *status_thread(void *arg) {
    server *s = arg;
    loop_serve(s, &s->status_env, s->status_fd, -1, NULL, NULL);
    conn_thread_done();
    return NULL;
}

/* Forks the status process. Returns its pid in the parent, -1 if fork failed. */
static pid_t status_fork(server *s) {
    pid_t parent = getpid();
    fflush(NULL);        /* nothing buffered may be written twice */
    sigset_t stops, old; /* as for a prefork worker: stop signals wait for its own pipe */
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGHUP); /* the server's to act on, not the live view's */
    sigprocmask(SIG_BLOCK, &stops, &old);
    int named[2]; /* the child says it has its name: no worker is forked before */
    if (pipe(named) != 0)
        named[0] = named[1] = -1;
    pid_t pid = fork();
    if (pid != 0) {
        char c;
        close(named[1]);
        while (pid > 0 && named[0] >= 0 && read(named[0], &c, 1) < 0 && errno == EINTR) {
        }
        close(named[0]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);     /* never outlive the server */
    prctl(PR_SET_NAME, "httpmodes-live"); /* ps and the tests tell it from the workers */
    close(named[0]);
    if (write(named[1], "n", 1) < 0) {
        /* the parent then goes on when the pipe closes */
    }
    close(named[1]);
    if (getppid() != parent || signals_own_pipe(s) != 0)
        _exit(0);
    s->at_stop = STOP_KEEP_LISTENING; /* the main listeners are not ours to stop */
    signal(SIGHUP, SIG_IGN);
    sigprocmask(SIG_SETMASK, &old, NULL);
    loop_serve(s, &s->status_env, s->status_fd, -1, NULL, NULL);
    conn_thread_done();
    metrics_destroy(s->status_env.metrics);
#if defined(__SANITIZE_ADDRESS__)
    __lsan_do_leak_check(); /* _exit skips the sanitizer's own check at exit */
#endif
    _exit(0);
}

int status_start(server *s, unsigned want_port, unsigned *port, int as_process, char *err,
                 size_t errlen) {
    s->status_fd = net_listen(s->cfg.bind, want_port, NET_ALONE, port, err, errlen);
    if (s->status_fd < 0)
        return -1;
    s->status_env = (server_env){.cfg = &s->cfg,
                                 .metrics = metrics_create(), /* its own connections */
                                 .stopping = &s->stopping,
                                 .now_us = util_now_us,
                                 .routes = &route_status,
                                 .listen_fd = -1,
                                 .worker = 0,
                                 .shows = &s->env};
    int rc = -1;
    s->status_pid = 0;
    if (s->status_env.metrics && as_process)
        rc = (s->status_pid = status_fork(s)) > 0 ? 0 : -1;
    else if (s->status_env.metrics)
        rc = pthread_create(&s->status_thread, NULL, status_thread, s);
    if (rc != 0) {
        snprintf(err, errlen, "--status-port: cannot start its %s",
                 as_process ? "process" : "thread");
        metrics_destroy(s->status_env.metrics);
        close(s->status_fd);
        s->status_fd = -1;
        return -1;
    }
    return 0;
}

void status_join(server *s) {
    if (s->status_fd < 0)
        return;
    if (s->status_pid > 0) { /* it stops on its own at a stop signal; not if the server stopped
                                for another reason */
        kill(s->status_pid, SIGTERM);
        while (waitpid(s->status_pid, NULL, 0) < 0 && errno == EINTR) {
        }
    } else {
        pthread_join(s->status_thread, NULL);
    }
    close(s->status_fd);
    s->status_fd = -1;
    metrics_destroy(s->status_env.metrics);
}
