"""The one-screen summary that opens the report (loadtest/labglance.py), on
made-up rows and the server's own mode table: no winner is hard-coded, a tie
stays a tie, and every model is named in the words synchronous /
asynchronous / concurrent / parallel."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "loadtest"))

import labglance  # noqa: E402
import labmodel  # noqa: E402
import labpool  # noqa: E402
import labreport  # noqa: E402

# the server's table as `httpmodes --list-modes` prints it (labrun.list_modes)
TABLE = [
    {"name": "iterative", "keep_alive": False, "workers": "none", "default_workers": 1,
     "event_loop": False, "cpu_off_loop": False},
    {"name": "threads", "keep_alive": True, "workers": "none", "default_workers": 1,
     "event_loop": False, "cpu_off_loop": False},
    {"name": "prefork", "keep_alive": False, "workers": "fixed", "default_workers": 8,
     "event_loop": False, "cpu_off_loop": False},
    {"name": "event", "keep_alive": True, "workers": "none", "default_workers": 1,
     "event_loop": True, "cpu_off_loop": False},
    {"name": "reactors", "keep_alive": True, "workers": "cpus", "default_workers": 0,
     "event_loop": True, "cpu_off_loop": False},
]


def row(target, workload, c, ok_rps, kind="mode"):
    return {"target": target, "kind": kind, "workload": workload, "concurrency": c,
            "rps": ok_rps, "ok_rps": ok_rps, "errors_total": 0, "latency_ms": {}}


def text(rows):
    return "\n".join(labglance.summary(rows, TABLE))


class Glance(unittest.TestCase):
    def test_the_winner_comes_from_the_figures(self):
        rows = [row("event", "db", 10, 95.0), row("iterative", "db", 10, 9.8),
                row("threads", "db", 10, 50.0), row("event", "db", 1, 9.9)]
        t = text(rows)
        self.assertIn("**/db** (one simulated query: the server waits, it does not work), at 10 "
                      "connections: **event** (asynchronous, concurrent, not parallel) wins with "
                      "95.0 good req/s, 1.9× **threads** (50.0) and 9.7× **iterative** "
                      "(synchronous, not concurrent, not parallel) (9.80)", t)
        self.assertIn("the concurrent models came first", t)
        # the same workload with other figures names another winner
        rows[2]["ok_rps"] = 190.0
        t = text(rows)
        self.assertIn("**threads** (synchronous, concurrent, parallel) wins with 190 good req/s, "
                      "2.0× **event** (95.0)", t)

    def test_a_run_without_a_result_is_no_loser(self):
        """wrk hung or died (no result line): that run is no rate of 0, so it is
        neither ranked nor said to have got nothing through."""
        rows = [row("event", "hello", 100, 90000.0), row("threads", "hello", 100, 60000.0),
                row("apache-worker", "hello", 100, 0.0, kind="peer")]
        self.assertIn("got nothing through", text(rows))
        rows[2]["no_result"] = True
        t = text(rows)
        self.assertNotIn("got nothing through", t)
        self.assertNotIn("apache-worker", t)
        self.assertIn("**event**", t)
        self.assertNotIn("got nothing through", "\n".join(labmodel.summary(rows, TABLE)))

    def test_a_tie_stays_a_tie(self):
        rows = [row("threads", "cpu", 10, 180.0), row("reactors", "cpu", 10, 172.0),
                row("event", "cpu", 10, 90.0)]
        t = text(rows)
        self.assertIn("a **tie within noise** (±%d %%) between **threads** (synchronous, concurrent, "
                      "parallel), **reactors** (asynchronous, concurrent, parallel) (172–180 good "
                      "req/s): neither is ahead; together 1.9× **event**" % (labmodel.TIE * 100), t)
        self.assertNotIn("wins", t)
        self.assertIn("the parallel models came first", t)
        # just past the tie rule: a winner, by how much
        rows[1]["ok_rps"] = 180.0 * (1 - labmodel.TIE) - 1
        self.assertIn("**threads** (synchronous, concurrent, parallel) wins with 180 good req/s, "
                      "9 % ahead of **reactors**", text(rows))

    def test_figures_against_the_rule_are_said(self):
        rows = [row("event", "cpu", 10, 100.0), row("threads", "cpu", 10, 50.0)]
        self.assertIn("yet a model on one core came first here", text(rows))
        rows = [row("iterative", "db", 10, 100.0), row("threads", "db", 10, 50.0)]
        self.assertIn("yet a model that is not concurrent came first here", text(rows))

    def test_the_highest_concurrency_speaks_and_errors_do_not_win(self):
        rows = [row("iterative", "hello", 1, 5000.0), row("event", "hello", 1, 4000.0),
                row("iterative", "hello", 100, 10.0), row("event", "hello", 100, 4000.0)]
        rows[2]["rps"] = 9000.0  # fast errors: its good rate is what counts
        t = text(rows)
        self.assertIn("at 100 connections: **event** (asynchronous, concurrent, not parallel) wins "
                      "with 4,000 good req/s, 400× **iterative**", t)

    def test_outside_targets_and_the_glossary(self):
        rows = [row("event", "db", 10, 95.0), row("nginx", "db", 10, 96.0, kind="target")]
        lines = labglance.summary(rows, TABLE)
        self.assertIn("between **nginx**, **event** (asynchronous, concurrent, not parallel)", lines[0])
        self.assertNotIn("came first", lines[0])  # no words for nginx: no claim about it
        self.assertTrue(lines[-1].startswith("*Synchronous*"))
        self.assertIn("Here: event is asynchronous, concurrent (every connection at once, and the "
                      "queries within one request), not parallel (one core).", lines[-1])
        self.assertEqual(labglance.summary([], TABLE), ["No run finished: nothing to compare."])


def res_row(target, wl, c, rps, rss_kib, threads, errors=0):
    r = row(target, wl, c, rps)
    r.update(path="/" + wl, errors_total=errors, errors={"timeout": errors},
             resources={"rss_kib": rss_kib, "threads": threads, "held_median": c,
                        "held_max": c, "queued_median": 0})
    return r


class Charts(unittest.TestCase):
    """The layout of the charts, from the gnuplot each chart function writes."""
    order = [(m["name"], labreport.PALETTE[i]) for i, m in enumerate(TABLE)]

    def test_labels_never_overprint(self):
        for log, lo, hi in ((True, 1.0, 10000.0), (False, 0.0, 60.0)):
            ys = [28.5, 28.5, 28.4, 35.5, 18.0, None, 9000.0 if log else 59.0]
            got = labreport.spread(ys, lo, hi, log=log, dy=0.05)
            self.assertIsNone(got[5])
            f = sorted(((labreport.math.log10(y) - labreport.math.log10(lo)) /
                        (labreport.math.log10(hi) - labreport.math.log10(lo)) if log
                        else (y - lo) / (hi - lo)) for y in got if y is not None)
            self.assertEqual(len(f), 6)
            for a, b in zip(f, f[1:]):
                self.assertGreaterEqual(b - a, 0.065 - 1e-9, (log, f))
            self.assertTrue(0 <= f[0] and f[-1] <= 1, f)
        # far-apart labels stay where they asked to be
        self.assertAlmostEqual(labreport.spread([10.0], 1.0, 1000.0)[0], 10.0)

    def test_cpu_is_linear_and_every_line_is_told_apart(self):
        rows = [res_row(m, "cpu", c, v, 4000, 1) for m, v in (("iterative", 20.0), ("event", 20.0),
                                                             ("threads", 40.0)) for c in (1, 10)]
        head, blocks, plots = labreport.chart_throughput("cpu", rows, self.order, 2)
        self.assertIn("unset logscale y", head)
        self.assertIn("set yrange [0:46]", head)
        self.assertIn("requests/s\"", head)
        head, _, _ = labreport.chart_throughput("db", [dict(r, workload="db") for r in rows],
                                                self.order, 2)
        self.assertNotIn("unset logscale y", head)
        # iterative and event coincide: other markers, other widths, other x
        lines = [p for p in plots if "title 'iterative'" in p or "title 'event'" in p]
        self.assertEqual(len(lines), 2)
        self.assertNotEqual(lines[0].split("pt ")[1].split()[0], lines[1].split("pt ")[1].split()[0])
        self.assertNotEqual(lines[0].split("lw ")[1].split()[0], lines[1].split("lw ")[1].split()[0])
        xs = {b.split("\n")[1].split()[0] for b in blocks if b.startswith("$m")}
        self.assertEqual(len(xs), 3, blocks)

    def test_a_run_without_a_result_is_a_gap_said_so(self):
        rows = [res_row("event", "hello", c, 90000.0, 4000, 1) for c in (1, 10, 100)]
        rows[2]["no_result"], rows[2]["rps"] = True, 0.0
        _, blocks, plots = labreport.chart_throughput("hello", rows, self.order, 2)
        data = [b for b in blocks if b.startswith("$m")][0].split("\n")[1:-1]
        self.assertEqual(data[2].split()[1], "NaN", data)  # no point on the bottom edge
        self.assertTrue(any("no result" in b for b in blocks), blocks)
        self.assertFalse(any("0 req/s" in b for b in blocks), blocks)

    def test_a_long_key_goes_below_a_taller_chart(self):
        with tempfile.TemporaryDirectory() as out:
            for n, below in ((5, False), (10, True)):
                names = ["t%d" % i for i in range(n)]
                order = [(m, labreport.PALETTE[i % len(labreport.PALETTE)]) for i, m in enumerate(names)]
                rows = [dict(res_row(m, "db", c, 100.0, 4000, 1), latency_ms={"p50": 100, "p99": 110})
                        for m in names for c in (1, 10)]
                spec = labreport.chart_latency("db", rows, order, 2)
                svg, _ = labreport.render(out, "db-latency-%d" % n, spec, png=False)
                gp = open(os.path.join(out, "charts", "db-latency-%d.gp" % n)).read()
                self.assertEqual("set key below" in gp, below, n)
                height = int(gp.split("set terminal svg size 760,")[1].split()[0])
                if below:  # 2 lines a target and the timeout line: 21 entries, 7 rows of 3
                    self.assertEqual(height, 420 + 7 * labreport.KEY_ROW_PX)
                else:
                    self.assertEqual(height, 420)
                self.assertTrue(os.path.getsize(os.path.join(out, svg)) > 0)

    def test_memory_and_threads_per_mode(self):
        rows = [res_row("threads", "db", 1000, 9000.0, 23142, 845),
                res_row("event", "db", 1000, 9000.0, 4813, 1),
                res_row("threads", "db", 10, 100.0, 3900, 11),
                res_row("event", "db", 10, 100.0, 3800, 1)]
        names = [k for k, _ in labreport.CHARTS]
        self.assertIn("memory", names)
        self.assertIn("threads", names)
        fn = dict(labreport.CHARTS)
        _, blocks, plots = fn["memory"]("db", rows, self.order, 2)
        vals = [b for b in blocks if b.startswith("$val")][0]
        self.assertIn('"22.6"', vals)
        self.assertIn('"4.7"', vals)
        _, blocks, _ = fn["threads"]("db", rows, self.order, 2)
        vals = [b for b in blocks if b.startswith("$val")][0]
        self.assertIn('"845"', vals)
        self.assertIn('"1"', vals)

    def test_a_mode_is_drawn_alike_in_every_chart(self):
        meta = {"mode_table": TABLE}
        alone = labreport.looks(["event"], meta)
        both = labreport.looks(["iterative", "event", "mine"], meta)
        self.assertEqual(alone[0], both[1])  # its colour and marker, whichever modes ran
        self.assertEqual(len({pt for _, _, pt in both}), 3)
        self.assertEqual(labreport.colours(["event"], meta)["event"], alone[0][1])
        self.assertEqual(labreport.markers(["event"], meta)["event"], alone[0][2])
        self.assertEqual(labreport.open_point(7), 6)

    def test_labels_of_nearby_points_are_spread_in_y(self):
        pts = [(90.0, 100.0), (92.0, 105.0), (91.0, 98.0), (10.0, 100.0)]
        got = labreport.label_heights(pts, (0, 120), (10, 10000), xlog=False, near=0.1)
        f = sorted((labreport.math.log10(h) - 1) / 3 for h in got[:3])
        for a, b in zip(f, f[1:]):
            self.assertGreaterEqual(b - a, 0.065 - 1e-9, f)
        self.assertAlmostEqual(got[3], 100.0)  # alone at its x: where it asked to be


# the README's wrk table (event, D = 50 ms): req/s and p99 ms at C = 4, 16, 64, 256
POOL_FIGURES = {4: ([78, 78, 76, 73], [71, 251, 1010, 3960]),
                16: ([79, 314, 313, 308], [53, 52, 205, 893]),
                0: ([79, 315, 1246, 4986], [53, 53, 54, 54])}


def pool_rows(mode="event"):
    out = []
    for p, (rates, p99s) in POOL_FIGURES.items():
        for c, rps, p99 in zip((4, 16, 64, 256), rates, p99s):
            out.append({"target": mode, "kind": "mode", "workload": "db", "path": "/db?delay=50",
                        "concurrency": c, "rps": float(rps), "ok_rps": float(rps), "errors_total": 0,
                        "errors": {"timeout": 0}, "latency_ms": {"p50": p99 * 0.8, "p99": float(p99)},
                        "db_pool": p, "series": labpool.series_name(mode, p), "requests": rps * 10})
    return out


class PoolChart(unittest.TestCase):
    """compare --db-pools: the chart's layout and the predictions, on made-up rows."""
    meta = {"mode_table": TABLE, "machine": {"cores": 2},
            "settings": {"db_delay_ms": 50, "timeout_s": 10, "widgets": 4, "workers": None,
                         "duration_s": 10}}

    def setUp(self):
        self.rows = labmodel.predict(pool_rows() + pool_rows("threads"), 50, 4, None, 2, TABLE)

    @staticmethod
    def block(text, name):
        body = text.split("$%s << EOD\n" % name)[1].split("\nEOD")[0]
        return [l.split() for l in body.splitlines()]

    @staticmethod
    def yrange(text):
        lo, hi = text.split("set yrange [")[1].split("]")[0].split(":")
        return float(lo), float(hi)

    def test_options(self):
        self.assertEqual(labpool.parse("4, 16,off,4"), [4, 16, 0])
        for bad in ("0", "x", "10001", "", "-3"):
            with self.assertRaises(ValueError):
                labpool.parse(bad)
        self.assertEqual(labpool.server_args(0), ["--db-pool", "off"])
        self.assertEqual(labpool.series_name("event", 4), "event, pool 4")

    def test_predictions_flatten_at_the_pool(self):
        got = {(r["target"], r["db_pool"], r["concurrency"]): r["prediction"] for r in self.rows}
        self.assertEqual(got[("event", 4, 256)], 80)
        self.assertEqual(got[("event", 16, 256)], 320)
        self.assertEqual(got[("event", 16, 4)], 80)    # C < P: C/D
        self.assertEqual(got[("event", 0, 256)], 5120)  # no pool: C/D
        r = next(r for r in self.rows if (r["target"], r["db_pool"], r["concurrency"]) == ("event", 4, 256))
        self.assertEqual(labpool.little_ms(r), 3200)   # Little's law: C/(P/D)

    def test_every_series_is_told_apart(self):
        look = labpool.looks(self.rows, self.meta)
        self.assertEqual([x[0] for x in look], ["threads, pool 4", "threads, pool 16", "threads, pool off",
                                                "event, pool 4", "event, pool 16", "event, pool off"])
        self.assertEqual(len({x[2] for x in look}), 6)            # a marker each
        self.assertEqual(look[0][1], look[3][1])                  # a pool's colour in every mode
        self.assertNotEqual(look[0][3], look[3][3])               # a mode's dash
        left, right = labpool.panels(self.meta, self.rows)
        for text in (left, right):
            self.assertIn("set logscale xy", text)
            xs = {self.block(text, "m%d" % i)[0][0] for i in range(6)}
            self.assertEqual(len(xs), 6)  # each series nudged along x
            self.assertEqual(len({l.split(" pt ")[1].split()[0] for l in text.splitlines()
                                  if "title '" in l and "$m" in l and " pt " in l}), 6)

    def test_ceilings_and_littles_law_with_labels_apart(self):
        left, right = labpool.panels(self.meta, self.rows)
        self.assertEqual({float(r[1]) for r in self.block(left, "ceil0")}, {80.0})    # P/D of pool 4
        self.assertEqual({float(r[1]) for r in self.block(left, "ceil1")}, {320.0})   # and of 16
        self.assertNotIn("$ceil2", left)  # no ceiling without a pool
        self.assertIn("C/D: no pool", left)
        lit = self.block(right, "lit0")  # pool 4: D until C = 4, then C*D/P
        self.assertEqual(float(lit[0][1]), 50.0)
        self.assertAlmostEqual(float(lit[-1][1]), float(lit[-1][0]) * 50 / 4)
        for text, name in ((left, "tl"), (right, "ll")):
            lo, hi = self.yrange(text)
            hs = sorted(labreport.math.log10(float(l[1])) for l in self.block(text, name))
            f = [(h - labreport.math.log10(lo)) / (labreport.math.log10(hi) - labreport.math.log10(lo))
                 for h in hs]
            self.assertEqual(len(f), 3)
            for a, b in zip(f, f[1:]):
                self.assertGreaterEqual(b - a, 0.065 - 1e-9, (name, f))
            self.assertTrue(0 <= f[0] and f[-1] <= 1, f)


if __name__ == "__main__":
    unittest.main()
