"""Start-up refusals of the daemon's own files: the config file (the gate a person alone opens,
so nobody else may be able to write it)."""
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
