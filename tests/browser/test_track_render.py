#!/usr/bin/env python3
"""browser/track_render: every message of tests/data/track/ rendered in headless
Chromium before and after `homing track`. For each HTML part, the original and
the tracked copy with the tracking pixel element taken out must give
pixel-identical full-page screenshots (byte-equal PNGs; images are all answered
with one fixed PNG by track_render.mjs, nothing reaches the network). And
every rewritten link, as Chromium parsed it, followed through a running
`homing serve`, must redirect to exactly the original href of the same
element (white space at the ends and tabs and newlines removed, as a
browser's URL parser does), in the form homing stores a destination in
(homing_url_check: lower-case scheme, what a URL may not hold
percent-encoded); links left alone must be unchanged.

Redirects are checked by their Location without fetching the destinations
(they are example.* and .invalid hosts): the daemon's answer is the last step
homing controls. Installs playwright-core with npm when node_modules is
missing; a missing node or chromium is a failure."""
import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get('HOMING_SRC', os.getcwd())
HERE = os.path.join(SRC, 'tests', 'browser')
CORPUS = os.path.join(SRC, 'tests', 'data', 'track')
sys.path.insert(0, os.path.join(SRC, 'tests', 'integration'))
from homing_test import Instance, dest_form, http_get, path_of  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_env import need_tools  # noqa: E402

fail = []


def check(cond, what):
    if not cond:
        fail.append(what)
        print('FAIL:', what)


node = need_tools()


def html_parts(raw):
    """(decoded bytes, charset) of each text/html part, in order; the
    transfer encoding is undone, the charset is left for Chromium."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = []
    for p in msg.walk():
        if p.get_content_type() == 'text/html':
            out.append((p.get_payload(decode=True) or b'', p.get_content_charset() or 'utf-8'))
    return out


def browser_url(href):
    """What a browser's URL parser makes of an attribute value before it
    resolves it: C0 controls and spaces trimmed, tabs and newlines removed."""
    s = href.strip(''.join(chr(c) for c in range(0x21)))
    return s.replace('\t', '').replace('\n', '').replace('\r', '')


inst = Instance()
try:
    base = f'http://127.0.0.1:{inst.public_port}'
    pixel = re.compile(rb'<img src="' + re.escape(base.encode()) +
                       rb'/o/[A-Za-z0-9_-]{48}\.gif"[^>]*/>')
    inst.serve()
    with tempfile.TemporaryDirectory() as d:
        entries, pairs = [], []
        for m in sorted(os.listdir(CORPUS)):
            if not m.endswith('.eml'):
                continue
            src = os.path.join(CORPUS, m)
            out = os.path.join(d, m + '.tracked')
            r = inst.run('track', src, '--per-message', '-o', out, check_rc=False)
            check(r.returncode == 0, f'track {m}: {r.stderr.strip()}')
            if r.returncode != 0:
                continue
            orig = html_parts(open(src, 'rb').read())
            tracked = html_parts(open(out, 'rb').read())
            check(len(orig) == len(tracked), f'{m}: {len(orig)} vs {len(tracked)} HTML parts')
            for i, ((oh, ocs), (th, tcs)) in enumerate(zip(orig, tracked)):
                check(ocs == tcs, f'{m} part {i}: charset {ocs} became {tcs}')
                n_pixels = len(pixel.findall(th))
                check(n_pixels <= 1, f'{m} part {i}: {n_pixels} pixels')
                th = pixel.sub(b'', th)
                po = os.path.join(d, f'{m}.{i}.orig.html')
                pt = os.path.join(d, f'{m}.{i}.tracked.html')
                open(po, 'wb').write(oh)
                open(pt, 'wb').write(th)
                entries += [{'file': po, 'charset': ocs}, {'file': pt, 'charset': tcs}]
                pairs.append((m, i, po, pt))
        manifest = os.path.join(d, 'manifest.json')
        json.dump(entries, open(manifest, 'w'))
        shots = os.path.join(d, 'shots')
        os.mkdir(shots)
        r = subprocess.run([node, os.path.join(HERE, 'track_render.mjs'), manifest, shots],
                           capture_output=True, timeout=600, cwd=HERE)
        if r.returncode != 0:
            print(r.stderr.decode(errors='replace')[-3000:])
            print('FAIL: track_render.mjs')
            sys.exit(1)
        seen = json.loads(r.stdout)
        keep = os.environ.get('HOMING_KEEP_SHOTS')
        n_links = n_followed = 0
        for m, i, po, pt in pairs:
            o, t = seen[po], seen[pt]
            same = o['sha256'] == t['sha256'] and \
                open(o['png'], 'rb').read() == open(t['png'], 'rb').read()
            check(same, f'{m} part {i}: the tracked rendering differs from the original')
            if not same and keep:
                os.makedirs(keep, exist_ok=True)
                shutil.copy(o['png'], os.path.join(keep, f'{m}.{i}.orig.png'))
                shutil.copy(t['png'], os.path.join(keep, f'{m}.{i}.tracked.png'))
            check(len(o['hrefs']) == len(t['hrefs']),
                  f"{m} part {i}: {len(o['hrefs'])} links became {len(t['hrefs'])}")
            for oh, th in zip(o['hrefs'], t['hrefs']):
                n_links += 1
                if not th.startswith(base + '/c/'):
                    check(th == oh, f'{m} part {i}: untracked link {oh!r} changed to {th!r}')
                    continue
                st, h, _ = http_get(inst.public_port, path_of(th))
                n_followed += 1
                # the daemon sends the destination in the form homing stores it
                # (homing_url_check: printable ASCII, non-ASCII percent-encoded)
                loc = h.get('location', '')
                want = dest_form(browser_url(oh))
                check(st == 302 and loc == want,
                      f"{m} part {i}: {th} -> {st} {loc!r}, original {want!r}")
        print(f'{len(pairs)} HTML parts compared, {n_links} links, {n_followed} followed '
              'through the daemon')
        check(len(pairs) >= 8, f'only {len(pairs)} HTML parts in the corpus')
        check(n_followed >= 15, f'only {n_followed} tracked links followed (is the test blind?)')
finally:
    inst.close()
print(f'{len(fail)} failures')
sys.exit(1 if fail else 0)
