// Helpers for the work-order browser tests: antd selects, custom fields, orders made through the API.
import { randomUUID } from 'node:crypto';
import { apiGet, apiPost } from './helpers.mjs';

/** The site user's unit in the demo (`site` is staff of 北仑分理处). */
export const SITE_UNIT = '北仑分理处';

/** A 1×1 PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** Opens the antd Select with `testId` and picks the option showing `text`. */
export async function pickOption(page, testId, text, scope = page) {
  await scope.getByTestId(testId).click();
  const option = page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: text }).first();
  await option.waitFor();
  await option.click();
}

/** The demo type named `name` (故障申告 …) as the API gives it. */
export async function typeByName(context, name) {
  const types = await apiGet(context, '/work-order-types');
  const ty = types.find((x) => x.name === name);
  if (!ty) throw new Error(`no work-order type ${name}: ${types.map((x) => x.name).join(', ')}`);
  return ty;
}

export async function unitByName(context, name) {
  const units = await apiGet(context, '/units');
  const u = units.find((x) => x.name === name);
  if (!u) throw new Error(`no unit ${name}`);
  return u;
}

/** The label of a choice option (its Chinese label). */
export function optionLabel(ty, key, value) {
  const f = ty.fields.find((x) => x.key === key);
  return f?.options?.find((o) => o.value === value)?.label ?? f?.options?.[0]?.label;
}

/** Values for every required custom field of `ty` (as the API wants them), with `overrides` on top. */
export function requiredValues(ty, overrides = {}) {
  const out = {};
  for (const f of ty.fields) {
    if (!f.required) continue;
    if (f.kind === 'choice') out[f.key] = f.options[0].value;
    else if (f.kind === 'number') out[f.key] = 1;
    else if (f.kind === 'date') out[f.key] = new Date().toISOString().slice(0, 10);
    else if (f.kind === 'attachment') continue;
    else if (f.kind === 'customer') continue;
    else out[f.key] = '测试内容';
  }
  return { ...out, ...overrides };
}

/** Fills the create form's required custom fields other than those in `skip`. */
export async function fillRequiredFields(page, ty, skip = []) {
  for (const f of ty.fields) {
    if (!f.required || skip.includes(f.key)) continue;
    const id = `wf-field-${f.key}`;
    if (f.kind === 'choice') await pickOption(page, id, f.options[0].label);
    else if (f.kind === 'number') await page.getByTestId(id).locator('input').fill('1');
    else if (f.kind === 'date') {
      const input = page.getByTestId(id).locator('input').first();
      await input.click();
      await input.fill(new Date().toISOString().slice(0, 10));
      await input.press('Enter');
    } else if (f.kind === 'text' || f.kind === 'address') await page.getByTestId(id).fill('测试内容');
  }
}

/** A fault report made through the API (optionally dispatched at once to `unitId`). */
export async function createOrder(context, { type = '故障申告', unitId, title, description, fields = {}, extra = {} } = {}) {
  const ty = await typeByName(context, type);
  const body = {
    type_id: ty.id,
    channel: 'phone',
    title: title ?? `e2e 工单 ${Date.now()}`,
    description: description ?? '浏览器测试创建的工单',
    fields: requiredValues(ty, fields),
    ...(unitId ? { unit_id: unitId } : {}),
    ...extra,
  };
  const res = await context.request.post('/api/v1/work-orders', { data: body, headers: { 'Idempotency-Key': randomUUID() } });
  const text = await res.text();
  if (res.status() !== 201) throw new Error(`POST /work-orders: ${res.status()} ${text}`);
  return JSON.parse(text);
}

/** Takes an action through the API with the order's current version. */
export async function act(context, id, body) {
  const o = await apiGet(context, `/work-orders/${id}`);
  return apiPost(context, `/work-orders/${id}/actions`, { version: o.version, ...body });
}

/** Signs out through the header's user menu. */
export async function uiLogout(page) {
  await page.getByTestId('user-menu').click();
  await page.getByTestId('logout').click();
  await page.waitForURL(/\/login/);
}
