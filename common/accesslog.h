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

/* Writes one line: peer, request line parts, status and body bytes sent. */
void access_log_write(access_log *log, const char *peer, const char *method, const char *target,
                      int http_major, int http_minor, int status, size_t bytes);

#endif
