/* pages: the demo pages. Each function is a start or finish step of the
 * two-phase page interface described in route.h. */
#ifndef HTTPMODES_PAGES_H
#define HTTPMODES_PAGES_H

#include "route.h"

void page_index(page_call *pc);
void page_hello(page_call *pc);
void page_db_start(page_call *pc);
void page_db_finish(page_call *pc);
void page_dashboard_start(page_call *pc);
void page_dashboard_finish(page_call *pc);
void page_cpu_start(page_call *pc);
void page_cpu_finish(page_call *pc);
void page_stats(page_call *pc);
void page_metrics(page_call *pc);
void page_echo(page_call *pc);
void page_cake_start(page_call *pc);
void page_cake_finish(page_call *pc);

/* The status listener's pages (status.c): a small index, the live view's
 * HTML, and its two JSON feeds. */
void page_status_index(page_call *pc);
void page_live(page_call *pc);
void page_timeline(page_call *pc);
void page_scoreboard(page_call *pc);

/* Returns the server whose counters pc's status pages show. */
const server_env *pages_shown(const page_call *pc);

/* Releases what the pages' libraries keep per thread (OpenSSL's error
 * queue, touched by /cpu), through conn_thread_done, before a worker thread
 * ends: nothing is left for a thread-exit destructor that may run after main(). */
void pages_thread_done(void);

/* Default number of widgets on /dashboard. */
#define PAGE_DASHBOARD_WIDGETS 4

#endif
