/* buf: a growable byte buffer, the one container the core uses for request
 * heads, bodies, pipelined leftovers and responses.
 *
 * Growth never aborts: a buffer that cannot grow is marked failed (like
 * stdio's ferror), keeps what it had and ignores later appends until
 * buf_free. Request bodies and responses are as large as a client makes
 * them, so the core checks `failed` and answers that one request 503 (or
 * closes its connection) instead of taking the whole server down. */
#ifndef HTTPMODES_BUF_H
#define HTTPMODES_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct buf {
    char *p;    /* heap bytes (NULL until the first append); owned */
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
    int failed; /* 1 once an allocation failed: appends are dropped until buf_free */
} buf;

/* Appends n bytes of s (which may lie inside b); grows as needed (on
 * failure marks b failed and appends nothing). */
void buf_append(buf *b, const void *s, size_t n);
/* Makes room for n more bytes without changing len (one allocation of the
 * right size before a large append). Returns 0; -1 with b marked failed
 * when the memory cannot be had. */
int buf_reserve(buf *b, size_t n);
/* Appends a NUL-terminated string (inline: a literal's length is known at
 * compile time). */
static inline void buf_puts(buf *b, const char *s) {
    buf_append(b, s, strlen(s));
}
/* Appends printf-formatted text (no terminating NUL is counted in len). */
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v in decimal (no printf: a page's numbers on the hot path). */
void buf_put_u64(buf *b, unsigned long long v);
/* Appends the fixed-point number v / 10^decimals with exactly that many
 * digits after the point (100246 with 3: "100.246"; decimals 0: v). */
void buf_put_fixed(buf *b, unsigned long long v, unsigned decimals);
/* Appends s with &, <, >, " and ' replaced by HTML entities. */
void buf_html(buf *b, const char *s);
/* Appends s as the inside of a JSON string (quotes, backslashes, controls escaped). */
void buf_json(buf *b, const char *s);
/* Frees the memory and leaves an empty buffer (no longer failed). */
void buf_free(buf *b);

#endif
