/* conn: the I/O-free per-connection state machine — the one request-handling
 * core every concurrency model runs. It is fed bytes and says what it wants
 * next; it never sees a socket, a thread, a process or an event watcher.
 *
 *   driver                               core
 *   ------                               ----
 *   read() -> conn_feed(c, bytes)    ->  CONN_WANT_READ / _WRITE / _DB / _CLOSE
 *   write(conn_out(c)) -> conn_wrote ->  ...
 *   wait conn_db(c) -> conn_db_done  ->  ...
 *   read() == 0 -> conn_eof          ->  ...
 *   now > conn_deadline(c) -> conn_timed_out
 *
 * One request is handled at a time: llhttp pauses after each complete
 * message and the bytes after it (pipelined requests) wait in the
 * connection until the response has been written. */
#ifndef HTTPMODES_CONN_H
#define HTTPMODES_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "buf.h"
#include "route.h"

typedef enum {
    CONN_WANT_READ,  /* give me bytes (conn_feed / conn_eof) */
    CONN_WANT_WRITE, /* write conn_out() and report with conn_wrote() */
    CONN_WANT_DB,    /* carry out conn_db() and report with conn_db_done() */
    CONN_WANT_WORK,  /* run conn_work() (in place, or on another thread), then conn_work_done() */
    CONN_CLOSE       /* close the connection and conn_destroy() it */
} conn_want;

typedef enum {
    CS_READING, /* reading a request (or idle between requests) */
    CS_DB,      /* waiting for the simulated database */
    CS_WORK,    /* its page's CPU work is being run (conn_work) */
    CS_WRITING, /* writing a final response */
    CS_INTERIM, /* writing "100 Continue", then back to reading */
    CS_CLOSED   /* nothing more to do */
} conn_state;

/* What belongs to one request while it is read and dispatched: one struct,
 * reset as a whole with one assignment (conn_request_fresh), so a field
 * added later cannot be left over from the request before. */
typedef struct conn_request {
    uint8_t head_done;       /* 1 once the request head is complete */
    uint8_t expect_continue; /* 1 when the request asked for 100-continue */
    uint8_t cur_header;      /* which header the value being parsed belongs to */
    uint8_t match_bits;      /* known header names (or the Expect value) still matching */
    uint8_t match_pos;       /* bytes of the name (or Expect value) seen so far */
    uint8_t saw_te;          /* 1 when a Transfer-Encoding header was present */
    uint8_t value_pieces;    /* 1 once part of the current header value arrived */
    uint8_t value_cut;       /* 1 when that part ended at the end of a read */
    uint8_t host_count;      /* Host headers seen */
    uint16_t err_status;     /* status a parser callback decided on (400, 413, 414, 431) */
    const char *err_msg;     /* why a parser callback stopped (with err_status) */
    uint32_t head_bytes;     /* request line + header bytes so far */
    uint32_t host_off;       /* offset of the Host value in head (UINT32_MAX: none) */
    uint32_t accept_off;     /* offset of the Accept value in head (UINT32_MAX: none) */
    uint64_t begin_us;       /* the request's first byte arrived */
    uint64_t start_us;       /* the request was dispatched to its page */
    uint64_t db_start_us;    /* the current page started waiting on the database */
    uint64_t batch_start_us; /* the current database batch began */
    unsigned db_batches;     /* database batches done for the current page */
    unsigned db_marked;      /* queries of the current batch the driver timed itself */
    uint64_t batch_queue_us; /* the longest pool wait of the current batch's queries */
    const route *route;      /* the page handling the current request, or NULL */
    page_id page;            /* counter bucket of the current request */
    size_t body_held;        /* bytes of the --max-body-memory budget this body holds */
} conn_request;

/* Everything one request needs, from its first byte until its response has
 * left: taken when a request begins (or an error is answered), kept across
 * pipelined requests, given back when the connection goes idle (to the
 * thread's spare, conn.c) — so an idle keep-alive connection holds only
 * struct conn (the idle-memory goal: loadtest/idle-connections). */
typedef struct conn_exchange {
    conn_request r;    /* the request being read or dispatched */
    buf head;          /* target, NUL, then the Host and Accept values, NUL-ended */
    buf body;          /* request body */
    buf out;           /* response bytes being written */
    size_t out_off;    /* bytes of out already written */
    http_req req;      /* the current request, as pages see it */
    http_resp resp;    /* the current response */
    page_call call;    /* the current page's parameters and plan */
    size_t body_bytes; /* body bytes of the response being sent (for the access log) */
    uint64_t clock_us; /* the time read once in this call (see clock_held), 0 = not yet */
} conn_exchange;

typedef struct conn {
    llhttp_t parser;       /* llhttp state; parser.data points back here */
    const server_env *env; /* settings, counters, log (borrowed) */
    const char *exec_end;  /* end of the bytes llhttp is parsing now (only during parse) */
    buf pending;           /* unparsed bytes after the current request (pipelining) */
    size_t pending_off;    /* first unparsed byte in pending */
    uint64_t phase_us;     /* start of the current phase (see conn_deadline) */
    uint64_t accepted_us;  /* conn_init: when the connection was accepted */
    uint64_t phase_bytes;  /* bytes fed since phase_us (--min-rate); of a response, the
                              bytes its client has received (--min-send-rate) */
    conn_exchange *x;      /* the request under way; NULL while idle */
    uint32_t requests;     /* responses completed on this connection */
    uint8_t state;         /* a conn_state */
    uint8_t in_message;    /* 1 between the first byte of a request and its end */
    uint8_t peer_eof;      /* 1 after the client closed its sending side */
    uint8_t close_after;   /* 1 to close once the current response is written */
    uint8_t board;         /* the board_state it is counted in on the scoreboard */
    uint8_t peer_len;      /* the client's address for the access log: 4 or 16 bytes */
    uint8_t no_memory;     /* 1: no exchange could be had; writing the static 503 */
    uint8_t clock_held;    /* 1 in conn_feed, _wrote, _db_done, _work_done: clock read once */
    uint16_t static_off;   /* bytes of that 503 already written */
    uint8_t peer[16];      /* (binary, 0 bytes when unknown), formatted only to log */
} conn;

/* Sets up c (caller-owned storage) for a new connection from peer (may be
 * NULL). Counts it in env->metrics. Returns what the driver should do first
 * (always CONN_WANT_READ). */
conn_want conn_init(conn *c, const server_env *env, const char *peer);

/* Releases everything c holds (c itself is the caller's). Safe in any state. */
void conn_destroy(conn *c);

/* Releases what the core keeps per thread (the spare exchange its
 * connections reuse, and pages_thread_done's). A driver calls it before a
 * thread that served connections or ran pages ends. */
void conn_thread_done(void);

/* Bytes arrived (n > 0; copied as needed, in is not kept). Only valid while
 * the last want was CONN_WANT_READ. */
conn_want conn_feed(conn *c, const char *in, size_t n);

/* The client closed its sending side (read returned 0). */
conn_want conn_eof(conn *c);

/* Returns the bytes waiting to be written and their count in *len
 * (borrowed: valid until the next call on c). */
const char *conn_out(const conn *c, size_t *len);

/* n bytes of conn_out() were written. */
conn_want conn_wrote(conn *c, size_t n);

/* Returns the database work to carry out now: per_batch independent queries
 * of delay_ms each (batches is the page's total; the core asks once per batch). */
const db_plan *conn_db(const conn *c);

/* Optional, for a driver that runs a batch's queries one at a time: one
 * query of the current batch ran from start_us to end_us (the timeline
 * shows it so). Queries not reported are shown spanning the whole batch. */
void conn_db_query(conn *c, uint64_t start_us, uint64_t end_us);

/* Returns how long (µs) the next query of the current batch takes: the
 * plan's delay, drawn from its distribution (db_draw_us) with a number
 * unique across the server (the pool's draw counter; 0.. without a pool). */
uint64_t conn_db_next_us(conn *c);

/* Optional, for a driver with a bounded pool (--db-pool): one query of the
 * current batch waited for a connection from start_us to end_us — shown as
 * a dbqueue phase, and the batch's longest such wait is added to
 * X-DB-Queue-Us. */
void conn_db_queued(conn *c, uint64_t start_us, uint64_t end_us);

/* The current batch cannot be carried out (the pool's queue is full):
 * answers 503 with why and closes after it. */
conn_want conn_db_fail(conn *c, const char *why);

/* The work from conn_db() is done. */
conn_want conn_db_done(conn *c);

/* How long, with --slow-client-defence on, a request head or body may take
 * to arrive at less than --min-rate before the rate is enforced. */
#define CONN_MIN_RATE_GRACE_US 1000000u

/* What a blocking worker that other connections are queueing for gives a
 * request not yet complete (see conn_crowded_deadline). */
#define CONN_CROWDED_US 100000u

/* Runs the current page's CPU work (the last want was CONN_WANT_WORK). Any
 * thread may call it, one at a time per connection, while the driver touches
 * nothing else of c: an event loop may hand it to a thread pool and go on
 * serving. */
void conn_work(conn *c);

/* The work from conn_work() is done (called in the driver's thread). */
conn_want conn_work_done(conn *c);

/* Returns the monotonic time (µs) by which the current wait must end — the
 * header timeout while a request is arriving or a response is leaving, the
 * keep-alive timeout between requests — or 0 for no limit (database waits).
 * With --slow-client-defence on, a new connection's first byte must come
 * within --first-byte-timeout, and a head or body arriving must keep up
 * --min-rate after CONN_MIN_RATE_GRACE_US (each min_rate bytes fed buy one
 * more second), within the header timeout still; and a response leaving,
 * instead of the header timeout, must reach its client at --min-send-rate:
 * the grace from its start, then from the time the bytes the client received
 * (conn_unsent) pay for. Until a driver says, that is nothing, so a response
 * not gone after the grace asks the driver to look. */
uint64_t conn_deadline(const conn *c);

/* A response is leaving (the last want was CONN_WANT_WRITE) and its deadline
 * came: the transport still holds unsent bytes of what conn_wrote() was told
 * went out — sent but not acknowledged by the client, or not sent yet
 * (SIOCOUTQ) — so the client has received the rest. Call it before acting
 * on the deadline, then ask conn_deadline() again: a client reading at
 * --min-send-rate or faster has earned more time (each min_send_rate bytes
 * one second, banked at most CONN_MIN_RATE_GRACE_US ahead, so that what its
 * receive buffer took at once buys little). A slow reader (slowhttptest -X)
 * is cut about two graces after its response began. */
void conn_unsent(conn *c, size_t unsent);

/* conn_deadline() for a blocking worker that other connections are waiting
 * for (its listen queue is not empty): with --slow-client-defence on, a
 * request not yet complete — and a new connection's first byte — gets no
 * more than CONN_CROWDED_US from the start of its phase; a client that sent
 * its request whole is not affected. A response leaving must have reached
 * its client at --min-send-rate up to CONN_CROWDED_US ago (instead of the
 * grace): a slow reader is cut within a few tenths of a second. Returns 0
 * for no limit. */
uint64_t conn_crowded_deadline(const conn *c);

/* The deadline passed: answers 408 if a request was under way (then close),
 * else closes — a response still leaving is counted in /stats
 * (send_timeouts), and the driver may reset the connection rather than let
 * the kernel trickle the rest to a client that does not read. */
conn_want conn_timed_out(conn *c);

/* Refuses the connection with status (e.g. 503 when no thread could be
 * created, or over --max-connections): queues an error response (a 503 says
 * Retry-After: 1) and closes after it. */
conn_want conn_refuse(conn *c, int status, const char *why);

/* Returns 1 when c holds no partial request, no response and no pipelined
 * bytes: it may be closed at shutdown without losing anything — unless it is
 * also conn_fresh(). */
int conn_idle(const conn *c);

/* How long, at a stop, a connection that has not begun its first request
 * (conn_fresh) may still wait for it: its client has just connected, so a
 * request is almost surely on its way, and closing would lose it. */
#define CONN_STOP_GRACE_US 1000000u

/* Returns 1 when c is idle and has not answered a request yet: nothing has
 * arrived on it since it was accepted. */
int conn_fresh(const conn *c);

/* conn_deadline() while the server is stopping, its grace for fresh
 * connections ending at grace_end (µs): a fresh connection waits no later than
 * grace_end; any other keeps its deadline. Returns 0 for no limit. */
uint64_t conn_stop_deadline(const conn *c, uint64_t grace_end);

#endif
