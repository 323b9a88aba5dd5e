/* test_config: defaults, command-line and environment parsing, precedence,
 * and a clear error for every bad value. */
#include "testutil.h"

#include <unistd.h>

/* ---- a fake environment ------------------------------------------------------------- */

static const char *fake_env[16][2]; /* name, value pairs; NULL-terminated */

static const char *fake_getenv(const char *name) {
    for (int i = 0; i < 16 && fake_env[i][0]; i++)
        if (strcmp(fake_env[i][0], name) == 0)
            return fake_env[i][1];
    return NULL;
}

static void set_env(int i, const char *name, const char *value) {
    fake_env[i][0] = name;
    fake_env[i][1] = value;
    fake_env[i + 1][0] = NULL;
}

static int clear_env(void **state) {
    (void)state;
    memset(fake_env, 0, sizeof fake_env);
    return 0;
}

/* Loads argv (NULL-terminated, without the program name) with the fake env. */
static config_result load(config *cfg, char *err, size_t errlen, const char *const *args) {
    char *argv[32] = {"httpmodes"};
    int argc = 1;
    for (; args && args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    err[0] = 0;
    return config_load(cfg, argc, argv, fake_getenv, err, errlen);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- tests ---------------------------------------------------------------------------- */

static void test_defaults(void **state) {
    (void)state;
    config d;
    config_defaults(&d);
    assert_int_equal(d.mode, MODE_EVENT);
    assert_int_equal(d.port, 8080);
    assert_string_equal(d.bind, "127.0.0.1");
    assert_int_equal(d.workers, 1); /* event's: one loop */
    assert_int_equal(d.db_delay_ms, 100);
    assert_string_equal(d.access_log, "");
    assert_int_equal(d.keep_alive, 1);
    assert_true(d.max_header_size >= 256);
    assert_true(d.db_delay_ms <= d.max_delay_ms);
    assert_true(d.cpu_iterations <= d.max_iterations);
    /* one /cpu may cost at most 10 default ones: a larger one stalls event for seconds */
    assert_true(d.max_iterations <= 10 * d.cpu_iterations);
    /* config_load with nothing gives the same */
    config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.mode, MODE_EVENT);
    assert_int_equal(c.port, 8080);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_int_equal(c.workers, 1); /* event: one loop */
    assert_int_equal(c.db_delay_ms, 100);
    assert_int_equal(c.keep_alive, 1);
    assert_int_equal(c.keep_alive_set, 0);
    assert_int_equal(c.max_header_size, d.max_header_size);
    assert_int_equal(c.max_body_size, d.max_body_size);
    /* a NULL getenv is no environment */
    char *argv[] = {"httpmodes", NULL};
    assert_int_equal(config_load(&c, 1, argv, NULL, err, sizeof err), CONFIG_OK);
    assert_int_equal(c.port, 8080);
}

/* The mode table decides what --workers means: a pool size with its own
 * default, one per CPU, or nothing (then a note says it is ignored). */
static void test_workers_by_mode(void **state) {
    (void)state;
    config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "prefork")), CONFIG_OK);
    assert_int_equal(c.workers, 8);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "pool", "--workers", "3")),
                     CONFIG_OK);
    assert_int_equal(c.workers, 3);
    char warn[256];
    assert_int_equal(config_warnings(&c, warn, sizeof warn), 0);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "reactors")), CONFIG_OK);
    assert_int_equal(c.workers, config_cpus());
    assert_true(c.workers >= 1);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "event", "--workers", "4")),
                     CONFIG_OK);
    assert_int_equal(c.workers, 1);
    assert_int_equal(config_warnings(&c, warn, sizeof warn), 1);
    assert_non_null(strstr(warn, "--workers is ignored in mode event"));
    /* every mode in the table is named in --help and in the error for a bad name */
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "fibers")), CONFIG_ERROR);
    for (unsigned m = 0; m < MODE_COUNT; m++) {
        assert_non_null(strstr(err, mode_get((server_mode)m)->name));
        assert_non_null(strstr(config_usage(), mode_get((server_mode)m)->summary));
    }
}

static void test_keep_alive_by_mode(void **state) {
    (void)state;
    config c;
    char err[256];
    static const struct {
        const char *mode;
        server_mode m;
        int keep;
    } modes[] = {
        {"event", MODE_EVENT, 1},         {"threads", MODE_THREADS, 1},
        {"iterative", MODE_ITERATIVE, 0}, {"prefork", MODE_PREFORK, 0},
        {"pool", MODE_POOL, 0},           {"reactors", MODE_REACTORS, 1},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", modes[i].mode)), CONFIG_OK);
        assert_int_equal(c.mode, modes[i].m);
        assert_int_equal(c.keep_alive, modes[i].keep);
        assert_string_equal(config_mode_name(modes[i].m), modes[i].mode);
        /* an explicit --keep-alive wins */
        assert_int_equal(
            load(&c, err, sizeof err, ARGS("--mode", modes[i].mode, "--keep-alive", "on")),
            CONFIG_OK);
        assert_int_equal(c.keep_alive, 1);
        assert_int_equal(c.keep_alive_set, 1);
        assert_int_equal(
            load(&c, err, sizeof err, ARGS("--keep-alive=off", "--mode", modes[i].mode)),
            CONFIG_OK);
        assert_int_equal(c.keep_alive, 0);
    }
}

static void test_option_forms(void **state) {
    (void)state;
    config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof err,
                          ARGS("--mode", "prefork", "--port=9090", "--bind", "::1", "--workers=3",
                               "--db-delay", "25", "--access-log=/tmp/x.log", "--max-header-size",
                               "4096", "--max-body-size=10", "--header-timeout", "2",
                               "--keep-alive-timeout=3", "--max-delay", "500", "--max-queries=7",
                               "--cpu-iterations", "1000", "--max-iterations=5000")),
                     CONFIG_OK);
    assert_int_equal(c.mode, MODE_PREFORK);
    assert_int_equal(c.port, 9090);
    assert_string_equal(c.bind, "::1");
    assert_int_equal(c.workers, 3);
    assert_int_equal(c.db_delay_ms, 25);
    assert_string_equal(c.access_log, "/tmp/x.log");
    assert_int_equal(c.max_header_size, 4096);
    assert_int_equal(c.max_body_size, 10);
    assert_int_equal(c.header_timeout_s, 2);
    assert_int_equal(c.keepalive_timeout_s, 3);
    assert_int_equal(c.max_delay_ms, 500);
    assert_int_equal(c.max_queries, 7);
    assert_int_equal(c.cpu_iterations, 1000);
    assert_int_equal(c.max_iterations, 5000);
    /* a value may start with dashes when given separately */
    assert_int_equal(load(&c, err, sizeof err, ARGS("--access-log", "-")), CONFIG_OK);
    assert_string_equal(c.access_log, "-");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--port", "0", "--bind", "0.0.0.0")),
                     CONFIG_OK);
    assert_int_equal(c.port, 0);
    assert_string_equal(c.bind, "0.0.0.0");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--bind=localhost", "--port=65535")),
                     CONFIG_OK);
    assert_string_equal(c.bind, "localhost");
    assert_int_equal(c.port, 65535);
    /* the last occurrence wins */
    assert_int_equal(load(&c, err, sizeof err, ARGS("--port=1", "--port", "2")), CONFIG_OK);
    assert_int_equal(c.port, 2);
}

static void test_environment(void **state) {
    (void)state;
    config c;
    char err[256];
    set_env(0, "HTTPMODES_MODE", "prefork");
    set_env(1, "HTTPMODES_PORT", "1234");
    set_env(2, "HTTPMODES_DB_DELAY", "50");
    set_env(3, "HTTPMODES_BIND", "0.0.0.0");
    set_env(4, "HTTPMODES_WORKERS", "16");
    set_env(5, "HTTPMODES_MAX_BODY_SIZE", "99");
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.mode, MODE_PREFORK);
    assert_int_equal(c.port, 1234);
    assert_int_equal(c.db_delay_ms, 50);
    assert_string_equal(c.bind, "0.0.0.0");
    assert_int_equal(c.workers, 16);
    assert_int_equal(c.max_body_size, 99);
    assert_int_equal(c.keep_alive, 0); /* prefork default */
    /* keep-alive from the environment overrides the mode's default */
    set_env(0, "HTTPMODES_MODE", "iterative");
    set_env(1, "HTTPMODES_KEEP_ALIVE", "on");
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.mode, MODE_ITERATIVE);
    assert_int_equal(c.keep_alive, 1);
    set_env(1, "HTTPMODES_KEEP_ALIVE", "off");
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.keep_alive, 0);
}

static void test_command_line_wins(void **state) {
    (void)state;
    config c;
    char err[256];
    set_env(0, "HTTPMODES_MODE", "prefork");
    set_env(1, "HTTPMODES_PORT", "1234");
    set_env(2, "HTTPMODES_DB_DELAY", "50");
    set_env(3, "HTTPMODES_KEEP_ALIVE", "off");
    assert_int_equal(
        load(&c, err, sizeof err,
             ARGS("--mode", "event", "--port=4321", "--db-delay", "7", "--keep-alive", "on")),
        CONFIG_OK);
    assert_int_equal(c.mode, MODE_EVENT);
    assert_int_equal(c.port, 4321);
    assert_int_equal(c.db_delay_ms, 7);
    assert_int_equal(c.keep_alive, 1);
    /* and the environment still applies to what the command line leaves alone */
    assert_int_equal(load(&c, err, sizeof err, ARGS("--port=4321")), CONFIG_OK);
    assert_int_equal(c.mode, MODE_PREFORK);
    assert_int_equal(c.db_delay_ms, 50);
    assert_int_equal(c.keep_alive, 0);
}

/* Asserts CONFIG_ERROR with a message containing every needle. */
static void check_error(const char *const *args, const char *n1, const char *n2) {
    config c;
    char err[256];
    config_result r = load(&c, err, sizeof err, args);
    char line[256] = "";
    for (int i = 0; args && args[i]; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s ", args[i]);
    if (r != CONFIG_ERROR)
        fail_msg("'%s': result %d, expected CONFIG_ERROR", line, (int)r);
    if (!strstr(err, n1) || (n2 && !strstr(err, n2)))
        fail_msg("'%s': message \"%s\" should name \"%s\"%s%s", line, err, n1, n2 ? " and " : "",
                 n2 ? n2 : "");
    assert_null(strchr(err, '\n')); /* one line */
}

static void test_bad_command_line(void **state) {
    (void)state;
    check_error(ARGS("--bogus"), "--bogus", NULL);
    check_error(ARGS("--bogus=1"), "--bogus", NULL);
    check_error(ARGS("stray"), "stray", NULL);
    check_error(ARGS("-x"), "-x", NULL);
    check_error(ARGS("--port"), "--port", "value");
    check_error(ARGS("--mode=event", "--workers"), "--workers", NULL);
    check_error(ARGS("--port", "70000"), "--port", "65535");
    check_error(ARGS("--port=-1"), "--port", NULL);
    check_error(ARGS("--port", "80a"), "--port", NULL);
    check_error(ARGS("--port="), "--port", NULL);
    check_error(ARGS("--workers", "0"), "--workers", "1 to 1024");
    check_error(ARGS("--workers", "1025"), "--workers", NULL);
    check_error(ARGS("--mode", "bogus"), "--mode", "bogus");
    check_error(ARGS("--mode=Event"), "--mode", NULL);
    check_error(ARGS("--bind", "not-an-address"), "--bind", "not-an-address");
    check_error(ARGS("--bind", "1.2.3"), "--bind", NULL);
    check_error(ARGS("--keep-alive", "maybe"), "--keep-alive", "on or off");
    check_error(ARGS("--keep-alive=1"), "--keep-alive", NULL);
    check_error(ARGS("--db-delay", "20000"), "--db-delay", "--max-delay");
    check_error(ARGS("--max-delay", "50"), "--db-delay", "--max-delay"); /* default 100 > 50 */
    check_error(ARGS("--cpu-iterations", "20000000"), "--cpu-iterations", "--max-iterations");
    check_error(ARGS("--max-header-size", "100"), "--max-header-size", NULL);
    check_error(ARGS("--header-timeout", "0"), "--header-timeout", NULL);
    check_error(ARGS("--max-queries", "0"), "--max-queries", NULL);
    check_error(ARGS("--access-log="), "--access-log", NULL);
    check_error(ARGS("--help=yes"), "--help", NULL);
    check_error(ARGS("--version=1"), "--version", NULL);
}

static void test_bad_environment(void **state) {
    (void)state;
    static const struct {
        const char *name, *value;
    } bad[] = {
        {"HTTPMODES_MODE", "bogus"},       {"HTTPMODES_PORT", "70000"},
        {"HTTPMODES_WORKERS", "0"},        {"HTTPMODES_BIND", "not-an-address"},
        {"HTTPMODES_KEEP_ALIVE", "maybe"}, {"HTTPMODES_DB_DELAY", "x"},
        {"HTTPMODES_MAX_BODY_SIZE", "-1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env(NULL);
        set_env(0, bad[i].name, bad[i].value);
        check_error(NULL, bad[i].name, NULL);
    }
    /* an environment value above a limit set in the environment */
    clear_env(NULL);
    set_env(0, "HTTPMODES_DB_DELAY", "20000");
    check_error(NULL, "delay", NULL);
    /* a bad environment value is reported even when the command line sets it too */
    clear_env(NULL);
    set_env(0, "HTTPMODES_PORT", "nope");
    check_error(ARGS("--port", "80"), "HTTPMODES_PORT", NULL);
}

/* The slow-client defence: on by default, off with one switch (from the
 * command line or the environment) without touching --keep-alive. */
static void test_slow_client_defence(void **state) {
    (void)state;
    config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.slow_client_defence, 1);
    assert_int_equal(c.first_byte_s, 2);
    assert_int_equal(c.min_rate, 500);
    assert_int_equal(
        load(&c, err, sizeof err,
             ARGS("--slow-client-defence", "off", "--first-byte-timeout", "0", "--min-rate=0")),
        CONFIG_OK);
    assert_int_equal(c.slow_client_defence, 0);
    assert_int_equal(c.first_byte_s, 0);
    assert_int_equal(c.min_rate, 0);
    assert_int_equal(c.keep_alive_set, 0); /* another on|off option is not --keep-alive */
    set_env(0, "HTTPMODES_SLOW_CLIENT_DEFENCE", "off");
    set_env(1, "HTTPMODES_MIN_RATE", "2000");
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.slow_client_defence, 0);
    assert_int_equal(c.min_rate, 2000);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--slow-client-defence", "on")), CONFIG_OK);
    assert_int_equal(c.slow_client_defence, 1);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--slow-client-defence", "maybe")),
                     CONFIG_ERROR);
    assert_non_null(strstr(err, "--slow-client-defence"));
}

/* --workers in a mode with no pool is allowed but ignored: a note says so. */
static void test_workers_warning(void **state) {
    (void)state;
    config c;
    char err[256], warn[256];
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "event", "--workers", "4")),
                     CONFIG_OK);
    assert_int_equal(config_warnings(&c, warn, sizeof warn), 1);
    assert_non_null(strstr(warn, "--workers"));
    assert_non_null(strstr(warn, "event"));
    assert_int_equal(load(&c, err, sizeof err, ARGS("--workers=4", "--mode", "prefork")),
                     CONFIG_OK);
    assert_int_equal(config_warnings(&c, warn, sizeof warn), 0);
    assert_string_equal(warn, "");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "threads")), CONFIG_OK);
    assert_int_equal(config_warnings(&c, warn, sizeof warn), 0); /* the default is not given */
    set_env(0, "HTTPMODES_WORKERS", "2");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--mode", "iterative")), CONFIG_OK);
    assert_int_equal(config_warnings(&c, warn, sizeof warn), 1);
}

static void test_help_and_version(void **state) {
    (void)state;
    config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof err, ARGS("--help")), CONFIG_HELP);
    assert_int_equal(load(&c, err, sizeof err, ARGS("-h")), CONFIG_HELP);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--port", "1", "-h")), CONFIG_HELP);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--version")), CONFIG_VERSION);
    assert_int_equal(load(&c, err, sizeof err, ARGS("-V")), CONFIG_VERSION);
    /* the usage text lists every option */
    const char *u = config_usage();
    static const char *opts[] = {"--mode",
                                 "--port",
                                 "--bind",
                                 "--workers",
                                 "--db-delay",
                                 "--access-log",
                                 "--keep-alive",
                                 "--max-header-size",
                                 "--max-body-size",
                                 "--header-timeout",
                                 "--keep-alive-timeout",
                                 "--max-delay",
                                 "--max-queries",
                                 "--cpu-iterations",
                                 "--max-iterations",
                                 "--first-byte-timeout",
                                 "--min-rate",
                                 "--slow-client-defence",
                                 "--name",
                                 "--help",
                                 "--version"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (!strstr(u, opts[i]))
            fail_msg("usage lacks %s", opts[i]);
    assert_string_equal(config_mode_name(MODE_ITERATIVE), "iterative");
    assert_string_equal(config_mode_name((server_mode)9), "?");
}

/* --name: none by default; a name from the command line or the environment;
 * %H becomes the host name; anything that cannot go into a header as it is
 * (space, colon, CR/LF, too long, empty) is a clear error. */
static void test_name(void **state) {
    (void)state;
    config c;
    char err[256], host[256] = "", want[300];
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_string_equal(c.name, "");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--name", "web-1.a_b")), CONFIG_OK);
    assert_string_equal(c.name, "web-1.a_b");
    set_env(0, "HTTPMODES_NAME", "from-env");
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_string_equal(c.name, "from-env");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--name=argv")), CONFIG_OK);
    assert_string_equal(c.name, "argv");
    clear_env(NULL);
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    snprintf(want, sizeof want, "r-%s", host);
    if (strlen(want) < sizeof c.name &&
        strspn(host, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(host)) {
        assert_int_equal(load(&c, err, sizeof err, ARGS("--name", "r-%H")), CONFIG_OK);
        assert_string_equal(c.name, want);
    }
    check_error(ARGS("--name", ""), "--name", "letters");
    check_error(ARGS("--name", "a b"), "--name", NULL);
    check_error(ARGS("--name", "a:b"), "--name", NULL);
    check_error(ARGS("--name", "a\r\nX-Evil: 1"), "--name", NULL);
    check_error(ARGS("--name", "%"), "--name", NULL);
    check_error(ARGS("--name", "%x"), "--name", NULL);
    check_error(ARGS("--name", "0123456789012345678901234567890123456789012345678901234567890123"),
                "--name", "63");
    set_env(0, "HTTPMODES_NAME", "bad name");
    check_error(NULL, "HTTPMODES_NAME", NULL);
}

/* --db: a postgres:// URL or a libpq conninfo, "off" for the simulated one. */
static void test_db(void **state) {
    (void)state;
    config c;
    char err[256];
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_string_equal(c.db, "");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--db", "postgres://u@127.0.0.1:5432/d")),
                     CONFIG_OK);
    assert_string_equal(c.db, "postgres://u@127.0.0.1:5432/d");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--db=host=/tmp dbname=d")), CONFIG_OK);
    assert_string_equal(c.db, "host=/tmp dbname=d");
    set_env(0, "HTTPMODES_DB", "postgresql://127.0.0.1/d");
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_string_equal(c.db, "postgresql://127.0.0.1/d");
    assert_int_equal(load(&c, err, sizeof err, ARGS("--db", "off")), CONFIG_OK);
    assert_string_equal(c.db, "");
    clear_env(NULL);
    check_error(ARGS("--db", "mysql://127.0.0.1/d"), "--db", "postgres://");
    check_error(ARGS("--db", ""), "--db", NULL);
    set_env(0, "HTTPMODES_DB", "localhost");
    check_error(NULL, "HTTPMODES_DB", "conninfo");
    clear_env(NULL);
    /* --db-timeout: ms, 10 s by default */
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.db_timeout_ms, 10000);
    assert_int_equal(load(&c, err, sizeof err, ARGS("--db-timeout", "250")), CONFIG_OK);
    assert_int_equal(c.db_timeout_ms, 250);
    set_env(0, "HTTPMODES_DB_TIMEOUT", "1500");
    assert_int_equal(load(&c, err, sizeof err, NULL), CONFIG_OK);
    assert_int_equal(c.db_timeout_ms, 1500);
    set_env(0, "HTTPMODES_DB_TIMEOUT", "0");
    check_error(NULL, "HTTPMODES_DB_TIMEOUT", NULL);
    clear_env(NULL);
    check_error(ARGS("--db-timeout", "0"), "--db-timeout", "1 to 600000");
    check_error(ARGS("--db-timeout", "600001"), "--db-timeout", "1 to 600000");
    check_error(ARGS("--db-timeout", "2s"), "--db-timeout", NULL);
    check_error(ARGS("--db-timeout", "-5"), "--db-timeout", NULL);
    /* without --db it does nothing, and the server says so */
    char notes[512];
    assert_int_equal(load(&c, err, sizeof err, ARGS("--db-timeout", "250")), CONFIG_OK);
    assert_int_equal(config_warnings(&c, notes, sizeof notes), 1);
    assert_non_null(strstr(notes, "--db-timeout is ignored without --db"));
    assert_int_equal(load(&c, err, sizeof err, ARGS("--db-timeout", "250", "--db", "host=/tmp")),
                     CONFIG_OK);
    assert_int_equal(config_warnings(&c, notes, sizeof notes), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, clear_env, NULL)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_keep_alive_by_mode),
        T(test_workers_by_mode),
        T(test_option_forms),
        T(test_environment),
        T(test_command_line_wins),
        T(test_bad_command_line),
        T(test_bad_environment),
        T(test_help_and_version),
        T(test_slow_client_defence),
        T(test_workers_warning),
        T(test_name),
        T(test_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
