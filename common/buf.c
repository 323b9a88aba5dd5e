/* buf: growable byte buffer with formatted and escaped appends. */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Grows b to hold at least need bytes. Returns 0, or -1 with b marked
 * failed (b keeps its bytes). */
static int grow(buf *b, size_t need) {
    if (b->failed)
        return -1;
    char *p = need < b->len ? NULL : realloc(b->p, need); /* need < len: it overflowed */
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = need;
    return 0;
}

static int reserve(buf *b, size_t extra) {
    if (b->len + extra <= b->cap)
        return b->failed ? -1 : 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra && cap < SIZE_MAX / 2)
        cap *= 2;
    return grow(b, cap < b->len + extra ? b->len + extra : cap);
}

int buf_reserve(buf *b, size_t n) {
    if (b->len + n <= b->cap)
        return b->failed ? -1 : 0;
    return grow(b, b->len + n);
}

void buf_append(buf *b, const void *s, size_t n) {
    if (b->len + n <= b->cap && !b->failed) { /* fits: the common case, a response head */
        if (n)
            memcpy(b->p + b->len, s, n); /* memmove is not needed: s inside b is before len */
        b->len += n;
        return;
    }
    if (n == 0)
        return;
    /* s may point into b itself (a copy of part of the buffer): keep its
     * offset across the reallocation */
    const char *src = s;
    int inside = b->p && src >= b->p && src < b->p + b->len;
    size_t at = inside ? (size_t)(src - b->p) : 0;
    if (reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, inside ? b->p + at : src, n);
    b->len += n;
}

void buf_printf(buf *b, const char *fmt, ...) {
    if (b->failed)
        return;
    /* format once into the room already there (the common case: a response
     * head into the space send_response reserved); only text that does not
     * fit is measured, the buffer grown, and formatted again */
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n < room) {
        b->len += (size_t)n;
        return;
    }
    if (reserve(b, (size_t)n + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_put_u64(buf *b, unsigned long long v) {
    char d[20]; /* 2^64 has 20 digits */
    size_t n = sizeof d;
    do
        d[--n] = (char)('0' + v % 10);
    while (v /= 10);
    buf_append(b, d + n, sizeof d - n);
}

void buf_put_fixed(buf *b, unsigned long long v, unsigned decimals) {
    if (decimals > 19) /* 10^19 is the largest power of ten in 64 bits */
        decimals = 19;
    unsigned long long scale = 1;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    buf_put_u64(b, v / scale);
    if (decimals == 0)
        return;
    char frac[20] = {'.'};
    unsigned long long f = v % scale;
    for (unsigned i = decimals; i > 0; i--, f /= 10)
        frac[i] = (char)('0' + f % 10);
    buf_append(b, frac, decimals + 1);
}

void buf_html(buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&#39;");
            break;
        default:
            buf_append(b, s, 1);
        }
    }
}

void buf_json(buf *b, const char *s) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            buf_append(b, e, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            buf_printf(b, "\\u%04x", ch);
        } else {
            buf_append(b, s, 1);
        }
    }
}

void buf_free(buf *b) {
    free(b->p);
    *b = (buf){0};
}
