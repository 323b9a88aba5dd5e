/* timeheap: a binary min-heap of deadlines (µs), for the loops' database
 * waits (server/loopdb.c) and their connections' deadlines (mode_event.c). Each entry is a
 * timeheap_node embedded in its owner, which remembers its place so that it can leave from the
 * middle (a connection closed mid-wait): push, pop and remove are O(log n). */
#ifndef HTTPMODES_TIMEHEAP_H
#define HTTPMODES_TIMEHEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct timeheap_node {
    uint64_t at; /* the deadline: the heap's key */
    size_t pos;  /* its index in the heap while queued, else TIMEHEAP_OUT */
} timeheap_node;

#define TIMEHEAP_OUT ((size_t)-1)

typedef struct timeheap {
    timeheap_node **v; /* v[0] has the earliest deadline */
    size_t n, cap;
} timeheap;

/* Makes room for n nodes, so that pushes up to n never fail. Returns 0, or
 * -1 without memory (the heap is as it was). */
int timeheap_reserve(timeheap *h, size_t n);
/* Adds node (its at set, not queued). Returns 0, or -1 without memory. */
int timeheap_push(timeheap *h, timeheap_node *node);
/* Returns the node with the earliest deadline, or NULL when empty. */
timeheap_node *timeheap_top(const timeheap *h);
/* Takes node out, from wherever it is; nothing when it is not queued. */
void timeheap_remove(timeheap *h, timeheap_node *node);
void timeheap_free(timeheap *h);

#endif
