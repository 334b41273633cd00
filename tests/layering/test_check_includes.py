#!/usr/bin/env python3
"""scripts/check-includes against small trees built in a temp dir, with the repository's own
scripts/include-rules: it passes a tree that keeps the layering and names each include that
breaks it."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_ROOT = os.environ.get(
    "CB_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CHECKER = os.path.join(SOURCE_ROOT, "scripts", "check-includes")
RULES = os.path.join(SOURCE_ROOT, "scripts", "include-rules")

# A tree that keeps the rules: one file per layer, each including what its layer may.
CLEAN_TREE = {
    "common/paths.h": "#pragma once\n#include <string>\n",
    "shim/main.cpp": '#include "cb_config.h"\n#include "common/paths.h"\n',
    "ctl/main.cpp": '#include <CLI/CLI.hpp>\n#include "common/paths.h"\n#include "ctl/client.h"\n',
    "ctl/client.h": "#pragma once\n",
    "daemon/frames.h": "#pragma once\n#include <string>\n",
    "daemon/async.h": "#pragma once\n#include <asio/awaitable.hpp>\n",
    "daemon/async.cpp": '#include "daemon/async.h"\n',
    "daemon/store/database.h": "#pragma once\n#include <SQLiteCpp/Database.h>\n",
    "daemon/crypto/crypto.h": "#pragma once\n#include <openssl/evp.h>\n",
    "daemon/audit/audit.h": ('#include "daemon/crypto/crypto.h"\n'
                             '#include "daemon/store/database.h"\n'),
    "daemon/rpc/jsonrpc.cpp": '#include <simdjson.h>\n#include "daemon/rpc/jsonrpc.h"\n',
    "daemon/rpc/jsonrpc.h": "#pragma once\n",
    "daemon/mcp/session.cpp": ('#include <valijson/validator.hpp>\n#include "daemon/async.h"\n'
                               '#include "daemon/frames.h"\n#include "daemon/rpc/jsonrpc.h"\n'),
    "daemon/net/server.cpp": ('#include <asio/local/stream_protocol.hpp>\n'
                              '#include "daemon/frames.h"\n'),
    "daemon/bridge/bridge.h": ('#pragma once\n#include "daemon/audit/audit.h"\n'
                               '#include "daemon/store/database.h"\n'),
    # A file the bridge's split might add, in a new subdirectory: the bridge's rule covers it.
    "daemon/bridge/services/messages.cpp": '#include "daemon/bridge/bridge.h"\n',
    "daemon/tools/bridge_tools.h": ('#include "daemon/bridge/bridge.h"\n'
                                    '#include "daemon/mcp/session.h"\n'),
    "daemon/admin/admin_api.h": ('#include "daemon/bridge/bridge.h"\n#include "daemon/frames.h"\n'
                                 '#include "daemon/rpc/jsonrpc.h"\n'),
    "daemon/daemon.cpp": ('#include <toml++/toml.h>\n#include "daemon/net/server.h"\n'
                          '#include "daemon/tools/bridge_tools.h"\n'),
}


class CheckIncludesTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="cb-check-includes-")
        self.addCleanup(shutil.rmtree, self.root)
        os.makedirs(os.path.join(self.root, "scripts"))
        shutil.copy(RULES, os.path.join(self.root, "scripts", "include-rules"))
        for path, text in CLEAN_TREE.items():
            self.write(path, text)

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)

    def check(self):
        run = subprocess.run([sys.executable, CHECKER, "--root", self.root],
                             capture_output=True, text=True, check=False)
        return run.returncode, run.stdout.splitlines(), run.stderr

    def assert_violations(self, expected):
        code, lines, stderr = self.check()
        self.assertEqual(code, 1, stderr)
        self.assertEqual(lines, expected)
        self.assertIn(f"{len(expected)} include(s) break the layering", stderr)

    def test_a_tree_that_keeps_the_layering_passes(self):
        code, lines, stderr = self.check()
        self.assertEqual(code, 0, "\n".join(lines) + stderr)
        self.assertEqual(lines, [f"check-includes: {len(CLEAN_TREE)} files follow "
                                 f"scripts/include-rules"])

    def test_mcp_including_the_store_is_named_with_what_mcp_may_include(self):
        self.write("daemon/mcp/session.cpp",
                   '#include "daemon/rpc/jsonrpc.h"\n#include "daemon/store/database.h"\n')
        self.assert_violations([
            "daemon/mcp/session.cpp:2 includes daemon/store/database.h; daemon/mcp/ may include "
            "only: common/ daemon/async.h daemon/frames.h daemon/rpc/ (and daemon/mcp/ itself)"])

    def test_the_bridge_never_sees_json_rpc_mcp_or_sockets(self):
        self.write("daemon/bridge/services/messages.cpp",
                   '#include "daemon/rpc/jsonrpc.h"\n#include "daemon/mcp/session.h"\n'
                   '#include "daemon/net/server.h"\n#include "daemon/frames.h"\n')
        code, lines, _ = self.check()
        self.assertEqual(code, 1)
        self.assertEqual([line.split(";")[0] for line in lines], [
            "daemon/bridge/services/messages.cpp:1 includes daemon/rpc/jsonrpc.h",
            "daemon/bridge/services/messages.cpp:2 includes daemon/mcp/session.h",
            "daemon/bridge/services/messages.cpp:3 includes daemon/net/server.h",
            "daemon/bridge/services/messages.cpp:4 includes daemon/frames.h",
        ])

    def test_sql_openssl_and_sockets_stay_in_their_layers(self):
        self.write("daemon/bridge/raw.cpp", "#include <sqlite3.h>\n#include <openssl/rand.h>\n")
        self.write("daemon/mcp/peer.cpp", "#include <asio/local/stream_protocol.hpp>\n")
        self.assert_violations([
            "daemon/bridge/raw.cpp:1 includes <sqlite3.h>; only daemon/store/ may include "
            "<sqlite3.h…>",
            "daemon/bridge/raw.cpp:2 includes <openssl/rand.h>; only daemon/crypto/ may include "
            "<openssl/…>",
            "daemon/mcp/peer.cpp:1 includes <asio/local/stream_protocol.hpp>; only daemon/net/ "
            "may include <asio/local/…>",
        ])

    def test_common_shim_and_ctl_see_no_daemon_code(self):
        self.write("common/paths.cpp", '#include "daemon/frames.h"\n')
        self.write("shim/autostart.cpp", '#include "ctl/client.h"\n')
        self.write("ctl/client.cpp", '#include "daemon/rpc/jsonrpc.h"\n')
        code, lines, _ = self.check()
        self.assertEqual(code, 1)
        self.assertEqual(lines, [
            "common/paths.cpp:1 includes daemon/frames.h; common/ may include only: nothing of "
            "ours (and common/ itself)",
            "shim/autostart.cpp:1 includes ctl/client.h; shim/ may include only: common/ "
            "(and shim/ itself)",
            "ctl/client.cpp:1 includes daemon/rpc/jsonrpc.h; ctl/ may include only: common/ "
            "(and ctl/ itself)",
        ])

    def test_the_seams_include_nothing_of_ours(self):
        self.write("daemon/frames.h", '#pragma once\n#include "daemon/mcp/session.h"\n')
        self.assert_violations([
            "daemon/frames.h:2 includes daemon/mcp/session.h; daemon/frames.h may include only: "
            "nothing of ours"])

    def test_a_new_room_needs_a_rule(self):
        self.write("daemon/newroom/thing.cpp", '#include "common/paths.h"\n')
        code, lines, _ = self.check()
        self.assertEqual(code, 1)
        self.assertEqual(lines, ["daemon/newroom/thing.cpp: no rule in scripts/include-rules "
                                 "covers daemon/newroom/; add one that says what it may include"])

    def test_a_broken_rules_file_is_refused(self):
        with open(os.path.join(self.root, "scripts", "include-rules"), "a",
                  encoding="utf-8") as f:
            f.write("[quoted]\ndaemon/mcp/: common/\n")
        code, lines, stderr = self.check()
        self.assertEqual(code, 2)
        self.assertEqual(lines, [])
        self.assertIn("daemon/mcp/ has two rules in [quoted]", stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
