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
connection, and p99 grows with the queue. compare --db-pools runs /db once
per pool size, each row with its own db_pool, which overrides the run's.

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


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    h = len(xs) // 2
    return xs[h] if len(xs) % 2 else (xs[h - 1] + xs[h]) / 2.0


def calibrated_w(r):
    """W of one /cpu run from the probes beside it (compare.calibrate: a few
    single requests on the idle server just before the run and just after):
    the median of the CPU time each one says it took (its thread's CPU
    clock, so a probe that waited for a core still counts only its work).
    Returns (W in seconds, where it came from) or (None, None) without
    probes. The drift between the before and after medians is said when it
    is above 5 %: the machine's speed changed during the run."""
    cal = r.get("calibration") or {}
    got = {k: [p["cpu_time_us"] for p in cal.get(k) or [] if p.get("cpu_time_us")]
           for k in ("before", "after")}
    every = got["before"] + got["after"]
    if not every:
        return None, None
    w = median(every) / 1e6
    text = "median CPU time of %d probes beside the run" % len(every)
    b, a = median(got["before"]), median(got["after"])
    if b and a and abs(a / b - 1) > 0.05:
        text += ", %.1f ms before and %.1f ms after" % (b / 1000.0, a / 1000.0)
    return w, text


def cpu_cores(r, cores, k=None):
    """The cores the server could use during run r for k requests computing
    at once (None: as many as it may), and how that was found: the CPUs it
    may run on (its affinity — --cpus or taskset — r["cpus"], else cores),
    less what the rest of the machine took meanwhile (other tenants, wrk:
    the machine's busy time from /proc/stat less the server's) when that
    leaves fewer. Taken interval by interval between the samples when they
    are there — min(k, allowed, free) averaged, so a burst of other work
    that left one core while the server needed two counts as such — else
    from the run's averages. cores is the machine's CPU count. Returns
    (cores, text)."""
    allowed = r.get("cpus") or cores
    want = allowed if k is None else min(k, allowed)
    other = other_cpu(r)
    if other is None:
        return want, "cores=%d" % allowed
    res = r.get("resources") or {}
    wrk = res.get("wrk_cpu_cores") or 0.0
    spans = res.get("other_cpu_cores_by_interval") or [other]
    got = sum(min(want, max(cores - o - wrk, 0.05)) for o in spans) / len(spans)
    if got >= want - 0.005:
        return want, "cores=%d" % allowed
    return got, "cores=%.2f: %d allowed, less %.2f taken by other work and %.2f by wrk%s" % (
        got, allowed, other, wrk, " (over %d intervals)" % len(spans) if len(spans) > 1 else "")


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
    server said), else workers; db_pool is the server's --db-pool (0: none),
    unless the row has its own db_pool (compare --db-pools; 0: none).
    Returns rows."""
    d = db_delay_ms / 1000.0
    table = by_name(modes)
    hello = {(r["target"], r["concurrency"]): r.get("rps") for r in rows if r["workload"] == "hello"}
    have_hello = any(r["workload"] == "hello" for r in rows)
    w, w_from = cpu_work_s(rows, modes)
    for r in rows:
        r["prediction"], r["prediction_basis"], r["ratio"], r["miss"] = None, None, None, False
        r["prediction_low"] = None
        mode, c, wl = r["target"], r["concurrency"], r["workload"]
        m = model(table[mode]) if r.get("kind", "mode") == "mode" and mode in table else None
        if m is None:
            continue
        waits, computes, together = m
        n = r.get("workers") or workers or default_workers(table[mode], cores)
        p, basis, low = None, None, None
        queries = bound(waits, c, n) * (widgets if wl == "dashboard" and together else 1)
        pool = r["db_pool"] if r.get("db_pool") is not None else db_pool  # the row's own (--db-pools)
        if wl in ("db", "dashboard") and pool and pool < queries:
            # the pool, not the model, bounds the queries in flight
            p, basis = pool / (d * (widgets if wl == "dashboard" else 1)), \
                "P/D" if wl == "db" else "P/(K*D)"
            basis += ", P=%d (--db-pool)" % pool
        elif wl == "db" or (wl == "dashboard" and together):
            p, basis = bound(waits, c, n) / d, "%s/D" % WAITS_BASIS[waits]
        elif wl == "dashboard":
            p, basis = bound(waits, c, n) / (widgets * d), "%s/(K*D)" % WAITS_BASIS[waits]
        elif wl == "cpu" and (w or calibrated_w(r)[0]):
            wr, wr_from = calibrated_w(r)
            ww, ww_from = (wr, wr_from) if wr else (w, w_from)
            k = bound(computes, c, n)  # CPU work in progress at once
            cc, cc_text = cpu_cores(r, cores, k)
            p, basis = cc / ww, CPU_BASIS[computes]
            basis += " (W=%.1f ms, %s; %s)" % (ww * 1000, ww_from, cc_text)
            if k > (r.get("cpus") or cores) and r.get("duration_s"):
                p, basis, low = processor_sharing(k, ww, cc, r["duration_s"], basis)
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
        r["prediction_low"] = low if low is not None and low < p else None
        if r.get("rps") is not None and p > 0:
            r["ratio"] = ratio_to(r["rps"], r["prediction_low"], p)
            r["miss"] = abs(r["ratio"] - 1) > MISS
    return rows


def ratio_to(rate, low, high):
    """rate over the prediction: over its nearer end when it is a range
    (low, high), 1.0 inside it."""
    if low is None or rate >= high:
        return rate / high
    if rate >= low:
        return 1.0
    return rate / low


BATCH_JITTER = 0.10  # how far a batch's end may move: W's drift beside one run (see calibrated_w)


def processor_sharing(k, w, cores, t, basis):
    """k CPU-bound requests at once on fewer cores share them: all k start
    together (wrk's closed loop), each takes k*W/cores, and they finish
    together, batch after batch. A run of t seconds counts only the batches
    that finished: floor(t / (k*W/cores)) * k / t — near cores/W when a batch
    is short, nothing at all when one batch outlasts the run (thread-per-
    request has no bound on CPU work in progress: the more clients, the later
    everyone's answer). When batches are long (over MISS of the run) and the
    run ends within BATCH_JITTER of a batch's end, whether that batch is
    counted is chance: the prediction is then the range of batches done with
    batches BATCH_JITTER longer or shorter.
    Returns (prediction, basis, low end of the range or None)."""
    batch = k * w / cores
    done = int(t / batch + 1e-9) * k
    text = "%s, shared by %d at once: batches of %.2f s in a %.1f s run" % (basis, k, batch, t)
    few = int(t / (batch * (1 + BATCH_JITTER)) + 1e-9) * k
    many = int(t / (batch * (1 - BATCH_JITTER)) + 1e-9) * k
    if few == many or batch < MISS * t:  # many short batches: a batch more or less is in the noise
        return done / t, text, None
    text += " (it ends within %d %% of a batch's end: %d or %d requests done)" % (
        BATCH_JITTER * 100, few, many)
    return many / t, text, few / t


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


def starved_min(r):
    """Connections of run r that got no answer at all: at least C less the
    responses wrk received (each response answers one connection; a server
    that serves some connections again and again starves more). 0 when
    every connection could have had one."""
    if r.get("requests") is None:  # not measured
        return 0
    return max(0, r["concurrency"] - r["requests"])


def latency_share(r):
    """The share of run r's requests that its latency percentiles cover:
    the responses within wrk's timeout over every request that was sent and
    not answered in time — the late ones and one per starved connection.
    None when nothing was sent."""
    in_time = r.get("in_time")
    if in_time is None:
        in_time = (r.get("requests") or 0) - (r.get("errors") or {}).get("timeout", 0)
    total = (r.get("requests") or 0) + starved_min(r)
    # wrk's histogram can hold a few more answers than its request count
    # (those completed as it stopped): at most all of them
    return min(1.0, in_time / total) if total else None


def fmt_prediction(r):
    """A row's prediction as text: one rate, or "low–high" for a range."""
    if r.get("prediction_low") is not None:
        return "%s–%s" % (fmt_rate(r["prediction_low"]), fmt_rate(r.get("prediction")))
    return fmt_rate(r.get("prediction"))


def fmt_rate(x):
    if x is None:
        return "–"
    if x >= 100:
        return "{:,.0f}".format(x)
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def measured(rows):
    """The rows with a measurement: a run wrk gave no result for (it hung or
    died) is no rate of 0, and takes no part in a ranking."""
    return [r for r in rows if not r.get("no_result")]


def winners(rows):
    """{workload: [(concurrency, best row, runner-up row or None)]}, ranking
    the runs at each concurrency by ok_rps — responses that came back in time
    and with a 2xx/3xx status — so a mode that fails or drops clients cannot
    win by answering errors quickly."""
    out = {}
    for wl in dict.fromkeys(r["workload"] for r in rows):
        per_c = []
        for c in sorted({r["concurrency"] for r in rows if r["workload"] == wl}):
            cell = sorted((r for r in measured(rows) if r["workload"] == wl and r["concurrency"] == c),
                          key=lambda r: -(r.get("ok_rps") or 0))
            if cell:
                per_c.append((c, cell[0], cell[1] if len(cell) > 1 else None))
        out[wl] = per_c
    return out


# Two rates closer than this are a tie: the same cell measured again on this
# machine moves by up to this much (loadtest/README.md, "Ties": repeat runs of
# `compare --quick` on 2026-12-03). Below it, naming a winner would be noise.
TIE = 0.08


def tied(a, b):
    """True when good rates a >= b are within TIE of each other (both 0: a tie)."""
    if not a:
        return not b
    return (a - (b or 0)) / a <= TIE


def ties(cell):
    """The runs of one cell (sorted best first by ok_rps) tied with the best."""
    return [r for r in cell if tied(cell[0].get("ok_rps") or 0, r.get("ok_rps") or 0)]


def summary(rows, modes):
    """The generated summary: a list of Markdown lines, in plain words."""
    lines = []
    for wl, per_c in winners(rows).items():
        if not per_c:
            continue
        c, best, second = per_c[-1]
        if second is not None and tied(best.get("ok_rps"), second.get("ok_rps")):
            cell = sorted((r for r in measured(rows) if r["workload"] == wl and r["concurrency"] == c),
                          key=lambda r: -(r.get("ok_rps") or 0))
            text = "**%s**: at %d connections a **tie within noise** (±%d %%) between %s (%s good req/s)" % (
                wl, c, TIE * 100, ", ".join("**%s**" % r["target"] for r in ties(cell)),
                "–".join(fmt_rate(r.get("ok_rps")) for r in (ties(cell)[-1], ties(cell)[0])))
        else:
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
                "c=%d %s" % (cc, b["target"] if nxt is None or not tied(b.get("ok_rps"), nxt.get("ok_rps"))
                             else "tie") for cc, b, nxt in per_c)
        lines.append("- " + text + ".")
    misses = [r for r in rows if r.get("miss") and not r.get("outside")]
    w, _ = cpu_work_s(rows, modes)
    checked = [r for r in rows if r.get("ratio") is not None and not r.get("outside")]
    if checked:
        per_wl = []
        for wl in dict.fromkeys(r["workload"] for r in checked):
            n = [r for r in checked if r["workload"] == wl]
            per_wl.append("/%s %d of %d" % (wl, sum(1 for r in n if not r["miss"]), len(n)))
        lines.append("- %d of %d runs with a prediction landed within ±%d %% of it (%s)." % (
            len(checked) - len(misses), len(checked), MISS * 100, ", ".join(per_wl)))
    crowded = [r for r in checked if r["workload"] == "cpu" and other_cpu(r) is not None
               and other_cpu(r) > (r.get("cpus") or 1) / 2.0]
    if crowded:
        lines.append("- %d of the /cpu runs shared the machine with other work that took more than half "
                     "of the server's cores (%s); %d of them still landed within ±%d %%: the free cores "
                     "come from samples a fraction of a second apart, and contention between them "
                     "goes unseen." % (
                         len(crowded), ", ".join("%s c=%d %.1f" % (r["target"], r["concurrency"], other_cpu(r))
                                                 for r in crowded),
                         sum(1 for r in crowded if not r["miss"]), MISS * 100))
    outside = [r for r in rows if r.get("ratio") is not None and r.get("outside")]
    if outside:
        lines.append("- Counted apart, never in the figure above: %d of %d runs against outside "
                     "targets landed within ±%d %% of the prediction of the mode they named (the lab "
                     "cannot see their machine: no calibration of its cores, no /proc)." % (
                         sum(1 for r in outside if not r["miss"]), len(outside), MISS * 100))
    misses += [r for r in outside if r.get("miss")]
    for r in sorted(misses, key=lambda r: (r["workload"], r["target"], r["concurrency"])):
        how = "under" if r["ratio"] < 1 else "over"
        err = ""
        if r.get("errors_total"):
            err = " with %d wrk errors" % r["errors_total"]
        other = other_cpu(r)
        if other is not None and other >= OTHER_CPU:
            err += "; meanwhile other work used %.1f of the machine's cores" % other
        per = cpu_per_request_s(r) if r["workload"] == "cpu" else None
        wr = (calibrated_w(r)[0] or w) if r["workload"] == "cpu" else None
        if per and wr and (per > wr * SLOW_CPU or per * SLOW_CPU < wr):
            err += ("; each request cost the server %.1f ms of CPU during the run against W = %.1f ms "
                    "in the probes beside it: the cores themselves ran %s while loaded (the "
                    "host's load or clock, which no figure inside this machine shows)" % (
                        per * 1000, wr * 1000, "slower" if per > wr else "faster"))
        lines.append("  - **miss**: %s %s c=%d: %s req/s is %.0f %% %s its prediction %s (%s)%s." % (
            r["target"], r["workload"], r["concurrency"], fmt_rate(r.get("rps")),
            abs(r["ratio"] - 1) * 100, how, fmt_prediction(r), r["prediction_basis"], err))
    for r in rows:
        if r.get("prediction") == 0:  # no ratio to take: said here, never left out
            lines.append("  - **no answer predicted**: %s %s c=%d was predicted to finish no request within "
                         "the run (%s); it answered %s req/s%s." % (
                             r["target"], r["workload"], r["concurrency"], r["prediction_basis"],
                             fmt_rate(r.get("rps")),
                             " with %d wrk errors" % r["errors_total"] if r.get("errors_total") else ""))
    hungry = [r for r in rows if starved_min(r)]
    if hungry:
        lines.append("- Starved clients — connections that got no answer at all during the run (at least "
                     "C less the responses: each response answers one connection): " + ", ".join(
                         "%s %s c=%d: %d of %d" % (r["target"], r["workload"], r["concurrency"],
                                                   starved_min(r), r["concurrency"]) for r in hungry) +
                     ". Their requests are in no latency figure.")
    starved = [r for r in rows if r.get("errors_total")]
    if starved:
        lines.append("- Runs with wrk errors (these clients were refused, cut off or starved): " +
                     ", ".join("%s %s c=%d (%d)" % (r["target"], r["workload"], r["concurrency"],
                                                  r["errors_total"]) for r in starved) + ".")
    return lines
