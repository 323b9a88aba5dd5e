/* route: the page table, query-string lookup and error pages. */
#include "route.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pages.h"
#include "util.h"

static const route routes[] = {
    {"/", PAGE_INDEX, "GET, HEAD", page_index, NULL},
    {"/hello", PAGE_HELLO, "GET, HEAD", page_hello, NULL},
    {"/db", PAGE_DB, "GET, HEAD", page_db_start, page_db_finish},
    {"/dashboard", PAGE_DASHBOARD, "GET, HEAD", page_dashboard_start, page_dashboard_finish},
    {"/cpu", PAGE_CPU, "GET, HEAD", page_cpu_start, page_cpu_finish},
    {"/stats", PAGE_STATS, "GET, HEAD", page_stats, NULL},
    {"/metrics", PAGE_METRICS, "GET, HEAD", page_metrics, NULL},
    {"/echo", PAGE_ECHO, NULL, page_echo, NULL},
    {"/cake", PAGE_CAKE, "GET, HEAD", page_cake_start, page_cake_finish},
};

static const route status_routes[] = {
    {"/", PAGE_LIVE, "GET, HEAD", page_status_index, NULL},
    {"/live", PAGE_LIVE, "GET, HEAD", page_live, NULL},
    {"/timeline", PAGE_LIVE, "GET, HEAD", page_timeline, NULL},
    {"/scoreboard", PAGE_LIVE, "GET, HEAD", page_scoreboard, NULL},
    {"/stats", PAGE_STATS, "GET, HEAD", page_stats, NULL},
    {"/metrics", PAGE_METRICS, "GET, HEAD", page_metrics, NULL},
};

const route_table route_main = {routes, sizeof routes / sizeof routes[0]};
const route_table route_status = {status_routes, sizeof status_routes / sizeof status_routes[0]};

const route *route_find(const route_table *t, const char *path) {
    if (!t)
        t = &route_main;
    for (unsigned i = 0; i < t->count; i++)
        if (strcmp(t->routes[i].path, path) == 0)
            return &t->routes[i];
    return NULL;
}

uint64_t route_now(const page_call *pc) {
    return pc->env->now_us ? pc->env->now_us() : util_now_us();
}

void route_phase(page_call *pc, phase_kind kind, uint64_t start_us, uint64_t end_us) {
    if (pc->nphases < TIMELINE_PHASES)
        pc->phases[pc->nphases++] =
            (timeline_phase){.kind = (uint8_t)kind, .start_us = start_us, .end_us = end_us};
    else if (pc->more_phases < 255)
        pc->more_phases++;
}

int route_allows(const route *r, const char *method) {
    if (!r->allow)
        return 1;
    /* allow lists are "GET, HEAD": match whole comma-separated tokens */
    size_t n = strlen(method);
    for (const char *p = r->allow; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, method, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
        while (*p == ' ')
            p++;
    }
    return 0;
}

const char *route_page_name(page_id id) {
    static const char *names[PAGE_COUNT] = {"/",     "/hello", "/db",      "/dashboard",
                                            "/cpu",  "/stats", "/metrics", "/echo",
                                            "/cake", "/live",  "other"};
    return (unsigned)id < PAGE_COUNT ? names[id] : "other";
}

int route_query_get(const char *query, const char *key, const char **val, size_t *len) {
    size_t klen = strlen(key);
    int found = 0;
    for (const char *p = query; *p;) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        if (plen >= klen && strncmp(p, key, klen) == 0 && (plen == klen || p[klen] == '=')) {
            *val = plen == klen ? p + klen : p + klen + 1;
            *len = plen == klen ? 0 : plen - klen - 1;
            found = 1;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return found;
}

void route_error(http_resp *resp, int status, const char *fmt, ...) {
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body.len = 0;
    buf_printf(&resp->body, "%d %s: %s\n", status, http_reason(status), msg);
}

const char *http_reason(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
