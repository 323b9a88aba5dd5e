/* blocking: the one connection loop shared by the iterative, threads and
 * prefork models — read, feed the core, sleep through database work, write —
 * with poll() enforcing the core's deadlines. */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include "util.h"

enum { WAIT_READY = 1, WAIT_TIMEOUT = 0, WAIT_STOP = -1 };

/* Waits until fd has events, the deadline (µs, 0 = none) passes, or — when
 * stoppable — the server is stopping. */
static int wait_fd(server *s, int fd, short events, uint64_t deadline, int stoppable) {
    for (;;) {
        if (stoppable && atomic_load(&s->stopping))
            return WAIT_STOP;
        int timeout = -1;
        if (deadline) {
            uint64_t now = util_now_us();
            if (now >= deadline)
                return WAIT_TIMEOUT;
            timeout = (int)((deadline - now + 999) / 1000);
        }
        struct pollfd p[2] = {{.fd = fd, .events = events},
                              {.fd = s->stop_pipe[0], .events = POLLIN}};
        int n = poll(p, stoppable ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR)
            return WAIT_STOP;
        if (n > 0 && p[0].revents)
            return WAIT_READY;
        if (n > 0 && p[1].revents) { /* the signal reached another process of ours */
            atomic_store(&s->stopping, 1);
            return WAIT_STOP;
        }
    }
}

void blocking_serve(server *s, int fd, const char *peer, int refuse_status) {
    char in[16384];
    conn c;
    conn_want w = conn_init(&c, &s->env, peer);
    if (refuse_status)
        w = conn_refuse(&c, refuse_status, "no worker could be started for this connection");
    while (w != CONN_CLOSE) {
        switch (w) {
        case CONN_WANT_READ: {
            int r = wait_fd(s, fd, POLLIN, conn_deadline(&c), conn_idle(&c));
            if (r == WAIT_TIMEOUT) {
                w = conn_timed_out(&c);
                break;
            }
            /* stopping: an idle connection is closed, unless a request is
             * already waiting in it (sent before the signal): that one is
             * still answered, with Connection: close */
            ssize_t n = read(fd, in, sizeof in);
            if (n > 0)
                w = conn_feed(&c, in, (size_t)n);
            else if (n == 0)
                w = conn_eof(&c);
            else if ((errno != EINTR && errno != EAGAIN) || r == WAIT_STOP)
                w = CONN_CLOSE; /* reset by the peer, or nothing waiting at a stop */
            break;
        }
        case CONN_WANT_WRITE: {
            size_t len;
            const char *out = conn_out(&c, &len);
            ssize_t n = send(fd, out, len, MSG_NOSIGNAL);
            if (n >= 0)
                w = conn_wrote(&c, (size_t)n);
            else if (errno == EAGAIN)
                w = wait_fd(s, fd, POLLOUT, conn_deadline(&c), 0) == WAIT_READY ? w : CONN_CLOSE;
            else if (errno != EINTR)
                w = CONN_CLOSE;
            break;
        }
        case CONN_WANT_DB: {
            /* a blocking worker can only wait for one query at a time */
            const db_plan *plan = conn_db(&c);
            for (unsigned i = 0; i < plan->per_batch; i++)
                db_query_blocking(plan->delay_ms);
            w = conn_db_done(&c);
            break;
        }
        case CONN_CLOSE:
            break;
        }
    }
    conn_destroy(&c);
    net_close(fd);
}
