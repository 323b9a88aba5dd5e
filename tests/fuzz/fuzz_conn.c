/* fuzz_conn: libFuzzer target for the connection core. The input is split
 * into a settings byte, then request bytes fed in chunks whose sizes come
 * from the input; responses are "written" in partial pieces and database
 * plans complete at once. Any crash, leak, UB or broken invariant (a
 * response that does not start with a status line, a want out of order)
 * is a bug. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "metrics.h"
#include "util.h"

static uint64_t fake_now;
static uint64_t clock_fn(void) {
    return fake_now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static metrics *m;
    if (!m)
        m = metrics_create();
    if (size < 2)
        return 0;
    config cfg;
    config_defaults(&cfg);
    uint8_t knobs = data[0];
    cfg.keep_alive = knobs & 1;
    if (knobs & 2) { /* small limits so every limit path is reachable */
        cfg.max_header_size = 256;
        cfg.max_body_size = 16;
    }
    cfg.max_iterations = 50; /* keep /cpu cheap */
    cfg.cpu_iterations = 10;
    server_env env = {.cfg = &cfg, .metrics = m, .now_us = clock_fn};
    uint8_t split = data[1] ? data[1] : 1;
    data += 2;
    size -= 2;

    conn c;
    conn_want w = conn_init(&c, &env, "127.0.0.1");
    size_t off = 0, steps = 0;
    int eof_sent = 0;
    while (w != CONN_CLOSE && steps++ < 100000) {
        fake_now += 1000;
        switch (w) {
        case CONN_WANT_READ:
            if (off < size) {
                size_t n = size - off < split ? size - off : split;
                w = conn_feed(&c, (const char *)data + off, n);
                off += n;
            } else if (!eof_sent) {
                eof_sent = 1;
                w = (knobs & 4) ? conn_timed_out(&c) : conn_eof(&c);
            } else {
                w = CONN_CLOSE;
            }
            break;
        case CONN_WANT_WRITE: {
            size_t len;
            const char *out = conn_out(&c, &len);
            assert(len > 0);
            if (c.x && c.x->out_off == 0)
                assert(len >= 9 && memcmp(out, "HTTP/1.1 ", 9) == 0);
            size_t n = len > 7 && (knobs & 8) ? len / 2 : len;
            w = conn_wrote(&c, n);
            break;
        }
        case CONN_WANT_DB:
            assert(conn_db(&c)->per_batch > 0);
            w = conn_db_done(&c);
            break;
        case CONN_CLOSE:
            break;
        }
    }
    conn_destroy(&c);
    return 0;
}
