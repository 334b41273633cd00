"""Foundation: sockets and permissions, lifecycle, limits, the shim, both protocol eras."""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, SHIM, Daemon, DaemonTest, McpClient, err_text, ok  # noqa: E402


class Sockets(unittest.TestCase):
    def test_permissions_of_dir_and_sockets(self):
        d = Daemon()
        try:
            self.assertEqual(stat.S_IMODE(os.stat(d.socket_dir).st_mode), 0o700)
            for p in (d.mcp_sock, d.ctl_sock):
                self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600)
            for name in ("bridge.db", "server.key"):
                mode = stat.S_IMODE(os.stat(os.path.join(d.state_dir, name)).st_mode)
                self.assertEqual(mode & 0o077, 0, name)
        finally:
            d.close()

    def test_refuses_world_readable_socket_dir(self):
        d = Daemon(start=False)
        try:
            os.makedirs(d.socket_dir, mode=0o755)
            os.chmod(d.socket_dir, 0o755)
            with self.assertRaises(RuntimeError) as cm:
                d.start()
            self.assertIn("chmod 700", str(cm.exception))
            self.assertNotEqual(d.proc.returncode, 0)
        finally:
            d.close()

    def test_second_daemon_refused_and_stale_socket_replaced(self):
        d = Daemon()
        try:
            second = subprocess.run([d.proc.args[0], *d.args()], env=d.env, capture_output=True,
                                    text=True, timeout=10)
            self.assertNotEqual(second.returncode, 0)
            self.assertIn("already", second.stderr)
            self.assertEqual(len(second.stderr.strip().splitlines()), 1)
            # A daemon killed hard leaves its socket files; the next one replaces them.
            d.stop(signal.SIGKILL)
            self.assertTrue(os.path.exists(d.mcp_sock))
            d.start()
            c = d.connect()
            self.assertIn("result", c.request("ping"))
            c.close()
        finally:
            d.close()

    def test_sigterm_exits_zero_promptly(self):
        d = Daemon()
        try:
            c = d.connect()
            c.initialize()
            t0 = time.time()
            rc = d.stop(signal.SIGTERM)
            self.assertEqual(rc, 0)
            self.assertLess(time.time() - t0, 5)  # generous: only catches a hang
            self.assertFalse(os.path.exists(d.mcp_sock))
        finally:
            d.close()


class Limits(DaemonTest):
    config = "[limits]\nmax_frame_bytes = 65536\n"

    def test_over_long_frame_costs_only_that_connection(self):
        bystander = self.client(shim=False)
        bad = self.d.connect()
        bad.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 70000 + b'"}}')
        reply = bad.read()
        self.assertEqual(reply["error"]["code"], -32600)
        self.assertIn("65536", reply["error"]["message"])
        with self.assertRaises(EOFError):
            bad.read(5)
        bad.close()
        self.assertEqual(bystander.request("ping")["result"], {})

    def test_deep_nesting_refused_before_parsing(self):
        c = self.client(shim=False)
        c.send_raw("[" * 10000 + "]" * 10000)
        reply = c.read()
        self.assertEqual(reply["error"]["code"], -32700)
        self.assertIn("nested", reply["error"]["message"])
        self.assertEqual(c.request("ping")["result"], {})

    def test_garbage_gets_errors_and_service_continues(self):
        c = self.client(shim=False)
        for raw in ["not json", '{"jsonrpc":"2.0","id":null,"method":"ping"}', "[]", "42",
                    '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', "\xff\xfe"]:
            c.send_raw(raw.encode("latin-1") if raw == "\xff\xfe" else raw)
            m = c.read()
            self.assertIn("error", m, raw)
            self.assertIsNone(m["id"], raw)
        self.assertEqual(c.request("ping")["result"], {})


class Protocol(DaemonTest):
    def test_version_negotiation(self):
        for asked, got in [("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"),
                           ("2025-03-26", "2025-03-26"), ("2024-11-05", "2024-11-05"),
                           ("2023-01-01", "2025-11-25"), ("2026-07-28", "2025-11-25")]:
            c = self.d.connect()
            self.clients.append(c)
            r = c.request("initialize", {"protocolVersion": asked, "capabilities": {},
                                         "clientInfo": {"name": "t", "version": "0"}})
            self.assertEqual(r["result"]["protocolVersion"], got, asked)
            self.assertEqual(r["result"]["serverInfo"]["name"], "claude-bridge")

    def test_requests_before_initialize_are_refused_but_ping_works(self):
        c = self.d.connect()
        self.clients.append(c)
        self.assertEqual(c.request("ping")["result"], {})
        self.assertEqual(c.request("tools/list")["error"]["code"], -32600)

    def test_batch_only_in_2025_03_26(self):
        c = self.d.connect()
        self.clients.append(c)
        c.initialize("2025-03-26")
        c.send([{"jsonrpc": "2.0", "id": "x", "method": "ping"},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": "y", "method": "tools/list"}])
        reply = c.read()
        self.assertIsInstance(reply, list)
        self.assertEqual(sorted(r["id"] for r in reply), ["x", "y"])
        c2 = self.client(shim=False)  # 2025-11-25
        c2.send([{"jsonrpc": "2.0", "id": 7, "method": "ping"}])
        reply = c2.read()
        self.assertEqual(reply[0]["error"]["code"], -32600)
        self.assertEqual(reply[0]["id"], 7)

    def test_modern_era_stateless(self):
        c = self.d.connect()
        self.clients.append(c)
        meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}
        disc = c.request("server/discover", {"_meta": meta}, id="server-discover-probe-1")["result"]
        self.assertEqual(disc["resultType"], "complete")
        self.assertIn("2026-07-28", disc["supportedVersions"])
        self.assertIn("2025-11-25", disc["supportedVersions"])
        self.assertEqual(disc["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "claude-bridge")
        # claude/channel only in the legacy era: this connection never gets a push.
        self.assertNotIn("experimental", disc["capabilities"])
        lst = c.request("tools/list", {"_meta": meta})["result"]
        self.assertEqual(lst["resultType"], "complete")
        self.assertIn("ttlMs", lst)
        self.assertTrue(any(t["name"] == "send_to_partner" for t in lst["tools"]))
        r = c.request("tools/call", {"_meta": meta, "name": "create_conversation",
                                     "arguments": {"my_role": "abc", "partner_role": "def"}})
        self.assertEqual(r["result"]["resultType"], "complete")
        self.assertFalse(r["result"]["isError"])
        bad = c.request("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2099-01-01"}})
        self.assertEqual(bad["error"]["code"], -32022)
        self.assertEqual(bad["error"]["data"]["requested"], "2099-01-01")
        self.assertEqual(c.request("ping", {"_meta": meta})["error"]["code"], -32601)

    def test_cancel_and_unknown_cancel_tolerated(self):
        c = self.client(shim=False)
        c.notify("notifications/cancelled", {"requestId": 12345})
        self.assertEqual(c.request("ping")["result"], {})

    def test_logging_set_level(self):
        c = self.client(shim=False)
        self.assertEqual(c.request("logging/setLevel", {"level": "warning"})["result"], {})
        self.assertEqual(c.request("logging/setLevel", {"level": "loud"})["error"]["code"], -32602)

    def test_tool_argument_validation_is_a_tool_error(self):
        c = self.client()
        text = err_text(c.call("send_to_partner", {"conversation_id": "nope", "session_id": "c",
                                                  "token": "x", "message": "hi"}))
        self.assertIn("conversation_id", text)
        self.assertIn("session_id", text)
        self.assertIn("token", text)
        # In words a person reads, from the schema (docs/protocol.md, Errors).
        self.assertIn('conversation_id: must be "conv_" followed by 16 lowercase hex digits', text)
        self.assertIn('session_id: must be one of "a", "b"', text)
        self.assertIn("token: must be 64 lowercase hex digits", text)
        auth = {"conversation_id": "conv_0123456789abcdef", "session_id": "a", "token": "0" * 64}
        text = err_text(c.call("check_messages", {**auth, "limit": 250, "limt": 1}))
        self.assertIn("limit: must be at most 200 (it is 250)", text)
        self.assertIn('arguments: unknown property "limt"', text)
        text = err_text(c.call("send_to_partner", {**auth, "message": "é" * 50001}))
        self.assertIn("message: must be at most 50000 characters long (it is 50001)", text)
        for noise in (".000000", "constraint", "..", ".;"):
            self.assertNotIn(noise, text)
        r = c.request("tools/call", {"name": "no_such_tool", "arguments": {}})
        self.assertEqual(r["error"]["code"], -32602)

    def test_default_tool_definitions_fit_the_context_budget(self):
        # What every session pays in context before its first call: each tool's name,
        # description and inputSchema (compact JSON) as tools/list publishes them, on the
        # default configuration. Budget: 6,000 characters in all (issue 23).
        c = self.client(shim=False)
        tools = c.request("tools/list")["result"]["tools"]
        sizes = {t["name"]: len(t["name"]) + len(t.get("description", "")) +
                 len(json.dumps(t["inputSchema"], separators=(",", ":"), ensure_ascii=False))
                 for t in tools}
        self.assertNotIn("execute_command", sizes)  # listed only with [yolo] enabled = true
        self.assertLessEqual(sum(sizes.values()), 6000, sizes)


class Shim(unittest.TestCase):
    def test_links_common_only(self):
        out = subprocess.run(["readelf", "-d", SHIM], capture_output=True, text=True).stdout
        needed = {l.split("[")[1].split("]")[0] for l in out.splitlines() if "(NEEDED)" in l}
        allowed = {"libc.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libm.so.6",
                   "ld-linux-x86-64.so.2"}  # named when libstdc++ is linked statically
        # Sanitizer builds add their runtimes; nothing else may appear.
        extra = {n for n in needed - allowed if not n.startswith(("libasan", "libubsan"))}
        self.assertEqual(extra, set(), needed)

    def test_no_daemon_no_autostart_one_line(self):
        d = Daemon(start=False)
        try:
            r = subprocess.run([SHIM, "--socket-dir", d.socket_dir, "--no-autostart"], env=d.env,
                               input="", capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 69)
            self.assertEqual(r.stdout, "")
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)
            self.assertIn("mcp.sock", r.stderr)
        finally:
            d.close()

    def test_autostart_once_for_racing_shims(self):
        d = Daemon(start=False)
        try:
            clients = [McpClient.over_shim(d, autostart=True) for _ in range(4)]
            for c in clients:
                self.assertEqual(c.initialize()["result"]["serverInfo"]["name"], "claude-bridge")
            pids = subprocess.run(["pgrep", "-f", "claude-bridged --socket-dir " + d.socket_dir],
                                  capture_output=True, text=True).stdout.split()
            self.assertEqual(len(pids), 1, pids)
            for c in clients:
                c.close()
        finally:
            subprocess.run(["pkill", "-f", "claude-bridged --socket-dir " + d.socket_dir])
            d.close()

    def test_exits_on_stdin_eof_and_on_daemon_exit(self):
        d = Daemon()
        try:
            c = d.shim()
            c.initialize()
            c.proc.stdin.close()
            self.assertEqual(c.proc.wait(5), 0)
            # Without autostart, a daemon that does not come back ends the shim (after 15 s of
            # trying to reconnect), with nothing on stdout when nothing was in flight.
            c2 = d.shim()  # --no-autostart
            c2.initialize()
            d.stop()
            self.assertEqual(c2.proc.wait(60), 69)
            self.assertEqual(c2.proc.stdout.read(), b"")
            self.assertIn(b"did not come back", c2.proc.stderr.read())
        finally:
            d.close()

    def test_daemon_killed_mid_call_the_call_is_answered_and_the_session_goes_on(self):
        # kill -9: nothing in the daemon can answer the call in flight; the shim does, then
        # starts a new daemon itself and replays initialize, so the legacy session goes on.
        # Both daemons log at debug level: each verified the shim's hello (issue 23).
        d = Daemon(config='[log]\nlevel = "debug"\n')
        try:
            c = d.shim("--config", d.config_path, autostart=True)
            c.initialize()
            conv = ok(c.call("create_conversation", {"my_role": "backend_dev",
                                                     "partner_role": "frontend_dev"}))
            ca = {"conversation_id": conv["conversation_id"], "session_id": "a",
                  "token": conv["session_a_token"]}
            cb = {**ca, "session_id": "b", "token": conv["session_b_token"]}
            c.send({"jsonrpc": "2.0", "id": "w1", "method": "tools/call",
                    "params": {"name": "wait_for_messages",
                               "arguments": {**cb, "timeout_seconds": 60}}})
            deadline = time.time() + 10
            while not ok(c.call("check_partner_status", ca))["waiting"]:
                self.assertLess(time.time(), deadline, "the wait never started")
                time.sleep(0.01)
            d.proc.kill()
            d.proc.wait()
            lost = c.wait_for(lambda m: m.get("id") == "w1", timeout=10)
            self.assertEqual(lost["error"]["code"], -32000, lost)
            self.assertIn("call it again", lost["error"]["message"])
            # No new initialize: a tools/call before one would be -32600.
            ok(c.call("send_to_partner", {**ca, "message": "after the crash"}, timeout=30))
            got = ok(c.call("check_messages", cb))
            self.assertEqual([m["message"] for m in got["messages"]], ["after the crash"])
            # The new daemon's reply to the replayed initialize (id 1) never reached the client.
            self.assertEqual([m for m in c.inbox if m.get("id") == 1], [])
            c.proc.stdin.close()
            self.assertEqual(c.proc.wait(10), 0)
            self.assertIn(b"reconnected to the daemon", c.proc.stderr.read())
            verified = "hello verified: client_pid %d (" % os.getpid()
            self.assertIn(verified, d.read_log())
            with open(os.path.join(d.socket_dir, "daemon.log")) as f:  # the shim's daemon
                self.assertIn(verified, f.read())
        finally:
            started = subprocess.run(["pgrep", "-f", "claude-bridged --socket-dir " + d.socket_dir],
                                     capture_output=True, text=True).stdout.split()
            for pid in started:  # the daemon the shim started
                os.kill(int(pid), signal.SIGTERM)
            d.close()

    def test_pipelined_requests_are_all_answered(self):
        # A client that writes requests back to back while it reads (as Claude Code's stdio
        # transport does): 8,000 tools/list answers of ~15 KB outrun what the shim can hand to
        # stdout, the daemon stops reading requests until their replies are read, and a shim
        # that blocked on its socket write while that happened would wait forever (a shim
        # before full duplex answered ~40 of them).
        d = Daemon()
        try:
            c = d.shim()
            c.initialize()
            total = 8000
            requests = "".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/list"})
                               + "\n" for i in range(1, total + 1)).encode()
            ids = []

            def read_replies():
                # Buffered: the harness's pipe is unbuffered, and has nothing left over after
                # initialize (it reads up to each newline).
                for line in open(c.proc.stdout.fileno(), "rb", closefd=False):
                    ids.append(json.loads(line)["id"])
                    if len(ids) == total:
                        return

            reader = threading.Thread(target=read_replies, daemon=True)
            reader.start()
            c.proc.stdin.write(requests)
            c.proc.stdin.flush()
            reader.join(120)
            self.assertEqual(len(ids), total, f"{len(ids)} of {total} answered")
            self.assertEqual(ids, list(range(1, total + 1)))
            c.proc.stdin.close()
            self.assertEqual(c.proc.wait(10), 0)
        finally:
            d.close()

    def test_help_and_version_touch_nothing(self):
        for prog in (SHIM, os.path.join(os.path.dirname(CTL), "claude-bridge-hook")):
            for flag in ("--help", "--version"):
                r = subprocess.run([prog, flag], capture_output=True, text=True, cwd="/tmp")
                self.assertEqual(r.returncode, 0)
                self.assertTrue(r.stdout)
        self.assertFalse(os.path.exists("/tmp/--help"))


class OtherUser(DaemonTest):
    @unittest.skipUnless(os.geteuid() == 0, "needs root to connect as nobody")
    def test_connection_from_another_uid_is_refused(self):
        os.chmod(self.d.root, 0o711)
        os.chmod(self.d.socket_dir, 0o711)
        os.chmod(self.d.mcp_sock, 0o666)
        script = ("import socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);"
                  "s.sendall(b'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\\n');"
                  "print(repr(s.recv(100)))")
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            "/usr/bin/python3", "-c", script, self.d.mcp_sock],
                           capture_output=True, text=True, timeout=10)
        # Closed unanswered: an empty read or a reset, never a reply.
        self.assertTrue("b''" in r.stdout or "ConnectionResetError" in r.stderr
                        or "BrokenPipeError" in r.stderr, r)
        self.assertNotIn("jsonrpc", r.stdout)
        self.assertIn("refused a connection from uid", self.d.read_log())
        bystander = self.client(shim=False)
        self.assertEqual(bystander.request("ping")["result"], {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
