"""Live delivery: wait_for_messages wakes on send, times out empty, reports progress, loses
nothing on cancel; presence follows live connections; channel push never marks anything read."""
import os
import signal
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import NO_LIMITS, DaemonTest, ok, wait_until  # noqa: E402


class Delivery(DaemonTest):
    def start_wait(self, client, creds, timeout_seconds=30, progress_token=None, rid=None):
        rid = rid if rid is not None else client.next_id
        client.next_id += 1
        params = {"name": "wait_for_messages", "arguments": {**creds, "timeout_seconds": timeout_seconds}}
        if progress_token is not None:
            params["_meta"] = {"progressToken": progress_token}
        client.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})
        return rid

    def until_partner_waits(self, client, creds, timeout=5):
        """Polls check_partner_status until it says the partner is blocked in a wait."""
        wait_until(lambda: ok(client.call("check_partner_status", creds))["waiting"], timeout,
                   "the partner's wait to register")

    def until_partner_stops_waiting(self, client, creds, timeout=5):
        """Polls check_partner_status until the partner's wait is gone (cancelled, closed)."""
        wait_until(lambda: not ok(client.call("check_partner_status", creds))["waiting"],
                   timeout, "the partner's wait to end")

    def result_of(self, client, rid, timeout=10):
        return client.wait_for(lambda m: m.get("id") == rid and "method" not in m, timeout)["result"]

    def test_returns_at_once_when_mail_is_waiting(self):
        a, b, ca, cb = self.pair()
        ok(a.call("send_to_partner", {**ca, "message": "already here"}))
        got = ok(b.call("wait_for_messages", {**cb, "timeout_seconds": 30}))
        self.assertEqual([m["message"] for m in got["messages"]], ["already here"])

    def test_wakes_on_send(self):
        a, b, ca, cb = self.pair()
        rid = self.start_wait(b, cb)
        self.until_partner_waits(a, ca)  # the waiter is registered before we send
        sent = ok(a.call("send_to_partner", {**ca, "message": "wake up"}))
        got = self.result_of(b, rid)["structuredContent"]
        self.assertEqual([m["id"] for m in got["messages"]], [sent["message_id"]])
        self.assertEqual(ok(b.call("check_messages", cb))["messages"], [])  # read exactly once

    def test_timeout_returns_empty_not_an_error(self):
        a, b, ca, cb = self.pair()
        got = ok(b.call("wait_for_messages", {**cb, "timeout_seconds": 1}, timeout=15))
        self.assertEqual(got["messages"], [])

    def test_progress_while_waiting(self):
        a, b, ca, cb = self.pair()
        rid = self.start_wait(b, cb, timeout_seconds=7, progress_token="pt-1")
        note = b.wait_for(lambda m: m.get("method") == "notifications/progress", timeout=15)
        self.assertEqual(note["params"]["progressToken"], "pt-1")
        self.assertIn("backend_developer", note["params"]["message"])  # b waits for a
        self.assertIn("waiting for partner", note["params"]["message"])
        got = self.result_of(b, rid, timeout=15)["structuredContent"]
        self.assertEqual(got["messages"], [])

    def test_cancel_loses_nothing(self):
        a, b, ca, cb = self.pair()
        rid = self.start_wait(b, cb)
        self.until_partner_waits(a, ca)
        b.notify("notifications/cancelled", {"requestId": rid, "reason": "user pressed Esc"})
        self.until_partner_stops_waiting(a, ca)  # the send below finds no waiter to wake
        ok(a.call("send_to_partner", {**ca, "message": "after the cancel"}))
        # No response ever comes for the cancelled request...
        with self.assertRaises(TimeoutError):
            b.wait_for(lambda m: m.get("id") == rid, timeout=1)
        # ...and the message is still unread.
        got = ok(b.call("check_messages", cb))
        self.assertEqual([m["message"] for m in got["messages"]], ["after the cancel"])

    def test_abandoned_wait_then_asked_again_loses_nothing(self):
        # Claude Code gives up on a silent call after its idle timeout without sending
        # notifications/cancelled, then calls again. The daemon ends the abandoned wait (an empty
        # answer nobody reads) instead of letting it take the next message.
        a, b, ca, cb = self.pair()
        abandoned = self.start_wait(b, cb)
        self.until_partner_waits(a, ca)
        again = self.start_wait(b, cb)
        self.assertEqual(self.result_of(b, abandoned)["structuredContent"]["messages"], [])
        self.until_partner_waits(a, ca)  # the second wait is registered
        ok(a.call("send_to_partner", {**ca, "message": "for the call that is listening"}))
        got = self.result_of(b, again)["structuredContent"]
        self.assertEqual([m["message"] for m in got["messages"]], ["for the call that is listening"])

    def test_abandoned_wait_then_check_messages_loses_nothing(self):
        a, b, ca, cb = self.pair()
        abandoned = self.start_wait(b, cb)
        self.until_partner_waits(a, ca)
        self.assertEqual(ok(b.call("check_messages", cb))["messages"], [])
        self.assertEqual(self.result_of(b, abandoned)["structuredContent"]["messages"], [])
        self.until_partner_stops_waiting(a, ca)
        ok(a.call("send_to_partner", {**ca, "message": "still unread"}))
        got = ok(b.call("check_messages", cb))
        self.assertEqual([m["message"] for m in got["messages"]], ["still unread"])

    def test_closed_connection_loses_nothing(self):
        a, b, ca, cb = self.pair()
        self.start_wait(b, cb)
        self.until_partner_waits(a, ca)
        b.close()
        self.until_partner_stops_waiting(a, ca)  # the daemon has seen the close
        ok(a.call("send_to_partner", {**ca, "message": "for the next session"}))
        b2 = self.client()
        got = ok(b2.call("check_messages", cb))
        self.assertEqual([m["message"] for m in got["messages"]], ["for the next session"])

    def test_waiters_in_different_conversations_are_not_confused(self):
        a1, b1, ca1, cb1 = self.pair()
        a2, b2, ca2, cb2 = self.pair()
        r1 = self.start_wait(b1, cb1)
        r2 = self.start_wait(b2, cb2, timeout_seconds=2)
        self.until_partner_waits(a1, ca1)
        self.until_partner_waits(a2, ca2)
        ok(a1.call("send_to_partner", {**ca1, "message": "only for conversation one"}))
        got1 = self.result_of(b1, r1)["structuredContent"]
        self.assertEqual(len(got1["messages"]), 1)
        got2 = self.result_of(b2, r2, timeout=15)["structuredContent"]
        self.assertEqual(got2["messages"], [])

    def test_presence_flips_when_a_shim_dies(self):
        a, b, ca, cb = self.pair()
        ok(b.call("check_messages", cb))  # b is now bound
        self.assertTrue(ok(a.call("check_partner_status", ca))["connected"])
        b.proc.kill()
        b.proc.wait()
        wait_until(lambda: not ok(a.call("check_partner_status", ca))["connected"], 5,
                   "the partner to be shown disconnected")

    def test_channel_push_does_not_mark_read(self):
        a, b, ca, cb = self.pair()
        ok(b.call("check_messages", cb))  # bind b's connection
        sent = ok(a.call("send_to_partner", {**ca, "message": "pushed"}))
        note = b.wait_for(lambda m: m.get("method") == "notifications/claude/channel", timeout=5)
        self.assertIn("1 new message from backend_developer", note["params"]["content"])
        self.assertEqual(note["params"]["meta"]["message_id"], str(sent["message_id"]))
        self.assertNotIn("pushed", note["params"]["content"])  # the body is pulled, not pushed
        got = ok(b.call("check_messages", cb))
        self.assertEqual([m["message"] for m in got["messages"]], ["pushed"])

    def test_sigterm_with_a_wait_in_flight_drains_and_exits(self):
        a, b, ca, cb = self.pair()
        self.start_wait(b, cb)
        self.until_partner_waits(a, ca)
        sent = ok(a.call("send_to_partner", {**ca, "message": "stored before the stop"}))
        self.start_wait(a, ca)  # a second wait, left blocked
        self.until_partner_waits(b, cb)
        self.assertEqual(self.d.stop(signal.SIGTERM), 0)
        log = self.d.read_log()
        # The stop ends the waits and closes the connections, and the daemon exits as soon as
        # nothing is left, not after its drain limit.
        self.assertIn("stopped: every connection closed, nothing left running", log)
        self.assertNotIn("was cut off", log)
        self.d.start()
        got = ok(self.client().call("check_messages", {**cb, "since_id": 0}))
        self.assertEqual([m["id"] for m in got["messages"]], [sent["message_id"]])

    def test_channel_push_once_per_unread_batch(self):
        a, b, ca, cb = self.pair()
        ok(b.call("check_messages", cb))  # bind b's connection
        for i in range(3):
            ok(a.call("send_to_partner", {**ca, "message": f"burst {i}"}))
        # A round trip on b's connection that reads nothing: pushes come before its reply.
        ok(b.call("check_partner_status", cb))
        pushes = lambda: [m for m in b.inbox if m.get("method") == "notifications/claude/channel"]
        self.assertEqual(len(pushes()), 1, "three messages, one push until b reads")
        self.assertIn("1 new message from backend_developer", pushes()[0]["params"]["content"])
        self.assertEqual(len(ok(b.call("check_messages", cb))["messages"]), 3)
        ok(a.call("send_to_partner", {**ca, "message": "after the read"}))
        ok(b.call("check_partner_status", cb))
        self.assertEqual(len(pushes()), 2, "read, so the next message is pushed again")

    def test_no_channel_push_when_a_wait_takes_the_message(self):
        a, b, ca, cb = self.pair()
        rid = self.start_wait(b, cb)
        self.until_partner_waits(a, ca)
        sent = ok(a.call("send_to_partner", {**ca, "message": "straight into the wait"}))
        got = self.result_of(b, rid)["structuredContent"]
        self.assertEqual([m["id"] for m in got["messages"]], [sent["message_id"]])
        # One more round trip on b's connection: a push would have been written before its reply.
        self.assertEqual(ok(b.call("check_messages", cb))["messages"], [])
        pushes = [m for m in b.inbox if m.get("method") == "notifications/claude/channel"]
        self.assertEqual(pushes, [], "the wait delivered the message; a push only sends the "
                                     "model to check_messages for nothing")


class DeliveryFullSync(Delivery):
    """The same with synchronous = "full": each group commit is fsynced on the daemon's sync
    thread before its calls are answered and its waiters woken (docs/architecture.md)."""
    config = NO_LIMITS + '\n[storage]\nsynchronous = "full"\n'

    @unittest.skip("no commit involved: covered by Delivery")
    def test_progress_while_waiting(self):
        pass

    @unittest.skip("no commit involved: covered by Delivery")
    def test_timeout_returns_empty_not_an_error(self):
        pass

    def test_many_senders_all_answered_and_stored(self):
        # Groups commit while earlier ones are still being synced: every send is answered once,
        # in order per sender, and the partner reads them all.
        pairs = [self.pair() for _ in range(3)]
        threads, acked = [], {}

        def sender(i, client, creds):
            acked[i] = [ok(client.call("send_to_partner", {**creds, "message": f"s{i}:{n}"}))
                        ["message_id"] for n in range(40)]

        for i, (a, _, ca, _) in enumerate(pairs):
            threads.append(threading.Thread(target=sender, args=(i, a, ca)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for i, (_, b, _, cb) in enumerate(pairs):
            self.assertEqual(acked[i], sorted(acked[i]))
            got = ok(b.call("check_messages", {**cb, "limit": 200}))
            self.assertEqual([m["message"] for m in got["messages"]],
                             [f"s{i}:{n}" for n in range(40)])
            self.assertEqual([m["id"] for m in got["messages"]], acked[i])
        self.assertNotIn("could not be synced", self.d.read_log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
