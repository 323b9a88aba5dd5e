"""End-to-end: the database connection pool (--db-pool) and the query-time
distributions (--db-latency, ?dist=), in every mode.

With --db-pool 2, eight concurrent /db?delay=300 must show at most two query
phases overlapping and the rest queued for a connection -- proven by the
server's own timestamps (the live view's /timeline: each request's db and
dbqueue phases on one monotonic clock), never by how long the client waited.
"""
import json
import os
import signal
import threading
import time
import unittest

import harness
from harness import Server, concurrent, max_overlap, wait_until

EDGE_US = 3000  # a query's end and the next one's start touch: compare them this loosely
WAKE_US = 20000  # a queue phase ends where its query begins, give or take a busy machine


def phases(s, cursor, kind):
    """The (start, end) of every phase of kind recorded since cursor."""
    tl = json.loads(s.status_get("/timeline?since=%d" % cursor)[2])
    return [(p["start_us"], p["end_us"]) for r in tl["requests"] if r["page"] == "/db"
            for p in r["phases"] if p["kind"] == kind]


def workers_for_eight(mode):
    """Enough workers for eight requests to be in flight at once."""
    return ["--workers", "8"] if harness.pooled(mode) else []


class DbPoolTest(unittest.TestCase):
    def test_pool_of_two_runs_two_queries_at_a_time(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                with Server(mode, "--db-pool", "2", *workers_for_eight(mode)) as s:
                    cursor = json.loads(s.status_get("/timeline")[2])["cursor"]
                    res = concurrent(lambda i: s.get("/db?delay=300", timeout=60), 8)
                    self.assertEqual([r[0] for r in res], [200] * 8)
                    queries, queued = [], []

                    def recorded():
                        queries[:] = phases(s, cursor, "db")
                        queued[:] = phases(s, cursor, "dbqueue")
                        return len(queries) >= 8
                    self.assertTrue(wait_until(recorded, 10), queries)
                    self.assertEqual(len(queries), 8)
                    for a, b in queries:  # each query really took its 300 ms
                        self.assertGreaterEqual(b - a, 290000)
                    # never more than two queries at once, shrunk by EDGE_US so
                    # that a query starting as another ends does not count
                    shrunk = [(a + EDGE_US, b - EDGE_US) for a, b in queries]
                    self.assertLessEqual(max_overlap(shrunk), 2, queries)
                    # the 8 x 300 ms ran in (at least) four waves
                    span = max(b for _, b in queries) - min(a for a, _ in queries)
                    self.assertGreaterEqual(span, 4 * 300000 - 4 * EDGE_US, queries)
                    heads = {k: v.lower() for k, v in res[0][1].items()}
                    self.assertIn("x-db-queue-us", heads)
                    self.assertIn("dbqueue;dur=", heads["server-timing"])
                    waits = sorted(int(h["x-db-queue-us"]) for _, h, _ in res)
                    if harness.one_at_a_time(mode):
                        # one worker: the requests queue for it, never for the pool
                        self.assertEqual(waits, [0] * 8)
                        self.assertEqual(queued, [])
                        continue
                    self.assertEqual(max_overlap(shrunk), 2, queries)  # the pool was full
                    # six waited for a connection, the last two queries' time at least
                    # (three when all eight arrive at once; a busy machine may send some late)
                    self.assertGreaterEqual(len(queued), 6, queued)
                    self.assertGreaterEqual(sum(1 for w in waits if w > 200000), 6, waits)
                    self.assertGreaterEqual(waits[-1], 2 * 300000 - 4 * EDGE_US, waits)
                    # a queue phase ends where its query begins: no lost wake-up,
                    # no poll interval between a connection freed and taken
                    starts = sorted(a for a, _ in queries)
                    for qa, qb in queued:
                        self.assertTrue(any(abs(qb - a) < WAKE_US for a in starts), (qb, starts))
                    stats = json.loads(s.get("/stats")[2])["db_pool"]
                    self.assertEqual(stats["size"], 2)
                    self.assertEqual(stats["in_use"], 0)
                    self.assertEqual(stats["queued"], 0)
                    self.assertGreaterEqual(stats["acquired"], 8)
                    self.assertGreaterEqual(stats["waited"], 6)
                    self.assertGreater(stats["wait_us"]["p99"], 500000)
                    metrics = s.get("/metrics")[2].decode()
                    self.assertIn("httpmodes_db_pool_size 2\n", metrics)

    def test_dashboard_widgets_share_the_pool(self):
        """The independent queries of one page each take a connection: with
        a pool of two, four widgets run two and two."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                with Server(mode, "--db-pool", "2") as s:
                    st, h, body = s.get("/dashboard?delay=200&widgets=4&format=json")
                    self.assertEqual(st, 200)
                    j = json.loads(body)
                    db = [(p["start_ms"], p["end_ms"]) for p in j["phases"] if p["kind"] == "db"]
                    self.assertEqual(len(db), 4)
                    self.assertLessEqual(max_overlap([(a + 3, b - 3) for a, b in db]), 2, db)
                    if harness.event_loop(s.mode):  # two at a time, then two more
                        self.assertGreaterEqual(j["db_queue_us"], 190000)
                        self.assertLess(j["db_wait_us"], 600000)

    def test_a_dead_worker_gives_its_connection_back(self):
        """prefork: a worker killed in the middle of its query held the only
        connection; the master gives it back, so the query queued behind it
        runs at once and the server goes on serving."""
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "prefork":
                    self.skipTest("the one mode whose workers are processes")
                with Server(mode, "--db-pool", "1", "--workers", "3") as s:
                    def hold():  # its worker dies: the connection is closed unanswered
                        try:
                            s.get("/db?delay=8000", timeout=30)
                        except OSError:
                            pass
                    holder = threading.Thread(target=hold)
                    holder.start()
                    pool = lambda: json.loads(s.get("/stats")[2])["db_pool"]
                    self.assertTrue(wait_until(lambda: pool()["in_use"] == 1, 10))
                    lanes = json.loads(s.status_get("/scoreboard")[2])["workers"]
                    pids = [l["worker"] for l in lanes if l["counts"]["db"] == 1]
                    self.assertEqual(len(pids), 1, lanes)
                    waiter = []

                    def wait():  # queued behind the dead worker's connection
                        try:
                            waiter.append((s.get("/db?delay=10", timeout=15)[0], time.monotonic()))
                        except OSError as e:
                            waiter.append((repr(e), time.monotonic()))
                    t = threading.Thread(target=wait)
                    t.start()
                    self.assertTrue(wait_until(lambda: pool()["queued"] == 1, 10))
                    killed = time.monotonic()
                    os.kill(pids[0], signal.SIGKILL)
                    t.join(30)
                    holder.join(30)
                    self.assertEqual(waiter[0][0], 200, "the dead worker's connection was lost")
                    self.assertLess(waiter[0][1] - killed, 5.0, "waited for the dead worker's query")
                    self.assertTrue(wait_until(lambda: pool()["in_use"] == 0, 10), pool())
                    self.assertEqual(s.get("/db?delay=10", timeout=30)[0], 200)

    def test_without_a_pool_nothing_queues(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if not harness.event_loop(mode):
                    self.skipTest("the loop's overlap is the check")
                with Server(mode) as s:
                    res = concurrent(lambda i: s.get("/db?delay=300"), 8)
                    self.assertEqual([r[0] for r in res], [200] * 8)
                    self.assertEqual({h["x-db-queue-us"] for _, h, _ in res}, {"0"})
                    self.assertNotIn("dbqueue", res[0][1]["server-timing"])
                    self.assertEqual(json.loads(s.get("/stats")[2])["db_pool"]["size"], 0)

    def test_distributions_repeat_with_a_seed(self):
        """?dist= draws each query's time; the same --db-seed gives the same
        times in the same order, another seed other times."""
        def run(mode, seed):
            with Server(mode, "--db-seed", str(seed), "--db-latency", "exponential") as s:
                got = []
                for _ in range(6):
                    st, _, body = s.get("/db?delay=200&format=json")
                    self.assertEqual(st, 200)
                    j = json.loads(body)
                    self.assertEqual(j["dist"], "exponential")
                    got.append(round(j["phases"][0]["end_ms"] - j["phases"][0]["start_ms"]))
                st, _, body = s.get("/db?delay=20&dist=fixed&format=json")
                self.assertEqual(json.loads(body)["dist"], "fixed")
                self.assertEqual(s.get("/db?dist=zipf")[0], 400)
                return got
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                if mode != "event":
                    self.skipTest("the draws are the core's: one mode shows it")
                a, b, c = run(mode, 7), run(mode, 7), run(mode, 8)
                # the timers' times, loosely: a busy machine may fire them late
                self.assertTrue(all(abs(x - y) <= 60 for x, y in zip(a, b)), (a, b))
                self.assertTrue(any(abs(x - y) > 60 for x, y in zip(a, c)), (a, c))
                self.assertGreater(len(set(a)), 1, a)

    def test_bad_options_are_refused(self):
        for args in (["--db-pool", "0"], ["--db-pool", "many"], ["--db-latency", "zipf"],
                     ["--db-p99", "50"], ["--db-seed", "-1"]):
            p = __import__("subprocess").run([harness.BIN] + args, capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(args[0], p.stderr.decode())


if __name__ == "__main__":
    unittest.main()
