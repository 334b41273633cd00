"""claude-bridgectl setup claude-code|codex|gemini and doctor's wiring checks, on the files.

HOME is a temp dir per test (Daemon's root); the real clients are not on PATH here, so setup
skips their own check (tests/e2e/test_setup_clients.py runs it with the pinned clients). The
pre-populated files are written the way each client writes them (JSON.stringify(v, null, 2)
is json.dumps(v, indent=2, ensure_ascii=False); Codex's config.toml by hand, with comments),
which is the layout setup promises to give back byte for byte after --remove.
"""
import json
import os
import shlex
import subprocess
import sys
import tomllib
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, SHIM, Daemon  # noqa: E402

# The events and verbs setup registers (HOOKS-CONTRACT.md, "What setup registers"). Claude
# Code's waiter: "asyncRewake": true, "timeout": 600.
HOOKS = {
    "claude-code": [("SessionStart", "session-start"), ("SessionStart", "wait"),
                    ("UserPromptSubmit", "tell"), ("PostToolUse", "tell"), ("Stop", "wait")],
    "codex": [("SessionStart", "session-start"), ("UserPromptSubmit", "tell"),
              ("PostToolUse", "tell")],
    "gemini": [("SessionStart", "session-start"), ("BeforeAgent", "tell"), ("AfterTool", "tell")],
}

CODEX_TOML = """# my Codex settings
model = "o3"  # the one I like

[mcp_servers.docs]
command = "docs-server"  # keep this comment
args = ["--port", "7"]

[mcp_servers.docs.env]
TOKEN_FILE = "~/.docs"

# profiles below
[profiles.fast]
model = "o4-mini"
"""


def js(value):
    """What JSON.stringify(value, null, 2) writes."""
    return json.dumps(value, indent=2, ensure_ascii=False)


class SetupTest(unittest.TestCase):
    def setUp(self):
        # Not started: setup needs no daemon. Its socket dir is not the default, so entries
        # carry --socket-dir (the mcp-config rules).
        self.d = Daemon(start=False)
        self.home = self.d.root
        self.project = os.path.join(self.home, "work", "app")
        os.makedirs(self.project)
        self.shim = os.path.realpath(SHIM)
        self.ctl_path = os.path.realpath(CTL)
        self.hook_path = os.path.join(os.path.dirname(self.ctl_path), "claude-bridge-hook")
        self.env = dict(self.d.env)
        self.env["PATH"] = "/usr/bin:/bin"  # no claude, codex or gemini: their check is skipped
        for k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
            self.env.pop(k, None)

    def tearDown(self):
        self.d.close()

    def ctl(self, *args, cwd=None, code=0):
        r = subprocess.run([CTL, "--socket-dir", self.d.socket_dir, *args], env=self.env,
                           cwd=cwd or self.project, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        return r

    def path(self, *parts):
        return os.path.join(self.home, *parts)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def write(self, path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)

    def snapshot(self):
        """Every file under HOME (the project included) with its bytes."""
        out = {}
        for root, _, files in os.walk(self.home):
            for name in files:
                p = os.path.join(root, name)
                out[os.path.relpath(p, self.home)] = self.read(p)
        return out

    def hook_command(self, client, verb):
        cmd = f"{self.hook_path} {verb}"
        if client != "claude-code":
            cmd += " --client " + client
        return cmd + " --socket-dir " + self.d.socket_dir

    def hook_object(self, client, verb):
        h = {"type": "command", "command": self.hook_command(client, verb)}
        if client == "gemini":
            h = {"name": "claude-bridge-" + verb, **h}
        if verb == "wait":
            h.update(timeout=600, asyncRewake=True)
        return h

    def bridge_hooks(self, client):
        """The "hooks" object setup writes into a file that had none: one group per event, no
        matcher (every source, every tool)."""
        out = {}
        for event, verb in HOOKS[client]:
            out.setdefault(event, [{"hooks": []}])[0]["hooks"].append(
                self.hook_object(client, verb))
        return out

    def shim_args(self):
        # No daemon runs there and the environment names no state dir or config: the socket
        # dir is all the entry needs (test_ctl.py's mcp-config tests cover the rest).
        return ["--socket-dir", self.d.socket_dir]

    # --- Claude Code -------------------------------------------------------------------------

    def test_claude_code_user_scope_into_an_empty_home(self):
        before = self.snapshot()
        r = self.ctl("setup", "claude-code", "--user", "--name", "alpha")
        self.assertIn('added MCP server "bridge"', r.stdout)
        self.assertIn("added the bridge's hooks in " + self.path(".claude", "settings.json"),
                      r.stdout)
        self.assertIn("Stop: " + self.hook_command("claude-code", "wait"), r.stdout)
        self.assertIn("claude is not on PATH; not checked", r.stdout)
        self.assertEqual(json.loads(self.read(self.path(".claude", "settings.json"))),
                         {"hooks": self.bridge_hooks("claude-code")})
        doc = json.loads(self.read(self.path(".claude.json")))
        self.assertEqual(doc, {"mcpServers": {"bridge": {
            "type": "stdio", "command": self.shim, "args": self.shim_args(),
            "env": {"CLAUDE_BRIDGE_AGENT": "alpha"}, "alwaysLoad": True}}})
        self.assertEqual(os.stat(self.path(".claude.json")).st_mode & 0o777, 0o600)
        # Idempotent: the second run says so and leaves the bytes alone.
        data = self.snapshot()
        r = self.ctl("setup", "claude-code", "--user", "--name", "alpha")
        self.assertIn("nothing changed", r.stdout)
        self.assertIn("already has the bridge's hooks as setup writes them; nothing changed",
                      r.stdout)
        self.assertEqual(self.snapshot(), data)
        # Another name updates the entry in place.
        self.ctl("setup", "claude-code", "--user", "--name", "beta")
        doc = json.loads(self.read(self.path(".claude.json")))
        self.assertEqual(doc["mcpServers"]["bridge"]["env"], {"CLAUDE_BRIDGE_AGENT": "beta"})
        j = json.loads(self.ctl("--json", "setup", "claude-code", "--user", "--name", "beta",
                                "--dry-run").stdout)
        self.assertEqual((j["client"], j["scope"], j["file"], j["key"], j["action"], j["dry_run"]),
                         ("claude-code", "user", self.path(".claude.json"), "mcpServers.bridge",
                          "unchanged", True))
        self.assertEqual((j["hooks"]["file"], j["hooks"]["action"]),
                         (self.path(".claude", "settings.json"), "unchanged"))
        self.assertEqual([(e["event"], e["command"], e.get("async_rewake", False))
                          for e in j["hooks"]["entries"]],
                         [(e, self.hook_command("claude-code", v), v == "wait")
                          for e, v in HOOKS["claude-code"]])
        r = self.ctl("setup", "claude-code", "--user", "--remove")
        self.assertIn("removed", r.stdout)
        self.assertEqual(self.snapshot(), before)
        r = self.ctl("setup", "claude-code", "--user", "--remove")
        self.assertIn("has no MCP server", r.stdout)

    def test_claude_code_project_scope_is_keyed_by_the_git_root(self):
        os.makedirs(os.path.join(self.project, ".git"))
        sub = os.path.join(self.project, "src")
        os.makedirs(sub)
        self.ctl("setup", "claude-code", cwd=sub)
        doc = json.loads(self.read(self.path(".claude.json")))
        entry = doc["projects"][os.path.realpath(self.project)]["mcpServers"]["bridge"]
        self.assertEqual(entry["command"], self.shim)
        self.assertEqual(entry["env"], {})
        self.assertTrue(entry["alwaysLoad"])
        self.assertNotIn("mcpServers", doc)
        # --project DIR names the same project from anywhere.
        r = self.ctl("setup", "claude-code", "--project", sub, cwd=self.home)
        self.assertIn("nothing changed", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.project, ".mcp.json")))

    def test_claude_code_keeps_everything_else_and_remove_restores_the_bytes(self):
        key = os.path.realpath(self.project)
        original = {
            "numStartups": 12,
            "theme": "dark",
            "mcpServers": {"docs": {"type": "stdio", "command": "docs-server", "args": [],
                                    "env": {}}},
            "projects": {
                key: {"allowedTools": [], "mcpServers": {"db": {"type": "stdio",
                                                                "command": "db-mcp"}},
                      "hasTrustDialogAccepted": True},
                "/elsewhere": {"allowedTools": ["Bash"], "mcpServers": {}},
            },
            "userID": "naïve ✓",
        }
        text = js(original)
        self.write(self.path(".claude.json"), text)
        os.chmod(self.path(".claude.json"), 0o640)
        for args in (["--user"], ["--project", self.project]):
            self.ctl("setup", "claude-code", *args, "--name", "alpha")
        doc = json.loads(self.read(self.path(".claude.json")))
        self.assertEqual(list(doc), list(original))  # key order kept
        self.assertEqual(doc["mcpServers"]["docs"], original["mcpServers"]["docs"])
        self.assertEqual(doc["projects"][key]["mcpServers"]["db"]["command"], "db-mcp")
        self.assertEqual(doc["projects"][key]["mcpServers"]["bridge"]["command"], self.shim)
        self.assertEqual(doc["projects"]["/elsewhere"], original["projects"]["/elsewhere"])
        self.assertEqual(os.stat(self.path(".claude.json")).st_mode & 0o777, 0o640)
        # The person adds a server after setup: --remove leaves it.
        doc["projects"][key]["mcpServers"]["later"] = {"command": "later-mcp"}
        self.write(self.path(".claude.json"), js(doc))
        self.ctl("setup", "claude-code", "--project", self.project, "--remove")
        self.ctl("setup", "claude-code", "--user", "--remove")
        doc = json.loads(self.read(self.path(".claude.json")))
        self.assertEqual(doc["projects"][key]["mcpServers"]["later"], {"command": "later-mcp"})
        del doc["projects"][key]["mcpServers"]["later"]
        self.assertEqual(js(doc).encode(), text.encode())
        # Without the later server: byte for byte.
        self.write(self.path(".claude.json"), text)
        self.ctl("setup", "claude-code", "--user")
        self.ctl("setup", "claude-code", "--user", "--remove")
        self.assertEqual(self.read(self.path(".claude.json")), text.encode())

    def test_claude_code_project_entry_as_claude_code_writes_it(self):
        # Claude Code puts "mcpServers": {} into every project it has seen; --remove keeps it.
        key = os.path.realpath(self.project)
        text = js({"numStartups": 3, "projects": {key: {
            "allowedTools": [], "mcpContextUris": [], "mcpServers": {},
            "enabledMcpjsonServers": [], "disabledMcpjsonServers": [],
            "hasTrustDialogAccepted": False}}})
        self.write(self.path(".claude.json"), text)
        self.ctl("setup", "claude-code", "--name", "alpha")
        doc = json.loads(self.read(self.path(".claude.json")))
        self.assertEqual(list(doc["projects"][key]["mcpServers"]), ["bridge"])
        self.ctl("setup", "claude-code", "--remove")
        self.assertEqual(self.read(self.path(".claude.json")), text.encode())

    # --- Gemini CLI --------------------------------------------------------------------------

    def test_gemini_user_and_project_round_trip(self):
        user_file = self.path(".gemini", "settings.json")
        user = {"general": {"vimMode": True},
                "mcpServers": {"docs": {"command": "docs-server", "args": ["-v"]}},
                "security": {"auth": {"selectedType": "gemini-api-key"}}}
        self.write(user_file, js(user) + "\n")
        before = self.snapshot()
        r = self.ctl("setup", "gemini", "--user", "--name", "gem")
        self.assertIn("note: Gemini CLI starts MCP servers and runs hooks only in folders you trust",
                      r.stdout)
        doc = json.loads(self.read(user_file))
        self.assertEqual(doc["mcpServers"]["bridge"], {
            "command": self.shim, "args": self.shim_args(), "env": {"CLAUDE_BRIDGE_AGENT": "gem"}})
        self.assertEqual(doc["mcpServers"]["docs"], user["mcpServers"]["docs"])
        self.assertEqual(doc["general"], user["general"])
        # Project scope: PROJECT/.gemini/settings.json, created.
        self.ctl("setup", "gemini")
        proj = json.loads(self.read(os.path.join(self.project, ".gemini", "settings.json")))
        self.assertEqual(proj, {"mcpServers": {"bridge": {"command": self.shim,
                                                          "args": self.shim_args()}},
                                "hooks": self.bridge_hooks("gemini")})
        self.assertIn("nothing changed", self.ctl("setup", "gemini").stdout)
        self.ctl("setup", "gemini", "--remove")
        self.ctl("setup", "gemini", "--user", "--remove")
        self.assertEqual(self.snapshot(), before)
        self.assertFalse(os.path.exists(os.path.join(self.project, ".gemini")))

    def test_json_in_another_layout_keeps_its_content_and_says_so(self):
        # Hand-written, compact: setup rewrites it in the 2-space layout, content unchanged.
        f = self.path(".gemini", "settings.json")
        original = {"general": {"vimMode": True}, "ui": {"theme": "Dracula"}, "n": [1, 2]}
        self.write(f, json.dumps(original))
        r = self.ctl("setup", "gemini", "--user")
        self.assertIn("was not in the 2-space layout its client writes", r.stdout)
        self.ctl("setup", "gemini", "--user", "--remove")
        with open(f) as fh:
            text = fh.read()
        self.assertEqual(json.loads(text), original)
        self.assertEqual(text, js(original))

    # --- Codex -------------------------------------------------------------------------------

    def test_codex_keeps_comments_and_remove_restores_the_bytes(self):
        cfg = self.path(".codex", "config.toml")
        self.write(cfg, CODEX_TOML)
        r = self.ctl("setup", "codex", "--user", "--name", "cx")
        self.assertIn("[mcp_servers.bridge]", r.stdout)
        text = self.read(cfg).decode()
        self.assertTrue(text.startswith(CODEX_TOML), text)  # every byte, comments included
        doc = tomllib.loads(text)
        want = tomllib.loads(CODEX_TOML)
        want["mcp_servers"]["bridge"] = {"command": self.shim, "args": self.shim_args(),
                                         "env": {"CLAUDE_BRIDGE_AGENT": "cx"}}
        self.assertEqual(doc, want)
        self.assertIn("nothing changed", self.ctl("setup", "codex", "--user", "--name", "cx").stdout)
        self.assertEqual(self.read(cfg).decode(), text)
        # A changed name replaces the tables; a section the person added later stays.
        with open(cfg, "a") as f:
            f.write("\n# added later\n[mcp_servers.later]\ncommand = \"later-mcp\"\n")
        self.ctl("setup", "codex", "--user")
        doc = tomllib.loads(self.read(cfg).decode())
        self.assertNotIn("env", doc["mcp_servers"]["bridge"])
        self.assertEqual(doc["mcp_servers"]["later"], {"command": "later-mcp"})
        self.ctl("setup", "codex", "--user", "--remove")
        self.assertEqual(self.read(cfg).decode(),
                         CODEX_TOML + "\n# added later\n[mcp_servers.later]\ncommand = \"later-mcp\"\n")
        # Byte for byte from the original.
        self.write(cfg, CODEX_TOML)
        self.ctl("setup", "codex", "--user", "--name", "cx")
        self.ctl("setup", "codex", "--user", "--remove")
        self.assertEqual(self.read(cfg).decode(), CODEX_TOML)

    def test_codex_into_an_empty_home_and_project(self):
        before = self.snapshot()
        self.ctl("setup", "codex", "--user")
        doc = tomllib.loads(self.read(self.path(".codex", "config.toml")).decode())
        self.assertEqual(doc, {"mcp_servers": {"bridge": {"command": self.shim,
                                                          "args": self.shim_args()}}})
        r = self.ctl("setup", "codex")
        self.assertIn("only once you trust the project", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(self.project, ".codex", "config.toml")))
        self.ctl("setup", "codex", "--remove")
        self.ctl("setup", "codex", "--user", "--remove")
        self.assertEqual(self.snapshot(), before)
        self.assertFalse(os.path.exists(self.path(".codex")))

    def test_codex_forms_setup_does_not_edit_are_refused(self):
        cfg = self.path(".codex", "config.toml")
        inline = '[mcp_servers]\nbridge = { command = "/x/claude-bridge-shim", args = [] }\n'
        self.write(cfg, inline)
        r = self.ctl("setup", "codex", "--user", "--remove", code=1)
        self.assertIn("in a form setup does not edit", r.stderr)
        self.assertEqual(self.read(cfg).decode(), inline)

    # --- Dry run, refusals -------------------------------------------------------------------

    def test_dry_run_writes_nothing(self):
        self.write(self.path(".codex", "config.toml"), CODEX_TOML)
        self.write(self.path(".claude.json"), js({"theme": "dark"}))
        for populated in (False, True):
            if populated:
                for client in ("claude-code", "codex", "gemini"):
                    self.ctl("setup", client, "--user")
            before = self.snapshot()
            for client in ("claude-code", "codex", "gemini"):
                for scope in (["--user"], ["--project", self.project]):
                    r = self.ctl("setup", client, *scope, "--name", "dry", "--dry-run")
                    self.assertIn("dry run: nothing was written", r.stdout)
                    self.assertNotIn("check:", r.stdout)
                    self.assertIn("would update" if populated and scope == ["--user"]
                                  else "would add", r.stdout)
                    self.assertIn("CLAUDE_BRIDGE_AGENT", r.stdout)
                    self.assertIn("already has the bridge's hooks"
                                  if populated and scope == ["--user"]
                                  else "would add the bridge's hooks", r.stdout)
                    r = self.ctl("setup", client, *scope, "--remove", "--dry-run")
                    self.assertIn("would remove" if populated and scope == ["--user"]
                                  else "has no MCP server", r.stdout)
                    self.assertIn("would remove the bridge's hooks"
                                  if populated and scope == ["--user"]
                                  else "has no bridge hooks", r.stdout)
                    r = self.ctl("setup", client, *scope, "--no-hooks", "--dry-run")
                    self.assertIn("would remove the bridge's hooks"
                                  if populated and scope == ["--user"]
                                  else "has no bridge hooks", r.stdout)
            self.assertEqual(self.snapshot(), before)

    def one_line_error(self, r, *needles):
        lines = r.stderr.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, r.stderr)
        for n in needles:
            self.assertIn(n, lines[0])

    def test_broken_files_are_refused_in_one_line_and_left_alone(self):
        cases = [
            (self.path(".claude.json"), ["claude-code", "--user"], '{\n  "theme": "dark",\n  oops\n}\n',
             ["is not valid JSON (line 3)"]),
            (self.path(".claude.json"), ["claude-code", "--user"], "[1, 2]\n",
             ["holds a JSON array, not an object"]),
            (self.path(".gemini", "settings.json"), ["gemini", "--user"],
             '{\n  // my comment\n  "general": {}\n}\n', ["has comments, which setup would drop"]),
            (self.path(".codex", "config.toml"), ["codex", "--user"], 'model = "o3"\n[broken\n',
             ["is not valid TOML (line 2"]),
            (self.path(".claude.json"), ["claude-code", "--user"],
             js({"mcpServers": {"bridge": {"command": "someone-elses-server"}}}),
             ['already has an MCP server named "bridge" that runs "someone-elses-server"']),
            (self.path(".codex", "config.toml"), ["codex", "--user"],
             '[mcp_servers.bridge]\ncommand = "other"\n', ['runs "other", not claude-bridge-shim']),
            # The hooks' files: refused before the server's file is touched.
            (self.path(".claude", "settings.json"), ["claude-code", "--user"],
             '{\n  "hooks": {\n}}}\n', ["is not valid JSON (line 3)"]),
            (self.path(".codex", "hooks.json"), ["codex", "--user"], '{"hooks": []}',
             ["hooks is a JSON array, not an object"]),
            (self.path(".gemini", "settings.json"), ["gemini", "--user"],
             '{"hooks": {"AfterTool": {"matcher": "x"}}}', ["hooks.AfterTool is a JSON object, not a list"]),
        ]
        for path, args, text, needles in cases:
            with self.subTest(path=path, text=text):
                self.write(path, text)
                snap = self.snapshot()
                for extra in ([], ["--remove"], ["--dry-run"], ["--no-hooks"]):
                    if "hooks.AfterTool" in needles[0] and extra in (["--remove"], ["--no-hooks"]):
                        continue  # nothing of the bridge's to take out there: no refusal
                    r = self.ctl("setup", *args, *extra, code=1)
                    self.one_line_error(r, path, "nothing was changed", *needles)
                    self.assertEqual(self.read(path).decode(), text)
                    self.assertEqual(self.snapshot(), snap)
                os.remove(path)

    def test_usage_errors(self):
        self.ctl("setup", "vscode", code=2)
        self.ctl("setup", "codex", "--user", "--project", self.project, code=2)
        self.ctl("setup", "codex", "--name", "bad name", code=2)
        r = self.ctl("setup", "codex", "--project", self.path("nowhere"), code=2)
        self.assertIn("is not a directory", r.stderr)


    # --- Hooks -------------------------------------------------------------------------------

    def hook_files(self, scope_user):
        """Where each client keeps the hooks of a scope."""
        if scope_user:
            return {"claude-code": self.path(".claude", "settings.json"),
                    "codex": self.path(".codex", "hooks.json"),
                    "gemini": self.path(".gemini", "settings.json")}
        return {"claude-code": os.path.join(self.project, ".claude", "settings.local.json"),
                "codex": os.path.join(self.project, ".codex", "hooks.json"),
                "gemini": os.path.join(self.project, ".gemini", "settings.json")}

    def test_hooks_for_each_client_and_scope(self):
        before = self.snapshot()
        for scope in (["--user"], []):
            files = self.hook_files(scope == ["--user"])
            for client in ("claude-code", "codex", "gemini"):
                with self.subTest(client=client, scope=scope):
                    r = self.ctl("setup", client, *scope)
                    self.assertIn(f"added the bridge's hooks in {files[client]}:", r.stdout)
                    for event, verb in HOOKS[client]:
                        self.assertIn(f"    {event}: {self.hook_command(client, verb)}", r.stdout)
                    doc = json.loads(self.read(files[client]))
                    self.assertEqual(doc["hooks"], self.bridge_hooks(client))
                    # Twice: nothing changes, byte for byte, in any file.
                    snap = self.snapshot()
                    r = self.ctl("setup", client, *scope)
                    self.assertIn("already has the bridge's hooks as setup writes them", r.stdout)
                    self.assertEqual(self.snapshot(), snap)
        # Codex's note says what the person must do before its hooks run.
        self.assertIn("type /hooks and trust", self.ctl("setup", "codex", "--user").stdout)
        for scope in (["--user"], []):
            for client in ("claude-code", "codex", "gemini"):
                r = self.ctl("setup", client, *scope, "--remove")
                self.assertIn("removed the bridge's hooks from", r.stdout)
        self.assertEqual(self.snapshot(), before)
        for d in (".claude", ".codex", ".gemini"):
            self.assertFalse(os.path.exists(os.path.join(self.project, d)), d)

    def test_claude_code_project_hooks_are_at_the_git_root(self):
        os.makedirs(os.path.join(self.project, ".git"))
        sub = os.path.join(self.project, "src")
        os.makedirs(sub)
        self.ctl("setup", "claude-code", cwd=sub)
        local = os.path.join(self.project, ".claude", "settings.local.json")
        self.assertEqual(json.loads(self.read(local)), {"hooks": self.bridge_hooks("claude-code")})
        self.assertFalse(os.path.exists(os.path.join(sub, ".claude")))
        # CLAUDE_CONFIG_DIR moves the user's settings.json, as it moves .claude.json.
        self.env["CLAUDE_CONFIG_DIR"] = self.path("cfg")
        self.ctl("setup", "claude-code", "--user")
        self.assertEqual(json.loads(self.read(self.path("cfg", "settings.json"))),
                         {"hooks": self.bridge_hooks("claude-code")})
        self.assertTrue(os.path.exists(self.path("cfg", ".claude.json")))

    def test_hooks_keep_everything_else_and_remove_restores_the_bytes(self):
        # The person's own hooks under the same events (with and without matchers), hooks
        # under other events, other settings and other servers, in the layouts the clients
        # write: after setup they are all still there, in their order, and --remove gives back
        # every byte.
        mine = {"type": "command", "command": "~/bin/notify.sh", "timeout": 5}
        lint = {"type": "command", "command": "npx eslint --fix"}
        claude = {
            "permissions": {"allow": ["Bash(git status)"]},
            "hooks": {
                "SessionStart": [{"matcher": "startup", "hooks": [mine]}],
                "PostToolUse": [{"matcher": "Edit|Write", "hooks": [lint]}],
                "Notification": [{"hooks": [mine]}],
            },
            "model": "opus",
        }
        codex = {"hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [lint]}],
                           "Stop": [{"hooks": [mine]}]}}
        gemini = {"general": {"vimMode": True},
                  "mcpServers": {"docs": {"command": "docs-server"}},
                  "hooks": {"AfterTool": [{"matcher": "write_file", "hooks": [
                      {"name": "fmt", "type": "command", "command": "prettier -w"}]}],
                            "AfterAgent": [{"hooks": [mine]}]},
                  "hooksConfig": {"notifications": False}}
        originals = {}
        for scope_user in (True, False):
            files = self.hook_files(scope_user)
            for client, doc, tail in (("claude-code", claude, "\n"), ("codex", codex, ""),
                                      ("gemini", gemini, "\n")):
                self.write(files[client], js(doc) + tail)
                originals[files[client]] = (js(doc) + tail).encode()
        self.write(self.path(".codex", "config.toml"), CODEX_TOML)
        self.write(self.path(".claude.json"), js({"mcpServers": {"docs": {"command": "d"}}}))
        before = self.snapshot()
        for scope in (["--user"], []):
            files = self.hook_files(scope == ["--user"])
            for client, orig in (("claude-code", claude), ("codex", codex), ("gemini", gemini)):
                self.ctl("setup", client, *scope, "--name", "alpha")
                doc = json.loads(self.read(files[client]))
                ours = self.bridge_hooks(client)
                # Everything but "hooks" is as it was, in its order.
                self.assertEqual([k for k in doc if k != "hooks"],
                                 [k for k in orig if k != "hooks"])
                for k in orig:
                    if k == "mcpServers":
                        self.assertEqual(doc[k], {**orig[k], "bridge": doc[k]["bridge"]})
                    elif k != "hooks":
                        self.assertEqual(doc[k], orig[k])
                # Each event: the person's groups first, as they were, then the bridge's.
                for event in set(orig["hooks"]) | set(ours):
                    self.assertEqual(doc["hooks"][event],
                                     orig["hooks"].get(event, []) + ours.get(event, []), event)
                snap = self.snapshot()
                self.ctl("setup", client, *scope, "--name", "alpha")
                self.assertEqual(self.snapshot(), snap)
        for scope in (["--user"], []):
            for client in ("claude-code", "codex", "gemini"):
                self.ctl("setup", client, *scope, "--remove")
        self.assertEqual(self.snapshot(), before)
        for f, data in originals.items():
            self.assertEqual(self.read(f), data, f)

    def test_hooks_are_found_by_their_command_and_updated_in_place(self):
        # A bridge hook from an older install (claude-bridgectl's hook command at another path),
        # between the person's hooks, and one the person moved into a group of their own (the
        # hook binary, with a variable set): setup replaces
        # the first in its place and takes the second out of that group, leaving their hook.
        settings = self.path(".claude", "settings.json")
        mine = {"type": "command", "command": "~/bin/log-prompt"}
        old = {"type": "command", "command": "'/opt/old bridge/claude-bridgectl' hook tell"}
        self.write(settings, js({"hooks": {
            "UserPromptSubmit": [{"hooks": [mine]}, {"hooks": [old]}, {"hooks": [mine]}],
            "PostToolUse": [{"matcher": "Bash", "hooks": [mine, {
                "type": "command",
                "command": "CLAUDE_BRIDGE_WAKE=never /usr/bin/claude-bridge-hook tell"}]}]}}))
        r = self.ctl("setup", "claude-code", "--user")
        self.assertIn("updated the bridge's hooks in " + settings, r.stdout)
        hooks = json.loads(self.read(settings))["hooks"]
        ours = self.bridge_hooks("claude-code")
        self.assertEqual(hooks["UserPromptSubmit"],
                         [{"hooks": [mine]}] + ours["UserPromptSubmit"] + [{"hooks": [mine]}])
        self.assertEqual(hooks["PostToolUse"],
                         ours["PostToolUse"] + [{"matcher": "Bash", "hooks": [mine]}])
        # In place: a second run leaves that order, and every byte, alone.
        data = self.read(settings)
        self.assertIn("nothing changed", self.ctl("setup", "claude-code", "--user").stdout)
        self.assertEqual(self.read(settings), data)
        # --remove: only the person's hooks are left.
        self.ctl("setup", "claude-code", "--user", "--remove")
        self.assertEqual(json.loads(self.read(settings)), {"hooks": {
            "UserPromptSubmit": [{"hooks": [mine]}, {"hooks": [mine]}],
            "PostToolUse": [{"matcher": "Bash", "hooks": [mine]}]}})

    def test_hook_commands_are_quoted_for_the_shell(self):
        sock = self.path("my sockets")
        r = subprocess.run([CTL, "--socket-dir", sock, "setup", "codex", "--user"], env=self.env,
                           cwd=self.project, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        hooks = json.loads(self.read(self.path(".codex", "hooks.json")))["hooks"]
        cmd = hooks["UserPromptSubmit"][0]["hooks"][0]["command"]
        self.assertEqual(cmd, f"{self.hook_path} tell --client codex --socket-dir '{sock}'")
        # sh reads it back as the words setup meant (shlex splits as POSIX sh does).
        self.assertEqual(shlex.split(cmd), [self.hook_path, "tell", "--client", "codex",
                                            "--socket-dir", sock])
        # And setup finds them again: nothing changes the second time.
        r = subprocess.run([CTL, "--socket-dir", sock, "setup", "codex", "--user"], env=self.env,
                           cwd=self.project, capture_output=True, text=True, timeout=60)
        self.assertIn("already has the bridge's hooks", r.stdout)

    def test_no_hooks_registers_the_server_only_and_takes_hooks_out(self):
        for client in ("claude-code", "codex", "gemini"):
            with self.subTest(client=client):
                files = self.hook_files(True)
                r = self.ctl("setup", client, "--user", "--no-hooks")
                self.assertIn('added MCP server "bridge"', r.stdout)
                self.assertIn("has no bridge hooks; nothing changed (--no-hooks", r.stdout)
                if client != "gemini":
                    self.assertFalse(os.path.exists(files[client]))
                else:
                    self.assertNotIn("hooks", json.loads(self.read(files[client])))
                self.ctl("setup", client, "--user")
                server_only = self.snapshot()
                # --no-hooks on a wired client turns the notices off and keeps the server.
                r = self.ctl("setup", client, "--user", "--no-hooks")
                self.assertIn("removed the bridge's hooks from", r.stdout)
                self.assertIn("already has MCP server", r.stdout)
                if client != "gemini":
                    self.assertFalse(os.path.exists(files[client]))
                self.assertNotEqual(self.snapshot(), server_only)
                j = json.loads(self.ctl("--json", "setup", client, "--user", "--no-hooks").stdout)
                self.assertEqual((j["action"], j["hooks"]["action"], j["hooks"]["no_hooks"]),
                                 ("unchanged", "absent", True))
                self.ctl("setup", client, "--user", "--remove")
        r = self.ctl("setup", "codex", "--remove", "--no-hooks", code=2)
        self.assertIn("--no-hooks", r.stderr)

    # --- doctor ------------------------------------------------------------------------------

    def doctor(self):
        r = subprocess.run([CTL, "--socket-dir", self.d.socket_dir, "--json", "doctor"],
                           env=self.env, cwd=self.project, capture_output=True, text=True,
                           timeout=60)
        return {c["check"]: c for c in json.loads(r.stdout)["checks"]}

    def test_doctor_reports_what_is_wired_where(self):
        checks = self.doctor()
        self.assertEqual(checks["Claude Code configuration"]["status"], "fail")
        self.assertIn("claude-bridgectl setup claude-code", checks["Claude Code configuration"]["detail"])
        self.assertEqual(checks["Codex configuration"]["status"], "skipped")
        self.ctl("setup", "codex", "--user")
        self.ctl("setup", "gemini")
        checks = self.doctor()
        self.assertEqual(checks["Claude Code configuration"]["status"], "skipped")
        self.assertEqual(checks["Codex configuration"]["status"], "ok")
        self.assertIn("user " + self.path(".codex", "config.toml") + ": bridge → " + self.shim,
                      checks["Codex configuration"]["detail"])
        self.assertIn("project " + os.path.join(self.project, ".gemini", "settings.json"),
                      checks["Gemini CLI configuration"]["detail"])
        # A project .mcp.json whose shim is gone fails, naming it and the fix.
        self.write(os.path.join(self.project, ".mcp.json"),
                   js({"mcpServers": {"peer": {"command": "/gone/claude-bridge-shim"}}}))
        checks = self.doctor()
        c = checks["Claude Code configuration"]
        self.assertEqual(c["status"], "fail")
        self.assertIn("peer → /gone/claude-bridge-shim (missing", c["detail"])
        # A broken settings file is named.
        self.write(self.path(".gemini", "settings.json"), "{oops")
        self.assertIn("is not valid JSON (line 1)", self.doctor()["Gemini CLI hooks"]["detail"])
        checks = self.doctor()
        self.assertEqual(checks["Gemini CLI configuration"]["status"], "fail")
        self.assertIn("is not valid JSON (line 1)", checks["Gemini CLI configuration"]["detail"])

    def test_doctor_reports_the_hooks(self):
        checks = self.doctor()
        for label in ("Claude Code", "Codex", "Gemini CLI"):
            self.assertEqual(checks[label + " hooks"]["status"], "skipped")
            self.assertIn("none: the agent is not told of new mail", checks[label + " hooks"]["detail"])
        self.ctl("setup", "codex", "--user")
        self.ctl("setup", "gemini")
        self.ctl("setup", "claude-code", "--no-hooks")
        checks = self.doctor()
        c = checks["Codex hooks"]
        self.assertEqual(c["status"], "ok")
        self.assertEqual(c["detail"], "user " + self.path(".codex", "hooks.json") +
                         ": SessionStart, UserPromptSubmit, PostToolUse → " + self.hook_path)
        self.assertEqual([(h["scope"], h["event"], h["command"], h["exists"]) for h in c["hooks"]],
                         [("user", e, self.hook_command("codex", v), True)
                          for e, v in HOOKS["codex"]])
        c = checks["Gemini CLI hooks"]
        self.assertEqual(c["status"], "ok")
        self.assertIn("project " + os.path.join(self.project, ".gemini", "settings.json") +
                      ": SessionStart, BeforeAgent, AfterTool → " + self.hook_path, c["detail"])
        self.assertEqual(checks["Claude Code hooks"]["status"], "skipped")
        # A bridge hook whose claude-bridgectl is gone fails, naming it and the fix; the
        # person's own hooks are not the bridge's and are not reported.
        self.write(self.path(".claude", "settings.json"), js({"hooks": {"Stop": [{"hooks": [
            {"type": "command", "command": "/gone/claude-bridgectl hook wait"},
            {"type": "command", "command": "/gone/notify.sh"}]}]}}))
        c = self.doctor()["Claude Code hooks"]
        self.assertEqual(c["status"], "fail")
        self.assertEqual(c["detail"], "user " + self.path(".claude", "settings.json") +
                         ": Stop → /gone/claude-bridgectl (missing — run: claude-bridgectl setup "
                         "claude-code)")
        self.assertEqual([(h["command"], h["exists"]) for h in c["hooks"]],
                         [("/gone/claude-bridgectl hook wait", False)])
        # The text report says the same.
        r = subprocess.run([CTL, "--socket-dir", self.d.socket_dir, "doctor"], env=self.env,
                           cwd=self.project, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("[FAIL] Claude Code hooks: user " + self.path(".claude", "settings.json") +
                      ": Stop → /gone/claude-bridgectl (missing", r.stdout)
        self.assertIn("[ok]   Codex hooks: user ", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
