/* accesslog: one Common Log Format line per response, written with a single
 * write() to an O_APPEND file so lines from threads and prefork workers never
 * interleave. */
#ifndef HTTPMODES_ACCESSLOG_H
#define HTTPMODES_ACCESSLOG_H

#include <stddef.h>

typedef struct access_log access_log;

/* Opens path for appending ("-" = standard output). Returns a new log, or
 * NULL with a message in err. Close with access_log_close(). */
access_log *access_log_open(const char *path, char *err, size_t errlen);
void access_log_close(access_log *log);

/* Asks every process and thread writing to log to reopen its file (log
 * rotation: SIGUSR1) before its next line. Async-signal-safe. */
void access_log_reopen_later(access_log *log);

/* Writes one line: peer, request line parts, status and body bytes sent.
 * Reopens the file first if access_log_reopen_later() was called since this
 * process last did (a failure is said on stderr; lines go on to the old file). */
void access_log_write(access_log *log, const char *peer, const char *method, const char *target,
                      int http_major, int http_minor, int status, size_t bytes);

#endif
