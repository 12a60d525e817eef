"""homing relay (issue 17) with a real Postfix on loopback as its smarthost.

Python smtplib -> homing relay (STARTTLS + AUTH) -> Postfix -> a Python SMTP
sink (tests/integration/smtp_sink.py records each transaction). Checks:
- one message with To, Cc and Bcc arrives once per recipient, one envelope
  recipient per copy, each copy with its own tokens only, no Bcc header in
  any copy, and `homing report` shows three recipients;
- a wrong password (535), a sender other than the login (553), AUTH before STARTTLS (538), an oversized message
  (552 at MAIL SIZE= and at the end of DATA), a bad command syntax (501);
- the smarthost down: 451, nothing registered, and the retry once it is back
  registers the message once and sends each copy once;
- relay.max_connections: one connection more gets 421;
- relay.stats_file counts messages and copies;
- filter mode: Postfix's content_filter -> relay -> Postfix's re-injection
  port -> delivered, one copy per recipient.
"""
import glob
import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import HOMING, Instance, Runner, check, free_port, Failure  # noqa: E402
from smtp_sink import Sink  # noqa: E402
from test_delivery_postfix import Postfix, POSTFIX, BOUNCE_DOMAIN  # noqa: E402

WAIT_S = 60
USER, PASSWORD = "alice@homing.test", "correct horse battery"

MESSAGE = """\
From: Alice <alice@homing.test>
To: Bob <bob@rcpt.test>
Cc: carol@rcpt.test
Bcc: dave@rcpt.test
Subject: {subject}
Date: Sun, 22 Nov 2026 20:00:00 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=us-ascii

<html><body><p>Hello, see <a href="https://example.org/figures">the figures</a></p></body></html>
"""
RCPTS = ["bob@rcpt.test", "carol@rcpt.test", "dave@rcpt.test"]


class Relay:
    def __init__(self, inst):
        self.inst = inst
        self.port = free_port()
        self.log = open(os.path.join(inst.tmp, "relay.log"), "w+")
        self.proc = None

    def start(self, smarthost_port):
        self.start_args(smarthost_port)

    def start_args(self, smarthost_port, *extra):
        self.proc = subprocess.Popen([HOMING, "-c", self.inst.conf, "relay", "--listen",
                                      f"127.0.0.1:{self.port}", "--smarthost",
                                      f"127.0.0.1:{smarthost_port}", *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            check(self.proc.poll() is None, f"relay exited: {self.text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"220"):
                        return
            except OSError:
                time.sleep(0.05)
        raise Failure("relay did not answer in 15 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("relay did not stop after SIGTERM")
            # a sanitizer's report (leaks at exit included) makes it non-zero
            check(rc == 0, f"relay exited {rc} after SIGTERM: {self.text()[-3000:]}")

    def text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


def client(relay, tls=True, login=True, password=PASSWORD):
    s = smtplib.SMTP("127.0.0.1", relay.port, timeout=60)
    try:
        s.ehlo("client.test")
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            s.ehlo("client.test")
        if login:
            s.login(USER, password)
    except BaseException:
        # closed now, not when the garbage collector gets to the traceback's
        # frames: a session left open would count against relay.max_connections
        s.close()
        raise
    return s


def wait_received(sink, n):
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        with sink.lock:
            if len(sink.received) >= n:
                return list(sink.received)
        time.sleep(0.1)
    with sink.lock:
        raise Failure(f"{len(sink.received)} of {n} copies reached the sink")


def tokens(data, port):
    return set(re.findall(rb"127\.0\.0\.1:%d/[a-z]/([A-Za-z0-9_-]{20,})" % port, data))


def messages_with_subject(inst, subject):
    with inst.db() as c:
        return c.execute("SELECT id FROM messages WHERE subject = ?", (subject,)).fetchall()


def test_to_cc_bcc(inst, relay, sink, pf):
    with sink.lock:
        sink.received.clear()
    s = client(relay)
    refused = s.sendmail(USER, RCPTS, MESSAGE.format(subject="Three readers"))
    s.quit()
    check(refused == {}, f"refused: {refused}")
    got = wait_received(sink, 3)
    time.sleep(1)  # nothing more may arrive
    with sink.lock:
        got = list(sink.received)
    check(len(got) == 3, f"{len(got)} copies arrived, not 3")
    by_rcpt = {}
    for t in got:
        check(len(t["rcpts"]) == 1, f"a copy with {len(t['rcpts'])} envelope recipients")
        addr = re.search(r"<([^>]+)>", t["rcpts"][0]).group(1).lower()
        check(addr not in by_rcpt, f"{addr} got two copies")
        by_rcpt[addr] = t["data"]
    check(sorted(by_rcpt) == RCPTS, f"copies went to {sorted(by_rcpt)}")
    seen = {}
    for addr, data in by_rcpt.items():
        head = data.split(b"\r\n\r\n", 1)[0]
        check(not re.search(rb"(?im)^(resent-)?bcc\s*:", head), f"a Bcc header in {addr}'s copy")
        check(b"dave@rcpt.test" not in data or addr == "dave@rcpt.test",
              f"the Bcc recipient is named in {addr}'s copy")
        tk = tokens(data, inst.public_port)
        check(tk, f"no tracking token in {addr}'s copy")
        for other, otk in seen.items():
            check(not (tk & otk), f"{addr} and {other} share tokens")
        seen[addr] = tk
    ids = messages_with_subject(inst, "Three readers")
    check(len(ids) == 1, f"{len(ids)} messages registered")
    pub = "%016x" % ids[0][0]
    rep = inst.run("report", pub).stdout
    for a in RCPTS:
        check(a in rep, f"{a} not in homing report: {rep}")
    with inst.db() as c:
        n = c.execute("SELECT count(*) FROM recipients WHERE message = ?", ids[0]).fetchone()[0]
        sent = c.execute("SELECT count(*) FROM events WHERE message = ? AND kind = 'sent'",
                         ids[0]).fetchone()[0]
    check(n == 3, f"{n} recipients registered")
    check(sent == 3, f"{sent} sent events")


def test_bcc_direct(inst, relay, sink, pf):
    """The same without Postfix in between (its cleanup drops Bcc headers
    itself): the copies as the relay writes them carry no Bcc, and each its
    DSN parameters (a sink offering DSN) and VERP sender."""
    dsn_sink = Sink(dsn=True)
    direct = Relay(inst)
    try:
        direct.start(dsn_sink.port)
        s = client(direct)
        s.sendmail(USER, RCPTS, MESSAGE.format(subject="Direct"))
        s.quit()
        got = wait_received(dsn_sink, 3)
    finally:
        direct.stop()
        dsn_sink.stop()
    check(len(got) == 3, f"{len(got)} copies")
    seen = {}
    for t in got:
        check(len(t["rcpts"]) == 1, "a copy with several envelope recipients")
        addr = re.search(r"<([^>]+)>", t["rcpts"][0]).group(1).lower()
        head = t["data"].split(b"\r\n\r\n", 1)[0]
        check(not re.search(rb"(?im)^(resent-)?bcc\s*:", head), f"a Bcc header for {addr}")
        check(b"dave@rcpt.test" not in t["data"], f"the Bcc recipient named in {addr}'s copy")
        check(re.match(rb"Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby .* "
                       rb"\(homing relay\) with ESMTPSA;", t["data"]), f"trace field: {head[:200]!r}")
        check(b"NOTIFY=" in t["rcpts"][0].encode() and b"ORCPT=" in t["rcpts"][0].encode(),
              f"no DSN parameters: {t['rcpts'][0]}")
        check("ENVID=" in t["mail"] and "bounce+" in t["mail"], f"no ENVID or VERP: {t['mail']}")
        tk = tokens(t["data"], inst.public_port)
        for other, otk in seen.items():
            check(tk and not (tk & otk), f"{addr} and {other} share tokens")
        seen[addr] = tk
    check(sorted(seen) == RCPTS, f"copies went to {sorted(seen)}")


def test_campaign_dkim_suppressed(inst, relay, sink, pf):
    """Straight to a sink: X-Homing-Campaign registers the message in that
    campaign and leaves no copy; each copy carries a DKIM signature of the From
    domain's key that `homing trace` verifies with both verifiers; a recipient
    on the sender's suppression list is refused at RCPT (550, the others go)."""
    from test_dkim_sign import zone_file, dkim_results
    line = [x for x in inst.run("dkim-keys", "create", "homing.test").stdout.splitlines()
            if "._domainkey." in x][0]
    zone = zone_file(inst, line, "relay-zone.txt")
    inst.run("suppress", "add", "dave@rcpt.test", "--sender", USER)
    direct_sink = Sink(dsn=True)
    direct = Relay(inst)
    msg = MESSAGE.format(subject="Campaign").replace(
        "Subject:", "X-Homing-Campaign:  Winter <b>sale</b>\r\n Q4\nSubject:", 1)
    try:
        direct.start(direct_sink.port)
        s = client(direct)
        refused = s.sendmail(USER, RCPTS, msg)
        s.quit()
        got = wait_received(direct_sink, 2)
    finally:
        direct.stop()
        direct_sink.stop()
    check(list(refused) == ["dave@rcpt.test"] and refused["dave@rcpt.test"][0] == 550,
          f"the suppressed recipient: {refused}")
    check(b"suppression list" in refused["dave@rcpt.test"][1], f"why: {refused}")
    check(len(got) == 2, f"{len(got)} copies")
    for t in got:
        check(b"x-homing-campaign" not in t["data"].lower(), "the control field left in a copy")
        check(t["data"].startswith(b"DKIM-Signature:"), f"unsigned: {t['data'][:80]!r}")
        for verifier in ("opendkim", "homing"):
            res = dkim_results(inst, zone, t["data"], verifier)
            check(res and res[0][0] == "homing.test" and res[0][3] == "pass",
                  f"{verifier}: {res}")
    camps = inst.run("stats", "--campaigns", "--json").stdout
    check("Winter <b>sale</b> Q4" in camps, f"campaign registered: {camps}")
    inst.run("suppress", "remove", "dave@rcpt.test", "--sender", USER)
    # a campaign name with a control character: the message is refused whole
    direct_sink = Sink(dsn=True)
    direct = Relay(inst)
    try:
        direct.start(direct_sink.port)
        s = client(direct)
        bad = MESSAGE.format(subject="Bad").replace("Subject:", "X-Homing-Campaign: a\x01b\nSubject:", 1)
        expect_code(lambda: s.sendmail(USER, RCPTS, bad), 554)
        s.quit()
    finally:
        direct.stop()
        direct_sink.stop()


def send_direct(inst, rcpts, msg):
    """One message through a relay that hands its copies to a sink of its own:
    the copies as they leave, {envelope recipient: bytes}."""
    direct_sink = Sink(dsn=True)
    direct = Relay(inst)
    try:
        direct.start(direct_sink.port)
        s = client(direct)
        s.sendmail(USER, rcpts, msg)
        s.quit()
        got = wait_received(direct_sink, len(rcpts))
    finally:
        direct.stop()
        direct_sink.stop()
    return {re.search(r"<([^>]+)>", t["rcpts"][0]).group(1).lower(): t["data"] for t in got}


def body_of(data):
    return data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]


def test_track_control(inst, relay, sink, pf):
    """X-Homing-Track no: sent as it came, nothing registered; message: one set
    of tokens for everyone; a signed (multipart/signed) message passes untouched
    whatever was asked; mail to the sender's own address is never tracked; the
    control field never leaves; a bad value is 554."""
    sent_body = body_of(MESSAGE.format(subject="x").encode())
    before = len(messages_with_subject(inst, "Untracked"))
    got = send_direct(inst, RCPTS[:2], MESSAGE.format(subject="Untracked").replace(
        "Subject:", "X-Homing-Track: No\nSubject:", 1))
    for addr, data in got.items():
        check(not tokens(data, inst.public_port), f"no: {addr}'s copy is tracked")
        check(b"x-homing-track" not in data.lower(), "the control field left")
        check(body_of(data) == sent_body, f"no: {addr}'s body changed")
    check(len(messages_with_subject(inst, "Untracked")) == before, "no: a message registered")

    got = send_direct(inst, RCPTS[:2], MESSAGE.format(subject="Per message").replace(
        "Subject:", "X-Homing-Track: message\nSubject:", 1))
    tks = [tokens(d, inst.public_port) for d in got.values()]
    check(tks[0] and tks[0] == tks[1], f"message: the copies' tokens differ: {tks}")
    check(len(messages_with_subject(inst, "Per message")) == 1, "message: registered once")

    signed = ("From: Alice <alice@homing.test>\nTo: bob@rcpt.test\nSubject: Signed\n"
              "MIME-Version: 1.0\nContent-Type: multipart/signed; protocol=\"application/"
              "pkcs7-signature\"; micalg=sha-256; boundary=\"b1\"\n\n--b1\nContent-Type: "
              "text/html\n\n<html><body><a href=\"https://example.org/x\">x</a></body>"
              "</html>\n--b1\nContent-Type: application/pkcs7-signature\n\nMIIB\n--b1--\n")
    got = send_direct(inst, ["bob@rcpt.test"], signed)
    data = got["bob@rcpt.test"]
    check(body_of(data) == body_of(signed.encode()), f"signed: body changed: {data[-300:]!r}")
    check(not tokens(data, inst.public_port), "signed: tracked")

    # track.list_unsubscribe: bob's tracked copy gets the RFC 8058 fields, the
    # sender's own (untracked) copy does not
    inst.set_config({"track.list_unsubscribe": "yes"})
    try:
        got = send_direct(inst, ["bob@rcpt.test", USER], MESSAGE.format(subject="To myself"))
    finally:
        inst.set_config({"track.list_unsubscribe": "no"})
    check(tokens(got["bob@rcpt.test"], inst.public_port), "bob's copy untracked")
    check(not tokens(got[USER], inst.public_port), "the sender's own copy is tracked")
    lu = re.search(rb"(?m)^List-Unsubscribe: <http://127\.0\.0\.1:%d/u/[A-Za-z0-9_-]+>\r?$"
                   % inst.public_port, got["bob@rcpt.test"])
    check(lu and b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in got["bob@rcpt.test"],
          f"bob's copy lacks the one-click fields: {got['bob@rcpt.test'][:600]!r}")
    check(b"List-Unsubscribe" not in got[USER], "the sender's own copy got List-Unsubscribe")

    direct_sink = Sink(dsn=True)
    direct = Relay(inst)
    try:
        direct.start(direct_sink.port)
        s = client(direct)
        bad = MESSAGE.format(subject="Bad").replace("Subject:", "X-Homing-Track: maybe\nSubject:", 1)
        expect_code(lambda: s.sendmail(USER, RCPTS[:1], bad), 554)
        s.quit()
    finally:
        direct.stop()
        direct_sink.stop()


def test_init_self_signed(inst, relay, sink, pf):
    """homing init --self-signed HOST: relay.key (0600) and relay.crt naming
    HOST, named in the new configuration; a relay started on it offers
    STARTTLS with that certificate (verified against it as the only CA)."""
    d = os.path.join(inst.tmp, "selfsigned")
    p = subprocess.run([HOMING, "init", "--self-signed", "relay.homing.test", d],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"init: {p.stderr}")
    crt, key = os.path.join(d, "relay.crt"), os.path.join(d, "relay.key")
    check(os.stat(key).st_mode & 0o077 == 0, f"key mode {oct(os.stat(key).st_mode)}")
    bad = subprocess.run([HOMING, "init", "--self-signed", "not a host", d + "2"],
                         capture_output=True, text=True, timeout=60)
    check(bad.returncode == 2 and not os.path.exists(d + "2"), f"bad host: {bad.stderr}")

    class Conf:
        conf = os.path.join(d, "homing.conf")
        tmp = inst.tmp
    subprocess.run([HOMING, "-c", Conf.conf, "relay-users", "add", USER], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True, timeout=60)
    r2 = Relay(Conf)
    try:
        r2.start(sink.port)
        s = smtplib.SMTP("127.0.0.1", r2.port, timeout=60)
        s.ehlo("client.test")
        ctx = ssl.create_default_context(cafile=crt)
        ctx.check_hostname = False  # connected by address; the name is checked below
        s.starttls(context=ctx)
        cert = s.sock.getpeercert()
        names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
        check(names == ["relay.homing.test"], f"certificate names {names}")
        s.ehlo("client.test")
        s.login(USER, PASSWORD)
        s.quit()
    finally:
        r2.stop()


MAILDIR_RCPTS = ["bob@maildir.test", "carol@maildir.test", "dave@maildir.test"]


def test_maildir_delivery(inst, relay, sink, pf):
    """The issue's own case end to end: submitted over STARTTLS+AUTH with To, Cc
    and Bcc, through the relay into Postfix, delivered by virtual(8) into one
    Maildir per recipient: each gets exactly one copy, with only its own tokens,
    no Bcc header anywhere, and a DKIM signature both verifiers pass (the key
    test_campaign_dkim_suppressed made for homing.test)."""
    from test_dkim_sign import zone_file, dkim_results
    line = [x for x in inst.run("dkim-keys", "show", "homing.test").stdout.splitlines()
            if "._domainkey." in x][0]
    zone = zone_file(inst, line, "maildir-zone.txt")
    msg = MESSAGE.format(subject="Into Maildirs").replace("rcpt.test", "maildir.test")
    s = client(relay)
    refused = s.sendmail(USER, MAILDIR_RCPTS, msg)
    s.quit()
    check(refused == {}, f"refused: {refused}")
    boxes = {}
    deadline = time.time() + WAIT_S
    while time.time() < deadline and len(boxes) < 3:
        for a in MAILDIR_RCPTS:
            files = glob.glob(os.path.join(pf.mail, a.split("@")[0], "new", "*"))
            if files:
                boxes[a] = files
        time.sleep(0.1)
    time.sleep(1)  # nothing more may arrive
    seen = {}
    for a in MAILDIR_RCPTS:
        files = glob.glob(os.path.join(pf.mail, a.split("@")[0], "new", "*"))
        check(len(files) == 1, f"{a}: {len(files)} messages in its Maildir")
        data = open(files[0], "rb").read()
        head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        check(not re.search(rb"(?im)^(resent-)?bcc\s*:", head), f"a Bcc header in {a}'s copy")
        check(b"dave@maildir.test" not in data or a == "dave@maildir.test",
              f"the Bcc recipient named in {a}'s copy")
        tk = tokens(data, inst.public_port)
        check(tk, f"no token in {a}'s copy")
        for other, otk in seen.items():
            check(not (tk & otk), f"{a} and {other} share tokens")
        seen[a] = tk
        for verifier in ("opendkim", "homing"):
            res = dkim_results(inst, zone, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
                               verifier)
            check(res and res[0][3] == "pass", f"{a}, {verifier}: {res}")


def expect_code(fn, code):
    try:
        fn()
    except smtplib.SMTPResponseException as e:
        check(e.smtp_code == code, f"expected {code}, got {e.smtp_code} {e.smtp_error!r}")
        return
    except smtplib.SMTPRecipientsRefused as e:
        raise Failure(f"expected {code}, got {e}")
    raise Failure(f"expected {code}, got success")


def test_wrong_password(inst, relay, sink, pf):
    expect_code(lambda: client(relay, password="wrong"), 535)
    s = client(relay, login=False)  # an unknown user: the same answer
    expect_code(lambda: s.login("mallory@homing.test", PASSWORD), 535)
    s.quit()


def test_auth_needs_tls(inst, relay, sink, pf):
    s = client(relay, tls=False, login=False)
    check("auth" not in s.esmtp_features, "AUTH offered before STARTTLS")
    code, _ = s.docmd("AUTH", "PLAIN AGFsaWNlQGhvbWluZy50ZXN0AHdyb25n")
    check(code == 538, f"AUTH before STARTTLS: {code}")
    code, _ = s.docmd("MAIL", "FROM:<alice@homing.test>")
    check(code == 530, f"MAIL without AUTH: {code}")
    s.quit()


def test_sender_login_match(inst, relay, sink, pf):
    s = client(relay)
    code, _ = s.docmd("MAIL", "FROM:<mallory@homing.test>")
    check(code == 553, f"MAIL FROM another address than the login: {code}")
    code, _ = s.docmd("MAIL", "FROM:<ALICE@homing.test>")
    check(code == 250, f"MAIL FROM the login's own address: {code}")
    s.quit()


def test_oversize(inst, relay, sink, pf):
    s = client(relay)
    code, _ = s.docmd("MAIL", "FROM:<alice@homing.test> SIZE=99999999")
    check(code == 552, f"MAIL SIZE= over the limit: {code}")
    s.rset()
    big = MESSAGE.format(subject="Big") + ("x" * 70 + "\r\n") * 2000  # > 100000
    expect_code(lambda: s.sendmail(USER, ["bob@rcpt.test"], big), 552)
    s.quit()
    check(not messages_with_subject(inst, "Big"), "an oversized message was registered")


def test_syntax(inst, relay, sink, pf):
    s = client(relay)
    code, _ = s.docmd("MAIL", "FROM:<alice@@homing.test>")
    check(code == 501, f"bad path: {code}")
    code, _ = s.docmd("MAIL", "FROM:<alice@homing.test> FOO=1")
    check(code == 555, f"unknown parameter: {code}")
    s.quit()


def test_upstream_down(inst, relay, sink, pf):
    with sink.lock:
        sink.received.clear()
    # a relay whose smarthost is a closed port
    down = Relay(inst)
    dead = free_port()
    down.start(dead)
    try:
        body = MESSAGE.format(subject="Retry me")
        s = client(down)
        expect_code(lambda: s.sendmail(USER, RCPTS, body), 451)
        expect_code(lambda: s.sendmail(USER, RCPTS, body), 451)  # the client retries early
        s.quit()
        first = messages_with_subject(inst, "Retry me")
        check(len(first) == 1, f"{len(first)} messages registered during the outage, not 1")
        with inst.db() as c:
            sent = c.execute("SELECT count(*) FROM events WHERE message = ? AND kind = 'sent'",
                             first[0]).fetchone()[0]
        check(sent == 0, f"{sent} copies recorded as sent while the smarthost was down")
    finally:
        down.stop()
    # the client retries through the working relay: one message, one copy each
    s = client(relay)
    s.sendmail(USER, RCPTS, body)
    s.sendmail(USER, RCPTS, body)  # a second retry: everything was sent already
    s.quit()
    wait_received(sink, 3)
    time.sleep(1)
    with sink.lock:
        n = len(sink.received)
    check(n == 3, f"{n} copies after the retries, not 3")
    ids = messages_with_subject(inst, "Retry me")
    check(ids == first, f"{ids} registered after the retries, {first} before")


def test_refusals(inst, relay, sink, pf):
    """The smarthost refusing recipients (the sink itself as smarthost: gone@
    gets 550 5.1.1 at RCPT): every one refused is 554, some refused is 250
    naming them, each refusal a rejected event; one recipient past
    relay.max_recipients is 452; 12 recipients (two batches) one copy each."""
    direct = Relay(inst)
    direct.start(sink.port)
    try:
        s = client(direct)
        expect_code(lambda: s.sendmail(USER, ["gone@rcpt.test"],
                                       MESSAGE.format(subject="All refused")), 554)
        code, text = s.docmd("RSET")
        s.mail(USER)
        s.rcpt("gone2@rcpt.test")
        s.rcpt("bob@rcpt.test")
        code, text = s.data(MESSAGE.format(subject="Some refused"))
        check(code == 250 and b"1 recipient refused" in text, f"{code} {text!r}")
        s.rset()
        s.mail(USER)
        for i in range(12):
            code, _ = s.rcpt(f"r{i}@rcpt.test")
            check(code == 250, f"recipient {i + 1}: {code}")
        code, _ = s.rcpt("r12@rcpt.test")
        check(code == 452, f"recipient 13 of relay.max_recipients 12: {code}")
        # the 12 in two batches (RELAY_BATCH_MAX 10): one copy each
        with sink.lock:
            sink.received.clear()
        code, text = s.data(MESSAGE.format(subject="Twelve"))
        check(code == 250, f"twelve recipients: {code} {text!r}")
        got = wait_received(sink, 12)
        rc = sorted(t["rcpts"][0].split("<")[1].split(">")[0] for t in got)
        check(rc == sorted(f"r{i}@rcpt.test" for i in range(12)), f"copies went to {rc}")
        s.quit()
    finally:
        direct.stop()
    ids = messages_with_subject(inst, "Some refused")
    check(len(ids) == 1, "not registered once")
    with inst.db() as c:
        kinds = sorted(k for (k,) in c.execute("SELECT kind FROM events WHERE message = ? AND "
                                               "kind IN ('sent', 'rejected')", ids[0]))
    check(kinds == ["rejected", "sent"], f"events: {kinds}")


def test_max_connections(inst, relay, sink, pf):
    """relay.max_connections (4 here) sessions at once; one more gets 421."""
    held = []
    try:
        # the earlier tests' sessions end a moment after their clients quit:
        # start over until four are held at once
        deadline = time.time() + 20
        while len(held) < 4:
            c = socket.create_connection(("127.0.0.1", relay.port), timeout=10)
            if c.recv(100).startswith(b"220"):
                held.append(c)
                continue
            c.close()
            for h in held:
                h.close()
            held = []
            check(time.time() < deadline, "four sessions never held at once")
            time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as c:
            got = c.recv(100)
        check(got.startswith(b"421 4.7.0"), f"connection 5 of 4: {got!r}")
    finally:
        for c in held:
            c.close()
    deadline = time.time() + 20  # the sessions end once their clients are gone
    while time.time() < deadline:
        with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as c:
            if c.recv(100).startswith(b"220"):
                return
        time.sleep(0.1)
    raise Failure("the relay still refuses connections after the clients left")


def test_users_remove(inst, relay, sink, pf):
    inst.run("relay-users", "add", "bob@homing.test", input="other password\n")
    listed = inst.run("relay-users", "list").stdout.split()
    check(listed == ["alice@homing.test", "bob@homing.test"], f"list: {listed}")
    s = client(relay, login=False)
    s.login("bob@homing.test", "other password")
    s.quit()
    inst.run("relay-users", "remove", "bob@homing.test")
    s = client(relay, login=False)
    expect_code(lambda: s.login("bob@homing.test", "other password"), 535)
    s.quit()
    p = inst.run("relay-users", "remove", "bob@homing.test", check_rc=False)
    check(p.returncode == 2, f"removing a removed user: {p.returncode}")
    p = inst.run("relay-users", "add", "has space", input="x\n", check_rc=False)
    check(p.returncode == 2, f"a name with a space: {p.returncode}")


def test_stats_file(inst, relay, sink, pf):
    # the other relays of these tests wrote the file too: one more message
    # through this one has it write its own counters last
    with sink.lock:
        before = len(sink.received)
    s = client(relay)
    s.sendmail(USER, ["bob@rcpt.test"], MESSAGE.format(subject="Counted"))
    s.quit()
    wait_received(sink, before + 1)  # through Postfix before the next test
    text = open(os.path.join(inst.tmp, "relay.prom")).read()
    m = re.search(r"^homing_relay_copies_total (\d+)$", text, re.M)
    check(m and int(m.group(1)) >= 6, f"stats file: {text}")
    check(re.search(r"^homing_relay_upstream_seconds_count [1-9]", text, re.M), text)


FILTER_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
  -o content_filter=homing:[127.0.0.1]:{relay}
homing    unix  - - n - 4 smtp
  -o smtp_send_xforward_command=no
  -o disable_dns_lookups=yes
  -o smtp_tls_security_level=none
127.0.0.1:{reinject} inet n - n - - smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
"""


def test_postfix_content_filter(inst, relay, sink, pf):
    """Postfix -> homing relay (filter mode) -> Postfix's re-injection -> sink."""
    with sink.lock:
        sink.received.clear()
    pf2 = Postfix(os.path.join(inst.tmp, "pf2"), sink.port)
    filt = Relay(inst)
    reinject = free_port()
    master = open(os.path.join(pf2.conf, "master.cf")).read().split("\n", 1)[1]
    with open(os.path.join(pf2.conf, "master.cf"), "w") as f:
        f.write(FILTER_MASTER.format(port=pf2.port, relay=filt.port, reinject=reinject) + master)
    try:
        filt.start_args(reinject, "--mode", "filter")
        pf2.start()
        s = smtplib.SMTP("127.0.0.1", pf2.port, timeout=60)
        s.sendmail("alice@homing.test", RCPTS, MESSAGE.format(subject="Filtered"))
        s.quit()
        got = wait_received(sink, 3)
        time.sleep(1)
        with sink.lock:
            got = list(sink.received)
        check(len(got) == 3, f"{len(got)} copies through the filter, not 3: {pf2.log()}")
        addrs = sorted(re.search(r"<([^>]+)>", t["rcpts"][0]).group(1).lower() for t in got)
        check(addrs == RCPTS, f"copies went to {addrs}")
        for t in got:
            check(len(t["rcpts"]) == 1, "a filtered copy with several recipients")
            head = t["data"].split(b"\r\n\r\n", 1)[0]
            check(not re.search(rb"(?im)^bcc\s*:", head), "a Bcc header after the filter")
            check(tokens(t["data"], inst.public_port), "a filtered copy without tokens")
        check(len(messages_with_subject(inst, "Filtered")) == 1, "not registered once")
    finally:
        filt.stop()
        pf2.stop()


def main():
    if not os.path.exists(POSTFIX):
        print("FAIL: postfix is not installed (scripts/setup.sh installs it)")
        sys.exit(1)
    r = Runner()
    sink = Sink(dsn=False)
    inst = Instance()
    pf = relay = None
    try:
        cert, key = os.path.join(inst.tmp, "relay.crt"), os.path.join(inst.tmp, "relay.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=relay.homing.test"],
                       check=True, capture_output=True)
        with open(inst.conf, "a") as f:
            f.write(f"\n[send]\nverp = bounce+{{token}}@{BOUNCE_DOMAIN}\n"
                    f"\n[relay]\ntls_cert = {cert}\ntls_key = {key}\nsmarthost_tls = off\n"
                    f"max_message_size = 100000\nmax_recipients = 12\nmax_connections = 4\nstats_file = {inst.tmp}/relay.prom\n")
        inst.run("relay-users", "add", USER, input=PASSWORD + "\n")
        listed = inst.run("relay-users", "list").stdout
        check(listed.strip() == USER, f"relay-users list: {listed!r}")
        with open(os.path.join(inst.dir, "homing.db"), "rb") as f:
            check(PASSWORD.encode() not in f.read(), "the password is in the store")
        pf = Postfix(inst.tmp, sink.port)
        # maildir.test is delivered by virtual(8) into a Maildir per local part
        subprocess.run(["postconf", "-c", pf.conf, "-e",
                        f"virtual_mailbox_domains = {BOUNCE_DOMAIN}, maildir.test"], check=True,
                       timeout=30)
        with open(os.path.join(pf.conf, "vmailbox"), "a") as f:
            for a in MAILDIR_RCPTS:
                box = a.split("@")[0]
                f.write(f"/^{box}@maildir\\.test$/ {box}/\n")
        pf.start()
        relay = Relay(inst)
        relay.start(pf.port)
        for t in (test_to_cc_bcc, test_bcc_direct, test_wrong_password, test_auth_needs_tls,
                  test_sender_login_match, test_oversize, test_syntax, test_upstream_down,
                  test_refusals, test_max_connections, test_users_remove, test_stats_file,
                  test_campaign_dkim_suppressed, test_maildir_delivery, test_track_control,
                  test_init_self_signed,
                  test_postfix_content_filter):
            r.run(t, inst, relay, sink, pf)
    except Failure as e:
        print(f"FAIL: {e}")
        if relay:
            print(relay.text())
        sys.exit(1)
    finally:
        if relay:
            relay.stop()
        if pf:
            pf.stop()
        sink.stop()
        if r.failed and relay:
            print(relay.text())
        inst.close()
    r.finish()


if __name__ == "__main__":
    main()
