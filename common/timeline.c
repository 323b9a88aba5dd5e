/* timeline: the shared-memory ring of finished requests and the scoreboard. */
#include "timeline.h"

#include <string.h>
#include <sys/mman.h>

typedef struct slot {
    _Atomic uint64_t seq; /* 2*id+1 while record id is written, 2*id+2 once complete */
    timeline_rec rec;     /* the record */
} slot;

typedef struct lane_row {
    _Atomic int64_t worker;               /* its thread or process id; 0 = never used */
    _Atomic int64_t counts[BOARD_STATES]; /* connections in each state */
    _Atomic uint64_t since_us;            /* last change */
    _Atomic int64_t page;                 /* page served last, -1 = none yet */
    _Atomic uint64_t requests;            /* requests finished */
} lane_row;

struct timeline {
    size_t bytes;           /* size of the mapping */
    unsigned size;          /* records in the ring (a power of two) */
    _Atomic uint64_t next;  /* the id the next record gets */
    _Atomic unsigned lanes; /* 1 + the highest lane used */
    lane_row board[TIMELINE_LANES];
    slot ring[]; /* size slots */
};

timeline *timeline_create(unsigned size) {
    unsigned n = 16;
    while (n < size && n < (1u << 20))
        n <<= 1;
    size_t bytes = sizeof(timeline) + (size_t)n * sizeof(slot);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    timeline *t = p; /* fresh pages are zero: every slot's seq 0 = never written */
    t->bytes = bytes;
    t->size = n;
    for (unsigned i = 0; i < TIMELINE_LANES; i++)
        atomic_store(&t->board[i].page, -1);
    return t;
}

void timeline_destroy(timeline *t) {
    if (t)
        munmap(t, t->bytes);
}

unsigned timeline_size(const timeline *t) {
    return t->size;
}

void timeline_add(timeline *t, const timeline_rec *rec) {
    uint64_t id = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed);
    slot *s = &t->ring[id & (t->size - 1)];
    atomic_store_explicit(&s->seq, 2 * id + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release); /* readers see odd before any new byte */
    s->rec = *rec;
    s->rec.id = id;
    atomic_store_explicit(&s->seq, 2 * id + 2, memory_order_release);
}

size_t timeline_read(const timeline *t, uint64_t since, timeline_rec *out, size_t max,
                     uint64_t *cursor) {
    uint64_t next = atomic_load_explicit(&t->next, memory_order_acquire);
    uint64_t first = next > t->size ? next - t->size : 0;
    if (since > first && since <= next)
        first = since;
    size_t n = 0;
    uint64_t id = first;
    for (; id < next && n < max; id++) {
        const slot *s = &t->ring[id & (t->size - 1)];
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (seq != 2 * id + 2)
            continue; /* being written, or already overwritten */
        out[n] = s->rec;
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
            continue; /* overwritten while we copied */
        n++;
    }
    *cursor = id;
    return n;
}

static lane_row *row(timeline *t, unsigned lane) {
    return lane < TIMELINE_LANES ? &t->board[lane] : NULL;
}

void timeline_lane_claim(timeline *t, unsigned lane, long worker) {
    lane_row *r = row(t, lane);
    if (!r)
        return;
    atomic_store(&r->worker, worker);
    unsigned seen = atomic_load(&t->lanes);
    while (seen < lane + 1 && !atomic_compare_exchange_weak(&t->lanes, &seen, lane + 1)) {
    }
}

void timeline_move(timeline *t, unsigned lane, board_state from, board_state to, int page,
                   uint64_t now) {
    lane_row *r = row(t, lane);
    if (!r || from == to)
        return;
    if (from != BOARD_NONE)
        atomic_fetch_sub_explicit(&r->counts[from], 1, memory_order_relaxed);
    if (to != BOARD_NONE)
        atomic_fetch_add_explicit(&r->counts[to], 1, memory_order_relaxed);
    if (page >= 0)
        atomic_store_explicit(&r->page, page, memory_order_relaxed);
    atomic_store_explicit(&r->since_us, now, memory_order_relaxed);
}

void timeline_lane_release(timeline *t, unsigned lane) {
    lane_row *r = row(t, lane);
    if (!r)
        return;
    for (int i = 0; i < BOARD_STATES; i++)
        atomic_store(&r->counts[i], 0);
}

void timeline_count_request(timeline *t, unsigned lane) {
    lane_row *r = row(t, lane);
    if (r)
        atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
}

const char *timeline_phase_name(phase_kind k) {
    static const char *names[PHASE_KINDS] = {"db", "cpu", "dbqueue", "wait"};
    return (unsigned)k < PHASE_KINDS ? names[k] : "?";
}

const char *timeline_state_name(board_state s) {
    static const char *names[BOARD_STATES] = {"idle", "reading", "db",
                                              "cpu",  "writing", "keepalive"};
    return (unsigned)s < BOARD_STATES ? names[s] : "?";
}

int timeline_lane(const timeline *t, unsigned lane, timeline_lane_view *v) {
    if (lane >= TIMELINE_LANES)
        return -1;
    const lane_row *r = &t->board[lane];
    v->worker = (long)atomic_load(&r->worker);
    for (int i = 0; i < BOARD_STATES; i++) {
        int64_t c = atomic_load_explicit(&r->counts[i], memory_order_relaxed);
        v->counts[i] = c > 0 ? (uint64_t)c : 0;
    }
    v->since_us = atomic_load_explicit(&r->since_us, memory_order_relaxed);
    v->page = (int)atomic_load_explicit(&r->page, memory_order_relaxed);
    v->requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
    return 0;
}

unsigned timeline_lanes(const timeline *t) {
    return atomic_load(&t->lanes);
}
