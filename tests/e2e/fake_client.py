"""A stand-in for a client process (Claude Code, Codex, Gemini CLI) in the hook tests: it runs
the MCP server it is given (a real claude-bridge-shim) as its child on its own stdin/stdout,
so the shim's hello names this process as the client, and runs the hook commands the test sends
it as its children too, as a client runs its hooks, so a hook finds this process among its
ancestors.

  fake_client.py CONTROL_FD [ANY ARGS…] -- SERVER ARGV…

Anything before `--` only shows in /proc/PID/cmdline (the tests pass --print to look like
`claude -p`), except --late-server: the server starts only when the test sends
{"start_server": true}, after hooks the test has started (a client that runs its SessionStart
hooks before its MCP server has connected). The test sends one JSON line per command on the Unix socket
CONTROL_FD: {"id", "argv", "env", "input"}; the answer is {"id", "pid"} when the command has
started and {"id", "rc", "stdout", "stderr"} when it has ended. The process ends with its
server."""
import json
import os
import socket
import subprocess
import sys
import threading


def main():
    control = socket.socket(fileno=int(sys.argv[1]))
    server_argv = sys.argv[sys.argv.index("--") + 1:]
    late = "--late-server" in sys.argv[2:sys.argv.index("--")]
    server_started = threading.Event()
    servers = []

    def start_server():
        servers.append(subprocess.Popen(server_argv))  # stdin, stdout, stderr: this process's
        server_started.set()

    if not late:
        start_server()
    lock = threading.Lock()

    def reply(obj):
        with lock:
            control.sendall((json.dumps(obj) + "\n").encode())

    def run(cmd):
        p = subprocess.Popen(cmd["argv"], env=cmd["env"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reply({"id": cmd["id"], "pid": p.pid})
        out, err = p.communicate(cmd.get("input", "").encode())
        reply({"id": cmd["id"], "rc": p.returncode, "stdout": out.decode(errors="replace"),
               "stderr": err.decode(errors="replace")})

    def commands():
        buf = b""
        while True:
            chunk = control.recv(65536)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                cmd = json.loads(line)
                if cmd.get("start_server"):
                    start_server()
                    continue
                threading.Thread(target=run, args=(cmd,), daemon=True).start()

    threading.Thread(target=commands, daemon=True).start()
    server_started.wait()
    sys.exit(servers[0].wait())


if __name__ == "__main__":
    main()
