/* db: the simulated slow database. A page never waits itself: it returns a
 * db_plan, and the driver carries it out — blocking workers one query after
 * another with db_query_blocking(), the event loop with timers. */
#ifndef HTTPMODES_DB_H
#define HTTPMODES_DB_H

typedef struct db_plan {
    unsigned batches;   /* steps that depend on each other: run one after another */
    unsigned per_batch; /* independent queries within one step: may run at once */
    unsigned delay_ms;  /* time each query takes */
    unsigned blocking;  /* 1: made as a blocking call even in an event loop (/db?blocking=1,
                           the classic mistake): the loop stops for it */
    unsigned kind;      /* the phase_kind the timeline shows the waits as (0: db) */
} db_plan;

/* Blocks the calling thread for ms milliseconds — one simulated query —
 * resuming after signals (EINTR) until the whole time has passed. */
void db_query_blocking(unsigned ms);

#endif
