"""labmodel: what each concurrency model should manage (the predictions) and
the plain-words summary of a run. Pure functions of the result rows and the
server's mode table, so the tests can feed them made-up rows.

A row is one dict per measured run (see compare); this module reads
  target, kind ("mode" or "target"), workload, concurrency, rps, ok_rps,
  errors_total, latency_ms{p50}, workers (the server's own count, if known)
and sets
  prediction, prediction_basis, ratio, miss.

The modes are not listed here: they come from the server's table
(`httpmodes --list-modes`, labrun.list_modes), and each mode's model is read
from its row: an event loop overlaps every wait and runs the K queries of
/dashboard at once; a pool (--workers fixed, or one per CPU) bounds both the
waits and the CPU work in progress by its N workers. Only a mode with neither
needs its name: one connection at a time (iterative) or a thread per
connection (threads); another such mode gets no prediction.

Predictions, in requests per second, with D the DB delay in seconds, C the
wrk connections, N the mode's workers, K the widgets of /dashboard and W the
work of one /cpu request in seconds:

  /db         one at a time 1/D; a pool min(C,N)/D; a thread per connection
              or an event loop C/D
  /dashboard  blocking modes wait for each of the K queries in turn (K*D per
              request): 1/(K*D), min(C,N)/(K*D), C/(K*D); an event loop runs
              them at once: C/D (one loop or N of them alike)
  /cpu        one at a time and one loop 1/W (one core); a thread per
              connection min(C,cores)/W; a pool or N loops min(C,cores,N)/W
  /hello      none: it measures the CPU ceiling of each mode

so iterative 1/D, threads and event C/D, prefork and pool min(C,N)/D,
reactors and offload C/D on /db; on /cpu reactors (N loops) and offload (a
CPU pool of N) are bounded like a pool, event like iterative.

With a bounded database pool (httpmodes --db-pool P, given to compare as
--server-arg=--db-pool=P) no more than P queries run at once, whatever the
model: /db becomes min(C, P, the model's bound)/D (Little's law: P
connections each busy D seconds), and /dashboard min(its queries at once,
P)/(K*D). Past P/D an event loop stops scaling: the rest of C queues for a
connection, and p99 grows with the queue.

The I/O-bound predictions are capped by that mode's /hello throughput at the
same concurrency, measured in the same run: no mode serves a DB page faster
than it serves a page that does nothing. Without /hello in the matrix the cap
is off (and the basis says so)."""

MISS = 0.10  # a run more than 10 % off its prediction is a miss

# the two modes with neither a loop nor a pool, which the table cannot tell apart:
# how many requests wait at once, and how many compute at once
BY_NAME = {"iterative": ("1", "1"), "threads": ("C", "C")}


def model(info):
    """The model of one mode from its row of the mode table (a dict of
    labrun.list_modes): (waits, computes, together), where waits and
    computes are "1", "C" (every connection) or "N" (min(C, N)), and
    together says the K queries of /dashboard run at once. Returns None for
    a mode with neither a loop nor a pool that BY_NAME does not know."""
    if info.get("event_loop"):
        return ("C", "1" if info.get("workers") == "none" else "N", True)
    if info.get("workers") in ("fixed", "cpus"):
        return ("N", "N", False)
    if info.get("name") in BY_NAME:
        return BY_NAME[info["name"]] + (False,)
    return None


def default_workers(info, cores):
    """N of a mode that was not told --workers: its table's default, one
    per CPU for "cpus"."""
    if info.get("workers") == "cpus" or not info.get("default_workers"):
        return cores
    return info["default_workers"]


def by_name(modes):
    """{name: row} of a mode table (a list of rows, in the server's order)."""
    return {m["name"]: m for m in modes or []}


def cpu_work_s(rows, modes):
    """W: seconds of work in one /cpu request on an idle server, from the
    concurrency-1 runs: the latency p50 of a mode with one event loop (one
    request at a time, nothing else to do), else the first mode's 1/rate in
    the table's order. Returns (W or None, where it came from)."""
    c1 = {r["target"]: r for r in rows
          if r["workload"] == "cpu" and r["concurrency"] == 1 and r.get("kind", "mode") == "mode"}
    table = by_name(modes)
    for name, r in c1.items():
        if model(table.get(name, {})) == ("C", "1", True) and (r.get("latency_ms") or {}).get("p50"):
            return r["latency_ms"]["p50"] / 1000.0, "%s's latency p50 at c=1" % name
    for m in modes or []:
        r = c1.get(m["name"])
        if r and r.get("rps"):
            return 1.0 / r["rps"], "%s's 1/rate at c=1" % m["name"]
    return None, None


def bound(kind, c, n):
    """How many of C requests proceed at once under kind "1", "C" or "N"."""
    return 1 if kind == "1" else c if kind == "C" else min(c, n)


WAITS_BASIS = {"1": "1", "C": "C", "N": "min(C,N)"}
CPU_BASIS = {"1": "1/W", "C": "min(C,cores)/W", "N": "min(C,cores,N)/W"}


def db_pool_of(server_args):
    """The --db-pool P among the server's arguments ("--db-pool=4" or
    "--db-pool", "4"); 0 when absent or off (no pool)."""
    pool = "0"
    args = list(server_args or [])
    for i, a in enumerate(args):
        if a.startswith("--db-pool="):
            pool = a.split("=", 1)[1]
        elif a == "--db-pool" and i + 1 < len(args):
            pool = args[i + 1]
    return int(pool) if pool.isdigit() else 0


def predict(rows, db_delay_ms, widgets, workers, cores, modes, db_pool=0):
    """Sets prediction, prediction_basis, ratio and miss on every row (None /
    False where there is no prediction). modes is the server's mode table
    (labrun.list_modes); a row's N is its own workers when it has them (the
    server said), else workers; db_pool is the server's --db-pool (0: none).
    Returns rows."""
    d = db_delay_ms / 1000.0
    table = by_name(modes)
    hello = {(r["target"], r["concurrency"]): r.get("rps") for r in rows if r["workload"] == "hello"}
    have_hello = any(r["workload"] == "hello" for r in rows)
    w, w_from = cpu_work_s(rows, modes)
    for r in rows:
        r["prediction"], r["prediction_basis"], r["ratio"], r["miss"] = None, None, None, False
        mode, c, wl = r["target"], r["concurrency"], r["workload"]
        m = model(table[mode]) if r.get("kind", "mode") == "mode" and mode in table else None
        if m is None:
            continue
        waits, computes, together = m
        n = r.get("workers") or workers or default_workers(table[mode], cores)
        p, basis = None, None
        queries = bound(waits, c, n) * (widgets if wl == "dashboard" and together else 1)
        if wl in ("db", "dashboard") and db_pool and db_pool < queries:
            # the pool, not the model, bounds the queries in flight
            p, basis = db_pool / (d * (widgets if wl == "dashboard" else 1)), \
                "P/D" if wl == "db" else "P/(K*D)"
            basis += ", P=%d (--db-pool)" % db_pool
        elif wl == "db" or (wl == "dashboard" and together):
            p, basis = bound(waits, c, n) / d, "%s/D" % WAITS_BASIS[waits]
        elif wl == "dashboard":
            p, basis = bound(waits, c, n) / (widgets * d), "%s/(K*D)" % WAITS_BASIS[waits]
        elif wl == "cpu" and w:
            k = bound(computes, c, n)  # CPU work in progress at once
            p, basis = min(k, cores) / w, CPU_BASIS[computes]
            basis += " (W=%.1f ms, %s)" % (w * 1000, w_from)
            if k > cores and r.get("duration_s"):
                p, basis = processor_sharing(k, w, cores, r["duration_s"], basis)
        if p is None:
            continue
        if "N" in basis:
            basis += ", N=%d" % n
        if wl in ("db", "dashboard"):
            cap = hello.get((mode, c))
            if cap and cap < p:
                p, basis = cap, basis + ", capped by /hello"
            elif not have_hello:
                basis += " (no /hello in the matrix: no CPU cap)"
        r["prediction"], r["prediction_basis"] = p, basis
        if r.get("rps") is not None and p > 0:
            r["ratio"] = r["rps"] / p
            r["miss"] = abs(r["ratio"] - 1) > MISS
    return rows


def processor_sharing(k, w, cores, t, basis):
    """k CPU-bound requests at once on fewer cores share them: all k start
    together (wrk's closed loop), each takes k*W/cores, and they finish
    together, batch after batch. A run of t seconds counts only the batches
    that finished: floor(t / (k*W/cores)) * k / t — near cores/W when a batch
    is short, nothing at all when one batch outlasts the run (thread-per-
    request has no bound on CPU work in progress: the more clients, the later
    everyone's answer). Returns (prediction, basis)."""
    batch = k * w / cores
    done = int(t / batch + 1e-9) * k
    return done / t, "%s, shared by %d at once: batches of %.2f s in a %.1f s run" % (
        basis, k, batch, t)


OTHER_CPU = 0.2  # cores used by neither the server nor wrk worth pointing out


def other_cpu(r):
    """Cores the machine spent on neither the server nor wrk during the run
    (another tenant's build, say), or None when not measured."""
    res = r.get("resources") or {}
    m, s, w = res.get("machine_cpu_cores"), res.get("server_cpu_cores"), res.get("wrk_cpu_cores")
    if m is None or s is None or w is None:
        return None
    return max(0.0, m - s - w)


SLOW_CPU = 1.10  # server CPU per /cpu request this much above W: the cores ran slower


def cpu_per_request_s(r):
    """Seconds of server CPU that one request of this run cost: the cores the
    server used over the rate it served (its own count when it gave one, else
    wrk's), or None when not measured."""
    res = r.get("resources") or {}
    cores = res.get("server_cpu_cores")
    served = (r.get("server") or {}).get("requests")
    secs = r.get("duration_s")
    rate = served / secs if served and secs else r.get("rps")
    if not cores or not rate:
        return None
    return cores / rate


def fmt_rate(x):
    if x is None:
        return "–"
    if x >= 100:
        return "{:,.0f}".format(x)
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def winners(rows):
    """{workload: [(concurrency, best row, runner-up row or None)]}, ranking
    the runs at each concurrency by ok_rps — responses that came back in time
    and with a 2xx/3xx status — so a mode that fails or drops clients cannot
    win by answering errors quickly."""
    out = {}
    for wl in dict.fromkeys(r["workload"] for r in rows):
        per_c = []
        for c in sorted({r["concurrency"] for r in rows if r["workload"] == wl}):
            cell = sorted((r for r in rows if r["workload"] == wl and r["concurrency"] == c),
                          key=lambda r: -(r.get("ok_rps") or 0))
            per_c.append((c, cell[0], cell[1] if len(cell) > 1 else None))
        out[wl] = per_c
    return out


def summary(rows, modes):
    """The generated summary: a list of Markdown lines, in plain words."""
    lines = []
    for wl, per_c in winners(rows).items():
        if not per_c:
            continue
        counts = {}
        for _, best, _ in per_c:
            counts[best["target"]] = counts.get(best["target"], 0) + 1
        c, best, second = per_c[-1]
        text = "**%s**: at %d connections **%s** won with %s good req/s" % (
            wl, c, best["target"], fmt_rate(best.get("ok_rps")))
        if second is not None:
            if second.get("ok_rps"):
                ratio = best["ok_rps"] / second["ok_rps"]
                how = ("%.1f× " % ratio) if ratio >= 1.1 else "%.0f %% ahead of " % ((ratio - 1) * 100)
                text += ", %s%s (%s)" % (how, second["target"], fmt_rate(second["ok_rps"]))
            else:
                text += "; %s got nothing through" % second["target"]
        if len(per_c) > 1:
            text += "; best at each level: " + ", ".join(
                "c=%d %s" % (cc, b["target"]) for cc, b, _ in per_c)
        lines.append("- " + text + ".")
    misses = [r for r in rows if r.get("miss")]
    w, _ = cpu_work_s(rows, modes)
    checked = [r for r in rows if r.get("ratio") is not None]
    if checked:
        lines.append("- %d of %d runs with a prediction landed within ±%d %% of it." % (
            len(checked) - len(misses), len(checked), MISS * 100))
    for r in sorted(misses, key=lambda r: (r["workload"], r["target"], r["concurrency"])):
        how = "under" if r["ratio"] < 1 else "over"
        err = ""
        if r.get("errors_total"):
            err = " with %d wrk errors" % r["errors_total"]
        other = other_cpu(r)
        if other is not None and other >= OTHER_CPU:
            err += "; meanwhile other work used %.1f of the machine's cores" % other
        per = cpu_per_request_s(r) if r["workload"] == "cpu" else None
        if per and w and (per > w * SLOW_CPU or per * SLOW_CPU < w):
            err += ("; each request cost the server %.0f ms of CPU against W = %.0f ms: the cores "
                    "themselves ran %s during this run than when W was measured (the host's load "
                    "or clock, which no figure inside this machine shows)" % (
                        per * 1000, w * 1000, "slower" if per > w else "faster"))
        lines.append("  - **miss**: %s %s c=%d: %s req/s is %.0f %% %s its prediction %s (%s)%s." % (
            r["target"], r["workload"], r["concurrency"], fmt_rate(r.get("rps")),
            abs(r["ratio"] - 1) * 100, how, fmt_rate(r["prediction"]), r["prediction_basis"], err))
    for r in rows:
        if r.get("prediction") == 0:  # no ratio to take: said here, never left out
            lines.append("  - **no answer predicted**: %s %s c=%d was predicted to finish no request within "
                         "the run (%s); it answered %s req/s%s." % (
                             r["target"], r["workload"], r["concurrency"], r["prediction_basis"],
                             fmt_rate(r.get("rps")),
                             " with %d wrk errors" % r["errors_total"] if r.get("errors_total") else ""))
    starved = [r for r in rows if r.get("errors_total")]
    if starved:
        lines.append("- Runs with wrk errors (these clients were refused, cut off or starved): " +
                     ", ".join("%s %s c=%d (%d)" % (r["target"], r["workload"], r["concurrency"],
                                                  r["errors_total"]) for r in starved) + ".")
    return lines
