"""A team across machines (issue 27), end to end: a real PostgreSQL 15 (tests/pg/with-pg's
throw-away cluster, over TLS with verify-full) and two daemons with separate socket and state
dirs standing in for two machines, sharing one server.key. Through real shims: agents on both
daemons find each other with their hosts, exchange direct and group messages, a waiter on one
daemon is woken by a send on the other, token conversations work from either daemon, `kill -9`
of a daemon loses nothing acknowledged and its agents go offline, and stopping PostgreSQL
mid-run gives clear errors, then recovery with every acknowledged message there exactly once.

Run under tests/pg/with-pg (meson test e2e-team); skipped without its environment."""
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import NO_LIMITS, SHIM, Daemon, McpClient, err_text, ok, wait_until  # noqa: E402

MARKERS = ("CLAUDECODE", "GEMINI_CLI", "CLAUDE_CODE_SESSION_ID", "CLAUDE_PROJECT_DIR",
           "CLAUDE_BRIDGE_AGENT", "CLAUDE_CODE_ENTRYPOINT")
PG_URL = os.environ.get("CB_TEST_PG_TLS_URL")
PG_CTL = os.environ.get("CB_TEST_PG_CTL")


def toml_string(s):
    return json.dumps(s)  # a TOML basic string for ASCII without control characters


def pg_ctl(*args):
    r = subprocess.run(shlex.split(PG_CTL) + list(args), capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        raise AssertionError("pg ctl %s failed: %s" % (" ".join(args), r.stderr))


@unittest.skipUnless(PG_URL and PG_CTL and os.environ.get("PGPASSFILE"),
                     "needs tests/pg/with-pg (CB_TEST_PG_TLS_URL, CB_TEST_PG_CTL, PGPASSFILE)")
class TeamTest(unittest.TestCase):
    schemas = 0

    def setUp(self):
        TeamTest.schemas += 1
        # A schema of its own per test: each test is a team of its own.
        self.schema = "team_%d_%d" % (os.getpid(), TeamTest.schemas)
        self.clients = []
        self.daemons = []
        self.root = tempfile.mkdtemp(prefix="cb-team-")
        self.project = os.path.join(self.root, "project")
        os.mkdir(self.project)
        self.d1 = self.daemon("machine-1")
        self.d2 = self.daemon("machine-2", key_from=self.d1)

    def tearDown(self):
        for c in self.clients:
            c.close()
        for d in self.daemons:
            d.close()
        shutil.rmtree(self.root, ignore_errors=True)
        # A test that stopped PostgreSQL and failed before restarting it leaves it stopped.
        if subprocess.run(shlex.split(PG_CTL) + ["status"], capture_output=True).returncode:
            pg_ctl("start")

    def config(self, host):
        return ("[store]\nbackend = \"postgresql\"\nurl = %s\nschema = %s\nhost = %s\n%s"
                % (toml_string(PG_URL), toml_string(self.schema), toml_string(host), NO_LIMITS))

    def daemon(self, host, key_from=None):
        """A daemon of the team on `host`; with key_from, started with that daemon's
        server.key copied into its state dir first (the operator's step on a second machine)."""
        d = Daemon(self.config(host), start=False)
        self.daemons.append(d)
        if key_from is not None:
            os.makedirs(d.state_dir, mode=0o700, exist_ok=True)
            shutil.copy2(os.path.join(key_from.state_dir, "server.key"),
                         os.path.join(d.state_dir, "server.key"))
        d.start()
        return d

    def agent(self, d, name):
        """An agent named `name` on daemon d, through a real shim (its hello names it)."""
        env = {k: v for k, v in d.env.items() if k not in MARKERS}
        env["CLAUDE_PROJECT_DIR"] = self.project
        proc = subprocess.Popen([SHIM, "--socket-dir", d.socket_dir, "--state-dir", d.state_dir,
                                 "--no-autostart", "--agent", name], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, bufsize=0)
        c = McpClient(proc.stdout, proc.stdin, lambda: (proc.stdin.close(), proc.wait(5)), proc)
        self.clients.append(c)
        c.initialize()
        me = ok(c.call("list_agents", {}))["you"]["name"]
        self.assertEqual(me, name)
        return c

    def token_client(self, d):
        """A client without a name, through a shim (token conversations)."""
        c = d.shim("--no-hello")
        self.clients.append(c)
        c.initialize()
        return c

    @staticmethod
    def agents(c):
        return {a["name"]: a for a in ok(c.call("list_agents", {}))["agents"]}

    @staticmethod
    def read_all(c, args=None):
        """Every unread message of c, page by page, as (sender, text) in order."""
        out = []
        while True:
            page = ok(c.call("check_messages", dict(args or {})))
            if not page["messages"]:
                return out
            out += [(m.get("from"), m["message"]) for m in page["messages"]]

    def start_wait(self, c, args, rid):
        """Sends wait_for_messages without waiting for its answer; returns its request id."""
        c.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                "params": {"name": "wait_for_messages", "arguments": args}})
        return rid


class FindAndTalk(TeamTest):
    def test_agents_on_two_daemons_find_each_other_and_talk(self):
        alice = self.agent(self.d1, "alice")
        bob = self.agent(self.d2, "bob")
        carol = self.agent(self.d2, "carol")
        for c in (alice, bob, carol):
            view = self.agents(c)
            self.assertEqual(sorted(view), ["alice", "bob", "carol"])
            self.assertEqual(view["alice"]["host"], "machine-1")
            self.assertEqual(view["bob"]["host"], "machine-2")
            self.assertEqual(view["carol"]["host"], "machine-2")
            self.assertTrue(all(a["connected"] for a in view.values()), view)

        # Direct, across daemons, and the answer back.
        sent = ok(alice.call("send_message", {"to": "bob", "message": "Which fields?",
                                              "action_type": "question"}))
        self.assertEqual(sent["to"], ["bob"])
        got = ok(bob.call("check_messages", {}))["messages"]
        self.assertEqual([(m["from"], m["message"]) for m in got], [("alice", "Which fields?")])
        ok(bob.call("send_message", {"to": sent["conversation_id"], "message": "id, total",
                                     "reply_to": got[0]["id"]}))
        back = ok(alice.call("check_messages", {}))["messages"]
        self.assertEqual([m["message"] for m in back], ["id, total"])
        self.assertEqual(back[0]["reply_to"], got[0]["id"])

        # A group across both daemons, made by names on daemon 2.
        group = ok(carol.call("send_message", {"to": ["alice", "bob"],
                                               "message": "Release at noon"}))
        self.assertEqual(group["to"], ["alice", "bob"])
        for c in (alice, bob):
            self.assertEqual(self.read_all(c), [("carol", "Release at noon")])
        self.assertEqual(self.read_all(carol), [])

    def test_a_wait_on_one_daemon_is_woken_by_a_send_on_the_other(self):
        alice = self.agent(self.d1, "alice")
        bob = self.agent(self.d2, "bob")
        # The wait's own timeout is the longest allowed: an answer carrying the message means
        # the send woke it (LISTEN/NOTIFY), not its timeout.
        rid = self.start_wait(alice, {"timeout_seconds": 600}, 7001)
        # Blocked before the send (seen by its own daemon: whether an agent waits is local).
        wait_until(lambda: self.agents(alice)["alice"]["waiting"], timeout=60,
                   what="alice's wait blocked on daemon 1")
        ok(bob.call("send_message", {"to": "alice", "message": "wake up"}))
        answer = alice.wait_for(lambda m: m.get("id") == rid, timeout=120)
        page = answer["result"]["structuredContent"]
        self.assertEqual([(m["from"], m["message"]) for m in page["messages"]],
                         [("bob", "wake up")])
        self.assertEqual(self.read_all(alice), [])

    def test_token_conversations_work_from_either_daemon(self):
        a = self.token_client(self.d1)
        b = self.token_client(self.d2)
        conv = ok(a.call("create_conversation", {"my_role": "backend_developer",
                                                 "partner_role": "frontend_developer"}))
        ca = {"conversation_id": conv["conversation_id"], "session_id": "a",
              "token": conv["session_a_token"]}
        cb = {"conversation_id": conv["conversation_id"], "session_id": "b",
              "token": conv["session_b_token"]}
        ok(a.call("send_to_partner", dict(ca, message="from machine 1")))
        got = ok(b.call("check_messages", cb))["messages"]
        self.assertEqual([m["message"] for m in got], ["from machine 1"])
        ok(b.call("send_to_partner", dict(cb, message="from machine 2")))
        # A's wait on daemon 1, woken by b's send on daemon 2.
        rid = self.start_wait(a, dict(ca, timeout_seconds=600), 7101)
        ok(b.call("send_to_partner", dict(cb, message="and again")))
        answer = a.wait_for(lambda m: m.get("id") == rid, timeout=120)
        texts = [m["message"] for m in answer["result"]["structuredContent"]["messages"]]
        texts += [m for _, m in self.read_all(a, ca)]
        self.assertEqual(texts, ["from machine 2", "and again"])
        # Daemon 2 checks tokens with the team's key: a wrong one is refused there too.
        bad = dict(cb, token=cb["token"][:-1] + ("0" if cb["token"][-1] != "0" else "1"))
        self.assertIn("token", err_text(b.call("check_messages", bad)).lower())


class Faults(TeamTest):
    def test_kill_9_of_a_daemon_loses_nothing_acknowledged_and_its_agents_go_offline(self):
        alice = self.agent(self.d1, "alice")
        bob = self.agent(self.d2, "bob")
        # Bob pipelines 60 sends; daemon 2 is killed right after the 30th acknowledgement.
        texts = ["m%02d" % i for i in range(60)]
        for i, t in enumerate(texts):
            bob.send({"jsonrpc": "2.0", "id": 8000 + i, "method": "tools/call",
                      "params": {"name": "send_message",
                                 "arguments": {"to": "alice", "message": t}}})
        acked = []
        while len(acked) < 30:
            m = bob.wait_for(lambda m: "id" in m and "method" not in m, timeout=120)
            if not m["result"].get("isError"):
                acked.append(texts[m["id"] - 8000])
        self.d2.proc.send_signal(signal.SIGKILL)
        self.d2.proc.wait(10)
        got = [t for who, t in self.read_all(alice) if who == "bob"]
        for t in acked:
            self.assertEqual(got.count(t), 1, "acknowledged %s: %s" % (t, got))
        self.assertEqual(len(got), len(set(got)), "a message twice: %s" % got)
        self.assertEqual(got, sorted(got), "out of order: %s" % got)
        # The dead daemon's agents go offline for the team (its heartbeat stops).
        wait_until(lambda: not self.agents(alice)["bob"]["connected"], timeout=90,
                   interval=0.5, what="bob offline on daemon 1 after daemon 2 was killed")

    def test_postgresql_stopped_mid_run_clear_errors_then_every_acknowledged_message_once(self):
        alice = self.agent(self.d1, "alice")
        bob = self.agent(self.d2, "bob")
        acked, refused = [], []

        def send(label):
            text = "%s #%d" % (label, len(acked) + len(refused))  # each text sent once
            r = alice.call("send_message", {"to": "bob", "message": text}, timeout=60)
            (refused if r.get("isError") else acked).append(text)
            return r

        for _ in range(5):
            ok(send("before"))
        pg_ctl("stop", "immediate")
        r = send("while down")
        text = err_text(r)
        self.assertIn("team store is unreachable", text)
        self.assertIn("retry", text)
        err_text(bob.call("check_messages", {}, timeout=60))
        # Both daemons keep their sockets: a new connection is served.
        for d in (self.d1, self.d2):
            self.assertIsNone(d.proc.poll())
            raw = d.connect()
            self.clients.append(raw)
            self.assertIn("result", raw.initialize())
        pg_ctl("start")
        # The daemons reconnect (with backoff): sends succeed again.
        wait_until(lambda: not send("after").get("isError"), timeout=120,
                   interval=0.5, what="a send accepted after PostgreSQL came back")
        for _ in range(3):
            ok(send("after restart"))
        got = [t for who, t in self.read_all(bob) if who == "alice"]
        for t in acked:
            self.assertEqual(got.count(t), 1, "acknowledged %r: %s" % (t, got))
        for t in refused:
            self.assertNotIn(t, got, "a refused send was stored: %r" % t)
        self.assertEqual(sorted(got), sorted(acked))
        # Daemon 2's listener came back too: bob's wait is woken by alice's next send.
        rid = self.start_wait(bob, {"timeout_seconds": 600}, 9001)
        wait_until(lambda: self.agents(bob)["bob"]["waiting"], timeout=60,
                   what="bob's wait blocked on daemon 2")
        ok(alice.call("send_message", {"to": "bob", "message": "listening again?"}))
        answer = bob.wait_for(lambda m: m.get("id") == rid, timeout=120)
        self.assertEqual([m["message"] for m in answer["result"]["structuredContent"]["messages"]],
                         ["listening again?"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
