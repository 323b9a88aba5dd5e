/* probe: `httpmodes --probe URL`, a health check that needs no other tool
 * (a container's HEALTHCHECK): one GET over HTTP or HTTPS (certificate not
 * verified: it asks "is the server answering", not "is it who it claims"),
 * success when the status is 2xx or 3xx. */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum { PROBE_TIMEOUT_S = 5 };

typedef struct probe_url {
    int tls;         /* https */
    char host[128];  /* name or address, without brackets */
    char port[8];    /* service */
    char path[1024]; /* starts with / */
} probe_url;

/* Splits url into its parts. Returns 0, or -1 with a message in err. */
static int parse_url(const char *url, probe_url *u, char *err, size_t errlen) {
    const char *p;
    if (strncmp(url, "http://", 7) == 0) {
        u->tls = 0;
        p = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        u->tls = 1;
        p = url + 8;
    } else {
        snprintf(err, errlen, "'%.60s' is not an http:// or https:// URL", url);
        return -1;
    }
    const char *host = p, *host_end;
    if (*p == '[') {
        host = ++p;
        host_end = strchr(p, ']');
        if (!host_end) {
            snprintf(err, errlen, "'%.60s': missing ']' after an IPv6 address", url);
            return -1;
        }
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        p = host_end;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof u->host) {
        snprintf(err, errlen, "'%.60s': no host", url);
        return -1;
    }
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    snprintf(u->port, sizeof u->port, "%s", u->tls ? "443" : "80");
    if (*p == ':') {
        size_t plen = strspn(++p, "0123456789");
        if (plen == 0 || plen >= sizeof u->port || (p[plen] && p[plen] != '/')) {
            snprintf(err, errlen, "'%.60s': bad port", url);
            return -1;
        }
        memcpy(u->port, p, plen);
        u->port[plen] = '\0';
        p += plen;
    } else if (*p && *p != '/') {
        snprintf(err, errlen, "'%.60s': bad host", url);
        return -1;
    }
    if (strlen(p) >= sizeof u->path || strpbrk(p, " \r\n")) {
        snprintf(err, errlen, "'%.60s': bad path", url);
        return -1;
    }
    snprintf(u->path, sizeof u->path, "%s", *p ? p : "/");
    return 0;
}

/* Connects to u with PROBE_TIMEOUT_S applied to connect, send and receive.
 * Returns the socket, or -1 with a message in err. */
static int probe_connect(const probe_url *u, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {.tv_sec = PROBE_TIMEOUT_S};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* Linux: connect() too */
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            snprintf(err, errlen, "connect to %s port %s: %s", u->host, u->port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int probe_run(const char *url) {
    char err[256] = "", head[512];
    probe_url u;
    if (parse_url(url, &u, err, sizeof err) != 0) {
        fprintf(stderr, "httpmodes --probe: %s\n", err);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a server that resets us is a failure (1), not a signal */
    int fd = probe_connect(&u, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "httpmodes --probe: %s\n", err);
        return 1;
    }
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    if (u.tls) {
        ctx = SSL_CTX_new(TLS_client_method());
        ssl = ctx ? SSL_new(ctx) : NULL;
        if (ssl) {
            SSL_set_fd(ssl, fd);
            SSL_set_tlsext_host_name(ssl, u.host);
        }
        if (!ssl || SSL_connect(ssl) != 1) {
            snprintf(err, sizeof err, "TLS handshake with %s port %s failed", u.host, u.port);
            goto done;
        }
    }
    int hn = snprintf(head, sizeof head,
                      "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: httpmodes-probe\r\n"
                      "Connection: close\r\n\r\n",
                      u.path, strchr(u.host, ':') ? "[" : "", u.host,
                      strchr(u.host, ':') ? "]" : "", u.port);
    /* the path was checked to fit; a request line cannot exceed head */
    if (hn < 0 || (size_t)hn >= sizeof head) {
        snprintf(err, sizeof err, "URL too long");
        goto done;
    }
    if ((ssl ? SSL_write(ssl, head, hn) : (int)send(fd, head, (size_t)hn, MSG_NOSIGNAL)) != hn) {
        snprintf(err, sizeof err, "cannot send the request");
        goto done;
    }
    char resp[64];
    size_t got = 0;
    while (got < sizeof resp - 1 && !memchr(resp, '\n', got)) {
        int n = ssl ? SSL_read(ssl, resp + got, (int)(sizeof resp - 1 - got))
                    : (int)read(fd, resp + got, sizeof resp - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    resp[got] = '\0';
    int status = 0;
    if (sscanf(resp, "HTTP/1.%*1[01] %3d", &status) != 1) {
        snprintf(err, sizeof err, "no HTTP answer from %s within %d s", url, PROBE_TIMEOUT_S);
        goto done;
    }
    if (status < 200 || status > 399)
        snprintf(err, sizeof err, "%s answered %d", url, status);
done:
    if (ssl)
        SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    if (err[0]) {
        fprintf(stderr, "httpmodes --probe: %s\n", err);
        return 1;
    }
    printf("httpmodes --probe: %s answered %d\n", url, status);
    return 0;
}
