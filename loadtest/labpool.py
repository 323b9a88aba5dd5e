"""labpool: the database-pool sweep (compare --db-pools 4,16,off) — where an
asynchronous server stops scaling. For each mode and each pool size P the
lab runs /db over the concurrency levels, a fresh `httpmodes --db-pool P`
per cell, as a series of its own ("event, pool 4"). labmodel predicts each
row with its own pool — min(C, P, the model's bound)/D — and one chart shows
it in two panels, throughput and p99 against connections (log), a line per
pool size (and mode), with the pools' ceilings P/D and Little's law's time
in the server, C/(P/D), as reference lines.

A pool row is a closed-loop row of compare (run_mode_cell) on /db, plus
  db_pool (P; 0 for off: no pool) and series ("event, pool 4"),
kept in meta["db_pools"]["runs"] of results.json."""
import labmodel
import labreport

MAX = 10000  # the server's --db-pool: 1..10000, or off

# a colour per pool size, smallest first (the tightest pool the hottest);
# no pool in blue; markers and dashes tell the series and modes apart
POOL_COLOURS = ["#d62728", "#ff7f0e", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf"]
OFF_COLOUR = "#1f77b4"
MODE_DASH = [1, 4, 5, 2, 3]
LINE_GREY = "#666666"


def parse(text):
    """The pool sizes of --db-pools ("4,16,off"): [4, 16, 0], 0 for off
    (no pool), each once, in the order given. Raises ValueError with what
    is wrong."""
    out = []
    for t in (x.strip().lower() for x in text.split(",")):
        if not t:
            continue
        if t == "off":
            p = 0
        elif t.isdigit() and 1 <= int(t) <= MAX:
            p = int(t)
        else:
            raise ValueError("'%s' is not a pool size (1..%d, or off for none)" % (t, MAX))
        if p not in out:
            out.append(p)
    if not out:
        raise ValueError("give at least one pool size (1..%d, or off)" % MAX)
    return out


def label(p):
    return "pool %d" % p if p else "pool off"


def series_name(mode, p):
    """The series of one mode and pool size: "event, pool 4"."""
    return "%s, %s" % (mode, label(p))


def server_args(p):
    """The httpmodes arguments of pool size p (0: off)."""
    return ["--db-pool", str(p) if p else "off"]


def pools_in_order(rows):
    """The pool sizes of rows, smallest first, off (0) last."""
    return sorted({r["db_pool"] for r in rows}, key=lambda p: (p == 0, p))


def looks(rows, meta):
    """[(series, colour, marker, dash, mode, pool)] of every series of rows:
    modes in the server's table order, each mode's pools smallest first and
    off last. The colour is the pool's (the same pool the same colour in
    every mode), the dash the mode's, the marker the series' own."""
    modes = labreport.targets_in_order(rows, meta)
    pools = pools_in_order(rows)
    colour = {p: (POOL_COLOURS[k % len(POOL_COLOURS)] if p else OFF_COLOUR) for k, p in enumerate(pools)}
    out = []
    for mi, m in enumerate(modes):
        for p in pools:
            if any(r["target"] == m and r["db_pool"] == p for r in rows):
                i = len(out)
                out.append((series_name(m, p), colour[p], labreport.POINTS[i % len(labreport.POINTS)],
                            MODE_DASH[mi % len(MODE_DASH)], m, p))
    return out


def little_ms(r):
    """Little's law: the time a request spends in the server when C of them
    are in it and the predicted throughput goes out — C / prediction, in ms
    (None without a prediction)."""
    return r["concurrency"] / r["prediction"] * 1000 if r.get("prediction") else None


# ---------------------------------------------------------------- the chart

def _refs(pools, x0, x1, y_of):
    """Reference lines of the pools: for each, two points (x0 and x1) of
    y_of(p, x); one datablock line per point."""
    return [["%s %s" % (labreport.num(x), labreport.num(y_of(p, x))) for x in (x0, x1)] for p in pools]


def _panel(head, blocks, plots):
    return "\n".join(blocks + [head, "plot " + ", \\\n     ".join(plots)])


def chart(out, meta, rows, png):
    """Draws panels() as charts/db-pools.svg (and .png). Returns (svg, png
    or None) relative to out."""
    return labreport.render_panels(
        out, "db-pools", "%s with a pool of P database connections (--db-pool P)" % rows[0]["path"],
        panels(meta, rows), (1, 2), (1160, 520), png)


def panels(meta, rows):
    """The pool chart's two panels (gnuplot scripts): throughput and p99
    against connections, log axes, a line per series (looks) nudged along x
    so none hides another, the pools' ceilings P/D (and the no-pool diagonal
    C/D) and Little's law's C/(P/D) (and D) as dashed reference lines
    labelled at their right ends, the labels spread apart."""
    s = meta["settings"]
    d = s["db_delay_ms"] / 1000.0
    t_ms = s["timeout_s"] * 1000
    look = looks(rows, meta)
    order = [(name, col, pt) for name, col, pt, _, _, _ in look]
    dash = {name: dt for name, _, _, dt, _, _ in look}
    pools = [p for p in pools_in_order(rows) if p]
    colour = {p: col for _, col, _, _, _, p in look}
    cs = sorted({r["concurrency"] for r in rows})
    x0, x_end, x_lab = min(cs) / 1.6, max(cs) * 1.25, max(cs) * 1.35
    xr = (x0, max(cs) * 8)  # room on the right for the reference lines' labels
    n = len(order)

    # -- throughput
    vals = [r["rps"] for r in rows] + [p / d for p in pools] + [x_end / d]
    lo, hi = labreport.log_range(vals)
    blocks, plots, marks, errs = [], [], [], []
    for i, name, col, pt, rs in labreport.series(rows, order, key="series"):
        fx, lw, ps = labreport.style(i, n)
        lines = []
        for r in rs:
            y = r["rps"] if r["rps"] > 0 else lo
            lines.append("%s %s" % (labreport.xs(r["concurrency"], fx), labreport.num(y)))
            if r["errors_total"] or r["rps"] <= 0:
                errs.append((labreport.xs(r["concurrency"], fx), y,
                             ("%s err" % labreport.short(r["errors_total"])) if r["errors_total"] else "0 req/s",
                             col))
        blocks.append(labreport.datablock("m%d" % i, lines))
        plots.append("$m%d using 1:2 with linespoints dt %d lw %.1f pt %d ps %.2f lc rgb '%s' title '%s'" % (
            i, dash[name], lw, pt, ps, col, name))
    ref_labels = []  # (y, text, colour) at the right end of each reference line
    for k, (p, pts) in enumerate(zip(pools, _refs(pools, x0, x_end, lambda p, x: p / d))):
        blocks.append(labreport.datablock("ceil%d" % k, pts))
        plots.append("$ceil%d using 1:2 with lines dt 2 lw 1.3 lc rgb '%s' notitle" % (k, colour[p]))
        ref_labels.append((p / d, "P/D = %s/s (P=%d)" % (labmodel.fmt_rate(p / d), p), colour[p]))
    if pools:  # one key entry for the ceilings, each in its pool's colour
        plots.append("NaN with lines dt 2 lw 1.3 lc rgb '%s' title \"P/D: a pool's ceiling\"" % LINE_GREY)
    blocks.append(labreport.datablock("diag", ["%s %s" % (labreport.num(x), labreport.num(x / d))
                                               for x in (x0, x_end)]))
    plots.append("$diag using 1:2 with lines dt 3 lw 1.3 lc rgb '%s' title 'C/D: no pool'" % LINE_GREY)
    ref_labels.append((x_end / d, "C/D", LINE_GREY))
    _labels(blocks, plots, "tl", ref_labels, x_lab, lo, hi)
    labreport.mark_errors(errs, "run with errors", 0.05, lo, hi, blocks, marks)
    head = labreport.gp_header("throughput: flat at P/D once the pool is full", "connections (wrk -c, log)",
                               "requests/s (log)", xr, cs)
    head += "\nset yrange [%g:%g]\n" % (lo, hi) + KEY
    left = _panel(head, blocks, plots + marks)

    # -- p99
    vals = [t_ms, d * 1000] + [(r.get("latency_ms") or {}).get("p99") for r in rows] + \
        [x_end * d / p * 1000 for p in pools]
    lo, _ = labreport.log_range(vals)
    hi = max(v for v in vals if v) * 2  # p99 is never above the timeout: room for its labels
    blocks, plots, marks, errs = [], [], [], []
    for i, name, col, pt, rs in labreport.series(rows, order, key="series"):
        fx, lw, ps = labreport.style(i, n)
        lines = []
        for r in rs:
            lat = r.get("latency_ms") or {}
            x = labreport.xs(r["concurrency"], fx)
            lines.append("%s %s" % (x, labreport.num(lat.get("p99"))))
            t = (r.get("errors") or {}).get("timeout", 0)
            if t or lat.get("p99") is None:
                errs.append((x, t_ms, "%s t/o" % labreport.short(t) if t else "no data", col))
        blocks.append(labreport.datablock("m%d" % i, lines))
        plots.append("$m%d using 1:2 with linespoints dt %d lw %.1f pt %d ps %.2f lc rgb '%s' title '%s p99'" % (
            i, dash[name], lw, pt, ps, col, name))
    ref_labels = []
    for k, p in enumerate(pools):
        # Little's law: D while a connection is free, then C/(P/D)
        xs = [x0] + ([p] if x0 < p < x_end else []) + [x_end]
        blocks.append(labreport.datablock("lit%d" % k, ["%s %s" % (labreport.num(x), labreport.num(
            max(d, x * d / p) * 1000)) for x in xs]))
        plots.append("$lit%d using 1:2 with lines dt 2 lw 1.3 lc rgb '%s' notitle" % (k, colour[p]))
        ref_labels.append((max(d, x_end * d / p) * 1000, "C/(P/D), P=%d" % p, colour[p]))
    if pools:
        plots.append("NaN with lines dt 2 lw 1.3 lc rgb '%s' title \"C/(P/D): Little's law\"" % LINE_GREY)
    blocks.append(labreport.datablock("dflat", ["%s %s" % (labreport.num(x), labreport.num(d * 1000))
                                                for x in (x0, x_end)]))
    plots.append("$dflat using 1:2 with lines dt 3 lw 1.3 lc rgb '%s' title 'D: no wait for a connection'"
                 % LINE_GREY)
    ref_labels.append((d * 1000, "D = %g ms" % (d * 1000), LINE_GREY))
    _labels(blocks, plots, "ll", ref_labels, x_lab, lo, hi)
    labreport.mark_errors(errs, "timeouts (not in p99)", -0.07, lo, hi, blocks, marks)
    marks.append("%g with lines dt 3 lw 1 lc rgb '%s' title 'wrk --timeout %gs'" % (
        t_ms, labreport.ERROR_RED, s["timeout_s"]))
    head = labreport.gp_header("p99: grows as C/(P/D) once the pool is full (Little's law)",
                               "connections (wrk -c, log)", "milliseconds (log)", xr, cs)
    head += "\nset yrange [%g:%g]\n" % (lo, hi) + KEY
    right = _panel(head, blocks, plots + marks)
    return [left, right]


# the key under the plot, below the x label (a key in the bottom margin
# would print over the label)
KEY = ("set bmargin 8\nset key at graph 0.5, graph -0.13 center top horizontal maxcols 2 font ',9' "
       "samplen 3 spacing 1.0\nset rmargin 2")


def _labels(blocks, plots, name, labels, x, lo, hi):
    """Labels at the right end of the reference lines (y, text, colour),
    moved apart so that none prints over another (labreport.spread)."""
    heights = labreport.spread([y for y, _, _ in labels], lo, hi)
    blocks.append(labreport.datablock(name, ['%s %s "%s" 0x%s' % (
        labreport.num(x), labreport.num(h), text, col.lstrip("#")) for (_, text, col), h in zip(labels, heights)]))
    plots.append("$%s using 1:2:3:4 with labels left font ',9' tc rgb variable notitle" % name)


# ---------------------------------------------------------------- report

def section(out, meta, png):
    """The report's pool section (Markdown lines), chart included; [] when
    the run had no --db-pools."""
    rows = (meta.get("db_pools") or {}).get("runs") or []
    if not rows:
        return []
    s = meta["settings"]
    svg, pngf = chart(out, meta, rows, png)
    look = looks(rows, meta)
    md = ["## The database pool: throughput and p99 against connections", "",
          "`%s` on a fresh `httpmodes --db-pool P` per cell (`off`: no pool, the default), for P = %s, "
          "each mode and pool a series of its own, wrk at C = %s connections for %g s each. At most P "
          "queries are in flight in the whole server; the others wait for a connection in one FIFO "
          "queue. Predicted: min(C, P, the model's bound)/D with D = %d ms." % (
              rows[0]["path"], ", ".join(str(p) if p else "off" for p in pools_in_order(rows)),
              ", ".join(str(c) for c in sorted({r["concurrency"] for r in rows})), s["duration_s"],
              s["db_delay_ms"]), "",
          "![db pools](%s)" % svg, ""]
    if pngf:
        md += ["PNG: [db pools](%s)" % pngf, ""]
    md += ["**What to see**: throughput climbs with C until the pool is full and then **flattens at "
           "P/D** (left: the dashed line of its colour) — the pool's ceiling, whatever the model and however "
           "many connections wait; past C = P every other connection queues for a database connection, "
           "so the time in the server, and with it **p99, grows as C/(P/D)** (right) — **Little's law**: "
           "requests in the server = throughput × time in it. Without a pool the same server keeps "
           "on the C/D diagonal and its p99 stays near D. wrk is a closed-loop client: each of its C "
           "connections has exactly one request in the server at a time, so C *is* the number in "
           "the server, and C / req/s the mean time a request spent in it; a response slower than wrk's `--timeout` "
           "(%g s) would be a timeout error, outside the percentiles (red circles)." % s["timeout_s"], ""]
    md += ["At the highest C:", ""]
    for name, _, _, _, m, p in look:
        rs = sorted((r for r in rows if r["series"] == name), key=lambda r: r["concurrency"])
        r = rs[-1]
        lat = r.get("latency_ms") or {}
        lit = little_ms(r)
        md.append("- **%s** at C = %d: %s req/s (predicted %s, %s), p99 %s ms%s%s." % (
            name, r["concurrency"], labmodel.fmt_rate(r["rps"]), labmodel.fmt_prediction(r),
            r.get("prediction_basis") or "no prediction", labreport.ms(lat.get("p99")),
            " (Little's law C/throughput: %s ms)" % labreport.ms(lit) if lit else "",
            "; %s wrk errors" % labreport.errors_text(r) if r.get("errors_total") else ""))
    md += ["", "| series | C | req/s | predicted | ratio | p50 ms | mean ms | C / req/s ms | C / predicted ms | "
           "p99 ms | latency covers | wrk errors |",
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for name, _, _, _, _, _ in look:
        for r in sorted((r for r in rows if r["series"] == name), key=lambda r: r["concurrency"]):
            lat = r.get("latency_ms") or {}
            ratio = "–" if r.get("ratio") is None else ("**%.2f**" if r.get("miss") else "%.2f") % r["ratio"]
            share = labmodel.latency_share(r)
            md.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, r["concurrency"], labmodel.fmt_rate(r["rps"]), labmodel.fmt_prediction(r), ratio,
                labreport.ms(lat.get("p50")), labreport.ms(lat.get("mean")),
                labreport.ms(r["concurrency"] / r["rps"] * 1000) if r.get("rps") else "–",
                labreport.ms(little_ms(r)), labreport.ms(lat.get("p99")),
                "–" if share is None else "%.0f %%" % (share * 100),
                ("**%s**" % labreport.errors_text(r)) if r.get("errors_total") else "0"))
    md += ["", "*C / req/s*: Little's law on the measured throughput — the mean time a request spent in "
           "the server, to compare with wrk's mean; *C / predicted*: the same from the prediction.", ""]
    notes = [(r["series"], r["concurrency"], n) for r in rows for n in r.get("notes") or []]
    for name, c, n in notes:
        md.append("- %s c=%d: %s" % (name, c, n))
    if notes:
        md.append("")
    return md

