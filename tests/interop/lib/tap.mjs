#!/usr/bin/env node
// tap.mjs LOGFILE -- <server-cmd> [args...]
// A transparent stdio wrapper: runs the server, copies stdin to it and its stdout back
// unchanged (byte for byte), and appends every line of both directions to LOGFILE as
// {"dir":"in"|"out","t":ms,"line":"..."} (in = client to server). Closes the server's stdin on
// EOF, forwards SIGTERM/SIGINT, and exits with the server's exit code. Lets a test see the full
// messages that stdio-probe.mjs only summarises.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep !== 1 || argv.length < 3) {
  process.stderr.write('usage: tap.mjs LOGFILE -- <server-cmd> [args...]\n');
  process.exit(2);
}
const log = argv[0];
const [cmd, ...args] = argv.slice(2);
const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });

function lineLogger(dir) {
  const dec = new StringDecoder('utf8');
  let buf = '';
  return {
    push(chunk) {
      buf += dec.write(chunk);
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        appendFileSync(log, JSON.stringify({ dir, t: Date.now(), line: buf.slice(0, i) }) + '\n');
        buf = buf.slice(i + 1);
      }
    },
    end() {
      buf += dec.end();
      if (buf) appendFileSync(log, JSON.stringify({ dir, t: Date.now(), line: buf, unterminated: true }) + '\n');
      buf = '';
    },
  };
}
const inLog = lineLogger('in');
const outLog = lineLogger('out');

process.stdin.on('data', (c) => { inLog.push(c); child.stdin.write(c); });
process.stdin.on('end', () => { inLog.end(); appendFileSync(log, JSON.stringify({ dir: 'eof', t: Date.now() }) + '\n'); child.stdin.end(); });
child.stdin.on('error', () => {});
child.stdout.on('data', (c) => { outLog.push(c); process.stdout.write(c); });
child.stdout.on('end', () => outLog.end());
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
child.on('close', (code, signal) => {
  appendFileSync(log, JSON.stringify({ dir: 'exit', t: Date.now(), code, signal }) + '\n');
  process.exitCode = code ?? 128;
  // Let stdout drain, then leave even if our stdin is still open.
  process.stdout.write('', () => process.exit(process.exitCode));
});
