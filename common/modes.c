/* modes: the table of concurrency models. */
#include "modes.h"

#include <stdio.h>
#include <string.h>

static const mode_info table[MODE_COUNT] = {
    [MODE_ITERATIVE] = {.name = "iterative",
                        .summary = "one connection at a time, in one thread",
                        .counterpart = "the earliest servers; a queue at a single counter",
                        .io_bound = "everyone queues: about 1/delay requests per second",
                        .cpu_bound = "one core; everyone queues",
                        .look_for = "one bar after another in a single row: while one request "
                                    "waits, the next waits in the kernel's listen queue",
                        .workers = WORKERS_NONE,
                        .default_workers = 1},
    [MODE_THREADS] = {.name = "threads",
                      .summary = "a new thread for each connection",
                      .counterpart = "thread-per-connection servers (early Java servlets)",
                      .io_bound = "waits overlap: throughput grows with connections",
                      .cpu_bound = "uses every core",
                      .look_for = "one row per connection, bars overlapping in time: every "
                                  "client gets its own thread, so waits run side by side",
                      .keep_alive = 1,
                      .workers = WORKERS_NONE,
                      .default_workers = 1},
    [MODE_PREFORK] = {.name = "prefork",
                      .summary = "a master and a fixed pool of worker processes",
                      .counterpart = "Apache httpd's prefork MPM",
                      .io_bound = "at most workers waits at once: workers/delay per second",
                      .cpu_bound = "uses every core (up to workers)",
                      .look_for = "at most N rows busy at once: when every worker waits, the "
                                  "rest queue in the kernel",
                      .workers = WORKERS_FIXED,
                      .default_workers = 8,
                      .workers_meaning = "worker processes"},
    [MODE_EVENT] = {.name = "event",
                    .summary = "one thread, a libev event loop, non-blocking sockets; database "
                               "waits are timers",
                    .counterpart = "an nginx worker, Node.js, redis",
                    .io_bound = "thousands of waits overlap in one thread: connections/delay "
                                "per second",
                    .cpu_bound = "one core, and a request burning CPU stalls every other "
                                 "connection",
                    .look_for = "many overlapping bars in ONE row: one thread interleaves every "
                                "request; a CPU bar stops all the others",
                    .keep_alive = 1,
                    .event_loop = 1,
                    .workers = WORKERS_NONE,
                    .default_workers = 1},
    [MODE_POOL] = {.name = "pool",
                   .summary = "a fixed pool of threads, each accepting and serving one "
                              "connection at a time",
                   .counterpart = "Apache httpd's worker MPM, the CS:APP prethreaded server",
                   .io_bound = "at most workers waits at once: workers/delay per second",
                   .cpu_bound = "uses every core (up to workers)",
                   .look_for = "at most N rows busy at once, like prefork but with threads: no "
                               "process per worker",
                   .workers = WORKERS_FIXED,
                   .default_workers = 8,
                   .workers_meaning = "threads in the pool"},
    [MODE_REACTORS] = {.name = "reactors",
                       .summary = "one libev event loop per CPU, each in its own thread with "
                                  "its own SO_REUSEPORT listener",
                       .counterpart = "nginx with worker_processes auto, lwan",
                       .io_bound = "thousands of waits overlap in every loop",
                       .cpu_bound = "one core per loop: CPU work runs in parallel across loops",
                       .look_for = "one row per loop, each with many overlapping bars: "
                                   "asynchronous and parallel at once",
                       .keep_alive = 1,
                       .event_loop = 1,
                       .workers = WORKERS_CPUS,
                       .workers_meaning = "event loops (threads)"},
    [MODE_OFFLOAD] = {.name = "offload",
                      .summary = "one libev event loop for all I/O, and a pool of threads for "
                                 "CPU work, handed back to the loop by ev_async",
                      .counterpart = "Node.js / libuv (uv_queue_work)",
                      .io_bound = "thousands of waits overlap in the loop: connections/delay "
                                  "per second",
                      .cpu_bound = "up to workers cores, and the loop keeps serving meanwhile",
                      .look_for = "one row with many overlapping bars whose CPU parts no longer "
                                  "stop the others: the pool burns while the loop serves",
                      .keep_alive = 1,
                      .event_loop = 1,
                      .cpu_off_loop = 1,
                      .workers = WORKERS_CPUS,
                      .workers_meaning = "CPU pool threads"},
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
        used += (size_t)snprintf(out + used, n - used, "%s\t%s\t%s\t%u\t%s\t%s\t%s\n", m->name,
                                 m->keep_alive ? "on" : "off", kinds[m->workers],
                                 m->default_workers, m->event_loop ? "yes" : "no",
                                 m->cpu_off_loop ? "yes" : "no", m->summary);
    }
}
