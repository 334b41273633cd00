"""The real Claude Code (tests/clients/package-lock.json pins 2.1.330) as an agent of the bridge,
end to end and offline (issue 24).

Session B is Claude Code itself, kept alive as `claude -p --input-format stream-json
--output-format stream-json --verbose --allowedTools mcp__bridge` in a project wired by
`claude-bridgectl setup claude-code --project DIR --name frontend`. Its model is
tests/e2e/scripted_model.py on 127.0.0.1 (ANTHROPIC_BASE_URL, a key made here, a temporary HOME
and TMPDIR): the script decides, from what each request carries, which tool B calls next, and
the test reads every request B sent to see what B's model was shown (hook context, tool results).

Agent A ("backend") is a real shim driven by the harness, not a second Claude Code: A's side is
not under test (test_agents.py covers it), a shim's calls are exact and synchronous, so the test
knows when A's message is stored, and one Claude Code is already much of a loaded 2-core
machine.

No step is timed: the test waits for conditions (a request that carries a text, a line on B's
stdout, an agent that shows up) with generous bounds. Every process the test starts (Claude Code,
its hooks and its shim included) is killed at the end, even when the test fails.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, SHIM, Daemon, McpClient, ok, wait_until  # noqa: E402
from scripted_model import (ScriptedModel, strings, tail, tail_contains,  # noqa: E402
                            tool_result_text, tool_use)

CLIENTS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "clients"))
BIN = os.path.join(CLIENTS, "node_modules", ".bin")
WAIT = 300  # seconds: the bound of every wait for Claude Code (a loaded 2-core machine)
# What the environment may say about a client it runs in; cleared so the test runs the same
# inside one (this suite may itself run under Claude Code).
MARKERS = ("CLAUDECODE", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI")


def descendants(pid):
    """The pids of every live process below `pid` (from /proc's parent links)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class ClaudeSession:
    """A Claude Code process in stream-json mode: `say` sends a user turn, `lines` holds every
    JSON line it printed, `wait_line` waits for one."""

    def __init__(self, argv, env, cwd):
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.lines = []
        self.stderr = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr),
                         daemon=True).start()

    def _read(self, stream, into):
        for line in stream:
            with self.cond:
                try:
                    into.append(json.loads(line) if into is self.lines else line)
                except ValueError:
                    self.stderr.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def say(self, text):
        self.proc.stdin.write(json.dumps({"type": "user", "message": {"role": "user",
                                                                      "content": text}}) + "\n")
        self.proc.stdin.flush()

    def results(self):
        with self.cond:
            return [m for m in self.lines if m.get("type") == "result"]

    def wait_results(self, n):
        """Waits until Claude Code has ended `n` turns (its `result` lines): it is idle then."""
        with self.cond:
            done = self.cond.wait_for(
                lambda: sum(m.get("type") == "result" for m in self.lines) >= n
                or self.proc.poll() is not None, WAIT)
            got = sum(m.get("type") == "result" for m in self.lines)
        if got < n:
            raise AssertionError(f"Claude Code ended {got} turns, not {n} (timed out: {not done},"
                                 f" exit {self.proc.poll()}); stderr: "
                                 f"{''.join(self.stderr)[-2000:]}")

    def waiters(self):
        """The pids of this session's `hook wait` processes (its asyncRewake waiters)."""
        out = []
        for pid in descendants(self.proc.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            # `claude-bridgectl [--socket-dir D] hook wait` or `claude-bridge-hook wait …`
            if any((a == "hook" or a.endswith("/claude-bridge-hook")) and b == "wait"
                   for a, b in zip(argv, argv[1:])):
                out.append(pid)
        return out

    def kill(self):
        """Ends Claude Code and everything it started. Its hooks run in process groups of their
        own (Claude Code starts them detached), so the whole tree is found through /proc while
        Claude Code is stopped, then killed."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            for pid in [self.proc.pid] + descendants(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.proc.wait(60)
        finally:
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass


class ClaudeCodeTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()
        self.addCleanup(self.d.close)
        self.home = self.d.root
        self.project = os.path.realpath(os.path.join(self.home, "work", "app"))
        self.elsewhere = os.path.realpath(os.path.join(self.home, "work", "api"))
        os.makedirs(self.project)
        os.makedirs(self.elsewhere)
        tmp = os.path.join(self.home, "tmp")  # Claude Code keeps notes in /tmp/claude-UID else
        os.makedirs(tmp, mode=0o700)
        self.model = ScriptedModel()
        self.addCleanup(self.model.close)
        self.env = dict(self.d.env)
        for k in list(self.env):
            if k.startswith(("ANTHROPIC_", "CLAUDE_CODE", "CLAUDE_BRIDGE", "CLAUDE_PROJECT")) \
                    or k in MARKERS:
                del self.env[k]
        # .bin holds Claude Code ahead of anything installed on the system.
        self.env["PATH"] = BIN + ":/usr/bin:/bin"
        self.env.update(DISABLE_AUTOUPDATER="1", DISABLE_TELEMETRY="1", TMPDIR=tmp,
                        CLAUDE_CODE_TMPDIR=tmp,
                        DISABLE_ERROR_REPORTING="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
                        ANTHROPIC_BASE_URL=self.model.url,
                        ANTHROPIC_API_KEY="test-" + os.urandom(12).hex())
        self.sessions = []

    def tearDown(self):
        for s in self.sessions:
            s.kill()

    def run_ok(self, *argv, cwd=None):
        r = subprocess.run(argv, env=self.env, cwd=cwd or self.project, capture_output=True,
                           text=True, timeout=WAIT)
        self.assertEqual(r.returncode, 0, f"{argv}: {r.stdout}{r.stderr}")
        return r.stdout

    def setup_project(self, *extra):
        """`setup claude-code` for the project under the name "frontend"; Claude Code's own
        `claude mcp list` then shows the bridge connected."""
        out = self.run_ok(CTL, "--socket-dir", self.d.socket_dir, "setup", "claude-code",
                          "--project", self.project, "--name", "frontend", *extra)
        listed = self.run_ok("claude", "mcp", "list")
        row = re.search(r"(?m)^bridge: .*$", listed)
        self.assertIsNotNone(row, listed)
        self.assertIn("✔ Connected", row.group(0))
        return out

    def agent_a(self):
        """Agent "backend": a real shim in another project, driven by the test."""
        env = {k: v for k, v in self.d.env.items()
               if not k.startswith(("CLAUDE_CODE", "CLAUDE_BRIDGE", "CLAUDE_PROJECT"))
               and k not in MARKERS}
        env.update(CLAUDE_PROJECT_DIR=self.elsewhere, CLAUDE_BRIDGE_AGENT="backend")
        proc = subprocess.Popen([SHIM, "--socket-dir", self.d.socket_dir, "--state-dir",
                                 self.d.state_dir, "--no-autostart"], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, bufsize=0)
        a = McpClient(proc.stdout, proc.stdin, lambda: (proc.stdin.close(), proc.wait(5),
                                                        proc.stdout.close(), proc.stderr.close()),
                      proc)
        self.addCleanup(a.close)
        a.initialize()
        self.assertEqual(ok(a.call("list_agents", {}))["you"]["name"], "backend")
        return a

    def start_b(self, **env):
        """Session B: Claude Code in the project, in stream-json mode (it stays alive between
        turns while its stdin is open)."""
        s = ClaudeSession(["claude", "-p", "--input-format", "stream-json", "--output-format",
                           "stream-json", "--verbose", "--allowedTools", "mcp__bridge"],
                          dict(self.env, **env), self.project)
        self.sessions.append(s)
        return s

    def wait_online(self, a, name):
        wait_until(lambda: any(x["name"] == name and x["connected"]
                               for x in ok(a.call("list_agents", {}))["agents"]),
                   timeout=WAIT, what=f"{name} connected", interval=0.2)

    def results_of(self, tool, body):
        """The text of B's tool_result(s) for bridge tool `tool` in request `body`."""
        found = self.model.tool_results(body, "mcp__bridge__" + tool)
        self.assertEqual(len(found), 1, tail(body))
        return tool_result_text(found[0])

    def test_tools_through_the_scripted_model(self):
        """Without hooks (setup --no-hooks): B's model calls list_agents and check_messages
        (streamed tool_use blocks), and the tool results Claude Code sends back show A's
        message, once."""
        self.setup_project("--no-hooks")
        a = self.agent_a()
        model = self.model
        model.on(tail_contains("first prompt"), "ready")
        model.on(tail_contains("look at your mail"), tool_use("mcp__bridge__list_agents"))
        model.on(model.after_tool("mcp__bridge__list_agents"),
                 tool_use("mcp__bridge__check_messages"))
        model.on(model.after_tool("mcp__bridge__check_messages"),
                 tool_use("mcp__bridge__check_messages"))
        model.on(model.after_tool("mcp__bridge__check_messages"), "all read")

        b = self.start_b()
        b.say("first prompt")
        b.wait_results(1)
        self.wait_online(a, "frontend")
        sent = ok(a.call("send_message", {"to": "frontend", "message": "Which fields?",
                                          "action_type": "question"}))
        self.assertEqual(sent["to"], ["frontend"])

        start = model.count()
        b.say("look at your mail")
        _, listed = model.wait_request(model.after_tool("mcp__bridge__list_agents"), start, WAIT)
        agents = json.loads(self.results_of("list_agents", listed))
        self.assertEqual(agents["you"]["name"], "frontend")
        backend = [x for x in agents["agents"] if x["name"] == "backend"]
        self.assertEqual(len(backend), 1, agents)
        self.assertEqual(backend[0]["unread_from_them"], 1, agents)

        i, first = model.wait_request(model.after_tool("mcp__bridge__check_messages"), start,
                                      WAIT)
        page = json.loads(self.results_of("check_messages", first))
        self.assertEqual([(m["from"], m["message"]) for m in page["messages"]],
                         [("backend", "Which fields?")])
        _, second = model.wait_request(model.after_tool("mcp__bridge__check_messages"), i + 1,
                                       WAIT)
        self.assertEqual(json.loads(self.results_of("check_messages", second))["messages"], [])
        b.wait_results(2)
        # Claude Code sent the model exactly the requests the script asked for: the two
        # prompts and the three tool results.
        self.assertEqual(model.count(), 5, [tail(r) for r in model.requests])

    def test_hooks_tell_and_wake(self):
        """With setup's hooks (HOOKS-CONTRACT.md): B's first request names its agent; mail that
        arrives while B is busy reaches B's next request as one notice line; mail that arrives
        while B is idle wakes it (the Stop hook's asyncRewake waiter) with the notice;
        check_messages then hands each message out once; with nothing new no notice is added.

        CLAUDE_BRIDGE_WAKE=always: `claude -p` runs do not wait by default, and this one stays
        alive (stream-json input), so it should be woken. Claude Code 2.1.330 runs a SessionStart
        asyncRewake hook synchronously in -p runs (the first turn waits for it to exit), so the
        first request arriving at all shows the SessionStart waiter returned at once there."""
        self.setup_project()
        with open(os.path.join(self.project, ".claude", "settings.local.json")) as f:
            hooks = json.load(f)["hooks"]
        self.assertEqual(sorted(hooks), ["PostToolUse", "SessionStart", "Stop",
                                         "UserPromptSubmit"])
        a = self.agent_a()
        model = self.model
        busy = threading.Event()
        model.on(tail_contains("first prompt"), tool_use("mcp__bridge__list_agents"), gate=busy)
        model.on(model.after_tool("mcp__bridge__list_agents"), "done")
        model.on(tail_contains("Are you there?"), tool_use("mcp__bridge__check_messages"))
        model.on(model.after_tool("mcp__bridge__check_messages"),
                 tool_use("mcp__bridge__check_messages"))
        model.on(model.after_tool("mcp__bridge__check_messages"), "all read")

        b = self.start_b(CLAUDE_BRIDGE_WAKE="always")
        self.addCleanup(lambda: busy.set())  # a failed test must not leave a reply held
        b.say("first prompt")
        i, first = model.wait_request(tail_contains("first prompt"), 0, WAIT)
        # SessionStart: Claude Code puts the hook's additionalContext in the system-role
        # message it sends after the user's prompt ("SessionStart hook additional context:").
        context = [t for t in strings(tail(first)) if "SessionStart hook additional context" in t]
        self.assertEqual(len(context), 1, tail(first))
        self.assertIn('you are agent "frontend"', context[0])
        self.assertNotIn("new message", json.dumps(first))

        # Busy: A's message is stored while B waits for its model's reply (held by the gate);
        # B's next request, after the tool call the reply asks for, carries the notice once.
        self.wait_online(a, "frontend")
        ok(a.call("send_message", {"to": "frontend", "message": "Which fields?",
                                   "action_type": "question"}))
        busy.set()
        i, after_call = model.wait_request(model.after_tool("mcp__bridge__list_agents"), i, WAIT)
        told = [t for t in strings(tail(after_call)) if "new message" in t]
        self.assertEqual(len(told), 1, tail(after_call))
        # PostToolUse's additionalContext: a system-role message after the tool result.
        self.assertIn("PostToolUse:mcp__bridge__list_agents hook additional context: "
                      "claude-bridge: 1 new message from backend (question): 'Which fields?'",
                      told[0])
        self.assertIn("check_messages", told[0])
        b.wait_results(1)

        # Idle: B ended its turn; A's message wakes it, and the woken turn's request carries
        # the notice (and nothing else from the bridge: the tell hooks add nothing new).
        ok(a.call("send_message", {"to": "frontend", "message": "Are you there?"}))
        i, woken = model.wait_request(tail_contains("Are you there?"), i + 1, WAIT)
        self.assertEqual(model.tool_results(woken), [], "a new turn, not a tool result")
        told = [t for t in strings(tail(woken)) if "new message" in t]
        self.assertEqual(len(told), 1, tail(woken))
        self.assertIn("1 new message from backend: 'Are you there?'", told[0])
        # The waiter's stderr, as Claude Code words an asyncRewake exit 2 of a Stop hook.
        self.assertIn('Stop hook blocking error from command "Stop"', told[0])

        # check_messages hands both messages out, each once; a second call finds nothing. The
        # PostToolUse hook has nothing new to tell after either: no notice is added.
        i, read = model.wait_request(model.after_tool("mcp__bridge__check_messages"), i, WAIT)
        page = json.loads(self.results_of("check_messages", read))
        self.assertEqual([m["message"] for m in page["messages"]],
                         ["Which fields?", "Are you there?"])
        i, again = model.wait_request(model.after_tool("mcp__bridge__check_messages"), i + 1,
                                      WAIT)
        self.assertEqual(json.loads(self.results_of("check_messages", again))["messages"], [])
        for body in (read, again):
            self.assertFalse([t for t in strings(tail(body)) if "claude-bridge:" in t
                              or "new message" in t], tail(body))
        b.wait_results(2)

        # Busy with a waiter pending (the Stop hook of the turn that just ended): the waiter
        # takes the mail and exits 2 while B waits for its model; Claude Code folds that text
        # into B's next request instead of starting a turn, and the PostToolUse hook adds no
        # second notice of the same mail.
        waiter = wait_until(b.waiters, timeout=WAIT, what="B's Stop waiter", interval=0.1)
        held = threading.Event()
        self.addCleanup(held.set)
        model.on(tail_contains("third prompt"), tool_use("mcp__bridge__list_agents"), gate=held)
        model.on(model.after_tool("mcp__bridge__list_agents"), "done again")
        b.say("third prompt")
        i, _ = model.wait_request(tail_contains("third prompt"), i + 1, WAIT)
        ok(a.call("send_message", {"to": "frontend", "message": "Last one"}))
        wait_until(lambda: not set(waiter) & set(b.waiters()), timeout=WAIT,
                   what="B's waiter to exit", interval=0.1)
        held.set()
        i, folded = model.wait_request(model.after_tool("mcp__bridge__list_agents"), i, WAIT)
        told = [t for t in strings(tail(folded)) if "new message" in t]
        self.assertEqual(len(told), 1, tail(folded))
        self.assertIn("1 new message from backend: 'Last one'", told[0])
        self.assertIn('Stop hook blocking error from command "Stop"', told[0])
        self.assertNotIn("PostToolUse:mcp__bridge__list_agents hook additional context: "
                         "claude-bridge:", told[0])
        b.wait_results(3)


if __name__ == "__main__":
    if not os.access(os.path.join(BIN, "claude"), os.X_OK):
        print(f"SKIP: Claude Code is not installed: run `npm ci` in {CLIENTS}")
        sys.exit(77)  # meson: SKIP
    unittest.main(verbosity=2)
