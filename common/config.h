/* config: the server's settings, read from the command line and from
 * HTTPMODES_* environment variables (the command line wins). */
#ifndef HTTPMODES_CONFIG_H
#define HTTPMODES_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "modes.h"

typedef struct config {
    server_mode mode;             /* concurrency model */
    char bind[64];                /* listen address (numeric IPv4/IPv6 or "localhost") */
    unsigned port;                /* listen port; 0 picks a free one */
    unsigned workers;             /* the mode's lanes: its pool size, or 1 (see modes.h) */
    int workers_set;              /* 1 when --workers was given */
    unsigned db_delay_ms;         /* default simulated query time */
    unsigned db_pool;             /* simulated database connections, server-wide; 0 = unlimited */
    unsigned db_latency;          /* a db_dist: how query times spread around their mean */
    unsigned db_p99_ms;           /* lognormal's p99 at --db-delay; 0 = DB_LOGNORMAL_RATIO x it */
    uint64_t db_seed;             /* seed of the query-time draws (runs repeat) */
    char access_log[256];         /* "" = off, "-" = stdout, else a file path */
    int keep_alive;               /* 1 = keep connections open between requests */
    int keep_alive_set;           /* 1 when --keep-alive was given (else the mode's default) */
    size_t max_header_size;       /* request line + headers limit (431/414) */
    size_t max_body_size;         /* request body limit (413) */
    size_t max_body_memory;       /* bytes of request bodies held at once, server-wide; 0 = any */
    unsigned max_connections;     /* connections one process serves at once (then 503) */
    unsigned header_timeout_s;    /* time to receive a whole request head (408) */
    unsigned keepalive_timeout_s; /* idle time allowed between requests */
    int slow_client_defence;      /* 1 = first-byte timeout, min rate, deferred accept, crowding */
    unsigned first_byte_s;        /* time to the first byte of a connection's first request */
    unsigned min_rate;            /* request head/body bytes/s after a grace; 0 = no minimum */
    unsigned min_send_rate;       /* response bytes/s the client receives after a grace; 0 = any */
    unsigned max_delay_ms;        /* largest delay a client may ask for */
    unsigned max_queries;         /* largest queries= / widgets= */
    uint64_t cpu_iterations;      /* default PBKDF2 iterations of /cpu */
    uint64_t max_iterations;      /* largest iterations= */
    unsigned tls_port;            /* HTTPS listener port; CONFIG_TLS_OFF = none, 0 = any free */
    char tls_cert[256];           /* PEM certificate (with chain); "" = generate one */
    char tls_key[256];            /* PEM private key of tls_cert */
    char tls_write_cert[256];     /* "" or a file to write the certificate in use to */
    char probe[256];              /* --probe URL: check a server and exit, "" = serve */
    unsigned status_port;         /* live view's port; CONFIG_STATUS_OFF, _DEFAULT (port + 1000) */
    unsigned timeline_size;       /* requests the live view's ring keeps */
    unsigned cpus;                /* --cpus: run on this many CPUs (sched_setaffinity); 0 = all */
    char db[512];                 /* --db: a PostgreSQL URL or conninfo; "" = simulated */
    unsigned db_timeout_ms;       /* --db: a connect's limit, and a query's beyond its own time */
    char name[64];                /* --name: X-Replica header and /stats "name"; "" = none */
    uint64_t given;               /* bit i: the i-th option was set (environment or argv) */
} config;

#define CONFIG_TLS_OFF 0xFFFFFFFFu        /* tls_port when no --tls-port was given */
#define CONFIG_STATUS_OFF 0xFFFFFFFFu     /* --status-port off */
#define CONFIG_STATUS_DEFAULT 0xFFFFFFFEu /* no --status-port: the main port + 1000 */
#define CONFIG_LOOP_CONNECTIONS 10000     /* --max-connections by default in the event-loop modes */
#define CONFIG_CONNECTIONS 1000 /* ... in the others (threads: 1000 threads, 256 MB of stacks) */

typedef enum {
    CONFIG_OK = 0,         /* run the server */
    CONFIG_HELP = 1,       /* --help was asked: print config_usage() and exit 0 */
    CONFIG_VERSION = 2,    /* --version was asked */
    CONFIG_LIST_MODES = 3, /* --list-modes was asked: print mode_table_text() and exit 0 */
    CONFIG_ERROR = -1      /* bad option or value: err holds a one-line message; exit 2 */
} config_result;

/* Fills *cfg with the defaults. */
void config_defaults(config *cfg);

/* Reads settings: first from the environment through getenv_fn (may be NULL:
 * no environment), then from argv. Returns a config_result; on CONFIG_ERROR
 * err (errlen bytes) names the option or variable and what is allowed. */
config_result config_load(config *cfg, int argc, char **argv,
                          const char *(*getenv_fn)(const char *), char *err, size_t errlen);

/* Writes into out (outlen bytes) what in *cfg is allowed but has no effect
 * (--workers in a mode with no pool to size), one line per warning. Returns
 * how many; 0 leaves out "". The caller prints them at start-up. */
int config_warnings(const config *cfg, char *out, size_t outlen);

/* Returns the usage text printed by --help (static storage). */
const char *config_usage(void);

/* Returns the name of a mode ("event", ...). */
const char *config_mode_name(server_mode m);

/* Returns the number of CPUs this process may run on (its affinity mask). */
unsigned config_cpus(void);

#endif
