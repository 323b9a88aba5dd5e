/* test_pages: the pages called through the route table with hand-built
 * requests — parameter checks, database plans, JSON and HTML output, the
 * CPU page's PBKDF2 result, echo, the index, /stats and /metrics. */
#include "testutil.h"

#include <sys/syscall.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "pages.h"

typedef struct call {
    http_req req;   /* the request */
    http_resp resp; /* what the page answered */
    page_call pc;   /* the call (plan, json, args) */
    db_plan plan;   /* the first plan its start step asked for (run_page) */
} call;

/* Runs the page at path with query and accept (may be NULL): start, then
 * finish after a pretend database wait of db_wait_us when a plan was set. */
static void run_page(tu_env *t, call *c, const char *path, const char *query, const char *accept,
                     uint64_t db_wait_us) {
    memset(c, 0, sizeof *c);
    c->req = (http_req){.method = "GET",
                        .target = path,
                        .path = path,
                        .query = query ? query : "",
                        .host = "localhost:8080",
                        .accept = accept,
                        .http_major = 1,
                        .http_minor = 1};
    c->pc = (page_call){.env = &t->env, .req = &c->req, .resp = &c->resp};
    const route *r = route_find(NULL, path);
    assert_non_null(r);
    r->start(&c->pc);
    c->plan = c->pc.plan;
    /* the page's steps, as a driver runs them: work in place, waits skipped */
    while (c->resp.status == 0 && (c->pc.work || c->pc.plan.batches > 0)) {
        assert_non_null(r->finish);
        if (c->pc.work) {
            void (*work)(page_call *) = c->pc.work;
            c->pc.work = NULL;
            work(&c->pc);
        } else {
            c->pc.db_wait_us = db_wait_us;
        }
        c->pc.plan = (db_plan){0};
        r->finish(&c->pc);
        c->pc.stage++;
    }
}

static void call_free(call *c) {
    buf_free(&c->resp.body);
}

/* Asserts the body contains needle. */
static void has(const call *c, const char *needle) {
    if (!tu_contains(c->resp.body.p, c->resp.body.len, needle))
        fail_msg("body lacks \"%s\":\n%.*s", needle, (int)c->resp.body.len, c->resp.body.p);
}

static void lacks(const call *c, const char *needle) {
    if (tu_contains(c->resp.body.p, c->resp.body.len, needle))
        fail_msg("body has \"%s\":\n%.*s", needle, (int)c->resp.body.len, c->resp.body.p);
}

static void assert_plan(const db_plan *plan, unsigned batches, unsigned per_batch, unsigned delay) {
    assert_int_equal(plan->batches, batches);
    assert_int_equal(plan->per_batch, per_batch);
    assert_int_equal(plan->delay_ms, delay);
}

/* ---- database pages ------------------------------------------------------------- */

static void test_db_plans(void **state) {
    tu_env *t = *state;
    call c;
    /* start only: look at the plan before finish renders */
    const route *db = route_find(NULL, "/db");
    const route *dash = route_find(NULL, "/dashboard");
    http_req req = {.method = "GET", .path = "/db", .query = ""};
    http_resp resp = {0};
    page_call pc = {.env = &t->env, .req = &req, .resp = &resp};
    db->start(&pc);
    assert_int_equal(resp.status, 0);
    assert_plan(&pc.plan, 1, 1, 100);
    pc = (page_call){.env = &t->env, .req = &req, .resp = &resp};
    dash->start(&pc);
    assert_int_equal(resp.status, 0);
    assert_plan(&pc.plan, 1, PAGE_DASHBOARD_WIDGETS, 100);
    assert_int_equal(PAGE_DASHBOARD_WIDGETS, 4);
    /* defaults follow the config */
    t->cfg.db_delay_ms = 42;
    run_page(t, &c, "/db", "", NULL, 0);
    assert_plan(&c.plan, 1, 1, 42);
    call_free(&c);
    run_page(t, &c, "/db", "delay=5&queries=3", NULL, 15000);
    assert_plan(&c.plan, 3, 1, 5);
    assert_int_equal(c.resp.status, 200);
    call_free(&c);
    run_page(t, &c, "/dashboard", "delay=7&widgets=6", NULL, 7000);
    assert_plan(&c.plan, 1, 6, 7);
    call_free(&c);
    /* the boundaries are allowed */
    run_page(t, &c, "/db", "delay=0&queries=100", NULL, 0);
    assert_plan(&c.plan, 100, 1, 0);
    call_free(&c);
    run_page(t, &c, "/dashboard", "delay=10000&widgets=1", NULL, 0);
    assert_plan(&c.plan, 1, 1, 10000);
    call_free(&c);
}

static void test_db_bad_parameters(void **state) {
    tu_env *t = *state;
    static const struct {
        const char *path, *query, *names[2];
    } bad[] = {
        {"/db", "delay=-1", {"'delay'", "0 to 10000"}},
        {"/db", "delay=abc", {"'delay'", "0 to 10000"}},
        {"/db", "delay=10001", {"'delay'", "0 to 10000"}},
        {"/db", "delay=", {"'delay'", "0 to 10000"}},
        {"/db", "delay", {"'delay'", "0 to 10000"}},
        {"/db", "delay=5x", {"'delay'", "0 to 10000"}},
        {"/db", "delay=+5", {"'delay'", "0 to 10000"}},
        {"/db", "delay=99999999999999999999999", {"'delay'", "0 to 10000"}},
        {"/db", "queries=0", {"'queries'", "1 to 100"}},
        {"/db", "queries=101", {"'queries'", "1 to 100"}},
        {"/db", "delay=5&queries=-2", {"'queries'", "1 to 100"}},
        {"/db", "format=xml", {"'format'", "json or html"}},
        {"/dashboard", "widgets=0", {"'widgets'", "1 to 100"}},
        {"/dashboard", "widgets=101", {"'widgets'", "1 to 100"}},
        {"/dashboard", "delay=-5", {"'delay'", "0 to 10000"}},
        {"/dashboard", "format=", {"'format'", "json or html"}},
        /* the total database time is capped by --max-delay too */
        {"/db", "delay=200&queries=51", {"delay x queries", "10000 ms in all"}},
        {"/dashboard", "delay=3000&widgets=4", {"delay x widgets", "10000 ms in all"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        call c;
        run_page(t, &c, bad[i].path, bad[i].query, NULL, 0);
        if (c.resp.status != 400)
            fail_msg("%s?%s: status %d, expected 400", bad[i].path, bad[i].query, c.resp.status);
        assert_int_equal(c.plan.batches, 0); /* no database work for a bad request */
        assert_string_equal(c.resp.content_type, "text/plain; charset=utf-8");
        has(&c, "400 Bad Request: ");
        has(&c, bad[i].names[0]);
        has(&c, bad[i].names[1]);
        call_free(&c);
    }
}

/* A limit below 9 must still reject a one-digit value above it. */
static void test_param_above_small_max(void **state) {
    tu_env *t = *state;
    call c;
    t->cfg.max_queries = 3;
    run_page(t, &c, "/db", "queries=5", NULL, 0);
    if (c.resp.status != 400)
        fail_msg("--max-queries 3, /db?queries=5: status %d, plan.batches %u (expected 400)",
                 c.resp.status, c.plan.batches);
    call_free(&c);
    run_page(t, &c, "/dashboard", "widgets=9", NULL, 0);
    assert_int_equal(c.resp.status, 400);
    call_free(&c);
    t->cfg.db_delay_ms = 0;
    t->cfg.max_delay_ms = 5;
    run_page(t, &c, "/db", "delay=7", NULL, 0);
    assert_int_equal(c.resp.status, 400);
    call_free(&c);
}

static void test_db_json(void **state) {
    tu_env *t = *state;
    call c;
    static const struct {
        const char *query, *accept;
    } ways[] = {
        {"delay=5&queries=3&format=json", NULL},
        {"delay=5&queries=3&format=JSON", NULL},
        {"delay=5&queries=3", "application/json"},
        {"delay=5&queries=3", "text/html;q=0.5, application/json"},
    };
    char worker[64];
    snprintf(worker, sizeof worker, "\"worker\":%d,", TU_WORKER);
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        run_page(t, &c, "/db", ways[i].query, ways[i].accept, 15123);
        assert_int_equal(c.resp.status, 200);
        assert_string_equal(c.resp.content_type, "application/json");
        assert_true(tu_json_valid(c.resp.body.p, c.resp.body.len));
        has(&c, "\"page\":\"db\"");
        has(&c, "\"mode\":\"event\"");
        has(&c, worker);
        has(&c, "\"delay_ms\":5");
        has(&c, "\"queries\":3");
        has(&c, "\"db_wait_us\":15123");
        assert_int_equal(c.resp.has_db_wait, 1);
        assert_int_equal(c.resp.db_wait_us, 15123);
        call_free(&c);
    }
    run_page(t, &c, "/dashboard", "delay=2&widgets=4&format=json", NULL, 2000);
    assert_true(tu_json_valid(c.resp.body.p, c.resp.body.len));
    has(&c, "\"page\":\"dashboard\"");
    has(&c, "\"widgets\":4");
    has(&c, "\"delay_ms\":2");
    has(&c, "\"db_wait_us\":2000");
    call_free(&c);
    /* format=html wins over Accept */
    run_page(t, &c, "/db", "delay=1&format=html", "application/json", 1000);
    assert_string_equal(c.resp.content_type, "text/html; charset=utf-8");
    call_free(&c);
}

static void test_db_html(void **state) {
    tu_env *t = *state;
    call c;
    run_page(t, &c, "/db", "delay=5&queries=3", NULL, 15000);
    assert_int_equal(c.resp.status, 200);
    assert_string_equal(c.resp.content_type, "text/html; charset=utf-8");
    assert_int_equal(c.resp.has_db_wait, 1);
    assert_int_equal(c.resp.db_wait_us, 15000);
    has(&c, "<!DOCTYPE html>");
    has(&c, "<p>3 queries of 5 ms each");
    has(&c, "<strong id=\"wait\">15.0 ms</strong>");
    has(&c, "</html>");
    call_free(&c);
}

/* ---- cpu -------------------------------------------------------------------------- */

static void pbkdf2_hex(uint64_t iterations, char hex[65]) {
    unsigned char key[32];
    assert_int_equal(PKCS5_PBKDF2_HMAC("httpmodes", 9, (const unsigned char *)"httpmodes-salt", 14,
                                       (int)iterations, EVP_sha256(), 32, key),
                     1);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
}

static void test_cpu(void **state) {
    tu_env *t = *state;
    char hex[65];
    pbkdf2_hex(1, hex);
    /* Python: hashlib.pbkdf2_hmac('sha256', b'httpmodes', b'httpmodes-salt', 1).hex() */
    assert_string_equal(hex, "7bdcfe572e5b6424c8aa6f01e6a507d95a8d34f0b0bb5b17dbfb959b57eaaca6");
    call c;
    run_page(t, &c, "/cpu", "iterations=1&format=json", NULL, 0);
    assert_int_equal(c.resp.status, 200);
    assert_string_equal(c.resp.content_type, "application/json");
    assert_true(tu_json_valid(c.resp.body.p, c.resp.body.len));
    has(&c, "\"page\":\"cpu\"");
    has(&c, "\"iterations\":1,");
    has(&c, "\"sha256\":\"7bdcfe572e5b6424c8aa6f01e6a507d95a8d34f0b0bb5b17dbfb959b57eaaca6\"");
    assert_int_equal(c.plan.batches, 0);
    call_free(&c);
    assert_int_equal(atomic_load(&t->m->cpu_iterations), 1);
    run_page(t, &c, "/cpu", "iterations=3", NULL, 0);
    pbkdf2_hex(3, hex);
    assert_string_equal(c.resp.content_type, "text/html; charset=utf-8");
    char want[128];
    snprintf(want, sizeof want, "3 iterations: <code>%s</code>", hex);
    has(&c, want);
    call_free(&c);
    assert_int_equal(atomic_load(&t->m->cpu_iterations), 4);
    /* bad iteration counts */
    static const char *bad[] = {"iterations=0", "iterations=1500001", "iterations=abc",
                                "iterations=", "iterations=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_page(t, &c, "/cpu", bad[i], NULL, 0);
        if (c.resp.status != 400)
            fail_msg("/cpu?%s: status %d, expected 400", bad[i], c.resp.status);
        has(&c, "'iterations'");
        has(&c, "1 to 1500000");
        call_free(&c);
    }
    assert_int_equal(atomic_load(&t->m->cpu_iterations), 4);
    /* the default comes from the config */
    t->cfg.cpu_iterations = 2;
    run_page(t, &c, "/cpu", "format=json", NULL, 0);
    has(&c, "\"iterations\":2,");
    pbkdf2_hex(2, hex);
    has(&c, hex);
    call_free(&c);
}

/* ---- the other pages ---------------------------------------------------------------- */

static void test_hello_and_echo(void **state) {
    tu_env *t = *state;
    call c;
    run_page(t, &c, "/hello", "", NULL, 0);
    assert_int_equal(c.resp.status, 200);
    assert_string_equal(c.resp.content_type, "text/plain; charset=utf-8");
    assert_int_equal(c.resp.body.len, 14);
    assert_memory_equal(c.resp.body.p, "Hello, world!\n", 14);
    call_free(&c);
    /* echo: binary bytes back, as they came */
    static const char body[] = {'a', 0, 'b', '\r', '\n', (char)0xff};
    http_req req = {.method = "PUT", .path = "/echo", .query = "", .body = body, .body_len = 6};
    http_resp resp = {0};
    page_call pc = {.env = &t->env, .req = &req, .resp = &resp};
    route_find(NULL, "/echo")->start(&pc);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/octet-stream");
    assert_int_equal(resp.body.len, 6);
    assert_memory_equal(resp.body.p, body, 6);
    buf_free(&resp.body);
    /* an empty body */
    req.body = NULL;
    req.body_len = 0;
    resp = (http_resp){0};
    route_find(NULL, "/echo")->start(&pc);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
    buf_free(&resp.body);
}

static void test_index(void **state) {
    tu_env *t = *state;
    call c;
    run_page(t, &c, "/", "", NULL, 0);
    assert_int_equal(c.resp.status, 200);
    assert_string_equal(c.resp.content_type, "text/html; charset=utf-8");
    static const char *links[] = {"/hello", "/db",      "/dashboard", "/cpu",
                                  "/stats", "/metrics", "/echo"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "<a href=\"%s\"", links[i]);
        snprintf(b, sizeof b, "<a href=\"%s?", links[i]);
        if (!tu_contains(c.resp.body.p, c.resp.body.len, a) &&
            !tu_contains(c.resp.body.p, c.resp.body.len, b))
            fail_msg("index has no link to %s", links[i]);
    }
    has(&c, "<td id=\"mode\">event</td>");
    has(&c, "http://localhost:8080/hello"); /* examples use the client's Host */
    call_free(&c);
    /* the mode name follows the config; a hostile Host is not echoed */
    t->cfg.mode = MODE_PREFORK;
    t->cfg.workers = 3;
    memset(&c, 0, sizeof c);
    c.req = (http_req){.method = "GET", .path = "/", .query = "", .host = "\"><script>x</script>"};
    c.pc = (page_call){.env = &t->env, .req = &c.req, .resp = &c.resp};
    route_find(NULL, "/")->start(&c.pc);
    has(&c, "<td id=\"mode\">prefork</td>");
    has(&c, "<tr><th>workers</th><td>3</td></tr>");
    lacks(&c, "<script>");
    has(&c, "http://127.0.0.1:8080/hello");
    call_free(&c);
}

static void test_stats_and_metrics(void **state) {
    tu_env *t = *state;
    metrics_add(&t->m->accepted, 7);
    metrics_add(&t->m->open, 2);
    metrics_count_response(t->m, PAGE_HELLO, 200);
    metrics_count_response(t->m, PAGE_HELLO, 200);
    metrics_count_response(t->m, PAGE_OTHER, 404);
    call c;
    run_page(t, &c, "/stats", "", NULL, 0);
    assert_int_equal(c.resp.status, 200);
    assert_string_equal(c.resp.content_type, "application/json");
    assert_true(tu_json_valid(c.resp.body.p, c.resp.body.len));
    has(&c, "\"connections\":{\"accepted\":7,\"open\":2,\"accept_errors\":0,\"refused\":0}");
    has(&c, "\"by_page\":{\"/hello\":{\"200\":2},\"other\":{\"404\":1}}");
    has(&c, "\"by_status\":{\"200\":2,\"404\":1}");
    has(&c, "\"total\":3");
    call_free(&c);
    run_page(t, &c, "/metrics", "", NULL, 0);
    assert_int_equal(c.resp.status, 200);
    assert_string_equal(c.resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
    has(&c, "\nhttpmodes_connections_accepted_total 7\n");
    has(&c, "\nhttpmodes_connections_open 2\n");
    has(&c, "\nhttpmodes_requests_total{page=\"/hello\",status=\"200\"} 2\n");
    has(&c, "\nhttpmodes_requests_total{page=\"other\",status=\"404\"} 1\n");
    call_free(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup, tu_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_db_plans),
        T(test_db_bad_parameters),
        T(test_param_above_small_max),
        T(test_db_json),
        T(test_db_html),
        T(test_cpu),
        T(test_hello_and_echo),
        T(test_index),
        T(test_stats_and_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
