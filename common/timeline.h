/* timeline: what the live view draws, in shared memory so that every thread
 * and every prefork worker writes to one place and the status listener reads
 * it without asking them.
 *
 *  - The ring: the last N finished requests (a fixed-size record each: lane,
 *    page, status, when it was accepted, began, started and ended, and its
 *    phases — each database query, each CPU burst). Writers never lock and
 *    never allocate: a request takes the next id with one atomic add and
 *    fills its slot under a per-slot sequence number (a seqlock); a reader
 *    copies a slot and keeps it only if the sequence number says it was
 *    complete and unchanged — so a slow reader never holds anyone up, and a
 *    reader that lags simply misses what was overwritten.
 *  - The scoreboard: per lane (a thread, process or loop that serves
 *    requests), how many of its connections are in each state now, what it
 *    served last, and since when — Apache's scoreboard, nginx's stub_status.
 *
 * The core (conn.c) writes both; the drivers only say which lane a
 * connection belongs to. Times are CLOCK_MONOTONIC µs like the headers. */
#ifndef HTTPMODES_TIMELINE_H
#define HTTPMODES_TIMELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TIMELINE_PHASES 8     /* phases kept per request; more are counted, not kept */
#define TIMELINE_LANES 1024   /* lanes shown on the scoreboard (threads mode may have more) */
#define TIMELINE_DEFAULT 2048 /* records in the ring by default (--timeline-size) */

typedef enum { PHASE_DB, PHASE_CPU, PHASE_DBQUEUE, PHASE_WAIT, PHASE_KINDS } phase_kind;

typedef struct timeline_phase {
    uint8_t kind;      /* a phase_kind */
    uint64_t start_us; /* when it began */
    uint64_t end_us;   /* when it ended */
} timeline_phase;

/* One finished request. */
typedef struct timeline_rec {
    uint64_t id;          /* sequence number in the ring */
    uint32_t lane;        /* the lane that served it */
    int32_t worker;       /* its thread or process id */
    uint16_t page;        /* a page_id */
    uint16_t status;      /* response status */
    uint64_t accepted_us; /* its connection was accepted */
    uint64_t begin_us;    /* its first byte arrived (the connection's accept, for the first) */
    uint64_t start_us;    /* its page began */
    uint64_t end_us;      /* its response was written */
    uint8_t nphases;      /* phases kept */
    uint8_t more_phases;  /* phases beyond TIMELINE_PHASES (counted up to 255) */
    timeline_phase phases[TIMELINE_PHASES];
} timeline_rec;

/* The states a connection is in, as the scoreboard counts them. */
typedef enum {
    BOARD_NONE, /* not counted (a connection before its lane is known, or closed) */
    BOARD_READING,
    BOARD_DB,
    BOARD_CPU,
    BOARD_WRITING,
    BOARD_KEEPALIVE,
    BOARD_STATES
} board_state;

typedef struct timeline timeline;

/* Returns a ring of size records (rounded up to a power of two, at least 16)
 * and an empty scoreboard in anonymous shared memory (inherited by fork), or
 * NULL if the mapping fails. Free with timeline_destroy(). */
timeline *timeline_create(unsigned size);
void timeline_destroy(timeline *t);

/* Returns the ring's size in records. */
unsigned timeline_size(const timeline *t);

/* Records one finished request (rec->id is assigned here). Lock-free. */
void timeline_add(timeline *t, const timeline_rec *rec);

/* Copies into out (room for max records) the complete records with an id
 * >= since, oldest first, skipping any overwritten or being written.
 * Returns how many; *cursor gets the id to pass as since next time. */
size_t timeline_read(const timeline *t, uint64_t since, timeline_rec *out, size_t max,
                     uint64_t *cursor);

/* Scoreboard: the lane's worker id is worker (a pid or tid) from now on. */
void timeline_lane_claim(timeline *t, unsigned lane, long worker);

/* Scoreboard: one connection of lane moves from state from to state to
 * (BOARD_NONE on either side for a connection that starts or ends), at now,
 * serving page (a page_id, or -1 to leave it as it was). */
void timeline_move(timeline *t, unsigned lane, board_state from, board_state to, int page,
                   uint64_t now);

/* Scoreboard: the lane's process died: none of its connections is open now. */
void timeline_lane_release(timeline *t, unsigned lane);

/* Scoreboard: lane finished a request. */
void timeline_count_request(timeline *t, unsigned lane);

/* Returns the name of a phase kind ("db", "cpu", "dbqueue") or board state. */
const char *timeline_phase_name(phase_kind k);
const char *timeline_state_name(board_state s);

/* A lane's row of the scoreboard, copied. */
typedef struct timeline_lane_view {
    long worker;                   /* 0: the lane was never used */
    uint64_t counts[BOARD_STATES]; /* connections in each state */
    uint64_t since_us;             /* last change */
    int page;                      /* the page it served last, or -1 */
    uint64_t requests;             /* requests finished */
} timeline_lane_view;

/* Copies lane's scoreboard row into *v. Returns 0, or -1 past the lanes. */
int timeline_lane(const timeline *t, unsigned lane, timeline_lane_view *v);

/* Returns the lanes ever used (1 + the highest lane claimed). */
unsigned timeline_lanes(const timeline *t);

#endif
