// open_mail.mjs SPEC: opens one tracked HTML mail in headless Chromium the way
// a reader's mail client or webmail would, and prints what it fetched as JSON.
// Used by test_forward.py (Bob opens, Bob forwards to Chris, Chris opens).
//
// SPEC is a JSON file: {"html": path, "doc": URL, "origin": URL, "userAgent": UA,
// "locale": "de-DE", "acceptLanguage": "de-DE,de;q=0.9"}.
// The document is served from the file as `doc` (a loopback URL on `origin`, so
// the page is a loopback context and may load loopback images). Every request
// is intercepted (context.route('**/*')): only tracking paths (/o/, /c/) on
// `origin` (the test's proxy in front of the daemon) go to the network; every
// other request, in particular anything not on 127.0.0.0/8, is aborted and
// listed, so nothing leaves the host. (Chromium's favicon request for the
// page's origin bypasses page routes: it reaches the test's proxy, which answers
// it without the daemon.) A fresh profile per run: each reader is a different
// machine.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const html = readFileSync(spec.html);
const origin = new URL(spec.origin).origin;
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const out = { fetched: [], aborted: [], failed: [] };
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         // Belt and braces behind the route below: no host name resolves (the
         // mail's own URLs here are loopback IP literals).
         '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  userAgent: spec.userAgent,
  locale: spec.locale,
  extraHTTPHeaders: { 'Accept-Language': spec.acceptLanguage },
});
try {
  await context.route('**/*', async (route) => {
    const req = route.request();
    const url = req.url();
    if (url === spec.doc) {
      await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      return;
    }
    let u = null;
    try { u = new URL(url); } catch { /* not a URL: aborted below */ }
    if (u && u.origin === origin && /^\/[oc]\//.test(u.pathname)) {
      await route.continue();
      return;
    }
    out.aborted.push(url);
    await route.abort();
  });
  const page = await context.newPage();
  page.on('requestfinished', async (req) => {
    if (req.url() === spec.doc) return;
    const resp = await req.response();
    out.fetched.push({ url: req.url(), method: req.method(), status: resp ? resp.status() : 0,
                       contentType: resp ? (resp.headers()['content-type'] || '') : '' });
  });
  page.on('requestfailed', (req) => {
    if (!out.aborted.includes(req.url())) out.failed.push(req.url());
  });
  await page.goto(spec.doc, { waitUntil: 'load', timeout: 20000 });
  await page.waitForTimeout(500); // late CSS and lazy loads
  // What a person sees: the pixel is an image that loaded (a 1x1 GIF).
  out.images = await page.evaluate(() => Array.from(document.images).map((i) => ({
    src: i.currentSrc || i.src, complete: i.complete, width: i.naturalWidth,
    height: i.naturalHeight })));
  out.userAgent = await page.evaluate(() => navigator.userAgent);
  await page.close();
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
