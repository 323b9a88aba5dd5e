"""HTTPS (issue 4) end to end, in every mode: curl, Python's ssl module and
`openssl s_client` verify the certificate the server writes with
--tls-write-cert; TLS 1.2 and 1.3 work, TLS 1.1 and h2-only clients are
refused; session resumption; plain HTTP and garbage on the TLS port; stalled
handshakes and stalled records are bounded by --header-timeout; keep-alive,
pipelining and large bodies over TLS; certificates from files; the TLS
counters in /stats and /metrics; SIGTERM with TLS connections open; wrk.

Deadlines here are hang guards, never speed thresholds."""
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import warnings

import harness
from harness import Server, parse_responses, wait_until

GUARD = 20  # seconds: a hang guard, never a speed threshold
HELLO = b"Hello, world!\n"


def tool(name):
    exe = shutil.which(name)
    if not exe:
        raise unittest.SkipTest("%s is not installed: run ./bootstrap.sh test" % name)
    return exe


def run(*cmd, input=None, timeout=GUARD, cwd=None):
    return subprocess.run(list(cmd), input=input, capture_output=True, timeout=timeout, cwd=cwd)


def curl(*args):
    return run(tool("curl"), "-sS", "--max-time", "15", *args)


def openssl(*args, input=None, cwd=None):
    return run(tool("openssl"), *args, input=input, cwd=cwd)


def s_client(port, cafile, *args, request=None):
    """`openssl s_client` to 127.0.0.1:port (SNI localhost, ALPN http/1.1)
    sending request (default: GET /hello, Connection: close). Returns the
    output, stdout and stderr together, as text."""
    if request is None:
        request = b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    r = openssl("s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost",
                "-CAfile", cafile, "-alpn", "http/1.1", "-ign_eof", *args, input=request)
    return (r.stdout + r.stderr).decode("latin-1")


def client_ctx(cafile, minimum=None, maximum=None, alpn=None):
    """A verifying client context: CERT_REQUIRED, check_hostname on."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def tls_connect(s, ctx, host="localhost", session=None, timeout=GUARD):
    """A verified TLS connection to s's HTTPS port (handshake done)."""
    raw = socket.create_connection((s.bind, s.tls_port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=host, session=session)
    except BaseException:
        raw.close()
        raise


def request(path="/hello", method="GET", body=b"", close=True):
    head = "%s %s HTTP/1.1\r\nHost: localhost\r\n" % (method, path)
    if body or method == "POST":
        head += "Content-Length: %d\r\n" % len(body)
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


def read_response(sock, timeout=GUARD):
    """Reads exactly one response (Content-Length delimited) from sock.
    Returns (status, headers, body)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        d = sock.recv(65536)
        if not d:
            raise AssertionError("connection closed inside a response head: %r" % data[:200])
        data += d
    head = data[:data.index(b"\r\n\r\n") + 4]
    n = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    while len(data) < len(head) + n:
        d = sock.recv(65536)
        if not d:
            raise AssertionError("connection closed inside a body")
        data += d
    (status, headers, body), = parse_responses(data[:len(head) + n])
    return status, headers, body


def read_to_eof(sock, timeout=GUARD):
    """Reads until the peer closes. Returns (bytes, closed): closed is False
    when nothing arrived for timeout s."""
    sock.settimeout(timeout)
    out = b""
    while True:
        try:
            d = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return out, False
        except (ConnectionResetError, ssl.SSLEOFError):
            return out, True
        if not d:
            return out, True
        out += d


def still_open(sock):
    """True when the peer has neither closed nor sent anything."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def client_hello():
    """The bytes of a real TLS ClientHello (from an in-memory handshake)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[0] == 0x16 and len(hello) > 100, hello[:10]
    return hello


def read(path):
    with open(path) as f:
        return f.read()


def stats(s):
    return json.loads(s.get("/stats", timeout=GUARD)[2])["tls"]


def metrics(s):
    text = s.get("/metrics", timeout=GUARD)[2].decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'(httpmodes_tls_[a-z_]+(?:\{kind="[a-z]+"\})?) (\d+)$', line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def stop_within(s, timeout=5):
    """SIGTERM; returns the exit code, or None when the server had to be
    killed because it did not stop within timeout s."""
    try:
        return s.stop(timeout=timeout)
    except AssertionError:
        return None


class TLSTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="httpmodes-tls-")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def server(self, mode, *args, bind=harness.HOST):
        """A Server on --tls-port 0 writing its certificate to a fresh file
        (self.cert)."""
        TLSTest.n += 1
        self.cert = os.path.join(self.tmp.name, "cert%d.pem" % TLSTest.n)
        return Server(mode, "--tls-port", "0", "--tls-write-cert", self.cert, *args, bind=bind)

    def ctx(self, **kw):
        return client_ctx(self.cert, **kw)

    # ---- clients: curl, Python ssl, openssl s_client ------------------------

    def test_curl_verifies_the_written_certificate(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                for url in ("https://localhost:%d/hello" % s.tls_port, "https://127.0.0.1:%d/" % s.tls_port):
                    r = curl("--cacert", self.cert, "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}", url)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(r.stdout, b"200 0", url)
                r = curl("--cacert", self.cert, "https://localhost:%d/hello" % s.tls_port)
                self.assertEqual(r.stdout, HELLO)
                # verification is really on: without the certificate curl refuses
                r = curl("-o", "/dev/null", "https://localhost:%d/hello" % s.tls_port)
                self.assertEqual(r.returncode, 60, r.stderr)
                # the plain port still speaks plain HTTP
                self.assertEqual(s.get("/hello")[2], HELLO)

    def test_curl_negotiates_http11_by_alpn(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                url = "https://localhost:%d/hello" % s.tls_port
                for extra in ([], ["--http1.1"]):
                    r = curl("-v", "--cacert", self.cert, "-w", "\n%{http_version}", *extra, url)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(r.stdout, HELLO + b"\n1.1", extra)
                    self.assertIn(b"ALPN: server accepted http/1.1", r.stderr)
                    if not extra:  # curl offered h2 first, and got http/1.1
                        self.assertRegex(r.stderr, rb"ALPN: offers h2")

    def test_curl_over_ipv6(self):
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback on this machine")
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode, bind="::1") as s:
                r = curl("-g", "--cacert", self.cert, "https://[::1]:%d/hello" % s.tls_port)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, HELLO)

    def test_python_tls12_and_tls13_verified(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                for maximum, want in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
                    ctx = self.ctx(minimum=maximum, maximum=maximum)
                    for host in ("localhost", "127.0.0.1"):
                        with tls_connect(s, ctx, host=host) as c:
                            self.assertEqual(c.version(), want)
                            self.assertRegex(c.cipher()[0], "GCM|CHACHA20")  # AEAD only
                            if want == "TLSv1.2":
                                self.assertTrue(c.cipher()[0].startswith("ECDHE-"), c.cipher())
                            c.sendall(request())
                            status, h, body = read_response(c)
                            self.assertEqual((status, body), (200, HELLO))
                            self.assertEqual(h["x-mode"], mode)
                # and the harness's HTTPS client (http.client) too
                self.assertEqual(s.get("/hello", tls_context=self.ctx())[:3:2], (200, HELLO))

    def test_alpn_h2_only_refused_http11_selected(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                before = stats(s)["failures"]
                with self.assertRaises(ssl.SSLError) as e:
                    tls_connect(s, self.ctx(alpn=["h2"])).close()
                self.assertIn("alert no application protocol", str(e.exception).lower())
                self.assertTrue(wait_until(lambda: stats(s)["failures"] == before + 1, GUARD), stats(s))
                for offer in (["http/1.1"], ["h2", "http/1.1"]):
                    with tls_connect(s, self.ctx(alpn=offer)) as c:
                        self.assertEqual(c.selected_alpn_protocol(), "http/1.1")
                        c.sendall(request())
                        self.assertEqual(read_response(c)[0], 200)
                with tls_connect(s, self.ctx()) as c:  # no ALPN at all is fine
                    self.assertIsNone(c.selected_alpn_protocol())

    def test_tls11_refused(self):
        # Both clients offer TLS 1.1 only; the server must answer with a
        # protocol_version alert. Where the local OpenSSL cannot even offer
        # TLS 1.1 ("no protocols available") there is nothing to test.
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                before = stats(s)["failures"]
                refusals = []
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    try:
                        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
                        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                    except (ValueError, ssl.SSLError):
                        ctx = None
                if ctx:
                    with self.assertRaises(ssl.SSLError) as e:
                        tls_connect(s, ctx).close()
                    refusals.append(str(e.exception).lower())
                out = s_client(s.tls_port, self.cert, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
                self.assertNotIn("HTTP/1.1 200", out)
                refusals.append(out.lower())
                for r in refusals:
                    self.assertTrue("alert protocol version" in r or "no protocols available" in r, r)
                by_server = sum("alert protocol version" in r for r in refusals)
                if not by_server:
                    self.skipTest("this OpenSSL cannot offer TLS 1.1")
                self.assertTrue(wait_until(lambda: stats(s)["failures"] == before + by_server, GUARD), stats(s))

    def test_generated_certificate(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                text = openssl("x509", "-in", self.cert, "-noout", "-text").stdout.decode()
                san = re.search(r"Subject Alternative Name:.*\n\s*(.*)", text).group(1)
                self.assertEqual(sorted(x.strip() for x in san.split(",")),
                                 ["DNS:localhost", "IP Address:0:0:0:0:0:0:0:1", "IP Address:127.0.0.1"])
                self.assertIn("Public Key Algorithm: id-ecPublicKey", text)
                self.assertIn("NIST CURVE: P-256", text)
                self.assertIn("ecdsa-with-SHA256", text)
                fp = openssl("x509", "-in", self.cert, "-noout", "-fingerprint", "-sha256").stdout.decode()
                fp = fp.strip().split("=", 1)[1]
                printed = [l for l in s.stderr_lines if "SHA-256 fingerprint" in l]
                self.assertEqual(len(printed), 1, s.stderr_lines)
                self.assertIn("fingerprint %s; written to %s" % (fp, self.cert), printed[0])
                self.assertEqual(read(self.cert).count("BEGIN CERTIFICATE"), 1)
                # also verifies under X509_STRICT (Python 3.13's default)
                ctx = self.ctx()
                ctx.verify_flags |= ssl.VERIFY_X509_STRICT
                with tls_connect(s, ctx) as c:
                    self.assertTrue(c.getpeercert())

    def test_openssl_s_client_tls13_and_tls12(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                for flag, proto in (("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")):
                    out = s_client(s.tls_port, self.cert, flag)
                    self.assertIn("Verify return code: 0 (ok)", out)
                    self.assertIn("New, %s" % proto, out)
                    self.assertIn("ALPN protocol: http/1.1", out)
                    self.assertIn("HTTP/1.1 200 OK\r\n", out)
                    self.assertIn("\r\n\r\nHello, world!\n", out)

    def s_client_session(self, s, flag, command, marker):
        """An interactive s_client (keep-alive on): one request, then the
        s_client command letter (K: a TLS 1.3 key update, R: a TLS 1.2
        renegotiation) until it prints marker, then a last request with
        Connection: close. Returns the whole output once s_client ends."""
        p = subprocess.Popen([tool("openssl"), "s_client", "-connect", "127.0.0.1:%d" % s.tls_port,
                              "-servername", "localhost", "-CAfile", self.cert, flag],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = []
        reader = threading.Thread(target=lambda: out.extend(iter(lambda: p.stdout.read1(4096), b"")))
        reader.start()
        text = lambda: b"".join(out).decode("latin-1")
        try:
            p.stdin.write(request(close=False))
            p.stdin.flush()
            self.assertTrue(wait_until(lambda: "Hello, world!" in text(), GUARD), text())
            p.stdin.write(command + b"\n")  # a line of its own: s_client's command
            p.stdin.flush()
            self.assertTrue(wait_until(lambda: marker in text(), GUARD), text())
            p.stdin.write(request())
            p.stdin.flush()
            p.wait(GUARD)  # the server closes after the last request, or on an error
        except BrokenPipeError:  # s_client already gave up: its output says why
            p.wait(GUARD)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            reader.join(GUARD)
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except BrokenPipeError:
                    pass
        return text()

    def test_tls13_key_update_and_no_tls12_renegotiation(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode, "--keep-alive", "on") as s:
                out = self.s_client_session(s, "-tls1_3", b"K", "KEYUPDATE")
                self.assertIn("KEYUPDATE", out)
                self.assertEqual(out.count("HTTP/1.1 200 OK"), 2, out)  # served on after the update
                out = self.s_client_session(s, "-tls1_2", b"R", "RENEGOTIATING")
                self.assertIn("RENEGOTIATING", out)
                self.assertIn("no renegotiation", out)
                self.assertEqual(out.count("HTTP/1.1 200 OK"), 1, out)
                self.assertEqual(s.get("/hello", tls_context=self.ctx())[2], HELLO)

    def test_curl_upload_with_expect_100_continue(self):
        data = os.urandom(300 * 1024)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            for mode in harness.MODES:
                with self.subTest(mode=mode), self.server(mode) as s:
                    r = curl("-v", "--cacert", self.cert, "-H", "Expect: 100-continue",
                             "--data-binary", "@" + f.name, "https://localhost:%d/echo" % s.tls_port)
                    self.assertEqual(r.returncode, 0, r.stderr[-500:])
                    self.assertIn(b"HTTP/1.1 100 Continue", r.stderr)
                    self.assertTrue(r.stdout == data, "%d bytes back" % len(r.stdout))

    # ---- session resumption ------------------------------------------------

    def check_resumes(self, s, flags, times):
        """One full handshake saving the session, then `times` resumptions
        with it: each must say Reused and count in /stats tls.resumed."""
        sess = os.path.join(self.tmp.name, "sess%d-%d" % (TLSTest.n, len(flags)))
        out = s_client(s.tls_port, self.cert, *flags, "-sess_out", sess)
        self.assertIn("HTTP/1.1 200 OK", out)
        self.assertIn("New, ", out)
        before = stats(s)
        for _ in range(times):
            out = s_client(s.tls_port, self.cert, *flags, "-sess_in", sess)
            self.assertIn("Reused, ", out, flags)
            self.assertIn("HTTP/1.1 200 OK", out)
        after = stats(s)
        self.assertEqual(after["resumed"] - before["resumed"], times, (flags, before, after))
        self.assertEqual(after["handshakes"] - before["handshakes"], times)

    def test_resumption_with_tickets(self):
        # Ticket keys are made before prefork's fork: every worker resumes
        # every other's tickets (tls.c), so this holds in every mode.
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                self.check_resumes(s, ["-tls1_3"], 3)
                self.check_resumes(s, ["-tls1_2"], 3)  # a TLS 1.2 ticket

    def test_resumption_with_tls12_session_id(self):
        # The session-id cache is per process (tls.c): in prefork a session
        # may land on another worker, so there it is checked with one worker.
        for mode in harness.MODES:
            args = ["--workers", "1"] if mode == "prefork" else []
            with self.subTest(mode=mode), self.server(mode, *args) as s:
                self.check_resumes(s, ["-tls1_2", "-no_ticket"], 2)

    def test_python_session_reuse(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                ctx = self.ctx()
                with tls_connect(s, ctx) as c:
                    c.sendall(request())
                    self.assertEqual(read_response(c)[0], 200)
                    session = c.session
                    self.assertFalse(c.session_reused)
                with tls_connect(s, ctx, session=session) as c:
                    self.assertTrue(c.session_reused)
                    c.sendall(request())
                    self.assertEqual(read_response(c)[2], HELLO)

    # ---- what is not TLS on the TLS port ---------------------------------------

    def test_plain_http_on_tls_port_gets_400_in_clear(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                before = stats(s)["failures"]
                c = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                with c:
                    c.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    data, closed = read_to_eof(c)
                self.assertTrue(closed)
                (status, h, body), = parse_responses(data)
                self.assertEqual(status, 400)
                self.assertEqual(h.get("connection"), "close")
                self.assertIn(b"https://", body)
                # curl's view of the same mistake
                r = curl("-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:%d/hello" % s.tls_port)
                self.assertEqual(r.stdout, b"400")
                # both ports go on serving
                self.assertEqual(s.get("/hello")[2], HELLO)
                self.assertEqual(s.get("/hello", tls_context=self.ctx())[2], HELLO)
                self.assertEqual(stats(s)["failures"], before + 2)

    def test_garbage_on_tls_port_is_closed(self):
        hello = client_hello()
        payloads = [b"\x16\x03\x01\x00\x05hello",  # a handshake record with a nonsense body
                    b"\x00" + os.urandom(300),      # not a TLS record at all
                    b"\xff" * 64,
                    b"\x16\x03\x01\xff\xff" + b"\x01" * 300]  # a record longer than allowed
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                before = stats(s)["failures"]
                for p in payloads:
                    c = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                    with c:
                        c.sendall(p)
                        data, closed = read_to_eof(c)
                    self.assertTrue(closed, p[:10])
                    self.assertFalse(data.startswith(b"HTTP/"), data[:50])  # no clear-text answer
                # a real ClientHello cut in half, then the client goes away
                for how in ("close", "half-close"):
                    c = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                    with c:
                        c.sendall(hello[:len(hello) // 2])
                        if how == "half-close":
                            c.shutdown(socket.SHUT_WR)
                            self.assertTrue(read_to_eof(c)[1])
                want = before + len(payloads) + 2
                self.assertTrue(wait_until(lambda: stats(s)["failures"] >= want, GUARD), (stats(s), want))
                self.assertEqual(stats(s)["failures"], want)
                self.assertEqual(s.get("/hello", tls_context=self.ctx())[2], HELLO)

    # ---- stalls --------------------------------------------------------------

    def test_stalled_handshake_is_bounded_and_others_are_served(self):
        hello = client_hello()
        for mode in harness.MODES:
            # iterative serves one connection at a time: there the stalls hold
            # everyone, until --header-timeout ends each of them. (The slow-client
            # defence, off here, would end them sooner: see test_hostile.)
            timeout = "2" if mode == "iterative" else "6"
            with self.subTest(mode=mode), self.server(mode, "--header-timeout", timeout,
                                                      "--slow-client-defence", "off") as s:
                before = stats(s)["failures"]
                silent = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                half = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                half.sendall(hello[:len(hello) // 2])
                got = []
                other = threading.Thread(target=lambda: got.append(
                    s.get("/hello", tls_context=self.ctx(), timeout=GUARD)))
                other.start()
                if mode != "iterative":
                    other.join(GUARD)
                    self.assertEqual(got and got[0][2], HELLO)
                    self.assertTrue(still_open(silent) and still_open(half),
                                    "the other client was served while both handshakes stalled")
                for c in (silent, half):  # the server ends each stall
                    with c:
                        self.assertTrue(read_to_eof(c)[1])
                other.join(GUARD)
                self.assertEqual(got and got[0][2], HELLO)
                self.assertTrue(wait_until(lambda: stats(s)["failures"] == before + 2, GUARD), stats(s))

    def test_many_stalled_handshakes_do_not_stop_service(self):
        hello = client_hello()
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if harness.bounded(mode):
                    self.skipTest("a bounded number of workers (iterative, prefork, pool) can be stalled")
                # the defence would cut them after --first-byte-timeout: this is
                # about holding them all while serving others
                with self.server(mode, "--slow-client-defence", "off") as s:
                    stalls = []
                    try:
                        for i in range(50):
                            c = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                            stalls.append(c)
                            if i % 2:
                                c.sendall(hello[:20])
                        r = curl("--cacert", self.cert, "https://localhost:%d/hello" % s.tls_port)
                        self.assertEqual(r.stdout, HELLO, r.stderr)
                        self.assertEqual(s.get("/hello")[2], HELLO)
                        self.assertTrue(wait_until(lambda: stats(s)["open"] >= 50, GUARD), stats(s))
                    finally:
                        for c in stalls:
                            c.close()

    def test_partial_record_after_handshake_is_bounded(self):
        # A client finishes the handshake, then sends 2 bytes of a record
        # header and stalls. --header-timeout must close it, and a stop
        # must still work. (The blocking drivers once skipped their poll
        # while SSL_has_pending() saw the partial record: a busy loop that
        # never reached the deadline or the stop check.)
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode, "--header-timeout", "2") as s:
                with tls_connect(s, self.ctx()) as c:
                    os.write(c.fileno(), b"\x17\x03")  # under the SSL object: raw bytes
                    closed = read_to_eof(c, 12)[1]
                    rc = stop_within(s, 5)  # with the client still connected
                self.assertEqual((closed, rc), (True, 0),
                                 "(closed by --header-timeout 2 within 12 s?, exit code within 5 s of SIGTERM)")

    # ---- HTTP over TLS -------------------------------------------------------

    def test_keep_alive_over_tls(self):
        for mode in harness.MODES:
            args = [] if harness.keeps_alive(mode) else ["--keep-alive", "on"]
            with self.subTest(mode=mode), self.server(mode, *args) as s:
                before = stats(s)
                with tls_connect(s, self.ctx()) as c:
                    for i in range(5):
                        c.sendall(request("/echo", "POST", b"req%d" % i, close=False))
                        status, h, body = read_response(c)
                        self.assertEqual((status, body), (200, b"req%d" % i))
                        self.assertNotEqual(h.get("connection"), "close")
                after = stats(s)
                self.assertEqual(after["accepted"] - before["accepted"], 1)
                self.assertEqual(after["handshakes"] - before["handshakes"], 1)

    def test_keep_alive_over_tls_http_client(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if not harness.keeps_alive(mode):
                    self.skipTest("keep-alive is off by default in this mode")
                with self.server(mode) as s:
                    before = stats(s)["accepted"]
                    conn = http.client.HTTPSConnection("localhost", s.tls_port, timeout=GUARD, context=self.ctx())
                    try:
                        for _ in range(4):
                            conn.request("GET", "/hello")
                            self.assertEqual(conn.getresponse().read(), HELLO)
                        self.assertEqual(stats(s)["accepted"] - before, 1)  # one connection for all four
                    finally:
                        conn.close()

    def test_pipelined_requests_over_tls(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode, "--keep-alive", "on") as s:
                with tls_connect(s, self.ctx()) as c:
                    c.sendall(request("/echo", "POST", b"first", close=False) + request(close=False) +
                              request("/echo", "POST", b"third", close=False) + request("/echo", "POST", b"last"))
                    data, closed = read_to_eof(c)
                self.assertTrue(closed)
                got = parse_responses(data)
                self.assertEqual([(st, b) for st, _, b in got],
                                 [(200, b"first"), (200, HELLO), (200, b"third"), (200, b"last")])

    def test_request_then_client_ends_its_side_is_answered(self):
        # The client sends a request and then ends its direction, with a
        # close_notify or with a bare TCP FIN: the answer still comes.
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                for how in ("close_notify", "fin"):
                    sock = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                    with sock:
                        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
                        obj = self.ctx().wrap_bio(incoming, outgoing, server_hostname="localhost")
                        while True:
                            try:
                                obj.do_handshake()
                                break
                            except ssl.SSLWantReadError:
                                sock.sendall(outgoing.read())
                                incoming.write(sock.recv(65536))
                        obj.write(request(close=False))
                        if how == "close_notify":
                            with self.assertRaises(ssl.SSLWantReadError):
                                obj.unwrap()  # sends ours, would wait for the server's
                        sock.sendall(outgoing.read())
                        sock.shutdown(socket.SHUT_WR)
                        encrypted, closed = read_to_eof(sock)
                    self.assertTrue(closed, how)
                    incoming.write(encrypted)
                    data = b""
                    try:
                        while True:
                            d = obj.read(65536)
                            if not d:
                                break
                            data += d
                    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                        pass
                    (status, _, body), = parse_responses(data)
                    self.assertEqual((status, body), (200, HELLO), how)

    def test_prefork_killed_worker_leaves_no_tls_gauge(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "prefork":
                    self.skipTest("only prefork can lose a worker and go on")
                with self.server(mode, "--workers", "2", "--keep-alive", "on") as s:
                    with tls_connect(s, self.ctx()) as c:
                        c.sendall(request(close=False))
                        victim = int(read_response(c)[1]["x-worker"])
                        self.assertTrue(wait_until(lambda: stats(s)["open"] == 1, GUARD), stats(s))
                        os.kill(victim, 9)
                        self.assertTrue(read_to_eof(c)[1])
                    self.assertTrue(wait_until(lambda: stats(s)["open"] == 0, GUARD), stats(s))
                    self.assertEqual(s.get("/hello", tls_context=self.ctx())[2], HELLO)

    def test_large_body_round_trip(self):
        body = os.urandom(900 * 1024)
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                status, _, got = s.get("/echo", "POST", body=body, tls_context=self.ctx(), timeout=GUARD)
                self.assertEqual(status, 200)
                self.assertTrue(got == body, "%d bytes back, not the %d sent" % (len(got), len(body)))

    def test_large_body_to_slow_reader(self):
        # A small receive window and slow reads: the server's SSL_write
        # takes the response in pieces and waits for WANT_WRITE in between.
        body = os.urandom(900 * 1024)
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                raw.settimeout(GUARD)
                raw.connect((s.bind, s.tls_port))
                with self.ctx().wrap_socket(raw, server_hostname="localhost") as c:
                    c.sendall(request("/echo", "POST", body))
                    time.sleep(0.3)  # let the server fill the window
                    data = b""
                    while True:
                        d = c.recv(8192)
                        if not d:
                            break
                        data += d
                        time.sleep(0.005)
                (status, _, got), = parse_responses(data)
                self.assertEqual(status, 200)
                self.assertTrue(got == body, "%d bytes back, not the %d sent" % (len(got), len(body)))

    # ---- certificates from files -------------------------------------------------

    def make_rsa_cert(self, d):
        cert, key = os.path.join(d, "rsa.pem"), os.path.join(d, "rsa.key")
        r = openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        return cert, key

    def make_chain(self, d):
        """root -> intermediate -> leaf (EC P-256). Returns (root, chain file
        leaf + intermediate, leaf key)."""
        def ec(name, subj):
            r = openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj, cwd=d)
            self.assertEqual(r.returncode, 0, r.stderr)

        def sign(name, ca, ext):
            with open(os.path.join(d, name + ".ext"), "w") as f:
                f.write(ext)
            r = openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                        "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem", cwd=d)
            self.assertEqual(r.returncode, 0, r.stderr)

        r = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "root.key", "-out", "root.pem", "-days", "2", "-subj", "/CN=httpmodes test root",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        self.assertEqual(r.returncode, 0, r.stderr)
        ec("int", "/CN=httpmodes test intermediate")
        sign("int", "root", "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                            "keyUsage=critical,keyCertSign,cRLSign\n")
        ec("leaf", "/CN=localhost")
        sign("leaf", "int", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                            "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
        chain = os.path.join(d, "chain.pem")
        with open(chain, "w") as f:
            f.write(read(os.path.join(d, "leaf.pem")) + read(os.path.join(d, "int.pem")))
        return os.path.join(d, "root.pem"), chain, os.path.join(d, "leaf.key")

    def test_rsa_certificate_from_files(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = self.make_rsa_cert(d)
            for mode in harness.MODES:
                with self.subTest(mode=mode), \
                        Server(mode, "--tls-port", "0", "--tls-cert", cert, "--tls-key", key) as s:
                    r = curl("--cacert", cert, "https://localhost:%d/hello" % s.tls_port)
                    self.assertEqual(r.stdout, HELLO, r.stderr)
                    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                        ctx = client_ctx(cert, minimum=v, maximum=v)
                        self.assertEqual(s.get("/hello", tls_context=ctx)[2], HELLO)
                    self.assertTrue([l for l in s.stderr_lines if "TLS certificate from %s" % cert in l],
                                    s.stderr_lines)

    def test_certificate_chain_served_whole(self):
        with tempfile.TemporaryDirectory() as d:
            root, chain, key = self.make_chain(d)
            written = os.path.join(d, "written.pem")
            for mode in harness.MODES:
                with self.subTest(mode=mode), Server(mode, "--tls-port", "0", "--tls-cert", chain, "--tls-key", key,
                                                     "--tls-write-cert", written) as s:
                    # trusting only the root works only if the intermediate is sent
                    r = curl("--cacert", root, "https://localhost:%d/hello" % s.tls_port)
                    self.assertEqual(r.stdout, HELLO, r.stderr)
                    out = s_client(s.tls_port, root, "-showcerts")
                    self.assertIn("Verify return code: 0 (ok)", out)
                    self.assertEqual(out.count("BEGIN CERTIFICATE"), 2, out)
                    self.assertEqual(read(written).count("BEGIN CERTIFICATE"), 2)

    def check_refused(self, mode, *args, want):
        r = run(harness.BIN, "--mode", mode, "--port", "0", "--bind", harness.HOST, "--tls-port", "0", *args)
        lines = r.stderr.decode().splitlines()
        self.assertEqual(r.returncode, 2, lines)
        self.assertFalse([l for l in lines if "Sanitizer" in l], lines)
        self.assertEqual(len(lines), 1, lines)
        for w in want:
            self.assertIn(w, lines[0])
        return lines[0]

    def test_bad_certificate_options_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = self.make_rsa_cert(d)
            other = os.path.join(d, "other.key")
            self.assertEqual(openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                     "-out", other).returncode, 0)
            missing = os.path.join(d, "missing.pem")
            garbage = os.path.join(d, "garbage.pem")
            with open(garbage, "w") as f:
                f.write("not a certificate\n")
            for mode in harness.MODES:
                with self.subTest(mode=mode):
                    self.check_refused(mode, "--tls-cert", cert, "--tls-key", other,
                                       want=["--tls-key", other, "does not match"])
                    self.check_refused(mode, "--tls-cert", missing, "--tls-key", key, want=["--tls-cert", missing])
                    self.check_refused(mode, "--tls-cert", cert, "--tls-key", missing, want=["--tls-key", missing])
                    self.check_refused(mode, "--tls-cert", garbage, "--tls-key", key, want=["--tls-cert", garbage])
                    self.check_refused(mode, "--tls-write-cert", "/nonexistent/dir/x.pem",
                                       want=["--tls-write-cert", "/nonexistent/dir/x.pem"])
                    os.makedirs(os.path.join(d, mode))
                    cert2, key2 = self.make_rsa_cert(os.path.join(d, mode))  # same type, other key
                    self.check_refused(mode, "--tls-cert", cert, "--tls-key", key2,
                                       want=["--tls-key", key2, "does not match"])

    def test_write_cert_never_overwrites_the_key_or_chain_in_use(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = self.make_rsa_cert(d)
            bundle = os.path.join(d, "bundle.pem")
            with open(bundle, "w") as f:
                f.write(open(cert).read() + open(key).read())
            for args, target in [(("--tls-cert", bundle, "--tls-key", bundle), bundle),
                                 (("--tls-cert", cert, "--tls-key", key), key),
                                 (("--tls-cert", cert, "--tls-key", key), cert)]:
                with self.subTest(target=os.path.basename(target)):
                    before = open(target).read()
                    self.check_refused(harness.MODES[0], *args, "--tls-write-cert", target,
                                       want=["--tls-write-cert", target, "overwritten"])
                    self.assertEqual(open(target).read(), before)

    # ---- counters, stop, load ---------------------------------------------------

    def test_metrics_tls_counters(self):
        full, resumed = 'httpmodes_tls_handshakes_total{kind="full"}', 'httpmodes_tls_handshakes_total{kind="resumed"}'
        failures, accepted = "httpmodes_tls_handshake_failures_total", "httpmodes_tls_connections_accepted_total"
        open_ = "httpmodes_tls_connections_open"
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                m0 = metrics(s)
                self.assertEqual(set(m0), {full, resumed, failures, accepted, open_})
                self.assertEqual(m0[open_], 0)
                ctx = self.ctx()
                with tls_connect(s, ctx) as c:
                    c.sendall(request())
                    read_response(c)
                    session = c.session
                with tls_connect(s, ctx, session=session) as c:
                    self.assertTrue(c.session_reused)
                    c.sendall(request())
                    read_response(c)
                c = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                with c:
                    c.sendall(b"\x16\x03\x01\x00\x05hello")
                    read_to_eof(c)
                self.assertTrue(wait_until(lambda: metrics(s)[open_] == 0, GUARD), metrics(s))
                m1 = metrics(s)
                self.assertEqual({k: m1[k] - m0[k] for k in m0},
                                 {full: 1, resumed: 1, failures: 1, accepted: 3, open_: 0})
                # the gauge sees a connection held open (iterative would be
                # busy with it and could not answer /metrics)
                if mode != "iterative":
                    with tls_connect(s, ctx) as c:
                        self.assertTrue(wait_until(lambda: metrics(s)[open_] == 1, GUARD), metrics(s))
                    self.assertTrue(wait_until(lambda: metrics(s)[open_] == 0, GUARD), metrics(s))
                st = stats(s)
                m2 = metrics(s)
                self.assertEqual((st["accepted"], st["open"], st["handshakes"] - st["resumed"], st["resumed"],
                                  st["failures"]), (m2[accepted], m2[open_], m2[full], m2[resumed], m2[failures]))

    def test_sigterm_with_idle_tls_connection_and_stalled_handshake(self):
        hello = client_hello()
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode, "--keep-alive", "on") as s:
                idle = tls_connect(s, self.ctx())
                stalled = socket.create_connection((s.bind, s.tls_port), timeout=GUARD)
                with idle, stalled:
                    idle.sendall(request(close=False))
                    self.assertEqual(read_response(idle)[2], HELLO)
                    stalled.sendall(hello[:40])
                    if mode != "iterative":  # let a worker take the stalled one
                        self.assertTrue(wait_until(lambda: stats(s)["accepted"] >= 2, GUARD))
                    rc = stop_within(s, 5)
                    self.assertEqual(rc, 0, "no clean exit within 5 s of SIGTERM")
                    self.assertTrue(read_to_eof(idle, 5)[1])

    def test_sigterm_while_serving_a_stalled_handshake(self):
        # Iterative above had the stall still in its backlog; here every
        # mode is inside the handshake of the stalled connection.
        hello = client_hello()
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode, "--workers", "1") as s:
                with socket.create_connection((s.bind, s.tls_port), timeout=GUARD) as stalled:
                    stalled.sendall(hello[:40])
                    self.assertTrue(wait_until(lambda: harness.backlog(s.tls_port) == 0, GUARD), "never accepted")
                    rc = stop_within(s, 5)
                    self.assertEqual(rc, 0, "no clean exit within 5 s of SIGTERM")
                    self.assertTrue(read_to_eof(stalled, 5)[1])

    def test_wrk_over_https(self):
        exe = tool("wrk")
        for mode in harness.MODES:
            with self.subTest(mode=mode), self.server(mode) as s:
                r = run(exe, "-t1", "-c4", "-d1s", "https://127.0.0.1:%d/hello" % s.tls_port, timeout=GUARD)
                out = r.stdout.decode()
                self.assertEqual(r.returncode, 0, out + r.stderr.decode())
                n = int(re.search(r"(\d+) requests in", out).group(1))
                self.assertGreater(n, 0, out)
                self.assertNotIn("Non-2xx", out)
                errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
                if errors:  # a connection cut when wrk stops is all that may go wrong
                    c, rd, w, t = map(int, errors.groups())
                    self.assertEqual((c, w, t), (0, 0, 0), out)
                    self.assertLessEqual(rd, 4, out)
                self.assertEqual(s.get("/hello", tls_context=self.ctx())[2], HELLO)


if __name__ == "__main__":
    unittest.main()
