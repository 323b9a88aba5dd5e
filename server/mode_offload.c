/* offload: one libev loop for all I/O, and a pool of --workers threads
 * (default: one per CPU) for CPU work — Node.js/libuv's uv_queue_work. The
 * loop hands a page's CPU work (/cpu, the cake's dough) to the pool and goes
 * on serving; the pool hands the connection back through an ev_async. So
 * /hello stays fast while hashes burn, and at most N burn at once. */
#include "server.h"

int run_offload(server *s) {
    work_pool *pool = work_pool_start(s->cfg.workers);
    if (!pool)
        return 1;
    server_env env = worker_env(s, 0); /* one lane: the loop's thread (not the pool's) */
    int rc = loop_serve(s, &env, s->listen_fd, s->tls_listen_fd, pool, NULL);
    work_pool_stop(pool); /* no job is left: the loop ended with every connection closed */
    return rc;
}
