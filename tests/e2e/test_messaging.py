"""Two sessions through two real shims: the five tools of the original, done right."""
import os
import random
import string
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import DaemonTest, err_text, make_token_like, ok  # noqa: E402


def fake_github_token():
    # Built at run time: committed secret-looking literals trip scanners.
    rnd = random.Random(7)
    return "gh" + "p_" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))


class TwoSessions(DaemonTest):
    config = "[rate_limits]\nsend_per_minute = 5\n"

    def test_exchange(self):
        a, b, ca, cb = self.pair()
        sent = ok(a.call("send_to_partner", {**ca, "message": "API ready at /v1/users",
                                             "action_type": "proposal",
                                             "files_involved": ["src/api.ts", "docs/api.md"]}))
        self.assertEqual(sent["status"], "sent")
        self.assertFalse(sent["redacted"])
        got = ok(b.call("check_messages", cb))
        self.assertEqual(len(got["messages"]), 1)
        m = got["messages"][0]
        self.assertEqual(m["id"], sent["message_id"])
        self.assertEqual(m["from"], "a")
        self.assertEqual(m["from_role"], "backend_developer")
        self.assertEqual(m["message"], "API ready at /v1/users")
        self.assertEqual(m["metadata"], {"action_type": "proposal",
                                         "files_involved": ["src/api.ts", "docs/api.md"]})
        self.assertTrue(m["timestamp"].endswith("Z"))
        # Exactly once.
        self.assertEqual(ok(b.call("check_messages", cb))["messages"], [])
        # since_id re-reads, read or not.
        again = ok(b.call("check_messages", {**cb, "since_id": 0}))
        self.assertEqual([x["id"] for x in again["messages"]], [sent["message_id"]])
        # The sender's own inbox is separate.
        self.assertEqual(ok(a.call("check_messages", ca))["messages"], [])

    def test_limit_and_has_more(self):
        a, b, ca, cb = self.pair()
        ids = [ok(a.call("send_to_partner", {**ca, "message": f"m{i}"}))["message_id"] for i in range(3)]
        first = ok(b.call("check_messages", {**cb, "limit": 2}))
        self.assertEqual([m["id"] for m in first["messages"]], ids[:2])
        self.assertTrue(first["has_more"])
        rest = ok(b.call("check_messages", {**cb, "limit": 2}))
        self.assertEqual([m["id"] for m in rest["messages"]], ids[2:])
        self.assertFalse(rest["has_more"])

    def test_status_and_partner_status(self):
        a, b, ca, cb = self.pair()
        unknown = ok(b.call("check_partner_status", cb))
        self.assertEqual(unknown["status"], "unknown")
        self.assertIsNone(unknown["last_heartbeat"])
        self.assertFalse(unknown["alive"])
        self.assertTrue(unknown["connected"])  # a is connected (it created the conversation)
        st = ok(a.call("update_my_status", {**ca, "status": "working"}))
        self.assertEqual(st["status"], "working")
        seen = ok(b.call("check_partner_status", cb))
        self.assertEqual(seen["status"], "working")
        self.assertTrue(seen["alive"])
        self.assertLessEqual(seen["age_seconds"], 5)
        self.assertEqual(seen["partner_role"], "backend_developer")

    def test_refusals(self):
        a, b, ca, cb = self.pair()
        bad = {**cb, "token": make_token_like("wrong")}
        self.assertIn("bad_token", err_text(b.call("check_messages", bad)))
        # a's token does not authenticate b.
        self.assertIn("bad_token", err_text(b.call("check_messages", {**cb, "token": ca["token"]})))
        unknown = {**cb, "conversation_id": "conv_0123456789abcdef"}
        self.assertIn("unknown_conversation", err_text(b.call("check_messages", unknown)))
        too_long = "x" * 50001
        text = err_text(a.call("send_to_partner", {**ca, "message": too_long}))
        self.assertIn("50000", text)
        # Code points, not bytes: 50,000 three-byte characters are fine.
        ok(a.call("send_to_partner", {**ca, "message": "✓" * 50000}))
        self.assertIn("action_type", err_text(a.call("send_to_partner",
                                                     {**ca, "message": "x", "action_type": "shout"})))
        self.assertIn("files_involved", err_text(a.call("send_to_partner", {
            **ca, "message": "x", "files_involved": ["f"] * 21})))

    def test_rate_limit_after_auth_only(self):
        a, b, ca, cb = self.pair()
        # Failed authentications against a's session do not use up a's quota.
        for _ in range(8):
            err_text(b.call("send_to_partner", {**ca, "token": make_token_like("guess"),
                                                "message": "x"}))
        for i in range(4):  # one already sent below? no: 5 allowed per minute
            ok(a.call("send_to_partner", {**ca, "message": f"m{i}"}))
        ok(a.call("send_to_partner", {**ca, "message": "m4"}))
        text = err_text(a.call("send_to_partner", {**ca, "message": "one too many"}))
        self.assertIn("rate_limited", text)
        self.assertIn("retry_after_seconds=", text)
        # b's own quota is untouched.
        ok(b.call("send_to_partner", {**cb, "message": "hello"}))

    def test_state_dir_holds_no_token_and_no_secret(self):
        a, b, ca, cb = self.pair()
        secret = fake_github_token()
        sent = ok(a.call("send_to_partner", {**ca, "message": f"use {secret} for the CI",
                                             "files_involved": [f"notes-{secret}.txt"]}))
        self.assertTrue(sent["redacted"])
        self.assertGreaterEqual(sum(sent["redactions"].values()), 2)
        got = ok(b.call("check_messages", cb))["messages"][0]
        self.assertNotIn(secret, got["message"])
        self.assertNotIn(secret, got["metadata"]["files_involved"][0])
        self.d.stop()
        blobs = b""
        for name in os.listdir(self.d.state_dir):
            with open(os.path.join(self.d.state_dir, name), "rb") as f:
                blobs += f.read()
        for needle in (ca["token"], cb["token"], secret):
            self.assertNotIn(needle.encode(), blobs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
