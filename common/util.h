/* util: small helpers shared by every module — the out-of-memory policy,
 * the monotonic clock, worker ids and strict number parsing.
 *
 * Out-of-memory policy, in two parts:
 * - Memory a client decides the size of (request bodies, responses,
 *   pipelined bytes: every buf) never aborts: buf marks itself failed
 *   (buf.h) and the core answers that one request 503, or closes that one
 *   connection; the event loop closes a connection whose struct it cannot
 *   allocate, threads mode answers 503. A flood of large bodies costs its own
 *   requests, not everyone's (it used to abort the whole server).
 * - The x* allocators, for small fixed-size state (a request's exchange,
 *   start-up tables), never return NULL: they print a message and abort(),
 *   as in redis. A server that cannot allocate a few hundred bytes cannot do
 *   anything useful, and checking each would bury the protocol code.
 * Budgets keep the first part rare: --max-body-memory and
 * --max-connections. */
#ifndef HTTPMODES_UTIL_H
#define HTTPMODES_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Returns a new block of n bytes (never NULL; aborts on OOM). Caller frees. */
void *xmalloc(size_t n);
/* Returns a zeroed block of n*size bytes (never NULL). Caller frees. */
void *xcalloc(size_t n, size_t size);
/* Returns p resized to n bytes (never NULL). p may be NULL. */
void *xrealloc(void *p, size_t n);
/* Returns a heap copy of s (never NULL). Caller frees. */
char *xstrdup(const char *s);

/* Returns CLOCK_MONOTONIC in microseconds: comparable across the threads and
 * processes of one machine, so request intervals from prefork workers line up. */
uint64_t util_now_us(void);

/* Returns the CPU time the calling thread has used, in microseconds
 * (CLOCK_THREAD_CPUTIME_ID): what a request cost, whoever else ran. */
uint64_t util_thread_cpu_us(void);

/* Returns the current time as an HTTP Date value ("Sun, 06 Nov 1994
 * 08:49:37 GMT"), formatted at most once a second per thread: the string
 * lives in a thread-local buffer, valid until the caller's next call. */
const char *util_http_date(void);

/* Returns the kernel thread id of the caller (equal to the pid in a
 * single-threaded process): the "worker" that serves a request. */
long util_worker_id(void);

/* Parses a whole decimal string (digits only, no sign, no spaces) into *out.
 * Returns 0; -1 if s is empty, has another character or exceeds max. */
int util_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/* Case-insensitive comparison of s[0..len) with the NUL-terminated lit.
 * Returns 1 when equal. */
int util_ieq(const char *s, size_t len, const char *lit);

#endif
