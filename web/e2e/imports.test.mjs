// Imports: the administrator uploads a customers CSV with one bad row, skipping invalid rows, and watches it finish.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiLogin, launch, randomMobile, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('admin imports customers from CSV with 跳过错误行 and sees counts and row errors', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const stamp = Date.now().toString().slice(-8);
    const csv = [
      '户号,姓名,电话,地址,区域,气种',
      `IMP-${stamp}1,导入测试甲,${randomMobile()},宁波市海曙区测试路1号,海曙区,管道气`,
      `IMP-${stamp}2,导入测试乙,not-a-phone,宁波市江北区测试路2号,江北区,瓶装气`,
      `IMP-${stamp}3,导入测试丙,${randomMobile()},宁波市鄞州区测试路3号,鄞州区,瓶装气`,
    ].join('\n');
    const dir = mkdtempSync(path.join(tmpdir(), 'kefu-e2e-'));
    const file = path.join(dir, `customers-${stamp}.csv`);
    writeFileSync(file, csv + '\n');

    await page.goto('/admin/imports');
    await page.getByTestId('imports-page').waitFor();
    await page.getByTestId('import-kind-customers').check({ force: true });
    await page.locator('input[type=file]').setInputFiles(file);
    await page.getByTestId('import-skip-invalid').check({ force: true });
    await page.getByTestId('import-start').click();
    await page.getByTestId('import-job').waitFor();
    await page.waitForFunction(
      () => ['已完成', '失败'].includes(document.querySelector('[data-testid="import-status"]')?.textContent?.trim() ?? ''),
      null,
      { timeout: 30_000 },
    );
    assert.equal((await page.getByTestId('import-status').textContent())?.trim(), '已完成');
    const counts = (await page.getByTestId('import-counts').textContent()) ?? '';
    assert.match(counts, /新增2/, counts);
    await page.getByTestId('import-errors').waitFor();
    const errText = (await page.getByTestId('import-errors').textContent()) ?? '';
    assert.match(errText, /3/, 'the bad row is reported with its line number');
  });
});

test('supervisor may not open 数据导入', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'supervisor');
    await page.goto('/admin/imports');
    await page.getByTestId('forbidden-page').waitFor();
    assert.equal(await page.getByTestId('menu-imports').count(), 0);
  });
});
