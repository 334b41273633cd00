"""The web console (`claude-bridgectl ui`) against a real daemon: the security rows of
SECURITY.md "The web console", each with raw sockets or http.client, and the console's life
(stops with the daemon, with SIGTERM). The page itself in a browser: tests/browser."""
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CTL, NO_LIMITS, Daemon, ok, wait_until  # noqa: E402

SOURCE = os.environ.get("CB_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "../..")
ASSETS = os.path.join(SOURCE, "ctl", "ui", "assets")


class Console:
    """`claude-bridgectl ui --no-open` on a daemon, with the URL it printed."""

    def __init__(self, daemon, *extra):
        self.proc = subprocess.Popen([CTL, "--socket-dir", daemon.socket_dir, "ui", "--no-open",
                                      *extra], env=daemon.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]{64})", self.url)
        if not m:
            self.proc.kill()
            raise AssertionError("ui printed %r; stderr: %s" % (self.url, self.proc.stderr.read()))
        self.port, self.token = int(m[1]), m[2]
        self.host = "127.0.0.1:%d" % self.port
        self.origin = "http://" + self.host

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, headers=None, body=None, cookie=None):
        c = self.conn()
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = cookie
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    @staticmethod
    def request_at(url, method, path):
        port = int(re.match(r"http://127\.0\.0\.1:(\d+)/", url)[1])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request(method, path)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def login(self):
        r, _ = self.request("GET", "/?token=" + self.token)
        assert r.status == 303, r.status
        return r.getheader("Set-Cookie").split(";")[0]

    def stop(self, sig=signal.SIGTERM):
        if self.proc.stderr.closed:
            return self.proc.returncode, ""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(30)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, err


def read_file(path):
    with open(path) as f:
        return f.read()


def close_shim(c):
    c.close()
    for pipe in (c.proc.stdout, c.proc.stderr):
        pipe.close()


def raw(port, data, read_timeout=30):
    """Sends bytes on a fresh connection; returns what came back until the server closed or
    stopped sending."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and b"Content-Length: " in out:
                head, _, body = out.partition(b"\r\n\r\n")
                n = int(re.search(rb"Content-Length: (\d+)", head)[1])
                if len(body) >= n:
                    break
        return out
    finally:
        s.close()


class ConsoleTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(NO_LIMITS)
        self.ui = Console(self.d)

    def tearDown(self):
        self.ui.stop()
        self.d.close()

    def test_listens_on_loopback_only(self):
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    addr, port = local.split(":")
                    if int(port, 16) == self.ui.port and state == "0A":
                        listening.append((table, addr))
        self.assertEqual(listening, [("/proc/net/tcp", "0100007F")])

    def test_every_address_needs_the_cookie(self):
        for path in ("/", "/app.js", "/views.js", "/app.css", "/api/list", "/api/health",
                     "/api/show?conversation_id=conv_0123456789abcdef", "/events", "/nothing"):
            r, body = self.ui.request("GET", path)
            self.assertEqual(r.status, 403, path)
            self.assertNotIn(b"<script", body)
        r, _ = self.ui.request("GET", "/api/list", cookie="cb_console=" + "0" * 64)
        self.assertEqual(r.status, 403)
        r, _ = self.ui.request("POST", "/api/audit/verify", headers={"Origin": self.ui.origin})
        self.assertEqual(r.status, 403)

    def test_the_token_works_once_and_becomes_a_strict_cookie(self):
        r, _ = self.ui.request("GET", "/?token=" + "0" * 64)
        self.assertEqual(r.status, 403)  # a wrong token does not use up the right one
        r, _ = self.ui.request("GET", "/?token=" + self.ui.token)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.getheader("Location"), "/")
        set_cookie = r.getheader("Set-Cookie")
        self.assertRegex(set_cookie, r"^cb_console=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$")
        self.assertNotIn(self.ui.token, set_cookie)
        cookie = set_cookie.split(";")[0]
        r, body = self.ui.request("GET", "/", cookie=cookie)
        self.assertEqual(r.status, 200)
        self.assertIn(b'<script defer src="/app.js">', body)
        r, body = self.ui.request("GET", "/?token=" + self.ui.token)
        self.assertEqual(r.status, 403)
        self.assertIn(b"used already", body)
        self.assertIsNone(r.getheader("Set-Cookie"))
        # The browser that holds the session may open the link again; it gets no new cookie.
        r, _ = self.ui.request("GET", "/?token=" + self.ui.token, cookie=cookie)
        self.assertEqual(r.status, 303)
        self.assertIsNone(r.getheader("Set-Cookie"))

    def test_the_token_is_in_no_argv_environment_log_or_audit(self):
        cookie = self.ui.login()
        session = cookie.split("=", 1)[1]
        a = self.d.shim()
        a.initialize()
        ok(a.call("create_conversation", {"my_role": "backend_developer",
                                          "partner_role": "frontend_developer"}))
        r, _ = self.ui.request("GET", "/api/list", cookie=cookie)
        self.assertEqual(r.status, 200)
        pid = self.ui.proc.pid
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read()
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read()
        audit = self.d.ctl("--json", "audit", "1000", check=True).stdout
        rc, err = self.ui.stop()
        self.assertEqual(rc, 0, err)
        close_shim(a)
        self.d.stop()
        log = self.d.read_log()
        for secret in (self.ui.token, session):
            for where, text in (("argv", cmdline.decode()), ("environment", environ.decode()),
                                ("the console's stderr", err), ("the daemon's log", log),
                                ("the audit", audit)):
                self.assertNotIn(secret, text, where)
        self.assertIn("admin_list", audit)  # the console's reads are audited like any ctl call

    def test_host_must_name_the_console(self):
        cookie = self.ui.login()
        for host in ("evil.example:%d" % self.ui.port, "127.0.0.1:%d" % (self.ui.port + 1),
                     "127.0.0.1", "localhost.evil.example:%d" % self.ui.port):
            r, body = self.ui.request("GET", "/api/list", headers={"Host": host}, cookie=cookie)
            self.assertEqual(r.status, 403, host)
            self.assertIn(b"Host", body)
        r, _ = self.ui.request("GET", "/api/list", headers={"Host": "localhost:%d" % self.ui.port},
                               cookie=cookie)
        self.assertEqual(r.status, 200)
        # Even the one-time link is refused through a rebound name, and stays unused.
        r, _ = self.ui.request("GET", "/?token=" + self.ui.token,
                               headers={"Host": "evil.example:%d" % self.ui.port})
        self.assertEqual(r.status, 403)

    def test_a_state_changing_request_is_a_post_from_this_origin(self):
        cookie = self.ui.login()
        for origin in (None, "null", "http://evil.example", "http://127.0.0.1:%d" % (self.ui.port + 1),
                       "https://127.0.0.1:%d" % self.ui.port):
            headers = {"Origin": origin} if origin else {}
            r, _ = self.ui.request("POST", "/api/audit/verify", headers=headers, cookie=cookie)
            self.assertEqual(r.status, 403, origin)
        r, _ = self.ui.request("GET", "/api/audit/verify", cookie=cookie)
        self.assertEqual(r.status, 405)
        for method in ("PUT", "DELETE", "PATCH"):
            r, _ = self.ui.request(method, "/api/list", cookie=cookie)
            self.assertEqual(r.status, 405, method)
        r, body = self.ui.request("POST", "/api/audit/verify", headers={"Origin": self.ui.origin},
                                  cookie=cookie)
        self.assertEqual(r.status, 200, body)
        self.assertTrue(json.loads(body)["ok"])

    def test_every_answer_carries_the_security_headers(self):
        cookie = self.ui.login()
        for path, c in (("/", cookie), ("/app.js", cookie), ("/api/list", cookie), ("/", None),
                        ("/nothing", cookie)):
            r, _ = self.ui.request("GET", path, cookie=c)
            csp = r.getheader("Content-Security-Policy") or ""
            directives = {d.strip().split()[0]: d.strip().split()[1:] for d in csp.split(";")}
            self.assertEqual(directives.get("default-src"), ["'self'"], path)
            self.assertEqual(directives.get("script-src"), ["'self'"], path)
            self.assertEqual(directives.get("frame-ancestors"), ["'none'"], path)
            self.assertEqual(directives.get("object-src"), ["'none'"], path)
            self.assertNotIn("unsafe", csp)
            self.assertNotIn("http", csp)
            self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
            self.assertEqual(r.getheader("Referrer-Policy"), "no-referrer")
        r, _ = self.ui.request("GET", "/app.js", cookie=cookie)
        self.assertTrue(r.getheader("Content-Type").startswith("text/javascript"))

    def test_malformed_requests_get_a_4xx(self):
        cookie = self.ui.login()
        host = ("Host: %s\r\n" % self.ui.host).encode()
        for bad in (b"GET / HTTP/1.1\r\n\r\n",  # no Host
                    b"GET / FOO/1.1\r\n" + host + b"\r\n",
                    b"GET / HTTP/1.1\r\nHost " + b"x" * 10 + b"\r\n\r\n",
                    b"GET / HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n",
                    b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n" + host + b"\r\n",
                    b"GET / HTTP/1.1\r\n" + host + b"X-Big: " + b"y" * 100000 + b"\r\n\r\n",
                    b"GET / HTTP/1.1\r\n" + host + b"Content-Length: -5\r\n\r\n",
                    b"GET / HTTP/1.1\r\n" + host + b"Content-Length: 5\r\nContent-Length: 7\r\n\r\n"):
            out = raw(self.ui.port, bad)
            self.assertRegex(out[:12], rb"^HTTP/1\.[01] 4\d\d", bad[:60])
        # Bytes that are not an HTTP request line at all: libmicrohttpd closes the connection.
        for junk in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\xff\r\n\r\n"):
            self.assertEqual(raw(self.ui.port, junk), b"")
        r, _ = self.ui.request("GET", "/api/list", cookie=cookie)
        self.assertEqual(r.status, 200)

    def test_oversized_bodies_get_413(self):
        cookie = self.ui.login()
        head = ("POST /api/audit/verify HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nCookie: %s\r\n"
                % (self.ui.host, self.ui.origin, cookie)).encode()
        out = raw(self.ui.port, head + b"Content-Length: 100000000\r\n\r\n" + b"z" * 1000)
        self.assertRegex(out[:12], rb"^HTTP/1\.1 413")
        chunk = b"1000\r\n" + b"z" * 4096 + b"\r\n"
        out = raw(self.ui.port, head + b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 3 + b"0\r\n\r\n")
        self.assertRegex(out[:12], rb"^HTTP/1\.1 413")
        r, _ = self.ui.request("GET", "/api/list", cookie=cookie)
        self.assertEqual(r.status, 200)

    def test_many_idle_connections_do_not_stop_a_normal_request(self):
        cookie = self.ui.login()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 700:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        idle = []
        try:
            for i in range(500):
                s = socket.create_connection(("127.0.0.1", self.ui.port), timeout=30)
                if i % 2:  # half of them stop in the middle of their headers
                    s.sendall(b"GET /api/list HTTP/1.1\r\nHo")
                idle.append(s)
            r, body = self.ui.request("GET", "/api/list", cookie=cookie)
            self.assertEqual(r.status, 200)
            self.assertIn("conversations", json.loads(body))
        finally:
            for s in idle:
                s.close()
        self.assertIsNone(self.ui.proc.poll())

    def test_events_stream_what_the_daemon_stores(self):
        cookie = self.ui.login()
        c = self.ui.conn()
        c.request("GET", "/events", headers={"Cookie": cookie})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/event-stream"))
        a = self.d.shim()
        a.initialize()
        conv = ok(a.call("create_conversation", {"my_role": "backend_developer",
                                                 "partner_role": "frontend_developer"}))
        creds = {"conversation_id": conv["conversation_id"], "session_id": "a",
                 "token": conv["session_a_token"]}
        ok(a.call("send_to_partner", {**creds, "message": "<b>live</b>\nsecond line"}))
        seen = []
        while True:
            line = r.fp.readline().decode()
            if line.startswith("data: "):
                event = json.loads(line[6:])
                seen.append(event.get("event"))
                if event.get("event") == "message":
                    self.assertEqual(event["message"], "<b>live</b>\nsecond line")
                    break
        self.assertIn("conversation_created", seen)
        c.close()
        close_shim(a)

    def test_bad_parameters_are_refused_before_the_daemon(self):
        cookie = self.ui.login()
        for path in ("/api/show", "/api/show?conversation_id=conv_XYZ",
                     "/api/audit?limit=0", "/api/audit?limit=abc",
                     "/api/audit?conversation_id=%3Cscript%3E"):
            r, _ = self.ui.request("GET", path, cookie=cookie)
            self.assertEqual(r.status, 400, path)
        r, body = self.ui.request("GET", "/api/show?conversation_id=conv_0123456789abcdef",
                                  cookie=cookie)
        self.assertEqual(r.status, 502)
        self.assertIn("error", json.loads(body))

    def test_messages_after_an_id_in_the_shape_of_show_without_the_nonce(self):
        cookie = self.ui.login()
        a = self.d.shim()
        a.initialize()
        conv = ok(a.call("create_conversation", {"my_role": "backend_developer",
                                                 "partner_role": "frontend_developer"}))
        creds = {"conversation_id": conv["conversation_id"], "session_id": "a",
                 "token": conv["session_a_token"]}
        for i in range(3):
            ok(a.call("send_to_partner", {**creds, "message": "m%d" % i,
                                          "files_involved": ["f%d.txt" % i]}))
        ids = [m["id"] for m in self.d.ctl_json("show", conv["conversation_id"])["messages"]]
        r, body = self.ui.request("GET", "/api/messages?conversation_id=%s&after_id=%d"
                                  % (conv["conversation_id"], ids[0]), cookie=cookie)
        self.assertEqual(r.status, 200, body)
        page = json.loads(body)
        self.assertEqual([m["id"] for m in page["messages"]], ids[1:])
        self.assertEqual(page["messages"][0]["files_involved"], ["f1.txt"])
        self.assertEqual(page["messages"][0]["read"], False)
        self.assertTrue(page["complete"])
        self.assertNotIn(b"nonce", body)
        for bad in ("", "-1", "x", "1.5"):
            r, _ = self.ui.request("GET", "/api/messages?conversation_id=%s&after_id=%s"
                                   % (conv["conversation_id"], bad), cookie=cookie)
            self.assertEqual(r.status, 400, bad)
        close_shim(a)

    def test_sigterm_stops_it_with_pages_open(self):
        cookie = self.ui.login()
        streams = []
        for _ in range(3):
            c = self.ui.conn()
            c.request("GET", "/events", headers={"Cookie": cookie})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            while r.fp.readline() != b"event: hello\n":  # then it waits, parked
                pass
            streams.append(c)
        rc, err = self.ui.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, err)
        for c in streams:
            c.close()
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.ui.port), timeout=5)

    def test_it_stops_when_the_daemon_goes_away(self):
        self.ui.login()
        self.d.stop()
        rc = self.ui.proc.wait(30)
        err = self.ui.proc.stderr.read()
        self.assertEqual(rc, 69, err)
        self.assertIn("the daemon closed ctl.sock", err)


class BrowserOpenTest(unittest.TestCase):
    """`ui` without --no-open, with a display: xdg-open (a stand-in written here that records
    what it was given) gets a private file that redirects to the link, never the link."""

    def setUp(self):
        self.d = Daemon()
        self.bin = os.path.join(self.d.root, "bin")
        os.makedirs(self.bin)
        self.record = os.path.join(self.d.root, "xdg-open.args")
        with open(os.path.join(self.bin, "xdg-open"), "w") as f:
            f.write("#!/bin/sh\n"
                    "target=\"$1\"; file=\"${target#file://}\"\n"
                    "{ printf '%%s\\n' \"$@\"; stat -c '%%a' \"$file\"; cat \"$file\"; } > %s.tmp\n"
                    "mv %s.tmp %s\n" % (self.record, self.record, self.record))
        os.chmod(os.path.join(self.bin, "xdg-open"), 0o755)

    def tearDown(self):
        self.d.close()

    def start(self, display, *extra):
        env = dict(self.d.env, PATH=self.bin + os.pathsep + os.environ.get("PATH", ""))
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        if display:
            env["DISPLAY"] = ":99"
        p = subprocess.Popen([CTL, "--socket-dir", self.d.socket_dir, "ui", *extra], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        url = p.stdout.readline().strip()
        return p, url

    def finish(self, p):
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(30), 0)
        p.stdout.close()
        p.stderr.close()

    def test_xdg_open_gets_a_private_redirect_file_not_the_token(self):
        p, url = self.start(True)
        token = url.split("token=")[1]
        recorded = wait_until(lambda: os.path.exists(self.record) and read_file(self.record),
                              timeout=30, what="xdg-open to be run")
        lines = recorded.split("\n")
        self.assertRegex(lines[0], r"^file:///.+/open\.html$")
        self.assertNotIn(token, lines[0])  # argv
        self.assertEqual(lines[1], "600")
        self.assertIn(url, recorded)  # the file redirects to the link
        redirect = lines[0][len("file://"):]
        self.finish(p)
        self.assertFalse(os.path.exists(redirect), "the redirect file outlived the console")

    def test_no_open_or_no_display_runs_nothing(self):
        for display, extra in ((True, ("--no-open",)), (False, ())):
            p, url = self.start(display, *extra)
            self.assertIn("token=", url)
            r, _ = Console.request_at(url, "GET", "/")  # the console is up and serving
            self.assertEqual(r.status, 403)
            self.finish(p)
            self.assertFalse(os.path.exists(self.record), (display, extra))


class ConsoleStartTest(unittest.TestCase):
    def test_no_daemon_is_exit_69_in_one_line(self):
        d = Daemon(start=False)
        try:
            r = subprocess.run([CTL, "--socket-dir", d.socket_dir, "ui", "--no-open"], env=d.env,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 69)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertEqual(r.stdout, "")
        finally:
            d.close()

    def test_a_busy_port_is_exit_1_in_one_line(self):
        d = Daemon()
        taken = socket.socket()
        try:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            r = subprocess.run([CTL, "--socket-dir", d.socket_dir, "ui", "--no-open", "--port",
                                str(port)], env=d.env, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("cannot listen on 127.0.0.1:%d" % port, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        finally:
            taken.close()
            d.close()

    def test_the_page_never_builds_markup_from_strings(self):
        """Agent text reaches the DOM as text nodes only: no API that parses HTML or code."""
        for name in sorted(os.listdir(ASSETS)):
            if not name.endswith(".js"):
                continue
            with open(os.path.join(ASSETS, name)) as f:
                js = f.read()
            for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function", "setTimeout(\"", "DOMParser",
                           "createContextualFragment", "srcdoc"):
                self.assertNotIn(banned, js, name)
        with open(os.path.join(ASSETS, "index.html")) as f:
            html = f.read()
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=\"/)")  # no inline script
        self.assertNotIn("style=", html)
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//")  # nothing from another host


if __name__ == "__main__":
    unittest.main(verbosity=2)
