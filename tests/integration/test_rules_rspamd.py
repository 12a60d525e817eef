#!/usr/bin/env python3
"""`homing rules --format rspamd` loaded by a real rspamd (Debian 12's 3.4) on
127.0.0.1: a newsletter tracked by `homing track` gets HOMING_TRACKER_URL (its
click links on homing's /c/ path), a SendGrid click link gets
HOMING_TRACKER_HOST and HOMING_TRACKER_URL, and the same newsletter untracked
gets neither symbol. rspamd's own network modules are given no server (DNS at
127.0.0.1:1, fuzzy_check off); it starts in about 45 s (it compiles its TLD
list and hyperscan database), polled with a bounded deadline."""
import os, shutil, signal, socket, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import free_port  # noqa: E402

BIN = os.environ['HOMING_BIN']
SRC = os.environ['HOMING_SRC']
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def tool(name):
    p = shutil.which(name) or (os.path.exists('/usr/sbin/' + name) and '/usr/sbin/' + name)
    check(bool(p), f'tool {name} is installed')
    return p


def listening(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


def main():
    rspamd, rspamc = tool('rspamd'), tool('rspamc')
    if not (rspamd and rspamc):
        return 1
    d = tempfile.mkdtemp(prefix='homing-rspamd-')
    proc = None
    try:
        for sub in ('local.d', 'override.d', 'run', 'db'):
            os.makedirs(os.path.join(d, sub))
        r = subprocess.run([BIN, 'rules', '--format', 'rspamd', '-o',
                            os.path.join(d, 'local.d', 'multimap.conf')], capture_output=True,
                           timeout=60)
        check(r.returncode == 0, f'rules --format rspamd: {r.stderr!r}')
        normal, controller, proxy = free_port(), free_port(), free_port()
        over = {
            'fuzzy_check.conf': 'enabled = false;\n',
            'worker-normal.inc': f'bind_socket = "127.0.0.1:{normal}";\ncount = 1;\n',
            'worker-controller.inc': f'bind_socket = "127.0.0.1:{controller}";\n',
            'worker-proxy.inc': f'bind_socket = "127.0.0.1:{proxy}";\ncount = 0;\n',
            'logging.inc': f'type = "file";\nfilename = "{d}/rspamd.log";\nlevel = "error";\n',
            'options.inc': f'pidfile = "{d}/run/rspamd.pid";\n'
                           'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }\n',
        }
        for name, text in over.items():
            with open(os.path.join(d, 'override.d', name), 'w') as f:
                f.write(text)
        # the messages: a newsletter, tracked by homing and not; a SendGrid link
        subprocess.run([BIN, 'init', os.path.join(d, 'var')], check=True, capture_output=True,
                       timeout=60)
        with open(os.path.join(SRC, 'tests', 'data', 'templates', 'measured', 'leemunroe',
                               'email-inlined.html'), 'rb') as f:
            html = f.read()
        plain = os.path.join(d, 'news.eml')
        with open(plain, 'wb') as f:
            f.write(b'From: News <news@sender.example>\nTo: ann@example.org\nSubject: News\n'
                    b'MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n' + html)
        r = subprocess.run([BIN, '-c', os.path.join(d, 'var', 'homing.conf'), 'track', '-o',
                            os.path.join(d, 'tracked'), plain], capture_output=True, timeout=60)
        check(r.returncode == 0, f'homing track: {r.stderr!r}')
        tracked = os.path.join(d, 'tracked', sorted(os.listdir(os.path.join(d, 'tracked')))[0])
        sg = os.path.join(d, 'sg.eml')
        with open(sg, 'wb') as f:
            f.write(b'From: a@example.org\nTo: b@example.org\nSubject: x\n\n'
                    b'Read it: https://u123.ct.sendgrid.net/ls/click?upn=abc\n')

        cmd = [rspamd, '-f', '-c', '/etc/rspamd/rspamd.conf', '--var=LOCAL_CONFDIR=' + d,
               '--var=RUNDIR=' + os.path.join(d, 'run'), '--var=DBDIR=' + os.path.join(d, 'db'),
               '--var=LOGDIR=' + d]
        if os.geteuid() == 0:
            cmd += ['-u', 'root', '-g', 'root']
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and not listening(normal):
            time.sleep(0.5)
        check(listening(normal), f'rspamd listens on {normal} (exit {proc.poll()})')

        def symbols(msg):
            p = subprocess.run([rspamc, '-h', f'127.0.0.1:{normal}', 'symbols', msg],
                               capture_output=True, timeout=60)
            check(p.returncode == 0, f'rspamc {msg}: {p.stderr!r}')
            return {l.split()[1] for l in p.stdout.decode().splitlines()
                    if l.startswith('Symbol: HOMING_')}

        if listening(normal):
            got = symbols(tracked)
            check(got == {'HOMING_TRACKER_URL'}, f'tracked newsletter: {got}')
            got = symbols(plain)
            check(got == set(), f'untracked newsletter: {got}')
            got = symbols(sg)
            check(got == {'HOMING_TRACKER_HOST', 'HOMING_TRACKER_URL'}, f'SendGrid link: {got}')
    finally:
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(d, ignore_errors=True)
    print(f'{len(failures)} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
