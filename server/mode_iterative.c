/* iterative: one connection at a time, in one thread — the earliest servers.
 * Everyone else waits in the listen backlog. */
#include "server.h"

int run_iterative(server *s) {
    char peer[48];
    int fd, tls;
    s->crowd_check = 1; /* everyone else waits in the listen queue */
    net_defer_accept(s);
    while ((fd = accept_blocking(s, peer, sizeof peer, &tls)) >= 0)
        blocking_serve(s, fd, peer, tls, 0);
    return 0;
}
