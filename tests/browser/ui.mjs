// ui.mjs SPEC: signs in to the dashboard in headless Chromium through its own
// form, opens every page SPEC lists, and prints JSON: per page its title, the
// text of its main element, whether window.__pwned was set (a script of the
// page's data ran), the console errors (a CSP refusal shows there), and every
// request that left 127.0.0.1 (aborted and listed).
//
// Each page is also checked with axe-core (its serious and critical violations
// are listed per page). With "live" in SPEC ({"page": path, "hit": URL, "ua":
// User-Agent}), the page is opened, the pixel URL fetched from here (not from
// the browser), and the time until a new row shows in the page's live table is
// measured, up to three times: "liveMs" lists them.
//
// SPEC is a JSON file: {"base": "http://127.0.0.1:PORT", "key": API key,
// "pages": [paths], "live": {...}}. A fresh profile per run.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const axeSource = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'node_modules',
                                    'axe-core', 'axe.min.js'), 'utf8');

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const out = { blocked: [], pages: {}, liveMs: [] };
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
    // axe-core runs through the DevTools protocol, which the page's CSP does
    // not govern; the page itself still allows no inline script
    await page.evaluate(axeSource);
    out.pages[p].axe = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
  }
  if (spec.live) {
    await page.goto(spec.base + spec.live.page, { waitUntil: 'load', timeout: 20000 });
    for (let i = 0; i < 3; i++) {
      const before = await page.locator('#live tr').count();
      const r = await fetch(spec.live.hit, { headers: { 'User-Agent': spec.live.ua } });
      await r.arrayBuffer();
      const t0 = Date.now();
      // polled from here: waitForFunction evaluates a string, which the CSP refuses
      let seen = false;
      while (!seen && Date.now() - t0 < 15000) {
        seen = (await page.locator('#live tr').count()) > before;
        if (!seen) await new Promise((ok) => setTimeout(ok, 20));
      }
      out.liveMs.push(seen ? Date.now() - t0 : null);
    }
    out.liveText = await page.locator('#live').innerText();
    out.liveErrors = [...errors];
    out.livePwned = await page.evaluate(() => typeof window.__pwned !== 'undefined');
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
