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

typedef struct server {
    config cfg;          /* settings */
    server_env env;      /* what the core sees: cfg, metrics, log, stopping */
    int listen_fd;       /* non-blocking listening socket */
    atomic_int stopping; /* set by SIGTERM/SIGINT: stop accepting, finish, exit */
    int stop_pipe[2];    /* [0] becomes readable once stopping (poll on it) */
} server;

/* Opens the listening socket for cfg (SO_REUSEADDR, non-blocking). Returns
 * the fd and stores the bound port in *port; -1 with a message in err. */
int net_listen(const config *cfg, unsigned *port, char *err, size_t errlen);

/* Closes a connection without losing the response just sent (see net.c). */
void net_close(int fd);

/* Installs the signal handling of every mode: SIGPIPE ignored; SIGTERM and
 * SIGINT set s->stopping and make s->stop_pipe[0] readable, which every wait
 * (poll in the blocking modes, an ev_io in the event loop) watches.
 * Returns 0 or -1. */
int signals_install(server *s);

/* Gives this process a stop pipe of its own (a prefork worker, after fork):
 * a signal to it then stops it alone. Returns 0 or -1. */
int signals_own_pipe(server *s);

/* Accepts one connection: non-blocking, TCP_NODELAY, the client's address
 * in peer. Returns the fd, or -1 with errno from accept4(). */
int net_accept(int listen_fd, char *peer, size_t peerlen);

/* Waits for a connection on the listening socket. Returns a non-blocking
 * connected fd and the client's address in peer; -1 once stopping. */
int accept_blocking(server *s, char *peer, size_t peerlen);

/* Serves one connection to its end with blocking waits (poll with the
 * core's deadlines), then closes fd. refuse_status != 0 answers that status
 * at once instead (threads mode when no thread could be created). */
void blocking_serve(server *s, int fd, const char *peer, int refuse_status);

/* --probe URL: one GET; returns the exit code (0 when it answered 2xx/3xx,
 * 1 otherwise, 2 for a malformed URL), having printed why on stderr. */
int probe_run(const char *url);

/* The four models. Each returns the process exit code once stopped. */
int run_iterative(server *s);
int run_threads(server *s);
int run_prefork(server *s);
int run_event(server *s);

#endif
