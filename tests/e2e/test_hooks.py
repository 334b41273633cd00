"""The client hooks of issue 24 end to end: a real daemon, real shims whose hello binds agents,
and the real claude-bridge-hook run the way each client runs it — as a child of the client
process (tests/e2e/fake_client.py stands in for that process), with the JSON that client
writes on stdin:

- Claude Code 2.1.330 (code.claude.com hooks reference): SessionStart {session_id,
  transcript_path, cwd, hook_event_name, source}, UserPromptSubmit {…, prompt}, PostToolUse
  {…, tool_name, tool_input, tool_response}, Stop {…, stop_hook_active}; the environment holds
  CLAUDE_PID and CLAUDE_CODE_SESSION_ID.
- Codex CLI 0.171.0 (the JSON schemas in its binary: "post-tool-use.command.input", …):
  session_id, transcript_path, cwd, hook_event_name, model, permission_mode, turn_id, and the
  event's fields; its output schema is hookSpecificOutput {hookEventName, additionalContext}.
- Gemini CLI 0.61.0 (bundle/docs/hooks/reference.md and its hook runner): session_id,
  transcript_path, cwd, hook_event_name, timestamp and the event's fields (BeforeAgent: prompt;
  AfterTool: tool_name, tool_input, tool_response); it reads hookSpecificOutput.additionalContext
  from stdout, and shows stderr to the person when stdout is empty — so nothing on stderr.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, SHIM, DaemonTest, McpClient, ok, wait_until  # noqa: E402

HOOK = os.path.join(BUILD, "ctl", "claude-bridge-hook")
FAKE_CLIENT = os.path.join(os.path.dirname(__file__), "fake_client.py")
MARKERS = ("CLAUDECODE", "GEMINI_CLI", "CLAUDE_CODE_SESSION_ID", "CLAUDE_PROJECT_DIR",
           "CLAUDE_BRIDGE_AGENT", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_PID", "CLAUDE_BRIDGE_WAKE",
           "CODEX_HOME", "GEMINI_SESSION_ID")


class FakeClient:
    """A client process with a real shim as its MCP server, and a runner of hook commands."""

    def __init__(self, test, project, name, session_id, extra_args=()):
        self.test = test
        self.session_id = session_id
        self.control, theirs = socket.socketpair()
        env = {k: v for k, v in test.d.env.items() if k not in MARKERS}
        env["CLAUDE_PROJECT_DIR"] = project
        env["CLAUDE_BRIDGE_AGENT"] = name
        env["CLAUDE_CODE_SESSION_ID"] = session_id
        self.proc = subprocess.Popen(
            [sys.executable, FAKE_CLIENT, str(theirs.fileno()), *extra_args, "--", SHIM,
             "--socket-dir", test.d.socket_dir, "--state-dir", test.d.state_dir,
             "--no-autostart"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            bufsize=0, pass_fds=(theirs.fileno(),))
        theirs.close()
        self.mcp = McpClient(self.proc.stdout, self.proc.stdin,
                             lambda: (self.proc.stdin.close(), self.proc.wait(5)), self.proc)
        test.clients.append(self.mcp)
        test.addCleanup(self.control.close)
        self.mcp.initialize()
        self.name = ok(self.mcp.call("list_agents", {}))["you"]["name"]
        self.results = {}
        self.cond = threading.Condition()
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = self.control.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                with self.cond:
                    self.results.setdefault(msg["id"], {}).update(msg)
                    self.cond.notify_all()

    def start(self, event, payload, client="claude-code", env=None, args=()):
        """Runs `claude-bridge-hook EVENT` as this client's child; returns its command id."""
        cid = self.next_id
        self.next_id += 1
        hook_env = {k: v for k, v in self.test.d.env.items() if k not in MARKERS}
        hook_env.update(env or {})
        argv = [HOOK, event, "--client", client, "--socket-dir", self.test.d.socket_dir, *args]
        self.control.sendall((json.dumps({"id": cid, "argv": argv, "env": hook_env,
                                          "input": json.dumps(payload)}) + "\n").encode())
        return cid

    def result(self, cid, timeout=20):
        with self.cond:
            ok_ = self.cond.wait_for(lambda: "rc" in self.results.get(cid, {}), timeout)
        if not ok_:
            raise AssertionError("hook command %d did not end within %ss" % (cid, timeout))
        return self.results[cid]

    def done(self, cid):
        with self.cond:
            return "rc" in self.results.get(cid, {})

    def run(self, event, payload, **kw):
        return self.result(self.start(event, payload, **kw))

    # The JSON each client writes.
    def claude(self, event_name, **fields):
        return {"session_id": self.session_id, "transcript_path": "/dev/null",
                "cwd": self.test.project, "hook_event_name": event_name, **fields}

    def codex(self, event_name, **fields):
        return {"session_id": self.session_id, "transcript_path": None, "cwd": self.test.project,
                "hook_event_name": event_name, "model": "gpt-test", "permission_mode": "default",
                "turn_id": "turn-1", **fields}

    def gemini(self, event_name, **fields):
        return {"session_id": self.session_id, "transcript_path": "/dev/null",
                "cwd": self.test.project, "hook_event_name": event_name,
                "timestamp": "2026-12-07T15:00:00.000Z", **fields}


def context_of(out, event_name):
    doc = json.loads(out)
    assert doc == {"hookSpecificOutput": {"hookEventName": event_name,
                                          "additionalContext": doc["hookSpecificOutput"]
                                          ["additionalContext"]}}, doc
    return doc["hookSpecificOutput"]["additionalContext"]


class HooksTest(DaemonTest):
    config = "[conversation]\nredeliver_after_seconds = 1\n"

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="cb-hooks-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.project = os.path.realpath(self.root)

    def client(self, name, extra_args=()):
        return FakeClient(self, self.project, name, "sess-" + name, extra_args)

    def hook_waits(self):
        return self.d.ctl_json("stats")["hook_waits"]

    def send(self, sender, to, message, action_type="info"):
        return ok(sender.mcp.call("send_message", {"to": to, "message": message,
                                                   "action_type": action_type}))

    def start_wait(self, c, **kw):
        """A Stop hook's waiter, registered with the daemon before this returns."""
        before = self.hook_waits()
        cid = c.start("wait", c.claude("Stop", stop_hook_active=False), **kw)
        wait_until(lambda: c.done(cid) or self.hook_waits() > before, what="the waiter")
        return cid


class Tell(HooksTest):
    def test_session_start_then_one_notice_once_and_never_read(self):
        backend = self.client("backend")
        frontend = self.client("frontend")

        r = frontend.run("session-start", frontend.claude("SessionStart", source="startup"))
        self.assertEqual(r["rc"], 0, r)
        text = context_of(r["stdout"], "SessionStart")
        self.assertIn('you are agent "frontend"', text)
        self.assertIn("Online now: backend", text)
        self.assertIn("no unread messages", text)

        # A quiet bridge costs no context.
        for event, extra in (("UserPromptSubmit", {"prompt": "hi"}),
                             ("PostToolUse", {"tool_name": "Bash", "tool_input": {},
                                              "tool_response": {}})):
            r = frontend.run("tell", frontend.claude(event, **extra))
            self.assertEqual((r["rc"], r["stdout"], r["stderr"]), (0, "", ""))

        self.send(backend, "frontend", "Which fields do you need on the invoice?", "question")
        r = frontend.run("tell", frontend.claude("PostToolUse", tool_name="Bash",
                                                 tool_input={}, tool_response={}))
        self.assertEqual(r["rc"], 0)
        self.assertEqual(context_of(r["stdout"], "PostToolUse"),
                         "claude-bridge: 1 new message from backend (question): 'Which fields do "
                         "you need on the invoice?' — read it with check_messages")
        # Told once.
        r = frontend.run("tell", frontend.claude("UserPromptSubmit", prompt="next"))
        self.assertEqual((r["rc"], r["stdout"]), (0, ""))

        # Two more from two senders: one notice for both.
        billing = self.client("billing")
        self.send(backend, "frontend", "first")
        self.send(billing, "frontend", "second\nline")
        r = frontend.run("tell", frontend.claude("UserPromptSubmit", prompt="next"))
        self.assertEqual(context_of(r["stdout"], "UserPromptSubmit"),
                         "claude-bridge: 2 new messages (1 from backend, 1 from billing), the "
                         "latest from billing: 'second line' — read them with check_messages")

        # Notices mark nothing read: check_messages hands each message out exactly once.
        page = ok(frontend.mcp.call("check_messages", {}))
        self.assertEqual([m["message"] for m in page["messages"]],
                         ["Which fields do you need on the invoice?", "first", "second\nline"])
        self.assertEqual(ok(frontend.mcp.call("check_messages", {}))["messages"], [])
        # Read mail is not news either.
        r = frontend.run("tell", frontend.claude("UserPromptSubmit", prompt="again"))
        self.assertEqual(r["stdout"], "")

    def test_session_start_counts_unread_and_announces_it(self):
        backend = self.client("backend")
        frontend = self.client("frontend")
        self.send(backend, "frontend", "before you started")
        r = frontend.run("session-start", frontend.claude("SessionStart", source="resume"))
        self.assertIn("You have 1 unread message (1 from backend)", context_of(r["stdout"],
                                                                               "SessionStart"))
        # Counted at session start: not told again.
        r = frontend.run("tell", frontend.claude("UserPromptSubmit", prompt="hi"))
        self.assertEqual(r["stdout"], "")

    def test_codex_and_gemini_formats(self):
        backend = self.client("backend")
        codex = self.client("codexer")
        gemini = self.client("geminier")
        r = codex.run("session-start", codex.codex("SessionStart", source="startup"),
                      client="codex")
        self.assertIn('you are agent "codexer"', context_of(r["stdout"], "SessionStart"))
        r = gemini.run("session-start", gemini.gemini("SessionStart", source="startup"),
                       client="gemini")
        self.assertIn('you are agent "geminier"', context_of(r["stdout"], "SessionStart"))
        self.assertEqual(r["stderr"], "")

        self.send(backend, "codexer", "for codex")
        self.send(backend, "geminier", "for gemini")
        r = codex.run("tell", codex.codex("PostToolUse", tool_name="shell", tool_input={},
                                          tool_response={}, tool_use_id="call-1"),
                      client="codex")
        self.assertIn("1 new message from backend: 'for codex'",
                      context_of(r["stdout"], "PostToolUse"))
        r = gemini.run("tell", gemini.gemini("AfterTool", tool_name="read_file", tool_input={},
                                             tool_response={"llmContent": "x"}), client="gemini")
        self.assertIn("1 new message from backend: 'for gemini'",
                      context_of(r["stdout"], "AfterTool"))
        r = gemini.run("tell", gemini.gemini("BeforeAgent", prompt="go on"), client="gemini")
        self.assertEqual((r["rc"], r["stdout"], r["stderr"]), (0, "", ""))
        # Only Claude Code can be woken: a waiter of another client returns at once.
        self.send(backend, "codexer", "more")
        r = codex.run("wait", codex.codex("Stop", stop_hook_active=False), client="codex")
        self.assertEqual((r["rc"], r["stdout"], r["stderr"]), (0, "", ""))

    def test_cannot_help_exits_0_silently(self):
        # No daemon on that socket dir.
        empty = tempfile.mkdtemp(dir=self.root)
        p = subprocess.run([HOOK, "tell", "--socket-dir", empty, "--client", "gemini"],
                           input="{}", capture_output=True, text=True, timeout=20)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "", ""))
        p = subprocess.run([HOOK, "session-start", "--socket-dir", empty], input="nonsense",
                           capture_output=True, text=True, timeout=20)
        self.assertEqual((p.returncode, p.stdout), (0, ""))
        p = subprocess.run([HOOK, "bogus", "--socket-dir", self.d.socket_dir], input="{}",
                           capture_output=True, text=True, timeout=20)
        self.assertEqual((p.returncode, p.stdout), (0, ""))
        # A process that is no agent's client, without a session id the bridge knows.
        p = subprocess.run([HOOK, "tell", "--socket-dir", self.d.socket_dir],
                           input=json.dumps({"session_id": "nobody", "hook_event_name":
                                             "PostToolUse"}),
                           capture_output=True, text=True, timeout=20,
                           env={k: v for k, v in self.d.env.items() if k not in MARKERS})
        self.assertEqual((p.returncode, p.stdout), (0, ""))

    def test_ctl_hook_is_the_same_command(self):
        backend = self.client("backend")
        frontend = self.client("frontend")
        self.send(backend, "frontend", "via ctl")
        ctl = os.path.join(BUILD, "ctl", "claude-bridgectl")
        cid = frontend.next_id
        frontend.next_id += 1
        env = {k: v for k, v in self.d.env.items() if k not in MARKERS}
        frontend.control.sendall((json.dumps({
            "id": cid, "argv": [ctl, "--socket-dir", self.d.socket_dir, "hook", "tell"],
            "env": env, "input": json.dumps(frontend.claude("PostToolUse"))}) + "\n").encode())
        r = frontend.result(cid)
        self.assertIn("1 new message from backend: 'via ctl'",
                      context_of(r["stdout"], "PostToolUse"))


class Wait(HooksTest):
    def test_wakes_on_mail_with_the_notice_and_counts_as_told(self):
        backend = self.client("backend")
        frontend = self.client("frontend")
        cid = self.start_wait(frontend)
        self.assertFalse(frontend.done(cid))
        self.send(backend, "frontend", "wake up", "question")
        r = frontend.result(cid)
        self.assertEqual(r["rc"], 2, r)
        self.assertEqual(r["stdout"], "")
        self.assertEqual(r["stderr"], "claude-bridge: 1 new message from backend (question): "
                                      "'wake up' — read it with check_messages\n")
        # The wake was the notice: PostToolUse says nothing of it again.
        r = frontend.run("tell", frontend.claude("PostToolUse"))
        self.assertEqual(r["stdout"], "")
        self.assertEqual([m["message"] for m in
                          ok(frontend.mcp.call("check_messages", {}))["messages"]], ["wake up"])
        self.assertEqual(ok(frontend.mcp.call("check_messages", {}))["messages"], [])

    def test_mail_already_there_wakes_at_once(self):
        backend = self.client("backend")
        frontend = self.client("frontend")
        self.send(backend, "frontend", "waiting for you")
        r = frontend.run("wait", frontend.claude("SessionStart", source="startup"))
        self.assertEqual(r["rc"], 2)
        self.assertIn("'waiting for you'", r["stderr"])

    def test_a_newer_waiter_replaces_the_older(self):
        backend = self.client("backend")
        frontend = self.client("frontend")
        first = self.start_wait(frontend)
        second = frontend.start("wait", frontend.claude("Stop", stop_hook_active=False))
        r = frontend.result(first)
        self.assertEqual((r["rc"], r["stdout"], r["stderr"]), (0, "", ""))
        wait_until(lambda: self.hook_waits() == 1, what="the second waiter")
        self.send(backend, "frontend", "for the second")
        r = frontend.result(second)
        self.assertEqual(r["rc"], 2)
        self.assertIn("'for the second'", r["stderr"])

    def test_ends_quietly_when_its_client_process_ends(self):
        self.client("backend")
        frontend = self.client("frontend")
        # Run beside the client rather than under it (the client is killed), found through
        # CLAUDE_PID as Claude Code exports it.
        env = {k: v for k, v in self.d.env.items() if k not in MARKERS}
        env["CLAUDE_PID"] = str(frontend.proc.pid)
        p = subprocess.Popen([HOOK, "wait", "--socket-dir", self.d.socket_dir], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        p.stdin.write(json.dumps(frontend.claude("Stop", stop_hook_active=False)))
        p.stdin.close()
        wait_until(lambda: p.poll() is not None or self.hook_waits() == 1, what="the waiter")
        self.assertIsNone(p.poll())
        frontend.proc.kill()
        frontend.proc.wait(10)
        self.assertEqual(p.wait(20), 0)
        self.assertEqual(p.stderr.read(), "")
        p.stdout.close()
        p.stderr.close()

    def test_timeout_wake_never_and_print_mode(self):
        backend = self.client("backend")
        frontend = self.client("frontend")
        # At its timeout: quietly, nothing announced.
        r = frontend.run("wait", frontend.claude("Stop", stop_hook_active=False),
                         args=("--timeout", "1"))
        self.assertEqual((r["rc"], r["stderr"]), (0, ""))
        self.send(backend, "frontend", "news")
        # CLAUDE_BRIDGE_WAKE=never: no wait at all, even with news waiting; nothing announced.
        r = frontend.run("wait", frontend.claude("Stop", stop_hook_active=False),
                         env={"CLAUDE_BRIDGE_WAKE": "never"})
        self.assertEqual((r["rc"], r["stderr"]), (0, ""))
        # A client run with -p / --print (this one's command line says --print): by default no
        # waiter, which would keep the run alive; WAKE=always waits (here: wakes at once).
        printer = self.client("printer", extra_args=("--print",))
        self.send(backend, "printer", "for print mode")
        r = printer.run("wait", printer.claude("Stop", stop_hook_active=False))
        self.assertEqual((r["rc"], r["stderr"]), (0, ""))
        # …except on SessionStart, which Claude Code runs synchronously in a -p run.
        r = printer.run("wait", printer.claude("SessionStart", source="startup"),
                        env={"CLAUDE_BRIDGE_WAKE": "always"})
        self.assertEqual((r["rc"], r["stderr"]), (0, ""))
        r = printer.run("wait", printer.claude("Stop", stop_hook_active=False),
                        env={"CLAUDE_BRIDGE_WAKE": "always"})
        self.assertEqual(r["rc"], 2)
        self.assertIn("'for print mode'", r["stderr"])
        # The news the never-waiter saw is still news.
        r = frontend.run("tell", frontend.claude("PostToolUse"))
        self.assertIn("'news'", context_of(r["stdout"], "PostToolUse"))

    def test_mail_handed_out_does_not_wake(self):
        backend = self.client("backend")
        frontend = self.client("frontend")
        # A wait_for_messages whose answer may not have reached the model (it blocked past
        # redeliver_after_seconds without a progress token): the message is unread again, to be
        # offered again — but it was handed out, so the hooks neither tell of it nor wake.
        call = threading.Thread(target=lambda: frontend.mcp.call(
            "wait_for_messages", {"timeout_seconds": 30}, timeout=40))
        call.start()
        wait_until(lambda: any(a["name"] == "frontend" and a.get("waiting")
                               for a in ok(backend.mcp.call("list_agents", {}))["agents"]),
                   what="frontend waiting")
        time.sleep(1.2)  # past redeliver_after_seconds = 1 on the daemon's clock
        self.send(backend, "frontend", "handed out")
        call.join(40)
        self.assertFalse(call.is_alive())
        r = frontend.run("tell", frontend.claude("PostToolUse"))
        self.assertEqual(r["stdout"], "")
        cid = self.start_wait(frontend)
        self.assertFalse(frontend.done(cid))
        self.send(backend, "frontend", "fresh")
        r = frontend.result(cid)
        self.assertEqual(r["rc"], 2)
        self.assertEqual(r["stderr"], "claude-bridge: 1 new message from backend: 'fresh' — "
                                      "read it with check_messages\n")
        # Both are still there to read, the handed one flagged as offered again.
        page = ok(frontend.mcp.call("check_messages", {}))
        self.assertEqual([m["message"] for m in page["messages"]], ["handed out", "fresh"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
