/* tls: the HTTPS context (certificate, policy) and the per-connection
 * transport, plain or TLS, that the drivers read and write through. */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define TLS_RETIRED 16 /* contexts replaced by a reload, kept (see tls_reload) */

struct tls_ctx {
    _Atomic(SSL_CTX *) ssl_ctx;    /* shared by every connection, thread and worker */
    metrics *metrics;              /* handshake and connection counters */
    const config *cfg;             /* the files to re-read (borrowed: lives as long as t) */
    atomic_int reload;             /* 1: re-read the files before the next connection */
    pthread_mutex_t reloading;     /* one reload at a time (two SIGHUPs close together) */
    SSL_CTX *retired[TLS_RETIRED]; /* replaced contexts (a thread may still be using one) */
    unsigned nretired;             /* reloads so far; retired[nretired % TLS_RETIRED] next */
    char fingerprint[97];          /* SHA-256 of the certificate, "AB:CD:..." */
    char origin[300];              /* where the certificate came from, for the start line */
};

/* TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3's are all fine). */
static const char CIPHERS_TLS12[] = "ECDHE+AESGCM:ECDHE+CHACHA20";

/* Appends OpenSSL's first queued error, the root cause (later ones only
 * wrap it), to a message. */
static void ssl_err(char *err, size_t errlen, const char *what) {
    char detail[200] = "";
    unsigned long e = ERR_peek_error();
    if (e)
        ERR_error_string_n(e, detail, sizeof detail);
    snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", detail);
    ERR_clear_error();
}

/* ALPN: this server speaks HTTP/1.1 only. A client that offers ALPN
 * without http/1.1 (an h2-only client) is refused during the handshake
 * rather than answered in a protocol it did not ask for. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
    static const unsigned char http11[] = "\x08http/1.1";
    unsigned char *chosen;
    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&chosen, outlen, http11, sizeof http11 - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = chosen;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Adds one X.509v3 extension written in openssl.cnf syntax. Returns 0 or -1. */
static int add_ext(X509 *x, int nid, const char *value) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Makes a self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and
 * ::1 and puts it with its key into c. Returns 0, or -1 with err set. */
static int generate_cert(SSL_CTX *c, char *err, size_t errlen) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    int ok = key && x && serial && X509_set_version(x, X509_VERSION_3) &&
             BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
             BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) && /* tolerate clock skew */
             X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600) && X509_set_pubkey(x, key);
    X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
    ok = ok && name &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"httpmodes self-signed", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                    -1, -1, 0) &&
         X509_set_issuer_name(x, name) &&
         add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
         add_ext(x, NID_key_usage, "critical,digitalSignature") == 0 &&
         add_ext(x, NID_ext_key_usage, "serverAuth") == 0 &&
         add_ext(x, NID_subject_key_identifier, "hash") == 0 &&
         add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") == 0 &&
         X509_sign(x, key, EVP_sha256()) > 0 && SSL_CTX_use_certificate(c, x) == 1 &&
         SSL_CTX_use_PrivateKey(c, key) == 1;
    if (!ok)
        ssl_err(err, errlen, "cannot generate a self-signed certificate");
    BN_free(serial);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

/* Returns 1, with err set, when path (given to option) is a directory: OpenSSL
 * would only say "no start line". */
static int is_directory(const char *option, const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(err, errlen, "%s %s: is a directory, not a PEM file", option, path);
    return 1;
}

/* Loads --tls-cert (chain) and --tls-key. Returns 0, or -1 with err set. */
static int load_cert(SSL_CTX *c, const config *cfg, char *err, size_t errlen) {
    char what[700];
    if (is_directory("--tls-cert", cfg->tls_cert, err, errlen) ||
        is_directory("--tls-key", cfg->tls_key, err, errlen))
        return -1;
    if (SSL_CTX_use_certificate_chain_file(c, cfg->tls_cert) != 1) {
        snprintf(what, sizeof what, "--tls-cert %s: cannot read a PEM certificate", cfg->tls_cert);
        ssl_err(err, errlen, what);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(c, cfg->tls_key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH)
            snprintf(what, sizeof what, "--tls-key %s does not match the certificate in %s",
                     cfg->tls_key, cfg->tls_cert);
        else
            snprintf(what, sizeof what, "--tls-key %s: cannot read a PEM private key",
                     cfg->tls_key);
        ssl_err(err, errlen, what);
        return -1;
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        snprintf(what, sizeof what, "--tls-key %s does not match the certificate in %s",
                 cfg->tls_key, cfg->tls_cert);
        ssl_err(err, errlen, what);
        return -1;
    }
    return 0;
}

/* Writes the certificate in use (and its chain) to path as PEM. Returns 0,
 * or -1 with err set. */
static int write_cert(SSL_CTX *c, const config *cfg, char *err, size_t errlen) {
    const char *path = cfg->tls_write_cert;
    struct stat out, in;
    for (int i = 0; i < 2; i++) { /* never overwrite the key (or the chain) in use */
        const char *used = i ? cfg->tls_key : cfg->tls_cert;
        if (used[0] && stat(path, &out) == 0 && stat(used, &in) == 0 && out.st_dev == in.st_dev &&
            out.st_ino == in.st_ino) {
            snprintf(err, errlen,
                     "--tls-write-cert %s is the --tls-%s file: it would be overwritten", path,
                     i ? "key" : "cert");
            return -1;
        }
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "--tls-write-cert %s: %s", path, strerror(errno));
        return -1;
    }
    STACK_OF(X509) *chain = NULL;
    int ok = PEM_write_X509(f, SSL_CTX_get0_certificate(c)) == 1;
    SSL_CTX_get0_chain_certs(c, &chain);
    for (int i = 0; ok && chain && i < sk_X509_num(chain); i++)
        ok = PEM_write_X509(f, sk_X509_value(chain, i)) == 1;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        snprintf(err, errlen, "--tls-write-cert %s: cannot write the certificate", path);
        return -1;
    }
    return 0;
}

/* Makes an SSL_CTX with the policy and the certificate of cfg, its
 * fingerprint written into fp (97 bytes). Returns it, or NULL with err set. */
static SSL_CTX *make_ssl_ctx(tls_ctx *t, const config *cfg, char *fp, char *err, size_t errlen) {
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        ssl_err(err, errlen, "cannot create the TLS context");
        return NULL;
    }
    SSL_CTX_set_app_data(c, t);
    if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) ||
        !SSL_CTX_set_cipher_list(c, CIPHERS_TLS12)) {
        ssl_err(err, errlen, "cannot set the TLS protocol policy");
        goto fail;
    }
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* partial writes like write(2); the core's output buffer may move
     * between retries; idle connections give their 34 KB of buffers back */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    /* resumption: a session cache (TLS 1.2 session ids, per process) and
     * TLS 1.3 tickets, whose keys are made here, before prefork's fork, so
     * every worker can resume every other worker's sessions */
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(c, (const unsigned char *)"httpmodes", 9);
    SSL_CTX_set_alpn_select_cb(c, select_alpn, NULL);
    if (cfg->tls_cert[0] ? load_cert(c, cfg, err, errlen) : generate_cert(c, err, errlen))
        goto fail;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!X509_digest(SSL_CTX_get0_certificate(c), EVP_sha256(), md, &mdlen) || mdlen != 32) {
        ssl_err(err, errlen, "cannot hash the certificate");
        goto fail;
    }
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(fp + 3 * i, 4, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
    return c;
fail:
    SSL_CTX_free(c);
    return NULL;
}

tls_ctx *tls_ctx_create(const config *cfg, metrics *m, char *err, size_t errlen) {
    tls_ctx *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "cannot create the TLS context: out of memory");
        return NULL;
    }
    t->metrics = m;
    t->cfg = cfg;
    pthread_mutex_init(&t->reloading, NULL);
    SSL_CTX *c = make_ssl_ctx(t, cfg, t->fingerprint, err, errlen);
    if (!c)
        goto fail;
    atomic_store(&t->ssl_ctx, c);
    if (cfg->tls_cert[0])
        snprintf(t->origin, sizeof t->origin, "from %s", cfg->tls_cert);
    else
        snprintf(t->origin, sizeof t->origin,
                 "self-signed for localhost, 127.0.0.1 and ::1, made at start-up");
    if (cfg->tls_write_cert[0] && write_cert(c, cfg, err, errlen) != 0)
        goto fail;
    return t;
fail:
    tls_ctx_free(t);
    return NULL;
}

void tls_ctx_free(tls_ctx *t) {
    if (!t)
        return;
    SSL_CTX_free(atomic_load(&t->ssl_ctx));
    for (unsigned i = 0; i < TLS_RETIRED; i++)
        SSL_CTX_free(t->retired[i]);
    pthread_mutex_destroy(&t->reloading);
    free(t);
}

int tls_ctx_reload_later(tls_ctx *t) {
    if (!t || !t->cfg->tls_cert[0])
        return 0;
    atomic_store(&t->reload, 1);
    return 1;
}

int tls_ctx_reload(tls_ctx *t, char *msg, size_t msglen) {
    char fp[97], err[600];
    atomic_store(&t->reload, 0);
    if (!t->cfg->tls_cert[0]) {
        snprintf(msg, msglen, "the certificate was generated at start-up: nothing to re-read");
        return -1;
    }
    pthread_mutex_lock(&t->reloading);
    SSL_CTX *c = make_ssl_ctx(t, t->cfg, fp, err, sizeof err);
    if (c && t->cfg->tls_write_cert[0] && write_cert(c, t->cfg, err, sizeof err) != 0) {
        SSL_CTX_free(c);
        c = NULL;
    }
    if (!c) {
        pthread_mutex_unlock(&t->reloading);
        snprintf(msg, msglen, "TLS certificate not re-read, the old one stays: %s", err);
        return -1;
    }
    /* A thread that loaded the old pointer just before the swap may still
     * be in SSL_new() with it (which takes its own reference): the old
     * context is freed only TLS_RETIRED reloads later, or at the end. */
    SSL_CTX *old = atomic_exchange(&t->ssl_ctx, c);
    unsigned slot = t->nretired++ % TLS_RETIRED;
    SSL_CTX_free(t->retired[slot]);
    t->retired[slot] = old;
    snprintf(msg, msglen, "TLS certificate re-read from %s; SHA-256 fingerprint %s",
             t->cfg->tls_cert, fp);
    pthread_mutex_unlock(&t->reloading);
    return 0;
}

const char *tls_ctx_fingerprint(const tls_ctx *t) {
    return t->fingerprint;
}

const char *tls_ctx_origin(const tls_ctx *t) {
    return t->origin;
}

/* The counters of the context t->ssl belongs to. */
static metrics *metrics_of(const transport *t) {
    return ((tls_ctx *)SSL_CTX_get_app_data(SSL_get_SSL_CTX(t->ssl)))->metrics;
}

/* Frees the TLS state without a close_notify. */
static void release(transport *t) {
    if (!t->ssl)
        return;
    metrics_gauge_add(metrics_of(t), GAUGE_TLS_OPEN, -1);
    SSL_free(t->ssl);
    t->ssl = NULL;
}

/* Counts a failed handshake once and marks the transport broken. */
static int fail_handshake(transport *t) {
    if (!t->broken)
        metrics_add(&metrics_of(t)->tls_failures, 1);
    t->broken = 1;
    return TRANSPORT_FAIL;
}

void transport_plain(transport *t, int fd) {
    t->fd = fd;
    t->ssl = NULL;
    t->handshook = 1;
    t->broken = 0;
}

int transport_tls(transport *t, tls_ctx *ctx, int fd) {
    transport_plain(t, fd);
    metrics_add(&ctx->metrics->tls_accepted, 1);
    if (atomic_load(&ctx->reload) && atomic_exchange(&ctx->reload, 0)) {
        /* SIGHUP asked for it: this thread re-reads; the others go on with the old one */
        char msg[800];
        tls_ctx_reload(ctx, msg, sizeof msg);
        fprintf(stderr, "httpmodes: %s\n", msg);
    }
    t->ssl = SSL_new(atomic_load(&ctx->ssl_ctx));
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
        SSL_free(t->ssl);
        t->ssl = NULL;
        metrics_add(&ctx->metrics->tls_failures, 1);
        t->broken = 1;
        ERR_clear_error();
        return -1;
    }
    metrics_gauge_add(ctx->metrics, GAUGE_TLS_OPEN, 1);
    SSL_set_accept_state(t->ssl);
    t->handshook = 0;
    return 0;
}

/* Before the first handshake step: peeks at the first byte. A TLS
 * connection starts with a handshake record (22); a capital letter is a
 * plain HTTP request line. Returns 0 (go on), or a TRANSPORT_ code. */
static int sniff_plaintext(transport *t) {
    unsigned char first;
    ssize_t n;
    do
        n = recv(t->fd, &first, 1, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRANSPORT_WANT_READ;
    if (n <= 0)
        return fail_handshake(t); /* closed or reset before saying anything */
    if (first >= 'A' && first <= 'Z') {
        fail_handshake(t);
        release(t); /* from here on a plain transport, to answer 400 */
        t->handshook = 1;
        t->broken = 0;
        return TRANSPORT_PLAINTEXT;
    }
    return 0;
}

int transport_handshake(transport *t) {
    if (t->handshook)
        return 0;
    if (!t->ssl || t->broken)
        return TRANSPORT_FAIL;
    if (SSL_in_before(t->ssl)) {
        int r = sniff_plaintext(t);
        if (r != 0)
            return r;
    }
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->handshook = 1;
        metrics *m = metrics_of(t);
        metrics_add(&m->tls_handshakes, 1);
        if (SSL_session_reused(t->ssl))
            metrics_add(&m->tls_resumed, 1);
        return 0;
    }
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return TRANSPORT_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TRANSPORT_WANT_WRITE;
    default:
        ERR_clear_error();
        return fail_handshake(t);
    }
}

void transport_handshake_timed_out(transport *t) {
    if (t->ssl && !t->handshook)
        fail_handshake(t);
}

/* Maps a failed SSL_read/SSL_write to a TRANSPORT_ code. */
static ssize_t ssl_result(transport *t, int r) {
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return TRANSPORT_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TRANSPORT_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: /* close_notify, or an EOF without one */
        return 0;
    default:
        t->broken = 1;
        ERR_clear_error();
        return TRANSPORT_FAIL;
    }
}

/* Maps a failed read(2)/send(2) to a TRANSPORT_ code. */
static ssize_t errno_result(void) {
    return errno == EAGAIN || errno == EWOULDBLOCK ? TRANSPORT_WANT_READ : TRANSPORT_FAIL;
}

ssize_t transport_read(transport *t, char *data, size_t n) {
    if (!t->ssl) {
        ssize_t r;
        do
            r = read(t->fd, data, n);
        while (r < 0 && errno == EINTR);
        return r >= 0 ? r : errno_result();
    }
    if (t->broken)
        return TRANSPORT_FAIL;
    ERR_clear_error();
    int r = SSL_read(t->ssl, data, n > INT_MAX ? INT_MAX : (int)n);
    return r > 0 ? r : ssl_result(t, r);
}

ssize_t transport_write(transport *t, const char *data, size_t n) {
    if (!t->ssl) {
        ssize_t r;
        do
            r = send(t->fd, data, n, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        if (r >= 0)
            return r;
        return errno == EAGAIN || errno == EWOULDBLOCK ? TRANSPORT_WANT_WRITE : TRANSPORT_FAIL;
    }
    if (t->broken)
        return TRANSPORT_FAIL;
    ERR_clear_error();
    int r = SSL_write(t->ssl, data, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    ssize_t res = ssl_result(t, r);
    return res == 0 ? TRANSPORT_FAIL : res; /* the peer closed: nothing more goes out */
}

int transport_pending(const transport *t) {
    /* SSL_pending, not SSL_has_pending: the latter also counts a partial
     * record, and a driver that skipped its wait for that would spin */
    return t->ssl && !t->broken && SSL_pending(t->ssl) > 0;
}

void transport_close(transport *t) {
    if (!t->ssl)
        return;
    if (t->handshook && !t->broken) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* sends close_notify; the peer's is not awaited */
        ERR_clear_error();
    }
    release(t);
}
