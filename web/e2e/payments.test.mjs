// Editing a customer and recording a payment from the detail page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiGet, apiLogin, apiPost, launch, randomMobile, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('supervisor records a payment for an overdue bill and the bill turns 已缴', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'supervisor');
    const list = await apiGet(context, '/customers?service_type=pipeline&per_page=200');
    const c = list.items.find((x) => x.overdue_cents > 0);
    assert.ok(c, 'a demo customer with an overdue bill');
    const detail = await apiGet(context, `/customers/${c.id}`);
    const bill = detail.accounts.flatMap((a) => a.bills).filter((b) => b.status === 'overdue').sort((a, b) => a.period.localeCompare(b.period))[0];

    await page.goto(`/customers/${c.id}`);
    await page.getByTestId('customer-detail').waitFor();
    const row = page.getByTestId('bill-row').filter({ hasText: bill.period });
    await row.getByTestId('bill-pay').click();
    await page.getByTestId('payment-form').waitFor();
    await page.getByTestId('payment-reference').fill(`E2E-${Date.now()}`);
    await page.getByTestId('payment-submit').click();
    await row.getByTestId('bill-status-paid').waitFor();

    const after = await apiGet(context, `/customers/${c.id}`);
    const paid = after.accounts.flatMap((a) => a.bills).find((b) => b.id === bill.id);
    assert.equal(paid.status, 'paid');
  });
});

test('agent edits a customer: the new remarks and phones are saved, an invalid email is rejected on its field', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    const c = await apiPost(context, '/customers', {
      customer_no: `EDT-${Date.now().toString().slice(-9)}`,
      name: '编辑测试',
      phones: [randomMobile()],
      address: '宁波市镇海区测试路9号',
      district: '镇海区',
      service_type: 'bottled',
      notice_preference: 'sms',
      language: 'zh-CN',
    });
    await page.goto(`/customers/${c.id}`);
    await page.getByTestId('customer-edit').click();
    await page.getByTestId('cf-email').fill('not an email');
    await page.getByTestId('customer-form-submit').click();
    const emailItem = page.locator('.ant-form-item').filter({ has: page.getByTestId('cf-email') });
    await emailItem.locator('.ant-form-item-explain-error').first().waitFor();

    await page.getByTestId('cf-email').fill('');
    const second = randomMobile();
    await page.getByTestId('cf-add-phone').click();
    await page.getByTestId('cf-phone-1').fill(second);
    await page.getByTestId('cf-remarks').fill('已上门核实 <b>不是粗体</b>');
    await page.getByTestId('customer-form-submit').click();
    await page.getByTestId('detail-remarks').filter({ hasText: '已上门核实' }).waitFor();
    assert.equal(await page.getByTestId('detail-remarks').textContent(), '已上门核实 <b>不是粗体</b>');
    assert.ok((await page.getByTestId('detail-phones').textContent())?.includes(second));
  });
});
