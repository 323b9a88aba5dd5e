"""A real browser against the real server: headless Chromium (Debian package
`chromium`) loads /, a DB page and the CPU page in every mode; the rendered DOM
must show the mode, link every page and show the DB wait, and a screenshot of /
must be a real PNG. Chromium missing is a failure, not a skip: the project's
setup script (./bootstrap.sh test) installs it.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request
from html.parser import HTMLParser
from urllib.parse import urlsplit

import harness
from harness import Server

PAGES = ["/hello", "/db", "/dashboard", "/cpu", "/stats", "/metrics", "/echo"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Dom(HTMLParser):
    """Collects the text of elements with an id, and every link's href."""

    def __init__(self):
        super().__init__()
        self.by_id = {}
        self.hrefs = []
        self.title = ""
        self._open = []  # [tag, id or None, text parts]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        self._open.append([tag, a.get("id"), []])

    def handle_endtag(self, tag):
        while self._open:
            t, ident, parts = self._open.pop()
            text = "".join(parts)
            if ident:
                self.by_id[ident] = text.strip()
            if t == "title" and not self.title:  # the document's, not an SVG tooltip's
                self.title = text.strip()
            if self._open:
                self._open[-1][2].append(text)
            if t == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)


def live_load(mode):
    """Options, wrk connections for the live view's load, and the lanes it
    must show (None: threads, a lane per connection at once)."""
    if harness.pooled(mode):
        n = 2 if harness.event_loop(mode) else 4
        lanes = 1 if harness.MODE_TABLE[mode]["cpu_off_loop"] else n  # the pool is not a lane
        return ["--workers", str(n)], 50 if harness.event_loop(mode) else 16, lanes
    if harness.event_loop(mode):
        return [], 50, 1
    return [], 4 if harness.bounded(mode) else 8, 1 if harness.bounded(mode) else None



class Browser(unittest.TestCase):

    def setUp(self):
        self.chromium = find_chromium()
        if not self.chromium:
            self.fail("chromium is not installed: run the project's setup script (./bootstrap.sh test), "
                      "which installs it (Debian package 'chromium')")
        self.profile = tempfile.mkdtemp(prefix="httpmodes-chromium-")
        self.addCleanup(shutil.rmtree, self.profile, True)

    def chrome(self, *args, timeout=90):
        """Runs headless Chromium with a fresh profile; returns its stdout."""
        cmd = [self.chromium] + CHROMIUM_FLAGS + ["--user-data-dir=" + self.profile] + list(args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        self.assertEqual(r.returncode, 0, "chromium failed: %s" % r.stderr.decode("utf-8", "replace")[-2000:])
        return r.stdout.decode("utf-8", "replace")

    def dom(self, url):
        return self.dom_of(url)

    def test_pages_render(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                with Server(mode) as s:
                    # the index
                    d = self.dom(s.url("/"))
                    self.assertEqual(d.title, "httpmodes", d.html[:500])
                    self.assertEqual(d.by_id.get("mode"), mode, "no <td id=mode> with the mode: %r" % d.by_id)
                    paths = {urlsplit(h).path for h in d.hrefs}
                    for page in PAGES:
                        self.assertIn(page, paths, "no link to %s among %r" % (page, d.hrefs))
                    # the links work: every linked page answers 200 (followed with a plain client)
                    for h in d.hrefs:
                        if h.startswith("/"):
                            status, _, _ = s.get(h)
                        else:  # the live view, on the status port
                            with urllib.request.urlopen(h, timeout=10) as r:
                                status = r.status
                        self.assertEqual(status, 200, "link %s answered %d" % (h, status))

                    # a DB page: the wait is shown, and it is at least the delay asked for
                    d = self.dom(s.url("/db?delay=10"))
                    wait = d.by_id.get("wait")
                    self.assertIsNotNone(wait, "no element id=wait in %s" % d.html[-800:])
                    m = re.fullmatch(r"(\d+(?:\.\d+)?) ms", wait)
                    self.assertIsNotNone(m, "wait shown as %r" % wait)
                    self.assertGreaterEqual(float(m.group(1)), 10.0)
                    self.assertIn("mode %s" % mode, re.sub(r"<[^>]+>", "", d.html))
                    self.assertIn('href="/"', d.html)

                    # the CPU page: the hash and the time computed
                    d = self.dom(s.url("/cpu?iterations=1000"))
                    self.assertEqual(d.title, "cpu")
                    self.assertRegex(d.html, r"<code>[0-9a-f]{64}</code>")
                    self.assertRegex(d.by_id.get("cpu", ""), r"^\d+(\.\d+)? ms$")
                    self.assertIn("mode %s" % mode, re.sub(r"<[^>]+>", "", d.html))

                    # the DOMs came from this server: it counted the browser's requests
                    st = json.loads(s.get("/stats")[2])["requests"]["by_page"]
                    for page in ("/", "/db", "/cpu"):
                        self.assertGreaterEqual(st.get(page, {}).get("200", 0), 1, "%s not counted: %r" % (page, st))
                    self.assertGreaterEqual(st["/db"]["200"], 2)  # the link check asked once more

    def test_live_view_under_load(self):
        """/live on the status port, while wrk loads the server: the page
        draws bars, one lane per worker, and names the mode; a screenshot is
        kept (HTTPMODES_ARTIFACTS, else a temporary folder) and, with
        HTTPMODES_SCREENSHOTS=DIR, written there for the README."""
        wrk = shutil.which("wrk")
        self.assertIsNotNone(wrk, "wrk is not installed: run ./bootstrap.sh test")
        out_dir = os.environ.get("HTTPMODES_ARTIFACTS") or self.profile
        os.makedirs(out_dir, exist_ok=True)
        for mode in harness.MODES:
            args, conns, lanes = live_load(mode)
            with self.subTest(mode=mode), Server(mode, *args) as s:
                load = subprocess.Popen(
                    [wrk, "-t1", "-c%d" % conns, "-d8s", "--timeout", "5s", s.url("/db?delay=60")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                burn = None
                if harness.event_loop(mode):  # and CPU bursts that stall a loop
                    burn = subprocess.Popen([wrk, "-t1", "-c1", "-d8s", s.url("/cpu")],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    time.sleep(2)  # bars to draw
                    live = "http://%s:%d/live" % (harness.HOST, s.status_port)
                    d = self.dom_of(live, "--virtual-time-budget=3000")
                    self.assertEqual(d.by_id.get("mode"), mode, d.html[:400])
                    self.assertEqual(d.by_id.get("status"), "live")
                    self.assertGreater(int(d.by_id.get("bar-count", "0")), 0, "no bars drawn")
                    got_lanes = int(d.by_id.get("lane-count", "0"))
                    if lanes is None:  # threads: a lane per connection at once
                        self.assertGreaterEqual(got_lanes, 2)
                    else:
                        self.assertEqual(got_lanes, lanes)
                    self.assertIn('id="scoreboard"', d.html)
                    shot = os.path.join(out_dir, "live-%s.png" % mode)
                    self.chrome("--screenshot=" + shot, "--window-size=1400,900", "--hide-scrollbars",
                                "--virtual-time-budget=3000", live)
                    data = open(shot, "rb").read()
                    self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
                    self.assertGreater(len(data), 30000, "the live view's screenshot looks empty")
                    keep = os.environ.get("HTTPMODES_SCREENSHOTS")
                    if keep:
                        shutil.copy(shot, os.path.join(keep, "live-%s.png" % mode))
                finally:
                    for p in (load, burn):
                        if p:
                            p.terminate()
                            p.wait(10)
                # the dashboard's own timeline: four bars, one per widget
                d = self.dom_of(s.url("/dashboard?widgets=4&delay=30"))
                self.assertEqual(d.html.count('class="bar db"'), 4, d.html[-1500:])

    def dom_of(self, url, *flags):
        html = self.chrome("--dump-dom", *flags, url)
        d = Dom()
        d.feed(html)
        d.close()
        d.html = html
        return d

    def test_screenshot(self):
        for mode in harness.MODES:
            with self.subTest(mode=mode):
                with Server(mode) as s:
                    shot = os.path.join(self.profile, "index-%s.png" % mode)
                    self.chrome("--screenshot=" + shot, "--window-size=1024,768",
                                "--hide-scrollbars", s.url("/"))
                    self.assertTrue(os.path.exists(shot), "no screenshot written")
                    data = open(shot, "rb").read()
                    self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n", "not a PNG")
                    self.assertEqual(data[12:16], b"IHDR")
                    w, h = struct.unpack(">II", data[16:24])
                    self.assertEqual((w, h), (1024, 768))
                    # a blank 1024x768 page compresses to a few KB; the rendered
                    # index (tables, text) is far bigger
                    self.assertGreater(len(data), 20000, "screenshot is only %d bytes" % len(data))


if __name__ == "__main__":
    unittest.main()
