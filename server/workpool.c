/* workpool: a fixed set of threads that run jobs from one FIFO queue — the
 * CPU pool of the offload model (libuv's uv_queue_work). A job is a function
 * and two arguments; it says itself when it is done (the offload loop's job
 * hands its connection back with ev_async). */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct job {
    void (*fn)(void *a, void *b); /* what to run */
    void *a, *b;                  /* its arguments */
    struct job *next;             /* the next in the queue */
} job;

struct work_pool {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;  /* a job was queued, or stopping */
    job *head, *tail;     /* the queue, oldest first */
    int stopping;         /* 1: finish the queue, then end */
    unsigned n;           /* threads started */
    pthread_t threads[];  /* the threads */
};

static void *pool_thread(void *arg) {
    work_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        job *j = p->head;
        if (!j)
            break; /* stopping, and nothing left */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        j->fn(j->a, j->b);
        free(j);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    conn_thread_done();
    return NULL;
}

work_pool *work_pool_start(unsigned n) {
    work_pool *p = xcalloc(1, sizeof *p + n * sizeof(pthread_t));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    for (; p->n < n; p->n++) {
        int rc = pthread_create(&p->threads[p->n], NULL, pool_thread, p);
        if (rc != 0) {
            fprintf(stderr, "httpmodes: cannot start CPU pool thread %u of %u: %s\n", p->n + 1, n,
                    strerror(rc));
            break;
        }
    }
    if (p->n == 0) {
        work_pool_stop(p);
        return NULL;
    }
    return p;
}

int work_pool_submit(work_pool *p, void (*fn)(void *a, void *b), void *a, void *b) {
    job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    *j = (job){fn, a, b, NULL};
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void work_pool_stop(work_pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}
