// 坐席工作台 (issue 6, deliverable 8): an agent logs in and goes ready, a SIPp call arrives, the screen
// pop shows the demo customer, the agent transfers to a site phone (baresip), the CDRs show both legs.
//
// Real phones: the agent's extension 8001 and the first demo site's extension 8101 are baresip
// instances (auto-answer) registered with digest; the caller is SIPp with a demo customer's mobile
// number as its caller ID, calling a number routed straight to the queue `general`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiGet, apiLogin, apiPost, launch, newPage, PASSWORD, uiLogin, withPage } from './helpers.mjs';
import { alive, startBaresip, startSippCaller, stopAll, stopProcess } from './phones.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await stopAll();
  await browser?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls `f` until it returns a truthy value, every `everyMs`; throws `what()` after `timeoutMs`. */
async function until(f, { timeoutMs, everyMs = 250, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(typeof what === 'function' ? await what() : what);
    await sleep(everyMs);
  }
}

/** Waits until the Ant Design modal holding `testId` is open and its opening animation is over. */
async function modalOpened(page, testId) {
  await page.locator('.ant-modal', { has: page.getByTestId(testId) }).waitFor();
  await page.waitForFunction(() => !document.querySelector('.ant-zoom-appear, .ant-zoom-enter, .ant-fade-appear, .ant-fade-enter'));
}

/** A called number routed to `queue`: 6 random digits (another one when taken). */
async function routeToQueue(context, queue) {
  for (let i = 0; i < 5; i++) {
    const number = `9${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
    const res = await context.request.post('/api/v1/routes', {
      data: { number, target: { kind: 'queue', name: queue }, description: 'e2e agent desk' },
    });
    if (res.status() === 409) continue;
    assert.equal(res.status(), 201, `POST /routes ${number}: ${await res.text()}`);
    return number;
  }
  throw new Error('no free called number after 5 tries');
}

/** A demo customer with a mobile phone no other customer has (so the caller ID finds exactly them). */
async function customerWithMobile(context) {
  const page = await apiGet(context, '/customers?per_page=100');
  const candidates = page.items.filter((c) => /^1\d{10}$/.test(c.primary_phone ?? ''));
  for (const c of candidates.slice(0, 10)) {
    const same = await apiGet(context, `/customers?q=${c.primary_phone}&per_page=5`);
    if (same.total === 1) return c;
  }
  throw new Error(`no demo customer with a mobile phone of their own among ${candidates.length}`);
}

test('an agent goes ready, takes a SIPp call with the customer popped, transfers it to a site phone; the CDRs show both legs', async (t) => {
  const sip = process.env.KEFU_SIP;
  assert.ok(sip, 'KEFU_SIP: the SIP address of the server under test (scripts/test.sh sets it)');
  // The administrator's API session, for setup and for what the agent may not read.
  const adm = await newPage(browser);
  const admin = adm.context;
  const phones = [];
  let caller = null;
  let agentId = null;
  try {
    await apiLogin(admin, 'admin');

    // A number routed straight to the queue `general`, which the demo agent serves.
    const number = await routeToQueue(admin, 'general');
    const customer = await customerWithMobile(admin);
    // The site phone: extension 8101 and its unit's code (the transfer target).
    const exts = await apiGet(admin, '/extensions');
    const siteExt = exts.find((e) => e.number === '8101');
    assert.ok(siteExt?.unit_id, `the demo's first site phone 8101 belongs to a unit: ${JSON.stringify(siteExt)}`);
    const site = (await apiGet(admin, '/units')).find((u) => u.id === siteExt.unit_id);
    assert.ok(site?.code, `the unit of extension 8101: ${siteExt.unit_id}`);
    // The demo agent: extension 8001, logged out to start with (another test may have left it in).
    const agents = await apiGet(admin, '/agents');
    const agent = agents.find((a) => a.username === 'agent');
    assert.ok(agent, `the demo agent has an agent profile: ${JSON.stringify(agents.map((a) => a.username))}`);
    assert.equal(agent.extension, '8001');
    agentId = agent.id;
    if ((agent.state?.state ?? 'logged_out') !== 'logged_out') {
      await apiPost(admin, `/agents/${agentId}/state`, { state: 'logged_out' });
    }

    // Both phones register with digest (the demo password) and answer at once.
    const started = await Promise.allSettled(
      ['8001', '8101'].map((user) => startBaresip({ registrar: sip, user, password: PASSWORD, autoAnswer: true })),
    );
    for (const s of started) if (s.status === 'fulfilled') phones.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [agentPhone, sitePhone] = phones;
    let regs = [];
    await until(
      async () => {
        regs = await apiGet(admin, '/registrations');
        return [agentPhone, sitePhone].every((p) =>
          regs.some((r) => r.extension === p.user && (r.contact.includes(`:${p.sipPort}`) || r.source.endsWith(`:${p.sipPort}`))),
        );
      },
      { timeoutMs: 15_000, what: () => `8001 and 8101 registered: ${JSON.stringify(regs)}\n${agentPhone.log()}\n${sitePhone.log()}` },
    );

    await withPage(browser, t, async (page, context) => {
      // The agent signs in, opens the desk and logs in, ready at once.
      await uiLogin(page, 'agent');
      await page.goto('/desk');
      await page.getByTestId('softphone-bar').waitFor();
      await page.locator('[data-testid="agent-state"][data-state="logged_out"]').waitFor();
      await page.getByTestId('agent-login').click();
      await modalOpened(page, 'login-dialog');
      // The agent's own phone (8001).
      await page.getByTestId('login-phone-own').click();
      const own = page.locator('.ant-radio-wrapper', { has: page.getByTestId('login-phone-own') }).locator('input[type="radio"]');
      assert.ok(await own.isChecked(), 'the own phone (8001) is picked');
      const ready = page.locator('.ant-checkbox-wrapper', { has: page.getByTestId('login-ready') }).locator('input[type="checkbox"]');
      if (!(await ready.isChecked())) await page.getByTestId('login-ready').click();
      assert.ok(await ready.isChecked(), 'ready ticked');
      const loggedIn = page.waitForResponse((r) => r.url().endsWith('/api/v1/agents/me/login') && r.request().method() === 'POST');
      await page.getByTestId('login-submit').click();
      const loginRes = await loggedIn.catch(async (e) => {
        const shown = await page.locator('[data-testid="login-dialog"] .ant-form-item-explain-error, [data-testid="login-error"]').allTextContents();
        throw new Error(`no POST /agents/me/login after the submit (the dialog shows: ${JSON.stringify(shown)}): ${e.message}`);
      });
      assert.ok(loginRes.ok(), `POST /agents/me/login: ${loginRes.status()} ${await loginRes.text()}`);
      await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
      await page.getByTestId('login-dialog').waitFor({ state: 'hidden' });
      // The CTI socket is open, so the offer reaches the page.
      await page.locator('[data-testid="cti-status"][data-status="open"]').waitFor();

      // The customer calls; the call goes to the queue and on to the agent's phone, which answers.
      caller = await startSippCaller({ sip, number, caller: customer.primary_phone, talkMs: 45_000 });
      const pop = page.getByTestId('screen-pop');
      await pop.waitFor({ timeout: 20_000 });
      const popCaller = (await page.getByTestId('pop-caller').textContent()) ?? '';
      assert.ok(popCaller.includes(customer.primary_phone), `the pop shows the caller ${customer.primary_phone}: ${popCaller}`);
      await page.getByTestId('pop-customer-name').filter({ hasText: customer.name }).waitFor();
      assert.equal(await pop.getAttribute('data-known'), 'true');
      const callId = await pop.getAttribute('data-call-id');
      assert.match(callId ?? '', /^[0-9a-f-]{36}$/, 'the pop names the call');
      await page.locator(`[data-testid="call-controls"][data-call-state="talking"][data-call-id="${callId}"]`).waitFor({ timeout: 20_000 });
      await page.locator('[data-testid="agent-state"][data-state="on_call"]').waitFor();
      await agentPhone.waitEvent('CALL_ESTABLISHED', 10_000);
      assert.equal(caller.child.exitCode, null, 'the caller is on the line');

      // Blind transfer to the site: its phone rings and answers; the agent is out of the call.
      await page.getByTestId('call-transfer').click();
      await modalOpened(page, 'transfer-dialog');
      await page.getByTestId('transfer-mode-blind').click();
      await page.getByTestId('transfer-kind-site').click();
      await page.getByTestId('transfer-target').click();
      await page.keyboard.type(site.code);
      const option = page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: `(${site.code})` }).first();
      await option.waitFor();
      await option.click();
      const transferred = page.waitForResponse((r) => r.url().endsWith(`/api/v1/agent-calls/${callId}/transfer`) && r.request().method() === 'POST');
      await page.getByTestId('transfer-submit').click();
      const transferRes = await transferred;
      assert.ok(transferRes.ok(), `POST /agent-calls/${callId}/transfer: ${transferRes.status()} ${await transferRes.text()}`);
      assert.deepEqual(JSON.parse(transferRes.request().postData() ?? '{}'), { to: { kind: 'site', target: site.code }, mode: 'blind' });
      await page.locator('[data-testid="agent-state"][data-state="wrap_up"]').waitFor({ timeout: 20_000 });
      await page.getByTestId('pop-ended').waitFor();
      await sitePhone.waitEvent('CALL_ESTABLISHED', 20_000);
      await agentPhone.waitEvent('CALL_CLOSED', 20_000);
      assert.equal(
        caller.child.exitCode,
        null,
        'the caller is still on the line, now with the site (SIPp has ended: kefu hung up on the caller during the blind transfer)',
      );

      // The site hangs up: kefu ends the caller's leg (SIPp gets its BYE).
      await sitePhone.hangup();
      const outcome = await Promise.race([caller.done, sleep(20_000).then(() => ({ code: 'still running 20 s after the site hung up', errors: '' }))]);
      assert.equal(outcome.code, 0, `SIPp's call succeeded: ${outcome.code} ${outcome.errors}`);

      // The call records: the agent's leg (8001) and the site's leg (8101) under the call's id.
      let cdrs = null;
      const leg = (ext) => cdrs?.items.find((c) => c.callee.includes(ext) || c.extension === ext);
      await until(
        async () => {
          cdrs = await apiGet(admin, `/calls?call_uuid=${callId}`);
          return leg('8001') && leg('8101');
        },
        { timeoutMs: 20_000, what: () => `CDRs of ${callId} with legs to 8001 and 8101: ${JSON.stringify(cdrs)}` },
      );
      assert.equal(leg('8001').disposition, 'answered', JSON.stringify(leg('8001')));
      assert.equal(leg('8101').disposition, 'answered', JSON.stringify(leg('8101')));
      assert.ok(cdrs.items.every((c) => c.call_uuid === callId), JSON.stringify(cdrs));

      // The state log (docs/acd.md: every state change appends a row): ready, then reserved → on_call →
      // wrap_up for this call.
      let log = null;
      const forCall = () => (log?.log ?? []).filter((r) => r.call_id === callId).map((r) => r.state);
      const before = () => {
        const rows = log?.log ?? [];
        const i = rows.findIndex((r) => r.call_id === callId);
        return i > 0 ? rows[i - 1].state : null;
      };
      await until(
        async () => {
          log = await apiGet(admin, `/agents/${agentId}/state-log`);
          return forCall().includes('wrap_up');
        },
        { timeoutMs: 5_000, what: () => `the state log has the wrap-up of ${callId}: ${JSON.stringify(log)}` },
      ).catch(() => undefined);
      const recent = () => JSON.stringify((log?.log ?? []).slice(-6));
      assert.deepEqual(forCall(), ['reserved', 'on_call', 'wrap_up'], `the state log's rows of ${callId}; its latest rows: ${recent()}`);
      assert.equal(before(), 'ready', `the agent was ready before the offer; the latest rows: ${recent()}`);
    });
  } finally {
    // Hang everything up; the agent goes back to logged out (best effort: the test may have failed early).
    if (caller) await stopProcess(caller.child);
    await Promise.all(phones.map((p) => p.stop()));
    await stopAll();
    if (agentId) {
      const res = await admin.request.post(`/api/v1/agents/${agentId}/state`, { data: { state: 'logged_out' } });
      if (!res.ok()) console.error(`could not log the agent out: ${res.status()} ${await res.text()}`);
    }
    await adm.context.close();
  }
  // No phone or caller is left running.
  for (const pid of [caller?.pid, ...phones.map((p) => p.pid)]) {
    if (pid) assert.equal(alive(pid), false, `process ${pid} has ended`);
  }
});
