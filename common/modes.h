/* modes: the one table of concurrency models. Everything that lists the
 * models — option parsing, --help, the front page, /stats, the live view —
 * reads it; only the run functions are bound in server/main.c, since they
 * live with the drivers. Add a model here and there, nowhere else. */
#ifndef HTTPMODES_MODES_H
#define HTTPMODES_MODES_H

#include <stddef.h>

typedef enum {
    MODE_ITERATIVE,
    MODE_THREADS,
    MODE_PREFORK,
    MODE_EVENT,
    MODE_POOL,
    MODE_REACTORS,
    MODE_OFFLOAD,
    MODE_COUNT
} server_mode;

/* What --workers means in a mode. */
typedef enum {
    WORKERS_NONE,  /* not used: one lane (iterative, event) or one per connection (threads) */
    WORKERS_FIXED, /* a pool of this many, default mode_info.default_workers */
    WORKERS_CPUS   /* one per CPU the process may use by default */
} workers_kind;

typedef struct mode_info {
    const char *name;            /* --mode NAME */
    const char *summary;         /* one line: how it works (--help, /, the lab) */
    const char *counterpart;     /* the real server that works this way */
    const char *io_bound;        /* what it does with I/O-bound pages (/db) */
    const char *cpu_bound;       /* what it does with CPU-bound pages (/cpu) */
    const char *look_for;        /* one sentence: what to look for in /live */
    int keep_alive;              /* default of --keep-alive */
    int event_loop;              /* 1: its workers are event loops (waits are timers) */
    int cpu_off_loop;            /* 1: page CPU work runs on a pool, not in the loop */
    workers_kind workers;        /* what --workers means */
    unsigned default_workers;    /* WORKERS_FIXED: the default */
    const char *workers_meaning; /* "worker processes", "threads in the pool", ... */
} mode_info;

/* Returns the entry of mode m (m < MODE_COUNT), or NULL. */
const mode_info *mode_get(server_mode m);

/* Looks a mode up by name. Returns 0 and sets *m, or -1 when there is none. */
int mode_find(const char *name, server_mode *m);

/* Returns "iterative, threads, ... or reactors" (static storage): for messages. */
const char *mode_list(void);

/* Appends the table, one tab-separated line per mode — name, keep-alive
 * default (on/off), what --workers means (none/fixed/cpus), its default,
 * event loop (yes/no), CPU work off the loop (yes/no), summary — for
 * --list-modes (the tests and the lab
 * read it rather than keep lists of their own). */
void mode_table_text(char *out, size_t n);

#endif
