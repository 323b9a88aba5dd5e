"""compare --peers: Debian's nginx and Apache (prefork and worker MPMs)
started by the lab beside its modes, on a tiny --quick matrix (event, /hello
and /db, C = 4, one-second runs, about 15 s): every peer has a row per cell,
they answered, they are sampled from /proc and never predicted, their configs
are in the report and their lines in the charts; and the option's errors.
Nothing here asserts a speed.

Needs nginx-light, libnginx-mod-http-echo and apache2-bin (./bootstrap.sh test
installs them; the test says so when they are missing).
Environment: HTTPMODES_BIN, the binary (default build/server/httpmodes)."""
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
sys.path.insert(0, os.path.join(ROOT, "loadtest"))

import labpeers  # noqa: E402

PEER_ROWS = ["nginx", "apache-prefork", "apache-worker"]


def compare(*args, timeout=300):
    return subprocess.run([sys.executable, COMPARE, "--bin", BIN] + list(args), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


class PeersQuick(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.missing = labpeers.missing(labpeers.PEERS)
        cls.dir = tempfile.mkdtemp(prefix="httpmodes-lab-peers-")
        cls.result = None
        if not cls.missing:
            cls.result = compare("--quick", "--peers", "nginx,apache", "--modes", "event",
                                 "--workloads", "hello,db,cpu", "--concurrency", "4",
                                 "--warmup", "0", "--out", cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        if self.missing:
            self.fail("%s: %s" % ("; ".join(self.missing), labpeers.INSTALL))
        self.assertEqual(self.result.returncode, 0, self.result.stderr[-3000:])
        with open(os.path.join(self.dir, "results.json")) as f:
            self.data = json.load(f)

    def test_every_peer_ran_hello_and_db(self):
        runs = self.data["runs"]
        got = sorted((r["target"], r["workload"]) for r in runs if r.get("peer"))
        self.assertEqual(got, sorted((p, w) for p in PEER_ROWS for w in ("hello", "db")))
        for r in runs:
            if not r.get("peer"):
                continue
            self.assertGreater(r["requests"], 0, r)
            self.assertEqual(r["errors_total"], 0, r)
            self.assertEqual(r["server_exit"], 0, r)
            self.assertIsNone(r.get("prediction"), r)  # outside the model
            self.assertTrue(r["outside"])
            # sampled from /proc like a mode: the master and its children
            self.assertGreaterEqual(r["resources"]["processes"], 2 if r["target"] != "nginx" else 1, r)
            self.assertGreater(r["resources"]["rss_kib"], 0, r)
            self.assertTrue(r["url"].startswith("http://127.0.0.1:"), r["url"])
        # /db waited D = 20 ms (quick): each of the 4 connections at most 50 answers a second
        for r in runs:
            if r.get("peer") and r["workload"] == "db":
                self.assertGreaterEqual(r["latency_ms"]["p50"], 19.0, r)
        # the peers do not serve /cpu: no cell for them
        self.assertFalse([r for r in runs if r.get("peer") and r["workload"] == "cpu"])

    def test_report_shows_configs_and_lines(self):
        with open(os.path.join(self.dir, "report.md")) as f:
            md = f.read()
        self.assertIn("## Peers: nginx and Apache beside the modes", md)
        self.assertIn("echo_sleep 0.02;", md)
        self.assertIn("LoadModule mpm_prefork_module", md)
        self.assertIn("LoadModule mpm_worker_module", md)
        self.assertIn("r.usleep(", md)
        for p in PEER_ROWS:
            self.assertIn("| %s | 4 |" % p, md)
            with open(os.path.join(self.dir, "charts", "db-throughput.gp")) as f:
                self.assertIn("title '%s'" % p, f.read())
            with open(os.path.join(self.dir, "charts", "db-memory.gp")) as f:
                self.assertIn("title '%s'" % p, f.read())
        # the temporary directories went with the servers
        roots = re.findall(r"^ServerRoot (\S+)$", md, re.M) + re.findall(r"^pid (\S+)/nginx.pid;$", md, re.M)
        self.assertEqual(len(roots), 3, roots)
        for d in roots:
            self.assertFalse(os.path.exists(d), d)


class PeersOptions(unittest.TestCase):
    def test_bad_values(self):
        r = compare("--peers", "lighttpd")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--peers: unknown 'lighttpd' (choose from nginx,apache)", r.stderr)
        r = compare("--peers", "nginx", "--workloads", "cpu")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--peers: the peers serve /hello and /db only", r.stderr)
        r = compare("--peers", "nginx", "--target", "nginx=http://127.0.0.1:9")
        self.assertEqual(r.returncode, 2)
        self.assertIn("also a peer this run starts", r.stderr)
        r = compare("--help")
        self.assertIn("--peers NAMES", r.stdout)


if __name__ == "__main__":
    unittest.main()
