/* test_dbpool: the database connection pool — at most N held, FIFO hand-off
 * on release, cancelled waiters skipped, counters and percentiles — and,
 * with real processes (fork), that blocking waiters in several processes
 * never exceed N and are all woken (no lost wake-up), and that a process
 * killed while holding connections gives them back through the master. */
#include "testutil.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dbpool.h"
#include "server.h"

static dbpool_ticket take(dbpool *p, int want, uint64_t now) {
    dbpool_ticket t;
    assert_int_equal(dbpool_acquire(p, 1, -1, now, &t), want);
    return t;
}

static void held_up_to_size_then_queued(void **state) {
    (void)state;
    dbpool *p = dbpool_create(2);
    assert_non_null(p);
    dbpool_ticket a = take(p, DBPOOL_HELD, 0), b = take(p, DBPOOL_HELD, 0);
    dbpool_ticket c = take(p, DBPOOL_QUEUED, 10);
    dbpool_view v;
    dbpool_view_get(p, &v);
    assert_int_equal(v.size, 2);
    assert_int_equal(v.in_use, 2);
    assert_int_equal(v.queued, 1);
    assert_false(dbpool_check(p, &c, 20));
    dbpool_wake w;
    assert_int_equal(dbpool_release(p, &a, &w), 1); /* handed over, not freed */
    assert_int_equal(w.fd, -1);
    assert_true(dbpool_check(p, &c, 1010));
    assert_int_equal(c.state, DBPOOL_HELD);
    dbpool_view_get(p, &v);
    assert_int_equal(v.in_use, 2);
    assert_int_equal(v.queued, 0);
    assert_int_equal(v.waited, 1);
    assert_int_equal(v.max_us, 1000);
    assert_int_equal(dbpool_release(p, &b, &w), 0);
    assert_int_equal(dbpool_release(p, &c, &w), 0);
    dbpool_view_get(p, &v);
    assert_int_equal(v.in_use, 0);
    assert_int_equal(v.acquired, 3);
    dbpool_destroy(p);
}

static void released_connections_go_in_fifo_order(void **state) {
    (void)state;
    dbpool *p = dbpool_create(1);
    dbpool_ticket h = take(p, DBPOOL_HELD, 0);
    dbpool_ticket q[5];
    for (int i = 0; i < 5; i++)
        q[i] = take(p, DBPOOL_QUEUED, (uint64_t)i);
    dbpool_wake w;
    dbpool_cancel(p, &q[2], &w); /* one gives up: skipped, not granted */
    assert_int_equal(q[2].state, DBPOOL_NONE);
    /* a newcomer while others wait does not jump the queue, even when a
     * connection is being handed over */
    dbpool_ticket late = take(p, DBPOOL_QUEUED, 9);
    int order[] = {0, 1, 3, 4};
    dbpool_ticket *cur = &h;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(dbpool_release(p, cur, &w), 1);
        for (int j = 0; j < 5; j++)
            if (j != 2)
                assert_int_equal(dbpool_check(p, &q[j], 100),
                                 j == order[k]); /* earlier ones were released */
        assert_false(dbpool_check(p, &late, 100));
        cur = &q[order[k]];
    }
    assert_int_equal(dbpool_release(p, cur, &w), 1);
    assert_true(dbpool_check(p, &late, 100));
    assert_int_equal(dbpool_release(p, &late, &w), 0);
    dbpool_view v;
    dbpool_view_get(p, &v);
    assert_int_equal(v.in_use, 0);
    assert_int_equal(v.queued, 0);
    dbpool_destroy(p);
}

static void unlimited_lets_everyone_in(void **state) {
    (void)state;
    dbpool *p = dbpool_create(0);
    dbpool_ticket t[100];
    for (int i = 0; i < 100; i++)
        t[i] = take(p, DBPOOL_HELD, 0);
    dbpool_view v;
    dbpool_view_get(p, &v);
    assert_int_equal(v.in_use, 100);
    dbpool_wake w;
    for (int i = 0; i < 100; i++)
        assert_int_equal(dbpool_release(p, &t[i], &w), 0);
    dbpool_view_get(p, &v);
    assert_int_equal(v.in_use, 0);
    assert_null(dbpool_create(DBPOOL_MAX + 1));
    dbpool_destroy(p);
}

static void percentiles_of_the_wait(void **state) {
    (void)state;
    dbpool *p = dbpool_create(1);
    dbpool_ticket h = take(p, DBPOOL_HELD, 0);
    dbpool_wake w;
    /* 100 waits of 1..100 ms */
    for (uint64_t i = 1; i <= 100; i++) {
        dbpool_ticket q = take(p, DBPOOL_QUEUED, 0);
        dbpool_release(p, &h, &w);
        assert_true(dbpool_check(p, &q, i * 1000));
        h = q;
    }
    dbpool_release(p, &h, &w);
    dbpool_view v;
    dbpool_view_get(p, &v);
    assert_int_equal(v.max_us, 100000);
    /* 101 acquisitions (the first without a wait); buckets are 1/8 octave wide */
    assert_in_range(v.p50_us, 50000 * 0.93, 50000 * 1.07);
    assert_in_range(v.p90_us, 90000 * 0.93, 90000 * 1.07);
    assert_in_range(v.p99_us, 99000 * 0.93, 100000);
    buf b = {0};
    dbpool_render_json(p, &b);
    assert_non_null(strstr(b.p, "\"size\":1,\"in_use\":0,\"queued\":0,\"acquired\":101"));
    buf_free(&b);
    dbpool_render_prometheus(p, &b);
    assert_non_null(strstr(b.p, "httpmodes_db_pool_size 1\n"));
    assert_non_null(strstr(b.p, "httpmodes_db_pool_wait_seconds{quantile=\"0.99\"}"));
    buf_free(&b);
    dbpool_destroy(p);
}

/* What the processes of the fork tests share. */
typedef struct shared {
    _Atomic int running; /* holding a connection now */
    _Atomic int most;    /* the most that ever held at once */
    _Atomic int done;    /* queries finished */
} shared;

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Waits for the n children in pids for at most ms in all; kills them all
 * and fails if any is still waiting (a lost wake-up) or did not exit 0. */
static void reap_within(pid_t *pids, int n, int ms) {
    int left = n, status, bad = 0;
    for (int i = 0; i < ms && left > 0; i++) {
        for (int k = 0; k < n; k++)
            if (pids[k] > 0 && waitpid(pids[k], &status, WNOHANG) == pids[k]) {
                bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
                pids[k] = 0;
                left--;
            }
        if (left > 0)
            sleep_us(1000);
    }
    for (int k = 0; k < n; k++)
        if (pids[k] > 0) {
            kill(pids[k], SIGKILL);
            waitpid(pids[k], &status, 0);
        }
    if (left > 0)
        fail_msg("%d children still waiting after %d ms: a lost wake-up", left, ms);
    assert_int_equal(bad, 0);
}

#define PROCS 6
#define ROUNDS 40

static void processes_share_the_pool_and_are_all_woken(void **state) {
    (void)state;
    dbpool *p = dbpool_create(2);
    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    memset(sh, 0, sizeof *sh);
    pid_t kids[PROCS];
    for (int k = 0; k < PROCS; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            alarm(60); /* never outlive a failed test */
            for (int r = 0; r < ROUNDS; r++) {
                dbpool_ticket t;
                if (dbwait_block(p, &t) == DBPOOL_FULL)
                    _exit(2);
                int now = atomic_fetch_add(&sh->running, 1) + 1, most = atomic_load(&sh->most);
                while (now > most && !atomic_compare_exchange_weak(&sh->most, &most, now)) {
                }
                sleep_us(200 + (r * 37 + k * 11) % 300);
                atomic_fetch_sub(&sh->running, 1);
                dbwait_release(p, &t);
                atomic_fetch_add(&sh->done, 1);
            }
            _exit(0);
        }
    }
    reap_within(kids, PROCS, 30000);
    assert_int_equal(atomic_load(&sh->done), PROCS * ROUNDS);
    assert_int_equal(atomic_load(&sh->most), 2); /* full, and never over */
    dbpool_view v;
    dbpool_view_get(p, &v);
    assert_int_equal(v.in_use, 0);
    assert_int_equal(v.queued, 0);
    assert_int_equal(v.acquired, PROCS * ROUNDS);
    assert_true(v.waited > 0);
    munmap(sh, sizeof *sh);
    dbpool_destroy(p);
}

static void a_dead_process_gives_its_connections_back(void **state) {
    (void)state;
    dbpool *p = dbpool_create(1);
    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(sh, 0, sizeof *sh);
    pid_t holder = fork();
    if (holder == 0) { /* takes the only connection and never gives it back */
        alarm(60);
        dbpool_ticket t;
        dbwait_block(p, &t);
        atomic_store(&sh->running, 1);
        pause();
        _exit(0);
    }
    while (!atomic_load(&sh->running))
        sleep_us(1000);
    pid_t waiter = fork();
    if (waiter == 0) { /* queues behind it */
        alarm(60);
        dbpool_ticket t;
        dbwait_block(p, &t);
        dbwait_release(p, &t);
        _exit(0);
    }
    dbpool_view v;
    do {
        sleep_us(1000);
        dbpool_view_get(p, &v);
    } while (v.queued == 0);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    dbwait_release_owner(p, holder); /* what the prefork master does on reaping */
    reap_within(&waiter, 1, 10000);
    dbpool_view_get(p, &v);
    assert_int_equal(v.in_use, 0);
    assert_int_equal(v.queued, 0);
    munmap(sh, sizeof *sh);
    dbpool_destroy(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(held_up_to_size_then_queued),
        cmocka_unit_test(released_connections_go_in_fifo_order),
        cmocka_unit_test(unlimited_lets_everyone_in),
        cmocka_unit_test(percentiles_of_the_wait),
        cmocka_unit_test(processes_share_the_pool_and_are_all_woken),
        cmocka_unit_test(a_dead_process_gives_its_connections_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
