/* pages: /, /hello, /db, /dashboard, /cpu, /stats, /metrics and /echo.
 * The same code runs in every concurrency model: pages that need the
 * simulated database return a plan and render in a finish step. */
#include "pages.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dbpool.h"
#include "metrics.h"
#include "util.h"

static const char *TEXT = "text/plain; charset=utf-8";
static const char *HTML = "text/html; charset=utf-8";
static const char *JSON = "application/json";

/* Parses the optional numeric parameter key into *out (default def).
 * Returns 0; on a bad value sets a 400 response naming the parameter and
 * its range, and returns -1. */
static int param_u64(page_call *pc, const char *key, uint64_t def, uint64_t min, uint64_t max,
                     const char *unit, uint64_t *out) {
    const char *v;
    size_t len;
    *out = def;
    if (!route_query_get(pc->req->query, key, &v, &len))
        return 0;
    if (util_parse_u64(v, len, max, out) == 0 && *out >= min)
        return 0;
    char shown[40];
    size_t n = 0;
    for (size_t i = 0; i < len && n < sizeof shown - 4; i++)
        shown[n++] = isprint((unsigned char)v[i]) ? v[i] : '?';
    if (len > n)
        shown[n++] = '.', shown[n++] = '.', shown[n++] = '.';
    shown[n] = 0;
    route_error(pc->resp, 400,
                "parameter '%s' must be a whole number from %llu to %llu%s, got '%s'", key,
                (unsigned long long)min, (unsigned long long)max, unit, shown);
    return -1;
}

/* Decides JSON or HTML from ?format= and Accept. Returns 0, or -1 with a 400 set. */
static int want_format(page_call *pc) {
    const char *v;
    size_t len;
    pc->json = pc->req->accept && strstr(pc->req->accept, "application/json") != NULL;
    if (!route_query_get(pc->req->query, "format", &v, &len))
        return 0;
    if (util_ieq(v, len, "json") || util_ieq(v, len, "html")) {
        pc->json = util_ieq(v, len, "json");
        return 0;
    }
    route_error(pc->resp, 400, "parameter 'format' must be json or html");
    return -1;
}

static void ok(page_call *pc, const char *type) {
    pc->resp->status = 200;
    pc->resp->content_type = type;
}

static void html_head(buf *b, const char *title) {
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>");
    buf_puts(b, title);
    buf_puts(
        b, "</title><style>"
           "body{font-family:system-ui,sans-serif;max-width:58rem;margin:2rem auto;padding:0 1rem;"
           "line-height:1.5;color:#1d2430}code,pre{background:#f2f4f7;padding:.1rem .3rem;"
           "border-radius:4px}pre{padding:.6rem;overflow-x:auto}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccd;padding:.25rem .6rem;text-align:left}"
           "th{background:#eef1f6}.k{color:#556}</style></head><body>\n");
}

/* Appends a time in µs as milliseconds with one decimal (100246: "100.2"). */
static void put_ms(buf *b, uint64_t us) {
    buf_put_fixed(b, (us + 50) / 100, 1);
}

/* Appends an attribute from its start (` x="`, a literal) and value, then its
 * closing quote: a whole number, or a non-negative coordinate with one decimal. */
static void attr_u64(buf *b, const char *start, unsigned long long v) {
    buf_puts(b, start);
    buf_put_u64(b, v);
    buf_puts(b, "\"");
}

static void attr_coord(buf *b, const char *start, double v) {
    buf_puts(b, start);
    buf_put_fixed(b, v > 0 ? (unsigned long long)(v * 10 + 0.5) : 0, 1);
    buf_puts(b, "\"");
}

/* Base URL for examples: the Host the client used when it looks sane, else
 * the configured address (a wildcard bind shown as loopback). */
static void base_url(page_call *pc, buf *b) {
    const char *h = pc->req->host;
    int sane = h && *h && strlen(h) < 100;
    for (const char *p = h; sane && *p; p++)
        sane = isalnum((unsigned char)*p) || strchr(".-:[]", *p);
    if (sane) {
        buf_printf(b, "http://%s", h);
        return;
    }
    const config *c = pc->env->cfg;
    int wild = strcmp(c->bind, "0.0.0.0") == 0 || strcmp(c->bind, "::") == 0;
    int v6 = strchr(c->bind, ':') != NULL && !wild;
    buf_printf(b, "http://%s%s%s:%u", v6 ? "[" : "", wild ? "127.0.0.1" : c->bind, v6 ? "]" : "",
               c->port);
}

/* The host to show in links to the status port: the bind address, a
 * wildcard shown as loopback. */
static const char *live_host(const config *c) {
    return strcmp(c->bind, "0.0.0.0") == 0 ? "127.0.0.1"
           : strcmp(c->bind, "::") == 0    ? "::1"
                                           : c->bind;
}

void page_index(page_call *pc) {
    const config *c = pc->env->cfg;
    buf url = {0};
    base_url(pc, &url);
    buf_append(&url, "", 1);
    buf *b = &pc->resp->body;
    ok(pc, HTML);
    html_head(b, "httpmodes");
    char pool[96] = "off: any number of queries at once";
    if (c->db_pool)
        snprintf(pool, sizeof pool, "%u connections: the rest queue (X-DB-Queue-Us)", c->db_pool);
    buf_printf(b,
               "<h1>httpmodes</h1>\n"
               "<p>An HTTP/1.1 server whose <em>one</em> request-handling core runs under several "
               "concurrency models. Load-test it with <code>wrk</code> in each model and watch how "
               "latency and throughput change.</p>\n"
               "<h2>This server</h2>\n<table>"
               "<tr><th>mode</th><td id=\"mode\">%s</td></tr>"
               "<tr><th>workers</th><td>%u</td></tr>"
               "<tr><th>keep-alive</th><td>%s</td></tr>"
               "<tr><th>db delay (default)</th><td>%u ms, %s</td></tr>"
               "<tr><th>db pool</th><td id=\"db-pool\">%s</td></tr>"
               "<tr><th>cpu iterations (default)</th><td>%llu PBKDF2-HMAC-SHA256 iterations "
               "(about 30 ms of one core)</td></tr>"
               "<tr><th>limits</th><td>head %zu bytes, body %zu bytes, header timeout %u s, "
               "keep-alive timeout %u s, delay &le; %u ms, queries &le; %u, iterations &le; "
               "%llu</td></tr>"
               "<tr><th>served by</th><td>worker %ld</td></tr></table>\n",
               config_mode_name(c->mode), c->workers,
               c->keep_alive ? "on" : "off (Connection: close after each response)", c->db_delay_ms,
               db_dist_name(c->db_latency), pool, (unsigned long long)c->cpu_iterations,
               c->max_header_size, c->max_body_size, c->header_timeout_s, c->keepalive_timeout_s,
               c->max_delay_ms, c->max_queries, (unsigned long long)c->max_iterations,
               pc->env->worker);
    if (c->status_port != CONFIG_STATUS_OFF)
        buf_printf(
            b,
            "<p><strong>Watch it live:</strong> <a id=\"live\" href=\"http://%s%s%s:%u/live\">"
            "the timeline and scoreboard</a> (the status port, served by a thread of its "
            "own, answers even when every worker here is busy).</p>\n",
            strchr(c->bind, ':') ? "[" : "", live_host(c), strchr(c->bind, ':') ? "]" : "",
            c->status_port);
    buf_printf(b,
               "<h2>The %u models</h2>\n<table><tr><th>mode</th><th>how it works</th>"
               "<th>like</th><th>I/O-bound pages (/db)</th><th>CPU-bound pages (/cpu)</th>"
               "</tr>\n",
               (unsigned)MODE_COUNT);
    for (unsigned m = 0; m < MODE_COUNT; m++) {
        const mode_info *mi = mode_get((server_mode)m);
        buf_printf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                   mi->name, mi->summary, mi->counterpart, mi->io_bound, mi->cpu_bound);
    }
    buf_puts(b, "</table>\n<p>I/O-bound work favours asynchronous models; CPU-bound work favours "
                "parallel ones; an iterative server queues everyone; real servers combine "
                "both.</p>\n");
    buf_puts(b, "<h2>Pages</h2>\n<table><tr><th>page</th><th>what it does</th>"
                "<th>try it under load</th></tr>\n");
    static const struct {
        const char *path, *what, *wrk;
    } pages[] = {
        {"/hello", "a tiny plain-text response: the baseline", "-c 100 -d 10s"},
        {"/db?delay=100",
         "N simulated queries one after another, each taking delay ms "
         "(<code>queries=N</code>, default 1)",
         "-c 100 -d 10s"},
        {"/dashboard?delay=100&widgets=4",
         "N independent queries: a blocking worker runs them "
         "one after another (N&times;delay), the event loop "
         "at once (delay)",
         "-c 50 -d 10s"},
        {"/cpu", "CPU-bound: PBKDF2-HMAC-SHA256 (<code>iterations=N</code>)", "-c 8 -d 10s"},
        {"/stats", "counters as JSON: connections, requests by page and status", NULL},
        {"/metrics", "the same counters in Prometheus text format", NULL},
        {"/echo", "any method: echoes the request body", NULL},
        {"/cake?plan=parallel",
         "the seed's cake: 25 minutes of work, 15 and 20 of waiting, made "
         "<code>sequential</code> (60), <code>async</code> (45) or <code>parallel</code> (35)",
         NULL},
        {"/db?delay=100&blocking=1",
         "the same query as a blocking call: an event loop stops for it (the classic mistake)",
         "-c 10 -d 10s"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        buf_puts(b, "<tr><td><a href=\"");
        buf_html(b, pages[i].path);
        buf_puts(b, "\">");
        buf_html(b, pages[i].path);
        buf_printf(b, "</a></td><td>%s</td><td>", pages[i].what);
        if (pages[i].wrk) {
            buf_printf(b, "<code>wrk -t2 %s '", pages[i].wrk);
            buf_html(b, url.p);
            buf_html(b, pages[i].path);
            buf_puts(b, "'</code>");
        }
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</table>\n<p>DB and CPU pages answer JSON with <code>?format=json</code> or "
                "<code>Accept: application/json</code>. Every response carries "
                "<code>X-Request-Start-Us</code> and <code>X-Request-End-Us</code> (server-side, "
                "monotonic microseconds), <code>X-Worker</code> (the thread or process that served "
                "it) and, for DB pages, <code>X-DB-Wait-Us</code>.</p>\n</body></html>\n");
    buf_free(&url);
}

void page_hello(page_call *pc) {
    ok(pc, TEXT);
    buf_puts(&pc->resp->body, "Hello, world!\n");
}

/* Common start of the two database pages: delay, count and format. The
 * total database time a blocking worker may spend on one request (delay x
 * count) is held to --max-delay too, so no request ties up a worker — or
 * a graceful shutdown — for longer than that. */
static int db_params(page_call *pc, const char *count_key, uint64_t count_def) {
    const config *c = pc->env->cfg;
    if (want_format(pc) != 0 ||
        param_u64(pc, "delay", c->db_delay_ms, 0, c->max_delay_ms, " (ms)", &pc->arg[0]) != 0 ||
        param_u64(pc, count_key, count_def, 1, c->max_queries, "", &pc->arg[1]) != 0)
        return -1;
    const char *v;
    size_t len;
    pc->scratch[11] = c->db_latency; /* ?dist= overrides --db-latency */
    if (route_query_get(pc->req->query, "dist", &v, &len)) {
        int d = db_dist_find(v, len);
        if (d < 0) {
            route_error(pc->resp, 400,
                        "parameter 'dist' must be fixed, uniform, exponential or lognormal");
            return -1;
        }
        pc->scratch[11] = (uint64_t)d;
    }
    if (pc->arg[0] * pc->arg[1] > c->max_delay_ms) {
        route_error(pc->resp, 400,
                    "delay x %s must be at most %u ms in all (--max-delay), got %llu x %llu",
                    count_key, c->max_delay_ms, (unsigned long long)pc->arg[0],
                    (unsigned long long)pc->arg[1]);
        return -1;
    }
    return 0;
}

/* Draws the request's phases (database waits, CPU bursts) as an inline SVG
 * timeline: one row per phase, a bar from its start to its end, on an axis
 * from the page's start to now — so independent queries show side by side
 * in the event loop and as a staircase in a blocking worker. */
static void svg_phases(buf *b, const page_call *pc, uint64_t t0, uint64_t t1) {
    /* appended piece by piece, no printf (with the head and html_head): a
     * /db answer took 55,586 instructions, now 21,999 (loadtest/instructions) */
    const unsigned W = 640, ROW = 22, LEFT = 90;
    unsigned n = pc->nphases;
    double span = t1 > t0 ? (double)(t1 - t0) : 1.0;
    buf_puts(b, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\"");
    attr_u64(b, " width=\"", W + LEFT + 10);
    attr_u64(b, " height=\"", n * ROW + 30);
    buf_puts(b, " role=\"img\" aria-label=\"this request's timeline\" "
                "style=\"font:12px system-ui,sans-serif\">");
    for (unsigned i = 0; i < n; i++) {
        const timeline_phase *ph = &pc->phases[i];
        const char *kind = timeline_phase_name((phase_kind)ph->kind);
        double w = (double)(ph->end_us - ph->start_us) / span * W;
        buf_puts(b, "<text x=\"4\"");
        attr_u64(b, " y=\"", i * ROW + 15);
        buf_puts(b, ">");
        buf_puts(b, kind);
        buf_puts(b, " ");
        buf_put_u64(b, i + 1);
        buf_puts(b, "</text><rect class=\"bar ");
        buf_puts(b, kind);
        buf_puts(b, "\"");
        attr_coord(b, " x=\"", LEFT + (double)(ph->start_us - t0) / span * W);
        attr_u64(b, " y=\"", i * ROW + 3);
        attr_coord(b, " width=\"", w < 1 ? 1 : w);
        attr_u64(b, " height=\"", ROW - 6);
        buf_puts(b, " rx=\"3\" fill=\"");
        buf_puts(b, ph->kind == PHASE_CPU       ? "#e8862a"
                    : ph->kind == PHASE_DBQUEUE ? "#8b5cf6"
                                                : "#3b7dd8");
        buf_puts(b, "\"><title>");
        buf_puts(b, kind);
        buf_puts(b, " ");
        put_ms(b, ph->start_us - t0);
        buf_puts(b, "–");
        put_ms(b, ph->end_us - t0);
        buf_puts(b, " ms</title></rect>");
    }
    buf_puts(b, "<line");
    attr_u64(b, " x1=\"", LEFT);
    attr_u64(b, " y1=\"", n * ROW + 6);
    attr_u64(b, " x2=\"", LEFT + W);
    attr_u64(b, " y2=\"", n * ROW + 6);
    buf_puts(b, " stroke=\"#889\"/><text");
    attr_u64(b, " x=\"", LEFT);
    attr_u64(b, " y=\"", n * ROW + 22);
    buf_puts(b, ">0 ms</text><text");
    attr_u64(b, " x=\"", LEFT + W);
    attr_u64(b, " y=\"", n * ROW + 22);
    buf_puts(b, " text-anchor=\"end\">");
    put_ms(b, t1 > t0 ? t1 - t0 : 1);
    buf_puts(b, " ms</text></svg>\n");
    if (pc->more_phases)
        buf_printf(b, "<p class=\"k\">(%u more not drawn)</p>\n", pc->more_phases);
}

/* Appends the phases as a JSON array, times relative to t0 in ms. */
static void json_phases(buf *b, const page_call *pc, uint64_t t0) {
    buf_puts(b, "[");
    for (unsigned i = 0; i < pc->nphases; i++) {
        const timeline_phase *ph = &pc->phases[i];
        buf_printf(b, "%s{\"kind\":\"%s\",\"start_ms\":%.3f,\"end_ms\":%.3f}", i ? "," : "",
                   timeline_phase_name((phase_kind)ph->kind), (double)(ph->start_us - t0) / 1000.0,
                   (double)(ph->end_us - t0) / 1000.0);
    }
    buf_puts(b, "]");
}

/* Renders the result of a database page as JSON or HTML. */
static void db_render(page_call *pc, const char *page, const char *count_key, const char *how) {
    http_resp *r = pc->resp;
    uint64_t t1 = route_now(pc);
    uint64_t t0 = pc->nphases ? pc->phases[0].start_us : t1;
    r->has_db_wait = 1;
    r->db_wait_us = pc->db_wait_us;
    r->db_queue_us = pc->db_queue_us;
    if (pc->json) {
        ok(pc, JSON);
        buf_printf(&r->body,
                   "{\"page\":\"%s\",\"mode\":\"%s\",\"worker\":%ld,\"delay_ms\":%llu,\"%s\":%llu,"
                   "\"dist\":\"%s\",\"db_wait_us\":%llu,\"db_queue_us\":%llu,\"phases\":",
                   page, config_mode_name(pc->env->cfg->mode), pc->env->worker,
                   (unsigned long long)pc->arg[0], count_key, (unsigned long long)pc->arg[1],
                   db_dist_name((unsigned)pc->scratch[11]), (unsigned long long)pc->db_wait_us,
                   (unsigned long long)pc->db_queue_us);
        json_phases(&r->body, pc, t0);
        buf_puts(&r->body, "}\n");
        return;
    }
    ok(pc, HTML);
    buf *b = &r->body;
    buf_reserve(b, 2048); /* the page with one bar is 1.4 KB: one allocation, not four */
    html_head(b, page);
    buf_printf(b, "<h1>%s</h1>\n<p>%llu %s of %llu ms each, %s.</p>\n", page,
               (unsigned long long)pc->arg[1], count_key, (unsigned long long)pc->arg[0], how);
    buf_puts(b, "<p>Waited <strong id=\"wait\">");
    put_ms(b, pc->db_wait_us);
    buf_puts(b, " ms</strong> for the database in mode <strong>");
    buf_puts(b, config_mode_name(pc->env->cfg->mode));
    buf_puts(b, "</strong> (worker ");
    buf_put_u64(b, (unsigned long long)pc->env->worker);
    buf_puts(b, "). Each bar is one query, from when it was sent to when it answered: side by "
                "side when they ran at once, a staircase when one waited for the other.</p>\n");
    svg_phases(b, pc, t0, t1);
    buf_puts(b, "<p><a href=\"/\">back</a></p></body></html>\n");
}

/* ?blocking=1: the page makes its queries as blocking calls, even in an
 * event loop (the classic mistake of calling a blocking driver from a loop:
 * the waiter who stands at the table). Returns 0 or 1, or -1 with a 400 set. */
static int blocking_param(page_call *pc) {
    uint64_t v;
    if (param_u64(pc, "blocking", 0, 0, 1, " (1 = a blocking call)", &v) != 0)
        return -1;
    return (int)v;
}

void page_db_start(page_call *pc) {
    int blocking;
    if (db_params(pc, "queries", 1) != 0 || (blocking = blocking_param(pc)) < 0)
        return;
    pc->plan = (db_plan){.batches = (unsigned)pc->arg[1],
                         .per_batch = 1,
                         .delay_ms = (unsigned)pc->arg[0],
                         .blocking = (unsigned)blocking,
                         .dist = (unsigned)pc->scratch[11]};
}

void page_db_finish(page_call *pc) {
    db_render(pc, "db", "queries", "one after another (each depends on the last)");
}

void page_dashboard_start(page_call *pc) {
    int blocking;
    if (db_params(pc, "widgets", PAGE_DASHBOARD_WIDGETS) != 0 ||
        (blocking = blocking_param(pc)) < 0)
        return;
    pc->plan = (db_plan){.batches = 1,
                         .per_batch = (unsigned)pc->arg[1],
                         .delay_ms = (unsigned)pc->arg[0],
                         .blocking = (unsigned)blocking,
                         .dist = (unsigned)pc->scratch[11]};
}

void page_dashboard_finish(page_call *pc) {
    db_render(pc, "dashboard", "widgets", "independent of each other");
}

/* /cpu's work: PBKDF2 with arg[0] iterations, run by the driver where it
 * chooses (in place, or on a CPU pool off the event loop). Keeps the key,
 * its wall and CPU time and the thread that burned in scratch. */
static void cpu_work(page_call *pc) {
    static const unsigned char salt[] = "httpmodes-salt";
    unsigned char *key = (unsigned char *)&pc->scratch[0]; /* 32 bytes: scratch[0..3] */
    uint64_t t0 = util_now_us(), c0 = util_thread_cpu_us();
    int ok_hash = PKCS5_PBKDF2_HMAC("httpmodes", 9, salt, sizeof salt - 1, (int)pc->arg[0],
                                    EVP_sha256(), 32, key);
    uint64_t t1 = util_now_us();
    pc->scratch[4] = t0;
    pc->scratch[5] = t1;
    pc->scratch[6] = util_thread_cpu_us() - c0;
    pc->scratch[7] = ok_hash ? (uint64_t)util_worker_id() : 0; /* the thread that burned */
    route_phase(pc, PHASE_CPU, t0, t1);
    metrics_add(&pc->env->metrics->cpu_iterations, (int64_t)pc->arg[0]);
}

void page_cpu_start(page_call *pc) {
    const config *c = pc->env->cfg;
    if (want_format(pc) != 0 ||
        param_u64(pc, "iterations", c->cpu_iterations, 1, c->max_iterations, "", &pc->arg[0]) != 0)
        return;
    pc->work = cpu_work;
}

void page_cpu_finish(page_call *pc) {
    const config *c = pc->env->cfg;
    if (!pc->scratch[7]) {
        route_error(pc->resp, 500, "PBKDF2 failed");
        return;
    }
    const unsigned char *key = (const unsigned char *)&pc->scratch[0];
    uint64_t iters = pc->arg[0], t0 = pc->scratch[4], t1 = pc->scratch[5];
    uint64_t cpu_us = t1 - t0, cpu_time_us = pc->scratch[6];
    long burner = (long)pc->scratch[7];
    char hex[65];
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    buf *b = &pc->resp->body;
    if (pc->json) {
        ok(pc, JSON);
        buf_printf(b,
                   "{\"page\":\"cpu\",\"mode\":\"%s\",\"worker\":%ld,\"cpu_worker\":%ld,"
                   "\"iterations\":%llu,\"cpu_us\":%llu,\"wall_us\":%llu,\"cpu_time_us\":%llu,"
                   "\"sha256\":\"%s\",\"phases\":",
                   config_mode_name(c->mode), pc->env->worker, burner, (unsigned long long)iters,
                   (unsigned long long)cpu_us, (unsigned long long)cpu_us,
                   (unsigned long long)cpu_time_us, hex);
        json_phases(b, pc, t0);
        buf_puts(b, "}\n");
        return;
    }
    ok(pc, HTML);
    html_head(b, "cpu");
    buf_printf(b,
               "<h1>cpu</h1>\n<p>PBKDF2-HMAC-SHA256, %llu iterations: <code>%s</code></p>\n"
               "<p>Computed in <strong id=\"cpu\">%.1f ms</strong> of wall time, <strong "
               "id=\"cputime\">%.1f ms</strong> of CPU time, in mode <strong>%s</strong> "
               "(worker %ld%s).</p>\n",
               (unsigned long long)iters, hex, (double)cpu_us / 1000.0,
               (double)cpu_time_us / 1000.0, config_mode_name(c->mode), pc->env->worker,
               burner != pc->env->worker ? ", burned on a CPU pool thread" : "");
    if (cpu_us > cpu_time_us + cpu_time_us / 10 + 1000)
        buf_printf(b,
                   "<p id=\"shared\">Wall time exceeds CPU time by %.1f ms: this thread was "
                   "waiting for a core (the cores were shared with other work).</p>\n",
                   (double)(cpu_us - cpu_time_us) / 1000.0);
    svg_phases(b, pc, t0, t1);
    buf_puts(b, "<p><a href=\"/\">back</a></p></body></html>\n");
}

const server_env *pages_shown(const page_call *pc) {
    return pc->env->shows ? pc->env->shows : pc->env;
}

void page_stats(page_call *pc) {
    ok(pc, JSON);
    buf *b = &pc->resp->body;
    metrics_render_json(pages_shown(pc)->metrics, pc->env->cfg, b);
    dbpool *pool = pages_shown(pc)->dbpool;
    if (pool && b->len >= 2 && memcmp(b->p + b->len - 2, "}\n", 2) == 0) {
        b->len -= 2; /* the pool's object goes inside the counters' one */
        buf_puts(b, ",");
        dbpool_render_json(pool, b);
        /* where the queries run: --db (the URL itself may hold a password) */
        buf_printf(b, ",\"db_backend\":\"%s\"", pc->env->cfg->db[0] ? "postgres" : "simulated");
        buf_puts(b, "}\n");
    }
}

void page_metrics(page_call *pc) {
    ok(pc, "text/plain; version=0.0.4; charset=utf-8");
    metrics_render_prometheus(pages_shown(pc)->metrics, pc->env->cfg, &pc->resp->body);
    if (pages_shown(pc)->dbpool)
        dbpool_render_prometheus(pages_shown(pc)->dbpool, &pc->resp->body);
}

void page_echo(page_call *pc) {
    ok(pc, "application/octet-stream");
    buf_append(&pc->resp->body, pc->req->body, pc->req->body_len);
}

void pages_thread_done(void) {
    OPENSSL_thread_stop();
}

/* ---- /cake: the seed's cake ------------------------------------------------
 * Preparing the dough is 25 minutes of work, pre-heating the oven 15 minutes
 * of waiting, baking 20 minutes of waiting that needs both. One after another
 * it takes 60 minutes; pre-heating while the dough is made 45; with a helper
 * sharing the dough (15 minutes each: splitting costs 5) 35. Here it really
 * happens, unit ms per minute: the dough burns the CPU (on the driver's
 * thread of work, and the helper's on a thread of its own), waits are waits
 * (timers in an event loop, sleeps in a blocking worker). */

enum { CAKE_DOUGH = 25, CAKE_PREHEAT = 15, CAKE_BAKE = 20, CAKE_HALF = 15 };
enum { CAKE_SEQUENTIAL, CAKE_ASYNC, CAKE_PARALLEL };
/* scratch slots: when each step started and ended, who burned, what is next */
enum {
    K_T0,
    K_DOUGH0,
    K_DOUGH1,
    K_HELP0,
    K_HELP1,
    K_HEAT0,
    K_HEAT1,
    K_BAKE0,
    K_BAKE1,
    K_DOUGH_TID,
    K_HELP_TID,
    K_NEXT
};
enum { NEXT_PREHEAT, NEXT_OVEN_READY, NEXT_BAKE, NEXT_DONE };

static const char *const cake_plans[] = {"sequential", "async", "parallel"};

/* Burns the CPU of the calling thread for us microseconds of wall time. */
static void burn(uint64_t us) {
    uint64_t end = util_now_us() + us;
    volatile uint64_t x = 1;
    while (util_now_us() < end)
        for (int i = 0; i < 2000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
}

typedef struct helper_arg {
    uint64_t us;       /* how long to work */
    uint64_t start_us; /* filled: when it began */
    uint64_t end_us;   /* and ended */
    long tid;          /* and on which thread */
} helper_arg;

static void *helper(void *p) {
    helper_arg *h = p;
    h->tid = util_worker_id();
    h->start_us = util_now_us();
    burn(h->us);
    h->end_us = util_now_us();
    return NULL;
}

/* The dough: all of it here, or (parallel) half here and half on a helper
 * thread at the same time. */
static void cake_dough(page_call *pc) {
    uint64_t unit_us = pc->arg[1] * 1000u;
    int parallel = pc->arg[0] == CAKE_PARALLEL;
    helper_arg h = {.us = CAKE_HALF * unit_us};
    pthread_t t;
    int helped = parallel && pthread_create(&t, NULL, helper, &h) == 0;
    pc->scratch[K_DOUGH_TID] = (uint64_t)util_worker_id();
    pc->scratch[K_DOUGH0] = util_now_us();
    burn((parallel ? CAKE_HALF : CAKE_DOUGH) * unit_us);
    if (parallel && !helped) /* no helper to be had: the cook does its half too */
        burn(CAKE_HALF * unit_us);
    pc->scratch[K_DOUGH1] = util_now_us();
    route_phase(pc, PHASE_CPU, pc->scratch[K_DOUGH0], pc->scratch[K_DOUGH1]);
    if (helped) {
        pthread_join(t, NULL);
        pc->scratch[K_HELP0] = h.start_us;
        pc->scratch[K_HELP1] = h.end_us;
        pc->scratch[K_HELP_TID] = (uint64_t)h.tid;
        route_phase(pc, PHASE_CPU, h.start_us, h.end_us);
    }
}

/* Asks the driver for a wait of ms (a timer, or a sleep). */
static void cake_wait(page_call *pc, uint64_t ms) {
    pc->plan =
        (db_plan){.batches = 1, .per_batch = 1, .delay_ms = (unsigned)ms, .kind = PHASE_WAIT};
}

void page_cake_start(page_call *pc) {
    const char *v;
    size_t len;
    pc->arg[0] = CAKE_SEQUENTIAL;
    if (route_query_get(pc->req->query, "plan", &v, &len)) {
        unsigned i = 0;
        while (i < 3 && !util_ieq(v, len, cake_plans[i]))
            i++;
        if (i == 3) {
            route_error(pc->resp, 400, "parameter 'plan' must be sequential, async or parallel");
            return;
        }
        pc->arg[0] = i;
    }
    if (want_format(pc) != 0 || param_u64(pc, "unit", 10, 1, 100, " (ms per minute)", &pc->arg[1]))
        return;
    uint64_t now = route_now(pc);
    pc->scratch[K_T0] = now;
    if (pc->arg[0] != CAKE_SEQUENTIAL) { /* the oven heats by itself meanwhile */
        pc->scratch[K_HEAT0] = now;
        pc->scratch[K_HEAT1] = now + CAKE_PREHEAT * pc->arg[1] * 1000u;
        route_phase(pc, PHASE_WAIT, pc->scratch[K_HEAT0], pc->scratch[K_HEAT1]);
        pc->scratch[K_NEXT] = NEXT_OVEN_READY;
    } else {
        pc->scratch[K_NEXT] = NEXT_PREHEAT;
    }
    pc->work = cake_dough;
}

static void cake_render(page_call *pc);

void page_cake_finish(page_call *pc) {
    uint64_t now = route_now(pc);
    uint64_t unit = pc->arg[1];
    switch (pc->scratch[K_NEXT]) {
    case NEXT_PREHEAT: /* sequential: the dough is done, now heat the oven */
        pc->scratch[K_HEAT0] = now;
        pc->scratch[K_NEXT] = NEXT_BAKE;
        cake_wait(pc, CAKE_PREHEAT * unit);
        return;
    case NEXT_OVEN_READY: /* the dough is done: wait for the oven if it is not hot yet */
        pc->scratch[K_NEXT] = NEXT_BAKE;
        if (pc->scratch[K_HEAT1] > now + 1000) {
            cake_wait(pc, (pc->scratch[K_HEAT1] - now + 999) / 1000);
            return;
        }
        __attribute__((fallthrough)); /* hot already */
    case NEXT_BAKE:
        if (pc->arg[0] == CAKE_SEQUENTIAL)
            pc->scratch[K_HEAT1] = now;
        pc->scratch[K_BAKE0] = now;
        pc->scratch[K_NEXT] = NEXT_DONE;
        cake_wait(pc, CAKE_BAKE * unit);
        return;
    default:
        pc->scratch[K_BAKE1] = now;
        cake_render(pc);
    }
}

static void cake_render(page_call *pc) {
    static const char *const words[] = {
        "synchronous: each step waits for the one before it to end — one cook, one thing at "
        "a time (60 minutes)",
        "asynchronous and concurrent: the oven heats while the cook makes the dough — two "
        "things in progress at once, still one cook (45 minutes)",
        "parallel: a helper makes half of the dough at the same time as the cook, on another "
        "core, while the oven heats (35 minutes: splitting costs 5 minutes of work)"};
    const uint64_t *k = pc->scratch;
    uint64_t t0 = k[K_T0], unit = pc->arg[1];
    double total_ms = (double)(k[K_BAKE1] - t0) / 1000.0;
    struct {
        const char *name, *kind;
        uint64_t a, b;
        long worker;
    } steps[4] = {
        {"dough", "cpu", k[K_DOUGH0], k[K_DOUGH1], (long)k[K_DOUGH_TID]},
        {"preheat", "wait", k[K_HEAT0], k[K_HEAT1], pc->env->worker},
        {"bake", "wait", k[K_BAKE0], k[K_BAKE1], pc->env->worker},
        {"dough (helper)", "cpu", k[K_HELP0], k[K_HELP1], (long)k[K_HELP_TID]},
    };
    unsigned nsteps = k[K_HELP_TID] ? 4 : 3;
    buf *b = &pc->resp->body;
    if (pc->json) {
        ok(pc, JSON);
        buf_printf(b,
                   "{\"plan\":\"%s\",\"mode\":\"%s\",\"unit_ms\":%llu,\"total_ms\":%.3f,"
                   "\"minutes\":%.2f,\"words\":\"%s\",\"steps\":[",
                   cake_plans[pc->arg[0]], config_mode_name(pc->env->cfg->mode),
                   (unsigned long long)unit, total_ms, total_ms / (double)unit, words[pc->arg[0]]);
        for (unsigned i = 0; i < nsteps; i++)
            buf_printf(b,
                       "%s{\"name\":\"%s\",\"kind\":\"%s\",\"start_ms\":%.3f,\"end_ms\":%.3f,"
                       "\"worker\":%ld}",
                       i ? "," : "", steps[i].name, steps[i].kind,
                       (double)(steps[i].a - t0) / 1000.0, (double)(steps[i].b - t0) / 1000.0,
                       steps[i].worker);
        buf_puts(b, "]}\n");
        return;
    }
    ok(pc, HTML);
    html_head(b, "cake");
    buf_printf(b,
               "<h1>The cake, %s</h1>\n<p>Dough: 25 minutes of work. Pre-heating the oven: 15 "
               "minutes of waiting. Baking: 20 minutes of waiting that needs both. One minute "
               "is %llu ms here.</p>\n<p>Done in <strong id=\"minutes\">%.1f minutes</strong> "
               "(%.0f ms) in mode <strong>%s</strong>.</p>\n<p id=\"words\">%s.</p>\n",
               cake_plans[pc->arg[0]], (unsigned long long)unit, total_ms / (double)unit, total_ms,
               config_mode_name(pc->env->cfg->mode), words[pc->arg[0]]);
    const int W = 600, ROW = 24, LEFT = 120;
    double span = (double)(k[K_BAKE1] - t0);
    buf_printf(b,
               "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%u\" style=\"font:12px system-ui,sans-serif\">",
               W + LEFT + 60, nsteps * ROW + 30);
    for (unsigned i = 0; i < nsteps; i++) {
        double x = LEFT + (double)(steps[i].a - t0) / span * W;
        double w = (double)(steps[i].b - steps[i].a) / span * W;
        buf_printf(b,
                   "<text x=\"4\" y=\"%u\">%s</text><rect class=\"bar %s\" x=\"%.1f\" y=\"%u\" "
                   "width=\"%.1f\" height=\"%d\" rx=\"3\" fill=\"%s\"/><text x=\"%.1f\" "
                   "y=\"%u\">%.0f min</text>",
                   i * ROW + 16, steps[i].name, steps[i].kind, x, i * ROW + 4, w < 1 ? 1 : w,
                   ROW - 8, strcmp(steps[i].kind, "cpu") == 0 ? "#e8862a" : "#8b5cf6", x + w + 4,
                   i * ROW + 16, (double)(steps[i].b - steps[i].a) / 1000.0 / (double)unit);
    }
    buf_printf(b,
               "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\" stroke=\"#889\"/><text x=\"%d\" "
               "y=\"%u\">0</text><text x=\"%d\" y=\"%u\" text-anchor=\"end\">%.0f min</text>"
               "</svg>\n<p>Try <a href=\"?plan=sequential\">sequential</a>, <a "
               "href=\"?plan=async\">async</a>, <a href=\"?plan=parallel\">parallel</a>.</p>\n"
               "<p><a href=\"/\">back</a></p></body></html>\n",
               LEFT, nsteps * ROW + 6, LEFT + W, nsteps * ROW + 6, LEFT, nsteps * ROW + 22,
               LEFT + W, nsteps * ROW + 22, total_ms / (double)unit);
}
