/* config: one table of options drives the command line, the environment
 * variables, the defaults' range checks and the --help text. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "db.h"
#include "util.h"

typedef enum {
    OPT_MODE,
    OPT_UINT,
    OPT_SIZE,
    OPT_U64,
    OPT_ONOFF,
    OPT_ADDR,
    OPT_PATH,
    OPT_STR,
    OPT_PORT_OR_OFF,
    OPT_UINT_OR_OFF,
    OPT_DIST,
    OPT_NAME,
    OPT_FLAG
} opt_kind;

typedef struct option_def {
    const char *name;  /* long option without the dashes */
    const char *env;   /* environment variable, or NULL */
    opt_kind kind;     /* how the value is parsed */
    uint64_t min, max; /* allowed range for numbers */
    size_t offset;     /* where the value goes in struct config */
    size_t size;       /* OPT_PATH, OPT_STR: size of the char array there */
} option_def;

#define OFF(f) offsetof(config, f), 0
#define STR(f) offsetof(config, f), sizeof(((config *)0)->f)
static const option_def options[] = {
    {"mode", "HTTPMODES_MODE", OPT_MODE, 0, 0, OFF(mode)},
    {"port", "HTTPMODES_PORT", OPT_UINT, 0, 65535, OFF(port)},
    {"bind", "HTTPMODES_BIND", OPT_ADDR, 0, 0, OFF(bind)},
    {"workers", "HTTPMODES_WORKERS", OPT_UINT, 1, 1024, OFF(workers)},
    {"db-delay", "HTTPMODES_DB_DELAY", OPT_UINT, 0, 600000, OFF(db_delay_ms)},
    {"db-pool", "HTTPMODES_DB_POOL", OPT_UINT_OR_OFF, 1, 10000, OFF(db_pool)},
    {"db-latency", "HTTPMODES_DB_LATENCY", OPT_DIST, 0, 0, OFF(db_latency)},
    {"db-p99", "HTTPMODES_DB_P99", OPT_UINT, 1, 600000, OFF(db_p99_ms)},
    {"db-seed", "HTTPMODES_DB_SEED", OPT_U64, 0, UINT64_MAX, OFF(db_seed)},
    {"db", "HTTPMODES_DB", OPT_STR, 0, 0, STR(db)},
    {"db-timeout", "HTTPMODES_DB_TIMEOUT", OPT_UINT, 1, 600000, OFF(db_timeout_ms)},
    {"access-log", "HTTPMODES_ACCESS_LOG", OPT_PATH, 0, 0, STR(access_log)},
    {"keep-alive", "HTTPMODES_KEEP_ALIVE", OPT_ONOFF, 0, 0, OFF(keep_alive)},
    {"max-header-size", "HTTPMODES_MAX_HEADER_SIZE", OPT_SIZE, 256, 1048576, OFF(max_header_size)},
    {"max-body-size", "HTTPMODES_MAX_BODY_SIZE", OPT_SIZE, 0, 1073741824, OFF(max_body_size)},
    {"max-body-memory", "HTTPMODES_MAX_BODY_MEMORY", OPT_SIZE, 0, 1ull << 40, OFF(max_body_memory)},
    {"max-connections", "HTTPMODES_MAX_CONNECTIONS", OPT_UINT, 1, 1000000, OFF(max_connections)},
    {"header-timeout", "HTTPMODES_HEADER_TIMEOUT", OPT_UINT, 1, 3600, OFF(header_timeout_s)},
    {"keep-alive-timeout", "HTTPMODES_KEEP_ALIVE_TIMEOUT", OPT_UINT, 1, 3600,
     OFF(keepalive_timeout_s)},
    {"slow-client-defence", "HTTPMODES_SLOW_CLIENT_DEFENCE", OPT_ONOFF, 0, 0,
     OFF(slow_client_defence)},
    {"first-byte-timeout", "HTTPMODES_FIRST_BYTE_TIMEOUT", OPT_UINT, 0, 3600, OFF(first_byte_s)},
    {"min-rate", "HTTPMODES_MIN_RATE", OPT_UINT, 0, 1000000000, OFF(min_rate)},
    {"min-send-rate", "HTTPMODES_MIN_SEND_RATE", OPT_UINT, 0, 1000000000, OFF(min_send_rate)},
    {"max-delay", "HTTPMODES_MAX_DELAY", OPT_UINT, 0, 600000, OFF(max_delay_ms)},
    {"max-queries", "HTTPMODES_MAX_QUERIES", OPT_UINT, 1, 10000, OFF(max_queries)},
    {"cpu-iterations", "HTTPMODES_CPU_ITERATIONS", OPT_U64, 1, 1000000000, OFF(cpu_iterations)},
    {"max-iterations", "HTTPMODES_MAX_ITERATIONS", OPT_U64, 1, 1000000000, OFF(max_iterations)},
    {"tls-port", "HTTPMODES_TLS_PORT", OPT_PORT_OR_OFF, 0, 65535, OFF(tls_port)},
    {"tls-cert", "HTTPMODES_TLS_CERT", OPT_STR, 0, 0, STR(tls_cert)},
    {"tls-key", "HTTPMODES_TLS_KEY", OPT_STR, 0, 0, STR(tls_key)},
    {"tls-write-cert", "HTTPMODES_TLS_WRITE_CERT", OPT_STR, 0, 0, STR(tls_write_cert)},
    {"probe", NULL, OPT_STR, 0, 0, STR(probe)},
    {"status-port", "HTTPMODES_STATUS_PORT", OPT_PORT_OR_OFF, 0, 65535, OFF(status_port)},
    {"timeline-size", "HTTPMODES_TIMELINE_SIZE", OPT_UINT, 16, 1048576, OFF(timeline_size)},
    {"cpus", "HTTPMODES_CPUS", OPT_UINT, 1, 1024, OFF(cpus)},
    {"name", "HTTPMODES_NAME", OPT_NAME, 0, 0, STR(name)},
    {"help", NULL, OPT_FLAG, 0, 0, 0, 0},
    {"version", NULL, OPT_FLAG, 0, 0, 0, 0},
    {"list-modes", NULL, OPT_FLAG, 0, 0, 0, 0},
};
#define N_OPTIONS (sizeof options / sizeof options[0])
_Static_assert(N_OPTIONS <= 64, "config.given has one bit per option");

const char *config_mode_name(server_mode m) {
    const mode_info *mi = mode_get(m);
    return mi ? mi->name : "?";
}

unsigned config_cpus(void) {
    cpu_set_t set;
    /* the process's CPUs (its first thread's), not the calling thread's:
     * each of reactors' loops is pinned to one */
    if (sched_getaffinity(getpid(), sizeof set, &set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? (unsigned)n : 1;
}

void config_defaults(config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = MODE_EVENT;
    strcpy(cfg->bind, "127.0.0.1");
    cfg->port = 8080;
    cfg->workers = 1; /* the default mode's (config_load resolves the mode's own) */
    cfg->db_delay_ms = 100;
    cfg->db_seed = 1;
    cfg->db_timeout_ms = 10000;
    cfg->keep_alive = 1;
    cfg->max_header_size = 8192;
    cfg->max_body_size = 1048576;
    cfg->max_body_memory = 256u << 20;
    cfg->header_timeout_s = 10;
    cfg->keepalive_timeout_s = 5;
    cfg->slow_client_defence = 1;
    cfg->first_byte_s = 2;
    cfg->min_rate = 500;
    cfg->min_send_rate = 500;
    cfg->max_delay_ms = 10000;
    cfg->max_queries = 100;
    cfg->cpu_iterations = 150000;
    cfg->max_iterations = 1500000; /* 10x the default: ~0.3 s of a core */
    cfg->tls_port = CONFIG_TLS_OFF;
    cfg->status_port = CONFIG_STATUS_DEFAULT;
    cfg->timeline_size = 2048;
}

static const char *usage_options =
    "  --mode MODE              the concurrency model (see below)      (default event)\n"
    "  --port N                 TCP port, 0 = any free port            (default 8080)\n"
    "  --bind ADDR              listen address, IPv4 or IPv6           (default 127.0.0.1)\n"
    "  --workers N              the pool size of prefork, pool and reactors, 1-1024\n"
    "                           (default: 8, 8, and one per CPU)\n"
    "  --db-delay MS            simulated query time, ms               (default 100)\n"
    "  --db-pool N|off          at most N simulated queries in flight across the whole\n"
    "                           server (1-10000); the others wait in one FIFO queue for\n"
    "                           a connection (X-DB-Queue-Us)        (default off: no limit)\n"
    "  --db-latency DIST        how query times spread around delay=: fixed, uniform\n"
    "                           (0..2x), exponential or lognormal; ?dist= per request\n"
    "                           (each draw at most --max-delay)     (default fixed)\n"
    "  --db-p99 MS              lognormal's 99th percentile at --db-delay (scaled with\n"
    "                           delay=), above --db-delay and at most 14.9x it\n"
    "                                                      (default 4 x --db-delay)\n"
    "  --db-seed N              seed of the query-time draws: the same seed, the same\n"
    "                           times in the same order             (default 1)\n"
    "  --db URL|off             run each query on a real PostgreSQL as SELECT pg_sleep()\n"
    "                           (postgres://... or a libpq conninfo 'host=... dbname=...');\n"
    "                           unreachable or full: a 503      (default off: simulated)\n"
    "  --db-timeout MS          with --db: how long a connect may take, and how long\n"
    "                           past its own time a query may go unanswered; then\n"
    "                           503 and that connection is dropped, 1-600000\n"
    "                                                              (default 10000)\n"
    "  --access-log FILE|-      Common Log Format access log, - = stdout (default off)\n"
    "  --keep-alive on|off      keep connections open between requests\n"
    "                           (default: on for threads, event and reactors, off\n"
    "                           for iterative, prefork and pool, whose bounded\n"
    "                           workers a keep-alive client would hold)\n"
    "  --max-header-size BYTES  request line + headers limit, 431/414  (default 8192)\n"
    "  --max-body-size BYTES    request body limit, 413                (default 1048576)\n"
    "  --max-body-memory BYTES  request bodies held at once by the whole server;\n"
    "                           a body beyond it gets 503, 0 = no limit (default 268435456)\n"
    "  --max-connections N      connections one process serves at once; the next get\n"
    "                           503 (default: 10000 in the event-loop modes, 1000 in\n"
    "                           the others: a thread each in threads)\n"
    "  --header-timeout S       time to send a request head, 408       (default 10)\n"
    "  --keep-alive-timeout S   idle time between requests             (default 5)\n"
    "  --first-byte-timeout S   time from connect to a first request's first byte,\n"
    "                           0 = --header-timeout                   (default 2)\n"
    "  --min-rate BYTES/S       a request head or body must arrive this fast after\n"
    "                           its first second, else 408; 0 = no minimum (default 500)\n"
    "  --min-send-rate BYTES/S  a client must receive a response this fast after its\n"
    "                           first second (counted in what its TCP acknowledged),\n"
    "                           else the connection is reset; 0 = no minimum (default 500)\n"
    "  --slow-client-defence on|off  the defence against slow and idle clients\n"
    "                           (default on): --first-byte-timeout, --min-rate,\n"
    "                           --min-send-rate,\n"
    "                           TCP_DEFER_ACCEPT, and in iterative, prefork and pool a\n"
    "                           worker others are queueing for gives an unfinished\n"
    "                           request only 100 ms more; off = none of them, only\n"
    "                           --header-timeout (the classroom demo of the attacks)\n"
    "  --max-delay MS           largest delay= a client may ask for    (default 10000)\n"
    "  --max-queries N          largest queries= / widgets=            (default 100)\n"
    "  --cpu-iterations N       default PBKDF2 iterations of /cpu      (default 150000)\n"
    "  --max-iterations N       largest iterations=                    (default 1500000)\n"
    "  --tls-port N|off         also serve HTTPS on this port, 0 = any free (default off)\n"
    "  --tls-cert FILE          PEM certificate chain for HTTPS (default: a self-signed\n"
    "                           ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1,\n"
    "                           made at start-up; its SHA-256 fingerprint is printed)\n"
    "  --tls-key FILE           PEM private key of --tls-cert\n"
    "  --tls-write-cert FILE    write the certificate in use to FILE (PEM), so that\n"
    "                           clients can trust it (curl --cacert FILE)\n"
    "  --status-port N|off      the live view (/live, /timeline, /scoreboard, /stats,\n"
    "                           /metrics), served by a thread of its own; 0 = any free\n"
    "                           port                          (default: --port + 1000)\n"
    "  --timeline-size N        finished requests the live view keeps (default 2048)\n"
    "  --cpus N                 run on N of the CPUs this process may use (pins it,\n"
    "                           with every thread and worker): concurrency without\n"
    "                           parallelism with --cpus 1        (default: all of them)\n"
    "  --name NAME              this server's name, sent as X-Replica: NAME on every\n"
    "                           response and shown in /stats, to tell replicas behind\n"
    "                           a load balancer apart: letters, digits, . _ -, at\n"
    "                           most 63; %H is replaced by the host name (a\n"
    "                           container's ID, a Kubernetes pod's name) (default none)\n"
    "  --probe URL              health check: GET URL (http:// or https://, not\n"
    "                           verified), exit 0 if it answers 2xx/3xx within 5 s,\n"
    "                           else print why and exit 1; serves nothing\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n"
    "  --list-modes             print the table of modes, tab-separated (name,\n"
    "                           keep-alive, workers: none|fixed|cpus, default\n"
    "                           workers, event loop: yes|no, summary) and exit\n"
    "\n"
    "Every option can also be set with an environment variable: HTTPMODES_ and\n"
    "the option's name in capitals with '_' for '-' (HTTPMODES_MODE=threads,\n"
    "HTTPMODES_DB_DELAY=50). Command-line options override the environment.\n"
    "\n"
    "Signals: SIGTERM, SIGINT  stop: finish the requests under way, then exit 0\n"
    "         SIGUSR1          reopen the --access-log file (log rotation)\n"
    "         SIGHUP           reload: prefork replaces its workers gracefully (the old\n"
    "                          ones finish their requests); every mode reopens the\n"
    "                          --access-log file and re-reads --tls-cert/--tls-key (the\n"
    "                          old certificate stays if they do not load); other\n"
    "                          options need a restart. One line on stderr says what\n"
    "                          was done; /stats counts reloads\n"
    "         SIGPIPE          ignored\n";

const char *config_usage(void) {
    static char text[16384];
    if (text[0])
        return text;
    size_t n = (size_t)snprintf(text, sizeof text,
                                "Usage: httpmodes [OPTION]...\n"
                                "An HTTP/1.1 server whose one request-handling core runs under a "
                                "chosen\nconcurrency model, with demo pages for load-testing each "
                                "model.\n\n%s\nModes (--mode):\n",
                                usage_options);
    for (unsigned m = 0; m < MODE_COUNT && n < sizeof text; m++) {
        const mode_info *mi = mode_get((server_mode)m);
        n += (size_t)snprintf(text + n, sizeof text - n, "  %-10s %s\n             (like %s)\n",
                              mi->name, mi->summary, mi->counterpart);
    }
    return text;
}

/* Writes value into out (size bytes) with each "%H" replaced by the host
 * name. Returns 0, or -1 when the result is empty, too long or holds a byte
 * other than [A-Za-z0-9._-] (it goes into a response header as it is). */
static int name_expand(const char *value, char *out, size_t size) {
    char host[256] = "", tmp[256];
    size_t n = 0;
    if (size > sizeof tmp)
        size = sizeof tmp;
    for (const char *p = value; *p; p++) {
        const char *add = p;
        size_t len = 1;
        if (p[0] == '%' && p[1] == 'H') {
            if (!host[0] && (gethostname(host, sizeof host - 1) != 0 || !host[0]))
                return -1;
            add = host;
            len = strlen(host);
            p++;
        }
        for (size_t i = 0; i < len; i++, n++) {
            char ch = add[i];
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
            if (!ok || n + 1 >= size)
                return -1;
            tmp[n] = ch;
        }
    }
    if (n == 0)
        return -1;
    tmp[n] = 0;
    memcpy(out, tmp, n + 1); /* only a valid name replaces the old one */
    return 0;
}

/* Stores value into the field that d describes. Returns 0, or -1 with err set. */
static int set_value(config *cfg, const option_def *d, const char *what, const char *value,
                     char *err, size_t errlen) {
    char *field = (char *)cfg + d->offset;
    uint64_t v;
    switch (d->kind) {
    case OPT_MODE:
        if (mode_find(value, &cfg->mode) == 0)
            return 0;
        snprintf(err, errlen, "%s: unknown mode '%.40s' (expected %s)", what, value, mode_list());
        return -1;
    case OPT_ONOFF:
        if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
            *(int *)field = value[1] == 'n';
            if (field == (char *)&cfg->keep_alive)
                cfg->keep_alive_set = 1; /* else the mode's default */
            return 0;
        }
        snprintf(err, errlen, "%s: expected on or off, got '%.40s'", what, value);
        return -1;
    case OPT_ADDR: {
        unsigned char tmp[16];
        if (strlen(value) < sizeof cfg->bind &&
            (strcmp(value, "localhost") == 0 || inet_pton(AF_INET, value, tmp) == 1 ||
             inet_pton(AF_INET6, value, tmp) == 1)) {
            strcpy(field, value);
            return 0;
        }
        snprintf(err, errlen, "%s: '%.40s' is not a numeric IPv4 or IPv6 address", what, value);
        return -1;
    }
    case OPT_PATH:
    case OPT_STR:
        if (strcmp(d->name, "db") == 0 && strcmp(value, "off") == 0) {
            *(char *)field = 0; /* the simulated database */
            return 0;
        }
        if (strcmp(d->name, "db") == 0 && value[0] && strncmp(value, "postgres://", 11) != 0 &&
            strncmp(value, "postgresql://", 13) != 0 && !strchr(value, '=')) {
            snprintf(err, errlen,
                     "%s: expected postgres://..., postgresql://..., a libpq conninfo "
                     "(key=value ...) or off",
                     what);
            return -1;
        }
        if (value[0] && strlen(value) < d->size) {
            strcpy(field, value);
            return 0;
        }
        snprintf(err, errlen, "%s: expected a %s (at most %zu bytes)%s", what,
                 strcmp(d->name, "probe") == 0 ? "URL"
                 : strcmp(d->name, "db") == 0  ? "postgres:// URL or libpq conninfo"
                                               : "file path",
                 d->size - 1, d->kind == OPT_PATH ? " or -" : "");
        return -1;
    case OPT_NAME: {
        if (name_expand(value, field, d->size) == 0)
            return 0;
        char shown[41]; /* the value as printed: control bytes as '?' */
        size_t i = 0;
        for (; value[i] && i < sizeof shown - 1; i++)
            shown[i] = value[i] >= 0x20 && value[i] < 0x7f ? value[i] : '?';
        shown[i] = 0;
        snprintf(err, errlen,
                 "%s: expected 1 to %zu letters, digits, '.', '_' or '-' (%%H: the host name), "
                 "got '%s'",
                 what, d->size - 1, shown);
        return -1;
    }
    case OPT_DIST: {
        int dist = db_dist_find(value, strlen(value));
        if (dist >= 0) {
            *(unsigned *)field = (unsigned)dist;
            return 0;
        }
        snprintf(err, errlen, "%s: expected fixed, uniform, exponential or lognormal, got '%.40s'",
                 what, value);
        return -1;
    }
    case OPT_PORT_OR_OFF:
    case OPT_UINT_OR_OFF:
        if (strcmp(value, "off") == 0) {
            *(unsigned *)field = d->kind == OPT_PORT_OR_OFF ? CONFIG_TLS_OFF : 0;
            return 0;
        }
        __attribute__((fallthrough)); /* else a number */
    case OPT_UINT:
    case OPT_SIZE:
    case OPT_U64:
        if (util_parse_u64(value, strlen(value), d->max, &v) != 0 || v < d->min) {
            snprintf(err, errlen, "%s: expected a whole number from %llu to %llu%s, got '%.40s'",
                     what, (unsigned long long)d->min, (unsigned long long)d->max,
                     d->kind == OPT_PORT_OR_OFF || d->kind == OPT_UINT_OR_OFF ? " or off" : "",
                     value);
            return -1;
        }
        if (d->kind == OPT_UINT || d->kind == OPT_PORT_OR_OFF || d->kind == OPT_UINT_OR_OFF)
            *(unsigned *)field = (unsigned)v;
        else if (d->kind == OPT_SIZE)
            *(size_t *)field = (size_t)v;
        else
            *(uint64_t *)field = v;
        return 0;
    case OPT_FLAG:
        break;
    }
    return 0;
}

/* Cross-option checks that no single value can catch. */
static int check(const config *cfg, char *err, size_t errlen) {
    if (cfg->db_delay_ms > cfg->max_delay_ms) {
        snprintf(err, errlen, "--db-delay: %u ms is above --max-delay (%u ms)", cfg->db_delay_ms,
                 cfg->max_delay_ms);
        return -1;
    }
    if (cfg->db_p99_ms && (cfg->db_p99_ms <= cfg->db_delay_ms ||
                           cfg->db_p99_ms > DB_LOGNORMAL_RATIO_MAX * cfg->db_delay_ms)) {
        snprintf(err, errlen,
                 "--db-p99: %u ms must be above --db-delay (%u ms) and at most %.1f times it (a "
                 "lognormal with that mean cannot have a longer p99)",
                 cfg->db_p99_ms, cfg->db_delay_ms, DB_LOGNORMAL_RATIO_MAX);
        return -1;
    }
    if (cfg->cpu_iterations > cfg->max_iterations) {
        snprintf(err, errlen, "--cpu-iterations: %llu is above --max-iterations (%llu)",
                 (unsigned long long)cfg->cpu_iterations, (unsigned long long)cfg->max_iterations);
        return -1;
    }
    if (cfg->max_body_memory && cfg->max_body_memory < cfg->max_body_size) {
        snprintf(err, errlen,
                 "--max-body-memory: %zu bytes is below --max-body-size (%zu): the largest body "
                 "would always be refused",
                 cfg->max_body_memory, cfg->max_body_size);
        return -1;
    }
    int tls = cfg->tls_port != CONFIG_TLS_OFF;
    if (!tls && (cfg->tls_cert[0] || cfg->tls_key[0] || cfg->tls_write_cert[0])) {
        snprintf(err, errlen, "--%s needs --tls-port",
                 cfg->tls_cert[0]  ? "tls-cert"
                 : cfg->tls_key[0] ? "tls-key"
                                   : "tls-write-cert");
        return -1;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
        snprintf(err, errlen,
                 "--tls-cert and --tls-key go together: give both, or neither for "
                 "a generated certificate");
        return -1;
    }
    if (tls && cfg->tls_port != 0 && cfg->tls_port == cfg->port) {
        snprintf(err, errlen, "--tls-port: %u is already the HTTP --port", cfg->port);
        return -1;
    }
    return 0;
}

/* Returns 1 when the option whose value lives at offset was given. */
static int given(const config *cfg, size_t offset) {
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].offset == offset && options[i].kind != OPT_FLAG)
            return (cfg->given >> i) & 1;
    return 0;
}

config_result config_load(config *cfg, int argc, char **argv,
                          const char *(*getenv_fn)(const char *), char *err, size_t errlen) {
    config_defaults(cfg);
    for (size_t i = 0; getenv_fn && i < N_OPTIONS; i++) {
        const char *v = options[i].env ? getenv_fn(options[i].env) : NULL;
        if (v && set_value(cfg, &options[i], options[i].env, v, err, errlen) != 0)
            return CONFIG_ERROR;
        if (v)
            cfg->given |= 1ull << i;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "-h") == 0)
            return CONFIG_HELP;
        if (strcmp(arg, "-V") == 0)
            return CONFIG_VERSION;
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%.40s' (see --help)", arg);
            return CONFIG_ERROR;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const option_def *d = NULL;
        for (size_t i = 0; i < N_OPTIONS; i++)
            if (strlen(options[i].name) == nlen && strncmp(options[i].name, name, nlen) == 0)
                d = &options[i];
        if (!d) {
            snprintf(err, errlen, "unknown option '--%.*s' (see --help)",
                     (int)(nlen > 40 ? 40 : nlen), name);
            return CONFIG_ERROR;
        }
        char what[48];
        snprintf(what, sizeof what, "--%s", d->name);
        if (d->kind == OPT_FLAG) {
            if (eq) {
                snprintf(err, errlen, "%s takes no value", what);
                return CONFIG_ERROR;
            }
            return strcmp(d->name, "help") == 0      ? CONFIG_HELP
                   : strcmp(d->name, "version") == 0 ? CONFIG_VERSION
                                                     : CONFIG_LIST_MODES;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (a + 1 >= argc) {
                snprintf(err, errlen, "%s needs a value (see --help)", what);
                return CONFIG_ERROR;
            }
            value = argv[++a];
        }
        if (set_value(cfg, d, what, value, err, errlen) != 0)
            return CONFIG_ERROR;
        cfg->given |= 1ull << (d - options);
    }
    const mode_info *mi = mode_get(cfg->mode);
    if (!cfg->keep_alive_set)
        cfg->keep_alive = mi->keep_alive;
    cfg->workers_set = given(cfg, offsetof(config, workers));
    if (mi->workers == WORKERS_NONE)
        cfg->workers = 1; /* one lane (or one per connection): nothing to size */
    else if (!cfg->workers_set)
        cfg->workers = mi->workers == WORKERS_FIXED             ? mi->default_workers
                       : cfg->cpus && cfg->cpus < config_cpus() ? cfg->cpus
                                                                : config_cpus();
    if (!given(cfg, offsetof(config, max_connections))) /* a loop holds a connection cheaply */
        cfg->max_connections = mi->event_loop ? CONFIG_LOOP_CONNECTIONS : CONFIG_CONNECTIONS;
    return check(cfg, err, errlen) == 0 ? CONFIG_OK : CONFIG_ERROR;
}

int config_warnings(const config *cfg, char *out, size_t outlen) {
    int n = 0;
    out[0] = 0;
    const mode_info *mi = mode_get(cfg->mode);
    if (cfg->workers_set && mi->workers == WORKERS_NONE) {
        snprintf(out, outlen,
                 "httpmodes: note: --workers is ignored in mode %s (it has no pool of workers "
                 "to size)\n",
                 mi->name);
        n++;
    }
    if (!cfg->db[0] && given(cfg, offsetof(config, db_timeout_ms))) {
        size_t len = strlen(out);
        snprintf(out + len, outlen - len,
                 "httpmodes: note: --db-timeout is ignored without --db (the simulated "
                 "database always answers)\n");
        n++;
    }
    return n;
}
