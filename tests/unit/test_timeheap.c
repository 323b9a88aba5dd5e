/* Unit tests for timeheap: the loops' database waits end in deadline order,
 * whatever order they began in and whichever leave early. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "timeheap.h"

/* Checks that every parent is due no later than its children and that each
 * node knows its place. */
static void assert_heap(const timeheap *h) {
    for (size_t i = 0; i < h->n; i++) {
        assert_int_equal(h->v[i]->pos, i);
        if (i > 0)
            assert_true(h->v[(i - 1) / 2]->at <= h->v[i]->at);
    }
}

/* Pops everything, checking the order: returns how many came out. */
static size_t drain(timeheap *h) {
    uint64_t last = 0;
    size_t n = 0;
    timeheap_node *t;
    while ((t = timeheap_top(h)) != NULL) {
        assert_true(t->at >= last);
        last = t->at;
        timeheap_remove(h, t);
        assert_int_equal(t->pos, TIMEHEAP_OUT);
        assert_heap(h);
        n++;
    }
    return n;
}

static void test_empty(void **state) {
    (void)state;
    timeheap h = {0};
    assert_null(timeheap_top(&h));
    timeheap_node lone = {.at = 5, .pos = TIMEHEAP_OUT};
    timeheap_remove(&h, &lone); /* not queued: nothing happens */
    assert_int_equal(h.n, 0);
    timeheap_free(&h);
}

static void test_earliest_first_whatever_the_order(void **state) {
    (void)state;
    enum { N = 1000 };
    timeheap h = {0};
    timeheap_node *nodes = calloc(N, sizeof *nodes);
    srand(7);
    for (size_t i = 0; i < N; i++) { /* ties too: 200 distinct deadlines */
        nodes[i].at = (uint64_t)(rand() % 200);
        assert_int_equal(timeheap_push(&h, &nodes[i]), 0);
    }
    assert_heap(&h);
    assert_int_equal(drain(&h), N);
    free(nodes);
    timeheap_free(&h);
}

/* Connections closed mid-wait leave from the middle: the rest still come
 * out in order, and the removed ones never do. */
static void test_remove_from_the_middle(void **state) {
    (void)state;
    enum { N = 500 };
    timeheap h = {0};
    timeheap_node *nodes = calloc(N, sizeof *nodes);
    srand(11);
    for (size_t i = 0; i < N; i++) {
        nodes[i].at = (uint64_t)(rand() % 10000);
        assert_int_equal(timeheap_push(&h, &nodes[i]), 0);
    }
    size_t removed = 0;
    for (size_t i = 0; i < N; i += 3, removed++) {
        timeheap_remove(&h, &nodes[i]);
        assert_int_equal(nodes[i].pos, TIMEHEAP_OUT);
        assert_heap(&h);
    }
    timeheap_remove(&h, &nodes[0]); /* twice: the second does nothing */
    assert_int_equal(h.n, N - removed);
    assert_int_equal(drain(&h), N - removed);
    free(nodes);
    timeheap_free(&h);
}

/* FIFO-like deadlines (one delay for all, the lab's case) and a late
 * earlier one: the top follows. */
static void test_top_follows_an_earlier_push(void **state) {
    (void)state;
    timeheap h = {0};
    timeheap_node a = {.at = 100}, b = {.at = 200}, c = {.at = 50};
    timeheap_push(&h, &a);
    timeheap_push(&h, &b);
    assert_ptr_equal(timeheap_top(&h), &a);
    timeheap_push(&h, &c);
    assert_ptr_equal(timeheap_top(&h), &c);
    timeheap_remove(&h, &a);
    timeheap_remove(&h, &c);
    assert_ptr_equal(timeheap_top(&h), &b);
    timeheap_free(&h);
}

/* A loop reserves a place for each connection as it comes, so that setting
 * a deadline later never needs memory: pushes up to the reserve keep the
 * same array, up to a heap exactly full. One more place grows it, and a
 * reserve that cannot be had leaves the heap as it was. */
static void test_pushes_within_the_reserve_need_no_memory(void **state) {
    (void)state;
    enum { N = 256 };
    timeheap h = {0};
    static timeheap_node nodes[N + 1];
    assert_int_equal(timeheap_reserve(&h, N), 0);
    assert_int_equal(h.cap, N);
    timeheap_node **v = h.v;
    assert_int_equal(timeheap_reserve(&h, 10), 0); /* less than it has: nothing changes */
    assert_ptr_equal(h.v, v);
    for (size_t i = 0; i < N; i++) {
        nodes[i].at = (i * 7919) % N;
        nodes[i].pos = TIMEHEAP_OUT;
        assert_int_equal(timeheap_push(&h, &nodes[i]), 0);
    }
    assert_ptr_equal(h.v, v);
    assert_int_equal(h.n, h.cap); /* exactly full */
    assert_heap(&h);
    assert_int_equal(timeheap_reserve(&h, N + 1), 0);
    assert_true(h.cap >= N + 1);
    nodes[N].at = 3;
    assert_int_equal(timeheap_push(&h, &nodes[N]), 0);
    assert_heap(&h);
    size_t cap = h.cap;
    assert_int_equal(timeheap_reserve(&h, SIZE_MAX), -1);
    assert_int_equal(h.cap, cap);
    assert_int_equal(drain(&h), N + 1);
    timeheap_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_earliest_first_whatever_the_order),
        cmocka_unit_test(test_remove_from_the_middle),
        cmocka_unit_test(test_top_follows_an_earlier_push),
        cmocka_unit_test(test_pushes_within_the_reserve_need_no_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
