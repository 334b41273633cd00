// Shared pieces of the console tests: the daemon harness of tests/interop (temp dirs, never the
// real home), and `claude-bridgectl ui` started on it, with the URL it printed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Duplex } from 'node:stream';
import { BUILD_ROOT, RawClient, SHIM } from '../interop/lib/harness.mjs';

export { Daemon, RawClient, createConversation, SKIP, skip } from '../interop/lib/harness.mjs';
export const CTL = join(BUILD_ROOT, 'ctl', 'claude-bridgectl');
export const CHROMIUM = process.env.CB_CHROMIUM || '/usr/bin/chromium';

export function missing() {
  if (!existsSync(CTL)) return `missing ${CTL}: build claude-bridgectl`;
  if (!existsSync(SHIM)) return `missing ${SHIM}: build claude-bridge-shim`;
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  return null;
}

// `claude-bridgectl ui --no-open` on `daemon`: {proc, url, port, token, stderr()}.
export async function startConsole(daemon) {
  const proc = spawn(CTL, ['--socket-dir', daemon.socketDir, 'ui', '--no-open'],
                     { env: daemon.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const line = await new Promise((res, rej) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', res);
    proc.once('exit', (code) => rej(new Error(`claude-bridgectl ui exited ${code}: ${err}`)));
  });
  const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64})$/.exec(line);
  if (!m) throw new Error(`claude-bridgectl ui printed ${JSON.stringify(line)}`);
  return { proc, url: line, port: Number(m[1]), token: m[2], stderr: () => err };
}

export async function stopConsole(c) {
  if (!c || c.proc.exitCode !== null) return;
  const done = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await done;
}

// What a client's environment may say about it; cleared so the agents are what the test says.
const MARKERS = ['CLAUDECODE', 'GEMINI_CLI', 'CLAUDE_CODE_SESSION_ID', 'CLAUDE_PROJECT_DIR',
                 'CLAUDE_BRIDGE_AGENT', 'CLAUDE_CODE_ENTRYPOINT'];

// A named agent as a client runs it: a real claude-bridge-shim on `daemon` whose hello line
// names the agent `name` in project directory `root/project` (made here). Returns a RawClient
// over the shim's stdio, initialized, with `name` (the name the daemon bound) and `proc`.
export async function startAgent(daemon, root, name, project) {
  const dir = join(root, project);
  mkdirSync(dir, { recursive: true });
  const env = { ...daemon.env };
  for (const k of MARKERS) delete env[k];
  env.CLAUDE_PROJECT_DIR = realpathSync(dir);
  env.CLAUDE_BRIDGE_AGENT = name;
  const proc = spawn(SHIM, daemon.shimArgs(), { env, stdio: ['pipe', 'pipe', 'ignore'] });
  const client = new RawClient(Duplex.from({ readable: proc.stdout, writable: proc.stdin }));
  client.proc = proc;
  // Ends the shim as a client does (stdin closed, then a signal); destroying the joined
  // stream instead would abort it with an error after the test.
  client.close = () => { proc.stdin.end(); proc.kill('SIGTERM'); };
  await client.initialize();
  client.name = (await client.call('list_agents', {})).you.name;
  return client;
}
