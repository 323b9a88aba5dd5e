"""labpeers: the peers of `compare --peers` — Debian's nginx and Apache,
started by the lab beside its own modes so the report answers "what would I
get with nginx?". Each one runs as the current user on a free loopback port
with a config the lab writes into a temporary directory (no system service,
no port 80), serves the same /hello body and a /db that waits D ms on a timer
without working, and is stopped with SIGTERM. Their configs go into the
report as they were written.

  nginx           nginx-light, worker_processes auto; /db: the echo module's
                  echo_sleep (loadtest/peers' nginx, reused)
  apache-prefork  apache2-bin, the prefork MPM (a process per connection);
  apache-worker   the worker MPM (threads in a few processes); /db: mod_lua,
                  r.usleep(D ms) — the thread or process blocks, as in
                  httpmodes' blocking modes

The peers serve /hello and /db only: /dashboard and /cpu are httpmodes' own
pages, which neither has, so those cells are not run for them."""
import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

import labrun  # a module beside this one: load_script, free_port

PEERS = ("nginx", "apache")
WORKLOADS = ("hello", "db")  # what a peer can serve like httpmodes does
APACHE_BIN = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
INSTALL = "apt-get install nginx-light libnginx-mod-http-echo apache2-bin (./bootstrap.sh lab installs them)"
HELLO = "Hello, world!\n"  # httpmodes' /hello body


class PeerError(Exception):
    pass


def _peers_script():
    """loadtest/peers as a module, for its nginx."""
    return labrun.load_script("peers")


def names(peers):
    """The rows a --peers list gives: apache is two (its two MPMs)."""
    out = []
    for p in peers:
        out += ["apache-prefork", "apache-worker"] if p == "apache" else [p]
    return out


def missing(peers):
    """What is not installed for these peers (a list of sentences)."""
    out = []
    if "nginx" in peers:
        if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
            out.append("nginx not found")
        elif not os.path.isfile(_peers_script().ECHO_MODULE):
            out.append("nginx's echo module (libnginx-mod-http-echo) not found")
    if "apache" in peers:
        if not os.access(APACHE_BIN, os.X_OK):
            out.append("%s not found" % APACHE_BIN)
        else:
            for m in ("mod_mpm_prefork", "mod_mpm_worker", "mod_lua", "mod_authz_core"):
                if not os.path.isfile(os.path.join(APACHE_MODULES, m + ".so")):
                    out.append("%s/%s.so not found" % (APACHE_MODULES, m))
    return out


def start(name, fd_limit, db_delay_ms):
    """A started peer by its row name."""
    if name == "nginx":
        return NginxPeer(fd_limit, db_delay_ms).start()
    if name.startswith("apache-"):
        return Apache(name.split("-", 1)[1], db_delay_ms).start()
    raise PeerError("unknown peer %s" % name)


def answers(port, path="/hello"):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"(nginx|Apache)/[\w.]+", r.stdout + r.stderr)
    return m.group(0) if m else None


class NginxPeer:
    """loadtest/peers' nginx (worker_processes auto) with the lab's face:
    pid, port, url(), stats_url() (none), config, stop()."""
    tls_port = None

    def __init__(self, fd_limit, db_delay_ms):
        ps = _peers_script()
        try:
            binary = ps.find_nginx(None)
        except ps.Failure as e:
            raise PeerError(str(e))
        self.nginx = ps.Nginx(binary, "auto", fd_limit, db_delay_ms)
        self._failure = ps.Failure
        self.name, self.config, self.version = "nginx", None, version([binary, "-v"])

    def start(self):
        try:
            self.nginx.start()
        except self._failure as e:
            raise PeerError(str(e))
        with open(os.path.join(self.nginx.prefix, "nginx.conf")) as f:
            self.config = f.read()
        return self

    @property
    def pid(self):
        return self.nginx.proc.pid

    @property
    def port(self):
        return self.nginx.port

    def url(self, path):
        return self.nginx.url(path)

    def stats_url(self):
        return None

    def stop(self):
        self.nginx.stop()
        return 0


APACHE_CONF = """\
# written by loadtest/compare --peers: a throw-away Apache on loopback
ServerRoot {prefix}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {prefix}/httpd.pid
ErrorLog {prefix}/error.log
LogLevel warn
{user}LoadModule mpm_{mpm}_module {modules}/mod_mpm_{mpm}.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule lua_module {modules}/mod_lua.so
{mpm_conf}
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 75
DocumentRoot {prefix}/docs
<Directory {prefix}/docs>
    Require all granted
</Directory>
# /hello: a static file with httpmodes' body; /db: wait ?delay= ms (default D)
LuaMapHandler ^/db$ {prefix}/db.lua handle
"""
MPM_CONF = {
    # a process per connection, up to 256 (Apache's default ceiling)
    "prefork": "StartServers 8\nMinSpareServers 5\nMaxSpareServers 20\nMaxRequestWorkers 256\n"
               "MaxConnectionsPerChild 0",
    # threads in processes: 16 processes x 64 threads = 1024 connections at once
    "worker": "ServerLimit 16\nStartServers 2\nThreadsPerChild 64\nThreadLimit 64\n"
              "MaxRequestWorkers 1024\nMinSpareThreads 64\nMaxSpareThreads 1024\n"
              "MaxConnectionsPerChild 0",
}
DB_LUA = """\
-- written by loadtest/compare --peers: /db?delay=MS waits, without working
function handle(r)
    local args = r:parseargs()
    local ms = tonumber(args.delay) or {delay}
    r.content_type = "text/plain"
    r.usleep(math.floor(ms * 1000))  -- the thread (or process) blocks
    r:puts("done\\n")
    return apache2.OK
end
"""


class Apache:
    """One Apache (apache2-bin) with the prefork or worker MPM, in the
    foreground, in its own temporary ServerRoot (removed at stop)."""
    tls_port = None

    def __init__(self, mpm, db_delay_ms):
        self.mpm, self.delay_ms = mpm, db_delay_ms
        self.name = "apache-" + mpm
        self.prefix = self.proc = self.port = self.config = None
        self.version = version([APACHE_BIN, "-v"])

    def start(self, timeout=15):
        if missing(["apache"]):
            raise PeerError("%s. Install: %s" % ("; ".join(missing(["apache"])), INSTALL))
        self.prefix = tempfile.mkdtemp(prefix="httpmodes-apache-")
        os.chmod(self.prefix, 0o755)  # the children, run as nobody when we are root, read it
        os.mkdir(os.path.join(self.prefix, "docs"), 0o755)
        with open(os.path.join(self.prefix, "docs", "hello"), "w") as f:
            f.write(HELLO)
        with open(os.path.join(self.prefix, "db.lua"), "w") as f:
            f.write(DB_LUA.format(delay=self.delay_ms))
        user = ""
        if os.geteuid() == 0:  # Apache will not serve as root: its children become nobody
            user = "User nobody\nGroup %s\n" % ("nogroup" if _group("nogroup") else "nobody")
        else:
            user = "User #%d\nGroup #%d\n" % (os.geteuid(), os.getegid())
        self.port = labrun.free_port()
        self.config = APACHE_CONF.format(prefix=self.prefix, port=self.port, user=user, mpm=self.mpm,
                                         modules=APACHE_MODULES, mpm_conf=MPM_CONF[self.mpm])
        conf = os.path.join(self.prefix, "httpd.conf")
        with open(conf, "w") as f:
            f.write(self.config)
        with open(os.path.join(self.prefix, "stderr"), "w") as err:
            # a session of its own: at shutdown Apache signals its whole
            # process group (its children), which would otherwise be the lab's
            self.proc = subprocess.Popen([APACHE_BIN, "-f", conf, "-DFOREGROUND"], cwd=self.prefix,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                         start_new_session=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            if answers(self.port):
                return self
            time.sleep(0.05)
        why = self.log_tail()
        self.stop()
        raise PeerError("%s did not start on 127.0.0.1:%d: %s" % (self.name, self.port, why))

    def log_tail(self):
        lines = []
        for n in ("stderr", "error.log"):
            try:
                with open(os.path.join(self.prefix, n), errors="replace") as f:
                    lines += [l.strip() for l in f if l.strip() and ":notice]" not in l]
            except OSError:
                pass
        return " / ".join(lines[-3:]) or "no answer within the time"

    @property
    def pid(self):
        return self.proc.pid

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stats_url(self):
        return None

    def stop(self):
        code = 0
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Apache stops its children and exits
            try:
                code = self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
        if self.prefix:
            shutil.rmtree(self.prefix, ignore_errors=True)
        return code


def _group(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def section(meta):
    """The report's section on the peers: what ran and their configs."""
    peers = (meta.get("peers") or {}).get("configs") or {}
    if not peers:
        return []
    md = ["## Peers: nginx and Apache beside the modes", "",
          "Started by the lab (`--peers`) on free loopback ports, as the current user, each in "
          "a temporary directory with the config below (no system service). They serve `/hello` "
          "(the same body) and `/db` (a wait of D ms without work: nginx's `echo_sleep`, a timer "
          "like event mode's; Apache's mod_lua `r.usleep`, which blocks its thread or process "
          "like threads or prefork mode) — `/dashboard` and `/cpu` are httpmodes' own pages, so "
          "the peers are not in those charts. They are outside the lab's predictions and its "
          "\"N of M within ±10 %\" figure, and have no `/stats`: their memory, threads and CPU "
          "are sampled from /proc like the modes'. Apache's prefork starts 8 processes (httpmodes "
          "prefork's N) and forks more only gradually — about one more a second, doubling up "
          "to 32 — so in short runs it serves fewer connections at once than its 256 allow: "
          "its threads chart shows how many it had.", ""]
    for name, p in peers.items():
        md += ["### %s%s" % (name, " (%s)" % p["version"] if p.get("version") else ""), "",
               "```", p["config"].rstrip("\n"), "```", ""]
        if p.get("lua"):
            md += ["`db.lua`:", "", "```lua", p["lua"].rstrip("\n"), "```", ""]
    return md
