"""End-to-end harness: a real claude-bridged in temp dirs, driven through real shims, raw
sockets and claude-bridgectl. Never touches the real home, runtime or state directories."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("CB_BUILD_ROOT") or os.path.join(os.path.dirname(__file__), "../../build")
DAEMON = os.path.join(BUILD, "daemon", "claude-bridged")
SHIM = os.path.join(BUILD, "shim", "claude-bridge-shim")
CTL = os.path.join(BUILD, "ctl", "claude-bridgectl")
# A daemon config with every rate limit off (load, fault and operator tests).
NO_LIMITS = """
[rate_limits]
send_per_minute = 0
send_per_hour = 0
send_per_day = 0
read_per_minute = 0
"""


def meson_introspect(test, what):
    """`meson introspect WHAT` of the build under test, parsed; skips `test` when meson can't."""
    r = subprocess.run(["meson", "introspect", what, BUILD], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        test.skipTest("meson introspect failed: " + r.stderr.strip()[:300])
    return json.loads(r.stdout)


def wait_until(pred, timeout=10, what="condition", interval=0.02):
    """Polls pred() until it returns something true, and returns that; after `timeout` seconds
    fails the test naming `what`. The way tests wait for something to happen: a fixed sleep is
    either too short on a loaded machine or wasted time on an idle one."""
    deadline = time.time() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.time() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def make_token_like(seed):
    """A 64-hex string that is not any session's token."""
    import hashlib
    return hashlib.sha256(seed.encode()).hexdigest()


class Daemon:
    """A claude-bridged process in its own temp dirs."""

    def __init__(self, config=None, env=None, start=True):
        self.root = tempfile.mkdtemp(prefix="cb-e2e-")
        os.chmod(self.root, 0o700)
        self.socket_dir = os.path.join(self.root, "s")
        self.state_dir = os.path.join(self.root, "st")
        self.config_path = os.path.join(self.root, "config.toml")
        with open(self.config_path, "w") as f:
            f.write(config or "")
        # Whatever the umask: the daemon refuses a config file others could write.
        os.chmod(self.config_path, 0o600)
        self.env = dict(os.environ)
        for k in ("CLAUDE_BRIDGE_SOCKET_DIR", "CLAUDE_BRIDGE_STATE_DIR", "CLAUDE_BRIDGE_CONFIG",
                  "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET"):
            self.env.pop(k, None)
        self.env["HOME"] = self.root  # anything that still looks at HOME stays in the temp dir
        self.env["XDG_RUNTIME_DIR"] = self.root
        self.env["XDG_STATE_HOME"] = self.root
        self.env["XDG_CONFIG_HOME"] = self.root
        if env:
            self.env.update(env)
        self.proc = None
        self.log_path = os.path.join(self.root, "daemon.log")
        if start:
            self.start()

    @property
    def mcp_sock(self):
        return os.path.join(self.socket_dir, "mcp.sock")

    @property
    def ctl_sock(self):
        return os.path.join(self.socket_dir, "ctl.sock")

    def args(self):
        return ["--socket-dir", self.socket_dir, "--state-dir", self.state_dir,
                "--config", self.config_path]

    def start(self, extra=()):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([DAEMON, *self.args(), *extra], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("daemon exited at start-up: " + self.read_log())
            # Up when both sockets take a connection: a socket file alone may be left over from a
            # killed daemon, or bound a moment before its listen().
            try:
                for path in (self.mcp_sock, self.ctl_sock):
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(path)
                return
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError("daemon did not come up: " + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        if getattr(self, "log", None):
            self.log.close()
        return rc

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def shim(self, *extra, autostart=False):
        return McpClient.over_shim(self, *extra, autostart=autostart)

    def connect(self):
        return McpClient.over_socket(self.mcp_sock)

    def ctl(self, *args, check=False, input=None, timeout=30):
        r = subprocess.run([CTL, "--socket-dir", self.socket_dir, *args], env=self.env,
                           input=input, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"ctl {args} failed ({r.returncode}): {r.stderr}")
        return r

    def ctl_json(self, *args):
        r = self.ctl("--json", *args, check=True)
        return json.loads(r.stdout)


class McpClient:
    """Newline-delimited JSON-RPC over a shim's stdio or a raw Unix socket."""

    def __init__(self, reader, writer, closer, proc=None):
        self._reader, self._writer, self._closer, self.proc = reader, writer, closer, proc
        self.next_id = 1
        self.inbox = []

    @classmethod
    def over_shim(cls, daemon, *extra, autostart=False):
        # --no-autostart unless a test asks: a shim that outlives its daemon reconnects, and
        # one that autostarted after a test stopped the daemon would race the test's restart or
        # outlive the test.
        flags = [] if autostart else ["--no-autostart"]
        proc = subprocess.Popen([SHIM, "--socket-dir", daemon.socket_dir, "--state-dir",
                                 daemon.state_dir, *flags, *extra], env=daemon.env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, bufsize=0)
        return cls(proc.stdout, proc.stdin, lambda: (proc.stdin.close(), proc.wait(5)), proc)

    @classmethod
    def over_socket(cls, path):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        f = s.makefile("rwb", buffering=0)
        c = cls(f, f, lambda: (f.close(), s.close()))
        c.sock = s
        return c

    def send_raw(self, line):
        if isinstance(line, str):
            line = line.encode()
        self._writer.write(line + b"\n")
        self._writer.flush()

    def send(self, obj):
        self.send_raw(json.dumps(obj))

    def read(self, timeout=10):
        """Next message from the server (any kind)."""
        if self.inbox:
            return self.inbox.pop(0)
        import select
        fd = self._reader.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            raise TimeoutError("no message within %ss" % timeout)
        line = self._reader.readline()
        if not line:
            raise EOFError("connection closed")
        return json.loads(line)

    def wait_for(self, pred, timeout=10):
        deadline = time.time() + timeout
        kept = []
        try:
            while True:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("expected message did not arrive")
                m = self.read(left) if not self.inbox else self.inbox.pop(0)
                if pred(m):
                    return m
                kept.append(m)
        finally:
            self.inbox = kept + self.inbox

    def request(self, method, params=None, timeout=10, id=None):
        rid = id if id is not None else self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.wait_for(lambda m: m.get("id") == rid and "method" not in m, timeout)

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def initialize(self, version="2025-11-25", capabilities=None):
        r = self.request("initialize", {"protocolVersion": version,
                                        "capabilities": capabilities or {},
                                        "clientInfo": {"name": "e2e", "version": "0"}})
        self.notify("notifications/initialized")
        return r

    def call(self, name, args, timeout=10, meta=None):
        params = {"name": name, "arguments": args}
        if meta:
            params["_meta"] = meta
        r = self.request("tools/call", params, timeout=timeout)
        if "error" in r:
            raise AssertionError("JSON-RPC error: %s" % r["error"])
        return r["result"]

    def close(self):
        try:
            self._closer()
        except Exception:
            pass


def ok(result):
    """structuredContent of a successful tool result."""
    assert not result.get("isError"), result["content"][0]["text"]
    return result["structuredContent"]


def err_text(result):
    assert result.get("isError"), "expected an isError result, got %s" % result
    return result["content"][0]["text"]


class DaemonTest(unittest.TestCase):
    """A test case with a fresh daemon per test (self.d)."""
    config = ""

    def setUp(self):
        self.d = Daemon(self.config)
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.d.close()

    def client(self, shim=True):
        c = self.d.shim() if shim else self.d.connect()
        self.clients.append(c)
        c.initialize()
        return c

    def pair(self, shim=True):
        """Two initialized clients in one conversation: (a, b, creds_a, creds_b)."""
        a, b = self.client(shim), self.client(shim)
        conv = ok(a.call("create_conversation", {"my_role": "backend_developer",
                                                 "partner_role": "frontend_developer"}))
        ca = {"conversation_id": conv["conversation_id"], "session_id": "a",
              "token": conv["session_a_token"]}
        cb = {"conversation_id": conv["conversation_id"], "session_id": "b",
              "token": conv["session_b_token"]}
        return a, b, ca, cb


def main():
    unittest.main(verbosity=2)
