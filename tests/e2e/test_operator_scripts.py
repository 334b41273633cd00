"""The operator's scripts for real, on fake installations in temp dirs (issue 22): scripts/run
prints lines for the directories it was given, scripts/uninstall removes what meson's log
lists (directories included) and purges, and the installed documents' links all resolve."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import meson_introspect  # noqa: E402

SOURCE = os.environ.get("CB_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "../..")


class Run(unittest.TestCase):
    def test_scripts_run_prints_lines_for_its_directories(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_BRIDGE_")}
        r = subprocess.run([os.path.join(SOURCE, "scripts", "run"), "--dry-run", "--socket-dir",
                            "/tmp/cb s", "--state-dir=/tmp/cb-state"], env=env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"claude mcp add --scope user bridge -- \S+claude-bridge-shim "
                                   r"--socket-dir /tmp/cb\\ s --state-dir /tmp/cb-state\n")
        self.assertRegex(r.stdout, r"claude-bridgectl --socket-dir /tmp/cb\\ s list\n")
        self.assertIn("would run: build/daemon/claude-bridged --socket-dir /tmp/cb\\ s "
                      "--state-dir /tmp/cb-state\n", r.stdout)
        # No directories given: the defaults, nothing added.
        r = subprocess.run([os.path.join(SOURCE, "scripts", "run"), "--dry-run"], env=env,
                           capture_output=True, text=True, timeout=30)
        self.assertRegex(r.stdout, r"claude mcp add --scope user bridge -- \S+claude-bridge-shim\n")


class Uninstall(unittest.TestCase):
    """scripts/uninstall for real, on a fake installation under a temp prefix."""

    def test_purge_removes_files_directories_and_state(self):
        root = tempfile.mkdtemp(prefix="cb-uninstall-")
        self.addCleanup(shutil.rmtree, root, True)
        prefix = os.path.join(root, "prefix")
        build = os.path.join(root, "build")
        state = os.path.join(root, ".local", "state", "claude-bridge")
        os.makedirs(state)
        with open(os.path.join(state, "bridge.db"), "w") as f:
            f.write("x")
        installed = [os.path.join(prefix, "bin", "claude-bridgectl"),
                     os.path.join(prefix, "share", "doc", "claude-bridge", "README.md"),
                     os.path.join(prefix, "share", "doc", "claude-bridge", "docs", "cli.md")]
        for f in installed:
            os.makedirs(os.path.dirname(f), exist_ok=True)
            with open(f, "w") as fh:
                fh.write("x")
        # As meson writes it: the files, then the directories it created, deepest first.
        created = [os.path.join(prefix, "share", "doc", "claude-bridge", "docs"),
                   os.path.join(prefix, "share", "doc", "claude-bridge"),
                   os.path.join(prefix, "share", "doc"), os.path.join(prefix, "share"),
                   os.path.join(prefix, "bin")]
        os.makedirs(os.path.join(build, "meson-logs"))
        with open(os.path.join(build, "meson-logs", "install-log.txt"), "w") as f:
            f.write("# List of files installed by Meson\n" + "\n".join(installed + created) + "\n")
        env = dict(os.environ, HOME=root, XDG_RUNTIME_DIR=root)
        for k in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "DESTDIR"):
            env.pop(k, None)
        r = subprocess.run([os.path.join(SOURCE, "scripts", "uninstall"), "--no-systemd",
                            "--purge", "--prefix", prefix, "--build-dir", build], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for f in installed + created:
            self.assertFalse(os.path.exists(f), f)
        self.assertTrue(os.path.isdir(prefix))
        self.assertFalse(os.path.exists(state))
        self.assertIn("uninstalled: 3 files and 5 empty directories removed; your data purged.",
                      r.stdout)


class InstalledDocuments(unittest.TestCase):
    def test_every_relative_link_of_an_installed_document_is_installed(self):
        plan = meson_introspect(self, "--installed")  # {source or build file: install path}
        installed = set(plan.values())
        docs = [p for p in installed if p.endswith(".md")]
        self.assertTrue(docs)
        broken = []
        for target in docs:
            source = next(s for s, t in plan.items() if t == target)
            with open(source, encoding="utf-8") as f:
                text = f.read()
            for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                if re.match(r"[a-z]+:", link):
                    continue
                resolved = os.path.normpath(os.path.join(os.path.dirname(target), link))
                if resolved not in installed:
                    broken.append("%s -> %s" % (os.path.basename(source), link))
        self.assertEqual(broken, [])

    def test_install_suggests_a_user_scope_registration(self):
        with open(os.path.join(SOURCE, "scripts", "install")) as f:
            lines = [l for l in f if "claude mcp add" in l]
        self.assertTrue(lines)
        for line in lines:
            self.assertIn("claude mcp add --scope user", line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
