"""Out of file descriptors: a server whose RLIMIT_NOFILE is low, flooded with
more connections than it can hold, must not spin or flood its log, and must
serve again once the flood is gone (issue: `event` restarted its accept-resume
timer without setting it again, so it fired at once: 100 % CPU and millions of
log lines). Bounds are loose on purpose: a spinning server burns a whole core
(the flood lasts FLOOD_S seconds), a healthy one almost nothing."""
import json
import os
import socket
import time
import unittest

import harness
from harness import Server

FLOOD_S = 3.0
NOFILE = 64
CLIENTS = 200


def cpu_seconds(pid):
    """User + system CPU time of pid and its children still running (prefork)."""
    total = 0.0
    pids = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


class Exhaustion(unittest.TestCase):
    def test_descriptor_flood_is_bounded_and_recovers(self):
        for mode in harness.MODES:
            if harness.bounded(mode):
                # one connection per worker at a time: a worker never holds
                # more than a handful of descriptors, whatever the flood
                continue
            with self.subTest(mode=mode), \
                    Server(mode, prefix=["prlimit", "--nofile=%d:%d" % (NOFILE, NOFILE), "--"]) as s:
                flood = []
                try:
                    before = cpu_seconds(s.proc.pid)
                    for _ in range(CLIENTS):
                        c = socket.socket()
                        c.settimeout(5)
                        c.connect((harness.HOST, s.port))
                        # a first byte, so that TCP_DEFER_ACCEPT hands it over
                        c.sendall(b"GET / HTTP/1.1\r\n")
                        flood.append(c)
                    time.sleep(FLOOD_S)
                    used = cpu_seconds(s.proc.pid) - before
                finally:
                    for c in flood:
                        c.close()
                # served again once the flood is gone (the server closes the
                # idle ones it holds as their clients go away)
                deadline = time.monotonic() + 20
                while True:
                    try:
                        status, _, body = s.get("/stats", timeout=5)
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
                self.assertEqual(status, 200)
                stats = json.loads(body)
                self.assertGreater(stats["connections"]["accept_errors"], 0,
                                   "the flood never ran the server out of descriptors")
                lines = [l for l in s.stderr_lines if "accept:" in l]
                self.assertGreaterEqual(len(lines), 1, "the failure was not logged at all")
                # one line a second at most, for the whole server
                self.assertLessEqual(len(lines), FLOOD_S + 3, "\n".join(lines[:10]))
                self.assertLess(used, FLOOD_S / 4,
                                "the server burned %.2f s of CPU in a %.0f s flood" % (used, FLOOD_S))
                self.assertEqual(s.get("/hello")[0], 200)


if __name__ == "__main__":
    unittest.main()
