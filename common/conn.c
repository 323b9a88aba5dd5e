/* conn: the per-connection state machine. llhttp parses; callbacks copy the
 * few parts of the head the pages need (target, Host, Accept) and the body;
 * after each complete message the parser pauses, the request is routed to a
 * page, and the response is serialised into one buffer for the driver. */
#include "conn.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>

#include "accesslog.h"
#include "dbpool.h"
#include "metrics.h"
#include "pages.h"
#include "timeline.h"
#include "util.h"

enum { HDR_NONE, HDR_HOST, HDR_ACCEPT, HDR_EXPECT, HDR_TRANSFER_ENCODING, HDR_COUNT };
#define ALL_HEADERS ((uint8_t)(((1u << HDR_COUNT) - 1) & ~1u))
#define NO_OFF UINT32_MAX

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char EXPECT_CONTINUE[] = "100-continue";

/* The time now. Inside one conn_feed or conn_wrote (parsing a request and
 * answering it, or finishing a response: microseconds) the clock is read
 * once and kept in the exchange, as nginx reads its clock once per event. It
 * was read ten times per /hello answer, and clock_gettime was the costliest
 * user-space symbol under perf. A CPU page or a database wait happens
 * between two such calls, never inside one, so no kept time hides it. */
static uint64_t now(conn *c) {
    if (c->clock_held && c->x && c->x->clock_us)
        return c->x->clock_us;
    uint64_t t = c->env->now_us ? c->env->now_us() : util_now_us();
    if (c->clock_held && c->x)
        c->x->clock_us = t;
    return t;
}

/* Begins a call from the driver in which now() is kept (see now)... */
static void hold_clock(conn *c) {
    c->clock_held = 1;
    if (c->x)
        c->x->clock_us = 0;
}

/* ...and ends it, passing on what the call returned. */
static conn_want release_clock(conn *c, conn_want w) {
    c->clock_held = 0;
    return w;
}

/* Starts a phase of the connection (see conn_deadline): its time and the
 * bytes that arrive in it count from now. */
static void begin_phase(conn *c) {
    c->phase_us = now(c);
    c->phase_bytes = 0;
}

static conn *of(llhttp_t *p) {
    return (conn *)p->data;
}

/* A request's state as it is before its first byte. */
static conn_request request_fresh(void) {
    return (conn_request){
        .match_bits = ALL_HEADERS, .host_off = NO_OFF, .accept_off = NO_OFF, .page = PAGE_OTHER};
}

/* The exchange of the last request that left one of this thread's
 * connections idle, with its buffers emptied, for the next request that
 * begins on any of them (h2o's recycle bin): else each keep-alive request
 * allocated and freed the exchange and three buffers: about 900 of the
 * 7,469 instructions of a /hello answer (loadtest/instructions). One per
 * thread: a loop's idle connections still hold nothing, but where a thread
 * serves one connection (threads, pool) its spare waits with it (about
 * 1.9 KB after a /hello, which malloc's per-thread cache held before as
 * well: 15,573 B per idle connection in threads, before and after). A
 * buffer grown past SPARE_BUF_MAX is freed, not kept. */
static _Thread_local conn_exchange *spare;
#define SPARE_BUF_MAX 16384
/* A page's body, once copied into out, is kept while the response is being
 * sent up to this size (a slow reader holds both) */
#define KEEP_WHILE_SENDING 1024

/* Empties b for reuse, or frees it when it is bigger than max or failed. */
static void buf_recycle(buf *b, size_t max) {
    if (b->cap > max || b->failed)
        buf_free(b);
    else
        b->len = 0;
}

/* x, its buffers emptied, as it is before a request's first byte. */
static void exchange_fresh(conn_exchange *x) {
    buf_recycle(&x->head, SPARE_BUF_MAX);
    buf_recycle(&x->body, SPARE_BUF_MAX);
    buf_recycle(&x->out, SPARE_BUF_MAX);
    buf_recycle(&x->resp.body, SPARE_BUF_MAX);
    *x = (conn_exchange){.r = request_fresh(),
                         .head = x->head,
                         .body = x->body,
                         .out = x->out,
                         .resp.body = x->resp.body};
}

static void exchange_free(conn_exchange *x) {
    buf_free(&x->head);
    buf_free(&x->body);
    buf_free(&x->out);
    buf_free(&x->resp.body);
    free(x);
}

void conn_thread_done(void) {
    if (spare)
        exchange_free(spare);
    spare = NULL;
    pages_thread_done();
}

/* Returns c's exchange, taken when a request begins (the thread's spare, or
 * a new one); NULL when there is no memory for it (the driver then closes
 * that one connection). */
static conn_exchange *exchange(conn *c) {
    if (c->x)
        return c->x;
    if (spare) {
        c->x = spare;
        spare = NULL;
    } else if ((c->x = calloc(1, sizeof *c->x)) != NULL) {
        c->x->r = request_fresh();
    }
    return c->x;
}

/* Moves c to state on the scoreboard (page: the page it serves, or -1). */
static void board(conn *c, board_state state, int page) {
    if (c->env->timeline && c->board != state)
        timeline_move(c->env->timeline, c->env->lane, (board_state)c->board, state, page, now(c));
    c->board = (uint8_t)state;
}

/* Records why a callback stops the parser. Returns -1 (llhttp's "stop"). */
static int fail(conn *c, int status, const char *why) {
    c->x->r.err_status = (uint16_t)status;
    c->x->r.err_msg = why;
    return -1;
}

/* Takes n more bytes of the server-wide --max-body-memory budget for the
 * body being read. Returns 0, or -1 (stop parsing) with a 503 decided and
 * counted when the budget is spent. */
static int body_take(conn *c, size_t n) {
    metrics *m = c->env->metrics;
    if (metrics_gauge_take(m, GAUGE_BODY_MEMORY, n, c->env->cfg->max_body_memory) != 0) {
        metrics_add(&m->refused_bodies, 1);
        return fail(c, 503, "the server holds too many request bodies (--max-body-memory)");
    }
    c->x->r.body_held += n;
    return 0;
}

/* Gives the body's share of the budget back (its bytes are freed or moved). */
static void body_release(conn *c) {
    if (!c->x)
        return;
    if (c->x->r.body_held)
        metrics_gauge_add(c->env->metrics, GAUGE_BODY_MEMORY, -(int64_t)c->x->r.body_held);
    c->x->r.body_held = 0;
}

/* The body could not be stored: counted with the bodies refused. Returns -1. */
static int body_no_memory(conn *c) {
    metrics_add(&c->env->metrics->refused_bodies, 1);
    return fail(c, 503, "out of memory for the request body");
}

/* Adds n bytes to the head size; past the limit decides on status
 * (414 while in the target, else 431). Returns 0 or -1 (stop parsing). */
static int count_head(conn *c, size_t n, int status) {
    c->x->r.head_bytes += (uint32_t)(n > UINT32_MAX / 2 ? UINT32_MAX / 2 : n);
    if (c->x->r.head_bytes > c->env->cfg->max_header_size)
        return fail(c, status,
                    status == 414 ? "the request target is longer than --max-header-size"
                                  : "the request head is larger than --max-header-size");
    return 0;
}

/* ---- llhttp callbacks ---------------------------------------------------- */

static int on_message_begin(llhttp_t *p) {
    conn *c = of(p);
    if (!exchange(c))
        return -1; /* parse() closes the connection */
    c->in_message = 1;
    begin_phase(c); /* the head must arrive within the header timeout */
    c->x->r.begin_us = c->requests == 0 ? c->accepted_us : c->phase_us;
    board(c, BOARD_READING, -1);
    return 0;
}

static int on_method(llhttp_t *p, const char *at, size_t n) {
    (void)at;
    return count_head(of(p), n, 431);
}

/* The fixed bytes around the parts llhttp reports are charged once per part,
 * in the *_complete callbacks, so the count does not depend on how the bytes
 * were split across reads. The whitespace before a header value is counted
 * as one space, so a head written the usual way is counted to the byte. */
static int on_method_complete(llhttp_t *p) {
    return count_head(of(p), 1, 431); /* SP */
}

static int on_url(llhttp_t *p, const char *at, size_t n) {
    conn *c = of(p);
    if (count_head(c, n, 414) != 0)
        return -1;
    buf_append(&c->x->head, at, n);
    return 0;
}

static int on_url_complete(llhttp_t *p) {
    buf_append(&of(p)->x->head, "", 1);
    return count_head(of(p), 1, 414); /* SP */
}

static int on_version(llhttp_t *p, const char *at, size_t n) {
    (void)at;
    return count_head(of(p), n, 431);
}

static int on_version_complete(llhttp_t *p) {
    return count_head(of(p), 7, 431); /* "HTTP/" and CRLF */
}

/* Header names the core looks at, indexed by HDR_*. Names are matched as
 * they arrive, in any pieces: match_bits keeps the candidates still alive. */
static const char *const known_headers[HDR_COUNT] = {"", "host", "accept", "expect",
                                                     "transfer-encoding"};

static int on_header_field(llhttp_t *p, const char *at, size_t n) {
    conn *c = of(p);
    if (count_head(c, n, 431) != 0)
        return -1;
    /* a name still in the running has matched up to pos, so pos is at most
     * its length: the NUL there differs from any byte of a name (llhttp
     * takes none) and ends its run; once none is left the rest is skipped */
    unsigned bits = c->x->r.match_bits, pos = c->x->r.match_pos;
    for (size_t i = 0; i < n && bits; i++, pos++) {
        char ch = (char)tolower((unsigned char)at[i]);
        for (int k = 1; k < HDR_COUNT; k++)
            if ((bits & (1u << k)) && known_headers[k][pos] != ch)
                bits &= ~(1u << k);
    }
    c->x->r.match_bits = (uint8_t)bits;
    c->x->r.match_pos = (uint8_t)(c->x->r.match_pos + n < 255 ? c->x->r.match_pos + n : 255);
    return 0;
}

static int on_header_field_complete(llhttp_t *p) {
    conn *c = of(p);
    if (c->x->r.match_pos == 0) /* ": value" */
        return fail(c, 400, "a header has an empty name");
    c->x->r.cur_header = HDR_NONE;
    c->x->r.value_pieces = 0;
    if (c->x->r.head_done) /* a chunked body's trailer: counted, never taken as a header */
        return count_head(c, 2, 431);
    for (int k = 1; k < HDR_COUNT; k++)
        if ((c->x->r.match_bits & (1u << k)) && known_headers[k][c->x->r.match_pos] == '\0')
            c->x->r.cur_header = (uint8_t)k;
    if (c->x->r.cur_header == HDR_HOST) {
        if (c->x->r.host_count < 255)
            c->x->r.host_count++;
        c->x->r.host_off = (uint32_t)c->x->head.len;
    } else if (c->x->r.cur_header == HDR_ACCEPT) {
        if (c->x->r.accept_off == NO_OFF)
            c->x->r.accept_off = (uint32_t)c->x->head.len;
        else
            c->x->r.cur_header = HDR_NONE; /* the first Accept counts */
    } else if (c->x->r.cur_header == HDR_TRANSFER_ENCODING) {
        c->x->r.saw_te = 1;
    }
    c->x->r.match_bits = 1;       /* for Expect: bit 0 = the value still matches */
    c->x->r.match_pos = 0;        /* for Expect: bytes of the value matched so far */
    return count_head(c, 2, 431); /* ": " (one space, as nearly every client sends) */
}

static int on_header_value(llhttp_t *p, const char *at, size_t n) {
    conn *c = of(p);
    if (count_head(c, n, 431) != 0)
        return -1;
    /* llhttp reports a value in one piece unless the read ended inside it; a
     * second piece after one that did not reach the end of the read means
     * llhttp unfolded an obs-fold line ("Foo: a\r\n Content-Length: 3"),
     * which RFC 9112 5.2 lets a server reject — and a smuggling shape. */
    if (c->x->r.value_pieces && !c->x->r.value_cut)
        return fail(c, 400, "a header line is folded (obs-fold): send it on one line");
    c->x->r.value_pieces = 1;
    c->x->r.value_cut = at + n == c->exec_end;
    if (c->x->r.cur_header == HDR_HOST || c->x->r.cur_header == HDR_ACCEPT) {
        buf_append(&c->x->head, at, n);
    } else if (c->x->r.cur_header == HDR_EXPECT) {
        /* compare with "100-continue" as the value arrives, in any pieces */
        for (size_t i = 0; i < n && (c->x->r.match_bits & 1); i++) {
            if (c->x->r.match_pos >= sizeof EXPECT_CONTINUE - 1 ||
                tolower((unsigned char)at[i]) != EXPECT_CONTINUE[c->x->r.match_pos])
                c->x->r.match_bits = 0;
            else
                c->x->r.match_pos++;
        }
    }
    return 0;
}

static int on_header_value_complete(llhttp_t *p) {
    conn *c = of(p);
    if (c->x->r.cur_header == HDR_HOST || c->x->r.cur_header == HDR_ACCEPT) {
        buf_append(&c->x->head, "", 1);
    } else if (c->x->r.cur_header == HDR_EXPECT) {
        if (!(c->x->r.match_bits & 1) || c->x->r.match_pos != sizeof EXPECT_CONTINUE - 1)
            return fail(c, 417, "the only expectation supported is 100-continue");
        c->x->r.expect_continue = 1;
    }
    c->x->r.cur_header = HDR_NONE;
    c->x->r.match_bits = ALL_HEADERS; /* the next name may be any of them */
    c->x->r.match_pos = 0;
    return count_head(c, 2, 431); /* CRLF */
}

static const char *head_error(const conn *c);

static int on_headers_complete(llhttp_t *p) {
    conn *c = of(p);
    c->x->r.head_done = 1;
    if (c->x->head.failed)
        return fail(c, 503, "out of memory for the request head");
    if (count_head(c, 2, 431) != 0) /* the empty line */
        return -1;
    if (c->x->r.saw_te && (p->flags & F_CONTENT_LENGTH))
        /* llhttp rejects this itself unless every Transfer-Encoding is empty:
         * two framings for one body is a request-smuggling shape */
        return fail(c, 400, "both Content-Length and Transfer-Encoding");
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->env->cfg->max_body_size)
        return fail(c, 413, "the request body is larger than --max-body-size");
    const char *bad = head_error(c); /* answered now, not after a body that may never come */
    if (bad)
        return fail(c, 400, bad);
    /* an announced body takes its share of the budget, and its memory, whole
     * and at once: refused before a byte of it is read */
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0) {
        if (body_take(c, (size_t)p->content_length) != 0)
            return -1;
        if (buf_reserve(&c->x->body, (size_t)p->content_length) != 0)
            return body_no_memory(c);
    }
    begin_phase(c); /* the body gets its own header-timeout budget */
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n) {
    conn *c = of(p);
    if (c->x->body.len + n > c->env->cfg->max_body_size)
        return fail(c, 413, "the request body is larger than --max-body-size");
    if (c->x->body.len + n > c->x->r.body_held &&
        body_take(c, c->x->body.len + n - c->x->r.body_held) != 0)
        return -1; /* a chunked body takes the budget as it grows */
    buf_append(&c->x->body, at, n);
    return c->x->body.failed ? body_no_memory(c) : 0;
}

static int on_message_complete(llhttp_t *p) {
    of(p)->in_message = 0;
    return HPE_PAUSED; /* one request at a time: resume after the response */
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_method = on_method,
    .on_method_complete = on_method_complete,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_version = on_version,
    .on_version_complete = on_version_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- request validation ---------------------------------------------------- */

/* Returns 1 for a valid dotted-quad IPv4 address (no leading zeros). */
static int ipv4_valid(const char *s, size_t n) {
    int parts = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '.')
            j++;
        uint64_t v;
        if (j - i > 3 || (j - i > 1 && s[i] == '0') || util_parse_u64(s + i, j - i, 255, &v) != 0)
            return 0;
        parts++;
        i = j + 1;
    }
    return parts == 4;
}

/* Returns 1 when s[0..n) is a valid authority: host[:port] with host a
 * registered name, a dotted-quad IPv4 address or a bracketed IPv6 address.
 * Numeric-looking hosts must be exact dotted quads (no 0x7f.1 or 017700000001). */
static int authority_valid(const char *s, size_t n) {
    size_t host_end = n;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        char tmp[64];
        unsigned char addr[16];
        size_t alen = close ? (size_t)(close - s - 1) : 0;
        if (!close || alen == 0 || alen >= sizeof tmp)
            return 0;
        memcpy(tmp, s + 1, alen);
        tmp[alen] = 0;
        if (inet_pton(AF_INET6, tmp, addr) != 1)
            return 0;
        host_end = (size_t)(close - s) + 1;
        if (host_end < n && s[host_end] != ':')
            return 0;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon)
            host_end = (size_t)(colon - s);
        int numeric = host_end > 0;
        for (size_t i = 0; i < host_end; i++) {
            unsigned char ch = (unsigned char)s[i];
            if (!isalnum(ch) && !strchr("-._~!$&'()*+,;=", ch))
                return 0;
            if (!isxdigit(ch) && ch != '.' && ch != 'x' && ch != 'X')
                numeric = 0;
        }
        /* a name whose last label starts with a digit is an IPv4 address */
        size_t last = host_end;
        while (last > 0 && s[last - 1] != '.')
            last--;
        if (numeric && last < host_end && isdigit((unsigned char)s[last]) &&
            !ipv4_valid(s, host_end))
            return 0;
    }
    if (host_end < n) { /* ":port" */
        uint64_t port;
        if (host_end + 1 == n)
            return 1; /* empty port is allowed */
        if (util_parse_u64(s + host_end + 1, n - host_end - 1, 65535, &port) != 0)
            return 0;
    }
    return 1;
}

/* Returns where the path of target t begins, or NULL for a target that is
 * not origin-form, absolute-form or "*". */
static const char *target_path(const char *t) {
    if (t[0] == '/' || strcmp(t, "*") == 0)
        return t;
    size_t scheme = strncasecmp(t, "http://", 7) == 0    ? 7
                    : strncasecmp(t, "https://", 8) == 0 ? 8
                                                         : 0;
    if (!scheme)
        return NULL;
    const char *auth = t + scheme;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || !authority_valid(auth, alen))
        return NULL;
    return auth + alen;
}

/* Returns why a complete request head must be answered 400, or NULL. Run at
 * the end of the head, before any body is read. */
static const char *head_error(const conn *c) {
    const llhttp_t *p = &c->parser;
    const char *t = c->x->head.p;
    if (p->http_major == 0)
        return "HTTP/0.9 is not served here";
    if (c->x->r.host_count > 1)
        return "more than one Host header";
    if (c->x->r.host_count == 0 && (p->http_major > 1 || p->http_minor >= 1))
        return "HTTP/1.1 requests need a Host header";
    if (!target_path(t))
        return "the request target must be a path or an http:// URL";
    if (strchr(t, '#')) /* RFC 9112 3.2: a client never sends the fragment */
        return "the request target must not have a #fragment";
    if (strcmp(t, "*") == 0 && p->method != HTTP_OPTIONS)
        return "the request target * is only for OPTIONS";
    const char *host = c->x->r.host_off != NO_OFF ? c->x->head.p + c->x->r.host_off : NULL;
    if (host && *host && !authority_valid(host, strlen(host)))
        return "the Host header is not a valid host[:port]";
    return NULL;
}

/* Splits the target (checked by head_error) into path and query copies
 * appended to head (so they are NUL-terminated). Returns 0, or -1 for a
 * target that is not origin-form, absolute-form or "*". Offsets are returned
 * through *path_off / *query_off. */
static int split_target(conn *c, size_t *path_off, size_t *query_off) {
    const char *t = c->x->head.p;
    const char *path = target_path(t);
    if (!path)
        return -1;
    size_t plen = strcspn(path, "?#");
    size_t qlen = path[plen] == '?' ? strcspn(path + plen + 1, "#") : 0;
    size_t pstart = (size_t)(path - t), qstart = pstart + plen + 1;
    *path_off = c->x->head.len;
    if (plen == 0)
        buf_append(&c->x->head, "/", 1);
    else
        buf_append(&c->x->head, c->x->head.p + pstart, plen);
    buf_append(&c->x->head, "", 1);
    *query_off = c->x->head.len;
    if (qlen)
        buf_append(&c->x->head, c->x->head.p + qstart, qlen);
    buf_append(&c->x->head, "", 1);
    return 0;
}

/* ---- responses ------------------------------------------------------------- */

/* The response cannot be had for lack of memory: frees the bodies and
 * makes it a short 503, after which the connection closes. */
static void no_memory(conn *c, http_resp *r) {
    buf_free(&r->body);
    buf_free(&c->x->body);
    body_release(c);
    c->close_after = 1;
    route_error(r, 503, "out of memory for this response");
}

/* Appends a header line's start (its "\r\n" ends the line before) and value. */
static void put_header(buf *b, const char *start, const char *value) {
    buf_puts(b, start);
    buf_puts(b, value);
}

static void put_header_u64(buf *b, const char *start, unsigned long long value) {
    buf_puts(b, start);
    buf_put_u64(b, value);
}

static void reset_request(conn *c, int idle);

/* Not even a short answer fits in memory: sends the static 503, then
 * closes. A response already begun ends here: it is out of the in-flight
 * count, and its exchange is given back (conn_destroy must not count it). */
static conn_want static_503(conn *c) {
    if (c->x) {
        if (c->state == CS_WRITING)
            metrics_gauge_add(c->env->metrics, GAUGE_IN_FLIGHT, -1);
        reset_request(c, 1);
    }
    c->state = CS_WRITING;
    c->close_after = 1;
    c->no_memory = 1;
    c->static_off = 0;
    c->phase_us = now(c);
    return CONN_WANT_WRITE;
}

/* Serialises resp into out and moves to CS_WRITING (the static 503 when
 * not even a short answer fits in memory). */
static conn_want send_response(conn *c) {
    http_resp *r = &c->x->resp;
    const config *cfg = c->env->cfg;
    if (!c->close_after) {
        int keep = cfg->keep_alive && llhttp_should_keep_alive(&c->parser) && !c->peer_eof &&
                   !(c->env->stopping && *c->env->stopping);
        c->close_after = !keep;
    }
    if (r->body.failed) /* the page's body could not be built */
        no_memory(c, r);
    uint64_t end = now(c);
    const char *date = util_http_date();
    c->x->out.len = 0;
    c->x->out_off = 0;
    /* one allocation of the right size: a 1 MiB echo must not cost 2 MiB */
    if (buf_reserve(&c->x->out, 512 + (c->x->req.is_head ? 0 : r->body.len)) != 0) {
        buf_free(&c->x->out);
        no_memory(c, r);
    }
    /* appended piece by piece, no printf: with vsnprintf a /hello answer
     * took 11,315 instructions in event, now 8,728 (loadtest/instructions) */
    buf *o = &c->x->out;
    buf_puts(o, "HTTP/1.1 ");
    buf_put_u64(o, (unsigned)r->status);
    buf_puts(o, " ");
    buf_puts(o, http_reason(r->status));
    put_header(o, "\r\nServer: httpmodes/", HTTPMODES_VERSION);
    put_header(o, "\r\nDate: ", date);
    put_header(
        o, "\r\nContent-Type: ", r->content_type ? r->content_type : "text/plain; charset=utf-8");
    put_header_u64(o, "\r\nContent-Length: ", r->body.len);
    put_header(o, "\r\nConnection: ", c->close_after ? "close" : "keep-alive");
    put_header(o, "\r\nX-Content-Type-Options: ", "nosniff");
    put_header(o, "\r\nX-Mode: ", config_mode_name(cfg->mode));
    put_header_u64(o, "\r\nX-Worker: ", (unsigned long long)c->env->worker);
    put_header_u64(o, "\r\nX-Lane: ", c->env->lane);
    put_header_u64(o, "\r\nX-Request-Start-Us: ", c->x->r.start_us);
    put_header_u64(o, "\r\nX-Request-End-Us: ", end);
    if (cfg->name[0]) /* --name: which replica behind a load balancer answered */
        put_header(o, "\r\nX-Replica: ", cfg->name);
    if (r->allow)
        put_header(o, "\r\nAllow: ", r->allow);
    if (r->status == 503) /* a busy server, not a broken one: come back */
        buf_puts(o, "\r\nRetry-After: 1");
    if (r->has_db_wait) {
        put_header_u64(o, "\r\nX-DB-Wait-Us: ", r->db_wait_us);
        put_header_u64(o, "\r\nX-DB-Queue-Us: ", r->db_queue_us);
        buf_puts(o, "\r\nServer-Timing: db;dur="); /* ms with 3 decimals: the µs */
        buf_put_fixed(o, r->db_wait_us, 3);
        if (cfg->db_pool) { /* the part of it spent queueing for a connection */
            buf_puts(o, ", dbqueue;dur=");
            buf_put_fixed(o, r->db_queue_us, 3);
        }
    }
    buf_puts(o, "\r\n\r\n"); /* the last header's end, then the head's */
    if (!c->x->req.is_head)
        buf_append(&c->x->out, r->body.p, r->body.len);
    /* the bytes are in out now: drop the copies while the response leaves
     * (a small one's room is kept for the next, see spare) */
    c->x->body_bytes = c->x->req.is_head ? 0 : r->body.len;
    buf_recycle(&r->body, KEEP_WHILE_SENDING);
    buf_free(&c->x->body);
    body_release(c);
    c->x->req.body = NULL;
    c->x->req.body_len = 0;
    c->state = CS_WRITING;
    if (c->x->out.failed) /* not even the head fits */
        return static_503(c);
    c->phase_us = end;  /* the response must leave within the header timeout */
    c->phase_bytes = 0; /* and reach the client at --min-send-rate (conn_unsent) */
    board(c, BOARD_WRITING, (int)c->x->r.page);
    return CONN_WANT_WRITE;
}

/* Starts a response (counted in flight until it is written). */
static void begin_response(conn *c, page_id page) {
    c->state = CS_WRITING;
    c->x->r.page = page;
    c->x->r.start_us = now(c);
    /* refused before a byte arrived (503, or a TLS port spoken to in clear) */
    if (!c->x->r.begin_us)
        c->x->r.begin_us = c->accepted_us;
    metrics_gauge_add(c->env->metrics, GAUGE_IN_FLIGHT, 1);
}

/* The answer when not even a request's exchange or its response head can
 * be allocated (static_503): static, so that a client is still told (and
 * retries) instead of seeing a close. */
static const char NO_MEMORY_503[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                    "Content-Type: text/plain; charset=utf-8\r\n"
                                    "Content-Length: 31\r\nConnection: close\r\n"
                                    "Retry-After: 1\r\n\r\n"
                                    "out of memory for this request\n";

/* Answers an error and closes the connection after it. */
static conn_want send_error(conn *c, int status, const char *msg) {
    if (!exchange(c)) /* no memory even for the request */
        return static_503(c);
    if (c->state == CS_READING)
        begin_response(c, PAGE_OTHER);
    c->close_after = 1;
    route_error(&c->x->resp, status, "%s", msg);
    return send_response(c);
}

/* The page's work is done: render (if it has a finish step) and send. */
static conn_want next_step(conn *c);

static conn_want finish_page(conn *c) {
    page_call *pc = &c->x->call;
    if (c->x->r.route && c->x->r.route->finish && c->x->resp.status == 0) {
        pc->plan = (db_plan){0};
        c->x->r.route->finish(pc);
        pc->stage++;
        if (c->x->resp.status == 0 && (pc->work || pc->plan.batches > 0))
            return next_step(c); /* the page goes on: more waits or work */
    }
    if (c->x->resp.status == 0)
        route_error(&c->x->resp, 500, "the page produced no response");
    return send_response(c);
}

/* The page's step asked for work (CPU) or waits (a plan), rendered, or
 * neither: returns what the driver must do next. */
static conn_want next_step(conn *c) {
    page_call *pc = &c->x->call;
    if (c->x->resp.status != 0)
        return send_response(c);
    if (pc->work) {
        c->state = CS_WORK;
        board(c, BOARD_CPU, (int)c->x->r.page);
        return CONN_WANT_WORK;
    }
    if (pc->plan.batches > 0) {
        c->state = CS_DB;
        c->x->r.db_batches = 0;
        c->x->r.db_start_us = c->x->r.batch_start_us = now(c);
        board(c, BOARD_DB, (int)c->x->r.page);
        return CONN_WANT_DB;
    }
    return finish_page(c);
}

/* Routes the complete request in head/body to its page. */
static conn_want dispatch(conn *c) {
    begin_response(c, PAGE_OTHER);
    size_t path_off, query_off;
    http_req *q = &c->x->req;
    q->method = llhttp_method_name((llhttp_method_t)c->parser.method);
    q->is_head = c->parser.method == HTTP_HEAD;
    q->http_major = c->parser.http_major;
    q->http_minor = c->parser.http_minor;
    if (split_target(c, &path_off, &query_off) != 0) /* head_error() let it through: a bug */
        return send_error(c, 400, "the request target must be a path or an http:// URL");
    /* resolve offsets into pointers now that head will not grow again */
    q->target = c->x->head.p;
    q->path = c->x->head.p + path_off;
    q->query = c->x->head.p + query_off;
    q->host = c->x->r.host_off != NO_OFF ? c->x->head.p + c->x->r.host_off : NULL;
    q->accept = c->x->r.accept_off != NO_OFF ? c->x->head.p + c->x->r.accept_off : NULL;
    q->body = c->x->body.p;
    q->body_len = c->x->body.len;
    if (strcmp(q->target, "*") == 0) { /* OPTIONS * (head_error refused any other method) */
        c->x->resp.status = 200;
        c->x->resp.allow = ROUTE_SERVER_ALLOW;
        return send_response(c);
    }
    c->x->r.route = route_find(c->env->routes, q->path);
    if (!c->x->r.route) {
        route_error(&c->x->resp, 404, "no page at this path; see / for the list");
        return send_response(c);
    }
    c->x->r.page = c->x->r.route->id;
    if (!route_allows(c->x->r.route, q->method)) {
        route_error(&c->x->resp, 405, "this page allows %s", c->x->r.route->allow);
        c->x->resp.allow = c->x->r.route->allow;
        return send_response(c);
    }
    c->x->call = (page_call){.env = c->env, .req = q, .resp = &c->x->resp};
    c->x->r.route->start(&c->x->call);
    return next_step(c);
}

/* Clears the per-request state for the next request, keeping the buffers
 * for reuse. With idle (the connection goes idle, or is destroyed) the
 * exchange leaves the connection, so an idle keep-alive connection holds
 * only struct conn: it becomes the thread's spare, or is freed when there
 * is one. */
static void reset_request(conn *c, int idle) {
    conn_exchange *x = c->x;
    if (!x)
        return;
    body_release(c);
    exchange_fresh(x);
    if (idle) {
        c->x = NULL;
        if (spare)
            exchange_free(x);
        else
            spare = x;
    }
}

/* ---- parsing --------------------------------------------------------------- */

/* Returns a short description of a parse error for the 400 page. */
static const char *parse_error_text(const conn *c) {
    const char *reason = llhttp_get_error_reason(&c->parser);
    return reason && *reason ? reason : "malformed request";
}

/* Runs the parser over in[0..n). from_pending: in points into c->pending. */
static conn_want parse(conn *c, const char *in, size_t n, int from_pending) {
    c->exec_end = in + n;
    llhttp_errno_t e = llhttp_execute(&c->parser, in, n);
    c->exec_end = NULL;
    if (e == HPE_PAUSED) {
        size_t used = (size_t)(llhttp_get_error_pos(&c->parser) - in);
        if (c->parser.upgrade) {
            /* Upgrade or CONNECT: the bytes after this request would belong
             * to another protocol, which is not served here. Answer this
             * request, then close. */
            c->close_after = 1;
            used = n;
        }
        if (from_pending) {
            c->pending_off += used;
        } else if (used < n) {
            buf_append(&c->pending, in + used, n - used);
            c->pending_off = 0;
            if (c->pending.failed) { /* the pipelined requests are lost: say so by closing */
                buf_free(&c->pending);
                c->close_after = 1;
            }
        }
        return dispatch(c);
    }
    if (from_pending) { /* everything left was consumed */
        buf_free(&c->pending);
        c->pending_off = 0;
    }
    if (e != HPE_OK) {
        if (!c->x) /* on_message_begin found no memory for the request */
            return send_error(c, 503, "out of memory");
        if (c->x->r.err_status)
            return send_error(c, c->x->r.err_status, c->x->r.err_msg);
        return send_error(c, 400, parse_error_text(c));
    }
    if (c->in_message && c->x->r.head_done && c->x->r.expect_continue && c->x->body.len == 0) {
        c->x->r.expect_continue = 0; /* once per request */
        c->x->out.len = 0;
        buf_append(&c->x->out, CONTINUE_100, sizeof CONTINUE_100 - 1);
        c->x->out_off = 0;
        c->state = CS_INTERIM;
        begin_phase(c);
        return CONN_WANT_WRITE;
    }
    if (!c->in_message && (!c->x || c->x->head.len == 0)) /* idle: keep nothing allocated */
        reset_request(c, 1);
    return CONN_WANT_READ;
}

/* Writes the request just answered to the timeline (the live view). */
static void record(conn *c) {
    timeline *t = c->env->timeline;
    if (!t)
        return;
    const page_call *pc = &c->x->call;
    timeline_rec rec = {.lane = c->env->lane,
                        .worker = (int32_t)c->env->worker,
                        .page = (uint16_t)c->x->r.page,
                        .status = (uint16_t)c->x->resp.status,
                        .accepted_us = c->accepted_us,
                        .begin_us = c->x->r.begin_us,
                        .start_us = c->x->r.start_us,
                        .end_us = now(c),
                        .nphases = pc->nphases,
                        .more_phases = pc->more_phases};
    memcpy(rec.phases, pc->phases, sizeof rec.phases);
    timeline_add(t, &rec);
    timeline_count_request(t, c->env->lane);
}

/* ---- public interface ------------------------------------------------------ */

conn_want conn_init(conn *c, const server_env *env, const char *peer) {
    memset(c, 0, sizeof *c);
    c->env = env;
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
    if (peer && inet_pton(AF_INET, peer, c->peer) == 1)
        c->peer_len = 4;
    else if (peer && inet_pton(AF_INET6, peer, c->peer) == 1)
        c->peer_len = 16;
    c->state = CS_READING;
    c->accepted_us = now(c);
    begin_phase(c);
    reset_request(c, 1);
    board(c, BOARD_READING, -1);
    metrics_add(&env->metrics->accepted, 1);
    metrics_gauge_add(env->metrics, GAUGE_OPEN, 1);
    return CONN_WANT_READ;
}

void conn_destroy(conn *c) {
    if (!c->env)
        return; /* already destroyed */
    if ((c->state == CS_DB || c->state == CS_WORK || c->state == CS_WRITING) && c->x)
        metrics_gauge_add(c->env->metrics, GAUGE_IN_FLIGHT, -1);
    metrics_gauge_add(c->env->metrics, GAUGE_OPEN, -1);
    board(c, BOARD_NONE, -1);
    reset_request(c, 1);
    buf_free(&c->pending);
    c->state = CS_CLOSED;
    c->env = NULL;
}

conn_want conn_feed(conn *c, const char *in, size_t n) {
    if (c->state != CS_READING)
        return CONN_CLOSE; /* a driver bug; never feed outside WANT_READ */
    hold_clock(c);
    conn_want w = release_clock(c, parse(c, in, n, 0));
    /* counted after parsing, so that the bytes of the read that began a
     * phase (a request's first bytes, a body after its head) count in it —
     * unless the phase is a response leaving: its bytes are the client's */
    if (c->state == CS_READING)
        c->phase_bytes += n;
    return w;
}

conn_want conn_eof(conn *c) {
    c->peer_eof = 1;
    if (c->state != CS_READING)
        return CONN_CLOSE;
    if (c->in_message) /* the client stopped in the middle of a request */
        return send_error(c, 400, "the connection was closed before the request was complete");
    return CONN_CLOSE;
}

const char *conn_out(const conn *c, size_t *len) {
    if (c->no_memory) {
        *len = sizeof NO_MEMORY_503 - 1 - c->static_off;
        return NO_MEMORY_503 + c->static_off;
    }
    *len = c->x->out.len - c->x->out_off;
    return c->x->out.p + c->x->out_off;
}

/* Formats c's peer address into out (INET6_ADDRSTRLEN bytes); NULL when unknown. */
static const char *peer_text(const conn *c, char *out) {
    if (!c->peer_len)
        return NULL;
    return inet_ntop(c->peer_len == 4 ? AF_INET : AF_INET6, c->peer, out, INET6_ADDRSTRLEN);
}

static conn_want wrote(conn *c, size_t n);

conn_want conn_wrote(conn *c, size_t n) {
    hold_clock(c);
    return release_clock(c, wrote(c, n));
}

static conn_want wrote(conn *c, size_t n) {
    if (c->state != CS_WRITING && c->state != CS_INTERIM)
        return CONN_CLOSE;
    if (c->no_memory) { /* the static 503: then close */
        c->static_off = (uint16_t)(c->static_off + n);
        if (c->static_off < sizeof NO_MEMORY_503 - 1)
            return CONN_WANT_WRITE;
        c->state = CS_CLOSED;
        return CONN_CLOSE;
    }
    c->x->out_off += n;
    if (c->x->out_off < c->x->out.len)
        return CONN_WANT_WRITE;
    begin_phase(c);               /* idle (keep-alive timeout), or reading the body */
    if (c->state == CS_INTERIM) { /* 100 Continue sent: read the body */
        c->x->out.len = c->x->out_off = 0;
        c->state = CS_READING;
        return CONN_WANT_READ;
    }
    /* the response is complete */
    metrics_gauge_add(c->env->metrics, GAUGE_IN_FLIGHT, -1);
    metrics_count_response(c->env->metrics, c->x->r.page, c->x->resp.status);
    char peer[INET6_ADDRSTRLEN];
    if (c->env->log)
        access_log_write(c->env->log, peer_text(c, peer), c->x->req.method, c->x->req.target,
                         c->x->req.http_major, c->x->req.http_minor, c->x->resp.status,
                         c->x->body_bytes);
    c->requests++;
    record(c);
    c->state = CS_READING;
    board(c, c->close_after ? BOARD_NONE : BOARD_KEEPALIVE, -1);
    if (c->close_after) {
        c->state = CS_CLOSED;
        return CONN_CLOSE;
    }
    size_t left = c->pending.len - c->pending_off;
    reset_request(c, left == 0);
    if (left == 0) {
        buf_free(&c->pending);
        c->pending_off = 0;
    }
    llhttp_resume(&c->parser);
    if (left > 0)
        return parse(c, c->pending.p + c->pending_off, left, 1);
    return c->peer_eof ? CONN_CLOSE : CONN_WANT_READ;
}

const db_plan *conn_db(const conn *c) {
    return &c->x->call.plan;
}

static conn_want db_done(conn *c);

conn_want conn_db_done(conn *c) {
    hold_clock(c);
    return release_clock(c, db_done(c));
}

static conn_want db_done(conn *c) {
    if (c->state != CS_DB)
        return CONN_CLOSE;
    const db_plan *plan = &c->x->call.plan;
    uint64_t end = now(c);
    if (plan->kind == PHASE_DB)
        metrics_add(&c->env->metrics->db_queries, plan->per_batch);
    /* the queries the driver did not time itself ran together: the batch */
    for (unsigned i = c->x->r.db_marked; i < plan->per_batch; i++)
        route_phase(&c->x->call, (phase_kind)plan->kind, c->x->r.batch_start_us, end);
    c->x->r.db_marked = 0;
    c->x->r.batch_start_us = end;
    c->x->call.db_queue_us += c->x->r.batch_queue_us;
    c->x->r.batch_queue_us = 0;
    if (++c->x->r.db_batches < plan->batches)
        return CONN_WANT_DB;
    uint64_t waited = now(c) - c->x->r.db_start_us;
    c->x->call.db_wait_us += waited; /* a page may wait in several steps */
    if (plan->kind == PHASE_DB)
        metrics_add(&c->env->metrics->db_wait_us, (int64_t)waited);
    return finish_page(c);
}

uint64_t conn_db_next_us(conn *c) {
    static _Atomic uint64_t draws; /* without a pool (unit tests): this process's count */
    const db_plan *plan = &c->x->call.plan;
    uint64_t n = c->env->dbpool ? dbpool_next_draw(c->env->dbpool) : atomic_fetch_add(&draws, 1);
    return db_draw_us(c->env->cfg, plan, n);
}

void conn_db_queued(conn *c, uint64_t start_us, uint64_t end_us) {
    if (c->state != CS_DB || end_us < start_us)
        return;
    route_phase(&c->x->call, PHASE_DBQUEUE, start_us, end_us);
    if (end_us - start_us > c->x->r.batch_queue_us)
        c->x->r.batch_queue_us = end_us - start_us;
}

conn_want conn_db_fail(conn *c, const char *why) {
    if (c->state != CS_DB)
        return CONN_CLOSE;
    c->x->call.db_wait_us += now(c) - c->x->r.db_start_us;
    return send_error(c, 503, why);
}

void conn_work(conn *c) {
    page_call *pc = &c->x->call;
    void (*work)(page_call *) = pc->work;
    pc->work = NULL;
    if (c->state == CS_WORK && work)
        work(pc);
}

conn_want conn_work_done(conn *c) {
    if (c->state != CS_WORK)
        return CONN_CLOSE;
    hold_clock(c);
    return release_clock(c, finish_page(c));
}

void conn_db_query(conn *c, uint64_t start_us, uint64_t end_us) {
    if (c->state != CS_DB || c->x->r.db_marked >= c->x->call.plan.per_batch)
        return;
    c->x->r.db_marked++;
    route_phase(&c->x->call, (phase_kind)c->x->call.plan.kind, start_us, end_us);
}

/* Returns the deadline of a request head or body under way: the header
 * timeout from the start of its phase, and with the defence on no later than
 * --min-rate allows for the bytes fed so far. Sets *slow when the rate is
 * what ends it first. */
static uint64_t arriving_deadline(const conn *c, int *slow) {
    const config *cfg = c->env->cfg;
    uint64_t deadline = c->phase_us + (uint64_t)cfg->header_timeout_s * 1000000u;
    *slow = 0;
    if (cfg->slow_client_defence && cfg->min_rate) {
        uint64_t rate =
            c->phase_us + CONN_MIN_RATE_GRACE_US + c->phase_bytes * 1000000u / cfg->min_rate;
        if (rate < deadline) {
            deadline = rate;
            *slow = 1;
        }
    }
    return deadline;
}

/* 1 when a response leaving is held to --min-send-rate (instead of the
 * header timeout). */
static int send_paced(const conn *c) {
    return c->env->cfg->slow_client_defence && c->env->cfg->min_send_rate;
}

void conn_unsent(conn *c, size_t unsent) {
    if ((c->state != CS_WRITING && c->state != CS_INTERIM) || !send_paced(c) || !c->x)
        return;
    /* phase_bytes: what the client had received at the last look; each
     * --min-send-rate bytes received since pay for one second past phase_us,
     * but no more than up to now: a client banks at most the grace ahead */
    uint64_t got = c->x->out_off > unsent ? c->x->out_off - unsent : 0;
    if (got <= c->phase_bytes)
        return;
    uint64_t paid = c->phase_us + (got - c->phase_bytes) * 1000000u / c->env->cfg->min_send_rate;
    uint64_t t = now(c);
    c->phase_us = paid < t ? paid : t;
    c->phase_bytes = got;
}

uint64_t conn_deadline(const conn *c) {
    /* Every phase has a total budget from its start (phase_us), which bytes
     * that trickle in or out never extend: the request head and then its
     * body each get --header-timeout, a response leaving gets
     * --header-timeout, and an idle connection --keep-alive-timeout (the
     * first request: --header-timeout from the connection, or with the
     * defence on --first-byte-timeout until its first byte). */
    const config *cfg = c->env->cfg;
    uint64_t header = (uint64_t)cfg->header_timeout_s * 1000000u;
    int slow;
    switch ((conn_state)c->state) {
    case CS_READING:
        if (c->in_message)
            return arriving_deadline(c, &slow);
        if (c->requests == 0 && cfg->slow_client_defence && cfg->first_byte_s &&
            cfg->first_byte_s < cfg->header_timeout_s)
            return c->phase_us + (uint64_t)cfg->first_byte_s * 1000000u;
        if (c->requests == 0)
            return c->phase_us + header;
        return c->phase_us + (uint64_t)cfg->keepalive_timeout_s * 1000000u;
    case CS_WRITING:
    case CS_INTERIM:
        if (send_paced(c)) /* phase_us moves as the client receives (conn_unsent) */
            return c->phase_us + CONN_MIN_RATE_GRACE_US;
        return c->phase_us + header;
    case CS_DB:
    case CS_WORK:
    case CS_CLOSED:
        break;
    }
    return 0;
}

uint64_t conn_crowded_deadline(const conn *c) {
    uint64_t deadline = conn_deadline(c);
    if ((c->state == CS_WRITING || c->state == CS_INTERIM) && send_paced(c))
        return c->phase_us + CONN_CROWDED_US; /* what it received must pay up to 100 ms ago */
    if (c->env->cfg->slow_client_defence && c->state == CS_READING &&
        (c->in_message || c->requests == 0) && deadline > c->phase_us + CONN_CROWDED_US)
        return c->phase_us + CONN_CROWDED_US;
    return deadline;
}

conn_want conn_timed_out(conn *c) {
    int slow;
    if (c->state == CS_READING && c->in_message) {
        if (now(c) < arriving_deadline(c, &slow)) /* conn_crowded_deadline ended it */
            return send_error(c, 408,
                              "the request was too slow while other clients waited "
                              "(--slow-client-defence)");
        return send_error(c, 408,
                          slow ? "the request arrived too slowly (--min-rate)"
                               : "the request took too long to arrive (--header-timeout)");
    }
    if (c->state == CS_WRITING || c->state == CS_INTERIM) {
        /* nothing can be said to a client that does not read: just close */
        metrics_add(&c->env->metrics->send_timeouts, 1);
    }
    return CONN_CLOSE;
}

conn_want conn_refuse(conn *c, int status, const char *why) {
    if (c->state != CS_READING)
        return CONN_CLOSE;
    return send_error(c, status, why);
}

int conn_idle(const conn *c) {
    return c->state == CS_READING && !c->in_message && c->pending.len == c->pending_off;
}

int conn_fresh(const conn *c) {
    return c->requests == 0 && conn_idle(c);
}

uint64_t conn_stop_deadline(const conn *c, uint64_t grace_end) {
    uint64_t deadline = conn_deadline(c);
    if (conn_fresh(c) && (!deadline || deadline > grace_end))
        return grace_end;
    return deadline;
}
