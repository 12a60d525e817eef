#!/usr/bin/env python3
"""Precision and recall of `homing scan` on real newsletter templates.

    python3 tests/data/templates/measure.py [--check] [HOMING_BIN]

Reads the templates under tuned/ and measured/ (README.md: sources, licences,
the split). For each split:

- untracked: every template scanned as it is (a raw .html file). Every finding
  is a false positive unless expected.tsv names it (a template that ships a
  tracking pixel of its own);
- tracked copies: each template made into a message to two recipients and run
  through `homing track` (its own pixel and click links), and again with the
  trackers of known vendors and of recipient-naming images put in (one set per
  template, in turn: Mailchimp's open pixel and click, SendGrid's /wf/open and
  click, HubSpot's, an image whose id stands next to the base64url of the
  address in a link, images with the address hex-encoded, as a SHA-256 or MD5,
  and an image whose id only differs between the two copies). Both copies are
  scanned together with --copies. A tracker is found when a finding names its
  URL; a finding that names no tracker put in is a false positive.

Prints one line per split and set; with --check exits 1 unless the untracked
templates have no false positive and every tracker put in is found. With
--as-message the untracked templates are scanned as messages and copies
without --copies (for a homing that reads no raw HTML: the figures before the
rules changed).
"""
import base64, hashlib, json, os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
args = [a for a in sys.argv[1:] if not a.startswith('--')]
CHECK = '--check' in sys.argv
AS_MESSAGE = '--as-message' in sys.argv
BIN = args[0] if args else os.environ.get('HOMING_BIN', os.path.join(SRC, 'build', 'src', 'homing'))
TRACKERS = os.path.join(SRC, 'data', 'trackers.tsv')
RCPTS = ('ann.lee@example.org', 'Bob.Stone@example.net')
BASE = 'http://127.0.0.1:8080'  # public.base_url as `homing init` writes it


def run(*a, stdin=None, ok=(0, 1)):
    p = subprocess.run([BIN, *a], capture_output=True, input=stdin, timeout=120)
    if p.returncode not in ok:
        sys.exit(f'homing {" ".join(a)}: exit {p.returncode}: {p.stderr.decode(errors="replace")}')
    return p


def scan(paths, *extra):
    p = run('scan', '--json', '--trackers', TRACKERS, *extra, *paths)
    return json.loads(p.stdout)['messages']


def templates(split):
    out = []
    for src in sorted(os.listdir(os.path.join(HERE, split))):
        d = os.path.join(HERE, split, src)
        out += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith('.html')]
    return out


def expected():
    exp = set()
    with open(os.path.join(HERE, 'expected.tsv')) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                path, kind, url = line.rstrip('\n').split('\t')[:3]
                exp.add((path, url))
    return exp


def b64u(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip('=')


def vendor_set(k, rcpt, copy):
    """(HTML to put in, [tracker URLs]) for set k and one recipient."""
    a = rcpt.lower()
    # per-recipient ids as an ESP makes them: derived from the address and the copy
    uid = hashlib.sha1(f'{k}:{a}'.encode()).hexdigest()
    ulid = base64.b32encode(bytes.fromhex(uid[:32])).decode().rstrip('=')[:26]
    sets = [
        ('https://sender.us5.list-manage.com/track/open.php?u=8d3c1a2b4e5f60718293a4b5c'
         f'&id=5f1e2d3c4b&e={uid[:10]}', 'img1', f'https://sender.us5.list-manage.com/track/click'
         f'?u=8d3c1a2b4e5f60718293a4b5c&id=7a6b5c4d3e&e={uid[:10]}'),
        (f'https://u1234567.ct.sendgrid.net/wf/open?upn={uid}{ulid}', 'img1',
         f'https://u1234567.ct.sendgrid.net/ls/click?upn={ulid}-2B{uid}'),
        (f'https://t.hubspotemail.net/e1t/o/5/{ulid}/{uid}', 'img1',
         f'https://d2v8tf04.na1.hubspotlinks.com/Ctc/5/{ulid}/{uid}'),
        (f'https://mail.sender.example/open/{ulid}', 'img',
         f'https://mail.sender.example/l/{ulid}_{b64u(a)}'),
        (f'https://img.sender.example/v/{a.encode().hex()}/hero.png', 'img', None),
        (f'https://img.sender.example/banner.png?h={hashlib.sha256(a.encode()).hexdigest()}',
         'img', None),
        (f'https://img.sender.example/b/{hashlib.md5(a.encode()).hexdigest()}.gif', 'img', None),
        (f'https://img.sender.example/p/{uid}/header.png', 'img', None),
    ]
    img, how, link = sets[k % len(sets)]
    size = ' width="1" height="1"' if how == 'img1' else ''
    html = f'<img src="{img}"{size} alt="">'
    urls = [img]
    if link:
        html = f'<a href="{link}">View in your browser</a>' + html
        urls.append(link)
    return html, urls


def message(html, rcpts):
    head = ('From: News <news@sender.example>\nTo: ' + ', '.join(rcpts) +
            '\nSubject: Our newsletter\nDate: Mon, 07 Dec 2026 09:00:00 +0000\n'
            'Message-ID: <n1@sender.example>\nMIME-Version: 1.0\n'
            'Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n')
    return head.encode() + html


def put_in(html, extra):
    m = re.search(rb'</body\s*>', html, re.I)
    at = m.start() if m else len(html)
    return html[:at] + extra.encode() + html[at:]


def measure(split, exp, tmp, conf):
    files = templates(split)
    rel = lambda p: os.path.relpath(p, HERE)
    res = {'templates': len(files)}
    # untracked
    fp = tp = flagged = 0
    fps = []
    paths = files
    if AS_MESSAGE:
        paths = []
        for k, path in enumerate(files):
            with open(path, 'rb') as f:
                html = f.read()
            paths.append(os.path.join(tmp, f'untracked-{split}-{k}.eml'))
            with open(paths[-1], 'wb') as f:
                f.write(message(html, RCPTS[:1]))
    for m, path in zip(scan(paths), files):
        hits = [f for f in m['findings'] if (rel(path), f['url']) not in exp]
        tp += len(m['findings']) - len(hits)
        fp += len(hits)
        flagged += bool(hits)
        fps += [(rel(path), f['kind'], f['url']) for f in hits]
    res['untracked'] = {'false_positives': fp, 'flagged': flagged, 'expected_found': tp,
                        'examples': fps[:5]}
    # tracked copies: homing track, then a vendor's trackers
    for kind in ('homing', 'vendor'):
        put = found = fp = 0
        misses, fps = [], []
        for k, path in enumerate(files):
            with open(path, 'rb') as f:
                html = f.read()
            copies, want = [], []
            if kind == 'homing':
                eml = os.path.join(tmp, 'in.eml')
                with open(eml, 'wb') as f:
                    f.write(message(html, RCPTS))
                out = os.path.join(tmp, f'{split}-{k}')
                run('-c', conf, 'track', '-o', out, eml, ok=(0,))
                for c in sorted(os.listdir(out)):
                    with open(os.path.join(out, c), 'rb') as f:
                        body = f.read().decode('utf-8', 'replace')
                    urls = set(re.findall(re.escape(BASE) + r'/[oc]/[A-Za-z0-9_.~-]+', body))
                    copies.append(os.path.join(out, c))
                    want.append(urls)
            else:
                for i, r in enumerate(RCPTS):
                    extra, urls = vendor_set(k, r, i)
                    p = os.path.join(tmp, f'{split}-{k}-{i}.eml')
                    with open(p, 'wb') as f:
                        f.write(message(put_in(html, extra), [r]))
                    copies.append(p)
                    want.append(set(urls))
            # (--as-message measures a homing from before --copies, which has none)
            opts = () if AS_MESSAGE else ('--copies',)
            for m, urls, c in zip(scan(copies, *opts), want, copies):
                got = {f['url'] for f in m['findings']}
                put += len(urls)
                found += len(urls & got)
                misses += [(rel(path), u) for u in urls - got]
                extra = [f for f in m['findings']
                         if f['url'] not in urls and (rel(path), f['url']) not in exp]
                fp += len(extra)
                fps += [(rel(path), f['kind'], f['url']) for f in extra]
        res[kind] = {'trackers': put, 'found': found, 'false_positives': fp,
                     'misses': misses[:5], 'fp_examples': fps[:5]}
    return res


def main():
    exp = expected()
    tmp = tempfile.mkdtemp(prefix='homing-templates-')
    bad = []
    try:
        var = os.path.join(tmp, 'var')
        run('init', var, ok=(0,))
        conf = os.path.join(var, 'homing.conf')
        print(f'{"split":9} {"templates":>9} {"untracked FP":>12} {"flagged":>7} '
              f'{"tracked":>8} {"found":>6} {"recall":>6} {"FP":>3} {"precision":>9}')
        for split in ('tuned', 'measured'):
            r = measure(split, exp, tmp, conf)
            u = r['untracked']
            t = {x: r['homing'][x] + r['vendor'][x] for x in ('trackers', 'found',
                                                              'false_positives')}
            allfp = u['false_positives'] + t['false_positives']
            tp = t['found'] + u['expected_found']
            prec = tp / (tp + allfp) if tp + allfp else 1.0
            rec = t['found'] / t['trackers'] if t['trackers'] else 1.0
            print(f'{split:9} {r["templates"]:>9} {u["false_positives"]:>12} {u["flagged"]:>7} '
                  f'{t["trackers"]:>8} {t["found"]:>6} {rec:>6.3f} {t["false_positives"]:>3} '
                  f'{prec:>9.3f}')
            for kind in ('homing', 'vendor'):
                x = r[kind]
                print(f'  {kind:7} copies: {x["found"]}/{x["trackers"]} trackers found, '
                      f'{x["false_positives"]} other findings')
            for what, ex in (('untracked FP', u['examples']), ('missed', r['homing']['misses'] +
                             r['vendor']['misses']), ('tracked FP', r['homing']['fp_examples'] +
                                                     r['vendor']['fp_examples'])):
                for e in ex:
                    print(f'  {what}: {e}')
            if u['false_positives'] or t['found'] != t['trackers'] or allfp:
                bad.append(split)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if CHECK and bad:
        print('FAIL: false positives or missed trackers in', ', '.join(bad))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
