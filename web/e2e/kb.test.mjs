// 知识库 (issue 7) end to end against `kefu serve --demo` (which seeds the demo KB from crates/kb/demo):
// an agent finds an article by pinyin initials, with highlighted matches, opens it, favorites it and votes
// it helpful; a supervisor writes an article with a <script> in its body (it never runs), submits it, an
// administrator approves it (an author may not approve their own version unless an administrator), it
// becomes searchable; the supervisor edits it and sees the diff; the agent desktop's knowledge panel finds
// an article and opens it in a drawer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiGet, apiLogin, launch, newPage, withPage } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls `f` until it returns a truthy value; throws `what()` after `timeoutMs`. */
async function until(f, { timeoutMs = 10_000, everyMs = 300, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(typeof what === 'function' ? await what() : what);
    await sleep(everyMs);
  }
}

// A demo article found by the initials of its title words (crates/kb/demo/queries.toml: jtqj → 居民阶梯气价标准).
const INITIALS = 'jtqj';
const INITIALS_SLUG = 'residential-tiered-price';
const INITIALS_TITLE = /阶梯气价/;

/** Types into the search box, waits for suggestions when asked, presses Enter and waits for the hits. */
async function searchFor(page, testId, q) {
  const box = page.getByTestId(testId);
  await box.fill('');
  await box.pressSequentially(q, { delay: 30 });
  return box;
}

test('an agent finds an article by pinyin initials with highlighted matches, opens it, favorites it and votes it helpful', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    await page.goto('/kb');
    await page.getByTestId('kb-browser').waitFor();
    // The tree shows the demo categories; the empty search box shows the article list.
    await page.getByTestId('kb-category').first().waitFor();
    await page.getByTestId('kb-article-row').first().waitFor();

    // Suggestions while typing (debounced): title words.
    let box = await searchFor(page, 'kb-search', '阶梯');
    await page.getByTestId('kb-suggestion').first().waitFor();
    const suggestions = await page.getByTestId('kb-suggestion').allTextContents();
    assert.ok(suggestions.some((s) => /阶梯/.test(s)), `a suggestion for 阶梯: ${JSON.stringify(suggestions)}`);
    assert.ok((await page.locator('[data-testid="kb-suggestion"] mark').count()) > 0, 'the suggestions mark what matched');

    // The pinyin initials, and Enter searches (not the first suggestion).
    box = await searchFor(page, 'kb-search', INITIALS);
    await box.press('Enter');
    await page.waitForURL((u) => u.pathname === '/kb' && u.searchParams.get('q') === INITIALS);
    await page.getByTestId('kb-hit').first().waitFor();
    const slugs = await page.getByTestId('kb-hit').evaluateAll((els) => els.map((e) => e.getAttribute('data-slug')));
    const at = slugs.slice(0, 5).indexOf(INITIALS_SLUG);
    assert.ok(at >= 0, `${INITIALS} finds ${INITIALS_SLUG} in the top 5: ${JSON.stringify(slugs)}`);
    // The matches are highlighted with <mark>, and nothing else of the API's HTML became markup.
    const hit = page.getByTestId('kb-hit').nth(at);
    assert.ok((await hit.locator('mark').count()) > 0, 'the hit has highlighted matches');
    assert.equal(await page.getByTestId('kb-results').locator('script, img, iframe').count(), 0);
    const articleId = await hit.getAttribute('data-id');

    // Opening the hit records the click with the query, and the article counts a view.
    const clickP = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes(`/kb/articles/${articleId}/click`));
    await hit.getByTestId('kb-hit-title').click();
    const click = await clickP;
    assert.equal(JSON.parse(click.postData() ?? '{}').q, INITIALS);
    await page.waitForURL(`**/kb/articles/${articleId}`);
    await page.getByTestId('kb-article-body').waitFor();
    assert.match(await page.getByTestId('kb-article-title').textContent(), INITIALS_TITLE);
    assert.ok(((await page.getByTestId('kb-article-body').textContent()) ?? '').trim().length > 20, 'the body is shown');
    await page.getByTestId('kb-article-visibility').waitFor();
    await page.getByTestId('kb-article-path').waitFor();

    // Favorite (kept by the server, shown in 我的收藏) and a helpful vote (counted once, kept).
    const fav = page.getByTestId('kb-favorite');
    if ((await fav.getAttribute('data-on')) === '1') {
      await fav.click(); // a rerun: start from not favorite
      await page.locator('[data-testid="kb-favorite"][data-on="0"]').waitFor();
    }
    await fav.click();
    await page.locator('[data-testid="kb-favorite"][data-on="1"]').waitFor();

    const helpful = page.getByTestId('kb-vote-helpful');
    const before = Number(await page.getByTestId('kb-helpful-count').textContent());
    const wasOn = (await helpful.getAttribute('data-on')) === '1';
    if (!wasOn) {
      await helpful.click();
      await page.locator('[data-testid="kb-vote-helpful"][data-on="1"]').waitFor();
      assert.equal(Number(await page.getByTestId('kb-helpful-count').textContent()), before + 1);
    }

    await page.reload();
    await page.getByTestId('kb-article-body').waitFor();
    assert.equal(await page.getByTestId('kb-favorite').getAttribute('data-on'), '1', 'the favorite is kept');
    assert.equal(await page.getByTestId('kb-vote-helpful').getAttribute('data-on'), '1', 'the vote is kept');
    assert.equal(Number(await page.getByTestId('kb-helpful-count').textContent()), wasOn ? before : before + 1, 'one vote per user');
    const server = await apiGet(context, `/kb/articles/${articleId}?count=0`);
    assert.equal(server.favorite, true);
    assert.ok(server.helpful >= 1);

    await page.goto('/kb');
    await page.locator(`[data-testid="kb-favorite-item"][data-id="${articleId}"]`).waitFor();
  });
});

test('a supervisor writes an article with a <script> (never run), an administrator approves it, it is found, an edit shows a diff', async (t) => {
  const token = `kbtest${Date.now().toString(36)}`;
  const title = `燃气安全测试文章 ${token}`;
  const adm = await newPage(browser);
  try {
    await apiLogin(adm.context, 'admin');
    await withPage(browser, t, async (page, context) => {
      await apiLogin(context, 'supervisor');
      await page.goto('/kb/new');
      await page.getByTestId('kb-editor').waitFor();
      await page.getByTestId('kb-field-title').fill(title);

      // The category: the first one of the tree.
      await page.getByTestId('kb-field-category').click();
      await page.locator('.ant-select-dropdown:visible .ant-select-tree-treenode .ant-select-tree-node-content-wrapper').first().click();
      const tags = page.getByTestId('kb-field-tags');
      await tags.click();
      await page.keyboard.type('测试');
      await page.keyboard.press('Enter');

      // The body, with the toolbar: bold on a selected word, then script and event-handler attempts.
      const body = page.getByTestId('kb-field-body');
      await body.fill('第一行说明\n关火后再检查');
      await body.evaluate((el) => el.setSelectionRange(0, 2));
      await page.getByTestId('kb-md-bold').click();
      assert.equal(await body.inputValue(), '**第一**行说明\n关火后再检查');
      await body.press('End');
      await body.evaluate((el) => el.setSelectionRange(el.value.length, el.value.length));
      await page.keyboard.type(
        '\n\n<script>window.__kbXss = 1</script>\n\n<img src="x" onerror="window.__kbXss = 2">\n\n[点我](javascript:window.__kbXss=3)\n\n- 第一步\n- 第二步\n',
      );
      // The live preview is built as elements: the bold is bold, the script is text.
      const preview = page.getByTestId('kb-preview');
      await preview.locator('strong', { hasText: '第一' }).waitFor();
      await preview.locator('li', { hasText: '第二步' }).waitFor();
      assert.equal(await preview.locator('script, img').count(), 0, 'no script or img element in the preview');
      assert.match((await preview.textContent()) ?? '', /<script>/);

      // Save and submit for review.
      await page.getByTestId('kb-save-submit').click();
      await page.waitForURL(/\/kb\/articles\/[0-9a-f-]+$/);
      const id = page.url().split('/').pop();
      await page.locator('[data-testid="kb-article"][data-status="in_review"]').waitFor();
      const bodyEl = page.getByTestId('kb-article-body');
      await bodyEl.locator('strong', { hasText: '第一' }).waitFor();
      assert.equal(await bodyEl.locator('script, iframe').count(), 0, 'no script element in the body');
      assert.equal(await bodyEl.locator('[onerror], [onclick]').count(), 0, 'no event handlers in the body');
      assert.equal(await bodyEl.locator('a[href^="javascript"]').count(), 0, 'no javascript: links');
      // Clicking whatever is left of the link runs nothing either.
      const link = bodyEl.getByText('点我');
      if (await link.count()) await link.first().click({ noWaitAfter: true }).catch(() => undefined);
      await sleep(300);
      assert.equal(await page.evaluate(() => window.__kbXss), undefined, 'the script never ran');
      // The author may not approve their own version (a supervisor, not an administrator): not offered,
      // and refused by the server.
      await page.getByTestId('kb-own-version').waitFor();
      assert.equal(await page.getByTestId('kb-approve').count(), 0, 'no approve button for the own version');
      const own = await context.request.post(`/api/v1/kb/articles/${id}/approve`, { data: {} });
      assert.ok([403, 409, 422].includes(own.status()), `approving one's own version is refused: ${own.status()} ${await own.text()}`);

      // Not yet searchable: only published articles are.
      const before = await apiGet(context, `/kb/search?q=${encodeURIComponent(token)}`);
      assert.ok(!before.hits.some((h) => h.id === id), 'a draft in review is not searchable');

      // The administrator approves it on the page.
      await adm.page.goto(`/kb/articles/${id}`);
      await adm.page.getByTestId('kb-approve').click();
      await adm.page.locator('[data-testid="kb-article"][data-status="published"]').waitFor();
      assert.equal(await adm.page.evaluate(() => window.__kbXss), undefined, 'the script never ran for the approver');

      // It becomes searchable (the index follows the change).
      await page.goto(`/kb?q=${encodeURIComponent(token)}`);
      await until(
        async () => {
          await page.getByTestId('kb-results').waitFor();
          await page.locator('[data-testid="kb-results"][data-loading="0"]').waitFor();
          if (await page.locator(`[data-testid="kb-hit"][data-id="${id}"]`).count()) return true;
          await page.reload();
          return false;
        },
        { timeoutMs: 15_000, what: `the approved article ${id} is found by ${token}` },
      );

      // The supervisor edits it: a new version, and the diff between v1 and v2.
      await page.goto(`/kb/articles/${id}/edit`);
      await page.getByTestId('kb-editor').waitFor();
      const editBody = page.getByTestId('kb-field-body');
      await editBody.waitFor();
      const old = await editBody.inputValue();
      assert.ok(old.includes('关火后再检查'), `the editor holds the Markdown: ${old}`);
      await editBody.fill(old.replace('关火后再检查', '先开窗通风再检查'));
      await page.getByTestId('kb-save').click();
      await page.getByText('已保存（v2）').waitFor();
      await page.goto(`/kb/articles/${id}`);
      await page.locator('[data-testid="kb-article"][data-version="2"]').waitFor();
      // Readers still get v1 until v2 is approved: the page shows the published text first, the latest on a click.
      await page.locator('[data-testid="kb-newer-than-published"][data-showing="published"]').waitFor();
      await page.getByTestId('kb-article-body').getByText('关火后再检查').waitFor();
      await page.getByTestId('kb-show-latest').click();
      await page.getByTestId('kb-article-body').getByText('先开窗通风再检查').waitFor();
      await page.locator('[data-testid="kb-version-row"]').nth(1).waitFor();
      await page.getByTestId('kb-diff-run').click();
      const ins = page.locator('[data-testid="kb-diff-line"][data-op="insert"]', { hasText: '先开窗通风再检查' });
      const del = page.locator('[data-testid="kb-diff-line"][data-op="delete"]', { hasText: '关火后再检查' });
      await ins.waitFor();
      await del.waitFor();
      assert.equal(await ins.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(217, 247, 190)', 'inserted lines are green');
      assert.equal(await del.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(255, 204, 199)', 'deleted lines are red');
      assert.equal(await page.evaluate(() => window.__kbXss), undefined, 'the script never ran');

      // Someone else saves while the editor is open: saving answers 409, said as such, and nothing is lost.
      await page.goto(`/kb/articles/${id}/edit`);
      await page.getByTestId('kb-field-body').waitFor();
      const latest = await apiGet(adm.context, `/kb/articles/${id}?latest=1&count=0`);
      const fields = { ...(latest.content ?? {}), ...latest };
      const other = await adm.context.request.patch(`/api/v1/kb/articles/${id}`, {
        data: {
          title: fields.title,
          category_id: fields.category_id,
          body: `${fields.body}\n\n管理员补充的一句`,
          tags: fields.tags,
          visibility: fields.visibility,
          expected_version: fields.version,
        },
      });
      assert.equal(other.status(), 200, `the administrator's save: ${await other.text()}`);
      await page.getByTestId('kb-field-body').fill('被别人抢先修改的内容');
      await page.getByTestId('kb-save').click();
      await page.getByTestId('kb-conflict').waitFor();
      assert.equal(await page.getByTestId('kb-field-body').inputValue(), '被别人抢先修改的内容', 'the unsaved text stays');
    });
  } finally {
    await adm.context.close();
  }
});

test('the agent desktop knowledge panel shows this week’s hot articles, finds an article and opens it in a drawer', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'agent');
    await page.goto('/desk');
    const panel = page.getByTestId('knowledge-panel');
    await panel.waitFor();
    await panel.getByTestId('kb-hot').waitFor();
    const box = await searchFor(page, 'kb-panel-search', '热水器');
    await box.press('Enter');
    const hit = panel.getByTestId('kb-panel-hit').first();
    await hit.waitFor();
    assert.ok((await panel.getByTestId('kb-panel-hit').locator('mark').count()) > 0, 'the matches are highlighted');
    const id = await hit.getAttribute('data-id');
    await hit.getByTestId('kb-panel-hit-title').click();
    const drawer = page.locator(`[data-testid="kb-drawer-article"][data-id="${id}"]`);
    await drawer.waitFor();
    assert.match((await page.getByTestId('kb-drawer-title').textContent()) ?? '', /热水器/);
    await drawer.getByTestId('kb-article-body').waitFor();
    await drawer.getByTestId('kb-vote-helpful').waitFor();
    await page.getByTestId('kb-favorite').waitFor();
  });
});

/** CRC-32 (IEEE), for the test's own zip files. */
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A zip of `files` ({ name: text }), stored without compression. */
function zipOf(files) {
  const local = [];
  const central = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const nameBuf = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const crc = crc32(data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(0x0800, 6); // UTF-8 names
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(data.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(nameBuf.length, 26);
    local.push(head, nameBuf, data);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(0x0800, 8);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(data.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(nameBuf.length, 28);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, nameBuf);
    offset += head.length + nameBuf.length + data.length;
  }
  const dirBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dirBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, dirBuf, end]);
}

const article = (slug, title, visibility) =>
  `---\nslug: ${slug}\ntitle: ${title}\ncategory: 测试导入/第一类\ntags: [测试]\nvisibility: ${visibility}\nvalid_from:\nvalid_to:\n---\n导入的正文。\n`;

test('kb admin: an import with a bad row writes nothing and shows where; a good one is imported; synonyms are saved; exports download', async (t) => {
  await withPage(browser, t, async (page, context) => {
    await apiLogin(context, 'admin');
    const stamp = Date.now().toString(36);
    const good = `e2e-import-${stamp}`;
    const bad = `e2e-import-bad-${stamp}`;
    await page.goto('/kb/admin');
    await page.getByTestId('kb-import-export').waitFor();
    const input = page.locator('[data-testid="kb-import-export"] input[type="file"]');

    // One bad row (visibility "secret"): refused as a whole, the row and field shown.
    await input.setInputFiles({
      name: 'bad.zip',
      mimeType: 'application/zip',
      buffer: zipOf({ [`测试导入/第一类/${good}.md`]: article(good, '导入测试文章甲', 'public'), [`测试导入/第一类/${bad}.md`]: article(bad, '导入测试文章乙', 'secret') }),
    });
    await page.getByTestId('kb-import-error').waitFor();
    const rows = page.locator('[data-testid="kb-import-errors"] tbody tr.ant-table-row');
    await rows.first().waitFor();
    const text = await rows.allTextContents();
    assert.ok(text.some((r) => r.includes(bad) && /visibility/.test(r)), `the bad row is shown with its field: ${JSON.stringify(text)}`);
    const list = await apiGet(context, '/kb/articles?per_page=100');
    assert.ok(!list.items.some((a) => a.slug === good), 'nothing was written');

    // The good file alone is imported.
    await input.setInputFiles({ name: 'good.zip', mimeType: 'application/zip', buffer: zipOf({ [`测试导入/第一类/${good}.md`]: article(good, '导入测试文章甲', 'public') }) });
    await page.getByTestId('kb-import-result').waitFor();
    assert.match((await page.getByTestId('kb-import-result').textContent()) ?? '', /新建\s*1/);
    const after = await apiGet(context, '/kb/articles?per_page=100');
    assert.ok(after.items.some((a) => a.slug === good), 'the article was imported');

    // Synonyms: a group added on its own line is kept.
    const syn = page.getByTestId('kb-synonyms-text');
    await page.locator('[data-testid="kb-synonyms-text"]:not([disabled])').waitFor();
    const before = await syn.inputValue();
    await syn.fill(`${before}\n测试词${stamp}, 试验词${stamp}`);
    await page.getByTestId('kb-synonyms-save').click();
    await page.locator('.ant-message', { hasText: '同义词' }).waitFor();
    assert.ok((await apiGet(context, '/kb/synonyms')).some((g) => g.words.includes(`测试词${stamp}`)), 'the synonym group is saved');
    assert.match(await syn.inputValue(), new RegExp(`测试词${stamp}`), 'the saved groups are shown');
    // A line with one word is refused before it is sent.
    await syn.fill(`${await syn.inputValue()}\n孤零零`);
    await page.getByTestId('kb-synonyms-save').click();
    await page.getByTestId('kb-synonyms-errors').waitFor();

    // Exports: a zip and a workbook.
    for (const [id, type] of [
      ['kb-export-markdown', /zip/],
      ['kb-export-xlsx', /spreadsheetml|excel|octet-stream/],
    ]) {
      const href = await page.getByTestId(id).getAttribute('href');
      const res = await context.request.get(href);
      assert.equal(res.status(), 200, `${href}`);
      assert.match(res.headers()['content-type'] ?? '', type);
      assert.ok((await res.body()).length > 1000, `${href} has content`);
    }
  });
});
