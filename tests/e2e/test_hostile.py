"""Hostile clients (issue item 2): slow and idle clients run by these tests
themselves, with plain Python sockets (no network tool):

  slowloris    connections that send a partial request head, then one more
               header byte every second (slowhttptest -H)
  idle flood   connections that connect and send nothing
  silent TLS   connections to the HTTPS port that never send a ClientHello
  slow body    a whole head announcing a body, then one body byte a second
               (slowhttptest -B)
  slow read    a large response (a 1 MiB /echo) read 32 bytes a second
               through a small receive window (slowhttptest -X): the
               response cannot leave, and a blocking worker is held

Each attack keeps its connection count up (a closed attacker reconnects at
once, as slowhttptest does) while a normal client asks for /hello on a new
connection. With the slow-client defence on (the default) the normal client
must be answered within NORMAL_BOUND seconds in every mode — the bounded pools
(prefork, pool) through the crowded-worker rule, the loops (event, reactors)
and threads because an attacker costs them no worker — but the one that serves
one connection at a time (iterative, harness.one_at_a_time): there the test
only asserts that it serves again once the attack ends. The bounds are generous (a busy
2-core machine runs the attackers, the server and the client at once): they
tell "served during the attack" from "refused for the whole attack", and
never measure speed.
"""
import errno
import json
import socket
import ssl
import sys
import threading
import time
import unittest

import harness
from harness import Server

ATTACKERS = 250     # connections kept up by each attack
NORMAL_BOUND = 8.0  # s: a normal client is answered within this during an attack
RECOVER_BOUND = 30.0  # s: iterative serves again this soon after the attack ends
GUARD = 30          # s: a hang guard, never a speed threshold
PROBES, PROBE_EVERY = 4, 1.5  # normal clients during each attack, one every 1.5 s
HELLO = b"Hello, world!\n"


class Attack:
    """Keeps `count` attacking connections to port up from a background
    thread. first: bytes sent on connecting (None: nothing, an idle or
    silent connection); then, every second, one byte of `drip` (b"": none).
    A connection the server closes (or answers) is replaced at once."""

    def __init__(self, port, count, first, drip=b""):
        self.port, self.count, self.first, self.drip = port, count, first, drip
        self.socks = []       # [socket, connected, bytes dripped]
        self.replaced = 0     # attackers the server closed
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open_one(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((harness.HOST, self.port))  # in progress: the backlog may be full
        return [s, False, 0]

    def tick(self):
        """Sends what each connection owes; replaces the closed ones."""
        for i, entry in enumerate(self.socks):
            s, connected, dripped = entry
            try:
                if not connected:
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) not in (0, errno.EINPROGRESS):
                        raise ConnectionError
                    s.getpeername()  # raises until connected
                    entry[1] = True
                    if self.first:
                        s.send(self.first)
                    continue
                try:
                    if s.recv(4096, socket.MSG_DONTWAIT) == b"":
                        raise ConnectionError  # closed by the server
                    raise ConnectionError      # answered (408): done with it
                except BlockingIOError:
                    pass
                if self.drip:
                    s.send(self.drip[dripped % len(self.drip):][:1])
                    entry[2] += 1
            except OSError:
                if entry[1]:
                    self.replaced += 1
                s.close()
                self.socks[i] = self.open_one()

    def run(self):
        while not self.stop_flag.is_set():
            self.tick()
            self.stop_flag.wait(1.0)

    def __enter__(self):
        self.socks = [self.open_one() for _ in range(self.count)]
        self.thread.start()
        time.sleep(2.0)  # let the attack take hold (connected, first bytes sent)
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(GUARD)
        for s, _, _ in self.socks:
            s.close()


def timed_hello(s, timeout=GUARD):
    """GET /hello on a new connection. Returns (seconds taken, body or the
    exception's text)."""
    t0 = time.monotonic()
    try:
        body = s.get("/hello", timeout=timeout)[2]
    except OSError as e:
        body = repr(e)
    return time.monotonic() - t0, body


SLOWLORIS_HEAD = b"GET /hello HTTP/1.1\r\nHost: a\r\nX-a: "
SLOW_BODY_HEAD = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"


SLOW_READ_BODY = 1 << 20  # the largest /echo --max-body-size allows by default
SLOW_READ_RATE = 32       # bytes a second the slow reader takes
CUT_BOUND = 20.0          # s: a slow reader is reset within this (--header-timeout is 60 here)
TCP_CLOSE = 7             # tcpi_state once a reset arrived


class SlowReader:
    """slowhttptest -X: POSTs SLOW_READ_BODY bytes to /echo, then reads the
    echo SLOW_READ_RATE bytes a second, from a thread of its own. Its
    SO_RCVBUF is small (the window it offers) and its MSS that of an
    Ethernet path: loopback's 64 kB MSS would let the server's kernel take
    a 1 MiB response whole (its send buffer grows with the MSS), and no
    worker would wait. cut_after: seconds from the end of the upload to the
    reset that ended it (None: not cut)."""

    def __init__(self, port, tls=False):
        self.port, self.tls = port, tls
        self.sent_at = None
        self.cut_after = None
        self.error = None
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1460)
            s.settimeout(GUARD)
            s.connect((harness.HOST, self.port))
            if self.tls:  # the same over HTTPS: what TCP acknowledged counts, records and all
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
                s = ctx.wrap_socket(s, server_hostname="localhost")
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                      % SLOW_READ_BODY + b"x" * SLOW_READ_BODY)
            self.sent_at = time.monotonic()
            s.setblocking(False)
            while not self.stop_flag.wait(1.0):
                # the bytes already in our receive buffer come before the
                # reset (recv would see it only once they are read): ask TCP
                if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == TCP_CLOSE:
                    self.cut_after = time.monotonic() - self.sent_at
                    return
                try:
                    s.recv(SLOW_READ_RATE)
                except (BlockingIOError, ssl.SSLWantReadError):
                    pass
        except OSError as e:
            if self.sent_at is not None and isinstance(e, ConnectionResetError):
                self.cut_after = time.monotonic() - self.sent_at
            else:
                self.error = repr(e)
        finally:
            s.close()

    def stop(self):
        self.stop_flag.set()
        self.thread.join(GUARD)


class Hostile(unittest.TestCase):

    def check_served(self, mode, s, attack, cut=False):
        """A normal client PROBES times during the attack — the last one after
        TCP_DEFER_ACCEPT has handed the silent attackers over — answered
        within NORMAL_BOUND (one_at_a_time: only reported), and once after it.
        cut: also wait for the server to cut an attacker."""
        name = self.id().rsplit(".", 1)[-1]
        with attack:
            single = harness.one_at_a_time(mode)
            for probe in range(1 if single else PROBES):
                took, body = timed_hello(s, NORMAL_BOUND if single else GUARD)
                sys.stderr.write("\n  %s %s: normal client %d answered in %.2f s %s" %
                                 (mode, name, probe, took, "" if body == HELLO else body))
                if not single:
                    self.assertEqual(body, HELLO)
                    self.assertLess(took, NORMAL_BOUND,
                                    "a normal client waited %.1f s during the attack" % took)
                time.sleep(max(0.0, PROBE_EVERY - took))
            if cut:
                self.assertTrue(harness.wait_until(lambda: attack.replaced > 0, GUARD),
                                "no attacker was ever cut")
        took, body = timed_hello(s, RECOVER_BOUND)
        sys.stderr.write("\n  %s %s: after the attack, answered in %.2f s " % (mode, name, took))
        self.assertEqual(body, HELLO, "not served %.1f s after the attack ended" % took)

    def test_slowloris(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                self.check_served(mode, s, Attack(s.port, ATTACKERS, SLOWLORIS_HEAD, b"abcdefgh"),
                                  cut=True)

    def test_idle_connect_flood(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                self.check_served(mode, s, Attack(s.port, ATTACKERS, None))

    def test_silent_tls(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--tls-port", "0") as s:
                self.check_served(mode, s, Attack(s.tls_port, ATTACKERS, None))

    def test_slow_body(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                self.check_served(mode, s, Attack(s.port, ATTACKERS, SLOW_BODY_HEAD, b"x"), cut=True)

    def test_slow_read(self):
        """Slow readers — twice the workers of a bounded pool — are reset
        about two seconds after their response began (--min-send-rate), long
        before --header-timeout (60 s here), and a normal client is served
        meanwhile (one_at_a_time: only reported)."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--header-timeout", "60") as s:
                single = harness.one_at_a_time(mode)
                count = 2 if single else max(4, 2 * harness.default_workers(mode))
                readers = [SlowReader(s.port) for _ in range(count)]
                try:
                    self.assertTrue(harness.wait_until(
                        lambda: sum(r.sent_at is not None for r in readers) >= min(count, 2), GUARD),
                        "the slow readers' requests were not taken")
                    took, body = timed_hello(s, NORMAL_BOUND if single else GUARD)
                    sys.stderr.write("\n  %s slow read: normal client answered in %.2f s %s" %
                                     (mode, took, "" if body == HELLO else body))
                    if not single:
                        self.assertEqual(body, HELLO)
                        self.assertLess(took, NORMAL_BOUND,
                                        "a normal client waited %.1f s for slow readers" % took)
                    harness.wait_until(lambda: all(r.cut_after is not None or r.error
                                                   for r in readers), CUT_BOUND + 20)
                finally:
                    for r in readers:
                        r.stop()
                cuts = sorted(r.cut_after for r in readers if r.cut_after is not None)
                sys.stderr.write("\n  %s slow read: %d of %d readers reset, after %s s" %
                                 (mode, len(cuts), count, ["%.1f" % c for c in cuts]))
                self.assertEqual([r.error for r in readers if r.error], [])
                self.assertEqual(len(cuts), count, "slow readers were not cut")
                self.assertLess(max(cuts), CUT_BOUND)
                stats = json.loads(s.get("/stats")[2])
                self.assertGreaterEqual(stats["send_timeouts"], count)

    def test_slow_read_over_tls(self):
        """A slow reader on the HTTPS port is reset as soon, and counted."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--header-timeout", "60",
                                                 "--tls-port", "0") as s:
                r = SlowReader(s.tls_port, tls=True)
                try:
                    harness.wait_until(lambda: r.cut_after is not None or r.error, CUT_BOUND + 20)
                finally:
                    r.stop()
                sys.stderr.write("\n  %s slow read over TLS: reset after %s s" % (mode, r.cut_after and "%.1f" % r.cut_after))
                self.assertIsNone(r.error)
                self.assertIsNotNone(r.cut_after, "the slow reader was not cut")
                self.assertLess(r.cut_after, CUT_BOUND)
                self.assertGreaterEqual(json.loads(s.get("/stats")[2])["send_timeouts"], 1)

    def test_min_rate_cuts_a_trickle_long_before_the_header_timeout(self):
        """One slowloris connection alone gets 408 from --min-rate within a
        few seconds, not after --header-timeout (60 s here)."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--header-timeout", "60") as s:
                c = s.connect(timeout=GUARD)
                try:
                    c.sendall(SLOWLORIS_HEAD)
                    t0 = time.monotonic()
                    out = b""
                    c.settimeout(1.0)
                    while time.monotonic() - t0 < GUARD and not out:
                        try:
                            c.sendall(b"a")
                            out = c.recv(4096)
                            if not out:
                                break
                        except socket.timeout:
                            pass
                        except OSError:
                            break
                    self.assertTrue(out.startswith(b"HTTP/1.1 408 "), out[:200])
                    self.assertIn(b"--min-rate", out)
                    self.assertLess(time.monotonic() - t0, GUARD / 2)
                finally:
                    c.close()


if __name__ == "__main__":
    unittest.main()
