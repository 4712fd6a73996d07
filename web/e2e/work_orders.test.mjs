// 工单: an agent makes a fault report from a customer's page and dispatches it; the site accepts it and sends
// feedback with a photo; the agent closes it and prints it. Also the list (filters, saved filters, export,
// urge counts), English labels, and markup in a description shown literally.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiGet, apiLogin, launch, uiLogin, withPage } from './helpers.mjs';
import { act, createOrder, fillRequiredFields, optionLabel, pickOption, PNG, SITE_UNIT, typeByName, uiLogout, unitByName } from './wo-helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const UUID = /\/work-orders\/([0-9a-f-]{36})$/;

test('fault report: agent creates and dispatches, site accepts and feeds back, agent closes and prints', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    const ty = await typeByName(context, '故障申告');
    const stamp = Date.now().toString().slice(-8);
    // A demo customer with a phone.
    const customers = await apiGet(context, '/customers?per_page=20&page=2');
    const customer = customers.items.find((c) => c.primary_phone);
    assert.ok(customer, 'a demo customer with a phone');

    await page.goto(`/customers/${customer.id}`);
    await page.getByTestId('customer-detail').waitFor();
    await page.getByTestId('customer-work-orders').waitFor();
    await page.getByTestId('customer-new-work-order').click();
    await page.waitForURL(/\/work-orders\/new\?customer_id=/);
    await page.getByTestId('wo-form').waitFor();
    // Prefilled from the customer.
    await page.waitForFunction((phone) => document.querySelector('[data-testid="wf-contact_phone"]')?.value === phone, customer.primary_phone);
    assert.equal(await page.getByTestId('wf-address').inputValue(), customer.address);

    await pickOption(page, 'wf-type', '故障申告');
    const leak = optionLabel(ty, 'category', 'gas_leak');
    await pickOption(page, 'wf-field-category', leak);
    await fillRequiredFields(page, ty, ['category']);
    const title = `燃气泄漏 e2e ${stamp}`;
    await page.getByTestId('wf-title').fill(title);
    await page.getByTestId('wf-description').fill(`客户称厨房有煤气味，已关闭总阀。${stamp}`);
    await page.getByTestId('wo-form-submit').click();

    await page.waitForURL(UUID);
    const id = UUID.exec(new URL(page.url()).pathname)[1];
    await page.getByTestId('wo-detail').waitFor();
    const no = (await page.getByTestId('wo-no').textContent()).trim();
    assert.match(no, /^GD\d{10}$/);
    assert.equal(await page.getByTestId('wo-title').textContent(), title);
    assert.equal(await page.getByTestId('wo-status').getAttribute('data-status'), 'new');
    assert.equal(await page.getByTestId('wo-priority').getAttribute('data-priority'), 'emergency', 'the gas-leak rule makes it 特急');
    assert.match(await page.getByTestId('wo-customer').textContent(), new RegExp(customer.customer_no));
    await page.getByTestId('wo-timeline-entry').first().waitFor();

    // Dispatch to the site's unit.
    await page.getByTestId('wo-action-dispatch').click();
    await pickOption(page, 'action-unit', SITE_UNIT);
    await page.getByTestId('action-note').fill('请立即处理');
    await page.getByTestId('action-submit').click();
    await page.locator('[data-testid="wo-detail"][data-status="dispatched"]').waitFor();
    assert.equal(await page.getByTestId('wo-unit').textContent(), SITE_UNIT);

    // The customer's page lists it.
    await page.goto(`/customers/${customer.id}`);
    await page.locator(`[data-testid="customer-wo-row"][data-no="${no}"]`).waitFor();

    await uiLogout(page);

    // The site: its inbox shows the order; accept, then feedback with a photo.
    await uiLogin(page, 'site');
    await page.waitForURL(/\/site\/inbox/);
    const card = page.locator(`[data-testid="site-card"][data-no="${no}"]`);
    await card.waitFor();
    await card.getByTestId('site-action-accept').click();
    await page.getByTestId('action-form-accept').waitFor();
    await page.getByTestId('action-submit').click();
    await page.locator(`[data-testid="site-card"][data-no="${no}"][data-status="accepted"]`).waitFor();

    await card.getByTestId('site-action-submit_feedback').click();
    await page.getByTestId('action-form-submit_feedback').waitFor();
    await page.getByTestId('action-result').fill(`已更换泄漏的胶管 ${stamp}`);
    await page.getByTestId('action-cause').fill('胶管老化');
    await page.getByTestId('action-materials').fill('燃气专用胶管 1.5 米');
    const dir = mkdtempSync(path.join(tmpdir(), 'kefu-e2e-'));
    try {
      const png = path.join(dir, '现场照片.png');
      writeFileSync(png, PNG);
      const uploadResp = page.waitForResponse((r) => r.url().endsWith('/api/v1/attachments') && r.request().method() === 'POST');
      await page.locator('.ant-modal:visible input[type=file]').setInputFiles(png);
      const r = await uploadResp;
      assert.equal(r.status(), 201, `the upload: ${await r.text()}`);
      await page.locator('.ant-modal:visible .ant-upload-list-item-done, .ant-modal:visible .ant-upload-list-item:not(.ant-upload-list-item-uploading)').first().waitFor();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await page.getByTestId('action-submit').click();
    await card.waitFor({ state: 'detached' });

    await uiLogout(page);

    // The agent reads the feedback, closes the order and prints it.
    await uiLogin(page, 'agent');
    await page.goto(`/work-orders/${id}`);
    await page.locator('[data-testid="wo-detail"][data-status="feedback_submitted"]').waitFor();
    assert.equal(await page.getByTestId('wo-feedback-result').textContent(), `已更换泄漏的胶管 ${stamp}`);
    const link = page.getByTestId('wo-feedback-attachments').getByTestId('wo-attachment-link');
    assert.match(await link.first().textContent(), /现场照片\.png/);
    const photo = await context.request.get(await link.first().getAttribute('href'));
    assert.equal(photo.status(), 200);
    assert.deepEqual(Buffer.from(await photo.body()), PNG, 'the photo comes back byte for byte');
    await page.getByTestId('wo-action-close').click();
    await page.getByTestId('action-note').fill('已电话核实，客户确认');
    await page.getByTestId('action-submit').click();
    await page.locator('[data-testid="wo-detail"][data-status="closed"]').waitFor();
    const actions = await page.getByTestId('wo-timeline-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    for (const a of ['create', 'dispatch', 'accept', 'submit_feedback', 'close']) assert.ok(actions.includes(a), `${a} on the timeline: ${actions}`);

    // 打印工单: the PDF carries the order number.
    const href = await page.getByTestId('wo-print').getAttribute('href');
    const pdf = await context.request.get(href);
    assert.equal(pdf.status(), 200);
    assert.match(pdf.headers()['content-type'], /application\/pdf/);
    const bytes = Buffer.from(await pdf.body());
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    const pdfDir = mkdtempSync(path.join(tmpdir(), 'kefu-pdf-'));
    try {
      const file = path.join(pdfDir, 'order.pdf');
      writeFileSync(file, bytes);
      const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
      assert.ok(text.includes(no), `the PDF's text has ${no}: ${text.slice(0, 300)}`);
    } finally {
      rmSync(pdfDir, { recursive: true, force: true });
    }
  });
});

test('the list: filters, urge count, saved filters and CSV export', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    const stamp = Date.now().toString().slice(-8);
    const unit = await unitByName(context, SITE_UNIT);
    const o = await createOrder(context, { unitId: unit.id, title: `列表测试 ${stamp}` });
    await act(context, o.id, { action: 'urge', note: '客户催促' });

    await page.goto(`/work-orders?q=${o.no}`);
    const row = page.locator(`[data-testid="wo-row"][data-no="${o.no}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId('cell-wo-title').textContent(), `列表测试 ${stamp}`);
    assert.equal(await row.getByTestId('cell-wo-urges').getAttribute('data-count'), '1');
    assert.equal(await row.getByTestId('wo-status').getAttribute('data-status'), 'dispatched');

    // Status filter: 已办结 hides it, 已派单 shows it.
    await pickOption(page, 'wo-filter-status', '已办结');
    await page.waitForURL(/status=closed/);
    await page.locator('[data-testid="work-orders-page"][data-loading="false"]').waitFor();
    await row.waitFor({ state: 'detached' });
    await page.goto(`/work-orders?q=${o.no}&status=dispatched,accepted`);
    await row.waitFor();

    // Save the filter, reset, pick it again, delete it.
    const name = `派单中 ${stamp}`;
    await page.getByTestId('saved-filter-save').click();
    await page.getByTestId('saved-filter-name-input').fill(name);
    await page.getByTestId('saved-filter-submit').click();
    await page.getByTestId('saved-filter-name-input').waitFor({ state: 'hidden' });
    await page.getByTestId('wo-filter-reset').click();
    await page.waitForURL((u) => !u.search.includes('status='));
    await page.getByTestId('saved-filters').click();
    await page.locator(`[data-testid="saved-filter-item"][data-name="${name}"]`).click();
    await page.waitForURL((u) => u.searchParams.get('status') === 'dispatched,accepted' && u.searchParams.get('q') === o.no);
    await row.waitFor();
    await page.getByTestId('saved-filters').click();
    await page.locator(`[data-testid="saved-filter-item"][data-name="${name}"]`).getByTestId('saved-filter-delete').click();
    await page.getByTestId('saved-filter-delete-ok').click();
    await page.waitForFunction(async (n) => {
      const r = await fetch('/api/v1/saved-filters');
      return !(await r.json()).some((f) => f.name === n);
    }, name);

    // Export: the CSV link carries the filters; the file has the order.
    const href = await page.getByTestId('wo-export-csv').getAttribute('href');
    assert.match(href, /format=csv/);
    assert.ok(href.includes(`q=${o.no}`), href);
    const csv = await context.request.get(href);
    assert.equal(csv.status(), 200);
    assert.ok((await csv.text()).includes(o.no));
    const xlsx = await page.getByTestId('wo-export-xlsx').getAttribute('href');
    assert.match(xlsx, /format=xlsx/);
  });
});

test('the work-order list in English', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    const o = await createOrder(context, { title: `English list ${Date.now()}` });
    await page.goto(`/work-orders?q=${o.no}`);
    await page.locator(`[data-testid="wo-row"][data-no="${o.no}"]`).waitFor();
    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('menu-work-orders').filter({ hasText: 'Work orders' }).waitFor();
    const header = await page.getByTestId('wo-table').locator('thead').textContent();
    for (const h of ['Order no.', 'Type', 'Title', 'Status', 'Priority', 'Unit', 'Due']) assert.ok(header.includes(h), `${h} in ${header}`);
    const row = page.locator(`[data-testid="wo-row"][data-no="${o.no}"]`);
    assert.equal((await row.getByTestId('wo-status').textContent()).trim(), 'New');
    assert.equal((await page.getByTestId('wo-new').textContent()).trim(), 'New work order');
    assert.match(await page.getByTestId('wo-export-csv').textContent(), /Export CSV/);
    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('menu-work-orders').filter({ hasText: '工单' }).waitFor();
  });
});

test('markup in a work order is shown as text', async (t) => {
  await withPage(browser, t, async (page, context) => {
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await apiLogin(context, 'agent');
    const HOSTILE = '<img src=x onerror=alert(1)>';
    const o = await createOrder(context, {
      title: `${HOSTILE} 标题`,
      description: `${HOSTILE}\n<script>window.__xss=1</script>`,
      extra: { contact_name: HOSTILE, address: `宁波市 ${HOSTILE}` },
    });
    await page.goto(`/work-orders/${o.id}`);
    await page.getByTestId('wo-detail').waitFor();
    assert.equal(await page.getByTestId('wo-description').textContent(), `${HOSTILE}\n<script>window.__xss=1</script>`);
    assert.equal(await page.getByTestId('wo-title').textContent(), `${HOSTILE} 标题`);
    assert.equal(await page.getByTestId('wo-contact-name').textContent(), HOSTILE);
    assert.equal(await page.getByTestId('wo-address').textContent(), `宁波市 ${HOSTILE}`);

    await page.goto(`/work-orders?q=${o.no}`);
    const row = page.locator(`[data-testid="wo-row"][data-no="${o.no}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId('cell-wo-title').textContent(), `${HOSTILE} 标题`);
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no injected element');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(dialogs, 0, 'no alert ran');

    // The create form takes it too, and shows its own server field errors on the right item.
    const ty = await typeByName(context, '故障申告');
    await page.goto('/work-orders/new');
    await page.getByTestId('wo-form').waitFor();
    await pickOption(page, 'wf-type', '故障申告');
    await fillRequiredFields(page, ty);
    await page.getByTestId('wf-title').fill(HOSTILE);
    await page.getByTestId('wf-description').fill(HOSTILE);
    await page.getByTestId('wf-contact_phone').fill('12');
    await page.getByTestId('wo-form-submit').click();
    const phoneItem = page.locator('.ant-form-item').filter({ has: page.getByTestId('wf-contact_phone') });
    await phoneItem.locator('.ant-form-item-explain-error').first().waitFor();
    await page.getByTestId('wf-contact_phone').fill('13900001111');
    await page.getByTestId('wo-form-submit').click();
    await page.waitForURL(UUID);
    await page.getByTestId('wo-detail').waitFor();
    assert.equal(await page.getByTestId('wo-description').textContent(), HOSTILE);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.equal(dialogs, 0);
  });
});

test('acting on an order someone else just changed says so and reloads it', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    const o = await createOrder(context, { title: `并发测试 ${Date.now()}` });
    await page.goto(`/work-orders/${o.id}`);
    await page.locator(`[data-testid="wo-detail"][data-version="${o.version}"]`).waitFor();
    // Another desk comments on it meanwhile.
    const other = await act(context, o.id, { action: 'comment', note: '另一位坐席的备注' });
    assert.ok(other.version > o.version);

    await page.getByTestId('wo-action-urge').click();
    await page.getByTestId('action-note').fill('客户来电催促');
    await page.getByTestId('action-submit').click();
    await page.locator('.ant-message').getByText('此工单已被他人修改，请刷新').waitFor();
    await page.locator(`[data-testid="wo-detail"][data-version="${other.version}"]`).waitFor();
    await page.locator('[data-testid="wo-timeline-note"]', { hasText: '另一位坐席的备注' }).waitFor();

    // Now it goes through.
    await page.getByTestId('wo-action-urge').click();
    await page.getByTestId('action-note').fill('客户来电催促');
    await page.getByTestId('action-submit').click();
    await page.getByTestId('wo-urge-count').waitFor();
  });
});
