/* iterative: one connection at a time, in one thread — the earliest servers.
 * Everyone else waits in the listen backlog. */
#include "server.h"

int run_iterative(server *s) {
    s->crowd_check = 1;             /* everyone else waits in the listen queue */
    s->at_stop = STOP_UNLISTEN_NOW; /* the one worker may be busy when the stop comes */
    blocking_worker(s, 0);
    return 0;
}
