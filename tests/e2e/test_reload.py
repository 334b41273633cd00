"""SIGHUP reloads the configuration file: every key README says takes effect on reload
([conversation], [rate_limits], [redaction], [yolo]) is changed on a running daemon here, and
the next call sees the new value. A refused file (bad value, or one others could write) keeps
the running configuration and says why in one line. Condition polls, never sleeps."""
import datetime
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, DaemonTest, NO_LIMITS, err_text, make_token_like, ok  # noqa: E402
from test_exec import SANDBOX, approve_with_tty  # noqa: E402


def wait_until(pred, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class ReloadTest(DaemonTest):
    config = NO_LIMITS

    def write_config(self, text):
        with open(self.d.config_path, "w") as f:
            f.write(text)

    def hup(self, needle):
        before = self.d.read_log().count(needle)
        self.d.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.d.read_log().count(needle) > before, what=repr(needle))
        return [l for l in self.d.read_log().splitlines() if needle in l][-1]

    def reload(self, text):
        """Writes `text` as the config file and waits until the daemon says it reloaded it."""
        self.write_config(text)
        self.hup("configuration reloaded")

    def conversation(self, client):
        conv = ok(client.call("create_conversation", {"my_role": "backend_developer",
                                                      "partner_role": "frontend_developer"}))
        ca = {"conversation_id": conv["conversation_id"], "session_id": "a",
              "token": conv["session_a_token"]}
        cb = {"conversation_id": conv["conversation_id"], "session_id": "b",
              "token": conv["session_b_token"]}
        return conv, ca, cb


def message_schema(client):
    tools = client.request("tools/list")["result"]["tools"]
    send = next(t for t in tools if t["name"] == "send_to_partner")
    return send["inputSchema"]["properties"]["message"]


class Conversation(ReloadTest):
    config = NO_LIMITS + "[conversation]\nmessage_max_chars = 10\n"

    def test_message_max_chars_reaches_tools_list_and_the_limit(self):
        a, b, ca, cb = self.pair(shim=False)
        self.assertEqual(message_schema(a)["maxLength"], 10)
        self.assertIn("Invalid arguments", err_text(a.call("send_to_partner",
                                                           {**ca, "message": "x" * 20})))
        self.reload(NO_LIMITS + "[conversation]\nmessage_max_chars = 30\n")
        # The connection that listed the tools before, and a new one, see the new limit.
        self.assertEqual(message_schema(a)["maxLength"], 30)
        self.assertEqual(message_schema(self.client(shim=False))["maxLength"], 30)
        ok(a.call("send_to_partner", {**ca, "message": "x" * 20}))
        self.assertIn("Invalid arguments", err_text(a.call("send_to_partner",
                                                           {**ca, "message": "x" * 31})))
        # Lowered below what the schema said before: refused again.
        self.reload(NO_LIMITS + "[conversation]\nmessage_max_chars = 5\n")
        self.assertEqual(message_schema(a)["maxLength"], 5)
        self.assertIn("Invalid arguments", err_text(a.call("send_to_partner",
                                                           {**ca, "message": "x" * 20})))
        self.assertEqual([m["message"] for m in ok(b.call("check_messages", cb))["messages"]],
                         ["x" * 20])

    def test_ttl_seconds(self):
        a = self.client(shim=False)
        conv, *_ = self.conversation(a)
        self.assertEqual(iso(conv["expires_at"]) - iso(conv["created_at"]),
                         datetime.timedelta(seconds=10800))
        self.reload(NO_LIMITS + "[conversation]\nttl_seconds = 600\n")
        conv, *_ = self.conversation(a)
        self.assertEqual(iso(conv["expires_at"]) - iso(conv["created_at"]),
                         datetime.timedelta(seconds=600))

    def test_read_page_size(self):
        a, b, ca, cb = self.pair(shim=False)
        for i in range(3):
            ok(a.call("send_to_partner", {**ca, "message": "m%d" % i}))
        self.reload(NO_LIMITS + "[conversation]\nread_page_size = 2\n")
        page = ok(b.call("check_messages", cb))
        self.assertEqual([m["message"] for m in page["messages"]], ["m0", "m1"])
        self.assertTrue(page["has_more"])

    def test_alive_seconds(self):
        a, b, ca, cb = self.pair(shim=False)
        ok(b.call("update_my_status", {**cb, "status": "working"}))
        self.assertTrue(ok(a.call("check_partner_status", ca))["alive"])
        self.reload(NO_LIMITS + "[conversation]\nalive_seconds = 1\n")
        # The heartbeat is now older than one second: not alive any more (it would stay alive
        # for the default 120 s).
        wait_until(lambda: not ok(a.call("check_partner_status", ca))["alive"],
                   what="partner no longer alive")

    def test_retention_days_purges_at_the_reload(self):
        a = self.client(shim=False)
        conv, *_ = self.conversation(a)
        # A conversation that expired two days ago, brought in through import (a ttl cannot go
        # below 60 s): kept under the default 7 days of retention.
        doc = self.d.ctl_json("export", conv["conversation_id"])
        old = "conv_" + "d" * 16
        doc["conversation"]["conversation_id"] = old
        doc["conversation"]["created_ms"] -= 3 * 86400 * 1000
        doc["conversation"]["expires_ms"] -= 3 * 86400 * 1000
        path = os.path.join(self.d.root, "expired.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        self.d.ctl("import", path, check=True)

        def listed():
            return {c["conversation_id"] for c in self.d.ctl_json("list")["conversations"]}

        self.assertIn(old, listed())
        self.reload(NO_LIMITS + "[conversation]\nretention_days = 1\n")
        wait_until(lambda: old not in listed(), what="the expired conversation purged")
        self.assertIn(conv["conversation_id"], listed())
        self.assertIn("purged 1 conversations past retention", self.d.read_log())


class RateLimits(ReloadTest):
    def limited_to_one(self, key):
        return NO_LIMITS.replace("%s = 0" % key, "%s = 1" % key)

    def test_send_windows(self):
        a = self.client(shim=False)
        for key, unit in (("send_per_minute", "minute"), ("send_per_hour", "hour"),
                          ("send_per_day", "day")):
            with self.subTest(key=key):
                _, ca, _ = self.conversation(a)
                ok(a.call("send_to_partner", {**ca, "message": "one"}))
                ok(a.call("send_to_partner", {**ca, "message": "two"}))
                self.reload(self.limited_to_one(key))
                _, ca, _ = self.conversation(a)
                ok(a.call("send_to_partner", {**ca, "message": "one"}))
                text = err_text(a.call("send_to_partner", {**ca, "message": "two"}))
                self.assertIn("rate_limited", text)
                self.assertIn("at most 1 messages per " + unit, text)
                self.reload(NO_LIMITS)

    def test_read_per_minute(self):
        a, b, ca, cb = self.pair(shim=False)
        for _ in range(3):
            ok(b.call("check_messages", cb))
        self.reload(self.limited_to_one("read_per_minute"))
        _, ca, cb = self.conversation(a)
        ok(b.call("check_messages", cb))
        self.assertIn("rate_limited", err_text(b.call("check_messages", cb)))

    def test_auth_failures_per_minute(self):
        a = self.client(shim=False)
        _, ca, _ = self.conversation(a)
        wrong = {**ca, "token": make_token_like("wrong")}
        self.reload(NO_LIMITS + "auth_failures_per_minute = 1\n")
        c = self.client(shim=False)
        self.assertIn("bad_token", err_text(c.call("check_messages", wrong)))
        # One failure is now the limit: even the right token waits out the minute here.
        self.assertIn("auth_locked", err_text(c.call("check_messages", ca)))
        ok(a.call("check_messages", ca))  # only that connection


class Redaction(ReloadTest):
    def test_custom_rules(self):
        a, b, ca, cb = self.pair(shim=False)
        secret = "acme_" + make_token_like("acme")[:20]
        self.assertFalse(ok(a.call("send_to_partner", {**ca, "message": secret}))["redacted"])
        self.reload(NO_LIMITS + "[[redaction.rules]]\nname = \"acme_token\"\n"
                    "pattern = 'acme_[a-f0-9]{20}'\nplaceholder = \"ACME_REDACTED\"\n")
        sent = ok(a.call("send_to_partner", {**ca, "message": "key " + secret}))
        self.assertTrue(sent["redacted"])
        self.assertEqual(sent["redactions"], {"acme_token": 1})
        got = [m["message"] for m in ok(b.call("check_messages", cb))["messages"]]
        self.assertEqual(got, [secret, "key ACME_REDACTED"])
        # Rules removed from the file are gone after the next reload.
        self.reload(NO_LIMITS)
        self.assertFalse(ok(a.call("send_to_partner", {**ca, "message": secret}))["redacted"])


EXEC_TOOLS = {"enable_yolo_mode", "execute_command"}


def tool_names(client):
    return {t["name"] for t in client.request("tools/list")["result"]["tools"]}


class ExecListing(ReloadTest):
    """The command-execution tools are in tools/list only while [yolo] enabled = true (they cost
    every session's context ~1,500 tokens); unlisted, they still answer with how to turn them
    on. Needs no sandbox: listing follows the config, not whether bubblewrap works here."""

    def yolo_on(self):
        ws = os.path.join(self.d.root, "ws")
        os.makedirs(ws, exist_ok=True)
        return NO_LIMITS + "[yolo]\nenabled = true\nworkspaces = %s\n" % json.dumps([ws])

    def test_listed_only_while_enabled_and_after_each_reload(self):
        a, b, ca, cb = self.pair(shim=False)
        self.assertEqual(tool_names(a) & EXEC_TOOLS, set())
        self.assertIn("create_conversation", tool_names(a))
        # Unlisted is not unknown: a client that calls it learns how a person turns it on.
        self.assertIn("exec_disabled",
                      err_text(a.call("enable_yolo_mode", {**ca, "mode": "safe"})))
        self.reload(self.yolo_on())
        self.assertEqual(tool_names(a) & EXEC_TOOLS, EXEC_TOOLS)
        self.assertEqual(tool_names(self.client(shim=False)) & EXEC_TOOLS, EXEC_TOOLS)
        self.reload(NO_LIMITS + "[yolo]\nenabled = false\n")
        self.assertEqual(tool_names(a) & EXEC_TOOLS, set())


@unittest.skipUnless(SANDBOX, "bubblewrap cannot create a sandbox here")
class Yolo(ReloadTest):
    def setUp(self):
        super().setUp()
        self.ws = os.path.join(self.d.root, "ws")
        self.ws2 = os.path.join(self.d.root, "ws2")
        os.makedirs(self.ws)
        os.makedirs(self.ws2)

    def yolo(self, **keys):
        values = {"enabled": "true", "workspaces": json.dumps([self.ws]), "max_mode": '"yolo"',
                  "max_timeout_seconds": "300", "allow_network": "false",
                  "approval_timeout_seconds": "300", "output_max_bytes": "65536"}
        values.update(keys)
        return NO_LIMITS + "[yolo]\n" + "".join("%s = %s\n" % kv for kv in values.items())

    def enable(self, client, creds, mode="safe", **extra):
        return client.call("enable_yolo_mode", {**creds, "mode": mode, **extra})

    def test_enabled_max_mode_workspaces_timeouts_network(self):
        a, b, ca, cb = self.pair(shim=False)
        self.assertIn("exec_disabled", err_text(self.enable(a, ca)))
        self.reload(self.yolo(max_mode='"restricted"', workspaces=json.dumps([self.ws]),
                              max_timeout_seconds="30", approval_timeout_seconds="77"))
        self.assertIn("above_ceiling", err_text(self.enable(a, ca, "yolo")))
        self.assertIn("timeout_too_long", err_text(self.enable(a, ca, timeout=31)))
        self.assertIn("bad_workspace", err_text(self.enable(a, ca, workspace=self.ws2)))
        on = ok(self.enable(a, ca, "restricted", timeout=30))
        self.assertEqual((on["max_mode"], on["workspace"], on["allow_network"]),
                         ("restricted", os.path.realpath(self.ws), False))
        self.assertIn("for up to 77 s", on["approval"])

        self.reload(self.yolo(max_mode='"yolo"', workspaces=json.dumps([self.ws2]),
                              max_timeout_seconds="100", allow_network="true",
                              approval_timeout_seconds="99"))
        self.assertIn("bad_workspace", err_text(self.enable(a, ca, workspace=self.ws)))
        on = ok(self.enable(a, ca, "yolo", timeout=100))
        self.assertEqual((on["max_mode"], on["workspace"], on["allow_network"]),
                         ("yolo", os.path.realpath(self.ws2), True))
        self.assertIn("for up to 99 s", on["approval"])

        self.reload(self.yolo(enabled="false"))
        self.assertIn("exec_disabled", err_text(self.enable(a, ca)))

    def run_approved(self, client, creds, command):
        rid = client.next_id
        client.next_id += 1
        client.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                     "params": {"name": "execute_command",
                                "arguments": {**creds, "command": command}}})
        apr = wait_until(lambda: self.d.ctl_json("approvals")["approvals"],
                         what="the approval")[-1]
        rc, shown = approve_with_tty(self.d, apr["id"])
        self.assertEqual(rc, 0, shown)
        return ok(client.wait_for(lambda m: m.get("id") == rid and "method" not in m,
                                  60)["result"])

    def test_output_max_bytes(self):
        with open(os.path.join(self.ws, "big.txt"), "w") as f:
            f.write("a line of text\n" * 300)  # 4,500 bytes
        self.reload(self.yolo(output_max_bytes="1024"))
        a, b, ca, cb = self.pair(shim=False)
        ok(self.enable(a, ca))
        self.assertTrue(self.run_approved(a, ca, "cat big.txt")["stdout_truncated"])
        self.reload(self.yolo(output_max_bytes="65536"))
        self.assertFalse(self.run_approved(a, ca, "cat big.txt")["stdout_truncated"])


class RefusedReload(ReloadTest):
    config = NO_LIMITS + "[conversation]\nmessage_max_chars = 10\n"

    def test_a_file_others_can_write_is_refused_and_the_running_config_stays(self):
        a, b, ca, cb = self.pair(shim=False)
        self.write_config(NO_LIMITS + "[conversation]\nmessage_max_chars = 30\n")
        os.chmod(self.d.config_path, 0o666)
        line = self.hup("reload refused")
        self.assertIn("keeping the running configuration", line)
        self.assertIn("chmod go-w " + self.d.config_path, line)
        self.assertIsNone(self.d.proc.poll())
        self.assertEqual(message_schema(a)["maxLength"], 10)
        # The directory too, unless sticky.
        os.chmod(self.d.config_path, 0o600)
        os.chmod(self.d.root, 0o777)
        try:
            line = self.hup("reload refused")
            self.assertIn("config directory " + self.d.root, line)
            self.assertEqual(message_schema(a)["maxLength"], 10)
            os.chmod(self.d.root, 0o1777)
            self.hup("configuration reloaded")
            self.assertEqual(message_schema(a)["maxLength"], 30)
        finally:
            os.chmod(self.d.root, 0o700)

    @unittest.skipUnless(os.geteuid() == 0, "only root can give the file to another user")
    def test_a_file_owned_by_another_user_is_refused(self):
        a = self.client(shim=False)
        self.write_config(NO_LIMITS + "[conversation]\nmessage_max_chars = 30\n")
        os.chown(self.d.config_path, 65534, 65534)
        line = self.hup("reload refused")
        self.assertIn("is owned by uid 65534", line)
        self.assertEqual(message_schema(a)["maxLength"], 10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
