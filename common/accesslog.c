/* accesslog: Common Log Format lines. */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

struct access_log {
    int fd;      /* where lines go */
    int owns_fd; /* 1 when the log opened fd and must close it */
};

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
    access_log *log = xmalloc(sizeof *log);
    log->fd = fd;
    log->owns_fd = owns;
    return log;
}

void access_log_close(access_log *log) {
    if (!log)
        return;
    if (log->owns_fd)
        close(log->fd);
    free(log);
}

/* Appends s with quotes, backslashes and non-printable bytes escaped as \xHH,
 * so a hostile request target cannot forge log lines. */
static void put_escaped(buf *b, const char *s) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
            buf_printf(b, "\\x%02x", ch);
        else
            buf_append(b, s, 1);
    }
}

void access_log_write(access_log *log, const char *peer, const char *method, const char *target,
                      int http_major, int http_minor, int status, size_t bytes) {
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    buf line = {0};
    buf_printf(&line, "%s - - [%s] \"", peer && *peer ? peer : "-", when);
    if (method && target) {
        put_escaped(&line, method);
        buf_puts(&line, " ");
        put_escaped(&line, target);
        buf_printf(&line, " HTTP/%d.%d", http_major, http_minor);
    } else {
        buf_puts(&line, "-");
    }
    buf_printf(&line, "\" %d %zu\n", status, bytes);
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
