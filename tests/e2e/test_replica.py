"""--name / HTTPMODES_NAME, in every mode: the replica's name in an X-Replica
header on every response (pages, errors, HEAD, keep-alive and pipelined
requests, HTTPS, the live view's port) and in /stats and the live view's
/scoreboard (its header shows it); no header and
"name": null without it; %H is the host name; a bad name is one clear line
and exit status 2. This is how a load balancer's replicas are told apart
(docker/compose.yaml's scale profile, docker/check).
"""
import json
import os
import socket
import ssl
import subprocess
import unittest

import harness
from harness import BIN, Server, parse_responses

GUARD = 15  # s: hang guard for a process that should exit at once


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HTTPMODES_")}
    env.update(extra)
    return env


class ReplicaTest(unittest.TestCase):

    def test_header_on_every_response(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, "--name", "web-1", "--tls-port", "0", "--keep-alive", "on",
                                                 env=clean_env()) as s:
                for method, path, want in (("GET", "/", 200), ("GET", "/hello", 200),
                                           ("HEAD", "/hello", 200), ("GET", "/nowhere", 404),
                                           ("POST", "/hello", 405), ("GET", "/db", 200)):
                    status, h, _ = s.get(path, method=method)
                    self.assertEqual(status, want, (method, path))
                    self.assertEqual(h.get("x-replica"), "web-1", (method, path, h))
                    self.assertEqual(h.get("x-mode"), mode)
                # a malformed request's 400 carries it too
                data, _ = s.raw(b"GARBAGE\r\n\r\n")
                self.assertIn(b"X-Replica: web-1\r\n", data.split(b"\r\n\r\n")[0] + b"\r\n")
                # two pipelined requests on one connection: both answers carry it
                data, _ = s.raw(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                                b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answers = parse_responses(data)
                self.assertEqual(len(answers), 2, data[:300])
                for a in answers:
                    self.assertEqual(a[1].get("x-replica"), "web-1")
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                status, h, _ = s.get("/hello", tls_context=ctx)
                self.assertEqual((status, h.get("x-replica")), (200, "web-1"))
                # /stats on the main port and on the live view's port
                status, h, body = s.get("/stats")
                self.assertEqual((status, h.get("x-replica")), (200, "web-1"))
                st = json.loads(body)
                self.assertEqual(st["name"], "web-1")
                self.assertEqual(st["mode"], mode)
                if s.status_port:
                    status, _, body = s.status_get("/stats")
                    self.assertEqual(status, 200)
                    self.assertEqual(json.loads(body)["name"], "web-1")
                    # the live view's scoreboard: its header shows the name
                    status, _, body = s.status_get("/scoreboard")
                    self.assertEqual((status, json.loads(body)["name"]), (200, "web-1"))
                    _, _, page = s.status_get("/live")
                    self.assertIn(b"s.name", page)

    def test_no_name_no_header(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode), Server(mode, env=clean_env()) as s:
                status, h, _ = s.get("/hello")
                self.assertEqual(status, 200)
                self.assertNotIn("x-replica", h)
                _, _, body = s.get("/stats")
                self.assertIsNone(json.loads(body)["name"])
                if s.status_port:
                    self.assertIsNone(json.loads(s.status_get("/scoreboard")[2])["name"])

    def test_environment_and_host_name(self):
        host = socket.gethostname()
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                with Server(mode, env=clean_env(HTTPMODES_NAME="from-env")) as s:
                    self.assertEqual(s.get("/hello")[1].get("x-replica"), "from-env")
                # the command line wins over the environment
                with Server(mode, "--name", "argv", env=clean_env(HTTPMODES_NAME="from-env")) as s:
                    self.assertEqual(s.get("/hello")[1].get("x-replica"), "argv")
                if len(host) < 60 and all(c.isalnum() or c in "._-" for c in host):
                    with Server(mode, env=clean_env(HTTPMODES_NAME="r-%H")) as s:
                        self.assertEqual(s.get("/hello")[1].get("x-replica"), "r-" + host)
                        self.assertEqual(json.loads(s.get("/stats")[2])["name"], "r-" + host)

    def test_bad_names(self):
        for mode in harness.MODES:
            for args, env in ((["--name", "a b"], {}), (["--name", ""], {}),
                              (["--name", "x" * 64], {}), (["--name", "a:b"], {}),
                              (["--name", "a\r\nX-Evil: 1"], {}),
                              ([], {"HTTPMODES_NAME": "bad name"})):
                with self.subTest(mode=mode, args=args, env=env):
                    p = subprocess.run([BIN, "--mode", mode, "--port", "0"] + args,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       env=clean_env(**env), timeout=GUARD, text=True)
                    self.assertEqual(p.returncode, 2, p.stderr)
                    self.assertEqual(p.stdout, "")
                    lines = p.stderr.splitlines()
                    self.assertEqual(len(lines), 1, p.stderr)
                    self.assertIn("HTTPMODES_NAME" if env else "--name", lines[0])
                    self.assertIn("letters, digits", lines[0])

    def test_help_lists_it(self):
        p = subprocess.run([BIN, "--help"], stdout=subprocess.PIPE, env=clean_env(),
                           timeout=GUARD, text=True)
        self.assertIn("--name NAME", p.stdout)
        self.assertIn("X-Replica", p.stdout)


if __name__ == "__main__":
    unittest.main()
