// 用户与角色: the administrator creates and edits a user and resets its password; roles and units are listed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, launch, uiLogin, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function pickOption(page, selectTestId, text) {
  await page.getByTestId(selectTestId).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: text }).first().click();
}

test('admin creates a user, edits it and resets its password; the new user signs in', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const username = `e2e${Date.now().toString().slice(-8)}`;
    await page.goto('/admin/users');
    await page.getByTestId('user-new').click();
    await page.getByTestId('uf-username').fill(username);
    await page.getByTestId('uf-display_name').fill('测试坐席');
    await page.getByTestId('uf-password').fill('Start@2026x');
    await pickOption(page, 'uf-role', '坐席');
    await pickOption(page, 'uf-unit', '客服中心');
    await page.getByTestId('user-form-submit').click();

    const search = page.getByTestId('users-search');
    await search.fill(username);
    await search.press('Enter');
    const row = page.getByTestId('user-row').filter({ hasText: username });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /测试坐席/);

    await row.getByTestId('user-edit').click();
    await page.getByTestId('uf-display_name').fill('测试坐席二');
    await page.getByTestId('user-form-submit').click();
    await page.getByTestId('user-row').filter({ hasText: '测试坐席二' }).waitFor();

    await row.getByTestId('user-reset-password').click();
    await page.getByTestId('reset-password-input').fill('Reset@2026y');
    await page.getByTestId('reset-password-submit').click();
    await page.getByTestId('reset-password-input').waitFor({ state: 'hidden' });

    await page.getByTestId('tab-roles').click();
    await page.getByTestId('roles-table').getByText('审计员').waitFor();
    await page.getByTestId('tab-units').click();
    await page.getByTestId('units-table').getByText('北仑分理处').first().waitFor();

    // The new user signs in with the reset password, in a fresh context.
    const other = await browser.newContext({ baseURL: page.url().replace(/\/admin.*$/, '') });
    try {
      const p2 = await other.newPage();
      await uiLogin(p2, username, 'Reset@2026y');
      await p2.getByTestId('customers-page').waitFor();
      assert.equal((await p2.getByTestId('header-user').textContent())?.trim(), '测试坐席二');
      // …and changes it in the header's 修改密码 dialog, then signs in with the new one.
      await p2.getByTestId('user-menu').click();
      await p2.getByTestId('change-password').click();
      await p2.getByTestId('pwd-current').fill('Reset@2026y');
      await p2.getByTestId('pwd-new').fill('Own@2026zz');
      await p2.getByTestId('pwd-confirm').fill('Own@2026zz');
      await p2.getByTestId('pwd-submit').click();
      await p2.getByTestId('pwd-current').waitFor({ state: 'hidden' });
      await p2.getByTestId('user-menu').click();
      await p2.getByTestId('logout').click();
      await p2.waitForURL('**/login');
      await uiLogin(p2, username, 'Own@2026zz');
      await p2.getByTestId('customers-page').waitFor();
    } finally {
      await other.close();
    }
  });
});

test('site staff sees customers read-only and no admin menu', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'site');
    await page.goto('/customers');
    await page.getByTestId('customer-row').first().waitFor();
    assert.equal(await page.getByTestId('customer-new').count(), 0);
    assert.equal(await page.getByTestId('menu-admin').count(), 0);
    assert.match((await page.getByTestId('header-unit').textContent()) ?? '', /北仑分理处/);
    await page.getByTestId('customer-row').first().click();
    await page.getByTestId('customer-detail').waitFor();
    assert.equal(await page.getByTestId('customer-edit').count(), 0);
    assert.equal(await page.getByTestId('record-payment').count(), 0);
  });
});
