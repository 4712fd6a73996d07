// (c) Customer search: the agent finds a demo customer by a name fragment and by phone, opens it, sees bills.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiGet, apiLogin, launch, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Waits until the result table shows the answer to the search `q`. */
async function waitForSearch(page, q) {
  await page.waitForFunction((q) => {
    const el = document.querySelector('[data-testid="customers-page"]');
    return el && el.getAttribute('data-loading') === 'false' && el.getAttribute('data-loaded-q') === q;
  }, q);
  await page.getByTestId('customer-row').first().waitFor();
}

/** A demo pipeline-gas customer with a phone and some overdue amount (so it has bills). */
async function pickCustomer(context) {
  const page = await apiGet(context, '/customers?service_type=pipeline&per_page=100');
  assert.ok(page.items.length > 0, 'the demo has pipeline customers');
  const withBills = page.items.filter((c) => c.primary_phone && c.overdue_cents > 0 && [...c.name].length >= 2);
  const c = withBills[0] ?? page.items.find((x) => x.primary_phone && [...x.name].length >= 2);
  assert.ok(c, 'a demo customer with a phone');
  return c;
}

test('agent searches by name fragment and by phone, opens the detail and sees bills', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    const c = await pickCustomer(context);
    const chars = [...c.name];
    const fragment = chars.slice(1).join(''); // the given name: a fragment, not the whole name

    await page.goto('/customers');
    const box = page.getByTestId('customer-search');
    await box.fill(fragment);
    await box.press('Enter');
    await waitForSearch(page, fragment);
    const names = await page.getByTestId('cell-name').allTextContents();
    const addresses = await page.getByTestId('cell-address').allTextContents();
    assert.ok(names.length > 0, 'the name fragment finds customers');
    names.forEach((n, i) => assert.ok(n.includes(fragment) || addresses[i].includes(fragment), `row ${i} matches ${fragment}: ${n}`));

    // By phone: exactly our customer.
    await box.fill(c.primary_phone);
    await box.press('Enter');
    await waitForSearch(page, c.primary_phone);
    const row = page.getByTestId('customer-row').filter({ hasText: c.customer_no });
    await row.first().waitFor();
    assert.ok((await page.getByTestId('cell-phone').allTextContents()).includes(c.primary_phone));

    await row.first().click();
    await page.waitForURL(`**/customers/${c.id}`);
    await page.getByTestId('customer-detail').waitFor();
    assert.equal((await page.getByTestId('detail-name').textContent())?.trim(), c.name);
    assert.ok((await page.getByTestId('detail-phones').textContent())?.includes(c.primary_phone));
    const bills = page.getByTestId('bills-table').first();
    await bills.waitFor();
    await page.getByTestId('bill-row').first().waitFor();
    assert.ok((await page.getByTestId('bill-row').count()) > 0, 'bills are listed');
    const amount = (await page.getByTestId('bill-amount').first().textContent()) ?? '';
    assert.match(amount, /^¥[\d,]+\.\d{2}$/, 'amounts are in yuan');
    if (c.overdue_cents > 0) {
      await page.getByTestId('bill-status-overdue').first().waitFor();
    }
    // The agent may not record payments (payments.write) but may edit (customers.write).
    assert.equal(await page.getByTestId('record-payment').count(), 0);
    assert.equal(await page.getByTestId('customer-edit').count(), 1);
  });
});

test('the district and service-type filters narrow the search', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    await page.goto('/customers?service_type=bottled&district=' + encodeURIComponent('北仑区'));
    await page.getByTestId('customer-row').first().waitFor();
    const tags = await page.getByTestId('service-type').allTextContents();
    assert.ok(tags.length > 0);
    tags.forEach((x) => assert.equal(x.trim(), '瓶装气'));
  });
});
