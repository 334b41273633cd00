"""A throw-away PostgreSQL 15 cluster for tests (issue 27): Debian's postgresql-15 binaries,
initdb in a fresh temp dir, listening on 127.0.0.1 only (a free port) and on a Unix socket in
that dir, TLS with a CA and a server certificate made at test time with the openssl CLI, a
role `team_a` with a random password (scram-sha-256, given to clients through a generated
PGPASSFILE) owning the database `bridge`.

Run as root (CI), the server runs as the unprivileged `postgres` user the package creates
(through runuser); otherwise as the current user. Nothing here touches the machine's own
clusters (/var/lib/postgresql, /etc/postgresql) or listens beyond loopback.

Used by tests/pg/with-pg (which wraps a test command) and by Python tests directly; also a
small command line for tests that stop and start the server mid-run:
    python3 pg_cluster.py ctl DIR stop [fast|immediate]
    python3 pg_cluster.py ctl DIR start
    python3 pg_cluster.py ctl DIR status      (exit 0 while running, 3 when stopped)
"""
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

DEFAULT_BIN = "/usr/lib/postgresql/15/bin"
ROLE = "team_a"
DATABASE = "bridge"
SUPERUSER = "postgres"
STATE_FILE = "cluster.json"


class NotInstalled(Exception):
    """PostgreSQL 15's server binaries are missing (the message says what to install)."""


def bin_dir():
    return os.environ.get("CB_PG_BIN") or DEFAULT_BIN


def check_installed(bindir=None):
    bindir = bindir or bin_dir()
    missing = [b for b in ("initdb", "pg_ctl", "postgres", "psql")
               if not os.access(os.path.join(bindir, b), os.X_OK)]
    if missing:
        raise NotInstalled("PostgreSQL 15 is not installed (%s missing in %s): apt-get install "
                           "postgresql-15 postgresql-client-15" % (", ".join(missing), bindir))
    if not shutil.which("openssl"):
        raise NotInstalled("the openssl command is missing: apt-get install openssl")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Cluster:
    """One cluster in its own temp dir. `Cluster()` creates it (initdb, certificates, role and
    database are made by the first start()); `Cluster.attach(dir)` controls an existing one."""

    def __init__(self, base=None, _state=None):
        if _state is not None:
            self.__dict__.update(_state)
            return
        self.bin = bin_dir()
        check_installed(self.bin)
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                pw = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise NotInstalled("running as root, but there is no `postgres` user to run the "
                                   "server as: apt-get install postgresql-15")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            self.run_as = ["runuser", "-u", SUPERUSER, "--"]
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()
            self.run_as = []
        self.dir = os.path.realpath(base or tempfile.mkdtemp(prefix="cb-pg-"))
        # The server's user must traverse it; nobody else needs to list it.
        os.chmod(self.dir, 0o711)
        self.data = os.path.join(self.dir, "data")
        self.sock_dir = os.path.join(self.dir, "run")
        self.tls_dir = os.path.join(self.dir, "tls")
        self.log = os.path.join(self.dir, "postgresql.log")
        self.pgpass = os.path.join(self.dir, "pgpass")
        self.ca_cert = os.path.join(self.tls_dir, "ca.crt")
        self.port = free_port()
        self.initialised = False
        self._save()

    # ---- state shared with `ctl` (another process) ----
    @classmethod
    def attach(cls, base):
        with open(os.path.join(base, STATE_FILE)) as f:
            return cls(_state=json.load(f))

    def _save(self):
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        path = os.path.join(self.dir, STATE_FILE)
        with open(path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(path + ".tmp", path)

    # ---- helpers ----
    def _as_server(self, argv, **kw):
        """Runs argv as the server's user; raises with the command's output on failure."""
        # cwd: the server's user may not be able to enter the caller's.
        r = subprocess.run(self.run_as + argv, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, cwd=self.dir, **kw)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (os.path.basename(argv[0]), r.returncode,
                                                         r.stdout[-2000:], r.stderr[-2000:]))
        return r

    def _own(self, path, mode):
        os.chown(path, self.uid, self.gid)
        os.chmod(path, mode)

    def _openssl(self, *args):
        r = subprocess.run(["openssl", *args], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.strip()[-2000:]))

    def _make_certificates(self):
        """A CA and a server certificate for localhost and 127.0.0.1 signed by it (EC P-256,
        valid for 2 days: the cluster lives for one test run)."""
        os.makedirs(self.tls_dir, mode=0o755)
        ca_key = os.path.join(self.tls_dir, "ca.key")
        key = os.path.join(self.tls_dir, "server.key")
        csr = os.path.join(self.tls_dir, "server.csr")
        crt = os.path.join(self.tls_dir, "server.crt")
        ext = os.path.join(self.tls_dir, "server.ext")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        self._openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", self.ca_cert,
                      "-days", "2", "-subj", "/CN=claude-bridge test CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self._openssl("req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", ca_key,
                      "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
        os.chmod(ca_key, 0o600)
        # The server refuses a key others can read.
        self._own(key, 0o600)
        self._own(crt, 0o644)
        os.chmod(self.ca_cert, 0o644)

    def _initdb(self):
        os.makedirs(self.data, mode=0o700)
        self._own(self.data, 0o700)
        os.makedirs(self.sock_dir, mode=0o700)
        self._own(self.sock_dir, 0o700)
        self._make_certificates()
        open(self.log, "a").close()
        self._own(self.log, 0o600)  # pg_ctl -l writes it as the server's user
        # Local socket: trust (only the server's user and root reach the 0700 dir); TCP:
        # scram-sha-256 for everyone.
        self._as_server([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", SUPERUSER,
                         "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                         "--locale=C.UTF-8", "--no-instructions"])
        conf = os.path.join(self.data, "postgresql.conf")
        tls = self.tls_dir
        with open(conf, "a") as f:
            f.write("\n# claude-bridge tests (tests/pg/pg_cluster.py)\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "password_encryption = 'scram-sha-256'\n"
                    "ssl = on\n"
                    "ssl_cert_file = '%s/server.crt'\n"
                    "ssl_key_file = '%s/server.key'\n"
                    "max_connections = 200\n"
                    "log_min_messages = warning\n"
                    % (self.port, self.sock_dir, tls, tls))
            # Set by the caller for speed where durability across an OS crash does not matter;
            # crash safety against a killed server (stop immediate) holds either way.
            if os.environ.get("CB_TEST_PG_FSYNC") == "off":
                f.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")

    def _superuser_sql(self, sql, db="postgres"):
        return self._run_psql(["-h", self.sock_dir, "-p", str(self.port), "-U", SUPERUSER,
                               "-d", db], sql)

    def _run_psql(self, conn_args, sql, env=None):
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", *conn_args, "-c", sql],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           env=env or self.env(), timeout=120)
        if r.returncode != 0:
            raise RuntimeError("psql failed (%d): %s" % (r.returncode, r.stderr.strip()))
        return r.stdout

    def _create_team_role(self):
        password = secrets.token_urlsafe(24)  # [A-Za-z0-9_-]: nothing to escape in pgpass
        self._superuser_sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (ROLE, password))
        self._superuser_sql("CREATE DATABASE %s OWNER %s" % (DATABASE, ROLE))
        fd = os.open(self.pgpass, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            for host in ("127.0.0.1", "localhost"):
                f.write("%s:%d:*:%s:%s\n" % (host, self.port, ROLE, password))

    # ---- public ----
    def env(self):
        """The environment a client needs (PGPASSFILE), on top of os.environ."""
        e = dict(os.environ)
        e["PGPASSFILE"] = self.pgpass
        for k in ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
                  "PGSSLMODE", "PGSERVICE", "PGSERVICEFILE", "PGSSLROOTCERT", "PGOPTIONS"):
            e.pop(k, None)
        return e

    def url(self):
        """libpq conninfo of the team role without a password and without TLS."""
        return "host=127.0.0.1 port=%d dbname=%s user=%s sslmode=disable" % (
            self.port, DATABASE, ROLE)

    def tls_url(self, host="127.0.0.1"):
        """The same over TLS, the server's certificate checked against the test CA and `host`
        (127.0.0.1 and localhost are both in its subjectAltName)."""
        return "host=%s port=%d dbname=%s user=%s sslmode=verify-full sslrootcert=%s" % (
            host, self.port, DATABASE, ROLE, self.ca_cert)

    def ctl_command(self):
        """The command line that stops and starts this cluster from another process."""
        return [sys.executable, os.path.abspath(__file__), "ctl", self.dir]

    def running(self):
        r = subprocess.run(self.run_as + [os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                                          "status"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, cwd=self.dir)
        return r.returncode == 0

    def start(self):
        """Starts the server (the first time: initdb, certificates, role and database) and
        returns once it accepts connections. Always on the same port."""
        if not self.initialised:
            self._initdb()
        for attempt in range(5):
            try:
                self._as_server([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                                 self.log, "-w", "-t", "120", "-s", "start"])
                break
            except RuntimeError as e:
                # The free port was taken in the meantime (another cluster starting beside
                # this one): before the first start nobody knows the port yet, so take another.
                taken = "could not bind" in self.log_tail() or "in use" in self.log_tail()
                if self.initialised or not taken or attempt == 4:
                    raise RuntimeError("%s; server log %s: %s" % (e, self.log, self.log_tail()))
                self.port = free_port()
                with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                    f.write("port = %d\n" % self.port)
                with open(self.log, "w"):
                    pass
                self._save()
        if not self.initialised:
            self._create_team_role()
            self.initialised = True
            self._save()

    def stop(self, mode="fast"):
        """Stops the server: "fast" (clients disconnected, clean shutdown) or "immediate" (no
        shutdown checkpoint: a crash as far as the data is concerned; recovery on start)."""
        if mode not in ("fast", "immediate", "smart"):
            raise ValueError("stop mode must be fast, immediate or smart")
        self._as_server([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode,
                         "-w", "-t", "120", "-s", "stop"])

    def log_tail(self, n=4000):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def psql(self, sql, url=None, superuser=False):
        """Runs sql through psql (as the team role over TCP by default, with the pgpass) and
        returns its unaligned, tuples-only output."""
        if superuser:
            return self._superuser_sql(sql)
        return self._run_psql(["-d", url or self.url()], sql)

    def destroy(self):
        """Stops the server if it runs (immediate: its data is thrown away) and removes the
        temp dir."""
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _ctl(argv):
    if len(argv) < 2:
        print("usage: pg_cluster.py ctl DIR stop [fast|immediate] | start | status",
              file=sys.stderr)
        return 2
    c = Cluster.attach(argv[0])
    cmd = argv[1]
    if cmd == "stop":
        c.stop(argv[2] if len(argv) > 2 else "fast")
    elif cmd == "start":
        c.start()
    elif cmd == "status":
        return 0 if c.running() else 3
    else:
        print("unknown ctl command %r" % cmd, file=sys.stderr)
        return 2
    return 0


def _watchdog(argv):
    """Waits for EOF on stdin (its parent, with-pg, died in whatever way), then destroys the
    cluster if the parent could not. Runs in a session of its own so a killed process group
    does not take it along."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):
        pass
    if os.path.exists(os.path.join(argv[0], STATE_FILE)):
        Cluster.attach(argv[0]).destroy()
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "ctl":
        sys.exit(_ctl(sys.argv[2:]))
    if len(sys.argv) == 3 and sys.argv[1] == "watchdog":
        sys.exit(_watchdog(sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
