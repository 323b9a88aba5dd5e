"""labrun: the parts of the load-test lab that touch processes — start and stop
httpmodes on a free loopback port, run wrk with result.lua, read the server's
/stats, and sample its resources from /proc while wrk runs.

Everything here talks to loopback addresses only."""
import http.client
import importlib.machinery
import importlib.util
import json
import math
import os
import random
import re
import resource
import signal
import socket
import ssl
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "result.lua")

# the server's start line; the same pattern as tests/e2e/harness.py
START_RE = re.compile(r"listening on http://\[?([^\]/]+?)\]?:(\d+)/")
TLS_RE = re.compile(r"https://\[?([^\]/]+?)\]?:(\d+)/")
VERSION_RE = re.compile(r"^httpmodes (\S+):")
WORKERS_RE = re.compile(r"\(workers (\d+),")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def is_loopback(host):
    """True for 127.0.0.0/8, ::1 and localhost: the only hosts the lab loads."""
    if host in LOOPBACK_HOSTS:
        return True
    parts = host.split(".")
    return (len(parts) == 4 and parts[0] == "127"
            and all(p.isdigit() and int(p) < 256 for p in parts))


def load_script(name):
    """loadtest/NAME, a script with no .py (and maybe a dash), as a module."""
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), os.path.join(HERE, name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def ephemeral_low():
    """The first port the kernel hands to clients (32768 unless changed)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago, for a server that
    cannot be started on --port 0 and tell its port (nginx, Apache, the
    database, --tls-port). Taken below the kernel's ephemeral range when
    there is room: a port from that range can become some client's own
    (wrk's, a test's running beside) before the server binds it, and then
    the server cannot start."""
    low = ephemeral_low()
    if low > 11024:
        for _ in range(100):
            port = random.randrange(10000, low)
            with socket.socket() as s:  # no SO_REUSEADDR: not even in TIME_WAIT
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit():
    """Lets wrk and the server (children inherit it) hold thousands of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class ServerError(Exception):
    pass


MODE_FIELDS = ("name", "keep_alive", "workers", "default_workers", "event_loop", "cpu_off_loop",
               "summary")


def list_modes(binary):
    """The server's own mode table, from `binary --list-modes` (one mode a
    line, tab-separated: name, keep-alive default on/off, what --workers
    means none|fixed|cpus, default workers, event loop yes|no, CPU work off
    the loop yes|no, summary).
    Returns a list of dicts in the server's order. Raises ServerError when
    the binary cannot say (too old, or not httpmodes)."""
    try:
        out = subprocess.run([binary, "--list-modes"], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ServerError("%s --list-modes: %s" % (binary, e))
    modes = []
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if len(f) != len(MODE_FIELDS) or not re.match(r"^[a-z][a-z0-9_-]*$", f[0]):
            continue
        m = dict(zip(MODE_FIELDS, f))
        m["keep_alive"] = m["keep_alive"] == "on"
        m["event_loop"] = m["event_loop"] == "yes"
        m["cpu_off_loop"] = m["cpu_off_loop"] == "yes"
        m["default_workers"] = int(m["default_workers"]) if m["default_workers"].isdigit() else None
        modes.append(m)
    if out.returncode != 0 or not modes:
        raise ServerError("%s --list-modes gave no mode table (exit %s): %s" % (
            binary, out.returncode, (out.stderr or out.stdout).strip()[:200] or "no output"))
    return modes


class Server:
    """One httpmodes process on a free loopback port (port 0: the start line
    says which). With tls, it is also given --tls-port and wrk is pointed at
    the HTTPS listener; /stats is still read over plain HTTP."""

    def __init__(self, binary, mode, args, tls=False):
        self.binary, self.mode, self.args, self.tls = binary, mode, list(args), tls
        self.proc = None
        self.port = self.tls_port = None
        self.version = None
        self.workers = None  # from the start line, for modes with a pool
        self.start_line = ""
        self.lines = []  # stderr lines after the start line (warnings, errors)
        self.exit_code = None

    def start(self, timeout=10):
        # no live view: the lab reads /stats on the main port, and a status
        # port (by default the main port + 1000) could land on a port that
        # another server or wrk is using; an ARG of the user's comes later
        # and wins (--server-arg=--status-port=0)
        cmd = [self.binary, "--mode", self.mode, "--port", "0", "--bind", "127.0.0.1",
               "--status-port", "off"] + self.args
        if self.tls:
            self.tls_port = free_port()
            cmd += ["--tls-port", str(self.tls_port)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        ready = threading.Event()
        early = []

        def drain():
            for line in self.proc.stderr:
                line = line.rstrip("\n")
                m = START_RE.search(line)
                if m and self.port is None:
                    self.start_line = line
                    self.port = int(m.group(2))
                    t = TLS_RE.search(line)
                    if t:
                        self.tls_port = int(t.group(2))
                    v = VERSION_RE.search(line)
                    self.version = v.group(1) if v else None
                    w = WORKERS_RE.search(line)
                    self.workers = int(w.group(1)) if w else None
                    ready.set()
                elif self.port is None:
                    early.append(line)
                else:
                    self.lines.append(line)
            ready.set()

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        if not ready.wait(timeout) or self.port is None:
            self.kill()
            raise ServerError("%s did not start in mode %s: %s" % (
                self.binary, self.mode, " / ".join(early) or "no start line within %d s" % timeout))
        if self.tls and not TLS_RE.search(self.start_line):
            self.stop()
            raise ServerError("--tls: the server did not say it listens on https:// "
                              "(does this httpmodes have --tls-port?): %s" % self.start_line)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def url(self, path):
        if self.tls:
            return "https://127.0.0.1:%d%s" % (self.tls_port, path)
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stats_url(self):
        return "http://127.0.0.1:%d/stats" % self.port

    def stop(self, timeout=60):
        """SIGTERM and wait; SIGKILL after timeout. Returns the exit code
        (negative: killed by that signal)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.lines.append("lab: the server did not stop within %d s of SIGTERM; killed" % timeout)
                self.kill()
        if self.proc:
            self.exit_code = self.proc.returncode
            self._close()
        return self.exit_code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        """Closes the pipe from the server's stderr once everything it said
        has been read (prefork's workers may hold it a moment longer)."""
        if self.proc and self.proc.stderr and self.proc.poll() is not None:
            self._drain.join(5)
            if not self._drain.is_alive():
                self.proc.stderr.close()

    def log(self):
        """What the server said after its start line, less the normal stop line."""
        return [l for l in self.lines if l != "httpmodes: stopped"]


def wait_idle(url, timeout):
    """Polls /stats until the server has no request in flight but the one
    asking (or until timeout). Returns (stats, None) when idle, else (last
    stats or None, why)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        st, why = get_stats(url, max(0.05, left))
        if st is not None and (st.get("in_flight") or 0) <= 1:
            return st, None
        if st is not None:
            why = "%d requests still in flight" % (st["in_flight"] - 1)
        if time.monotonic() + 0.05 >= deadline:
            return st, why
        time.sleep(0.05)


def get_stats(url, timeout):
    """GET url (a /stats page) and parse its JSON. Returns (dict, None), or
    (None, why) — a server busy with a queue, a page that is not there or
    not JSON. Never raises."""
    m = re.match(r"(https?)://(\[[^\]]+\]|[^/:]+)(?::(\d+))?(/.*)?$", url)
    if not m:
        return None, "bad URL"
    scheme, host, port, path = m.group(1), m.group(2).strip("[]"), m.group(3), m.group(4) or "/"
    port = int(port) if port else (443 if scheme == "https" else 80)
    try:
        if scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # a loopback server's own certificate
            c = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
        else:
            c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request("GET", path, headers={"Connection": "close", "Accept": "application/json"})
        r = c.getresponse()
        body = r.read()
        c.close()
    except socket.timeout:
        return None, "no answer within %g s" % timeout
    except (OSError, http.client.HTTPException) as e:
        return None, "%s: %s" % (type(e).__name__, e)
    if r.status != 200:
        return None, "status %d" % r.status
    try:
        d = json.loads(body)
    except ValueError:
        return None, "not JSON"
    if not isinstance(d, dict) or not isinstance(d.get("requests"), dict):
        return None, "not an httpmodes /stats page"
    return d, None


# ---------------------------------------------------------------- /proc

CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_tree(pid):
    """pid and its children (prefork workers), from /proc."""
    pids = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids += [int(p) for p in f.read().split()]
        return pids
    except OSError:
        pass
    for name in os.listdir("/proc"):  # kernels without the children file
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def proc_sample(pid, listen_ports):
    """One look at the server: RSS (KiB, summed over its processes — pages
    shared by prefork workers count once per process), threads, processes,
    CPU seconds used so far, connections it holds open (socket descriptors,
    listeners left out, each socket once), and connections waiting in the
    listen queue (the kernel accepted them; the server has not yet)."""
    rss = threads = procs = 0
    cpu_ticks = 0
    per_pid = {}  # pid -> CPU seconds: deltas are taken per process (see cpu_delta)
    sockets = set()
    for p in process_tree(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                st = f.read()
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue  # a worker that just ended
        procs += 1
        m = re.search(r"VmRSS:\s+(\d+)", st)
        rss += int(m.group(1)) if m else 0
        m = re.search(r"Threads:\s+(\d+)", st)
        threads += int(m.group(1)) if m else 0
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        cpu_ticks += ticks
        per_pid[p] = ticks / CLK_TCK
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (p, fd))
            except OSError:
                continue
            if link.startswith("socket:"):
                sockets.add(link)
    queue, listeners = listen_queue(listen_ports)
    return {"t": time.monotonic(), "rss_kib": rss, "threads": threads, "processes": procs,
            "cpu_s": cpu_ticks / CLK_TCK, "cpu_by_pid": per_pid, "machine_cpu_s": machine_busy_s(),
            "held": max(0, len(sockets) - listeners), "queued": queue}


def cpu_delta(first, last):
    """CPU seconds the server's processes used between two samples, summed
    per process over the processes in both: a prefork worker that appears
    (or is first seen) between them brings its whole past CPU time into a
    plain difference of totals — the "4.51 cores on a 2-core machine" of an
    earlier report. Samples without per-process figures use the totals."""
    a, b = first.get("cpu_by_pid"), last.get("cpu_by_pid")
    if a is None or b is None:
        return last["cpu_s"] - first["cpu_s"]
    return sum(max(0.0, b[p] - a[p]) for p in b if p in a)


def cpus_of(pid):
    """How many CPUs process pid may run on (its affinity mask: what --cpus
    or taskset left it), or None when it cannot be read."""
    try:
        return len(os.sched_getaffinity(pid))
    except OSError:
        return None


def cpu_probe(base, path, n, timeout=10.0):
    """n single /cpu requests one after another (each on its own connection,
    nothing else in flight from us), asking for JSON. Returns a list of
    {"wall_us", "cpu_time_us", "cpu_worker"} — the server's own account of
    each — and the reasons of the ones that failed (second element)."""
    m = re.match(r"(https?)://(\[[^\]]+\]|[^/:]+)(?::(\d+))?$", base)
    out, errors = [], []
    if not m:
        return out, ["bad URL %s" % base]
    scheme, host, port = m.group(1), m.group(2).strip("[]"), int(m.group(3) or 80)
    sep = "&" if "?" in path else "?"
    for _ in range(n):
        try:
            if scheme == "https":
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                c = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
            else:
                c = http.client.HTTPConnection(host, port, timeout=timeout)
            c.request("GET", path + sep + "format=json",
                      headers={"Connection": "close", "Accept": "application/json"})
            r = c.getresponse()
            body = r.read()
            c.close()
            d = json.loads(body)
            out.append({"wall_us": int(d["wall_us"]), "cpu_time_us": int(d["cpu_time_us"]),
                        "cpu_worker": d.get("cpu_worker")})
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as e:
            errors.append("%s: %s" % (type(e).__name__, e))
    return out, errors


def cpu_probe_together(base, path, rounds, width, timeout=10.0):
    """rounds x width /cpu requests, width of them at once (one thread each),
    round after round: the work of one request while width of them compute
    together, as in a run with that many at once (two PBKDF2s on two cores
    can each take longer than one alone: shared caches, SMT siblings, the
    host). Returns (probes, errors) like cpu_probe."""
    out, errors = [], []
    for _ in range(rounds):
        got = [None] * width

        def one(i):
            got[i] = cpu_probe(base, path, 1, timeout)

        ts = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(width)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout + 5)
        for g in got:
            if g is None:
                errors.append("no answer within %g s" % timeout)
            else:
                out += g[0]
                errors += g[1]
    return out, errors


def machine_busy_s():
    """CPU seconds the whole machine has been busy (all cores, /proc/stat):
    beside the server's and wrk's, it shows whether anything else ran."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK  # less idle and iowait; guest is in user


def listen_queue(ports):
    """(connections waiting to be accepted, listening sockets) on the ports,
    from ss (its kernel-side filter reads listeners only); (None, 0) without ss."""
    queue, listeners = 0, 0
    for port in ports:
        try:
            out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None, len(ports)
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 2 and f[1].isdigit():
                queue += int(f[1])
                listeners += 1
    return queue, max(listeners, len(ports))


class Sampler:
    """Samples the server from /proc every interval seconds while wrk runs,
    and reads its /stats once half-way (the server's own count of open
    connections; a blocking server that is busy may not answer in time)."""

    def __init__(self, server, interval, stats_at=None, stats_timeout=1.0):
        self.server = server
        self.interval = interval
        self.stats_at, self.stats_timeout = stats_at, stats_timeout
        self.samples = []
        self.mid_stats, self.mid_stats_error = None, None
        self.probes = 0  # connections this sampler made to the server
        self._stop = threading.Event()
        self._threads = []

    def start(self):
        t = threading.Thread(target=self._run, daemon=True)
        t.start()
        self._threads.append(t)
        if self.stats_at is not None:
            t = threading.Thread(target=self._mid, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _ports(self):
        return [p for p in (self.server.port, self.server.tls_port) if p]

    def _run(self):
        if self._stop.wait(self.interval / 2):  # let wrk connect first
            return
        while not self._stop.is_set():
            self.samples.append(proc_sample(self.server.pid, self._ports()))
            self._stop.wait(self.interval)

    def _mid(self):
        if self._stop.wait(self.stats_at):
            return
        self.probes += 1
        self.mid_stats, self.mid_stats_error = get_stats(self.server.stats_url(), self.stats_timeout)

    def stop(self):
        """Stops sampling (the mid-run /stats read may still be waiting: it is
        left to time out on its own). Only a run too short for any sample
        gets one now, after the fact."""
        self._stop.set()
        self._threads[0].join()
        if not self.samples:
            self.samples.append(proc_sample(self.server.pid, self._ports()))
        return self


# ---------------------------------------------------------------- wrk

def wrk_command(url, connections, seconds, timeout_s, script=LUA):
    threads = max(1, min(2, connections))
    # result.lua needs -c to take out the samples wrk makes up (see there)
    return ["env", "HTTPMODES_WRK_CONNECTIONS=%d" % connections, "wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % max(1, math.ceil(seconds)),
            "--timeout", "%gs" % timeout_s, "-s", script, url]


def run_wrk(url, connections, seconds, timeout_s, on_start=None):
    """Runs wrk for seconds (wrk takes whole seconds: a fraction is cut short
    with SIGINT, after which wrk still prints its results). Returns (result
    dict from result.lua or None, wrk's text output, wrk's CPU seconds).
    on_start() is called once wrk has been started."""
    cmd = wrk_command(url, connections, seconds, timeout_s)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace")
    if on_start:
        on_start()
    out_chunks = []
    reader = threading.Thread(target=lambda: out_chunks.append(p.stdout.read()), daemon=True)
    reader.start()
    start = time.monotonic()
    interrupted = seconds == math.ceil(seconds)  # nothing to cut short
    deadline = start + seconds + timeout_s + 30
    usage = None
    while usage is None:
        # wait4 reaps wrk itself, so its CPU time is wrk's alone
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            usage = ru
            break
        now = time.monotonic()
        if not interrupted and now - start >= seconds:
            p.send_signal(signal.SIGINT)
            interrupted = True
        if now > deadline:
            p.kill()
        time.sleep(0.02)
    reader.join(10)
    cpu = usage.ru_utime + usage.ru_stime
    text = "".join(out_chunks)
    result = None
    for line in text.splitlines():
        if line.startswith('{"wrk_result"'):
            try:
                result = json.loads(line)
            except ValueError:
                result = None
    return result, text, cpu


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=10)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None
