/* test_metrics: counters, status bounds, the JSON and Prometheus renderings,
 * and sharing across fork() (the prefork model relies on it). */
#include "testutil.h"

#include <sys/wait.h>
#include <unistd.h>

static int setup(void **state) {
    metrics *m = metrics_create();
    *state = m;
    return m ? 0 : -1;
}

static int teardown(void **state) {
    metrics_destroy(*state);
    return 0;
}

static uint64_t slot(const metrics *m, page_id p, int status) {
    return atomic_load(&m->by_page_status[p][status - METRICS_STATUS_MIN]);
}

static void test_fresh_and_add(void **state) {
    metrics *m = *state;
    assert_int_equal(atomic_load(&m->accepted), 0);
    assert_int_equal(atomic_load(&m->requests), 0);
    for (int p = 0; p < PAGE_COUNT; p++)
        for (int s = 0; s < METRICS_STATUS_SLOTS; s++)
            assert_int_equal(atomic_load(&m->by_page_status[p][s]), 0);
    assert_true(m->start_us > 0);
    metrics_add(&m->open, 3);
    metrics_add(&m->open, -2);
    assert_int_equal(atomic_load(&m->open), 1);
    metrics_add(&m->open, -1);
    assert_int_equal(atomic_load(&m->open), 0);
    metrics_add(&m->db_wait_us, 5000000000ll);
    assert_int_equal(atomic_load(&m->db_wait_us), 5000000000ull);
}

/* The --max-body-memory budget: shared by every process, never over its
 * limit, and a dead prefork worker's share comes back with its slot. */
static void test_gauge_take(void **state) {
    metrics *m = *state;
    assert_int_equal(metrics_gauge_take(m, GAUGE_BODY_MEMORY, 600, 1000), 0);
    assert_int_equal(metrics_gauge_take(m, GAUGE_BODY_MEMORY, 401, 1000), -1);
    assert_int_equal(metrics_gauge_take(m, GAUGE_BODY_MEMORY, UINT64_MAX, 1000), -1);
    assert_int_equal(atomic_load(&m->body_memory), 600);
    assert_int_equal(metrics_gauge_take(m, GAUGE_BODY_MEMORY, 400, 1000), 0);
    assert_int_equal(atomic_load(&m->body_memory), 1000);
    metrics_gauge_add(m, GAUGE_BODY_MEMORY, -1000);
    assert_int_equal(metrics_gauge_take(m, GAUGE_BODY_MEMORY, 5000, 0), 0); /* 0: no limit */
    metrics_gauge_add(m, GAUGE_BODY_MEMORY, -5000);
    assert_int_equal(atomic_load(&m->body_memory), 0);
    /* a worker takes 300 and dies holding it */
    pid_t pid = fork();
    if (pid == 0) {
        metrics_set_slot(7);
        _exit(metrics_gauge_take(m, GAUGE_BODY_MEMORY, 300, 1000) == 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(atomic_load(&m->body_memory), 300);
    metrics_release_slot(m, 7);
    assert_int_equal(atomic_load(&m->body_memory), 0);
}

static void test_count_response_bounds(void **state) {
    metrics *m = *state;
    metrics_count_response(m, PAGE_HELLO, 200);
    metrics_count_response(m, PAGE_HELLO, 200);
    metrics_count_response(m, PAGE_DB, 100);
    metrics_count_response(m, PAGE_DB, 599);
    metrics_count_response(m, PAGE_DB, 99);
    metrics_count_response(m, PAGE_DB, 600);
    metrics_count_response(m, PAGE_DB, -1);
    metrics_count_response(m, PAGE_DB, 0);
    metrics_count_response(m, PAGE_COUNT, 200);
    metrics_count_response(m, (page_id)-1, 200);
    assert_int_equal(slot(m, PAGE_HELLO, 200), 2);
    assert_int_equal(slot(m, PAGE_DB, 100), 1);
    assert_int_equal(slot(m, PAGE_DB, 599), 1);
    assert_int_equal(atomic_load(&m->requests), 4); /* the ignored ones are not counted */
    uint64_t sum = 0;
    for (int p = 0; p < PAGE_COUNT; p++)
        for (int s = 0; s < METRICS_STATUS_SLOTS; s++)
            sum += atomic_load(&m->by_page_status[p][s]);
    assert_int_equal(sum, 4);
}

static void test_json(void **state) {
    metrics *m = *state;
    config cfg;
    config_defaults(&cfg);
    buf out = {0};
    /* empty counters still render valid JSON */
    metrics_render_json(m, &cfg, &out);
    assert_true(tu_json_valid(out.p, out.len));
    assert_true(tu_contains(out.p, out.len, "\"by_page\":{}"));
    assert_true(tu_contains(out.p, out.len, "\"by_status\":{}"));
    out.len = 0;
    metrics_add(&m->accepted, 5);
    metrics_add(&m->open, 1);
    metrics_add(&m->in_flight, 2);
    metrics_add(&m->db_queries, 12);
    metrics_add(&m->db_wait_us, 3456);
    metrics_add(&m->cpu_iterations, 77);
    metrics_add(&m->worker_restarts, 1);
    metrics_count_response(m, PAGE_HELLO, 200);
    metrics_count_response(m, PAGE_HELLO, 200);
    metrics_render_json(m, &cfg, &out);
    assert_true(tu_json_valid(out.p, out.len));
    static const char *want[] = {
        "\"mode\":\"event\"",
        "\"workers\":1",
        "\"keep_alive\":true",
        "\"connections\":{\"accepted\":5,\"open\":1,\"accept_errors\":0,\"refused\":0}",
        "\"in_flight\":2",
        "\"worker_restarts\":1",
        "\"db\":{\"queries\":12,\"wait_us\":3456}",
        "\"cpu\":{\"iterations\":77}",
        "\"requests\":{\"total\":2,\"by_page\":{\"/hello\":{\"200\":2}},\"by_status\":{\"200\":2}}",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!tu_contains(out.p, out.len, want[i]))
            fail_msg("JSON lacks %s:\n%.*s", want[i], (int)out.len, out.p);
    /* several pages and statuses, in page order */
    out.len = 0;
    metrics_count_response(m, PAGE_HELLO, 404);
    metrics_count_response(m, PAGE_OTHER, 400);
    metrics_count_response(m, PAGE_INDEX, 200);
    cfg.mode = MODE_PREFORK;
    cfg.workers = 6;
    cfg.keep_alive = 0;
    metrics_render_json(m, &cfg, &out);
    assert_true(tu_json_valid(out.p, out.len));
    const char *pages = "\"by_page\":{\"/\":{\"200\":1},\"/hello\":{\"200\":2,\"404\":1},"
                        "\"other\":{\"400\":1}}";
    if (!tu_contains(out.p, out.len, pages))
        fail_msg("JSON lacks %s:\n%.*s", pages, (int)out.len, out.p);
    assert_true(tu_contains(out.p, out.len, "\"by_status\":{\"200\":3,\"400\":1,\"404\":1}"));
    assert_true(tu_contains(out.p, out.len, "\"mode\":\"prefork\",\"uptime_s\":"));
    assert_true(tu_contains(out.p, out.len, "\"workers\":6"));
    assert_true(tu_contains(out.p, out.len, "\"keep_alive\":false"));
    buf_free(&out);
}

/* Returns 1 when out has line (without its newline) as a whole line. */
static int has_line(const buf *out, const char *line) {
    size_t n = strlen(line);
    for (size_t i = 0; i + n <= out->len; i++)
        if ((i == 0 || out->p[i - 1] == '\n') && memcmp(out->p + i, line, n) == 0 &&
            (i + n == out->len || out->p[i + n] == '\n'))
            return 1;
    return 0;
}

static void test_prometheus(void **state) {
    metrics *m = *state;
    config cfg;
    config_defaults(&cfg);
    metrics_add(&m->accepted, 5);
    metrics_add(&m->open, 1);
    metrics_add(&m->db_queries, 12);
    metrics_add(&m->db_wait_us, 1500000);
    metrics_add(&m->cpu_iterations, 77);
    metrics_count_response(m, PAGE_HELLO, 200);
    metrics_count_response(m, PAGE_HELLO, 200);
    metrics_count_response(m, PAGE_OTHER, 404);
    buf out = {0};
    metrics_render_prometheus(m, &cfg, &out);
    static const char *want[] = {
        "httpmodes_info{version=\"" HTTPMODES_VERSION "\",mode=\"event\"} 1",
        "# TYPE httpmodes_connections_accepted_total counter",
        "httpmodes_connections_accepted_total 5",
        "httpmodes_connections_open 1",
        "httpmodes_requests_in_flight 0",
        "httpmodes_workers 1",
        "httpmodes_db_queries_total 12",
        "httpmodes_db_wait_seconds_total 1.500000",
        "httpmodes_cpu_iterations_total 77",
        "# TYPE httpmodes_requests_total counter",
        "httpmodes_requests_total{page=\"/hello\",status=\"200\"} 2",
        "httpmodes_requests_total{page=\"other\",status=\"404\"} 1",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!has_line(&out, want[i]))
            fail_msg("Prometheus text lacks the line %s:\n%.*s", want[i], (int)out.len, out.p);
    /* every line is a comment or "name[{labels}] value" */
    assert_true(out.len > 0 && out.p[out.len - 1] == '\n');
    for (size_t i = 0; i < out.len;) {
        const char *eol = memchr(out.p + i, '\n', out.len - i);
        size_t n = (size_t)(eol - (out.p + i));
        const char *l = out.p + i;
        if (l[0] != '#') {
            const char *sp = memrchr(l, ' ', n);
            assert_non_null(sp);
            char *end;
            char num[64];
            snprintf(num, sizeof num, "%.*s", (int)(n - (size_t)(sp - l) - 1), sp + 1);
            strtod(num, &end);
            assert_true(end != num && *end == 0);
            assert_true(l[0] >= 'a' && l[0] <= 'z');
        }
        i += n + 1;
    }
    buf_free(&out);
}

/* --db: the PostgreSQL counters, in /stats and /metrics only when it is
 * set; its gauges leave the totals with a dead prefork worker's slot. */
static void test_postgres(void **state) {
    metrics *m = *state;
    config cfg;
    config_defaults(&cfg);
    buf out = {0};
    metrics_render_json(m, &cfg, &out);
    assert_false(tu_contains(out.p, out.len, "postgres"));
    out.len = 0;
    metrics_render_prometheus(m, &cfg, &out);
    assert_false(tu_contains(out.p, out.len, "postgres"));
    strcpy(cfg.db, "postgres://u@127.0.0.1/d");
    cfg.db_timeout_ms = 2500;
    metrics_add(&m->pg_sent, 9);
    metrics_add(&m->pg_answered, 4);
    metrics_add(&m->pg_failed[PG_FAIL_CONNECT], 1);
    metrics_add(&m->pg_failed[PG_FAIL_FULL], 2);
    metrics_add(&m->pg_failed[PG_FAIL_TIMEOUT], 1);
    metrics_add(&m->pg_cancelled, 1);
    metrics_add(&m->pg_connects, 3);
    metrics_add(&m->pg_backoffs, 2);
    pid_t pid = fork(); /* a worker with a query under way on its one connection dies */
    if (pid == 0) {
        metrics_set_slot(5);
        metrics_gauge_add(m, GAUGE_PG_OPEN, 1);
        metrics_gauge_add(m, GAUGE_PG_IN_FLIGHT, 1);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    metrics_gauge_add(m, GAUGE_PG_OPEN, 2);
    out.len = 0;
    metrics_render_json(m, &cfg, &out);
    assert_true(tu_json_valid(out.p, out.len));
    const char *want = "\"postgres\":{\"timeout_ms\":2500,\"queries\":{\"sent\":9,\"answered\":4,"
                       "\"failed\":{\"connect\":1,\"full\":2,\"gone\":0,\"timeout\":1,\"error\":0},"
                       "\"cancelled\":1,\"in_flight\":1},\"connections\":{\"open\":3,\"made\":3,"
                       "\"backoffs\":2}}";
    if (!tu_contains(out.p, out.len, want))
        fail_msg("JSON lacks %s:\n%.*s", want, (int)out.len, out.p);
    out.len = 0;
    metrics_render_prometheus(m, &cfg, &out);
    static const char *lines[] = {
        "httpmodes_postgres_queries_total 9",
        "httpmodes_postgres_queries_answered_total 4",
        "httpmodes_postgres_queries_failed_total{reason=\"full\"} 2",
        "httpmodes_postgres_queries_failed_total{reason=\"gone\"} 0",
        "httpmodes_postgres_queries_cancelled_total 1",
        "httpmodes_postgres_queries_in_flight 1",
        "httpmodes_postgres_connects_total 3",
        "httpmodes_postgres_backoffs_total 2",
        "httpmodes_postgres_connections_open 3",
        "httpmodes_postgres_timeout_seconds 2.500",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!has_line(&out, lines[i]))
            fail_msg("Prometheus text lacks the line %s:\n%.*s", lines[i], (int)out.len, out.p);
    metrics_release_slot(m, 5); /* the master reaps it */
    assert_int_equal(atomic_load(&m->pg_open), 2);
    assert_int_equal(atomic_load(&m->pg_in_flight), 0);
    buf_free(&out);
}

static void test_shared_across_fork(void **state) {
    metrics *m = *state;
    metrics_add(&m->accepted, 1);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 1000; i++)
            metrics_add(&m->accepted, 1);
        metrics_count_response(m, PAGE_CPU, 200);
        _exit(atomic_load(&m->accepted) == 1001 ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(atomic_load(&m->accepted), 1001);
    assert_int_equal(slot(m, PAGE_CPU, 200), 1);
    assert_int_equal(atomic_load(&m->requests), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_and_add, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_response_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gauge_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prometheus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_postgres, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_across_fork, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
