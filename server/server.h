/* server: what the mode drivers share — the listening socket, shutdown
 * signalling, and the one blocking connection loop of the three blocking
 * models. Each model is one small file: mode_iterative.c, mode_threads.c,
 * mode_prefork.c, mode_event.c. */
#ifndef HTTPMODES_SERVER_H
#define HTTPMODES_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "accesslog.h"
#include "config.h"
#include "conn.h"
#include "metrics.h"
#include "tls.h"

typedef struct server {
    config cfg;          /* settings */
    server_env env;      /* what the core sees: cfg, metrics, log, stopping */
    int listen_fd;       /* non-blocking listening socket (HTTP) */
    int tls_listen_fd;   /* the HTTPS one, or -1 without --tls-port */
    tls_ctx *tls;        /* certificate and TLS policy, or NULL */
    atomic_int stopping; /* set by SIGTERM/SIGINT: stop accepting, finish, exit */
    int stop_pipe[2];    /* [0] becomes readable once stopping (poll on it) */
    int crowd_check;     /* 1: a blocking worker watches the listen queue (see blocking.c) */
} server;

/* Opens a listening socket on bind, want_port (0 = any free port)
 * (SO_REUSEADDR, non-blocking). Returns the fd and stores the bound port in
 * *port; -1 with a message in err. */
int net_listen(const char *bind, unsigned want_port, unsigned *port, char *err, size_t errlen);

/* With --slow-client-defence on and a --first-byte-timeout, sets
 * TCP_DEFER_ACCEPT on the listening sockets: the kernel hands a connection
 * over only once its first bytes have come (or, for one that stays silent,
 * after about that many seconds more), so an idle-connect flood waits in the
 * kernel while clients that send are accepted ahead of it. */
void net_defer_accept(server *s);

/* Closes a connection without losing the response just sent (see net.c). */
void net_close(int fd);

/* Installs the signal handling of every mode: SIGPIPE ignored; SIGTERM and
 * SIGINT set s->stopping and make s->stop_pipe[0] readable, which every wait
 * (poll in the blocking modes, an ev_io in the event loop) watches; SIGUSR1
 * reopens the access log (in every worker, before its next line); SIGHUP is
 * answered with a line on stderr and nothing else. Returns 0 or -1. */
int signals_install(server *s);

/* Gives this process a stop pipe of its own (a prefork worker, after fork):
 * a signal to it then stops it alone. Returns 0 or -1. */
int signals_own_pipe(server *s);

/* Accepts one connection: non-blocking, TCP_NODELAY, the client's address
 * in peer. Returns the fd, or -1 with errno from accept4(). */
int net_accept(int listen_fd, char *peer, size_t peerlen);

/* Waits for a connection on either listening socket. Returns a
 * non-blocking connected fd, the client's address in peer and in *tls
 * whether it came to the HTTPS port; -1 once stopping. */
int accept_blocking(server *s, char *peer, size_t peerlen, int *tls);

/* Serves one connection to its end with blocking waits (poll with the
 * core's deadlines), over TLS when tls, then closes fd. The TLS handshake
 * shares the first request's deadline (--first-byte-timeout). With
 * s->crowd_check, a connection whose worker other connections are queueing
 * for (a listening socket is readable) waits only conn_crowded_deadline(). refuse_status != 0
 * answers that status at once instead (threads mode when no thread could be made). */
void blocking_serve(server *s, int fd, const char *peer, int tls, int refuse_status);

/* What the drivers answer on the HTTPS port to a plain HTTP request. */
#define TLS_PLAINTEXT_WHY "this port speaks HTTPS: use an https:// URL"

/* --probe URL: one GET; returns the exit code (0 when it answered 2xx/3xx,
 * 1 otherwise, 2 for a malformed URL), having printed why on stderr. */
int probe_run(const char *url);

/* The four models. Each returns the process exit code once stopped. */
int run_iterative(server *s);
int run_threads(server *s);
int run_prefork(server *s);
int run_event(server *s);

#endif
