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
void page_cpu(page_call *pc);
void page_stats(page_call *pc);
void page_metrics(page_call *pc);
void page_echo(page_call *pc);

/* Default number of widgets on /dashboard. */
#define PAGE_DASHBOARD_WIDGETS 4

#endif
