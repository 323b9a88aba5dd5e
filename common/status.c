/* status: the pages of the status listener — the live view (/live, an
 * embedded self-contained page) and its JSON feeds, /timeline (the requests
 * finished since a cursor) and /scoreboard (every lane's state now). They
 * read the shared-memory timeline of the server they describe (pages_shown),
 * so they answer from their own thread while every worker is busy. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"
#include "pages.h"
#include "util.h"

extern const char live_html[];
extern const unsigned live_html_len;

#define TIMELINE_MAX_ANSWER 4096 /* records in one /timeline answer at most */

void page_status_index(page_call *pc) {
    pc->resp->status = 200;
    pc->resp->content_type = "text/html; charset=utf-8";
    buf_puts(&pc->resp->body,
             "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>httpmodes "
             "status</title></head><body><h1>httpmodes status</h1><ul>"
             "<li><a href=\"/live\">/live</a>: the timeline and scoreboard, live</li>"
             "<li><a href=\"/timeline\">/timeline</a>: finished requests (JSON, ?since=CURSOR)</li>"
             "<li><a href=\"/scoreboard\">/scoreboard</a>: every worker's state now (JSON)</li>"
             "<li><a href=\"/stats\">/stats</a> and <a href=\"/metrics\">/metrics</a>: the "
             "counters</li></ul></body></html>\n");
}

void page_live(page_call *pc) {
    pc->resp->status = 200;
    pc->resp->content_type = "text/html; charset=utf-8";
    buf_append(&pc->resp->body, live_html, live_html_len);
}

/* Returns the connections waiting in the kernel's accept queue of the
 * listening socket fd (TCP_INFO's tcpi_unacked for a listener), or 0. */
static unsigned listen_queue(int fd) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return 0;
    return ti.tcpi_unacked;
}

/* Appends {"lane":…,"worker":…} for every lane ever used. */
static void lanes_json(buf *b, const timeline *t) {
    unsigned n = timeline_lanes(t);
    int first = 1;
    buf_puts(b, "[");
    for (unsigned i = 0; i < n; i++) {
        timeline_lane_view v;
        if (timeline_lane(t, i, &v) != 0 || v.worker == 0)
            continue;
        buf_printf(b, "%s{\"lane\":%u,\"worker\":%ld}", first ? "" : ",", i, v.worker);
        first = 0;
    }
    buf_puts(b, "]");
}

/* Sets a 503 when the server shown records no timeline. Returns it, or NULL. */
static const timeline *shown_timeline(page_call *pc) {
    const timeline *t = pages_shown(pc)->timeline;
    if (!t)
        route_error(pc->resp, 503, "this server records no timeline");
    return t;
}

void page_timeline(page_call *pc) {
    const timeline *t = shown_timeline(pc);
    if (!t)
        return;
    const char *v;
    size_t len;
    uint64_t since = 0;
    if (route_query_get(pc->req->query, "since", &v, &len) &&
        util_parse_u64(v, len, UINT64_MAX / 4, &since) != 0) {
        route_error(pc->resp, 400, "parameter 'since' must be a cursor from an earlier answer");
        return;
    }
    size_t max = timeline_size(t) < TIMELINE_MAX_ANSWER ? timeline_size(t) : TIMELINE_MAX_ANSWER;
    timeline_rec *recs = xmalloc(max * sizeof *recs);
    uint64_t cursor;
    size_t n = timeline_read(t, since, recs, max, &cursor);
    buf *b = &pc->resp->body;
    pc->resp->status = 200;
    pc->resp->content_type = "application/json";
    buf_reserve(b, 256 + n * 220);
    buf_printf(b, "{\"now_us\":%llu,\"cursor\":%llu,\"mode\":\"%s\",\"size\":%u,\"lanes\":",
               (unsigned long long)route_now(pc), (unsigned long long)cursor,
               config_mode_name(pc->env->cfg->mode), timeline_size(t));
    lanes_json(b, t);
    buf_puts(b, ",\"requests\":[");
    for (size_t i = 0; i < n; i++) {
        const timeline_rec *r = &recs[i];
        buf_printf(b,
                   "%s{\"id\":%llu,\"lane\":%u,\"worker\":%d,\"page\":\"%s\",\"status\":%u,"
                   "\"accepted_us\":%llu,\"begin_us\":%llu,\"start_us\":%llu,\"end_us\":%llu,"
                   "\"phases\":[",
                   i ? "," : "", (unsigned long long)r->id, r->lane, r->worker,
                   route_page_name((page_id)r->page), r->status, (unsigned long long)r->accepted_us,
                   (unsigned long long)r->begin_us, (unsigned long long)r->start_us,
                   (unsigned long long)r->end_us);
        for (unsigned k = 0; k < r->nphases && k < TIMELINE_PHASES; k++)
            buf_printf(b, "%s{\"kind\":\"%s\",\"start_us\":%llu,\"end_us\":%llu}", k ? "," : "",
                       timeline_phase_name((phase_kind)r->phases[k].kind),
                       (unsigned long long)r->phases[k].start_us,
                       (unsigned long long)r->phases[k].end_us);
        buf_printf(b, "]%s}", r->more_phases ? ",\"more_phases\":true" : "");
    }
    buf_puts(b, "]}\n");
    free(recs);
}

/* The state a lane is shown in: its busiest connection's. */
static board_state lane_state(const timeline_lane_view *v) {
    static const board_state order[] = {BOARD_CPU, BOARD_DB, BOARD_WRITING, BOARD_READING,
                                        BOARD_KEEPALIVE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (v->counts[order[i]])
            return order[i];
    return BOARD_NONE;
}

void page_scoreboard(page_call *pc) {
    const timeline *t = shown_timeline(pc);
    if (!t)
        return;
    const server_env *shown = pages_shown(pc);
    const config *cfg = pc->env->cfg;
    const mode_info *mi = mode_get(cfg->mode);
    const metrics *m = shown->metrics;
    buf *b = &pc->resp->body;
    pc->resp->status = 200;
    pc->resp->content_type = "application/json";
    buf_printf(b,
               "{\"now_us\":%llu,\"mode\":\"%s\",\"name\":%s%s%s,\"description\":\"%s (like %s)\","
               "\"look_for\":\"%s\",\"event_loop\":%s,\"cpu_off_loop\":%s,"
               "\"workers_setting\":%u,\"workers\":[",
               (unsigned long long)route_now(pc), mi->name, cfg->name[0] ? "\"" : "",
               cfg->name[0] ? cfg->name : "null", cfg->name[0] ? "\"" : "", mi->summary,
               mi->counterpart, mi->look_for, mi->event_loop ? "true" : "false",
               mi->cpu_off_loop ? "true" : "false", cfg->workers);
    unsigned n = timeline_lanes(t);
    int first = 1;
    for (unsigned i = 0; i < n; i++) {
        timeline_lane_view v;
        if (timeline_lane(t, i, &v) != 0 || v.worker == 0)
            continue;
        buf_printf(b,
                   "%s{\"lane\":%u,\"worker\":%ld,\"state\":\"%s\",\"since_us\":%llu,"
                   "\"page\":%s%s%s,\"requests\":%llu,\"counts\":{",
                   first ? "" : ",", i, v.worker, timeline_state_name(lane_state(&v)),
                   (unsigned long long)v.since_us, v.page >= 0 ? "\"" : "",
                   v.page >= 0 ? route_page_name((page_id)v.page) : "null", v.page >= 0 ? "\"" : "",
                   (unsigned long long)v.requests);
        for (int s = BOARD_READING; s < BOARD_STATES; s++)
            buf_printf(b, "%s\"%s\":%llu", s == BOARD_READING ? "" : ",",
                       timeline_state_name((board_state)s), (unsigned long long)v.counts[s]);
        buf_puts(b, "}}");
        first = 0;
    }
    buf_printf(b,
               "],\"listen_queue\":%u,\"open_connections\":%llu,\"in_flight\":%llu,"
               "\"requests_total\":%llu}\n",
               listen_queue(shown->listen_fd), (unsigned long long)atomic_load(&m->open),
               (unsigned long long)atomic_load(&m->in_flight),
               (unsigned long long)atomic_load(&m->requests));
}
