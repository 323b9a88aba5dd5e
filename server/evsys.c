/* evsys: libev's handler of failed system calls (evsys.h). libev calls it
 * in a loop around the call (its wake-up pipe: `while (pipe (fds))
 * ev_syserr (...)`), so returning means "try again". */
#include "evsys.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

static atomic_int said;

static void on_syserr(const char *msg) EV_NOEXCEPT {
    int err = errno;
    if (err == EMFILE || err == ENFILE) {
        if (!atomic_exchange(&said, 1))
            fprintf(stderr, "httpmodes: %s: %s; a loop waits for a descriptor to be freed\n", msg,
                    strerror(err));
        struct timespec pause = {0, EVSYS_PAUSE_MS * 1000000L};
        nanosleep(&pause, NULL);
        return;
    }
    fprintf(stderr, "httpmodes: %s: %s\n", msg, strerror(err));
    abort();
}

static void set_handler(void) {
    ev_set_syserr_cb(on_syserr);
}

void evsys_init(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, set_handler);
}
