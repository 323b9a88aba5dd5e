/* test_db: the simulated query's latency distributions — each one's mean
 * and percentiles within a tolerance over many draws with a fixed seed, the
 * same seed giving the same times, the cap — and the names ?dist= takes. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"

#define N 200000

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct sample {
    double mean;
    uint64_t p50, p99, min, max;
} sample;

static sample draw(db_dist d, uint64_t mean_us, double ratio, uint64_t seed) {
    uint64_t *v = malloc(N * sizeof *v);
    assert_non_null(v);
    double sum = 0;
    for (uint64_t i = 0; i < N; i++) {
        v[i] = db_latency_us(d, mean_us, ratio, seed, i, 0);
        sum += (double)v[i];
    }
    qsort(v, N, sizeof *v, cmp_u64);
    sample s = {sum / N, v[N / 2], v[N * 99 / 100], v[0], v[N - 1]};
    free(v);
    return s;
}

/* Asserts got is within rel (a fraction) of want. */
#define NEAR(got, want, rel)                                                                       \
    do {                                                                                           \
        double g_ = (double)(got), w_ = (double)(want);                                            \
        if (g_ < w_ * (1 - (rel)) || g_ > w_ * (1 + (rel)))                                        \
            fail_msg("%s = %.1f, expected %.1f within %.0f%%", #got, g_, w_, (rel)*100);           \
    } while (0)

static void fixed_is_the_mean(void **state) {
    (void)state;
    sample s = draw(DB_DIST_FIXED, 300000, 0, 1);
    assert_int_equal(s.min, 300000);
    assert_int_equal(s.max, 300000);
}

static void uniform_spans_zero_to_twice_the_mean(void **state) {
    (void)state;
    sample s = draw(DB_DIST_UNIFORM, 100000, 0, 7);
    NEAR(s.mean, 100000, 0.01);
    NEAR(s.p50, 100000, 0.02);
    NEAR(s.p99, 198000, 0.01);
    assert_true(s.max <= 200000);
}

static void exponential_has_its_tail(void **state) {
    (void)state;
    sample s = draw(DB_DIST_EXPONENTIAL, 100000, 0, 7);
    NEAR(s.mean, 100000, 0.02);
    NEAR(s.p50, 69315, 0.03);  /* mean x ln 2 */
    NEAR(s.p99, 460517, 0.05); /* mean x ln 100 */
}

static void lognormal_has_the_mean_and_p99_asked(void **state) {
    (void)state;
    sample s = draw(DB_DIST_LOGNORMAL, 100000, 4.0, 7);
    NEAR(s.mean, 100000, 0.03);
    NEAR(s.p99, 400000, 0.05);
    assert_true(s.p50 < s.mean); /* skewed: most queries are quicker than the mean */
    s = draw(DB_DIST_LOGNORMAL, 20000, 10.0, 3);
    NEAR(s.mean, 20000, 0.05);
    NEAR(s.p99, 200000, 0.06);
}

static void the_same_seed_gives_the_same_times(void **state) {
    (void)state;
    int differ = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        assert_int_equal(db_latency_us(DB_DIST_LOGNORMAL, 50000, 4, 42, i, 0),
                         db_latency_us(DB_DIST_LOGNORMAL, 50000, 4, 42, i, 0));
        differ += db_latency_us(DB_DIST_EXPONENTIAL, 50000, 0, 42, i, 0) !=
                  db_latency_us(DB_DIST_EXPONENTIAL, 50000, 0, 43, i, 0);
    }
    assert_true(differ > 990);
}

static void draws_are_capped(void **state) {
    (void)state;
    for (uint64_t i = 0; i < 10000; i++)
        assert_true(db_latency_us(DB_DIST_EXPONENTIAL, 100000, 0, 1, i, 250000) <= 250000);
}

static void draw_follows_the_config(void **state) {
    (void)state;
    config cfg;
    config_defaults(&cfg);
    cfg.db_p99_ms = 1000; /* 10 x the default 100 ms */
    db_plan plan = {.delay_ms = 100, .dist = DB_DIST_LOGNORMAL};
    uint64_t *v = malloc(N * sizeof *v);
    assert_non_null(v);
    for (uint64_t i = 0; i < N; i++)
        v[i] = db_draw_us(&cfg, &plan, i);
    qsort(v, N, sizeof *v, cmp_u64);
    NEAR(v[N * 99 / 100], 1000000, 0.06);
    free(v);
    plan.kind = 3; /* a wait that is not a query: exactly the delay */
    assert_int_equal(db_draw_us(&cfg, &plan, 5), 100000);
    plan = (db_plan){.delay_ms = 40, .dist = DB_DIST_FIXED};
    assert_int_equal(db_draw_us(&cfg, &plan, 5), 40000);
}

static void names(void **state) {
    (void)state;
    assert_int_equal(db_dist_find("lognormal", 9), DB_DIST_LOGNORMAL);
    assert_int_equal(db_dist_find("Exponential", 11), DB_DIST_EXPONENTIAL);
    assert_int_equal(db_dist_find("fix", 3), -1);
    assert_string_equal(db_dist_name(DB_DIST_UNIFORM), "uniform");
    assert_string_equal(db_dist_name(99), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_is_the_mean),
        cmocka_unit_test(uniform_spans_zero_to_twice_the_mean),
        cmocka_unit_test(exponential_has_its_tail),
        cmocka_unit_test(lognormal_has_the_mean_and_p99_asked),
        cmocka_unit_test(the_same_seed_gives_the_same_times),
        cmocka_unit_test(draws_are_capped),
        cmocka_unit_test(draw_follows_the_config),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
