/* test_route: the page table, method checks, query-string lookup and names. */
#include "testutil.h"

#include "pages.h"

static void test_find_every_page(void **state) {
    (void)state;
    static const struct {
        const char *path;
        page_id id;
        void (*start)(page_call *);
        void (*finish)(page_call *);
    } want[] = {
        {"/", PAGE_INDEX, page_index, NULL},
        {"/hello", PAGE_HELLO, page_hello, NULL},
        {"/db", PAGE_DB, page_db_start, page_db_finish},
        {"/dashboard", PAGE_DASHBOARD, page_dashboard_start, page_dashboard_finish},
        {"/cpu", PAGE_CPU, page_cpu_start, page_cpu_finish},
        {"/stats", PAGE_STATS, page_stats, NULL},
        {"/metrics", PAGE_METRICS, page_metrics, NULL},
        {"/echo", PAGE_ECHO, page_echo, NULL},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const route *r = route_find(NULL, want[i].path);
        assert_non_null(r);
        assert_string_equal(r->path, want[i].path);
        assert_int_equal(r->id, want[i].id);
        assert_ptr_equal(r->start, want[i].start);
        assert_ptr_equal(r->finish, want[i].finish);
    }
}

static void test_find_unknown(void **state) {
    (void)state;
    static const char *unknown[] = {"",        "/hello/", "/Hello", "/hell", "/hello2",     "hello",
                                    "//hello", "/db/",    "/echo?", "*",     "/favicon.ico"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        if (route_find(NULL, unknown[i]) != NULL)
            fail_msg("route_find(NULL, \"%s\") should be NULL", unknown[i]);
}

static void test_allows(void **state) {
    (void)state;
    const route *hello = route_find(NULL, "/hello");
    assert_true(route_allows(hello, "GET"));
    assert_true(route_allows(hello, "HEAD"));
    assert_false(route_allows(hello, "POST"));
    assert_false(route_allows(hello, "PUT"));
    assert_false(route_allows(hello, "DELETE"));
    assert_false(route_allows(hello, "get"));
    assert_false(route_allows(hello, "GE"));
    assert_false(route_allows(hello, "HEA"));
    assert_false(route_allows(hello, "GET, HEAD"));
    assert_false(route_allows(hello, ""));
    assert_string_equal(hello->allow, "GET, HEAD");
    const route *echo = route_find(NULL, "/echo");
    assert_null(echo->allow);
    static const char *methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        assert_true(route_allows(echo, methods[i]));
    /* every other page is GET and HEAD only */
    static const char *paths[] = {"/", "/db", "/dashboard", "/cpu", "/stats", "/metrics"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const route *r = route_find(NULL, paths[i]);
        assert_true(route_allows(r, "GET"));
        assert_true(route_allows(r, "HEAD"));
        assert_false(route_allows(r, "POST"));
    }
}

/* Returns the value of key in q as a new string, or NULL when absent. */
static char *qget(const char *q, const char *key) {
    const char *v = (const char *)1;
    size_t len = 12345;
    if (!route_query_get(q, key, &v, &len))
        return NULL;
    char *s = malloc(len + 1);
    memcpy(s, v, len);
    s[len] = 0;
    return s;
}

static void assert_qget(const char *q, const char *key, const char *want) {
    char *got = qget(q, key);
    if (!want && got)
        fail_msg("query '%s' key '%s': expected absent, got '%s'", q, key, got);
    if (want && (!got || strcmp(got, want) != 0))
        fail_msg("query '%s' key '%s': expected '%s', got %s%s%s", q, key, want, got ? "'" : "",
                 got ? got : "absent", got ? "'" : "");
    free(got);
}

static void test_query_get(void **state) {
    (void)state;
    assert_qget("a=1&b=2", "a", "1");
    assert_qget("a=1&b=2", "b", "2");
    assert_qget("a=1&b=2", "c", NULL);
    assert_qget("", "a", NULL);
    assert_qget("a=1&a=2&a=3", "a", "3"); /* the last occurrence */
    assert_qget("a=&b=2", "a", "");
    assert_qget("a&b=2", "a", "");
    assert_qget("b=2&a", "a", "");
    assert_qget("delay=5", "d", NULL); /* a prefix of a key is not the key */
    assert_qget("d=1&delay=5", "d", "1");
    assert_qget("delay=5&d=1", "delay", "5");
    assert_qget("delayed=1", "delay", NULL);
    assert_qget("x=delay=3", "delay", NULL);
    assert_qget("a=1=2", "a", "1=2");
    assert_qget("&&a=7&&", "a", "7");
    assert_qget("A=1", "a", NULL);    /* case-sensitive */
    assert_qget("a=%41", "a", "%41"); /* not decoded */
    /* the value points into the query */
    const char *q = "x=1&queries=42";
    const char *v;
    size_t len;
    assert_int_equal(route_query_get(q, "queries", &v, &len), 1);
    assert_ptr_equal(v, q + 12);
    assert_int_equal(len, 2);
}

static void test_page_name(void **state) {
    (void)state;
    assert_string_equal(route_page_name(PAGE_INDEX), "/");
    assert_string_equal(route_page_name(PAGE_HELLO), "/hello");
    assert_string_equal(route_page_name(PAGE_DB), "/db");
    assert_string_equal(route_page_name(PAGE_DASHBOARD), "/dashboard");
    assert_string_equal(route_page_name(PAGE_CPU), "/cpu");
    assert_string_equal(route_page_name(PAGE_STATS), "/stats");
    assert_string_equal(route_page_name(PAGE_METRICS), "/metrics");
    assert_string_equal(route_page_name(PAGE_ECHO), "/echo");
    assert_string_equal(route_page_name(PAGE_OTHER), "other");
    assert_string_equal(route_page_name(PAGE_COUNT), "other");
    assert_string_equal(route_page_name((page_id)-1), "other");
    /* every routed page counts under its own path */
    for (int id = 0; id < PAGE_OTHER; id++) {
        const route *r =
            route_find(id == PAGE_LIVE ? &route_status : &route_main, route_page_name((page_id)id));
        assert_non_null(r);
        assert_int_equal(r->id, id);
    }
}

static void test_error_page(void **state) {
    (void)state;
    http_resp r = {0};
    buf_puts(&r.body, "old text");
    route_error(&r, 404, "no page at %s", "/x");
    assert_int_equal(r.status, 404);
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_int_equal(r.body.len, strlen("404 Not Found: no page at /x\n"));
    assert_memory_equal(r.body.p, "404 Not Found: no page at /x\n", r.body.len);
    buf_free(&r.body);
    assert_string_equal(http_reason(200), "OK");
    assert_string_equal(http_reason(413), "Content Too Large");
    assert_string_equal(http_reason(431), "Request Header Fields Too Large");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_every_page), cmocka_unit_test(test_find_unknown),
        cmocka_unit_test(test_allows),          cmocka_unit_test(test_query_get),
        cmocka_unit_test(test_page_name),       cmocka_unit_test(test_error_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
