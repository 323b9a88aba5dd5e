/* evsys: what libev does when a system call it cannot do without fails.
 * Its default prints and aborts: a loop starting while a flood holds every
 * descriptor (ev_async's wake-up pipe) would take the whole server down. */
#ifndef HTTPMODES_EVSYS_H
#define HTTPMODES_EVSYS_H

/* Sets, once per process, libev's handler of such failures: out of
 * descriptors (EMFILE, ENFILE), it says so once on stderr and waits
 * EVSYS_PAUSE_MS, after which libev tries again, until one is freed;
 * any other failure is said on stderr and aborts, as libev's own does. */
void evsys_init(void);

#define EVSYS_PAUSE_MS 100

#endif
