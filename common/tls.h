/* tls: the transport under the core (redis's ConnectionType idea). A
 * driver moves a connection's bytes with transport_read / transport_write,
 * plain TCP or TLS alike; the core and the pages never know which. For a
 * TLS connection "would block" comes back as TRANSPORT_WANT_READ or
 * TRANSPORT_WANT_WRITE, which only changes what the driver waits for (an
 * SSL_read may need to write, an SSL_write to read).
 *
 * The TLS context (certificate, key, protocol policy) is made once at
 * start-up, before any thread or prefork worker exists, and shared; SIGHUP
 * re-reads the certificate files into a new one (tls_ctx_reload). */
#ifndef HTTPMODES_TLS_H
#define HTTPMODES_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "metrics.h"

typedef struct tls_ctx tls_ctx;
typedef struct ssl_st SSL;

/* What transport calls return besides byte counts. */
enum {
    TRANSPORT_FAIL = -1,       /* the connection is broken: close it */
    TRANSPORT_WANT_READ = -2,  /* wait until the socket is readable, then retry */
    TRANSPORT_WANT_WRITE = -3, /* wait until the socket is writable, then retry */
    TRANSPORT_PLAINTEXT = -4   /* handshake: the client spoke plain HTTP (see below) */
};

/* One connection's transport. Small, so an idle event-loop connection
 * stays cheap; TLS buffers are released while idle. */
typedef struct transport {
    int fd;            /* the socket (the driver closes it) */
    SSL *ssl;          /* NULL: plain TCP */
    uint8_t handshook; /* 1 once the TLS handshake finished (always 1 for plain) */
    uint8_t broken;    /* a fatal TLS error: no close_notify may be sent */
} transport;

/* Makes the HTTPS context for cfg: loads --tls-cert/--tls-key (PEM, the
 * certificate file may hold a chain), or generates a self-signed ECDSA
 * P-256 certificate for localhost, 127.0.0.1 and ::1 valid for a year;
 * writes it to --tls-write-cert when given. TLS 1.2 and 1.3 only, forward-
 * secret AEAD ciphers, ALPN http/1.1, session resumption (session cache and
 * TLS 1.3 tickets). Handshake counters go to m. Returns the context, or NULL
 * with a one-line message in err. Free with tls_ctx_free(). */
tls_ctx *tls_ctx_create(const config *cfg, metrics *m, char *err, size_t errlen);
void tls_ctx_free(tls_ctx *t);

/* SIGHUP: asks for --tls-cert and --tls-key to be re-read before the next
 * TLS connection (by the thread that accepts it; async-signal-safe).
 * Returns 1, or 0 when the certificate was generated (t may be NULL). */
int tls_ctx_reload_later(tls_ctx *t);

/* Re-reads --tls-cert and --tls-key now (and writes --tls-write-cert again):
 * new connections get the new certificate, those under way keep theirs;
 * one reload at a time. tls_ctx_fingerprint() still says the start-up one.
 * Returns 0, or -1 when they do not load: the old certificate stays (a
 * half-written file is not taken). Either way msg (msglen bytes) says what
 * happened, one line. */
int tls_ctx_reload(tls_ctx *t, char *msg, size_t msglen);

/* Returns the certificate's SHA-256 fingerprint, "AB:CD:..." (owned by t). */
const char *tls_ctx_fingerprint(const tls_ctx *t);

/* Returns what the certificate is for, e.g. "self-signed for localhost,
 * 127.0.0.1, ::1" or "from FILE" (owned by t). */
const char *tls_ctx_origin(const tls_ctx *t);

/* Sets up t for a plain TCP connection on fd. */
void transport_plain(transport *t, int fd);

/* Sets up t for a TLS connection on fd (server side; the handshake has not
 * started) and counts it. Returns 0, or -1 when OpenSSL has no memory left
 * (t is then plain, marked broken: close it). */
int transport_tls(transport *t, tls_ctx *ctx, int fd);

/* Advances the handshake. Returns 0 once done (at once for plain),
 * TRANSPORT_WANT_READ / _WANT_WRITE, TRANSPORT_FAIL (counted as a failure),
 * or TRANSPORT_PLAINTEXT when the first bytes are a plain HTTP request: t
 * is then a plain transport, so the driver can answer 400 in clear text. */
int transport_handshake(transport *t);

/* Counts a handshake that did not finish in time as a failure. */
void transport_handshake_timed_out(transport *t);

/* Reads up to n bytes into data. Returns the count (> 0), 0 at the end of
 * the stream, or TRANSPORT_WANT_READ / _WANT_WRITE / _FAIL. */
ssize_t transport_read(transport *t, char *data, size_t n);

/* Writes up to n bytes of data. Returns how many were taken (> 0), or
 * TRANSPORT_WANT_READ / _WANT_WRITE / _FAIL. After a WANT, call again with
 * the same bytes (the buffer may have moved). */
ssize_t transport_write(transport *t, const char *data, size_t n);

/* Returns 1 when bytes already read from the socket wait decrypted inside
 * t: the driver must read again before waiting for the socket. */
int transport_pending(const transport *t);

/* Ends the transport: a TLS close_notify when the connection is healthy
 * (never waits for the peer's), then frees the TLS state. Does not close
 * fd. Safe to call twice. */
void transport_close(transport *t);

#endif
