/* openloop: an open-loop HTTP/1.1 load generator for the load-test lab, on
 * one libev loop (the project's own dependency; wrk2, which does this, is not
 * packaged in Debian 12).
 *
 *   openloop --url http://127.0.0.1:PORT/db --rate 500 --duration 5 --connections 100
 *
 * Requests are due at fixed times — every 1/R seconds, or at Poisson arrivals
 * of mean rate R with --poisson — whatever the server does. A due request
 * goes out on an idle connection (opening one if fewer than --connections are
 * open); when all are busy it waits in the client's queue, as a user's click
 * would. Its latency is measured from its *intended* send time, not from when
 * a connection was free to send it, so a server that stalls is charged for
 * every request due during the stall (wrk2's answer to coordinated omission;
 * wrk's closed loop simply sends less).
 *
 * At the end it prints one JSON line on stdout:
 *   {"openloop":1,"rate":R,"poisson":0|1,"duration_s":T,"connections":C,
 *    "scheduled":N,"sent":N,"completed":N,"errors":{"connect":N,"read":N,
 *    "write":N,"status":N,"timeout":N},"unsent":N,"opened":N,"max_queue":N,
 *    "achieved_rps":X,"latency_us":{"p50":..,"p90":..,"p99":..,"p99.9":..,
 *    "max":..,"mean":..}}
 * latency_us covers the completed requests (any status); a request not
 * answered within --timeout of its intended time counts as a timeout and
 * has no latency, and one still queued at the end (never sent) as unsent.
 * --print-schedule N prints the first N intended send times (µs from the
 * start) as a JSON list and exits: the tests check the schedule with it.
 *
 * Loopback only: the lab loads 127.0.0.1 or ::1. Exit 0 after a run, 2 on a
 * bad argument. */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <llhttp.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SCHEDULED 20000000L /* rate x duration: 80 MB of send times at most */

typedef enum { C_CLOSED, C_CONNECTING, C_IDLE, C_BUSY } cstate;

typedef struct client client;

typedef struct cn {
    client *cl;      /* the run it belongs to */
    int fd;          /* the socket, or -1 */
    cstate st;       /* where it is */
    ev_io w;         /* its read/write watcher */
    llhttp_t parser; /* response parser, reset per connection */
    int done;        /* set by on_message_complete */
    int status;      /* status of the response being read */
    long req;        /* index of the request in flight, or -1 */
    size_t sent;     /* bytes of the request written so far */
} cn;

struct client {
    struct ev_loop *loop;         /* the loop */
    struct sockaddr_storage addr; /* the server */
    socklen_t addrlen;            /* its length */
    char *request;                /* the GET request bytes */
    size_t reqlen;                /* their length */
    int64_t *due;                 /* intended send times, µs from start */
    long n;                       /* how many are scheduled */
    long next;                    /* the next request not yet due/queued */
    long queue_head;              /* first request due but not yet sent */
    long max_queue;               /* most requests ever waiting in the queue */
    cn *conns;                    /* the connections */
    int nconns;                   /* how many may be open */
    int64_t t0;                   /* the start, µs on CLOCK_MONOTONIC */
    int64_t timeout_us;           /* --timeout */
    int64_t end_us;               /* the last due time + timeout: give up after */
    uint32_t *lat;                /* latencies of completed requests, µs */
    long nlat;                    /* how many */
    long sent, opened, completed_in_window;
    long e_connect, e_read, e_write, e_status, e_timeout;
    double duration_s;          /* --duration */
    ev_timer tick;              /* fires at the next due time */
    ev_timer sweep;             /* looks for timed-out requests */
    llhttp_settings_t settings; /* the parser's callbacks */
};

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift64*: a small, seeded generator so a Poisson schedule can be
 * repeated (--seed). */
static uint64_t rng_state = 88172645463325252ULL;
static double rng_unit(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t x = rng_state * 2685821657736338717ULL;
    return ((x >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

/* Fills due[0..n) with the intended send times: i/R, or Poisson arrivals
 * (exponential gaps of mean 1/R). */
static void make_schedule(int64_t *due, long n, double rate, int poisson) {
    double t = 0;
    for (long i = 0; i < n; i++) {
        if (poisson) {
            t += -log(rng_unit()) / rate;
            due[i] = (int64_t)(t * 1e6);
        } else {
            due[i] = (int64_t)((double)i * 1e6 / rate);
        }
    }
}

static void conn_close(cn *c) {
    if (c->fd >= 0) {
        ev_io_stop(c->cl->loop, &c->w);
        close(c->fd);
    }
    c->fd = -1;
    c->st = C_CLOSED;
    c->req = -1;
}

static void dispatch(client *cl);

/* One request finished (answered, failed or given up on): the connection
 * is free for the next queued one. */
static void finish(cn *c, int keep) {
    c->req = -1;
    if (keep) {
        c->st = C_IDLE;
        ev_io_stop(c->cl->loop, &c->w);
        ev_io_set(&c->w, c->fd, EV_READ); /* an idle close is noticed */
        ev_io_start(c->cl->loop, &c->w);
    } else {
        conn_close(c);
    }
    dispatch(c->cl);
}

static int on_status_complete(llhttp_t *p) {
    cn *c = p->data;
    c->status = p->status_code;
    return 0;
}

static int on_message_complete(llhttp_t *p) {
    cn *c = p->data;
    c->done = 1;
    return HPE_PAUSED;
}

static void record(cn *c) {
    client *cl = c->cl;
    int64_t t = now_us() - cl->t0;
    int64_t lat = t - cl->due[c->req];
    if (lat < 0)
        lat = 0;
    if (c->status >= 400)
        cl->e_status++;
    cl->lat[cl->nlat++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
    if (t <= (int64_t)(cl->duration_s * 1e6))
        cl->completed_in_window++;
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents);

/* Starts sending request i on c (connecting first when it is closed). */
static void start_request(cn *c, long i) {
    client *cl = c->cl;
    c->req = i;
    c->sent = 0;
    c->done = 0;
    c->status = 0;
    if (c->st == C_CLOSED) {
        int fd = socket(cl->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            cl->e_connect++;
            c->req = -1;
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        cl->opened++;
        llhttp_init(&c->parser, HTTP_RESPONSE, &cl->settings);
        c->parser.data = c;
        if (connect(fd, (struct sockaddr *)&cl->addr, cl->addrlen) != 0 && errno != EINPROGRESS) {
            cl->e_connect++;
            conn_close(c);
            return;
        }
        c->st = C_CONNECTING;
    } else {
        c->st = C_BUSY;
    }
    cl->sent++;
    ev_io_stop(cl->loop, &c->w);
    ev_io_set(&c->w, c->fd, EV_WRITE);
    ev_io_start(cl->loop, &c->w);
}

/* Hands the queued, due requests to free connections: idle ones first, then
 * closed ones (opened on the way). A request already older than the timeout
 * when its turn comes is counted as a timeout and not sent. */
static void dispatch(client *cl) {
    int64_t t = now_us() - cl->t0;
    while (cl->queue_head < cl->next) {
        if (t - cl->due[cl->queue_head] > cl->timeout_us) {
            cl->e_timeout++;
            cl->queue_head++;
            continue;
        }
        cn *pick = NULL;
        for (int k = 0; k < cl->nconns && !pick; k++)
            if (cl->conns[k].st == C_IDLE)
                pick = &cl->conns[k];
        for (int k = 0; k < cl->nconns && !pick; k++)
            if (cl->conns[k].st == C_CLOSED)
                pick = &cl->conns[k];
        if (!pick)
            return;
        long i = cl->queue_head++;
        start_request(pick, i);
        if (pick->req < 0) /* could not even open a socket: try the next later */
            return;
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
    cn *c = w->data;
    client *cl = c->cl;
    (void)loop;
    if (c->st == C_IDLE && (revents & EV_READ)) { /* the server closed an idle one */
        char b[256];
        ssize_t r = read(c->fd, b, sizeof b);
        if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
            conn_close(c);
            dispatch(cl);
        }
        return;
    }
    if (c->st == C_CONNECTING && (revents & EV_WRITE)) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            cl->e_connect++;
            conn_close(c);
            dispatch(cl);
            return;
        }
        c->st = C_BUSY;
    }
    if (c->st != C_BUSY)
        return;
    if (revents & EV_WRITE) {
        while (c->sent < cl->reqlen) {
            ssize_t r = write(c->fd, cl->request + c->sent, cl->reqlen - c->sent);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (r <= 0) {
                cl->e_write++;
                conn_close(c);
                dispatch(cl);
                return;
            }
            c->sent += (size_t)r;
        }
        ev_io_stop(cl->loop, &c->w);
        ev_io_set(&c->w, c->fd, EV_READ);
        ev_io_start(cl->loop, &c->w);
        return;
    }
    char buf[16384];
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        if (r == 0 && llhttp_finish(&c->parser) == HPE_OK && c->done) {
            record(c); /* a response delimited by the close */
            finish(c, 0);
            return;
        }
        cl->e_read++;
        conn_close(c);
        dispatch(cl);
        return;
    }
    llhttp_errno_t e = llhttp_execute(&c->parser, buf, (size_t)r);
    if (e == HPE_PAUSED && c->done) {
        int keep = llhttp_should_keep_alive(&c->parser);
        llhttp_resume(&c->parser);
        record(c);
        finish(c, keep);
        return;
    }
    if (e != HPE_OK) {
        cl->e_read++;
        conn_close(c);
        dispatch(cl);
    }
}

/* The scheduler: queues every request now due, dispatches, and sleeps until
 * the next one. Once all are scheduled it only waits for the stragglers. */
static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
    client *cl = w->data;
    (void)revents;
    int64_t t = now_us() - cl->t0;
    while (cl->next < cl->n && cl->due[cl->next] <= t)
        cl->next++;
    if (cl->next - cl->queue_head > cl->max_queue)
        cl->max_queue = cl->next - cl->queue_head;
    dispatch(cl);
    if (cl->next < cl->n) {
        double wait = (double)(cl->due[cl->next] - (now_us() - cl->t0)) / 1e6;
        ev_timer_set(w, wait > 0 ? wait : 0, 0);
        ev_timer_start(loop, w);
    }
}

/* Every 10 ms: gives up on requests older than the timeout, and ends the run
 * once everything is answered or given up on. */
static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents) {
    client *cl = w->data;
    (void)revents;
    int64_t t = now_us() - cl->t0;
    int busy = 0;
    for (int k = 0; k < cl->nconns; k++) {
        cn *c = &cl->conns[k];
        if (c->req < 0)
            continue;
        if (t - cl->due[c->req] > cl->timeout_us) {
            cl->e_timeout++;
            conn_close(c); /* its answer, if it ever comes, is not waited for */
        } else {
            busy++;
        }
    }
    dispatch(cl);
    int queued = cl->queue_head < cl->next;
    if (cl->next >= cl->n && !busy && !queued)
        ev_break(loop, EVBREAK_ALL);
    else if (t > cl->end_us)
        ev_break(loop, EVBREAK_ALL);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void print_pct(const uint32_t *v, long n, double p, const char *sep) {
    if (n == 0) {
        printf("null%s", sep);
        return;
    }
    long i = (long)ceil(p / 100.0 * (double)n) - 1;
    if (i < 0)
        i = 0;
    if (i >= n)
        i = n - 1;
    printf("%u%s", v[i], sep);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: openloop --url http://127.0.0.1:PORT/PATH --rate R [options]\n"
            "  --url URL          the page to load (http://, loopback host: 127.0.0.1 or [::1])\n"
            "  --rate R           requests per second offered, 0.1..1000000 (required)\n"
            "  --duration S       seconds of sending, 0.1..3600 (default 5)\n"
            "  --connections C    at most C connections open at once, 1..50000 (default 64)\n"
            "  --poisson          Poisson arrivals of mean rate R (default: every 1/R s)\n"
            "  --seed N           seed of the Poisson schedule (default 1)\n"
            "  --timeout S        a request unanswered S seconds after its intended\n"
            "                     send time is a timeout, 0.01..600 (default 5)\n"
            "  --print-schedule N print the first N intended send times (µs) and exit\n"
            "Prints one JSON line (see loadtest/README.md, \"Open-loop load\").\n");
}

static int bad(const char *what, const char *v) {
    fprintf(stderr, "openloop: %s: '%s' is not valid (see --help)\n", what, v ? v : "");
    return 2;
}

static int number(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* Parses http://HOST:PORT/PATH with a loopback HOST into cl's address and
 * request. Returns 0, or -1. */
static int parse_url(client *cl, const char *url) {
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + 7, *hend, *p;
    char host[64];
    if (*h == '[') {
        hend = strchr(h, ']');
        if (!hend || hend[1] != ':')
            return -1;
        if ((size_t)(hend - h - 1) >= sizeof host)
            return -1;
        memcpy(host, h + 1, (size_t)(hend - h - 1));
        host[hend - h - 1] = 0;
        p = hend + 2;
    } else {
        hend = strchr(h, ':');
        if (!hend || (size_t)(hend - h) >= sizeof host)
            return -1;
        memcpy(host, h, (size_t)(hend - h));
        host[hend - h] = 0;
        p = hend + 1;
    }
    char *end;
    long port = strtol(p, &end, 10);
    if (end == p || port < 1 || port > 65535 || (*end && *end != '/'))
        return -1;
    const char *path = *end ? end : "/";
    memset(&cl->addr, 0, sizeof cl->addr);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&cl->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cl->addr;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
            return -1; /* loopback only */
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        cl->addrlen = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
            return -1;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        cl->addrlen = sizeof *a6;
    } else {
        return -1;
    }
    size_t cap = strlen(path) + strlen(host) + 64;
    cl->request = malloc(cap);
    if (!cl->request)
        return -1;
    int n = snprintf(cl->request, cap, "GET %s HTTP/1.1\r\nHost: %s%s%s:%ld\r\n\r\n", path,
                     *h == '[' ? "[" : "", host, *h == '[' ? "]" : "", port);
    cl->reqlen = (size_t)n;
    return 0;
}

int main(int argc, char **argv) {
    client cl;
    memset(&cl, 0, sizeof cl);
    const char *url = NULL;
    double rate = 0, duration = 5, conns = 64, timeout = 5, seed = 1, print_n = -1;
    int poisson = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--poisson")) {
            poisson = 1;
            continue;
        }
        static const char *const valued[] = {
            "--url",     "--rate", "--duration",       "--connections",
            "--timeout", "--seed", "--print-schedule", NULL};
        int known = 0;
        for (int k = 0; valued[k]; k++)
            known |= !strcmp(a, valued[k]);
        if (!known) {
            fprintf(stderr, "openloop: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!v)
            return bad(a, "(missing value)");
        i++;
        if (!strcmp(a, "--url"))
            url = v;
        else if (!strcmp(a, "--rate")) {
            if (number(v, 0.1, 1e6, &rate))
                return bad(a, v);
        } else if (!strcmp(a, "--duration")) {
            if (number(v, 0.1, 3600, &duration))
                return bad(a, v);
        } else if (!strcmp(a, "--connections")) {
            if (number(v, 1, 50000, &conns) || conns != floor(conns))
                return bad(a, v);
        } else if (!strcmp(a, "--timeout")) {
            if (number(v, 0.01, 600, &timeout))
                return bad(a, v);
        } else if (!strcmp(a, "--seed")) {
            if (number(v, 0, 4e9, &seed) || seed != floor(seed))
                return bad(a, v);
        } else if (!strcmp(a, "--print-schedule")) {
            if (number(v, 1, 1e6, &print_n) || print_n != floor(print_n))
                return bad(a, v);
        } else {
            fprintf(stderr, "openloop: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (rate <= 0)
        return bad("--rate", "(required)");
    rng_state ^= (uint64_t)seed * 0x9E3779B97F4A7C15ULL;
    if (!rng_state)
        rng_state = 1;
    cl.n = (long)ceil(rate * duration - 1e-9);
    if (cl.n < 1)
        cl.n = 1;
    if (cl.n > MAX_SCHEDULED) {
        fprintf(stderr, "openloop: --rate x --duration is over %ld requests\n", MAX_SCHEDULED);
        return 2;
    }
    if (print_n > 0) {
        long n = (long)print_n;
        int64_t *d = malloc((size_t)n * sizeof *d);
        if (!d)
            return 1;
        make_schedule(d, n, rate, poisson);
        printf("[");
        for (long i = 0; i < n; i++)
            printf("%s%lld", i ? "," : "", (long long)d[i]);
        printf("]\n");
        free(d);
        return 0;
    }
    if (!url)
        return bad("--url", "(required)");
    if (parse_url(&cl, url) != 0) {
        fprintf(stderr,
                "openloop: --url: '%s' is not http://HOST:PORT/PATH with a loopback "
                "HOST (127.0.0.1 or [::1])\n",
                url);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    cl.due = malloc((size_t)cl.n * sizeof *cl.due);
    cl.lat = malloc((size_t)cl.n * sizeof *cl.lat);
    cl.nconns = (int)conns;
    cl.conns = calloc((size_t)cl.nconns, sizeof *cl.conns);
    if (!cl.due || !cl.lat || !cl.conns) {
        fprintf(stderr, "openloop: out of memory\n");
        return 1;
    }
    make_schedule(cl.due, cl.n, rate, poisson);
    cl.duration_s = duration;
    cl.timeout_us = (int64_t)(timeout * 1e6);
    cl.end_us = cl.due[cl.n - 1] + cl.timeout_us + 100000;
    llhttp_settings_init(&cl.settings);
    cl.settings.on_status_complete = on_status_complete;
    cl.settings.on_message_complete = on_message_complete;
    cl.loop = EV_DEFAULT;
    for (int k = 0; k < cl.nconns; k++) {
        cn *c = &cl.conns[k];
        c->cl = &cl;
        c->fd = -1;
        c->req = -1;
        c->st = C_CLOSED;
        ev_io_init(&c->w, on_io, -1, EV_READ);
        c->w.data = c;
    }
    ev_timer_init(&cl.tick, on_tick, 0, 0);
    cl.tick.data = &cl;
    ev_timer_init(&cl.sweep, on_sweep, 0.01, 0.01);
    cl.sweep.data = &cl;
    cl.t0 = now_us();
    ev_timer_start(cl.loop, &cl.tick);
    ev_timer_start(cl.loop, &cl.sweep);
    ev_run(cl.loop, 0);
    long unsent = cl.n - cl.queue_head;
    for (int k = 0; k < cl.nconns; k++) {
        if (cl.conns[k].req >= 0)
            cl.e_timeout++;
        conn_close(&cl.conns[k]);
    }
    qsort(cl.lat, (size_t)cl.nlat, sizeof *cl.lat, cmp_u32);
    double sum = 0;
    for (long i = 0; i < cl.nlat; i++)
        sum += cl.lat[i];
    printf("{\"openloop\":1,\"rate\":%g,\"poisson\":%d,\"duration_s\":%g,\"connections\":%d,"
           "\"scheduled\":%ld,\"sent\":%ld,\"completed\":%ld,\"errors\":{\"connect\":%ld,"
           "\"read\":%ld,\"write\":%ld,\"status\":%ld,\"timeout\":%ld},\"unsent\":%ld,"
           "\"opened\":%ld,\"max_queue\":%ld,\"achieved_rps\":%.1f,\"latency_us\":{",
           rate, poisson, duration, cl.nconns, cl.n, cl.sent, cl.nlat, cl.e_connect, cl.e_read,
           cl.e_write, cl.e_status, cl.e_timeout, unsent, cl.opened, cl.max_queue,
           (double)cl.completed_in_window / duration);
    printf("\"p50\":");
    print_pct(cl.lat, cl.nlat, 50, ",\"p90\":");
    print_pct(cl.lat, cl.nlat, 90, ",\"p99\":");
    print_pct(cl.lat, cl.nlat, 99, ",\"p99.9\":");
    print_pct(cl.lat, cl.nlat, 99.9, ",\"max\":");
    print_pct(cl.lat, cl.nlat, 100, ",\"mean\":");
    if (cl.nlat)
        printf("%.0f}}\n", sum / (double)cl.nlat);
    else
        printf("null}}\n");
    free(cl.due);
    free(cl.lat);
    free(cl.conns);
    free(cl.request);
    return 0;
}
