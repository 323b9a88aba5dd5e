/* pool: a fixed pool of --workers threads, each accepting and serving one
 * connection at a time (Apache's worker MPM without its listener thread,
 * the CS:APP prethreaded server). Like prefork, at most N requests are served
 * at once and the rest wait in the kernel's listen queue; unlike prefork the
 * workers are threads of one process, so nothing is copied per worker and a
 * crash takes them all. */
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct pool_worker {
    server *s;     /* the server */
    unsigned lane; /* its lane: its index in the pool */
    pthread_t t;   /* the thread */
} pool_worker;

static void *pool_thread(void *arg) {
    pool_worker *w = arg;
    blocking_worker(w->s, w->lane);
    conn_thread_done();
    return NULL;
}

int run_pool(server *s) {
    unsigned n = s->cfg.workers, started = 0;
    s->crowd_check = 1; /* as prefork: a worker sees the queue its slow client makes wait */
    s->at_stop = STOP_UNLISTEN_NOW; /* every worker may be busy when the stop comes */
    pool_worker *pool = xcalloc(n, sizeof *pool);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024); /* as in threads mode */
    for (unsigned i = 0; i < n; i++) {
        pool[i] = (pool_worker){.s = s, .lane = i};
        int rc = pthread_create(&pool[i].t, &attr, pool_thread, &pool[i]);
        if (rc != 0) {
            fprintf(stderr, "httpmodes: cannot start pool thread %u of %u: %s\n", i + 1, n,
                    strerror(rc));
            break;
        }
        started++;
    }
    pthread_attr_destroy(&attr);
    if (started == 0) {
        free(pool);
        return 1;
    }
    for (unsigned i = 0; i < started; i++) /* each ends after the server stops */
        pthread_join(pool[i].t, NULL);
    free(pool);
    return 0;
}
