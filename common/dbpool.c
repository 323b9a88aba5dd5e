/* dbpool: the pool's state in shared memory, a FIFO queue of waiting
 * queries with a hand-off on release, and the wait-time histogram. */
#include "dbpool.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

enum { E_FREE, E_QUEUED, E_GRANTED, E_CANCELLED }; /* a queue entry's state */

/* One waiting query. Entry id % DBPOOL_QUEUE holds ticket id from its
 * enqueue until its waiter has collected the grant (or it was cancelled and
 * skipped): only then may a later ticket reuse it. */
typedef struct dbpool_entry {
    _Atomic uint32_t word; /* futex word: (id << 2 | state), so any change wakes */
    uint32_t holder;       /* the connection handed over (E_GRANTED) */
    uint64_t id;           /* its ticket */
    int32_t pid;           /* the waiting process */
    int32_t fd;            /* its loop's eventfd, or -1 */
} dbpool_entry;

/* Wait-time histogram: 0..7 µs exactly, then 8 buckets per power of two. */
#define BUCKETS 320

struct dbpool {
    pthread_mutex_t lock;           /* process-shared, robust: guards what follows */
    unsigned size;                  /* connections; 0 = unlimited */
    unsigned in_use;                /* held now (size > 0) */
    unsigned next_holder;           /* where the search for a free connection starts */
    uint64_t head, tail;            /* the queue: tickets head..tail-1 (some cancelled) */
    uint64_t queued;                /* tickets still waiting */
    _Atomic uint64_t in_use_free;   /* held now with size 0 (no lock) */
    _Atomic uint64_t queued_now;    /* queued, readable without the lock */
    _Atomic uint64_t in_use_now;    /* in_use, readable without the lock */
    _Atomic uint64_t draws;         /* dbpool_next_draw */
    _Atomic uint64_t acquired;      /* queries that got a connection */
    _Atomic uint64_t waited;        /* of those, queued first */
    _Atomic uint64_t refused;       /* DBPOOL_FULL answers */
    _Atomic uint64_t wait_us;       /* total queued time */
    _Atomic uint64_t max_us;        /* longest wait */
    _Atomic uint64_t hist[BUCKETS]; /* waits by size */
    int32_t holder_pid[DBPOOL_MAX]; /* who holds each connection; 0 = free */
    dbpool_entry entries[DBPOOL_QUEUE];
};

static unsigned bucket_of(uint64_t v) {
    if (v < 8)
        return (unsigned)v;
    unsigned o = 63u - (unsigned)__builtin_clzll(v); /* >= 3 */
    unsigned b = 8 + (o - 3) * 8 + (unsigned)((v >> (o - 3)) & 7);
    return b < BUCKETS ? b : BUCKETS - 1;
}

/* The middle of bucket b. */
static uint64_t bucket_mid(unsigned b) {
    if (b < 8)
        return b;
    unsigned o = (b - 8) / 8 + 3, sub = (b - 8) % 8;
    uint64_t lo = (uint64_t)(8 + sub) << (o - 3), width = 1ull << (o - 3);
    return lo + width / 2;
}

static void count_wait(dbpool *p, uint64_t us, int queued) {
    atomic_fetch_add(&p->acquired, 1);
    atomic_fetch_add(&p->hist[bucket_of(us)], 1);
    if (!queued)
        return;
    atomic_fetch_add(&p->waited, 1);
    atomic_fetch_add(&p->wait_us, us);
    uint64_t m = atomic_load(&p->max_us);
    while (us > m && !atomic_compare_exchange_weak(&p->max_us, &m, us)) {
    }
}

static void lock(dbpool *p) {
    /* a process that died holding the lock left at worst a counter off by
     * one step; the lock itself is taken over */
    if (pthread_mutex_lock(&p->lock) == EOWNERDEAD)
        pthread_mutex_consistent(&p->lock);
}

static void unlock(dbpool *p) {
    pthread_mutex_unlock(&p->lock);
}

static uint32_t word_of(uint64_t id, unsigned state) {
    return (uint32_t)(id << 2) | state;
}

dbpool *dbpool_create(unsigned size) {
    if (size > DBPOOL_MAX)
        return NULL;
    dbpool *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* the mapping is zeroed: every entry E_FREE, every connection free */
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&p->lock, &a);
    pthread_mutexattr_destroy(&a);
    p->size = size;
    return p;
}

void dbpool_destroy(dbpool *p) {
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    munmap(p, sizeof *p);
}

unsigned dbpool_size(const dbpool *p) {
    return p->size;
}

uint64_t dbpool_next_draw(dbpool *p) {
    return atomic_fetch_add(&p->draws, 1);
}

/* Takes a free connection for pid (the lock held, in_use < size). */
static uint32_t take_holder(dbpool *p, int32_t pid) {
    unsigned h = p->next_holder;
    while (p->holder_pid[h] != 0)
        h = (h + 1) % p->size;
    p->holder_pid[h] = pid ? pid : -1;
    p->next_holder = (h + 1) % p->size;
    return h;
}

int dbpool_acquire(dbpool *p, int32_t pid, int32_t fd, uint64_t now_us, dbpool_ticket *t) {
    *t = (dbpool_ticket){.since_us = now_us};
    if (p->size == 0) {
        atomic_fetch_add(&p->in_use_free, 1);
        count_wait(p, 0, 0);
        t->state = DBPOOL_HELD;
        return DBPOOL_HELD;
    }
    lock(p);
    if (p->in_use < p->size && p->queued == 0) { /* free, and nobody before us */
        t->holder = take_holder(p, pid);
        p->in_use++;
        atomic_store(&p->in_use_now, p->in_use);
        unlock(p);
        count_wait(p, 0, 0);
        t->state = DBPOOL_HELD;
        return DBPOOL_HELD;
    }
    dbpool_entry *e = &p->entries[p->tail % DBPOOL_QUEUE];
    if (p->tail - p->head >= DBPOOL_QUEUE || atomic_load(&e->word) % 4 != E_FREE) {
        unlock(p);
        atomic_fetch_add(&p->refused, 1);
        return DBPOOL_FULL;
    }
    t->id = p->tail++;
    e->id = t->id;
    e->pid = pid;
    e->fd = fd;
    atomic_store(&e->word, word_of(t->id, E_QUEUED));
    p->queued++;
    atomic_store(&p->queued_now, p->queued);
    unlock(p);
    t->state = DBPOOL_QUEUED;
    return DBPOOL_QUEUED;
}

_Atomic uint32_t *dbpool_word(dbpool *p, const dbpool_ticket *t, uint32_t *expect) {
    *expect = word_of(t->id, E_QUEUED);
    return &p->entries[t->id % DBPOOL_QUEUE].word;
}

int dbpool_check(dbpool *p, dbpool_ticket *t, uint64_t now_us) {
    if (t->state != DBPOOL_QUEUED)
        return t->state == DBPOOL_HELD;
    dbpool_entry *e = &p->entries[t->id % DBPOOL_QUEUE];
    if (atomic_load(&e->word) != word_of(t->id, E_GRANTED))
        return 0;
    lock(p);
    t->holder = e->holder;
    atomic_store(&e->word, word_of(t->id, E_FREE)); /* collected: the entry may be reused */
    unlock(p);
    t->state = DBPOOL_HELD;
    count_wait(p, now_us > t->since_us ? now_us - t->since_us : 0, 1);
    return 1;
}

/* Hands connection h to the oldest waiting ticket, or frees it (the lock
 * held). Returns 1 with *w when a waiter got it. */
static int hand_over(dbpool *p, uint32_t h, dbpool_wake *w) {
    while (p->head < p->tail) {
        dbpool_entry *e = &p->entries[p->head % DBPOOL_QUEUE];
        p->head++;
        unsigned state = atomic_load(&e->word) % 4;
        if (state == E_CANCELLED) {
            atomic_store(&e->word, word_of(e->id, E_FREE));
            continue;
        }
        if (state != E_QUEUED)
            continue; /* cannot happen: every entry in the queue is queued or cancelled */
        e->holder = h;
        p->holder_pid[h] = e->pid ? e->pid : -1;
        p->queued--;
        atomic_store(&p->queued_now, p->queued);
        atomic_store(&e->word, word_of(e->id, E_GRANTED));
        *w = (dbpool_wake){.word = &e->word, .pid = e->pid, .fd = e->fd};
        return 1;
    }
    p->holder_pid[h] = 0;
    p->in_use--;
    atomic_store(&p->in_use_now, p->in_use);
    return 0;
}

int dbpool_release(dbpool *p, dbpool_ticket *t, dbpool_wake *w) {
    if (t->state != DBPOOL_HELD)
        return 0;
    t->state = DBPOOL_NONE;
    if (p->size == 0) {
        atomic_fetch_sub(&p->in_use_free, 1);
        return 0;
    }
    lock(p);
    int r = hand_over(p, t->holder, w);
    unlock(p);
    return r;
}

int dbpool_cancel(dbpool *p, dbpool_ticket *t, dbpool_wake *w) {
    if (t->state == DBPOOL_QUEUED) {
        dbpool_entry *e = &p->entries[t->id % DBPOOL_QUEUE];
        lock(p);
        if (atomic_load(&e->word) == word_of(t->id, E_QUEUED)) {
            atomic_store(&e->word, word_of(t->id, E_CANCELLED)); /* hand_over skips it */
            p->queued--;
            atomic_store(&p->queued_now, p->queued);
            unlock(p);
            t->state = DBPOOL_NONE;
            return 0;
        }
        unlock(p);
        dbpool_check(p, t, t->since_us); /* granted meanwhile: take it, then give it back */
    }
    return dbpool_release(p, t, w);
}

unsigned dbpool_release_owner(dbpool *p, int32_t pid, void (*wake)(const dbpool_wake *w, void *arg),
                              void *arg) {
    if (p->size == 0 || pid == 0)
        return 0;
    unsigned held = 0;
    dbpool_wake w;
    lock(p);
    /* its waiting tickets leave the queue; grants it never collected come back */
    for (unsigned i = 0; i < DBPOOL_QUEUE; i++) {
        dbpool_entry *e = &p->entries[i];
        if (e->pid != pid)
            continue;
        unsigned state = atomic_load(&e->word) % 4;
        if (state == E_QUEUED) {
            atomic_store(&e->word, word_of(e->id, E_CANCELLED));
            p->queued--;
        } else if (state == E_GRANTED) {
            atomic_store(&e->word, word_of(e->id, E_FREE));
        }
    }
    atomic_store(&p->queued_now, p->queued);
    for (uint32_t h = 0; h < p->size; h++) {
        if (p->holder_pid[h] != pid)
            continue;
        held++;
        if (hand_over(p, h, &w))
            wake(&w, arg);
    }
    unlock(p);
    return held;
}

void dbpool_view_get(dbpool *p, dbpool_view *v) {
    *v = (dbpool_view){.size = p->size,
                       .in_use =
                           p->size ? atomic_load(&p->in_use_now) : atomic_load(&p->in_use_free),
                       .queued = atomic_load(&p->queued_now),
                       .acquired = atomic_load(&p->acquired),
                       .waited = atomic_load(&p->waited),
                       .refused = atomic_load(&p->refused),
                       .wait_us = atomic_load(&p->wait_us),
                       .max_us = atomic_load(&p->max_us)};
    uint64_t counts[BUCKETS], total = 0;
    for (unsigned b = 0; b < BUCKETS; b++)
        total += counts[b] = atomic_load(&p->hist[b]);
    uint64_t *pct[3] = {&v->p50_us, &v->p90_us, &v->p99_us};
    const double q[3] = {0.50, 0.90, 0.99};
    for (int i = 0; i < 3 && total; i++) {
        uint64_t rank = (uint64_t)(q[i] * (double)total + 0.999999), seen = 0;
        for (unsigned b = 0; b < BUCKETS; b++) {
            seen += counts[b];
            if (seen >= rank) {
                uint64_t mid = bucket_mid(b);
                *pct[i] = mid > v->max_us ? v->max_us : mid;
                break;
            }
        }
    }
}

void dbpool_render_json(dbpool *p, buf *out) {
    dbpool_view v;
    dbpool_view_get(p, &v);
    buf_printf(out,
               "\"db_pool\":{\"size\":%u,\"in_use\":%llu,\"queued\":%llu,\"acquired\":%llu,"
               "\"waited\":%llu,\"refused\":%llu,\"wait_us\":{\"total\":%llu,\"p50\":%llu,"
               "\"p90\":%llu,\"p99\":%llu,\"max\":%llu}}",
               v.size, (unsigned long long)v.in_use, (unsigned long long)v.queued,
               (unsigned long long)v.acquired, (unsigned long long)v.waited,
               (unsigned long long)v.refused, (unsigned long long)v.wait_us,
               (unsigned long long)v.p50_us, (unsigned long long)v.p90_us,
               (unsigned long long)v.p99_us, (unsigned long long)v.max_us);
}

void dbpool_render_prometheus(dbpool *p, buf *out) {
    dbpool_view v;
    dbpool_view_get(p, &v);
    buf_printf(out,
               "# HELP httpmodes_db_pool_size Simulated database connections (--db-pool; 0 = "
               "unlimited).\n# TYPE httpmodes_db_pool_size gauge\nhttpmodes_db_pool_size %u\n"
               "# HELP httpmodes_db_pool_in_use Connections running a query now.\n"
               "# TYPE httpmodes_db_pool_in_use gauge\nhttpmodes_db_pool_in_use %llu\n"
               "# HELP httpmodes_db_pool_queued Queries waiting for a connection now.\n"
               "# TYPE httpmodes_db_pool_queued gauge\nhttpmodes_db_pool_queued %llu\n"
               "# HELP httpmodes_db_pool_acquired_total Queries that got a connection.\n"
               "# TYPE httpmodes_db_pool_acquired_total counter\n"
               "httpmodes_db_pool_acquired_total %llu\n"
               "# HELP httpmodes_db_pool_waited_total Queries that had to queue for one.\n"
               "# TYPE httpmodes_db_pool_waited_total counter\n"
               "httpmodes_db_pool_waited_total %llu\n"
               "# HELP httpmodes_db_pool_refused_total Queries refused (503): the queue was full.\n"
               "# TYPE httpmodes_db_pool_refused_total counter\n"
               "httpmodes_db_pool_refused_total %llu\n"
               "# HELP httpmodes_db_pool_wait_seconds Time queries waited for a connection.\n"
               "# TYPE httpmodes_db_pool_wait_seconds summary\n"
               "httpmodes_db_pool_wait_seconds{quantile=\"0.5\"} %.6f\n"
               "httpmodes_db_pool_wait_seconds{quantile=\"0.9\"} %.6f\n"
               "httpmodes_db_pool_wait_seconds{quantile=\"0.99\"} %.6f\n"
               "httpmodes_db_pool_wait_seconds_sum %.6f\n"
               "httpmodes_db_pool_wait_seconds_count %llu\n",
               v.size, (unsigned long long)v.in_use, (unsigned long long)v.queued,
               (unsigned long long)v.acquired, (unsigned long long)v.waited,
               (unsigned long long)v.refused, (double)v.p50_us / 1e6, (double)v.p90_us / 1e6,
               (double)v.p99_us / 1e6, (double)v.wait_us / 1e6, (unsigned long long)v.acquired);
}
