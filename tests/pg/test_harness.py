"""Self-test of the throw-away PostgreSQL cluster (meson test pg-harness). Runs under
tests/pg/with-pg, so it checks what every other PostgreSQL test relies on: the exported
environment, TLS with verify-full against the test CA, scram-sha-256 through the generated
password file, stopping and starting the server mid-run on the same port, and the wrapper's
exit codes and clean-up."""
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
WITH_PG = os.path.join(HERE, "with-pg")


def env(name):
    value = os.environ.get(name)
    if not value:
        raise unittest.SkipTest("%s is not set: run under tests/pg/with-pg" % name)
    return value


def psql(conninfo, sql, extra_env=None):
    e = dict(os.environ)
    e.update(extra_env or {})
    return subprocess.run([os.path.join(env("CB_TEST_PG_BIN"), "psql"), "-X", "-A", "-t",
                           "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, env=e,
                          timeout=120)


def ctl(*args):
    r = subprocess.run(shlex.split(env("CB_TEST_PG_CTL")) + list(args), capture_output=True,
                       text=True, timeout=300)
    return r


class Cluster(unittest.TestCase):
    def ok(self, conninfo, sql, **kw):
        r = psql(conninfo, sql, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def test_environment(self):
        self.assertIn("sslmode=disable", env("CB_TEST_PG_URL"))
        self.assertNotIn("password", env("CB_TEST_PG_URL"))
        self.assertIn("sslmode=verify-full", env("CB_TEST_PG_TLS_URL"))
        self.assertNotIn("password", env("CB_TEST_PG_TLS_URL"))
        st = os.stat(env("PGPASSFILE"))
        self.assertEqual(st.st_mode & 0o777, 0o600)

    def test_tls_verify_full_by_address_and_by_name(self):
        self.assertEqual(self.ok(env("CB_TEST_PG_TLS_URL"),
                                 "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t")
        by_name = "host=localhost port=%s dbname=bridge user=team_a sslmode=verify-full " \
                  "sslrootcert=%s" % (env("CB_TEST_PG_PORT"), env("CB_TEST_PG_SSLROOTCERT"))
        self.assertEqual(self.ok(by_name, "SELECT current_user"), "team_a")
        # Without TLS the plain URL still works (scram over TCP).
        self.assertEqual(self.ok(env("CB_TEST_PG_URL"),
                                 "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "f")

    def test_verify_full_refuses_another_ca(self):
        with tempfile.TemporaryDirectory() as d:
            other = os.path.join(d, "other.crt")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                            os.path.join(d, "k"), "-out", other, "-days", "1", "-subj",
                            "/CN=another CA"], check=True, capture_output=True)
            url = env("CB_TEST_PG_TLS_URL").replace(env("CB_TEST_PG_SSLROOTCERT"), other)
            r = psql(url, "SELECT 1")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("certificate verify failed", r.stderr)

    def test_password_is_required(self):
        r = psql(env("CB_TEST_PG_URL"), "SELECT 1", {"PGPASSFILE": os.devnull})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password", r.stderr)

    def test_server_user_and_address(self):
        self.assertEqual(self.ok(env("CB_TEST_PG_URL"), "SHOW listen_addresses"), "127.0.0.1")
        self.assertEqual(self.ok(env("CB_TEST_PG_URL"), "SHOW password_encryption"),
                         "scram-sha-256")
        with open(os.path.join(env("CB_TEST_PG_DATA"), "postmaster.pid")) as f:
            pid = int(f.readline())
        with open("/proc/%d/status" % pid) as f:
            uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        if os.geteuid() == 0:
            import pwd
            self.assertEqual(uid, pwd.getpwnam("postgres").pw_uid)
            self.assertEqual(env("CB_TEST_PG_RUNAS"), "runuser -u postgres --")
        else:
            self.assertEqual(uid, os.geteuid())

    def test_stop_and_start_mid_run(self):
        url = env("CB_TEST_PG_TLS_URL")
        self.ok(url, "CREATE TABLE IF NOT EXISTS harness (v int); INSERT INTO harness VALUES (1)")
        r = ctl("stop", "fast")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ctl("status").returncode, 3)
        down = psql(url, "SELECT 1")
        self.assertNotEqual(down.returncode, 0)
        self.assertEqual(ctl("start").returncode, 0)
        self.ok(url, "INSERT INTO harness VALUES (2)")
        # Immediate: no shutdown checkpoint; committed rows survive the recovery.
        r = ctl("stop", "immediate")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ctl("start").returncode, 0)
        self.assertEqual(ctl("status").returncode, 0)
        self.assertEqual(self.ok(url, "SELECT string_agg(v::text, ',' ORDER BY v) FROM harness"),
                         "1,2")


class Wrapper(unittest.TestCase):
    """with-pg itself, each case with a cluster of its own."""

    def test_exit_code_and_cleanup(self):
        r = subprocess.run([WITH_PG, sys.executable, "-c",
                            "import os, sys; print(os.environ['CB_TEST_PG_DIR']); sys.exit(5)"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertFalse(os.path.exists(r.stdout.strip()))

    def test_signal_stops_the_cluster(self):
        with tempfile.TemporaryDirectory() as d:
            marker = os.path.join(d, "dir")
            p = subprocess.Popen([WITH_PG, "sh", "-c",
                                  'echo "$CB_TEST_PG_DIR" > %s.tmp && mv %s.tmp %s && '
                                  'exec sleep 600' % (marker, marker, marker)])
            deadline = time.time() + 300
            while not os.path.exists(marker):
                self.assertIsNone(p.poll(), "with-pg ended before running its command")
                self.assertLess(time.time(), deadline, "with-pg did not run its command")
                time.sleep(0.05)
            with open(marker) as f:
                cluster_dir = f.read().strip()
            self.assertTrue(os.path.isdir(cluster_dir))
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=300), 128 + signal.SIGTERM)
            self.assertFalse(os.path.exists(cluster_dir))

    def test_killed_wrapper_is_cleaned_up_by_its_watchdog(self):
        with tempfile.TemporaryDirectory() as d:
            marker = os.path.join(d, "dir")
            p = subprocess.Popen([WITH_PG, "sh", "-c",
                                  'echo "$CB_TEST_PG_DIR" > %s.tmp && mv %s.tmp %s && '
                                  'exec sleep 600' % (marker, marker, marker)],
                                 start_new_session=True)
            deadline = time.time() + 300
            while not os.path.exists(marker):
                self.assertIsNone(p.poll(), "with-pg ended before running its command")
                self.assertLess(time.time(), deadline, "with-pg did not run its command")
                time.sleep(0.05)
            with open(marker) as f:
                cluster_dir = f.read().strip()
            os.killpg(p.pid, signal.SIGKILL)  # with-pg and its command, as a timeout would
            p.wait(timeout=60)
            deadline = time.time() + 300
            while os.path.exists(cluster_dir):
                self.assertLess(time.time(), deadline, "the watchdog left %s" % cluster_dir)
                time.sleep(0.1)

    def test_missing_postgresql_skips(self):
        e = dict(os.environ, CB_PG_BIN="/nonexistent/postgresql/bin")
        r = subprocess.run([WITH_PG, "true"], capture_output=True, text=True, env=e, timeout=60)
        self.assertEqual(r.returncode, 77)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("apt-get install postgresql-15", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
