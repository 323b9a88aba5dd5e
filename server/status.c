/* status: the status listener — one thread of its own running one libev
 * loop (the same loop driver as the event model) that serves the live view's
 * pages, so it answers within milliseconds whatever the model being shown is
 * doing: an iterative server with a queue, prefork with every worker in a
 * database wait, event with a /cpu burning. It reads what every thread and
 * worker process writes to shared memory; its own connections count nowhere
 * (its counters are its own, and it records no timeline). */
#include "server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void *status_thread(void *arg) {
    server *s = arg;
    loop_serve(s, &s->status_env, s->status_fd, -1, NULL);
    return NULL;
}

int status_start(server *s, unsigned want_port, unsigned *port, char *err, size_t errlen) {
    s->status_fd = net_listen(s->cfg.bind, want_port, 0, port, err, errlen);
    if (s->status_fd < 0)
        return -1;
    s->status_env = (server_env){.cfg = &s->cfg,
                                 .metrics = metrics_create(), /* its own connections */
                                 .stopping = &s->stopping,
                                 .now_us = util_now_us,
                                 .routes = &route_status,
                                 .listen_fd = -1,
                                 .worker = 0,
                                 .shows = &s->env};
    int rc = s->status_env.metrics ? pthread_create(&s->status_thread, NULL, status_thread, s) : -1;
    if (rc != 0) {
        snprintf(err, errlen, "--status-port: cannot start its thread");
        metrics_destroy(s->status_env.metrics);
        close(s->status_fd);
        s->status_fd = -1;
        return -1;
    }
    return 0;
}

void status_join(server *s) {
    if (s->status_fd < 0)
        return;
    pthread_join(s->status_thread, NULL);
    close(s->status_fd);
    s->status_fd = -1;
    metrics_destroy(s->status_env.metrics);
}
