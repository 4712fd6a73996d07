// Shared helpers for the browser tests: playwright-core driving the system Chromium.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE_URL = (process.env.KEFU_URL || 'http://127.0.0.1:18080').replace(/\/$/, '');
export const PASSWORD = process.env.KEFU_PASSWORD || 'Kefu@2026';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(here, '..', 'test-results');

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A fresh, isolated browser context (own cookies and localStorage) and a page in it. */
export async function newPage(browser) {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    locale: 'zh-CN',
    viewport: { width: 1440, height: 900 },
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[pageerror] ${err.message}`));
  return { context, page };
}

function safeName(s) {
  return s.replace(/[^\p{L}\p{N}_-]+/gu, '_').slice(0, 120);
}

/**
 * Runs `fn(page, context)` in a fresh context; on failure saves a full-page screenshot to
 * web/test-results/<test name>.png and rethrows.
 */
export async function withPage(browser, t, fn) {
  const { context, page } = await newPage(browser);
  try {
    await fn(page, context);
  } catch (err) {
    try {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const file = path.join(RESULTS_DIR, `${safeName(t.name)}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.error(`screenshot saved: ${file} (url ${page.url()})`);
    } catch (shotErr) {
      console.error(`could not save a screenshot: ${shotErr}`);
    }
    throw err;
  } finally {
    await context.close();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Signs in through the API with the context's request client, so the session cookie lands in the
 * browser context. Waits out a login throttle (429 with Retry-After) of up to a minute.
 */
export async function apiLogin(context, username, password = PASSWORD) {
  for (let attempt = 0; attempt < 4; attempt++) {
    const res = await context.request.post('/api/v1/auth/login', { data: { username, password } });
    if (res.status() === 429) {
      const wait = Number(res.headers()['retry-after'] || '2');
      if (wait > 65) throw new Error(`login throttled for ${wait}s`);
      await sleep((wait + 0.5) * 1000);
      continue;
    }
    if (!res.ok()) throw new Error(`login as ${username} failed: ${res.status()} ${await res.text()}`);
    return res.json();
  }
  throw new Error(`login as ${username} kept being throttled`);
}

/** Signs in through the login form and waits to leave /login. */
export async function uiLogin(page, username, password = PASSWORD) {
  for (let attempt = 0; attempt < 4; attempt++) {
    await page.goto('/login');
    await page.getByTestId('login-username').fill(username);
    await page.getByTestId('login-password').fill(password);
    const respP = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
    await page.getByTestId('login-submit').click();
    const resp = await respP;
    if (resp.status() === 429) {
      const wait = Number(resp.headers()['retry-after'] || '2');
      if (wait > 65) throw new Error(`login throttled for ${wait}s`);
      await sleep((wait + 0.5) * 1000);
      continue;
    }
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    return;
  }
  throw new Error(`login as ${username} kept being throttled`);
}

/** GET an API path with the context's cookies, returning JSON (throws on non-2xx). */
export async function apiGet(context, p) {
  const res = await context.request.get(`/api/v1${p}`);
  if (!res.ok()) throw new Error(`GET ${p}: ${res.status()} ${await res.text()}`);
  return res.json();
}

export async function apiPost(context, p, data) {
  const res = await context.request.post(`/api/v1${p}`, { data });
  const body = await res.text();
  if (!res.ok()) throw new Error(`POST ${p}: ${res.status()} ${body}`);
  return body ? JSON.parse(body) : undefined;
}

/** A random mobile number (1390xxxxxxx), valid under the domain's phone rules. */
export function randomMobile() {
  return `1390${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}
