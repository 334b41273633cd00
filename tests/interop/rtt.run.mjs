// Latency measurement (not a test: no timed assertions): runs tools/rtt.mjs (the team's SDK
// timing client, kept in this repository; it resolves the SDK from tests/interop/node_modules),
// starts a claude-bridged in temp
// dirs with its default configuration, and times N calls of check_partner_status (session a)
// and check_messages (session b, empty inbox) through claude-bridge-shim with the official SDK
// client. Each tool uses its own session so the default 600 reads/minute/session budget holds.
//   CB_BUILD_ROOT=<build dir> CB_SOURCE_ROOT=<repo> node rtt.run.mjs [-n 500]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { HERE, SHIM, Daemon, RawClient, createConversation, requireBinaries, skip } from './lib/harness.mjs';

const nIdx = process.argv.indexOf('-n');
const N = nIdx > 0 ? parseInt(process.argv[nIdx + 1], 10) : 500;
const RTT = join(HERE, 'tools', 'rtt.mjs');
if (!existsSync(join(HERE, 'node_modules', '@modelcontextprotocol', 'sdk'))) skip('run "npm ci" in tests/interop first');
requireBinaries();

function rtt(daemon, tool, args) {
  const argv = [RTT, '--tool', tool, '--args', JSON.stringify(args), '-n', String(N), '--', SHIM, ...daemon.shimArgs()];
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, argv, { env: daemon.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('close', (code) => {
      let j;
      try { j = JSON.parse(out); } catch { return rej(new Error(`rtt.mjs printed no JSON (exit ${code}):\n${out}`)); }
      if (code !== 0) return rej(new Error(`rtt.mjs exit ${code}:\n${out}`));
      res(j);
    });
  });
}

const daemon = await new Daemon().start();
try {
  const fixture = await RawClient.open(daemon.mcpSock);
  await fixture.initialize();
  const { a, b } = await createConversation(fixture);
  fixture.close();
  console.log(`# ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, ${N} sequential calls after 5 warm-up calls`);
  console.log('| tool | negotiated | connect ms | p50 ms | p90 ms | p99 ms | max ms | calls/s |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [tool, creds] of [['check_partner_status', a], ['check_messages', b]]) {
    const r = await rtt(daemon, tool, creds);
    const l = r.calls.latencyMs;
    console.log(`| ${tool} | ${r.initialize.protocolVersion} | ${r.initialize.ms} | ${l.p50} | ${l.p90} | ${l.p99} | ${l.max} | ${r.calls.throughputPerSec} |`);
  }
  console.log(`# command: node tests/interop/tools/rtt.mjs --tool TOOL --args '{"conversation_id":…,"session_id":…,"token":…}' -n ${N} -- build/shim/claude-bridge-shim ${['--socket-dir', 'DIR/s', '--state-dir', 'DIR/st', '--config', 'DIR/config.toml', '--no-autostart'].join(' ')}`);
} finally {
  await daemon.close();
}
