"""labmodel: what each concurrency model should manage (the predictions) and
the plain-words summary of a run. Pure functions of the result rows, so the
tests can feed them made-up rows.

A row is one dict per measured run (see compare); this module reads
  target, kind ("mode" or "target"), workload, concurrency, rps, ok_rps,
  errors_total, latency_ms{p50}
and sets
  prediction, prediction_basis, ratio, miss.

Predictions, in requests per second, with D the DB delay in seconds, C the
wrk connections, N the prefork workers, K the widgets of /dashboard and W
the work of one /cpu request in seconds:

  /db         iterative 1/D, prefork min(C,N)/D, threads and event C/D
  /dashboard  K independent queries: blocking modes wait for each in turn
              (K*D per request): iterative 1/(K*D), prefork min(C,N)/(K*D),
              threads C/(K*D); the event loop runs them at once: C/D
  /cpu        iterative and event 1/W (one core); threads min(C,cores)/W,
              prefork min(C,cores,N)/W
  /hello      none: it measures the CPU ceiling of each mode

The I/O-bound predictions are capped by that mode's /hello throughput at the
same concurrency, measured in the same run: no mode serves a DB page faster
than it serves a page that does nothing. Without /hello in the matrix the cap
is off (and the basis says so)."""

MODES = ("iterative", "threads", "prefork", "event")
MISS = 0.10  # a run more than 10 % off its prediction is a miss


def cpu_work_s(rows):
    """W: seconds of work in one /cpu request on an idle server, from the
    concurrency-1 runs: event's latency p50 (one request at a time, nothing
    else to do), else iterative's 1/rate, else any mode's. Returns (W or None,
    where it came from)."""
    c1 = {r["target"]: r for r in rows
          if r["workload"] == "cpu" and r["concurrency"] == 1 and r.get("kind", "mode") == "mode"}
    ev = c1.get("event")
    if ev and (ev.get("latency_ms") or {}).get("p50"):
        return ev["latency_ms"]["p50"] / 1000.0, "event's latency p50 at c=1"
    for m in ("iterative", "threads", "prefork"):
        r = c1.get(m)
        if r and r.get("rps"):
            return 1.0 / r["rps"], "%s's 1/rate at c=1" % m
    return None, None


def predict(rows, db_delay_ms, widgets, workers, cores):
    """Sets prediction, prediction_basis, ratio and miss on every row (None /
    False where there is no prediction). Returns rows."""
    d = db_delay_ms / 1000.0
    hello = {(r["target"], r["concurrency"]): r.get("rps") for r in rows if r["workload"] == "hello"}
    have_hello = any(r["workload"] == "hello" for r in rows)
    w, w_from = cpu_work_s(rows)
    for r in rows:
        r["prediction"], r["prediction_basis"], r["ratio"], r["miss"] = None, None, None, False
        mode, c, wl = r["target"], r["concurrency"], r["workload"]
        if r.get("kind", "mode") != "mode" or mode not in MODES:
            continue
        p, basis = None, None
        if wl == "db":
            if mode == "iterative":
                p, basis = 1 / d, "1/D"
            elif mode == "prefork":
                p, basis = min(c, workers) / d, "min(C,N)/D"
            else:
                p, basis = c / d, "C/D"
        elif wl == "dashboard":
            kd = widgets * d
            if mode == "iterative":
                p, basis = 1 / kd, "1/(K*D)"
            elif mode == "prefork":
                p, basis = min(c, workers) / kd, "min(C,N)/(K*D)"
            elif mode == "threads":
                p, basis = c / kd, "C/(K*D)"
            else:
                p, basis = c / d, "C/D"
        elif wl == "cpu" and w:
            if mode in ("iterative", "event"):
                p, basis = 1 / w, "1/W"
            elif mode == "threads":
                p, basis = min(c, cores) / w, "min(C,cores)/W"
            else:
                p, basis = min(c, cores, workers) / w, "min(C,cores,N)/W"
            basis += " (W=%.1f ms, %s)" % (w * 1000, w_from)
            k = c if mode == "threads" else min(c, workers) if mode == "prefork" else 1
            if k > cores and r.get("duration_s"):
                p, basis = processor_sharing(k, w, cores, r["duration_s"], basis)
        if p is None:
            continue
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


def summary(rows):
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
    w, _ = cpu_work_s(rows)
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
