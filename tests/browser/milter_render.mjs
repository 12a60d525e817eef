// milter_render.mjs MANIFEST PORT: renders each HTML file listed in MANIFEST
// (JSON array of paths) in headless Chromium as the document
// http://doc-N.homing.test/ with every host name mapped to 127.0.0.1:PORT
// (--host-resolver-rules), where tests/integration/test_milter.py keeps a
// server that logs every connection. Only the document itself is answered
// here (page.route on its URL); every other load goes to the network, that is
// to the logging server, so a load that strip missed is seen there.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const files = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const port = process.argv[3];
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-domain-reliability', '--no-pings', '--disable-client-side-phishing-detection',
         '--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter',
         `--host-resolver-rules=MAP * 127.0.0.1:${port}`],
});
const seen = {};
try {
  let n = 0;
  for (const file of files) {
    const doc = `http://doc-${n++}.homing.test/`;
    const html = readFileSync(file);
    const page = await context.newPage();
    const reqs = [];
    page.on('request', (req) => {
      if (req.url() !== doc) reqs.push(req.url());
    });
    await page.route(doc, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
    await page.goto(doc, { waitUntil: 'load', timeout: 20000 });
    await page.waitForTimeout(300); // late CSS and lazy loads
    seen[file] = reqs;
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(seen, null, 1) + '\n');
