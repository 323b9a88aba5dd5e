"""labglance: the one-screen summary that opens the report — which model wins
which workload, by how much, and why, in the words synchronous /
asynchronous / concurrent / parallel. Generated from the run's figures
(good requests/s at the highest concurrency of each workload) and the
server's mode table, using labmodel's tie rule: no winner is written here,
and two rates within labmodel.TIE of each other stay a tie.

Pure functions of result rows and the mode table, so tests feed made-up rows."""
import labmodel

# what each workload is, and what decides it, in a student's words
WHAT = {
    "db": ("/db", "one simulated query: the server waits, it does not work"),
    "dashboard": ("/dashboard", "K independent simulated queries: waiting, K times"),
    "cpu": ("/cpu", "PBKDF2: the server works, it does not wait"),
    "hello": ("/hello", "almost nothing: what each model costs per request"),
}
RULE = {
    "db": "on a wait, what counts is how many requests a model keeps waiting at once (concurrency)",
    "dashboard": "on waits, what counts is how many a model keeps going at once — across "
                 "connections, and within one request when its queries can overlap",
    "cpu": "on work, only running on several cores at the same moment (parallelism) helps; "
           "concurrency alone does not",
    "hello": "with nothing to wait for or compute, what counts is the cost of each request "
             "itself: accepting, a thread or process, keep-alive",
}
GLOSSARY = (
    "*Synchronous*: a request's steps run one after another and the thread blocks while it "
    "waits. *Asynchronous*: the thread does not block; a wait is a timer or a ready socket "
    "that an event loop comes back to. *Concurrent*: many requests in progress at once. "
    "*Parallel*: running on several cores at the same moment.")


def words(info):
    """(sync word, concurrency phrase, parallelism phrase) of one mode from its
    table row, or None for a mode the model cannot read (and for outside
    targets, which have no row)."""
    if not info:
        return None
    shape = labmodel.model(info)
    if shape is None:
        return None
    waits, computes, together = shape
    sync = "asynchronous" if info.get("event_loop") else "synchronous"
    conc = {"1": "not concurrent (one request at a time)",
            "C": "concurrent (every connection at once)",
            "N": "concurrent up to its N workers"}[waits]
    if together:
        conc = conc[:-1] + ", and the queries within one request)"
    par = "not parallel (one core)" if computes == "1" else (
        "parallel (a core per thread or process)" if computes == "C" else "parallel (up to N cores)")
    return sync, conc, par


def tag(w):
    """The three words alone: 'asynchronous, concurrent, not parallel'."""
    return ", ".join(x.split(" (")[0].replace(" up to its N workers", "") for x in w)


def describe(name, table):
    """'**event** (asynchronous, concurrent, not parallel)', or just the bold
    name when the model has no words for it."""
    w = words(table.get(name))
    return "**%s**" % name if w is None else "**%s** (%s)" % (name, tag(w))


def times(a, b):
    """How far rate a is ahead of b, in words."""
    if not b:
        return "where it got nothing through"
    r = a / b
    if r >= 100:
        return "{:,.0f}×".format(r)
    return "%.1f×" % r if r >= 1.1 else "%.0f %% ahead of" % ((r - 1) * 100)


def cell_at_top(rows, wl):
    """(C, runs of workload wl at its highest concurrency, best first by ok_rps)."""
    ws = [r for r in rows if r["workload"] == wl]
    c = max(r["concurrency"] for r in ws)
    cell = sorted((r for r in ws if r["concurrency"] == c), key=lambda r: -(r.get("ok_rps") or 0))
    return c, cell


def line(wl, rows, table):
    """One Markdown bullet for one workload."""
    name, what = WHAT.get(wl, ("/" + wl, wl))
    c, cell = cell_at_top(rows, wl)
    best = cell[0]
    rate = lambda r: labmodel.fmt_rate(r.get("ok_rps") or 0)  # noqa: E731
    head = "- **%s** (%s), at %d connections: " % (name, what, c)
    if len(cell) == 1:
        return head + "only %s ran (%s good req/s)." % (describe(best["target"], table), rate(best))
    tied = labmodel.ties(cell)
    last = cell[-1]
    if len(tied) > 1:
        text = "a **tie within noise** (±%d %%) between %s (%s–%s good req/s): neither is ahead" % (
            labmodel.TIE * 100, ", ".join(describe(r["target"], table) for r in tied),
            rate(tied[-1]), rate(tied[0]))
        if last not in tied:
            text += "; together %s %s (%s)" % (times(tied[-1].get("ok_rps") or 0, last.get("ok_rps")),
                                              describe(last["target"], table), rate(last))
    else:
        second = cell[1]
        text = "%s wins with %s good req/s, %s %s (%s)" % (
            describe(best["target"], table), rate(best),
            times(best.get("ok_rps") or 0, second.get("ok_rps")), "**%s**" % second["target"],
            rate(second))
        if last is not second:
            text += " and %s %s (%s)" % (times(best.get("ok_rps") or 0, last.get("ok_rps")),
                                        describe(last["target"], table), rate(last))
    return head + text + ". Why: " + RULE.get(wl, "see the charts") + why(wl, tied, cell, table) + "."


def why(wl, tied, cell, table):
    """The clause that ties the rule to this run's ranking: says when the
    figures went against the rule instead of hiding it."""
    top = [words(table.get(r["target"])) for r in tied]
    if any(w is None for w in top) or wl not in ("db", "dashboard", "cpu"):
        return ""
    if wl == "cpu":
        if all(w[2].startswith("parallel") for w in top):
            return " — the parallel models came first"
        return " — yet a model on one core came first here: the cores were shared (see the CPU column)"
    if all(not w[1].startswith("not") for w in top):
        return " — the concurrent models came first"
    return " — yet a model that is not concurrent came first here"


def summary(rows, modes):
    """The one-screen summary: a list of Markdown lines."""
    table = labmodel.by_name(modes)
    rows = labmodel.measured(rows)
    order = [wl for wl in ("db", "dashboard", "cpu", "hello") if any(r["workload"] == wl for r in rows)]
    order += [wl for wl in dict.fromkeys(r["workload"] for r in rows) if wl not in order]
    out = [line(wl, rows, table) for wl in order]
    if not out:
        return ["No run finished: nothing to compare."]
    shown = [m["name"] for m in modes or [] if any(r["target"] == m["name"] for r in rows)]
    kinds = ["%s is %s" % (n, ", ".join(words(table[n]))) for n in shown if words(table[n])]
    out += ["", GLOSSARY + (" Here: " + "; ".join(kinds) + "." if kinds else "")]
    return out
