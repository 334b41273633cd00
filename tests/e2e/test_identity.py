"""The identity handshake (docs/protocol.md, "Identity"): the hello line the shim writes first on
every connection, read by a fake daemon on a temporary mcp.sock (each field, the git-root walk,
CLAUDE_PROJECT_DIR's precedence, --agent over the environment, --no-hello, the hello again
before the replayed handshake after a restart), and a real daemon verifying it against /proc."""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import shutil
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SHIM, DaemonTest, ok, wait_until  # noqa: E402

HELLO = "notifications/claude-bridge/hello"
ROLES = {"my_role": "backend_dev", "partner_role": "frontend_dev"}
# What a client's environment may say about it; cleared so the test runs the same inside one.
MARKERS = ("CLAUDECODE", "GEMINI_CLI", "CLAUDE_CODE_SESSION_ID", "CLAUDE_PROJECT_DIR",
           "CLAUDE_BRIDGE_AGENT", "CLAUDE_CODE_ENTRYPOINT")


def read_line(conn, timeout=10):
    """One line from a socket, byte by byte (the rest stays for the next call)."""
    buf = b""
    while not buf.endswith(b"\n"):
        r, _, _ = select.select([conn], [], [], timeout)
        if not r:
            raise TimeoutError("no line within %ss (got %r)" % (timeout, buf))
        b = conn.recv(1)
        if not b:
            raise EOFError("connection closed after %r" % buf)
        buf += b
    return json.loads(buf)


class FakeDaemon(unittest.TestCase):
    """A listener on a temporary mcp.sock stands in for the daemon."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="cb-e2e-hello-")
        self.root = os.path.realpath(self.root)
        os.chmod(self.root, 0o700)
        self.addCleanup(shutil.rmtree, self.root, True)
        self.socket_dir = os.path.join(self.root, "s")
        os.mkdir(self.socket_dir, 0o700)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(os.path.join(self.socket_dir, "mcp.sock"))
        self.listener.listen(4)
        self.addCleanup(self.listener.close)
        self.repo = os.path.join(self.root, "repo")
        self.sub = os.path.join(self.repo, "src", "deep")
        os.makedirs(os.path.join(self.repo, ".git"))
        os.makedirs(self.sub)
        self.env = {k: v for k, v in os.environ.items() if k not in MARKERS}
        self.env["HOME"] = self.root
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                f.close()

    def shim(self, *flags, env=None, cwd=None):
        p = subprocess.Popen([SHIM, "--socket-dir", self.socket_dir, "--no-autostart", *flags],
                             env={**self.env, **(env or {})}, cwd=cwd or self.sub,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, bufsize=0)
        self.procs.append(p)
        return p

    def accept(self):
        self.listener.settimeout(10)
        conn, _ = self.listener.accept()
        self.addCleanup(conn.close)
        return conn

    def first_line(self, *flags, env=None, cwd=None):
        p = self.shim(*flags, env=env, cwd=cwd)
        conn = self.accept()
        return read_line(conn), p, conn

    def test_fields_from_a_bare_environment(self):
        hello, p, _ = self.first_line()
        self.assertEqual(hello["jsonrpc"], "2.0")
        self.assertEqual(hello["method"], HELLO)
        self.assertNotIn("id", hello)  # a notification: no reply expected
        # The git-root walk from src/deep; the shim's parent is this test.
        self.assertEqual(hello["params"], {"v": 1, "client_pid": os.getpid(),
                                           "project_dir": self.repo})

    def test_outside_a_repository_the_working_directory(self):
        plain = os.path.join(self.root, "plain")
        os.mkdir(plain)
        hello, _, _ = self.first_line(cwd=plain)
        # Unless something above the temp dir is a repository itself.
        above = None
        d = os.path.dirname(plain)
        while d != "/" and above is None:
            if os.path.lexists(os.path.join(d, ".git")):
                above = d
            d = os.path.dirname(d)
        self.assertEqual(hello["params"]["project_dir"], above or plain)

    def test_claude_code_environment(self):
        project = os.path.join(self.root, "elsewhere")
        os.mkdir(project)
        os.symlink(project, os.path.join(self.root, "link"))
        session = "0b1c2d3e-aaaa-4bbb-8ccc-123456789abc"
        hello, _, _ = self.first_line(env={
            "CLAUDECODE": "1", "CLAUDE_CODE_SESSION_ID": session,
            "CLAUDE_PROJECT_DIR": os.path.join(self.root, "link"),
            "CLAUDE_BRIDGE_AGENT": "frontend"})
        self.assertEqual(hello["params"], {
            "v": 1, "client_pid": os.getpid(),
            "session_id": session,
            "project_dir": project,  # CLAUDE_PROJECT_DIR over the cwd's repo, canonical
            "agent": "frontend", "client": "claude-code"})

    def test_agent_flag_over_environment_and_gemini(self):
        hello, _, _ = self.first_line("--agent", "from-flag",
                                      env={"CLAUDE_BRIDGE_AGENT": "from-env", "GEMINI_CLI": "1"})
        self.assertEqual(hello["params"]["agent"], "from-flag")
        self.assertEqual(hello["params"]["client"], "gemini-cli")

    def test_any_bytes_in_the_environment_still_make_one_json_line(self):
        odd = os.path.join(self.root, 'we"ird\\dir')
        os.mkdir(odd)
        os.mkdir(os.path.join(odd, ".git"))
        env = {**self.env, "CLAUDE_BRIDGE_AGENT": "a\nb", "CLAUDE_CODE_SESSION_ID": "x"}
        p = subprocess.Popen([SHIM.encode(), b"--socket-dir", self.socket_dir.encode(),
                              b"--no-autostart"],
                             env={**{k.encode(): v.encode() for k, v in env.items()},
                                  b"CLAUDE_CODE_SESSION_ID": b"bad\xff\x01"},
                             cwd=odd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, bufsize=0)
        self.procs.append(p)
        hello = read_line(self.accept())
        self.assertEqual(hello["params"]["project_dir"], odd)
        self.assertEqual(hello["params"]["agent"], "a\nb")
        self.assertEqual(hello["params"]["session_id"], "bad\ufffd\x01")

    def test_no_hello_sends_the_client_bytes_only(self):
        p = self.shim("--no-hello")
        conn = self.accept()
        p.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
        self.assertEqual(read_line(conn), {"jsonrpc": "2.0", "id": 1, "method": "ping"})

    def test_after_a_restart_the_hello_comes_again_before_the_replayed_handshake(self):
        p = self.shim("--agent", "keeper")
        conn = self.accept()
        hello = read_line(conn)
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                           "clientInfo": {"name": "e2e", "version": "0"}}}
        p.stdin.write((json.dumps(init) + "\n").encode())
        self.assertEqual(read_line(conn), init)
        conn.sendall(b'{"id":1,"jsonrpc":"2.0","result":{"protocolVersion":"2025-11-25"}}\n')
        self.assertEqual(json.loads(p.stdout.readline())["id"], 1)
        p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.assertEqual(read_line(conn)["method"], "notifications/initialized")
        for _ in range(2):  # the daemon goes away; the shim reconnects to the one that comes
            conn.close()
            conn = self.accept()
            self.assertEqual(read_line(conn), hello)
            self.assertEqual(read_line(conn), init)
            self.assertEqual(read_line(conn)["method"], "notifications/initialized")


class RealDaemon(DaemonTest):
    """A real daemon checks the hello against /proc; the result shows in its debug log."""
    config = '[log]\nlevel = "debug"\n'

    def setUp(self):
        super().setUp()
        self.project = os.path.realpath(tempfile.mkdtemp(prefix="cb-e2e-project-"))
        self.addCleanup(shutil.rmtree, self.project, True)
        for k in MARKERS:
            self.d.env.pop(k, None)

    def test_a_real_shim_gets_a_verified_hello(self):
        self.d.env["CLAUDE_BRIDGE_AGENT"] = "e2e-agent"
        self.d.env["CLAUDE_PROJECT_DIR"] = self.project
        c = self.client()  # through a real shim, child of this test
        line = wait_until(lambda: next((l for l in self.d.read_log().splitlines()
                                        if "hello verified" in l), None),
                          what="the daemon's hello verified line")
        self.assertIn("client_pid %d (" % os.getpid(), line)
        self.assertIn("project_dir %s," % self.project, line)
        self.assertIn("agent e2e-agent,", line)
        # Bound or not, the session is what it was: the token flow works unchanged.
        conv = ok(c.call("create_conversation", ROLES))
        self.assertIn("session_a_token", conv)

    def test_unbound_connections_work_as_before(self):
        quiet = self.d.shim("--no-hello")
        self.clients.append(quiet)
        quiet.initialize()
        raw = self.d.connect()
        self.clients.append(raw)
        # A hello whose client_pid is not the connecting process's parent: refused, logged.
        raw.notify(HELLO, {"v": 1, "client_pid": os.getpid(), "project_dir": self.project})
        raw.initialize()
        wait_until(lambda: "hello not accepted" in self.d.read_log(), what="the warning")
        for c in (quiet, raw):
            conv = ok(c.call("create_conversation", ROLES))
            self.assertIn("session_b_token", conv)
        log = self.d.read_log()
        self.assertNotIn("hello verified", log)
        self.assertIn("is not the parent of the connecting process", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
