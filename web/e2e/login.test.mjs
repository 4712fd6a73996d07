// (a) Signing in: an agent lands on customer search; a wrong password shows the server's error and stays on /login.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, uiLogin, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('agent signs in and lands on customer search', async (t) => {
  await withPage(browser, t, async (page) => {
    await page.goto('/');
    await page.waitForURL('**/login');
    await uiLogin(page, 'agent');
    await page.waitForURL('**/customers');
    await page.getByTestId('customers-page').waitFor();
    const user = await page.getByTestId('header-user').textContent();
    assert.ok(user && user.trim().length > 0, 'the header shows the user name');
    assert.equal((await page.getByTestId('header-role').textContent())?.trim(), '坐席');
    // The session survives a reload (cookie auth, client-side route served by the server).
    await page.reload();
    await page.getByTestId('customers-page').waitFor();
    assert.match(new URL(page.url()).pathname, /^\/customers/);
  });
});

test('a signed-out visitor is sent to login and back to the page asked for', async (t) => {
  await withPage(browser, t, async (page) => {
    await page.goto('/admin/users');
    await page.waitForURL('**/login');
    await page.getByTestId('login-username').fill('supervisor');
    await page.getByTestId('login-password').fill(process.env.KEFU_PASSWORD || 'Kefu@2026');
    await page.getByTestId('login-submit').click();
    await page.waitForURL('**/admin/users');
    await page.getByTestId('users-page').waitFor();
  });
});

test('a wrong password shows an error and stays on the login page', async (t) => {
  await withPage(browser, t, async (page) => {
    await page.goto('/login');
    await page.getByTestId('login-username').fill('agent');
    await page.getByTestId('login-password').fill('definitely-wrong-password');
    await page.getByTestId('login-submit').click();
    const err = page.getByTestId('login-error');
    await err.waitFor();
    const text = (await err.textContent())?.trim() ?? '';
    assert.ok(text.length > 0, 'an error message is shown');
    assert.match(text, /用户名或密码错误|wrong/i);
    assert.match(new URL(page.url()).pathname, /^\/login/);
    await page.getByTestId('login-form').waitFor();
  });
});
