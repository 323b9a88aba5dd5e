"""Tests of the load-test lab (loadtest/compare): one real --quick run on a tiny
matrix, whose results files, report and charts must be complete and
well-formed; the prediction and summary logic on made-up rows; bad options.
Nothing here asserts a speed.

Environment: HTTPMODES_BIN, the binary (default build/server/httpmodes)."""
import csv
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
OPENLOOP = os.environ.get("HTTPMODES_OPENLOOP", os.path.join(ROOT, "build", "loadtest", "openloop"))
sys.path.insert(0, os.path.join(ROOT, "loadtest"))

import labmodel  # noqa: E402
import labreport  # noqa: E402
import labrun  # noqa: E402

# the tiny real run: one mode without a loop and the one with a loop per CPU
MODES = ["iterative", "reactors"]
WORKLOADS = ["hello", "db", "cpu"]
LEVELS = [1, 4]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def compare(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, COMPARE] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


def compare_module():
    """loadtest/compare imported, to call its functions."""
    return labrun.load_script("compare")


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


class Ports(unittest.TestCase):
    def test_free_port_is_below_the_clients_ports(self):
        """A port for nginx, Apache or --tls-port is taken below the kernel's
        ephemeral range: from inside it, a client socket of a test running
        beside could take it first, and the server would not start."""
        low = labrun.ephemeral_low()
        if low <= 11024:
            self.skipTest("no room below the ephemeral range %d" % low)
        for _ in range(20):
            port = labrun.free_port()
            self.assertTrue(10000 <= port < low, port)
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))  # and it is free


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


class LabRun(unittest.TestCase):
    """One real compare run that a class's tests share: ARGS (all but --out)
    into a temporary folder (PREFIX), removed afterwards; every test first
    checks that it succeeded."""
    ARGS = ()
    PREFIX = "httpmodes-lab-"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.PREFIX)
        cls.out = os.path.join(cls.tmp, "results")
        cls.result = compare(*cls.ARGS, "--out", cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr[-3000:])


class QuickRun(LabRun):
    """compare --quick on modes iterative,reactors × workloads hello,db × c 1,4."""

    ARGS = ("--quick", "--bin", BIN, "--modes", ",".join(MODES), "--workloads", ",".join(WORKLOADS),
            "--concurrency", ",".join(map(str, LEVELS)), "--duration", "1", "--warmup", "0.2",
            "--stats-timeout", "5")

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
            elif r["workload"] == "db":
                self.assertIsNotNone(r["prediction"], r)  # every db cell has one, capped by /hello
                self.assertIn("D", r["prediction_basis"])
            else:  # cpu: W from probes beside the cell, the server's own CPU time
                self.assertIsNotNone(r["prediction"], r)
                self.assertIn("probes beside the run", r["prediction_basis"])
                for when in ("before", "after"):
                    probes = r["calibration"][when]
                    # 3 rounds of min(C, CPUs) at once
                    self.assertEqual(len(probes), 3 * min(r["concurrency"], r["cpus"]), r)
                    self.assertTrue(all(p["cpu_time_us"] > 0 for p in probes), r)
                self.assertEqual(r["cpus"], len(os.sched_getaffinity(0)))
                # the probes are not counted as the run's requests
                if r["server"] is not None and r["requests"]:
                    self.assertLessEqual(r["server"]["requests"], r["requests"] + 2 * r["concurrency"], r)
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


class PoolRun(LabRun):
    """compare --quick --db-pools 2,off on event, /db at C = 2 and 8 (D = 20 ms):
    each pool a series of its own on a server started with --db-pool, its
    prediction min(C, P, C)/D, the chart with the pool's ceiling, the report."""
    POOLS = (2, 0)
    LEVELS = (2, 8)

    ARGS = ("--quick", "--bin", BIN, "--modes", "event", "--db-pools", "2,off", "--concurrency", "2,8",
            "--duration", "1", "--warmup", "0.2", "--stats-timeout", "5")
    PREFIX = "httpmodes-lab-pool-"

    def setUp(self):
        LabRun.setUp(self)
        with open(os.path.join(self.out, "results.json")) as f:
            self.data = json.load(f)
        self.rows = {(r["db_pool"], r["concurrency"]): r for r in self.data["meta"]["db_pools"]["runs"]}

    def test_a_series_per_pool_run_with_that_pool(self):
        self.assertEqual(self.data["runs"], [])  # --db-pools alone runs no matrix
        self.assertEqual(self.data["meta"]["settings"]["db_pools"], [2, 0])
        self.assertEqual(set(self.rows), {(p, c) for p in self.POOLS for c in self.LEVELS})
        for (p, c), r in self.rows.items():
            self.assertEqual((r["target"], r["workload"]), ("event", "db"))
            self.assertEqual(r["series"], "event, pool 2" if p else "event, pool off")
            self.assertEqual(r["server_exit"], 0, r)
            self.assertGreater(r["requests"], 0, r)
        # the predictions: min(C, P, C)/D with D = 20 ms
        self.assertAlmostEqual(self.rows[(2, 8)]["prediction"], 100)
        self.assertIn("P=2 (--db-pool)", self.rows[(2, 8)]["prediction_basis"])
        self.assertAlmostEqual(self.rows[(2, 2)]["prediction"], 100)
        self.assertAlmostEqual(self.rows[(0, 8)]["prediction"], 400)
        self.assertNotIn("P=", self.rows[(0, 8)]["prediction_basis"])
        # the server really had the pool: two queries at a time cap 8
        # connections at P/D = 100 req/s, and each request waits its turn
        # (a busy machine only makes it slower, never faster)
        capped = self.rows[(2, 8)]
        self.assertLess(capped["rps"], 130, capped)
        self.assertGreater(capped["latency_ms"]["p50"], 50, capped)  # about C/(P/D) = 80 ms

    def test_csv_has_the_pool_of_each_row(self):
        with open(os.path.join(self.out, "results.csv")) as f:
            got = sorted((x["db_pool"], x["concurrency"]) for x in csv.DictReader(f))
        self.assertEqual(got, sorted([("2", "2"), ("2", "8"), ("off", "2"), ("off", "8")]))

    def test_report_and_chart(self):
        with open(os.path.join(self.out, "report.md")) as f:
            md = f.read()
        self.assertIn("## The database pool: throughput and p99 against connections", md)
        self.assertIn("flattens at P/D", md)
        self.assertIn("Little's law", md)
        self.assertIn("| event, pool 2 | 8 |", md)
        self.assertIn("| event, pool off | 8 |", md)
        self.assertNotIn("## At a glance", md)  # no matrix, no summary of one
        self.assertIn("charts/db-pools.svg", md)
        self.assertTrue(ET.parse(os.path.join(self.out, "charts", "db-pools.svg")).getroot()
                        .tag.endswith("svg"))
        with open(os.path.join(self.out, "charts", "db-pools.png"), "rb") as f:
            self.assertEqual(f.read(8), PNG_MAGIC)
        with open(os.path.join(self.out, "charts", "db-pools.gp")) as f:
            gp = f.read()
        self.assertIn("P/D = 100/s (P=2)", gp)  # the pool's ceiling, labelled
        self.assertIn("C/(P/D), P=2", gp)       # Little's law
        self.assertIn("title 'event, pool 2'", gp)
        self.assertIn("title 'event, pool off'", gp)

    def test_report_can_be_rebuilt(self):
        r = compare("--report", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "results.json")) as f:
            rows = json.load(f)["meta"]["db_pools"]["runs"]
        self.assertEqual(sorted(x["prediction"] for x in rows), [100, 100, 100, 400])


class OpenLoopRun(LabRun):
    """compare --quick --open-loop on iterative and event, /db, at 50 % and
    150 % of the predicted capacity: open-loop rows, charts and report."""

    ARGS = ("--quick", "--open-loop", "--bin", BIN, "--openloop-bin", OPENLOOP, "--modes", "iterative,event",
            "--workloads", "db", "--concurrency", "8", "--open-levels", "50,150", "--duration", "1",
            "--warmup", "0.2", "--stats-timeout", "5")
    PREFIX = "httpmodes-lab-open-"

    def test_every_mode_and_level_has_an_open_loop_row(self):
        with open(os.path.join(self.out, "results.json")) as f:
            data = json.load(f)
        ol = data["meta"]["open_loop"]
        self.assertEqual(ol["settings"]["pcts"], [50, 150])
        self.assertEqual(ol["settings"]["connections"], 8)
        got = {(r["target"], r["offered_pct"]): r for r in ol["runs"]}
        self.assertEqual(set(got), {(m, p) for m in ("iterative", "event") for p in (50, 150)})
        # predicted capacity with 8 connections and D = 20 ms: 1/D and C/D
        self.assertAlmostEqual(got[("iterative", 50)]["capacity"], 50)
        self.assertAlmostEqual(got[("event", 50)]["capacity"], 400)
        for r in ol["runs"]:
            self.assertAlmostEqual(r["rate"], r["capacity"] * r["offered_pct"] / 100)
            self.assertEqual(r["scheduled"], round(r["rate"] * 1.0))
            self.assertIsNotNone(r["latency_ms"]["p50"], r)
        # iterative at 150 % of 1/D queues: its median grows well past D
        # (a busy machine only makes it worse); at 50 % it is about D
        self.assertGreater(got[("iterative", 150)]["latency_ms"]["p50"],
                           2 * got[("iterative", 50)]["latency_ms"]["p50"])

    def test_report_has_the_open_loop_charts(self):
        with open(os.path.join(self.out, "report.md")) as f:
            md = f.read()
        self.assertIn("## Open loop: latency against offered load", md)
        for name in ("open-db", "co-db"):
            self.assertIn("charts/%s.svg" % name, md)
            path = os.path.join(self.out, "charts", name + ".svg")
            root = ET.parse(path).getroot()
            self.assertTrue(root.tag.endswith("svg"))
            with open(os.path.join(self.out, "charts", name + ".png"), "rb") as f:
                self.assertEqual(f.read(8), PNG_MAGIC)
        self.assertIn("| iterative | 150 |", md)
        self.assertIn("Kept up", md)
        # each mode drawn as in every chart of the lab: its colour and marker
        meta = {"mode_table": table()}
        for name in ("open-db", "co-db"):
            with open(os.path.join(self.out, "charts", name + ".gp")) as f:
                gp = f.read()
            for m, col, pt in labreport.looks(["iterative", "event"], meta):
                self.assertRegex(gp, r"pt %d ps [\d.]+ lc rgb '%s'" % (pt, col), (name, m))
        with open(os.path.join(self.out, "charts", "db-latency.gp")) as f:
            closed = f.read()
        for m, col, pt in labreport.looks(["iterative", "event"], meta):
            self.assertRegex(closed, r"pt %d ps [\d.]+ lc rgb '%s' title '%s p50'" % (pt, col, m))

    def test_open_loop_needs_the_generator(self):
        p = compare("--quick", "--open-loop", "--bin", BIN, "--openloop-bin", "/nonexistent/openloop",
                    "--modes", "event", "--workloads", "db")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--open-loop: /nonexistent/openloop is not an executable", p.stderr)
        p = compare("--quick", "--open-loop", "--bin", BIN, "--openloop-bin", OPENLOOP,
                    "--modes", "event", "--workloads", "hello")
        self.assertEqual(p.returncode, 2)
        self.assertIn("/hello has no predicted capacity", p.stderr)
        p = compare("--quick", "--open-levels", "50,5000", "--bin", BIN)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--open-levels", p.stderr)


class MixedRun(LabRun):
    """compare --quick --mixed on event and offload: /hello under each background."""

    ARGS = ("--quick", "--mixed", "--bin", BIN, "--openloop-bin", OPENLOOP, "--modes", "event,offload",
            "--workloads", "hello", "--concurrency", "1", "--duration", "1", "--warmup", "0.2",
            "--stats-timeout", "5")
    PREFIX = "httpmodes-lab-mixed-"

    def test_every_mode_under_every_background(self):
        with open(os.path.join(self.out, "results.json")) as f:
            mx = json.load(f)["meta"]["mixed"]
        self.assertEqual(mx["settings"]["cpu_connections"], 2 * len(os.sched_getaffinity(0)))
        self.assertEqual(mx["settings"]["db_connections"],
                         2 * next(m["default_workers"] for m in table() if m["name"] == "prefork"))
        got = {(r["target"], r["background"]): r for r in mx["runs"]}
        self.assertEqual(set(got), {(m, b) for m in ("event", "offload") for b in ("none", "cpu", "db")})
        for r in mx["runs"]:
            self.assertEqual(r["scheduled"], 50, r)  # 50 req/s for 1 s
            self.assertIsNotNone(r["answered"], r)
            if r["background"] == "none":
                self.assertIsNone(r["background_rps"])
            else:
                self.assertGreater(r["background_rps"], 0, r)  # the background really ran

    def test_report_has_the_mixed_chart(self):
        with open(os.path.join(self.out, "report.md")) as f:
            md = f.read()
        self.assertIn("## Mixed workloads", md)
        self.assertIn("charts/mixed-hello.svg", md)
        self.assertTrue(ET.parse(os.path.join(self.out, "charts", "mixed-hello.svg")).getroot()
                        .tag.endswith("svg"))
        self.assertIn("| event | `/cpu?iterations=50000` |", md)
        with open(os.path.join(self.out, "charts", "mixed-hello.gp")) as f:
            gp = f.read()
        for m, col, pt in labreport.looks(["event", "offload"], {"mode_table": table()}):
            # the mode's name under its cluster, in its colour, with its marker
            self.assertIn("'%s' at" % m, gp)
            self.assertIn("tc rgb '%s' point pt %d" % (col, pt), gp)
        # every bar's value written on it (and the share unanswered, if any)
        self.assertEqual(gp.count(" ms\"") + gp.count(" unanswered\""), 6, gp)


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

    def test_a_rows_own_pool_overrides_the_runs(self):
        """compare --db-pools: each row carries its pool (0: none)."""
        rows = labmodel.predict([dict(row("event", "db", 100, 40.0), db_pool=4),
                                 dict(row("event", "db", 100, 900.0), db_pool=0),
                                 dict(row("threads", "db", 100, 160.0), db_pool=16),
                                 dict(row("iterative", "db", 100, 10.0), db_pool=16),
                                 row("event", "db", 100, 20.0)],
                                db_delay_ms=100, widgets=4, workers=8, cores=2, modes=table(),
                                db_pool=2)
        self.assertEqual([r["prediction"] for r in rows], [40.0, 1000.0, 160.0, 10.0, 20.0])
        self.assertIn("P=4", rows[0]["prediction_basis"])
        self.assertNotIn("P=", rows[1]["prediction_basis"])
        self.assertNotIn("P=", rows[3]["prediction_basis"])  # 1/D is below the pool's 160

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
        self.assertIn("each request cost the server 54.8 ms of CPU during the run against W = 37.0 ms", text)
        self.assertIn("threads cpu c=10", text)
        self.assertIn("ran slower while loaded", text)
        self.assertEqual(text.count("of CPU during the run against W"), 1, text)
        fast = dict(row("iterative", "cpu", 10, 40.0), duration_s=10.0,
                    resources={"server_cpu_cores": 1.0}, server={"requests": 400})  # 25 ms each
        text = self.summary(self.predict([base, fast]))
        self.assertIn("iterative cpu c=10: 40.0 req/s is 48 % over", text)
        self.assertIn("cost the server 25.0 ms of CPU during the run against W = 37.0 ms in the probes "
                      "beside it: the cores themselves ran faster", text)

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


def probes(*cpu_ms):
    return [{"wall_us": int(x * 1000), "cpu_time_us": int(x * 1000), "cpu_worker": 1} for x in cpu_ms]


class Calibration(unittest.TestCase):
    """W beside every /cpu run, the cores the server really had, ranges at a
    batch boundary, the tie rule and outside targets counted apart."""

    def predict(self, rows, cores=2):
        return labmodel.predict(rows, db_delay_ms=100, widgets=4, workers=8, cores=cores, modes=table())

    def test_w_is_the_median_cpu_time_of_the_probes_beside_the_run(self):
        r = row("threads", "cpu", 10, 190.0)
        r["calibration"] = {"before": probes(10, 11, 40), "after": probes(9, 10, 10)}
        w, text = labmodel.calibrated_w(r)
        self.assertAlmostEqual(w, 0.010)  # median of 9,10,10,10,11,40 ms
        self.assertIn("6 probes beside the run", text)
        self.assertEqual(labmodel.calibrated_w(row("threads", "cpu", 10, 1.0)), (None, None))
        # the run's own W wins over the c=1 latency of another run (25 ms here)
        c1 = row("event", "cpu", 1, 40.0, p50=25.0)
        out = {x["target"]: x for x in self.predict([c1, r])}
        self.assertAlmostEqual(out["threads"]["prediction"], 200)  # 2 cores / 10 ms
        self.assertIn("W=10.0 ms, median CPU time of 6 probes", out["threads"]["prediction_basis"])
        self.assertFalse(out["threads"]["miss"])
        self.assertAlmostEqual(out["event"]["prediction"], 40)  # no probes: the c=1 latency

    def test_drift_between_before_and_after_is_said(self):
        r = row("event", "cpu", 1, 90.0)
        r["calibration"] = {"before": probes(10, 10, 10), "after": probes(12, 12, 12)}
        self.assertIn("10.0 ms before and 12.0 ms after", labmodel.calibrated_w(r)[1])

    def test_cores_are_the_servers_cpus_not_the_machines(self):
        # a server pinned to 1 CPU (--cpus 1, taskset) of a 4-core machine
        r = dict(row("pool", "cpu", 10, 100.0), cpus=1)
        r["calibration"] = {"before": probes(10), "after": probes(10)}
        out = self.predict([r], cores=4)[0]
        self.assertAlmostEqual(out["prediction"], 100)
        self.assertIn("cores=1", out["prediction_basis"])

    def test_cores_taken_by_other_work_are_left_out(self):
        r = dict(row("threads", "cpu", 10, 100.0), cpus=2)
        r["calibration"] = {"before": probes(10), "after": probes(10)}
        r["resources"] = {"machine_cpu_cores": 2.0, "server_cpu_cores": 1.0, "wrk_cpu_cores": 0.02}
        out = self.predict([r])[0]
        self.assertAlmostEqual(out["prediction"], 100)  # 2 - 0.98 other - 0.02 wrk = 1 core
        self.assertIn("less 0.98 taken by other work and 0.02 by wrk", out["prediction_basis"])
        # an event loop needs one core: another tenant on the other core costs it nothing
        e = dict(row("event", "cpu", 10, 100.0), cpus=2, calibration=r["calibration"],
                 resources={"machine_cpu_cores": 2.0, "server_cpu_cores": 1.0, "wrk_cpu_cores": 0.0})
        self.assertAlmostEqual(self.predict([e])[0]["prediction"], 100)
        quiet = dict(r, resources={"machine_cpu_cores": 2.0, "server_cpu_cores": 1.97,
                                   "wrk_cpu_cores": 0.02})
        self.assertAlmostEqual(self.predict([quiet])[0]["prediction"], 197)  # wrk: 0.02

    def test_other_work_is_taken_interval_by_interval(self):
        # a tenant idle for half the run and on 1.5 cores for the other half:
        # 0.75 on average, which would leave one loop a whole core; but in the
        # busy half it had only half a core: 1 and 0.5, 0.75 on average
        e = dict(row("event", "cpu", 10, 75.0), cpus=2)
        e["calibration"] = {"before": probes(10), "after": probes(10)}
        e["resources"] = {"machine_cpu_cores": 1.5, "server_cpu_cores": 0.75, "wrk_cpu_cores": 0.0,
                          "other_cpu_cores_by_interval": [0.0, 1.5]}
        out = self.predict([e])[0]
        self.assertAlmostEqual(out["prediction"], 75)
        self.assertIn("cores=0.75: 2 allowed, less 0.75 taken by other work and 0.00 by wrk "
                      "(over 2 intervals)", out["prediction_basis"])
        flat = dict(e, resources=dict(e["resources"], other_cpu_cores_by_interval=None))
        self.assertAlmostEqual(self.predict([flat])[0]["prediction"], 100)  # the average alone
        # and compare fills the intervals from its samples (machine less server less wrk)
        cmp = compare_module()
        base = dict(rss_kib=1, threads=1, processes=1, held=0, queued=0)
        samples = [dict(base, t=0.0, cpu_s=0.0, cpu_by_pid={1: 0.0}, machine_cpu_s=0.0),
                   dict(base, t=1.0, cpu_s=1.0, cpu_by_pid={1: 1.0}, machine_cpu_s=1.1),
                   dict(base, t=2.0, cpu_s=1.5, cpu_by_pid={1: 1.5}, machine_cpu_s=3.1)]
        res = cmp.resources(samples, 0.2, 2.0)  # wrk: 0.1 core
        self.assertEqual(res["other_cpu_cores_by_interval"], [0.0, 1.4])

    def test_runs_beside_heavy_other_work_are_named(self):
        r = dict(row("pool", "cpu", 10, 100.0), cpus=2)
        r["calibration"] = {"before": probes(10), "after": probes(10)}
        r["resources"] = {"machine_cpu_cores": 2.0, "server_cpu_cores": 0.8, "wrk_cpu_cores": 0.0}
        quiet = dict(r, target="threads", resources={"machine_cpu_cores": 2.0, "server_cpu_cores": 1.9,
                                                      "wrk_cpu_cores": 0.0})
        text = "\n".join(labmodel.summary(self.predict([r, quiet]), table()))
        self.assertIn("1 of the /cpu runs shared the machine with other work that took more than half "
                      "of the server's cores (pool c=10 1.2); 0 of them still landed", text)

    def test_a_run_ending_at_a_batch_boundary_is_a_range(self):
        # threads, 100 at once on 2 cores, W = 11.5 ms: batches of 0.575 s; a
        # 1.17 s run ends 2 % after the second batch: 1 or 2 batches done
        r = dict(row("threads", "cpu", 100, 99.0), cpus=2, duration_s=1.17)
        r["calibration"] = {"before": probes(11.5), "after": probes(11.5)}
        out = self.predict([r])[0]
        self.assertAlmostEqual(out["prediction_low"], 100 / 1.17)
        self.assertAlmostEqual(out["prediction"], 200 / 1.17)
        self.assertEqual(out["ratio"], 1.0)
        self.assertFalse(out["miss"])
        self.assertEqual(labmodel.fmt_prediction(out), "85.5–171")
        below = self.predict([dict(r, rps=60.0)])[0]
        self.assertTrue(below["miss"])
        self.assertAlmostEqual(below["ratio"], 60.0 / (100 / 1.17))
        # well inside a batch: one figure
        mid = self.predict([dict(r, duration_s=1.45)])[0]
        self.assertIsNone(mid["prediction_low"])
        self.assertAlmostEqual(mid["prediction"], 200 / 1.45)

    def test_cpu_time_is_summed_per_process(self):
        # a prefork worker first seen in the second sample brought its whole
        # past CPU time into a difference of totals: 4.51 cores on 2
        a = {"cpu_s": 1.0, "cpu_by_pid": {10: 0.5, 11: 0.5}}
        b = {"cpu_s": 6.0, "cpu_by_pid": {10: 1.0, 11: 1.0, 12: 4.0}}
        self.assertAlmostEqual(labrun.cpu_delta(a, b), 1.0)
        self.assertAlmostEqual(labrun.cpu_delta({"cpu_s": 1.0}, {"cpu_s": 2.5}), 1.5)
        cmp = compare_module()
        samples = [dict(a, t=0.0, rss_kib=1, threads=1, processes=2, held=0, queued=0),
                   dict(b, t=0.5, rss_kib=1, threads=1, processes=3, held=0, queued=0)]
        self.assertAlmostEqual(cmp.resources(samples, 0.0, 1.0)["server_cpu_cores"], 2.0)

    def test_ties_within_noise_name_no_winner(self):
        rows = [row("threads", "cpu", 10, 180.0), row("pool", "cpu", 10, 172.0),
                row("event", "cpu", 10, 90.0)]
        text = "\n".join(labmodel.summary(rows, table()))
        self.assertIn("a **tie within noise** (±%d %%) between **threads**, **pool**" % (
            labmodel.TIE * 100), text)
        self.assertNotIn("won", text)
        self.assertTrue(labmodel.tied(100, 100 * (1 - labmodel.TIE)))
        self.assertFalse(labmodel.tied(100, 100 * (1 - labmodel.TIE) - 1))
        rows[1]["ok_rps"] = rows[1]["rps"] = 150.0
        text = "\n".join(labmodel.summary(rows, table()))
        self.assertIn("**threads** won with 180 good req/s, 1.2× pool (150)", text)

    def test_starved_connections_and_the_share_latency_covers(self):
        r = dict(row("iterative", "dashboard", 1000, 2.5), requests=25, in_time=20,
                 errors={"timeout": 5})
        self.assertEqual(labmodel.starved_min(r), 975)
        self.assertAlmostEqual(labmodel.latency_share(r), 20 / 1000.0)
        full = dict(row("event", "db", 10, 100.0), requests=1000, in_time=1000, errors={})
        self.assertEqual(labmodel.starved_min(full), 0)
        self.assertEqual(labmodel.latency_share(full), 1.0)
        text = "\n".join(labmodel.summary([r, full], table()))
        self.assertIn("Starved clients", text)
        self.assertIn("iterative dashboard c=1000: 975 of 1000", text)
        self.assertNotIn("event db c=10: 0", text)
        md = "\n".join(labreport.table([r, full], ["iterative", "event"], []))
        self.assertIn("| iterative | 1000 | 2.50 | – | – | – | – | **2 %** | **975** |", md)
        self.assertIn("| event | 10 | 100 | – | – | – | – | 100 % | 0 |", md)

    def test_outside_targets_are_counted_apart(self):
        mine = dict(row("event", "db", 10, 100.0))
        far = dict(row("event", "db", 20, 150.0), outside=True)  # named after its mode
        text = "\n".join(labmodel.summary(self.predict([mine, far]), table()))
        self.assertIn("1 of 1 runs with a prediction landed within", text)
        self.assertIn("Counted apart, never in the figure above: 0 of 1 runs against outside targets",
                      text)

    def test_probes_read_the_servers_own_cpu_time(self):
        server = labrun.Server(BIN, "event", ["--cpu-iterations", "2000"]).start()
        try:
            got, errors = labrun.cpu_probe(server.url(""), "/cpu?iterations=2000", 2)
            self.assertEqual(errors, [])
            self.assertEqual(len(got), 2)
            for p in got:
                self.assertGreater(p["cpu_time_us"], 0)
                self.assertGreaterEqual(p["wall_us"] + 1000, p["cpu_time_us"])
            self.assertEqual(labrun.cpus_of(server.pid), len(os.sched_getaffinity(0)))
            got, errors = labrun.cpu_probe_together(server.url(""), "/cpu?iterations=2000", 2, 3)
            self.assertEqual((len(got), errors), (6, []))
        finally:
            server.stop()
        got, errors = labrun.cpu_probe(server.url(""), "/cpu", 1, timeout=2)
        self.assertEqual(got, [])
        self.assertEqual(len(errors), 1)


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
        self.check(["--db-pools", "4,0"], "--db-pools: '0' is not a pool size (1..10000, or off for none)")
        self.check(["--db-pools", "16,many"], "--db-pools: 'many' is not a pool size")
        self.check(["--db-pools", "10001"], "--db-pools: '10001' is not a pool size")
        self.check(["--db-pools", ","], "--db-pools: give at least one pool size")
        self.check(["--bin", BIN, "--db-pools", "4", "--server-arg=--db-pool=2"],
                   "leave --db-pool out of --server-arg")
        self.check(["--bin", BIN, "--db-pools", "4", "--modes", "", "--target",
                    "x=http://127.0.0.1:9"], "--db-pools: runs the lab's own modes")

    def test_targets_must_be_loopback(self):
        self.check(["--target", "x=http://10.1.2.3:80"], "not a loopback address")
        self.check(["--target", "x=http://example.org:80"], "not a loopback address")
        self.check(["--target", "nourl"], "is not name=http://127.0.0.1:PORT")
        self.check(["--target", "event=http://127.0.0.1:80"], "is also a mode this run starts")
        self.check(["--modes", "threads", "--target", "threads=http://127.0.0.1:80"],
                   "is also a mode this run starts")

    def test_target_nobody_listens_on(self):
        tmp = tempfile.mkdtemp(prefix="httpmodes-lab-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with socket.socket() as sock:  # bound, not listening: refused, and no one else's
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
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
                    "--bin", "--tls", "--db-pools"):
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
