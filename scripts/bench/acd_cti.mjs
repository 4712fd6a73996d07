#!/usr/bin/env node
// The ACD benchmark's agents (scripts/bench/acd.sh, step `acd` of scripts/bench/sip.sh).
//
//   node acd_cti.mjs setup BASE      extension, agent users and profiles, the DID route (idempotent)
//   node acd_cti.mjs run BASE DIR    N agents sign in, open the CTI socket, log in ready; record every
//                                    event until DIR/stop appears; log out; check and report
//
// Node >= 22 has a global WebSocket; Node 20 needs `--experimental-websocket` (acd.sh passes it).
// The socket is opened with `Authorization: Bearer` (undici's WebSocket takes a `headers` option).
//
// Environment: ACD_AGENTS (200), ACD_PHONE (8999), ACD_NUMBER (96600, the DID), ACD_QUEUE (general),
// ACD_PASSWORD (Kefu@2026: admin's, the agents' and the extension's), ACD_WRAP_SECS (1).
//
// What `run` checks, per agent socket:
// - misdelivered: an event whose agent_id is not the socket's agent;
// - lost: gaps in `seq` (each agent's events are numbered consecutively from hello's seq), a
//   `resync` (the server's socket fell behind its broadcast channel), a socket closed by the server;
// - against the server's own record (GET /agents/{id}/state-log as admin, rows started in the run):
//   `offering` events received vs `reserved` rows (offers made to that agent), and `state` events
//   received vs all rows (every state change is logged and published);
// - latency: receive time (performance.timeOrigin + now(), sub-ms) - `at` (server time, RFC 3339).
//   The figures are those of the call phase (from the last agent ready to the end of the calls); the
//   bursts while the agents log in and out are reported apart. Every event is written to
//   DIR/events.txt (desk, receive time, latency, phase, the event).

import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const [mode, BASE, DIR] = process.argv.slice(2);
const N = Number(process.env.ACD_AGENTS ?? 200);
const PHONE = process.env.ACD_PHONE ?? '8999';
const NUMBER = process.env.ACD_NUMBER ?? '96600';
const QUEUE = process.env.ACD_QUEUE ?? 'general';
const PASSWORD = process.env.ACD_PASSWORD ?? 'Kefu@2026';
const WRAP = Number(process.env.ACD_WRAP_SECS ?? 1);
// One write at a time: concurrent POST /users on SQLite answered 500 "database is locked" (found by
// this benchmark, see docs/benchmarks.md).
const SETUP_WIDTH = Number(process.env.ACD_SETUP_WIDTH ?? 1);
const names = Array.from({ length: N }, (_, i) => `acdbench${String(i + 1).padStart(3, '0')}`);

if (typeof WebSocket === 'undefined') {
  console.error('no global WebSocket: use Node >= 22, or Node 20 with --experimental-websocket');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

async function api(method, path, token, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: r.status, json, text };
}

async function must(method, path, token, body, ok = [200, 201]) {
  const r = await api(method, path, token, body);
  if (!ok.includes(r.status)) {
    throw new Error(`${method} ${path} ${JSON.stringify(body ?? null)} -> ${r.status} ${r.text}`);
  }
  return r;
}

async function signIn(username) {
  for (let i = 0; ; i++) {
    const r = await api('POST', '/api/v1/auth/login', null, { username, password: PASSWORD });
    if (r.status === 200) return r.json;
    if (r.status === 429 && i < 10) { await sleep(1000 * (r.json?.retry_after ?? 1)); continue; }
    throw new Error(`login ${username} -> ${r.status} ${r.text}`);
  }
}

// Runs f over items, `width` at a time.
async function pool(items, width, f) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) { const i = next++; out[i] = await f(items[i], i); }
  }));
  return out;
}

// RFC 3339 with up to nanoseconds → ms since the epoch, sub-ms kept.
function parseAt(s) {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  return Date.parse(m[1] + m[3]) + (m[2] ? Number(m[2]) * 1000 : 0);
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function setup() {
  const admin = await signIn('admin');
  const tok = admin.token;
  const units = (await must('GET', '/api/v1/units', tok)).json;
  const unit = units.find((u) => u.kind === 'headquarters') ?? units[0];
  // the agents' phone
  const exts = (await must('GET', '/api/v1/extensions', tok)).json;
  if (!exts.some((e) => e.number === PHONE)) {
    await must('POST', '/api/v1/extensions', tok, {
      number: PHONE, display_name: 'ACD bench phone', user_id: admin.user.id, password: PASSWORD,
    });
  }
  // users with role agent
  const have = new Set();
  for (let page = 1; ; page++) {
    const r = (await must('GET', `/api/v1/users?q=acdbench&per_page=100&page=${page}`, tok)).json;
    r.items.forEach((u) => have.add(u.username));
    if (page * r.per_page >= r.total) break;
  }
  const missing = names.filter((n) => !have.has(n));
  await pool(missing, SETUP_WIDTH, (username) => must('POST', '/api/v1/users', tok, {
    username, display_name: `压测坐席${username.slice(-3)}`, password: PASSWORD, role: 'agent', unit_id: unit.id,
  }));
  // agent profiles
  const agents = (await must('GET', '/api/v1/agents', tok)).json;
  const profiled = new Set(agents.map((a) => a.username));
  let profiles = 0;
  await pool(names.filter((n) => !profiled.has(n)), SETUP_WIDTH, async (username) => {
    await must('POST', '/api/v1/agents', tok, {
      username, extension: PHONE, skills: { [QUEUE]: 5 }, wrap_up_secs: WRAP,
    });
    profiles++;
  });
  // the DID → queue route (through the IVR runtime's queue transfer)
  const routes = (await must('GET', '/api/v1/routes', tok)).json;
  if (!routes.some((r) => r.number === NUMBER)) {
    await must('POST', '/api/v1/routes', tok, {
      number: NUMBER, target: { kind: 'queue', name: QUEUE }, description: 'ACD benchmark',
    });
  }
  console.log(`setup: extension ${PHONE}, ${missing.length} users and ${profiles} agent profiles created (${N} wanted), route ${NUMBER} -> queue ${QUEUE}`);
}

async function run() {
  const admin = await signIn('admin');
  const t0 = Date.now();
  const tokens = await pool(names, 4, async (n) => (await signIn(n)).token);
  const me = await pool(names, 8, async (n, i) => (await must('GET', '/api/v1/agents/me', tokens[i])).json);
  const tSignedIn = Date.now();

  const lat = []; // ms, every event with agent_id
  const latByType = {};
  const slow = []; // events later than 50 ms
  const edge = []; // latency of the events while agents log in and out (not in the figures)
  const trace = createWriteStream(join(DIR, 'events.txt'));
  let phase = 'login';
  const desks = names.map((name, i) => ({
    name, id: me[i].id, token: tokens[i], ws: null, hello: null, expect: 0,
    events: 0, gaps: 0, lostBySeq: 0, dup: 0, misdelivered: 0, resync: 0, errors: 0, closed: null,
    byType: {}, stateEvents: 0, offering: 0, offered: new Set(), lastState: null, repeated: 0,
  }));
  const tOpen = Date.now();
  let stopping = false;
  await Promise.all(desks.map((d) => new Promise((resolve, reject) => {
    const ws = new WebSocket(BASE.replace(/^http/, 'ws') + '/api/v1/cti', {
      headers: { Authorization: `Bearer ${d.token}` },
    });
    d.ws = ws;
    const timer = setTimeout(() => reject(new Error(`${d.name}: no hello in 30 s`)), 30000);
    ws.onmessage = (m) => {
      const t = now();
      const ev = JSON.parse(m.data);
      if (ev.type === 'hello') {
        d.hello = ev; d.expect = ev.seq + 1;
        if (ev.agent_id !== d.id) d.misdelivered++;
        clearTimeout(timer); resolve(); return;
      }
      d.events++;
      d.byType[ev.type] = (d.byType[ev.type] ?? 0) + 1;
      if (ev.type === 'resync') { d.resync++; return; }
      if (ev.type === 'error' || ev.type === 'pong') { d.errors += ev.type === 'error'; return; }
      if (ev.agent_id !== d.id) { d.misdelivered++; return; }
      if (ev.type === 'state') {
        d.stateEvents++;
        // a state event that repeats the previous one: a change reported with the wrong state
        if (ev.state?.state === d.lastState) d.repeated++;
        d.lastState = ev.state?.state;
      }
      if (ev.type === 'offering') { d.offering++; d.offered.add(ev.call_id); }
      if (ev.seq > d.expect) { d.gaps++; d.lostBySeq += ev.seq - d.expect; }
      if (ev.seq < d.expect) d.dup++; else d.expect = ev.seq + 1;
      const ms = t - parseAt(ev.at);
      trace.write(`${d.name} ${t.toFixed(1)} ${ms.toFixed(2)} ${phase} ${m.data}\n`);
      if (phase !== 'calls') { edge.push(ms); return; }
      lat.push(ms);
      (latByType[ev.type] ??= []).push(ms);
      if (ms > 50) slow.push({ ms: +ms.toFixed(1), type: ev.type, seq: ev.seq, at: ev.at, agent: d.name, state: ev.state?.state });
    };
    ws.onerror = (e) => { if (!d.hello) { clearTimeout(timer); reject(new Error(`${d.name}: ${e.message ?? 'WebSocket error'}`)); } };
    ws.onclose = (e) => { if (!stopping) d.closed = `${e.code} ${e.reason}`; clearTimeout(timer); reject(new Error(`${d.name}: closed ${e.code}`)); };
  })));
  const tOpened = Date.now();

  // log in ready on the shared phone
  const login = await pool(desks, 8, (d) => api('POST', '/api/v1/agents/me/login', d.token, { phone: PHONE, ready: true }));
  const refused = login.filter((r) => r.status !== 200);
  if (refused.length) console.log(`login refused for ${refused.length}: ${refused[0].status} ${refused[0].text}`);
  const tReady = Date.now();
  phase = 'calls';
  // this client's own share: its event-loop delay and CPU over the call phase
  const loop = monitorEventLoopDelay({ resolution: 5 }); loop.enable();
  const cpu0 = process.cpuUsage(), w0 = Date.now();
  writeFileSync(join(DIR, 'ready'), '');
  console.log(`agents: ${N} signed in in ${((tSignedIn - t0) / 1000).toFixed(1)} s, sockets open in ${((tOpened - tOpen) / 1000).toFixed(1)} s, logged in ready in ${((tReady - tOpened) / 1000).toFixed(1)} s`);

  while (!existsSync(join(DIR, 'stop'))) await sleep(200);
  phase = 'logout';
  loop.disable();
  const cpu = process.cpuUsage(cpu0), wall = Date.now() - w0;
  const client = { cpu_pct: (cpu.user + cpu.system) / 10 / wall, loop_delay_ms: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 } };

  // log out (a call still in wrap-up is refused: try again), then let the last events arrive
  const out = await pool(desks, 8, async (d) => {
    for (let i = 0; i < 30; i++) {
      const r = await api('POST', '/api/v1/agents/me/logout', d.token);
      if (r.status === 200) return r;
      if (r.status !== 409) return r;
      await sleep(500);
    }
    return api('POST', '/api/v1/agents/me/logout', d.token);
  });
  const notOut = out.filter((r) => r.status !== 200);
  if (notOut.length) console.log(`logout refused for ${notOut.length}: ${notOut[0].status} ${notOut[0].text}`);
  await sleep(2000);
  const t1 = Date.now();
  stopping = true;
  for (const d of desks) d.ws.close();
  trace.end();

  // the server's record: rows started within [tOpen, t1]
  const from = new Date(tOpen - 1000).toISOString(), to = new Date(t1 + 1000).toISOString();
  const logs = await pool(desks, 8, async (d) => (await must('GET',
    `/api/v1/agents/${d.id}/state-log?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, admin.token)).json.log
    .filter((r) => Date.parse(r.started_at) >= tOpen));
  const report = (await api('GET', `/api/v1/reports/queues?from=${encodeURIComponent(new Date(tReady).toISOString())}&to=${encodeURIComponent(to)}`, admin.token)).json;

  // Per agent: more log rows than events received = events lost on the way to the desk; more
  // events than rows = rows missing from the server's log (persisting failed: see kefu's log).
  let offersMade = 0, offersSeen = 0, offerLost = 0, offerRowsMissing = 0;
  let rows = 0, stateSeen = 0, stateLost = 0, rowsMissing = 0;
  const offerMismatch = [], stateMismatch = [];
  desks.forEach((d, i) => {
    // offers by call: a reserved row may be written twice for one offer (see docs/benchmarks.md)
    const calls = new Set(logs[i].filter((r) => r.state === 'reserved').map((r) => r.call_id));
    const reserved = calls.size;
    offersMade += reserved; offersSeen += d.offered.size; rows += logs[i].length; stateSeen += d.stateEvents;
    offerLost += [...calls].filter((c) => !d.offered.has(c)).length;
    offerRowsMissing += [...d.offered].filter((c) => !calls.has(c)).length;
    stateLost += Math.max(0, logs[i].length - d.stateEvents); rowsMissing += Math.max(0, d.stateEvents - logs[i].length);
    if (reserved !== d.offered.size || reserved !== d.offering) offerMismatch.push(`${d.name}: offers in the log (distinct calls) ${reserved}, offering events ${d.offering} (${d.offered.size} calls)`);
    if (logs[i].length !== d.stateEvents) stateMismatch.push(`${d.name}: ${logs[i].length} rows, ${d.stateEvents} state events`);
  });
  const sum = (k) => desks.reduce((a, d) => a + d[k], 0);
  const types = {};
  desks.forEach((d) => Object.entries(d.byType).forEach(([k, v]) => { types[k] = (types[k] ?? 0) + v; }));
  const sorted = Float64Array.from(lat).sort();
  const q = report?.queues?.[process.env.ACD_QUEUE ?? 'general'] ?? null;
  const res = {
    agents: N, events: sum('events'), types,
    misdelivered: sum('misdelivered'), repeated_states: sum('repeated'), lost_by_seq: sum('lostBySeq'), seq_gaps: sum('gaps'), duplicates: sum('dup'),
    resync: sum('resync'), errors: sum('errors'), closed_by_server: desks.filter((d) => d.closed).map((d) => `${d.name} ${d.closed}`),
    offers_made: offersMade, offering_received: offersSeen, offering_lost: offerLost, reserved_rows_missing: offerRowsMissing,
    state_rows: rows, state_received: stateSeen, state_lost: stateLost, state_rows_missing: rowsMissing,
    latency_by_type: Object.fromEntries(Object.entries(latByType).map(([k, v]) => { const x = Float64Array.from(v).sort(); return [k, { n: x.length, p50: pct(x, 50), p99: pct(x, 99), max: x[x.length - 1] }]; })),
    slow: slow.sort((a, b) => b.ms - a.ms).slice(0, 50), slow_count: slow.length,
    client,
    latency_login_logout_ms: (() => { const x = Float64Array.from(edge).sort(); return { n: x.length, p50: pct(x, 50), p99: pct(x, 99), max: x[x.length - 1] }; })(),
    latency_ms: { n: sorted.length, p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), p999: pct(sorted, 99.9), max: sorted[sorted.length - 1], min: sorted[0] },
    answered_events: types.answered ?? 0, queue: q,
    login_refused: refused.length, logout_refused: notOut.length,
    mismatches: [...offerMismatch, ...stateMismatch].slice(0, 20),
  };
  writeFileSync(join(DIR, 'cti.json'), JSON.stringify(res, null, 1));
  const f = (x) => x.toFixed(1);
  const l = res.latency_ms;
  console.log(`CTI: ${res.events} events received (${Object.entries(types).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  console.log(`misdelivered ${res.misdelivered}; lost: ${res.lost_by_seq} by seq (${res.seq_gaps} gaps), ${res.resync} resync, ${res.closed_by_server.length} sockets closed by the server, ${offerLost} offers without their offering event (${offersMade} calls offered in the log, ${offersSeen} in offering events), ${stateLost} logged state changes without their event (${rows} rows, ${stateSeen} state events); duplicates ${res.duplicates}`);
  console.log(`state events repeating the desk's previous state: ${res.repeated_states}`);
  if (offerRowsMissing || rowsMissing) console.log(`server's state log: ${rowsMissing} state changes published but not logged (${offerRowsMissing} offers)`);
  const e = res.latency_login_logout_ms;
  console.log(`latency receive - at while agents logged in and out (not counted below), ${e.n} events: p50 ${f(e.p50)}, p99 ${f(e.p99)}, max ${f(e.max)} ms`);
  console.log(`latency receive - at over the ${l.n} events of the call phase: p50 ${f(l.p50)} ms, p90 ${f(l.p90)} ms, p99 ${f(l.p99)} ms, p99.9 ${f(l.p999)} ms, max ${f(l.max)} ms (min ${f(l.min)})`);
  console.log(`this client over the call phase: CPU ${client.cpu_pct.toFixed(0)}% of one core; its event-loop delay p50 ${f(client.loop_delay_ms.p50)}, p99 ${f(client.loop_delay_ms.p99)}, max ${f(client.loop_delay_ms.max)} ms (5 ms resolution)`);
  console.log(`latency p50/p99/max by type: ${Object.entries(res.latency_by_type).map(([k, v]) => `${k} ${f(v.p50)}/${f(v.p99)}/${f(v.max)}`).join(', ')} ms; ${slow.length} events over 50 ms`);
  if (q) console.log(`queue ${process.env.ACD_QUEUE ?? 'general'} over the run (reports/queues): offered ${q.offered}, answered ${q.answered}, abandoned ${q.abandoned}, overflowed ${q.overflowed ?? '-'}, ASA ${q.asa_secs} s`);
  for (const m of res.mismatches) console.log(`  mismatch ${m}`);
}

const modes = { setup, run };
if (!modes[mode] || !BASE || (mode === 'run' && !DIR)) {
  console.error('usage: acd_cti.mjs setup BASE | run BASE DIR');
  process.exit(2);
}
modes[mode]().then(() => process.exit(0), (e) => { console.error(String(e?.stack ?? e)); process.exit(1); });
