"""What the real binary tells an observer, in every mode: the per-response
timing/worker/mode headers, X-DB-Wait-Us, /stats JSON with exact counts (also
across prefork worker processes), /metrics in Prometheus text format, the
Common Log Format access log (to a file and to stdout), and JSON-vs-HTML
content negotiation.
"""
import http.client
import json
import os
import re
import tempfile
import unittest

import harness
from harness import Server, parse_responses

GUARD = 10  # s: hang guard, never a speed threshold

# host ident authuser [date] "request" status bytes
CLF = re.compile(r'^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) '
                 r'\[(?P<date>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
                 r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+|-)$')
PROM_SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
                         r'(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? '
                         r'[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|NaN|[-+]?Inf)$')


def settle(fetch, pred, timeout=GUARD):
    """Calls fetch() until pred(value) holds or timeout; returns the last value."""
    box = []

    def check():
        box[:] = [fetch()]
        return pred(box[0])

    harness.wait_until(check, timeout=timeout)
    return box[0]


def stats(s):
    status, h, body = s.get("/stats")
    assert status == 200, (status, body)
    assert h["content-type"].startswith("application/json"), h
    return json.loads(body)


def by_page(st):
    """{page: {status(str): count}} from /stats."""
    return st["requests"]["by_page"]


def read_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []


class ObservabilityTest(unittest.TestCase):

    def assertCommonHeaders(self, mode, h, what):
        self.assertIn("x-request-start-us", h, what)
        start, end = harness.interval(h)
        self.assertLessEqual(start, end, what)
        self.assertEqual(h.get("x-mode"), mode, what)
        self.assertRegex(h.get("x-worker", ""), r"^\d+$", what)
        self.assertEqual(h.get("x-content-type-options"), "nosniff", what)

    def test_every_response_has_timing_worker_and_mode(self):
        requests = [("GET", "/", None), ("GET", "/hello", None), ("HEAD", "/hello", None),
                    ("GET", "/db?delay=0", None), ("GET", "/dashboard?delay=0&widgets=2", None),
                    ("GET", "/cpu?iterations=1000", None), ("GET", "/stats", None),
                    ("GET", "/metrics", None), ("POST", "/echo", b"abc"), ("GET", "/nope", None),
                    ("POST", "/hello", b"x"), ("GET", "/db?delay=abc", None)]
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for method, path, body in requests:
                    _, h, _ = s.get(path, method=method, body=body)
                    self.assertCommonHeaders(mode, h, "%s %s" % (method, path))
                # error responses written by the core itself, too
                for raw in (b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
                            b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
                            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999\r\n\r\n"):
                    out, _ = s.raw(raw)
                    resps = parse_responses(out)
                    self.assertEqual(len(resps), 1, out[:200])
                    self.assertCommonHeaders(mode, resps[0][1], raw[:30])

    def test_db_wait_header(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for path, at_least_ms in (("/db?delay=50", 50), ("/db?delay=20&queries=3", 60),
                                          ("/dashboard?delay=30&widgets=3", 30), ("/db?delay=0", 0)):
                    status, h, _ = s.get(path)
                    self.assertEqual(status, 200, path)
                    wait = int(h["x-db-wait-us"])
                    self.assertGreaterEqual(wait, at_least_ms * 1000, path)
                    start, end = harness.interval(h)
                    self.assertLessEqual(wait, end - start, "%s: waited longer than the request took" % path)
                    self.assertIn("server-timing", h)
                _, h, _ = s.get("/hello")
                self.assertNotIn("x-db-wait-us", h)

    def check_exact_counts(self, s, mode, workers):
        """Runs a known sequence on a fresh server and checks /stats exactly."""
        expected = {"/hello": {"200": 5}, "other": {"404": 2}, "/db": {"200": 2, "400": 1},
                    "/echo": {"200": 1}, "/stats": {}}
        n_hello = harness.concurrent(lambda i: s.get("/hello")[0], 5)
        self.assertEqual(n_hello, [200] * 5)
        self.assertEqual(s.get("/nope")[0], 404)
        self.assertEqual(s.get("/also/nope")[0], 404)
        # two slow /db at once: in prefork they have to be served by two processes
        dbs = harness.concurrent(lambda i: s.get("/db?delay=300"), 2)
        self.assertEqual([d[0] for d in dbs], [200, 200])
        self.assertEqual(s.get("/db?delay=-1")[0], 400)
        self.assertEqual(s.get("/echo", method="POST", body=b"x")[0], 200)
        if mode == "prefork":
            self.assertNotEqual(dbs[0][1]["x-worker"], dbs[1][1]["x-worker"],
                                "two concurrent requests were served by one prefork worker")
        total = 11
        # A response is counted just after its last byte is written, so the
        # client can see it a moment before the count: wait for the exact
        # numbers (overshooting never matches), then assert them.
        want_pages = {k: v for k, v in expected.items() if v}

        def n_stats(st):  # earlier /stats responses (this one is counted after it is sent)
            return by_page(st).get("/stats", {}).get("200", 0)

        def exact(st):
            return ({k: v for k, v in by_page(st).items() if k != "/stats"} == want_pages
                    and st["requests"]["total"] == total + n_stats(st)
                    and st["connections"]["accepted"] == total + n_stats(st) + 1
                    and st["in_flight"] == 1)

        st = settle(lambda: stats(s), exact)
        self.assertEqual({k: v for k, v in by_page(st).items() if k != "/stats"}, want_pages)
        self.assertEqual(st["requests"]["total"], total + n_stats(st))
        # every connection so far carried one request (this /stats's included)
        self.assertEqual(st["connections"]["accepted"], total + n_stats(st) + 1)
        # only this /stats request is in flight
        self.assertEqual(st["in_flight"], 1)
        self.assertEqual(st["requests"]["by_status"],
                         {"200": 5 + 2 + 1 + n_stats(st), "404": 2, "400": 1})
        self.assertEqual(st["mode"], mode)
        self.assertEqual(st["workers"], workers)
        self.assertIsInstance(st["uptime_s"], (int, float))
        self.assertGreaterEqual(st["uptime_s"], 0)
        self.assertEqual(st["worker_restarts"], 0)
        self.assertEqual(st["db"]["queries"], 2)
        self.assertGreaterEqual(st["db"]["wait_us"], 2 * 300 * 1000)
        # (a keep-alive /stats connection just closed by us may take a moment to go)
        self.assertEqual(settle(lambda: stats(s)["connections"]["open"], lambda v: v == 1), 1)
        return st

    def test_stats_exact_counts(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                self.check_exact_counts(s, mode, harness.default_workers(mode))

    def test_stats_exact_counts_prefork_4_workers(self):
        """With --workers 4 the requests land in different processes; the
        counters are shared, so any worker reports all of them."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--workers", "4") as s:
                self.check_exact_counts(s, mode, 4 if harness.pooled(mode) else 1)
                if mode == "prefork":
                    seen = set(h["x-worker"] for _, h, _ in
                               harness.concurrent(lambda i: s.get("/db?delay=300"), 4))
                    self.assertGreater(len(seen), 1)
                    self.assertNotIn(str(s.proc.pid), seen, "the master served a request")

    def test_stats_sees_open_connection_and_in_flight(self):
        for mode in ("threads", "prefork", "event"):  # iterative serves one connection at a time
            if mode not in harness.MODES:
                continue
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                held = s.connect()
                # all /stats requests on one keep-alive connection, so the
                # counts do not depend on when earlier connections close
                c = http.client.HTTPConnection(s.bind, s.port, timeout=GUARD)
                try:
                    held.sendall(b"GET /db?delay=2000 HTTP/1.1\r\nHost: a\r\n\r\n")

                    def get_stats():
                        c.request("GET", "/stats")
                        r = c.getresponse()
                        self.assertEqual(r.getheader("Connection"), "keep-alive")
                        return json.loads(r.read())

                    st = settle(get_stats, lambda st: st["in_flight"] == 2)
                    self.assertEqual(st["in_flight"], 2)  # the /db and this /stats
                    self.assertEqual(st["connections"]["open"], 2)
                    self.assertEqual(st["connections"]["accepted"], 2)
                finally:
                    c.close()
                    held.close()

    def test_metrics_prometheus_matches_stats(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for _ in range(3):
                    s.get("/hello")
                s.get("/nope")
                s.get("/db?delay=0")
                # a response is counted just after its last byte left: the client
                # may be faster than the thread (pool, prefork), so wait for all
                harness.wait_until(lambda: by_page(stats(s)).get("/db") == {"200": 1}
                                   and by_page(stats(s)).get("/hello") == {"200": 3}, timeout=GUARD)
                st = stats(s)
                status, h, body = s.get("/metrics")
                self.assertEqual(status, 200)
                self.assertTrue(h["content-type"].startswith("text/plain"), h["content-type"])
                self.assertIn("version=0.0.4", h["content-type"])
                text = body.decode()
                self.assertTrue(text.endswith("\n"))
                samples = {}
                types = {}
                for line in text.splitlines():
                    if line.startswith("# TYPE "):
                        _, _, name, kind = line.split(" ", 3)
                        self.assertIn(kind, ("counter", "gauge", "histogram", "summary", "untyped"))
                        types[name] = kind
                        continue
                    if line.startswith("#") or not line:
                        continue
                    self.assertRegex(line, PROM_SAMPLE)
                    key, _, value = line.rpartition(" ")
                    self.assertNotIn(key, samples, "duplicate sample %s" % key)
                    samples[key] = float(value)
                self.assertEqual(types.get("httpmodes_requests_total"), "counter")
                for page, statuses in by_page(st).items():
                    if page in ("/stats", "/metrics"):
                        continue  # moved on between the two requests
                    for code, n in statuses.items():
                        key = 'httpmodes_requests_total{page="%s",status="%s"}' % (page, code)
                        self.assertEqual(samples.get(key), n, key)
                self.assertEqual(samples['httpmodes_requests_total{page="/hello",status="200"}'], 3)
                self.assertEqual(samples['httpmodes_requests_total{page="other",status="404"}'], 1)
                self.assertEqual(samples['httpmodes_info{version="%s",mode="%s"}'
                                         % (s.get("/hello")[1]["server"].split("/")[1], mode)], 1)
                # The server counts a request out of flight just after its last
                # byte is sent, so earlier requests may still be counted for an
                # instant (above all in threads mode on a busy machine): ask
                # again until only this /metrics request is in flight.
                def in_flight():
                    text = s.get("/metrics")[2].decode()
                    return float(re.search(r"^httpmodes_requests_in_flight (\S+)$", text, re.M).group(1))
                harness.wait_until(lambda: in_flight() == 1, timeout=GUARD)
                self.assertEqual(in_flight(), 1)
                self.assertEqual(samples["httpmodes_db_queries_total"], 1)
                self.assertEqual(samples["httpmodes_workers"], harness.default_workers(mode))

    def check_access_log(self, lines, expected):
        """expected: [(method, target, status, bytes)]; method None for a
        request that could not be parsed. Order is not checked: in the
        concurrent models a line is written after its response, so the next
        request (served elsewhere) may log first."""
        got = []
        for line in lines:
            m = CLF.match(line)
            self.assertIsNotNone(m, "not Common Log Format: %r" % line)
            self.assertEqual(m.group("host"), "127.0.0.1")
            nbytes = 0 if m.group("bytes") == "-" else int(m.group("bytes"))
            got.append((m.group("request"), int(m.group("status")), nbytes))
        want = []
        for method, target, status, nbytes in expected:
            request = "-" if method is None else "%s %s HTTP/1.1" % (method, target)
            want.append((request, status, nbytes))
        self.assertEqual(sorted(got), sorted(want), "\n".join(lines))

    def log_traffic(self, s):
        """Sends a known set of requests; returns what the log must say."""
        exp = []
        st, _, b = s.get("/hello")
        exp.append(("GET", "/hello", st, len(b)))
        st, _, b = s.get("/db?delay=0&format=json")
        exp.append(("GET", "/db?delay=0&format=json", st, len(b)))
        st, _, b = s.get("/nope")
        exp.append(("GET", "/nope", st, len(b)))
        st, _, b = s.get("/echo", method="POST", body=b"12345")
        exp.append(("POST", "/echo", st, len(b)))
        st, _, b = s.get("/hello", method="HEAD")
        exp.append(("HEAD", "/hello", st, 0))
        st, _, b = s.get('/a"b\\c', method="GET")
        exp.append(("GET", r"/a\x22b\x5cc", st, len(b)))  # escaped: no forged fields
        out, _ = s.raw(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
        st, _, b = parse_responses(out)[0]
        exp.append((None, None, st, len(b)))
        return exp

    def test_access_log_file(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "access.log")
                with Server(mode, "--access-log", path) as s:
                    exp = self.log_traffic(s)
                    harness.wait_until(lambda: len(read_lines(path)) >= len(exp), timeout=GUARD)
                self.check_access_log(read_lines(path), exp)

    def test_access_log_stdout(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "stdout")
                # the harness discards stdout, so a shell sends the server's stdout to a file
                shell = ["sh", "-c", 'exec "$@" > "$HM_STDOUT"', "sh"]
                with Server(mode, "--access-log", "-", prefix=shell, env={"HM_STDOUT": path}) as s:
                    exp = self.log_traffic(s)
                    harness.wait_until(lambda: len(read_lines(path)) >= len(exp), timeout=GUARD)
                self.check_access_log(read_lines(path), exp)
                self.assertFalse(any(CLF.match(l) for l in s.stderr_lines), "access log went to stderr")

    def test_json_and_html(self):
        browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                for path in ("/db?delay=0", "/cpu?iterations=1000", "/dashboard?delay=0&widgets=2"):
                    sep = "&"
                    for url, headers in ((path + sep + "format=json", {}),
                                         (path, {"Accept": "application/json"}),
                                         (path + sep + "format=JSON", {"Accept": browser})):
                        status, h, body = s.get(url, headers=headers)
                        self.assertEqual(status, 200, url)
                        self.assertTrue(h["content-type"].startswith("application/json"), (url, h["content-type"]))
                        doc = json.loads(body)
                        self.assertEqual(doc["mode"], mode)
                        self.assertEqual(str(doc["worker"]), h["x-worker"])
                    for url, headers in ((path, {}), (path, {"Accept": browser}),
                                         (path + sep + "format=html", {"Accept": "application/json"})):
                        status, h, body = s.get(url, headers=headers)
                        self.assertEqual(status, 200, url)
                        self.assertTrue(h["content-type"].startswith("text/html"), (url, h["content-type"]))
                        self.assertTrue(body.lstrip().lower().startswith(b"<!doctype html"), body[:50])
                status, h, body = s.get("/", headers={"Accept": browser})
                self.assertTrue(h["content-type"].startswith("text/html"))
                self.assertIn(b'id="mode">%s<' % mode.encode(), body)
                doc = json.loads(s.get("/cpu?iterations=1000&format=json")[2])
                self.assertEqual(doc["iterations"], 1000)
                self.assertRegex(doc["sha256"], r"^[0-9a-f]{64}$")
                # the same input gives the same key in every worker
                self.assertEqual(doc["sha256"], json.loads(s.get("/cpu?iterations=1000&format=json")[2])["sha256"])
                status, _, body = s.get("/db?format=xml")
                self.assertEqual(status, 400)
                self.assertIn(b"'format'", body)


if __name__ == "__main__":
    unittest.main()
