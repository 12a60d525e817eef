"""Delivery status end to end with a real Postfix on loopback.

homing track -> homing send -> Postfix (own config directory, its own queue,
maillog_file) -> a Python SMTP sink that accepts ok@, refuses gone@ (550 5.1.1)
and defers slow@ (450). Postfix's bounces and delay notices go to the VERP
address, a virtual mailbox domain delivered into a Maildir. Then homing ingest
--maildir and homing ingest-log --postfix must give every recipient its true
state; a second run of each must add nothing; a non-report stays in the
unmatched list. Postfix is stopped at the end even when a check fails.
"""
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import Instance, Runner, check, free_port, Failure  # noqa: E402
from smtp_sink import Sink  # noqa: E402

BOUNCE_DOMAIN = "bounces.homing.test"
WAIT_S = 90
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    def __init__(self, root, sink_port):
        self.root = root
        self.conf = os.path.join(root, "pf")
        self.queue = os.path.join(root, "pfqueue")
        self.data = os.path.join(root, "pfdata")
        self.mail = os.path.join(root, "mail")
        self.maillog = os.path.join(root, "log", "maillog")
        self.port = free_port()
        for d in (self.conf, self.queue, self.data, self.mail, os.path.dirname(self.maillog)):
            os.makedirs(d, exist_ok=True)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "command_directory": "/usr/sbin",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mx.homing.test",
            "mydomain": "homing.test",
            "myorigin": "homing.test",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "relayhost": f"[127.0.0.1]:{sink_port}",
            "smtp_dns_support_level": "disabled",
            "disable_dns_lookups": "yes",
            "recipient_delimiter": "+",
            "virtual_mailbox_domains": BOUNCE_DOMAIN,
            "virtual_mailbox_base": self.mail,
            "virtual_mailbox_maps": "regexp:" + os.path.join(self.conf, "vmailbox"),
            "virtual_uid_maps": f"static:{nobody.pw_uid}",
            "virtual_gid_maps": f"static:{nobody.pw_gid}",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.root,
            "smtputf8_enable": "no",
            "biff": "no",
            # deferred mail is retried (and a delay notice sent) within seconds
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "delay_warning_time": "1s",
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "alias_maps": "",
            "alias_database": "",
        }
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))
        with open(os.path.join(self.conf, "vmailbox"), "w") as f:
            f.write("/^bounce[+-].*@bounces\\.homing\\.test$/ bounces/\n")

    def cmd(self, *args, check_rc=True):
        p = subprocess.run([POSTFIX, "-c", self.conf, *args], capture_output=True, text=True,
                           timeout=60)
        if check_rc and p.returncode != 0:
            raise Failure(f"postfix {' '.join(args)}: {p.returncode} {p.stderr.strip()}")
        return p

    def start(self):
        self.cmd("check")
        self.cmd("start")
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                import socket
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"220"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure("postfix did not listen within 20 s: " + self.log())

    def log(self):
        try:
            return open(self.maillog).read()[-3000:]
        except OSError:
            return "(no maillog)"

    def stop(self):
        self.cmd("stop", check_rc=False)
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        deadline = time.time() + 10
        while time.time() < deadline and os.path.exists(pidfile):
            try:
                pid = int(open(pidfile).read().split()[0])
                os.kill(pid, 0)
            except (OSError, ValueError, IndexError):
                break
            time.sleep(0.1)
        else:
            return
        try:  # leftovers: the master of this instance only, by its pid file
            pid = int(open(pidfile).read().split()[0])
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass


MESSAGE = """\
From: Alice <alice@homing.test>
To: ok@dest.test, gone@dest.test, slow@dest.test
Subject: Quarterly figures
Message-ID: <figures.1@homing.test>
Date: Sun, 22 Nov 2026 20:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello, see https://example.org/figures
"""


def states(inst, mid):
    with inst.db() as c:
        return dict(c.execute("SELECT r.address, r.state FROM recipients r JOIN messages m "
                              "ON m.id = r.message WHERE m.message_id IN (?, ?)",
                              (mid, f"<{mid}>")).fetchall())


def kinds(inst):
    with inst.db() as c:
        return [(k, r, json.loads(d) if d else None) for k, r, d in
                c.execute("SELECT kind, recipient, detail FROM events ORDER BY id")]


def test_postfix_end_to_end():
    sink = Sink(dsn=True)
    inst = Instance()
    pf = None
    try:
        pf = Postfix(inst.tmp, sink.port)
        inst.set_config({})
        with open(inst.conf, "a") as f:
            f.write(f"\n[send]\nverp = bounce+{{token}}@{BOUNCE_DOMAIN}\n"
                    f"smtp = 127.0.0.1:{pf.port}\nstarttls = off\n")
        pf.start()
        src = os.path.join(inst.tmp, "msg.eml")
        open(src, "w").write(MESSAGE)
        out = os.path.join(inst.tmp, "out")
        inst.run("track", "--keep-message-id", "-o", out, src)
        check(len(os.listdir(out)) == 3, f"track wrote {os.listdir(out)}")

        p = inst.run("send", out, check_rc=False)
        check(p.returncode == 0, f"send exited {p.returncode}: {p.stdout} {p.stderr}")
        check(p.stdout.count("sent ") == 3, f"send progress: {p.stdout!r}")
        check("3 sent, 0 refused" in p.stderr, f"send summary: {p.stderr!r}")
        st = states(inst, "figures.1@homing.test")
        check(set(st.values()) == {"sent"}, f"states after send: {st}")

        # Postfix relays ok@ to the sink, bounces gone@, defers slow@ (and, after
        # delay_warning_time, sends a delay notice); notices land in the Maildir.
        maildir = os.path.join(pf.mail, "bounces")
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            new = glob.glob(os.path.join(maildir, "new", "*"))
            if len(new) >= 2 and sink.received:
                break
            time.sleep(0.5)
        new = glob.glob(os.path.join(maildir, "new", "*"))
        check(len(new) >= 2, f"notices in the Maildir after {WAIT_S}s: {len(new)}; " + pf.log())
        check(len(sink.received) == 1, f"sink got {len(sink.received)} messages")

        # what the relay passed on: VERP sender, ENVID, RET, NOTIFY, ORCPT
        got = sink.received[0]
        mail = got["mail"]
        with inst.db() as c:
            pub = "%016x" % c.execute("SELECT id FROM messages").fetchone()[0]
        check(f"@{BOUNCE_DOMAIN}>" in mail and "<bounce+" in mail, f"MAIL: {mail}")
        check(f"ENVID={pub}" in mail and "RET=HDRS" in mail, f"MAIL params: {mail}")
        rc = got["rcpts"][0]
        check("NOTIFY=SUCCESS,FAILURE,DELAY" in rc and "ORCPT=rfc822;ok@dest.test" in rc,
              f"RCPT params: {rc}")

        # a message that is no report at all: kept, listed, never dropped
        junk = os.path.join(maildir, "new", "1700000000.junk.host")
        open(junk, "w").write("From: someone@x.test\nSubject: hi\n\nnot a bounce\n")

        p = inst.run("ingest", "--maildir", maildir, "--json")
        lines = [json.loads(l) for l in p.stdout.splitlines()]
        matched = [l for l in lines if l["outcome"] == "matched"]
        check(len(matched) >= 2, f"ingest: {lines}")
        check(all(l["matched_by"] == "verp" for l in matched), f"correlation: {matched}")
        check(not glob.glob(os.path.join(maildir, "new", "*")), "new/ not emptied")
        cur = os.listdir(os.path.join(maildir, "cur"))
        check(cur and all(n.endswith(":2,S") for n in cur), f"cur/: {cur}")

        p = inst.run("ingest", "--unmatched")
        check("1700000000.junk.host" in p.stdout or "maildir:" in p.stdout,
              f"unmatched: {p.stdout!r}")
        check(len(p.stdout.splitlines()) == 1, f"unmatched: {p.stdout!r}")

        st = states(inst, "figures.1@homing.test")
        check(st["gone@dest.test"] == "bounced", f"gone: {st}")
        check(st["slow@dest.test"] == "delayed", f"slow: {st}")
        ev = kinds(inst)
        bounced = [d for k, r, d in ev if k == "bounced"]
        check(bounced and bounced[0]["status"] == "5.1.1" and bounced[0]["hard"] is True,
              f"bounce detail: {bounced}")

        # the log: ok@ delivered (sink accepted), and the others as above
        p = inst.run("ingest-log", "--postfix", pf.maillog)
        st = states(inst, "figures.1@homing.test")
        check(st == {"ok@dest.test": "delivered", "gone@dest.test": "bounced",
                     "slow@dest.test": "delayed"}, f"states after the log: {st}; {p.stdout}")
        # Postfix keeps retrying slow@ (new log lines, maybe delay notices): stop it,
        # catch up once, then second runs must add nothing
        pf.stop()
        inst.run("ingest-log", "--postfix", pf.maillog)
        inst.run("ingest", "--maildir", maildir)
        n_events = len(kinds(inst))
        inst.run("ingest-log", "--postfix", pf.maillog)
        inst.run("ingest-log", "--postfix", pf.maillog, "--from-start")
        inst.run("ingest", "--maildir", maildir)
        check(len(kinds(inst)) == n_events, "a second run recorded events again")
        # the same report again on stdin: a duplicate, exit 0
        first = os.path.join(maildir, "cur", sorted(os.listdir(os.path.join(maildir, "cur")))[0])
        p = inst.run("ingest", input=open(first).read())
        check(len(kinds(inst)) == n_events, "stdin replay recorded events again")
    finally:
        if pf:
            pf.stop()
        sink.stop()
        inst.close()


def test_send_errors():
    inst = Instance({})
    try:
        with open(inst.conf, "a") as f:
            f.write(f"\n[send]\nverp = bounce+{{token}}@{BOUNCE_DOMAIN}\n")
        src = os.path.join(inst.tmp, "msg.eml")
        open(src, "w").write(MESSAGE)
        out = os.path.join(inst.tmp, "out")
        inst.run("track", "--keep-message-id", "-o", out, src)
        port = free_port()  # nothing listens there
        p = inst.run("send", out, "--smtp", f"127.0.0.1:{port}", "--starttls", "off",
                     check_rc=False)
        check(p.returncode == 2, f"unreachable relay: exit {p.returncode}")
        check("unreachable" in p.stderr, f"unreachable relay: {p.stderr!r}")
        sink = Sink(dsn=False)
        try:
            p = inst.run("send", out, "--smtp", f"127.0.0.1:{sink.port}", "--starttls",
                         "required", check_rc=False)
            check(p.returncode == 2 and "STARTTLS" in p.stderr, f"TLS required: {p.stderr!r}")
            auth = os.path.join(inst.tmp, "auth")
            open(auth, "w").write("user\npass\n")
            os.chmod(auth, 0o644)
            p = inst.run("send", out, "--smtp", f"127.0.0.1:{sink.port}", "--auth-file", auth,
                         check_rc=False)
            check(p.returncode == 2 and "chmod 600" in p.stderr, f"auth file mode: {p.stderr!r}")
            # the sink itself refuses gone@ and defers slow@: exit 1, events recorded
            p = inst.run("send", out, "--smtp", f"127.0.0.1:{sink.port}", "--starttls", "off",
                         "--jobs", "2", check_rc=False)
            check(p.returncode == 1, f"refusals: exit {p.returncode} {p.stderr}")
            st = states(inst, "figures.1@homing.test")
            check(st == {"ok@dest.test": "sent", "gone@dest.test": "rejected",
                         "slow@dest.test": "registered"}, f"states: {st}")
            rej = [d for k, r, d in kinds(inst) if k == "rejected"]
            check(sorted(d["code"] for d in rej) == [450, 550], f"rejected: {rej}")
        finally:
            sink.stop()
    finally:
        inst.close()


def test_send_message_to():
    """--message ID --to ADDR: one file to registered recipients, one envelope each."""
    inst = Instance({})
    sink = Sink(dsn=True)
    try:
        with open(inst.conf, "a") as f:
            f.write(f"\n[send]\nverp = bounce-{{token}}@{BOUNCE_DOMAIN}\n"
                    f"smtp = 127.0.0.1:{sink.port}\nstarttls = opportunistic\n")
        src = os.path.join(inst.tmp, "msg.eml")
        open(src, "w").write(MESSAGE)
        copy = os.path.join(inst.tmp, "copy.eml")
        inst.run("track", "--keep-message-id", "--per-message", "-o", copy, src)
        p = inst.run("send", "--message", "figures.1@homing.test", "--to", "ok@dest.test",
                     "--to", "OK2@dest.test", copy, check_rc=False)
        check(p.returncode == 2 and "not a recipient" in p.stderr, f"unknown --to: {p.stderr!r}")
        p = inst.run("send", "--message", "figures.1@homing.test", "--to", "ok@dest.test",
                     "--to", "gone@dest.test", copy, check_rc=False)
        check(p.returncode == 1, f"exit {p.returncode}: {p.stderr}")
        check(len(sink.received) == 1, f"sink got {len(sink.received)}")
        mails = [r["mail"] for r in sink.received]
        check(all(f"-" in m and f"@{BOUNCE_DOMAIN}>" in m for m in mails), f"MAIL: {mails}")
        st = states(inst, "figures.1@homing.test")
        check(st["ok@dest.test"] == "sent" and st["gone@dest.test"] == "rejected", f"{st}")
    finally:
        sink.stop()
        inst.close()


def test_send_auth():
    inst = Instance({})
    sink = Sink(dsn=False, auth=("alice", "pa ss"))
    try:
        with open(inst.conf, "a") as f:
            f.write(f"\n[send]\nverp = bounce+{{token}}@{BOUNCE_DOMAIN}\n"
                    f"smtp = 127.0.0.1:{sink.port}\nstarttls = off\n")
        src = os.path.join(inst.tmp, "msg.eml")
        open(src, "w").write(MESSAGE.replace("gone@dest.test, slow@dest.test", "bo@dest.test"))
        out = os.path.join(inst.tmp, "out")
        inst.run("track", "--keep-message-id", "-o", out, src)
        p = inst.run("send", out, check_rc=False)
        check(p.returncode == 2 and "authentication required" in p.stderr,
              f"no credentials: {p.returncode} {p.stderr!r}")
        auth = os.path.join(inst.tmp, "smtp.auth")
        open(auth, "w").write("alice\nwrong\n")
        os.chmod(auth, 0o600)
        p = inst.run("send", out, "--auth-file", auth, check_rc=False)
        check(p.returncode == 2 and "authentication failed" in p.stderr,
              f"bad password: {p.returncode} {p.stderr!r}")
        check(inst.event_count() == 0, "a failed login recorded events")
        open(auth, "w").write("alice\npa ss\n")
        p = inst.run("send", out, "--auth-file", auth, check_rc=False)
        check(p.returncode == 0 and len(sink.received) == 2, f"login: {p.stderr!r}")
        check("alice" in sink.logins, f"logins: {sink.logins}")
        check("pa ss" not in p.stdout + p.stderr, "password printed")
    finally:
        sink.stop()
        inst.close()


if __name__ == "__main__":
    if not os.path.exists(POSTFIX):
        print("FAIL: postfix is not installed (scripts/setup.sh installs it)")
        sys.exit(1)
    r = Runner()
    r.run(test_send_errors)
    r.run(test_send_auth)
    r.run(test_send_message_to)
    r.run(test_postfix_end_to_end)
    r.finish()
