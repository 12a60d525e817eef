// ui.mjs SPEC: signs in to the dashboard in headless Chromium through its own
// form, opens every page SPEC lists, and prints JSON: per page its title, the
// text of its main element, whether window.__pwned was set (a script of the
// page's data ran), the console errors (a CSP refusal shows there), and every
// request that left 127.0.0.1 (aborted and listed).
//
// SPEC is a JSON file: {"base": "http://127.0.0.1:PORT", "key": API key,
// "pages": [paths]}. A fresh profile per run.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const out = { blocked: [], pages: {} };
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  await context.route('**/*', async (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'http:' && u.hostname === '127.0.0.1') {
      await route.continue();
    } else {
      out.blocked.push(route.request().url());
      await route.abort();
    }
  });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(spec.base + '/ui/', { waitUntil: 'load', timeout: 20000 });
  out.signInUrl = page.url();
  await page.fill('#key', spec.key);
  await Promise.all([page.waitForNavigation({ timeout: 20000 }), page.click('button[type=submit]')]);
  out.afterSignIn = page.url();
  for (const p of spec.pages) {
    errors.length = 0;
    const resp = await page.goto(spec.base + p, { waitUntil: 'load', timeout: 20000 });
    await page.waitForTimeout(200);
    out.pages[p] = {
      status: resp.status(),
      csp: resp.headers()['content-security-policy'] || null,
      title: await page.title(),
      main: await page.locator('main').innerText(),
      pwned: await page.evaluate(() => typeof window.__pwned !== 'undefined'),
      errors: [...errors],
    };
  }
  // sign out through the page's own form; the session must be gone
  await Promise.all([page.waitForNavigation({ timeout: 20000 }),
                     page.click('header form button[type=submit]')]);
  out.afterSignOut = page.url();
  await page.goto(spec.base + '/ui/', { waitUntil: 'load', timeout: 20000 });
  out.afterSignOutVisit = page.url();
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
