// Raw stdio edge cases: runs the SDK-free tools/stdio-probe.mjs (the team's probe, kept in this
// repository) against claude-bridge-shim, through lib/tap.mjs so that every full message is on record, and
// asserts that each probe got the answer the MCP specification asks for. Two runs:
//   1. the probe's tool call with credentials that fail validation (token "x") -> isError results;
//   2. send_to_partner with real credentials -> success, and the unicode message read back by b.
//   CB_BUILD_ROOT=<build dir> CB_SOURCE_ROOT=<repo> node probe.test.mjs
// Exit 0 = all passed, 1 = a failure.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HERE, SHIM, Daemon, RawClient, createConversation, requireBinaries } from './lib/harness.mjs';

// CB_STDIO_PROBE runs another copy of the probe (say, a newer one) instead of ours.
const PROBE = process.env.CB_STDIO_PROBE || join(HERE, 'tools', 'stdio-probe.mjs');
if (!existsSync(PROBE)) {
  console.error(`${PROBE} not found: CB_STDIO_PROBE names a file that is not there`);
  process.exit(1);
}
requireBinaries();

const TAP = join(HERE, 'lib', 'tap.mjs');
const MESSAGING_TOOLS = ['create_conversation', 'send_to_partner', 'check_messages', 'wait_for_messages', 'update_my_status', 'check_partner_status'];
const UNICODE = 'line1\nline2 ✓ \u2028'; // what the probe sends in its last tool call

function runProbe(daemon, tool, args, name) {
  const log = join(daemon.root, `tap-${name}.jsonl`);
  const argv = [PROBE, '--tool', tool, '--args', JSON.stringify(args), '--', process.execPath, TAP, log, '--', SHIM, ...daemon.shimArgs()];
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, argv, { env: daemon.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 120000);
    p.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0) return rej(new Error(`stdio-probe exited ${code}: ${err}`));
      let report;
      try { report = JSON.parse(out); } catch { return rej(new Error(`stdio-probe printed no JSON:\n${out}\n${err}`)); }
      const entries = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      res({ report, entries, command: ['node', PROBE, '--tool', tool, '--args', `'${JSON.stringify(args)}'`, '--', 'claude-bridge-shim', ...daemon.shimArgs()].join(' ') });
    });
  });
}

// Messages the server wrote, parsed; unparseable lines are kept as {bad: line}.
function serverMessages(entries) {
  return entries.filter((e) => e.dir === 'out').map((e) => { try { return JSON.parse(e.line); } catch { return { bad: e.line }; } });
}

const isErr = (code) => (m) => {
  assert.ok(m.error, `expected error ${code}, got ${JSON.stringify(m)}`);
  assert.equal(m.error.code, code, `expected error ${code}, got ${JSON.stringify(m.error)}`);
  assert.equal(typeof m.error.message, 'string');
};
const isEmpty = (m) => { assert.ok(!m.error, JSON.stringify(m.error)); assert.deepEqual(m.result, {}); };
const toolErr = (field) => (m) => {
  assert.ok(m.result, `expected a result, got ${JSON.stringify(m)}`);
  assert.equal(m.result.isError, true, 'expected isError:true');
  assert.match(m.result.content[0].text, new RegExp(field), `the error text should name ${field}`);
};
const toolOk = (m) => {
  assert.ok(m.result, `expected a result, got ${JSON.stringify(m)}`);
  assert.equal(m.result.isError, false, m.result.content?.[0]?.text);
  assert.equal(m.result.structuredContent.status, 'sent');
};

// One row per probe line stdio-probe.mjs sends, in its order: the request id it uses, what the
// spec wants, and the check on the full reply.
function expectations(run) {
  return [
    { id: 'server-discover-probe-1', want: 'result: resultType complete, supportedVersions incl. 2026-07-28 + 2025-11-25, serverInfo in _meta', check: (m) => {
      assert.ok(m.result, JSON.stringify(m));
      assert.equal(m.result.resultType, 'complete');
      assert.ok(m.result.supportedVersions.includes('2026-07-28'));
      assert.ok(m.result.supportedVersions.includes('2025-11-25'));
      assert.equal(typeof m.result.capabilities, 'object');
      assert.equal(typeof m.result._meta['io.modelcontextprotocol/serverInfo'].name, 'string');
    } },
    { id: 'p0', want: 'result {} (ping is allowed before initialize)', check: isEmpty },
    { id: 0, want: 'result with id 0, protocolVersion 2025-11-25', check: (m) => {
      assert.ok(m.result, JSON.stringify(m));
      assert.equal(m.id, 0);
      assert.equal(m.result.protocolVersion, '2025-11-25');
      assert.equal(typeof m.result.serverInfo.name, 'string');
    } },
    { id: 'abc', want: 'result {}', check: isEmpty },
    { id: 2, want: 'error -32601', check: isErr(-32601) },
    { id: null, want: 'error -32700 with id null', check: isErr(-32700) },
    { id: 4, want: 'error -32600 with id 4', check: isErr(-32600) },
    { id: 5, want: 'error -32600 (jsonrpc "1.0")', check: isErr(-32600) },
    { id: 6, want: 'result: the tools, the six messaging tools among them', check: (m) => {
      const names = (m.result?.tools ?? []).map((t) => t.name);
      for (const n of MESSAGING_TOOLS) assert.ok(names.includes(n), `${n} missing from tools/list: ${names}`);
    } },
    { id: 7, want: 'error -32602 (bad cursor)', check: isErr(-32602) },
    run === 'invalid'
      ? { id: 8, want: 'result isError:true naming "token" (validation)', check: toolErr('token') }
      : { id: 8, want: 'result isError:false, status "sent"', check: toolOk },
    { id: 9, want: 'error -32602 (unknown tool)', check: isErr(-32602) },
    { id: 10, want: 'error -32602 (missing name)', check: isErr(-32602) },
    { id: '__batch', want: 'array of two -32600 errors, ids 11 and 12', check: (m) => {
      assert.ok(Array.isArray(m), JSON.stringify(m));
      assert.deepEqual(m.map((e) => e.id), [11, 12]);
      for (const e of m) isErr(-32600)(e);
    } },
    { id: 13, want: 'error -32602 (bad log level)', check: isErr(-32602) },
    { id: 14, want: 'result {} (alive after cancel of unknown id)', check: isEmpty },
    run === 'invalid'
      ? { id: 15, want: 'result isError:true naming "token" (validation)', check: toolErr('token') }
      : { id: 15, want: 'result isError:false; b reads the text back unchanged', check: toolOk },
  ];
}

function assertProbeRun(label, { report, entries, command }, run) {
  console.log(`# ${label}: ${command}`);
  console.log(JSON.stringify(report, null, 2).split('\n').map((l) => `#   ${l}`).join('\n'));
  const msgs = serverMessages(entries);
  const bad = msgs.filter((m) => m.bad !== undefined);
  const rows = [];
  const exps = expectations(run);
  assert.equal(report.results.length, exps.length, 'stdio-probe.mjs changed: its probe count differs from this test');
  exps.forEach((e, i) => {
    const probe = report.results[i].probe;
    const reply = e.id === '__batch'
      ? msgs.filter((m) => Array.isArray(m))
      : msgs.filter((m) => !Array.isArray(m) && m.bad === undefined && !('method' in m) && m.id === e.id);
    let verdict = 'PASS', why = '';
    try {
      assert.equal(reply.length, 1, reply.length ? `answered ${reply.length} times` : 'no reply');
      e.check(reply[0]);
    } catch (err) { verdict = 'FAIL'; why = err.message.split('\n')[0]; }
    rows.push({ probe, want: e.want, got: report.results[i].reply, verdict, why });
  });
  const eofOk = /^exited code=0 /.test(report.onStdinEOF);
  rows.push({ probe: 'exit on stdin EOF', want: 'exit code 0 within 3 s', got: report.onStdinEOF, verdict: eofOk ? 'PASS' : 'FAIL', why: '' });
  const nonJson = report.nonJsonStdoutLines.length + bad.length;
  rows.push({ probe: 'stdout hygiene', want: 'only JSON-RPC lines', got: `${nonJson} non-JSON lines`, verdict: nonJson ? 'FAIL' : 'PASS', why: '' });
  const unsolicited = msgs.filter((m) => m.method);
  rows.push({ probe: 'no unsolicited messages', want: 'none', got: JSON.stringify(unsolicited.map((m) => m.method)), verdict: unsolicited.length || report.unsolicited.length ? 'FAIL' : 'PASS', why: '' });
  const replies = msgs.filter((m) => !Array.isArray(m) && !m.method && m.bad === undefined).length + msgs.filter(Array.isArray).length;
  rows.push({ probe: 'one reply per request', want: `${exps.length} replies`, got: `${replies} replies`, verdict: replies === exps.length ? 'PASS' : 'FAIL', why: '' });
  console.log(`# ${label}: results`);
  for (const r of rows) console.log(`#   ${r.verdict}  ${r.probe} | want: ${r.want} | got: ${r.got}${r.why ? ` | ${r.why}` : ''}`);
  const failed = rows.filter((r) => r.verdict === 'FAIL');
  assert.deepEqual(failed.map((r) => `${r.probe}: ${r.why || r.got}`), [], `${label}: probes without the answer the spec asks for`);
}

const daemon = await new Daemon().start();
after(async () => {
  if (process.exitCode) console.log(`# daemon log:\n${daemon.readLog()}`);
  await daemon.close();
});

test('stdio-probe, tool call with invalid arguments (check_messages, token "x")', async () => {
  const r = await runProbe(daemon, 'check_messages', { conversation_id: 'conv_0000000000000000', session_id: 'a', token: 'x' }, 'invalid');
  assertProbeRun('probe run 1 (invalid arguments)', r, 'invalid');
  assert.equal(daemon.died(), null);
});

test('stdio-probe, tool call with real credentials (send_to_partner) and a unicode round trip', async () => {
  const fixture = await RawClient.open(daemon.mcpSock);
  try {
    await fixture.initialize();
    const { a, b } = await createConversation(fixture);
    const r = await runProbe(daemon, 'send_to_partner', { ...a, message: 'x' }, 'valid');
    assertProbeRun('probe run 2 (real credentials)', r, 'valid');
    const got = await fixture.call('check_messages', b);
    assert.deepEqual(got.messages.map((m) => m.message), ['x', UNICODE], 'the unicode message did not come back unchanged');
  } finally {
    fixture.close();
  }
  assert.equal(daemon.died(), null);
});
