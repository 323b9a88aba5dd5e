"""The one-screen summary that opens the report (loadtest/labglance.py), on
made-up rows and the server's own mode table: no winner is hard-coded, a tie
stays a tie, and every model is named in the words synchronous /
asynchronous / concurrent / parallel."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "loadtest"))

import labglance  # noqa: E402
import labmodel  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
