"""Start-up refusals of the daemon's own files: the config file (the gate a person alone opens,
so nobody else may be able to write it), the state directory (its errors point at --state-dir),
and the socket directory's last fallback, $TMPDIR/claude-bridge-UID, which another user could
create first."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import DAEMON, Daemon  # noqa: E402

CONFIG_EXIT = 78
YOLO = "[yolo]\nenabled = true\nworkspaces = [\"/tmp\"]\n"


class Refusals(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(start=False)
        self.addCleanup(self.d.close)

    def run_daemon(self, *extra, args=None):
        r = subprocess.run([DAEMON, *(self.d.args() if args is None else args), *extra],
                           env=self.d.env, capture_output=True, text=True, timeout=30)
        return r.returncode, r.stderr.strip()

    def assert_refused(self, *needles, args=None):
        for extra in ((), ("--check-config",)):
            rc, err = self.run_daemon(*extra, args=args)
            self.assertEqual(rc, CONFIG_EXIT, err)
            self.assertEqual(len(err.splitlines()), 1, err)
            for n in needles:
                self.assertIn(n, err)
        self.assertFalse(os.path.exists(self.d.mcp_sock), "a refused start-up served anyway")
        return err

    def write_config(self, text, mode=0o600):
        with open(self.d.config_path, "w") as f:
            f.write(text)
        os.chmod(self.d.config_path, mode)

    def test_config_file_others_can_write(self):
        for mode in (0o666, 0o664, 0o646):
            with self.subTest(mode=oct(mode)):
                self.write_config(YOLO, mode)
                self.assert_refused("config file " + self.d.config_path, "has mode",
                                    "chmod go-w " + self.d.config_path)
        self.write_config(YOLO, 0o644)
        rc, err = self.run_daemon("--check-config")
        self.assertEqual(rc, 0, err)

    def test_config_directory_others_can_write(self):
        conf_dir = os.path.join(self.d.root, "conf")
        os.makedirs(conf_dir)
        path = os.path.join(conf_dir, "config.toml")
        with open(path, "w") as f:
            f.write(YOLO)
        os.chmod(path, 0o600)
        args = ["--socket-dir", self.d.socket_dir, "--state-dir", self.d.state_dir,
                "--config", path]
        os.chmod(conf_dir, 0o777)
        self.assert_refused("config directory " + conf_dir, "chmod go-w " + conf_dir, args=args)
        # Sticky, as /tmp is: nobody else can replace or remove the file.
        os.chmod(conf_dir, 0o1777)
        rc, err = self.run_daemon("--check-config", args=args)
        self.assertEqual(rc, 0, err)

    @unittest.skipUnless(os.geteuid() == 0, "only root can give a file to another user")
    def test_config_file_of_another_user(self):
        self.write_config(YOLO, 0o644)
        os.chown(self.d.config_path, 65534, 65534)
        self.assert_refused("is owned by uid 65534", "--config")

    def test_state_directory_errors_name_the_state_directory(self):
        os.makedirs(self.d.state_dir, mode=0o700)
        os.chmod(self.d.state_dir, 0o755)
        err = self.assert_refused_start("state dir: ", "chmod 700 " + self.d.state_dir,
                                        "the database")
        self.assertNotIn("--socket-dir", err)
        self.assertNotIn("reach the bridge", err)
        if os.geteuid() == 0:
            os.chmod(self.d.state_dir, 0o700)
            os.chown(self.d.state_dir, 65534, 65534)
            err = self.assert_refused_start("is owned by uid 65534", "(--state-dir)")
            self.assertNotIn("--socket-dir", err)

    def assert_refused_start(self, *needles):
        rc, err = self.run_daemon()
        self.assertEqual(rc, CONFIG_EXIT, err)
        self.assertEqual(len(err.splitlines()), 1, err)
        for n in needles:
            self.assertIn(n, err)
        return err


@unittest.skipIf(os.path.isdir("/run/user/%d" % os.geteuid()),
                 "/run/user/UID exists here, so the daemon would not fall back to $TMPDIR")
class TmpFallback(unittest.TestCase):
    """Without XDG_RUNTIME_DIR (and no /run/user/UID), the sockets go to
    $TMPDIR/claude-bridge-UID (README "Configuration", "Paths")."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cb-e2e-tmp-")
        os.chmod(self.tmp, 0o1777)  # as /tmp
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.d = Daemon(start=False)
        self.addCleanup(self.d.close)
        self.env = dict(self.d.env, TMPDIR=self.tmp)
        self.env.pop("XDG_RUNTIME_DIR")
        self.fallback = os.path.join(self.tmp, "claude-bridge-%d" % os.geteuid())
        self.args = [DAEMON, "--state-dir", self.d.state_dir, "--config", self.d.config_path]

    def test_the_daemon_serves_there(self):
        proc = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            sock = os.path.join(self.fallback, "mcp.sock")
            deadline = time.time() + 20
            while True:
                self.assertIsNone(proc.poll(), "the daemon exited")
                try:
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(sock)
                    break
                except OSError:
                    self.assertLess(time.time(), deadline, "no socket in " + self.fallback)
                    time.sleep(0.02)
            self.assertEqual(os.stat(self.fallback).st_mode & 0o777, 0o700)
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stderr.close()

    def test_pre_created_by_someone_else_is_refused(self):
        os.mkdir(self.fallback)
        os.chmod(self.fallback, 0o777)  # what another user would leave there
        if os.geteuid() == 0:
            os.chown(self.fallback, 65534, 65534)
        r = subprocess.run(self.args, env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, CONFIG_EXIT, r.stderr)
        # The state is opened before the sockets: its log lines may come first.
        errors = [l for l in r.stderr.splitlines() if l.startswith("claude-bridged: ")]
        self.assertEqual(len(errors), 1, r.stderr)
        line = errors[0]
        self.assertIn(self.fallback, line)
        if os.geteuid() == 0:
            self.assertIn("is owned by uid 65534", line)
            self.assertIn("--socket-dir", line)
        self.assertFalse(os.path.exists(os.path.join(self.fallback, "mcp.sock")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
