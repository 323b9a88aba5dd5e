/* net: the listening socket, client addresses and shutdown signals. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include "util.h"

/* Binds a socket to addr with SO_REUSEADDR only, and closes it: 0 when
 * nobody listens on that port, -1 with errno set otherwise. */
static int port_unshared(const struct addrinfo *addr) {
    int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1, rc = -1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, addr->ai_addr, addr->ai_addrlen) == 0)
        rc = 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    errno = saved;
    return rc;
}

int net_listen(const char *bind_addr, unsigned want_port, net_share share, unsigned *port,
               char *err, size_t errlen) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", want_port);
    int rc = getaddrinfo(bind_addr, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--bind %s: %s", bind_addr, gai_strerror(rc));
        return -1;
    }
    int fd = -1, one = 1;
    if ((share == NET_SHARE_FIRST && want_port != 0 && port_unshared(res) != 0) ||
        (fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (share != NET_ALONE && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
        snprintf(err, errlen, "cannot listen on %s port %u: %s", bind_addr, want_port,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

void net_defer_accept(const config *cfg, int fd) {
    int secs = (int)cfg->first_byte_s;
    if (!cfg->slow_client_defence || secs == 0 || fd < 0)
        return;
    if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof secs) != 0)
        fprintf(stderr, "httpmodes: TCP_DEFER_ACCEPT: %s (going on without)\n", strerror(errno));
}

static server *signal_target;

static void on_stop_signal(int sig) {
    (void)sig;
    int saved = errno;
    server *s = signal_target;
    atomic_store(&s->stopping, 1);
    if (s->at_stop == STOP_UNLISTEN_NOW) { /* its workers may all be busy: refuse from here */
        net_unlisten(s->listen_fd);
        net_unlisten(s->tls_listen_fd);
    }
    if (write(s->stop_pipe[1], "x", 1) < 0) {
        /* the pipe is already readable: nothing to do */
    }
    errno = saved;
}

/* SIGUSR1: reopen the access log (nginx's convention, for log rotation). */
static void on_reopen_signal(int sig) {
    (void)sig;
    access_log_reopen_later(signal_target->env.log);
}

/* What SIGHUP does outside prefork, said on stderr: made at start-up
 * (snprintf is no function for a signal handler). */
static char hangup_line[1024];
static size_t hangup_len;

/* SIGHUP (nginx's "reload"): re-reads what can change without a restart.
 * prefork's master does it itself, in its loop (s->hup_pipe); elsewhere the
 * access log is reopened before its next line and the TLS certificate files
 * re-read before the next HTTPS connection, by the thread that takes it. */
static void on_hangup_signal(int sig) {
    (void)sig;
    int saved = errno;
    server *s = signal_target;
    if (s->hup_pipe[1] >= 0) {
        if (write(s->hup_pipe[1], "h", 1) < 0) {
            /* already readable: one replacement serves both */
        }
    } else {
        access_log_reopen_later(s->env.log);
        tls_ctx_reload_later(s->tls);
        metrics_add(&s->env.metrics->reloads, 1);
        if (write(2, hangup_line, hangup_len) < 0) {
            /* stderr is gone: nothing to do */
        }
    }
    errno = saved;
}

/* Writes into out what SIGHUP re-reads with cfg (one line, no newline). */
void signals_hangup_text(const config *cfg, char *out, size_t n) {
    int log = cfg->access_log[0] && strcmp(cfg->access_log, "-") != 0;
    int cert = cfg->tls_port != CONFIG_TLS_OFF && cfg->tls_cert[0];
    if (!log && !cert) {
        snprintf(out, n,
                 "nothing to re-read (no --access-log file, no --tls-cert); other "
                 "settings need a restart");
        return;
    }
    snprintf(out, n, "%s%s%s%s%s%s%s; other settings need a restart", log ? "access log " : "",
             log ? cfg->access_log : "", log ? " reopened before its next line" : "",
             log && cert ? "; " : "", cert ? "TLS certificate " : "", cert ? cfg->tls_cert : "",
             cert ? " and its key re-read for the next HTTPS connection" : "");
}

int signals_own_pipe(server *s) {
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    return pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK);
}

int signals_install(server *s) {
    signal_target = s;
    s->hup_pipe[0] = s->hup_pipe[1] = -1; /* prefork's master makes it */
    char what[900];
    signals_hangup_text(&s->cfg, what, sizeof what);
    snprintf(hangup_line, sizeof hangup_line, "httpmodes: SIGHUP: %s\n", what);
    hangup_len = strlen(hangup_line);
    atomic_store(&s->drain_left, NET_DRAIN_MAX);
    if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa = {.sa_handler = SIG_IGN};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: blocking calls see EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_flags = SA_RESTART; /* these two must not disturb what is under way */
    sa.sa_handler = on_reopen_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_hangup_signal;
    sigaction(SIGHUP, &sa, NULL);
    return 0;
}

/* Formats a client's address (numeric IPv4 or IPv6) into out. */
static void net_peer_name(const struct sockaddr_storage *ss, char *out, size_t n) {
    const void *addr = ss->ss_family == AF_INET6
                           ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
                           : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
    if (!inet_ntop(ss->ss_family, addr, out, (socklen_t)n))
        snprintf(out, n, "-");
}

int net_accept(int listen_fd, char *peer, size_t peerlen) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    net_peer_name(&ss, peer, peerlen);
    return fd;
}

void net_unlisten(int fd) {
    if (fd >= 0)
        shutdown(fd, SHUT_RD); /* ENOTCONN when done already: nothing to do */
}

/* At a stop: returns a connection already queued (STOP_DRAIN, up to
 * NET_DRAIN_MAX in all), else stops listening and returns -1. */
static int accept_queued(server *s, char *peer, size_t peerlen, int *tls) {
    if (s->at_stop == STOP_KEEP_LISTENING)
        return -1;
    if (s->at_stop == STOP_DRAIN && atomic_fetch_sub(&s->drain_left, 1) > 0) {
        int fd = net_accept(s->listen_fd, peer, peerlen);
        *tls = fd < 0 && s->tls_listen_fd >= 0;
        if (*tls)
            fd = net_accept(s->tls_listen_fd, peer, peerlen);
        if (fd >= 0)
            return fd;
    }
    net_unlisten(s->listen_fd);
    net_unlisten(s->tls_listen_fd);
    return -1;
}

int accept_blocking(server *s, char *peer, size_t peerlen, int *tls) {
    static _Thread_local unsigned turn; /* both ports busy: take them in turn */
    while (!atomic_load(&s->stopping)) {
        struct pollfd p[3] = {{.fd = s->listen_fd, .events = POLLIN},
                              {.fd = s->tls_listen_fd, .events = POLLIN}, /* -1: ignored */
                              {.fd = s->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            return -1;
        if (p[2].revents || ((p[0].revents | p[1].revents) & POLLHUP)) {
            /* a stop signal (the handler may have run in another thread), or
             * another process of ours stopped listening: the server stops */
            atomic_store(&s->stopping, 1);
            break;
        }
        int plain = (p[0].revents & POLLIN) != 0, secure = (p[1].revents & POLLIN) != 0;
        if (!plain && !secure)
            continue;
        *tls = secure && (!plain || turn++ % 2);
        int fd = net_accept(*tls ? s->tls_listen_fd : s->listen_fd, peer, peerlen);
        if (fd >= 0)
            return fd;
        if (net_accept_failed(s, errno))
            poll(NULL, 0, ACCEPT_PAUSE_MS); /* let connections close rather than spin */
        /* EAGAIN: another worker took it; ECONNABORTED; EINTR */
    }
    return accept_queued(s, peer, peerlen, tls);
}

int net_admit(server *s) {
    if (atomic_fetch_add(&s->serving, 1) < s->cfg.max_connections)
        return 1;
    atomic_fetch_sub(&s->serving, 1);
    metrics_add(&s->env.metrics->refused_conns, 1);
    return 0;
}

void net_release(server *s) {
    atomic_fetch_sub(&s->serving, 1);
}

int net_accept_failed(server *s, int err) {
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return 0;
    metrics *m = s->env.metrics;
    metrics_add(&m->accept_errors, 1);
    /* One line a second for the whole server (every thread and process):
     * the rest are only counted, so a flood cannot fill the disk. */
    uint64_t now = util_now_us(), last = atomic_load(&m->accept_log_us);
    if (now - last >= 1000000 && atomic_compare_exchange_strong(&m->accept_log_us, &last, now))
        fprintf(stderr,
                "httpmodes: accept: %s (raise ulimit -n); pausing accept for %d ms "
                "(%llu failures so far, in /stats as accept_errors)\n",
                strerror(err), ACCEPT_PAUSE_MS, (unsigned long long)atomic_load(&m->accept_errors));
    return 1;
}

server_env worker_env(server *s, unsigned lane) {
    server_env env = s->env;
    env.lane = lane;
    env.worker = util_worker_id();
    if (env.timeline)
        timeline_lane_claim(env.timeline, lane, env.worker);
    return env;
}

int net_handshake(transport *t, conn *c, conn_want w, conn_want *next) {
    int r = t->handshook ? 0 : transport_handshake(t);
    if (r == TRANSPORT_WANT_READ || r == TRANSPORT_WANT_WRITE)
        return r;
    *next = r == 0                     ? w
            : r == TRANSPORT_PLAINTEXT ? conn_refuse(c, 400, TLS_PLAINTEXT_WHY)
                                       : CONN_CLOSE;
    return 0;
}

void net_close(int fd) {
    /* Send our FIN first and discard what the client already sent: closing
     * with unread bytes would make the kernel reset the connection, and the
     * client could lose the response (an error page above all). */
    char sink[4096];
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < 16 && read(fd, sink, sizeof sink) > 0; i++) {
    }
    close(fd);
}

void net_abort(int fd) {
    /* a reset frees the kernel's send buffer at once: closing normally would
     * leave it trickling to the slow reader for as long as it likes */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

int net_send_overdue(conn *c, int fd, int crowded) {
    int unsent = 0;
    if (ioctl(fd, SIOCOUTQ, &unsent) != 0 || unsent < 0)
        unsent = 0; /* unknown: count everything written as received */
    conn_unsent(c, (size_t)unsent);
    uint64_t deadline = crowded ? conn_crowded_deadline(c) : conn_deadline(c);
    return deadline && util_now_us() >= deadline;
}
