// (e) The language switch: Chinese by default, English menu labels after the switch, kept across a reload.
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

test('the English switch changes the menu labels', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    await page.goto('/customers');
    await page.getByTestId('menu-customers').waitFor();
    assert.equal((await page.getByTestId('menu-customers').textContent())?.trim(), '客户查询');
    assert.equal((await page.getByTestId('menu-users').textContent())?.trim(), '用户与角色');
    assert.equal((await page.getByTestId('menu-audit').textContent())?.trim(), '审计日志');

    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('menu-customers').filter({ hasText: 'Customers' }).waitFor();
    assert.equal((await page.getByTestId('menu-customers').textContent())?.trim(), 'Customers');
    assert.equal((await page.getByTestId('menu-users').textContent())?.trim(), 'Users & roles');
    assert.equal((await page.getByTestId('menu-audit').textContent())?.trim(), 'Audit log');
    assert.equal((await page.getByTestId('header-role').textContent())?.trim(), 'Administrator');

    await page.reload();
    await page.getByTestId('menu-customers').waitFor();
    assert.equal((await page.getByTestId('menu-customers').textContent())?.trim(), 'Customers', 'kept after a reload');

    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('menu-customers').filter({ hasText: '客户查询' }).waitFor();
  });
});
