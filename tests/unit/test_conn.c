/* test_conn: the I/O-free connection core driven with no sockets and a fake
 * clock — wants, exact response bytes, splits at every offset, pipelining,
 * database waits, limits, timeouts, counters and the idle-memory goal. */
#include "testutil.h"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELLO "GET /hello HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n"
#define T0 5000000ull /* the fake clock at setup */

/* Returns the exact (masked) /hello response for GET (head = 0) or HEAD. */
static char *hello_expected(const char *connection, uint64_t start, uint64_t end, int head) {
    buf b = {0};
    buf_printf(
        &b,
        "HTTP/1.1 200 OK\r\nServer: httpmodes/%s\r\nDate: *\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n"
        "Connection: %s\r\nX-Content-Type-Options: nosniff\r\nX-Mode: event\r\n"
        "X-Worker: *\r\nX-Lane: 3\r\nX-Request-Start-Us: %llu\r\nX-Request-End-Us: %llu\r\n\r\n%s",
        HTTPMODES_VERSION, connection, (unsigned long long)start, (unsigned long long)end,
        head ? "" : "Hello, world!\n");
    buf_append(&b, "", 1);
    return b.p;
}

static void assert_masked(const tu_log *l, const char *want) {
    char *got = tu_mask(l->out.p, l->out.len);
    assert_string_equal(got, want);
    free(got);
}

/* Runs one request (whole) on a fresh connection; parses the single response. */
static conn_want run_one(tu_env *t, const char *req, int head, tu_resp *r, tu_log *l) {
    if (t->c.env)
        conn_destroy(&t->c);
    assert_int_equal(conn_init(&t->c, &t->env, "127.0.0.1"), CONN_WANT_READ);
    conn_want w = tu_feed(&t->c, req, strlen(req), 0, l);
    assert_int_equal(tu_parse(l->out.p, l->out.len, head, r), 0);
    assert_int_equal(r->total, l->out.len);
    return w;
}

static void assert_idle_no_buffers(const conn *c) {
    assert_true(conn_idle(c));
    assert_null(c->pending.p);
    assert_null(c->x); /* no request, response or buffer of either */
}

/* ---- basic requests ---------------------------------------------------------- */

/* A clock that moves 1 µs at each read and counts its reads. */
static unsigned ticking_reads;
static uint64_t ticking_now(void) {
    ticking_reads++;
    return ++tu_clock_us;
}

/* One conn_feed, one conn_wrote: the clock is read once in each (plus once
 * before the request's exchange exists), not at every step (it was read six
 * times in the feed and three in the write of a /hello), and one answer's
 * stamps come from one reading. A database wait between two calls still
 * counts in full: its end is read anew in conn_db_done. */
static void test_clock_read_once_per_call(void **state) {
    tu_env *t = *state;
    t->env.now_us = ticking_now;
    assert_int_equal(conn_init(&t->c, &t->env, "127.0.0.1"), CONN_WANT_READ);
    ticking_reads = 0;
    assert_int_equal(conn_feed(&t->c, HELLO, strlen(HELLO)), CONN_WANT_WRITE);
    assert_in_range(ticking_reads, 1, 2);
    size_t len;
    const char *out = conn_out(&t->c, &len);
    tu_resp r;
    assert_int_equal(tu_parse(out, len, 0, &r), 0);
    assert_string_equal(tu_hdr(&r, "X-Request-Start-Us"), tu_hdr(&r, "X-Request-End-Us"));
    ticking_reads = 0;
    assert_int_equal(conn_wrote(&t->c, len), CONN_WANT_READ);
    assert_int_equal(ticking_reads, 1);

    const char *db = "GET /db?delay=7 HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, db, strlen(db)), CONN_WANT_DB);
    uint64_t asked = tu_clock_us;
    tu_clock_us += 7000;
    assert_int_equal(conn_db_done(&t->c), CONN_WANT_WRITE);
    out = conn_out(&t->c, &len);
    assert_int_equal(tu_parse(out, len, 0, &r), 0);
    uint64_t start = strtoull(tu_hdr(&r, "X-Request-Start-Us"), NULL, 10);
    uint64_t end = strtoull(tu_hdr(&r, "X-Request-End-Us"), NULL, 10);
    uint64_t wait = strtoull(tu_hdr(&r, "X-DB-Wait-Us"), NULL, 10);
    assert_true(start <= asked && end > asked + 7000);
    assert_in_range(wait, 7000, end - start);
    assert_int_equal(conn_wrote(&t->c, len), CONN_WANT_READ);
    conn_destroy(&t->c);
}

static void test_hello_whole(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    assert_int_equal(conn_init(&t->c, &t->env, "127.0.0.1"), CONN_WANT_READ);
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_string_equal(l.wants, "WR");
    char *want = hello_expected("keep-alive", T0, T0, 0);
    assert_masked(&l, want);
    free(want);
    buf_free(&l.out);
}

static void test_hello_date_and_worker(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    time_t before = time(NULL);
    run_one(t, HELLO, 0, &r, &l);
    time_t after = time(NULL);
    struct tm tm = {0};
    const char *date = tu_hdr(&r, "Date");
    assert_non_null(date);
    const char *end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    assert_non_null(end);
    assert_int_equal(*end, 0);
    time_t when = timegm(&tm);
    assert_true(when >= before && when <= after);
    char worker[32];
    snprintf(worker, sizeof worker, "%d", TU_WORKER); /* what the driver said */
    TU_HDR_EQ(&r, "X-Worker", worker);
    buf_free(&l.out);
}

static void test_hello_byte_by_byte(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    const char *req = HELLO;
    size_t n = strlen(req);
    conn_init(&t->c, &t->env, NULL);
    for (size_t i = 0; i + 1 < n; i++)
        assert_int_equal(conn_feed(&t->c, req + i, 1), CONN_WANT_READ);
    conn_want w = tu_pump(&t->c, tu_note(&l, conn_feed(&t->c, req + n - 1, 1)), 0, &l);
    assert_int_equal(w, CONN_WANT_READ);
    assert_string_equal(l.wants, "WR");
    char *want = hello_expected("keep-alive", T0, T0, 0);
    assert_masked(&l, want);
    free(want);
    buf_free(&l.out);
}

/* Feeds req whole, then split into two reads at every offset; the bytes
 * written and the final want must be the same every time. */
static void check_splits(tu_env *t, const char *req) {
    size_t n = strlen(req);
    tu_log ref = {0};
    tu_clock_us = T0;
    if (t->c.env)
        conn_destroy(&t->c);
    conn_init(&t->c, &t->env, NULL);
    conn_want ref_w = tu_feed(&t->c, req, n, 0, &ref);
    char *want = tu_mask(ref.out.p, ref.out.len);
    assert_true(ref.out.len > 0);
    for (size_t i = 1; i < n; i++) {
        tu_log l = {0};
        tu_clock_us = T0;
        conn_destroy(&t->c);
        conn_init(&t->c, &t->env, NULL);
        conn_want w = tu_feed(&t->c, req, i, 0, &l);
        if (w == CONN_WANT_READ)
            w = tu_feed(&t->c, req + i, n - i, 0, &l);
        char *got = tu_mask(l.out.p, l.out.len);
        int same = strcmp(got, want) == 0 && w == ref_w;
        if (!same)
            print_error("split at %zu of %zu: got want %d (expected %d)\n%s\n---- expected\n%s\n",
                        i, n, (int)w, (int)ref_w, got, want);
        free(got);
        buf_free(&l.out);
        if (!same) {
            free(want);
            buf_free(&ref.out);
            fail_msg("request: %.60s...", req);
        }
    }
    free(want);
    buf_free(&ref.out);
}

static void test_split_every_offset(void **state) {
    tu_env *t = *state;
    check_splits(t, HELLO);
    check_splits(t, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
    check_splits(t, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    check_splits(t, "GET /db?delay=5&queries=3&format=json HTTP/1.1\r\nHost: a\r\n\r\n");
    check_splits(t, "GET /nope?x=1 HTTP/1.0\r\n\r\n");
    check_splits(t, "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                    "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                    "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
}

/* The head limit must not depend on how the bytes were split into reads:
 * for heads around the limit, every split gives the whole feed's answer. */
static void test_head_limit_split_independent(void **state) {
    tu_env *t = *state;
    t->cfg.max_header_size = 300;
    for (size_t pad = 240; pad < 270; pad++) {
        char req[512];
        char v[300];
        memset(v, 'v', pad);
        v[pad] = 0;
        snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: a\r\nX-Padding-Header: %s\r\n\r\n",
                 v);
        check_splits(t, req);
    }
}

static int out_starts(const conn *c, const char *prefix) {
    size_t len;
    const char *p = conn_out(c, &len);
    return len >= strlen(prefix) && memcmp(p, prefix, strlen(prefix)) == 0;
}

/* The limit is exact for a head written the usual way: a head of exactly
 * max_header_size bytes is served, one byte more gets 431. */
static void test_head_limit_exact(void **state) {
    tu_env *t = *state;
    const char *req = "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\nX-Pad: vvvvvvvvvvvv\r\n\r\n";
    size_t n = strlen(req);
    t->cfg.max_header_size = n;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, req, n), CONN_WANT_WRITE);
    assert_true(out_starts(&t->c, "HTTP/1.1 200 "));
    conn_destroy(&t->c);
    t->cfg.max_header_size = n - 1;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, req, n), CONN_WANT_WRITE);
    assert_true(out_starts(&t->c, "HTTP/1.1 431 "));
    conn_destroy(&t->c);
}

/* ---- pipelining ------------------------------------------------------------------ */

static void test_pipelined(void **state) {
    tu_env *t = *state;
    const char *reqs = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                       "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    conn_init(&t->c, &t->env, NULL);
    conn_want w = conn_feed(&t->c, reqs, strlen(reqs));
    const int status[3] = {200, 200, 200};
    const char *body[3] = {"Hello, world!\n", "abc", ""};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(w, CONN_WANT_WRITE);
        size_t len;
        const char *p = conn_out(&t->c, &len);
        char *copy = malloc(len);
        memcpy(copy, p, len);
        tu_resp r;
        assert_int_equal(tu_parse(copy, len, k == 2, &r), 0);
        assert_int_equal(r.total, len); /* exactly one response at a time */
        assert_int_equal(r.status, status[k]);
        assert_int_equal(r.body_len, strlen(body[k]));
        assert_memory_equal(r.body, body[k], r.body_len);
        if (k == 2) /* HEAD: the GET length, no body */
            TU_HDR_EQ(&r, "Content-Length", "14");
        /* write it 3 bytes at a time: nothing of the next response shows early */
        size_t done = 0;
        while (len - done > 3) {
            assert_int_equal(conn_wrote(&t->c, 3), CONN_WANT_WRITE);
            done += 3;
            size_t left;
            const char *q = conn_out(&t->c, &left);
            assert_int_equal(left, len - done);
            assert_memory_equal(q, copy + done, left);
        }
        w = conn_wrote(&t->c, len - done);
        free(copy);
    }
    assert_int_equal(w, CONN_WANT_READ);
    assert_int_equal(t->c.requests, 3);
    assert_idle_no_buffers(&t->c);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_HELLO][200 - 100]), 2);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_ECHO][200 - 100]), 1);
}

/* Per-request state is reset as a whole: a chunked request (Transfer-Encoding
 * seen) followed, on the same connection, by requests framed with
 * Content-Length must not be refused as carrying both framings, in one read
 * (pipelined) or in two. */
static void test_chunked_then_content_length(void **state) {
    tu_env *t = *state;
    const char *reqs = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n0\r\n\r\n"
                       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nde";
    for (int pipelined = 1; pipelined >= 0; pipelined--) {
        tu_log l = {0};
        if (t->c.env)
            conn_destroy(&t->c);
        conn_init(&t->c, &t->env, NULL);
        size_t first = strstr(reqs, "0\r\n\r\n") + 5 - reqs;
        tu_feed(&t->c, reqs, pipelined ? strlen(reqs) : first, 0, &l);
        if (!pipelined)
            tu_feed(&t->c, reqs + first, strlen(reqs) - first, 0, &l);
        tu_resp r[2];
        size_t off = 0;
        for (int k = 0; k < 2; k++) {
            assert_int_equal(tu_parse(l.out.p + off, l.out.len - off, 0, &r[k]), 0);
            assert_int_equal(r[k].status, 200);
            off += r[k].total;
        }
        assert_int_equal(off, l.out.len);
        assert_memory_equal(r[0].body, "abc", 3);
        assert_memory_equal(r[1].body, "de", 2);
        buf_free(&l.out);
    }
}

static void test_pipelined_partial_second(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    /* the first read holds request 1 and the start of request 2 */
    assert_int_equal(tu_feeds(&t->c, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /hel", &l),
                     CONN_WANT_READ);
    assert_string_equal(l.wants, "WR");
    assert_false(conn_idle(&t->c));
    assert_int_equal(tu_feeds(&t->c, "lo HTTP/1.1\r\nHost: a\r\n\r\n", &l), CONN_WANT_READ);
    assert_string_equal(l.wants, "WRWR");
    tu_resp r1, r2;
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r1), 0);
    assert_int_equal(tu_parse(l.out.p + r1.total, l.out.len - r1.total, 0, &r2), 0);
    assert_int_equal(r1.total + r2.total, l.out.len);
    assert_int_equal(r2.status, 200);
    assert_idle_no_buffers(&t->c);
    buf_free(&l.out);
}

/* A fresh connection (nothing received, nothing answered) gets a grace at a
 * stop; one that has begun a request, or been answered, is not fresh. */
static void test_fresh(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    assert_true(conn_fresh(&t->c));
    uint64_t grace_end = conn_deadline(&t->c) - 1; /* a stop's grace, shorter than the deadline */
    assert_int_equal(conn_stop_deadline(&t->c, grace_end), grace_end);
    assert_int_equal(tu_feeds(&t->c, "GET /hel", &l), CONN_WANT_READ);
    assert_false(conn_fresh(&t->c));
    /* a request under way keeps its own deadline at a stop */
    assert_int_equal(conn_stop_deadline(&t->c, grace_end), conn_deadline(&t->c));
    assert_false(conn_idle(&t->c));
    assert_int_equal(tu_feeds(&t->c, "lo HTTP/1.1\r\nHost: a\r\n\r\n", &l), CONN_WANT_READ);
    assert_true(conn_idle(&t->c)); /* answered: idle, and may be closed at a stop */
    assert_false(conn_fresh(&t->c));
    buf_free(&l.out);
}

/* ---- database pages ------------------------------------------------------------- */

static void test_db_three_batches(void **state) {
    tu_env *t = *state;
    conn_init(&t->c, &t->env, NULL);
    const char *req = "GET /db?delay=5&queries=3 HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, req, strlen(req)), CONN_WANT_DB);
    assert_int_equal(conn_deadline(&t->c), 0); /* no limit during a database wait */
    for (int i = 0; i < 3; i++) {
        const db_plan *p = conn_db(&t->c);
        assert_int_equal(p->batches, 3);
        assert_int_equal(p->per_batch, 1);
        assert_int_equal(p->delay_ms, 5);
        tu_clock_us += 5000;
        assert_int_equal(conn_db_done(&t->c), i < 2 ? CONN_WANT_DB : CONN_WANT_WRITE);
    }
    size_t len;
    const char *out = conn_out(&t->c, &len);
    tu_resp r;
    assert_int_equal(tu_parse(out, len, 0, &r), 0);
    assert_int_equal(r.status, 200);
    TU_HDR_EQ(&r, "X-DB-Wait-Us", "15000");
    TU_HDR_EQ(&r, "Server-Timing", "db;dur=15.000");
    TU_HDR_EQ(&r, "X-Request-Start-Us", "5000000");
    TU_HDR_EQ(&r, "X-Request-End-Us", "5015000");
    TU_HDR_EQ(&r, "Content-Type", "text/html; charset=utf-8");
    assert_true(tu_contains(r.body, r.body_len, "<strong id=\"wait\">15.0 ms</strong>"));
    assert_int_equal(conn_wrote(&t->c, len), CONN_WANT_READ);
    assert_int_equal(atomic_load(&t->m->db_queries), 3);
    assert_int_equal(atomic_load(&t->m->db_wait_us), 15000);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_DB][200 - 100]), 1);
}

/* --db-pool: the driver reports each query's wait for a connection; the
 * batch's longest counts (independent queries wait side by side), batches
 * add up, and the headers and phases show it apart from the query. */
static void test_db_pool_queue_phases(void **state) {
    tu_env *t = *state;
    t->cfg.db_pool = 2;
    conn_init(&t->c, &t->env, NULL);
    const char *req = "GET /dashboard?delay=5&widgets=3&format=json HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, req, strlen(req)), CONN_WANT_DB);
    uint64_t t0 = tu_clock_us;
    conn_db_query(&t->c, t0, t0 + 5000); /* two at once */
    conn_db_query(&t->c, t0, t0 + 5000);
    conn_db_queued(&t->c, t0, t0 + 5000);      /* the third waited for one of them */
    conn_db_queued(&t->c, t0 + 10, t0 + 2000); /* (a shorter wait does not add) */
    conn_db_query(&t->c, t0 + 5000, t0 + 10000);
    tu_clock_us += 10000;
    assert_int_equal(conn_db_done(&t->c), CONN_WANT_WRITE);
    size_t len;
    const char *out = conn_out(&t->c, &len);
    tu_resp r;
    assert_int_equal(tu_parse(out, len, 0, &r), 0);
    TU_HDR_EQ(&r, "X-DB-Wait-Us", "10000");
    TU_HDR_EQ(&r, "X-DB-Queue-Us", "5000");
    TU_HDR_EQ(&r, "Server-Timing", "db;dur=10.000, dbqueue;dur=5.000");
    assert_true(tu_contains(r.body, r.body_len, "\"db_queue_us\":5000"));
    assert_true(tu_contains(r.body, r.body_len,
                            "{\"kind\":\"dbqueue\",\"start_ms\":0.000,\"end_ms\":5.000}"));
    assert_int_equal(conn_wrote(&t->c, len), CONN_WANT_READ);
}

/* The pool's queue was full: 503, and the connection closes after it. */
static void test_db_fail_is_503(void **state) {
    tu_env *t = *state;
    conn_init(&t->c, &t->env, NULL);
    const char *req = "GET /db?delay=5 HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, req, strlen(req)), CONN_WANT_DB);
    assert_int_equal(conn_db_fail(&t->c, "the queue is full"), CONN_WANT_WRITE);
    size_t len;
    const char *out = conn_out(&t->c, &len);
    tu_resp r;
    assert_int_equal(tu_parse(out, len, 0, &r), 0);
    assert_int_equal(r.status, 503);
    TU_HDR_EQ(&r, "Retry-After", "1");
    TU_HDR_EQ(&r, "Connection", "close");
    assert_true(tu_contains(r.body, r.body_len, "the queue is full"));
    assert_int_equal(conn_wrote(&t->c, len), CONN_CLOSE);
}

static void test_dashboard_one_batch(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    run_one(t, "GET /dashboard?widgets=4&format=json HTTP/1.1\r\nHost: a\r\n\r\n", 0, &r, &l);
    assert_string_equal(l.wants, "DWR");
    assert_int_equal(l.nplans, 1);
    assert_int_equal(l.plans[0].batches, 1);
    assert_int_equal(l.plans[0].per_batch, 4);
    assert_int_equal(l.plans[0].delay_ms, 100); /* the --db-delay default */
    TU_HDR_EQ(&r, "X-DB-Wait-Us", "100000");
    TU_HDR_EQ(&r, "Content-Type", "application/json");
    assert_true(tu_json_valid(r.body, r.body_len));
    assert_true(tu_contains(r.body, r.body_len, "\"widgets\":4"));
    assert_true(tu_contains(r.body, r.body_len, "\"db_wait_us\":100000"));
    assert_int_equal(atomic_load(&t->m->db_queries), 4);
    buf_free(&l.out);
}

static void test_db_bad_parameter(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    conn_want w = run_one(t, "GET /db?delay=-1 HTTP/1.1\r\nHost: a\r\n\r\n", 0, &r, &l);
    assert_string_equal(l.wants, "WR"); /* no database wait */
    assert_int_equal(w, CONN_WANT_READ);
    assert_int_equal(r.status, 400);
    assert_null(tu_hdr(&r, "X-DB-Wait-Us"));
    buf_free(&l.out);
}

static void test_request_timestamps(void **state) {
    tu_env *t = *state;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, "GET /db?delay=7 HT", 18), CONN_WANT_READ);
    tu_clock_us = 6000000;
    assert_int_equal(conn_feed(&t->c, "TP/1.1\r\nHost: a\r\n\r\n", 19), CONN_WANT_DB);
    tu_clock_us = 6007000;
    assert_int_equal(conn_db_done(&t->c), CONN_WANT_WRITE);
    size_t len;
    const char *out = conn_out(&t->c, &len);
    tu_resp r;
    assert_int_equal(tu_parse(out, len, 0, &r), 0);
    TU_HDR_EQ(&r, "X-Request-Start-Us", "6000000");
    TU_HDR_EQ(&r, "X-Request-End-Us", "6007000");
    TU_HDR_EQ(&r, "X-DB-Wait-Us", "7000");
}

/* ---- limits and errors ---------------------------------------------------------- */

/* Asserts one error response with status that closes the connection. */
static void check_error_close(tu_env *t, const char *req, size_t n, int status) {
    tu_log l = {0};
    tu_resp r;
    if (t->c.env)
        conn_destroy(&t->c);
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(tu_feed(&t->c, req, n, 0, &l), CONN_CLOSE);
    assert_string_equal(l.wants, "WC");
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.total, l.out.len);
    if (r.status != status)
        fail_msg("status %d, expected %d, for: %.80s", r.status, status, req);
    assert_string_equal(r.reason, http_reason(status));
    TU_HDR_EQ(&r, "Connection", "close");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%d %s: ", status, http_reason(status));
    assert_true(r.body_len > strlen(prefix));
    assert_memory_equal(r.body, prefix, strlen(prefix));
    buf_free(&l.out);
}

/* check_error_close(…, 400) for each of the n requests in reqs. */
static void check_400s(tu_env *t, const char *const *reqs, size_t n) {
    for (size_t i = 0; i < n; i++)
        check_error_close(t, reqs[i], strlen(reqs[i]), 400);
}
#define CHECK_400S(t, reqs) check_400s((t), (reqs), sizeof(reqs) / sizeof(reqs)[0])

static void check_status(tu_env *t, const char *req, int status) {
    tu_log l = {0};
    tu_resp r;
    run_one(t, req, 0, &r, &l);
    if (r.status != status)
        fail_msg("status %d, expected %d, for: %s", r.status, status, req);
    buf_free(&l.out);
}

static void test_uri_too_long_414(void **state) {
    tu_env *t = *state;
    t->cfg.max_header_size = 512;
    char req[1024];
    char target[600];
    target[0] = '/';
    memset(target + 1, 'a', 512);
    target[513] = 0; /* 513 bytes: one more than the limit */
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", target);
    check_error_close(t, req, (size_t)n, 414);
}

static void test_headers_too_large_431(void **state) {
    tu_env *t = *state;
    t->cfg.max_header_size = 512;
    char req[1024];
    char v[600];
    memset(v, 'b', 520);
    v[520] = 0;
    int n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: a\r\nX-Big: %s\r\n\r\n", v);
    check_error_close(t, req, (size_t)n, 431);
}

static void test_body_too_large_413(void **state) {
    tu_env *t = *state;
    t->cfg.max_body_size = 10;
    const char *big = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
    check_error_close(t, big, strlen(big), 413);
    const char *chunked = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n";
    check_error_close(t, chunked, strlen(chunked), 413);
    /* exactly the limit is fine, both ways */
    tu_log l = {0};
    tu_resp r;
    run_one(t, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", 0, &r, &l);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "0123456789", 10);
    buf_free(&l.out);
    l = (tu_log){0};
    run_one(t,
            "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n",
            0, &r, &l);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "abcdefghij", 10);
    buf_free(&l.out);
}

static void test_malformed_400(void **state) {
    tu_env *t = *state;
    static const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET /hello HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n",
        "GET /hello XTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
        "GET hello HTTP/1.1\r\nHost: a\r\n\r\n",
        /* an empty header name */
        "GET /hello HTTP/1.1\r\nHost: a\r\n: bar\r\n\r\n",
        /* Content-Length with an empty Transfer-Encoding: two framings */
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding:\r\n\r\nabc",
        /* obs-fold: a continuation line is refused, not unfolded */
        "POST /echo HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n Content-Length: 3\r\n\r\nabc",
    };
    CHECK_400S(t, bad);
}

static void test_host_rules(void **state) {
    tu_env *t = *state;
    const char *no_host = "GET /hello HTTP/1.1\r\n\r\n";
    check_error_close(t, no_host, strlen(no_host), 400);
    const char *two = "GET /hello HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n";
    check_error_close(t, two, strlen(two), 400);
    static const char *bad_hosts[] = {"017700000001", "0x7f.1", "1.2.3", "127.0.0.01",
                                      "a b",          "[::1",   "[zz]",  "a:99999"};
    for (size_t i = 0; i < sizeof bad_hosts / sizeof bad_hosts[0]; i++) {
        char req[256];
        int n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: %s\r\n\r\n", bad_hosts[i]);
        check_error_close(t, req, (size_t)n, 400);
    }
    static const char *good_hosts[] = {"localhost",  "localhost:8080", "127.0.0.1:80",
                                       "[::1]:8080", "example.com",    "deadbeef"};
    for (size_t i = 0; i < sizeof good_hosts / sizeof good_hosts[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: %s\r\n\r\n", good_hosts[i]);
        check_status(t, req, 200);
    }
}

/* A head that is bad whatever its body is answered at its end, before the
 * body: a body announced but never sent must not keep the 400 waiting. */
static void test_bad_head_answered_before_body(void **state) {
    tu_env *t = *state;
    static const char *heads[] = {
        "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\n", /* no Host */
        "POST /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 5\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: a b\r\nContent-Length: 5\r\n\r\n",
        "POST /echo#x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST * HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
    };
    CHECK_400S(t, heads);
}

/* "*" is the target of OPTIONS only (RFC 9110 9.3.7): answered with the
 * server's methods; any other method with * is a 400, not a 404. */
static void test_asterisk_target(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    run_one(t, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, &r, &l);
    assert_int_equal(r.status, 200);
    TU_HDR_EQ(&r, "Allow", ROUTE_SERVER_ALLOW);
    TU_HDR_EQ(&r, "Content-Length", "0");
    buf_free(&l.out);
    static const char *bad[] = {"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
                                "HEAD * HTTP/1.1\r\nHost: a\r\n\r\n"};
    CHECK_400S(t, bad);
}

/* A client never sends a #fragment (RFC 9112 3.2): such a target is a 400. */
static void test_fragment_400(void **state) {
    tu_env *t = *state;
    static const char *bad[] = {"GET /hello#top HTTP/1.1\r\nHost: a\r\n\r\n",
                                "GET /hello?a=1#top HTTP/1.1\r\nHost: a\r\n\r\n",
                                "GET http://a/hello#top HTTP/1.1\r\nHost: a\r\n\r\n"};
    CHECK_400S(t, bad);
}

static void test_absolute_form(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    run_one(t, "GET http://localhost:80/hello HTTP/1.1\r\nHost: localhost:80\r\n\r\n", 0, &r, &l);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "Hello, world!\n", 14);
    buf_free(&l.out);
    const char *bad = "GET http://017700000001/hello HTTP/1.1\r\nHost: a\r\n\r\n";
    check_error_close(t, bad, strlen(bad), 400);
}

static void test_head(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(tu_feeds(&t->c, "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n", &l),
                     CONN_WANT_READ);
    char *want = hello_expected("keep-alive", T0, T0, 1);
    assert_masked(&l, want);
    free(want);
    buf_free(&l.out);
}

static void test_not_found_404(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    assert_int_equal(run_one(t, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 0, &r, &l),
                     CONN_WANT_READ);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.reason, "Not Found");
    TU_HDR_EQ(&r, "Connection", "keep-alive");
    assert_memory_equal(r.body, "404 Not Found: ", 15);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_OTHER][404 - 100]), 1);
    buf_free(&l.out);
}

static void test_method_not_allowed_405(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    run_one(t, "POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", 0, &r, &l);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.reason, "Method Not Allowed");
    TU_HDR_EQ(&r, "Allow", "GET, HEAD");
    assert_true(tu_contains(r.body, r.body_len, "GET, HEAD"));
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_HELLO][405 - 100]), 1);
    buf_free(&l.out);
}

/* ---- bodies ----------------------------------------------------------------------- */

static void test_expect_continue(void **state) {
    tu_env *t = *state;
    conn_init(&t->c, &t->env, NULL);
    const char *head = "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                       "Content-Length: 5\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, head, strlen(head)), CONN_WANT_WRITE);
    size_t len;
    const char *out = conn_out(&t->c, &len);
    assert_int_equal(len, 25);
    assert_memory_equal(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    assert_int_equal(conn_wrote(&t->c, 10), CONN_WANT_WRITE);
    assert_int_equal(conn_wrote(&t->c, 15), CONN_WANT_READ);
    tu_log l = {0};
    assert_int_equal(tu_feeds(&t->c, "hello", &l), CONN_WANT_READ);
    tu_resp r;
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.total, l.out.len); /* no second 100 Continue */
    assert_int_equal(r.status, 200);
    TU_HDR_EQ(&r, "Content-Type", "application/octet-stream");
    assert_int_equal(r.body_len, 5);
    assert_memory_equal(r.body, "hello", 5);
    assert_idle_no_buffers(&t->c);
    buf_free(&l.out);
}

static void test_expect_unknown_417(void **state) {
    tu_env *t = *state;
    const char *a =
        "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: something\r\nContent-Length: 1\r\n\r\n";
    check_error_close(t, a, strlen(a), 417);
}

/* Same length as "100-continue" and the same first 8 bytes: still not it. */
static void test_expect_lookalike_417(void **state) {
    tu_env *t = *state;
    const char *b =
        "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-contxxxx\r\nContent-Length: 1\r\n\r\n";
    check_error_close(t, b, strlen(b), 417);
}

static void test_chunked_echo(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    run_one(t,
            "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            0, &r, &l);
    assert_int_equal(r.status, 200);
    TU_HDR_EQ(&r, "Content-Length", "11");
    assert_memory_equal(r.body, "hello world", 11);
    buf_free(&l.out);
}

static void test_long_target_child(tu_env *t) {
    /* a target long enough that copying its path and query grows the buffer
     * they are copied from */
    buf req = {0};
    buf_puts(&req, "GET /hello?pad=");
    for (int i = 0; i < 290; i++)
        buf_puts(&req, "x");
    buf_puts(&req, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    conn_init(&t->c, &t->env, NULL);
    tu_log l = {0};
    tu_resp r;
    conn_want w = tu_feed(&t->c, req.p, req.len, 0, &l);
    int ok = w == CONN_WANT_READ && tu_parse(l.out.p, l.out.len, 0, &r) == 0 && r.status == 200 &&
             r.body_len == 14 && memcmp(r.body, "Hello, world!\n", 14) == 0;
    _exit(ok ? 0 : 3);
}

/* Runs in a child so that a memory error reported by the sanitizers fails
 * this test and not the whole executable. */
static void test_long_target(void **state) {
    tu_env *t = *state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        test_long_target_child(t);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("GET /hello?pad=<290 bytes> failed in the child (exit %d; 1 = sanitizer "
                 "report above, 3 = wrong response)",
                 WEXITSTATUS(st));
}

/* ---- keep-alive and close ---------------------------------------------------------- */

static void check_connection(tu_env *t, const char *req, const char *want_hdr, conn_want want) {
    tu_log l = {0};
    tu_resp r;
    conn_want w = run_one(t, req, 0, &r, &l);
    assert_int_equal(r.status, 200);
    TU_HDR_EQ(&r, "Connection", want_hdr);
    assert_int_equal(w, want);
    buf_free(&l.out);
}

static void test_connection_close(void **state) {
    tu_env *t = *state;
    check_connection(t, "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "close",
                     CONN_CLOSE);
    check_connection(t, "GET /hello HTTP/1.0\r\n\r\n", "close", CONN_CLOSE);
    check_connection(t, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "keep-alive",
                     CONN_WANT_READ);
    check_connection(t, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", "keep-alive", CONN_WANT_READ);
}

static void test_keep_alive_off(void **state) {
    tu_env *t = *state;
    t->cfg.keep_alive = 0;
    check_connection(t, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", "close", CONN_CLOSE);
    check_connection(t, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "close",
                     CONN_CLOSE);
    /* a pipelined second request is not answered */
    tu_log l = {0};
    tu_resp r;
    assert_int_equal(run_one(t,
                             "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                             "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n",
                             0, &r, &l),
                     CONN_CLOSE);
    assert_string_equal(l.wants, "WC");
    buf_free(&l.out);
}

static void test_stopping_closes(void **state) {
    tu_env *t = *state;
    atomic_int stop = 1;
    t->env.stopping = &stop;
    check_connection(t, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", "close", CONN_CLOSE);
}

static void test_eof(void **state) {
    tu_env *t = *state;
    /* right after accepting */
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_eof(&t->c), CONN_CLOSE);
    conn_destroy(&t->c);
    /* idle after a response */
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_int_equal(conn_eof(&t->c), CONN_CLOSE);
    conn_destroy(&t->c);
    buf_free(&l.out);
    /* in the middle of a request: 400, then close */
    l = (tu_log){0};
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(tu_feeds(&t->c, "GET /hello HTTP/1.1\r\nHo", &l), CONN_WANT_READ);
    assert_int_equal(tu_pump(&t->c, tu_note(&l, conn_eof(&t->c)), 0, &l), CONN_CLOSE);
    assert_string_equal(l.wants, "RWC");
    tu_resp r;
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 400);
    TU_HDR_EQ(&r, "Connection", "close");
    buf_free(&l.out);
}

/* ---- deadlines ---------------------------------------------------------------------- */

static void test_deadlines(void **state) {
    tu_env *t = *state;
    const uint64_t s = 1000000;
    t->cfg.slow_client_defence = 0; /* only --header-timeout (see test_first_byte_timeout) */
    tu_clock_us = 1 * s;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_deadline(&t->c), 11 * s); /* header timeout from accept */
    tu_clock_us = 2 * s;
    assert_int_equal(conn_feed(&t->c, "GET /he", 7), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 12 * s); /* from the first byte */
    tu_clock_us = 3 * s;
    assert_int_equal(conn_feed(&t->c, "llo HTTP/1.1\r\n", 14), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 12 * s); /* more bytes do not extend it */
    assert_int_equal(conn_feed(&t->c, "Host: a\r\n\r\n", 11), CONN_WANT_WRITE);
    assert_int_equal(conn_deadline(&t->c), 13 * s); /* the client must read */
    tu_clock_us = 4 * s;
    size_t len;
    conn_out(&t->c, &len);
    assert_int_equal(conn_wrote(&t->c, len), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 9 * s); /* keep-alive timeout (5 s) */
    /* a database wait has no deadline */
    tu_clock_us = 5 * s;
    const char *db = "GET /db?delay=1 HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, db, strlen(db)), CONN_WANT_DB);
    assert_int_equal(conn_deadline(&t->c), 0);
}

/* Bytes that trickle in or out never extend a phase's budget: a slow body,
 * CRLFs dripped on an idle keep-alive connection, a client reading a byte at
 * a time (each of these once kept a worker or the shutdown waiting forever). */
static void test_trickle_does_not_extend(void **state) {
    tu_env *t = *state;
    const uint64_t s = 1000000;
    t->cfg.slow_client_defence = 0; /* --min-rate would end the trickles sooner */
    tu_clock_us = 1 * s;
    conn_init(&t->c, &t->env, NULL);
    const char *head = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, head, strlen(head)), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 11 * s); /* the body's budget starts at the head's end */
    for (int i = 0; i < 5; i++) {
        tu_clock_us += 2 * s;
        assert_int_equal(conn_feed(&t->c, "x", 1), CONN_WANT_READ);
        assert_int_equal(conn_deadline(&t->c), 11 * s);
    }
    tu_clock_us = 12 * s;
    assert_int_equal(conn_timed_out(&t->c), CONN_WANT_WRITE); /* 408 */
    conn_destroy(&t->c);

    /* CRLFs on an idle keep-alive connection */
    tu_clock_us = 20 * s;
    conn_init(&t->c, &t->env, NULL);
    const char *get = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, get, strlen(get)), CONN_WANT_WRITE);
    size_t len;
    conn_out(&t->c, &len);
    assert_int_equal(conn_wrote(&t->c, len), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 25 * s);
    tu_clock_us = 24 * s;
    assert_int_equal(conn_feed(&t->c, "\r\n", 2), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 25 * s);

    /* a response read a byte at a time */
    tu_clock_us = 30 * s;
    assert_int_equal(conn_feed(&t->c, get, strlen(get)), CONN_WANT_WRITE);
    assert_int_equal(conn_deadline(&t->c), 40 * s);
    tu_clock_us = 35 * s;
    assert_int_equal(conn_wrote(&t->c, 1), CONN_WANT_WRITE);
    assert_int_equal(conn_deadline(&t->c), 40 * s);
    conn_destroy(&t->c);
}

/* ---- slow-client defence ------------------------------------------------------------ */

/* With the defence on (the default), a new connection's first byte must come
 * within --first-byte-timeout; then the request has its usual budgets. */
static void test_first_byte_timeout(void **state) {
    tu_env *t = *state;
    const uint64_t s = 1000000;
    tu_clock_us = 1 * s;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_deadline(&t->c), 3 * s); /* --first-byte-timeout 2 */
    tu_clock_us = 3 * s;
    assert_int_equal(conn_timed_out(&t->c), CONN_CLOSE); /* nothing to answer */
    conn_destroy(&t->c);
    /* off, or 0: --header-timeout from the connection, as before */
    t->cfg.first_byte_s = 0;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_deadline(&t->c), 13 * s);
    conn_destroy(&t->c);
    t->cfg.first_byte_s = 2;
    t->cfg.slow_client_defence = 0;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_deadline(&t->c), 13 * s);
    conn_destroy(&t->c);
    /* the keep-alive timeout between requests is not a first byte */
    t->cfg.slow_client_defence = 1;
    conn_init(&t->c, &t->env, NULL);
    tu_log l = {0};
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 8 * s); /* --keep-alive-timeout 5 */
    buf_free(&l.out);
}

/* A head or body trickling in below --min-rate (after a 1 s grace, each 500
 * bytes buy a second) gets 408 long before --header-timeout. */
static void test_min_rate(void **state) {
    tu_env *t = *state;
    const uint64_t s = 1000000, ms = 1000;
    tu_clock_us = 1 * s;
    conn_init(&t->c, &t->env, NULL);
    tu_clock_us = 1500 * ms;
    assert_int_equal(conn_feed(&t->c, "GET /he", 7), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 2514 * ms); /* 1.5 s + 1 s + 7 B / 500 B/s */
    tu_clock_us = 2500 * ms;
    assert_int_equal(conn_feed(&t->c, "l", 1), CONN_WANT_READ); /* a byte a second: slowloris */
    assert_int_equal(conn_deadline(&t->c), 2516 * ms);
    tu_clock_us = 2516 * ms;
    tu_log l = {0};
    assert_int_equal(tu_pump(&t->c, tu_note(&l, conn_timed_out(&t->c)), 0, &l), CONN_CLOSE);
    tu_resp r;
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 408);
    assert_true(tu_contains(r.body, r.body_len, "--min-rate"));
    buf_free(&l.out);
    conn_destroy(&t->c);

    /* a body: its own phase from the end of the head */
    tu_clock_us = 10 * s;
    conn_init(&t->c, &t->env, NULL);
    const char *head = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, head, strlen(head)), CONN_WANT_READ);
    /* the head's bytes count for the read that began the body's phase */
    assert_int_equal(conn_deadline(&t->c), 11 * s + strlen(head) * 2 * ms);
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    tu_clock_us = 11 * s;
    assert_int_equal(conn_feed(&t->c, chunk, 500), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 12 * s + strlen(head) * 2 * ms);
    /* never past --header-timeout from the phase's start, however fast */
    for (int i = 0; i < 4; i++)
        assert_int_equal(conn_feed(&t->c, chunk, sizeof chunk), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 20 * s);
    tu_clock_us = 20 * s;
    l = (tu_log){0};
    assert_int_equal(tu_pump(&t->c, tu_note(&l, conn_timed_out(&t->c)), 0, &l), CONN_CLOSE);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 408);
    assert_true(tu_contains(r.body, r.body_len, "--header-timeout"));
    buf_free(&l.out);
    conn_destroy(&t->c);

    /* --min-rate 0: only --header-timeout */
    t->cfg.min_rate = 0;
    tu_clock_us = 30 * s;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, "GET /he", 7), CONN_WANT_READ);
    assert_int_equal(conn_deadline(&t->c), 40 * s);
}

/* A response leaving is held to --min-send-rate, counted in what the client
 * received (the driver's conn_unsent): what the kernel took at once (the
 * socket and the client's receive buffers) buys at most the grace ahead; a
 * slow reader is cut about two graces after its response began, counted in
 * send_timeouts; a client reading at the rate goes on past --header-timeout. */
static void test_min_send_rate(void **state) {
    tu_env *t = *state;
    const uint64_t s = 1000000, ms = 1000;
    char body[100000];
    memset(body, 'x', sizeof body);
    buf req = {0};
    buf_printf(&req, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n", sizeof body);
    buf_append(&req, body, sizeof body);
    for (int reader = 0; reader < 2; reader++) {
        tu_clock_us = 10 * s;
        conn_init(&t->c, &t->env, NULL);
        assert_int_equal(conn_feed(&t->c, req.p, req.len), CONN_WANT_WRITE);
        /* the bytes of the request buy the response nothing */
        assert_int_equal(conn_deadline(&t->c), 11 * s);
        size_t len;
        conn_out(&t->c, &len);
        assert_int_equal(conn_wrote(&t->c, 60000), CONN_WANT_WRITE); /* the kernel took 60 kB */
        assert_int_equal(conn_deadline(&t->c), 11 * s);
        tu_clock_us = 11 * s;
        conn_unsent(&t->c, 50000); /* 10 kB received: 20 s at 500 B/s, banked 1 s at most */
        assert_int_equal(conn_deadline(&t->c), 12 * s);
        /* a blocking worker others queue for: paid up to 100 ms ago at most */
        assert_int_equal(conn_crowded_deadline(&t->c), 11 * s + 100 * ms);
        if (reader == 0) { /* slowhttptest -X: 20 bytes a second */
            tu_clock_us = 12 * s;
            conn_unsent(&t->c, 49980);
            assert_int_equal(conn_deadline(&t->c), 12 * s + 40 * ms);
            tu_clock_us = 12 * s + 40 * ms;
            conn_unsent(&t->c, 49980);
            assert_int_equal(conn_deadline(&t->c), 12 * s + 40 * ms); /* stands: cut */
            uint64_t before = t->m->send_timeouts;
            assert_int_equal(conn_timed_out(&t->c), CONN_CLOSE);
            assert_int_equal(t->m->send_timeouts, before + 1);
        } else { /* 600 B/s, for longer than --header-timeout */
            size_t off = 60000, got = 10000;
            for (int i = 1; i <= 30; i++) {
                tu_clock_us = (11 + (uint64_t)i) * s;
                got += 600;
                if (got + 40000 > off) {
                    assert_int_equal(conn_wrote(&t->c, 20000), CONN_WANT_WRITE);
                    off += 20000;
                }
                conn_unsent(&t->c, off - got);
                assert_int_equal(conn_deadline(&t->c), tu_clock_us + 1 * s);
            }
        }
        conn_destroy(&t->c);
    }
    buf_free(&req);
    /* --slow-client-defence off: the header timeout from the response's start */
    t->cfg.slow_client_defence = 0;
    tu_clock_us = 50 * s;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, HELLO, strlen(HELLO)), CONN_WANT_WRITE);
    conn_unsent(&t->c, 0);
    assert_int_equal(conn_deadline(&t->c), 60 * s);
}

/* A normal client — its request whole in one read, or a body arriving in
 * pieces faster than --min-rate — is answered as before. */
static void test_defence_spares_normal_clients(void **state) {
    tu_env *t = *state;
    const uint64_t s = 1000000, ms = 1000;
    tu_clock_us = 1 * s;
    tu_log l = {0};
    tu_resp r;
    conn_init(&t->c, &t->env, NULL);
    tu_clock_us = 2900 * ms; /* connected, then took its time (under 2 s) */
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 200);
    buf_free(&l.out);
    conn_destroy(&t->c);
    /* 5 kB of body at 1000 B/s, 100 bytes every 100 ms */
    l = (tu_log){0};
    conn_init(&t->c, &t->env, NULL);
    const char *head = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n";
    assert_int_equal(tu_feeds(&t->c, head, &l), CONN_WANT_READ);
    char chunk[100];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 49; i++) {
        tu_clock_us += 100 * ms;
        assert_true(tu_clock_us < conn_deadline(&t->c));
        assert_int_equal(tu_feed(&t->c, chunk, sizeof chunk, 0, &l), CONN_WANT_READ);
    }
    tu_clock_us += 100 * ms;
    assert_true(tu_clock_us < conn_deadline(&t->c));
    assert_int_equal(tu_feed(&t->c, chunk, sizeof chunk, 0, &l), CONN_WANT_READ);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 5000);
    buf_free(&l.out);
}

/* A blocking worker others queue for gives an unfinished request (or a
 * connection that sent nothing) CONN_CROWDED_US; with the defence off,
 * conn_deadline() as usual. */
static void test_crowded_deadline(void **state) {
    tu_env *t = *state;
    const uint64_t s = 1000000;
    tu_clock_us = 1 * s;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_crowded_deadline(&t->c), 1 * s + CONN_CROWDED_US);
    tu_clock_us = 2 * s;
    assert_int_equal(conn_feed(&t->c, "GET /he", 7), CONN_WANT_READ);
    assert_int_equal(conn_crowded_deadline(&t->c), 2 * s + CONN_CROWDED_US);
    tu_log l = {0};
    assert_int_equal(tu_feeds(&t->c, "llo HTTP/1.1\r\nHost: a\r\n\r\n", &l), CONN_WANT_READ);
    /* idle between requests: the keep-alive timeout, crowded or not */
    assert_int_equal(conn_crowded_deadline(&t->c), conn_deadline(&t->c));
    buf_free(&l.out);
    conn_destroy(&t->c);
    t->cfg.slow_client_defence = 0;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, "GET /he", 7), CONN_WANT_READ);
    assert_int_equal(conn_crowded_deadline(&t->c), conn_deadline(&t->c));
}

/* A chunked body's trailer is not a header: "Host" there does not satisfy
 * HTTP/1.1's Host requirement. */
static void test_trailer_is_not_a_header(void **state) {
    tu_env *t = *state;
    const char *req = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n0\r\nHost: evil\r\n\r\n";
    check_error_close(t, req, strlen(req), 400);
}

static void test_timed_out(void **state) {
    tu_env *t = *state;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_timed_out(&t->c), CONN_CLOSE); /* idle: just close */
    conn_destroy(&t->c);
    conn_init(&t->c, &t->env, NULL);
    tu_log l = {0};
    assert_int_equal(tu_feeds(&t->c, "GET /hello HTTP/1.1\r\n", &l), CONN_WANT_READ);
    assert_int_equal(tu_pump(&t->c, tu_note(&l, conn_timed_out(&t->c)), 0, &l), CONN_CLOSE);
    tu_resp r;
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 408);
    assert_string_equal(r.reason, "Request Timeout");
    TU_HDR_EQ(&r, "Connection", "close");
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_OTHER][408 - 100]), 1);
    buf_free(&l.out);
    /* idle after a response */
    l = (tu_log){0};
    conn_destroy(&t->c);
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_int_equal(conn_timed_out(&t->c), CONN_CLOSE);
    buf_free(&l.out);
}

static void test_refuse(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    conn_want w = tu_pump(&t->c, tu_note(&l, conn_refuse(&t->c, 503, "no threads")), 0, &l);
    assert_int_equal(w, CONN_CLOSE);
    assert_string_equal(l.wants, "WC");
    tu_resp r;
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.total, l.out.len);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.reason, "Service Unavailable");
    TU_HDR_EQ(&r, "Connection", "close");
    assert_true(tu_contains(r.body, r.body_len, "no threads"));
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_OTHER][503 - 100]), 1);
    assert_int_equal(atomic_load(&t->m->in_flight), 0);
    buf_free(&l.out);
}

/* ---- counters and memory ------------------------------------------------------------- */

#define BODY_HEAD(n) "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: " #n "\r\n\r\n"

/* Feeds req to a fresh connection c; returns the parsed response (the
 * caller frees l->out). */
static conn_want feed_new(tu_env *t, conn *c, const char *req, tu_log *l) {
    conn_init(c, &t->env, NULL);
    return tu_feed(c, req, strlen(req), 0, l);
}

static void test_body_budget(void **state) {
    tu_env *t = *state;
    t->cfg.max_body_memory = 1000;
    _Atomic uint64_t *held = &t->m->body_memory;
    /* a body under way holds its whole announced length */
    tu_log la = {0};
    assert_int_equal(feed_new(t, &t->c, BODY_HEAD(600) "abc", &la), CONN_WANT_READ);
    assert_int_equal(atomic_load(held), 600);
    /* a second one that does not fit is answered 503 before its body, and holds nothing */
    conn b;
    tu_log lb = {0};
    tu_resp r;
    assert_int_equal(feed_new(t, &b, BODY_HEAD(600), &lb), CONN_CLOSE);
    assert_int_equal(tu_parse(lb.out.p, lb.out.len, 0, &r), 0);
    assert_int_equal(r.status, 503);
    TU_HDR_EQ(&r, "Retry-After", "1");
    TU_HDR_EQ(&r, "Connection", "close");
    assert_true(tu_contains(r.body, r.body_len, "--max-body-memory"));
    assert_int_equal(atomic_load(&t->m->refused_bodies), 1);
    assert_int_equal(atomic_load(held), 600);
    conn_destroy(&b);
    buf_free(&lb.out);
    /* one that fits still goes through */
    lb = (tu_log){0};
    assert_int_equal(feed_new(t, &b, BODY_HEAD(400) "0123456789", &lb), CONN_WANT_READ);
    assert_int_equal(atomic_load(held), 1000);
    conn_destroy(&b); /* closed mid-body: its share comes back */
    assert_int_equal(atomic_load(held), 600);
    buf_free(&lb.out);
    /* the first body completes: answered, and the budget is whole again */
    char rest[597];
    memset(rest, 'x', sizeof rest);
    buf_free(&la.out);
    la = (tu_log){0};
    assert_int_equal(tu_feed(&t->c, rest, sizeof rest, 0, &la), CONN_WANT_READ);
    assert_int_equal(tu_parse(la.out.p, la.out.len, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 600);
    assert_int_equal(atomic_load(held), 0);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_OTHER][503 - 100]), 1);
    buf_free(&la.out);
}

static void test_body_budget_chunked(void **state) {
    tu_env *t = *state;
    t->cfg.max_body_memory = 100;
    tu_log l = {0};
    /* a chunked body takes the budget as it grows: 80 bytes fit, 30 more do not */
    char req[512];
    char chunk[81];
    memset(chunk, 'c', 80);
    chunk[80] = 0;
    snprintf(req, sizeof req,
             "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n%s\r\n",
             chunk);
    assert_int_equal(feed_new(t, &t->c, req, &l), CONN_WANT_READ);
    assert_int_equal(atomic_load(&t->m->body_memory), 80);
    assert_int_equal(tu_feeds(&t->c, "1e\r\n012345678901234567890123456789\r\n", &l), CONN_CLOSE);
    tu_resp r;
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 503);
    assert_int_equal(atomic_load(&t->m->body_memory), 0);
    assert_int_equal(atomic_load(&t->m->refused_bodies), 1);
    buf_free(&l.out);
    /* no limit: still counted while held, never refused */
    t->cfg.max_body_memory = 0;
    conn_destroy(&t->c);
    l = (tu_log){0};
    assert_int_equal(feed_new(t, &t->c, BODY_HEAD(5000), &l), CONN_WANT_READ);
    assert_int_equal(atomic_load(&t->m->body_memory), 5000);
    conn_destroy(&t->c);
    assert_int_equal(atomic_load(&t->m->body_memory), 0);
}

/* ASan's allocator aborts on a request it cannot meet unless told to
 * return NULL like malloc: the next test needs malloc's behaviour. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}

static void test_buf_fails_softly(void **state) {
    (void)state;
    buf b = {0};
    buf_puts(&b, "kept");
    assert_int_equal(buf_reserve(&b, (size_t)1 << 60), -1);
    assert_true(b.failed);
    buf_puts(&b, " dropped");
    buf_printf(&b, "%d", 1);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.p, "kept", 4);
    buf_free(&b);
    assert_false(b.failed);
    buf_puts(&b, "again");
    assert_int_equal(b.len, 5);
    buf_free(&b);
}

/* buf_printf formats into the room a buffer has and grows it only for text
 * that does not fit: both paths, at the boundary, must give the same bytes */
static void test_buf_printf_fits_and_grows(void **state) {
    (void)state;
    buf b = {0};
    buf_printf(&b, "%s-%d", "first", 1); /* no room at all yet */
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.p, "first-1", 7);
    size_t room = b.cap - b.len;
    char exact[512];
    assert_true(room > 1 && room < sizeof exact);
    memset(exact, 'x', room - 1); /* fits with its NUL: formatted once, in place */
    exact[room - 1] = 0;
    buf_printf(&b, "%s", exact);
    assert_int_equal(b.len, 7 + room - 1);
    assert_int_equal(b.cap - b.len, 1);
    buf_printf(&b, "%s", "yz"); /* one byte of room: measured, grown, formatted again */
    assert_int_equal(b.len, 7 + room + 1);
    assert_memory_equal(b.p + b.len - 3, "xyz", 3);
    char big[2000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    buf_printf(&b, "<%s>", big);
    assert_int_equal(b.len, 7 + room + 1 + sizeof big + 1);
    assert_int_equal(b.p[b.len - 1], '>');
    assert_int_equal(b.p[b.len - sizeof big - 1], '<');
    buf_free(&b);
}

/* buf_put_u64 and buf_put_fixed write the numbers printf wrote before them
 * (the response head and the /db page are built with them, no printf) */
static void test_buf_put_numbers(void **state) {
    (void)state;
    const unsigned long long u[] = {0, 7, 10, 99, 100246, 4294967296ULL, 18446744073709551615ULL};
    const struct {
        unsigned long long v;
        unsigned decimals;
        const char *want;
    } f[] = {{100246, 3, "100.246"},
             {5, 3, "0.005"},
             {0, 1, "0.0"},
             {1002, 1, "100.2"},
             {42, 0, "42"},
             {7, 2, "0.07"},
             {18446744073709551615ULL, 19, "1.8446744073709551615"}};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        char want[32];
        buf b = {0};
        buf_put_u64(&b, u[i]);
        snprintf(want, sizeof want, "%llu", u[i]);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.p, want, b.len);
        buf_free(&b);
    }
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        buf b = {0};
        buf_puts(&b, "<");
        buf_put_fixed(&b, f[i].v, f[i].decimals);
        buf_puts(&b, ">");
        assert_int_equal(b.len, strlen(f[i].want) + 2);
        assert_memory_equal(b.p + 1, f[i].want, b.len - 2);
        buf_free(&b);
    }
}

static void test_body_out_of_memory(void **state) {
    tu_env *t = *state;
    /* a body no malloc can hold: that request gets 503, nothing aborts */
    t->cfg.max_body_size = (size_t)1 << 50;
    t->cfg.max_body_memory = 0;
    tu_log l = {0};
    tu_resp r;
    assert_int_equal(feed_new(t, &t->c, BODY_HEAD(1125899906842624), &l), CONN_CLOSE);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 503);
    assert_true(tu_contains(r.body, r.body_len, "out of memory"));
    assert_int_equal(atomic_load(&t->m->body_memory), 0);
    assert_int_equal(atomic_load(&t->m->refused_bodies), 1);
    buf_free(&l.out);
}

/* Linked with --wrap=realloc (tests/unit/CMakeLists.txt): while no_realloc
 * is set every buffer's growth fails, as when the address space is spent. */
static int no_realloc;
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n) {
    return no_realloc ? NULL : __real_realloc(p, n);
}

/* Feeds the end of a /hello head on a new connection while no buffer can
 * grow. Returns what the core wants then. */
static conn_want hello_without_memory(tu_env *t) {
    conn_thread_done(); /* no spare: every buffer of the request must grow */
    conn_init(&t->c, &t->env, NULL);
    const char *head = "GET /hello HTTP/1.1\r\nHost: a\r\n";
    assert_int_equal(conn_feed(&t->c, head, strlen(head)), CONN_WANT_READ);
    no_realloc = 1;
    conn_want w = conn_feed(&t->c, "\r\n", 2);
    no_realloc = 0;
    return w;
}

static void test_no_memory_for_the_answer(void **state) {
    tu_env *t = *state;
    /* the request has its exchange, but neither the page nor the error page
     * nor the response head can be built: the client is still told (the
     * static 503), not dropped with no word (a close, before) */
    tu_log l = {0};
    tu_resp r;
    conn_want w = hello_without_memory(t);
    assert_int_equal(w, CONN_WANT_WRITE);
    assert_int_equal(tu_pump(&t->c, w, 7, &l), CONN_CLOSE);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 503);
    TU_HDR_EQ(&r, "Connection", "close");
    TU_HDR_EQ(&r, "Retry-After", "1");
    assert_true(tu_contains(r.body, r.body_len, "out of memory"));
    assert_int_equal(atomic_load(&t->m->in_flight), 0);
    conn_destroy(&t->c);
    assert_int_equal(atomic_load(&t->m->in_flight), 0);
    assert_int_equal(atomic_load(&t->m->open), 0);
    buf_free(&l.out);
    /* the client leaves in the middle of it: the response is counted out once */
    w = hello_without_memory(t);
    assert_int_equal(w, CONN_WANT_WRITE);
    assert_int_equal(conn_wrote(&t->c, 5), CONN_WANT_WRITE);
    conn_destroy(&t->c);
    assert_int_equal(atomic_load(&t->m->in_flight), 0);
    assert_int_equal(atomic_load(&t->m->open), 0);
    /* and the next request, with memory, is served */
    l = (tu_log){0};
    assert_int_equal(feed_new(t, &t->c, HELLO, &l), CONN_WANT_READ);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_int_equal(r.status, 200);
    buf_free(&l.out);
}

static void test_refuse_says_retry_after(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    tu_resp r;
    conn_init(&t->c, &t->env, NULL);
    tu_pump(&t->c, tu_note(&l, conn_refuse(&t->c, 503, "full")), 0, &l);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    TU_HDR_EQ(&r, "Retry-After", "1");
    buf_free(&l.out);
    /* other errors do not */
    l = (tu_log){0};
    conn_destroy(&t->c);
    conn_init(&t->c, &t->env, NULL);
    tu_pump(&t->c, tu_note(&l, conn_refuse(&t->c, 400, "bad")), 0, &l);
    assert_int_equal(tu_parse(l.out.p, l.out.len, 0, &r), 0);
    assert_null(tu_hdr(&r, "Retry-After"));
    buf_free(&l.out);
}

static void test_metrics_counters(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(atomic_load(&t->m->accepted), 1);
    assert_int_equal(atomic_load(&t->m->open), 1);
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_int_equal(tu_feeds(&t->c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", &l), CONN_WANT_READ);
    assert_int_equal(atomic_load(&t->m->in_flight), 0);
    assert_int_equal(atomic_load(&t->m->requests), 3);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_HELLO][200 - 100]), 2);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_OTHER][404 - 100]), 1);
    conn_destroy(&t->c);
    assert_int_equal(atomic_load(&t->m->open), 0);
    assert_int_equal(atomic_load(&t->m->accepted), 1);
    buf_free(&l.out);
}

static void test_metrics_destroy_mid_response(void **state) {
    tu_env *t = *state;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, HELLO, strlen(HELLO)), CONN_WANT_WRITE);
    assert_int_equal(atomic_load(&t->m->in_flight), 1);
    assert_int_equal(conn_wrote(&t->c, 5), CONN_WANT_WRITE);
    conn_destroy(&t->c);
    assert_int_equal(atomic_load(&t->m->in_flight), 0);
    assert_int_equal(atomic_load(&t->m->open), 0);
    assert_int_equal(atomic_load(&t->m->requests), 0);
    assert_int_equal(atomic_load(&t->m->by_page_status[PAGE_HELLO][200 - 100]), 0);
    /* and in the middle of a database wait */
    conn_init(&t->c, &t->env, NULL);
    const char *db = "GET /db?delay=1&queries=2 HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(conn_feed(&t->c, db, strlen(db)), CONN_WANT_DB);
    assert_int_equal(conn_db_done(&t->c), CONN_WANT_DB);
    assert_int_equal(atomic_load(&t->m->in_flight), 1);
    conn_destroy(&t->c);
    assert_int_equal(atomic_load(&t->m->in_flight), 0);
    assert_int_equal(atomic_load(&t->m->open), 0);
    assert_int_equal(atomic_load(&t->m->accepted), 2);
    conn_destroy(&t->c); /* twice is safe */
    assert_int_equal(atomic_load(&t->m->open), 0);
}

static void test_idle_holds_no_buffers(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    assert_idle_no_buffers(&t->c);
    assert_int_equal(tu_feeds(&t->c, HELLO, &l), CONN_WANT_READ);
    assert_idle_no_buffers(&t->c);
    assert_int_equal(tu_feeds(&t->c, "GET /db?delay=1 HTTP/1.1\r\nHost: a\r\n\r\n", &l),
                     CONN_WANT_READ);
    assert_idle_no_buffers(&t->c);
    assert_int_equal(
        tu_feeds(&t->c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", &l),
        CONN_WANT_READ);
    assert_idle_no_buffers(&t->c);
    assert_int_equal(tu_feeds(&t->c, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", &l), CONN_WANT_READ);
    assert_idle_no_buffers(&t->c);
    buf_free(&l.out);
}

/* An exchange left by a connection going idle is the next request's on
 * this thread (its buffers emptied, not freed): the next starts as fresh as
 * a new one — no status, header, body or database wait of the one before —
 * and nothing grown past the spare's bound is kept. */
static void test_spare_exchange_starts_fresh(void **state) {
    tu_env *t = *state;
    conn b = {0};
    /* each leaves its mark on the exchange: a 405 with Allow and a body
     * read, a HEAD, a database wait, a chunked body, a 404 */
    const char *before[] = {
        "POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",
        "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n", "GET /db?delay=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"};
    for (size_t k = 0; k < sizeof before / sizeof before[0]; k++) {
        tu_log l = {0};
        conn_init(&t->c, &t->env, NULL);
        assert_int_equal(tu_feeds(&t->c, before[k], &l), CONN_WANT_READ);
        assert_idle_no_buffers(&t->c); /* its exchange went to the spare */
        conn_destroy(&t->c);
        /* another connection's request begins: it has the spare, whose
         * response buffer is there before anything is answered */
        tu_log lb = {0};
        conn_init(&b, &t->env, NULL);
        assert_int_equal(tu_feeds(&b, "GET /hel", &lb), CONN_WANT_READ);
        assert_non_null(b.x);
        assert_true(b.x->out.cap > 0);
        assert_int_equal(b.x->out.len, 0);
        assert_int_equal(tu_feeds(&b, "lo HTTP/1.1\r\nHost: a\r\n\r\n", &lb), CONN_WANT_READ);
        tu_resp r;
        assert_int_equal(tu_parse(lb.out.p, lb.out.len, 0, &r), 0);
        assert_int_equal(r.total, lb.out.len);
        assert_int_equal(r.status, 200);
        TU_HDR_EQ(&r, "Content-Length", "14");
        assert_int_equal(r.body_len, 14);
        assert_memory_equal(r.body, "Hello, world!\n", 14);
        assert_null(tu_hdr(&r, "Allow"));
        assert_null(tu_hdr(&r, "X-DB-Wait-Us"));
        assert_null(tu_hdr(&r, "Server-Timing"));
        assert_idle_no_buffers(&b);
        conn_destroy(&b);
        buf_free(&l.out);
        buf_free(&lb.out);
    }
    /* a 40,000-byte echo grows every buffer past the bound: none is kept */
    size_t n = 40000;
    char *big = malloc(n + 100);
    assert_non_null(big);
    int h = snprintf(big, 100, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n", n);
    memset(big + h, 'x', n);
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(tu_feed(&t->c, big, (size_t)h + n, 1000, &l), CONN_WANT_READ);
    assert_idle_no_buffers(&t->c);
    conn_init(&b, &t->env, NULL);
    assert_int_equal(tu_feeds(&b, "GET /hel", &l), CONN_WANT_READ);
    assert_non_null(b.x);
    assert_int_equal(b.x->out.cap, 0);
    assert_int_equal(b.x->body.cap, 0);
    assert_int_equal(b.x->resp.body.cap, 0);
    assert_true(b.x->head.cap <= 16384);
    conn_destroy(&b);
    free(big);
    buf_free(&l.out);
}

/* While a response leaves, a page body bigger than 1 KiB is not held beside
 * its copy in the output (a slow reader would hold both). */
static void test_big_body_dropped_while_sending(void **state) {
    tu_env *t = *state;
    tu_log l = {0};
    conn_init(&t->c, &t->env, NULL);
    const char *req = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n";
    assert_int_equal(tu_note(&l, conn_feed(&t->c, req, strlen(req))), CONN_WANT_READ);
    char body[2000];
    memset(body, 'y', sizeof body);
    assert_int_equal(tu_note(&l, conn_feed(&t->c, body, sizeof body)), CONN_WANT_WRITE);
    assert_int_equal(t->c.x->resp.body.cap, 0);
    assert_int_equal(t->c.x->body.cap, 0);
    assert_int_equal(tu_pump(&t->c, CONN_WANT_WRITE, 100, &l), CONN_WANT_READ);
    buf_free(&l.out);
}

static void test_feed_outside_read_is_close(void **state) {
    tu_env *t = *state;
    conn_init(&t->c, &t->env, NULL);
    assert_int_equal(conn_feed(&t->c, HELLO, strlen(HELLO)), CONN_WANT_WRITE);
    assert_int_equal(conn_feed(&t->c, HELLO, strlen(HELLO)), CONN_CLOSE);
    assert_int_equal(conn_db_done(&t->c), CONN_CLOSE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup, tu_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_hello_whole),
        T(test_clock_read_once_per_call),
        T(test_hello_date_and_worker),
        T(test_hello_byte_by_byte),
        T(test_split_every_offset),
        T(test_head_limit_split_independent),
        T(test_head_limit_exact),
        T(test_trickle_does_not_extend),
        T(test_bad_head_answered_before_body),
        T(test_asterisk_target),
        T(test_fragment_400),
        T(test_first_byte_timeout),
        T(test_min_rate),
        T(test_min_send_rate),
        T(test_defence_spares_normal_clients),
        T(test_crowded_deadline),
        T(test_trailer_is_not_a_header),
        T(test_pipelined),
        T(test_pipelined_partial_second),
        T(test_chunked_then_content_length),
        T(test_fresh),
        T(test_db_three_batches),
        T(test_db_pool_queue_phases),
        T(test_db_fail_is_503),
        T(test_dashboard_one_batch),
        T(test_db_bad_parameter),
        T(test_request_timestamps),
        T(test_uri_too_long_414),
        T(test_headers_too_large_431),
        T(test_body_too_large_413),
        T(test_malformed_400),
        T(test_host_rules),
        T(test_absolute_form),
        T(test_head),
        T(test_not_found_404),
        T(test_method_not_allowed_405),
        T(test_expect_continue),
        T(test_expect_unknown_417),
        T(test_expect_lookalike_417),
        T(test_chunked_echo),
        T(test_long_target),
        T(test_connection_close),
        T(test_keep_alive_off),
        T(test_stopping_closes),
        T(test_eof),
        T(test_deadlines),
        T(test_timed_out),
        T(test_refuse),
        T(test_refuse_says_retry_after),
        T(test_body_budget),
        T(test_body_budget_chunked),
        T(test_buf_fails_softly),
        T(test_buf_printf_fits_and_grows),
        T(test_buf_put_numbers),
        T(test_body_out_of_memory),
        T(test_no_memory_for_the_answer),
        T(test_metrics_counters),
        T(test_metrics_destroy_mid_response),
        T(test_idle_holds_no_buffers),
        T(test_spare_exchange_starts_fresh),
        T(test_big_body_dropped_while_sending),
        T(test_feed_outside_read_is_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
