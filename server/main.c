/* main: command line -> config -> the chosen model's run_<mode>(). */
#include <errno.h>
#include <sched.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgdb.h"
#include "server.h"
#include "util.h"

static const char *env_lookup(const char *name) {
    return getenv(name);
}

/* Pins the process (this thread, and every thread and process started from
 * it after) to the first n CPUs it may use now. Returns 0, or -1 with err. */
static int pin_cpus(unsigned n, char *err, size_t errlen) {
    cpu_set_t now, want;
    CPU_ZERO(&want);
    if (sched_getaffinity(0, sizeof now, &now) != 0) {
        snprintf(err, errlen, "cannot read the CPU affinity: %s", strerror(errno));
        return -1;
    }
    unsigned have = (unsigned)CPU_COUNT(&now), taken = 0;
    if (n > have) {
        snprintf(err, errlen, "%u CPUs asked for, but this process may use %u", n, have);
        return -1;
    }
    for (int cpu = 0; cpu < CPU_SETSIZE && taken < n; cpu++)
        if (CPU_ISSET(cpu, &now)) {
            CPU_SET(cpu, &want);
            taken++;
        }
    if (sched_setaffinity(0, sizeof want, &want) != 0) {
        snprintf(err, errlen, "cannot pin to %u CPUs: %s", n, strerror(errno));
        return -1;
    }
    return 0;
}

/* The drivers of the models in modes.h: the one place a mode meets its code. */
static const struct {
    int (*run)(server *s); /* serves until stopped; returns the exit code */
    int reuseport;         /* its loops each open a listener on the same port */
    int forks;             /* its master forks workers: the status listener is a process */
} drivers[MODE_COUNT] = {
    [MODE_ITERATIVE] = {run_iterative, 0}, [MODE_THREADS] = {run_threads, 0},
    [MODE_PREFORK] = {run_prefork, 0, 1},  [MODE_EVENT] = {run_event, 0},
    [MODE_POOL] = {run_pool, 0},           [MODE_REACTORS] = {run_reactors, 1},
    [MODE_OFFLOAD] = {run_offload, 0},
};

int main(int argc, char **argv) {
    static server s; /* lives for the whole run; signal handlers point at it */
    char err[512];
    switch (config_load(&s.cfg, argc, argv, env_lookup, err, sizeof err)) {
    case CONFIG_HELP:
        fputs(config_usage(), stdout);
        return 0;
    case CONFIG_LIST_MODES: {
        char table[2048];
        mode_table_text(table, sizeof table);
        fputs(table, stdout);
        return 0;
    }
    case CONFIG_VERSION:
        printf("httpmodes %s\n", HTTPMODES_VERSION);
        return 0;
    case CONFIG_ERROR:
        fprintf(stderr, "httpmodes: %s\n", err);
        return 2;
    case CONFIG_OK:
        break;
    }
    const config *cfg = &s.cfg;
    if (cfg->probe[0])
        return probe_run(cfg->probe);
    /* Request bodies and responses of 128 KiB or more get pages of their own
     * (mmap), given back to the system when freed. glibc would otherwise raise
     * this threshold after the first such free, up to 32 MiB, and keep a
     * burst's bodies in its heaps for good (RSS stayed at 102 MB after 2,000
     * 1 MiB uploads). Setting it turns that adjustment off. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024);
    char notes[256];
    if (config_warnings(cfg, notes, sizeof notes) > 0) /* say it, and go on */
        fputs(notes, stderr);
    s.status_fd = -1;
    s.env.cfg = cfg;
    s.env.stopping = &s.stopping;
    s.env.now_us = util_now_us;
    s.env.metrics = metrics_create();
    s.env.timeline = timeline_create(cfg->timeline_size);
    s.env.dbpool = dbpool_create(cfg->db_pool);
    if (!s.env.metrics || !s.env.timeline || !s.env.dbpool) {
        fprintf(stderr, "httpmodes: cannot map shared memory for the counters\n");
        return 1;
    }
    if (pgdb_configure(cfg->db, cfg->db_timeout_ms, s.env.metrics, err, sizeof err) != 0) {
        fprintf(stderr, "httpmodes: %s\n", err);
        return 2;
    }
    s.env.routes = &route_main;
    s.env.worker = getpid(); /* the drivers set their own lane and worker */
    if (cfg->access_log[0] && !(s.env.log = access_log_open(cfg->access_log, err, sizeof err))) {
        fprintf(stderr, "httpmodes: %s\n", err);
        return 2;
    }
    unsigned port, tls_port = 0;
    net_share share = drivers[cfg->mode].reuseport ? NET_SHARE_FIRST : NET_ALONE;
    s.tls_listen_fd = -1;
    s.listen_fd = net_listen(cfg->bind, cfg->port, share, &port, err, sizeof err);
    if (s.listen_fd < 0) {
        fprintf(stderr, "httpmodes: %s\n", err);
        return 1;
    }
    int any_port = cfg->port == 0; /* then the live view takes any free port too */
    s.cfg.port = port;             /* the real one when --port 0 */
    s.env.listen_fd = s.listen_fd;
    net_defer_accept(cfg, s.listen_fd);
    if (cfg->tls_port != CONFIG_TLS_OFF) {
        /* made before any thread or worker exists: they all share it */
        if (!(s.tls = tls_ctx_create(cfg, s.env.metrics, err, sizeof err))) {
            fprintf(stderr, "httpmodes: %s\n", err);
            return 2;
        }
        s.tls_listen_fd = net_listen(cfg->bind, cfg->tls_port, share, &tls_port, err, sizeof err);
        s.tls_port = tls_port;
        net_defer_accept(cfg, s.tls_listen_fd);
        if (s.tls_listen_fd < 0) {
            fprintf(stderr, "httpmodes: --tls-port: %s\n", err);
            return 1;
        }
        fprintf(stderr, "httpmodes: TLS certificate %s; SHA-256 fingerprint %s%s%s\n",
                tls_ctx_origin(s.tls), tls_ctx_fingerprint(s.tls),
                cfg->tls_write_cert[0] ? "; written to " : "", cfg->tls_write_cert);
    }
    if (cfg->cpus && pin_cpus(cfg->cpus, err, sizeof err) != 0) {
        fprintf(stderr, "httpmodes: --cpus: %s\n", err);
        return 2;
    }
    if (signals_install(&s) != 0) {
        fprintf(stderr, "httpmodes: cannot set up signal handling\n");
        return 1;
    }
    unsigned status_port = 0;
    if (cfg->status_port != CONFIG_STATUS_OFF) {
        int by_default = cfg->status_port == CONFIG_STATUS_DEFAULT;
        unsigned want = !by_default                       ? cfg->status_port
                        : any_port || port + 1000 > 65535 ? 0
                                                          : port + 1000;
        if (status_start(&s, want, &status_port, drivers[cfg->mode].forks, err, sizeof err) != 0) {
            /* asked for: an error; by default: the server runs without it */
            fprintf(stderr, "httpmodes: %s%s: %s\n", by_default ? "note: no live view: " : "",
                    "--status-port", err);
            if (!by_default)
                return 1;
        }
    }
    s.cfg.status_port = s.status_fd >= 0 ? status_port : CONFIG_STATUS_OFF;
    int v6 = strchr(cfg->bind, ':') != NULL;
    char workers[48] = "";
    const mode_info *mi = mode_get(cfg->mode);
    if (mi->workers != WORKERS_NONE)
        snprintf(workers, sizeof workers, "workers %u, ", cfg->workers);
    char https[96] = "", live[96] = "";
    if (s.tls)
        snprintf(https, sizeof https, " and https://%s%s%s:%u/", v6 ? "[" : "", cfg->bind,
                 v6 ? "]" : "", tls_port);
    if (s.status_fd >= 0)
        snprintf(live, sizeof live, ", live view http://%s%s%s:%u/live", v6 ? "[" : "", cfg->bind,
                 v6 ? "]" : "", status_port);
    char db[64] = ""; /* the database's shape, when not the default */
    if (cfg->db_pool)
        snprintf(db, sizeof db, " %s, db pool %u", db_dist_name(cfg->db_latency), cfg->db_pool);
    else if (cfg->db_latency)
        snprintf(db, sizeof db, " %s", db_dist_name(cfg->db_latency));
    /* one line a person and a test can read: tests take the ports from it */
    fprintf(stderr,
            "httpmodes %s: mode %s, listening on http://%s%s%s:%u/%s (%skeep-alive %s, db delay "
            "%u ms%s, cpu iterations %llu, pid %d%s)\n",
            HTTPMODES_VERSION, mi->name, v6 ? "[" : "", cfg->bind, v6 ? "]" : "", port, https,
            workers, cfg->keep_alive ? "on" : "off", cfg->db_delay_ms, db,
            (unsigned long long)cfg->cpu_iterations, (int)getpid(), live);
    int rc = drivers[cfg->mode].run(&s);
    conn_thread_done(); /* what this thread's connections left (iterative, event, offload) */
    status_join(&s);
    fprintf(stderr, "httpmodes: stopped\n");
    close(s.listen_fd);
    if (s.tls_listen_fd >= 0)
        close(s.tls_listen_fd);
    tls_ctx_free(s.tls);
    access_log_close(s.env.log);
    pgdb_shutdown(); /* counts its connections out: before the counters go */
    pgdb_configure("", 0, NULL, err, sizeof err);
    metrics_destroy(s.env.metrics);
    timeline_destroy(s.env.timeline);
    dbpool_destroy(s.env.dbpool);
    return rc;
}
