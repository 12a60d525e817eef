#!/usr/bin/env python3
"""browser/strip: every message of tests/data/scan/msgs, before and after
`homing strip`, rendered in headless Chromium (render.mjs). A stripped message
must make no request besides its own document; the tracked originals must make
some (so the check can fail). Installs playwright-core with npm when
node_modules is missing; a missing chromium or node is a failure."""
import email, email.policy, json, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_env import need_tools  # noqa: E402

BIN = os.environ['HOMING_BIN']
SRC = os.environ['HOMING_SRC']
HERE = os.path.join(SRC, 'tests', 'browser')
MSGS = os.path.join(SRC, 'tests', 'data', 'scan', 'msgs')
fail = []


def check(cond, what):
    if not cond:
        fail.append(what)
        print('FAIL:', what)


node = need_tools()


def html_parts(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = []
    for p in msg.walk():
        if p.get_content_type() == 'text/html':
            data = p.get_payload(decode=True) or b''
            cs = p.get_content_charset() or 'utf-8'
            out.append(data.decode(cs, 'replace').encode('utf-8'))
    return out


with tempfile.TemporaryDirectory() as d:
    files, kinds = [], {}
    for m in sorted(os.listdir(MSGS)):
        if not m.endswith('.eml'):
            continue
        with open(os.path.join(MSGS, m), 'rb') as f:
            orig = f.read()
        s = subprocess.run([BIN, 'strip', os.path.join(MSGS, m)], capture_output=True, timeout=60)
        check(s.returncode == 0, f'strip {m}')
        for tag, raw in (('orig', orig), ('stripped', s.stdout)):
            for i, h in enumerate(html_parts(raw)):
                p = os.path.join(d, f'{m}.{tag}.{i}.html')
                with open(p, 'wb') as f:
                    f.write(h)
                files.append(p)
                kinds[p] = (m, tag)
    manifest = os.path.join(d, 'manifest.json')
    with open(manifest, 'w') as f:
        json.dump(files, f)
    r = subprocess.run([node, os.path.join(HERE, 'render.mjs'), manifest], capture_output=True,
                       timeout=600, cwd=HERE)
    if r.returncode != 0:
        print(r.stderr.decode(errors='replace'))
        print('FAIL: render.mjs')
        sys.exit(1)
    seen = json.loads(r.stdout)
    tracked_orig_loads = 0
    for p, reqs in seen.items():
        m, tag = kinds[p]
        # about:blank (what strip puts in place), data: and cid: never leave the host
        net = [u for u in reqs if not u.startswith(('data:', 'cid:', 'about:'))]
        if tag == 'stripped':
            check(net == [], f'{m} stripped still requests {net}')
        else:
            print(f'{m}: original makes {len(net)} request(s)')
            if not m.startswith('clean_') and m != 'wrappers.eml':
                check(len(net) > 0, f'{m}: the original must make requests (or the test is blind)')
            tracked_orig_loads += len(net)
    check(tracked_orig_loads >= 20, f'originals made {tracked_orig_loads} requests in all')
    check(len(seen) == len(files), 'every document rendered')

print(f'{len(files)} documents rendered, {len(fail)} failures')
sys.exit(1 if fail else 0)
