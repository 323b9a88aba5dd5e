"""End-to-end proof of the four concurrency models, from what the SERVER reports.

Every assertion about concurrency is made on the server's own timestamps
(X-Request-Start-Us / X-Request-End-Us, one monotonic clock shared by every
process), on X-Worker (thread id or pid) and on /stats -- never on how long the
client waited, because CI is a busy 2-core machine.

Runs every mode in HTTPMODES_MODES (one subTest per mode).
"""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Server, concurrent, interval, max_overlap, wait_until

BLOCKING = ("iterative", "threads", "prefork")


def server_pid(s):
    """The pid of the httpmodes process itself, from its start-up line (the
    Popen pid differs when the server runs under a prefix such as runuser)."""
    for line in s.stderr_lines:
        m = re.search(r"listening on .*\bpid (\d+)\)", line)
        if m:
            return int(m.group(1))
    raise AssertionError("no pid in the start-up line: %r" % s.stderr_lines)


def proc_statuses():
    """Yields (pid, text of /proc/<pid>/status) for every process."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                yield int(d), f.read()
        except OSError:
            continue


def children_of(pid):
    """The worker processes whose parent is pid (not its status listener's)."""
    return set(harness.worker_processes(pid))


def workers_ready(s, n):
    """Waits until the prefork master has forked its n workers (it prints the
    start-up line before forking them)."""
    if not wait_until(lambda: len(children_of(s.proc.pid)) == n, 10):
        raise AssertionError("prefork workers: %r, want %d" % (children_of(s.proc.pid), n))


def ppid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^PPid:\s*(\d+)", f.read(), re.M).group(1))


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return not re.search(r"^State:\s*Z", f.read(), re.M)
    except OSError:
        return False


def stats(s):
    status, _, body = s.get("/stats")
    if status != 200:
        raise AssertionError("/stats answered %d" % status)
    return json.loads(body)


def hello_200(s):
    return s.get("/hello")[0] == 200


class Models(unittest.TestCase):

    # (a) ------------------------------------------------------------------
    def test_a_db_overlap(self):
        """4 concurrent /db?delay=300 on 4 connections: how many does the
        server have in progress at one instant?"""
        for mode in harness.MODES:
            # a fixed pool of 2 serves two at once; one connection at a time
            # serves one; every other model serves all four at once
            expected = 1 if mode == "iterative" else 2 if harness.bounded(mode) else 4
            with self.subTest(mode=mode):
                args = ["--workers", "2"] if harness.pooled(mode) else []
                with Server(mode, *args) as s:
                    if mode == "prefork":
                        workers_ready(s, 2)
                    res = concurrent(lambda i: s.get("/db?delay=300"), 4)
                    self.assertEqual([r[0] for r in res], [200] * 4)
                    ivs = [interval(h) for _, h, _ in res]
                    for st, en in ivs:
                        self.assertGreaterEqual(en - st, 300000, "a /db?delay=300 took under 300 ms")
                    ov = max_overlap(ivs)
                    if harness.bounded(mode):
                        self.assertLessEqual(ov, 2, "more requests in progress than workers: %r" % ivs)
                    self.assertEqual(ov, expected, "server intervals %r" % ivs)

    # (b) ------------------------------------------------------------------
    def test_b_dashboard_waits(self):
        """/dashboard?delay=200&widgets=4: the event loop runs the 4 independent
        waits at once, a blocking worker one after another."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                with Server(mode) as s:
                    status, h, _ = s.get("/dashboard?delay=200&widgets=4")
                    self.assertEqual(status, 200)
                    wait = int(h["x-db-wait-us"])
                    if harness.event_loop(mode):
                        # The four 200 ms timers start together, so the wait is one
                        # delay plus loop latency. 600 ms (3 delays) is a structural
                        # bound, not a speed expectation: to exceed it the loop must
                        # have run at least three of the waits one after another,
                        # i.e. it is not running them at once.
                        self.assertGreaterEqual(wait, 200000)
                        self.assertLess(wait, 600000, "event waits did not overlap: %d us" % wait)
                    else:
                        # a blocking worker sleeps through each query in turn: a lower bound
                        self.assertGreaterEqual(wait, 4 * 200000, "blocking waits overlapped: %d us" % wait)
                    st, en = interval(h)
                    self.assertGreaterEqual(en - st, wait, "request shorter than its DB wait")

    # (c) ------------------------------------------------------------------
    def test_c_worker_ids(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                args = ["--workers", "3"] if harness.pooled(mode) else []
                with Server(mode, *args) as s:
                    pid = s.proc.pid
                    if mode == "prefork":
                        workers_ready(s, 3)
                    res = concurrent(lambda i: s.get("/db?delay=200"), 6)
                    self.assertEqual([r[0] for r in res], [200] * 6)
                    workers = [int(h["x-worker"]) for _, h, _ in res]
                    for _, h, _ in res:
                        self.assertEqual(h["x-mode"], mode)
                    if mode == "threads":
                        ivs = [interval(h) for _, h, _ in res]
                        self.assertEqual(max_overlap(ivs), 6)
                        # six requests in progress at once: six distinct threads
                        self.assertEqual(len(set(workers)), 6, "X-Worker %r" % workers)
                        self.assertNotIn(pid, workers, "a connection ran on the main thread")
                        for w in workers:
                            # a thread of the server exists while it serves; after, it may be gone
                            self.assertTrue(w > 0)
                    elif mode == "prefork":
                        self.assertEqual(len(children_of(pid)), 3, "worker processes: %r" % children_of(pid))
                        self.assertLessEqual(len(set(workers)), 3, "X-Worker %r" % workers)
                        for w in set(workers):
                            self.assertEqual(ppid_of(w), pid, "X-Worker %d is not a child of %d" % (w, pid))
                        self.assertNotIn(pid, workers, "the master served a request")
                    elif mode in ("pool", "reactors"):
                        # threads of the server itself, at most --workers of them
                        self.assertLessEqual(len(set(workers)), 3, "X-Worker %r" % workers)
                        self.assertNotIn(pid, workers, "the main thread served a request")
                        tasks = {int(t) for t in os.listdir("/proc/%d/task" % pid)}
                        self.assertLessEqual(set(workers), tasks, "X-Worker %r not threads of %d" % (workers, pid))
                        if mode == "pool":  # 6 requests, 3 threads: all three served
                            self.assertEqual(len(set(workers)), 3, "X-Worker %r" % workers)
                    else:
                        self.assertEqual(set(workers), {pid}, "X-Worker %r, server pid %d" % (workers, pid))

    # (d) ------------------------------------------------------------------
    def test_d_cpu_blocks_event_loop(self):
        """A /hello sent while /cpu burns: the event loop cannot start it until
        the CPU page ends; a threads server serves it meanwhile."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode not in ("event", "threads"):
                    self.skipTest("the CPU-blocks-the-loop lesson is checked in event and threads")
                with Server(mode, "--max-iterations", "3000000") as s:
                    valid = 0
                    contained = False
                    seen = []
                    for attempt in range(3):
                        box = {}

                        def cpu():
                            box["cpu"] = s.get("/cpu?iterations=3000000", timeout=120)

                        t = threading.Thread(target=cpu)
                        t.start()
                        time.sleep(0.15)  # let the CPU request reach the server (not a bound)
                        hs, hh, _ = s.get("/hello", timeout=120)
                        t.join(120)
                        self.assertEqual(hs, 200)
                        self.assertEqual(box["cpu"][0], 200)
                        c = interval(box["cpu"][1])
                        h = interval(hh)
                        seen.append((c, h))
                        if h[0] < c[0]:
                            continue  # the hello got there first: premise not met, try again
                        valid += 1
                        if mode == "event":
                            self.assertGreaterEqual(h[0], c[1],
                                                    "event loop served /hello while /cpu ran: cpu %r hello %r" % (c, h))
                            self.assertEqual(int(hh["x-worker"]), int(box["cpu"][1]["x-worker"]))
                        elif c[0] <= h[0] and h[1] <= c[1]:
                            contained = True
                            self.assertNotEqual(hh["x-worker"], box["cpu"][1]["x-worker"])
                            break
                    self.assertGreater(valid, 0, "the /hello never arrived after /cpu started: %r" % seen)
                    if mode == "threads":
                        self.assertTrue(contained, "/hello never ran inside the /cpu interval: %r" % seen)

    # (d2) -----------------------------------------------------------------
    def test_d2_reactors_burn_cpu_in_parallel(self):
        """reactors --workers 2: /cpu requests are served by both loops, two
        at once (a loop with no connection is handed the next one, wherever
        the kernel steered it)."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "reactors":
                    self.skipTest("parallel loops exist only in reactors")
                with Server(mode, "--workers", "2") as s:
                    res = concurrent(lambda i: s.get("/cpu?iterations=100000"), 12)
                    self.assertEqual([r[0] for r in res], [200] * 12)
                    by_worker = {}
                    for _, h, _ in res:
                        by_worker.setdefault(int(h["x-worker"]), []).append(interval(h))
                    self.assertEqual(len(by_worker), 2, "served by %r" % list(by_worker))
                    a, b = by_worker.values()
                    self.assertTrue(any(x[0] < y[1] and y[0] < x[1] for x in a for y in b),
                                    "the two loops never burned CPU at the same time: %r" % by_worker)
                    # and within one loop, never two at once: it is an event loop
                    for ivs in by_worker.values():
                        self.assertEqual(max_overlap(ivs), 1, ivs)

    # (d3) -----------------------------------------------------------------
    def test_d3_offload_serves_while_the_pool_burns(self):
        """offload --workers 2: /hello is answered while two /cpu run (inside
        their intervals), and the pool never burns more than two at once."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if not harness.MODE_TABLE[mode]["cpu_off_loop"]:
                    self.skipTest("only offload runs page CPU work off its loop")
                with Server(mode, "--workers", "2", "--max-iterations", "3000000") as s:
                    cursor = json.loads(s.status_get("/timeline")[2])["cursor"]
                    box = []
                    burners = [threading.Thread(target=lambda: box.append(
                        s.get("/cpu?iterations=3000000", timeout=120))) for _ in range(2)]
                    for t in burners:
                        t.start()
                    # the hello must arrive while both burn: wait until the scoreboard says so
                    def both_burn():  # (the loop's lane appears once it runs)
                        lanes = json.loads(s.status_get("/scoreboard")[2])["workers"]
                        return bool(lanes) and lanes[0]["counts"]["cpu"] == 2
                    self.assertTrue(wait_until(both_burn, 60))
                    hs, hh, _ = s.get("/hello", timeout=120)
                    for t in burners:
                        t.join(120)
                    self.assertEqual(hs, 200)
                    self.assertEqual([r[0] for r in box], [200, 200])
                    hello = interval(hh)
                    for _, h, body in box:
                        c = interval(h)
                        self.assertTrue(c[0] < hello[0] and hello[1] < c[1],
                                        "/hello %r not inside /cpu %r: the loop was blocked" % (hello, c))
                        j = json.loads(s.get("/cpu?iterations=1&format=json")[2])
                        self.assertNotEqual(j["cpu_worker"], j["worker"], "burned on the loop")
                    # four more at once on a pool of two: at most two burn together
                    res = concurrent(lambda i: s.get("/cpu?iterations=200000"), 4)
                    self.assertEqual([r[0] for r in res], [200] * 4)
                    bursts = []

                    def recorded():  # each is recorded just after its response left
                        tl = json.loads(s.status_get("/timeline?since=%d" % cursor)[2])
                        bursts[:] = [(p["start_us"], p["end_us"]) for r in tl["requests"]
                                     for p in r["phases"] if p["kind"] == "cpu"]
                        return len(bursts) >= 7
                    wait_until(recorded, 10)
                    self.assertGreaterEqual(len(bursts), 6)
                    self.assertLessEqual(max_overlap(bursts), 2, bursts)

    # (d4) -----------------------------------------------------------------
    def test_d4_blocking_call_in_an_event_loop(self):
        """/db?blocking=1 makes the query a blocking call: in a single event
        loop four concurrent requests then never overlap (the waiter who
        stands at the table); without it they all do."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode not in ("event", "offload"):
                    self.skipTest("checked in the single-loop modes")
                with Server(mode) as s:
                    res = concurrent(lambda i: s.get("/db?delay=200&blocking=1"), 4)
                    self.assertEqual([r[0] for r in res], [200] * 4)
                    self.assertEqual(max_overlap([interval(h) for _, h, _ in res]), 1)
                    res = concurrent(lambda i: s.get("/db?delay=200"), 4)
                    self.assertEqual(max_overlap([interval(h) for _, h, _ in res]), 4)
                    self.assertEqual(s.get("/db?blocking=2")[0], 400)

    # (d5) -----------------------------------------------------------------
    def test_d5_cpus_pins_the_server(self):
        """--cpus 1: the process and its threads may run on one CPU only
        (/proc/PID/status), /stats says so, and a pool sized by CPUs has one."""
        mode = harness.MODES[0]
        with Server(mode, "--cpus", "1") as s:
            with open("/proc/%d/status" % s.proc.pid) as f:
                allowed = [l for l in f if l.startswith("Cpus_allowed_list:")][0].split(":")[1].strip()
            self.assertRegex(allowed, r"^\d+$", "pinned to more than one CPU: %s" % allowed)
            st = stats(s)
            self.assertEqual(st["cpus"], 1)
            checked = 0
            for tid in os.listdir("/proc/%d/task" % s.proc.pid):
                try:
                    with open("/proc/%d/task/%s/status" % (s.proc.pid, tid)) as f:
                        status = f.read()
                except FileNotFoundError:
                    continue  # a connection's thread (threads mode) that has just ended
                self.assertIn("Cpus_allowed_list:\t%s\n" % allowed, status)
                checked += 1
            self.assertGreater(checked, 0)
        cpu_sized = [m for m in harness.ALL_MODES if harness.MODE_TABLE[m]["workers"] == "cpus"]
        if cpu_sized:
            with Server(cpu_sized[0], "--cpus", "1") as s:
                self.assertEqual(stats(s)["workers"], 1)
        too_many = subprocess.run([harness.BIN, "--cpus", "1024", "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(too_many.returncode, 2)
        self.assertIn(b"--cpus", too_many.stderr)

    # (d6) -----------------------------------------------------------------
    def test_d6_a_loop_takes_connections_in_turn(self):
        """One loop (event; reactors --workers 1): client A's next request is
        already waiting when its /cpu ends, three others sent theirs meanwhile.
        The loop answers A and then takes the three before A's next one — it
        used to read A's next request at once and serve it first (so a client
        that answers fast could be served 16 times in a row while the others
        waited). Proven by the server's own start times."""
        req = b"GET /cpu?iterations=600000 HTTP/1.1\r\nHost: x\r\n\r\n"

        def response(sock, buf=b""):
            while b"\r\n\r\n" not in buf:
                d = sock.recv(65536)
                if not d:
                    raise AssertionError("closed before a response")
                buf += d
            head, rest = buf.split(b"\r\n\r\n", 1)
            n = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
            while len(rest) < n:
                rest += sock.recv(65536)
            start = int(re.search(rb"(?i)\r\nx-request-start-us: *(\d+)", head).group(1))
            return start, rest[n:]

        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode not in ("event", "reactors"):
                    self.skipTest("checked in the modes that run /cpu on a loop")
                args = ("--workers", "1") if mode == "reactors" else ()
                with Server(mode, "--max-iterations", "3000000", *args) as s:
                    for _ in range(3):
                        socks = [socket.create_connection(("127.0.0.1", s.port), timeout=60)
                                 for _ in range(4)]
                        try:
                            a, others = socks[0], socks[1:]
                            time.sleep(0.05)  # all four accepted and idle on the loop
                            a.sendall(req)
                            time.sleep(0.05)  # A's /cpu (~150 ms) has started
                            for b in others:
                                b.sendall(req)
                            a.sendall(req)  # A's next, waiting in its socket (not read yet)
                            _, rest = response(a)
                            a2, _ = response(a, rest)
                            starts = [response(b)[0] for b in others]
                        finally:
                            for x in socks:
                                x.close()
                        self.assertTrue(all(t < a2 for t in starts),
                                        "A's second request (start %d) went before the others "
                                        "that were waiting (%r)" % (a2, starts))

    def test_d7_waits_end_in_the_order_they_are_due(self):
        """Five /db waits of different lengths sent at once, longest first:
        an event loop keeps their ends in one heap under a timerfd, and ends
        each when it is due -- never before its delay, and in the order
        they are due in. Proven by the server's own X-DB-Wait-Us, start and end
        times."""
        delays = [450, 50, 350, 150, 250]
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if not harness.event_loop(mode):
                    self.skipTest("a blocking worker sleeps through its own wait")
                args = ("--workers", "1") if mode == "reactors" else ()
                with Server(mode, *args) as s:
                    res = concurrent(lambda i: s.get("/db?delay=%d" % delays[i]), len(delays))
                    self.assertEqual([r[0] for r in res], [200] * len(delays))
                    for d, (_, h, _) in zip(delays, res):
                        self.assertGreaterEqual(int(h["x-db-wait-us"]), d * 1000,
                                                "a %d ms wait ended early" % d)
                    # each due at its own start + delay (the starts may be far
                    # apart on a busy machine): any two due more than 5 ms
                    # apart end in that order
                    due = [(interval(h)[0] + d * 1000, interval(h)[1], d)
                           for d, (_, h, _) in zip(delays, res)]
                    for a in due:
                        for b in due:
                            if a[0] + 5000 < b[0]:
                                self.assertLess(a[1], b[1], "a wait due earlier ended later: %r"
                                                % sorted(due))

    def test_d8_reactors_use_every_loop(self):
        """reactors --workers 2: a loop with no connection is handed the next
        one, so two connections are served by two loops every time (from the
        server's own X-Worker, a loop's thread id). With the kernel's hash
        alone both landed on one loop half the time, and /cpu at two
        connections used one core. Both are made from one CPU, and each
        server is fresh and holds no connection when they come."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "reactors":
                    self.skipTest("several loops exist only in reactors")

                def hello(sock):
                    sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                    buf = b""
                    while b"\r\n\r\n" not in buf:
                        d = sock.recv(65536)
                        if not d:
                            raise AssertionError("closed before a response")
                        buf += d
                    return int(re.search(rb"(?i)\r\nx-worker: *(\d+)", buf).group(1))

                def held(port):
                    """Connections the server holds (the start-up probe's)."""
                    with open("/proc/net/tcp") as f:
                        return sum(1 for line in f.readlines()[1:]
                                   if line.split()[1].endswith(":%04X" % port)
                                   and line.split()[3] in ("01", "08"))

                for _ in range(6):  # the hash alone: 1 chance in 64 to pass
                    with Server(mode, "--workers", "2") as s:
                        self.assertTrue(wait_until(lambda: held(s.port) == 0, 10))
                        a = socket.create_connection(("127.0.0.1", s.port), timeout=30)
                        b = socket.create_connection(("127.0.0.1", s.port), timeout=30)
                        try:
                            wa, wb = hello(a), hello(b)
                        finally:
                            a.close()
                            b.close()
                        self.assertNotEqual(wa, wb, "two connections, one loop, one idle")
                        self.assertEqual(stats(s)["cpus"], len(os.sched_getaffinity(0)))

    # (e) ------------------------------------------------------------------
    def test_e_prefork_restarts_killed_worker(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "prefork":
                    self.skipTest("worker restarts exist only in prefork")
                with Server(mode, "--workers", "2") as s:
                    pid = s.proc.pid
                    workers_ready(s, 2)
                    before = children_of(pid)
                    self.assertEqual(stats(s)["worker_restarts"], 0)
                    status, h, _ = s.get("/hello")
                    self.assertEqual(status, 200)
                    victim = int(h["x-worker"])
                    self.assertIn(victim, before)
                    os.kill(victim, signal.SIGKILL)
                    self.assertTrue(wait_until(lambda: stats(s)["worker_restarts"] == 1, 10),
                                    "worker_restarts did not become 1: %r" % stats(s))
                    self.assertTrue(wait_until(lambda: len(children_of(pid) - before) == 1, 10))
                    after = children_of(pid)
                    self.assertEqual(len(after), 2, "workers after restart: %r" % after)
                    self.assertNotIn(victim, after)
                    new = (after - before).pop()
                    self.assertIsNone(s.proc.poll(), "the master died")
                    # the new worker serves: its pid shows up in X-Worker
                    seen = set()

                    def served_by_new():
                        for st, hh, _ in concurrent(lambda i: s.get("/db?delay=50"), 4):
                            self.assertEqual(st, 200)
                            seen.add(int(hh["x-worker"]))
                        return new in seen

                    self.assertTrue(wait_until(served_by_new, 15), "new worker %d never served; saw %r" % (new, seen))
                    self.assertLessEqual(seen, after)
                    self.assertEqual(stats(s)["worker_restarts"], 1)

    # (f) ------------------------------------------------------------------
    def test_f_threads_503_when_no_thread(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "threads":
                    self.skipTest("only the threads model creates a thread per connection")
                if os.geteuid() != 0:
                    self.skipTest("needs root to run the server as nobody under a process limit")
                for tool in ("prlimit", "runuser"):
                    self.assertIsNotNone(shutil.which(tool), "%s (util-linux) is missing" % tool)
                nobody = pwd.getpwnam("nobody").pw_uid
                # RLIMIT_NPROC counts every thread of the user, so allow exactly
                # the ones nobody already has plus the server's main thread.
                n = nobody_tasks(nobody) + 1
                tmp = tempfile.mkdtemp(prefix="httpmodes-nproc-")
                try:
                    os.chmod(tmp, 0o755)
                    binary = os.path.join(tmp, "httpmodes")
                    shutil.copy(harness.BIN, binary)
                    os.chmod(binary, 0o755)
                    # Lower only the soft limit, as nobody: a container without
                    # CAP_SYS_RESOURCE can neither raise a hard limit nor change the
                    # limits of another user's process, but nobody may raise its own
                    # soft limit again (done below). prlimit inside runuser also keeps
                    # PAM from resetting the limit.
                    prefix = ["runuser", "-u", "nobody", "--", "prlimit", "--nproc=%d:" % n, "--"]
                    old_bin = harness.BIN
                    harness.BIN = binary  # Server() reads harness.BIN when it starts
                    try:
                        srv = Server(mode, prefix=prefix).start()
                    finally:
                        harness.BIN = old_bin
                    with _Running(srv) as s:
                        spid = server_pid(s)
                        for attempt in range(2):
                            status, h, body = s.get("/hello")
                            self.assertEqual(status, 503, body)
                            self.assertIn(b"503 Service Unavailable", body)
                            self.assertIn(b"no worker could be started", body)
                            self.assertEqual(h.get("connection"), "close")
                            self.assertTrue(alive(spid), "the server died after a 503")
                        self.assertTrue(any("cannot create a thread" in l for l in s.stderr_lines),
                                        s.stderr_lines)
                        # lift the limit on the running server: it serves normally again
                        subprocess.run(["runuser", "-u", "nobody", "--", "prlimit", "--pid", str(spid),
                                        "--nproc=%d:" % (n + 1000)], check=True)
                        status, _, body = s.get("/hello")
                        self.assertEqual((status, body), (200, b"Hello, world!\n"))
                        st = stats(s)
                        # refused before the request was read: counted by status, page "other"
                        self.assertEqual(st["requests"]["by_status"].get("503"), 2, st)
                        # stop the server itself (runuser would wait 2 s, then SIGKILL it)
                        os.kill(spid, signal.SIGTERM)
                        self.assertEqual(s.proc.wait(15), 0, s.stderr_lines)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)

    # (g) ------------------------------------------------------------------
    def test_g_wrk(self):
        wrk = shutil.which("wrk")
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                self.assertIsNotNone(wrk, "wrk is not installed: run the project's setup script")
                with Server(mode) as s:
                    for path, page in (("/hello", "/hello"), ("/db?delay=20", "/db")):
                        st0 = stats(s)
                        out = subprocess.run([wrk, "-t2", "-c20", "-d3s", "--latency", s.url(path)],
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             timeout=60).stdout.decode()
                        print("\n[%s] wrk %s\n%s" % (mode, path, out))
                        m = re.search(r"(\d+) requests in", out)
                        self.assertIsNotNone(m, out)
                        n = int(m.group(1))
                        self.assertGreater(n, 0, out)
                        self.assertNotIn("Non-2xx", out)
                        # after wrk stops, each of its 20 connections may still have one
                        # request in the server that wrk did not count
                        self.assertTrue(wait_until(lambda: stats(s)["in_flight"] <= 1, 10))
                        st1 = stats(s)
                        grew = st1["requests"]["total"] - st0["requests"]["total"]
                        page_grew = (st1["requests"]["by_page"].get(page, {}).get("200", 0) -
                                     st0["requests"]["by_page"].get(page, {}).get("200", 0))
                        self.assertGreaterEqual(page_grew, n - 20, "stats %d vs wrk %d" % (page_grew, n))
                        self.assertLessEqual(page_grew, n + 20, "stats %d vs wrk %d" % (page_grew, n))
                        self.assertGreaterEqual(grew, page_grew)
                    self.assertTrue(hello_200(s))


class _Running:
    """Context manager around an already started Server: stops it on exit."""

    def __init__(self, srv):
        self.srv = srv

    def __enter__(self):
        return self.srv

    def __exit__(self, *exc):
        self.srv.__exit__(*exc)


def nobody_tasks(uid):
    """Threads (tasks) that uid owns now: what RLIMIT_NPROC counts."""
    n = 0
    for _, st in proc_statuses():
        m = re.search(r"^Uid:\s*(\d+)", st, re.M)
        if m and int(m.group(1)) == uid:
            n += int(re.search(r"^Threads:\s*(\d+)", st, re.M).group(1))
    return n


if __name__ == "__main__":
    unittest.main()
