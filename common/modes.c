/* modes: the table of concurrency models. */
#include "modes.h"

#include <stdio.h>
#include <string.h>

static const mode_info table[MODE_COUNT] = {
    [MODE_ITERATIVE] = {"iterative", "one connection at a time, in one thread",
                        "the earliest servers; a queue at a single counter",
                        "everyone queues: about 1/delay requests per second",
                        "one core; everyone queues",
                        "one bar after another in a single row: while one request waits, the "
                        "next waits in the kernel's listen queue",
                        0, 0, WORKERS_NONE, 1, NULL},
    [MODE_THREADS] = {"threads", "a new thread for each connection",
                      "thread-per-connection servers (early Java servlets, CGI-style daemons)",
                      "waits overlap: throughput grows with connections", "uses every core",
                      "one row per connection, bars overlapping in time: every client gets its "
                      "own thread, so waits run side by side",
                      1, 0, WORKERS_NONE, 1, NULL},
    [MODE_PREFORK] = {"prefork", "a master and a fixed pool of worker processes",
                      "Apache httpd's prefork MPM",
                      "at most workers waits at once: workers/delay per second",
                      "uses every core (up to workers)",
                      "at most N rows busy at once: when every worker waits, the rest queue in "
                      "the kernel",
                      0, 0, WORKERS_FIXED, 8, "worker processes"},
    [MODE_EVENT] = {"event",
                    "one thread, a libev event loop, non-blocking sockets; database "
                    "waits are timers",
                    "an nginx worker, Node.js, redis",
                    "thousands of waits overlap in one thread: connections/delay per second",
                    "one core, and a request burning CPU stalls every other connection",
                    "many overlapping bars in ONE row: one thread interleaves every request; a "
                    "CPU bar stops all the others",
                    1, 1, WORKERS_NONE, 1, NULL},
    [MODE_POOL] = {"pool",
                   "a fixed pool of threads, each accepting and serving one connection at "
                   "a time",
                   "Apache httpd's worker MPM, the CS:APP prethreaded server",
                   "at most workers waits at once: workers/delay per second",
                   "uses every core (up to workers)",
                   "at most N rows busy at once, like prefork but with threads: no process per "
                   "worker",
                   0, 0, WORKERS_FIXED, 8, "threads in the pool"},
    [MODE_REACTORS] = {"reactors",
                       "one libev event loop per CPU, each in its own thread with its "
                       "own SO_REUSEPORT listener",
                       "nginx with worker_processes auto, lwan",
                       "thousands of waits overlap in every loop",
                       "one core per loop: CPU work runs in parallel across loops",
                       "one row per loop, each with many overlapping bars: asynchronous and "
                       "parallel at once",
                       1, 1, WORKERS_CPUS, 0, "event loops (threads)"},
};

const mode_info *mode_get(server_mode m) {
    return (unsigned)m < MODE_COUNT ? &table[m] : NULL;
}

int mode_find(const char *name, server_mode *m) {
    for (unsigned i = 0; i < MODE_COUNT; i++)
        if (strcmp(name, table[i].name) == 0) {
            *m = (server_mode)i;
            return 0;
        }
    return -1;
}

const char *mode_list(void) {
    static char list[160];
    if (!list[0]) {
        size_t n = 0;
        for (unsigned i = 0; i < MODE_COUNT; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
                                  i == 0                ? ""
                                  : i + 1 == MODE_COUNT ? " or "
                                                        : ", ",
                                  table[i].name);
    }
    return list;
}

void mode_table_text(char *out, size_t n) {
    static const char *kinds[] = {"none", "fixed", "cpus"};
    size_t used = 0;
    out[0] = 0;
    for (unsigned i = 0; i < MODE_COUNT && used < n; i++) {
        const mode_info *m = &table[i];
        used += (size_t)snprintf(out + used, n - used, "%s\t%s\t%s\t%u\t%s\t%s\n", m->name,
                                 m->keep_alive ? "on" : "off", kinds[m->workers],
                                 m->default_workers, m->event_loop ? "yes" : "no", m->summary);
    }
}
