"""labmixed: mixed workloads (compare --mixed) — one page loaded in the
background, another measured meanwhile. The measured page is /hello, offered
by the open-loop generator at a modest fixed rate (so its latency is timed
from each request's intended send time, and a stall shows in full); the
backgrounds are none, /cpu with twice as many wrk connections as the
server's CPUs (every core busy, and more work waiting), and /db with twice
prefork's default workers (a pool of N blocking workers is full, and the
rest queue). An event loop stalls under /cpu (one thread burns while /hello
waits); threads, prefork, pool, reactors and offload keep answering, each
for its own reason; under /db a pool queues /hello behind the sleepers.

A mixed row (meta["mixed"]["runs"] in results.json) holds
  target, background (none|cpu|db), background_path, background_connections,
  background_rps (wrk's), rate, latency_ms{p50,p99,...}, answered, errors,
  scheduled, completed, notes."""
import json
import math
import os
import subprocess
import sys
import time

import labmodel
import labopen
import labreport
import labrun

BACKGROUNDS = ("none", "cpu", "db")


def background_path(bg, a, paths):
    return None if bg == "none" else paths[bg]


def run_cell(mode, bg, a, server_args, paths, hello_rate, conns_bg, openloop_bin):
    """One mixed cell on a fresh server: the background wrk (if any) for the
    warm-up plus the run plus a margin, the open-loop /hello once it has
    started. Returns the row."""
    server = labrun.Server(a.bin, mode, server_args, tls=False).start()
    row = {"target": mode, "background": bg, "background_path": background_path(bg, a, paths),
           "background_connections": conns_bg if bg != "none" else 0, "background_rps": None,
           "rate": hello_rate, "latency_ms": {}, "answered": None, "errors": {}, "scheduled": None,
           "completed": None, "notes": []}
    bgp = None
    try:
        if bg != "none":
            secs = a.warmup + a.duration + 1
            cmd = labrun.wrk_command(server.url(row["background_path"]), conns_bg, secs, a.timeout)
            bgp = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace")
            time.sleep(max(0.3, a.warmup))  # let the background fill the server first
        res, why = labopen.run(openloop_bin, server.url("/hello"), hello_rate, a.duration,
                               10, a.timeout)
        if why:
            row["notes"].append(why)
        if res:
            r = labopen.row_of(mode, "hello", "/hello", 10, 0, hello_rate, None, None, res, None)
            for k in ("latency_ms", "answered", "errors", "scheduled", "completed"):
                row[k] = r[k]
        if bgp:
            out, _ = bgp.communicate(timeout=a.warmup + a.duration + a.timeout + 60)
            for line in out.splitlines():
                if line.startswith('{"wrk_result"'):
                    try:
                        w = json.loads(line)
                        row["background_rps"] = w["requests"] / (w["duration_us"] / 1e6)
                    except (ValueError, KeyError, ZeroDivisionError):
                        pass
    finally:
        if bgp and bgp.poll() is None:
            bgp.kill()
            bgp.wait()
        server.stop()
    return row


BAR = 0.25  # a bar's width and the step between a cluster's bars (3 bars and a gap of 1)
PLOT_PX = 300  # about the height of the chart's plot area, in pixels (760x420, key below)
CHAR_PX = 5.5  # about the length of one character of a bar's label (font 8), in pixels


def fits_above(top, text, lo, hi):
    """True when text, written up from a bar's top at top (log axis lo..hi),
    ends inside the plot; else it goes inside the bar, up from its foot."""
    f = (math.log10(max(top, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    return f + (len(text) * CHAR_PX + 10) / PLOT_PX <= 0.98


def chart(out, rows, look, timeout_s, png):
    """/hello p99 per mode (clusters, each mode's name under it in its
    colour with its marker: labreport.looks) under each background (bars),
    log scale. Every bar has its value written up from its top (rotated, so
    that neighbours never print over each other), red with the share left
    unanswered when some requests were; no latency is above the timeout, and
    the axis runs to 10x it to leave room for them; a label too long for the
    room above its bar is written inside it, up from its foot."""
    modes = [(m, col, pt) for m, col, pt in look if any(r["target"] == m for r in rows)]
    by = {(r["target"], r["background"]): r for r in rows}
    t_ms = timeout_s * 1000
    lo, _ = labreport.log_range([t_ms] + [(r["latency_ms"] or {}).get("p99") for r in rows])
    hi = t_ms * 10
    lines, labels, bad, inside = [], [], [], []
    fill = {"none": "#bbbbbb", "cpu": "#d62728", "db": "#1f77b4"}
    for i, (m, _, _) in enumerate(modes):
        cells = []
        for j, bg in enumerate(BACKGROUNDS):
            r = by.get((m, bg))
            p99 = (r["latency_ms"] or {}).get("p99") if r else None
            cells.append(labopen._num(p99))
            x = i + (j - 1) * BAR
            lost = r is not None and r.get("answered") is not None and r["answered"] < 1 - 1e-9
            text = ("%s ms" % labreport.ms(p99)) if p99 is not None else ("no answer" if r else "not run")
            if lost:
                text += ", %s unanswered" % labopen.share_text(1 - r["answered"])
            if fits_above(p99 or lo, text, lo, hi):
                (bad if lost else labels).append('%g %s "%s"' % (x, labopen._num(p99 or lo), text))
            else:  # a tall bar: its label inside it, up from its foot, in a colour that shows on its fill
                inside.append('%g %s "%s" 0x%s' % (x, labopen._num(lo), text,
                                                   "222222" if bg == "none" else "ffffff"))
        lines.append('"%s" %s' % (m, " ".join(cells)))
    blocks = [labreport.datablock("h", lines), labreport.datablock("v", labels),
              labreport.datablock("u", bad), labreport.datablock("in", inside)]
    head = [
        'set title "/hello p99 (open loop, %g req/s) under each background"' % rows[0]["rate"],
        "set ylabel 'p99 ms (log)'", "set logscale y", "set yrange [%g:%g]" % (lo, hi),
        "set xrange [-0.6:%g]" % (len(modes) - 0.4),
        "set style data histograms", "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1", "set boxwidth 0.9",
        "set grid ytics lc rgb '#dddddd'",
        "set key at graph 0.5, graph -0.1 center top horizontal maxrows 1 font ',9' samplen 2",
        "set xtics format '' scale 0", "set ytics format '%g'", "set border lc rgb '#555555'",
        "set bmargin 5"]
    for i, (m, col, pt) in enumerate(modes):  # the mode's name in its colour, its marker before it
        head.append("set label %d '%s' at %g, graph -0.045 left offset 0.9,0 tc rgb '%s' "
                    "point pt %d ps 1.4 lc rgb '%s'" % (i + 1, m, i - 0.36, col, pt, col))
    names = {"none": "no background", "cpu": "/cpu at 2x the CPUs",
             "db": "/db at 2x the prefork workers"}
    plots = ["$h using %d lc rgb '%s' title '%s'" % (k + 2, fill[bg], names[bg])
             for k, bg in enumerate(BACKGROUNDS)]
    plots.append("%g with lines dt 3 lc rgb '%s' title 'timeout'" % (t_ms, labreport.ERROR_RED))
    if labels:
        plots.append("$v using 1:2:3 with labels rotate by 90 left offset 0,0.4 font ',8' tc rgb '#333333' "
                     "notitle")
    if bad:
        plots.append("$u using 1:2:3 with labels rotate by 90 left offset 0,0.4 font ',8' tc rgb '%s' notitle"
                     % labreport.ERROR_RED)
    if inside:
        plots.append("$in using 1:2:3:4 with labels rotate by 90 left offset 0,0.6 font ',8' tc rgb variable "
                     "notitle")
    return labreport.render(out, "mixed-hello", ("\n".join(head), blocks, plots), png)


def section(out, meta, png):
    mx = meta.get("mixed") or {}
    rows = mx.get("runs") or []
    if not rows:
        return []
    s = mx.get("settings") or {}
    names = labreport.targets_in_order(rows, meta)
    svg, pngf = chart(out, rows, labreport.looks(names, meta), s.get("timeout_s", 5), png)
    md = ["## Mixed workloads: /hello while something else runs", "",
          "Each mode on a fresh server, with a background load from wrk — none; `%s` with %d "
          "connections (twice the server's CPUs); `%s` with %d connections (twice prefork's default "
          "workers) — and meanwhile `/hello` offered by the open-loop generator at %g req/s for %g s "
          "over up to 10 connections, each request timed from its intended send time." % (
              s.get("cpu_path"), s.get("cpu_connections", 0), s.get("db_path"),
              s.get("db_connections", 0), s.get("rate", 0), s.get("duration_s", 0)), "",
          "![mixed](%s)" % svg, ""]
    if pngf:
        md += ["PNG: [mixed](%s)" % pngf, ""]
    md += ["| mode | background | background req/s | /hello p50 ms | /hello p99 ms | answered | timeouts |",
           "|---|---|--:|--:|--:|--:|--:|"]
    for m in names:
        for bg in BACKGROUNDS:
            for r in rows:
                if r["target"] == m and r["background"] == bg:
                    lat = r["latency_ms"] or {}
                    md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                        m, bg if bg == "none" else "`%s`" % r["background_path"],
                        labmodel.fmt_rate(r["background_rps"]) if r["background_rps"] else "–",
                        labreport.ms(lat.get("p50")), labreport.ms(lat.get("p99")),
                        "%.1f %%" % (r["answered"] * 100) if r["answered"] is not None else "–",
                        labreport.intval((r["errors"] or {}).get("timeout"))))
    md += ["", "What to look for: under `/cpu` the event loop's `/hello` waits behind every PBKDF2 "
           "in progress (one thread: asynchronous, not parallel); threads, prefork and pool answer "
           "it on another thread or process; reactors only when the connection landed on a loop "
           "that is not burning; offload hands the burn to a CPU pool and its loop stays free. "
           "Under `/db` the blocking workers (iterative's one, prefork's and pool's N) queue "
           "`/hello` behind requests that sleep; the event loops and threads do not.", ""]
    for r in rows:
        for n in r.get("notes") or []:
            md.append("- %s under %s: %s" % (r["target"], r["background"], n))
    return md


def sweep(a, meta, server_args_of, paths, openloop_bin, write, clock):
    """Every mode under every background. server_args_of(mode) gives its
    arguments; write() saves results.json after each cell."""
    cpus = len(os.sched_getaffinity(0))
    conns = {"cpu": 2 * cpus, "db": 16}
    table = {m["name"]: m for m in a.mode_table}
    pre = table.get("prefork", {}).get("default_workers")
    if pre:
        conns["db"] = 2 * pre
    rate = 50.0
    meta["mixed"] = {"settings": {"rate": rate, "duration_s": a.duration, "timeout_s": a.timeout,
                                  "cpu_path": paths["cpu"], "db_path": paths["db"],
                                  "cpu_connections": conns["cpu"], "db_connections": conns["db"]},
                     "runs": []}
    n = len(a.modes) * len(BACKGROUNDS)
    for mode in a.modes:
        for bg in BACKGROUNDS:
            r = run_cell(mode, bg, a, server_args_of(mode), paths, rate, conns.get(bg, 0), openloop_bin)
            meta["mixed"]["runs"].append(r)
            lat = r["latency_ms"] or {}
            print("[mixed %d/%d %s] %-9s /hello under %-4s: p50 %s p99 %s ms, answered %s" % (
                len(meta["mixed"]["runs"]), n, clock(), mode, bg, labreport.ms(lat.get("p50")),
                labreport.ms(lat.get("p99")),
                "%.1f %%" % (r["answered"] * 100) if r["answered"] is not None else "–"),
                file=sys.stderr, flush=True)
            write()
