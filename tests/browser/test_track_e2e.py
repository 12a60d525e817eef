#!/usr/bin/env python3
"""browser/track_e2e: a tracked mail read in headless Chromium against a running
`homing serve`. The message's links point at a web server of the test on
127.0.0.1; the mail's HTML part is served from it too. Checks: opening the mail
records exactly one open event, with Chromium's own User-Agent; clicking a
tracked link records one click event and the browser lands on exactly the
original page; following the document link downloads exactly the original
bytes (one document-open event). Nothing leaves 127.0.0.0/8 (track_e2e.mjs
aborts and lists anything else). Installs playwright-core with npm when
node_modules is missing; a missing node or chromium is a failure."""
import email
import email.policy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

SRC = os.environ.get('HOMING_SRC', os.getcwd())
HERE = os.path.join(SRC, 'tests', 'browser')
sys.path.insert(0, os.path.join(SRC, 'tests', 'integration'))
sys.path.insert(0, HERE)
from homing_test import Instance, Runner, check  # noqa: E402
from webserver import WebServer  # noqa: E402
from browser_env import need_tools  # noqa: E402


def html_part(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for p in msg.walk():
        if p.get_content_type() == 'text/html':
            return p.get_payload(decode=True), p.get_content_charset() or 'utf-8'
    raise AssertionError('no HTML part')


node = need_tools()
web = WebServer()
inst = Instance()
T = Runner()
try:
    tmp = inst.tmp
    doc = b'%PDF-1.7\n' + hashlib.shake_256(b'e2e').digest(700 * 1024) + b'\n%%EOF\n'
    open(os.path.join(tmp, 'order.pdf'), 'wb').write(doc)
    inst.run('doc', 'add', os.path.join(tmp, 'order.pdf'), '--name', 'Court order.pdf')
    dest1 = web.base + '/page/offer?a=1&b=%C3%A9'
    dest2 = web.base + '/page/terms'
    eml = ('From: alice@example.org\r\nTo: bob@example.net\r\nSubject: Your papers\r\n'
           'MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
           '<!doctype html><html><body><h1>Papers</h1>'
           f'<p><a id="offer" href="{dest1.replace("&", "&amp;")}">The offer</a></p>'
           f'<p><a href="{dest2}">Terms</a></p>'
           '<p><a href="{{doc:Court order.pdf}}">The court order</a></p>'
           f'<p><img src="{web.base}/img/logo.png" width="16" height="16" alt=""></p>'
           '</body></html>\r\n')
    open(os.path.join(tmp, 'in.eml'), 'w', newline='').write(eml)
    inst.run('track', os.path.join(tmp, 'in.eml'), '-o', os.path.join(tmp, 'out'))
    copy = open(os.path.join(tmp, 'out', sorted(os.listdir(os.path.join(tmp, 'out')))[0]),
                'rb').read()
    html, charset = html_part(copy)
    web.pages['/mail/bob.html'] = (f'text/html; charset={charset}', html)
    text = html.decode(charset)
    base = f'http://127.0.0.1:{inst.public_port}'
    clicks = re.findall(re.escape(base) + r'/c/[A-Za-z0-9_-]{48}', text)
    docs = re.findall(re.escape(base) + r'/d/[A-Za-z0-9_-]{48}', text)
    check(len(clicks) == 2 and len(docs) == 1, (clicks, docs))
    inst.serve()
    spec = {'mail': web.base + '/mail/bob.html', 'click': clicks[0], 'doc': docs[0],
            'downloadDir': tmp}
    open(os.path.join(tmp, 'spec.json'), 'w').write(json.dumps(spec))
    r = subprocess.run([node, os.path.join(HERE, 'track_e2e.mjs'), os.path.join(tmp, 'spec.json')],
                       capture_output=True, timeout=300, cwd=HERE)
    if r.returncode != 0:
        print(r.stderr.decode(errors='replace')[-3000:])
        raise SystemExit('FAIL: track_e2e.mjs')
    out = json.loads(r.stdout)
    ua = out['userAgent']

    def events(kind):
        with inst.db() as c:
            return c.execute('SELECT recipient, item, user_agent FROM events WHERE kind = ? '
                             'ORDER BY id', (kind,)).fetchall()

    def nothing_left_the_host():
        check(out['blocked'] == [], f"requests beyond loopback: {out['blocked']}")

    def one_open_with_chromium_user_agent():
        check(out['pixelLoaded'], 'the pixel did not load')
        check('Chrome' in ua, ua)
        check(events('open') == [(1, 0, ua)], (events('open'), ua))

    def click_lands_on_original():
        check(out['landed'] == dest1, f"landed on {out['landed']}, not {dest1}")
        check('landed at /page/offer?a=1&b=%C3%A9' in out['landedText'], out['landedText'])
        check(events('click') == [(1, 1, ua)], events('click'))

    def document_download_is_the_original():
        got = open(out['download'], 'rb').read()
        check(got == doc, f'download differs: {len(got)} bytes of {len(doc)}')
        check(out['suggestedFilename'] == 'Court order.pdf', out['suggestedFilename'])
        rows = events('document-open')
        check(len(rows) == 1 and rows[0][0] == 1 and rows[0][2] == ua, rows)

    T.run(nothing_left_the_host)
    T.run(one_open_with_chromium_user_agent)
    T.run(click_lands_on_original)
    T.run(document_download_is_the_original)
finally:
    log = inst.daemon_log()
    inst.close()
    web.stop()
if T.failed:
    print(log[-3000:])
T.finish()
