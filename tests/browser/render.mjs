// render.mjs MANIFEST: renders each HTML file listed in MANIFEST (JSON array of
// paths) in headless Chromium as the document http://homing-test.invalid/doc
// and prints, as JSON, every request other than the document itself. Every
// request is intercepted (page.route('**/*')): the document is fulfilled from
// the file, everything else is recorded and aborted, so nothing leaves the host.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DOC = 'http://homing-test.invalid/doc';
const files = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
  for (const file of files) {
    const html = readFileSync(file);
    const seen = [];
    const page = await context.newPage();
    page.on('request', (req) => {
      if (req.url() !== DOC) seen.push(req.url());
    });
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === DOC) {
        await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      } else {
        await route.abort();
      }
    });
    await page.goto(DOC, { waitUntil: 'load', timeout: 20000 });
    await page.waitForTimeout(300); // late CSS and lazy loads
    out[file] = [...new Set(seen)];
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
