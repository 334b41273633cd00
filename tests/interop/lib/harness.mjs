// Shared pieces of the interop tests: a claude-bridged in its own temp dirs (never the real home,
// runtime or state directories), the shim command line that reaches it, and a tiny raw
// JSON-RPC client over mcp.sock. Needs no npm package.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync, writeFileSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const HERE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE_ROOT = process.env.CB_SOURCE_ROOT || resolve(HERE, '../..');
export const BUILD_ROOT = process.env.CB_BUILD_ROOT || join(SOURCE_ROOT, 'build');
export const DAEMON = join(BUILD_ROOT, 'daemon', 'claude-bridged');
export const SHIM = join(BUILD_ROOT, 'shim', 'claude-bridge-shim');

// Exit code that meson reports as SKIP.
export const SKIP = 77;

export function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

export function requireBinaries() {
  for (const p of [DAEMON, SHIM]) {
    if (!existsSync(p)) {
      console.error(`missing ${p}: build it (ninja -C ${BUILD_ROOT} daemon/claude-bridged shim/claude-bridge-shim) or set CB_BUILD_ROOT`);
      process.exit(1);
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function canConnect(path) {
  return new Promise((res) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

// A claude-bridged in temp dirs. `config` is the TOML text of its --config file.
export class Daemon {
  constructor({ config = '' } = {}) {
    this.root = mkdtempSync(join(tmpdir(), 'cb-interop-'));
    chmodSync(this.root, 0o700);
    this.socketDir = join(this.root, 's');
    this.stateDir = join(this.root, 'st');
    this.configPath = join(this.root, 'config.toml');
    this.logPath = join(this.root, 'daemon.log');
    writeFileSync(this.configPath, config);
    const env = { ...process.env };
    for (const k of Object.keys(env)) {
      if (k.startsWith('CLAUDE_BRIDGE_') || ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES', 'NOTIFY_SOCKET'].includes(k)) delete env[k];
    }
    // Anything that still looks at HOME or XDG stays in the temp dir.
    Object.assign(env, { HOME: this.root, XDG_RUNTIME_DIR: this.root, XDG_STATE_HOME: this.root, XDG_CONFIG_HOME: this.root, XDG_DATA_HOME: this.root, XDG_CACHE_HOME: this.root });
    this.env = env;
    this.proc = null;
  }

  get mcpSock() { return join(this.socketDir, 'mcp.sock'); }

  async start() {
    const log = openSync(this.logPath, 'a');
    this.proc = spawn(DAEMON, ['--socket-dir', this.socketDir, '--state-dir', this.stateDir, '--config', this.configPath],
      { env: this.env, stdio: ['ignore', 'ignore', log] });
    closeSync(log);
    let exited = null;
    this.exited = null;
    this.stopping = false;
    this.proc.once('exit', (code, signal) => {
      exited = this.exited = { code, signal };
      if (!this.stopping) console.log(`# claude-bridged exited unexpectedly: code=${code} signal=${signal}`);
    });
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`daemon exited at start-up (${JSON.stringify(exited)}): ${this.readLog()}`);
      if (existsSync(this.mcpSock) && await canConnect(this.mcpSock)) return this;
      await sleep(10);
    }
    throw new Error(`daemon did not come up within 10 s: ${this.readLog()}`);
  }

  readLog() {
    try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  // The shim command line for this daemon. --no-autostart: a dead daemon must fail the test
  // instead of being replaced by a detached one that outlives it.
  shimArgs() {
    return ['--socket-dir', this.socketDir, '--state-dir', this.stateDir, '--config', this.configPath, '--no-autostart'];
  }

  // A description of an unexpected daemon death, or null while it runs (or after stop()).
  died() {
    return this.exited && !this.stopping ? `claude-bridged died: code=${this.exited.code} signal=${this.exited.signal}` : null;
  }

  async stop() {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    this.stopping = true;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }

  async close({ keep = false } = {}) {
    await this.stop();
    if (!keep) rmSync(this.root, { recursive: true, force: true });
  }
}

// Newline-delimited JSON-RPC straight over mcp.sock (no SDK), for setting up fixtures.
export class RawClient {
  static async open(path) {
    const sock = connect(path);
    await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    return new RawClient(sock);
  }

  constructor(sock) {
    this.sock = sock;
    this.nextId = 1;
    this.waiters = new Map();
    createInterface({ input: sock }).on('line', (line) => {
      const m = JSON.parse(line);
      const w = this.waiters.get(m.id);
      if (w && !('method' in m)) { this.waiters.delete(m.id); w(m); }
    });
  }

  request(method, params) {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const t = setTimeout(() => { this.waiters.delete(id); rej(new Error(`no reply to ${method} within 10 s`)); }, 10000);
      this.waiters.set(id, (m) => { clearTimeout(t); res(m); });
      this.sock.write(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }) + '\n');
    });
  }

  async initialize() {
    const r = await this.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'interop-fixture', version: '0' } });
    this.sock.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
    return r;
  }

  // structuredContent of a successful tool call; throws otherwise.
  async call(name, args) {
    const r = await this.request('tools/call', { name, arguments: args });
    if (r.error) throw new Error(`${name}: JSON-RPC error ${JSON.stringify(r.error)}`);
    if (r.result.isError) throw new Error(`${name}: ${r.result.content?.[0]?.text}`);
    return r.result.structuredContent;
  }

  close() { this.sock.destroy(); }
}

// A fresh conversation: { conv, a, b } where a and b are credential objects.
export async function createConversation(client, myRole = 'backend_developer', partnerRole = 'frontend_developer') {
  const conv = await client.call('create_conversation', { my_role: myRole, partner_role: partnerRole });
  return {
    conv,
    a: { conversation_id: conv.conversation_id, session_id: 'a', token: conv.session_a_token },
    b: { conversation_id: conv.conversation_id, session_id: 'b', token: conv.session_b_token },
  };
}
