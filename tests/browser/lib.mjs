// Shared pieces of the console tests: the daemon harness of tests/interop (temp dirs, never the
// real home), and `claude-bridgectl ui` started on it, with the URL it printed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BUILD_ROOT } from '../interop/lib/harness.mjs';

export { Daemon, RawClient, createConversation, SKIP, skip } from '../interop/lib/harness.mjs';
export const CTL = join(BUILD_ROOT, 'ctl', 'claude-bridgectl');
export const CHROMIUM = process.env.CB_CHROMIUM || '/usr/bin/chromium';

export function missing() {
  if (!existsSync(CTL)) return `missing ${CTL}: build claude-bridgectl`;
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
