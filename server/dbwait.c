/* dbwait: how a driver waits for a database pool connection and wakes the
 * waiter a released one goes to (the pool's state is common/dbpool.c).
 *
 * A blocking worker sleeps on its queue entry's futex word — a shared
 * (not FUTEX_PRIVATE) futex, so that a release in any prefork process
 * reaches it; the word changes before the wake, and FUTEX_WAIT sleeps only
 * while it still holds the value seen, so no wake-up is lost between a
 * check and the sleep. An event loop is woken through its eventfd (loopdb.c),
 * written by whichever thread of its process released the connection. */
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "util.h"

static void futex_wait(_Atomic uint32_t *word, uint32_t expect) {
    /* returns at once (EAGAIN) when the word already changed; EINTR: look again */
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expect, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void dbwait_wake(const dbpool_wake *w) {
    futex_wake_all(w->word);
    if (w->fd >= 0 && w->pid == (int32_t)getpid()) {
        uint64_t one = 1;
        /* a full eventfd counter (never, at 2^64 - 1) would already be readable */
        while (write(w->fd, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }
}

int dbwait_block(dbpool *p, dbpool_ticket *t) {
    int r = dbpool_acquire(p, (int32_t)getpid(), -1, util_now_us(), t);
    if (r == DBPOOL_QUEUED) {
        uint32_t expect;
        _Atomic uint32_t *word = dbpool_word(p, t, &expect);
        while (!dbpool_check(p, t, util_now_us()))
            futex_wait(word, expect);
    }
    return r;
}

int dbwait_acquire_blocking(dbpool *p, conn *c, dbpool_ticket *t) {
    *t = (dbpool_ticket){0};
    if (!p)
        return 0;
    int r = dbwait_block(p, t);
    if (r == DBPOOL_FULL)
        return -1;
    if (r == DBPOOL_QUEUED)
        conn_db_queued(c, t->since_us, util_now_us());
    return 0;
}

void dbwait_release(dbpool *p, dbpool_ticket *t) {
    dbpool_wake w;
    if (p && dbpool_release(p, t, &w))
        dbwait_wake(&w);
}

void dbwait_cancel(dbpool *p, dbpool_ticket *t) {
    dbpool_wake w;
    if (p && dbpool_cancel(p, t, &w))
        dbwait_wake(&w);
}

static void wake_cb(const dbpool_wake *w, void *arg) {
    (void)arg;
    dbwait_wake(w);
}

void dbwait_release_owner(dbpool *p, pid_t pid) {
    if (p)
        dbpool_release_owner(p, (int32_t)pid, wake_cb, NULL);
}
