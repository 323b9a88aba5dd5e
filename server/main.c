/* main: command line -> config -> the chosen model's run_<mode>(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include "util.h"

static const char *env_lookup(const char *name) {
    return getenv(name);
}

int main(int argc, char **argv) {
    static server s; /* lives for the whole run; signal handlers point at it */
    char err[512];
    switch (config_load(&s.cfg, argc, argv, env_lookup, err, sizeof err)) {
    case CONFIG_HELP:
        fputs(config_usage(), stdout);
        return 0;
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
    s.env.cfg = cfg;
    s.env.stopping = &s.stopping;
    s.env.now_us = util_now_us;
    s.env.metrics = metrics_create();
    if (!s.env.metrics) {
        fprintf(stderr, "httpmodes: cannot map shared memory for the counters\n");
        return 1;
    }
    if (cfg->access_log[0] && !(s.env.log = access_log_open(cfg->access_log, err, sizeof err))) {
        fprintf(stderr, "httpmodes: %s\n", err);
        return 2;
    }
    unsigned port, tls_port = 0;
    s.tls_listen_fd = -1;
    s.listen_fd = net_listen(cfg->bind, cfg->port, &port, err, sizeof err);
    if (s.listen_fd < 0) {
        fprintf(stderr, "httpmodes: %s\n", err);
        return 1;
    }
    s.cfg.port = port; /* the real one when --port 0 */
    if (cfg->tls_port != CONFIG_TLS_OFF) {
        /* made before any thread or worker exists: they all share it */
        if (!(s.tls = tls_ctx_create(cfg, s.env.metrics, err, sizeof err))) {
            fprintf(stderr, "httpmodes: %s\n", err);
            return 2;
        }
        s.tls_listen_fd = net_listen(cfg->bind, cfg->tls_port, &tls_port, err, sizeof err);
        if (s.tls_listen_fd < 0) {
            fprintf(stderr, "httpmodes: --tls-port: %s\n", err);
            return 1;
        }
        fprintf(stderr, "httpmodes: TLS certificate %s; SHA-256 fingerprint %s%s%s\n",
                tls_ctx_origin(s.tls), tls_ctx_fingerprint(s.tls),
                cfg->tls_write_cert[0] ? "; written to " : "", cfg->tls_write_cert);
    }
    if (signals_install(&s) != 0) {
        fprintf(stderr, "httpmodes: cannot set up signal handling\n");
        return 1;
    }
    int v6 = strchr(cfg->bind, ':') != NULL;
    char workers[32] = "";
    if (cfg->mode == MODE_PREFORK)
        snprintf(workers, sizeof workers, "workers %u, ", cfg->workers);
    char https[96] = "";
    if (s.tls)
        snprintf(https, sizeof https, " and https://%s%s%s:%u/", v6 ? "[" : "", cfg->bind,
                 v6 ? "]" : "", tls_port);
    /* one line a person and a test can read: tests take the ports from it */
    fprintf(stderr,
            "httpmodes %s: mode %s, listening on http://%s%s%s:%u/%s (%skeep-alive %s, db delay "
            "%u ms, cpu iterations %llu, pid %d)\n",
            HTTPMODES_VERSION, config_mode_name(cfg->mode), v6 ? "[" : "", cfg->bind, v6 ? "]" : "",
            port, https, workers, cfg->keep_alive ? "on" : "off", cfg->db_delay_ms,
            (unsigned long long)cfg->cpu_iterations, (int)getpid());
    int rc = 0;
    switch (cfg->mode) {
    case MODE_ITERATIVE:
        rc = run_iterative(&s);
        break;
    case MODE_THREADS:
        rc = run_threads(&s);
        break;
    case MODE_PREFORK:
        rc = run_prefork(&s);
        break;
    case MODE_EVENT:
        rc = run_event(&s);
        break;
    }
    fprintf(stderr, "httpmodes: stopped\n");
    close(s.listen_fd);
    if (s.tls_listen_fd >= 0)
        close(s.tls_listen_fd);
    tls_ctx_free(s.tls);
    access_log_close(s.env.log);
    metrics_destroy(s.env.metrics);
    return rc;
}
