// 语音导航: the administrator builds a small flow in the designer (a 播放 node and a 挂机 node dragged
// from the palette and connected), sees a validation issue on the unconnected node disappear once it is
// connected, saves, publishes (v1 published in the version list), runs it in the simulator, and a
// SIPp call to a number routed to it follows it (the IVR trace); and uploads
// a recording on the prompt library and sees the player.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiGet, apiLogin, apiPost, launch, randomMobile, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Drags from the centre of one element to the centre of another with the mouse (React Flow connections). */
async function mouseDrag(page, from, to) {
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  assert.ok(a && b, 'both ends are on screen');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2 + 10, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}

/**
 * Drags a node kind from the palette onto the canvas at (x, y) inside it: the HTML5 drag events with
 * one DataTransfer, as the browser sends them.
 */
async function dragFromPalette(page, kind, x, y) {
  const box = await page.getByTestId('ivr-canvas').boundingBox();
  const dataTransfer = await page.evaluateHandle(() => new DataTransfer());
  const clientX = box.x + x;
  const clientY = box.y + y;
  await page.getByTestId(`ivr-palette-${kind}`).dispatchEvent('dragstart', { dataTransfer });
  await page.getByTestId('ivr-canvas').dispatchEvent('dragover', { dataTransfer, clientX, clientY });
  await page.getByTestId('ivr-canvas').dispatchEvent('drop', { dataTransfer, clientX, clientY });
  await page.getByTestId(`ivr-palette-${kind}`).dispatchEvent('dragend', { dataTransfer });
}

/** Waits until an Ant Design modal is open and its opening animation is over. */
async function modalOpened(page) {
  await page.locator('.ant-modal').last().waitFor();
  await page.waitForFunction(() => !document.querySelector('.ant-zoom-appear, .ant-zoom-enter, .ant-fade-appear, .ant-fade-enter'));
}

/** A short WAV: 8 kHz mono 16-bit, a 440 Hz tone. */
function wav(seconds = 0.5) {
  const rate = 8000;
  const n = Math.floor(rate * seconds);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
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
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return buf;
}

test('admin builds a flow in the designer, publishes it and runs it in the simulator', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const stamp = Date.now().toString().slice(-8);
    const key = `e2e_${stamp}`;
    const text = `您好，这里是测试热线${stamp}，再见`;

    // The menu entry leads to the flow list; a new flow opens in the designer.
    await page.goto('/customers');
    await page.getByTestId('menu-ivr').click();
    await page.getByTestId('ivr-flows').waitFor();
    await page.getByTestId('ivr-new-flow').click();
    await modalOpened(page);
    await page.getByTestId('ivr-new-key').fill(key);
    await page.getByTestId('ivr-new-name').fill(`测试流程 ${stamp}`);
    const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/ivr/flows') && r.request().method() === 'POST');
    await page.getByTestId('ivr-new-flow-ok').click();
    assert.equal((await created).status(), 201);
    await page.getByTestId('ivr-designer').waitFor();
    await page.waitForURL(/\/ivr\/flows\/[0-9a-f-]+$/);
    const flowId = page.url().split('/').pop();

    // Drag a 播放 node and a 挂机 node from the palette onto the canvas.
    await dragFromPalette(page, 'play', 320, 60);
    const play = page.locator('[data-testid="ivr-node"][data-kind="play"]');
    await play.waitFor();
    await dragFromPalette(page, 'hangup', 320, 300);
    const hangup = page.locator('[data-testid="ivr-node"][data-kind="hangup"]');
    await hangup.waitFor();
    const playId = await play.getAttribute('data-node-id');
    const hangupId = await hangup.getAttribute('data-node-id');
    // The first node is where calls start.
    await play.getByTestId('ivr-node-start').waitFor();

    // Fill the play node's text in the property form.
    await play.click();
    await page.getByTestId('ivr-props').waitFor();
    await page.getByTestId('ivr-prop-prompts-0-text').fill(text);
    await play.getByTestId('ivr-node-summary').filter({ hasText: text }).waitFor();

    // Nothing leads to the hang-up node yet: an issue on it (red badge and in the list).
    await page.locator(`[data-testid="ivr-issue"][data-node="${hangupId}"][data-code="unreachable"]`).waitFor();
    await page.locator(`[data-testid="ivr-node"][data-node-id="${hangupId}"]:not([data-issues="0"])`).waitFor();
    await page.locator(`[data-testid="ivr-issue"][data-node="${playId}"][data-code="unconnected"]`).waitFor();

    // Connect play → hang-up: the issues go away.
    await mouseDrag(page, page.getByTestId(`ivr-handle-${playId}-next`), hangup.locator('.react-flow__handle.target'));
    await page.locator(`[data-testid="ivr-node"][data-node-id="${hangupId}"][data-issues="0"]`).waitFor();
    await page.getByTestId('ivr-no-issues').waitFor();
    assert.equal(await page.locator('.react-flow__edge').count(), 1);

    // Save (version 1) and publish.
    await page.getByTestId('ivr-save').click();
    await modalOpened(page);
    await page.getByTestId('ivr-save-note').fill('e2e: 播放 → 挂机');
    const savedResp = page.waitForResponse((r) => /\/ivr\/flows\/[^/]+\/versions$/.test(r.url()) && r.request().method() === 'POST');
    await page.getByTestId('ivr-save-ok').click();
    assert.equal((await savedResp).status(), 201);
    await page.locator('[data-testid="ivr-edit-state"][data-dirty="false"]').filter({ hasText: 'v1' }).waitFor();
    await page.getByTestId('ivr-publish').click();
    await page.getByTestId('ivr-publish-ok').click();
    await page.getByTestId('ivr-published-tag').filter({ hasText: 'v1' }).waitFor();

    const saved = await apiGet(context, `/ivr/flows/${flowId}`);
    assert.equal(saved.published_version, 1);
    const doc = await apiGet(context, `/ivr/flows/${flowId}/versions/1`);
    assert.equal(doc.graph.start, playId);
    const p = doc.graph.nodes.find((n) => n.id === playId);
    assert.equal(p.kind, 'play');
    assert.equal(p.next, hangupId);
    assert.deepEqual(p.prompts, [{ text }]);

    // The version list shows v1 published.
    await page.getByTestId('ivr-versions-open').click();
    await page.locator('[data-testid="ivr-version-row"][data-version="1"][data-published="true"]').waitFor();
    await page.locator('.ant-drawer-close').click();
    await page.getByTestId('ivr-versions').waitFor({ state: 'hidden' });

    // The simulator plays the text and the call ends.
    await page.getByTestId('ivr-sim-toggle').click();
    await page.getByTestId('ivr-sim').waitFor();
    const caller = page.getByTestId('ivr-sim-caller');
    await page.waitForFunction((el) => el && el.value.length > 0, await caller.elementHandle());
    await page.getByTestId('ivr-sim-start').click();
    await page.locator('[data-testid="ivr-sim-event"]').filter({ hasText: text }).first().waitFor();
    await page.locator('[data-testid="ivr-sim-state"][data-state="ended"]').waitFor();

    // A real call follows the published flow: a number routed to it, a SIPp caller (the demo trunk
    // trusts 127.0.0.1), kefu speaks the text and hangs up; the IVR trace shows play → hang-up.
    const sip = process.env.KEFU_SIP;
    assert.ok(sip, 'KEFU_SIP: the SIP address of the server under test (scripts/test.sh sets it)');
    const number = `9${stamp.slice(-6)}`;
    await apiPost(context, '/routes', { number, target: { kind: 'flow', name: key }, description: 'e2e' });
    const from = randomMobile();
    await sippCallUntilKefuHangsUp(sip, number, from);
    let trace;
    for (let i = 0; i < 100; i++) {
      const calls = await apiGet(context, `/calls?caller=${from}`);
      const call = calls.items.find((c) => c.caller === from);
      if (call) {
        trace = await apiGet(context, `/ivr/traces?call_uuid=${call.call_uuid}`);
        if (trace.sessions[0]?.end_reason) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(trace.visits.map((v) => v.node_id), [playId, hangupId]);
    assert.equal(trace.sessions[0].end_reason, 'completed');
    assert.equal(trace.sessions[0].version, 1);
  });
});

/** A UDP port on 127.0.0.1 free a moment ago. */
async function freeUdpPort() {
  const sock = createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise((resolve) => sock.close(resolve));
  return port;
}

/**
 * Calls `number` at `sip` from `caller` with SIPp: answered, then kefu hangs up (within 60 s), SIPp
 * answers its BYE. Rejects when SIPp's call failed.
 */
async function sippCallUntilKefuHangsUp(sip, number, caller) {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-e2e-sipp-'));
  const scenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="e2e caller">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:${caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
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
      a=ptime:20

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:${caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:${caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv request="BYE" timeout="60000"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
</scenario>
`;
  writeFileSync(join(dir, 'caller.xml'), scenario);
  try {
    const port = await freeUdpPort();
    const media = await freeUdpPort();
    const code = await new Promise((resolve, reject) => {
      const p = spawn('sipp', [sip, '-sf', 'caller.xml', '-s', number, '-i', '127.0.0.1', '-mi', '127.0.0.1',
        '-p', String(port), '-mp', String(media), '-m', '1', '-nostdin',
        '-timeout', '90s', '-timeout_error'], { cwd: dir, stdio: 'ignore' });
      p.on('error', reject);
      p.on('exit', resolve);
    });
    assert.equal(code, 0, "SIPp's call succeeded");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('admin uploads a prompt recording and plays it in the browser', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    await page.goto('/ivr/prompts');
    await page.getByTestId('ivr-prompts').waitFor();
    const row = page.getByTestId('ivr-prompt-row').first();
    await row.waitFor();
    const key = await row.getAttribute('data-key');
    const uploaded = page.waitForResponse((r) => r.url().includes(`/ivr/prompts/${encodeURIComponent(key)}/`) && r.request().method() === 'PUT');
    await row.locator('input[type="file"]').setInputFiles({ name: 'greeting.wav', mimeType: 'audio/wav', buffer: wav() });
    const res = await uploaded;
    assert.ok(res.ok(), `upload answered ${res.status()}`);
    const sameRow = page.locator(`[data-testid="ivr-prompt-row"][data-key="${key}"]`);
    const player = sameRow.getByTestId('ivr-prompt-player');
    await player.waitFor();
    const src = await player.getAttribute('src');
    const audio = await context.request.get(src);
    assert.equal(audio.status(), 200);
    assert.match(audio.headers()['content-type'] ?? '', /audio/);

    // Back to the system recording.
    await sameRow.getByTestId('ivr-prompt-reset').click();
    await page.locator('.ant-popconfirm .ant-btn-primary').click();
    await page.locator(`[data-testid="ivr-prompt-row"][data-key="${key}"][data-source="system"]`).waitFor();

    // An admin's own prompt: created with its text, then given a recording.
    const own = `e2e_${Date.now().toString().slice(-8)}`;
    await page.getByTestId('ivr-prompt-new').click();
    await modalOpened(page);
    await page.getByTestId('ivr-prompt-new-key').fill(own);
    await page.getByTestId('ivr-prompt-new-text').fill('测试用的提示音');
    await page.getByTestId('ivr-prompt-new-ok').click();
    await page.getByTestId('ivr-prompt-filter').fill(own);
    const ownRow = page.locator(`[data-testid="ivr-prompt-row"][data-key="${own}"][data-source="custom"]`);
    await ownRow.waitFor();
    await ownRow.locator('input[type="file"]').setInputFiles({ name: 'own.wav', mimeType: 'audio/wav', buffer: wav(1) });
    await ownRow.getByTestId('ivr-prompt-player').waitFor();
    assert.ok((await apiGet(context, '/ivr/known')).prompts.some((p) => p.key === own), 'the designer can pick it');
  });
});

test('versions: compare two versions and roll back to the older one', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const stamp = Date.now().toString().slice(-8);
    const graph = (text) => ({
      schema: 1,
      start: 'hello',
      nodes: [
        { id: 'hello', label: '欢迎', position: { x: 0, y: 0 }, kind: 'play', prompts: [{ text }], next: 'bye' },
        { id: 'bye', label: '再见', position: { x: 0, y: 200 }, kind: 'hangup', prompts: [] },
      ],
    });
    const flow = await apiPost(context, '/ivr/flows', { key: `e2e_v_${stamp}`, name: `版本测试 ${stamp}`, graph: graph('第一版') });
    await apiPost(context, `/ivr/flows/${flow.id}/versions`, { graph: graph('第二版'), note: 'v2' });
    await apiPost(context, `/ivr/flows/${flow.id}/versions/2/publish`, {});

    await page.goto(`/ivr/flows/${flow.id}`);
    await page.getByTestId('ivr-designer').waitFor();
    await page.locator('[data-testid="ivr-node"][data-node-id="hello"]').getByTestId('ivr-node-summary').filter({ hasText: '第二版' }).waitFor();
    // Export: the version's JSON document as a file.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ivr-export').click()]);
    assert.match(download.suggestedFilename(), /\.json$/);
    const exported = JSON.parse(await (await import('node:fs/promises')).readFile(await download.path(), 'utf8'));
    assert.equal(exported.key, `e2e_v_${stamp}`);
    assert.equal(exported.graph.nodes.find((n) => n.id === 'hello').prompts[0].text, '第二版');

    await page.getByTestId('ivr-versions-open').click();
    await page.locator('[data-testid="ivr-version-row"][data-version="2"][data-published="true"]').waitFor();
    // Compare v1 → v2: the play node's prompts changed, side by side.
    await page.getByTestId('ivr-compare').click();
    const changed = page.locator('[data-testid="ivr-diff-changed"][data-node="hello"]');
    await changed.waitFor();
    const row = await changed.textContent();
    assert.match(row, /prompts/);
    assert.match(row, /第一版/);
    assert.match(row, /第二版/);
    // Roll back: publish v1 again.
    await page.locator('[data-testid="ivr-version-row"][data-version="1"]').getByTestId('ivr-version-publish').click();
    await page.getByTestId('ivr-version-publish-ok').click();
    await page.locator('[data-testid="ivr-version-row"][data-version="1"][data-published="true"]').waitFor();
    assert.equal((await apiGet(context, `/ivr/flows/${flow.id}`)).published_version, 1);
  });
});

test('a flow exported as JSON imports as a new flow', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const stamp = Date.now().toString().slice(-8);
    const main = (await apiGet(context, '/ivr/flows')).find((f) => f.key === 'main');
    assert.ok(main?.latest_version, 'the demo has the main flow');
    const doc = await apiGet(context, `/ivr/flows/${main.id}/versions/${main.latest_version}`);
    await page.goto('/ivr');
    await page.getByTestId('ivr-flows').waitFor();
    await page.locator('[data-testid="ivr-flows"] input[type="file"]').setInputFiles({
      name: 'main.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(doc)),
    });
    await modalOpened(page);
    await page.getByTestId('ivr-import-key').fill(`e2e_i_${stamp}`);
    await page.getByTestId('ivr-import-name').fill(`导入测试 ${stamp}`);
    await page.getByTestId('ivr-import-ok').click();
    await page.getByTestId('ivr-designer').waitFor();
    await page.getByTestId('ivr-flow-name').filter({ hasText: `导入测试 ${stamp}` }).waitFor();
    await page.locator('[data-testid="ivr-node"][data-node-id="main_menu"]').waitFor();
    assert.equal(await page.getByTestId('ivr-node').count(), doc.graph.nodes.length);
  });
});

test('the auditor reads flows without write controls; an agent has no IVR menu', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'auditor');
    await page.goto('/ivr');
    await page.getByTestId('menu-ivr').waitFor();
    await page.getByTestId('ivr-flows').waitFor();
    assert.equal(await page.getByTestId('ivr-new-flow').count(), 0, 'no create button');
    await page.locator('[data-testid="ivr-flow-row"][data-key="main"]').getByTestId('ivr-flow-open').click();
    await page.getByTestId('ivr-designer').waitFor();
    await page.locator('[data-testid="ivr-node"][data-node-id="main_menu"]').waitFor();
    assert.equal(await page.getByTestId('ivr-save').count(), 0, 'no save button');
    assert.equal(await page.getByTestId('ivr-publish').count(), 0, 'no publish button');
  });
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    await page.goto('/customers');
    await page.getByTestId('menu-customers').waitFor();
    assert.equal(await page.getByTestId('menu-ivr').count(), 0, 'no IVR menu item');
  });
});

test('the simulator walks the demo hotline with the dial pad and highlights the active node', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'supervisor');
    const main = (await apiGet(context, '/ivr/flows')).find((f) => f.key === 'main');
    await page.goto(`/ivr/flows/${main.id}`);
    await page.locator('[data-testid="ivr-node"][data-node-id="main_menu"]').waitFor();
    await page.getByTestId('ivr-sim-toggle').click();
    const caller = page.getByTestId('ivr-sim-caller');
    await page.waitForFunction((el) => el && el.value.length > 0, await caller.elementHandle());
    await page.getByTestId('ivr-sim-start').click();
    // The main menu waits for a key; it is the active node on the canvas.
    await page.locator('[data-testid="ivr-sim-state"][data-state="digits"]').waitFor();
    await page.locator('[data-testid="ivr-node"][data-node-id="main_menu"][data-active="true"]').waitFor();
    // 1: 业务咨询 → its menu.
    await page.getByTestId('ivr-sim-key-1').click();
    await page.locator('[data-testid="ivr-node"][data-node-id="info_menu"][data-active="true"]').waitFor();
    await page.locator('[data-testid="ivr-sim-event"][data-node="info_menu"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="ivr-node"][data-active="true"]').count(), 1);
    // Hanging up ends the call.
    await page.getByTestId('ivr-sim-hangup').click();
    await page.locator('[data-testid="ivr-sim-state"][data-state="ended"]').waitFor();
    assert.equal(await page.locator('[data-testid="ivr-node"][data-active="true"]').count(), 0);

    // The funnel view: the published version's counts as the API gives them (simulations do not count).
    const funnel = await apiGet(context, `/ivr/flows/${main.id}/funnel?version=${main.published_version}`);
    await page.getByTestId('ivr-funnel-toggle').click();
    await page.getByTestId('ivr-funnel-sessions').filter({ hasText: String(funnel.sessions) }).waitFor();
    assert.equal(await page.getByTestId('ivr-funnel-row').count(), funnel.nodes.length);
  });
});

test('nodes added by a click, moved by dragging, connected by dropping on a node body', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const stamp = Date.now().toString().slice(-8);
    const flow = await apiPost(context, '/ivr/flows', { key: `e2e_c_${stamp}`, name: `连线测试 ${stamp}` });
    await page.goto(`/ivr/flows/${flow.id}`);
    await page.getByTestId('ivr-designer').waitFor();
    await page.getByTestId('ivr-palette-play').click();
    await page.getByTestId('ivr-palette-hangup').click();
    const hangup = page.locator('[data-testid="ivr-node"][data-node-id="hangup_1"]');
    await hangup.waitFor();
    // Move the hang-up node below the play node.
    const before = await hangup.boundingBox();
    await page.mouse.move(before.x + 60, before.y + 30);
    await page.mouse.down();
    await page.mouse.move(before.x + 60, before.y + 130, { steps: 5 });
    await page.mouse.move(before.x + 60, before.y + 230, { steps: 5 });
    await page.mouse.up();
    const afterBox = await hangup.boundingBox();
    assert.ok(afterBox.y > before.y + 150, 'the node moved');
    // Drop the play node's branch on the hang-up node's body (not its handle).
    await mouseDrag(page, page.getByTestId('ivr-handle-play_1-next'), hangup.getByTestId('ivr-node-label'));
    await page.locator('.react-flow__edge').first().waitFor();
    assert.equal(await page.locator('.react-flow__edge').count(), 1);
    await page.locator('[data-testid="ivr-node"][data-node-id="hangup_1"][data-issues="0"]').waitFor();
    // Deleting the connection brings the issue back.
    await page.locator('.react-flow__edge').first().click({ force: true });
    await page.getByTestId('ivr-delete-edge').click();
    await page.locator(`[data-testid="ivr-issue"][data-node="play_1"][data-code="unconnected"]`).waitFor();
    assert.equal(await page.locator('.react-flow__edge').count(), 0);
  });
});
