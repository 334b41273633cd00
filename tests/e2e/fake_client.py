"""A stand-in for a client process (Claude Code, Codex, Gemini CLI) in the hook tests: it runs
the MCP server it is given (a real claude-bridge-shim) as its child on its own stdin/stdout,
so the shim's hello names this process as the client, and runs the hook commands the test sends
it as its children too, as a client runs its hooks, so a hook finds this process among its
ancestors.

  fake_client.py CONTROL_FD [ANY ARGS…] -- SERVER ARGV…

Anything before `--` is ignored; it only shows in /proc/PID/cmdline (the tests pass --print
to look like `claude -p`). The test sends one JSON line per command on the Unix socket
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
    server = subprocess.Popen(server_argv)  # stdin, stdout, stderr: this process's
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
                threading.Thread(target=run, args=(json.loads(line),), daemon=True).start()

    threading.Thread(target=commands, daemon=True).start()
    sys.exit(server.wait())


if __name__ == "__main__":
    main()
