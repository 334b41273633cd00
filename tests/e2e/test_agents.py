"""Named agents end to end (issue 23), through real shims: four agents in two projects find
each other with list_agents, exchange direct and group messages with no token anywhere in their
calls, one is killed and restarted and gets its unread mail back under the same name; and a wait
its client abandoned (no cancel) hands its message out again to the next read."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SHIM, DaemonTest, McpClient, err_text, ok, wait_until  # noqa: E402

# What a client's environment may say about it; cleared so the test runs the same inside one.
MARKERS = ("CLAUDECODE", "GEMINI_CLI", "CLAUDE_CODE_SESSION_ID", "CLAUDE_PROJECT_DIR",
           "CLAUDE_BRIDGE_AGENT", "CLAUDE_CODE_ENTRYPOINT")


class AgentsTest(DaemonTest):
    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="cb-agents-")
        self.projects = {}
        for name in ("webshop", "billing"):
            path = os.path.join(self.root, name)
            os.mkdir(path)
            self.projects[name] = os.path.realpath(path)

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.root, ignore_errors=True)

    def agent(self, project, name=None):
        """A client session in `project` (CLAUDE_PROJECT_DIR), optionally with a chosen name,
        through a real shim; returns (client, its name from list_agents)."""
        env = {k: v for k, v in self.d.env.items() if k not in MARKERS}
        env["CLAUDE_PROJECT_DIR"] = self.projects[project]
        if name:
            env["CLAUDE_BRIDGE_AGENT"] = name
        proc = subprocess.Popen([SHIM, "--socket-dir", self.d.socket_dir, "--state-dir",
                                 self.d.state_dir, "--no-autostart"], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, bufsize=0)
        c = McpClient(proc.stdout, proc.stdin, lambda: (proc.stdin.close(), proc.wait(5)), proc)
        self.clients.append(c)
        c.initialize()
        me = ok(c.call("list_agents", {}))["you"]["name"]
        return c, me

    @staticmethod
    def no_token(args):
        for key in ("token", "session_id"):
            assert key not in args, args
        return args

    def call(self, c, tool, args):
        return ok(c.call(tool, self.no_token(args)))


class FourAgents(AgentsTest):
    def test_find_talk_in_pairs_and_groups_restart_with_mail(self):
        web, web_name = self.agent("webshop")
        rev, rev_name = self.agent("webshop", "reviewer")
        bill, bill_name = self.agent("billing")
        aud, aud_name = self.agent("billing", "auditor")
        self.assertEqual([web_name, rev_name, bill_name, aud_name],
                         ["webshop", "reviewer", "billing", "auditor"])

        listed = self.call(web, "list_agents", {})
        self.assertEqual(listed["you"], {"name": "webshop", "project": self.projects["webshop"]})
        self.assertEqual(listed["agents"][0]["name"], "webshop")
        self.assertEqual(sorted(a["name"] for a in listed["agents"]),
                         ["auditor", "billing", "reviewer", "webshop"])
        self.assertTrue(all(a["connected"] for a in listed["agents"]))
        mine = self.call(web, "list_agents", {"scope": "project"})
        self.assertEqual(sorted(a["name"] for a in mine["agents"]), ["reviewer", "webshop"])

        # Direct: across projects, by name.
        sent = self.call(web, "send_message", {"to": "billing", "message": "Which fields?",
                                               "action_type": "question"})
        self.assertEqual(sent["to"], ["billing"])
        got = self.call(bill, "wait_for_messages", {"timeout_seconds": 10})
        self.assertEqual([m["message"] for m in got["messages"]], ["Which fields?"])
        self.assertEqual(got["messages"][0]["from"], "webshop")
        self.assertEqual(got["messages"][0]["conversation_id"], sent["conversation_id"])
        answer = self.call(bill, "send_message", {"to": sent["conversation_id"],
                                                  "message": "id, total",
                                                  "reply_to": got["messages"][0]["id"]})
        self.assertEqual(answer["to"], ["webshop"])
        back = self.call(web, "check_messages", {})
        self.assertEqual(back["messages"][0]["reply_to"], got["messages"][0]["id"])

        # A group of all four, made by names.
        group = self.call(rev, "send_message", {"to": ["webshop", "billing", "auditor"],
                                                "message": "Release at noon"})
        self.assertEqual(group["to"], ["auditor", "billing", "webshop"])
        for c in (web, bill, aud):
            page = self.call(c, "check_messages", {})
            self.assertEqual([m["message"] for m in page["messages"]], ["Release at noon"])
            self.assertEqual(page["messages"][0]["from"], "reviewer")
        self.assertEqual(self.call(rev, "check_messages", {})["messages"], [])

        # A member-made group and status notes.
        made = self.call(aud, "create_conversation", {"members": ["reviewer"]})
        self.assertNotIn("session_a_token", made)
        self.call(aud, "update_my_status", {"status": "working", "note": "checking invoices"})
        view = {a["name"]: a for a in self.call(rev, "list_agents", {})["agents"]}
        self.assertEqual(view["auditor"]["note"], "checking invoices")
        self.assertEqual(view["auditor"]["status"], "working")

        # billing is killed; mail sent meanwhile waits for it under its name.
        bill.proc.kill()
        bill.proc.wait(5)
        wait_until(lambda: not {a["name"]: a for a in self.call(web, "list_agents", {})["agents"]}
                   ["billing"]["connected"], what="billing offline")
        self.call(web, "send_message", {"to": "billing", "message": "one"})
        self.call(aud, "send_message", {"to": "billing", "message": "two"})
        view = {a["name"]: a for a in self.call(web, "list_agents", {})["agents"]}
        self.assertFalse(view["billing"]["connected"])
        bill2, name2 = self.agent("billing")
        self.assertEqual(name2, "billing")
        page = self.call(bill2, "check_messages", {})
        self.assertEqual([m["message"] for m in page["messages"]], ["one", "two"])
        self.assertEqual(self.call(bill2, "check_messages", {})["messages"], [])

    def test_unknown_name_lists_who_is_online_and_unbound_connections_need_tokens(self):
        web, _ = self.agent("webshop")
        self.agent("billing")
        text = err_text(web.call("send_message", {"to": "nobody", "message": "hi"}))
        self.assertIn("unknown_agent", text)
        self.assertIn("billing", text)
        raw = self.d.connect()  # no shim, no hello: unbound, as before
        self.clients.append(raw)
        raw.initialize()
        self.assertIn("not_bound", err_text(raw.call("list_agents", {})))
        self.assertIn("missing_credentials", err_text(raw.call("check_messages", {})))


class AbandonedWait(AgentsTest):
    config = "[conversation]\nredeliver_after_seconds = 1\n"

    def abandon_a_wait(self, c, args):
        """Sends wait_for_messages without a progress token and never awaits its answer."""
        rid = 990000 + len(args)
        c.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                "params": {"name": "wait_for_messages", "arguments": args}})
        return rid

    def test_a_message_taken_by_an_abandoned_wait_is_offered_again(self):
        web, _ = self.agent("webshop")
        bill, _ = self.agent("billing")
        rid = self.abandon_a_wait(bill, {"timeout_seconds": 60})
        wait_until(lambda: {a["name"]: a for a in self.call(web, "list_agents", {})["agents"]}
                   ["billing"]["waiting"], what="billing waiting")
        time.sleep(1.2)  # the wait has blocked past redeliver_after_seconds
        self.call(web, "send_message", {"to": "billing", "message": "did you get this?"})
        # The abandoned call is answered (the client no longer listens) ...
        lost = bill.wait_for(lambda m: m.get("id") == rid)
        self.assertEqual(lost["result"]["structuredContent"]["messages"][0]["message"],
                         "did you get this?")
        # ... and the next read offers the message again, flagged, once.
        page = self.call(bill, "check_messages", {})
        self.assertEqual([m["message"] for m in page["messages"]], ["did you get this?"])
        self.assertTrue(page["messages"][0]["redelivered"])
        self.assertEqual(self.call(bill, "check_messages", {})["messages"], [])

    def test_a_wait_answered_promptly_is_not_offered_again(self):
        web, _ = self.agent("webshop")
        bill, _ = self.agent("billing")
        self.call(web, "send_message", {"to": "billing", "message": "quick"})
        page = self.call(bill, "wait_for_messages", {"timeout_seconds": 5})
        self.assertEqual([m["message"] for m in page["messages"]], ["quick"])
        self.assertNotIn("redelivered", page["messages"][0])
        self.assertEqual(self.call(bill, "check_messages", {})["messages"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
