/* test_tls: the HTTPS context and the transport, driven over a socketpair
 * against an OpenSSL client in the same thread (both non-blocking, stepped
 * in turn): handshakes, WANT codes, plaintext and garbage on the TLS side,
 * protocol policy, ALPN, resumption, counters, close_notify, and the plain
 * transport's mapping of errno. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

typedef struct fixture {
    config cfg;         /* defaults + --tls-port 0 + --tls-write-cert */
    metrics *m;         /* counters the context reports to */
    tls_ctx *tls;       /* server context under test */
    SSL_CTX *client;    /* trusts the written certificate */
    char cert_path[64]; /* the written certificate */
    int fds[2];         /* [0] server end, [1] client end */
    transport t;        /* the server's transport on fds[0] */
    SSL *ssl;           /* the client on fds[1] */
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    config_defaults(&f->cfg);
    f->cfg.tls_port = 0;
    snprintf(f->cert_path, sizeof f->cert_path, "/tmp/test_tls_%d.pem", (int)getpid());
    snprintf(f->cfg.tls_write_cert, sizeof f->cfg.tls_write_cert, "%s", f->cert_path);
    f->m = metrics_create();
    char err[256];
    f->tls = tls_ctx_create(&f->cfg, f->m, err, sizeof err);
    if (!f->tls) {
        fprintf(stderr, "tls_ctx_create: %s\n", err);
        return -1;
    }
    f->client = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(f->client, f->cert_path, NULL);
    SSL_CTX_set_verify(f->client, SSL_VERIFY_PEER, NULL);
    f->fds[0] = f->fds[1] = -1;
    *state = f;
    return 0;
}

static void close_pair(fixture *f);

static int teardown(void **state) {
    fixture *f = *state;
    close_pair(f);
    SSL_CTX_free(f->client);
    tls_ctx_free(f->tls);
    metrics_destroy(f->m);
    unlink(f->cert_path);
    free(f);
    return 0;
}

/* Opens a fresh socketpair with a TLS transport on the server end and a
 * client SSL (for "localhost", offering alpn) on the other. */
static void open_pair(fixture *f, const char *alpn) {
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->fds), 0);
    assert_int_equal(transport_tls(&f->t, f->tls, f->fds[0]), 0);
    f->ssl = SSL_new(f->client);
    SSL_set_fd(f->ssl, f->fds[1]);
    SSL_set_connect_state(f->ssl);
    SSL_set_tlsext_host_name(f->ssl, "localhost");
    SSL_set1_host(f->ssl, "localhost");
    if (alpn)
        SSL_set_alpn_protos(f->ssl, (const unsigned char *)alpn, (unsigned)strlen(alpn));
}

/* Ends the current pair: the server's transport (close_notify when
 * healthy), then the client, which also says goodbye (else OpenSSL takes
 * its session for a bad one and will not resume it), then both sockets. */
static void close_pair(fixture *f) {
    transport_close(&f->t);
    if (f->ssl && f->fds[1] >= 0)
        SSL_shutdown(f->ssl);
    SSL_free(f->ssl);
    f->ssl = NULL;
    for (int i = 0; i < 2; i++) {
        if (f->fds[i] >= 0)
            close(f->fds[i]);
        f->fds[i] = -1;
    }
}

/* Steps both sides until neither can move. Returns the server's last
 * handshake result; *server_wants_read counts its WANT_READ answers. */
static int run_handshake(fixture *f, int *server_wants_read) {
    int s = TRANSPORT_WANT_READ, c = -1;
    for (int i = 0; i < 50; i++) {
        if (c != 1) {
            ERR_clear_error();
            c = SSL_do_handshake(f->ssl);
            if (c != 1 && SSL_get_error(f->ssl, c) != SSL_ERROR_WANT_READ)
                c = 0; /* the client gave up */
        }
        if (s == TRANSPORT_WANT_READ || s == TRANSPORT_WANT_WRITE) {
            s = transport_handshake(&f->t);
            if (s == TRANSPORT_WANT_READ && server_wants_read)
                (*server_wants_read)++;
        }
        if ((c == 1 || c == 0) && s != TRANSPORT_WANT_READ && s != TRANSPORT_WANT_WRITE)
            break;
    }
    return s;
}

/* Reads from the server transport until n bytes or no progress. */
static size_t server_read(fixture *f, char *out, size_t n) {
    size_t got = 0;
    for (int i = 0; i < 20 && got < n; i++) {
        ssize_t r = transport_read(&f->t, out + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else if (r != TRANSPORT_WANT_READ)
            break;
    }
    return got;
}

/* Sends one byte string from the client, raw on the socket (no TLS). */
static void client_raw(fixture *f, const char *bytes, size_t n) {
    assert_int_equal(write(f->fds[1], bytes, n), (ssize_t)n);
}

static void test_handshake_and_exchange(void **state) {
    fixture *f = *state;
    open_pair(f, "\x02h2\x08http/1.1");
    assert_int_equal(atomic_load(&f->m->tls_accepted), 1);
    assert_int_equal(atomic_load(&f->m->tls_open), 1);
    /* the server goes first: nothing has arrived yet */
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_WANT_READ);
    int wants = 0;
    assert_int_equal(run_handshake(f, &wants), 0);
    assert_true(f->t.handshook);
    assert_int_equal(SSL_get_verify_result(f->ssl), X509_V_OK); /* trusted via the written file */
    const unsigned char *alpn;
    unsigned alpn_len;
    SSL_get0_alpn_selected(f->ssl, &alpn, &alpn_len);
    assert_int_equal(alpn_len, 8);
    assert_memory_equal(alpn, "http/1.1", 8);
    assert_true(SSL_version(f->ssl) >= TLS1_2_VERSION);
    assert_int_equal(atomic_load(&f->m->tls_handshakes), 1);
    assert_int_equal(atomic_load(&f->m->tls_failures), 0);

    const char req[] = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_int_equal(SSL_write(f->ssl, req, (int)strlen(req)), (int)strlen(req));
    char in[256];
    assert_int_equal(server_read(f, in, strlen(req)), strlen(req));
    assert_memory_equal(in, req, strlen(req));
    assert_int_equal(transport_read(&f->t, in, sizeof in), TRANSPORT_WANT_READ);
    const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(transport_write(&f->t, resp, strlen(resp)), (ssize_t)strlen(resp));
    char back[256];
    int n = SSL_read(f->ssl, back, sizeof back);
    assert_int_equal(n, (int)strlen(resp));
    assert_memory_equal(back, resp, strlen(resp));

    /* close: close_notify reaches the client, the gauge goes back */
    transport_close(&f->t);
    assert_null(f->t.ssl);
    assert_int_equal(atomic_load(&f->m->tls_open), 0);
    assert_int_equal(SSL_read(f->ssl, back, sizeof back), 0);
    assert_int_equal(SSL_get_error(f->ssl, 0), SSL_ERROR_ZERO_RETURN);
    transport_close(&f->t); /* twice is harmless */
    assert_int_equal(atomic_load(&f->m->tls_open), 0);
}

static void test_certificate(void **state) {
    fixture *f = *state;
    FILE *pem = fopen(f->cert_path, "r");
    assert_non_null(pem);
    X509 *x = PEM_read_X509(pem, NULL, NULL, NULL);
    fclose(pem);
    assert_non_null(x);
    assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
    assert_int_not_equal(X509_check_host(x, "example.invalid", 0, 0, NULL), 1);
    EVP_PKEY *key = X509_get0_pubkey(x);
    assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    char group[32] = "";
    size_t glen;
    EVP_PKEY_get_group_name(key, group, sizeof group, &glen);
    assert_string_equal(group, "prime256v1");
    /* the fingerprint printed at start-up is this certificate's */
    unsigned char md[32];
    unsigned mdlen;
    X509_digest(x, EVP_sha256(), md, &mdlen);
    char hex[97];
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 3 * i, 4, "%02X%s", md[i], i < 31 ? ":" : "");
    assert_string_equal(tls_ctx_fingerprint(f->tls), hex);
    assert_non_null(strstr(tls_ctx_origin(f->tls), "self-signed"));
    X509_free(x);
}

static void test_plaintext_on_the_tls_port(void **state) {
    fixture *f = *state;
    open_pair(f, NULL);
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    client_raw(f, req, strlen(req));
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_PLAINTEXT);
    /* a plain transport now, with the request still unread */
    assert_null(f->t.ssl);
    assert_int_equal(atomic_load(&f->m->tls_open), 0);
    assert_int_equal(atomic_load(&f->m->tls_failures), 1);
    char in[64];
    assert_int_equal(transport_read(&f->t, in, sizeof in), (ssize_t)strlen(req));
    assert_int_equal(transport_write(&f->t, "HTTP/1.1 400", 12), 12);
    assert_int_equal(read(f->fds[1], in, sizeof in), 12);
}

static void test_garbage_and_early_close_fail(void **state) {
    fixture *f = *state;
    open_pair(f, NULL);
    client_raw(f, "\x01\x02\x03 not tls", 10);
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_FAIL);
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_FAIL); /* stays failed */
    assert_int_equal(atomic_load(&f->m->tls_failures), 1);        /* counted once */
    assert_int_equal(transport_read(&f->t, (char[8]){0}, 8), TRANSPORT_FAIL);
    transport_close(&f->t); /* no close_notify after a fatal error; frees */
    assert_int_equal(atomic_load(&f->m->tls_open), 0);
    close_pair(f);

    /* a truncated ClientHello, then the client goes away */
    open_pair(f, NULL);
    client_raw(f, "\x16\x03\x01\x02\x00\x01\x00\x01", 8);
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_WANT_READ);
    close(f->fds[1]);
    f->fds[1] = -1;
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_FAIL);
    assert_int_equal(atomic_load(&f->m->tls_failures), 2);
}

static void test_stalled_handshake_counted_once(void **state) {
    fixture *f = *state;
    open_pair(f, NULL);
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_WANT_READ);
    transport_handshake_timed_out(&f->t);
    transport_handshake_timed_out(&f->t);
    assert_int_equal(atomic_load(&f->m->tls_failures), 1);
    assert_int_equal(transport_handshake(&f->t), TRANSPORT_FAIL);
}

static void test_old_protocols_and_h2_only_refused(void **state) {
    fixture *f = *state;
    SSL_CTX_set_security_level(f->client, 0); /* let the client offer TLS 1.1 */
    SSL_CTX_set_min_proto_version(f->client, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(f->client, TLS1_1_VERSION);
    open_pair(f, NULL);
    assert_int_equal(run_handshake(f, NULL), TRANSPORT_FAIL);
    assert_int_equal(atomic_load(&f->m->tls_handshakes), 0);
    assert_int_equal(atomic_load(&f->m->tls_failures), 1);
    close_pair(f);

    SSL_CTX_set_max_proto_version(f->client, 0);
    open_pair(f, "\x02h2");
    assert_int_equal(run_handshake(f, NULL), TRANSPORT_FAIL);
    assert_int_equal(atomic_load(&f->m->tls_failures), 2);
}

static void test_tls12_and_resumption(void **state) {
    fixture *f = *state;
    /* TLS 1.2: a session id from the server's cache */
    SSL_CTX_set_max_proto_version(f->client, TLS1_2_VERSION);
    open_pair(f, NULL);
    assert_int_equal(run_handshake(f, NULL), 0);
    assert_int_equal(SSL_version(f->ssl), TLS1_2_VERSION);
    SSL_SESSION *sess = SSL_get1_session(f->ssl);
    assert_non_null(sess);
    close_pair(f);
    open_pair(f, NULL);
    SSL_set_session(f->ssl, sess);
    SSL_SESSION_free(sess);
    assert_int_equal(run_handshake(f, NULL), 0);
    assert_true(SSL_session_reused(f->ssl));
    assert_int_equal(atomic_load(&f->m->tls_handshakes), 2);
    assert_int_equal(atomic_load(&f->m->tls_resumed), 1);
}

static void test_tls13_ticket_resumption(void **state) {
    fixture *f = *state;
    SSL_CTX_set_min_proto_version(f->client, TLS1_3_VERSION);
    open_pair(f, NULL);
    assert_int_equal(run_handshake(f, NULL), 0);
    /* tickets arrive after the handshake: let the client read them */
    assert_int_equal(transport_write(&f->t, "x", 1), 1);
    char c;
    assert_int_equal(SSL_read(f->ssl, &c, 1), 1);
    SSL_SESSION *sess = SSL_get1_session(f->ssl);
    assert_non_null(sess);
    assert_true(SSL_SESSION_is_resumable(sess));
    close_pair(f);
    open_pair(f, NULL);
    SSL_set_session(f->ssl, sess);
    SSL_SESSION_free(sess);
    assert_int_equal(run_handshake(f, NULL), 0);
    assert_true(SSL_session_reused(f->ssl));
    assert_int_equal(atomic_load(&f->m->tls_resumed), 1);
}

static void test_pending_bytes_are_reported(void **state) {
    fixture *f = *state;
    open_pair(f, NULL);
    assert_int_equal(run_handshake(f, NULL), 0);
    assert_int_equal(SSL_write(f->ssl, "abcdef", 6), 6);
    char in[8];
    assert_false(transport_pending(&f->t));
    assert_int_equal(transport_read(&f->t, in, 2), 2);
    /* the rest of the record is decrypted inside the transport: a driver
     * that waited for the socket now would wait forever */
    assert_true(transport_pending(&f->t));
    assert_int_equal(transport_read(&f->t, in, sizeof in), 4);
    assert_memory_equal(in, "cdef", 4);
    assert_false(transport_pending(&f->t));

    /* half a record: nothing to hand out yet, so nothing is pending (a
     * driver must wait for the socket, not spin on the partial record) */
    BIO *mem = BIO_new(BIO_s_mem());
    SSL_set0_wbio(f->ssl, mem); /* the client's next record goes to memory */
    assert_int_equal(SSL_write(f->ssl, "ghij", 4), 4);
    char rec[256];
    int len = BIO_read(mem, rec, sizeof rec);
    assert_true(len > 8);
    client_raw(f, rec, 3);
    assert_int_equal(transport_read(&f->t, in, sizeof in), TRANSPORT_WANT_READ);
    assert_false(transport_pending(&f->t));
    client_raw(f, rec + 3, (size_t)len - 3);
    assert_int_equal(transport_read(&f->t, in, sizeof in), 4);
    assert_memory_equal(in, "ghij", 4);
}

static void test_write_would_block(void **state) {
    fixture *f = *state;
    open_pair(f, NULL);
    assert_int_equal(run_handshake(f, NULL), 0);
    static char big[65536];
    ssize_t r;
    size_t total = 0;
    while ((r = transport_write(&f->t, big, sizeof big)) > 0)
        total += (size_t)r;
    assert_int_equal(r, TRANSPORT_WANT_WRITE); /* the client reads nothing: full */
    assert_true(total > 0);
    /* the client drains; the same write then goes on */
    char sink[65536];
    for (int i = 0; i < 100 && SSL_read(f->ssl, sink, sizeof sink) > 0; i++) {
    }
    assert_true(transport_write(&f->t, big, sizeof big) > 0);
}

static void test_plain_transport(void **state) {
    fixture *f = *state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, f->fds), 0);
    transport_plain(&f->t, f->fds[0]);
    assert_int_equal(transport_handshake(&f->t), 0);
    char in[16];
    assert_int_equal(transport_read(&f->t, in, sizeof in), TRANSPORT_WANT_READ);
    client_raw(f, "hi", 2);
    assert_int_equal(transport_read(&f->t, in, sizeof in), 2);
    assert_false(transport_pending(&f->t));
    static char big[65536];
    ssize_t r;
    while ((r = transport_write(&f->t, big, sizeof big)) > 0) {
    }
    assert_int_equal(r, TRANSPORT_WANT_WRITE);
    shutdown(f->fds[1], SHUT_WR);
    assert_int_equal(transport_read(&f->t, in, sizeof in), 0); /* end of stream */
    close(f->fds[1]);
    f->fds[1] = -1;
    assert_int_equal(transport_write(&f->t, "x", 1), TRANSPORT_FAIL);
    assert_int_equal(atomic_load(&f->m->tls_accepted), 0); /* plain is not counted as TLS */
}

static void test_bad_certificate_files(void **state) {
    fixture *f = *state;
    config cfg;
    config_defaults(&cfg);
    cfg.tls_port = 0;
    strcpy(cfg.tls_cert, "/nonexistent/cert.pem");
    strcpy(cfg.tls_key, "/nonexistent/key.pem");
    char err[512];
    assert_null(tls_ctx_create(&cfg, f->m, err, sizeof err));
    assert_non_null(strstr(err, "--tls-cert /nonexistent/cert.pem"));
    /* the certificate we wrote, with no key at all behind it */
    strcpy(cfg.tls_cert, f->cert_path);
    strcpy(cfg.tls_key, f->cert_path);
    assert_null(tls_ctx_create(&cfg, f->m, err, sizeof err));
    assert_non_null(strstr(err, "--tls-key"));
    /* a directory is named as one, not "PEM routines::no start line" */
    strcpy(cfg.tls_cert, "/");
    assert_null(tls_ctx_create(&cfg, f->m, err, sizeof err));
    assert_non_null(strstr(err, "--tls-cert /: is a directory"));
    strcpy(cfg.tls_cert, f->cert_path);
    strcpy(cfg.tls_key, "/");
    assert_null(tls_ctx_create(&cfg, f->m, err, sizeof err));
    assert_non_null(strstr(err, "--tls-key /: is a directory"));
    config_defaults(&cfg);
    cfg.tls_port = 0;
    strcpy(cfg.tls_write_cert, "/nonexistent/dir/out.pem");
    assert_null(tls_ctx_create(&cfg, f->m, err, sizeof err));
    assert_non_null(strstr(err, "--tls-write-cert /nonexistent/dir/out.pem"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_and_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plaintext_on_the_tls_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_and_early_close_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_handshake_counted_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_protocols_and_h2_only_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls12_and_resumption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls13_ticket_resumption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_bytes_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_would_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_transport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_certificate_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
