"""SIGHUP (issue 13, item 6), nginx's "reload", in every mode:

  prefork   the master replaces every worker: new ones start, the old ones
            finish the request they are serving and exit — no request is lost
            while clients keep asking across two SIGHUPs
  others    what can change without a restart is re-read: the access log is
            reopened, the --tls-cert files are re-read for the next HTTPS
            connection (a file that does not load leaves the old certificate)

Both say what they did in one line on stderr and count it in /stats
(reloads). Deadlines are hang guards, never speed thresholds."""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import Server

GUARD = 20  # seconds: a hang guard, never a speed threshold
CLIENTS = 4  # threads asking without a pause across the SIGHUPs


def read(path):
    with open(path) as f:
        return f.read()


def stats(s):
    return json.loads(s.get("/stats")[2])


def make_cert(directory, name):
    """A self-signed certificate and key for localhost in directory, made
    by the openssl tool. Returns (cert path, key path)."""
    exe = shutil.which("openssl")
    if not exe:
        raise unittest.SkipTest("openssl is not installed: run ./bootstrap.sh test")
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run([exe, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=GUARD)
    return cert, key


def served_fingerprint(port):
    """SHA-256 of the certificate the server shows on a new TLS connection."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((harness.HOST, port), timeout=GUARD) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def file_fingerprint(cert):
    with open(cert) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


class Load:
    """CLIENTS threads asking for /db?delay=50 on new connections without a
    pause, each request's outcome recorded: (status, X-Worker) or the error."""

    def __init__(self, s):
        self.s = s
        self.results = []
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(CLIENTS)]

    def run(self):
        while not self.stop_flag.is_set():
            try:
                status, headers, _ = self.s.get("/db?delay=50", timeout=GUARD)
                self.results.append((status, headers.get("X-Worker")))
            except OSError as e:
                self.results.append(repr(e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(GUARD)


class Reload(unittest.TestCase):

    def test_sighup_loses_no_request(self):
        """Requests keep coming across two SIGHUPs, and a slow one is in
        flight at the first: every one is answered 200. prefork: every worker
        is new after each SIGHUP (none counted as a restart); others: the
        access log is reopened (rotation)."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "access.log")
                with Server(mode, "--access-log", path) as s:
                    n = harness.default_workers(mode)
                    if mode == "prefork":  # its workers are forked after the start line
                        self.assertTrue(harness.wait_until(
                            lambda: len(harness.worker_processes(s.proc.pid)) == n, GUARD))
                    before = sorted(harness.worker_processes(s.proc.pid))
                    slow = {}
                    with Load(s) as load:
                        t = threading.Thread(
                            target=lambda: slow.update(r=s.get("/db?delay=1500", timeout=GUARD)))
                        t.start()
                        time.sleep(0.5)  # under way at the SIGHUP (not a bound)
                        os.rename(path, path + ".1")
                        s.proc.send_signal(signal.SIGHUP)
                        time.sleep(1.0)
                        middle = sorted(harness.worker_processes(s.proc.pid))
                        s.proc.send_signal(signal.SIGHUP)
                        time.sleep(1.0)
                        t.join(GUARD)
                    errors = [r for r in load.results if not isinstance(r, tuple) or r[0] != 200]
                    sys_line = [l for l in s.stderr_lines if "SIGHUP" in l]
                    self.assertEqual(slow["r"][0], 200)
                    self.assertEqual(errors, [], "requests lost across SIGHUP")
                    self.assertGreater(len(load.results), 20)
                    self.assertIsNone(s.proc.poll())
                    st = stats(s)
                    self.assertEqual(st["reloads"], 2)
                    self.assertEqual(st["worker_restarts"], 0)
                    self.assertTrue(harness.wait_until(
                        lambda: len([l for l in s.stderr_lines if "SIGHUP" in l]) == 2, GUARD),
                        s.stderr_lines)
                    self.assertTrue(harness.wait_until(lambda: os.path.exists(path), GUARD))
                    if mode == "prefork":
                        self.assertIn("workers replaced", sys_line[0])
                        self.assertTrue(harness.wait_until(
                            lambda: len(harness.worker_processes(s.proc.pid)) == n, GUARD))
                        after = sorted(harness.worker_processes(s.proc.pid))
                        self.assertEqual(len(before), n)
                        # n new workers each time; an old one may still be
                        # finishing its request (the slow one), then it is gone
                        self.assertEqual(len(set(middle) - set(before)), n, (before, middle))
                        self.assertEqual(len(set(after) - set(middle) - set(before)), n,
                                         (middle, after))
                        self.assertFalse(set(after) & set(before), (before, after))
                        workers = {r[1] for r in load.results[-CLIENTS * 2:]}
                        self.assertFalse(workers & {str(p) for p in before + middle}, workers)
                    else:
                        self.assertIn("access log %s reopened" % path, sys_line[0])
                    # the new file gets the lines after the reload
                    self.assertEqual(s.get("/hello")[0], 200)
                    self.assertTrue(harness.wait_until(
                        lambda: "GET /hello" in read(path), GUARD))

    def test_sighup_under_wrk(self):
        """wrk keeps 8 connections busy across two SIGHUPs: no error, no
        non-2xx (wrk counts a connection it cuts itself as it stops as a read
        error at most: one per connection)."""
        exe = shutil.which("wrk")
        if not exe:
            raise unittest.SkipTest("wrk is not installed: run ./bootstrap.sh test")
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                w = subprocess.Popen([exe, "-t1", "-c8", "-d4s", "--timeout", "5s",
                                      s.url("/db?delay=20")], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
                try:
                    for _ in range(2):
                        time.sleep(1.2)
                        s.proc.send_signal(signal.SIGHUP)
                    out = w.communicate(timeout=GUARD)[0].decode()
                finally:
                    if w.poll() is None:
                        w.kill()
                        w.wait()
                sys.stderr.write("\n  %s: %s" % (mode, " ".join(out.split("\n")[-3:-1])))
                self.assertEqual(w.returncode, 0, out)
                self.assertGreater(int(re.search(r"(\d+) requests in", out).group(1)), 50, out)
                self.assertNotIn("Non-2xx", out)
                errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                                   r"timeout (\d+)", out)
                if errors:
                    c, rd, wr, t = map(int, errors.groups())
                    self.assertEqual((c, wr, t), (0, 0, 0), out)
                    self.assertLessEqual(rd, 8, out)
                self.assertEqual(stats(s)["reloads"], 2)

    def test_sighup_rereads_the_certificate(self):
        """A renewed certificate written over --tls-cert/--tls-key is what a
        new HTTPS connection sees after SIGHUP; a file that no longer loads
        leaves the certificate in use, and says why."""
        for mode in harness.MODES:
            with self.subTest(mode=mode), tempfile.TemporaryDirectory() as tmp:
                cert, key = make_cert(tmp, "a")
                new_cert, new_key = make_cert(tmp, "b")
                with Server(mode, "--tls-port", "0", "--tls-cert", cert, "--tls-key", key) as s:
                    self.assertEqual(served_fingerprint(s.tls_port), file_fingerprint(cert))
                    first = file_fingerprint(cert)
                    os.replace(new_cert, cert)
                    os.replace(new_key, key)
                    s.proc.send_signal(signal.SIGHUP)
                    self.assertTrue(harness.wait_until(
                        lambda: any("SIGHUP" in l for l in s.stderr_lines), GUARD))
                    renewed = file_fingerprint(cert)
                    self.assertNotEqual(first, renewed)
                    self.assertTrue(harness.wait_until(
                        lambda: served_fingerprint(s.tls_port) == renewed, GUARD),
                        s.stderr_lines[-3:])
                    self.assertTrue(harness.wait_until(lambda: any("TLS certificate re-read from" in l
                                                            for l in s.stderr_lines), GUARD),
                                    s.stderr_lines)
                    # a broken file: the renewed certificate stays
                    with open(cert, "w") as f:
                        f.write("not a certificate\n")
                    s.proc.send_signal(signal.SIGHUP)
                    self.assertTrue(harness.wait_until(
                        lambda: served_fingerprint(s.tls_port) == renewed and
                        any("not re-read" in l for l in s.stderr_lines), GUARD),
                        s.stderr_lines[-3:])
                    self.assertEqual(s.get("/hello")[0], 200)
                    self.assertEqual(stats(s)["reloads"], 2)


if __name__ == "__main__":
    unittest.main()
