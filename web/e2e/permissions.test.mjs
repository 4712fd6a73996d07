// (b) Permissions: the agent has no audit menu and gets the 403 page on /admin/audit; the auditor reads it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, launch, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('agent: no 审计日志 menu item, and /admin/audit shows 无权访问', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    await page.goto('/customers');
    await page.getByTestId('main-menu').waitFor();
    await page.getByTestId('menu-customers').waitFor();
    assert.equal(await page.getByTestId('menu-audit').count(), 0, 'no audit menu item');
    assert.equal(await page.getByTestId('menu-users').count(), 0, 'no users menu item');
    assert.equal(await page.getByText('审计日志').count(), 0, 'the words 审计日志 appear nowhere');

    await page.goto('/admin/audit');
    await page.getByTestId('forbidden-page').waitFor();
    assert.equal((await page.getByTestId('forbidden-title').textContent())?.trim(), '无权访问');
    assert.equal(await page.getByTestId('audit-table').count(), 0);

    // The server agrees: the API itself answers 403.
    const res = await context.request.get('/api/v1/audit');
    assert.equal(res.status(), 403);
  });
});

test('auditor: opens 审计日志 from the menu and sees entries', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'auditor');
    await page.goto('/');
    await page.getByTestId('menu-audit').click();
    await page.waitForURL('**/admin/audit');
    await page.getByTestId('audit-table').waitFor();
    const firstRow = page.getByTestId('audit-row').first();
    await firstRow.waitFor();
    assert.ok((await page.getByTestId('audit-row').count()) > 0, 'audit entries are listed');
    // Expanding a row shows before/after side by side.
    await firstRow.locator('.ant-table-row-expand-icon').click();
    await page.getByTestId('audit-expanded').first().waitFor();
    await page.getByTestId('audit-before').first().waitFor();
    await page.getByTestId('audit-after').first().waitFor();
  });
});

test('404 page for an unknown route', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    await page.goto('/no/such/page');
    await page.getByTestId('notfound-page').waitFor();
  });
});
