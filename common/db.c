/* db: the simulated query's latency — drawn from a seeded distribution — and
 * the plain sleep a blocking worker makes of it. */
#include "db.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include "config.h"
#include "util.h"

static const char *const dist_names[DB_DIST_COUNT] = {"fixed", "uniform", "exponential",
                                                      "lognormal"};

int db_dist_find(const char *s, size_t n) {
    for (int d = 0; d < DB_DIST_COUNT; d++)
        if (util_ieq(s, n, dist_names[d]))
            return d;
    return -1;
}

const char *db_dist_name(unsigned d) {
    return d < DB_DIST_COUNT ? dist_names[d] : "?";
}

/* splitmix64: a stateless mix of (seed, n) into 64 well-spread bits. */
static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Returns a uniform number in (0, 1) from (seed, n, k): k picks one of
 * several independent numbers for the same draw. */
static double uniform01(uint64_t seed, uint64_t n, uint64_t k) {
    uint64_t bits = mix(mix(seed) ^ mix(n * 4 + k)) >> 11; /* 53 bits */
    return ((double)bits + 0.5) / 9007199254740992.0;
}

#define Z99 2.3263478740408408 /* the standard normal's 99th percentile */

uint64_t db_latency_us(db_dist d, uint64_t mean_us, double p99_ratio, uint64_t seed, uint64_t n,
                       uint64_t cap_us) {
    double mean = (double)mean_us, v = mean;
    double u = uniform01(seed, n, 0);
    switch (d) {
    case DB_DIST_FIXED:
    case DB_DIST_COUNT:
        break;
    case DB_DIST_UNIFORM:
        v = 2.0 * mean * u;
        break;
    case DB_DIST_EXPONENTIAL:
        v = -mean * log(u);
        break;
    case DB_DIST_LOGNORMAL: {
        /* mean = exp(mu + s^2/2), p99 = exp(mu + Z99 s): s is the smaller
         * root of s^2/2 - Z99 s + ln(ratio) = 0 */
        double r =
            p99_ratio > 1.0 && p99_ratio <= DB_LOGNORMAL_RATIO_MAX ? p99_ratio : DB_LOGNORMAL_RATIO;
        double s = Z99 - sqrt(Z99 * Z99 - 2.0 * log(r));
        double mu = log(mean > 0 ? mean : 1.0) - s * s / 2.0;
        /* Box-Muller: a standard normal from two uniforms */
        double z = sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * uniform01(seed, n, 1));
        v = mean > 0 ? exp(mu + s * z) : 0.0;
        break;
    }
    }
    uint64_t us = v <= 0 ? 0 : v >= 1.8e19 ? UINT64_MAX : (uint64_t)(v + 0.5);
    return cap_us && us > cap_us ? cap_us : us;
}

uint64_t db_draw_us(const config *cfg, const db_plan *plan, uint64_t n) {
    uint64_t mean = (uint64_t)plan->delay_ms * 1000u;
    if (plan->kind != 0 || plan->dist == DB_DIST_FIXED)
        return mean;
    double ratio = cfg->db_p99_ms && cfg->db_delay_ms
                       ? (double)cfg->db_p99_ms / (double)cfg->db_delay_ms
                       : DB_LOGNORMAL_RATIO;
    return db_latency_us((db_dist)plan->dist, mean, ratio, cfg->db_seed, n,
                         (uint64_t)cfg->max_delay_ms * 1000u);
}

void db_sleep_us(uint64_t us) {
    struct timespec left = {.tv_sec = (time_t)(us / 1000000u),
                            .tv_nsec = (long)(us % 1000000u) * 1000L};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR) {
    }
}

void db_query_blocking(unsigned ms) {
    db_sleep_us((uint64_t)ms * 1000u);
}
