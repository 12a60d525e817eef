// track_render.mjs MANIFEST OUTDIR: renders each HTML file listed in MANIFEST
// (JSON array of {"file", "charset"}) in headless Chromium as the document
// http://homing-test.invalid/doc, takes a full-page screenshot to
// OUTDIR/<index>.png, and prints as JSON, per file, the screenshot's SHA-256
// and the href of every <a> and <area> in document order (as the browser parsed
// them).
//
// Images: every image request, whatever its URL, is answered with the same
// fixed 16x16 PNG, so remote images neither make the comparison flaky nor leave
// the host, and an original and its tracked copy load the same pixels in the
// same places. Every other request (CSS, fonts, frames) is aborted.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (const b of buf) {
    c = (crc ^ b) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function solidPng(w, h, rgb) {
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3).map((_, i) => rgb[i % 3])]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(Array(h).fill(row)))),
    chunk('IEND', Buffer.alloc(0))]);
}

const DOC = 'http://homing-test.invalid/doc';
const IMAGE = solidPng(16, 16, [200, 60, 40]);
const entries = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const outdir = process.argv[3];
const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 800, height: 600 },
  deviceScaleFactor: 1,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--font-render-hinting=none', '--disable-lcd-text'],
});
const out = {};
try {
  for (const [i, e] of entries.entries()) {
    const body = readFileSync(e.file);
    const page = await context.newPage();
    await page.route('**/*', async (route) => {
      const req = route.request();
      if (req.url() === DOC) {
        await route.fulfill({ status: 200, contentType: `text/html; charset=${e.charset}`, body });
      } else if (req.resourceType() === 'image') {
        await route.fulfill({ status: 200, contentType: 'image/png', body: IMAGE });
      } else {
        await route.abort();
      }
    });
    await page.goto(DOC, { waitUntil: 'load', timeout: 20000 });
    await page.waitForTimeout(100);
    const png = await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide' });
    const shot = join(outdir, `${i}.png`);
    writeFileSync(shot, png);
    const hrefs = await page.evaluate(() =>
      [...document.querySelectorAll('a[href], area[href]')].map((a) => a.getAttribute('href')));
    out[e.file] = { sha256: createHash('sha256').update(png).digest('hex'), png: shot, hrefs };
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
