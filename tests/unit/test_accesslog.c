/* test_accesslog: Common Log Format lines in a temporary file, escaping of
 * hostile request targets, and one line per response through the core. */
#include "testutil.h"

#include <regex.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "accesslog.h"

typedef struct fixture {
    char path[64]; /* temporary log file */
    tu_env *t;     /* environment for the through-the-core test */
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/httpmodes-accesslog-XXXXXX");
    int fd = mkstemp(f->path);
    if (fd < 0)
        return -1;
    close(fd);
    void *t;
    if (tu_setup(&t) != 0)
        return -1;
    f->t = t;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    unlink(f->path);
    void *t = f->t;
    tu_teardown(&t);
    free(f);
    return 0;
}

/* Returns the whole file as a NUL-terminated heap string. */
static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        buf_append(&b, tmp, n);
    fclose(fp);
    buf_append(&b, "", 1);
    return b.p;
}

/* Asserts that line matches the extended regular expression re. */
static void assert_matches(const char *line, const char *re) {
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&rx, line, 0, NULL, 0);
    regfree(&rx);
    if (rc != 0)
        fail_msg("\"%s\" does not match %s", line, re);
}

#define CLF_DATE "\\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \\+0000\\]"

static void test_common_log_format(void **state) {
    fixture *f = *state;
    char err[256] = "";
    access_log *log = access_log_open(f->path, err, sizeof err);
    assert_non_null(log);
    time_t before = time(NULL);
    access_log_write(log, "192.0.2.7", "GET", "/hello?x=1", 1, 1, 200, 14);
    access_log_write(log, NULL, NULL, NULL, 1, 1, 408, 0);
    access_log_write(log, "::1", "HEAD", "/", 1, 0, 404, 0);
    time_t after = time(NULL);
    access_log_close(log);
    char *text = slurp(f->path);
    char *l1 = text, *l2 = strchr(l1, '\n'), *l3, *end;
    assert_non_null(l2);
    *l2++ = 0;
    l3 = strchr(l2, '\n');
    assert_non_null(l3);
    *l3++ = 0;
    end = strchr(l3, '\n');
    assert_non_null(end);
    *end = 0;
    assert_string_equal(end + 1, ""); /* exactly three lines */
    assert_matches(l1, "^192\\.0\\.2\\.7 - - " CLF_DATE " \"GET /hello\\?x=1 HTTP/1\\.1\" 200 14$");
    assert_matches(l2, "^- - - " CLF_DATE " \"-\" 408 0$");
    assert_matches(l3, "^::1 - - " CLF_DATE " \"HEAD / HTTP/1\\.0\" 404 0$");
    /* the time is now, in UTC */
    struct tm tm = {0};
    const char *rest = strptime(strchr(l1, '[') + 1, "%d/%b/%Y:%H:%M:%S +0000]", &tm);
    assert_non_null(rest);
    time_t when = timegm(&tm);
    assert_true(when >= before && when <= after);
    free(text);
}

static void test_escaping(void **state) {
    fixture *f = *state;
    char err[256] = "";
    access_log *log = access_log_open(f->path, err, sizeof err);
    assert_non_null(log);
    access_log_write(log, "10.0.0.1", "GET", "/a\"b\\c\nd\re\tf\x7fg\x80h", 1, 1, 400, 5);
    access_log_close(log);
    char *text = slurp(f->path);
    assert_string_equal(text + strcspn(text, "\""),
                        "\"GET /a\\x22b\\x5cc\\x0ad\\x0de\\x09f\\x7fg\\x80h HTTP/1.1\" 400 5\n");
    /* one line: the newline in the target did not end it */
    assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text));
    free(text);
}

static void test_appends_and_open_error(void **state) {
    fixture *f = *state;
    char err[256] = "";
    for (int i = 0; i < 2; i++) {
        access_log *log = access_log_open(f->path, err, sizeof err);
        assert_non_null(log);
        access_log_write(log, "1.1.1.1", "GET", "/", 1, 1, 200, 1);
        access_log_close(log);
    }
    char *text = slurp(f->path);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_non_null(strchr(nl + 1, '\n')); /* the second open appended */
    free(text);
    assert_null(access_log_open("/nonexistent-dir/x/y.log", err, sizeof err));
    assert_non_null(strstr(err, "--access-log"));
    assert_non_null(strstr(err, "/nonexistent-dir/x/y.log"));
    access_log_close(NULL); /* safe */
}

/* Log rotation: once the file is renamed and a reopen asked (SIGUSR1), the
 * next line goes to a new file at the path — also in a process forked before
 * the ask (a prefork worker), whose copy of the log sees the shared request. */
static void test_reopen(void **state) {
    fixture *f = *state;
    char err[256] = "", rotated[300];
    snprintf(rotated, sizeof rotated, "%s.1", f->path);
    access_log *log = access_log_open(f->path, err, sizeof err);
    assert_non_null(log);
    access_log_write(log, "1.1.1.1", "GET", "/old", 1, 1, 200, 1);
    assert_int_equal(rename(f->path, rotated), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) { /* a worker: writes once the parent has asked */
        for (int i = 0; i < 500 && access(f->path, F_OK) != 0; i++) {
            access_log_write(log, "2.2.2.2", "GET", "/child", 1, 1, 200, 1);
            usleep(10000);
        }
        _exit(access(f->path, F_OK) == 0 ? 0 : 1);
    }
    usleep(50000);
    access_log_reopen_later(log);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0); /* the child reopened the path */
    access_log_write(log, "1.1.1.1", "GET", "/new", 1, 1, 200, 1);
    access_log_close(log);
    char *old = slurp(rotated), *now = slurp(f->path);
    assert_non_null(strstr(old, "/old"));
    assert_null(strstr(old, "/new"));
    assert_non_null(strstr(now, "/new"));
    assert_non_null(strstr(now, "/child"));
    free(old);
    free(now);
    unlink(rotated);
}

/* The core writes one line per finished response (the status and body
 * bytes actually sent: none for HEAD). */
static void test_through_conn(void **state) {
    fixture *f = *state;
    tu_env *t = f->t;
    char err[256] = "";
    t->env.log = access_log_open(f->path, err, sizeof err);
    assert_non_null(t->env.log);
    tu_log l = {0};
    conn_init(&t->c, &t->env, "203.0.113.9");
    assert_int_equal(tu_feeds(&t->c,
                              "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                              "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                              "GET /nope HTTP/1.0\r\n\r\n",
                              &l),
                     CONN_CLOSE);
    conn_destroy(&t->c);
    access_log_close(t->env.log);
    t->env.log = NULL;
    buf_free(&l.out);
    char *text = slurp(f->path);
    assert_matches(text,
                   "^203\\.0\\.113\\.9 - - " CLF_DATE " \"GET /hello HTTP/1\\.1\" 200 14\n"
                   "203\\.0\\.113\\.9 - - " CLF_DATE " \"HEAD /hello HTTP/1\\.1\" 200 0\n"
                   "203\\.0\\.113\\.9 - - " CLF_DATE " \"GET /nope HTTP/1\\.0\" 404 [0-9]+\n$");
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_common_log_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appends_and_open_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_through_conn, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
