/* db: a simulated query is a plain sleep in a blocking worker. */
#include "db.h"

#include <errno.h>
#include <time.h>

void db_query_blocking(unsigned ms) {
    struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR) {
    }
}
