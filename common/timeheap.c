/* timeheap: see timeheap.h. */
#include "timeheap.h"

#include <stdint.h>
#include <stdlib.h>

static void put(timeheap *h, size_t i, timeheap_node *node) {
    h->v[i] = node;
    node->pos = i;
}

/* Moves the node at i up while it is earlier than its parent. */
static void sift_up(timeheap *h, size_t i) {
    timeheap_node *node = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent]->at <= node->at)
            break;
        put(h, i, h->v[parent]);
        i = parent;
    }
    put(h, i, node);
}

/* Moves the node at i down while a child is earlier. */
static void sift_down(timeheap *h, size_t i) {
    timeheap_node *node = h->v[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->v[child + 1]->at < h->v[child]->at)
            child++;
        if (node->at <= h->v[child]->at)
            break;
        put(h, i, h->v[child]);
        i = child;
    }
    put(h, i, node);
}

int timeheap_reserve(timeheap *h, size_t n) {
    if (n <= h->cap)
        return 0;
    if (n > SIZE_MAX / 2 / sizeof *h->v) /* the doubling below, or its bytes, would overflow */
        return -1;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n)
        cap *= 2;
    timeheap_node **v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return -1;
    h->v = v;
    h->cap = cap;
    return 0;
}

int timeheap_push(timeheap *h, timeheap_node *node) {
    if (h->n == h->cap && timeheap_reserve(h, h->n + 1) != 0)
        return -1;
    put(h, h->n++, node);
    sift_up(h, node->pos);
    return 0;
}

timeheap_node *timeheap_top(const timeheap *h) {
    return h->n ? h->v[0] : NULL;
}

void timeheap_remove(timeheap *h, timeheap_node *node) {
    size_t i = node->pos;
    if (i == TIMEHEAP_OUT || i >= h->n || h->v[i] != node)
        return;
    node->pos = TIMEHEAP_OUT;
    timeheap_node *last = h->v[--h->n];
    if (last == node)
        return;
    put(h, i, last); /* the last one fills the hole, then finds its place */
    if (i > 0 && h->v[(i - 1) / 2]->at > last->at)
        sift_up(h, i);
    else
        sift_down(h, i);
}

void timeheap_free(timeheap *h) {
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
