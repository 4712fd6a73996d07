// (d) Data is shown as text: markup and SQL in a customer's name and remarks come back verbatim and never run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, apiPost, launch, randomMobile, withPage } from './helpers.mjs';

const SCRIPT = '<script>window.__xss=1</script>';
const SQL = "'; DROP TABLE customers; --";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a customer named with markup and SQL is shown literally', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    const no = `XSS-${Date.now().toString().slice(-9)}`;
    const name = `${SCRIPT}${SQL}`.slice(0, 60);
    const remarks = `${SQL}\n${SCRIPT}\n<img src=x onerror="window.__xss=2">`;
    const c = await apiPost(context, '/customers', {
      customer_no: no,
      name,
      phones: [randomMobile()],
      address: `宁波市北仑区 ${SCRIPT}`,
      district: '北仑区',
      service_type: 'bottled',
      notice_preference: 'sms',
      language: 'zh-CN',
      remarks,
    });
    assert.equal(c.name, name, 'the API stores the name verbatim');

    await page.goto(`/customers/${c.id}`);
    await page.getByTestId('customer-detail').waitFor();
    assert.equal(await page.getByTestId('detail-name').textContent(), name);
    assert.equal(await page.getByTestId('customer-name').textContent(), name);
    assert.equal(await page.getByTestId('detail-remarks').textContent(), remarks);
    assert.equal(await page.getByTestId('detail-address').textContent(), `宁波市北仑区 ${SCRIPT}`);
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran');
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no injected element exists');

    // The search list shows it literally too.
    await page.goto(`/customers?q=${encodeURIComponent(no)}`);
    await page.getByTestId('customer-row').first().waitFor();
    assert.equal(await page.getByTestId('cell-name').first().textContent(), name);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });
});

test('the 新建客户 form creates a customer and puts server field errors on the right items', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    await page.goto('/customers');
    await page.getByTestId('customer-new').click();
    const no = `WEB-${Date.now().toString().slice(-9)}`;
    await page.getByTestId('cf-customer_no').fill(no);
    await page.getByTestId('cf-name').fill(SQL);
    await page.getByTestId('cf-phone-0').fill('12');
    await page.getByTestId('cf-address').fill('宁波市海曙区中山西路1号');
    await page.getByTestId('cf-district').locator('input').fill('海曙区');
    await page.getByTestId('cf-remarks').fill(SCRIPT);
    await page.getByTestId('customer-form-submit').click();
    // The server rejects the phone: the message sits under the phone input.
    const phoneItem = page.locator('.ant-form-item').filter({ has: page.getByTestId('cf-phone-0') });
    await phoneItem.locator('.ant-form-item-explain-error').first().waitFor();

    await page.getByTestId('cf-phone-0').fill(randomMobile());
    await page.getByTestId('customer-form-submit').click();
    await page.waitForURL(/\/customers\/[0-9a-f-]{36}$/);
    await page.getByTestId('customer-detail').waitFor();
    assert.equal(await page.getByTestId('detail-name').textContent(), SQL);
    assert.equal(await page.getByTestId('detail-remarks').textContent(), SCRIPT);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });
});
