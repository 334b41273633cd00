"""The documents are true of the programs.

Extracts the fenced shell and TOML examples (and inline code spans naming one of our programs)
from README.md and docs/cli.md and checks them against the built programs:

- every command line that runs claude-bridged, claude-bridge-shim or claude-bridgectl names a
  subcommand that exists (`PROGRAM SUBCOMMAND --help` exits 0), only options that program and
  subcommand accept, and at least the positional arguments the subcommand requires;
- every TOML block loads with the daemon's own loader (`claude-bridged --config FILE
  --check-config`);
- the subcommands `claude-bridgectl --help` lists appear in the bash completion, docs/cli.md and
  README.md, and the completion offers no option a subcommand lacks;
- every configuration key the loader knows is shown in README.md, every tool the daemon serves
  is in README's tool table (and no other), every meson dependency has a version constraint,
  every Debian package scripts/deps.sh installs is in README's dependency table;
- the worked two-session example of README.md runs as written against a real daemon;
- `meson install --destdir` puts the three man pages under share/man/man1.

Nothing here touches a real home, runtime or state directory: every program runs with HOME and
the XDG variables pointing into a temp dir, and explicit --socket-dir/--state-dir/--config.
"""
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest

SOURCE = os.environ.get("CB_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "../..")
BUILD = os.environ.get("CB_BUILD_ROOT") or os.path.join(SOURCE, "build")
PROGRAMS = {
    "claude-bridged": os.path.join(BUILD, "daemon", "claude-bridged"),
    "claude-bridge-shim": os.path.join(BUILD, "shim", "claude-bridge-shim"),
    "claude-bridgectl": os.path.join(BUILD, "ctl", "claude-bridgectl"),
}
# Scripts the documents may run; their options are checked against the script's text.
# scripts/run passes its arguments to the daemon.
SCRIPTS = ("scripts/run", "scripts/test", "scripts/install", "scripts/uninstall", "scripts/fuzz",
           ".ci/run")
SHELL_LANGS = {"sh", "bash", "shell", "console", "shell-session"}
SEPARATORS = {"&&", "||", "|", ";", "&", "(", ")"}
REDIRECTS = {"<", ">", ">>", "2>", "2>&1", "<<<"}

sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
from harness import meson_introspect  # noqa: E402


def read(rel):
    with open(os.path.join(SOURCE, rel), encoding="utf-8") as f:
        return f.read()


# ---- Markdown extraction ------------------------------------------------------------------

def fenced_blocks(text):
    """[(lang, body, first line number)] of the ``` fences of a Markdown text."""
    blocks, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^([ \t]*)(`{3,})[ \t]*([\w-]*)", lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        body, start = [], i + 2
        i += 1
        while i < len(lines) and not re.match(r"^[ \t]*" + fence + r"[ \t]*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        blocks.append((lang, "\n".join(body), start))
        i += 1
    return blocks


def without_fences(text):
    """The text outside ``` fences."""
    out, fence = [], None
    for line in text.split("\n"):
        m = re.match(r"^[ \t]*(`{3,})", line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and re.match(r"^[ \t]*" + fence + r"[ \t]*$", line):
            fence = None
        elif fence is None:
            out.append(line)
    return "\n".join(out)


def shell_lines(text):
    """[(line, where)] of the commands in a document's shell examples: every logical line of a
    sh/bash/console fence (a leading `$ ` removed), the `$ ` lines of an unlabelled fence, and
    inline code spans that start with one of our programs."""
    out = []
    for lang, body, start in fenced_blocks(text):
        if lang not in SHELL_LANGS and lang != "":
            continue
        logical, first = "", start
        for n, raw in enumerate(body.split("\n"), start):
            if not logical:
                first = n
            if raw.rstrip().endswith("\\"):
                logical += raw.rstrip()[:-1] + " "
                continue
            logical += raw
            line, logical = logical.strip(), ""
            prompt = line.startswith("$ ")
            if prompt:
                line = line[2:]
            if lang == "" and not prompt:
                continue  # an unlabelled block shows output; only `$ ` lines are commands
            out.append((line, f"line {first}"))
    # An inline span is a command when it gives the program arguments; a bare name
    # (`claude-bridgectl`, `claude-bridgectl approve`) is a mention and only has to exist.
    for m in re.finditer(r"`([^`\n]+)`", without_fences(text)):
        span = m.group(1).strip()
        first = span.split(" ", 1)[0]
        if (first in PROGRAMS or first in SCRIPTS) and " " in span:
            out.append((span, "inline `" + span + "`"))
    return out


def tokens(line):
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        return list(lex)
    except ValueError:  # unbalanced quotes: not a command line
        return []


def invocations(line):
    """[(program or script, [args])] for each command of a shell line that runs one of ours."""
    out, segment = [], []
    toks = tokens(line)
    for tok in toks + [";"]:
        if tok in SEPARATORS:
            if segment:
                out.extend(_invocation(segment))
            segment = []
        else:
            segment.append(tok)
    return out


def _invocation(segment):
    args, skip = [], False
    for tok in segment:
        if skip:
            skip = False
            continue
        if tok in REDIRECTS or re.fullmatch(r"\d?[<>]{1,2}&?\d?", tok):
            skip = not tok.endswith(("&1", "&2"))
            continue
        args.append(tok)
    for i, tok in enumerate(args):
        name = os.path.basename(tok)
        if name in PROGRAMS and (i == 0 or args[i - 1] == "--" or "/" in tok or
                                 args[i - 1] in ("exec", "sudo", "env", "command", "which",
                                                 "type", "man") or "=" in args[i - 1]):
            if i > 0 and args[i - 1] in ("which", "type", "man"):
                return []  # names the program, does not run it
            return [(name, args[i + 1:])]
        if tok in SCRIPTS or tok.lstrip("./") in SCRIPTS:
            return [(tok.lstrip("./") if tok.lstrip("./") in SCRIPTS else tok, args[i + 1:])]
    return []


# ---- What the programs accept ---------------------------------------------------------------

def isolated_env(root):
    env = dict(os.environ)
    for k in ("CLAUDE_BRIDGE_SOCKET_DIR", "CLAUDE_BRIDGE_STATE_DIR", "CLAUDE_BRIDGE_CONFIG",
              "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET"):
        env.pop(k, None)
    env.update(HOME=root, XDG_RUNTIME_DIR=root, XDG_STATE_HOME=root, XDG_CONFIG_HOME=root,
               NO_COLOR="1")
    return env


_HELP_ROOT = tempfile.mkdtemp(prefix="cb-docs-help-")


@functools.lru_cache(maxsize=None)
def run_help(program, subcommand=None):
    """(exit status, text) of `PROGRAM [SUBCOMMAND] --help`, run in a temp home."""
    argv = [PROGRAMS[program]] + ([subcommand] if subcommand else []) + ["--help"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       env=isolated_env(_HELP_ROOT), cwd=_HELP_ROOT)
    return r.returncode, r.stdout + r.stderr


def help_options(text):
    """{option: takes_value} from the option lines of a --help text (CLI11's and the shim's)."""
    opts = {}
    for m in re.finditer(r"^\s{2,}(-[\w-]+(?:,-[\w-]+)*)(?: ([A-Z][^\s]*))?(?:\s{2,}|$)", text,
                         re.M):
        for name in m.group(1).split(","):
            opts[name] = m.group(2) is not None
    return opts


def required_positionals(text):
    m = re.search(r"^Positionals:\n(.*?)(?:\n\n|\Z)", text, re.M | re.S)
    if not m:
        return 0
    return sum(1 for line in m.group(1).split("\n")
               if re.match(r"^\s{2}\S", line) and "REQUIRED" in line)


def ctl_subcommands():
    rc, text = run_help("claude-bridgectl")
    assert rc == 0, text
    m = re.search(r"^Subcommands:\n(.*?)(?:\n\n|\Z)", text, re.M | re.S)
    assert m, "claude-bridgectl --help lists no subcommands:\n" + text
    return [re.match(r"^\s{2}(\S+)", line).group(1)
            for line in m.group(1).split("\n") if re.match(r"^\s{2}\S", line)]


def check_invocation(program, args, arity=True):
    """'' if PROGRAM ARGS would parse, else one line saying what is wrong. Without `arity`,
    missing positional arguments are not counted (an inline mention of a command)."""
    if program in SCRIPTS:
        path = os.path.join(SOURCE, program)
        if not os.access(path, os.X_OK):
            return f"{program} does not exist or is not executable"
        if program == "scripts/run":  # its arguments go to the daemon
            return check_invocation("claude-bridged", args)
        script = read(program)
        for a in args:
            if a == "--":
                break
            if a.startswith("-") and a.split("=")[0] not in script:
                return f"{program} has no option {a}"
        return ""
    rc, text = run_help(program)
    if rc != 0:
        return f"{program} --help exited {rc}"
    global_opts = help_options(text)
    sub, sub_opts, positionals, needed, i = None, {}, 0, 0, 0
    subcommands = ctl_subcommands() if program == "claude-bridgectl" else []
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        if a.startswith("-") and a != "-":
            name = a.split("=", 1)[0]
            known = {**global_opts, **sub_opts}
            if name not in known:
                where = f"{program} {sub}" if sub else program
                return f"{where} has no option {name}"
            if known[name] and "=" not in a:
                i += 1  # its value
        elif subcommands and sub is None:
            if re.fullmatch(r"[A-Z][A-Z_]*", a):  # a placeholder: `claude-bridgectl COMMAND --help`
                sub = a
                i += 1
                continue
            if a not in subcommands:
                return f"{program} has no subcommand {a!r} (it has: {', '.join(subcommands)})"
            sub = a
            rc, sub_text = run_help(program, sub)
            if rc != 0:
                return f"{program} {sub} --help exited {rc}: {sub_text.strip()[:200]}"
            sub_opts = help_options(sub_text)
            needed = required_positionals(sub_text)
        else:
            positionals += 1
        i += 1
    if subcommands and sub is None and not any(a in ("--help", "-h", "--version") for a in args):
        return f"{program} without a subcommand"
    if arity and sub and not any(a in ("--help", "-h") for a in args) and positionals < needed:
        return f"{program} {sub} needs {needed} argument(s), the example gives {positionals}"
    return ""


def check_document(rel):
    problems, count = [], 0
    for line, where in shell_lines(read(rel)):
        for program, args in invocations(line):
            count += 1
            problem = check_invocation(program, args, arity=not where.startswith("inline"))
            if problem:
                problems.append(f"{rel} {where}: `{line}`: {problem}")
    return problems, count


# ---- TOML -------------------------------------------------------------------------------------

def check_toml(text, root):
    """(exit status, output) of the daemon's --check-config on TOML text. Directory paths in
    [yolo] workspaces are examples; they are replaced by an existing directory."""
    workspace = os.path.join(root, "workspace")
    os.makedirs(workspace, exist_ok=True)
    text = re.sub(r"^(\s*workspaces\s*=\s*)\[[^\]]*\]", lambda m: m.group(1) + json.dumps(
        [workspace]), text, flags=re.M)
    path = os.path.join(root, "config.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)  # whatever the umask: a file others can write is refused
    r = subprocess.run([PROGRAMS["claude-bridged"], "--config", path, "--check-config",
                        "--socket-dir", os.path.join(root, "s"),
                        "--state-dir", os.path.join(root, "st")],
                       capture_output=True, text=True, timeout=30, env=isolated_env(root))
    return r.returncode, (r.stdout + r.stderr).strip()


def toml_blocks(rel):
    return [(body, start) for lang, body, start in fenced_blocks(read(rel)) if lang == "toml"]


def loader_keys():
    """{section: {key}} as daemon/config.cpp's loader knows them (its `r.only` lists)."""
    src = read("daemon/config.cpp")
    keys = {}
    for m in re.finditer(r'r\.only\(\s*\*?\w+,\s*"([\w.]*)",\s*\{([^}]*)\}', src):
        keys.setdefault(m.group(1), set()).update(re.findall(r'"(\w+)"', m.group(2)))
    return keys


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="cb-docs-")
        os.chmod(self.root, 0o700)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)


class Commands(TempDirTest):
    def test_the_checker_catches_what_does_not_exist(self):
        for line in ("claude-bridgectl frobnicate", "claude-bridgectl list --frobnicate",
                     "claude-bridgectl show", "claude-bridged --frobnicate",
                     "claude-bridge-shim --frobnicate", "scripts/test --frobnicate",
                     "claude mcp add --scope user bridge -- claude-bridge-shim --frobnicate",
                     "printf x | claude-bridgectl redact --frobnicate > out"):
            inv = invocations(line)
            self.assertEqual(len(inv), 1, line)
            self.assertNotEqual(check_invocation(*inv[0]), "", line)
        for line in ("claude-bridgectl --json show conv_0123456789abcdef --full",
                     "claude-bridgectl export CONV --format markdown -o t.md --force",
                     "claude-bridged --config c.toml --check-config",
                     "claude-bridge-shim --no-autostart < /dev/null",
                     "claude-bridgectl redact --explain < some.log"):
            inv = invocations(line)
            self.assertEqual(len(inv), 1, line)
            self.assertEqual(check_invocation(*inv[0]), "", line)

    def test_readme_commands_parse(self):
        problems, count = check_document("README.md")
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertGreater(count, 20, "README.md should show our commands")

    def test_cli_reference_commands_parse(self):
        problems, count = check_document("docs/cli.md")
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertGreater(count, 10)

    def test_other_documents_commands_parse(self):
        problems = []
        for rel in ("docs/install.md", "CONTRIBUTING.md", "SECURITY.md", "YOLO_MODE.md",
                    "docs/redaction.md", "docs/interop.md", "docs/protocol.md"):
            if os.path.exists(os.path.join(SOURCE, rel)):
                problems += check_document(rel)[0]
        self.assertEqual(problems, [], "\n".join(problems))

    def test_cli_reference_headings_name_real_options(self):
        problems = []
        for m in re.finditer(r"^###\s+`([\w-]+)([^`]*)`", read("docs/cli.md"), re.M):
            sub, rest = m.group(1), m.group(2)
            if sub not in ctl_subcommands():
                problems.append(f"docs/cli.md heading names no subcommand: {sub}")
                continue
            opts = help_options(run_help("claude-bridgectl", sub)[1])
            for opt in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", rest):
                if opt not in opts:
                    problems.append(f"docs/cli.md heading `{sub}{rest}`: no option {opt}")
        self.assertEqual(problems, [], "\n".join(problems))

    def test_every_program_and_subcommand_has_help(self):
        for program in PROGRAMS:
            rc, text = run_help(program)
            self.assertEqual(rc, 0, f"{program} --help: {text}")
        for sub in ctl_subcommands():
            rc, text = run_help("claude-bridgectl", sub)
            self.assertEqual(rc, 0, f"claude-bridgectl {sub} --help: {text}")

    def test_every_subcommand_is_completed_and_documented(self):
        completion = read("ctl/completion/claude-bridgectl.bash")
        m = re.search(r'^\s*local commands="([^"]*)"', completion, re.M)
        self.assertIsNotNone(m, "the completion has no commands list")
        completed = m.group(1).split()
        cli_md, readme = read("docs/cli.md"), read("README.md")
        subs = ctl_subcommands()
        for sub in subs:
            self.assertIn(sub, completed, f"completion lacks {sub}")
            self.assertRegex(cli_md, r"(?m)^###\s+`" + re.escape(sub) + r"[ `]",
                             f"docs/cli.md has no section for {sub}")
            self.assertRegex(readme, r"claude-bridgectl " + re.escape(sub) + r"\b",
                             f"README.md never shows claude-bridgectl {sub}")
        self.assertEqual(sorted(set(completed) - set(subs)), [], "completed but not a command")
        # Per-command options offered by the completion exist.
        for cmd, opts in re.findall(r"^\s+([\w|\s-]+)\)\s+opts\+=\"([^\"]*)\"", completion, re.M):
            for c in cmd.split("|"):
                accepted = help_options(run_help("claude-bridgectl", c.strip())[1])
                for opt in opts.split():
                    self.assertIn(opt, accepted, f"completion offers {opt} for {c.strip()}")


class Toml(TempDirTest):
    def test_the_checker_refuses_a_bad_file(self):
        rc, out = check_toml("[conversation]\nttl_minutes = 5\n", self.root)
        self.assertEqual(rc, 78, out)
        self.assertIn("unknown key", out)
        rc, out = check_toml("[[redaction.rules]]\nname = \"x\"\npattern = '('\n"
                             "placeholder = \"X\"\n", self.root)
        self.assertEqual(rc, 78, out)
        rc, out = check_toml("[yolo]\nenabled = true\n", self.root)
        self.assertEqual(rc, 78, out)

    def test_check_config_prints_one_line(self):
        rc, out = check_toml("", self.root)
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertIn("configuration OK", out)
        missing = os.path.join(self.root, "nope.toml")
        r = subprocess.run([PROGRAMS["claude-bridged"], "--config", missing, "--check-config"],
                           capture_output=True, text=True, timeout=30,
                           env=isolated_env(self.root))
        self.assertEqual(r.returncode, 78, r.stderr)

    def test_toml_examples_load(self):
        docs = ["README.md", "YOLO_MODE.md"] + sorted(
            os.path.join("docs", f) for f in os.listdir(os.path.join(SOURCE, "docs"))
            if f.endswith(".md"))
        seen = 0
        for rel in docs:
            for body, start in toml_blocks(rel):
                seen += 1
                with self.subTest(doc=rel, line=start):
                    rc, out = check_toml(body, self.root)
                    self.assertEqual(rc, 0, f"{rel} line {start}: {out}")
        self.assertGreaterEqual(seen, 2)

    def test_readme_shows_every_key(self):
        shown = {}
        for body, _ in toml_blocks("README.md"):
            for section, table in tomllib.loads(body).items():
                if section == "redaction":  # [[redaction.rules]] tables
                    for rule in table.get("rules", []):
                        shown.setdefault("redaction.rules", set()).update(rule)
                    shown.setdefault("redaction", set()).update(table)
                elif isinstance(table, dict):
                    shown.setdefault(section, set()).update(table)
        missing = []
        for section, keys in loader_keys().items():
            if section == "":
                missing += [f"[{k}]" for k in keys - set(shown)]
                continue
            missing += [f"{section}.{k}" for k in keys - shown.get(section, set())]
        self.assertEqual(sorted(missing), [], "README.md's TOML does not show these keys")


class Paths(TempDirTest):
    def test_socket_dir_fallback_is_documented(self):
        """Without XDG_RUNTIME_DIR the socket directory falls back as README's "Paths:" says,
        and README says what happens when another user created that directory first."""
        readme = read("README.md")
        paths = readme[readme.index("Paths: every program"):]
        paths = paths[:paths.index("```")]
        for text in ("/run/user/UID/claude-bridge", "$TMPDIR/claude-bridge-UID",
                     "/tmp/claude-bridge-UID", "Another user can", "refuses to start"):
            self.assertIn(text, paths)
        env = isolated_env(self.root)
        del env["XDG_RUNTIME_DIR"]
        env["TMPDIR"] = self.root
        if os.path.isdir("/run/user/%d" % os.geteuid()):
            self.skipTest("/run/user/UID exists here: the $TMPDIR fallback is not reached")
        r = subprocess.run([PROGRAMS["claude-bridgectl"], "doctor"], capture_output=True,
                           text=True, timeout=60, env=env)
        self.assertIn(os.path.join(self.root, "claude-bridge-%d" % os.geteuid()),
                      r.stdout + r.stderr)


class Repository(unittest.TestCase):
    def test_meson_dependencies_are_pinned(self):
        src = read("meson.build")
        # threads has no version; Debian 12's re2.pc says Version: 0.0.0 (README says so).
        unversioned = {"threads", "re2"}
        for m in re.finditer(r"dependency\('([^']+)'([^)]*)\)", src):
            name, rest = m.group(1), m.group(2)
            if name in unversioned:
                continue
            self.assertIn("version:", rest, f"dependency('{name}') has no version constraint")
        self.assertRegex(src, r"ASIO_VERSION", "the Asio version is not checked")

    def test_readme_dependency_table_lists_every_package(self):
        deps = read("scripts/deps.sh")
        m = re.search(r"CB_DEB_PACKAGES=\(([^)]*)\)", deps, re.S)
        self.assertIsNotNone(m)
        packages = m.group(1).split()
        readme = read("README.md")
        section = readme[readme.index("## Dependencies"):]
        for p in packages:
            self.assertIn(f"`{p}`", section, f"README's dependency table lacks {p}")
        self.assertTrue(os.path.exists(os.path.join(SOURCE, "tests/interop/package-lock.json")))


def _parse_time(iso):
    import datetime
    return int(datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


class Daemon(unittest.TestCase):
    """Against a real daemon in temp dirs: the tool table and the worked example."""

    def setUp(self):
        import harness
        self.harness = harness
        self.daemon = harness.Daemon()

    def tearDown(self):
        self.daemon.close()

    @staticmethod
    def served_tools(daemon):
        c = daemon.connect()
        try:
            c.initialize()
            return {t["name"] for t in c.request("tools/list")["result"]["tools"]}
        finally:
            c.close()

    def test_tool_table_matches_tools_list(self):
        served = self.served_tools(self.daemon)
        # The command-execution tools are listed only with [yolo] enabled = true.
        ws = tempfile.mkdtemp(prefix="cb-docs-ws-")
        yolo = self.harness.Daemon(config="[yolo]\nenabled = true\nworkspaces = %s\n"
                                   % json.dumps([ws]))
        try:
            served_with_yolo = self.served_tools(yolo)
        finally:
            yolo.close()
            shutil.rmtree(ws, ignore_errors=True)
        self.assertLess(served, served_with_yolo)
        readme = read("README.md")
        section = readme[readme.index("## Tools"):]
        section = section[:section.index("\n## ", 1)]
        listed = set(re.findall(r"^\|\s*`(\w+)`\s*\|", section, re.M))
        self.assertEqual(sorted(listed), sorted(served_with_yolo))

    def test_json_examples(self):
        """README's JSON blocks parse; the .mcp.json snippet runs the shim; each tool call
        example names a served tool and only arguments its input schema has."""
        c = self.daemon.connect()
        try:
            c.initialize()
            tools = {t["name"]: t for t in c.request("tools/list")["result"]["tools"]}
        finally:
            c.close()
        calls = 0
        for lang, body, start in fenced_blocks(read("README.md")):
            if lang != "json":
                continue
            doc = json.loads(body)  # fails the test when a block is not JSON
            for name, server in doc.get("mcpServers", {}).items():
                self.assertEqual(os.path.basename(server["command"]), "claude-bridge-shim",
                                 f"README line {start}: server {name}")
            if "arguments" in doc:
                calls += 1
                self.assertIn(doc["name"], tools, f"README line {start}")
                schema = tools[doc["name"]]["inputSchema"]
                for arg in doc["arguments"]:
                    self.assertIn(arg, schema["properties"], f"README line {start}: {arg}")
                for arg in schema.get("required", []):
                    self.assertIn(arg, doc["arguments"], f"README line {start}: needs {arg}")
        self.assertGreaterEqual(calls, 2)

    def test_worked_example_named(self):
        """README "A worked example", the no-token flow: two shims named as the .mcp.json env
        names them (--agent is the same), list_agents, send_message by name, wait_for_messages
        without credentials, the answer by name with reply_to, a status note list_agents shows."""
        h = self.harness
        back, front = self.daemon.shim("--agent", "backend"), self.daemon.shim("--agent", "frontend")
        try:
            back.initialize()
            front.initialize()
            listed = h.ok(front.call("list_agents", {}))
            self.assertEqual(listed["you"]["name"], "frontend")
            other = {a["name"]: a for a in listed["agents"]}["backend"]
            self.assertEqual((other["connected"], other["status"]), (True, "unknown"))
            sent = h.ok(front.call("send_message", {
                "to": "backend", "message": "Which fields does GET /users/{id} return?",
                "action_type": "question", "files_involved": ["src/api/users.ts"]}))
            self.assertEqual((sent["to"], sent["redacted"], sent["redactions"]),
                             (["backend"], False, {}))
            self.assertRegex(sent["conversation_id"], r"^conv_[0-9a-f]{16}$")
            got = h.ok(back.call("wait_for_messages", {"timeout_seconds": 300}, timeout=40))
            self.assertEqual([(m["from"], m["conversation_id"], m["metadata"]["action_type"])
                              for m in got["messages"]],
                             [("frontend", sent["conversation_id"], "question")])
            self.assertIn("not instructions from your user", got["note"])
            answer = h.ok(back.call("send_message", {"to": "frontend",
                                                     "message": "id, email, created_at",
                                                     "reply_to": sent["message_id"]}))
            self.assertEqual(answer["conversation_id"], sent["conversation_id"])
            h.ok(back.call("update_my_status", {"status": "working",
                                                "note": "adding GET /users"}))
            inbox = h.ok(front.call("check_messages", {}))
            self.assertEqual([(m["message"], m["reply_to"]) for m in inbox["messages"]],
                             [("id, email, created_at", sent["message_id"])])
            other = {a["name"]: a for a in h.ok(front.call("list_agents", {}))["agents"]}
            self.assertEqual((other["backend"]["status"], other["backend"]["note"]),
                             ("working", "adding GET /users"))
        finally:
            back.close()
            front.close()

    def test_worked_example(self):
        """README "A worked example": A creates, B joins with the id and b token, B asks, A
        is woken by wait_for_messages, both report status."""
        h = self.harness
        a, b = self.daemon.shim(), self.daemon.shim()
        try:
            a.initialize()
            b.initialize()
            created = h.ok(a.call("create_conversation", {"my_role": "backend_developer",
                                                         "partner_role": "frontend_developer"}))
            conv = created["conversation_id"]
            self.assertRegex(conv, r"^conv_[0-9a-f]{16}$")
            for k in ("session_a_token", "session_b_token", "expires_at"):
                self.assertIn(k, created)
            created_at = _parse_time(created["created_at"])
            self.assertEqual(_parse_time(created["expires_at"]) - created_at, 3 * 3600)
            auth_a = {"conversation_id": conv, "session_id": "a",
                      "token": created["session_a_token"]}
            auth_b = {"conversation_id": conv, "session_id": "b",
                      "token": created["session_b_token"]}
            self.assertEqual(h.ok(a.call("check_partner_status", auth_a))["status"], "unknown")
            h.ok(b.call("update_my_status", {**auth_b, "status": "working"}))
            sent = h.ok(b.call("send_to_partner", {
                **auth_b, "message": "Which fields does GET /users/{id} return?",
                "action_type": "question", "files_involved": ["src/api/users.ts"]}))
            self.assertEqual(sent["status"], "sent")
            self.assertEqual((sent["redacted"], sent["redactions"]), (False, {}))
            self.assertIn("message_id", sent)
            got = h.ok(a.call("wait_for_messages", {**auth_a, "timeout_seconds": 30},
                              timeout=40))
            self.assertEqual(len(got["messages"]), 1)
            msg = got["messages"][0]
            self.assertEqual(msg["from"], "b")
            self.assertEqual(msg["metadata"]["action_type"], "question")
            h.ok(a.call("send_to_partner", {**auth_a, "message": "id, email, created_at",
                                            "action_type": "info"}))
            h.ok(a.call("update_my_status", {**auth_a, "status": "waiting"}))
            partner = h.ok(b.call("check_partner_status", auth_b))
            self.assertEqual(partner["status"], "waiting")
            self.assertTrue(partner["alive"])
            self.assertTrue(partner["connected"])
            inbox = h.ok(b.call("check_messages", auth_b))
            self.assertEqual([m["message"] for m in inbox["messages"]], ["id, email, created_at"])
            # A wrong token is refused with the text README's troubleshooting quotes.
            bad = b.call("send_to_partner", {**auth_b, "token": h.make_token_like("x"),
                                             "message": "hi"})
            self.assertIn("Invalid session token", h.err_text(bad))
            # ... and the troubleshooting command shows the refusal.
            audit = self.daemon.ctl("audit", conv, "10", check=True).stdout
            self.assertIn("bad_token", audit)
        finally:
            a.close()
            b.close()

    def test_troubleshooting_commands(self):
        """The README's diagnoses: approvals/deny as docs/cli.md shows them, the shim's
        --no-autostart one-liner and claude-bridgectl's exit 69 without a daemon, the ping
        example of the shim's man page."""
        d = self.daemon
        r = d.ctl("approvals")
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, "No commands are waiting for approval."))
        r = d.ctl("deny", "apr_00000000")
        self.assertEqual(r.returncode, 1, r.stderr)
        ping = subprocess.run([PROGRAMS["claude-bridge-shim"], "--socket-dir", d.socket_dir,
                               "--no-autostart"],
                              input='{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
                              capture_output=True, text=True, timeout=30, env=d.env)
        self.assertEqual(json.loads(ping.stdout), {"id": 1, "jsonrpc": "2.0", "result": {}})
        d.stop()
        r = d.ctl("list")
        self.assertEqual(r.returncode, 69, r.stderr)
        shim = subprocess.run([PROGRAMS["claude-bridge-shim"], "--socket-dir", d.socket_dir,
                               "--no-autostart"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30, env=d.env)
        self.assertNotEqual(shim.returncode, 0)
        self.assertEqual(shim.stdout, "")
        self.assertEqual(len(shim.stderr.strip().splitlines()), 1, shim.stderr)
        self.assertIn("claude-bridged --socket-dir", shim.stderr)


class ManPages(unittest.TestCase):
    def introspect(self, what):
        return meson_introspect(self, what)

    def test_installed_under_man1(self):
        if not shutil.which("meson"):
            self.skipTest("meson is not on PATH")
        targets = {t["name"] for t in self.introspect("--targets")}
        pages = [p + ".1" for p in PROGRAMS]
        if not all(p in targets for p in pages):
            if shutil.which("help2man"):
                self.skipTest("help2man was installed after this build was configured: "
                              "meson setup --reconfigure " + BUILD)
            self.skipTest("help2man not found when configured: no man pages (apt-get install "
                          "help2man)")
        options = {o["name"]: o["value"] for o in self.introspect("--buildoptions")}
        man1 = os.path.join(options["prefix"], options["mandir"], "man1")
        self.assertTrue(man1.endswith("share/man/man1"), man1)
        planned = set(self.introspect("--installed").values())
        for p in pages:
            self.assertIn(os.path.join(man1, p), planned)
        unbuilt = [src for src in self.introspect("--installed") if not os.path.exists(src)]
        if unbuilt:
            self.skipTest("install plan checked; not installing, these are not built: " +
                          ", ".join(os.path.relpath(u, BUILD) for u in unbuilt))
        dest = tempfile.mkdtemp(prefix="cb-docs-install-")
        try:
            r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir",
                                dest, "--quiet"], capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            for p in pages:
                path = os.path.join(dest, os.path.relpath(os.path.join(man1, p), "/"))
                self.assertTrue(os.path.isfile(path), path)
                with open(path, encoding="utf-8") as f:
                    page = f.read()
                for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES",
                                "ENVIRONMENT", "EXAMPLES", "SEE ALSO"):
                    self.assertRegex(page, r'(?m)^\.SH "?' + section + r'"?$', f"{p}: {section}")
                self.assertIn("--help", page.replace("\\-", "-"))
                if shutil.which("groff"):
                    g = subprocess.run(["groff", "-k", "-man", "-Tutf8", "-ww", "-z", path],
                                       capture_output=True, text=True, timeout=60)
                    self.assertEqual(g.stderr.strip(), "", f"{p}: groff warnings")
        finally:
            shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(_HELP_ROOT, ignore_errors=True)
