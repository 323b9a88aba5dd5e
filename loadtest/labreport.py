"""labreport: writes a results folder from the rows of a run — results.json,
results.csv (one row per run), charts/ (gnuplot: SVG, and PNG when asked)
and report.md, which embeds the charts, tables and the generated summary."""
import csv
import json
import math
import os
import re
import subprocess

import labglance
import labmixed
import labmodel
import labopen
import labpeers
import labpool

# the modes take these in the order of the server's table (iterative purple,
# threads blue, prefork green, event orange, pool brown, reactors pink);
# outside targets and any further modes the ones after them
PALETTE = ["#9467bd", "#1f77b4", "#2ca02c", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31"]
ERROR_RED = "#d00000"
TITLES = {
    "hello": "/hello: the CPU ceiling (no prediction)",
    "db": "/db: I/O-bound, one simulated query per request",
    "dashboard": "/dashboard: independent simulated queries",
    "cpu": "/cpu: CPU-bound (PBKDF2)",
}
CSV_FIELDS = [
    "target", "kind", "workload", "path", "concurrency", "duration_s", "requests", "in_time", "rps",
    "ok_rps",
    "prediction", "ratio", "miss", "prediction_basis",
    "lat_p50_ms", "lat_p90_ms", "lat_p99_ms", "lat_p99.9_ms", "lat_max_ms", "lat_mean_ms",
    "err_connect", "err_read", "err_write", "err_status", "err_timeout", "errors_total",
    "server_requests", "server_non_2xx", "server_accepted", "server_open_mid", "server_in_flight_mid",
    "server_worker_restarts", "server_tls_handshakes", "server_tls_resumed", "held_median", "held_max", "queued_median", "queued_max",
    "rss_kib", "rss_kib_max", "threads", "threads_max", "processes", "server_cpu_cores",
    "wrk_cpu_cores", "machine_cpu_cores", "warmed", "server_exit", "notes",
    "prediction_low", "cpus", "w_ms", "starved_min", "latency_share", "db_pool",
]


def mode_names(meta):
    """The server's modes in its table's order (saved in results.json)."""
    return [m["name"] for m in meta.get("mode_table") or []]


def targets_in_order(rows, meta):
    """Modes in the table's order, then outside targets as they came."""
    names = list(dict.fromkeys(r["target"] for r in rows))
    modes = mode_names(meta)
    return [m for m in modes if m in names] + [n for n in names if n not in modes]


def looks(names, meta):
    """[(name, colour, marker)] for names, in their order: the one place that
    says how a mode is drawn. A mode keeps its place in the server's table —
    the same colour and the same marker shape (POINTS) in every chart of
    every report, whichever modes a run has; outside targets and peers take
    the places after the table's."""
    modes = mode_names(meta)
    place = {m: i for i, m in enumerate(modes)}
    for n in names:
        if n not in place:
            place[n] = len(place)
    return [(n, PALETTE[place[n] % len(PALETTE)], POINTS[place[n] % len(POINTS)]) for n in names]


def colours(order, meta):
    """{name: colour} of looks()."""
    return {n: c for n, c, _ in looks(order, meta)}


def markers(order, meta):
    """{name: marker (gnuplot point type, filled)} of looks()."""
    return {n: p for n, _, p in looks(order, meta)}


def open_point(pt):
    """The open form of a filled marker of POINTS (p99 beside a filled p50);
    a marker that has none is its own."""
    return OPEN_FORM.get(pt, pt)


def linear_rates(wl):
    """True when workload wl's request rates go on a linear axis: /cpu's few
    dozen req/s, where a log axis would flatten a core's worth of difference."""
    return wl == "cpu"


# ---------------------------------------------------------------- json, csv

def write_json(out, meta, rows):
    tmp = os.path.join(out, "results.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"meta": meta, "runs": rows}, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "results.json"))


def csv_row(r):
    lat = r.get("latency_ms") or {}
    err = r.get("errors") or {}
    sv = r.get("server") or {}
    res = r.get("resources") or {}
    d = {k: r.get(k) for k in ("target", "kind", "workload", "path", "concurrency", "duration_s",
                               "requests", "in_time", "rps", "ok_rps", "prediction", "ratio", "miss",
                               "prediction_basis", "errors_total", "warmed", "server_exit")}
    for k in ("p50", "p90", "p99", "p99.9", "max", "mean"):
        d["lat_%s_ms" % k] = lat.get(k)
    for k in ("connect", "read", "write", "status", "timeout"):
        d["err_" + k] = err.get(k, 0)
    for k in ("requests", "non_2xx", "accepted", "open_mid", "in_flight_mid", "worker_restarts",
              "tls_handshakes", "tls_resumed"):
        d["server_" + k] = sv.get(k)
    for k in ("held_median", "held_max", "queued_median", "queued_max", "rss_kib", "rss_kib_max",
              "threads", "threads_max", "processes", "server_cpu_cores", "wrk_cpu_cores",
              "machine_cpu_cores"):
        d[k] = res.get(k)
    d["notes"] = " | ".join(r.get("notes") or [])
    d["prediction_low"], d["cpus"] = r.get("prediction_low"), r.get("cpus")
    w = labmodel.calibrated_w(r)[0]
    d["w_ms"] = w * 1000 if w else None
    d["starved_min"], d["latency_share"] = labmodel.starved_min(r), labmodel.latency_share(r)
    if r.get("db_pool") is not None:  # a row of the --db-pools sweep
        d["db_pool"] = r["db_pool"] or "off"
    for k, v in d.items():
        if isinstance(v, float):
            d[k] = round(v, 4)
    return d


def write_csv(out, rows):
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow(csv_row(r))


# ---------------------------------------------------------------- charts

def num(x):
    return "NaN" if x is None else "%.6g" % x


def short(n):
    if n >= 10000:
        return "%.0fk" % (n / 1000)
    if n >= 1000:
        return "%.1fk" % (n / 1000)
    return str(n)


def log_range(values, pad_top=1.0):
    pos = [v for v in values if v is not None and v > 0]
    if not pos:
        return 0.1, 10.0
    lo = 10 ** math.floor(math.log10(min(pos)))
    hi = 10 ** math.ceil(math.log10(max(pos) * 1.05 * pad_top))
    return lo, max(hi, lo * 10)


def gp_header(title, xlabel, ylabel, xr, xtics):
    return "\n".join([
        'set title "%s"' % title,
        'set xlabel "%s"' % xlabel,
        'set ylabel "%s"' % ylabel,
        "set logscale xy",
        "set xrange [%g:%g]" % xr,
        "set grid xtics ytics lc rgb '#dddddd'",
        "set key outside right top spacing 1.1 font ',10'",
        "set border lc rgb '#555555'",
        "set xtics (%s)" % ", ".join("'%d' %d" % (c, c) for c in xtics),
        "set mxtics default",
        "set ytics format '%g'",
    ])


def datablock(name, lines):
    return "$%s << EOD\n%s\nEOD" % (name, "\n".join(lines) if lines else "NaN NaN")


# Point types that differ in shape (filled circle, square, triangle, diamond,
# down triangle, pentagon — gnuplot has no more filled shapes — then an
# asterisk for the seventh mode, then the open forms): two series on the
# same spot stay told apart by their markers, not only by colour.
POINTS = [7, 5, 9, 13, 11, 15, 3, 6, 4, 8, 12, 10, 14]
OPEN_FORM = {7: 6, 5: 4, 9: 8, 13: 12, 11: 10, 15: 14}
# each series sits this many decades right of the one before it on the log
# x axis (centred on the true level): lines that coincide run side by side
X_STEP = 0.02


def series(rows, order, key="target"):
    """(index, name, colour, marker, its rows by concurrency) for each series
    present; order is the (name, colour, marker) of every series of the run
    (looks(); a (name, colour) pair takes POINTS[index]), key the row field
    that names a row's series."""
    for i, entry in enumerate(order):
        name, col = entry[0], entry[1]
        pt = entry[2] if len(entry) > 2 else POINTS[i % len(POINTS)]
        rs = sorted((r for r in rows if r.get(key) == name), key=lambda r: r["concurrency"])
        if rs:
            yield i, name, col, pt, rs


def style(i, n):
    """(x factor, line width, point size) of series i of n. The first series
    are drawn widest and with the largest markers, the later ones narrower on
    top of them, so a line that runs under another still shows around it; and
    each series is nudged along x (a factor: the x axes are log)."""
    k = (n - 1 - i) / max(1.0, n - 1.0)  # 1 for the first, 0 for the last
    return 10 ** ((i - (n - 1) / 2.0) * X_STEP), 1.5 + 2.0 * k, 0.9 + 0.7 * k


def xs(c, fx):
    return "%.6g" % (c * fx)


def spread(ys, lo, hi, log=True, gap=0.065, dy=0.0):
    """Label heights that never overprint: ys are the data heights of the
    labels' points at one x (None for none), each label wants to sit dy (a
    share of the axis height) above its point; labels closer than gap are
    pushed apart, and kept inside the axis. Returns the data heights to draw
    them at, in the order of ys."""
    def frac(y):
        if log:
            y = max(y, lo)
            return (math.log10(y) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return (y - lo) / float(hi - lo)

    def back(f):
        if log:
            return 10 ** (math.log10(lo) + f * (math.log10(hi) - math.log10(lo)))
        return lo + f * (hi - lo)

    want = sorted((min(max(frac(y) + dy, gap / 2), 1 - gap / 2), j) for j, y in enumerate(ys)
                  if y is not None)
    pos = []
    for f, j in want:
        pos.append([max(f, pos[-1][0] + gap) if pos else f, j])
    top = 1 - gap / 2  # pushed out of the top: slide the stack back down
    for k in range(len(pos) - 1, -1, -1):
        if pos[k][0] > top:
            pos[k][0] = top
        top = pos[k][0] - gap
    out = [None] * len(ys)
    for f, j in pos:
        out[j] = back(max(f, 0.0))
    return out


def label_heights(points, xr, yr, xlog=True, ylog=True, near=0.05, dy=0.0, gap=0.065):
    """Heights at which to draw the labels of points (x, y) so that none
    prints over another: labels whose x lie within near (a share of the x
    axis xr) of their neighbour's form a group, and each group is spread
    apart in y (spread(); dy: how far above its point a label wants to sit,
    a share of the axis yr). Returns the heights, in the order of points."""
    def fx(x):
        if xlog:
            return (math.log10(x) - math.log10(xr[0])) / (math.log10(xr[1]) - math.log10(xr[0]))
        return (x - xr[0]) / float(xr[1] - xr[0])
    order = sorted(range(len(points)), key=lambda j: fx(points[j][0]))
    groups, last = [], None
    for j in order:
        f = fx(points[j][0])
        if last is None or f - last > near:
            groups.append([])
        groups[-1].append(j)
        last = f
    out = [None] * len(points)
    for g in groups:
        for j, h in zip(g, spread([points[j][1] for j in g], yr[0], yr[1], log=ylog, gap=gap, dy=dy)):
            out[j] = h
    return out


def mark_errors(errs, title, dy, lo, hi, blocks, marks, log=True):
    """errs: (x, y, label, colour) of the runs with errors. Red circles at
    the points, each label in its series' colour, moved apart where two would
    overprint (spread, per x), drawn after the lines so they sit on top and
    last in the key."""
    if not errs:
        return
    blocks.append(datablock("err", ["%s %s" % (x, num(y)) for x, y, _, _ in errs]))
    marks.append("$err using 1:2 with points pt 6 ps 2 lw 2 lc rgb '%s' title '%s'" % (ERROR_RED, title))
    at = {}
    for x, y, label, col in errs:
        at.setdefault(round(math.log10(float(x)), 1), []).append((x, y, label, col))
    lines = []
    for group in at.values():
        heights = spread([y for _, y, _, _ in group], lo, hi, log=log, dy=dy)
        for (x, _, label, col), h in zip(group, heights):
            lines.append('%s %s "%s" 0x%s' % (x, num(h), label, col.lstrip("#")))
    blocks.append(datablock("errl", lines))
    marks.append("$errl using 1:2:3:4 with labels font ',9' tc rgb variable notitle")


def chart_throughput(wl, rows, order, timeout_s):
    xr, xt = x_axis(rows)
    linear = linear_rates(wl)
    vals = [r["rps"] for r in rows] + [r.get("prediction") for r in rows]
    if linear:
        lo, hi = 0.0, max([v for v in vals if v] or [1.0]) * 1.15
    else:
        lo, hi = log_range(vals)
    blocks, plots, marks, errs = [], [], [], []
    n = len(order)
    for i, name, col, pt, rs in series(rows, order):
        fx, lw, ps = style(i, n)
        lines = []
        for r in rs:
            if r.get("no_result"):  # wrk gave nothing: a gap in the line, and said so
                lines.append("%s NaN %s" % (xs(r["concurrency"], fx), num(r.get("prediction"))))
                errs.append((xs(r["concurrency"], fx), lo, "no result", col))
                continue
            y = r["rps"] if r["rps"] > 0 else lo  # nothing served: drawn on the bottom edge
            lines.append("%s %s %s" % (xs(r["concurrency"], fx), num(y), num(r.get("prediction"))))
            if r["errors_total"] or r["rps"] <= 0:
                label = ("%s err" % short(r["errors_total"])) if r["errors_total"] else "0 req/s"
                errs.append((xs(r["concurrency"], fx), y, label, col))
        blocks.append(datablock("m%d" % i, lines))
        plots.append("$m%d using 1:2 with linespoints lw %.1f pt %d ps %.2f lc rgb '%s' title '%s'" % (
            i, lw, pt, ps, col, name))
        if any(r.get("prediction") for r in rs):
            plots.append("$m%d using 1:3 with lines dt 2 lw 1.5 lc rgb '%s' title '%s predicted'" % (
                i, col, name))
    mark_errors(errs, "run with errors", 0.05, lo, hi, blocks, marks, log=not linear)
    head = gp_header("%s — throughput" % rows[0]["path"], "connections offered by wrk (log)",
                     "requests/s%s" % ("" if linear else " (log)"), xr, xt)
    if linear:
        head += "\nunset logscale y\nset logscale x"
    return head + "\nset yrange [%g:%g]\n" % (lo, hi), blocks, plots + marks


def chart_latency(wl, rows, order, timeout_s):
    xr, xt = x_axis(rows)
    t_ms = timeout_s * 1000
    vals = [t_ms]
    for r in rows:
        lat = r.get("latency_ms") or {}
        vals += [lat.get("p50"), lat.get("p99")]
    lo, hi = log_range(vals, pad_top=1.5)
    blocks, plots, marks, errs = [], [], [], []
    n = len(order)
    for i, name, col, pt, rs in series(rows, order):
        fx, lw, ps = style(i, n)
        lines = []
        for r in rs:
            lat = r.get("latency_ms") or {}
            x = xs(r["concurrency"], fx)
            lines.append("%s %s %s" % (x, num(lat.get("p50")), num(lat.get("p99"))))
            t = (r.get("errors") or {}).get("timeout", 0)
            if t or lat.get("p50") is None:
                errs.append((x, t_ms, "%s t/o" % short(t) if t else "no data", col))
        blocks.append(datablock("m%d" % i, lines))
        plots.append("$m%d using 1:2 with linespoints lw %.1f pt %d ps %.2f lc rgb '%s' title '%s p50'" % (
            i, lw, pt, ps, col, name))
        plots.append("$m%d using 1:3 with linespoints dt 2 lw %.1f pt %d ps %.2f lc rgb '%s' title '%s p99'"
                     % (i, max(1.0, lw - 0.5), open_point(pt), ps, col, name))
    mark_errors(errs, "timeouts (not in p50/p99)", -0.07, lo, hi, blocks, marks)
    marks.append("%g with lines dt 3 lw 1 lc rgb '%s' title 'wrk --timeout %gs'" % (
        t_ms, ERROR_RED, timeout_s))
    head = gp_header("%s — latency p50 and p99" % rows[0]["path"], "connections offered by wrk (log)",
                     "milliseconds (log)", xr, xt)
    return head + "\nset yrange [%g:%g]\n" % (lo, hi), blocks, plots + marks


def chart_connections(wl, rows, order, timeout_s):
    rows = [r for r in rows if r.get("kind", "mode") == "mode" and r.get("resources")
            and r["resources"].get("held_median") is not None]
    if not rows:
        return None
    xr, xt = x_axis(rows)
    floor = 0.5
    vals = [r["concurrency"] for r in rows] + [r["resources"]["held_max"] for r in rows]
    _, hi = log_range(vals)
    blocks, plots = [], ["x with lines lw 1 dt 3 lc rgb '#888888' title 'offered (wrk -c)'"]
    n = len(order)
    for i, name, col, pt, rs in series(rows, order):
        fx, lw, ps = style(i, n)
        lines = []
        for r in rs:
            res = r["resources"]
            q = res.get("queued_median")
            lines.append("%s %s %s" % (xs(r["concurrency"], fx), num(max(res["held_median"], floor)),
                                       num(max(q, floor) if q is not None else None)))
        blocks.append(datablock("m%d" % i, lines))
        plots.append("$m%d using 1:2 with linespoints lw %.1f pt %d ps %.2f lc rgb '%s' title '%s held'" % (
            i, lw, pt, ps, col, name))
        plots.append("$m%d using 1:3 with linespoints dt 3 lw 1.5 pt %d ps %.2f lc rgb '%s' "
                     "title '%s queued'" % (i, open_point(pt), ps, col, name))
    head = gp_header("%s — connections: offered, held by the server, queued" % rows[0]["path"],
                     "connections offered by wrk (log)", "connections (median, log; 0 drawn at 0.5)", xr, xt)
    return head + "\nset yrange [%g:%g]\n" % (floor, hi), blocks, plots


def chart_resource(key, title, ylabel, scale):
    """A chart of one resource of the server (median over the run, from
    /proc) per mode and concurrency: what each model pays for its
    connections — memory, or threads."""
    def chart(wl, rows, order, timeout_s):
        rows = [r for r in rows if (r.get("kind", "mode") == "mode" or r.get("peer"))
                and (r.get("resources") or {}).get(key) is not None]
        if not rows:
            return None
        xr, xt = x_axis(rows)
        lo, hi = log_range([r["resources"][key] * scale for r in rows], pad_top=1.5)
        blocks, plots, labels = [], [], []
        n = len(order)
        for i, name, col, pt, rs in series(rows, order):
            fx, lw, ps = style(i, n)
            lines = ["%s %s" % (xs(r["concurrency"], fx), num(r["resources"][key] * scale)) for r in rs]
            blocks.append(datablock("m%d" % i, lines))
            plots.append("$m%d using 1:2 with linespoints lw %.1f pt %d ps %.2f lc rgb '%s' title '%s'" % (
                i, lw, pt, ps, col, name))
            last = rs[-1]
            labels.append((xs(last["concurrency"], fx), last["resources"][key] * scale, col))
        # the value at the highest level, beside each line's end, spread apart
        heights = spread([y for _, y, _ in labels], lo, hi)
        blocks.append(datablock("val", ['%s %s "%s" 0x%s' % (
            x, num(h), ("%.1f" % y if y < 100 and scale != 1 else "%.0f" % y), c.lstrip("#"))
            for (x, y, c), h in zip(labels, heights)]))
        plots.append("$val using 1:2:3:4 with labels left offset char 1,0 font ',9' tc rgb variable notitle")
        head = gp_header("%s — %s" % (rows[0]["path"], title), "connections offered by wrk (log)",
                         ylabel, (xr[0], xr[1] * 1.8), xt)
        return head + "\nset yrange [%g:%g]\n" % (lo, hi), blocks, plots
    return chart


def x_axis(rows):
    """(x range, tics): the concurrency levels, on a log axis."""
    cs = sorted({r["concurrency"] for r in rows})
    return (min(cs) / 1.6, max(cs) * 1.6), cs


CHARTS = [("throughput", chart_throughput), ("latency", chart_latency),
          ("connections", chart_connections),
          ("memory", chart_resource("rss_kib", "server memory (RSS, median over the run)",
                                    "MiB (log)", 1 / 1024.0)),
          ("threads", chart_resource("threads", "server threads, all processes (median over the run)",
                                     "threads (log)", 1))]


# Up to this many key entries sit beside a chart; more (a run with peers has
# two lines per target on the latency chart) go below it, this many to a row,
# the chart growing by a row's height for each.
KEY_BESIDE, KEY_COLUMNS, KEY_ROW_PX = 14, 3, 17


def render(out, name, spec, png):
    """Writes charts/NAME.gp and runs gnuplot on it. Returns (svg, png or None)
    paths relative to out."""
    head, blocks, plots = spec
    cdir = os.path.join(out, "charts")
    os.makedirs(cdir, exist_ok=True)
    plot = "plot " + ", \\\n     ".join(plots)
    height, keyed = 420, sum(1 for p in plots if "notitle" not in p)
    if keyed > KEY_BESIDE:  # a key beside the plot would squeeze it to a sliver: below it
        rows_of_key = -(-keyed // KEY_COLUMNS)
        height += KEY_ROW_PX * rows_of_key
        head += "\nset key below center horizontal maxcols %d spacing 1.0 font ',9'" % KEY_COLUMNS
    parts = ["# made by loadtest/compare; gnuplot %s.gp (from the results folder's charts/)" % name,
             "\n".join(blocks), head,
             "set terminal svg size 760,%d noenhanced font 'sans,11' background rgb 'white'" % height,
             "set output '%s.svg'" % name, plot]
    if png:
        parts += ["set terminal pngcairo size 760,%d noenhanced font 'sans,10' background rgb 'white'"
                  % height, "set output '%s.png'" % name, "replot"]
    parts.append("unset output")
    return run_gnuplot(cdir, name, parts, png)


def render_panels(out, name, header, panels, layout, size, png):
    """Writes charts/NAME.gp — a multiplot of the panels (each a gnuplot
    script drawing one plot, in the order of layout (rows, columns)) under
    one header, size (width, height) in pixels — and runs gnuplot. Returns
    (svg, png or None) relative to out."""
    cdir = os.path.join(out, "charts")
    os.makedirs(cdir, exist_ok=True)
    body = "\n".join(panels)
    parts = ["# made by loadtest/compare; gnuplot %s.gp (from the results folder's charts/)" % name]
    for term, ext in [("svg size %d,%d noenhanced font 'sans,10' background rgb 'white'" % size, "svg")] + (
            [("pngcairo size %d,%d noenhanced font 'sans,9' background rgb 'white'" % size, "png")]
            if png else []):
        parts += ["set terminal " + term, "set output '%s.%s'" % (name, ext),
                  "set multiplot layout %d,%d title \"%s\"" % (layout[0], layout[1], header), body,
                  "unset multiplot", "unset output", "reset"]
    return run_gnuplot(cdir, name, parts, png)


def run_gnuplot(cdir, name, parts, png):
    """Writes the script lines parts to cdir/name.gp and runs gnuplot on it
    (stdin closed: it never waits for a terminal). Any error, or output that is
    not a warning, is a RuntimeError. Returns the chart paths relative to the
    results folder: (svg, png or None)."""
    script = os.path.join(cdir, name + ".gp")
    with open(script, "w") as f:
        f.write("\n".join(parts) + "\n")
    r = subprocess.run(["gnuplot", name + ".gp"], cwd=cdir, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    problems = [l for l in r.stderr.splitlines() if l.strip() and "warning" not in l.lower()]
    if r.returncode != 0 or problems:
        raise RuntimeError("gnuplot failed on %s: %s" % (script, r.stderr.strip()[-500:]))
    shrink_svg(os.path.join(cdir, name + ".svg"))
    return "charts/%s.svg" % name, ("charts/%s.png" % name if png else None)


def shrink_svg(path):
    """Drops the empty groups gnuplot writes for every tic and style change,
    and trailing spaces: about half of a chart's bytes, nothing drawn."""
    with open(path) as f:
        text = f.read()
    while True:
        new = re.sub(r"<g [^>]*>\s*</g>\n?", "", text)
        if new == text:
            break
        text = new
    text = re.sub(r"[ \t]+(?=['\n])", "", text)
    with open(path, "w") as f:
        f.write(text)


def make_charts(out, meta, rows, png):
    """{workload: [(kind, svg, png)]} for every workload in rows."""
    order = looks(targets_in_order(rows, meta), meta)
    charts = {}
    for wl in dict.fromkeys(r["workload"] for r in rows):
        wrows = [r for r in rows if r["workload"] == wl]
        charts[wl] = []
        for kind, fn in CHARTS:
            spec = fn(wl, wrows, order, meta["settings"]["timeout_s"])
            if spec is None:
                continue
            svg, pngf = render(out, "%s-%s" % (wl, kind), spec, png)
            charts[wl].append((kind, svg, pngf))
    return charts


# ---------------------------------------------------------------- report.md

def ms(x):
    if x is None:
        return "–"
    if x < 1:
        return "%.2f" % x
    if x < 10:
        return "%.1f" % x
    return "{:,.0f}".format(x)


def errors_text(r):
    e = r.get("errors") or {}
    parts = ["%s %s" % (k, short(v)) for k, v in e.items() if v]
    return ", ".join(parts) if parts else "0"


def intval(x):
    return "–" if x is None else "{:,}".format(int(x))


def table(rows, order, notes):
    head = ("| mode | C | req/s | predicted | ratio | p50 ms | p99 ms | latency covers | starved | wrk errors | "
            "server: served / non-2xx | conns held / open / queued / accepted | RSS MiB | threads | procs | "
            "CPU cores server / wrk / machine | notes |")
    out = [head, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|---|"]
    for name in order:
        for r in sorted((r for r in rows if r["target"] == name), key=lambda r: r["concurrency"]):
            lat = r.get("latency_ms") or {}
            sv = r.get("server")
            res = r.get("resources") or {}
            ratio = "–"
            if r.get("ratio") is not None:
                ratio = "%.2f" % r["ratio"]
                if r.get("miss"):
                    ratio = "**%s**" % ratio
            served = "%s / %s" % (intval(sv["requests"]), intval(sv["non_2xx"])) if sv else "–"
            conns = "%s / %s / %s / %s" % (
                intval(res.get("held_median")), intval(sv.get("open_mid")) if sv else "–",
                intval(res.get("queued_median")), intval(sv["accepted"]) if sv else "–")
            rss = "%.1f" % (res["rss_kib"] / 1024) if res.get("rss_kib") else "–"
            cpu = " / ".join("%.2f" % res[k] if res.get(k) is not None else "–"
                             for k in ("server_cpu_cores", "wrk_cpu_cores", "machine_cpu_cores"))
            errs = errors_text(r)
            if r.get("errors_total"):
                errs = "**%s**" % errs
            refs = []
            for n in (r.get("notes") or []) + ["server: " + l for l in r.get("server_log") or []]:
                if n not in notes:
                    notes.append(n)
                refs.append("[%d]" % (notes.index(n) + 1))
            share = labmodel.latency_share(r)
            cover = "–" if share is None else "%.0f %%" % (share * 100)
            if share is not None and share < 0.995:
                cover = "**%s**" % cover
            hungry = labmodel.starved_min(r)
            out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, r["concurrency"], labmodel.fmt_rate(r["rps"]), labmodel.fmt_prediction(r),
                ratio, ms(lat.get("p50")), ms(lat.get("p99")), cover,
                "**%d**" % hungry if hungry else "0", errs, served, conns, rss,
                intval(res.get("threads")), intval(res.get("processes")), cpu, " ".join(refs)))
    return out


HOW_TO_READ = """\
**How this was measured, and what it cannot show.** wrk is a *closed-loop*
client: each of its C connections sends a request, waits for the answer, and
only then sends the next. When the server stalls, wrk simply sends less, and
the stall is counted once per connection rather than for every request that
real users would have kept sending meanwhile — the *coordinated omission*
problem. So the latencies here are better than an open stream of users would
see, most of all for the modes that queue (iterative, and prefork and pool
beyond their workers): a queue shows up as lower throughput and higher latency, never as
the requests that were never sent. Two more things hide load, and both are shown
instead of hidden: a response slower than wrk's `--timeout` is counted as a
**timeout error and left out of the latency figures** (so a mode that starves
clients gets *fewer*, not worse, latency samples: look at the error columns and
the red circles), and wrk's "connections" are what it *offers*: the columns
*conns held / open / queued* say how many the server actually had accepted and
was serving (from its open sockets in /proc, median over the run), how many it
says are open (its /stats read half-way through the run; "–" when it did not
answer within a second, itself a sign of a queue), and how many waited in the
kernel's listen queue, unaccepted; *accepted* is the server's own
count (/stats) of connections accepted during the run — with keep-alive off
(by default in iterative, prefork and pool) one per request. *server: served /
non-2xx* is the server's own count of responses to this page from /stats, which may include responses to
requests wrk had already given up on. *CPU cores*: what the server's processes
used (/proc), what wrk used (its own rusage), and what the whole machine used
(/proc/stat): a machine figure well above the other two means something else
was running at the same time."""


def settings_text(meta, rows):
    s = meta["settings"]
    m = meta["machine"]
    lines = [
        "- Command: `%s`" % meta["command"],
        "- Started %s; wall time %s s%s." % (meta.get("started"), meta.get("wall_s", "?"),
                                            "" if meta.get("complete") else " — **incomplete run**"),
        "- Machine: %s cores%s, %s GiB, Linux %s. Load average %s at the start, %s at the end "
        "(it counts runnable threads: threads mode on /cpu raises it by itself). "
        "**This machine has %s cores, which wrk and the server share, and it may have been shared "
        "with other people's builds and tests during the run.**" % (
            m.get("cores"), " (%s)" % m["cpu"] if m.get("cpu") else "", m.get("mem_gib"), m.get("kernel"),
            fmt_load(meta.get("loadavg_start")), fmt_load(meta.get("loadavg_end")), m.get("cores")),
        ("- Server: httpmodes %s (`%s`), a fresh process per run on a free loopback port%s "
         "(no live view: `--status-port off`); DB delay D = %d ms, /dashboard K = %d widgets, "
         "/cpu %d iterations, %s%s; keep-alive is each mode's default (%s)." % (
             meta.get("server_version") or "?", s.get("binary"), ", over HTTPS" if s.get("tls") else "",
             s["db_delay_ms"], s["widgets"], s["cpu_iterations"], workers_text(meta, rows),
             ", extra arguments `%s`" % " ".join(s["server_args"]) if s.get("server_args") else "",
             keep_alive_text(meta))
         if s.get("modes") else
         "- Servers: none started by the lab (outside targets only); pages with DB delay D = %d ms, "
         "/dashboard K = %d widgets, /cpu %d iterations; N is what each target's /stats says." % (
             s["db_delay_ms"], s["widgets"], s["cpu_iterations"])),
        "- Client: %s; threads min(2, C), runs of %g s after an unrecorded warm-up of %g s, "
        "`--timeout %gs`." % (meta.get("wrk") or "wrk", s["duration_s"], s["warmup_s"], s["timeout_s"]),
    ]
    if s.get("targets"):
        predicted = {r["target"] for r in rows if r.get("kind") == "mode"}
        lines.append("- Outside targets: " + ", ".join(
            "%s = %s (%s)" % (t["name"], t["base"],
                              "an httpmodes in that mode: predicted like it" if t["name"] in predicted
                              else "no prediction") for t in s["targets"]) + ".")
    return lines


def workers_text(meta, rows):
    """N of each mode with workers, as the servers said (e.g. "N = 8 workers
    in prefork and pool, 2 loops in reactors")."""
    table = {m["name"]: m for m in meta.get("mode_table") or []}
    by_n = {}
    for name in targets_in_order(rows, meta):
        info = table.get(name)
        if not info or info["workers"] == "none":
            continue
        ns = sorted({r.get("workers") for r in rows if r["target"] == name and r.get("workers")})
        n = "/".join(map(str, ns)) if ns else str(meta["settings"].get("workers") or "?")
        what = "loops" if info["event_loop"] else "workers"
        by_n.setdefault((n, what), []).append(name)
    if not by_n:
        return "no mode with workers"
    return "N = " + ", ".join("%s %s in %s" % (n, what, " and ".join(names))
                              for (n, what), names in by_n.items())


def keep_alive_text(meta):
    table = meta.get("mode_table") or []
    on = [m["name"] for m in table if m["keep_alive"]]
    off = [m["name"] for m in table if not m["keep_alive"]]
    return "; ".join(x for x in ("on in " + ", ".join(on) if on else "",
                                 "off in " + ", ".join(off) if off else "") if x)


def fmt_load(x):
    return " / ".join("%.2f" % v for v in x) if x else "?"


def prediction_text(meta, rows):
    s = meta["settings"]
    d = s["db_delay_ms"]
    w, w_from = labmodel.cpu_work_s(rows, meta.get("mode_table"))
    have_hello = any(r["workload"] == "hello" for r in rows)
    lines = [
        "**Predictions** (dashed lines; requests/s; D = %d ms, K = %d, N = the mode's workers, "
        "C = connections, cores = %s):" % (d, s["widgets"], meta["machine"]["cores"]),
        "",
        "| mode | /db | /dashboard | /cpu |",
        "|---|---|---|---|",
    ]
    shown = targets_in_order(rows, meta)
    for m in meta.get("mode_table") or []:
        if m["name"] not in shown:
            continue
        shape = labmodel.model(m)
        if shape is None:
            lines.append("| %s | – | – | – (no model for this mode) |" % m["name"])
            continue
        waits, computes, together = shape
        wb = labmodel.WAITS_BASIS[waits]
        lines.append("| %s | %s/D | %s | %s%s |" % (
            m["name"], wb, "%s/D (the K queries run at once)" % wb if together else "%s/(K·D)" % wb,
            labmodel.CPU_BASIS[computes], " (one core)" if computes == "1" else ""))
    lines += ["", "/hello has no prediction: it is each mode's CPU ceiling.", ""]
    if have_hello:
        lines.append("The /db and /dashboard predictions are capped by the same mode's /hello "
                     "throughput at the same C (the CPU ceiling: no page can be served faster than "
                     "one that does nothing).")
    else:
        lines.append("/hello was not in this run, so the /db and /dashboard predictions are not "
                     "capped by the CPU ceiling.")
    if w:
        lines.append(" W = %.1f ms of work per /cpu request, from %s. wrk runs on the same %s cores, "
                     "so a parallel mode gets less than all of them for /cpu: that alone can make "
                     "it miss by more than 10 %% (see the CPU column: cores used by the server and "
                     "by wrk)." % (w * 1000, w_from, meta["machine"]["cores"]))
    elif any(r["workload"] == "cpu" for r in rows):
        lines.append(" /cpu has no prediction: W is measured at concurrency 1, which this run "
                     "did not include.")
    lines.append(" A run is a **miss** when it is more than 10 % off its prediction (bold ratio).")
    return lines


def write_report(out, meta, rows, charts):
    order = targets_in_order(rows, meta)
    md = ["# httpmodes load-test report", ""]
    if rows:
        md += ["## At a glance", ""] + labglance.summary(rows, meta.get("mode_table")) + [""]
    md += settings_text(meta, rows) + [""]
    if rows:  # (a --db-pools sweep alone has no matrix: its section says what it needs)
        md += ["## Summary", ""] + labmodel.summary(rows, meta.get("mode_table")) + [""]
        md += ["## Reading this report", "", HOW_TO_READ, ""] + prediction_text(meta, rows) + [""]
    for wl in dict.fromkeys(r["workload"] for r in rows):
        wrows = [r for r in rows if r["workload"] == wl]
        md += ["## %s" % TITLES.get(wl, wl), "", "Path `%s`." % wrows[0]["path"], ""]
        for kind, svg, png in charts.get(wl, []):
            md.append("![%s %s](%s)" % (wl, kind, svg))
            md.append("")
        pngs = [(k, p) for k, _, p in charts.get(wl, []) if p]
        if pngs:
            md += ["PNG: " + " · ".join("[%s](%s)" % (k, p) for k, p in pngs), ""]
        notes = []
        md += table(wrows, order, notes) + [""]
        for i, n in enumerate(notes, 1):
            md.append("%d. %s" % (i, n))
        if notes:
            md.append("")
    md += labpool.section(out, meta, charts.get("_png", False))
    md += labpeers.section(meta)
    md += labopen.section(out, meta, rows, charts.get("_png", False))
    md += labmixed.section(out, meta, charts.get("_png", False))
    md += ["## Files", "",
           "`results.json` (every run, with the settings), `results.csv` (one row per run), "
           "`charts/*.gp` (the gnuplot scripts, with their data: `cd charts && gnuplot NAME.gp`).", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))


def write_all(out, meta, rows, png=True):
    write_json(out, meta, rows)
    write_csv(out, rows + ((meta.get("db_pools") or {}).get("runs") or []))
    charts = make_charts(out, meta, rows, png) if rows else {}
    charts["_png"] = png
    write_report(out, meta, rows, charts)
