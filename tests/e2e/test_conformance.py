"""Replays the shared request corpora (../shared/conformance: llhttp's request
tests and Apache's http_strict.t) against the real server in every mode, once
with --keep-alive on (the corpus has pipelined cases) and once with the mode's
default (the same thing for threads and event, so run once there).

Asserts: replay exits 0 and reports the server alive (no crash, no hang), the
server process still runs (and, in prefork, no worker died and was quietly
restarted), it still answers /hello, and no case fails that is not in the
documented list of known failures below. Scores are printed (ctest -V shows
them) and appended to $HTTPMODES_CONFORMANCE_OUT when that is set.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import harness
from harness import Server

CONF = os.path.join(harness.ROOT, "..", "shared", "conformance")
REPLAY = os.path.join(CONF, "replay.py")
CORPORA = (("llhttp.jsonl", "--inject-host"), ("apache_strict.jsonl", "--half-close"))

# Cases that fail today, with why. Each is reported on every run; a case that
# starts passing is reported too, so this list can shrink.
KNOWN = {
    # llhttp 8.1 (Debian 12's node-llhttp sources) is older than the corpus:
    "llhttp:content-length.md:320": "llhttp 8.1 rejects tabs around the Content-Length value (valid OWS)",
    "llhttp:transfer-encoding.md:241": "llhttp 8.1 rejects several chunk extensions with values",
    "llhttp:transfer-encoding.md:369": "llhttp 8.1 rejects quoted chunk-extension values with escapes",
    "llhttp:method.md:485": "llhttp 8.1 does not know the QUERY method (400; 501 would be right at least)",
    "apache_strict:2": "bare-LF line endings accepted (RFC 9112 2.2 allows it; Apache strict wants 400)",
    "apache_strict:15": "HTTP/1.2 rejected with 400 (RFC 9110 2.5: a 1.x request should be served as 1.1)",
    "apache_strict:40": "bare CR answered with 400 then closed (Apache closes silently; 400 is fine)",
    # llhttp's parser tests accept a #fragment; a server must not be sent one
    # (RFC 9112 3.2: the target has none) and answers 400 on purpose
    "llhttp:uri.md:168": "a #fragment in the target is a 400 here by design",
    "llhttp:transfer-encoding.md:754": "a #fragment in the target is a 400 here by design",
    "llhttp:transfer-encoding.md:796": "a #fragment in the target is a 400 here by design",
}
KNOWN_KEEP_ALIVE_ON = {
    "llhttp:connection.md:347": "'Connection: close<TAB>' is not seen as close (trailing OWS not trimmed)",
}
KNOWN_KEEP_ALIVE_OFF = {
    # with keep-alive off the server answers the first request and closes:
    # legal (RFC 9112 9.6), the client retries the rest
    "llhttp:connection.md:37": "keep-alive off: only the first pipelined request is answered",
    "llhttp:pipelining.md:7": "keep-alive off: only the first pipelined request is answered",
}


def replay(port, corpus, flag, jobs, cases_file=None):
    """Runs replay.py. Returns (exit code, stdout, per-case results)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cases.json")
        cmd = [sys.executable, REPLAY, "--port", str(port), "-j", str(jobs), flag, "--all",
               "--json-out", out, cases_file or os.path.join(CONF, corpus)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        text = r.stdout.decode("utf-8", "replace")
        cases = json.load(open(out)) if os.path.exists(out) else []
    return r.returncode, text, cases


def case_key(c):
    return "%s:%s" % (c["suite"], c["id"])


class Conformance(unittest.TestCase):

    def test_corpora(self):
        self.assertTrue(os.path.exists(REPLAY), "no replay tool at %s" % REPLAY)
        for mode in harness.MODES:
            configs = [("on", ["--keep-alive", "on"])]
            if not harness.keeps_alive(mode):
                configs.append(("default (off)", []))
            for label, args in configs:
                with self.subTest(mode=mode, keep_alive=label):
                    self.run_config(mode, label, args)

    def run_config(self, mode, label, args):
        # An iterative server serves one connection at a time: replay's parallel
        # cases would queue behind a case that holds its connection open and
        # time out. That is the model, not conformance, so replay them one by one.
        jobs = 1 if mode == "iterative" else 4
        report = []
        with Server(mode, *args) as s:
            # the mode's default keep-alive, as the server says it (the mode table)
            ka_on = any("keep-alive on" in l for l in s.stderr_lines if "listening on" in l)
            known = dict(KNOWN)
            known.update(KNOWN_KEEP_ALIVE_ON if ka_on else KNOWN_KEEP_ALIVE_OFF)
            for corpus, flag in CORPORA:
                rc, text, cases = replay(s.port, corpus, flag, jobs)
                lines = text.strip().splitlines()
                score = next((l for l in lines if re.match(r"\d+ passed, \d+ failed, \d+ skipped", l)), None)
                kinds = next((l for l in lines if l.startswith("by kind:")), None)
                failing = sorted(case_key(c) for c in cases if c["scored"] and c["verdict"] == "fail")
                unexpected = [k for k in failing if k not in known]
                if unexpected:  # look again, alone, before calling it a regression
                    unexpected = self.still_failing(s.port, corpus, flag, unexpected)
                fixed = sorted(k for k in known if k.split(":")[0] == corpus.split(".")[0]
                               and k not in failing and any(case_key(c) == k for c in cases))
                summary = "%s keep-alive=%s %s: %s; %s; failing: %s" % (
                    mode, label, corpus, score, kinds, " ".join(failing) or "none")
                print("\n[conformance] " + summary)
                for k in failing:
                    print("  FAIL %s: %s" % (k, known.get(k, "NEW FAILURE")))
                for k in fixed:
                    print("  now passes (drop from KNOWN): %s" % k)
                report.append(summary)
                self.assertEqual(rc, 0, "replay exited %d:\n%s" % (rc, text[-3000:]))
                self.assertIn("server alive after run: True", text)
                self.assertIsNotNone(score, text[-2000:])
                self.assertIsNone(s.proc.poll(), "the server exited during the %s replay" % corpus)
                status, _, body = s.get("/hello")
                self.assertEqual((status, body), (200, b"Hello, world!\n"))
                self.assertEqual(unexpected, [], "cases that newly fail in %s (keep-alive %s):\n%s" % (
                    mode, label, "\n".join(l for l in lines if any(l.startswith("FAIL %s " % u) for u in unexpected))))
            st = json.loads(s.get("/stats")[2])
            self.assertEqual(st["worker_restarts"], 0, "a worker died during the replay (restarted)")
            self.assertFalse([l for l in s.stderr_lines if "killed by signal" in l or "exited with" in l],
                             s.stderr_lines)
        self.assertEqual(s.returncode, 0, "server exit after the replay: %r" % s.stderr_lines[-5:])
        out = os.environ.get("HTTPMODES_CONFORMANCE_OUT")
        if out:
            with open(out, "a") as f:  # one append per run: the modes may run in parallel
                f.write("".join(l + "\n" for l in report))

    def still_failing(self, port, corpus, flag, keys):
        """Replays only the cases keys, one at a time; returns those that fail again."""
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            for line in open(os.path.join(CONF, corpus)):
                if line.strip():
                    c = json.loads(line)
                    if case_key(c) in keys:
                        f.write(line if line.endswith("\n") else line + "\n")
            name = f.name
        try:
            _, _, cases = replay(port, corpus, flag, 1, cases_file=name)
        finally:
            os.unlink(name)
        return sorted(case_key(c) for c in cases if c["scored"] and c["verdict"] == "fail")


if __name__ == "__main__":
    unittest.main()
