// pixel_layout.mjs MANIFEST: renders each HTML file listed in MANIFEST (JSON
// array of {"file", "charset"}) in headless Chromium as the document
// http://homing-test.invalid/doc, at 800x600, and prints as JSON, per file, its
// layout: the document's scroll width and height, and the tag and border box
// (x, y, width, height) of every element in document order except tracking
// pixels (images whose src has "/o/"), and for each tracking pixel whether it
// was fetched and decoded.
//
// Images: a tracking pixel's URL is answered with a 1x1 GIF, as homing serve
// answers it; every other image with one fixed 16x16 PNG, so remote images
// neither make the layout flaky nor leave the host. Every other request (CSS,
// fonts, frames) is aborted. One page is reused: a page per document costs
// seconds on a loaded machine.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DOC = 'http://homing-test.invalid/doc';
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAF0lEQVR4nGO4ceMGKZ' +
  'hhVMOohlENQ0MDAKFlwDHLIy6kAAAAAElFTkSuQmCC', 'base64');
const entries = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 800, height: 600 },
  deviceScaleFactor: 1,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--font-render-hinting=none'],
});
const out = {};
try {
  const page = await context.newPage();
  let current = null;
  await page.route('**/*', async (route) => {
    const req = route.request();
    if (req.url() === DOC) {
      await route.fulfill({ status: 200, contentType: `text/html; charset=${current.charset}`,
        body: readFileSync(current.file) });
    } else if (req.resourceType() === 'image') {
      const pixel = new URL(req.url()).pathname.startsWith('/o/');
      await route.fulfill({ status: 200, contentType: pixel ? 'image/gif' : 'image/png',
        body: pixel ? GIF : PNG });
    } else {
      await route.abort();
    }
  });
  for (const e of entries) {
    current = e;
    await page.goto(DOC, { waitUntil: 'load', timeout: 20000 });
    out[e.file] = await page.evaluate(() => {
      const isPixel = (x) => x.tagName === 'IMG' && /\/o\/[^/]*$/.test(x.getAttribute('src') || '');
      const de = document.documentElement;
      const boxes = [...document.querySelectorAll('*')].filter((x) => !isPixel(x)).map((x) => {
        const r = x.getBoundingClientRect();
        return `${x.tagName} ${r.x} ${r.y} ${r.width} ${r.height}`;
      });
      const pixels = [...document.images].filter(isPixel).map((x) => x.complete && x.naturalWidth === 1);
      return { scroll: [de.scrollWidth, de.scrollHeight], boxes, pixels };
    });
  }
  await page.close();
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + '\n');
