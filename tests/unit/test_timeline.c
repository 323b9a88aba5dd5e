/* Unit tests for the timeline: the shared-memory ring of finished requests
 * (order, cursors, wrap-around, a reader that lags, writers in several
 * threads and processes at once) and the scoreboard. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "timeline.h"

/* A record whose every field is derived from (writer, k), so a reader can
 * tell a torn copy (half of one record, half of another) from a whole one. */
static timeline_rec make(unsigned writer, unsigned k) {
    timeline_rec r = {.lane = writer,
                      .worker = (int32_t)(1000 + writer),
                      .page = (uint16_t)(k % 7),
                      .status = 200,
                      .accepted_us = (uint64_t)writer * 1000000000u + k,
                      .nphases = (uint8_t)(k % (TIMELINE_PHASES + 1))};
    r.begin_us = r.accepted_us + 1;
    r.start_us = r.accepted_us + 2;
    r.end_us = r.accepted_us + 3;
    for (unsigned i = 0; i < r.nphases; i++)
        r.phases[i] = (timeline_phase){PHASE_DB, r.accepted_us + 10 + i, r.accepted_us + 20 + i};
    return r;
}

static void assert_whole(const timeline_rec *r) {
    unsigned writer = r->lane;
    unsigned k = (unsigned)(r->accepted_us - (uint64_t)writer * 1000000000u);
    timeline_rec want = make(writer, k);
    want.id = r->id;
    assert_int_equal(r->worker, want.worker);
    assert_int_equal(r->end_us, want.end_us);
    assert_int_equal(r->nphases, want.nphases);
    for (unsigned i = 0; i < r->nphases; i++)
        assert_int_equal(r->phases[i].end_us, want.phases[i].end_us);
}

static void test_order_and_cursor(void **state) {
    (void)state;
    timeline *t = timeline_create(100);
    assert_non_null(t);
    assert_int_equal(timeline_size(t), 128); /* a power of two */
    timeline_rec out[200];
    uint64_t cursor;
    assert_int_equal(timeline_read(t, 0, out, 200, &cursor), 0);
    assert_int_equal(cursor, 0);
    for (unsigned k = 0; k < 10; k++) {
        timeline_rec r = make(1, k);
        timeline_add(t, &r);
    }
    assert_int_equal(timeline_read(t, 0, out, 200, &cursor), 10);
    assert_int_equal(cursor, 10);
    for (unsigned k = 0; k < 10; k++) {
        assert_int_equal(out[k].id, k);
        assert_whole(&out[k]);
    }
    /* only what is new since the cursor */
    timeline_rec r = make(2, 0);
    timeline_add(t, &r);
    assert_int_equal(timeline_read(t, cursor, out, 200, &cursor), 1);
    assert_int_equal(out[0].lane, 2);
    assert_int_equal(cursor, 11);
    assert_int_equal(timeline_read(t, cursor, out, 200, &cursor), 0);
    /* a short buffer: the cursor says where to go on */
    assert_int_equal(timeline_read(t, 0, out, 4, &cursor), 4);
    assert_int_equal(cursor, 4);
    timeline_destroy(t);
}

static void test_wrap_around_and_lagging_reader(void **state) {
    (void)state;
    timeline *t = timeline_create(16);
    timeline_rec out[64];
    uint64_t cursor;
    for (unsigned k = 0; k < 50; k++) {
        timeline_rec r = make(0, k);
        timeline_add(t, &r);
    }
    /* the ring holds the last 16: ids 34..49 */
    assert_int_equal(timeline_read(t, 0, out, 64, &cursor), 16);
    assert_int_equal(out[0].id, 34);
    assert_int_equal(out[15].id, 49);
    assert_int_equal(cursor, 50);
    for (int i = 0; i < 16; i++)
        assert_whole(&out[i]);
    /* a reader that lags (its cursor points at overwritten records) gets
     * the oldest still held, and can see what it missed from the first id */
    assert_int_equal(timeline_read(t, 20, out, 64, &cursor), 16);
    assert_int_equal(out[0].id, 34);
    /* a cursor from the future (a restarted server) starts over */
    assert_int_equal(timeline_read(t, 1000, out, 64, &cursor), 16);
    timeline_destroy(t);
}

typedef struct writer_arg {
    timeline *t;
    unsigned writer;
    unsigned n;
} writer_arg;

static void *write_many(void *p) {
    writer_arg *a = p;
    for (unsigned k = 0; k < a->n; k++) {
        timeline_rec r = make(a->writer, k);
        timeline_add(a->t, &r);
    }
    return NULL;
}

/* Two processes with two threads each write at once while this process
 * reads: every record read is whole, ids never repeat, and in the end the
 * ring holds the last size records, all whole. */
static void test_concurrent_writers(void **state) {
    (void)state;
    timeline *t = timeline_create(256);
    const unsigned N = 20000;
    pid_t kids[2];
    for (int p = 0; p < 2; p++) {
        kids[p] = fork();
        if (kids[p] == 0) {
            pthread_t th[2];
            writer_arg a[2];
            for (int i = 0; i < 2; i++) {
                a[i] = (writer_arg){t, (unsigned)(p * 2 + i + 1), N};
                pthread_create(&th[i], NULL, write_many, &a[i]);
            }
            for (int i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
            _exit(0);
        }
    }
    static timeline_rec out[256];
    uint64_t cursor = 0, last_id = 0, seen = 0;
    for (int round = 0; round < 2000; round++) {
        size_t n = timeline_read(t, cursor, out, 256, &cursor);
        for (size_t i = 0; i < n; i++) {
            assert_whole(&out[i]);
            if (seen)
                assert_true(out[i].id > last_id);
            last_id = out[i].id;
            seen++;
        }
    }
    for (int p = 0; p < 2; p++) {
        int st;
        waitpid(kids[p], &st, 0);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    size_t n = timeline_read(t, 0, out, 256, &cursor);
    assert_int_equal(cursor, 4 * N);
    assert_int_equal(n, 256);
    for (size_t i = 0; i < n; i++) {
        assert_whole(&out[i]);
        assert_int_equal(out[i].id, 4 * N - 256 + i);
    }
    timeline_destroy(t);
}

static void test_scoreboard(void **state) {
    (void)state;
    timeline *t = timeline_create(16);
    assert_int_equal(timeline_lanes(t), 0);
    timeline_lane_claim(t, 2, 777);
    assert_int_equal(timeline_lanes(t), 3);
    timeline_move(t, 2, BOARD_NONE, BOARD_READING, -1, 10);
    timeline_move(t, 2, BOARD_NONE, BOARD_READING, -1, 11);
    timeline_move(t, 2, BOARD_READING, BOARD_DB, 2, 12);
    timeline_count_request(t, 2);
    timeline_lane_view v;
    assert_int_equal(timeline_lane(t, 2, &v), 0);
    assert_int_equal(v.worker, 777);
    assert_int_equal(v.counts[BOARD_READING], 1);
    assert_int_equal(v.counts[BOARD_DB], 1);
    assert_int_equal(v.since_us, 12);
    assert_int_equal(v.page, 2);
    assert_int_equal(v.requests, 1);
    /* a lane never used */
    assert_int_equal(timeline_lane(t, 0, &v), 0);
    assert_int_equal(v.worker, 0);
    assert_int_equal(v.page, -1);
    /* past the lanes: refused, and moves there are ignored */
    assert_int_equal(timeline_lane(t, TIMELINE_LANES, &v), -1);
    timeline_move(t, TIMELINE_LANES + 5, BOARD_NONE, BOARD_DB, 1, 1);
    timeline_lane_claim(t, TIMELINE_LANES, 1);
    assert_int_equal(timeline_lanes(t), 3);
    /* a dead process's lane: nothing open any more */
    timeline_lane_release(t, 2);
    assert_int_equal(timeline_lane(t, 2, &v), 0);
    assert_int_equal(v.counts[BOARD_READING] + v.counts[BOARD_DB], 0);
    assert_string_equal(timeline_state_name(BOARD_KEEPALIVE), "keepalive");
    assert_string_equal(timeline_phase_name(PHASE_CPU), "cpu");
    timeline_destroy(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_cursor),
        cmocka_unit_test(test_wrap_around_and_lagging_reader),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_scoreboard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
