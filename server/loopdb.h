/* loopdb: how an event loop carries out a page's database batch — each
 * query with its own end (so each can take its own drawn time), all of a
 * loop's ends in one heap under one timerfd (to the microsecond), each first
 * taking a connection from the pool (--db-pool). A query that finds none
 * is parked in the loop's FIFO without blocking anything; whoever releases
 * a connection to it (any thread of the process) writes the loop's eventfd,
 * and the loop takes up its parked queries in order. */
#ifndef HTTPMODES_LOOPDB_H
#define HTTPMODES_LOOPDB_H

#include <ev.h>

#include "server.h"

typedef struct loopdb loopdb;
typedef struct loopdb_batch loopdb_batch;

/* Called in the loop when a batch started by loopdb_start has finished: w
 * is what the core wants next (conn_db_done, or the 503 of a full queue). */
typedef void loopdb_done_fn(struct ev_loop *loop, void *arg, conn_want w);

/* Returns the database side of loop — with an eventfd watched by the loop
 * when pool is bounded — or NULL (said on stderr) when no eventfd could be
 * made. pool may be NULL (no pool at all). Free with loopdb_free() once the
 * loop has no batch left. */
loopdb *loopdb_new(struct ev_loop *loop, dbpool *pool, loopdb_done_fn *done);
void loopdb_free(loopdb *ld);

/* Starts the current batch of c (its last want was CONN_WANT_DB). Returns
 * the batch, which calls done(loop, arg, w) when it has finished — or NULL
 * with *w set when it finished at once (a /db?blocking=1 batch, made with
 * blocking calls in the loop, a full queue, or no memory for the batch). */
loopdb_batch *loopdb_start(loopdb *ld, conn *c, void *arg, conn_want *w);

/* The connection closes in the middle of batch b: takes its ends out, gives
 * back its connections and its place in the queue, frees b. */
void loopdb_cancel(loopdb_batch *b);

#endif
