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
"""
import json
import os
import subprocess
import time
import unittest

import test_openloop  # its FakeServer (the module, so its tests are not run twice here)

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "..", "..", "loadtest", "result.lua")


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
        hundreds more samples, spread between them (its p90 is slow)."""
        s = test_openloop.FakeServer(lambda i, k: 0.15 if k % 20 == 19 else 0.001)
        try:
            r, _ = wrk(s.port, 4, 2)
        finally:
            s.stop()
        self.assertGreater(r["requests"], 40)
        self.assertEqual(r["errors"]["timeout"], 0)
        self.assertIs(r["exact"], True)
        self.assertEqual(r["in_time"], r["requests"])
        self.assertGreater(r["corrected"], r["requests"] // 20)  # wrk did make some up
        lat = r["latency_us"]
        self.assertLess(lat["p90"], 100000)  # 95 % took 1 ms: no made-up 8..150 ms samples
        self.assertGreaterEqual(lat["p99"], 150000)
        self.assertGreaterEqual(lat["max"], 150000)

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
