// track_e2e.mjs SPEC: a reader opens one tracked mail in headless Chromium,
// clicks a tracked link, and follows a document link. Prints JSON:
// {userAgent, landed, landedText, download: path or null, blocked: [...]}.
//
// SPEC is a JSON file: {"mail": URL of the tracked HTML on the test's web
// server, "click": the click URL to follow, "doc": the document URL,
// "downloadDir": where the download is saved}. Requests to 127.0.0.0/8 (the
// test's web server and the daemon) go to the network; anything else is
// aborted and listed, so nothing leaves the host. A fresh profile per run.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const out = { blocked: [] };
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  await context.route('**/*', async (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'http:' && u.hostname === '127.0.0.1') {
      await route.continue();
    } else {
      out.blocked.push(u.href);
      await route.abort();
    }
  });
  const page = await context.newPage();
  await page.goto(spec.mail, { waitUntil: 'load', timeout: 20000 });
  out.userAgent = await page.evaluate(() => navigator.userAgent);
  // the pixel has loaded with the page ('load' waits for images)
  out.pixelLoaded = await page.evaluate(() =>
    [...document.images].some((i) => i.src.includes('/o/') && i.complete && i.naturalWidth === 1));

  // the document link first: a download (Content-Disposition: attachment)
  // leaves the mail on screen, so the click below does not reload it (a
  // reload would fetch the pixel again)
  const doc = page.locator(`a[href="${spec.doc}"]`).first();
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }),
                                        doc.click()]);
  const target = join(spec.downloadDir, 'download.bin');
  await download.saveAs(target);
  out.download = target;
  out.suggestedFilename = download.suggestedFilename();
  // click the tracked link as a reader would: through the daemon's redirect
  const link = page.locator(`a[href="${spec.click}"]`).first();
  await Promise.all([page.waitForURL((u) => u.href !== spec.mail && !u.href.includes('/c/'),
                                     { timeout: 20000 }),
                     link.click()]);
  await page.waitForLoadState('load');
  out.landed = page.url();
  out.landedText = await page.evaluate(() => document.body.innerText);

  await page.close();
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
