/* accesslog: Common Log Format lines. */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "buf.h"
#include "util.h"

/* In shared memory, so that a reopen asked of the prefork master reaches the
 * workers forked before it. */
struct access_log {
    int fd;                 /* where lines go (the same number in every process) */
    int owns_fd;            /* 1 when the log opened fd and must close it */
    atomic_ulong dropped;   /* lines dropped because the reader of fd stalled */
    atomic_uint generation; /* reopens asked for (access_log_reopen_later) */
    char path[256];         /* the file, to reopen it */
};

static atomic_uint reopened; /* this process: the generation its fd was opened at */

access_log *access_log_open(const char *path, char *err, size_t errlen) {
    int fd = 1, owns = 0;
    if (strcmp(path, "-") != 0) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "--access-log: cannot open '%s': %s", path, strerror(errno));
            return NULL;
        }
        owns = 1;
    }
    access_log *log =
        mmap(NULL, sizeof *log, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (log == MAP_FAILED) {
        snprintf(err, errlen, "--access-log: cannot map shared memory: %s", strerror(errno));
        if (owns)
            close(fd);
        return NULL;
    }
    log->fd = fd;
    log->owns_fd = owns;
    atomic_init(&log->dropped, 0);
    atomic_init(&log->generation, 0);
    atomic_store(&reopened, 0);
    snprintf(log->path, sizeof log->path, "%s", path);
    return log;
}

void access_log_close(access_log *log) {
    if (!log)
        return;
    if (log->owns_fd)
        close(log->fd);
    munmap(log, sizeof *log);
}

void access_log_reopen_later(access_log *log) {
    if (log && log->owns_fd)
        atomic_fetch_add(&log->generation, 1);
}

/* Reopens the file if a reopen was asked since this process last did: the
 * new file takes the old one's descriptor number (dup2), so a thread writing
 * at the same time writes whole lines to one or the other. */
static void reopen_if_asked(access_log *log) {
    unsigned want = atomic_load(&log->generation), seen = atomic_load(&reopened);
    if (want == seen || !atomic_compare_exchange_strong(&reopened, &seen, want))
        return; /* nothing asked, or another thread of ours is on it */
    int fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, log->fd) < 0)
        fprintf(stderr,
                "httpmodes: cannot reopen the access log '%s': %s; still writing to the "
                "old file\n",
                log->path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* Appends s with quotes, backslashes and non-printable bytes escaped as \xHH,
 * so a hostile request target cannot forge log lines; at most max bytes. */
static void put_escaped(buf *b, const char *s, size_t max) {
    size_t start = b->len;
    for (; *s; s++) {
        if (b->len - start >= max) { /* keep every line shorter than PIPE_BUF */
            buf_puts(b, "...");
            return;
        }
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
            buf_printf(b, "\\x%02x", ch);
        else
            buf_append(b, s, 1);
    }
}

void access_log_write(access_log *log, const char *peer, const char *method, const char *target,
                      int http_major, int http_minor, int status, size_t bytes) {
    reopen_if_asked(log);
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    buf line = {0};
    buf_printf(&line, "%s - - [%s] \"", peer && *peer ? peer : "-", when);
    if (method && target) {
        put_escaped(&line, method, 64);
        buf_puts(&line, " ");
        put_escaped(&line, target, 2048);
        buf_printf(&line, " HTTP/%d.%d", http_major, http_minor);
    } else {
        buf_puts(&line, "-");
    }
    buf_printf(&line, "\" %d %zu\n", status, bytes);
    /* A pipe nobody reads (stdout of a stalled log collector) must not stop
     * the server: write only when fd can take it, else drop the line. A
     * pipe that polls writable has a free page, and a line is shorter than
     * PIPE_BUF, so the write cannot block. */
    struct pollfd pfd = {.fd = log->fd, .events = POLLOUT};
    if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT)) {
        if (atomic_fetch_add(&log->dropped, 1) == 0)
            fprintf(stderr, "httpmodes: access log is not being read; dropping lines\n");
        buf_free(&line);
        return;
    }
    size_t off = 0;
    while (off < line.len) {
        ssize_t n = write(log->fd, line.p + off, line.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* a full disk must not stop the server */
        off += (size_t)n;
    }
    buf_free(&line);
}
