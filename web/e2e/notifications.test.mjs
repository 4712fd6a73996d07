// The bell: the site user's open page receives a dispatch live (WebSocket), without a reload; clicking it
// opens the order; 全部已读 clears the badge.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, launch, newPage } from './helpers.mjs';
import { act, createOrder, SITE_UNIT, unitByName } from './wo-helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a dispatch reaches the site user live through the bell', async () => {
  const agent = await newPage(browser);
  const site = await newPage(browser);
  try {
    await apiLogin(agent.context, 'agent');
    await apiLogin(site.context, 'site');
    const page = site.page;
    await page.goto('/site/inbox');
    await page.getByTestId('site-inbox').waitFor();
    const bell = page.getByTestId('notification-bell');
    await page.locator('[data-testid="notification-bell"][data-live="true"]').waitFor();
    const before = Number(await bell.getAttribute('data-unread'));
    let reloads = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) reloads++;
    });

    // The agent creates an order and dispatches it to the site.
    const unit = await unitByName(agent.context, SITE_UNIT);
    const o = await createOrder(agent.context, { title: `通知测试 ${Date.now()}` });
    await act(agent.context, o.id, { action: 'dispatch', unit_id: unit.id, note: '请处理' });

    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="notification-bell"]')?.getAttribute('data-unread')) > n, before);
    assert.equal(reloads, 0, 'no reload');
    // The inbox refreshes on the news too.
    await page.locator(`[data-testid="site-card"][data-no="${o.no}"]`).waitFor();

    await bell.click();
    const item = page.locator(`[data-testid="notification-item"][data-work-order-id="${o.id}"]`).first();
    await item.waitFor();
    assert.equal(await item.getAttribute('data-unread'), 'true');
    await item.click();
    await page.waitForURL(new RegExp(`/work-orders/${o.id}$`));
    await page.getByTestId('wo-detail').waitFor();

    await bell.click();
    await page.getByTestId('notification-read-all').click();
    await page.locator('[data-testid="notification-bell"][data-unread="0"]').waitFor();
    const left = await site.context.request.get('/api/v1/notifications?unread=true');
    assert.equal((await left.json()).unread, 0);
  } finally {
    await agent.context.close();
    await site.context.close();
  }
});
