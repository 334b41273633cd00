#!/usr/bin/env python3
"""Fills a stopped daemon's bridge.db with many conversations and messages, fast (one
transaction, straight into SQLite), and writes the credentials of some of them for
bridge-bench --creds.

The rows follow the schema of daemon/store/database.cpp (migration 1): conversations with a
random 16-byte nonce, messages alternating a→b and b→a, all read. Session tokens are derived
the way the daemon derives them (daemon/bridge/bridge.cpp derive_token): hex HMAC-SHA256 with
the server key over "session-token\\0<conversation>\\0<session>\\0<nonce>". The daemon must be
stopped while this runs and must have run once (it creates server.key and the schema).

  fill_db.py --state-dir DIR [--conversations 1000] [--per-conversation 1000]
             [--creds-out FILE] [--pairs 16]

With --agents N (issue 24's hook benchmark) it fills named agents instead (schema v2): agents
agent0000…, each in a two-member agents' conversation with the next one round the ring (N
conversations), --per-conversation messages in each alternating between the two, all read
(the members' read positions at the end).
  fill_db.py --state-dir DIR --agents 1000 [--per-conversation 1000] [--project DIR]
"""
import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time


def token(key, conv, session, nonce):
    data = b"session-token\0" + conv.encode() + b"\0" + session.encode() + b"\0" + nonce
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--conversations", type=int, default=1000)
    ap.add_argument("--per-conversation", type=int, default=1000)
    ap.add_argument("--creds-out")
    ap.add_argument("--pairs", type=int, default=16, help="conversations whose tokens are written")
    ap.add_argument("--body-bytes", type=int, default=200)
    ap.add_argument("--agents", type=int, default=0, help="fill named agents instead")
    ap.add_argument("--project", default="/bench/project", help="the agents' project")
    args = ap.parse_args()

    with open(os.path.join(args.state_dir, "server.key"), "rb") as f:
        key = f.read()
    if len(key) != 32:
        sys.exit("server.key is not 32 bytes")
    db = sqlite3.connect(os.path.join(args.state_dir, "bridge.db"), isolation_level=None)
    if db.execute("PRAGMA user_version").fetchone()[0] < 1:
        sys.exit("bridge.db has no schema yet: start the daemon once first")
    db.execute("PRAGMA synchronous = OFF")
    now = int(time.time() * 1000)
    start = now - args.per_conversation * 1000  # one message a second of history
    words = "stored history for the large-database benchmark, nothing secret in it. "
    body = (words * (args.body_bytes // len(words) + 1))[: args.body_bytes]
    creds = []
    t0 = time.time()
    db.execute("BEGIN")
    if args.agents:
        fill_agents(db, args, start, now, body)
    for c in range(0 if args.agents else args.conversations):
        nonce = os.urandom(16)
        conv = "conv_" + os.urandom(8).hex()
        db.execute("INSERT INTO conversations (id, role_a, role_b, nonce, created_ms, expires_ms)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   (conv, "bench_sender", "bench_receiver", nonce, start, now + 86_400_000))
        rows = []
        for i in range(args.per_conversation):
            sender, recipient = ("a", "b") if i % 2 == 0 else ("b", "a")
            created = start + i * 1000
            rows.append((conv, sender, recipient, body, "info", created, created + 500))
        db.executemany("INSERT INTO messages (conversation_id, sender, recipient, body, action_type,"
                       " created_ms, read_ms) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        if len(creds) < args.pairs:
            creds.append({"conversation_id": conv, "token_a": token(key, conv, "a", nonce),
                          "token_b": token(key, conv, "b", nonce)})
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    db.close()
    convs = args.agents or args.conversations
    print(f"fill_db: {convs} conversations, {total} messages in "
          f"{time.time() - t0:.1f} s", file=sys.stderr)
    if args.creds_out:
        with open(args.creds_out, "w") as f:
            json.dump(creds, f)


def fill_agents(db, args, start, now, body):
    if db.execute("PRAGMA user_version").fetchone()[0] < 2:
        sys.exit("bridge.db has no agents (schema 2): start a daemon of issue 23 or later once")
    names = ["agent%04d" % i for i in range(args.agents)]
    db.executemany("INSERT INTO agents (name, project, client, created_ms, last_seen_ms)"
                   " VALUES (?, ?, 'bench', ?, ?)", [(n, args.project, start, start) for n in names])
    for i, me in enumerate(names):
        other = names[(i + 1) % len(names)]
        conv = "conv_" + os.urandom(8).hex()
        db.execute("INSERT INTO conversations (id, role_a, role_b, nonce, created_ms, expires_ms,"
                   " kind, member_key) VALUES (?, '', '', ?, ?, ?, 'agents', ?)",
                   (conv, os.urandom(16), start, now + 86_400_000, ",".join(sorted((me, other)))))
        rows = []
        for k in range(args.per_conversation):
            created = start + k * 1000
            rows.append((conv, me if k % 2 == 0 else other, "*", body, "info", created))
        db.executemany("INSERT INTO messages (conversation_id, sender, recipient, body,"
                       " action_type, created_ms) VALUES (?, ?, ?, ?, ?, ?)", rows)
        last = db.execute("SELECT MAX(id) FROM messages WHERE conversation_id = ?",
                          (conv,)).fetchone()[0]
        db.executemany("INSERT INTO members (agent, conversation_id, read_up_to, joined_ms)"
                       " VALUES (?, ?, ?, ?)", [(me, conv, last, start), (other, conv, last, start)])


if __name__ == "__main__":
    main()
