// Test phones for the browser tests that place real calls: baresip (Debian baresip-core) as a registered
// SIP phone driven over its ctrl_tcp interface, and a SIPp caller that stays on the line. Everything
// listens on 127.0.0.1 only; every process started here is killed by `stopAll` (and, as a last resort,
// when node exits), so a failing test leaves nothing running.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- processes ----

/** Every child started here that may still run. */
const running = new Set();

process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function track(child) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Whether the process `pid` still exists (a zombie counts as gone once node has reaped it). */
export function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Ends `child`: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopProcess(child, graceMs = 2000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    child.kill('SIGTERM');
  } catch {
    /* gone meanwhile */
  }
  const timer = setTimeout(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every process this module started and still runs. */
export async function stopAll() {
  await Promise.all([...running].map((c) => stopProcess(c)));
}

// ---- ports ----

const handedOut = new Set();

async function udpBind(port) {
  const sock = createSocket('udp4');
  try {
    await new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, '127.0.0.1', resolve);
    });
    return sock.address().port;
  } catch {
    return null;
  } finally {
    try {
      sock.close();
    } catch {
      /* not bound */
    }
  }
}

async function tcpBind(port) {
  const srv = createServer();
  try {
    await new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    return srv.address().port;
  } catch {
    return null;
  } finally {
    await new Promise((resolve) => srv.close(() => resolve()));
  }
}

/** A UDP port on 127.0.0.1 free a moment ago (never the same one twice in this process). */
export async function freeUdpPort() {
  for (let i = 0; i < 200; i++) {
    const port = await udpBind(0);
    if (port && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free UDP port on 127.0.0.1');
}

/** A TCP port on 127.0.0.1 free a moment ago. */
export async function freeTcpPort() {
  for (let i = 0; i < 200; i++) {
    const port = await tcpBind(0);
    if (port && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free TCP port on 127.0.0.1');
}

/** A port free for UDP and TCP (a SIP listener), whose next port is free for TCP (baresip's SIP over TLS). */
async function freeSipPort() {
  for (let i = 0; i < 200; i++) {
    const port = await udpBind(0);
    if (!port || port >= 65535 || handedOut.has(port) || handedOut.has(port + 1)) continue;
    if ((await tcpBind(port)) && (await tcpBind(port + 1))) {
      handedOut.add(port);
      handedOut.add(port + 1);
      return port;
    }
  }
  throw new Error('no free SIP port on 127.0.0.1');
}

/** `n` consecutive UDP ports free on 127.0.0.1, below Linux's ephemeral range (for RTP). */
async function freeUdpRange(n) {
  for (let i = 0; i < 200; i++) {
    const first = 20000 + 2 * Math.floor(Math.random() * 5900);
    let ok = true;
    for (let p = first; p < first + n && ok; p++) ok = !handedOut.has(p) && (await udpBind(p)) === p;
    if (ok) {
      for (let p = first; p < first + n; p++) handedOut.add(p);
      return [first, first + n - 1];
    }
  }
  throw new Error(`no ${n} free consecutive UDP ports on 127.0.0.1`);
}

// ---- audio ----

/** `seconds` of silence as an 8 kHz mono 16-bit WAV (baresip's aufile source ends the call at its end). */
function silentWav(seconds) {
  const rate = 8000;
  const bytes = rate * 2 * seconds;
  const buf = Buffer.alloc(44 + bytes);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + bytes, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(bytes, 40);
  return buf;
}

// ---- baresip ----

/**
 * A running baresip: `events` (ctrl_tcp events as "TYPE PARAM", oldest first), `command(name, params)`,
 * `waitEvent(type, timeoutMs)`, `hangup()`, `stop()`, `log()`, `pid`, `sipPort`.
 */
class Baresip {
  constructor(child, dir, sipPort, user) {
    this.child = child;
    this.dir = dir;
    this.sipPort = sipPort;
    this.user = user;
    this.pid = child.pid;
    this.events = [];
    this.pending = new Map();
    this.token = 0;
    this.ctrl = null;
  }

  /** baresip's console output so far. */
  log() {
    try {
      return readFileSync(join(this.dir, 'baresip.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Reads ctrl_tcp's netstrings (`LEN:JSON,`): events into `events`, responses to their command. */
  attach(sock) {
    this.ctrl = sock;
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const colon = buf.indexOf(0x3a);
        if (colon < 0) return;
        const len = Number(buf.subarray(0, colon).toString());
        if (!Number.isInteger(len)) {
          sock.destroy();
          return;
        }
        if (buf.length < colon + 1 + len + 1) return;
        const text = buf.subarray(colon + 1, colon + 1 + len).toString();
        buf = buf.subarray(colon + 1 + len + 1);
        let msg;
        try {
          msg = JSON.parse(text);
        } catch {
          continue;
        }
        if (msg.event) {
          this.events.push(msg.param ? `${msg.type} ${msg.param}` : String(msg.type));
        } else if (msg.response && this.pending.has(msg.token)) {
          const { resolve, reject } = this.pending.get(msg.token);
          this.pending.delete(msg.token);
          const ok = msg.ok === true || msg.ok === 'true';
          if (ok) resolve(msg.data ?? '');
          else reject(new Error(`baresip: ${msg.data ?? 'command failed'}`));
        }
      }
    });
    sock.on('error', () => undefined);
  }

  /** Sends a ctrl_tcp command ("hangup", "reginfo", "accept", "dial" …); resolves with its response text. */
  command(name, params, timeoutMs = 10_000) {
    if (!this.ctrl || this.ctrl.destroyed) return Promise.reject(new Error('baresip ctrl_tcp is not connected'));
    const token = `e2e-${++this.token}`;
    const json = JSON.stringify(params === undefined ? { command: name, token } : { command: name, params, token });
    const frame = `${Buffer.byteLength(json)}:${json},`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip: no response to ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ctrl.write(frame);
    });
  }

  count(type) {
    return this.events.filter((e) => e.split(' ')[0] === type).length;
  }

  /** Waits until `count` events of `type` (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED …) have come. */
  async waitEvent(type, timeoutMs, count = 1) {
    const deadline = Date.now() + timeoutMs;
    while (this.count(type) < count) {
      if (Date.now() > deadline) {
        throw new Error(`baresip ${this.user}: no ${type} within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}\n${this.log().slice(-3000)}`);
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`baresip ${this.user} exited while waiting for ${type}\n${this.log().slice(-3000)}`);
      }
      await sleep(50);
    }
  }

  /** Waits until the account is registered: a REGISTER_OK event, or `reginfo` saying OK (the event may
   * have come before the control connection). */
  async waitRegistered(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.count('REGISTER_OK') > 0) return;
      // eslint-disable-next-line no-control-regex
      const info = (await this.command('reginfo').catch(() => '')).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
      if (/ OK /.test(info)) return;
      if (Date.now() > deadline) throw new Error(`baresip ${this.user} did not register within ${timeoutMs} ms: ${info}\n${this.log().slice(-3000)}`);
      await sleep(100);
    }
  }

  /** Hangs up the current call (BYE, or CANCEL/reject while it rings). */
  hangup() {
    return this.command('hangup');
  }

  /** Quits baresip (it unregisters), killing it if it has not gone within 2 s; removes its directory. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      if (this.ctrl && !this.ctrl.destroyed) {
        const quit = JSON.stringify({ command: 'quit' });
        this.ctrl.write(`${quit.length}:${quit},`);
      }
      const killed = sleep(2000).then(() => stopProcess(this.child, 1000));
      await Promise.race([exited, killed]);
      await stopProcess(this.child, 1000);
    }
    this.ctrl?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts baresip as extension `user` registering with digest at `registrar` ("ip:port"), answering
 * calls at once when `autoAnswer`. Resolves once its control port answers (registration is the
 * caller's to wait for: `GET /api/v1/registrations`, or a REGISTER_OK event).
 */
export async function startBaresip({ registrar, user, password, autoAnswer = true }) {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-e2e-baresip-'));
  const sipPort = await freeSipPort();
  const ctrlPort = await freeTcpPort();
  const [rtpFirst, rtpLast] = await freeUdpRange(20);
  const audioIn = join(dir, 'silence.wav');
  writeFileSync(audioIn, silentWav(300));
  const config = [
    ['poll_method', 'epoll'],
    ['sip_listen', `127.0.0.1:${sipPort}`],
    ['net_interface', '127.0.0.1'],
    ['call_local_timeout', '120'],
    ['call_max_calls', '4'],
    ['audio_source', `aufile,${audioIn}`],
    ['audio_buffer', '20-160'],
    ['rtp_ports', `${rtpFirst}-${rtpLast}`],
    ['rtp_timeout', '0'],
    ['rtcp_mux', 'no'],
    ['jitter_buffer_delay', '1-10'],
    ['module_path', '/usr/lib/baresip/modules'],
    ['module', 'g711.so'],
    ['module', 'aufile.so'],
    ['module_tmp', 'account.so'],
    ['module_app', 'menu.so'],
    ['module_app', 'ctrl_tcp.so'],
    ['ctrl_tcp_listen', `127.0.0.1:${ctrlPort}`],
  ]
    .map(([k, v]) => `${k}\t${v}`)
    .join('\n');
  writeFileSync(join(dir, 'config'), `${config}\n`);
  const answermode = autoAnswer ? 'auto' : 'manual';
  writeFileSync(
    join(dir, 'accounts'),
    `<sip:${user}@${registrar}>;auth_pass=${password};regint=300;answermode=${answermode};audio_codecs=PCMA,PCMU\n`,
  );
  writeFileSync(join(dir, 'contacts'), '');

  const logFd = openSync(join(dir, 'baresip.log'), 'w');
  let child;
  try {
    child = track(spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['ignore', logFd, logFd] }));
  } finally {
    closeSync(logFd);
  }
  const spawnError = new Promise((_, reject) => child.once('error', (e) => reject(new Error(`start baresip (is baresip-core installed?): ${e.message}`))));
  spawnError.catch(() => undefined);
  const phone = new Baresip(child, dir, sipPort, user);

  // ctrl_tcp accepts once baresip is up.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const sock = await Promise.race([
      new Promise((resolve) => {
        const s = connect(ctrlPort, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(null));
      }),
      spawnError,
    ]).catch(async (e) => {
      await phone.stop();
      throw e;
    });
    if (sock) {
      phone.attach(sock);
      return phone;
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const log = phone.log();
      await phone.stop();
      throw new Error(`baresip ${user} did not start; its log:\n${log}`);
    }
    await sleep(50);
  }
}

// ---- SIPp ----

function callerScenario(caller, talkMs) {
  const from = `From: <sip:${caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]`;
  const contact = `Contact: <sip:${caller}@[local_ip]:[local_port];transport=[transport]>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="e2e caller who stays on the line">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${from}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      ${contact}
      Max-Forwards: 70
      User-Agent: SIPp kefu-e2e
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 0 96
      a=rtpmap:8 PCMA/8000
      a=rtpmap:0 PCMU/8000
      a=rtpmap:96 telephone-event/8000
      a=fmtp:96 0-16
      a=ptime:20
      a=sendrecv

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${from}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      ${contact}
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv request="BYE" timeout="${talkMs}" ontimeout="caller_hangs_up"/>
  <send next="done"><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <label id="caller_hangs_up"/>
  <send retrans="500"><![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      ${from}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      ${contact}
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
  <label id="done"/>
</scenario>
`;
}

/**
 * Calls `number` at `sip` ("ip:port") from `caller` with SIPp and stays on the line: until the far end
 * hangs up, or for `talkMs` after the answer, when the caller hangs up itself. Returns
 * `{ child, pid, done }`; `done` resolves with `{ code, errors }` when SIPp exits (code 0: its call
 * succeeded), `errors` being SIPp's error log.
 */
export async function startSippCaller({ sip, number, caller, talkMs = 40_000 }) {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-e2e-sipp-'));
  writeFileSync(join(dir, 'caller.xml'), callerScenario(caller, talkMs));
  const port = await freeUdpPort();
  const media = await freeUdpPort();
  const child = track(
    spawn(
      'sipp',
      [sip, '-sf', 'caller.xml', '-s', number, '-i', '127.0.0.1', '-mi', '127.0.0.1', '-p', String(port), '-mp', String(media),
        '-m', '1', '-nostdin', '-timeout', `${Math.ceil(talkMs / 1000) + 60}s`, '-timeout_error', '-trace_err'],
      { cwd: dir, stdio: 'ignore' },
    ),
  );
  const done = new Promise((resolve) => {
    let finished = false;
    const finish = (code) => {
      if (finished) return;
      finished = true;
      let errors = '';
      try {
        for (const f of readdirSync(dir)) if (f.includes('error')) errors += readFileSync(join(dir, f), 'utf8');
      } catch {
        /* removed */
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, errors });
    };
    child.once('error', (e) => finish(`spawn failed: ${e.message}`));
    child.once('exit', (code, signal) => finish(code ?? signal));
  });
  return { child, pid: child.pid, done };
}
