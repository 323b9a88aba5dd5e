/* server: what the mode drivers share — the listening socket, shutdown
 * signalling, and the one blocking connection loop of the three blocking
 * models. Each model is one small file: mode_iterative.c, mode_threads.c,
 * mode_prefork.c, mode_event.c. */
#ifndef HTTPMODES_SERVER_H
#define HTTPMODES_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "accesslog.h"
#include "config.h"
#include "conn.h"
#include "dbpool.h"
#include "metrics.h"
#include "tls.h"

/* What a stop does to the listening sockets (see net_unlisten). */
typedef enum {
    STOP_DRAIN,         /* take what is queued (up to NET_DRAIN_MAX), then stop listening */
    STOP_UNLISTEN_NOW,  /* the signal handler stops listening at once (bounded models) */
    STOP_KEEP_LISTENING /* a prefork worker stopped alone: the others go on serving */
} stop_listen;

/* At most this many connections already queued are taken at a stop. */
#define NET_DRAIN_MAX 4096

typedef struct server {
    config cfg;              /* settings */
    server_env env;          /* what the core sees: cfg, metrics, log, stopping */
    int listen_fd;           /* non-blocking listening socket (HTTP) */
    int tls_listen_fd;       /* the HTTPS one, or -1 without --tls-port */
    unsigned tls_port;       /* its port (the real one when --tls-port 0) */
    int status_fd;           /* the status listener's socket, or -1 */
    server_env status_env;   /* what the status listener's connections see */
    pthread_t status_thread; /* runs the status listener's loop (a thread) */
    pid_t status_pid;        /* or its process (a model whose master forks), else 0 */
    tls_ctx *tls;            /* certificate and TLS policy, or NULL */
    atomic_int stopping;     /* set by SIGTERM/SIGINT: stop accepting, finish, exit */
    int stop_pipe[2];        /* [0] becomes readable once stopping (poll on it) */
    int hup_pipe[2];         /* prefork's master: [0] readable after SIGHUP; else -1 */
    int crowd_check;         /* 1: a blocking worker watches the listen queue (see blocking.c) */
    stop_listen at_stop;     /* what a stop does to the listening sockets */
    atomic_int drain_left;   /* STOP_DRAIN: queued connections still to take at a stop */
    atomic_uint serving;     /* connections this process serves now (--max-connections) */
} server;

/* How a listening socket shares its port. */
typedef enum {
    NET_ALONE,       /* the port is ours alone */
    NET_SHARE_FIRST, /* SO_REUSEPORT, and the first: the port must be free */
    NET_SHARE_JOIN,  /* SO_REUSEPORT beside our first socket (the reactors) */
} net_share;

/* Opens a listening socket on bind, want_port (0 = any free port)
 * (SO_REUSEADDR, non-blocking; SO_REUSEPORT unless NET_ALONE, so that several
 * sockets of ours share the port). NET_SHARE_FIRST first checks that nobody
 * listens there: SO_REUSEPORT alone would let a second server of the same
 * user share the port silently. Returns the fd and stores the bound port in
 * *port; -1 with a message in err. */
int net_listen(const char *bind, unsigned want_port, net_share share, unsigned *port, char *err,
               size_t errlen);

/* With --slow-client-defence on and a --first-byte-timeout, sets
 * TCP_DEFER_ACCEPT on the listening socket fd: the kernel hands a connection
 * over only once its first bytes have come (or, for one that stays silent,
 * after about that many seconds more), so an idle-connect flood waits in the
 * kernel while clients that send are accepted ahead of it. */
void net_defer_accept(const config *cfg, int fd);

/* Stops listening on fd (-1: nothing): shutdown(SHUT_RD) on a listening
 * socket, so that new connections are refused at once (ECONNREFUSED: a
 * client or load balancer tries elsewhere) while the descriptor stays valid
 * for every thread and process polling it; the connections still queued are
 * reset. Async-signal-safe. */
void net_unlisten(int fd);

/* Closes a connection without losing the response just sent (see net.c). */
void net_close(int fd);

/* Closes a connection with a reset (SO_LINGER 0), dropping what the kernel
 * still holds for it: for a response cut because its client reads too
 * slowly (nginx's reset_timedout_connection). */
void net_abort(int fd);

/* A response leaving c over socket fd reached conn_deadline(): tells the
 * core how much of it the client has received (conn_unsent, from the
 * kernel's SIOCOUTQ). Returns 1 when the deadline stands — cut the client
 * (conn_timed_out, then net_abort) — or 0 when it reads at --min-send-rate
 * and has earned more time: wait again, until conn_deadline(c) — or with
 * crowded (a blocking worker others queue for) conn_crowded_deadline(c). */
int net_send_overdue(conn *c, int fd, int crowded);

/* Installs the signal handling of every mode: SIGPIPE ignored; SIGTERM and
 * SIGINT set s->stopping and make s->stop_pipe[0] readable, which every wait
 * (poll in the blocking modes, an ev_io in the event loop) watches — with
 * s->at_stop STOP_UNLISTEN_NOW they also stop listening; SIGUSR1
 * reopens the access log (in every worker, before its next line); SIGHUP
 * re-reads what can change without a restart — the access log and the
 * --tls-cert files (signals_hangup_text), counted in /stats (reloads) — and
 * says so on stderr, or, once prefork's master has made s->hup_pipe, only
 * makes that readable (the master replaces its workers). Returns 0 or -1. */
int signals_install(server *s);

/* Writes into out (n bytes) what SIGHUP re-reads under cfg, one line. */
void signals_hangup_text(const config *cfg, char *out, size_t n);

/* Gives this process a stop pipe of its own (a prefork worker, after fork):
 * a signal to it then stops it alone. Returns 0 or -1. */
int signals_own_pipe(server *s);

/* Accepts one connection: non-blocking, TCP_NODELAY, the client's address
 * in peer. Returns the fd, or -1 with errno from accept4(). */
int net_accept(int listen_fd, char *peer, size_t peerlen);

/* How long a driver stops accepting after running out of descriptors. */
#define ACCEPT_PAUSE_MS 100

/* Handles an accept() failure with errno err. Returns 1 when it was for
 * lack of descriptors or memory — counted in /stats (accept_errors) and
 * logged at most once a second for the whole server — and the caller must
 * pause accepting for ACCEPT_PAUSE_MS; 0 for a passing error (EAGAIN,
 * ECONNABORTED, EINTR) to ignore. */
int net_accept_failed(server *s, int err);

/* What a connection over --max-connections is answered, with 503. */
#define NET_FULL_WHY "the server is serving --max-connections connections already"

/* Counts a new connection against --max-connections (per process). Returns
 * 1 when it may be served (net_release it when done); 0 when the process is
 * full — counted in /stats (connections.refused) — and the caller answers
 * it 503 (NET_FULL_WHY) at once, without reading its request. */
int net_admit(server *s);
/* A connection net_admit let in has closed. */
void net_release(server *s);

/* Waits for a connection on either listening socket. Returns a
 * non-blocking connected fd, the client's address in peer and in *tls
 * whether it came to the HTTPS port. Once stopping, returns what was
 * already queued (with STOP_DRAIN), then -1, having stopped listening. */
int accept_blocking(server *s, char *peer, size_t peerlen, int *tls);

/* Serves one connection to its end with blocking waits (poll with the
 * core's deadlines), over TLS when tls, then closes fd. env is what the core
 * sees: the driver's copy of s->env with its lane and worker id. The TLS
 * handshake shares the first request's deadline (--first-byte-timeout). With
 * s->crowd_check, a connection whose worker other connections are queueing
 * for (a listening socket is readable) waits only conn_crowded_deadline().
 * refuse != NULL answers 503 at once instead, saying why (over
 * --max-connections; threads mode when no thread could be made); over TLS
 * it just closes. */
void blocking_serve(server *s, const server_env *env, int fd, const char *peer, int tls,
                    const char *refuse);
/* Returns what the core sees in a worker serving lane from the calling
 * thread: s->env with that lane and this thread's id (X-Worker), the lane
 * claimed on the live view's scoreboard. Every driver makes its workers so. */
server_env worker_env(server *s, unsigned lane);

/* The accept-and-serve loop of a blocking worker that serves one connection
 * at a time (iterative, each prefork process, each pool thread): claims
 * lane for the calling thread on the scoreboard, then serves connections
 * until the server stops. */
void blocking_worker(server *s, unsigned lane);

/* A fixed pool of threads running jobs in FIFO order (offload's CPU pool). */
typedef struct work_pool work_pool;
typedef struct loop_group loop_group;

/* Runs one libev loop in the calling thread, serving listen_fd (and
 * tls_listen_fd, -1 for none) with env until the server stops (the event
 * model, each reactor, offload, and the status listener). With a pool, page
 * CPU work runs on the pool and the loop goes on serving (offload); without,
 * it runs in the loop, which stops for it (the event model's lesson).
 * Returns 0, or 1 when no loop could be made. */
int loop_serve(server *s, const server_env *env, int listen_fd, int tls_listen_fd, work_pool *pool,
               loop_group *g);

/* The loops of reactors, which keep about as many connections each: a
 * loop that accepts a connection while it has more than the least loaded
 * loop hands it to that one (an fd passed between threads). Loop lane i is
 * member i. */
loop_group *loop_group_new(unsigned n);
void loop_group_free(loop_group *g);

/* Starts n threads. Returns the pool, or NULL (said on stderr) when none
 * could be started. */
work_pool *work_pool_start(unsigned n);

/* Queues fn(a, b) to run on one of the pool's threads. Returns 0, or -1
 * when there is no memory to queue it (the caller runs it itself). */
int work_pool_submit(work_pool *p, void (*fn)(void *a, void *b), void *a, void *b);

/* Runs what is queued, then ends the threads and frees p (NULL: nothing). */
void work_pool_stop(work_pool *p);

/* Carries out the current database batch of c with blocking waits, one
 * query after another, each timed for the timeline (blocking workers; and an
 * event loop asked for /db?blocking=1). Returns conn_db_done(). */
conn_want db_run_blocking(conn *c);

/* ---- the database pool's waits and wake-ups (dbwait.c) -------------------- */

/* Gets a pool connection for *t, blocking the calling thread on its queue
 * entry's futex word while it waits (no busy wait). Returns what
 * dbpool_acquire said: DBPOOL_HELD (at once), DBPOOL_QUEUED (waited; t is
 * held now) or DBPOOL_FULL (nothing held). */
int dbwait_block(dbpool *p, dbpool_ticket *t);

/* Gets a pool connection for one query of c (p may be NULL: nothing to
 * get), blocking the calling thread on its queue entry's futex word while
 * it waits (no busy wait). Returns 0 with *t held — the wait shown as a
 * dbqueue phase of c — or -1 when the queue is full. */
int dbwait_acquire_blocking(dbpool *p, conn *c, dbpool_ticket *t);

/* Gives t's connection back and wakes whoever it went to. */
void dbwait_release(dbpool *p, dbpool_ticket *t);

/* Gives t up whatever its state (queued or held), waking whoever its
 * connection went to. */
void dbwait_cancel(dbpool *p, dbpool_ticket *t);

/* Wakes a waiter a connection was handed to: its futex word (a blocking
 * worker, in any process) and its loop's eventfd (a loop of this process). */
void dbwait_wake(const dbpool_wake *w);

/* A prefork worker died: gives back its pool connections and its place in
 * the queue (p may be NULL). */
void dbwait_release_owner(dbpool *p, pid_t pid);

/* What a request whose query found the pool's queue full is answered, 503. */
#define DBWAIT_FULL_WHY "the database connection pool's queue is full (--db-pool)"

/* Starts the status listener (--status-port): its own thread and libev
 * loop serving the live view — or, as_process (a model whose master forks),
 * its own process. Prints nothing; fills *port. Returns 0, or -1 with a
 * message in err (the port cannot be bound). */
int status_start(server *s, unsigned want_port, unsigned *port, int as_process, char *err,
                 size_t errlen);

/* Waits for the status listener to finish (after a stop). */
void status_join(server *s);

/* What the drivers answer on the HTTPS port to a plain HTTP request. */
#define TLS_PLAINTEXT_WHY "this port speaks HTTPS: use an https:// URL"

/* Advances t's TLS handshake (nothing to do for plain TCP) for connection c,
 * whose next step once the transport is ready is w. Returns
 * TRANSPORT_WANT_READ / TRANSPORT_WANT_WRITE (wait for the socket, then call
 * again), or 0 with *next set: w when the handshake is done, a 400 for a
 * client that spoke plain HTTP to the HTTPS port, CONN_CLOSE when it failed.
 * The one mapping from handshake results to the core, for every driver. */
int net_handshake(transport *t, conn *c, conn_want w, conn_want *next);

/* --probe URL: one GET; returns the exit code (0 when it answered 2xx/3xx,
 * 1 otherwise, 2 for a malformed URL), having printed why on stderr. */
int probe_run(const char *url);

/* The models (modes.h). Each returns the process exit code once stopped. */
int run_iterative(server *s);
int run_threads(server *s);
int run_prefork(server *s);
int run_event(server *s);
int run_pool(server *s);
int run_reactors(server *s);
int run_offload(server *s);

#endif
