"""Tests of the load-test lab (loadtest/compare): one real --quick run on a tiny
matrix, whose results files, report and charts must be complete and
well-formed; the prediction and summary logic on made-up rows; bad options.
Nothing here asserts a speed.

Environment: HTTPMODES_BIN, the binary (default build/server/httpmodes)."""
import csv
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPARE = os.path.join(ROOT, "loadtest", "compare")
BIN = os.environ.get("HTTPMODES_BIN", os.path.join(ROOT, "build", "server", "httpmodes"))
sys.path.insert(0, os.path.join(ROOT, "loadtest"))

import labmodel  # noqa: E402
import labrun  # noqa: E402

# the tiny real run: one mode without a loop and the one with a loop per CPU
MODES = ["iterative", "reactors"]
WORKLOADS = ["hello", "db"]
LEVELS = [1, 4]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def compare(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, COMPARE] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


def compare_module():
    """loadtest/compare imported (it has no .py), to call its functions."""
    loader = importlib.machinery.SourceFileLoader("compare", COMPARE)
    spec = importlib.util.spec_from_loader("compare", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


_TABLE = []


def table():
    """The server's mode table (httpmodes --list-modes), read once."""
    if not _TABLE:
        _TABLE.extend(labrun.list_modes(BIN))
    return _TABLE


class ModeTable(unittest.TestCase):
    """The lab's modes are the server's: none is listed in the lab."""

    def test_default_modes_are_the_servers(self):
        names = [m["name"] for m in table()]
        self.assertGreaterEqual(len(names), 6, names)
        a = compare_module().options(["--quick", "--bin", BIN])
        self.assertEqual(a.modes, names)
        for m in table():  # every mode has a model, so every mode gets predictions
            self.assertIsNotNone(labmodel.model(m), m)

    def test_workers_only_where_the_table_has_them(self):
        cmp = compare_module()
        a = cmp.options(["--quick", "--bin", BIN])
        for m in table():
            self.assertNotIn("--workers", cmp.server_args(m["name"], a), m)  # each mode's default
        a = cmp.options(["--quick", "--bin", BIN, "--workers", "3"])
        for m in table():
            args = cmp.server_args(m["name"], a)
            if m["workers"] == "none":
                self.assertNotIn("--workers", args, m)
            else:
                self.assertEqual(args[:2], ["--workers", "3"], m)

    def test_lab_servers_open_no_status_port(self):
        # the default status port is the main port + 1000, which another
        # server or wrk of the lab may hold: the lab turns the live view off
        srv = labrun.Server(BIN, "event", []).start()
        try:
            self.assertNotIn("live view", srv.start_line)
            self.assertIsNotNone(srv.port)
        finally:
            self.assertEqual(srv.stop(), 0)
        srv = labrun.Server(BIN, "pool", ["--workers", "3"]).start()
        try:
            self.assertEqual(srv.workers, 3)  # read from the start line
        finally:
            srv.stop()

    def test_a_binary_without_a_mode_table_is_refused(self):
        r = compare("--quick", "--bin", "/bin/true", timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--list-modes gave no mode table", r.stderr)


class TlsRun(unittest.TestCase):
    """compare --tls: every run goes over HTTPS, and the server's TLS view is
    recorded (handshakes: one per connection with keep-alive off, a handful
    with it on)."""

    def test_tls_runs_over_https_and_counts_handshakes(self):
        with tempfile.TemporaryDirectory(prefix="httpmodes-lab-tls-") as tmp:
            out = os.path.join(tmp, "results")
            r = compare("--tls", "--bin", BIN, "--modes", "prefork,event", "--workloads", "hello",
                        "--concurrency", "2", "--duration", "1", "--warmup", "0",
                        "--stats-timeout", "5", "--no-png", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            with open(os.path.join(out, "results.json")) as f:
                runs = {x["target"]: x for x in json.load(f)["runs"]}
            self.assertEqual(set(runs), {"prefork", "event"})
            for mode, run in runs.items():
                self.assertTrue(run["url"].startswith("https://127.0.0.1:"), run["url"])
                self.assertGreater(run["requests"], 0, run)
                self.assertGreater(run["server"]["tls_handshakes"], 0, run)
            # prefork closes after every response: a handshake per request
            self.assertGreaterEqual(runs["prefork"]["server"]["tls_handshakes"],
                                    runs["prefork"]["server"]["requests"] - 2)
            # event keeps the connections: no more handshakes than connections
            self.assertLessEqual(runs["event"]["server"]["tls_handshakes"], 2 + 2)
            with open(os.path.join(out, "results.csv")) as f:
                rows = list(csv.DictReader(f))
            self.assertTrue(all(int(x["server_tls_handshakes"]) > 0 for x in rows), rows)
            with open(os.path.join(out, "report.md")) as f:
                self.assertIn("over HTTPS", f.read())


class QuickRun(unittest.TestCase):
    """compare --quick on modes iterative,reactors × workloads hello,db × c 1,4."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="httpmodes-lab-")
        cls.out = os.path.join(cls.tmp, "results")
        cls.result = compare("--quick", "--bin", BIN, "--modes", ",".join(MODES),
                          "--workloads", ",".join(WORKLOADS),
                          "--concurrency", ",".join(map(str, LEVELS)),
                          "--duration", "1", "--warmup", "0.2", "--stats-timeout", "5",
                          "--out", cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr[-3000:])

    def path(self, name):
        return os.path.join(self.out, name)

    def test_results_json_has_every_cell(self):
        with open(self.path("results.json")) as f:
            data = json.load(f)
        self.assertTrue(data["meta"]["complete"])
        self.assertEqual(data["meta"]["settings"]["concurrency"], LEVELS)
        cells = {(r["target"], r["workload"], r["concurrency"]) for r in data["runs"]}
        want = {(m, w, c) for m in MODES for w in WORKLOADS for c in LEVELS}
        self.assertEqual(cells, want)
        self.assertEqual(len(data["runs"]), len(want))
        for r in data["runs"]:
            self.assertEqual(r["kind"], "mode")
            self.assertGreater(r["duration_s"], 0)
            self.assertEqual(set(r["errors"]), {"connect", "read", "write", "status", "timeout"})
            self.assertEqual(r["server_exit"], 0, r)  # every server stopped cleanly on SIGTERM
            self.assertIsNotNone(r["resources"], r)
            self.assertGreaterEqual(r["resources"]["processes"], 1)
            self.assertGreater(r["resources"]["rss_kib"], 0)
            if r["workload"] == "hello":
                self.assertGreater(r["requests"], 0, r)
                self.assertIsNotNone(r["latency_ms"]["p50"])
                self.assertIsNotNone(r["server"], r)  # /stats before and after
                self.assertGreater(r["server"]["requests"], 0, r)
                self.assertIsNone(r["prediction"])
            else:
                self.assertIsNotNone(r["prediction"], r)  # every db cell has one, capped by /hello
                self.assertIn("D", r["prediction_basis"])
            if r["target"] == "reactors":
                self.assertEqual(r["workers"], os.cpu_count(), r)  # one loop per CPU: its own default
        self.assertEqual([m["name"] for m in data["meta"]["mode_table"]], [m["name"] for m in table()])

    def test_results_csv_has_one_row_per_cell(self):
        with open(self.path("results.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        cells = [(r["target"], r["workload"], int(r["concurrency"])) for r in rows]
        self.assertEqual(sorted(cells), sorted((m, w, c) for m in MODES for w in WORKLOADS for c in LEVELS))
        for r in rows:
            float(r["rps"])  # every measured figure parses
            int(r["requests"])
            int(r["err_timeout"])
            if r["workload"] == "hello":
                self.assertGreater(int(r["requests"]), 0)

    def test_report_mentions_every_mode_and_workload(self):
        with open(self.path("report.md")) as f:
            md = f.read()
        for m in MODES:
            self.assertRegex(md, r"\n\| %s \| \d+ \|" % m)  # a table row of its own
        for w in WORKLOADS:
            self.assertIn("## /%s" % w, md)
        self.assertIn("## Summary", md)
        self.assertIn("coordinated omission", md)
        self.assertIn("may have been shared", md)

    def test_every_chart_named_in_the_report_exists_and_is_well_formed(self):
        with open(self.path("report.md")) as f:
            md = f.read()
        charts = set(re.findall(r"\((charts/[^)\s]+\.(?:svg|png))\)", md))
        for w in WORKLOADS:
            for kind in ("throughput", "latency", "connections"):
                self.assertIn("charts/%s-%s.svg" % (w, kind), charts)
                self.assertIn("charts/%s-%s.png" % (w, kind), charts)
        for rel in charts:
            p = self.path(rel)
            self.assertTrue(os.path.isfile(p), rel)
            self.assertGreater(os.path.getsize(p), 1000, rel)
            if rel.endswith(".png"):
                with open(p, "rb") as f:
                    self.assertEqual(f.read(8), PNG_MAGIC, rel)
            else:
                root = ET.parse(p).getroot()
                self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg", rel)

    def test_report_can_be_rebuilt_from_results_json(self):
        os.remove(self.path("report.md"))
        r = compare("--report", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.getsize(self.path("report.md")) > 0)


class OutsideTarget(unittest.TestCase):
    """--target: a server of someone else's (Python's http.server, no /stats)."""

    def test_target_without_stats(self):
        tmp = tempfile.mkdtemp(prefix="httpmodes-lab-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with open(os.path.join(tmp, "hello"), "w") as f:
            f.write("hello\n")
        srv = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                                "--directory", tmp], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
        self.addCleanup(srv.wait)
        self.addCleanup(srv.kill)
        m = re.search(r"port (\d+)", srv.stdout.readline())
        self.assertTrue(m)
        out = os.path.join(tmp, "results")
        r = compare("--quick", "--modes", "", "--target", "py=http://127.0.0.1:%s" % m.group(1),
                    "--workloads", "hello", "--concurrency", "2", "--duration", "1", "--warmup", "0",
                    "--no-png", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "results.json")) as f:
            runs = json.load(f)["runs"]
        self.assertEqual([(x["target"], x["kind"], x["workload"], x["concurrency"]) for x in runs],
                         [("py", "target", "hello", 2)])
        self.assertGreater(runs[0]["requests"], 0)
        self.assertIsNone(runs[0]["server"])  # no /stats: no server view, and said so
        self.assertTrue(any("no server view" in n for n in runs[0]["notes"]))
        with open(os.path.join(out, "report.md")) as f:
            report = f.read()
        self.assertIn("| py | 2 |", report)
        self.assertIn("- Servers: none started by the lab (outside targets only)", report)
        self.assertIn("py = http://127.0.0.1:%s (no prediction)" % m.group(1), report)


def row(target, workload, c, rps, errors=0, p50=None):
    return {"target": target, "kind": "mode", "workload": workload, "concurrency": c, "rps": rps,
            "ok_rps": rps if not errors else 0.0, "errors_total": errors,
            "latency_ms": {"p50": p50}}


class Model(unittest.TestCase):
    """Predictions, misses and the summary on made-up rows (D = 100 ms)."""

    def predict(self, rows, cores=2):
        return labmodel.predict(rows, db_delay_ms=100, widgets=4, workers=8, cores=cores, modes=table())

    def summary(self, rows):
        return "\n".join(labmodel.summary(rows, table()))

    def test_a_db_pool_bounds_every_model(self):
        """--db-pool P: min(C, P, the model's bound)/D; the dashboard's K queries share it."""
        rows = labmodel.predict([row("event", "db", 100, 40.0), row("event", "db", 2, 20.0),
                                 row("prefork", "db", 100, 40.0),
                                 row("event", "dashboard", 100, 10.0),
                                 row("threads", "dashboard", 2, 5.0)],
                                db_delay_ms=100, widgets=4, workers=8, cores=2, modes=table(),
                                db_pool=labmodel.db_pool_of(["--db-pool=4"]))
        self.assertEqual([r["prediction"] for r in rows], [40.0, 20.0, 40.0, 10.0, 5.0])
        self.assertIn("P=4", rows[0]["prediction_basis"])
        self.assertEqual(labmodel.db_pool_of(["--db-pool", "off"]), 0)

    def test_db_predictions_and_misses(self):
        rows = self.predict([row("iterative", "db", 10, 7.0),     # 1/D = 10: 30 % under
                             row("threads", "db", 10, 95.0),      # C/D = 100: 5 % under
                             row("prefork", "db", 20, 80.0),      # min(C,N)/D = 80
                             row("event", "db", 10, 112.0)])      # C/D = 100: 12 % over
        by = {r["target"]: r for r in rows}
        self.assertAlmostEqual(by["iterative"]["prediction"], 10)
        self.assertAlmostEqual(by["threads"]["prediction"], 100)
        self.assertAlmostEqual(by["prefork"]["prediction"], 80)
        self.assertAlmostEqual(by["event"]["prediction"], 100)
        self.assertTrue(by["iterative"]["miss"])
        self.assertFalse(by["threads"]["miss"])
        self.assertFalse(by["prefork"]["miss"])
        self.assertTrue(by["event"]["miss"])
        text = self.summary(rows)
        self.assertIn("miss**: iterative db c=10", text)
        self.assertIn("30 % under", text)
        self.assertIn("miss**: event db c=10", text)
        self.assertIn("12 % over", text)
        self.assertNotIn("threads db c=10", text)
        self.assertIn("2 of 4 runs with a prediction landed within", text)

    def test_a_miss_names_other_work_on_the_machine(self):
        busy = row("event", "db", 10, 50.0)
        busy["resources"] = {"machine_cpu_cores": 2.0, "server_cpu_cores": 0.9, "wrk_cpu_cores": 0.1}
        quiet = row("threads", "db", 10, 50.0)
        quiet["resources"] = {"machine_cpu_cores": 1.1, "server_cpu_cores": 0.9, "wrk_cpu_cores": 0.1}
        text = self.summary(self.predict([busy, quiet]))
        self.assertIn("event db c=10: 50.0 req/s is 50 % under its prediction 100 (C/D (no /hello in "
                      "the matrix: no CPU cap)); meanwhile other work used 1.0 of the machine's cores",
                      text)
        self.assertIn("threads db c=10: 50.0 req/s is 50 % under its prediction 100 (C/D (no /hello "
                      "in the matrix: no CPU cap)).", text)

    def test_a_cpu_miss_says_when_the_cores_ran_slower(self):
        base = row("event", "cpu", 1, 27.0, p50=37.0)  # W = 37 ms
        slow = dict(row("prefork", "cpu", 10, 35.0), duration_s=10.0,
                    resources={"server_cpu_cores": 1.93}, server={"requests": 352})  # 55 ms each
        busy = dict(row("threads", "cpu", 10, 41.0), duration_s=10.0,
                    resources={"server_cpu_cores": 1.5}, server={"requests": 410})  # 37 ms each
        text = self.summary(self.predict([base, slow, busy]))
        self.assertIn("prefork cpu c=10", text)
        self.assertIn("each request cost the server 55 ms of CPU against W = 37 ms", text)
        self.assertIn("threads cpu c=10", text)
        self.assertIn("ran slower during this run", text)
        self.assertEqual(text.count("of CPU against W"), 1, text)
        fast = dict(row("iterative", "cpu", 10, 40.0), duration_s=10.0,
                    resources={"server_cpu_cores": 1.0}, server={"requests": 400})  # 25 ms each
        text = self.summary(self.predict([base, fast]))
        self.assertIn("iterative cpu c=10: 40.0 req/s is 48 % over", text)
        self.assertIn("cost the server 25 ms of CPU against W = 37 ms: the cores themselves ran faster", text)

    def test_hello_caps_the_io_predictions(self):
        rows = self.predict([row("event", "hello", 1000, 5000.0), row("event", "db", 1000, 4900.0)])
        db = rows[1]
        self.assertAlmostEqual(db["prediction"], 5000)  # C/D = 10000, capped by /hello
        self.assertIn("capped by /hello", db["prediction_basis"])
        self.assertFalse(db["miss"])
        self.assertIsNone(rows[0]["prediction"])  # /hello itself has none
        alone = self.predict([row("event", "db", 1000, 4900.0)])[0]
        self.assertAlmostEqual(alone["prediction"], 10000)
        self.assertIn("no CPU cap", alone["prediction_basis"])

    def test_dashboard_blocking_modes_wait_for_each_widget(self):
        rows = self.predict([row(m["name"], "dashboard", 10, 1.0) for m in table()])
        by = {r["target"]: r["prediction"] for r in rows}
        self.assertAlmostEqual(by["iterative"], 1 / 0.4)
        self.assertAlmostEqual(by["threads"], 10 / 0.4)
        self.assertAlmostEqual(by["prefork"], 8 / 0.4)
        self.assertAlmostEqual(by["event"], 10 / 0.1)
        self.assertAlmostEqual(by["pool"], 8 / 0.4)  # like prefork: a fixed pool, blocking
        self.assertAlmostEqual(by["reactors"], 10 / 0.1)  # like event: the loops run the K at once

    def test_pool_and_reactors(self):
        # pool: min(C,N)/D like prefork; reactors: C/D like event on I/O, and
        # min(C,N,cores)/W on /cpu with N its loops (the server's own count)
        rows = [row("event", "cpu", 1, 40.0, p50=25.0)]  # W = 25 ms
        rows += [row("pool", "db", c, 1.0) for c in (4, 20)]
        rows += [dict(row("reactors", "db", 20, 1.0), workers=2)]
        rows += [dict(row("reactors", "cpu", c, 1.0), workers=2) for c in (1, 10)]
        rows += [dict(row("reactors", "cpu", 10, 1.0), target="reactors", workers=1)]
        rows += [dict(row("pool", "cpu", 1, 1.0), workers=3), dict(row("pool", "cpu", 10, 1.0), workers=3)]
        out = self.predict(rows, cores=2)
        p = [(r["target"], r["workload"], r["concurrency"], r.get("workers"), r["prediction"]) for r in out]
        self.assertAlmostEqual(p[1][4], 40)    # pool db c=4: min(4,8)/0.1
        self.assertAlmostEqual(p[2][4], 80)    # pool db c=20: N=8 (no workers on the row: --workers)
        self.assertIn("min(C,N)/D", out[2]["prediction_basis"])
        self.assertAlmostEqual(p[3][4], 200)   # reactors db c=20: C/D
        self.assertAlmostEqual(p[4][4], 40)    # reactors cpu c=1: 1/W
        self.assertAlmostEqual(p[5][4], 80)    # reactors cpu c=10, 2 loops on 2 cores: 2/W
        self.assertIn("min(C,cores,N)/W", out[5]["prediction_basis"])
        self.assertAlmostEqual(p[6][4], 40)    # one loop: one core
        self.assertAlmostEqual(p[7][4], 40)    # pool cpu c=1
        self.assertAlmostEqual(p[8][4], 80)    # pool cpu c=10, N=3 on 2 cores: the cores bound it

    def test_cpu_uses_the_work_measured_at_c1(self):
        rows = [row("event", "cpu", 1, 30.0, p50=25.0)]  # W = 25 ms
        rows += [row(m["name"], "cpu", 10, 1.0) for m in table()]
        rows = self.predict(rows, cores=2)
        by = {(r["target"], r["concurrency"]): r["prediction"] for r in rows}
        self.assertAlmostEqual(by[("event", 1)], 40)
        self.assertAlmostEqual(by[("iterative", 10)], 40)
        self.assertAlmostEqual(by[("event", 10)], 40)
        self.assertAlmostEqual(by[("threads", 10)], 80)
        self.assertAlmostEqual(by[("prefork", 10)], 80)
        # many at once share the cores: a run counts whole batches only
        shared = [row("event", "cpu", 1, 30.0, p50=25.0)]
        shared += [dict(row("threads", "cpu", c, 1.0), duration_s=3.0) for c in (2, 100, 1000)]
        shared.append(dict(row("prefork", "cpu", 1000, 1.0), duration_s=3.0))
        by = {(r["target"], r["concurrency"]): r for r in self.predict(shared, cores=2)}
        self.assertAlmostEqual(by[("threads", 2)]["prediction"], 80)  # no sharing: cores/W
        self.assertAlmostEqual(by[("threads", 100)]["prediction"], 2 * 100 / 3.0)  # 1.25 s batches
        self.assertEqual(by[("threads", 1000)]["prediction"], 0)  # a 12.5 s batch outlasts 3 s
        self.assertIn("batches of 12.50 s", by[("threads", 1000)]["prediction_basis"])
        text = self.summary(list(by.values()))
        self.assertIn("**no answer predicted**: threads cpu c=1000 was predicted to finish no request", text)
        self.assertIn("it answered 1.00 req/s", text)
        self.assertAlmostEqual(by[("prefork", 1000)]["prediction"], 80)  # N=8: 0.1 s batches
        none = self.predict([row("threads", "cpu", 10, 50.0)])[0]  # no c=1 run: no W
        self.assertIsNone(none["prediction"])

    def test_a_mode_the_model_cannot_read_gets_no_prediction(self):
        # no loop and no pool: one connection at a time or one per connection,
        # which the table does not say; a new such mode is run but not predicted
        fibers = {"name": "fibers", "keep_alive": True, "workers": "none", "default_workers": 1,
                  "event_loop": False, "summary": "?"}
        self.assertIsNone(labmodel.model(fibers))
        self.assertEqual(labmodel.model(dict(fibers, workers="fixed")), ("N", "N", False))
        self.assertEqual(labmodel.model(dict(fibers, event_loop=True)), ("C", "1", True))
        out = labmodel.predict([row("fibers", "db", 10, 50.0)], 100, 4, None, 2, table() + [fibers])
        self.assertIsNone(out[0]["prediction"])

    def test_a_mode_that_answers_errors_fast_does_not_win(self):
        rows = self.predict([row("iterative", "hello", 100, 90000.0, errors=5000),
                             row("event", "hello", 100, 30000.0)])
        text = self.summary(rows)
        self.assertIn("**event** won", text)
        self.assertIn("iterative hello c=100 (5000)", text)

    def test_outside_targets_get_no_prediction(self):
        r = row("mine", "db", 10, 50.0)
        r["kind"] = "target"
        self.assertIsNone(self.predict([r])[0]["prediction"])


class BadOptions(unittest.TestCase):
    def check(self, args, needle):
        r = compare(*args, timeout=60)
        self.assertEqual(r.returncode, 2, (args, r.stderr))
        self.assertIn(needle, r.stderr)
        self.assertLess(len(r.stderr.strip().splitlines()), 4, r.stderr)  # a message, not a trace

    def test_bad_values(self):
        self.check(["--modes", "event,fibers"], "--modes: unknown 'fibers'")
        self.check(["--workloads", "sleep"], "--workloads: unknown 'sleep'")
        self.check(["--concurrency", "0"], "--concurrency: 0 is out of range")
        self.check(["--concurrency", "ten"], "--concurrency: 'ten' is not a whole number")
        self.check(["--duration", "abc"], "--duration: 'abc' is not a number")
        self.check(["--db-delay", "0"], "--db-delay: 0 is out of range")
        self.check(["--bogus"], "unrecognized arguments: --bogus")
        self.check(["--modes", ""], "nothing to load")
        self.check(["--bin", "/nonexistent/httpmodes"], "--bin: /nonexistent/httpmodes is not an executable")

    def test_targets_must_be_loopback(self):
        self.check(["--target", "x=http://10.1.2.3:80"], "not a loopback address")
        self.check(["--target", "x=http://example.org:80"], "not a loopback address")
        self.check(["--target", "nourl"], "is not name=http://127.0.0.1:PORT")
        self.check(["--target", "event=http://127.0.0.1:80"], "is also a mode this run starts")
        self.check(["--modes", "threads", "--target", "threads=http://127.0.0.1:80"],
                   "is also a mode this run starts")

    def test_target_nobody_listens_on(self):
        with socket.socket() as sock:  # a port that was free a moment ago, and is closed now
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        tmp = tempfile.mkdtemp(prefix="httpmodes-lab-")
        self.addCleanup(shutil.rmtree, tmp, True)
        r = compare("--quick", "--modes", "", "--target", "mine=http://127.0.0.1:%d" % port,
                    "--out", os.path.join(tmp, "r"), timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("--target mine: nothing answers at http://127.0.0.1:%d" % port, r.stderr)
        self.assertLess(len(r.stderr.strip().splitlines()), 3, r.stderr)

    def test_report_of_a_folder_without_results(self):
        tmp = tempfile.mkdtemp(prefix="httpmodes-lab-")
        self.addCleanup(shutil.rmtree, tmp, True)
        r = compare("--report", tmp, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot read its results.json", r.stderr)
        self.assertLess(len(r.stderr.strip().splitlines()), 3, r.stderr)

    def test_help(self):
        r = compare("--help", timeout=60)
        self.assertEqual(r.returncode, 0)
        for opt in ("--quick", "--modes", "--workloads", "--concurrency", "--duration", "--warmup",
                    "--db-delay", "--cpu-iterations", "--workers", "--timeout", "--target", "--out",
                    "--bin", "--tls"):
            self.assertIn(opt, r.stdout)

    def test_missing_tools_say_what_to_install(self):
        empty = tempfile.mkdtemp(prefix="httpmodes-lab-")
        self.addCleanup(shutil.rmtree, empty, True)
        env = dict(os.environ, PATH=empty)  # no wrk, no gnuplot
        r = compare("--quick", "--bin", BIN, "--modes", "event", "--out", os.path.join(empty, "r"),
                    env=env, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("apt-get install wrk gnuplot-nox", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(empty, "r")))


if __name__ == "__main__":
    unittest.main()
