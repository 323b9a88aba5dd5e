"""Regression tests for failures a code review found: each one once hung,
stopped or corrupted the real server. Every test runs in the modes where the
failure could happen and says why it is skipped elsewhere."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Server, parse_responses

GUARD = 20  # seconds: a hang guard, never a speed threshold
REFUSE_BOUND = 1.0  # s: a client of a stopping server is refused within this


def stats(s):
    return json.loads(s.get("/stats")[2])


def children(pid):
    """prefork's worker processes (not its status listener's)."""
    return harness.worker_processes(pid)


class Robustness(unittest.TestCase):

    def test_prefork_master_as_pid_1(self):
        # In a container the master is PID 1: workers once took getppid() == 1
        # for "orphaned", exited at once and were restarted in a fork storm.
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "prefork":
                    self.skipTest("only prefork has a master and workers")
                if os.geteuid() != 0:
                    self.skipTest("needs root for a PID namespace")
                s = Server(mode, "--workers", "2", prefix=["unshare", "--pid", "--fork", "--mount-proc"])
                s.start()
                try:
                    for _ in range(5):
                        self.assertEqual(s.get("/hello", timeout=GUARD)[0], 200)
                    self.assertEqual(stats(s)["worker_restarts"], 0)
                    self.assertFalse([l for l in s.stderr_lines if "restarting" in l], s.stderr_lines)
                    master = children(s.proc.pid)
                    self.assertEqual(len(master), 1, "unshare should have one child, the master")
                    os.kill(master[0], signal.SIGTERM)
                    self.assertEqual(s.proc.wait(GUARD), 0)
                finally:
                    s.kill()
                    s.close_pipes()

    def test_prefork_sigterm_to_one_worker(self):
        # A SIGTERM sent to one worker once stopped the whole server (the
        # workers shared the master's stop pipe). Now that worker alone stops
        # and the master starts another in its place.
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "prefork":
                    self.skipTest("only prefork has workers")
                with Server(mode, "--workers", "2") as s:
                    self.assertTrue(harness.wait_until(lambda: len(children(s.proc.pid)) == 2, GUARD))
                    victim = children(s.proc.pid)[0]
                    os.kill(victim, signal.SIGTERM)
                    self.assertTrue(harness.wait_until(lambda: stats(s)["worker_restarts"] == 1, GUARD))
                    self.assertIsNone(s.proc.poll(), "the master stopped")
                    self.assertTrue(harness.wait_until(
                        lambda: len(children(s.proc.pid)) == 2 and victim not in children(s.proc.pid), GUARD))
                    self.assertEqual(s.get("/hello")[0], 200)

    def test_prefork_sigterm_to_a_worker_just_forked(self):
        # A SIGTERM reaching a worker before it had its own stop pipe ran the
        # master's handler and stopped the whole server (13 % of tries, once).
        # Stop signals are now held across the fork. Many tries, each killing
        # a worker the moment it exists.
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "prefork":
                    self.skipTest("only prefork has workers")
                for attempt in range(20):
                    with Server(mode, "--workers", "2") as s:
                        self.assertTrue(harness.wait_until(lambda: children(s.proc.pid), GUARD, step=0.001))
                        os.kill(children(s.proc.pid)[0], signal.SIGTERM)
                        self.assertTrue(harness.wait_until(lambda: stats(s)["worker_restarts"] == 1, GUARD),
                                        "attempt %d" % attempt)
                        self.assertIsNone(s.proc.poll(), "the master stopped (attempt %d)" % attempt)

    def test_prefork_killed_worker_leaves_no_gauges(self):
        # A worker killed while serving once left its open connection and
        # request in flight in the shared counters for good.
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "prefork":
                    self.skipTest("only prefork can lose a worker and go on")
                with Server(mode, "--workers", "2") as s:
                    c = s.connect()
                    c.sendall(b"GET /db?delay=5000 HTTP/1.1\r\nHost: a\r\n\r\n")
                    self.assertTrue(harness.wait_until(lambda: stats(s)["in_flight"] == 2, GUARD))
                    # the worker serving /db is the one not serving /stats
                    busy = [p for p in children(s.proc.pid) if p != int(s.get("/hello")[1]["x-worker"])]
                    for p in busy:
                        os.kill(p, signal.SIGKILL)
                    c.close()
                    ok = harness.wait_until(
                        lambda: (lambda st: st["in_flight"] == 1 and st["connections"]["open"] == 1
                                 and st["worker_restarts"] >= 1)(stats(s)), GUARD)
                    self.assertTrue(ok, stats(s))

    def test_event_db_wait_after_cpu(self):
        # The event loop's timers count from libev's cached time; a /cpu that
        # burned the loop once made the next database wait end at once.
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                out, _ = s.raw(b"GET /cpu?iterations=1500000 HTTP/1.1\r\nHost: a\r\n\r\n"
                               b"GET /db?delay=200 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                               timeout=GUARD)
                resps = parse_responses(out)
                self.assertEqual([r[0] for r in resps], [200, 200])
                # a lower bound: a 200 ms query cannot be over sooner
                self.assertGreaterEqual(int(resps[1][1]["x-db-wait-us"]), 200000)

    def test_stalled_access_log_pipe(self):
        # With --access-log - and a stdout pipe nobody reads, the server once
        # blocked for good in write(). Lines are now dropped instead.
        for mode in harness.MODES:
            with self.subTest(mode=mode), tempfile.TemporaryDirectory() as tmp:
                fifo = os.path.join(tmp, "log")
                os.mkfifo(fifo)
                reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # held open, never read
                try:
                    shell = ["sh", "-c", 'exec "$0" "$@" >"$HM_FIFO"']
                    with Server(mode, "--access-log", "-", "--keep-alive", "on", prefix=shell,
                                env={"HM_FIFO": fifo}) as s:
                        c = s.connect()
                        req = b"GET /hello?" + b"x" * 1000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
                        for i in range(400):  # ~450 KB of log lines: far more than a pipe holds
                            c.sendall(req)
                            head = b""
                            while b"Hello, world!\n" not in head:
                                d = c.recv(65536)
                                self.assertTrue(d, "connection closed after %d requests" % i)
                                head += d
                        c.close()
                        self.assertEqual(s.get("/hello")[0], 200)
                        self.assertTrue(harness.wait_until(
                            lambda: any("dropping" in l for l in s.stderr_lines), GUARD), s.stderr_lines)
                finally:
                    os.close(reader)

    def test_sighup_and_sigusr1_do_not_stop_the_server(self):
        # Both once killed the server (event exited 129 and 138, dropping the
        # request in flight). SIGUSR1 now reopens the access log (log
        # rotation, as nginx); SIGHUP reloads (test_reload.py) and says so.
        for mode in harness.MODES:
            with self.subTest(mode=mode), tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "access.log")
                with Server(mode, "--access-log", path) as s:
                    slow = {}
                    t = threading.Thread(target=lambda: slow.update(r=s.get("/db?delay=500", timeout=GUARD)))
                    t.start()
                    time.sleep(0.2)  # the request is in flight when the signals come (not a bound)
                    self.assertEqual(s.get("/hello")[0], 200)
                    # the line is written just after the response: wait for it
                    self.assertTrue(harness.wait_until(lambda: "GET /hello" in open(path).read(), GUARD))
                    os.rename(path, path + ".1")
                    s.proc.send_signal(signal.SIGUSR1)
                    s.proc.send_signal(signal.SIGHUP)
                    t.join(GUARD)
                    self.assertEqual(slow["r"][0], 200)
                    self.assertIsNone(s.proc.poll(), s.stderr_lines[-5:])
                    self.assertTrue(harness.wait_until(
                        lambda: any("SIGHUP" in l for l in s.stderr_lines), GUARD), s.stderr_lines)
                    # every worker that writes next writes to the new file
                    for _ in range(8):
                        self.assertEqual(s.get("/hello")[0], 200)
                    self.assertTrue(harness.wait_until(lambda: os.path.exists(path), GUARD))
                    with open(path) as f:
                        self.assertIn("GET /hello", f.read())
                    with open(path + ".1") as f:
                        old = f.read()
                    self.assertIn("GET /hello", old)
                    self.assertNotIn("SIGHUP", old)

    def test_sigterm_refuses_new_connections_at_once(self):
        # The listening socket once stayed open for the whole stop: a client
        # that connected 0.2 s after SIGTERM was taken in by the kernel,
        # waited 2.3 s and was reset. Now every mode stops listening when the
        # stop begins (reactors: every loop's own socket), so a new client is
        # refused at once and can go elsewhere, while the request in flight is
        # still answered.
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                c = s.connect(timeout=GUARD)
                try:
                    c.sendall(b"GET /db?delay=1500 HTTP/1.1\r\nHost: a\r\n\r\n")
                    self.assertTrue(harness.wait_until(lambda: harness.backlog(s.port) == 0, GUARD))
                    time.sleep(0.2)  # read by its worker (not a bound)
                    s.proc.send_signal(signal.SIGTERM)
                    time.sleep(0.2)
                    for attempt in range(8):  # reactors: each new port may hash to another loop
                        t0 = time.monotonic()
                        try:
                            socket.create_connection((harness.HOST, s.port), timeout=GUARD).close()
                            self.fail("attempt %d: connected to a stopping server" % attempt)
                        except ConnectionRefusedError:
                            pass
                        self.assertLess(time.monotonic() - t0, REFUSE_BOUND)
                    out, _ = harness.read_all(c, GUARD)
                    self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:200])
                finally:
                    c.close()

    def test_sigterm_answers_a_connection_already_queued(self):
        # A connection queued after the signal but before a loop busy with a
        # /cpu could see it was once left in the queue and reset at exit. A
        # loop now takes what is queued before it stops listening, and
        # answers it like any fresh connection.
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if not harness.event_loop(mode) or harness.MODE_TABLE[mode]["cpu_off_loop"]:
                    self.skipTest("only a loop burning CPU leaves a connection queued on "
                                  "purpose (offload burns on its pool); the bounded models "
                                  "reset what is queued (README)")
                with Server(mode) as s:
                    busy, queued = s.connect(timeout=GUARD), None
                    try:
                        # a keep-alive connection, so that the loop burns in its read
                        # callback, not in the accept callback that takes the queue
                        busy.sendall(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
                        self.assertIn(b"Hello, world!", busy.recv(65536))
                        busy.sendall(b"GET /cpu?iterations=1500000 HTTP/1.1\r\nHost: a\r\n\r\n")
                        time.sleep(0.05)  # the loop burns (about 0.3 s) and sees the stop after
                        s.proc.send_signal(signal.SIGTERM)
                        # reactors: let the idle loop stop listening first, so the
                        # connection lands in the busy loop's queue; connecting in the
                        # instant between the idle loop's last accept and its shutdown()
                        # would be reset (the kernel drops a closed listener's queue)
                        time.sleep(0.1)
                        queued = s.connect(timeout=GUARD)
                        queued.sendall(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
                        for c in (busy, queued):
                            out, _ = harness.read_all(c, GUARD)
                            self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:200])
                    finally:
                        busy.close()
                        if queued:
                            queued.close()

    def test_sigterm_as_the_server_starts_answers_what_was_queued(self):
        # A reactors loop whose thread began after the stop signal used to
        # skip its loop, so the connections the kernel had queued on its
        # listener (clients that connected once "listening on" was printed)
        # were reset when it closed. Now it takes them like any loop at a
        # stop; so did event's and offload's one loop when the signal came
        # before it began. Many loops, connected and stopped at once: the late
        # loops' threads are still starting (on the old binary this failed in
        # the first round or two, not every time: it needs a loop to start
        # late; on a correct one it cannot fail). Without the slow-client
        # defence: with TCP_DEFER_ACCEPT a connection is queued only once its
        # request is processed, which a busy kernel may do after the stop.
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode in ("iterative", "pool", "prefork"):
                    self.skipTest("the bounded models stop listening at the signal and reset "
                                  "what is queued, by design (README)")
                args = ["--slow-client-defence", "off"] + (["--workers", "16"] if mode == "reactors" else [])
                for round_ in range(4):
                    s = Server(mode, *args)
                    socks = []
                    try:
                        s.start()
                        for _ in range(24):
                            c = s.connect(timeout=GUARD)
                            socks.append(c)
                            c.sendall(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
                        s.proc.send_signal(signal.SIGTERM)
                        for i, c in enumerate(socks):
                            try:
                                out, _ = harness.read_all(c, GUARD)
                            except ConnectionResetError:
                                out = b"(reset)"
                            self.assertTrue(out.startswith(b"HTTP/1.1 200 "),
                                            "round %d, connection %d of %d: %r" % (round_, i, len(socks), out[:80]))
                        self.assertEqual(s.proc.wait(GUARD), 0, "\n".join(s.stderr_lines))
                    finally:
                        for c in socks:
                            c.close()
                        s.kill()
                        s.close_pipes()

    def test_body_trickle_times_out(self):
        # A body sent a byte at a time once reset the timeout with every byte:
        # it held a blocking worker (and a graceful stop) forever. The body now
        # has a total budget of --header-timeout.
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--header-timeout", "2") as s:
                c = s.connect(timeout=GUARD)
                c.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
                t0 = time.time()
                out = b""
                c.settimeout(0.5)
                while time.time() - t0 < GUARD:
                    try:
                        c.sendall(b"x")
                    except OSError:
                        break
                    try:
                        d = c.recv(65536)
                        if not d:
                            break
                        out += d
                    except socket.timeout:
                        pass
                c.close()
                self.assertTrue(out.startswith(b"HTTP/1.1 408 "), out[:200])


if __name__ == "__main__":
    unittest.main()
