"""Tests of loadtest/result.lua, the wrk script whose one JSON line every lab
run is read from, against real wrk and a fake server whose answers take known
times.

wrk 4 adds made-up samples to its latency histogram before the script sees it
(its coordinated-omission correction): a response that took n >= 2e, with
e = duration / (requests / connections), also records n-e, n-2e, ... These
tests check that result.lua takes them out again — in_time is the responses
that came, never more than wrk got, and the percentiles are theirs — and that
a run whose latencies spread over seconds is still reported at once (reading
wrk's histogram whole would take minutes; the lab used to kill wrk).
Timings are bounded loosely: a busy machine makes anything slower.

And of loadtest/dbwait.lua, which reads the server's own X-DB-Wait-Us from every
answer: its mean and percentiles against answers that carry known values.
"""
import itertools
import json
import os
import re
import subprocess
import time
import unittest

import test_openloop  # its FakeServer (the module, so its tests are not run twice here)

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "..", "..", "loadtest", "result.lua")
DBWAIT = os.path.join(HERE, "..", "..", "loadtest", "dbwait.lua")


def wrk(port, connections, seconds, tell_connections=True):
    env = dict(os.environ)
    env.pop("HTTPMODES_WRK_CONNECTIONS", None)
    if tell_connections:
        env["HTTPMODES_WRK_CONNECTIONS"] = str(connections)
    start = time.monotonic()
    p = subprocess.run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s",
                        "-s", LUA, "http://127.0.0.1:%d/" % port],
                       capture_output=True, text=True, env=env, timeout=seconds + 120)
    took = time.monotonic() - start
    lines = [l for l in p.stdout.splitlines() if l.startswith('{"wrk_result"')]
    assert len(lines) == 1, p.stdout + p.stderr
    return json.loads(lines[0]), took


class WrkResult(unittest.TestCase):
    def setUp(self):
        if subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode != 0:
            self.skipTest("wrk is not installed (bootstrap.sh installs it)")

    def test_made_up_samples_are_taken_out(self):
        """One answer in 20 takes 150 ms, the others 1 ms: the real p90 is
        fast and in_time is the requests; wrk's corrected histogram has
        hundreds more samples, spread between them (its p90 is slow). Every
        20th answer the server sends is slow, whatever connection it is on;
        the server's own record of what it sent goes with any failure (it
        showed that a stopped server of an earlier test was answering one of
        wrk's connections: see FakeServer.stop)."""
        answers = itertools.count()
        s = test_openloop.FakeServer(lambda i, k: 0.15 if next(answers) % 20 == 19 else 0.001)
        try:
            r, _ = wrk(s.port, 4, 2)
        finally:
            s.stop()
        with s.lock:
            sent, slow = len(s.delays), sum(1 for d in s.delays if d > 0.1)
        why = "%r; the server: %d connections, %d answers, %d of them slow" % (
            r, s.connections, sent, slow)
        self.assertGreater(r["requests"], 40, why)
        self.assertEqual(r["errors"]["timeout"], 0, why)
        self.assertIs(r["exact"], True, why)
        self.assertEqual(r["in_time"], r["requests"], why)
        self.assertGreater(r["corrected"], r["requests"] // 20, why)  # wrk did make some up
        lat = r["latency_us"]
        self.assertLess(lat["p90"], 100000, why)  # 95 % took 1 ms: no made-up 8..150 ms samples
        self.assertGreaterEqual(lat["p99"], 150000, why)  # 5 % took 150 ms, and they stay
        self.assertGreaterEqual(lat["max"], 150000, why)

    def test_without_the_connection_count_it_says_so(self):
        """wrk does not tell a script its -c: without HTTPMODES_WRK_CONNECTIONS
        the samples stay in, and the line says the figures are not exact,
        with in_time never above the requests."""
        s = test_openloop.FakeServer(lambda i, k: 0.15 if k % 20 == 19 else 0.001)
        try:
            r, _ = wrk(s.port, 4, 2, tell_connections=False)
        finally:
            s.stop()
        self.assertIs(r["exact"], False)
        self.assertIsNone(r["corrected"])
        self.assertLessEqual(r["in_time"], r["requests"])

    def test_latencies_over_seconds_are_reported_at_once(self):
        """Each connection's 30th answer takes 2.5 s, the rest 1 ms: wrk makes up
        a sample every few ms below each slow one, thousands of distinct values
        over 2.5 s, and reading them one by one (each read scans the histogram
        from its start) took minutes. The line must come soon after the run."""
        s = test_openloop.FakeServer(lambda i, k: 2.5 if k == 30 else 0.001)
        try:
            r, took = wrk(s.port, 50, 4)
        finally:
            s.stop()
        self.assertLess(took, 4 + 30, "wrk took %.0f s for a 4 s run" % took)
        self.assertGreater(r["requests"], 0)
        self.assertLessEqual(r["in_time"], r["requests"])
        self.assertGreaterEqual(r["latency_us"]["max"], 2500000)


if __name__ == "__main__":
    unittest.main()


class DbWait(unittest.TestCase):
    def setUp(self):
        if subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode != 0:
            self.skipTest("wrk is not installed (bootstrap.sh installs it)")

    def run_wrk(self, headers):
        s = test_openloop.FakeServer(0, headers=headers)
        try:
            p = subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", DBWAIT, s.url("/db")],
                               capture_output=True, text=True, timeout=120)
        finally:
            s.stop()
        self.assertEqual(p.returncode, 0, p.stderr)
        return [l for l in p.stdout.splitlines() if l.startswith("dbwait:")]

    def test_mean_and_percentiles_of_the_servers_waits(self):
        # the k-th answer says it waited (k mod 100) ms + 50 us: spread evenly
        # from 0.05 to 99.05 ms, so the mean is about 49.55 ms, the p50 in the
        # 0.1 ms bucket ending at 49.1 or 50.1 ms and the p99 at 98.1 or 99.1
        lines = self.run_wrk(lambda i, k: "X-DB-Wait-Us: %d\r\n" % (1000 * (k % 100) + 50))
        self.assertEqual(len(lines), 1, lines)
        m = re.match(r"dbwait: (\d+) answers, server's wait mean ([\d.]+) ms, p50 ([\d.]+), "
                     r"p99 ([\d.]+), max ([\d.]+) ms$", lines[0])
        self.assertIsNotNone(m, lines[0])
        n, mean, p50, p99, top = int(m.group(1)), *map(float, m.groups()[1:])
        self.assertGreaterEqual(n, 200, "too few answers to spread over 100 values")
        # a partial last cycle of r < 100 answers moves the mean by at most 49.55 r / n
        self.assertAlmostEqual(mean, 49.55, delta=5000.0 / n + 0.01)
        self.assertIn(p50, (49.1, 50.1))
        self.assertIn(p99, (98.1, 99.1))
        self.assertEqual(top, 99.1)

    def test_answers_without_the_header(self):
        lines = self.run_wrk(None)
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^dbwait: no answer carried X-DB-Wait-Us \(\d+ without it\)$")

