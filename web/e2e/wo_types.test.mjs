// 工单类型: the administrator adds a text field to a type in the designer; the create form shows it at once.
// Also the calendar editor opens and saves. The test removes its field again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiGet, apiLogin, launch, withPage } from './helpers.mjs';
import { pickOption, typeByName } from './wo-helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('admin adds a field to 故障申告 and the create form shows it', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const stamp = Date.now().toString().slice(-8);
    const key = `e2e_${stamp}`;
    const label = `现场联系人${stamp}`;
    try {
      await page.goto('/admin/work-order-types');
      const row = page.locator('[data-testid="type-row"][data-name="故障申告"]');
      await row.waitFor();
      await row.getByTestId('type-edit').click();
      await page.getByTestId('type-form').waitFor();
      const n = await page.getByTestId('tf-field').count();
      await page.getByTestId('tf-field-add').click();
      await page.getByTestId(`tf-field-key-${n}`).fill(key);
      await page.getByTestId(`tf-field-label-${n}`).fill(label);
      await page.getByTestId(`tf-field-label_en-${n}`).fill(`On-site contact ${stamp}`);
      await page.getByTestId('type-form-submit').click();
      await page.getByTestId('type-form').waitFor({ state: 'hidden' });
      const ty = await typeByName(context, '故障申告');
      const f = ty.fields.find((x) => x.key === key);
      assert.ok(f, 'the field is saved');
      assert.equal(f.kind, 'text');
      assert.equal(f.required, false);

      await page.goto('/work-orders/new');
      await page.getByTestId('wo-form').waitFor();
      await pickOption(page, 'wf-type', '故障申告');
      const item = page.getByTestId(`wf-item-${key}`);
      await item.waitFor();
      assert.match(await item.textContent(), new RegExp(label));
      await page.getByTestId(`wf-field-${key}`).fill('王师傅 13900003333');

      // A bad key is refused with the message under the key input.
      await page.goto('/admin/work-order-types');
      await row.getByTestId('type-edit').click();
      await page.getByTestId('type-form').waitFor();
      const m = await page.getByTestId('tf-field').count();
      await page.getByTestId('tf-field-add').click();
      await page.getByTestId(`tf-field-key-${m}`).fill('Bad Key');
      await page.getByTestId(`tf-field-label-${m}`).fill('坏字段');
      await page.getByTestId('type-form-submit').click();
      const keyItem = page.locator('.ant-form-item').filter({ has: page.getByTestId(`tf-field-key-${m}`) });
      await keyItem.locator('.ant-form-item-explain-error').first().waitFor();
    } finally {
      // Take the test's field out again.
      const ty = await typeByName(context, '故障申告');
      if (ty.fields.some((x) => x.key === key)) {
        const res = await context.request.patch(`/api/v1/work-order-types/${ty.id}`, {
          data: { version: ty.version, fields: ty.fields.filter((x) => x.key !== key) },
        });
        if (!res.ok()) console.error(`could not remove the test field: ${res.status()} ${await res.text()}`);
      }
    }
  });
});

test('admin edits a business calendar', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const cals = await apiGet(context, '/calendars');
    const cal = cals.find((c) => !c.spec.always_open);
    assert.ok(cal, 'the demo has a calendar with working hours');
    await page.goto('/admin/calendars');
    const row = page.locator(`[data-testid="calendar-row"][data-code="${cal.code}"]`);
    await row.waitFor();
    await row.getByTestId('calendar-edit').click();
    await page.getByTestId('calendar-form').waitFor();
    // Saving without changes keeps the calendar and bumps its version.
    await page.getByTestId('calendar-form-submit').click();
    await page.getByTestId('calendar-form').waitFor({ state: 'hidden' });
    const after = (await apiGet(context, '/calendars')).find((c) => c.id === cal.id);
    assert.deepEqual(after.spec.week, cal.spec.week);
    assert.deepEqual(after.spec.holidays, cal.spec.holidays);

    // A bad time is caught in the form.
    await row.getByTestId('calendar-edit').click();
    await page.getByTestId('cal-0-add').click();
    const spans = await page.locator('[data-testid^="cal-0-"][data-testid$="-start"]').count();
    await page.getByTestId(`cal-0-${spans - 1}-start`).fill('25:00');
    await page.getByTestId(`cal-0-${spans - 1}-end`).fill('26:00');
    await page.getByTestId('calendar-form-submit').click();
    await page.getByTestId(`cal-0-${spans - 1}-start`).and(page.locator('.ant-input-status-error')).waitFor();
    assert.match(await page.getByTestId('calendar-form-error').textContent(), /周一/);
  });
});
