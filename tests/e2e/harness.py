"""Shared helpers for the end-to-end tests: start the real httpmodes binary on a
free loopback port, talk to it with raw sockets or http.client, stop it.

Environment:
  HTTPMODES_BIN    path to the binary (default: build/server/httpmodes)
  HTTPMODES_MODES  comma-separated modes to test (default: all of them)
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("HTTPMODES_BIN", os.path.join(ROOT, "build", "server", "httpmodes"))


def mode_table(binary):
    """The binary's own table of modes (httpmodes --list-modes): name ->
    {"keep_alive": bool, "workers": "none"|"fixed"|"cpus", "default_workers": int,
    "event_loop": bool, "cpu_off_loop": bool}. Tests ask it instead of keeping lists of modes."""
    try:
        text = subprocess.run([binary, "--list-modes"], stdout=subprocess.PIPE, timeout=10).stdout.decode()
    except OSError:
        return {}
    table = {}
    for line in text.splitlines():
        name, ka, workers, default, loop, off_loop, _ = line.split("\t", 6)
        table[name] = {"keep_alive": ka == "on", "workers": workers,
                       "default_workers": int(default), "event_loop": loop == "yes",
                       "cpu_off_loop": off_loop == "yes"}
    return table


MODE_TABLE = mode_table(BIN)
ALL_MODES = list(MODE_TABLE)


def keeps_alive(mode):
    """Keep-alive is on by default in this mode."""
    return MODE_TABLE[mode]["keep_alive"]


def pooled(mode):
    """--workers sizes this mode (prefork, pool, reactors)."""
    return MODE_TABLE[mode]["workers"] != "none"


def event_loop(mode):
    """Its workers are event loops: database waits are timers, CPU blocks the loop."""
    return MODE_TABLE[mode]["event_loop"]


def sanitized(binary):
    """True for a binary built with AddressSanitizer (HTTPMODES_SANITIZE)."""
    try:
        with open(binary, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = sanitized(BIN)

STATUS_PROCESS = "httpmodes-live"  # the comm of prefork's status listener process


def worker_processes(pid):
    """The child processes of pid that serve requests (prefork's workers):
    its children but the status listener's process."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return []
    out = []
    for k in kids:
        try:
            with open("/proc/%d/comm" % k) as f:
                if f.read().strip() == STATUS_PROCESS:
                    continue
        except OSError:
            continue
        out.append(k)
    return out


def default_workers(mode):
    """The pool size the mode runs with when --workers is not given (1: no pool)."""
    t = MODE_TABLE[mode]
    if t["workers"] == "cpus":
        return len(os.sched_getaffinity(0))
    return t["default_workers"] if t["workers"] == "fixed" else 1


def bounded(mode):
    """A fixed number of workers, each serving one connection at a time:
    the rest wait in the kernel (iterative, prefork, pool)."""
    return not event_loop(mode) and (mode == "iterative" or pooled(mode))
def one_at_a_time(mode):
    """A single worker serving one connection at a time (iterative): every
    other client waits for it, however the defence cuts slow ones."""
    return bounded(mode) and default_workers(mode) == 1


MODES = [m for m in os.environ.get("HTTPMODES_MODES", ",".join(ALL_MODES)).split(",") if m]
HOST = "127.0.0.1"


class Server:
    """A running httpmodes process. Use as a context manager:

        with Server("event", "--db-delay", "50") as s:
            status, headers, body = s.get("/hello")
    """

    def __init__(self, mode, *args, env=None, bind=HOST, prefix=()):
        self.mode = mode
        self.args = list(args)
        self.env = env
        self.bind = bind
        self.prefix = list(prefix)  # e.g. ["prlimit", "--nproc=5", "runuser", "-u", "nobody", "--"]
        self.proc = None
        self.port = None
        self.tls_port = None  # set when started with --tls-port
        self.status_port = None  # the live view's port (unless --status-port off)
        self.stderr_lines = []
        self.returncode = None
        self.threads = []

    def start(self, timeout=10):
        cmd = self.prefix + [BIN, "--mode", self.mode, "--port", "0", "--bind", self.bind] + self.args
        full_env = dict(os.environ)
        if self.env:
            full_env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
        ready = threading.Event()

        def drain():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.stderr_lines.append(line)
                m = re.search(r"listening on http://\[?([^\]/]+?)\]?:(\d+)/", line)
                if m and self.port is None:
                    self.port = int(m.group(2))
                    t = re.search(r" and https://\[?[^\]/]+?\]?:(\d+)/", line)
                    self.tls_port = int(t.group(1)) if t else None
                    v = re.search(r"live view http://\[?[^\]/]+?\]?:(\d+)/live", line)
                    self.status_port = int(v.group(1)) if v else None
                    ready.set()
            ready.set()

        self.threads = [threading.Thread(target=drain, daemon=True),
                        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True)]
        for t in self.threads:
            t.start()
        if not ready.wait(timeout) or self.port is None:
            self.kill()
            raise RuntimeError("server did not start: %s" % "\n".join(self.stderr_lines))
        return self

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig and waits; returns the exit code (kills after timeout)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("server did not stop within %ss after signal %s" % (timeout, sig))
        elif self.proc:
            self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            rc = self.stop()
        finally:
            self.kill()
            self.close_pipes()
        if exc_type is None:
            # A clean stop is part of every test: SIGTERM must end the server
            # with 0, and a sanitizer build must have reported nothing.
            bad = [l for l in self.stderr_lines
                   if "Sanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]
            if bad:
                raise AssertionError("sanitizer report from the server:\n" + "\n".join(self.stderr_lines[-60:]))
            if rc != 0:
                raise AssertionError("server exited with %r after SIGTERM; stderr:\n%s"
                                     % (rc, "\n".join(self.stderr_lines[-30:])))

    def close_pipes(self):
        """Closes our ends of the server's output pipes once it has exited."""
        for t in self.threads:
            t.join(5)
        for f in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            try:
                f.close()
            except OSError:
                pass

    # ---- clients -------------------------------------------------------------

    def url(self, path="/"):
        host = "[%s]" % self.bind if ":" in self.bind else self.bind
        return "http://%s:%d%s" % (host, self.port, path)

    def tls_url(self, path="/"):
        host = "[%s]" % self.bind if ":" in self.bind else self.bind
        return "https://%s:%d%s" % (host, self.tls_port, path)

    def status_get(self, path, timeout=10):
        """GET path from the status listener (the live view). Returns
        (status, headers dict with lower-case names, body bytes)."""
        conn = http.client.HTTPConnection(self.bind, self.status_port, timeout=timeout)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def get(self, path, method="GET", headers=None, body=None, timeout=30, tls_context=None):
        """One request on a new connection (over HTTPS to tls_port when
        tls_context, an ssl.SSLContext, is given). Returns (status, headers
        dict with lower-case names, body bytes)."""
        if tls_context is not None:
            c = http.client.HTTPSConnection(self.bind, self.tls_port, timeout=timeout,
                                            context=tls_context)
        else:
            c = http.client.HTTPConnection(self.bind, self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def connect(self, timeout=10):
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((self.bind, self.port))
        return s

    def raw(self, data, timeout=5, half_close=False):
        """Sends raw bytes on a new connection and reads until the server closes
        or nothing arrives for `timeout` s. Returns (bytes, closed_by_server)."""
        s = self.connect(timeout)
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            return read_all(s, timeout)
        finally:
            s.close()


def read_all(sock, timeout):
    """Reads until EOF or `timeout` s of silence. Returns (bytes, closed)."""
    sock.settimeout(timeout)
    out = b""
    while True:
        try:
            d = sock.recv(65536)
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True
        if not d:
            return out, True
        out += d


def parse_responses(data):
    """Splits a byte stream into [(status, headers dict lower-case, body)].
    Bodies are delimited by Content-Length (every httpmodes response has one)."""
    out = []
    i = 0
    while i < len(data):
        end = data.find(b"\r\n\r\n", i)
        if end < 0:
            raise ValueError("truncated response head: %r" % data[i:i + 200])
        lines = data[i:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        if 100 <= status < 200:
            n = 0
        body = data[end + 4:end + 4 + n]
        out.append((status, headers, body))
        i = end + 4 + n
    return out


def interval(headers):
    """Returns the server-side (start, end) of a request in µs."""
    return int(headers["x-request-start-us"]), int(headers["x-request-end-us"])


def max_overlap(intervals):
    """Returns the largest number of intervals that are open at one instant."""
    events = []
    for s, e in intervals:
        events.append((s, 1))
        events.append((e, -1))
    events.sort(key=lambda x: (x[0], x[1]))  # ends before starts at equal times
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def concurrent(fn, n):
    """Runs fn(i) for i in range(n) in n threads at once; returns the results."""
    results = [None] * n
    errors = []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(10)
            results[i] = fn(i)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def backlog(port):
    """Connections waiting in the accept queues of the IPv4 listening
    sockets on port (from /proc/net/tcp): 0 once the server took them.
    Summed: in reactors each loop has its own SO_REUSEPORT listener and
    the kernel may queue a connection on any of them."""
    queued, listeners = 0, 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(":%04X" % port) and fields[3] == "0A":
                queued += int(fields[4].split(":")[1], 16)
                listeners += 1
    if not listeners:
        raise AssertionError("no listening socket on port %d" % port)
    return queued


def wait_until(pred, timeout=10, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False
