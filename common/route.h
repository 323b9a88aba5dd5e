/* route: the table of pages and the two-phase page interface. A page's start
 * step checks the parameters and either renders at once or asks for database
 * work (a db_plan); its finish step renders once that work is done. Pages
 * never sleep, read sockets or know which concurrency model runs them. */
#ifndef HTTPMODES_ROUTE_H
#define HTTPMODES_ROUTE_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "timeline.h"

struct metrics;
struct route_table;

typedef enum {
    PAGE_INDEX,
    PAGE_HELLO,
    PAGE_DB,
    PAGE_DASHBOARD,
    PAGE_CPU,
    PAGE_STATS,
    PAGE_METRICS,
    PAGE_ECHO,
    PAGE_CAKE,
    PAGE_LIVE,  /* the status listener's pages: /live, /timeline, /scoreboard */
    PAGE_OTHER, /* no route matched, or the request was rejected before routing */
    PAGE_COUNT
} page_id;

/* What pages may look at besides the request: shared, read-only settings
 * and the (shared-memory) counters. */
typedef struct server_env {
    const config *cfg;          /* settings */
    struct metrics *metrics;    /* counters, shared across prefork workers */
    struct access_log *log;     /* access log, or NULL when off */
    const atomic_int *stopping; /* nonzero once shutting down: responses close; may be NULL */
    uint64_t (*now_us)(void);   /* monotonic clock in µs (util_now_us; tests may fake it) */
    struct timeline *timeline;  /* the live view's ring and scoreboard, or NULL (not recorded) */
    struct dbpool *dbpool;      /* the simulated database's connections (shared), or NULL */
    const struct route_table *routes; /* the pages served (route_main, route_status) */
    unsigned lane; /* set by the driver: the lane (thread, process, loop) serving */
    long worker;   /* set by the driver: its thread or process id (X-Worker) */
    int listen_fd; /* the main listening socket, for its queue length, or -1 */
    const struct server_env *shows; /* the server the status pages describe (NULL: this one) */
} server_env;

/* One request's trip through a page. */
typedef struct page_call {
    const server_env *env; /* settings and counters */
    const http_req *req;   /* the request (borrowed) */
    http_resp *resp;       /* the response to fill */
    db_plan plan;          /* set by a step when the page needs the database (or a wait) */
    void (*work)(struct page_call *pc); /* set by a step: CPU work the driver runs where it
                                           chooses (in place, or off the loop), then finish */
    unsigned stage;       /* finish steps done so far (a page may take several steps) */
    uint64_t scratch[12]; /* the page's own state between its steps */
    uint64_t db_wait_us;  /* filled by the core before finish: time spent waiting */
    uint64_t db_queue_us; /* of that, waiting for a pool connection (--db-pool) */
    timeline_phase phases[TIMELINE_PHASES]; /* its database waits and CPU bursts so far */
    uint8_t nphases;                        /* phases kept */
    uint8_t more_phases;                    /* phases beyond TIMELINE_PHASES, counted up to 255 */
    uint64_t arg[2];                        /* parameters parsed by start, kept for finish */
    int json;                               /* 1 when the client asked for JSON */
} page_call;

typedef struct route {
    const char *path;              /* exact path */
    page_id id;                    /* for the counters */
    const char *allow;             /* allowed methods ("GET, HEAD"), or NULL for any */
    void (*start)(page_call *pc);  /* checks parameters; renders, or sets pc->plan / pc->work */
    void (*finish)(page_call *pc); /* after the plan or work ran: renders, or sets the next
                                      plan / work (pc->stage counts); NULL if start renders */
} route;

/* The methods the server answers somewhere, for "OPTIONS *" (/echo takes
 * any method; these are the usual ones). */
#define ROUTE_SERVER_ALLOW "GET, HEAD, POST, PUT, DELETE, OPTIONS"

/* A set of pages: the main port's, or the status listener's. */
typedef struct route_table {
    const route *routes; /* the pages */
    unsigned count;      /* how many */
} route_table;

extern const route_table route_main;   /* the demo pages (and /stats, /metrics) */
extern const route_table route_status; /* /live, /timeline, /scoreboard, /stats, /metrics */

/* Returns the route for an exact path in table t (NULL: route_main), or NULL. */
const route *route_find(const route_table *t, const char *path);

/* Returns the monotonic clock (µs) pages read: the server's (env->now_us),
 * which the tests may fake. */
uint64_t route_now(const page_call *pc);

/* Adds a phase (a database wait, a CPU burst) to the request's timeline. */
void route_phase(page_call *pc, phase_kind kind, uint64_t start_us, uint64_t end_us);

/* Returns 1 when the route accepts the method (HEAD wherever GET is). */
int route_allows(const route *r, const char *method);

/* Returns the path a page id counts under ("/hello"; "other"). */
const char *route_page_name(page_id id);

/* Looks up key in a query string ("a=1&b=2"). Returns 1 and sets *val and *len
 * (borrowed, not decoded) for the last occurrence; 0 when absent. */
int route_query_get(const char *query, const char *key, const char **val, size_t *len);

/* Sets resp to a plain-text error page: status and a message line. */
void route_error(http_resp *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
