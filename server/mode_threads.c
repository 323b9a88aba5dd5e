/* threads: a new thread for each connection (thread-per-request). When no
 * thread can be created the connection gets a 503 and the server goes on. */
#include "server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct job {
    server *s;     /* the server */
    int fd;        /* the accepted connection, owned by the thread */
    int tls;       /* it came to the HTTPS port */
    char peer[48]; /* client address */
} job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_done = PTHREAD_COND_INITIALIZER;
static unsigned running;                         /* connection threads alive, under lock */
static uint64_t lanes_used[TIMELINE_LANES / 64]; /* lanes taken by live threads, under lock */

/* Returns the lowest free lane (TIMELINE_LANES when all are taken). */
static unsigned lane_take(void) {
    pthread_mutex_lock(&lock);
    unsigned lane = TIMELINE_LANES;
    for (unsigned w = 0; w < TIMELINE_LANES / 64 && lane == TIMELINE_LANES; w++)
        if (~lanes_used[w]) {
            unsigned bit = (unsigned)__builtin_ctzll(~lanes_used[w]);
            lanes_used[w] |= 1ull << bit;
            lane = w * 64 + bit;
        }
    pthread_mutex_unlock(&lock);
    return lane;
}

static void lane_give_back(unsigned lane) {
    if (lane >= TIMELINE_LANES)
        return;
    pthread_mutex_lock(&lock);
    lanes_used[lane / 64] &= ~(1ull << (lane % 64));
    pthread_mutex_unlock(&lock);
}

static void *connection_thread(void *arg) {
    job *j = arg;
    /* a lane per live thread: a new connection reuses the row of one that
     * ended, so the live view shows as many rows as connections at once */
    server_env env = worker_env(j->s, lane_take());
    blocking_serve(j->s, &env, j->fd, j->peer, j->tls, NULL);
    lane_give_back(env.lane);
    net_release(j->s);
    free(j);
    conn_thread_done();
    pthread_mutex_lock(&lock);
    if (--running == 0)
        pthread_cond_signal(&all_done);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int run_threads(server *s) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr,
                              256 * 1024); /* the loop needs ~20 KB; keep 10k threads cheap */
    char peer[48];
    int fd, tls, warned = 0;
    while ((fd = accept_blocking(s, peer, sizeof peer, &tls)) >= 0) {
        if (!net_admit(s)) { /* a thread each: the cap is what bounds the threads */
            blocking_serve(s, &s->env, fd, peer, tls, NET_FULL_WHY);
            continue;
        }
        job *j = malloc(sizeof *j);
        if (!j) {
            net_release(s);
            blocking_serve(s, &s->env, fd, peer, tls, "out of memory for this connection");
            continue;
        }
        j->s = s;
        j->fd = fd;
        j->tls = tls;
        memcpy(j->peer, peer, sizeof j->peer);
        pthread_t t;
        pthread_mutex_lock(&lock);
        running++;
        int rc = pthread_create(&t, &attr, connection_thread, j);
        if (rc != 0)
            running--;
        pthread_mutex_unlock(&lock);
        if (rc != 0) {
            if (!warned++)
                fprintf(stderr, "httpmodes: cannot create a thread (%s): answering 503\n",
                        strerror(rc));
            free(j);
            net_release(s);
            blocking_serve(s, &s->env, fd, peer, tls,
                           "no worker could be started for this connection");
        }
    }
    pthread_attr_destroy(&attr);
    /* finish the requests in flight */
    pthread_mutex_lock(&lock);
    while (running > 0)
        pthread_cond_wait(&all_done, &lock);
    pthread_mutex_unlock(&lock);
    return 0;
}
