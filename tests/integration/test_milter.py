"""homing milter behind a real Postfix on loopback (smtpd_milters).

Postfix (its own config, queue and maillog; the harness of
test_delivery_postfix.py) delivers dest.test through virtual(8) into one
Maildir per local part. Two smtpd listeners: the first uses milter A (the
defaults: on_error and oversize accept), the second milter B (on_error
tempfail, oversize reject). The policy table gives each mailbox a policy.
Checked:
- tag: every message of tests/data/scan/msgs arrives with X-Homing-Trackers
  giving the count and vendors `homing scan` finds, body unchanged;
- strip: each arrives with the HTML parts `homing strip` writes, and those,
  rendered in headless Chromium with every host mapped to a logging server on
  127.0.0.1, make no request at all (the originals make many: the check can
  fail); a DKIM-signed one gets X-Homing-DKIM;
- notice: the visible notice at the top of the text and HTML parts;
- two recipients with different policies: the strictest applies to both;
- reject answers 550 5.7.1, quarantine puts the message on hold;
- an S/MIME signed message (openssl) arrives byte for byte as sent (only
  Postfix's trace headers and the X-Homing-* tags added) and still verifies;
- a message homing fails on: delivered unchanged (A), 451 (B); a message over
  milter.max_message: delivered untouched (A), 552 (B);
- killing milter A with SIGKILL in the middle of a DATA transfer loses nothing:
  Postfix's milter_default_action = accept delivers it, and the next one too.
Postfix and the milters are stopped at the end even when a check fails.
"""
import email
import email.policy
import glob
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "browser"))
from homing_test import HOMING, SRC, Instance, Runner, check, free_port, Failure  # noqa: E402
from test_delivery_postfix import Postfix, POSTFIX  # noqa: E402
from browser_env import need_tools  # noqa: E402

MSGS = os.path.join(SRC, "tests", "data", "scan", "msgs")
WAIT_S = 60
BOXES = ("tagme", "stripme", "noticeme", "refuse", "hold")
POLICY = ("tagme@dest.test=tag, stripme@dest.test=strip, noticeme@dest.test=notice, "
          "refuse@dest.test=reject, hold@dest.test=quarantine")


class Milter:
    def __init__(self, root, name, extra, unix=False):
        self.port = free_port()
        self.sock = os.path.join(root, f"{name}.sock") if unix else None
        self.spec = f"unix:{self.sock}" if unix else f"inet:127.0.0.1:{self.port}"
        self.conf = os.path.join(root, f"{name}.conf")
        self.log = os.path.join(root, f"{name}.log")
        self.stats = os.path.join(root, f"{name}.prom")
        values = {"listen": f"unix:{self.sock}" if unix else f"127.0.0.1:{self.port}",
                  "default_policy": "off",
                  "policy": POLICY, "authserv_id": "mx.dest.test", "stats_file": self.stats}
        values.update(extra)
        with open(self.conf, "w") as f:
            f.write("[milter]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([HOMING, "-c", self.conf, "milter"], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "a"))
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"milter exited {self.proc.returncode}: {self.text()}")
            try:
                if self.sock:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(self.sock)
                    s.close()
                    os.chmod(self.sock, 0o666)  # the milter is root here, smtpd is postfix
                else:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise Failure("milter did not listen within 20 s")

    def text(self):
        try:
            return open(self.log).read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def sni(hello):
    """The server name of a TLS ClientHello (RFC 6066), or "?"."""
    try:
        i = 5 + 4 + 2 + 32  # record header, handshake header, version, random
        i += 1 + hello[i]  # session id
        i += 2 + int.from_bytes(hello[i:i + 2], "big")  # cipher suites
        i += 1 + hello[i]  # compression methods
        end = i + 2 + int.from_bytes(hello[i:i + 2], "big")
        i += 2
        while i + 4 <= end:
            kind, n = int.from_bytes(hello[i:i + 2], "big"), int.from_bytes(hello[i + 2:i + 4], "big")
            if kind == 0:
                return hello[i + 9:i + 4 + n].decode("latin-1").lower()
            i += 4 + n
    except (IndexError, ValueError):
        pass
    return "?"


# Chromium's own services (network time, component updates, safe browsing):
# it calls them by itself, whatever the page holds (an empty document gets
# the same), as it opens and drops sockets without a byte sent (its
# speculative connections; host "?", nothing sent). Anything else the logging
# server sees came from a document.
CHROMIUM_SERVICES = re.compile(r"^(clients\d*\.google\.com|update\.googleapis\.com|"
                               r"[a-z0-9-]+\.gvt1\.com|safebrowsing\.googleapis\.com|"
                               r"accounts\.google\.com|optimizationguide-pa\.googleapis\.com|"
                               r"content-autofill\.googleapis\.com|edgedl\.me\.gvt1\.com|"
                               r"www\.google\.com|android\.clients\.google\.com)$")


class LogServer:
    """Counts every connection made to it (HTTP or TLS alike) and answers a
    small image: the place every host name points to in Chromium."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(c,), daemon=True).start()

    def answer(self, c):
        """One connection, in a thread of its own: a socket Chromium opens and
        leaves idle must not hold up the others."""
        c.settimeout(2)
        try:
            data = c.recv(4096)
            if data[:1] == b"\x16":  # a TLS ClientHello: the host is its SNI
                host, first = sni(data), "TLS"
            else:
                first = data.split(b"\r\n")[0][:200].decode("latin-1")
                m = re.search(rb"\r\nHost: *([^\r\n:]*)", data, re.I)
                host = m.group(1).decode("latin-1").lower() if m else "?"
            with self.lock:
                self.requests.append((host, first))
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def setup_postfix(pf, milter_a, milter_b):
    """The harness's Postfix, turned into the final destination of dest.test
    with milter A on its first smtpd and milter B on a second one."""
    for kv in ("virtual_mailbox_domains = dest.test",
               f"smtpd_milters = {milter_a.spec}",
               "milter_default_action = accept", "milter_protocol = 6",
               "non_smtpd_milters =", "message_size_limit = 10240000"):
        subprocess.run(["postconf", "-c", pf.conf, "-e", kv], check=True, timeout=30)
    with open(os.path.join(pf.conf, "vmailbox"), "w") as f:
        for b in BOXES:  # virtual(8) allows no $1 substitution: one line each
            f.write(f"/^{b}@dest\\.test$/ {b}/\n")
    pf.port_b = free_port()
    with open(os.path.join(pf.conf, "master.cf"), "a") as f:
        f.write(f"127.0.0.1:{pf.port_b} inet n - n - - smtpd\n"
                f"  -o smtpd_milters={milter_b.spec}\n")


def unfold(v):
    return re.sub(r"\r?\n[ \t]", " ", v or "")


def box(pf, name):
    return sorted(glob.glob(os.path.join(pf.mail, name, "new", "*")))


def wait_box(pf, name, n):
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        if len(box(pf, name)) >= n:
            return box(pf, name)
        time.sleep(0.1)
    raise Failure(f"{name}: {len(box(pf, name))} of {n} messages after {WAIT_S}s; {pf.log()}")


def delivered(pf, name, test_id):
    for p in box(pf, name):
        raw = open(p, "rb").read()
        if f"X-Test-Id: {test_id}\n".encode() in raw:
            return raw
    raise Failure(f"{name}: no message {test_id}")


def send(port, rcpts, raw):
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        # CRLF throughout: smtplib adds a CRLF to a message not ending in one
        s.sendmail("sender@src.test", rcpts, lf(raw).replace(b"\n", b"\r\n"))


def lf(b):
    return b.replace(b"\r\n", b"\n")


def split(raw):
    head, _, body = lf(raw).partition(b"\n\n")
    return head, body


def html_parts(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = []
    for p in msg.walk():
        if p.get_content_type() == "text/html":
            data = p.get_payload(decode=True) or b""
            out.append(data.decode(p.get_content_charset() or "utf-8", "replace"))
    return out


def corpus():
    """(name, bytes) of every corpus message, each with an X-Test-Id header."""
    out = []
    for m in sorted(os.listdir(MSGS)):
        if m.endswith(".eml"):
            out.append((m, f"X-Test-Id: {m}\n".encode() + open(os.path.join(MSGS, m), "rb").read()))
    return out


def scan_json(tmp, raw):
    p = os.path.join(tmp, "scan.eml")
    open(p, "wb").write(raw)
    r = subprocess.run([HOMING, "scan", "--json", p], capture_output=True, timeout=60)
    return json.loads(r.stdout)["messages"][0]


def strip_of(tmp, raw):
    p = os.path.join(tmp, "strip.eml")
    open(p, "wb").write(raw)
    r = subprocess.run([HOMING, "strip", p], capture_output=True, timeout=60)
    check(r.returncode == 0, f"homing strip: {r.stderr}")
    return r.stdout


def render(node, tmp, docs, port):
    files = []
    for i, h in enumerate(docs):
        p = os.path.join(tmp, f"doc{len(os.listdir(tmp))}_{i}.html")
        open(p, "w").write(h)
        files.append(p)
    manifest = os.path.join(tmp, "manifest.json")
    json.dump(files, open(manifest, "w"))
    r = subprocess.run([node, os.path.join(SRC, "tests", "browser", "milter_render.mjs"), manifest,
                        str(port)], capture_output=True, timeout=600,
                       cwd=os.path.join(SRC, "tests", "browser"))
    if r.returncode != 0:
        raise Failure("milter_render.mjs: " + r.stderr.decode(errors="replace")[-2000:])
    return json.loads(r.stdout)


def smime_message(tmp):
    """An S/MIME clear-signed HTML message carrying a tracking pixel."""
    key, cert = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=signer@src.test"], check=True,
                   capture_output=True, timeout=60)
    inner = os.path.join(tmp, "inner.txt")
    open(inner, "wb").write(
        b"Content-Type: text/html; charset=us-ascii\r\n\r\n<html><body><p>signed</p>"
        b"<img src=\"http://us1.list-manage.com/track/open.php?u=1&amp;id=2\" width=1 height=1>"
        b"</body></html>\r\n")
    r = subprocess.run(["openssl", "smime", "-sign", "-in", inner, "-signer", cert, "-inkey", key],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, f"openssl smime -sign: {r.stderr}")
    head = (b"X-Test-Id: smime\r\nFrom: Signer <signer@src.test>\r\nTo: stripme@dest.test\r\n"
            b"Subject: signed\r\nMessage-ID: <smime.1@src.test>\r\n"
            b"Date: Mon, 7 Dec 2026 00:00:00 +0000\r\n")
    return head + lf(r.stdout).replace(b"\n", b"\r\n"), cert


def test_milter():
    node = need_tools()
    inst = Instance()
    root = inst.tmp
    pf = milter_a = milter_b = logsrv = None
    try:
        milter_a = Milter(root, "a", {"max_message": 300000})
        # B on a unix socket, where it asks for no reply per header
        milter_b = Milter(root, "b", {"max_message": 300000, "on_error": "tempfail",
                                      "oversize": "reject"}, unix=True)
        pf = Postfix(root, free_port())
        setup_postfix(pf, milter_a, milter_b)
        milter_a.start()
        milter_b.start()
        pf.start()
        tmp = os.path.join(root, "work")
        os.makedirs(tmp)

        msgs = corpus()
        # --- tag: X-Homing-Trackers agrees with homing scan, body unchanged
        for name, raw in msgs:
            send(pf.port, ["tagme@dest.test"], raw)
        wait_box(pf, "tagme", len(msgs))
        tagged_with_trackers = 0
        for name, raw in msgs:
            got = delivered(pf, "tagme", name)
            msg = email.message_from_bytes(got)
            sc = scan_json(tmp, raw)
            tags = unfold(msg["X-Homing-Trackers"])
            check(tags.startswith(f"{sc['count']};"), f"tag {name}: {tags!r} vs {sc['count']}")
            vendors = []
            for f in sc["findings"]:
                if f.get("vendor") and f["vendor"] not in vendors:
                    vendors.append(f["vendor"])
            if vendors:
                check(f'vendors="{", ".join(vendors[:8])}"' in tags, f"vendors {name}: {tags!r}")
            res = unfold(msg["X-Homing-Tracker-Results"])
            check(res.startswith("mx.dest.test; tracking=" +
                                 ("found" if sc["count"] else "none")), f"results {name}: {res}")
            check(split(got)[1] == split(raw)[1], f"tag changed the body of {name}")
            check(msg["X-Homing-Stripped"] is None, f"tag stripped {name}")
            tagged_with_trackers += sc["count"] > 0
        check(tagged_with_trackers >= 8, f"only {tagged_with_trackers} corpus messages track")

        # --- strip: the HTML homing strip writes; DKIM noted
        for name, raw in msgs:
            send(pf.port, ["stripme@dest.test"], raw)
        dk = (b"X-Test-Id: dkim\nDKIM-Signature: v=1; a=rsa-sha256; d=bakery.example; s=k1;\n"
              b"\tbh=abc; b=def\n" + msgs[[n for n, _ in msgs].index("mailchimp.eml")][1]
              .split(b"\n", 1)[1])
        send(pf.port, ["stripme@dest.test"], dk)
        wait_box(pf, "stripme", len(msgs) + 1)
        stripped_docs, original_docs, changed = [], [], 0
        for name, raw in msgs:
            got = delivered(pf, "stripme", name)
            want = html_parts(strip_of(tmp, raw))
            have = html_parts(got)
            check(have == want, f"strip {name}: the delivered HTML differs from homing strip's")
            stripped_docs += have
            original_docs += html_parts(raw)
            changed += email.message_from_bytes(got)["X-Homing-Stripped"] is not None
        check(changed >= 8, f"only {changed} messages stripped")
        got = email.message_from_bytes(delivered(pf, "stripme", "dkim"))
        check("invalidated; d=bakery.example" in unfold(got["X-Homing-DKIM"]),
              f"X-Homing-DKIM: {got['X-Homing-DKIM']!r}")

        # --- Chromium: the stripped HTML loads nothing; the originals do
        logsrv = LogServer()
        seen = render(node, tmp, stripped_docs, logsrv.port)
        time.sleep(0.5)
        net = [u for reqs in seen.values() for u in reqs
               if not u.startswith(("data:", "cid:", "about:"))]
        hits = [r for r in logsrv.requests
                if not CHROMIUM_SERVICES.match(r[0]) and r != ("?", "")]
        check(net == [] and hits == [], f"stripped mail made requests: {net[:10]} {hits[:10]}")
        check(len(seen) == len(stripped_docs) >= 10, f"rendered {len(seen)} documents")
        print(f"chromium's own requests: {sorted(set(r[0] for r in logsrv.requests))}")
        logsrv.requests.clear()
        render(node, tmp, original_docs, logsrv.port)
        time.sleep(0.5)
        hits = [r for r in logsrv.requests
                if not CHROMIUM_SERVICES.match(r[0]) and r != ("?", "")]
        check(len(hits) >= 20, f"the originals made {len(hits)} requests (the check is blind)")
        print(f"chromium: {len(stripped_docs)} stripped documents, 0 requests; the originals "
              f"{len(hits)} requests to {len(set(h for h, _ in hits))} hosts")

        # --- notice; two recipients: the strictest policy for both
        mc = msgs[[n for n, _ in msgs].index("mailchimp.eml")][1]
        send(pf.port, ["noticeme@dest.test"], mc)
        both = b"X-Test-Id: both\n" + mc.split(b"\n", 1)[1]
        send(pf.port, ["tagme@dest.test", "noticeme@dest.test"], both)
        wait_box(pf, "noticeme", 2)  # before "viab" below
        for nm in ("mailchimp.eml", "both"):
            got = delivered(pf, "noticeme", nm)
            m = email.message_from_bytes(got)
            for p in m.walk():
                if p.get_content_type() == "text/plain":
                    t = p.get_payload(decode=True).decode()
                    check(t.startswith("[homing removed 3 trackers (Mailchimp)"), f"text: {t[:80]!r}")
                if p.get_content_type() == "text/html":
                    h = p.get_payload(decode=True).decode()
                    check(re.search(r"<body[^>]*><div style=[^>]*>homing removed 3 trackers", h),
                          f"html notice: {h[:300]!r}")
        got = delivered_wait(pf, "tagme", "both")
        check(b"homing removed 3 trackers" in got, "the tag recipient did not get the notice")

        # --- the same through B (unix socket, no reply per header): the same result
        send(pf.port_b, ["noticeme@dest.test"], b"X-Test-Id: viab\n" + mc.split(b"\n", 1)[1])
        got = delivered_wait(pf, "noticeme", "viab")
        check(b"homing removed 3 trackers" in got and b"X-Homing-Trackers: 3;" in got,
              f"through B: {got[:800]}")

        # --- reject and quarantine
        try:
            send(pf.port, ["refuse@dest.test"], mc)
            check(False, "reject policy: accepted")
        except smtplib.SMTPDataError as e:
            check(e.smtp_code == 550 and b"5.7.1" in e.smtp_error and b"3 trackers" in e.smtp_error,
                  f"reject: {e}")
        send(pf.port, ["hold@dest.test"], mc)
        deadline = time.time() + WAIT_S
        while time.time() < deadline and not glob.glob(os.path.join(pf.queue, "hold", "*")):
            time.sleep(0.1)
        check(glob.glob(os.path.join(pf.queue, "hold", "*")), "quarantine: nothing on hold")
        check(not box(pf, "hold"), "quarantine: delivered anyway")

        # --- signed: byte for byte, and it still verifies
        sm, cert = smime_message(tmp)
        send(pf.port, ["stripme@dest.test"], sm)
        send(pf.port, ["noticeme@dest.test"], sm)
        for b in ("stripme", "noticeme"):
            got = delivered_wait(pf, b, "smime")
            head, body = split(got)
            ohead, obody = split(sm)
            check(body == obody, f"{b}: the signed body changed")
            kept = [l for l in re.split(rb"\n(?![ \t])", head)
                    if not re.match(rb"(Return-Path|Delivered-To|X-Original-To|Received|X-Homing-[A-Za-z-]+):",
                                    l)]
            check(b"\n".join(kept) == ohead,
                  f"{b}: the signed message's headers changed: {kept} vs {ohead}")
            check(b"X-Homing-Trackers: 1;" in got, f"{b}: signed mail not tagged")
            check(b"X-Homing-DKIM" not in got and b"X-Homing-Stripped" not in got, f"{b}: {got[:600]}")
            p = os.path.join(tmp, "signed.eml")
            open(p, "wb").write(got)
            v = subprocess.run(["openssl", "smime", "-verify", "-in", p, "-CAfile", cert,
                                "-out", os.devnull], capture_output=True, timeout=60)
            check(v.returncode == 0, f"{b}: signature no longer verifies: {v.stderr}")

        # --- failures inside homing: A accepts unchanged, B answers 451
        deep = (b"X-Test-Id: deep\nFrom: " + b"(" * 300 + b"a@src.test\nTo: stripme@dest.test\n"
                b"Subject: deep\n\n<img src=http://t.example/p.gif>\n")
        send(pf.port, ["stripme@dest.test"], deep)
        got = delivered_wait(pf, "stripme", "deep")
        check(split(got)[1] == split(deep)[1] and b"X-Homing-" not in got, "failure: not unchanged")
        check("answering accept" in milter_a.text(), "failure not logged: " + milter_a.text()[-500:])
        try:
            send(pf.port_b, ["stripme@dest.test"], deep)
            check(False, "on_error = tempfail: accepted")
        except smtplib.SMTPDataError as e:
            check(400 <= e.smtp_code < 500, f"on_error = tempfail: {e}")
        check("answering tempfail" in milter_b.text(), "B: " + milter_b.text()[-500:])

        # --- over milter.max_message: A passes it untouched, B refuses
        big = (b"X-Test-Id: big\n" + mc.split(b"\n", 1)[1].rstrip(b"\n") + b"\n" +
               (b"x" * 75 + b"\n") * 5000)
        send(pf.port, ["stripme@dest.test"], big)
        got = delivered_wait(pf, "stripme", "big")
        check(b"X-Homing-" not in got and split(got)[1] == split(big)[1], "oversize: not untouched")
        check("milter.max_message" in milter_a.text(), "oversize not logged")
        try:
            send(pf.port_b, ["stripme@dest.test"], big)
            check(False, "oversize = reject: accepted")
        except smtplib.SMTPDataError as e:
            check(e.smtp_code == 552, f"oversize = reject: {e}")

        deadline = time.time() + 10  # rewritten once a second
        while time.time() < deadline:
            stats = open(milter_a.stats).read()
            if re.search(r"homing_milter_oversize_total [1-9]", stats):
                break
            time.sleep(0.2)
        check(re.search(r'homing_milter_messages_total\{policy="strip"\} [1-9]', stats), stats)
        check(re.search(r"homing_milter_errors_total [1-9]", stats), stats)
        check(re.search(r"homing_milter_oversize_total [1-9]", stats), stats)

        # --- SIGKILL in the middle of a DATA transfer: nothing lost
        before = len(box(pf, "stripme"))
        s = smtplib.SMTP("127.0.0.1", pf.port, timeout=60)
        s.ehlo()
        s.mail("sender@src.test")
        s.rcpt("stripme@dest.test")
        code, _ = s.docmd("DATA")
        check(code == 354, f"DATA: {code}")
        kill = b"X-Test-Id: killed\r\n" + mc.split(b"\n", 1)[1].replace(b"\n", b"\r\n")
        half = len(kill) // 2
        s.send(kill[:half])
        time.sleep(0.3)
        milter_a.proc.send_signal(signal.SIGKILL)
        milter_a.proc.wait(10)
        s.send(kill[half:].rstrip(b"\r\n") + b"\r\n.\r\n")
        code, resp = s.getreply()
        check(code == 250, f"end of DATA with the milter killed: {code} {resp}")
        s.quit()
        send(pf.port, ["stripme@dest.test"], b"X-Test-Id: after\n" + mc.split(b"\n", 1)[1])
        wait_box(pf, "stripme", before + 2)
        got = delivered(pf, "stripme", "killed")
        check(lf(split(got)[1]) == split(kill)[1], "the message of the killed session changed")
        delivered(pf, "stripme", "after")

        # the sanitizer builds: no report from either milter; B stops cleanly
        milter_b.stop()
        check(milter_b.proc.returncode == 0, f"milter B exited {milter_b.proc.returncode}")
        for m in (milter_a, milter_b):
            log = m.text()
            check("Sanitizer" not in log and "runtime error" not in log, log[-3000:])
    finally:
        for x in (logsrv, milter_a, milter_b):
            if x:
                x.stop()
        if pf:
            pf.stop()
        inst.close()


def delivered_wait(pf, name, test_id):
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        try:
            return delivered(pf, name, test_id)
        except Failure:
            time.sleep(0.1)
    return delivered(pf, name, test_id)


def test_cli():
    r = subprocess.run([HOMING, "milter", "--help"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "smtpd_milters" in r.stdout, f"--help: {r.stdout!r}")
    inst = Instance()
    try:
        r = subprocess.run([HOMING, "-c", inst.conf, "milter", "--policy", "example.org=burn"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "example.org=burn" in r.stderr, f"bad policy: {r.stderr!r}")
        r = subprocess.run([HOMING, "-c", inst.conf, "milter", "--default", "maybe"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, f"bad default: {r.stderr!r}")
    finally:
        inst.close()


if __name__ == "__main__":
    if not os.path.exists(POSTFIX):
        print("FAIL: postfix is not installed (scripts/setup.sh installs it)")
        sys.exit(1)
    r = Runner()
    r.run(test_cli)
    r.run(test_milter)
    r.finish()
