"""homing ingest --imap against a real Dovecot on loopback.

Dovecot runs from a test config file (dovecot -c FILE) with a passwd-file user,
plaintext login on loopback (ssl = no) and a test Maildir. Reports are put in
the mailbox; homing ingest --imap must record them, flag them \\Seen, keep the
mailbox's UIDVALIDITY and last UID in the store, and on a second run fetch
nothing again; a message added later is the only one fetched by a third run.
--imap-move moves a processed message to another folder. Dovecot is stopped at
the end even when a check fails.
"""
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import Instance, Runner, check, free_port, Failure  # noqa: E402

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DATA = os.path.join(os.environ.get("HOMING_SRC", os.getcwd()), "tests", "data", "reports")

CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


TLS_CONF = """\
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
service imap-login {{
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


class Dovecot:
    def __init__(self, root, tls=False):
        self.root = root
        self.port = free_port()
        self.tls_port = free_port()
        nobody = pwd.getpwnam("nobody")
        self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        for d in ("run", "state", "mail", "home"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        for d in ("mail", "home"):
            os.chown(os.path.join(root, d), self.uid, self.gid)
        self.conf = os.path.join(root, "dovecot.conf")
        conf = CONF.format(root=root, uid=self.uid, gid=self.gid, port=self.port)
        if tls:
            # a self-signed certificate made for this run: imaps with --insecure
            # works, without it the client must refuse the server
            p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                "-keyout", os.path.join(root, "key.pem"), "-out",
                                os.path.join(root, "cert.pem"), "-days", "2",
                                "-subj", "/CN=127.0.0.1"], capture_output=True, timeout=60)
            if p.returncode != 0:
                raise Failure(f"openssl: {p.stderr}")
            conf = conf.replace("ssl = no\n", "").replace(
                "  inet_listener imaps {\n    port = 0\n  }\n", "")
            conf = conf.replace("disable_plaintext_auth = no", "disable_plaintext_auth = yes")
            conf += TLS_CONF.format(root=root, tls_port=self.tls_port)
        open(self.conf, "w").write(conf)
        open(os.path.join(root, "passwd"), "w").write("bounces:{PLAIN}s3cret\n")
        self.maildir = os.path.join(root, "mail", "bounces")

    def start(self, tls=False):
        # the master daemonizes: give it no pipe to hold open
        err = os.path.join(self.root, "start.err")
        with open(err, "w") as ef:
            p = subprocess.run([DOVECOT, "-c", self.conf], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=ef, timeout=30)
        if p.returncode != 0:
            raise Failure(f"dovecot: {p.returncode} {open(err).read().strip()} {self.log()}")
        deadline = time.time() + 20
        port = self.tls_port if tls else self.port
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if tls:
                        ctx = ssl.create_default_context()
                        ctx.check_hostname = False
                        ctx.verify_mode = ssl.CERT_NONE
                        s = ctx.wrap_socket(s)
                    if s.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure("dovecot did not listen within 20 s: " + self.log())

    def start_tls(self):
        self.start(tls=True)

    def log(self):
        try:
            return open(os.path.join(self.root, "dovecot.log")).read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        subprocess.run([DOVECOT, "-c", self.conf, "stop"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        pidfile = os.path.join(self.root, "run", "master.pid")
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                pid = int(open(pidfile).read().strip())
                os.kill(pid, 0)
            except (OSError, ValueError):
                return
            time.sleep(0.1)
        try:  # this instance's master only, by its pid file
            os.kill(int(open(pidfile).read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def deliver(self, name, data):
        """Puts a message into new/ as a delivery agent would (tmp/ then rename)."""
        for d in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, d), exist_ok=True)
        tmp = os.path.join(self.maildir, "tmp", name)
        open(tmp, "w").write(data)
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        for dp, dn, fn in os.walk(os.path.join(self.root, "mail")):
            for x in dn + fn:
                os.chown(os.path.join(dp, x), self.uid, self.gid)


def events(inst):
    """The report events; the `suppression` event of the 5.1.1's listing
    (docs/suppression.md) apart, see listings()."""
    with inst.db() as c:
        return c.execute("SELECT kind FROM events WHERE kind != 'suppression' "
                         "ORDER BY id").fetchall()


def listings(inst):
    with inst.db() as c:
        return c.execute("SELECT count(*) FROM events WHERE kind = 'suppression'").fetchone()[0]


def test_imap():
    inst = Instance()
    dv = Dovecot(os.path.join(inst.tmp, "dovecot"))
    try:
        os.chmod(inst.tmp, 0o755)
        os.chmod(dv.root, 0o755)
        inst.run("message", "add", "--subject", "q3", "--from", "alice@homing.example",
                 "--to", "nobody@dest.example", "--to", "full@dest.example",
                 "--message-id", "q3.report.1@homing.example")
        inst.run("message", "add", "--subject", "mdn", "--from", "Jane_Sender@huge.example",
                 "--to", "joe_recipient@mega.example",
                 "--message-id", "199509192301.23456@huge.example")
        dv.deliver("1.host", open(os.path.join(DATA, "dsn-two.eml")).read())
        dv.deliver("2.host", open(os.path.join(DATA, "not-a-report.eml")).read())
        dv.start()
        auth = os.path.join(inst.tmp, "imap.auth")
        open(auth, "w").write("bounces\ns3cret\n")
        os.chmod(auth, 0o600)
        url = f"imap://127.0.0.1:{dv.port}/INBOX"

        p = inst.run("ingest", "--imap", url, "--auth-file", auth, check_rc=False)
        check(p.returncode == 0, f"first run: {p.returncode} {p.stderr} {dv.log()}")
        check("2 messages fetched" in p.stderr, f"first run: {p.stderr!r}")
        check(len(events(inst)) == 2, f"events: {events(inst)}")
        check(listings(inst) == 1, f"{listings(inst)} suppression events for one 5.1.1")
        with inst.db() as c:
            pos = c.execute("SELECT value FROM sync_state WHERE name LIKE 'imap:%'").fetchone()
        check(pos and pos[0].split()[1] == "2", f"kept position: {pos}")
        cur = os.listdir(os.path.join(dv.maildir, "cur"))
        check(len(cur) == 2 and all("S" in n.split(":2,")[1] for n in cur),
              f"messages flagged seen: {cur}")
        p = inst.run("ingest", "--unmatched")
        check(len(p.stdout.splitlines()) == 1 and "imap:" in p.stdout, f"unmatched: {p.stdout}")

        # second run: nothing new
        p = inst.run("ingest", "--imap", url, "--auth-file", auth)
        check("0 messages fetched" in p.stderr, f"second run: {p.stderr!r}")
        check(len(events(inst)) == 2, "second run recorded events")

        # a later report is the only one fetched, and --imap-move moves it
        dv.deliver("3.host", open(os.path.join(DATA, "mdn-rfc8098.eml")).read())
        p = subprocess.run(["doveadm", "-c", dv.conf, "mailbox", "create", "-u", "bounces",
                            "Done"], capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, f"doveadm mailbox create: {p.stderr}")
        p = inst.run("ingest", "--imap", url, "--auth-file", auth, "--imap-move", "Done")
        check("1 message fetched" in p.stderr, f"third run: {p.stderr!r}")
        check([k for (k,) in events(inst)] == ["bounced", "delayed", "read"],
              f"events: {events(inst)}")
        moved = os.listdir(os.path.join(dv.maildir, ".Done", "cur")) + \
            os.listdir(os.path.join(dv.maildir, ".Done", "new"))
        check(len(moved) == 1, f"moved: {moved}")

        # wrong password: one line, exit 2
        open(auth, "w").write("bounces\nwrong\n")
        p = inst.run("ingest", "--imap", url, "--auth-file", auth, check_rc=False)
        check(p.returncode == 2 and "login" in p.stderr.lower(), f"bad login: {p.stderr!r}")
    finally:
        dv.stop()
        inst.close()


def test_imaps():
    inst = Instance()
    dv = Dovecot(os.path.join(inst.tmp, "dovecot"), tls=True)
    try:
        os.chmod(inst.tmp, 0o755)
        os.chmod(dv.root, 0o755)
        inst.run("message", "add", "--subject", "q3", "--from", "alice@homing.example",
                 "--to", "nobody@dest.example", "--to", "full@dest.example",
                 "--message-id", "q3.report.1@homing.example")
        dv.deliver("1.host", open(os.path.join(DATA, "dsn-two.eml")).read())
        dv.start_tls()
        auth = os.path.join(inst.tmp, "imap.auth")
        open(auth, "w").write("bounces\ns3cret\n")
        os.chmod(auth, 0o600)
        url = f"imaps://127.0.0.1:{dv.tls_port}/INBOX"
        p = inst.run("ingest", "--imap", url, "--auth-file", auth, check_rc=False)
        check(p.returncode == 2 and "TLS" in p.stderr, f"unverified cert accepted: {p.stderr!r}")
        p = inst.run("ingest", "--imap", url, "--auth-file", auth, "--insecure", check_rc=False)
        check(p.returncode == 0 and "1 message fetched" in p.stderr,
              f"imaps: {p.returncode} {p.stderr!r} {dv.log()}")
        check(len(events(inst)) == 2 and listings(inst) == 1,
              f"events: {events(inst)}, {listings(inst)} suppression events")
    finally:
        dv.stop()
        inst.close()


if __name__ == "__main__":
    if not os.path.exists(DOVECOT):
        print("FAIL: dovecot is not installed (scripts/setup.sh installs dovecot-imapd)")
        sys.exit(1)
    r = Runner()
    r.run(test_imap)
    r.run(test_imaps)
    r.finish()
