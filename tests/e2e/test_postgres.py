"""End-to-end: --db with a real PostgreSQL (server/pgdb.c).

The module starts a throw-away cluster itself -- initdb into a temporary
directory, postgres on a unix socket there and on a free 127.0.0.1 port,
as an unprivileged user when run as root -- shares it between the tests,
and stops and removes it at the end. It is skipped, saying why, when the
PostgreSQL server binaries are missing or the binary was built without
libpq. A cluster start costs a second or two, so it runs for four
representative modes (event, reactors, threads, prefork) and skips the
others.

What it proves, from the server's own timestamps (the live view's
/timeline) and PostgreSQL's own view (pg_stat_activity):
- an event loop overlaps many pg_sleep(0.2) queries on one thread, each
  on its own PostgreSQL connection;
- /db?blocking=1 in the event loop runs them one after another (PQexec
  stops the loop);
- blocking models run their queries on PostgreSQL too;
- PostgreSQL stopped mid-run gives 503s naming PostgreSQL while /hello
  keeps answering, and queries work again once it is back (reconnect);
- max_connections reached gives 503s ("too many clients"), the rest 200;
- a query whose backend stops answering (SIGSTOP) gets a 503 naming the
  deadline, its time + --db-timeout, while the server serves other
  requests, and its connection is dropped; so does a connect that gets no
  answer (a socket that never accepts), in every path;
- /stats and /metrics count the queries (sent, answered, failed by reason),
  connections and back-offs, summed over threads, loops and processes.
"""
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import Server, concurrent, max_overlap, wait_until

sys.path.insert(0, os.path.join(harness.ROOT, "loadtest"))
import labrun  # noqa: E402  (free_port)

REPRESENTATIVE = ["event", "reactors", "threads", "prefork"]
MODES = [m for m in harness.MODES if m in REPRESENTATIVE]
MAX_CONNECTIONS = 30
EDGE_US = 3000  # a query's end and the next one's start touch: compare them this loosely

PG = {}  # the cluster: bin, dir, data, port, user


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def as_pg_user(cmd, **kw):
    prefix = ["runuser", "-u", PG["user"], "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60, **kw)


def pg_start():
    opts = ("-k %s -p %d -c listen_addresses=127.0.0.1 -c max_connections=%d "
            "-c superuser_reserved_connections=0 -c fsync=off"
            % (PG["dir"], PG["port"], MAX_CONNECTIONS))
    r = as_pg_user([os.path.join(PG["bin"], "pg_ctl"), "-D", PG["data"], "-l",
                    os.path.join(PG["dir"], "log"), "-o", opts, "-w", "-t", "30", "start"])
    if r.returncode != 0:
        raise RuntimeError("pg_ctl start failed: %s\n%s" % (
            r.stdout.decode(), open(os.path.join(PG["dir"], "log")).read()[-2000:]))


def pg_stop(how="fast"):
    as_pg_user([os.path.join(PG["bin"], "pg_ctl"), "-D", PG["data"], "-m", how, "-w", "stop"])


def psql(sql):
    """Runs sql on the cluster (over its unix socket); returns the output."""
    r = subprocess.run([os.path.join(PG["bin"], "psql"), "-h", PG["dir"], "-p", str(PG["port"]),
                        "-U", "postgres", "-d", "postgres", "-Atc", sql],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return r.stdout.decode().strip()


def our_connections():
    """The connections the server holds open (idle ones stay in its free lists)."""
    out = psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'httpmodes'")
    return int(out) if out.isdigit() else -1


def query_backends():
    """The pids of the server's PostgreSQL backends running a query now."""
    out = psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'httpmodes' "
               "AND state = 'active' AND query LIKE '%pg_sleep%'")
    return [int(x) for x in out.split() if x.isdigit()]


def backend_alive(pid):
    return str(pid) in psql("SELECT pid FROM pg_stat_activity").split()


def pg_counters(s):
    """The server's PostgreSQL counters (/stats "postgres")."""
    return json.loads(s.get("/stats")[2])["postgres"]


def metric(s, line_start):
    """The value of the first /metrics line starting with line_start."""
    for line in s.get("/metrics")[2].decode().splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    return None


def built_with_libpq():
    """False when the binary says it has no PostgreSQL support."""
    p = subprocess.Popen([harness.BIN, "--mode", "iterative", "--port", "0", "--status-port", "off",
                          "--db", "host=127.0.0.1 port=1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        line = p.stderr.readline().decode()
    finally:
        p.kill()
        p.wait()
        p.stderr.close()
    return "no PostgreSQL support" not in line


def setUpModule():
    if not MODES:
        raise unittest.SkipTest("PostgreSQL runs for %s only (each run starts a cluster)"
                                % ", ".join(REPRESENTATIVE))
    bindir = pg_bin()
    if not bindir or not shutil.which("runuser"):
        raise unittest.SkipTest("PostgreSQL is not installed (Debian package postgresql)")
    if not built_with_libpq():
        raise unittest.SkipTest("this httpmodes was built without libpq (Debian package libpq-dev)")
    PG["bin"] = bindir
    PG["dir"] = tempfile.mkdtemp(prefix="httpmodes-pg-")
    PG["data"] = os.path.join(PG["dir"], "data")
    PG["port"] = labrun.free_port()  # not a port a client may hold
    PG["user"] = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        os.chmod(PG["dir"], 0o755)
        pw = pwd.getpwnam(PG["user"])
        os.chown(PG["dir"], pw.pw_uid, pw.pw_gid)
    r = as_pg_user([os.path.join(bindir, "initdb"), "-D", PG["data"], "-A", "trust", "-U", "postgres",
                    "--no-sync", "-E", "UTF8"], cwd=PG["dir"])
    if r.returncode != 0:
        shutil.rmtree(PG["dir"], ignore_errors=True)
        raise RuntimeError("initdb failed: %s" % r.stdout.decode())
    pg_start()


def tearDownModule():
    if PG.get("dir"):
        pg_stop("immediate")
        shutil.rmtree(PG["dir"], ignore_errors=True)


def url():
    return "postgres://postgres@127.0.0.1:%d/postgres" % PG["port"]


def db_phases(s, cursor):
    """The (start, end) of every /db query phase recorded since cursor."""
    tl = json.loads(s.status_get("/timeline?since=%d" % cursor)[2])
    return [(p["start_us"], p["end_us"]) for r in tl["requests"] if r["page"] == "/db"
            for p in r["phases"] if p["kind"] == "db"]


def collect(s, c, n):
    """Waits until n /db query phases are recorded since c; returns them."""
    queries = []

    def enough():
        queries[:] = db_phases(s, c)
        return len(queries) >= n
    wait_until(enough, 10)
    return queries


def cursor(s):
    return json.loads(s.status_get("/timeline")[2])["cursor"]


def workers(mode):
    return ["--workers", "8"] if harness.pooled(mode) and not harness.event_loop(mode) else []


class PostgresTest(unittest.TestCase):
    def test_event_loop_overlaps_queries_on_one_thread(self):
        for mode in [m for m in MODES if harness.event_loop(m)]:
            with self.subTest(mode=mode):
                n = 20
                with Server(mode, "--db", url()) as s:
                    c = cursor(s)
                    t0 = time.time()
                    res = concurrent(lambda i: s.get("/db?delay=200", timeout=60), n)
                    self.assertEqual([r[0] for r in res], [200] * n, res[0][2][:300])
                    queries = collect(s, c, n)
                    self.assertGreaterEqual(len(queries), n, queries)
                    for a, b in queries:  # each really slept its 200 ms in PostgreSQL
                        self.assertGreaterEqual(b - a, 195000)
                    shrunk = [(a + EDGE_US, b - EDGE_US) for a, b in queries]
                    # one after another would be 20 x 0.2 s = 4 s: many ran at once
                    self.assertGreaterEqual(max_overlap(shrunk), 5, queries)
                    span = max(b for _, b in queries) - min(a for a, _ in queries)
                    self.assertLess(span, 2000000, queries)
                    self.assertLess(time.time() - t0, 3.5)
                    self.assertEqual(json.loads(s.get("/stats")[2])["db_backend"], "postgres")
                    if mode == "event":  # a single thread: one loop did all of it
                        self.assertEqual(len({h["x-worker"] for _, h, _ in res}), 1)
                    # PostgreSQL's side: the loop's connections, idle in its free list
                    self.assertGreaterEqual(our_connections(), 5)

    def test_blocking_call_in_the_loop_does_not_overlap(self):
        if "event" not in MODES:
            self.skipTest("event mode not selected")
        with Server("event", "--db", url()) as s:
            c = cursor(s)
            n = 5
            res = concurrent(lambda i: s.get("/db?delay=200&blocking=1", timeout=60), n)
            self.assertEqual([r[0] for r in res], [200] * n)
            queries = collect(s, c, n)
            self.assertGreaterEqual(len(queries), n, queries)
            shrunk = [(a + EDGE_US, b - EDGE_US) for a, b in queries]
            self.assertEqual(max_overlap(shrunk), 1, queries)  # PQexec stopped the loop
            span = max(b for _, b in queries) - min(a for a, _ in queries)
            self.assertGreaterEqual(span, n * 195000, queries)
            self.assertGreaterEqual(our_connections(), 1)

    def test_blocking_models_query_postgres(self):
        for mode in [m for m in MODES if not harness.event_loop(m)]:
            with self.subTest(mode=mode):
                # a libpq conninfo over the unix socket this time
                info = "host=%s port=%d user=postgres dbname=postgres" % (PG["dir"], PG["port"])
                with Server(mode, "--db", info, *workers(mode)) as s:
                    c = cursor(s)
                    res = concurrent(lambda i: s.get("/db?delay=200", timeout=60), 6)
                    self.assertEqual([r[0] for r in res], [200] * 6, res[0][2][:300])
                    queries = collect(s, c, 6)
                    self.assertGreaterEqual(len(queries), 6, queries)
                    for a, b in queries:
                        self.assertGreaterEqual(b - a, 195000)
                    self.assertGreaterEqual(our_connections(), 1)
                    # two dependent queries: a staircase on one connection
                    st, h, body = s.get("/db?delay=100&queries=2", timeout=30)
                    self.assertEqual(st, 200, body[:300])

    def test_idle_connection_of_a_stopped_server_is_not_used(self):
        """PostgreSQL shutting down sends each idle connection a FATAL message,
        then closes it. The next query must see that and try a new connection
        (refused: a 'connect' failure), not send its query on the dead one and
        count it 'gone' — libpq reads the message as a notice and sees the
        close only on a second read. (In reactors, which loop's idle
        connection a query met decided it, and this flaked.)"""
        for mode in MODES:
            with self.subTest(mode=mode):
                with Server(mode, "--db", url(), *workers(mode)) as s:
                    self.assertEqual(s.get("/db?delay=10")[0], 200)  # one idle connection now
                    try:
                        pg_stop("fast")
                        time.sleep(0.3)  # its close has reached us
                        st, _, body = s.get("/db?delay=10")
                        self.assertEqual(st, 503, body[:300])
                        pg = pg_counters(s)
                        self.assertEqual(pg["queries"]["failed"]["gone"], 0, pg)
                        self.assertEqual(pg["queries"]["failed"]["connect"], 1, pg)
                    finally:
                        pg_start()

    def test_postgres_gone_gives_503_and_comes_back(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                with Server(mode, "--db", url(), *workers(mode)) as s:
                    self.assertEqual(s.get("/db?delay=10")[0], 200)  # connected once
                    results = []
                    th = [threading.Thread(target=lambda: results.append(
                        s.get("/db?delay=5000", timeout=30))) for _ in range(3)]
                    for t in th:
                        t.start()
                    time.sleep(0.7)
                    try:
                        pg_stop("fast")  # terminates the queries under way
                        for t in th:
                            t.join(30)
                        self.assertEqual([r[0] for r in results], [503] * 3, results)
                        for _, _, body in results:
                            self.assertIn(b"PostgreSQL", body)
                        st, _, body = s.get("/db?delay=10")
                        self.assertEqual(st, 503)
                        self.assertIn(b"PostgreSQL", body)
                        self.assertEqual(s.get("/hello")[0], 200)  # the server keeps serving
                        pg = pg_counters(s)
                        self.assertEqual(pg["queries"]["failed"]["gone"], 3, pg)
                        self.assertGreaterEqual(pg["queries"]["failed"]["connect"], 1, pg)
                        self.assertGreaterEqual(pg["connections"]["backoffs"], 1, pg)
                    finally:
                        pg_start()
                    # reconnects once the back-off (at most 2 s) has passed
                    self.assertTrue(wait_until(lambda: s.get("/db?delay=10")[0] == 200, 15, 0.3))
                    pg = pg_counters(s)
                    self.assertEqual(pg["queries"]["in_flight"], 0, pg)
                    self.assertEqual(pg["queries"]["sent"], pg["queries"]["answered"] +
                                     sum(pg["queries"]["failed"].values()), pg)

    def test_postgres_not_answering_gives_503_in_time(self):
        """A backend stopped mid-query (SIGSTOP) never answers: the request
        gets a 503 once the query's time + --db-timeout has passed, in every
        path (the blocking ones used to wait in PQexec for ever), while the
        server serves others; the connection is dropped, not reused."""
        cases = [(m, "") for m in MODES] + [("event", "&blocking=1")] * ("event" in MODES)
        for mode, extra in cases:
            with self.subTest(mode=mode, extra=extra):
                with Server(mode, "--db", url(), "--db-timeout", "1000", *workers(mode)) as s:
                    self.assertEqual(s.get("/db?delay=10")[0], 200)  # connected once
                    result = []
                    t0 = time.time()
                    th = threading.Thread(target=lambda: result.append(
                        s.get("/db?delay=2000" + extra, timeout=60)))
                    th.start()
                    stopped = []
                    try:
                        self.assertTrue(wait_until(lambda: stopped.extend(query_backends()) or
                                                   stopped, 1.5, 0.02), "no query under way")
                        for pid in stopped:
                            os.kill(pid, signal.SIGSTOP)
                        if not extra:  # the others are served meanwhile
                            self.assertEqual(s.get("/hello", timeout=5)[0], 200)
                            self.assertTrue(th.is_alive())
                        th.join(20)
                        elapsed = time.time() - t0
                        self.assertFalse(th.is_alive(), "the request hung")
                    finally:
                        for pid in stopped:
                            os.kill(pid, signal.SIGCONT)
                        th.join(30)
                    st, _, body = result[0]
                    self.assertEqual(st, 503, body[:300])
                    self.assertIn(b"PostgreSQL did not answer within 3000 ms (the query's 2000 ms"
                                  b" + --db-timeout 1000 ms)", body)
                    self.assertGreater(elapsed, 2.8)
                    self.assertLess(elapsed, 9)  # 3 s, with room for a busy machine
                    self.assertEqual(s.get("/hello")[0], 200)
                    # its connection was closed: the backend finds out and ends
                    self.assertTrue(wait_until(lambda: not backend_alive(stopped[0]), 15, 0.2))
                    self.assertEqual(s.get("/db?delay=10")[0], 200)
                    pg = pg_counters(s)
                    self.assertEqual(pg["queries"]["failed"],
                                     {"connect": 0, "full": 0, "gone": 0, "timeout": 1, "error": 0})
                    self.assertEqual(pg["queries"]["answered"], 2)
                    self.assertEqual(pg["queries"]["in_flight"], 0)
                    self.assertEqual(pg["connections"]["backoffs"], 0)

    def test_connect_without_answer_gives_503_in_time(self):
        """A 'server' that accepts TCP connections (the kernel's queue) but
        never answers: the connect gives up after --db-timeout, in every path
        (libpq's connect_timeout does not apply under PQconnectPoll)."""
        modes = MODES + ["event"] * ("event" in MODES)
        for i, mode in enumerate(modes):
            extra = "&blocking=1" if i == len(MODES) else ""
            with self.subTest(mode=mode, extra=extra), socket.socket() as silent:
                silent.bind(("127.0.0.1", 0))
                silent.listen(64)
                dead = "postgres://postgres@127.0.0.1:%d/postgres" % silent.getsockname()[1]
                with Server(mode, "--db", dead, "--db-timeout", "1000", *workers(mode)) as s:
                    t0 = time.time()
                    st, _, body = s.get("/db?delay=10" + extra, timeout=30)
                    elapsed = time.time() - t0
                    self.assertEqual(st, 503, body[:300])
                    self.assertIn(b"PostgreSQL did not answer within 1000 ms (connecting", body)
                    self.assertGreater(elapsed, 0.9)
                    self.assertLess(elapsed, 4)  # libpq's own 5 s, or the loop's 10 s, before
                    st, _, body = s.get("/db?delay=10" + extra, timeout=30)  # back-off, or again
                    self.assertEqual(st, 503)
                    self.assertIn(b"PostgreSQL", body)
                    self.assertEqual(s.get("/hello")[0], 200)
                    pg = pg_counters(s)
                    self.assertEqual(pg["queries"]["sent"], 2)
                    self.assertEqual(pg["queries"]["failed"]["timeout"], 2)
                    self.assertGreaterEqual(pg["connections"]["backoffs"], 1)
                    self.assertEqual(pg["connections"]["made"], 0)
                    self.assertEqual(pg["connections"]["open"], 0)
                    self.assertEqual(pg["queries"]["in_flight"], 0)

    def test_counters_after_real_queries(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                with Server(mode) as s:  # simulated: no PostgreSQL counters at all
                    self.assertNotIn("postgres", json.loads(s.get("/stats")[2]))
                    self.assertNotIn(b"httpmodes_postgres", s.get("/metrics")[2])
                with Server(mode, "--db", url(), *workers(mode)) as s:
                    n = 6
                    res = concurrent(lambda i: s.get("/db?delay=300", timeout=60), n)
                    self.assertEqual([r[0] for r in res], [200] * n, res[0][2][:300])
                    st, _, body = s.get("/dashboard?widgets=3&delay=10")  # 3 queries more
                    self.assertEqual(st, 200, body[:300])
                    pg = pg_counters(s)  # summed over every thread, loop and process
                    self.assertEqual(pg["queries"]["sent"], n + 3, pg)
                    self.assertEqual(pg["queries"]["answered"], n + 3, pg)
                    self.assertEqual(sum(pg["queries"]["failed"].values()), 0, pg)
                    self.assertEqual(pg["queries"]["in_flight"], 0, pg)
                    self.assertEqual(pg["queries"]["cancelled"], 0, pg)
                    self.assertEqual(pg["timeout_ms"], 10000)
                    # n at once need n connections, each kept idle for the next query
                    self.assertGreaterEqual(pg["connections"]["made"], n, pg)
                    self.assertEqual(pg["connections"]["open"], pg["connections"]["made"], pg)
                    self.assertTrue(wait_until(
                        lambda: our_connections() == pg["connections"]["open"], 5), pg)
                    self.assertEqual(pg["connections"]["backoffs"], 0, pg)
                    self.assertEqual(metric(s, "httpmodes_postgres_queries_answered_total"), n + 3)
                    self.assertEqual(metric(s, 'httpmodes_postgres_queries_failed_total'
                                               '{reason="timeout"}'), 0)
                    self.assertEqual(metric(s, "httpmodes_postgres_connections_open"),
                                     pg["connections"]["open"])
                    # a query under way shows as in flight until it is answered
                    th = threading.Thread(target=lambda: res.append(
                        s.get("/db?delay=1500", timeout=60)))
                    th.start()
                    seen = wait_until(lambda: pg_counters(s)["queries"]["in_flight"] == 1, 1.2)
                    th.join(60)
                    self.assertTrue(seen)
                    self.assertEqual(res[-1][0], 200)
                    pg = pg_counters(s)
                    self.assertEqual(pg["queries"]["in_flight"], 0, pg)
                    self.assertEqual(pg["queries"]["answered"], n + 4, pg)

    def test_max_connections_reached_gives_503(self):
        for mode in [m for m in MODES if harness.event_loop(m)]:
            with self.subTest(mode=mode):
                n = MAX_CONNECTIONS + 10
                with Server(mode, "--db", url()) as s:
                    res = concurrent(lambda i: s.get("/db?delay=500", timeout=60), n)
                    codes = [r[0] for r in res]
                    self.assertEqual(set(codes), {200, 503}, codes)
                    self.assertTrue(any(b"too many clients" in r[2] for r in res if r[0] == 503))
                    self.assertEqual(s.get("/hello")[0], 200)
                    # each 503 counted as "full": refused, or in the back-off that followed
                    failed = pg_counters(s)["queries"]["failed"]
                    self.assertEqual(failed["full"], codes.count(503), failed)
                    self.assertEqual(sum(failed.values()), codes.count(503), failed)
                # the connections are closed with the server: PostgreSQL has room again
                self.assertTrue(wait_until(lambda: our_connections() == 0, 10))


if __name__ == "__main__":
    unittest.main()
