"""claude-bridgectl against a real daemon that served a real two-session exchange.

Every command runs in both output modes (tables and --json). Files named on the command line
(export -o, import, backup, restore) live in each daemon's temp dir.

Tokens derive from the daemon's server key, so a conversation imported into a daemon with
another key keeps its messages but gets other tokens; the round-trip tests copy server.key into
the fresh daemon to show that the tokens then come out identical, and one test shows the other
case on purpose.
"""
import json
import os
import random
import select
import shutil
import signal
import sqlite3
import stat
import string
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, NO_LIMITS, SHIM, Daemon, DaemonTest, McpClient, ok, wait_until  # noqa: E402

LONG_TEXT = "The schema migration is ready for review. " * 6  # > 100 characters
SUBCOMMANDS = ["list", "show", "tokens", "audit", "cleanup", "watch", "export", "import",
               "backup", "restore", "stats", "doctor", "mcp-config", "setup", "redact"]


def fake_github_token():
    # Built at run time: committed secret-looking literals trip scanners.
    rnd = random.Random(11)
    return "gh" + "p_" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))


def strip_presence(show):
    """show --json without what depends on live connections (differs between daemons)."""
    show = json.loads(json.dumps(show))
    for st in show["statuses"].values():
        st.pop("connected", None)
        st.pop("waiting", None)
    return show


def one_line(testcase, text):
    lines = text.strip("\n").split("\n")
    testcase.assertEqual(len(lines), 1, "expected one line on stderr, got: %r" % text)
    testcase.assertTrue(lines[0].startswith("claude-bridgectl: "), lines[0])
    return lines[0]


def fresh_daemon(key_from=None, config=NO_LIMITS):
    """A new daemon; with key_from, it uses that daemon's server.key (same tokens, same audit key)."""
    d = Daemon(config, start=False)
    if key_from is not None:
        os.makedirs(d.state_dir, mode=0o700)
        shutil.copy(os.path.join(key_from.state_dir, "server.key"), d.state_dir)
        os.chmod(os.path.join(d.state_dir, "server.key"), 0o600)
    d.start()
    return d


class CtlTest(DaemonTest):
    config = NO_LIMITS

    def exchange(self):
        """A real exchange: a sends two messages (one long, one with files), b reads them, sets
        its status and answers (left unread). Returns (a, b, ca, cb, conv_id)."""
        a, b, ca, cb = self.pair()
        ok(a.call("send_to_partner", {**ca, "message": LONG_TEXT}))
        ok(a.call("send_to_partner", {**ca, "message": "Which endpoint first?",
                                      "action_type": "question", "files_involved": ["api.ts"]}))
        self.assertEqual(len(ok(b.call("check_messages", cb))["messages"]), 2)
        ok(b.call("update_my_status", {**cb, "status": "working"}))
        ok(b.call("send_to_partner", {**cb, "message": "Users first.\nThen orders."}))
        return a, b, ca, cb, ca["conversation_id"]

    def ctl_fail(self, *args, code, input=None):
        r = self.d.ctl(*args, input=input)
        self.assertEqual(r.returncode, code, f"ctl {args}: {r.stdout} {r.stderr}")
        return one_line(self, r.stderr)

    def audit_actions(self, limit=200):
        return self.d.ctl_json("audit", str(limit))["entries"]


class Conversations(CtlTest):
    def test_list(self):
        *_, conv = self.exchange()
        r = self.d.ctl("list", check=True)
        header, row = r.stdout.splitlines()
        self.assertIn("CONVERSATION", header)
        for expected in (conv, "backend_developer", "frontend_developer", "active", " 3 ", "1/0",
                         "a,b"):
            self.assertIn(expected, row)
        self.assertEqual(r.stderr, "")
        j = self.d.ctl_json("list")
        self.assertEqual(list(j), ["conversations"])
        c = j["conversations"][0]
        self.assertEqual((c["conversation_id"], c["messages"], c["unread_a"], c["unread_b"],
                          c["connected"], c["active"]), (conv, 3, 1, 0, ["a", "b"], True))

    def test_list_empty_database(self):
        self.assertEqual(self.d.ctl("list", check=True).stdout, "No conversations.\n")
        self.assertEqual(self.d.ctl_json("list"), {"conversations": []})

    def test_show(self):
        *_, conv = self.exchange()
        out = self.d.ctl("show", conv, check=True).stdout
        self.assertIn("session b  frontend_developer  status working", out)
        self.assertIn("Messages (3)", out)
        rows = [l for l in out.splitlines() if l.strip()[:1].isdigit()]
        self.assertEqual(len(rows), 3)
        self.assertIn(" read ", rows[0])
        self.assertIn("UNREAD", rows[2])
        self.assertIn("a -> b", rows[0])
        # Cut at 100 characters, marked; the whole text only with --full.
        self.assertIn(LONG_TEXT[:100] + "...", rows[0])
        self.assertNotIn(LONG_TEXT[:101], rows[0])
        self.assertIn("Users first.\\n Then orders.", rows[2])
        full = self.d.ctl("show", "--full", conv, check=True).stdout
        self.assertIn(LONG_TEXT.rstrip(), full)
        self.assertIn("    Users first.\n    Then orders.", full)
        self.assertIn("files: api.ts", full)

        j = self.d.ctl_json("show", conv)
        self.assertEqual(j["conversation_id"], conv)
        self.assertEqual([m["read"] for m in j["messages"]], [True, True, False])
        self.assertEqual(j["messages"][0]["message"], LONG_TEXT)
        self.assertEqual(j["statuses"]["b"]["status"], "working")
        self.assertEqual(j["statuses"]["a"]["status"], "unknown")

    def test_show_unknown(self):
        line = self.ctl_fail("show", "conv_0000000000000000", code=1)
        self.assertIn("no conversation conv_0000000000000000", line)
        self.ctl_fail("--json", "show", "conv_0000000000000000", code=1)

    def test_tokens(self):
        a, b, ca, cb, conv = self.exchange()
        r = self.d.ctl("tokens", conv, check=True)
        self.assertIn(ca["token"], r.stdout)
        self.assertIn(cb["token"], r.stdout)
        self.assertIn("warning", one_line(self, r.stderr))
        r = self.d.ctl("--json", "tokens", conv, check=True)
        self.assertEqual(json.loads(r.stdout), {"conversation_id": conv,
                                                "session_a_token": ca["token"],
                                                "session_b_token": cb["token"]})
        self.assertIn("warning", r.stderr)
        reads = [e for e in self.audit_actions() if e["action"] == "admin_tokens"]
        self.assertEqual(len(reads), 2)
        self.assertIn("uid %d" % os.getuid(), reads[0]["details"]["by"])

    def test_cleanup(self):
        *_, conv = self.exchange()
        self.assertIn("Nothing to clean up", self.d.ctl("cleanup", check=True).stdout)
        self.assertEqual(self.d.ctl_json("cleanup"), {"removed": [], "count": 0})
        # An expired conversation, brought in through import (ttl cannot go below 60 s).
        doc = self.d.ctl_json("export", conv)
        doc["conversation"]["conversation_id"] = "conv_" + "e" * 16
        doc["conversation"]["created_ms"] -= 10 * 3600 * 1000
        doc["conversation"]["expires_ms"] -= 10 * 3600 * 1000
        path = os.path.join(self.d.root, "expired.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        self.d.ctl("import", path, check=True)
        states = {c["conversation_id"]: c["active"] for c in self.d.ctl_json("list")["conversations"]}
        self.assertEqual(states, {conv: True, "conv_" + "e" * 16: False})
        self.assertIn("expired", self.d.ctl("list", check=True).stdout)
        out = self.d.ctl("cleanup", check=True).stdout
        self.assertIn("Removed 1 expired conversation", out)
        self.assertIn("conv_" + "e" * 16, out)
        self.assertEqual([c["conversation_id"] for c in self.d.ctl_json("list")["conversations"]],
                         [conv])

    def watches(self):
        return sum(e["action"] == "admin_watch" for e in self.audit_actions(1000))

    def watch(self, *args):
        before = self.watches()
        p = subprocess.Popen([CTL, "--socket-dir", self.d.socket_dir, *args], env=self.d.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Subscribed once the daemon has audited the watch (it does so before answering).
        deadline = time.time() + 10
        while self.watches() == before:
            self.assertLess(time.time(), deadline, "watch did not subscribe")
            time.sleep(0.05)
        return p

    def read_lines(self, p, n, timeout=10):
        """n lines of p's stdout, read from the fd (a buffered reader would hide lines from
        select)."""
        buf = b""
        deadline = time.time() + timeout
        fd = p.stdout.fileno()
        while buf.count(b"\n") < n:
            r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
            self.assertTrue(r, "watch printed only %r" % buf)
            chunk = os.read(fd, 65536)
            self.assertTrue(chunk, "watch ended early: %r" % buf)
            buf += chunk
        return buf.decode().split("\n")[:n]

    def stop_watch(self, p):
        p.send_signal(signal.SIGINT)
        rc = p.wait(5)
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        return rc, err

    def test_watch(self):
        a, b, ca, cb, conv = self.exchange()
        for mode in ((), ("--json",)):
            p = self.watch(*mode, "watch", conv)
            try:
                ok(a.call("send_to_partner", {**ca, "message": "live " + str(mode)}))
                ok(b.call("update_my_status", {**cb, "status": "blocked"}))
                lines = self.read_lines(p, 2)
            finally:
                rc, err = self.stop_watch(p)
            self.assertEqual((rc, err), (0, ""))
            if mode:
                events = [json.loads(l) for l in lines]
                self.assertEqual([e["event"] for e in events], ["message", "status"])
                self.assertEqual(events[0]["message"], "live ('--json',)")
                self.assertEqual(events[1]["status"], "blocked")
            else:
                self.assertIn("message", lines[0])
                self.assertIn("a -> b", lines[0])
                self.assertIn("live ()", lines[0])
                self.assertIn("status b (frontend_developer) is blocked", lines[1])

    def test_watch_ends_when_the_daemon_stops(self):
        *_, conv = self.exchange()
        p = self.watch("watch")
        self.d.stop()
        rc = p.wait(10)
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(rc, 69)
        self.assertIn("the daemon closed the connection", one_line(self, err))

    def test_watch_filters_by_conversation(self):
        a, b, ca, cb, conv = self.exchange()
        p = self.watch("--json", "watch", conv)
        try:
            other = self.client()
            ok(other.call("create_conversation", {"my_role": "tester", "partner_role": "writer"}))
            ok(a.call("send_to_partner", {**ca, "message": "only this"}))
            events = [json.loads(l) for l in self.read_lines(p, 1)]
        finally:
            self.assertEqual(self.stop_watch(p), (0, ""))
        self.assertEqual(events[0]["conversation_id"], conv)
        self.assertEqual(events[0]["message"], "only this")

    def test_bad_params_are_an_error_and_the_connection_keeps_serving(self):
        # A raw ctl.sock connection, as a script would use it. `watch` with a number for
        # conversation_id once got no answer at all (the daemon only logged a type_error).
        ctl = McpClient.over_socket(self.d.ctl_sock)
        try:
            r = ctl.request("watch", {"conversation_id": 5})
            self.assertEqual(r.get("error"), {"code": -32602,
                                              "message": "conversation_id must be a string"})
            r = ctl.request("backup", {"path": os.path.join(self.d.state_dir, "b.db"),
                                       "overwrite": "yes"})
            self.assertEqual(r.get("error"), {"code": -32602,
                                              "message": "overwrite must be true or false"})
            r = ctl.request("audit", ["conv_1"])
            self.assertEqual(r["error"]["code"], -32602)
            self.assertEqual(r["error"]["message"], "params must be an object of named parameters")
            # The same connection answers a valid request afterwards.
            self.assertEqual(ctl.request("ping", {}).get("result"), {})
            self.assertEqual(ctl.request("watch", {}).get("result"), {"watching": None})
        finally:
            ctl.close()


class SmallWriteQueue(CtlTest):
    config = NO_LIMITS + "[limits]\nmax_write_queue_bytes = 65536\n"

    def test_an_oversized_answer_is_a_failure_not_an_outage(self):
        # ~600 KB of answer: more than the socket takes at once (~200 KiB) plus the 64 KiB cap.
        a, b, ca, cb = self.pair()
        for i in range(20):
            ok(a.call("send_to_partner", {**ca, "message": str(i) + "y" * 30000}))
        conv = ca["conversation_id"]
        line = self.ctl_fail("--json", "show", conv, code=1)
        self.assertIn("without answering `show`", line)
        # Export asks page by page, so it gets through the same cap.
        doc = self.d.ctl_json("export", conv, "--page-bytes", "20000")
        self.assertEqual([m["message"].split("y")[0] for m in doc["messages"]],
                         [str(i) for i in range(20)])

    def test_an_answer_the_socket_takes_at_once_is_not_held_to_the_cap(self):
        # Replies are written straight to the socket when nothing is queued; the cap bounds
        # only what waits in the daemon's memory for a slow reader.
        a, b, ca, cb = self.pair()
        for i in range(3):
            ok(a.call("send_to_partner", {**ca, "message": str(i) + "y" * 30000}))
        doc = self.d.ctl_json("show", ca["conversation_id"])
        self.assertEqual(len(doc["messages"]), 3)


class Audit(CtlTest):
    def test_audit_listing(self):
        *_, conv = self.exchange()
        self.d.ctl("list", check=True)
        out = self.d.ctl("audit", check=True).stdout.splitlines()
        self.assertIn("ACTION", out[0])
        self.assertIn("admin_list", out[1])  # newest first
        entries = self.d.ctl_json("audit")["entries"]
        ids = [e["id"] for e in entries]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(set(entries[0]), {"id", "timestamp", "conversation_id", "session_id",
                                           "action", "outcome", "details"})
        # The operator's own calls carry uid and pid.
        listing = next(e for e in entries if e["action"] == "admin_list")
        self.assertEqual(listing["details"]["uid"], os.getuid())
        self.assertIsInstance(listing["details"]["pid"], int)
        # [CONV] [LIMIT]
        only = self.d.ctl_json("audit", conv, "3")["entries"]
        self.assertEqual(len(only), 3)
        self.assertTrue(all(e["conversation_id"] == conv for e in only))
        self.assertEqual(len(self.d.ctl_json("audit", "2")["entries"]), 2)
        self.assertEqual(self.d.ctl_json("audit", "3", conv)["entries"][0]["conversation_id"], conv)
        self.ctl_fail("audit", conv, "x", code=2)
        self.ctl_fail("audit", "0", code=2)

    def test_default_limit_is_50(self):
        a, b, ca, cb = self.pair()
        for i in range(60):
            ok(a.call("send_to_partner", {**ca, "message": f"m{i}"}))
        self.assertEqual(len(self.d.ctl_json("audit")["entries"]), 50)
        self.assertEqual(len(self.d.ctl("audit", check=True).stdout.splitlines()), 51)

    def test_verify_intact(self):
        self.exchange()
        r = self.d.ctl("audit", "--verify", check=True)
        self.assertIn("audit chain intact", r.stdout)
        j = self.d.ctl_json("audit", "--verify")
        self.assertTrue(j["ok"])
        self.assertGreater(j["entries"], 5)
        self.ctl_fail("audit", "--verify", "5", code=2)

    def tamper(self, sql, *params):
        self.d.stop()
        db = sqlite3.connect(os.path.join(self.d.state_dir, "bridge.db"))
        with db:
            db.execute(sql, params)
        db.close()
        self.d.start()

    def test_verify_catches_an_edited_entry(self):
        self.exchange()
        target = [e for e in self.audit_actions() if e["action"] == "send_to_partner"][-1]["id"]
        self.tamper("UPDATE audit SET details_json = ? WHERE id = ?", '{"chars":1}', target)
        line = self.ctl_fail("audit", "--verify", code=1)
        self.assertIn(f"entry {target}", line)
        self.assertIn("altered", line)
        r = self.d.ctl("--json", "audit", "--verify")
        self.assertEqual(r.returncode, 1)
        j = json.loads(r.stdout)
        self.assertEqual((j["ok"], j["first_bad_id"]), (False, target))

    def test_verify_catches_a_deleted_entry(self):
        self.exchange()
        ids = sorted(e["id"] for e in self.audit_actions())
        middle = ids[len(ids) // 2]
        self.tamper("DELETE FROM audit WHERE id = ?", middle)
        line = self.ctl_fail("audit", "--verify", code=1)
        self.assertIn(f"entry {middle + 1}", line)
        self.assertIn("removed", line)


class NamedAgents(CtlTest):
    """Issue 23: agents bound through real shims (their hello), seen by the operator."""
    watches, watch, stop_watch = Conversations.watches, Conversations.watch, Conversations.stop_watch

    def agent(self, name):
        c = self.d.shim("--agent", name)
        self.clients.append(c)
        c.initialize()
        return c

    def agents_by_name(self):
        return {a["name"]: a for a in self.d.ctl_json("agents")["agents"]}

    def test_agents_list_show_tokens_watch(self):
        self.d.env["CLAUDE_PROJECT_DIR"] = self.d.root
        self.assertEqual(self.d.ctl("agents", check=True).stdout, "No agents.\n")
        watch = self.watch("--json", "watch")
        alice, bob = self.agent("alice"), self.agent("bob")
        wait_until(lambda: set(self.agents_by_name()) == {"alice", "bob"}, what="both agents")
        first = ok(alice.call("send_message", {"to": "bob", "message": "first"}))
        conv = first["conversation_id"]
        ok(alice.call("send_message", {"to": "bob", "message": "second"}))
        ok(bob.call("send_message", {"to": "alice", "message": "answer",
                                     "reply_to": first["message_id"]}))
        ok(bob.call("update_my_status", {"status": "working", "note": "on it"}))

        agents = self.agents_by_name()
        self.assertEqual((agents["alice"]["presence"], agents["alice"]["unread"],
                          agents["alice"]["project"]), ("connected", 1, self.d.root))
        self.assertEqual((agents["bob"]["unread"], agents["bob"]["status"],
                          agents["bob"]["note"]), (2, "working", "on it"))
        table = self.d.ctl("agents", check=True).stdout
        self.assertIn("AGENT", table.splitlines()[0])
        self.assertIn("on it", table)

        row = [l for l in self.d.ctl("list", check=True).stdout.splitlines() if conv in l][0]
        self.assertIn(" agents ", row)
        self.assertIn("alice* (1 unread), bob* (2 unread)", row)
        c = self.d.ctl_json("list")["conversations"][0]
        self.assertEqual((c["kind"], [m["agent"] for m in c["members"]],
                          [m["unread"] for m in c["members"]]), ("agents", ["alice", "bob"], [1, 2]))

        shown = self.d.ctl_json("show", conv)
        self.assertEqual([m["from"] for m in shown["messages"]], ["alice", "alice", "bob"])
        self.assertEqual(shown["messages"][2]["reply_to"], first["message_id"])
        text = self.d.ctl("show", conv, check=True).stdout
        self.assertIn("member alice", text)
        self.assertIn("#%d" % first["message_id"], text)

        msg = self.ctl_fail("tokens", conv, code=1)
        self.assertIn("is a conversation of agents; it has no tokens", msg)

        buf, events, deadline = b"", [], time.time() + 10
        fd = watch.stdout.fileno()
        while not any(e["event"] == "status" and e.get("agent") == "bob" for e in events):
            r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
            self.assertTrue(r, "watch printed only %r" % buf)
            chunk = os.read(fd, 65536)
            self.assertTrue(chunk, "watch ended early: %r" % buf)
            buf += chunk
            *lines, buf = buf.split(b"\n")
            events += [json.loads(l) for l in lines]
        self.assertEqual(self.stop_watch(watch)[0], 0)
        kinds = [(e["event"], e.get("name") or e.get("agent")) for e in events]
        self.assertIn(("agent", "alice"), kinds)
        created = next(e for e in events if e["event"] == "conversation_created")
        self.assertEqual(sorted(created["members"]), ["alice", "bob"])
        answer = [e for e in events if e["event"] == "message"][2]
        self.assertEqual((answer["to"], answer["reply_to"]), (["alice"], first["message_id"]))
        self.assertEqual(events[-1]["note"], "on it")

        bob.close()
        self.clients.remove(bob)
        wait_until(lambda: self.agents_by_name()["bob"]["presence"] == "offline",
                   what="bob offline")


class ExportImport(CtlTest):
    def export_file(self, conv, d=None, name="conv.json"):
        d = d or self.d
        path = os.path.join(d.root, name)
        r = d.ctl("export", conv, "-o", path, check=True)
        self.assertIn("Exported " + conv, r.stdout)
        return path

    def test_export_json_to_stdout_and_file(self):
        *_, conv = self.exchange()
        doc = json.loads(self.d.ctl("export", conv, check=True).stdout)
        self.assertEqual(doc["format"], "claude-bridge-conversation")
        self.assertEqual(len(doc["conversation"]["nonce_hex"]), 32)
        self.assertEqual([m["read_ms"] is None for m in doc["messages"]], [False, False, True])
        self.assertEqual(doc["statuses"]["b"]["status"], "working")
        path = self.export_file(conv)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            self.assertEqual(json.load(f)["messages"], doc["messages"])
        # An existing file is kept unless --force.
        line = self.ctl_fail("export", conv, "-o", path, code=1)
        self.assertIn("--force", line)
        self.d.ctl("export", conv, "-o", path, "--force", check=True)
        j = self.d.ctl_json("export", conv, "-o", path, "--force")
        self.assertEqual((j["path"], j["messages"]), (path, 3))
        self.assertTrue(any(e["action"] == "admin_export" and e["details"]["uid"] == os.getuid()
                            for e in self.audit_actions()))

    def test_export_in_pages_is_the_same_document(self):
        *_, conv = self.exchange()
        whole = self.d.ctl_json("export", conv)
        paged = self.d.ctl_json("export", conv, "--page-bytes", "1")
        for doc in (whole, paged):
            doc.pop("exported_at")
        self.assertEqual(paged, whole)
        self.assertNotIn("page", whole)
        pages = [e for e in self.audit_actions() if e["action"] == "admin_export"]
        self.assertEqual(len(pages), 1 + 3)  # one request for the whole, three for the pages

    def test_export_markdown(self):
        *_, conv = self.exchange()
        md = self.d.ctl("export", conv, "--format", "markdown", check=True).stdout
        self.assertTrue(md.startswith("# Conversation " + conv))
        self.assertIn("| Session b | frontend_developer — working", md)
        self.assertIn("## Messages (3)", md)
        self.assertIn("a (backend_developer) → b (frontend_developer) · question", md)
        self.assertIn("> Users first.\n> Then orders.\n", md)
        self.assertIn("*unread*", md)
        self.assertIn("files: `api.ts`", md)
        self.ctl_fail("export", conv, "--format", "yaml", code=2)

    def test_round_trip_with_the_same_server_key(self):
        a, b, ca, cb, conv = self.exchange()
        path = self.export_file(conv)
        before = self.d.ctl_json("show", conv)
        tokens = self.d.ctl_json("tokens", conv)
        d2 = fresh_daemon(key_from=self.d)
        try:
            r = d2.ctl("import", path, check=True)
            self.assertIn(f"Imported {conv}: 3 messages, 1 status", r.stdout)
            self.assertEqual(strip_presence(d2.ctl_json("show", conv)), strip_presence(before))
            self.assertEqual(d2.ctl_json("tokens", conv), tokens)
            # The imported conversation works: b's token reads a's unread message there.
            c = d2.shim()
            try:
                c.initialize()
                got = ok(c.call("check_messages", {**ca}))
                self.assertEqual([m["message"] for m in got["messages"]],
                                 ["Users first.\nThen orders."])
            finally:
                c.close()
            imported = [e for e in d2.ctl_json("audit")["entries"] if e["action"] == "admin_import"]
            self.assertEqual(imported[0]["outcome"], "ok")
            self.assertEqual(imported[0]["details"]["uid"], os.getuid())
            self.assertEqual(d2.ctl("audit", "--verify").returncode, 0)
        finally:
            d2.close()

    def test_round_trip_with_another_server_key(self):
        *_, conv = self.exchange()
        path = self.export_file(conv)
        before = self.d.ctl_json("show", conv)
        d2 = fresh_daemon()
        try:
            j = json.loads(d2.ctl("--json", "import", path, check=True).stdout)
            self.assertEqual(j, {"conversation_id": conv, "messages": 3, "statuses": 1,
                                 "redacted_on_import": 0})
            self.assertEqual(strip_presence(d2.ctl_json("show", conv)), strip_presence(before))
            # Tokens derive from the server key: same nonce, other key, other tokens.
            self.assertNotEqual(d2.ctl_json("tokens", conv), self.d.ctl_json("tokens", conv))
        finally:
            d2.close()

    def test_import_refuses_an_id_clash(self):
        *_, conv = self.exchange()
        path = self.export_file(conv)
        before = self.d.ctl_json("show", conv)
        line = self.ctl_fail("import", path, code=1)
        self.assertIn(conv, line)
        self.assertIn("exists already", line)
        self.assertEqual(self.d.ctl_json("show", conv), before)
        refused = [e for e in self.audit_actions() if e["action"] == "admin_import"]
        self.assertEqual(refused[0]["outcome"], "refused")

    def test_import_refuses_malformed_files(self):
        *_, conv = self.exchange()
        good = self.d.ctl_json("export", conv)

        def variant(mutate):
            doc = json.loads(json.dumps(good))
            doc["conversation"]["conversation_id"] = "conv_" + "1" * 16
            mutate(doc)
            return json.dumps(doc)

        cases = {
            "not json": "{not json",
            "not an export": json.dumps({"hello": "world"}),
            "bad sender": variant(lambda d: d["messages"][0].update({"from": "c"})),
            "bad id": variant(lambda d: d["conversation"].update({"conversation_id": "x"})),
            "bad nonce": variant(lambda d: d["conversation"].update({"nonce_hex": "zz"})),
            "missing messages": variant(lambda d: d.pop("messages")),
            "newer format": variant(lambda d: d.update({"format_version": 99})),
        }
        for name, text in cases.items():
            path = os.path.join(self.d.root, "bad.json")
            with open(path, "w") as f:
                f.write(text)
            with self.subTest(name):
                line = self.ctl_fail("import", path, code=65)
                self.assertIn(path, line)
        self.assertEqual(len(self.d.ctl_json("list")["conversations"]), 1)
        line = self.ctl_fail("import", os.path.join(self.d.root, "absent.json"), code=1)
        self.assertIn("no such file", line)

    def test_import_redacts_a_hand_edited_secret(self):
        *_, conv = self.exchange()
        doc = self.d.ctl_json("export", conv)
        doc["conversation"]["conversation_id"] = "conv_" + "2" * 16
        secret = fake_github_token()
        doc["messages"][0]["message"] = "token " + secret
        path = os.path.join(self.d.root, "edited.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        r = self.d.ctl("import", path, check=True)
        self.assertIn("redacted on import", r.stderr)
        shown = self.d.ctl_json("show", "conv_" + "2" * 16)
        self.assertNotIn(secret, shown["messages"][0]["message"])


class BackupRestore(CtlTest):
    def backup(self, d, name, *extra):
        path = os.path.join(d.root, name)
        r = d.ctl("backup", path, *extra, check=True)
        self.assertIn("Backup written to " + path, r.stdout)
        return path

    def test_backup_under_write_load_then_restore(self):
        a, b, ca, cb, conv = self.exchange()
        stop = threading.Event()
        sent = []
        errors = []

        def writer():
            try:
                while not stop.is_set():
                    sent.append(ok(a.call("send_to_partner",
                                          {**ca, "message": "load %d" % len(sent)}))["message_id"])
            except Exception as e:  # reported below
                errors.append(e)

        t = threading.Thread(target=writer)
        t.start()
        snapshots = []
        try:
            wait_until(lambda: len(sent) >= 20 or errors, 30, "20 messages under load")
            for i in range(3):
                snapshots.append(self.backup(self.d, f"load{i}.db"))
                # More writes land between one backup and the next.
                n = len(sent)
                wait_until(lambda: len(sent) > n or errors, 30, "a write after the backup")
        finally:
            stop.set()
            t.join(10)
        self.assertEqual(errors, [])
        for path in snapshots:
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "delete")
                messages = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
                audited = db.execute(
                    "SELECT COUNT(*) FROM audit WHERE action = 'send_to_partner'").fetchone()[0]
            finally:
                db.close()
            # One snapshot: every message's audit entry is in it, and nothing more.
            self.assertEqual(messages, audited)
            self.assertGreater(messages, 3)
        self.assertFalse([f for f in os.listdir(self.d.root) if ".partial-" in f])

        # Quiescent now: a last backup restores into a fresh daemon as the very same conversation.
        final = self.backup(self.d, "final.db")
        original = self.d.ctl_json("show", conv)
        d2 = fresh_daemon(key_from=self.d)
        try:
            r = d2.ctl("restore", "--yes", final, check=True)
            self.assertIn("audit chain of", r.stdout)
            self.assertIn("verified", r.stdout)
            self.assertEqual(strip_presence(d2.ctl_json("show", conv)), strip_presence(original))
            self.assertEqual(d2.ctl_json("tokens", conv), self.d.ctl_json("tokens", conv))
            self.assertEqual(d2.ctl("audit", "--verify").returncode, 0)
            # A snapshot taken under load restores as a prefix of the final conversation.
            j = json.loads(d2.ctl("--json", "restore", "--yes", snapshots[0], check=True).stdout)
            self.assertTrue(j["restored"] and j["audit_ok"])
            partial = d2.ctl_json("show", conv)["messages"]
            self.assertEqual([m["id"] for m in partial],
                             [m["id"] for m in original["messages"]][:len(partial)])
            # The live daemon keeps serving after a restore.
            c = d2.shim()
            try:
                c.initialize()
                ok(c.call("send_to_partner", {**cb, "message": "after restore"}))
            finally:
                c.close()
            self.assertEqual(d2.ctl_json("show", conv)["messages"][-1]["message"], "after restore")
            self.assertEqual(d2.ctl("audit", "--verify").returncode, 0)
        finally:
            d2.close()

    def test_restore_in_place_keeps_sessions_and_the_chain(self):
        a, b, ca, cb, conv = self.exchange()
        path = self.backup(self.d, "b.db")
        ok(a.call("send_to_partner", {**ca, "message": "written after the backup"}))
        self.assertEqual(len(self.d.ctl_json("show", conv)["messages"]), 4)
        self.d.ctl("restore", "--yes", path, check=True)
        self.assertEqual(len(self.d.ctl_json("show", conv)["messages"]), 3)
        # The same connections go on; new audit entries chain onto the restored head.
        ok(a.call("send_to_partner", {**ca, "message": "after the restore"}))
        got = ok(b.call("check_messages", cb))
        self.assertEqual([m["message"] for m in got["messages"]], ["after the restore"])
        self.assertEqual(self.d.ctl("audit", "--verify").returncode, 0)
        restores = [e for e in self.audit_actions() if e["action"] == "admin_restore"]
        self.assertEqual((restores[0]["outcome"], restores[0]["details"]["audit_ok"]), ("ok", True))

    def test_restore_of_a_backup_with_other_pages(self):
        # Databases made before 2026-12-05 have pages of 4 KiB; the live one has 1 KiB pages,
        # which the backup API cannot change in WAL mode: restore converts the file first.
        a, b, ca, cb, conv = self.exchange()
        path = self.backup(self.d, "b.db")
        db = sqlite3.connect(path)
        self.assertEqual(db.execute("PRAGMA page_size").fetchone()[0], 1024)
        db.execute("PRAGMA page_size = 4096")
        db.execute("VACUUM")
        self.assertEqual(db.execute("PRAGMA page_size").fetchone()[0], 4096)
        db.close()
        ok(a.call("send_to_partner", {**ca, "message": "written after the backup"}))
        r = self.d.ctl("restore", "--yes", path)
        self.assertEqual(r.returncode, 0, self.d.read_log())
        self.assertEqual(len(self.d.ctl_json("show", conv)["messages"]), 3)
        ok(a.call("send_to_partner", {**ca, "message": "after the restore"}))
        got = ok(b.call("check_messages", cb))
        self.assertEqual([m["message"] for m in got["messages"]], ["after the restore"])
        self.assertEqual(self.d.ctl("audit", "--verify").returncode, 0)
        self.assertEqual([n for n in os.listdir(self.d.state_dir) if "restore" in n], [])

    def test_restore_with_another_key_warns(self):
        *_, conv = self.exchange()
        path = self.backup(self.d, "b.db")
        d2 = fresh_daemon()
        try:
            r = d2.ctl("restore", "--yes", path, check=True)
            self.assertIn("NOT verified", r.stdout)
            self.assertIn("server.key", r.stderr)
            self.assertEqual(len(d2.ctl_json("show", conv)["messages"]), 3)
        finally:
            d2.close()

    def test_restore_refuses_bad_files(self):
        *_, conv = self.exchange()
        root = self.d.root
        garbage = os.path.join(root, "garbage.db")
        with open(garbage, "wb") as f:
            f.write(b"this is not a database at all" * 200)
        old_schema = self.backup(self.d, "old.db")
        db = sqlite3.connect(old_schema)
        db.execute("PRAGMA user_version = 0")
        db.close()
        no_audit = self.backup(self.d, "noaudit.db")
        db = sqlite3.connect(no_audit)
        db.execute("DROP TABLE audit")
        db.close()
        cases = {garbage: "not a claude-bridge database", old_schema: "schema version 0",
                 no_audit: "table audit is missing",
                 os.path.join(root, "absent.db"): "no such file"}
        for path, why in cases.items():
            with self.subTest(path):
                line = self.ctl_fail("restore", "--yes", path, code=65)
                self.assertIn(why, line)
        self.assertEqual(len(self.d.ctl_json("show", conv)["messages"]), 3)
        refused = [e for e in self.audit_actions() if e["action"] == "admin_restore"]
        self.assertTrue(all(e["outcome"] == "refused" for e in refused))
        self.assertEqual(refused[0]["details"]["uid"], os.getuid())

    def test_restore_check_only(self):
        *_, conv = self.exchange()
        path = self.backup(self.d, "b.db")
        a, b, ca, cb = self.pair()
        r = self.d.ctl("restore", "--check", path, check=True)
        self.assertIn("is a valid backup", r.stdout)
        self.assertEqual(len(self.d.ctl_json("list")["conversations"]), 2)

    def test_backup_refuses_existing_and_live_files(self):
        self.exchange()
        path = self.backup(self.d, "b.db")
        self.assertIn("--force", self.ctl_fail("backup", path, code=1))
        self.backup(self.d, "b.db", "--force")
        live = os.path.join(self.d.state_dir, "bridge.db")
        self.assertIn("live database", self.ctl_fail("backup", "--force", live, code=1))
        j = json.loads(self.d.ctl("--json", "backup", "--force", path, check=True).stdout)
        self.assertEqual(j["path"], path)
        self.assertGreater(j["pages"], 0)
        backups = [e for e in self.audit_actions() if e["action"] == "admin_backup"]
        self.assertEqual([e["outcome"] for e in backups], ["ok", "failed", "ok", "failed", "ok"])

    def test_backup_target_problems_are_one_line(self):
        self.exchange()
        line = self.ctl_fail("backup", os.path.join(self.d.root, "no", "such", "dir", "b.db"), code=1)
        self.assertIn("no directory", line)
        if os.geteuid() != 0:  # root writes anywhere
            ro = os.path.join(self.d.root, "ro")
            os.mkdir(ro, 0o500)
            line = self.ctl_fail("backup", os.path.join(ro, "b.db"), code=1)
            self.assertIn("may write only where its service allows", line)

    def test_relative_paths_are_resolved_by_ctl(self):
        self.exchange()
        r = subprocess.run([CTL, "--socket-dir", self.d.socket_dir, "backup", "rel.db"],
                           cwd=self.d.root, env=self.d.env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.d.root, "rel.db")))


class System(CtlTest):
    def test_stats(self):
        self.exchange()
        out = self.d.ctl("stats", check=True).stdout
        self.assertIn("STATISTIC", out)
        self.assertRegex(out, r"\nconversations +1\n")
        self.assertRegex(out, r"\nmessages +3\n")
        self.assertIn("uptime_seconds", out)
        j = self.d.ctl_json("stats")
        self.assertEqual((j["conversations"], j["messages"]), (1, 3))
        for key in ("connections", "uptime_seconds", "refusals", "accepted", "waiters"):
            self.assertIn(key, j)

    def test_redact(self):
        secret = fake_github_token()
        text = f"deploy with {secret} today\n"
        r = self.d.ctl("redact", input=text, check=True)
        self.assertNotIn(secret, r.stdout)
        self.assertTrue(r.stdout.startswith("deploy with "))
        self.assertTrue(r.stdout.endswith(" today\n"))
        self.assertEqual(r.stderr, "")
        r = self.d.ctl("redact", "--explain", input=text, check=True)
        self.assertIn("at byte 12", r.stderr)
        self.assertIn("  rule: a vendor token format", r.stderr)
        # --explain names the rule and the context that fired, itself redacted.
        password = "Zq7" + "".join(random.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))
        r = self.d.ctl("redact", "--explain", input=f"pw for staging: {password}\n", check=True)
        self.assertEqual(r.stdout, "pw for staging: PASSWORD_REDACTED\n")
        self.assertIn("password at byte 16", r.stderr)
        self.assertIn("  rule: prose: password", r.stderr)
        self.assertIn('  context: "pw for staging: PASSWORD_REDACTED"', r.stderr)
        self.assertNotIn(password, r.stderr)
        j = json.loads(self.d.ctl("--json", "redact", input=text, check=True).stdout)
        self.assertEqual(j["hits"][0]["offset"], 12)
        self.assertEqual(j["hits"][0]["length"], len(secret))
        self.assertEqual(j["hits"][0]["context"], j["text"][12:12 + len(j["hits"][0]["context"])])
        self.assertTrue(j["hits"][0]["rule"])
        self.assertNotIn(secret, j["text"])
        self.assertEqual(self.d.ctl("redact", input="nothing here", check=True).stdout, "nothing here")

    def test_doctor(self):
        self.exchange()
        expect_ok = ["socket directory", "daemon on ctl.sock", "daemon on mcp.sock", "version",
                     "database integrity", "server key"]
        r = self.d.ctl("doctor")
        self.assertIn(r.returncode, (0, 1), r.stderr)
        lines = r.stdout.splitlines()
        # 11 checks, then one line per client for its hooks (tests/e2e/test_setup.py has those).
        self.assertEqual(len(lines), 14)
        for client in ("Claude Code", "Codex", "Gemini CLI"):
            self.assertTrue(any(f" {client} hooks: " in l for l in lines), lines)
        self.assertTrue(all(l.split(" ")[0] in ("[ok]", "[FAIL]", "[--]") for l in lines), lines)
        for name in expect_ok:
            self.assertTrue(any(l.startswith("[ok]") and f" {name}: " in l for l in lines), name)
        j = json.loads(self.d.ctl("--json", "doctor").stdout)
        status = {c["check"]: c["status"] for c in j["checks"]}
        for name in expect_ok:
            self.assertEqual(status[name], "ok", j)
        self.assertEqual(j["ok"], all(s != "fail" for s in status.values()))
        # A project .mcp.json naming an existing shim satisfies that check; one whose shim is
        # gone fails it (tests/e2e/test_setup.py has the rest of the wiring checks).
        with tempfile.TemporaryDirectory() as cwd:
            for shim, want in ((os.path.realpath(SHIM), "ok"), ("/x/claude-bridge-shim", "fail")):
                with open(os.path.join(cwd, ".mcp.json"), "w") as f:
                    json.dump({"mcpServers": {"bridge": {"command": shim}}}, f)
                r = subprocess.run([CTL, "--socket-dir", self.d.socket_dir, "--json", "doctor"],
                                   cwd=cwd, env=self.d.env, capture_output=True, text=True)
                status = {c["check"]: c["status"] for c in json.loads(r.stdout)["checks"]}
                self.assertEqual(status["Claude Code configuration"], want)
        # A key others can read is named, with the fix.
        key = os.path.join(self.d.state_dir, "server.key")
        os.chmod(key, 0o644)
        r = self.d.ctl("doctor")
        self.assertEqual(r.returncode, 1)
        self.assertIn("[FAIL] server key", r.stdout)
        self.assertIn("chmod 600 " + key, r.stdout)
        self.assertTrue(any(e["action"] == "admin_integrity" and e["details"]["uid"] == os.getuid()
                            for e in self.audit_actions()))

    def test_doctor_with_the_daemon_down(self):
        self.d.stop()
        r = self.d.ctl("--json", "doctor")
        self.assertEqual(r.returncode, 1)
        status = {c["check"]: c["status"] for c in json.loads(r.stdout)["checks"]}
        self.assertEqual(status["daemon on ctl.sock"], "fail")
        self.assertEqual(status["version"], "skipped")

    def test_mcp_config(self):
        missing = os.path.join(self.d.root, "nowhere")
        r = subprocess.run([CTL, "--socket-dir", missing, "mcp-config"], env=self.d.env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(missing))  # no daemon needed, nothing created
        out = r.stdout
        snippet = json.loads(out[out.index("\n{") + 1:])
        shim = snippet["mcpServers"]["bridge"]["command"]
        self.assertTrue(os.path.isabs(shim))
        self.assertTrue(os.access(shim, os.X_OK))
        self.assertEqual(os.path.basename(shim), "claude-bridge-shim")
        # Not the default socket directory: the entry names it (test_operator.py has more).
        self.assertEqual(snippet["mcpServers"]["bridge"]["args"], ["--socket-dir", missing])
        self.assertIn(f"claude mcp add --scope user bridge -- {shim} --socket-dir {missing}\n", out)
        j = json.loads(subprocess.run([CTL, "--json", "mcp-config", "--name", "peer"],
                                      env=self.d.env, capture_output=True, text=True).stdout)
        self.assertEqual(j["command"], f"claude mcp add --scope user peer -- {shim}")
        self.assertEqual(j["mcp_json"]["mcpServers"]["peer"]["command"], shim)
        self.ctl_fail("mcp-config", "--name", "bad name", code=2)

    def test_daemon_down(self):
        self.d.stop()
        for args in (["list"], ["show", "conv_0000000000000000"], ["audit"], ["audit", "--verify"],
                     ["stats"], ["cleanup"], ["watch"], ["tokens", "conv_0000000000000000"],
                     ["export", "conv_0000000000000000"], ["backup", "/tmp/x.db"],
                     ["--json", "list"]):
            with self.subTest(args):
                line = self.ctl_fail(*args, code=69)
                self.assertIn(self.d.ctl_sock, line)
                self.assertIn(f"claude-bridged --socket-dir {self.d.socket_dir}", line)
                self.assertIn("systemctl --user start claude-bridge.socket", line)
        self.ctl_fail("redact", input="x", code=69)

    def test_socket_dir_from_the_environment(self):
        env = dict(self.d.env, CLAUDE_BRIDGE_SOCKET_DIR=self.d.socket_dir)
        r = subprocess.run([CTL, "--json", "list"], env=env, capture_output=True, text=True)
        self.assertEqual((r.returncode, json.loads(r.stdout)), (0, {"conversations": []}))

    def test_terminal_output(self):
        """Colour and Unicode marks on a terminal only; NO_COLOR keeps the marks, drops colour."""
        import pty
        *_, conv = self.exchange()

        def on_tty(*args, **env):
            master, slave = pty.openpty()
            p = subprocess.Popen([CTL, "--socket-dir", self.d.socket_dir, *args], stdout=slave,
                                 stderr=subprocess.DEVNULL, env=dict(self.d.env, TERM="xterm",
                                                                     **env))
            os.close(slave)
            out = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO once the child has closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            os.close(master)
            p.wait(10)
            return out.decode()

        colored = on_tty("show", conv)
        self.assertIn("\x1b[", colored)
        self.assertIn("a → b", colored)
        self.assertIn("…", colored)
        plain = on_tty("show", conv, NO_COLOR="1")
        self.assertNotIn("\x1b[", plain)
        self.assertIn("a → b", plain)
        self.assertIn("✓ audit chain intact", on_tty("audit", "--verify", NO_COLOR="1"))
        piped = self.d.ctl("show", conv, check=True).stdout
        self.assertNotIn("\x1b[", piped)
        self.assertNotIn("→", piped)

    def test_restore_asks_on_a_terminal(self):
        import pty
        *_, conv = self.exchange()
        path = os.path.join(self.d.root, "b.db")
        self.d.ctl("backup", path, check=True)
        master, slave = pty.openpty()
        p = subprocess.Popen([CTL, "--socket-dir", self.d.socket_dir, "restore", path],
                             stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.d.env, text=True)
        os.close(slave)
        os.write(master, b"n\n")
        out, err = p.communicate(timeout=10)
        os.close(master)
        self.assertEqual(p.returncode, 1)
        self.assertIn("Continue? [y/N]", err)
        self.assertIn("restore cancelled; nothing changed", err)
        self.assertFalse(any(e["action"] == "admin_restore" for e in self.audit_actions()))

    def test_ctl_links_no_database(self):
        r = subprocess.run(["readelf", "-d", CTL], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("readelf not available")
        needed = [l.split("[")[1].rstrip("]") for l in r.stdout.splitlines() if "(NEEDED)" in l]
        self.assertTrue(needed)
        self.assertFalse([n for n in needed if "sqlite" in n.lower() or "crypto" in n.lower()],
                         needed)

    def test_help_everywhere_creates_nothing(self):
        with tempfile.TemporaryDirectory() as cwd:
            sock = os.path.join(cwd, "sockets")
            for args in [["--help"], ["-h"], ["--version"]] + [[s, "--help"] for s in SUBCOMMANDS]:
                with self.subTest(args):
                    r = subprocess.run([CTL, "--socket-dir", sock, *args], cwd=cwd,
                                       env=self.d.env, capture_output=True, text=True)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(r.stderr, "")
                    if args != ["--version"]:
                        self.assertIn("Usage: claude-bridgectl", r.stdout)
                    self.assertEqual(os.listdir(cwd), [])

    def test_bash_completion(self):
        *_, conv = self.exchange()
        script = os.path.join(os.path.dirname(__file__), "..", "..", "ctl", "completion",
                              "claude-bridgectl.bash")

        def complete(*words):
            env = dict(self.d.env, PATH=os.path.dirname(CTL) + os.pathsep + self.d.env["PATH"])
            prog = ('source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _claude_bridgectl; '
                    'printf "%s\\n" "${COMPREPLY[@]}"')
            r = subprocess.run(["bash", "-c", prog, script, "claude-bridgectl", *words], env=env,
                               capture_output=True, text=True, check=True)
            return r.stdout.split()

        self.assertEqual(complete("ex"), ["export"])
        self.assertIn("--verify", complete("audit", "--"))
        self.assertEqual(complete("export", conv, "--format", ""), ["json", "markdown"])
        self.assertEqual(complete("--socket-dir", self.d.socket_dir, "show", "conv_"), [conv])

    def test_usage_errors(self):
        for args in ([], ["frobnicate"], ["show"], ["list", "--bogus"], ["export"]):
            with self.subTest(args):
                line = self.ctl_fail(*args, code=2)
                self.assertIn("--help", line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
