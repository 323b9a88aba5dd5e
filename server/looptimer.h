/* looptimer: deadlines of one event loop in one heap (common/timeheap.c)
 * under one timerfd set to the earliest, to the microsecond (libev's own
 * timers wake from epoll_wait, whose timeout is whole milliseconds rounded
 * up: a 100 ms database wait lasted 100.74 ms on average at 1,000
 * connections, loadtest/dbwait.lua). A loop has two: its database waits'
 * ends (loopdb.c) and its connections' deadlines (mode_event.c). */
#ifndef HTTPMODES_LOOPTIMER_H
#define HTTPMODES_LOOPTIMER_H

#include <stdint.h>

#include <ev.h>

#include "timeheap.h"

/* node has come due and has left the heap; it may be set again. */
typedef void looptimer_due_fn(struct ev_loop *loop, timeheap_node *node, void *data);

typedef struct looptimer {
    timeheap heap;
    int tfd;               /* the timerfd */
    ev_io w;               /* watches it */
    uint64_t armed_at;     /* the deadline it is set for (0: none, UINT64_MAX: unknown) */
    uint8_t firing;        /* 1 while the due go on: it is set once, after them */
    looptimer_due_fn *due; /* called for each node due */
    void *data;            /* for due */
} looptimer;

/* Makes t's timerfd and watches it on loop (priority: that of loop's
 * timers, 0). Returns 0, or -1 with errno set (nothing made). */
int looptimer_init(looptimer *t, struct ev_loop *loop, looptimer_due_fn *due, void *data);
void looptimer_free(looptimer *t, struct ev_loop *loop);
/* Room for n nodes, so that setting up to n never fails: 0, or -1 without memory. */
int looptimer_reserve(looptimer *t, size_t n);
/* node comes due at (µs, util_now_us's clock), leaving the place it had.
 * Returns 0, or -1 without memory (node is not queued). */
int looptimer_set(looptimer *t, timeheap_node *node, uint64_t at);
/* node leaves the heap, if it is in it. */
void looptimer_cancel(looptimer *t, timeheap_node *node);

#endif
