#!/usr/bin/env python3
"""homing scan / strip / rules against the corpus in tests/data/scan.

Goldens (byte for byte): golden/NAME.json (scan --json), golden/NAME.stripped.eml
(strip), golden/mbox.json, golden/summary.txt (text summary over the directory),
golden/rules.FORMAT. UPDATE_GOLDEN=1 rewrites them; review every change by hand.
Also: exit statuses, strip leaving everything but its changes byte for byte, a
stripped message scanning clean of loads, and the rules loaded by the real
tools (unbound-checkconf, dnsmasq --test, sievec, sieve-test on a tracked and an
untracked newsletter, rspamadm configtest); a missing tool fails.
"""
import json, os, shutil, subprocess, sys, tempfile

BIN = os.environ['HOMING_BIN']
SRC = os.environ['HOMING_SRC']
DATA = os.path.join(SRC, 'tests', 'data', 'scan')
GOLD = os.path.join(DATA, 'golden')
UPDATE = os.environ.get('UPDATE_GOLDEN') == '1'
failures = []
checks = 0


def run(args, stdin=None):
    return subprocess.run([BIN] + args, cwd=DATA, capture_output=True, input=stdin, timeout=60)


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def golden(name, data):
    path = os.path.join(GOLD, name)
    if UPDATE:
        os.makedirs(GOLD, exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
        return
    if not os.path.exists(path):
        check(False, f'golden {name} missing (run with UPDATE_GOLDEN=1 and review)')
        return
    with open(path, 'rb') as f:
        want = f.read()
    check(want == data, f'{name} differs from golden')


LOAD_KINDS = {'pixel', 'tracker-image', 'id-image', 'css-beacon', 'css-import', 'font-beacon',
              'link-load', 'frame', 'object', 'media', 'script', 'meta-refresh'}

msgs = sorted(f for f in os.listdir(os.path.join(DATA, 'msgs')) if f.endswith('.eml'))
check(len(msgs) >= 15, 'corpus has at least 15 messages')
for m in msgs:
    name = m[:-4]
    rel = 'msgs/' + m
    r = run(['scan', '--json', rel])
    clean = name.startswith('clean_')
    check(r.returncode == (0 if clean else 1),
          f'scan {m}: exit {r.returncode}, want {0 if clean else 1}: {r.stderr!r}')
    golden(name + '.json', r.stdout)
    doc = json.loads(r.stdout)
    check(doc['total'] == sum(x['count'] for x in doc['messages']), f'{m}: total adds up')
    if clean:
        check(doc['total'] == 0, f'{m}: a control message has no findings')

    s = run(['strip', rel])
    check(s.returncode == 0, f'strip {m}: exit {s.returncode} {s.stderr!r}')
    golden(name + '.stripped.eml', s.stdout)
    first, _, rest = s.stdout.partition(b'\n')
    check(first.startswith(b'X-Homing-Stripped: '), f'strip {m}: summary header first')
    with open(os.path.join(DATA, rel), 'rb') as f:
        orig = f.read()
    if clean and name != 'clean_images' and name != 'clean_spacer':
        check(rest == orig, f'strip {m}: a message with nothing to strip is unchanged')
    # the same message with CRLF line ends comes back with CRLF line ends, else the same
    c = run(['strip', '-'], stdin=orig.replace(b'\n', b'\r\n'))
    check(c.stdout == s.stdout.replace(b'\n', b'\r\n'), f'strip {m}: CRLF kept')
    # after strip nothing may load
    with tempfile.NamedTemporaryFile(suffix='.eml') as t:
        t.write(s.stdout)
        t.flush()
        r2 = run(['scan', '--json', t.name])
        left = [f for x in json.loads(r2.stdout)['messages'] for f in x['findings']
                if f['kind'] in LOAD_KINDS or f['kind'] == 'read-receipt']
        check(left == [], f'strip {m}: stripped message still loads: {left}')

# text/plain: each wrapped link (as scan reports it) becomes its destination, and
# nothing else changes: the decoded text, the charset and the transfer encoding
import email, email.policy
with open(os.path.join(DATA, 'msgs', 'text_wrapped.eml'), 'rb') as f:
    orig = f.read()
found = json.loads(run(['scan', '--json', 'msgs/text_wrapped.eml']).stdout)['messages'][0]['findings']
wrapped = [x for x in found if x['kind'] == 'wrapped-link' and x['element'] == 'text']
check(len(wrapped) == 4, f'text_wrapped: 4 wrapped links in text parts, got {len(wrapped)}')
s = run(['strip', 'msgs/text_wrapped.eml'])
check(b' 5 links unwrapped' in s.stdout.split(b'\n', 1)[0], 'text_wrapped: 4 text and 1 HTML link')


def text_parts(raw):
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    return [p for p in m.walk() if p.get_content_type() == 'text/plain']


before, after = text_parts(orig), text_parts(s.stdout)
check(len(before) == len(after) == 2, 'text_wrapped: both text parts kept')
for a, b in zip(before, after):
    for h in ('Content-Type', 'Content-Transfer-Encoding'):
        check(a[h] == b[h], f'text_wrapped: {h} kept: {a[h]!r} -> {b[h]!r}')
    cs = a.get_content_charset()
    want = a.get_payload(decode=True).decode(cs)
    for x in wrapped:
        want = want.replace(x['url'], x['destination'])
    got = b.get_payload(decode=True).decode(cs)
    check(got == want, f'text_wrapped: {cs} text is the original with destinations: {got!r}')
    check(not any(x['url'] in got for x in wrapped), 'text_wrapped: no wrapper left')

# an mbox, a directory with its summary table
r = run(['scan', '--json', 'mbox/two.mbox'])
check(r.returncode == 1, 'scan mbox exit 1')
golden('mbox.json', r.stdout)
check(len(json.loads(r.stdout)['messages']) == 2, 'mbox holds two messages')
r = run(['scan', 'msgs'])
check(r.returncode == 1, 'scan directory exit 1')
golden('summary.txt', r.stdout)

# a Maildir: cur/ and new/ are read, tmp/ is not
with tempfile.TemporaryDirectory() as md:
    for sub in ('cur', 'new', 'tmp'):
        os.mkdir(os.path.join(md, sub))
    shutil.copy(os.path.join(DATA, 'msgs', 'clean_plain.eml'), os.path.join(md, 'cur', '1:2,S'))
    shutil.copy(os.path.join(DATA, 'msgs', 'ses.eml'), os.path.join(md, 'new', '2'))
    shutil.copy(os.path.join(DATA, 'msgs', 'loads.eml'), os.path.join(md, 'tmp', '3'))
    r = run(['scan', '--json', md])
    doc = json.loads(r.stdout)
    check(r.returncode == 1 and len(doc['messages']) == 2, 'Maildir: two messages, tracking found')

# stdin, --recipient, --allow
with open(os.path.join(DATA, 'msgs', 'clean_plain.eml'), 'rb') as f:
    r = run(['scan'], stdin=f.read())
check(r.returncode == 0, 'scan stdin clean: exit 0')
r = run(['scan', '--json', '--recipient', 'nobody@example.invalid', 'msgs/ses.eml'])
kinds = [f['kind'] for f in json.loads(r.stdout)['messages'][0]['findings']]
check('recipient-leak' not in kinds, '--recipient replaces Delivered-To')
with tempfile.NamedTemporaryFile('w', suffix='.allow') as a:
    a.write('# allow the portal its own beacons\nportal.example portal.example\n')
    a.flush()
    r = run(['scan', '--json', '--allow', a.name, 'msgs/loads.eml'])
    check(r.returncode == 0 and json.loads(r.stdout)['total'] == 0, '--allow silences a sender')

# a raw HTML file (#15: it was "not a message"): scanned as one text/html part and
# stripped back to HTML; --html reads a file that does not start with '<' as HTML
r = run(['scan', '--json', 'html/newsletter.html'])
check(r.returncode == 1, f'scan raw HTML: exit {r.returncode} {r.stderr!r}')
golden('html.json', r.stdout)
kinds = sorted(f['kind'] for f in json.loads(r.stdout)['messages'][0]['findings'])
check(kinds == ['css-import', 'tracked-link', 'tracker-image'], f'raw HTML findings: {kinds}')
with open(os.path.join(DATA, 'html', 'newsletter.html'), 'rb') as f:
    r = run(['scan', '-'], stdin=b'\xef\xbb\xbf\n' + f.read())
check(r.returncode == 1, 'raw HTML on stdin after a BOM: tracking found')
r = run(['scan', 'html/saved.txt'])
check(r.returncode == 2 and b'not a message' in r.stderr, 'text that is no message nor HTML: exit 2')
r = run(['scan', '--json', '--html', 'html/saved.txt'])
check(r.returncode == 1 and json.loads(r.stdout)['total'] == 1, '--html reads it as HTML')
s = run(['strip', 'html/newsletter.html'])
check(s.returncode == 0, f'strip raw HTML: exit {s.returncode} {s.stderr!r}')
golden('html.stripped.html', s.stdout)
check(s.stdout.startswith(b'<!DOCTYPE html>') and b'X-Homing-Stripped' not in s.stdout,
      'strip writes HTML back, no header')
with tempfile.NamedTemporaryFile(suffix='.html') as t:
    t.write(s.stdout)
    t.flush()
    r2 = run(['scan', '--json', t.name])
    left = [f for x in json.loads(r2.stdout)['messages'] for f in x['findings']
            if f['kind'] in LOAD_KINDS]
    check(r2.returncode in (0, 1) and left == [], f'stripped HTML still loads: {left}')
s = run(['strip', '--html', 'html/saved.txt'])
check(s.returncode == 0 and s.stdout.startswith(b'Saved from') and b'about:blank' in s.stdout,
      f'strip --html: {s.stdout!r}')

# errors: exit 2 and one line on stderr
for args in (['scan', 'msgs/none.eml'], ['scan', '--bogus'], ['strip'],
             ['scan', '--trackers', 'msgs/clean_plain.eml', 'msgs/ses.eml'],
             ['rules'], ['rules', '--format', 'bind'], ['strip', 'msgs/none.eml']):
    r = run(args)
    check(r.returncode == 2, f'{args}: exit {r.returncode}, want 2')
    check(r.stderr.count(b'\n') == 1, f'{args}: one line on stderr: {r.stderr!r}')
r = run(['scan', '--trackers', 'msgs/clean_plain.eml', 'msgs/ses.eml'])
check(b'line 1:' in r.stderr, f'bad knowledge file names the line: {r.stderr!r}')

# rules: goldens, and each loaded by the tool that will use it
outs = {}
for fmt in ('rpz', 'hosts', 'dnsmasq', 'unbound', 'sieve', 'rspamd'):
    r = run(['rules', '--format', fmt])
    check(r.returncode == 0, f'rules {fmt}: exit 0')
    golden('rules.' + fmt, r.stdout)
    outs[fmt] = r.stdout
only = set()
with open(os.path.join(SRC, 'data', 'trackers.tsv')) as f:
    for line in f:
        if line.startswith('#') or not line.strip():
            continue
        fl = line.rstrip('\n').split('\t')
        if fl[4] == 'only':
            only.add(fl[1])
hosts = {l.split()[1] for l in outs['hosts'].decode().splitlines() if l.startswith('0.0.0.0 ')}
check(hosts == only, 'hosts list = the scope-only hosts, nothing else')
for mixed in ('list-manage.com', 'ct.sendgrid.net', 'mailtrack.io', 'google.com'):
    for fmt in ('rpz', 'hosts', 'dnsmasq', 'unbound'):
        check(mixed.encode() + b'.' not in outs[fmt].replace(b'"', b' ') + b' ' and
              (' ' + mixed + '\n').encode() not in outs[fmt] and
              ('/' + mixed + '/').encode() not in outs[fmt],
              f'{mixed} must not be sinkholed ({fmt})')


def tool(name):
    p = shutil.which(name) or (os.path.exists('/usr/sbin/' + name) and '/usr/sbin/' + name)
    check(bool(p), f'tool {name} is installed')
    return p


with tempfile.TemporaryDirectory() as d:
    for fmt, data in outs.items():
        with open(os.path.join(d, 'rules.' + fmt), 'wb') as f:
            f.write(data)
    uc = tool('unbound-checkconf')
    if uc:
        conf = os.path.join(d, 'unbound.conf')
        with open(conf, 'w') as f:
            f.write(f'server:\n    directory: "{d}"\n    chroot: ""\n    username: ""\n'
                    f'    pidfile: ""\n    module-config: "respip validator iterator"\n'
                    f'include: "{d}/rules.unbound"\n'
                    f'rpz:\n    name: "homing.rpz."\n    zonefile: "{d}/rules.rpz"\n')
        r = subprocess.run([uc, conf], capture_output=True, timeout=60)
        check(r.returncode == 0, f'unbound-checkconf: {r.stdout!r} {r.stderr!r}')
        # a broken line must be caught, or the check proves nothing
        with open(os.path.join(d, 'rules.unbound'), 'ab') as f:
            f.write(b'    local-zone: "x." not_a_type\n')
        r = subprocess.run([uc, conf], capture_output=True, timeout=60)
        check(r.returncode != 0, 'unbound-checkconf rejects a broken rules file')
        with open(os.path.join(d, 'rules.unbound'), 'wb') as f:
            f.write(outs['unbound'])
        with open(os.path.join(d, 'rules.rpz'), 'ab') as f:
            f.write(b'broken.example. CNAME\n')
        r = subprocess.run([uc, conf], capture_output=True, timeout=60)
        check(r.returncode != 0, 'unbound-checkconf reads the RPZ zone (rejects a broken one)')
    dm = tool('dnsmasq')
    if dm:
        r = subprocess.run([dm, '--test', '--conf-file=' + os.path.join(d, 'rules.dnsmasq')],
                           capture_output=True, timeout=60)
        check(r.returncode == 0, f'dnsmasq --test: {r.stderr!r}')
        with open(os.path.join(d, 'bad.dnsmasq'), 'wb') as f:
            f.write(outs['dnsmasq'] + b'address=/x.example/not-an-ip\n')
        r = subprocess.run([dm, '--test', '--conf-file=' + os.path.join(d, 'bad.dnsmasq')],
                           capture_output=True, timeout=60)
        check(r.returncode != 0, 'dnsmasq --test rejects a broken file')
    sc = tool('sievec')
    if sc:
        r = subprocess.run([sc, os.path.join(d, 'rules.sieve'), os.path.join(d, 'rules.svbin')],
                           capture_output=True, timeout=60)
        check(r.returncode == 0 and os.path.exists(os.path.join(d, 'rules.svbin')),
              f'sievec: {r.stdout!r} {r.stderr!r}')
        with open(os.path.join(d, 'bad.sieve'), 'wb') as f:
            f.write(outs['sieve'] + b'fileinto "x";\n')
        r = subprocess.run([sc, os.path.join(d, 'bad.sieve'), os.path.join(d, 'bad.svbin')],
                           capture_output=True, timeout=60)
        check(r.returncode != 0, 'sievec rejects a script using an extension not required')
    # Sieve for real (Pigeonhole's sieve-test): a newsletter tracked by homing
    # track (its pixel and links on homing's /o/ and /c/ paths, on a host no rule
    # names) gets the flag, the same newsletter untracked does not (#15: the
    # any-host path rules were left out of the script)
    st = tool('sieve-test')
    if st:
        import pwd
        os.chmod(d, 0o755)
        subprocess.run([BIN, 'init', os.path.join(d, 'var')], check=True, capture_output=True,
                       timeout=60)
        with open(os.path.join(SRC, 'tests', 'data', 'templates', 'measured', 'leemunroe',
                               'email-inlined.html'), 'rb') as f:
            html = f.read()
        plain = os.path.join(d, 'news.eml')
        with open(plain, 'wb') as f:
            f.write(b'From: News <news@sender.example>\nTo: ann@example.org\nSubject: News\n'
                    b'MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n'
                    b'Content-Transfer-Encoding: quoted-printable\n\n' +
                    __import__('quopri').encodestring(html))
        r = run(['-c', os.path.join(d, 'var', 'homing.conf'), 'track', '-o',
                 os.path.join(d, 'tracked'), plain])
        check(r.returncode == 0, f'homing track: {r.stderr!r}')
        tracked = [os.path.join(d, 'tracked', x) for x in sorted(os.listdir(os.path.join(d, 'tracked')))]
        drop = None
        if os.geteuid() == 0:  # Dovecot's tools refuse to run mail as root
            nobody = pwd.getpwnam('nobody')
            drop = lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid))
        for root, dirs, files in os.walk(d):
            for x in dirs + files:
                os.chmod(os.path.join(root, x), 0o755 if x in dirs else 0o644)

        def flagged(msg):
            p = subprocess.run([st, os.path.join(d, 'rules.sieve'), msg], capture_output=True,
                               preexec_fn=drop, cwd='/', timeout=60,
                               env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': d})
            check(p.returncode == 0, f'sieve-test {msg}: {p.stderr!r}')
            return b'add IMAP flags: $HomingTracked' in p.stdout
        check(len(tracked) == 1 and flagged(tracked[0]), 'Sieve tags a homing-tracked newsletter')
        check(not flagged(plain), 'Sieve leaves the untracked newsletter alone')
        # a tracked link at the end of a line of plain text, and one that only
        # looks like it (a longer path word)
        for body, want in ((b'Read it: https://news.example/c/AQABAS1HWt3S\nBye\n', True),
                           (b'See https://news.example/index.html\n', False)):
            t = os.path.join(d, 'text.eml')
            with open(t, 'wb') as f:
                f.write(b'From: a@example.org\nTo: b@example.org\nSubject: x\n\n' + body)
            os.chmod(t, 0o644)
            check(flagged(t) == want, f'Sieve on text {body!r}: flagged should be {want}')
    # rspamd: rspamadm configtest loads the multimap (fuzzy_check, which needs
    # the network, off), and catches a broken file; every map entry is a regular
    # expression that compiles and matches what it should
    ra = tool('rspamadm')
    if ra:
        conf = os.path.join(d, 'rspamd')
        for sub in ('local.d', 'override.d'):
            os.makedirs(os.path.join(conf, sub), exist_ok=True)
        with open(os.path.join(conf, 'override.d', 'fuzzy_check.conf'), 'w') as f:
            f.write('enabled = false;\n')
        mm = os.path.join(conf, 'local.d', 'multimap.conf')
        with open(mm, 'wb') as f:
            f.write(outs['rspamd'])
        cmd = [ra, '--var=LOCAL_CONFDIR=' + conf, 'configtest', '-s', '-c',
               '/etc/rspamd/rspamd.conf']
        r = subprocess.run(cmd, capture_output=True, timeout=120)
        check(r.returncode == 0 and b'syntax OK' in r.stdout,
              f'rspamadm configtest: {r.stdout!r} {r.stderr!r}')
        with open(mm, 'ab') as f:
            f.write(b'HOMING_BROKEN {\n  type = "url";\n  map = [ "x"\n')
        r = subprocess.run(cmd, capture_output=True, timeout=120)
        check(r.returncode != 0, 'rspamadm configtest rejects a broken multimap file')
    import re
    rules = {}
    for m in re.finditer(rb"(HOMING_TRACKER_\w+) \{(.*?)\n\}", outs['rspamd'], re.S):
        rules[m.group(1).decode()] = [re.compile(x.decode()[1:-2], re.I) for x in
                                      re.findall(rb"^    '(/.*/i)',?$", m.group(2), re.M)]
    check(sorted(rules) == ['HOMING_TRACKER_HOST', 'HOMING_TRACKER_URL'] and
          all(rules.values()), f'rspamd: two rules with maps: {list(rules)}')
    hit = lambda sym, s: any(x.search(s) for x in rules.get(sym, []))
    for host in ('u123.ct.sendgrid.net', 'ct.sendgrid.net', 'pi.pardot.com'):
        check(hit('HOMING_TRACKER_HOST', host), f'rspamd host rule matches {host}')
    for host in ('sendgrid.net', 'list-manage.com', 'example.com', 'notct.sendgrid.net'):
        check(not hit('HOMING_TRACKER_HOST', host), f'rspamd host rule leaves {host}')
    for url in ('https://us5.list-manage.com/track/open.php?u=1&id=2',
                'http://127.0.0.1:8080/o/AQABASmB6KB2wBw8AAAAAQ.gif',
                'https://news.example.org/lists/ut.php?u=1', 'https://t.example/wf/open?upn=x',
                'https://mandrillapp.com/track/open.php?u=1'):
        check(hit('HOMING_TRACKER_URL', url), f'rspamd URL rule matches {url}')
    for url in ('https://mandrillapp.com.evil.example/track/x',
                'https://example.com/about/o', 'https://example.com/docs?x=/o/1'):
        check(not hit('HOMING_TRACKER_URL', url), f'rspamd URL rule leaves {url}')
    # the RPZ zone parses as a zone file (unbound loads it when the server starts)
    ucz = shutil.which('named-checkzone')
    if ucz:
        r = subprocess.run([ucz, 'homing.rpz', os.path.join(d, 'rules.rpz')], capture_output=True)
        check(r.returncode == 0, f'named-checkzone rpz: {r.stdout!r}')

print(f'{checks} checks, {len(failures)} failed')
sys.exit(1 if failures else 0)
