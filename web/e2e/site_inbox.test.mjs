// 站点工单 on a phone (390×844): the site's own orders as big cards; accept and report progress by touch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, BASE_URL, launch } from './helpers.mjs';
import { createOrder, SITE_UNIT, unitByName } from './wo-helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the site inbox works on a phone', async () => {
  const desk = await browser.newContext({ baseURL: BASE_URL });
  const phone = await browser.newContext({
    baseURL: BASE_URL,
    locale: 'zh-CN',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
  });
  phone.setDefaultTimeout(15_000);
  const page = await phone.newPage();
  page.on('pageerror', (err) => console.error(`[pageerror] ${err.message}`));
  try {
    await apiLogin(desk, 'agent');
    const unit = await unitByName(desk, SITE_UNIT);
    const stamp = Date.now().toString().slice(-8);
    const o = await createOrder(desk, { unitId: unit.id, title: `手机接单测试 ${stamp}`, extra: { address: '宁波市北仑区新碶街道明州路 1 号', contact_phone: '13900002222' } });

    await apiLogin(phone, 'site');
    await page.goto('/');
    await page.waitForURL(/\/site\/inbox/);
    const card = page.locator(`[data-testid="site-card"][data-no="${o.no}"]`);
    await card.waitFor();
    assert.equal(await card.getByTestId('site-card-title').textContent(), `手机接单测试 ${stamp}`);
    assert.equal(await card.getByTestId('site-card-call').getAttribute('href'), 'tel:13900002222');

    // Fits the screen: no sideways scrolling, the menu folded away, big buttons.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `page is ${width}px wide`);
    const box = await card.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `card at ${box.x}+${box.width}`);
    const sider = await page.getByTestId('sider').boundingBox();
    assert.ok(!sider || sider.width === 0, `the menu is folded (width ${sider?.width})`);
    const accept = card.getByTestId('site-action-accept');
    const btn = await accept.boundingBox();
    assert.ok(btn.height >= 40, `accept button is ${btn.height}px tall`);

    await accept.tap();
    await page.getByTestId('action-form-accept').waitFor();
    const modal = await page.locator('.ant-modal:visible').boundingBox();
    assert.ok(modal.width <= 390, `dialog is ${modal.width}px wide`);
    await page.getByTestId('action-submit').tap();
    await page.locator(`[data-testid="site-card"][data-no="${o.no}"][data-status="accepted"]`).waitFor();

    await card.getByTestId('site-action-progress').tap();
    await page.getByTestId('action-note').fill('已到达现场，正在检查');
    await page.getByTestId('action-submit').tap();
    await page.locator(`[data-testid="site-card"][data-no="${o.no}"][data-status="in_progress"]`).waitFor();

    // The feedback dialog offers the camera for photos.
    await card.getByTestId('site-action-submit_feedback').tap();
    await page.getByTestId('action-form-submit_feedback').waitFor();
    const file = page.locator('.ant-modal:visible input[type=file]');
    assert.equal(await file.getAttribute('accept'), 'image/*');
    assert.notEqual(await file.getAttribute('capture'), null, 'capture asks for the camera');
    await page.locator('.ant-modal:visible .ant-modal-close').tap();

    // The order page is readable on the phone too.
    await card.getByTestId('site-card-title').tap();
    await page.waitForURL(new RegExp(`/work-orders/${o.id}$`));
    await page.getByTestId('wo-detail').waitFor();
    assert.equal((await page.getByTestId('wo-no').textContent()).trim(), o.no);
    const w2 = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w2 <= 390, `order page is ${w2}px wide`);
  } catch (err) {
    await page.screenshot({ path: new URL('../test-results/site_inbox_phone.png', import.meta.url).pathname, fullPage: true }).catch(() => undefined);
    throw err;
  } finally {
    await phone.close();
    await desk.close();
  }
});
