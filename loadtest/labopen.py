"""labopen: the lab's open-loop sweep (compare --open-loop) — run the C
generator (loadtest/openloop.c, built as build/loadtest/openloop) at offered
loads from 10 % to 150 % of each mode's predicted capacity, and draw what it
measured: p50/p99 latency against offered load, one small chart per mode with
the predicted capacity as a vertical line (the hockey stick), and the same
mode's closed-loop (wrk) and open-loop p99 side by side at the same
throughput (coordinated omission, seen).

An open-loop row (meta["open_loop"]["runs"] in results.json) holds
  target, workload, path, connections, offered_pct, rate, capacity,
  capacity_basis, achieved_rps, scheduled, sent, completed, unsent,
  errors{connect,read,write,status,timeout}, max_queue, opened,
  latency_ms{p50,p90,p99,p99.9,max,mean}, answered (completed / scheduled),
  notes."""
import json
import math
import os
import subprocess

import labmodel
import labreport

PCTS = {"quick": [10, 50, 90, 120, 150], "full": [10, 25, 50, 70, 85, 100, 115, 130, 150]}


def run(binary, url, rate, duration, connections, timeout, poisson=False, seed=1):
    """Runs the generator once. Returns (its JSON result or None, why not)."""
    cmd = [binary, "--url", url, "--rate", "%g" % rate, "--duration", "%g" % duration,
           "--connections", str(connections), "--timeout", "%g" % timeout, "--seed", str(seed)]
    if poisson:
        cmd.append("--poisson")
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=duration + timeout + 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "%s: %s" % (os.path.basename(binary), e)
    for line in p.stdout.splitlines():
        if line.startswith('{"openloop"'):
            try:
                return json.loads(line), None
            except ValueError:
                break
    return None, "openloop exit %s: %s" % (p.returncode, (p.stderr or p.stdout).strip()[-300:])


def row_of(mode, wl, path, connections, pct, rate, capacity, basis, res, why):
    """One open-loop row from the generator's result (res; None: failed)."""
    r = {"target": mode, "workload": wl, "path": path, "connections": connections,
         "offered_pct": pct, "rate": rate, "capacity": capacity, "capacity_basis": basis,
         "achieved_rps": None, "scheduled": None, "sent": None, "completed": None, "unsent": None,
         "errors": {}, "max_queue": None, "opened": None, "latency_ms": {}, "answered": None,
         "notes": [why] if why else []}
    if res:
        for k in ("achieved_rps", "scheduled", "sent", "completed", "unsent", "max_queue", "opened"):
            r[k] = res.get(k)
        r["errors"] = res.get("errors") or {}
        r["latency_ms"] = {k: (v / 1000.0 if v is not None else None)
                           for k, v in (res.get("latency_us") or {}).items()}
        ok = (res.get("completed") or 0) - r["errors"].get("status", 0)
        r["answered"] = ok / res["scheduled"] if res.get("scheduled") else None
    return r


def capacity(mode, wl, connections, cell, closed_rows, settings, cores, modes):
    """The predicted capacity (req/s) of mode on workload wl with this many
    connections: labmodel's prediction for a closed-loop run at that C (no
    batches: the open loop has no run-length effect), from a cell dict that
    may carry workers, cpus and a calibration. The same mode's /hello at the
    nearest C caps the I/O predictions, as in the closed-loop report.
    Returns (capacity or None, basis)."""
    row = dict(cell, target=mode, kind="mode", workload=wl, concurrency=connections, rps=None)
    hello = [dict(r) for r in closed_rows if r["target"] == mode and r["workload"] == "hello"]
    if hello:
        near = min(hello, key=lambda r: abs(math.log(r["concurrency"]) - math.log(connections)))
        near["concurrency"] = connections
        hello = [near]
    labmodel.predict([row] + hello, settings["db_delay_ms"], settings["widgets"],
                     settings["workers"], cores, modes)
    return row.get("prediction"), row.get("prediction_basis")


# ---------------------------------------------------------------- charts
# Each mode is drawn as everywhere in the report (labreport.looks: its
# colour and marker shape); p50 filled, p99 the open form of the same shape.
# The keys sit under each panel, never over the data; latency never exceeds
# the timeout, so the band above the timeout line (the axis runs to 3x it)
# is kept for labels, spread apart with labreport.spread.

def _layout(n):
    cols = min(n, 4)
    return int(math.ceil(n / float(cols))), cols


def _render(out, name, n, header, panels, png):
    """One small chart per mode, four to a row (labreport.render_panels)."""
    rows, cols = _layout(n)
    return labreport.render_panels(out, name, header, panels, (rows, cols),
                                   (270 * cols + 40, 270 * rows + 40), png)


def nice_step(xmax, n=4):
    """A round tic step giving at most about n tics from 0 to xmax."""
    raw = max(xmax, 1e-9) / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _num(x):
    return labreport.num(x)


def _lat_range(rows, timeout_s):
    """(lo, hi) of a latency axis (ms, log): from the decade below the
    fastest to 3x the timeout — no latency is above the timeout, and the
    band between is where the labels go."""
    vals = []
    for r in rows:
        vals += [(r.get("latency_ms") or {}).get("p50"), (r.get("latency_ms") or {}).get("p99")]
    lo, _ = labreport.log_range(vals + [timeout_s * 1000])
    return lo, timeout_s * 1000 * 3


# the key under each panel, below its x label (a key in the bottom margin
# would print over the label)
PANEL = ["set grid lc rgb '#dddddd'", "set ytics format '%g'", "set xtics font ',8'",
         "set border lc rgb '#555555'", "set bmargin 6",
         "set key at graph 0.5, graph -0.3 center top horizontal maxcols 2 font ',8' samplen 2 spacing 0.9"]


def _above_timeout(xs, xr, t_ms, hi, xlog):
    """Heights just above the timeout line (inside the label band) for
    labels at xs, and x positions spread apart so none prints over another
    (labels about a sixth of a panel wide)."""
    xs_spread = labreport.spread(xs, xr[0], xr[1], log=xlog, gap=0.17)
    y = 10 ** (math.log10(t_ms) + 0.55 * (math.log10(hi) - math.log10(t_ms)))
    return xs_spread, y


def share_text(x):
    """A share as a short label: "12%", "0.5%" below one per cent."""
    return ("%.1f%%" % (x * 100)) if x < 0.0095 else ("%d%%" % round(x * 100))


def chart_hockey(out, wl, rows, look, timeout_s, png):
    """p50 and p99 against offered load, one panel per mode (look: the
    modes' labreport.looks in order); the predicted capacity is the dashed
    vertical line; runs where some requests went unanswered (timeouts,
    never sent) get a red circle on the timeout line and their share above it."""
    modes = [(m, col, pt) for m, col, pt in look if any(r["target"] == m for r in rows)]
    lo, hi = _lat_range(rows, timeout_s)
    t_ms = timeout_s * 1000
    panels = []
    for i, (m, col, pt) in enumerate(modes):
        rs = sorted((r for r in rows if r["target"] == m), key=lambda r: r["rate"])
        cap = rs[0]["capacity"]
        xmax = max(r["rate"] for r in rs) * 1.08
        data = ["%s %s %s" % (_num(r["rate"]), _num(r["latency_ms"].get("p50")),
                              _num(r["latency_ms"].get("p99"))) for r in rs]
        badr = [r for r in rs if r["answered"] is not None and r["answered"] < 1 - 1e-9]
        p = [labreport.datablock("o%d" % i, data),
             labreport.datablock("cap%d" % i, ["%s %s" % (_num(cap), _num(lo)), "%s %s" % (_num(cap), _num(hi))])]
        if badr:
            lx, ly = _above_timeout([r["rate"] for r in badr], (0, xmax), t_ms, hi, False)
            p.append(labreport.datablock("u%d" % i, ['%s %s %s "%s"' % (
                _num(r["rate"]), _num(t_ms), _num(x), share_text(1 - (r["answered"] or 0)))
                for r, x in zip(badr, lx)]))
        p += ["set title '%s: capacity %s req/s' tc rgb '%s'" % (m, labmodel.fmt_rate(cap), col),
              "set logscale y", "unset logscale x",
              "set xrange [0:%g]" % xmax, "set yrange [%g:%g]" % (lo, hi),
              "set xtics 0,%g" % nice_step(xmax), "set xlabel 'offered req/s' offset 0,0.3",
              "set ylabel 'ms (log)'" if i % 4 == 0 else "unset ylabel"] + PANEL
        plots = ["$o%d using 1:2 with linespoints lw 2 pt %d ps 0.8 lc rgb '%s' title 'p50'" % (i, pt, col),
                 "$o%d using 1:3 with linespoints dt 2 lw 2 pt %d ps 0.9 lc rgb '%s' title 'p99'" % (
                     i, labreport.open_point(pt), col),
                 "$cap%d using 1:2 with lines dt 2 lw 1.5 lc rgb '#555555' title 'capacity'" % i,
                 "%g with lines dt 3 lc rgb '%s' title 'timeout'" % (t_ms, labreport.ERROR_RED)]
        if badr:
            plots += ["$u%d using 1:2 with points pt 6 ps 1.6 lw 2 lc rgb '%s' notitle" % (i, labreport.ERROR_RED),
                      "$u%d using 3:(%g):4 with labels font ',7' tc rgb '%s' notitle" % (
                          i, ly, labreport.ERROR_RED)]
        p.append("plot " + ", \\\n     ".join(plots))
        panels.append("\n".join(p))
    return _render(out, "open-%s" % wl, len(modes),
                   "%s: open-loop latency against offered load (red: share unanswered)" % rows[0]["path"],
                   panels, png)


def chart_co(out, wl, rows, closed, look, timeout_s, png):
    """p99 against achieved throughput per mode: the open-loop sweep (the
    mode's colour and marker) and wrk's closed-loop runs at each C (grey
    crosses, labelled c=…, the labels spread apart). Where they reach the
    same throughput the gap is what wrk's closed loop left out. Rates on a
    log axis, /cpu's on a linear one (labreport.linear_rates)."""
    modes = [(m, col, pt) for m, col, pt in look if any(r["target"] == m for r in rows)]
    lo, hi = _lat_range(rows + closed, timeout_s)
    linear = labreport.linear_rates(wl)
    panels = []
    for i, (m, col, pt) in enumerate(modes):
        rs = sorted((r for r in rows if r["target"] == m and r.get("achieved_rps")),
                    key=lambda r: r["rate"])
        cs = sorted((r for r in closed if r["target"] == m and r.get("rps")
                     and (r.get("latency_ms") or {}).get("p99")), key=lambda r: r["concurrency"])
        xs = [r["achieved_rps"] for r in rs] + [r["rps"] for r in cs] or [1.0]
        if linear:
            xr = (0, max(xs) * 1.3)
            axis = ["unset logscale x", "set xrange [%g:%g]" % xr, "set xtics 0,%g" % nice_step(xr[1])]
        else:
            xr = (min(xs) / 1.6, max(xs) * 3)
            axis = ["set logscale x", "set xrange [%g:%g]" % xr, "set xtics auto format '%g'"]
        heights = labreport.label_heights([(r["rps"], r["latency_ms"]["p99"]) for r in cs], xr, (lo, hi),
                                          xlog=not linear, near=0.12, gap=0.08, dy=0.07)
        p = [labreport.datablock("a%d" % i, ["%s %s" % (_num(r["achieved_rps"]), _num(r["latency_ms"].get("p99")))
                                             for r in rs]),
             labreport.datablock("c%d" % i, ['%s %s %s "c=%d"' % (_num(r["rps"]), _num(r["latency_ms"]["p99"]),
                                                                  _num(h), r["concurrency"])
                                             for r, h in zip(cs, heights)])]
        p += ["set title '%s' tc rgb '%s'" % (m, col), "set logscale y",
              "set yrange [%g:%g]" % (lo, hi), "set xlabel 'achieved req/s%s' offset 0,0.3" % (
                  "" if linear else " (log)"),
              "set ylabel 'p99 ms (log)'" if i % 4 == 0 else "unset ylabel"] + axis + PANEL
        plots = ["$a%d using 1:2 with linespoints lw 2 pt %d ps 0.8 lc rgb '%s' title 'open loop'" % (i, pt, col),
                 "$c%d using 1:2 with linespoints dt 2 lw 1.5 pt 2 ps 1.0 lc rgb '#444444' title 'wrk (closed)'" % i,
                 "%g with lines dt 3 lc rgb '%s' title 'timeout'" % (timeout_s * 1000, labreport.ERROR_RED)]
        if cs:
            plots.append("$c%d using 1:3:4 with labels left offset 0.8,0 font ',7' tc rgb '#444444' notitle" % i)
        p.append("plot " + ", \\\n     ".join(plots))
        panels.append("\n".join(p))
    return _render(out, "co-%s" % wl, len(modes),
                   "%s: p99 at the same throughput, open loop against wrk's closed loop" % rows[0]["path"],
                   panels, png)


# ---------------------------------------------------------------- report

def knee(rs):
    """The highest offered load (% of the prediction) at which the mode still
    kept up: p99 within 5x its lowest-load p99, and everything answered."""
    rs = sorted(rs, key=lambda r: r["offered_pct"])
    base = next(((r["latency_ms"] or {}).get("p99") for r in rs if (r["latency_ms"] or {}).get("p99")), None)
    ok = None
    for r in rs:
        p99 = (r["latency_ms"] or {}).get("p99")
        if base and p99 and p99 <= 5 * base and (r["answered"] or 0) >= 0.995:
            ok = r["offered_pct"]
        else:
            break
    return ok


def section(out, meta, closed_rows, png):
    """The report's open-loop section (Markdown lines), charts included."""
    ol = meta.get("open_loop") or {}
    rows = ol.get("runs") or []
    if not rows:
        return []
    s = ol.get("settings") or {}
    names = labreport.targets_in_order(rows, meta)
    look = labreport.looks(names, meta)
    md = ["## Open loop: latency against offered load", "",
          "The same pages offered by `loadtest/openloop` (built from `loadtest/openloop.c`) at a "
          "fixed rate — %s arrivals, whatever the server does — over at most %d connections, for "
          "%g s per level, at %s %% of each mode's predicted capacity (the dashed vertical line). "
          "Each request's latency runs from its *intended* send time, so a request that waited "
          "for a free connection or for the server is charged for all of it (no coordinated "
          "omission). A fresh server per level. Red circles: requests not answered within %g s "
          "(timeouts, or never sent) — the latency lines cover only the answered ones." % (
              "Poisson" if s.get("poisson") else "evenly spaced", s.get("connections", 0),
              s.get("duration_s", 0), ", ".join(str(p) for p in s.get("pcts", [])),
              s.get("timeout_s", 0)), ""]
    closed = [r for r in closed_rows if r.get("kind", "mode") == "mode"]
    for wl in dict.fromkeys(r["workload"] for r in rows):
        wrows = [r for r in rows if r["workload"] == wl]
        md += ["### %s" % wrows[0]["path"], ""]
        svg, pngf = chart_hockey(out, wl, wrows, look, s.get("timeout_s", 5), png)
        md += ["![%s open loop](%s)" % (wl, svg), ""]
        cw = [r for r in closed if r["workload"] == wl]
        if cw:
            svg2, png2 = chart_co(out, wl, wrows, cw, look, s.get("timeout_s", 5), png)
            md += ["![%s closed and open loop](%s)" % (wl, svg2), "",
                   "Above: p99 against the throughput actually achieved — solid the open loop, "
                   "dashed grey wrk's closed loop at each C. At the same throughput the closed "
                   "loop's p99 is lower wherever the server queues: wrk stopped sending while it "
                   "waited, so the requests a real stream of users would have sent meanwhile "
                   "never got their latency measured.", ""]
        if pngf:
            md += ["PNG: [open loop](%s)%s" % (pngf, " · [closed and open](%s)" % png2 if cw and png2 else ""), ""]
        kn = []
        for m in names:
            rs = [r for r in wrows if r["target"] == m]
            if rs:
                k = knee(rs)
                kn.append("%s %s" % (m, ("up to %d %%" % k) if k is not None else "not even at the lowest level"))
        md += ["Kept up (p99 within 5× its lowest-load p99, everything answered): " + ", ".join(kn) + ".", ""]
        md += ["| mode | offered % | offered req/s | predicted capacity | achieved req/s | p50 ms | p99 ms | "
               "answered | timeouts | never sent | most queued in the client |",
               "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
        for m in names:
            for r in sorted((r for r in wrows if r["target"] == m), key=lambda r: r["offered_pct"]):
                lat = r["latency_ms"] or {}
                md.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    m, r["offered_pct"], labmodel.fmt_rate(r["rate"]), labmodel.fmt_rate(r["capacity"]),
                    labmodel.fmt_rate(r["achieved_rps"]), labreport.ms(lat.get("p50")),
                    labreport.ms(lat.get("p99")),
                    "%.1f %%" % (r["answered"] * 100) if r["answered"] is not None else "–",
                    labreport.intval(r["errors"].get("timeout")), labreport.intval(r["unsent"]),
                    labreport.intval(r["max_queue"])))
        bases = {r["target"]: r["capacity_basis"] for r in wrows}
        md += ["", "Capacities: " + "; ".join("%s %s" % (m, bases[m]) for m in names if m in bases) + ".", ""]
        for r in wrows:
            for n in r.get("notes") or []:
                md.append("- %s %s %d %%: %s" % (r["target"], wl, r["offered_pct"], n))
    return md
