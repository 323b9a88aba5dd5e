"""loadtest/compare --replica-stats: the per-replica split of a balancer
target, from each replica's /stats (docker/README.md, "Scale out").

Two real httpmodes servers named with --name; the target is one of them
directly (no balancer is needed to check the accounting): it must get every
request of the run and the other none, under the names their /stats give,
in results.json, on the progress line and in report.md. Also the option's
checks (loopback only, exactly one --target)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPARE = os.path.join(ROOT, "loadtest", "compare")
BIN = os.environ.get("HTTPMODES_BIN", os.path.join(ROOT, "build", "server", "httpmodes"))


def compare(*args, timeout=300):
    return subprocess.run([sys.executable, COMPARE] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def start(name):
    """An event-mode httpmodes named name on free ports: (process, port, live view port)."""
    p = subprocess.Popen([BIN, "--mode", "event", "--port", "0", "--status-port", "0", "--name", name],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/.*live view http://127\.0\.0\.1:(\d+)/live", line)
    if not m:
        p.kill()
        p.wait()
        raise AssertionError("no start line: %r" % line)
    return p, int(m.group(1)), int(m.group(2))


class ReplicaStats(unittest.TestCase):

    def setUp(self):
        self.servers = []
        for name in ("rep-a", "rep-b"):
            p, port, live = start(name)
            self.addCleanup(p.wait)
            self.addCleanup(p.terminate)
            self.addCleanup(p.stderr.close)
            self.servers.append((name, port, live))

    def test_split_follows_the_replicas_stats(self):
        tmp = tempfile.mkdtemp(prefix="httpmodes-lab-")
        self.addCleanup(shutil.rmtree, tmp, True)
        (_, port_a, live_a), (_, _, live_b) = self.servers
        out = os.path.join(tmp, "results")
        # rep-a by its live view's /stats, rep-b by the main port's (a URL
        # without a path gets /stats)
        r = compare("--quick", "--modes", "", "--target", "lb=http://127.0.0.1:%d" % port_a,
                    "--replica-stats", "http://127.0.0.1:%d,http://127.0.0.1:%d/stats" % (live_a, live_b),
                    "--workloads", "hello", "--concurrency", "2", "--duration", "1", "--warmup", "0",
                    "--no-png", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "results.json")) as f:
            data = json.load(f)
        run = data["runs"][0]
        reps = {x["name"]: x for x in run["replicas"]}
        self.assertEqual(set(reps), {"rep-a", "rep-b"})
        self.assertEqual(reps["rep-b"]["requests"], 0)
        self.assertEqual(reps["rep-a"]["share"], 1.0)
        # every request wrk counted (give or take the two wrk left unread when
        # it stopped), and none of the lab's own /stats reads
        self.assertLessEqual(abs(reps["rep-a"]["requests"] - run["requests"]), 2)
        n = reps["rep-a"]["requests"]
        self.assertIsNone(run["server"])  # the balancer's /stats is not read
        self.assertRegex(r.stderr, r"replicas: rep-a %d \(100 %%\), rep-b 0 \(0 %%\)" % n)
        with open(os.path.join(out, "report.md")) as f:
            report = f.read()
        self.assertIn("## Per-replica split", report)
        self.assertRegex(report, r"\| lb \| hello \| 2 \| [^|]+ \| %d \(100 %%\) \| 0 \(0 %%\) \|"
                         % n)
        # rebuilding the report keeps the section
        r = compare("--report", out, "--no-png")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.md")) as f:
            self.assertEqual(f.read().count("## Per-replica split"), 1)

    def test_option_checks(self):
        port = self.servers[0][1]
        for args, needle in (
                (["--replica-stats", "http://10.0.0.1:80"], "not a loopback address"),
                (["--replica-stats", "ftp://127.0.0.1:80"], "is not http://127.0.0.1:PORT"),
                (["--replica-stats", ","], "give at least one URL"),
                (["--replica-stats", "http://127.0.0.1:%d" % port, "--target",
                  "other=http://127.0.0.1:%d" % port], "exactly one --target")):
            with self.subTest(args=args):
                r = compare("--quick", "--modes", "", "--target", "lb=http://127.0.0.1:%d" % port,
                            *args, timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr)


if __name__ == "__main__":
    unittest.main()
