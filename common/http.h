/* http: the request and response as pages see them. The connection core
 * (conn.c) fills an http_req from the parser and turns an http_resp into
 * bytes; pages only read the one and fill the other. */
#ifndef HTTPMODES_HTTP_H
#define HTTPMODES_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct http_req {
    const char *method; /* method name, e.g. "GET" (static storage) */
    int is_head;        /* 1 for HEAD: the response has no body */
    const char *target; /* request target as sent (borrowed from the connection) */
    const char *path;   /* target's path, without query ("/" for absolute-form without one) */
    const char *query;  /* text after '?', "" when none */
    const char *host;   /* Host header value, or NULL */
    const char *accept; /* Accept header value, or NULL */
    const char *body;   /* request body (not NUL-terminated), may be NULL when body_len is 0 */
    size_t body_len;    /* bytes in body */
    int http_major;     /* protocol version from the request line */
    int http_minor;
} http_req;

typedef struct http_resp {
    int status;               /* status code; 0 until a page sets it */
    const char *content_type; /* Content-Type (static string) */
    const char *allow;        /* Allow header for 405, or NULL */
    buf body;                 /* response body; owned by the response */
    int has_db_wait;          /* 1 when the page waited on the database */
    uint64_t db_wait_us;      /* time spent waiting, reported in X-DB-Wait-Us */
    uint64_t db_queue_us;     /* of it, queued for a pool connection: X-DB-Queue-Us */
} http_resp;

/* Returns the reason phrase for a status code ("OK", "Not Found", ...). */
const char *http_reason(int status);

#endif
