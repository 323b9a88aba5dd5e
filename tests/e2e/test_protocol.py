"""HTTP/1.1 protocol behaviour of the real binary over real sockets, in every
mode: keep-alive, pipelining, HEAD, errors, chunked bodies, 100-continue,
size limits, timeouts, malformed input, abuse that must not crash the server,
graceful shutdown on SIGTERM and IPv6.

No test depends on how fast the machine is: sleeps only order events, and
timeouts are hang guards.
"""
import json
import random
import signal
import socket
import struct
import time
import unittest

import harness
from harness import Server, parse_responses, read_all

GUARD = 10  # s: a hang guard for reads, never a speed threshold


def read_response(sock, head_only=False, timeout=GUARD):
    """Reads exactly one response from a socket that may stay open.
    Returns ((status, headers, body), extra bytes read past it)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        d = sock.recv(65536)
        if not d:
            raise AssertionError("connection closed before a whole response head: %r" % data)
        data += d
    head, _, rest = data.partition(b"\r\n\r\n")
    status, headers, _ = parse_responses(head + b"\r\n\r\n")[0]
    n = 0 if head_only or 100 <= status < 200 else int(headers.get("content-length", "0"))
    while len(rest) < n:
        d = sock.recv(65536)
        if not d:
            raise AssertionError("connection closed inside a response body")
        rest += d
    return (status, headers, rest[:n]), rest[n:]


def closed_by_peer(sock, timeout=GUARD):
    """True if the server closes the connection (EOF or reset) with no more
    bytes within `timeout` s; raises if it sends anything."""
    data, closed = read_all(sock, timeout)
    if data:
        raise AssertionError("expected the server to close silently, got %r" % data[:200])
    return closed


def get_req(path, *extra, host="a"):
    lines = ["GET %s HTTP/1.1" % path, "Host: %s" % host] + list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def tcp_queues(port_local, port_remote):
    """Returns (tx_queue, rx_queue) of the loopback TCP socket with these ports,
    from /proc/net/tcp{,6}, or None if there is none (or no /proc)."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            lport = int(parts[1].rsplit(":", 1)[1], 16)
            rport = int(parts[2].rsplit(":", 1)[1], 16)
            if lport == port_local and rport == port_remote:
                tx, rx = parts[4].split(":")
                return int(tx, 16), int(rx, 16)
    return None


def wait_server_read(server, sock):
    """Waits until the server has read everything sent on sock: our send
    queue is empty and the server side's receive queue is empty. Falls back to
    a short pause where /proc/net/tcp is not available."""
    cport = sock.getsockname()[1]
    if tcp_queues(cport, server.port) is None:
        time.sleep(0.5)
        return
    def read_all():
        # one reading of each side: /proc/net/tcp can miss a row while other
        # sockets come and go, so a second look may find nothing
        ours, theirs = tcp_queues(cport, server.port), tcp_queues(server.port, cport)
        return ours == (0, 0) and theirs is not None and theirs[1] == 0

    ok = harness.wait_until(read_all, timeout=GUARD)
    if not ok:
        raise AssertionError("the server never read the request")


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


class ProtocolTest(unittest.TestCase):

    def assertAliveAndHealthy(self, s):
        """The process is alive, answers /hello, and (prefork) no worker died."""
        self.assertIsNone(s.proc.poll(), "server process died: %s" % "\n".join(s.stderr_lines))
        status, headers, body = s.get("/hello")
        self.assertEqual((status, body), (200, b"Hello, world!\n"))
        st, _, stats = s.get("/stats")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(stats)["worker_restarts"], 0,
                         "a worker died: %s" % "\n".join(s.stderr_lines))
        for line in s.stderr_lines:
            self.assertNotIn("killed by signal", line)

    # ---- keep-alive, pipelining, HTTP/1.0, HEAD ------------------------------

    def test_keep_alive_two_requests_on_one_socket(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                sock = s.connect()
                try:
                    sock.sendall(get_req("/hello"))
                    (st1, h1, b1), extra = read_response(sock)
                    self.assertEqual((st1, b1, extra), (200, b"Hello, world!\n", b""))
                    self.assertEqual(h1["connection"].lower(), "keep-alive")
                    sock.sendall(get_req("/hello", "Connection: close"))
                    (st2, h2, b2), extra = read_response(sock)
                    self.assertEqual((st2, b2), (200, b"Hello, world!\n"))
                    self.assertEqual(h2["connection"].lower(), "close")
                    self.assertTrue(closed_by_peer(sock))
                finally:
                    sock.close()

    def test_default_keep_alive_per_mode(self):
        """threads and event keep connections open by default; iterative and
        prefork answer `Connection: close` and close."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                sock = s.connect()
                try:
                    sock.sendall(get_req("/hello"))
                    (st, h, body), _ = read_response(sock)
                    self.assertEqual((st, body), (200, b"Hello, world!\n"))
                    if harness.keeps_alive(mode):
                        self.assertEqual(h["connection"].lower(), "keep-alive")
                        sock.sendall(get_req("/hello", "Connection: close"))
                        (st, h, body), _ = read_response(sock)
                        self.assertEqual((st, body), (200, b"Hello, world!\n"))
                    else:
                        self.assertEqual(h["connection"].lower(), "close")
                        self.assertTrue(closed_by_peer(sock))
                finally:
                    sock.close()

    def test_default_close_ignores_pipelined_second_request(self):
        for mode in [m for m in harness.MODES if not harness.keeps_alive(m)]:
            with self.subTest(mode=mode), Server(mode) as s:
                data, closed = s.raw(get_req("/hello") + get_req("/hello"))
                resps = parse_responses(data)
                self.assertTrue(closed)
                self.assertEqual(len(resps), 1, resps)
                self.assertEqual(resps[0][1]["connection"].lower(), "close")

    def test_pipelining_in_order(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                body = b"pipelined body\x00\xff"
                data = (get_req("/hello")
                        + b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                        + get_req("/nope", "Connection: close"))
                out, closed = s.raw(data)
                resps = parse_responses(out)
                self.assertEqual([r[0] for r in resps], [200, 200, 404], resps)
                self.assertEqual(resps[0][2], b"Hello, world!\n")
                self.assertEqual(resps[1][2], body)
                self.assertEqual([r[1]["connection"].lower() for r in resps],
                                 ["keep-alive", "keep-alive", "close"])
                self.assertTrue(closed)

    def test_http10_closes(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                sock = s.connect()
                try:
                    sock.sendall(b"GET /hello HTTP/1.0\r\n\r\n")
                    (st, h, body), extra = read_response(sock)
                    self.assertEqual((st, body, extra), (200, b"Hello, world!\n", b""))
                    self.assertEqual(h["connection"].lower(), "close")
                    self.assertTrue(closed_by_peer(sock))
                finally:
                    sock.close()

    def test_head_has_length_but_no_body(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for path in ("/hello", "/", "/db?delay=0", "/no/such/page"):
                    req = b" %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % path.encode()
                    gets = parse_responses(s.raw(b"GET" + req)[0])
                    self.assertEqual(len(gets), 1)
                    gstatus, gh, gbody = gets[0]
                    out, closed = s.raw(b"HEAD" + req)
                    self.assertTrue(closed)
                    head, sep, rest = out.partition(b"\r\n\r\n")
                    self.assertEqual(sep, b"\r\n\r\n", out)
                    self.assertTrue(head.startswith(b"HTTP/1.1 %d " % gstatus), head)
                    self.assertEqual(rest, b"", "HEAD response carried a body")
                    h = parse_responses(head + b"\r\n\r\n")[0][1]
                    self.assertEqual(int(h["content-length"]), len(gbody))
                    self.assertEqual(h["content-type"], gh["content-type"])

    # ---- status codes ------------------------------------------------------------

    def test_404(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                status, h, body = s.get("/no/such/page")
                self.assertEqual(status, 404)
                self.assertEqual(int(h["content-length"]), len(body))

    def test_405_with_allow(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for path in ("/hello", "/db", "/stats"):
                    status, h, _ = s.get(path, method="POST", body=b"x")
                    self.assertEqual(status, 405, path)
                    allow = [m.strip() for m in h.get("allow", "").split(",")]
                    self.assertIn("GET", allow)
                    self.assertIn("HEAD", allow)
                    self.assertNotIn("POST", allow)
                status, h, _ = s.get("/hello", method="DELETE")
                self.assertEqual(status, 405)
                self.assertIn("allow", h)

    def test_400_names_the_parameter(self):
        cases = [("/db?delay=-1", "delay"), ("/db?delay=abc", "delay"), ("/db?delay=999999", "delay"),
                 ("/cpu?iterations=0", "iterations"), ("/dashboard?widgets=0", "widgets"),
                 ("/db?queries=0", "queries"), ("/db?format=xml", "format")]
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for path, param in cases:
                    status, _, body = s.get(path)
                    self.assertEqual(status, 400, path)
                    self.assertIn(("'%s'" % param).encode(), body, path)

    # ---- bodies ---------------------------------------------------------------------

    def test_chunked_echo(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                req = (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                       b"Connection: close\r\n\r\n"
                       b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
                out, closed = s.raw(req)
                resps = parse_responses(out)
                self.assertEqual(len(resps), 1, out)
                self.assertEqual((resps[0][0], resps[0][2]), (200, b"hello world"))

    def test_expect_100_continue(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                sock = s.connect()
                try:
                    body = b"after the continue"
                    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
                    (st, _, b), extra = read_response(sock)
                    self.assertEqual(st, 100)
                    self.assertEqual(extra, b"", "the final response came before the body was sent")
                    sock.sendall(body)
                    (st, _, b), _ = read_response(sock)
                    self.assertEqual((st, b), (200, body))
                finally:
                    sock.close()

    def test_expectation_refusals(self):
        """A body over the limit is refused before any 100; an unknown
        expectation gets 417."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                out, closed = s.raw(b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                                    b"Content-Length: %d\r\n\r\n" % (2 * 1024 * 1024))
                self.assertErrorAndClose(out, closed, 413)
                out, closed = s.raw(b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: bogus\r\n"
                                    b"Content-Length: 3\r\n\r\nabc")
                self.assertErrorAndClose(out, closed, 417)

    def test_many_pipelined_and_byte_by_byte(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                reqs = [get_req("/db?delay=0&queries=%d" % (i % 3 + 1), "Accept: application/json")
                        for i in range(100)]
                out, closed = s.raw(b"".join(reqs) + get_req("/hello", "Connection: close"))
                resps = parse_responses(out)
                self.assertEqual(len(resps), 101)
                self.assertTrue(closed)
                for i, (status, _, body) in enumerate(resps[:100]):
                    self.assertEqual(status, 200)
                    self.assertEqual(json.loads(body)["queries"], i % 3 + 1, "response %d out of order" % i)
                # one byte per send: every split point of a request with a body
                sock = s.connect()
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    req = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
                    for i in range(len(req)):
                        sock.sendall(req[i:i + 1])
                        time.sleep(0.001)
                    out, closed = read_all(sock, GUARD)
                    self.assertEqual([(r[0], r[2]) for r in parse_responses(out)], [(200, b"hello")])
                finally:
                    sock.close()

    def test_upgrade_request_then_pipelined_request(self):
        """The server does not upgrade. It may ignore Upgrade and serve the
        next request, or answer `Connection: close` and close, but it must not
        answer keep-alive and then misparse what follows."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                out, closed = s.raw(get_req("/hello", "Connection: Upgrade", "Upgrade: websocket")
                                    + get_req("/hello", "Connection: close"))
                resps = parse_responses(out)
                self.assertEqual(resps[0][0], 200, out)
                if resps[0][1]["connection"].lower() == "close":
                    self.assertEqual(len(resps), 1, out)
                else:
                    self.assertEqual([r[0] for r in resps], [200, 200], out)
                self.assertTrue(closed)

    def test_other_http_versions(self):
        # Like Apache (and the apache_strict conformance corpus, which expects
        # "GET / HTTP/2.0" to be served): a request line with a higher major
        # version is answered as HTTP/1.1 (RFC 9110 6.2 lets a server either
        # do that or send 505); HTTP/0.x is refused with 400.
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for req in (b"GET /hello HTTP/2.0\r\nHost: a\r\n\r\n",):
                    out, closed = s.raw(req)
                    self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:100])
                    self.assertEqual(parse_responses(out)[0][2], b"Hello, world!\n")
                out, closed = s.raw(b"GET /hello HTTP/0.9\r\n\r\n")
                self.assertEqual([r[0] for r in parse_responses(out)], [400], out[:200])
                self.assertTrue(closed)

    # ---- limits -----------------------------------------------------------------------

    def assertErrorAndClose(self, out, closed, status):
        resps = parse_responses(out)
        self.assertEqual([r[0] for r in resps], [status], out[:300])
        self.assertEqual(resps[0][1]["connection"].lower(), "close")
        self.assertTrue(closed, "the server kept the connection open after %d" % status)

    def test_limits(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                out, closed = s.raw(get_req("/" + "a" * 9000))
                self.assertErrorAndClose(out, closed, 414)
                out, closed = s.raw(get_req("/hello", "X-Big: " + "b" * 9000))
                self.assertErrorAndClose(out, closed, 431)
                many = ["X-H%d: %s" % (i, "c" * 90) for i in range(100)]
                out, closed = s.raw(get_req("/hello", *many))
                self.assertErrorAndClose(out, closed, 431)
                out, closed = s.raw(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                                    % (2 * 1024 * 1024))
                self.assertErrorAndClose(out, closed, 413)
                # just under the limits is fine
                status, _, _ = s.get("/" + "a" * 7000)
                self.assertEqual(status, 404)
                status, _, body = s.get("/echo", method="POST", body=b"z" * (1024 * 1024))
                self.assertEqual((status, len(body)), (200, 1024 * 1024))

    def test_max_body_size_chunked(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on", "--max-body-size", "10") as s:
                out, closed = s.raw(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
                self.assertErrorAndClose(out, closed, 413)
                out, closed = s.raw(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")
                self.assertErrorAndClose(out, closed, 413)
                status, _, body = s.get("/echo", method="POST", body=b"0123456789")
                self.assertEqual((status, body), (200, b"0123456789"))

    # ---- timeouts ------------------------------------------------------------------------

    def test_slow_client_gets_408(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--header-timeout", "1") as s:
                sock = s.connect()
                try:
                    sock.sendall(b"GET /hello HTTP/1.1\r\nHo")
                    out, closed = read_all(sock, GUARD)
                    self.assertErrorAndClose(out, closed, 408)
                finally:
                    sock.close()
                self.assertAliveAndHealthy(s)

    def test_keep_alive_idle_timeout_closes_silently(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on", "--keep-alive-timeout", "1") as s:
                sock = s.connect()
                try:
                    sock.sendall(get_req("/hello"))
                    (st, h, _), _ = read_response(sock)
                    self.assertEqual(st, 200)
                    self.assertEqual(h["connection"].lower(), "keep-alive")
                    self.assertTrue(closed_by_peer(sock), "idle keep-alive connection was never closed")
                finally:
                    sock.close()
                self.assertAliveAndHealthy(s)

    # ---- malformed input and abuse ----------------------------------------------------

    def test_malformed_requests_get_400_and_close(self):
        cases = [
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
            b"GET /he\x00llo HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /hello HTTP/1.1\r\n\r\n",  # no Host in HTTP/1.1
            b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"GET /hello HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            b"GET hello HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: a\r\n X-Folded: yes\r\n\r\n",
        ]
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                for req in cases:
                    with self.subTest(req=req):
                        out, closed = s.raw(req)
                        self.assertErrorAndClose(out, closed, 400)
                self.assertAliveAndHealthy(s)

    def test_garbage_resets_and_churn_do_not_crash(self):
        rng = random.Random(20240607)
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                for i in range(20):
                    junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))
                    if i % 4 == 0:  # a plausible start, then junk
                        junk = b"GET /hello HTTP/1.1\r\nHost: a\r\n" + junk
                    out, closed = s.raw(junk, half_close=True)
                    self.assertTrue(closed, "connection left open after garbage %d" % i)
                    for status, _, _ in parse_responses(out) if out.startswith(b"HTTP/") else []:
                        self.assertGreaterEqual(status, 400)
                # clients that reset in the middle of a request (head or body)
                for partial in (b"GET /hello HTTP/1.1\r\nHost: a\r\nX-",
                                b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc",
                                get_req("/db?delay=200")):
                    sock = s.connect()
                    sock.sendall(partial)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                # 200 quick connect/close cycles, half of them with a reset
                for i in range(200):
                    sock = s.connect()
                    if i % 2:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                self.assertAliveAndHealthy(s)

    # ---- shutdown -----------------------------------------------------------------------------

    def test_sigterm_finishes_request_in_flight(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                sock = s.connect(timeout=30)
                try:
                    sock.sendall(get_req("/db?delay=1500"))
                    wait_server_read(s, sock)
                    s.proc.send_signal(signal.SIGTERM)
                    (st, h, body), _ = read_response(sock, timeout=30)
                    self.assertEqual(st, 200)
                    self.assertGreaterEqual(int(h["x-db-wait-us"]), 1500 * 1000)
                    self.assertEqual(h["connection"].lower(), "close")
                finally:
                    sock.close()
                self.assertEqual(s.stop(), 0, "\n".join(s.stderr_lines))

    def test_sigterm_with_idle_keep_alive_connection(self):
        """An idle keep-alive client must not hold up shutdown (the idle
        timeout is an hour, so only a prompt close lets the stop succeed)."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on", "--keep-alive-timeout", "3600",
                                                 "--header-timeout", "3600") as s:
                sock = s.connect(timeout=30)
                try:
                    sock.sendall(get_req("/hello"))
                    (st, h, _), _ = read_response(sock)
                    self.assertEqual((st, h["connection"].lower()), (200, "keep-alive"))
                    self.assertEqual(s.stop(timeout=15), 0, "\n".join(s.stderr_lines))
                    self.assertTrue(closed_by_peer(sock))
                finally:
                    sock.close()

    def test_sigterm_answers_a_client_that_just_connected(self):
        """A connection accepted just before a stop, whose request arrives
        just after it, is answered (with Connection: close), not dropped: a
        fresh connection gets a short grace. (A prefork worker stopped alone
        once dropped such a request while the server went on serving.)
        Without the slow-client defence: with it, TCP_DEFER_ACCEPT leaves a
        connection that has sent nothing in the kernel, not yet accepted, and
        a stop loses it with the rest of the listen queue."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on", "--header-timeout", "3600",
                                                 "--slow-client-defence", "off") as s:
                sock = s.connect(timeout=30)
                try:
                    self.assertTrue(harness.wait_until(lambda: harness.backlog(s.port) == 0, GUARD),
                                    "the server never accepted the connection")
                    s.proc.send_signal(signal.SIGTERM)
                    time.sleep(0.1)  # the request comes after the stop (the grace is 1 s)
                    req = get_req("/hello")
                    sock.sendall(req[:10])
                    time.sleep(0.2)  # once begun, the request has its usual deadline
                    sock.sendall(req[10:])
                    (st, h, body), _ = read_response(sock, timeout=30)
                    self.assertEqual((st, body), (200, b"Hello, world!\n"))
                    self.assertEqual(h["connection"].lower(), "close")
                finally:
                    sock.close()
                self.assertEqual(s.stop(), 0, "\n".join(s.stderr_lines))

    def test_sigterm_with_connection_that_sent_nothing(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--header-timeout", "3600") as s:
                sock = s.connect(timeout=30)
                try:
                    if mode != "iterative":  # iterative has not accepted it before /hello
                        self.assertEqual(s.get("/hello")[0], 200)
                    self.assertEqual(s.stop(timeout=15), 0, "\n".join(s.stderr_lines))
                finally:
                    sock.close()

    # ---- IPv6 ------------------------------------------------------------------------------------

    def test_ipv6_loopback(self):
        if not ipv6_loopback_available():
            self.skipTest("this machine has no ::1")
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, bind="::1") as s:
                self.assertTrue(any("http://[::1]:%d/" % s.port in l for l in s.stderr_lines), s.stderr_lines)
                status, h, body = s.get("/hello")
                self.assertEqual((status, body), (200, b"Hello, world!\n"))
                out, closed = s.raw(get_req("/hello", "Connection: close", host="[::1]:%d" % s.port))
                self.assertEqual(parse_responses(out)[0][0], 200)


if __name__ == "__main__":
    unittest.main()
