"""The command line and environment of the real binary, in every mode: --help,
--version, one clear line and exit status 2 for every bad option or
environment variable, environment settings, command-line precedence, the
start line, and a port that is already taken.
"""
import json
import os
import re
import socket
import subprocess
import unittest

import harness
from harness import BIN, Server

GUARD = 15  # s: hang guard for a process that should exit at once

POOLED = [m for m in harness.ALL_MODES if harness.pooled(m)]  # the modes --workers sizes
OPTIONS = ["--mode", "--port", "--bind", "--workers", "--db-delay", "--access-log", "--keep-alive",
           "--max-header-size", "--max-body-size", "--header-timeout", "--keep-alive-timeout",
           "--max-delay", "--max-queries", "--cpu-iterations", "--max-iterations", "--help",
           "--version", "-h", "-V", "--tls-port", "--tls-cert", "--tls-key", "--tls-write-cert",
           "--probe", "--status-port", "--timeline-size", "--first-byte-timeout", "--min-rate",
           "--slow-client-defence", "--list-modes"]


def clean_env(**extra):
    """The environment without any HTTPMODES_ settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HTTPMODES_")}
    env.update(extra)
    return env


def run(args, env=None):
    """Runs the binary to completion; returns CompletedProcess (text)."""
    return subprocess.run([BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env if env is not None else clean_env(), timeout=GUARD, text=True)


def start_line(server):
    lines = [l for l in server.stderr_lines if "listening on" in l]
    assert len(lines) == 1, server.stderr_lines
    return lines[0]


class CliTest(unittest.TestCase):

    def assertUsageError(self, proc, *needles):
        """Exit status 2, nothing on stdout, exactly one stderr line that
        contains every needle."""
        self.assertEqual(proc.returncode, 2, "stdout=%r stderr=%r" % (proc.stdout, proc.stderr))
        self.assertEqual(proc.stdout, "")
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 1, "want one line on stderr, got %r" % proc.stderr)
        for n in needles:
            self.assertIn(n, lines[0])

    def test_help(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                for flag in ("--help", "-h"):
                    p = run(["--mode", mode, flag])
                    self.assertEqual(p.returncode, 0)
                    self.assertEqual(p.stderr, "")
                    self.assertTrue(p.stdout.startswith("Usage: httpmodes"), p.stdout[:80])
                    for opt in OPTIONS:
                        self.assertRegex(p.stdout, r"(^|[\s,])%s\b" % re.escape(opt), opt)
                    self.assertIn("HTTPMODES_", p.stdout)  # the environment is documented
                    self.assertIn(mode, p.stdout)

    def test_version(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                for flag in ("--version", "-V"):
                    p = run(["--mode", mode, flag])
                    self.assertEqual(p.returncode, 0)
                    self.assertEqual(p.stderr, "")
                    self.assertRegex(p.stdout, r"^httpmodes \d+\.\d+\.\d+\S*\n$")

    def test_bad_options_exit_2_with_one_line(self):
        cases = [
            (["--bogus"], ["--bogus"]),
            (["--bogus=1"], ["--bogus"]),
            (["stray"], ["stray"]),
            (["--port", "70000"], ["--port", "70000"]),
            (["--port=-1"], ["--port"]),
            (["--workers", "0"], ["--workers", "0"]),
            (["--workers", "1025"], ["--workers"]),
            (["--mode", "nope"], ["--mode", "nope"]),
            (["--keep-alive", "maybe"], ["--keep-alive", "maybe"]),
            (["--bind", "nothost"], ["--bind", "nothost"]),
            (["--bind", "999.1.1.1"], ["--bind"]),
            (["--db-delay", "abc"], ["--db-delay", "abc"]),
            (["--db-delay", ""], ["--db-delay"]),
            (["--max-body-size", "1k"], ["--max-body-size"]),
            (["--header-timeout", "0"], ["--header-timeout"]),
            (["--help=yes"], ["--help"]),
            (["--db-delay", "20000"], ["--db-delay"]),  # above --max-delay
            (["--port"], ["--port"]),  # missing value
            (["--db-delay"], ["--db-delay"]),
            (["--tls-port", "70000"], ["--tls-port", "70000"]),
            (["--tls-port", "of"], ["--tls-port", "or off"]),
            (["--tls-port", "off", "--tls-write-cert", "x.pem"], ["--tls-write-cert", "--tls-port"]),
            (["--tls-cert", "c.pem", "--tls-key", "k.pem"], ["--tls-cert", "--tls-port"]),
            (["--tls-write-cert", "out.pem"], ["--tls-write-cert", "--tls-port"]),
            (["--tls-port", "0", "--tls-cert", "c.pem"], ["--tls-cert", "--tls-key"]),
            (["--tls-port", "0", "--tls-key", "k.pem"], ["--tls-cert", "--tls-key"]),
            (["--port", "8443", "--tls-port", "8443"], ["--tls-port", "8443"]),
            (["--tls-cert", ""], ["--tls-cert"]),
            (["--probe", "x" * 300], ["--probe", "URL"]),
            (["--db", "mysql://127.0.0.1/d"], ["--db", "postgres://"]),
            (["--db", "x=" + "y" * 600], ["--db", "conninfo"]),
        ]
        for mode in harness.MODES:
            for args, needles in cases:
                with self.subTest(mode=mode, args=args):
                    self.assertUsageError(run(["--mode", mode, "--bind", "127.0.0.1"] + args), *needles)

    def test_bad_environment_exit_2_naming_the_variable(self):
        cases = [("HTTPMODES_PORT", "abc"), ("HTTPMODES_PORT", "70000"), ("HTTPMODES_WORKERS", "0"),
                 ("HTTPMODES_MODE", "nope"), ("HTTPMODES_KEEP_ALIVE", "maybe"),
                 ("HTTPMODES_DB_DELAY", "-5"), ("HTTPMODES_BIND", "nothost")]
        for mode in harness.MODES:
            for var, value in cases:
                with self.subTest(mode=mode, var=var, value=value):
                    p = run(["--mode", mode, "--port", "0"], env=clean_env(**{var: value}))
                    self.assertUsageError(p, var, value)

    def test_environment_settings(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, env={"HTTPMODES_DB_DELAY": "20"}) as s:
                self.assertIn("db delay 20 ms", start_line(s))
                status, h, body = s.get("/db?format=json")
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(body)["delay_ms"], 20)
                self.assertGreaterEqual(int(h["x-db-wait-us"]), 20 * 1000)
            with self.subTest(mode=mode, keep_alive="off"), \
                    Server(mode, env={"HTTPMODES_KEEP_ALIVE": "off"}) as s:
                self.assertIn("keep-alive off", start_line(s))
                _, h, _ = s.get("/hello")
                self.assertEqual(h["connection"].lower(), "close")
                self.assertFalse(json.loads(s.get("/stats")[2])["keep_alive"])
            with self.subTest(mode=mode, keep_alive="on"), \
                    Server(mode, env={"HTTPMODES_KEEP_ALIVE": "on"}) as s:
                self.assertIn("keep-alive on", start_line(s))
                _, h, _ = s.get("/hello")
                self.assertEqual(h["connection"].lower(), "keep-alive")
            other = "threads" if mode != "threads" else "event"
            with self.subTest(mode=mode, env_mode=other), \
                    Server(mode, env={"HTTPMODES_MODE": other, "HTTPMODES_WORKERS": "3",
                                      "HTTPMODES_MAX_BODY_SIZE": "4"}) as s:
                # --mode on the command line (the harness passes it) wins
                self.assertIn("mode %s," % mode, start_line(s))
                self.assertEqual(s.get("/hello")[1]["x-mode"], mode)
                self.assertEqual(s.get("/echo", method="POST", body=b"12345")[0], 413)
                self.assertEqual(s.get("/echo", method="POST", body=b"1234")[0], 200)
                if mode in POOLED:
                    self.assertIn("workers 3,", start_line(s))

    def test_command_line_overrides_environment(self):
        env = {"HTTPMODES_DB_DELAY": "20", "HTTPMODES_KEEP_ALIVE": "off", "HTTPMODES_WORKERS": "3"}
        for mode in harness.MODES:
            with self.subTest(mode=mode), \
                    Server(mode, "--db-delay", "30", "--keep-alive", "on", "--workers", "2", env=env) as s:
                line = start_line(s)
                self.assertIn("db delay 30 ms", line)
                self.assertIn("keep-alive on", line)
                status, h, body = s.get("/db?format=json")
                self.assertEqual(json.loads(body)["delay_ms"], 30)
                self.assertGreaterEqual(int(h["x-db-wait-us"]), 30 * 1000)
                self.assertEqual(h["connection"].lower(), "keep-alive")
                if mode in POOLED:
                    self.assertIn("workers 2,", line)
                    self.assertEqual(json.loads(s.get("/stats")[2])["workers"], 2)

    def test_start_line(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--workers", "3") as s:
                line = start_line(s)
                self.assertIn("mode %s," % mode, line)
                self.assertIn("http://127.0.0.1:%d/" % s.port, line)
                self.assertIn("db delay 100 ms", line)
                self.assertIn("pid %d" % s.proc.pid, line)
                if mode in POOLED:
                    self.assertIn("workers 3", line)
                else:  # no pool to size: said so, not silently ignored
                    self.assertNotIn("workers", line)
                    notes = [l for l in s.stderr_lines
                             if l.startswith("httpmodes: note: --workers is ignored in mode %s " % mode)]
                    self.assertEqual(len(notes), 1, s.stderr_lines)
                default_ka = "on" if harness.keeps_alive(mode) else "off"
                self.assertIn("keep-alive %s" % default_ka, line)

    def test_probe(self):
        """--probe URL: exit 0 for a 2xx/3xx answer, 1 with a reason for
        anything else, 2 for a URL it cannot use; it never serves."""
        for mode in harness.MODES:
            with Server(mode) as s:
                base = "http://127.0.0.1:%d" % s.port
                with self.subTest(mode=mode, case="ok"):
                    p = run(["--probe", base + "/hello"])
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertIn("answered 200", p.stdout)
                    p = run(["--probe", "http://localhost:%d" % s.port])  # no path: /
                    self.assertEqual(p.returncode, 0, p.stderr)
                with self.subTest(mode=mode, case="404"):
                    p = run(["--probe", base + "/no-such-page"])
                    self.assertEqual(p.returncode, 1)
                    self.assertIn("404", p.stderr)
                with self.subTest(mode=mode, case="plain server, https URL"):
                    p = run(["--probe", "https://127.0.0.1:%d/hello" % s.port])
                    self.assertEqual(p.returncode, 1)
                    self.assertIn("TLS", p.stderr)
                self.assertEqual(s.get("/hello")[0], 200)  # the server is unharmed
            with Server(mode, "--tls-port", "0") as s, self.subTest(mode=mode, case="https"):
                p = run(["--probe", "https://127.0.0.1:%d/hello" % s.tls_port])
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("answered 200", p.stdout)
                p = run(["--probe", "http://127.0.0.1:%d/hello" % s.tls_port])  # plain to TLS
                self.assertEqual(p.returncode, 1)
                self.assertIn("400", p.stderr)
        with socket.socket() as bound:  # bound, not listening: refused, and no one else's
            bound.bind(("127.0.0.1", 0))
            p = run(["--probe", "http://127.0.0.1:%d/" % bound.getsockname()[1]])
        self.assertEqual(p.returncode, 1)
        self.assertIn("refused", p.stderr)
        for bad in ["ftp://127.0.0.1/", "http://127.0.0.1:99999999/", "http://[::1/",
                    "http:///x", "127.0.0.1:8080", "http://127.0.0.1:80x/"]:
            with self.subTest(url=bad):
                p = run(["--probe", bad])
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)

    def test_probe_times_out_on_a_silent_server(self):
        """A server that accepts but never answers: exit 1 within the 5 s limit."""
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        try:
            p = run(["--probe", "http://127.0.0.1:%d/" % silent.getsockname()[1]])
            self.assertEqual(p.returncode, 1)
            self.assertIn("no HTTP answer", p.stderr)
        finally:
            silent.close()

    def test_port_in_use(self):
        self.check_port_in_use(reuseport=False)

    def test_port_in_use_by_a_reuseport_listener(self):
        """Another server of the same user that listens with SO_REUSEPORT (nginx's
        `reuseport`, or a second httpmodes in reactors): reactors must not share
        its port silently, the other modes refuse it anyway."""
        self.check_port_in_use(reuseport=True)

    def check_port_in_use(self, reuseport):
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if reuseport:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            holder.bind(("127.0.0.1", 0))
            holder.listen(1)
            port = holder.getsockname()[1]
            for mode in harness.MODES:
                with self.subTest(mode=mode):
                    try:
                        p = run(["--mode", mode, "--bind", "127.0.0.1", "--port", str(port)])
                    except subprocess.TimeoutExpired:
                        self.fail("the server started on a port that is in use")
                    self.assertNotEqual(p.returncode, 0)
                    self.assertNotIn("listening on", p.stderr)
                    lines = p.stderr.splitlines()
                    self.assertEqual(len(lines), 1, p.stderr)
                    self.assertIn(str(port), lines[0])
                    self.assertRegex(lines[0], r"(?i)in use")
        finally:
            holder.close()


if __name__ == "__main__":
    unittest.main()
