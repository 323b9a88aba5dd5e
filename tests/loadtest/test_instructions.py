"""Tests of loadtest/instructions: it runs the server under callgrind for real
and its figures are well-formed, and a request's own work stays small.
Instructions, unlike time, do not depend on how busy the machine is: in
`event` a /hello answer takes about 6,400 here and a /db?delay=1 answer about
18,000 (nginx: about 7,300 and 11,400, --nginx); with the response head and the /db page formatted by vsnprintf they
took 11,315 and 55,586 — the ceilings catch that coming back.

Environment: HTTPMODES_BIN, the binary (default build/server/httpmodes)."""
import json
import os
import shutil
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "loadtest", "instructions")
sys.path.insert(0, os.path.join(ROOT, "loadtest"))

import labrun  # noqa: E402  (load_script)

BIN = os.environ.get("HTTPMODES_BIN", os.path.join(ROOT, "build", "server", "httpmodes"))
N = 300
CEILING = {"/hello": 10000, "/db?delay=1": 35000}


def sanitized(binary):
    """True for a binary built with AddressSanitizer (as tests/e2e/harness.py)."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def instructions(*args):
    return subprocess.run([sys.executable, TOOL, "--binary", BIN] + list(args),
                          capture_output=True, text=True, timeout=300)


def tool_module():
    """loadtest/instructions as a module."""
    return labrun.load_script("instructions")


# A process that, like nginx without its master when the signal lands between
# its check and its wait, acts on the second SIGTERM only.
DEAF_ONCE = """
import signal, sys, time
seen = []
def on_term(*_):
    seen.append(1)
    if len(seen) == 2:
        sys.stderr.write("stopped after %d signals\\n" % len(seen))
        sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


class Terminate(unittest.TestCase):
    def test_a_lost_sigterm_is_sent_again(self):
        tool = tool_module()
        proc = subprocess.Popen([sys.executable, "-c", DEAF_ONCE], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(proc.stdout.readline(), "ready\n")
            err = tool.terminate(proc, every=0.3, limit=10)
            self.assertEqual(proc.returncode, 0)
            self.assertIn("stopped after 2 signals", err)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def test_gives_up_with_a_clear_error(self):
        tool = tool_module()
        proc = subprocess.Popen([sys.executable, "-c",
                                 "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
                                 " print('ready', flush=True); time.sleep(60)"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(proc.stdout.readline(), "ready\n")
            with self.assertRaises(SystemExit) as cm:
                tool.terminate(proc, every=0.2, limit=1)
            self.assertIn("did not stop within 1 s of SIGTERM", str(cm.exception))
        finally:
            proc.kill()
            proc.wait()


@unittest.skipIf(sanitized(BIN), "AddressSanitizer does not run under valgrind")
class Instructions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("valgrind"):
            # a failure, not a skip: CI must not pass without the figure
            raise RuntimeError("valgrind is missing (./bootstrap.sh test installs it)")

    def test_per_request_work_in_event(self):
        r = instructions("--json", "-n", str(N))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)
        self.assertEqual([row["path"] for row in rows], list(CEILING))
        for row in rows:
            with self.subTest(path=row["path"]):
                self.assertEqual((row["mode"], row["requests"]), ("event", N))
                # a floor too: a figure of 0 or a few hundred means the
                # counting went wrong (the requests were not served)
                self.assertGreater(row["instructions_per_request"], 2000)
                self.assertLess(row["instructions_per_request"], CEILING[row["path"]], row)

    def test_nginx_counted_the_same_way(self):
        if not shutil.which("nginx") and not os.access("/usr/sbin/nginx", os.X_OK):
            raise RuntimeError("nginx is missing (./bootstrap.sh test installs nginx-light)")
        r = instructions("--json", "--nginx", "--path", "/hello", "--path", "/db?delay=1", "-n", "50")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)
        self.assertEqual([(row["mode"], row["path"]) for row in rows],
                         [("event", "/hello"), ("event", "/db?delay=1"),
                          ("nginx", "/hello"), ("nginx", "/db?delay=1")])
        for row in rows:
            with self.subTest(mode=row["mode"], path=row["path"]):
                # nginx's /db is chunked: counted only if its answers were read whole
                self.assertGreater(row["instructions_per_request"], 2000, row)
                self.assertLess(row["instructions_per_request"], CEILING[row["path"]], row)

    def test_table_and_errors(self):
        r = instructions("--path", "/hello", "-n", "20", "--mode", "reactors")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("instructions / request", lines[0])
        self.assertRegex(lines[1], r"^reactors\s+/hello\s+20\s+[\d,]+$")
        r = instructions("-n", "0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("-n must be at least 1", r.stderr)
        r = instructions("--nginx", "/nonexistent/nginx")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no nginx at /nonexistent/nginx", r.stderr)
        r = subprocess.run([sys.executable, TOOL, "--binary", "/nonexistent"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no server at /nonexistent", r.stderr)


if __name__ == "__main__":
    unittest.main()
