/* testutil: helpers shared by the unit tests — a fake monotonic clock, a
 * server_env fixture, a driver that runs a conn over input chunks with no
 * sockets, an HTTP response parser and a small structural JSON checker.
 * Header-only (static functions) so each test executable stays one file. */
#ifndef HTTPMODES_TESTUTIL_H
#define HTTPMODES_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "metrics.h"
#include "route.h"

/* ---- fake clock ------------------------------------------------------------ */

#define TU_LANE 3      /* the lane the fixture's "driver" serves on */
#define TU_WORKER 4242 /* and its worker id */

static uint64_t tu_clock_us; /* what tu_now() returns; tests move it by hand */

static inline uint64_t tu_now(void) {
    return tu_clock_us;
}

/* ---- environment fixture ----------------------------------------------------- */

typedef struct tu_env {
    config cfg;     /* config_defaults(), tests may change fields */
    metrics *m;     /* fresh shared-memory counters */
    server_env env; /* points at cfg and m, fake clock, no log */
    conn c;         /* one connection (conn_init is up to the test) */
} tu_env;

static inline int tu_setup(void **state) {
    tu_env *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    config_defaults(&t->cfg);
    t->m = metrics_create();
    if (!t->m)
        return -1;
    /* the driver says who serves (the core never asks the OS) */
    t->env = (server_env){.cfg = &t->cfg,
                          .metrics = t->m,
                          .now_us = tu_now,
                          .lane = TU_LANE,
                          .worker = TU_WORKER,
                          .listen_fd = -1};
    tu_clock_us = 5000000; /* 5 s */
    *state = t;
    return 0;
}

static inline int tu_teardown(void **state) {
    tu_env *t = *state;
    if (t->c.env)
        conn_destroy(&t->c);
    metrics_destroy(t->m);
    free(t);
    return 0;
}

/* ---- driving a connection -------------------------------------------------- */

typedef struct tu_log {
    buf out;           /* every byte the driver "wrote" */
    char wants[4096];  /* one letter per want returned: R W D C */
    size_t nwants;     /* letters in wants */
    db_plan plans[64]; /* each conn_db() seen */
    size_t nplans;     /* entries in plans */
} tu_log;

static inline char tu_want_letter(conn_want w) {
    return w == CONN_WANT_READ    ? 'R'
           : w == CONN_WANT_WRITE ? 'W'
           : w == CONN_WANT_DB    ? 'D'
           : w == CONN_WANT_WORK  ? 'K'
                                  : 'C';
}

static inline conn_want tu_note(tu_log *l, conn_want w) {
    if (l->nwants + 1 < sizeof l->wants)
        l->wants[l->nwants++] = tu_want_letter(w);
    l->wants[l->nwants] = 0;
    return w;
}

/* Carries out what the core wants until it wants bytes or closes: writes
 * conn_out() in pieces of at most wsize bytes (0 = all at once), runs each
 * database batch by moving the fake clock by its delay. */
static inline conn_want tu_pump(conn *c, conn_want w, size_t wsize, tu_log *l) {
    while (w == CONN_WANT_WRITE || w == CONN_WANT_DB || w == CONN_WANT_WORK) {
        if (w == CONN_WANT_WRITE) {
            size_t len;
            const char *p = conn_out(c, &len);
            assert_true(len > 0);
            size_t n = wsize && wsize < len ? wsize : len;
            buf_append(&l->out, p, n);
            w = tu_note(l, conn_wrote(c, n));
        } else if (w == CONN_WANT_WORK) {
            conn_work(c);
            w = tu_note(l, conn_work_done(c));
        } else {
            const db_plan *plan = conn_db(c);
            if (l->nplans < sizeof l->plans / sizeof l->plans[0])
                l->plans[l->nplans++] = *plan;
            tu_clock_us += (uint64_t)plan->delay_ms * 1000u;
            w = tu_note(l, conn_db_done(c));
        }
    }
    return w;
}

/* Feeds in[0..n) as one read and pumps. */
static inline conn_want tu_feed(conn *c, const char *in, size_t n, size_t wsize, tu_log *l) {
    return tu_pump(c, tu_note(l, conn_feed(c, in, n)), wsize, l);
}

static inline conn_want tu_feeds(conn *c, const char *s, tu_log *l) {
    return tu_feed(c, s, strlen(s), 0, l);
}

/* Returns a heap copy of s[0..n) with the values of the Date and X-Worker
 * headers (which vary) replaced by "*". Caller frees. */
static inline char *tu_mask(const char *s, size_t n) {
    buf b = {0};
    size_t i = 0;
    while (i < n) {
        int line_start = i == 0 || (i >= 2 && s[i - 2] == '\r' && s[i - 1] == '\n');
        const char *names[] = {"Date: ", "X-Worker: "};
        int masked = 0;
        for (size_t k = 0; line_start && k < 2 && !masked; k++) {
            size_t kl = strlen(names[k]);
            if (n - i >= kl && memcmp(s + i, names[k], kl) == 0) {
                const char *eol = memchr(s + i, '\r', n - i);
                if (!eol)
                    continue;
                buf_append(&b, names[k], kl);
                buf_append(&b, "*", 1);
                i = (size_t)(eol - s);
                masked = 1;
            }
        }
        if (!masked)
            buf_append(&b, s + i++, 1);
    }
    buf_append(&b, "", 1);
    return b.p;
}

/* ---- parsing responses ----------------------------------------------------- */

typedef struct tu_resp {
    int status;          /* status code */
    char reason[64];     /* reason phrase */
    int nh;              /* headers */
    char name[40][64];   /* header names */
    char value[40][512]; /* header values */
    const char *body;    /* body (points into the parsed bytes) */
    size_t body_len;     /* body bytes */
    size_t total;        /* bytes of this response */
} tu_resp;

/* Parses one response at s[0..n). no_body: a HEAD response (Content-Length
 * without body). Returns 0, or -1 when the bytes are not a whole response. */
static inline int tu_parse(const char *s, size_t n, int no_body, tu_resp *r) {
    memset(r, 0, sizeof *r);
    const char *end = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(s + i, "\r\n\r\n", 4) == 0) {
            end = s + i;
            break;
        }
    if (!end)
        return -1;
    const char *eol = memmem(s, n, "\r\n", 2);
    if (eol - s < 13 || memcmp(s, "HTTP/1.1 ", 9) != 0 || s[12] != ' ')
        return -1;
    r->status = atoi(s + 9);
    snprintf(r->reason, sizeof r->reason, "%.*s", (int)(eol - s - 13), s + 13);
    const char *p = eol + 2;
    while (p < end + 2) {
        const char *le = memmem(p, (size_t)(end + 4 - p), "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon || r->nh == 40 || colon[1] != ' ')
            return -1;
        snprintf(r->name[r->nh], sizeof r->name[0], "%.*s", (int)(colon - p), p);
        snprintf(r->value[r->nh], sizeof r->value[0], "%.*s", (int)(le - colon - 2), colon + 2);
        r->nh++;
        p = le + 2;
    }
    size_t head = (size_t)(end - s) + 4;
    size_t clen = 0;
    for (int i = 0; i < r->nh; i++)
        if (strcasecmp(r->name[i], "Content-Length") == 0)
            clen = strtoul(r->value[i], NULL, 10);
    if (r->status == 100 || no_body)
        clen = 0;
    if (n - head < clen)
        return -1;
    r->body = s + head;
    r->body_len = clen;
    r->total = head + clen;
    return 0;
}

/* Returns the value of header name, or NULL; *count (may be NULL) gets how
 * many times it appears. */
static inline const char *tu_hdr_n(const tu_resp *r, const char *name, int *count) {
    const char *v = NULL;
    int k = 0;
    for (int i = 0; i < r->nh; i++)
        if (strcasecmp(r->name[i], name) == 0) {
            if (!v)
                v = r->value[i];
            k++;
        }
    if (count)
        *count = k;
    return v;
}

static inline const char *tu_hdr(const tu_resp *r, const char *name) {
    return tu_hdr_n(r, name, NULL);
}

/* Asserts that header name appears exactly once with value want. */
#define TU_HDR_EQ(r, name, want)                                                                   \
    do {                                                                                           \
        int n_;                                                                                    \
        const char *v_ = tu_hdr_n((r), (name), &n_);                                               \
        assert_int_equal(n_, 1);                                                                   \
        assert_string_equal(v_, (want));                                                           \
    } while (0)

/* ---- JSON structure check -------------------------------------------------- */

static inline const char *tu_json_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static inline const char *tu_json_value(const char *p, int depth);

static inline const char *tu_json_string(const char *p) {
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static inline const char *tu_json_number(const char *p) {
    const char *s = p;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p > s ? p : NULL;
}

static inline const char *tu_json_value(const char *p, int depth) {
    if (depth > 32)
        return NULL;
    p = tu_json_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = tu_json_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                p = tu_json_string(p);
                if (!p)
                    return NULL;
                p = tu_json_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = tu_json_value(p, depth + 1);
            if (!p)
                return NULL;
            p = tu_json_ws(p);
            if (*p == ',') {
                p = tu_json_ws(p + 1);
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    if (*p == '"')
        return tu_json_string(p);
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    return tu_json_number(p);
}

/* Returns 1 when s[0..n) is exactly one JSON value (surrounding whitespace allowed). */
static inline int tu_json_valid(const char *s, size_t n) {
    char *z = malloc(n + 1);
    memcpy(z, s, n);
    z[n] = 0;
    int ok = strlen(z) == n;
    const char *p = ok ? tu_json_value(z, 0) : NULL;
    ok = p && *tu_json_ws(p) == 0;
    free(z);
    return ok;
}

/* Returns 1 when the NUL-free s[0..n) contains needle. */
static inline int tu_contains(const char *s, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

#endif
