"""bridge-bench works: a short run against a real daemon, direct and through shims.

Functional only (the figures belong to docs/benchmarks.md, never to assertions here): every
phase completes without an error, messages arrive exactly once and in order (bridge-bench
checks ids itself and exits 1 otherwise), and --json prints the documented keys.
TeamBench runs only under tests/pg/with-pg (meson test e2e-bench-team): two daemons of one team
on a throw-away PostgreSQL 15, side b of every pair on the second daemon (--socket-dir-b).
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, NO_LIMITS, SHIM, Daemon  # noqa: E402

BENCH = os.path.join(BUILD, "tests", "bench", "bridge-bench")
KEYS = ("send_p50_us", "send_p99_us", "sends_per_s", "wake_p50_us", "wake_p99_us",
        "daemon_rss_kib", "config")


class BridgeBench(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(NO_LIMITS)

    def tearDown(self):
        self.d.close()

    def run_bench(self, *args):
        r = subprocess.run([BENCH, "--socket-dir", self.d.socket_dir, "--json", *map(str, args)],
                           env=self.d.env, capture_output=True, text=True, timeout=240)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_direct_send_and_wake_with_idle_waiters(self):
        out = self.run_bench("--sessions", 4, "--messages", 30, "--warmup", 2,
                             "--idle-waiters", 6)
        for key in KEYS:
            self.assertIn(key, out)
        self.assertEqual(out["sends"], 4 * 30)
        self.assertEqual(out["send_phase_received"], 4 * 32)  # warm-up sends arrive too
        self.assertEqual(out["wakes"], 2 * 30)
        self.assertEqual(out["connections"], 4 + 6)
        self.assertFalse(out["config"]["via_shim"])
        # Private pages are part of the proportional share, which is part of the resident set.
        self.assertGreater(out["daemon_private_start_kib"], 0)
        self.assertLessEqual(out["daemon_private_start_kib"], out["daemon_pss_start_kib"])
        self.assertLessEqual(out["daemon_pss_start_kib"], out["daemon_rss_start_kib"])
        self.assertGreater(out["daemon_anon_start_kib"], 0)
        self.assertLessEqual(out["daemon_anon_start_kib"], out["daemon_rss_start_kib"])

    def test_through_shims_and_shim_start(self):
        out = self.run_bench("--sessions", 2, "--messages", 20, "--warmup", 1,
                             "--via-shim", SHIM, "--shim-start", 3)
        self.assertTrue(out["config"]["via_shim"])
        self.assertEqual(out["wakes"], 20)
        self.assertGreater(out["shim_rss_kib"], 0)
        self.assertGreater(out["connected_shim_rss_kib"], 0)

    def test_refuses_bad_usage_with_one_line(self):
        r = subprocess.run([BENCH, "--socket-dir", self.d.socket_dir, "--sessions", "3"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--sessions must be even", r.stderr)

    def test_socket_dir_b_refuses_the_same_daemon(self):
        r = subprocess.run([BENCH, "--socket-dir", self.d.socket_dir, "--socket-dir-b",
                            self.d.socket_dir, "--sessions", "2", "--messages", "1"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("reach one daemon", r.stderr)


PG_URL = os.environ.get("CB_TEST_PG_URL")


@unittest.skipUnless(PG_URL and os.environ.get("PGPASSFILE"),
                     "needs tests/pg/with-pg (CB_TEST_PG_URL, PGPASSFILE)")
class TeamBench(unittest.TestCase):
    """bridge-bench across two daemons of a team (issue 27): every message crosses daemons."""
    schemas = 0

    def setUp(self):
        TeamBench.schemas += 1
        schema = "bench_%d_%d" % (os.getpid(), TeamBench.schemas)
        self.daemons = []
        for host in ("machine-1", "machine-2"):
            cfg = ("[store]\nbackend = \"postgresql\"\nurl = %s\nschema = %s\nhost = %s\n%s"
                   % (json.dumps(PG_URL), json.dumps(schema), json.dumps(host), NO_LIMITS))
            d = Daemon(cfg, start=False)
            self.daemons.append(d)
        a, b = self.daemons
        a.start()
        os.makedirs(b.state_dir, mode=0o700, exist_ok=True)
        shutil.copy2(os.path.join(a.state_dir, "server.key"), os.path.join(b.state_dir, "server.key"))
        b.start()

    def tearDown(self):
        for d in self.daemons:
            d.close()

    def run_bench(self, *args):
        a, b = self.daemons
        r = subprocess.run([BENCH, "--socket-dir", a.socket_dir, "--socket-dir-b", b.socket_dir,
                            "--json", *map(str, args)],
                           env=a.env, capture_output=True, text=True, timeout=240)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def check(self, out, sessions, messages, warmup):
        self.assertTrue(out["config"]["two_daemons"])
        self.assertNotEqual(out["daemon_pid"], out["daemon_b_pid"])
        self.assertEqual(out["sends"], sessions * messages)
        self.assertEqual(out["send_phase_received"], sessions * (messages + warmup))
        self.assertEqual(out["wakes"], sessions // 2 * messages)
        # Both daemons worked: each holds one side of every pair.
        self.assertGreater(out["daemon_cpu_s"], 0)
        self.assertGreater(out["daemon_b_cpu_s"], 0)

    def test_named_agents_across_daemons(self):
        out = self.run_bench("--agents", "--sessions", 4, "--messages", 20, "--warmup", 2)
        self.check(out, 4, 20, 2)

    def test_token_conversations_across_daemons(self):
        # create_conversation on the first daemon; side b calls the second with its token.
        out = self.run_bench("--sessions", 2, "--messages", 20, "--warmup", 2)
        self.check(out, 2, 20, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
