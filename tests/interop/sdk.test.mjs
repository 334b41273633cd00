// Interop with the official MCP TypeScript SDK client (@modelcontextprotocol/sdk, pinned in
// package.json): two Client + StdioClientTransport sessions, each through its own
// claude-bridge-shim, against one claude-bridged in temp dirs.
//   CB_BUILD_ROOT=<build dir> CB_SOURCE_ROOT=<repo> node sdk.test.mjs
// Exit 0 = all passed, 1 = a failure, 77 = skipped (node_modules missing: run npm ci here).
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HERE, SHIM, Daemon, requireBinaries, skip } from './lib/harness.mjs';

if (!existsSync(join(HERE, 'node_modules', '@modelcontextprotocol', 'sdk'))) {
  skip(`${join(HERE, 'node_modules')} has no @modelcontextprotocol/sdk: run "npm ci" in ${HERE}`);
}
requireBinaries();

const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
const { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } = await import('@modelcontextprotocol/sdk/types.js');
const { default: Ajv2020 } = await import('ajv/dist/2020.js');
const { default: addFormats } = await import('ajv-formats');
const sdkVersion = JSON.parse(readFileSync(join(HERE, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8')).version;

// The messaging tools every build serves; others (e.g. execute_command) may be listed too.
const TOOLS = ['create_conversation', 'send_to_partner', 'check_messages', 'wait_for_messages', 'update_my_status', 'check_partner_status'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Explicit, independent output validation: ajv in strict mode on the JSON Schema 2020-12
// dialect (the MCP default when a schema names no $schema). Union types such as
// ["integer","null"] are standard JSON Schema, so allowUnionTypes.
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
const outputValidators = new Map();

// A Client over a shim whose every JSON-RPC message, both ways, lands in `wire`.
async function connectClient(daemon, name, extraEnv = {}) {
  const transport = new StdioClientTransport({
    command: SHIM,
    args: daemon.shimArgs(),
    env: { ...daemon.env, ...extraEnv },
    stderr: 'pipe',
  });
  const wire = [];
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const origStart = transport.start.bind(transport);
  transport.start = async () => {
    const handler = transport.onmessage;
    transport.onmessage = (msg, extra) => { wire.push({ dir: 'in', msg, t: Date.now() }); handler?.(msg, extra); };
    return origStart();
  };
  const origSend = transport.send.bind(transport);
  transport.send = async (msg, opts) => { wire.push({ dir: 'out', msg, t: Date.now() }); return origSend(msg, opts); };
  const client = new Client({ name: `interop-${name}`, version: '0.1.0' }, { capabilities: {} });
  client.onerror = (e) => wire.push({ dir: 'error', msg: String(e?.message ?? e), t: Date.now() });
  await client.connect(transport, { timeout: 15000 });
  const init = wire.find((w) => w.dir === 'in' && w.msg.result?.protocolVersion)?.msg.result;
  return { name, client, transport, wire, init, stderr: () => stderr };
}

// The structuredContent of a successful call, after checking it against the tool's
// outputSchema with our own ajv and that the text block carries the same JSON.
function ok(tool, result) {
  assert.notEqual(result.isError, true, `${tool} failed: ${result.content?.[0]?.text}`);
  const sc = result.structuredContent;
  assert.ok(sc && typeof sc === 'object', `${tool}: no structuredContent`);
  const validate = outputValidators.get(tool);
  assert.ok(validate, `${tool}: no compiled outputSchema (listTools must run first)`);
  assert.ok(validate(sc), `${tool}: structuredContent does not match outputSchema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(sc)}`);
  assert.equal(result.content?.[0]?.type, 'text');
  assert.deepEqual(JSON.parse(result.content[0].text), sc, `${tool}: text block differs from structuredContent`);
  return sc;
}

function errText(result) {
  assert.equal(result.isError, true, `expected isError:true, got ${JSON.stringify(result)}`);
  assert.equal(result.structuredContent, undefined, 'an isError result must not carry structuredContent');
  assert.equal(result.content?.[0]?.type, 'text');
  return result.content[0].text;
}

let daemon, A, B, creds;

// it() that names a daemon crash as the cause when the daemon died during the test.
function step(name, fn) { return stepOn(() => daemon, name, fn); }

function stepOn(daemonOf, name, fn) {
  it(name, async () => {
    const daemon = daemonOf();
    try {
      await fn();
    } catch (e) {
      await sleep(100); // let the daemon's exit event arrive
      const died = daemon?.died();
      if (died) throw new Error(`SERVER BUG: ${died} during this test; the client saw: ${e.message}`);
      throw e;
    }
    const died = daemon?.died();
    if (died) throw new Error(`SERVER BUG: ${died} during this test`);
  });
}

describe(`claude-bridge vs @modelcontextprotocol/sdk ${sdkVersion} (Client + StdioClientTransport, Node ${process.version})`, () => {
  before(async () => {
    daemon = await new Daemon().start();
    [A, B] = await Promise.all([connectClient(daemon, 'a'), connectClient(daemon, 'b')]);
  });

  // A daemon crash fails the test it happened in (see step()); the next test gets a restarted
  // daemon on the same state dir (conversations and tokens survive) and fresh clients, so one
  // crash does not hide the results of the tests after it.
  beforeEach(async () => {
    if (!daemon?.died()) return;
    console.log(`# restarting claude-bridged after: ${daemon.died()}`);
    for (const c of [A, B]) { try { await c.client.close(); } catch { /* ignore */ } }
    await daemon.start();
    [A, B] = await Promise.all([connectClient(daemon, 'a'), connectClient(daemon, 'b')]);
    for (const c of [A, B]) await c.client.listTools();
  });

  after(async () => {
    for (const c of [A, B]) { try { await c?.client.close(); } catch { /* ignore */ } }
    const failed = process.exitCode && process.exitCode !== 0;
    if (failed) {
      console.log(`# daemon log (${daemon?.logPath}):\n${daemon?.readLog()}`);
      for (const c of [A, B]) if (c) console.log(`# shim ${c.name} stderr:\n${c.stderr()}`);
    }
    await daemon?.close();
  });

  step('initialize: both clients negotiate the SDK latest protocol version', () => {
    for (const c of [A, B]) {
      assert.ok(c.init, 'no initialize result seen on the wire');
      assert.equal(c.init.protocolVersion, LATEST_PROTOCOL_VERSION);
      assert.ok(SUPPORTED_PROTOCOL_VERSIONS.includes(c.init.protocolVersion));
      const info = c.client.getServerVersion();
      assert.equal(typeof info?.name, 'string');
      assert.equal(typeof info?.version, 'string');
      const caps = c.client.getServerCapabilities();
      assert.ok(caps?.tools, 'capabilities.tools missing');
      assert.ok(caps?.logging, 'capabilities.logging missing');
      assert.match(c.client.getInstructions() ?? '', /create_conversation/);
    }
    console.log(`# negotiated ${A.init.protocolVersion} with ${JSON.stringify(A.client.getServerVersion())}`);
  });

  step('ping and logging/setLevel work after initialize', async () => {
    assert.deepEqual(await A.client.ping(), {});
    assert.deepEqual(await A.client.setLoggingLevel('info'), {});
  });

  step('tools/list: the six messaging tools (and any others), each with inputSchema and outputSchema that compile under strict ajv', async () => {
    for (const c of [A, B]) {
      const { tools, nextCursor } = await c.client.listTools(); // also arms the SDK's own output validation
      if (c === A) {
        for (const t of tools) if (t.outputSchema) outputValidators.set(t.name, ajv.compile(t.outputSchema));
        console.log(`# tools: ${tools.map((t) => t.name).join(', ')}`);
      }
      assert.equal(nextCursor, undefined);
      const names = tools.map((t) => t.name);
      assert.deepEqual(TOOLS.filter((n) => !names.includes(n)), [], 'messaging tools missing from tools/list');
      for (const t of tools) {
        assert.match(t.name, /^[A-Za-z0-9_.-]{1,128}$/);
        assert.equal(typeof t.title, 'string', `${t.name}: title`);
        assert.ok(t.description?.length > 20, `${t.name}: description`);
        assert.equal(t.inputSchema?.type, 'object', `${t.name}: inputSchema`);
        assert.equal(t.outputSchema?.type, 'object', `${t.name}: outputSchema missing`);
        assert.equal(typeof t.annotations?.readOnlyHint, 'boolean', `${t.name}: annotations`);
        assert.doesNotThrow(() => ajv.compile(t.inputSchema), `${t.name}: inputSchema does not compile`);
        assert.doesNotThrow(() => ajv.compile(t.outputSchema), `${t.name}: outputSchema does not compile`);
      }
    }
  });

  step('bad arguments are a tool result with isError:true whose text names the field', async () => {
    const short = errText(await A.client.callTool({ name: 'create_conversation', arguments: { my_role: 'x', partner_role: 'frontend_developer' } }));
    assert.match(short, /my_role/);
    const missing = errText(await A.client.callTool({ name: 'create_conversation', arguments: {} }));
    assert.match(missing, /my_role/);
    assert.match(missing, /partner_role/);
    const extra = errText(await A.client.callTool({ name: 'check_messages', arguments: { conversation_id: 'conv_0000000000000000', session_id: 'a', token: 'x' } }));
    assert.match(extra, /token/);
  });

  // Once a SERVER BUG: the root-level additionalProperties problem was dropped whenever a field
  // problem existed too, costing the model an extra round trip. The texts are in words now.
  step('bad arguments: the error names every problem, a misspelt property too', async () => {
    const text = errText(await A.client.callTool({ name: 'check_messages', arguments: {
      conversation_id: 'conv_0000000000000000', session_id: 'a', token: 'x', limt: 5 } }));
    assert.match(text, /token/);
    assert.match(text, /limt/, `SERVER BUG: the unknown property "limt" is not named when another field is bad too: ${text}`);
    assert.match(text, /token: must be 64 lowercase hex digits/);
    assert.doesNotMatch(text, /constraint|\.000000|\.\./, text);
  });

  step('create_conversation (a): structuredContent matches its outputSchema', async () => {
    const conv = ok('create_conversation', await A.client.callTool({ name: 'create_conversation', arguments: { my_role: 'backend_developer', partner_role: 'frontend_developer' } }));
    assert.equal(conv.session_id, 'a');
    assert.notEqual(conv.session_a_token, conv.session_b_token);
    creds = {
      a: { conversation_id: conv.conversation_id, session_id: 'a', token: conv.session_a_token },
      b: { conversation_id: conv.conversation_id, session_id: 'b', token: conv.session_b_token },
    };
    // A wrong enum value on a real conversation names the field too.
    assert.match(errText(await A.client.callTool({ name: 'send_to_partner', arguments: { ...creds.a, message: 'x', action_type: 'shout' } })), /action_type/);
  });

  let sent;
  step('send_to_partner a→b with metadata', async () => {
    sent = ok('send_to_partner', await A.client.callTool({ name: 'send_to_partner', arguments: {
      ...creds.a, message: 'API ready at /v1/users — ✓ ünïcödé', action_type: 'proposal', files_involved: ['src/api.ts', 'docs/api.md'] } }));
    assert.equal(sent.status, 'sent');
    assert.equal(sent.to, 'b');
    assert.equal(sent.to_role, 'frontend_developer');
    assert.equal(sent.redacted, false);
  });

  step('wait_for_messages (b) returns the message at once; check_messages shows it was read exactly once', async () => {
    const t0 = Date.now();
    const got = ok('wait_for_messages', await B.client.callTool({ name: 'wait_for_messages', arguments: { ...creds.b, timeout_seconds: 30 } }));
    console.log(`# wait_for_messages with mail pending returned in ${Date.now() - t0} ms`);
    assert.equal(got.messages.length, 1);
    const m = got.messages[0];
    assert.equal(m.id, sent.message_id);
    assert.equal(m.from, 'a');
    assert.equal(m.from_role, 'backend_developer');
    assert.equal(m.message, 'API ready at /v1/users — ✓ ünïcödé');
    assert.deepEqual(m.metadata, { action_type: 'proposal', files_involved: ['src/api.ts', 'docs/api.md'] });
    assert.equal(got.has_more, false);
    assert.equal(got.unread_remaining, 0);
    const again = ok('check_messages', await B.client.callTool({ name: 'check_messages', arguments: creds.b }));
    assert.deepEqual(again.messages, [], 'the message was delivered twice');
    const reread = ok('check_messages', await B.client.callTool({ name: 'check_messages', arguments: { ...creds.b, since_id: 0 } }));
    assert.deepEqual(reread.messages.map((x) => x.id), [sent.message_id]);
    assert.deepEqual(ok('check_messages', await A.client.callTool({ name: 'check_messages', arguments: creds.a })).messages, []);
  });

  step('update_my_status (b) and check_partner_status (a)', async () => {
    const st = ok('update_my_status', await B.client.callTool({ name: 'update_my_status', arguments: { ...creds.b, status: 'working' } }));
    assert.equal(st.status, 'working');
    assert.equal(st.session_id, 'b');
    const ps = ok('check_partner_status', await A.client.callTool({ name: 'check_partner_status', arguments: creds.a }));
    assert.equal(ps.partner_session_id, 'b');
    assert.equal(ps.partner_role, 'frontend_developer');
    assert.equal(ps.status, 'working');
    assert.equal(ps.alive, true);
    assert.equal(ps.connected, true);
    assert.equal(ps.waiting, false);
    assert.equal(ps.unread_by_partner, 0);
    // And the other way round: a never set a status, but its calls are heartbeats, so it is
    // "active" rather than "unknown".
    const pa = ok('check_partner_status', await B.client.callTool({ name: 'check_partner_status', arguments: creds.b }));
    assert.equal(pa.status, 'active');
    assert.equal(pa.alive, true);
    assert.equal(typeof pa.last_heartbeat, 'string');
    assert.equal(typeof pa.age_seconds, 'number');
  });

  step('progress: wait_for_messages (timeout_seconds 6) sends notifications/progress, then returns empty', async () => {
    const progress = [];
    const t0 = Date.now();
    const pending = B.client.callTool({ name: 'wait_for_messages', arguments: { ...creds.b, timeout_seconds: 6 } }, undefined,
      { onprogress: (p) => progress.push({ ...p, atMs: Date.now() - t0 }), timeout: 30000 });
    await sleep(500);
    const ps = ok('check_partner_status', await A.client.callTool({ name: 'check_partner_status', arguments: creds.a }));
    assert.equal(ps.waiting, true, 'a should see b waiting');
    const res = ok('wait_for_messages', await pending);
    const took = Date.now() - t0;
    console.log(`# progress notifications: ${JSON.stringify(progress)}; returned after ${took} ms`);
    assert.deepEqual(res.messages, []);
    assert.equal(res.has_more, false);
    assert.ok(progress.length >= 1, 'no notifications/progress arrived during a 6 s wait');
    for (let i = 0; i < progress.length; i++) {
      assert.equal(typeof progress[i].progress, 'number');
      assert.equal(typeof progress[i].message, 'string');
      if (i) assert.ok(progress[i].progress > progress[i - 1].progress, 'progress must increase');
    }
    // On the wire: the token our request carried, on every notification.
    const req = B.wire.findLast((w) => w.dir === 'out' && w.msg.method === 'tools/call' && w.msg.params?.name === 'wait_for_messages');
    const token = req.msg.params._meta?.progressToken;
    assert.notEqual(token, undefined, 'the SDK did not send a progressToken');
    const notes = B.wire.filter((w) => w.dir === 'in' && w.msg.method === 'notifications/progress');
    assert.ok(notes.length >= 1);
    for (const n of notes.filter((n) => n.t >= t0)) assert.equal(n.msg.params.progressToken, token);
    const after = ok('check_partner_status', await A.client.callTool({ name: 'check_partner_status', arguments: creds.a }));
    assert.equal(after.waiting, false);
  });

  step('cancellation: aborting a wait sends notifications/cancelled; a message sent afterwards stays unread', async () => {
    const ac = new AbortController();
    const pending = B.client.callTool({ name: 'wait_for_messages', arguments: { ...creds.b, timeout_seconds: 60 } }, undefined, { signal: ac.signal, timeout: 90000 });
    const outcome = pending.then(() => 'resolved', (e) => e);
    await sleep(500);
    const req = B.wire.findLast((w) => w.dir === 'out' && w.msg.method === 'tools/call' && w.msg.params?.name === 'wait_for_messages');
    ac.abort('interop test: user pressed Esc');
    const e = await outcome;
    assert.notEqual(e, 'resolved', 'the aborted call resolved');
    const cancel = B.wire.find((w) => w.dir === 'out' && w.msg.method === 'notifications/cancelled' && w.msg.params?.requestId === req.msg.id);
    assert.ok(cancel, 'the SDK sent no notifications/cancelled');
    await sleep(300);
    const ps = ok('check_partner_status', await A.client.callTool({ name: 'check_partner_status', arguments: creds.a }));
    assert.equal(ps.waiting, false, 'b still shows as waiting after the cancel');
    const late = ok('send_to_partner', await A.client.callTool({ name: 'send_to_partner', arguments: { ...creds.a, message: 'after the cancel', action_type: 'info' } }));
    await sleep(500);
    // The cancelled request gets no response at all (spec: "SHOULD NOT send a response").
    assert.equal(B.wire.filter((w) => w.dir === 'in' && w.msg.id === req.msg.id && !w.msg.method).length, 0,
      'the server answered a cancelled request');
    const got = ok('check_messages', await B.client.callTool({ name: 'check_messages', arguments: creds.b }));
    assert.deepEqual(got.messages.map((m) => m.id), [late.message_id], 'the message sent after the cancel was consumed by the cancelled wait');
    assert.equal(got.messages[0].message, 'after the cancel');
  });

  step('a lone surrogate (JSON.stringify of a string cut inside an emoji) is stored as U+FFFD, not left unanswered', async () => {
    const cut = '😀 done'.slice(1); // begins with the low half of the pair alone
    const sentCut = ok('send_to_partner', await A.client.callTool({ name: 'send_to_partner', arguments: { ...creds.a, message: `cut ${'😀'.slice(0, 1)} here, ${cut}` } }, undefined, { timeout: 15000 }));
    const got = ok('check_messages', await B.client.callTool({ name: 'check_messages', arguments: creds.b }));
    assert.deepEqual(got.messages.map((m) => [m.id, m.message]), [[sentCut.message_id, 'cut \ufffd here, \ufffd done']]);
  });

  step('wire hygiene: every response answers one request once; only progress, declared channel push or log notifications; no SDK errors', () => {
    for (const c of [A, B]) {
      const errors = c.wire.filter((w) => w.dir === 'error');
      assert.deepEqual(errors.map((e) => e.msg), [], `${c.name}: SDK reported errors`);
      const sentIds = new Map(c.wire.filter((w) => w.dir === 'out' && w.msg.method && 'id' in w.msg).map((w) => [JSON.stringify(w.msg.id), w.msg.method]));
      const seen = new Set();
      for (const w of c.wire.filter((x) => x.dir === 'in')) {
        const m = w.msg;
        assert.equal(m.jsonrpc, '2.0');
        if (m.method) {
          assert.ok(!('id' in m), `${c.name}: server sent a request ${m.method}`);
          if (m.method === 'notifications/progress') continue;
          if (m.method === 'notifications/claude/channel') {
            // Channel push (MCP.md): allowed when declared in capabilities; Claude Code drops it
            // unless started with --channels, the SDK ignores it.
            assert.ok(c.client.getServerCapabilities()?.experimental?.['claude/channel'], `${c.name}: claude/channel push without declaring it`);
            assert.equal(typeof m.params?.content, 'string');
            for (const v of Object.values(m.params?.meta ?? {})) assert.equal(typeof v, 'string', 'channel meta values must be strings');
            continue;
          }
          if (m.method === 'notifications/message') {
            assert.ok(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'].includes(m.params?.level));
            continue;
          }
          assert.fail(`${c.name}: unsolicited ${m.method}`);
        }
        const key = JSON.stringify(m.id);
        assert.ok(sentIds.has(key), `${c.name}: response to unknown id ${key}`);
        assert.ok(!seen.has(key), `${c.name}: two responses to id ${key}`);
        seen.add(key);
      }
      const counts = {};
      for (const w of c.wire) counts[`${w.dir} ${w.msg.method ?? 'response'}`] = (counts[`${w.dir} ${w.msg.method ?? 'response'}`] ?? 0) + 1;
      console.log(`# client ${c.name} wire: ${JSON.stringify(counts)}`);
    }
  });
  // After wire hygiene: the restart adds the shim's own -32000 answers to the wire.
  step('daemon restart: a call in flight gets a retryable -32000 error, and both sessions go on', async () => {
    const pending = B.client.callTool({ name: 'wait_for_messages', arguments: { ...creds.b, timeout_seconds: 60 } }, undefined, { timeout: 90000 });
    const outcome = pending.then((r) => ({ resolved: r }), (e) => e);
    for (let i = 0; i < 200; i++) { // until the wait is running in the daemon
      if (ok('check_partner_status', await A.client.callTool({ name: 'check_partner_status', arguments: creds.a })).waiting) break;
      await sleep(25);
    }
    const before = A.wire.length;
    await daemon.stop(); // SIGTERM, as systemctl --user restart or an upgrade does
    await daemon.start(); // same socket, state and config
    const e = await outcome;
    assert.ok(!e.resolved, `the wait in flight resolved: ${JSON.stringify(e.resolved)}`);
    assert.equal(e.code, -32000, `expected the shim's -32000 answer, got ${e}`);
    assert.match(e.message, /restarted or stopped before answering.*call it again/);
    // Both sessions go on without a new initialize from the SDK: the shims replayed theirs.
    assert.deepEqual(await A.client.ping(), {});
    const late = ok('send_to_partner', await A.client.callTool({ name: 'send_to_partner', arguments: { ...creds.a, message: 'after the restart' } }));
    const got = ok('wait_for_messages', await B.client.callTool({ name: 'wait_for_messages', arguments: { ...creds.b, timeout_seconds: 30 } }));
    assert.deepEqual(got.messages.map((m) => [m.id, m.message]), [[late.message_id, 'after the restart']]);
    assert.deepEqual(await A.client.setLoggingLevel('info'), {});
    for (const c of [A, B]) {
      const errors = c.wire.filter((w) => w.dir === 'error');
      assert.deepEqual(errors.map((x) => x.msg), [], `${c.name}: SDK reported errors (a reply to the replayed initialize leaked?)`);
      assert.equal(c.wire.filter((w) => w.dir === 'out' && w.msg.method === 'initialize').length, 1, `${c.name}: the SDK initialized twice`);
      assert.match(c.stderr(), /reconnected to the daemon/);
    }
    assert.ok(A.wire.length > before);
  });
});

// Issue 23: named agents. Three shims, each named by CLAUDE_BRIDGE_AGENT in its environment (as
// the `env` of a .mcp.json entry sets it) and given a project directory by CLAUDE_PROJECT_DIR;
// no call of theirs carries a token except join_conversation's. Every result is checked
// against its tool's outputSchema by the SDK and by ajv (ok()).
describe('named agents: list_agents, send_message, whole-inbox reads, groups, join_conversation, redelivery', () => {
  let ad, alice, bob, carol, projA, projB;
  const agentStep = (name, fn) => stepOn(() => ad, name, fn);
  const call = (c, name, args, opts) => c.client.callTool({ name, arguments: args }, undefined, opts);

  before(async () => {
    // redeliver_after_seconds = 2 keeps the redelivery step short; the default is 25.
    ad = await new Daemon({ config: '[conversation]\nredeliver_after_seconds = 2\n' }).start();
    projA = realpathSync(mkdtempSync(join(tmpdir(), 'cb-proj-a-')));
    projB = realpathSync(mkdtempSync(join(tmpdir(), 'cb-proj-b-')));
    alice = await connectClient(ad, 'alice', { CLAUDE_BRIDGE_AGENT: 'alice', CLAUDE_PROJECT_DIR: projA });
    bob = await connectClient(ad, 'bob', { CLAUDE_BRIDGE_AGENT: 'bob', CLAUDE_PROJECT_DIR: projB });
    carol = await connectClient(ad, 'carol', { CLAUDE_BRIDGE_AGENT: 'carol', CLAUDE_PROJECT_DIR: projA });
  });

  after(async () => {
    for (const c of [alice, bob, carol]) { try { await c?.client.close(); } catch { /* ignore */ } }
    if (process.exitCode && process.exitCode !== 0) {
      console.log(`# daemon log (${ad?.logPath}):\n${ad?.readLog()}`);
      for (const c of [alice, bob, carol]) if (c) console.log(`# shim ${c.name} stderr:\n${c.stderr()}`);
    }
    await ad?.close();
    for (const d of [projA, projB]) if (d) rmSync(d, { recursive: true, force: true });
  });

  agentStep('tools/list has list_agents, send_message and join_conversation; the instructions lead with them', async () => {
    for (const c of [alice, bob, carol]) {
      const { tools } = await c.client.listTools();
      const names = tools.map((t) => t.name);
      for (const t of ['list_agents', 'send_message', 'join_conversation', ...TOOLS]) assert.ok(names.includes(t), `${c.name}: ${t} missing`);
      for (const t of tools) if (t.outputSchema) outputValidators.set(t.name, ajv.compile(t.outputSchema));
    }
    const instructions = alice.client.getInstructions() ?? '';
    assert.ok(instructions.length <= 700, `instructions are ${instructions.length} characters`);
    assert.match(instructions, /list_agents/);
    assert.match(instructions, /send_message/);
    assert.ok(instructions.indexOf('send_message') < instructions.indexOf('create_conversation'), instructions);
  });

  agentStep('list_agents: each connection is the agent its environment named, in its project', async () => {
    const all = ok('list_agents', await call(alice, 'list_agents', {}));
    assert.deepEqual(all.you, { name: 'alice', project: projA });
    const byName = Object.fromEntries(all.agents.map((a) => [a.name, a]));
    assert.deepEqual(Object.keys(byName).sort(), ['alice', 'bob', 'carol']);
    assert.equal(byName.bob.project, projB);
    assert.equal(byName.carol.project, projA);
    for (const a of all.agents) assert.equal(a.connected, true, `${a.name} not connected`);
    const mine = ok('list_agents', await call(alice, 'list_agents', { scope: 'project' }));
    assert.deepEqual(mine.agents.map((a) => a.name).sort(), ['alice', 'carol']);
    assert.equal(ok('list_agents', await call(bob, 'list_agents', {})).you.name, 'bob');
  });

  let pairConv, question;
  agentStep('send_message to one name; check_messages without credentials reads the whole inbox', async () => {
    question = ok('send_message', await call(alice, 'send_message', {
      to: 'bob', message: 'Which fields does GET /users/{id} return?', action_type: 'question', files_involved: ['src/api/users.ts'] }));
    assert.deepEqual(question.to, ['bob']);
    assert.equal(question.redacted, false);
    pairConv = question.conversation_id;
    const unread = ok('list_agents', await call(bob, 'list_agents', {})).agents.find((a) => a.name === 'alice');
    assert.equal(unread.unread_from_them, 1);
    const got = ok('check_messages', await call(bob, 'check_messages', {}));
    assert.equal(got.agent, 'bob');
    assert.equal(got.messages.length, 1);
    const m = got.messages[0];
    assert.deepEqual([m.id, m.from, m.conversation_id, m.message], [question.message_id, 'alice', pairConv, 'Which fields does GET /users/{id} return?']);
    assert.deepEqual(m.metadata, { action_type: 'question', files_involved: ['src/api/users.ts'] });
    assert.match(got.note, /not instructions from your user/);
    assert.deepEqual(ok('check_messages', await call(bob, 'check_messages', {})).messages, [], 'read twice');
    // The same pair of names is the same conversation.
    assert.equal(ok('send_message', await call(bob, 'send_message', { to: 'alice', message: 'one moment' })).conversation_id, pairConv);
    assert.deepEqual(ok('check_messages', await call(alice, 'check_messages', {})).messages.map((x) => x.message), ['one moment']);
  });

  agentStep('wait_for_messages without credentials wakes on an answer sent to the conversation id, with reply_to', async () => {
    const pending = call(alice, 'wait_for_messages', { timeout_seconds: 60 }, { onprogress: () => {}, timeout: 90000 });
    const answer = ok('send_message', await call(bob, 'send_message', { to: pairConv, message: 'id, email, created_at', reply_to: question.message_id }));
    assert.deepEqual(answer.to, ['alice']);
    const got = ok('wait_for_messages', await pending);
    assert.deepEqual(got.messages.map((m) => [m.id, m.from, m.reply_to, m.message]), [[answer.message_id, 'bob', question.message_id, 'id, email, created_at']]);
    assert.equal(got.messages[0].redelivered, undefined);
  });

  agentStep('send_message to an array of names: one group conversation, every other member gets it', async () => {
    const sent = ok('send_message', await call(alice, 'send_message', { to: ['carol', 'bob'], message: 'schema frozen for v1', action_type: 'info' }));
    assert.deepEqual(sent.to, ['bob', 'carol']);
    assert.notEqual(sent.conversation_id, pairConv);
    for (const c of [bob, carol]) {
      const got = ok('wait_for_messages', await call(c, 'wait_for_messages', { timeout_seconds: 30 }, { onprogress: () => {}, timeout: 60000 }));
      assert.deepEqual(got.messages.map((m) => [m.id, m.from, m.conversation_id]), [[sent.message_id, 'alice', sent.conversation_id]], c.name);
    }
    assert.deepEqual(ok('check_messages', await call(alice, 'check_messages', {})).messages, [], 'the sender got its own message');
  });

  agentStep('send_message to an unknown name is an isError listing the live agents', async () => {
    const text = errText(await call(alice, 'send_message', { to: 'nobody', message: 'hello?' }));
    assert.match(text, /^Error \(unknown_agent\): /);
    for (const n of ['alice', 'bob', 'carol']) assert.match(text, new RegExp(n));
    assert.match(text, /list_agents/);
  });

  agentStep('create_conversation with members: no tokens; send_message to its id reaches the members', async () => {
    const conv = ok('create_conversation', await call(carol, 'create_conversation', { members: ['bob'] }));
    assert.deepEqual(conv.members, ['carol', 'bob']);
    assert.equal(conv.session_a_token, undefined);
    assert.equal(conv.session_b_token, undefined);
    const sent = ok('send_message', await call(carol, 'send_message', { to: conv.conversation_id, message: 'review my PR?' }));
    assert.deepEqual(sent.to, ['bob']);
    const got = ok('check_messages', await call(bob, 'check_messages', { conversation_id: conv.conversation_id }));
    assert.deepEqual(got.messages.map((m) => [m.id, m.from]), [[sent.message_id, 'carol']]);
  });

  agentStep('update_my_status without a conversation sets the agent\'s status and note, shown by list_agents', async () => {
    const st = ok('update_my_status', await call(alice, 'update_my_status', { status: 'working', note: 'implementing GET /users' }));
    assert.deepEqual([st.agent, st.status, st.note], ['alice', 'working', 'implementing GET /users']);
    const seen = ok('list_agents', await call(bob, 'list_agents', {})).agents.find((a) => a.name === 'alice');
    assert.deepEqual([seen.status, seen.note], ['working', 'implementing GET /users']);
  });

  agentStep('join_conversation binds a token seat once; later calls need only the conversation_id', async () => {
    const conv = ok('create_conversation', await call(bob, 'create_conversation', { my_role: 'backend_developer', partner_role: 'frontend_developer' }));
    const a = { conversation_id: conv.conversation_id, session_id: 'a', token: conv.session_a_token };
    const joined = ok('join_conversation', await call(alice, 'join_conversation', { conversation_id: conv.conversation_id, session_id: 'b', token: conv.session_b_token }));
    assert.deepEqual([joined.agent, joined.session_id, joined.my_role, joined.partner_role], ['alice', 'b', 'frontend_developer', 'backend_developer']);
    const sent = ok('send_to_partner', await call(bob, 'send_to_partner', { ...a, message: 'token path still works' }));
    const got = ok('check_messages', await call(alice, 'check_messages', {}));
    assert.deepEqual(got.messages.map((m) => [m.id, m.conversation_id, m.message]), [[sent.message_id, conv.conversation_id, 'token path still works']]);
    const back = ok('send_to_partner', await call(alice, 'send_to_partner', { conversation_id: conv.conversation_id, message: 'answered without a token' }));
    assert.equal(back.to, 'a');
    assert.deepEqual(ok('check_messages', await call(bob, 'check_messages', a)).messages.map((m) => m.id), [back.message_id]);
    // Another agent cannot take the seat alice holds.
    assert.match(errText(await call(carol, 'join_conversation', { conversation_id: conv.conversation_id, session_id: 'b', token: conv.session_b_token })), /^Error \(seat_taken\): /);
  });

  agentStep('redelivery: a wait without a progress token answered after blocking ≥ redeliver_after_seconds is offered again, flagged once', async () => {
    const pending = call(bob, 'wait_for_messages', { timeout_seconds: 60 }, { timeout: 90000 });
    const req = bob.wire.findLast((w) => w.dir === 'out' && w.msg.params?.name === 'wait_for_messages');
    assert.equal(req.msg.params._meta?.progressToken, undefined, 'the SDK sent a progress token without onprogress');
    for (let i = 0; ; i++) { // until alice sees bob blocked in the wait
      const b = ok('list_agents', await call(alice, 'list_agents', {})).agents.find((a) => a.name === 'bob');
      if (b.waiting) break;
      assert.ok(i < 400, 'bob never showed as waiting');
      await sleep(25);
    }
    await sleep(2500); // the wait has now blocked longer than redeliver_after_seconds = 2
    const sent = ok('send_message', await call(alice, 'send_message', { to: 'bob', message: 'did this reach you?' }));
    const got = ok('wait_for_messages', await pending);
    assert.deepEqual(got.messages.map((m) => [m.id, m.redelivered]), [[sent.message_id, undefined]]);
    const again = ok('check_messages', await call(bob, 'check_messages', {}));
    assert.deepEqual(again.messages.map((m) => [m.id, m.message, m.redelivered]), [[sent.message_id, 'did this reach you?', true]]);
    assert.deepEqual(ok('check_messages', await call(bob, 'check_messages', {})).messages, [], 'offered a third time');
  });

  agentStep('no SDK errors on any of the three connections', () => {
    for (const c of [alice, bob, carol]) {
      assert.deepEqual(c.wire.filter((w) => w.dir === 'error').map((e) => e.msg), [], `${c.name}: SDK reported errors`);
    }
  });
});
