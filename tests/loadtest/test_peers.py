"""Tests of loadtest/peers (httpmodes against nginx): one real --quick run, short,
whose table must be complete and well-formed; bad options and a missing nginx.
Nothing here asserts a speed or a ratio.

Needs nginx-light and libnginx-mod-http-echo (./bootstrap.sh test installs them).
Environment: HTTPMODES_BIN, the binary (default build/server/httpmodes)."""
import os
import re
import shutil
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(ROOT, "loadtest", "peers")
BIN = os.environ.get("HTTPMODES_BIN", os.path.join(ROOT, "build", "server", "httpmodes"))
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"

NUM = r"[\d,]+"
RATIO = r"\d+\.\d\d \(\d+\.\d\d–\d+\.\d\d\)"
LOAD = r"\d+\.\d\d–\d+\.\d\d"


def peers(*args, timeout=300):
    return subprocess.run([sys.executable, PEERS] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def nginx_missing():
    have = shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)
    if not have or not os.path.isfile(ECHO_MODULE):
        return ("nginx-light and libnginx-mod-http-echo are not installed: ./bootstrap.sh test "
                "installs them (or apt-get install nginx-light libnginx-mod-http-echo)")
    return None


class QuickRun(unittest.TestCase):
    """peers --quick, cut down to 1 round and 300 idle connections."""

    @classmethod
    def setUpClass(cls):
        cls.missing = nginx_missing()
        cls.result = None
        if not cls.missing:
            cls.result = peers("--quick", "--bin", BIN, "--rounds", "1", "--warmup", "0.2",
                               "--idle", "300")

    def setUp(self):
        if self.missing:
            self.fail(self.missing)
        self.assertEqual(self.result.returncode, 0, self.result.stderr[-3000:])
        self.out = self.result.stdout

    def test_header_names_both_servers_and_the_load(self):
        self.assertRegex(self.out, r"^peers: httpmodes \S+ vs nginx/\S+; \d+ CPUs; 1 interleaved round of 1 s; "
                                   r"load at start [\d.]+ [\d.]+ [\d.]+\n")
        self.assertRegex(self.out, r"\npeers: done in \d+ s; load at end [\d.]+ [\d.]+ [\d.]+\n?$")

    def test_hello_table_has_both_pairs(self):
        self.assertIn("/hello, 100 connections:", self.out)
        for pair in ("event vs nginx 1 worker", "reactors vs nginx auto"):
            self.assertRegex(self.out, r"\n  %s +%s +%s +%s +\d+ +%s\n" % (pair, NUM, NUM, RATIO, LOAD))

    def test_db_table_has_every_async_model(self):
        self.assertIn("/db?delay=100, 1000 connections: C/D = 10,000 req/s", self.out)
        for pair in ("event vs nginx 1 worker", "reactors vs nginx auto", "offload vs nginx 1 worker"):
            self.assertRegex(self.out, r"\n  %s +%s +%s +[\d.]+ +%s +%s +\d+ +%s\n" % (
                pair, NUM, RATIO, RATIO, RATIO, LOAD))

    def test_idle_memory_of_all_four(self):
        self.assertIn("idle keep-alive connections: 300 held open", self.out)
        for name in ("event", "reactors", "nginx 1 worker", "nginx auto"):
            m = re.search(r"\n  %s +(-?\d+) +(\d+)/300 +\d+ -> \d+ +[\d.]+\n" % re.escape(name), self.out)
            self.assertTrue(m, (name, self.out))
            self.assertEqual(int(m.group(2)), 300, name)  # every connection answered and held


class PinnedRun(unittest.TestCase):
    """peers --pin: the 1-worker servers' threads on the first CPU, wrk on the others."""

    @classmethod
    def setUpClass(cls):
        cls.missing = nginx_missing()
        cls.result = None
        if not cls.missing and len(os.sched_getaffinity(0)) >= 2:
            cls.result = peers("--quick", "--bin", BIN, "--rounds", "1", "--warmup", "0.2",
                               "--idle", "0", "--pin")

    def setUp(self):
        if self.missing:
            self.fail(self.missing)
        if self.result is None:
            self.skipTest("--pin needs 2 CPUs")
        self.assertEqual(self.result.returncode, 0, self.result.stderr[-3000:])
        self.out = self.result.stdout

    def test_each_one_worker_pair_is_pinned_and_read_back(self):
        cpus = sorted(os.sched_getaffinity(0))
        for mode in ("event", "offload"):
            # pin() reads each thread's CPUs back: a thread left off fails the run
            self.assertRegex(self.out, r"\npeers: --pin: %s \((\d+) threads\) and nginx 1 worker "
                                       r"\((\d+)\) on CPU %d, wrk on CPU [\d,-]+\n" % (mode, cpus[0]))
        self.assertRegex(self.out, r"\n  event vs nginx 1 worker \(pinned\) +%s +%s +%s +\d+ +%s\n" % (
            NUM, NUM, RATIO, LOAD))
        self.assertRegex(self.out, r"\n  reactors vs nginx auto +%s" % NUM)  # every CPU: not pinned
        self.assertNotIn("reactors vs nginx auto (pinned)", self.out)
        self.assertNotIn("idle keep-alive", self.out)  # --idle 0

    def test_one_cpu_is_refused(self):
        r = subprocess.run(["taskset", "-c", "0", sys.executable, PEERS, "--pin", "--bin", BIN],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--pin needs at least 2 CPUs", r.stderr)


class Errors(unittest.TestCase):
    def test_a_missing_nginx_says_what_to_install(self):
        r = peers("--quick", "--bin", BIN, "--nginx", "/nonexistent/nginx", timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("apt-get install nginx-light libnginx-mod-http-echo", r.stderr)
        self.assertIn("bootstrap.sh", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_bad_options(self):
        for args, needle in ((["--rounds", "0"], "--rounds: 0 is out of range"),
                             (["--duration", "0.1"], "--duration: 0.1 is out of range"),
                             (["--bin", "/nonexistent/httpmodes"], "is not an executable")):
            r = peers(*args, timeout=60)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr)

    def test_help(self):
        r = peers("--help", timeout=60)
        self.assertEqual(r.returncode, 0)
        for opt in ("--quick", "--duration", "--rounds", "--idle", "--bin", "--nginx", "--pin"):
            self.assertIn(opt, r.stdout)


if __name__ == "__main__":
    unittest.main()
