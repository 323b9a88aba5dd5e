"""The server as curl users meet it: pages, uploads to /echo (with and without
Expect: 100-continue, chunked), keep-alive reuse, HEAD, errors, IPv6."""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

import harness
from harness import Server


def curl(*args, timeout=60):
    exe = shutil.which("curl")
    if not exe:
        raise AssertionError("curl is not installed: run ./bootstrap.sh test")
    return subprocess.run([exe, "-sS", "--max-time", "30", *args], capture_output=True, timeout=timeout)


class Curl(unittest.TestCase):

    def test_pages_and_errors(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode) as s:
                r = curl("-i", s.url("/hello"))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith(b"HTTP/1.1 200 OK\r\n"), r.stdout[:100])
                self.assertIn(b"\r\nX-Mode: %s\r\n" % mode.encode(), r.stdout)
                self.assertTrue(r.stdout.endswith(b"\r\n\r\nHello, world!\n"))
                r = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", s.url("/db?delay=abc"))
                self.assertEqual(r.stdout, b"400")
                r = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", s.url("/hello"))
                self.assertEqual(r.stdout, b"405")
                r = curl("-I", s.url("/cpu?iterations=10"))  # HEAD
                self.assertIn(b"HTTP/1.1 200 OK", r.stdout)
                self.assertIn(b"Content-Length: ", r.stdout)
                r = curl("-H", "Accept: application/json", s.url("/db?delay=1"))
                self.assertTrue(r.stdout.startswith(b'{"page":"db"'), r.stdout)

    def test_uploads_echo(self):
        data = os.urandom(1024 * 1024)  # exactly --max-body-size's default
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            for mode in harness.MODES:
                with self.subTest(mode=mode), Server(mode) as s:
                    r = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "@" + f.name,
                             s.url("/echo"))
                    self.assertEqual(r.returncode, 0, r.stderr[-500:])
                    self.assertEqual(r.stdout, data)
                    self.assertIn(b"Expect: 100-continue", r.stderr)
                    self.assertIn(b"HTTP/1.1 100 Continue", r.stderr)
                    r = curl("-H", "Expect:", "--data-binary", "@" + f.name, s.url("/echo"))
                    self.assertEqual(r.stdout, data)
                    r = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + f.name, s.url("/echo"))
                    self.assertEqual(r.stdout, data)
                    r = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@" + f.name,
                             "--data-binary", "x", s.url("/echo"))  # one byte too many
                    self.assertEqual(r.stdout, b"413")

    def test_keep_alive_reuse(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--keep-alive", "on") as s:
                r = curl("-v", s.url("/hello"), s.url("/hello"), s.url("/hello"))
                self.assertEqual(r.stdout, b"Hello, world!\n" * 3)
                self.assertEqual(r.stderr.count(b"Re-using existing connection"), 2, r.stderr[-800:])
            with self.subTest(mode=mode, keep_alive="default"), Server(mode) as s:
                r = curl("-v", s.url("/hello"), s.url("/hello"))
                self.assertEqual(r.stdout, b"Hello, world!\n" * 2)
                reused = r.stderr.count(b"Re-using existing connection")
                self.assertEqual(reused, 1 if harness.keeps_alive(mode) else 0, r.stderr[-800:])

    def test_ipv6(self):
        try:
            socket.socket(socket.AF_INET6).bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback on this machine")
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, bind="::1") as s:
                r = curl("-g", s.url("/hello"))
                self.assertEqual(r.stdout, b"Hello, world!\n", r.stderr)


if __name__ == "__main__":
    unittest.main()
