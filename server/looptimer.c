/* looptimer: see looptimer.h. */
#include "looptimer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "util.h"

/* Sets the timerfd to the earliest deadline (or unsets it), unless it
 * already is or the due are going on (it is set after them). */
static void arm(looptimer *t) {
    timeheap_node *top = timeheap_top(&t->heap);
    uint64_t at = top ? top->at : 0;
    if (t->firing || at == t->armed_at)
        return;
    /* absolute, on CLOCK_MONOTONIC: util_now_us's clock. Setting it also
     * clears an expiry not read, so the fd is readable only when due */
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(at / 1000000u), .tv_nsec = (long)(at % 1000000u) * 1000}};
    if (timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        /* cannot happen with a valid fd and time: said, and set again at
         * the next change */
        fprintf(stderr, "httpmodes: timerfd_settime: %s\n", strerror(errno));
        t->armed_at = UINT64_MAX;
        return;
    }
    t->armed_at = at;
}

/* The timerfd: the nodes due go on, earliest first. At most as many as were
 * queued, so one set due again at once (a deadline already past) waits for
 * the next iteration of the loop instead of going round here. */
static void on_due(struct ev_loop *loop, ev_io *w, int revents) {
    looptimer *t = w->data;
    (void)revents;
    uint64_t now = util_now_us();
    timeheap_node *node;
    t->firing = 1;
    for (size_t k = t->heap.n; k > 0 && (node = timeheap_top(&t->heap)) != NULL && node->at <= now;
         k--) {
        timeheap_remove(&t->heap, node);
        t->due(loop, node, t->data);
    }
    t->firing = 0;
    t->armed_at = UINT64_MAX; /* expired: set it again (or unset), which clears it */
    arm(t);
}

int looptimer_init(looptimer *t, struct ev_loop *loop, looptimer_due_fn *due, void *data) {
    *t = (looptimer){.due = due, .data = data};
    t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->tfd < 0)
        return -1;
    ev_io_init(&t->w, on_due, t->tfd, EV_READ);
    t->w.data = t;
    ev_io_start(loop, &t->w);
    return 0;
}

void looptimer_free(looptimer *t, struct ev_loop *loop) {
    ev_io_stop(loop, &t->w);
    close(t->tfd);
    timeheap_free(&t->heap);
}

int looptimer_reserve(looptimer *t, size_t n) {
    return timeheap_reserve(&t->heap, n);
}

int looptimer_set(looptimer *t, timeheap_node *node, uint64_t at) {
    timeheap_remove(&t->heap, node);
    node->at = at;
    if (timeheap_push(&t->heap, node) != 0)
        return -1;
    if (node->pos == 0) /* the earliest now */
        arm(t);
    return 0;
}

void looptimer_cancel(looptimer *t, timeheap_node *node) {
    timeheap_remove(&t->heap, node);
    /* the timerfd may now fire early, for nothing: on_due sets it again */
}
