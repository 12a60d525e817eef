#!/usr/bin/env python3
"""browser/pixel_layout: the tracking pixel changes no layout. Every real
template of tests/data/templates (tuned and measured sets) is sent through
`homing track` twice, with track.pixel_placement = top (the default) and
bottom, and rendered in headless Chromium with the original: the document's
scroll size and the border box of every element but the pixel must be exactly
those of the original, and the pixel must be fetched.

The test is not blind: the pixel homing wrote before (a 1x1 display:block
image before </body>) is put into every template by hand and must change the
layout of most of them (it made every page one pixel taller). Installs
playwright-core with npm when node_modules is missing; a missing node or
chromium is a failure."""
import base64
import email
import email.policy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

SRC = os.environ.get('HOMING_SRC', os.getcwd())
HERE = os.path.join(SRC, 'tests', 'browser')
TEMPLATES = os.path.join(SRC, 'tests', 'data', 'templates')
sys.path.insert(0, os.path.join(SRC, 'tests', 'integration'))
from homing_test import Instance  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_env import need_tools  # noqa: E402

OLD_PIXEL = (b'<img src="http://127.0.0.1:9/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.gif"'
             b' width="1" height="1" alt="" border="0" style="display:block;border:0;margin:0;'
             b'padding:0;width:1px;height:1px" />')
PLACEMENTS = ('top', 'bottom')

fail = []


def check(cond, what):
    if not cond:
        fail.append(what)
        print('FAIL:', what)
    return cond


def message(html):
    return (b'From: a@example.org\nTo: b@example.org\nSubject: template\n'
            b'MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n'
            b'Content-Transfer-Encoding: base64\n\n' +
            base64.encodebytes(html))


def html_part(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for p in msg.walk():
        if p.get_content_type() == 'text/html':
            return p.get_payload(decode=True) or b''
    return None


node = need_tools()
templates = sorted(glob.glob(os.path.join(TEMPLATES, 'tuned', '*', '*.html')) +
                   glob.glob(os.path.join(TEMPLATES, 'measured', '*', '*.html')))
check(len(templates) >= 100, f'only {len(templates)} templates')
insts = {'top': Instance(), 'bottom': Instance()}
try:
    with open(insts['bottom'].conf, 'a') as f:
        f.write('\n[track]\npixel_placement = bottom\n')
    with tempfile.TemporaryDirectory() as d:
        entries, rows = [], []
        for n, src in enumerate(templates):
            html = open(src, 'rb').read()
            name = os.path.relpath(src, TEMPLATES)
            row = {'name': name, 'orig': os.path.join(d, f'{n}.orig.html'),
                   'old': os.path.join(d, f'{n}.old.html')}
            open(row['orig'], 'wb').write(html)
            i = html.lower().rfind(b'</body')
            i = len(html) if i < 0 else i
            open(row['old'], 'wb').write(html[:i] + OLD_PIXEL + html[i:])
            eml = os.path.join(d, f'{n}.eml')
            open(eml, 'wb').write(message(html))
            for where, inst in insts.items():
                out = os.path.join(d, f'{n}.{where}.eml')
                r = inst.run('track', eml, '--per-message', '-o', out, check_rc=False)
                if not check(r.returncode == 0, f'{name} ({where}): track: {r.stderr.strip()}'):
                    continue
                tracked = html_part(open(out, 'rb').read())
                px = list(re.finditer(rb'<img src="http://127\.0\.0\.1:\d+/o/[A-Za-z0-9_-]{48}'
                                      rb'\.gif"[^>]*>', tracked or b''))
                if check(len(px) == 1, f'{name} ({where}): {len(px)} pixels'):
                    # where the option says, for a template with <body> and </body>
                    at = (re.search(rb'<body[^>]*>$', tracked[:px[0].start()], re.I)
                          if where == 'top' else
                          re.match(rb'\s*</body', tracked[px[0].end():], re.I))
                    check(at is not None or not re.search(rb'<body[^>]*>.*</body', html,
                                                          re.I | re.S),
                          f'{name} ({where}): the pixel is not at the {where}')
                row[where] = os.path.join(d, f'{n}.{where}.html')
                open(row[where], 'wb').write(tracked or b'')
            rows.append(row)
            for k in ('orig', 'old') + PLACEMENTS:
                if k in row:
                    entries.append({'file': row[k], 'charset': 'utf-8'})
        manifest = os.path.join(d, 'manifest.json')
        json.dump(entries, open(manifest, 'w'))
        r = subprocess.run([node, os.path.join(HERE, 'pixel_layout.mjs'), manifest],
                           capture_output=True, timeout=900, cwd=HERE)
        if r.returncode != 0:
            print(r.stderr.decode(errors='replace')[-3000:])
            print('FAIL: pixel_layout.mjs')
            sys.exit(1)
        seen = json.loads(r.stdout)
        changed = {k: 0 for k in ('old',) + PLACEMENTS}
        for row in rows:
            o = seen[row['orig']]
            for k in ('old',) + PLACEMENTS:
                if k not in row:
                    continue
                t = seen[row[k]]
                diff = [(a, b) for a, b in zip(o['boxes'], t['boxes']) if a != b]
                same = o['scroll'] == t['scroll'] and o['boxes'] == t['boxes']
                changed[k] += not same
                if k == 'old':
                    continue
                check(same, f"{row['name']} ({k}): layout changed: scroll {o['scroll']} -> "
                      f"{t['scroll']}, {len(diff)} boxes, first {diff[:1]}")
                check(t['pixels'] == [True], f"{row['name']} ({k}): pixel fetched {t['pixels']}")
        n = len(rows)
        print(f'{n} templates: layout changed by the old pixel in {changed["old"]}, by the '
              f'pixel placed top in {changed["top"]}, bottom in {changed["bottom"]}')
        check(changed['old'] >= n * 3 // 4,
              f'the old pixel changed only {changed["old"]} of {n} layouts (is the test blind?)')
finally:
    for inst in insts.values():
        inst.close()
print(f'{len(fail)} failures')
sys.exit(1 if fail else 0)
