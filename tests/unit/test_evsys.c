/* Unit tests for evsys: a loop that makes its wake-up pipe while every
 * descriptor is taken waits for one to be freed instead of aborting the
 * process (libev's own handler prints and aborts). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <cmocka.h>

#include <ev.h>

#include "evsys.h"

#define FILLER_MAX 256

static int fillers[FILLER_MAX];
static int nfillers;

/* Takes every descriptor left under a limit of 64. */
static void take_all(void) {
    struct rlimit rl = {64, 64};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    nfillers = 0;
    int fd;
    while (nfillers < FILLER_MAX && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fillers[nfillers++] = fd;
    assert_int_equal(errno, EMFILE);
    assert_true(nfillers > 2);
}

static void give_back(int n) {
    while (n-- > 0 && nfillers > 0)
        close(fillers[--nfillers]);
}

/* Frees two descriptors (libev's fallback is a pipe) after 3 pauses. */
static void *free_later(void *arg) {
    (void)arg;
    struct timespec t = {0, 3 * EVSYS_PAUSE_MS * 1000000L};
    nanosleep(&t, NULL);
    give_back(2);
    return NULL;
}

static int fired;

static void on_async(struct ev_loop *loop, ev_async *w, int revents) {
    (void)loop;
    (void)w;
    (void)revents;
    fired++;
}

static void test_wake_up_pipe_waits_for_a_descriptor(void **state) {
    (void)state;
    evsys_init();
    struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL);
    assert_non_null(loop);
    take_all();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_later, NULL), 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ev_async w;
    ev_async_init(&w, on_async);
    ev_async_start(loop, &w); /* makes the wake-up pipe: no descriptor until free_later */
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(t, NULL);
    /* it waited (not a descriptor freed by chance), then went on */
    long waited_ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(waited_ms >= 2 * EVSYS_PAUSE_MS);
    ev_async_send(loop, &w);
    ev_run(loop, EVRUN_ONCE);
    assert_int_equal(fired, 1);
    ev_async_stop(loop, &w);
    ev_loop_destroy(loop);
    give_back(nfillers);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wake_up_pipe_waits_for_a_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
