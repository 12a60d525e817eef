"""Attribution on the sending path, with a real Postfix on loopback (issue 17).

Each test is a regression test of a bug found by sending as a new user would:
- a copy saved under another name (bobcopy.eml) went to every recipient and
  their opens were recorded as Bob's; an untracked original went to everyone;
- tracking one .eml twice registered two messages with one Message-ID, and
  `homing ingest-log --postfix` gave the first message's log lines to the
  second (delivered recipients marked bounced);
- one delivery reported by a DSN and by the log notified twice, and a deferred
  recipient one `delayed` per log line;
- `homing serve`'s example pixel was a real recipient's (a false open).

homing track -> homing send -> Postfix (the harness of test_delivery_postfix)
-> a Python SMTP sink (ok@ accepted, gone@ 550 5.1.1, slow@ 450).
"""
import glob
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import Instance, Runner, check, http_get, Failure  # noqa: E402
from smtp_sink import Sink  # noqa: E402
from test_delivery_postfix import Postfix, POSTFIX, BOUNCE_DOMAIN  # noqa: E402

WAIT_S = 90

MESSAGE = """\
From: Alice <alice@homing.test>
To: {to}
Subject: {subject}
Message-ID: <same.1@homing.test>
Date: Sun, 22 Nov 2026 20:00:00 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=us-ascii

<html><body><p>Hello, see <a href="https://example.org/figures">the figures</a></p></body></html>
"""


def setup(inst, pf_port):
    with open(inst.conf, "a") as f:
        f.write(f"\n[send]\nverp = bounce+{{token}}@{BOUNCE_DOMAIN}\n"
                f"smtp = 127.0.0.1:{pf_port}\nstarttls = off\n")


def write(inst, name, to, subject="Figures"):
    path = os.path.join(inst.tmp, name)
    open(path, "w").write(MESSAGE.format(to=to, subject=subject))
    return path


def track(inst, src, out, *extra):
    p = inst.run("track", *extra, "-o", out, src)
    m = re.search(r"tracked ([0-9a-f]{16})", p.stdout)
    check(m is not None, f"track: {p.stdout!r}")
    return m.group(1)


def states(inst, pub):
    with inst.db() as c:
        return dict(c.execute("SELECT address, state FROM recipients WHERE message = ?",
                              (int(pub, 16),)).fetchall())


def log_count(pf, what):
    """Lines of the Postfix log matching the regular expression what."""
    try:
        return len(re.findall(what, open(pf.maillog).read(), re.M))
    except OSError:
        return 0


def wait_log(pf, what, n):
    """Waits for n more lines with what than the log has now: returns a waiter."""
    base = log_count(pf, what)

    def wait():
        deadline = time.time() + WAIT_S
        while time.time() < deadline and log_count(pf, what) < base + n:
            time.sleep(0.3)
        check(log_count(pf, what) >= base + n, f"{n} x {what!r} in the Postfix log: " + pf.log())
    return wait


def notices(pf):
    return len(glob.glob(os.path.join(pf.mail, "bounces", "new", "*")))


def copy_for(out, local):
    names = [n for n in os.listdir(out) if f"-{local}@" in n]
    check(len(names) == 1, f"copy of {local} in {os.listdir(out)}")
    return os.path.join(out, names[0])


def test_copy_goes_to_its_recipient(inst, pf, sink):
    src = write(inst, "two.eml", "bob@dest.test, carol@dest.test")
    out = os.path.join(inst.tmp, "two")
    pub = track(inst, src, out)
    # Bob's copy, saved under a name that says nothing
    bob = os.path.join(inst.tmp, "bobcopy.eml")
    os.rename(copy_for(out, "bob"), bob)
    data = open(bob).read()
    before = len(sink.received)
    p = inst.run("send", bob, check_rc=False)
    check(p.returncode == 0, f"send bobcopy.eml: {p.returncode} {p.stderr!r}")
    check(p.stdout.count("sent ") == 1 and "bob@dest.test" in p.stdout and
          "carol" not in p.stdout, f"send progress: {p.stdout!r}")
    deadline = time.time() + WAIT_S
    while time.time() < deadline and len(sink.received) < before + 1:
        time.sleep(0.2)
    time.sleep(1)  # a second envelope (the old bug) would arrive meanwhile
    got = sink.received[before:]
    check(len(got) == 1, f"Postfix passed on {len(got)} messages, wanted 1")
    if got:
        check(len(got[0]["rcpts"]) == 1 and "<bob@dest.test>" in got[0]["rcpts"][0],
              f"RCPT: {got[0]['rcpts']}")
        check(b"X-Homing-Copy" not in got[0]["data"], "the mark left homing")
        check(b"Message-ID:" in got[0]["data"], "no Message-ID")
    st = states(inst, pub)
    check(st == {"bob@dest.test": "sent", "carol@dest.test": "registered"}, f"states: {st}")
    check(data.count("X-Homing-Copy: ") == 1, "the copy carries one X-Homing-Copy header")

    # the untracked original: refused, one line, nothing sent
    n = len(sink.received)
    p = inst.run("send", src, check_rc=False)
    check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and
          "not a tracked copy" in p.stderr, f"untracked original: {p.returncode} {p.stderr!r}")
    # a mark edited by hand: refused
    forged = os.path.join(inst.tmp, "forged.eml")
    open(forged, "w").write(re.sub(r"X-Homing-Copy: (\S)", lambda m: "X-Homing-Copy: " +
                                   ("A" if m.group(1) != "A" else "B"), data))
    p = inst.run("send", forged, check_rc=False)
    check(p.returncode == 2 and "does not verify" in p.stderr, f"forged mark: {p.stderr!r}")
    # Carol's copy with --to bob: refused
    p = inst.run("send", "--message", pub, "--to", "bob@dest.test", copy_for(out, "carol"),
                 check_rc=False)
    check(p.returncode == 2 and "is the copy for carol@dest.test" in p.stderr,
          f"--to another recipient: {p.stderr!r}")
    time.sleep(0.5)
    check(len(sink.received) == n, "a refused file was sent")
    check(inst.event_count(pub) == 1, "a refused file recorded events")


def test_retrack_same_eml(inst, pf, sink):
    """The same .eml tracked twice, each sent: each log line goes to its own copy."""
    def run_pair(extra, n_sent, n_bounced):
        src = write(inst, "pair.eml", "ok@dest.test, gone@dest.test", "Pair")
        again = extra + ["--retrack"] if extra else []
        a = track(inst, src, os.path.join(inst.tmp, "a" + str(n_sent)), *again)
        b = track(inst, src, os.path.join(inst.tmp, "b" + str(n_sent)), *again)
        check(a != b, "two registrations")
        with inst.db() as c:
            mids = [r[0] for r in c.execute("SELECT message_id FROM messages WHERE id IN (?, ?)",
                                            (int(a, 16), int(b, 16)))]
        same = len(set(mids)) == 1
        sent, bounced = (wait_log(pf, r"to=<ok@dest\.test>.*status=sent", 2),
                           wait_log(pf, r"to=<gone@dest\.test>.*status=bounced", 1))
        inst.run("send", os.path.join(inst.tmp, "a" + str(n_sent)), check_rc=False)
        inst.run("send", copy_for(os.path.join(inst.tmp, "b" + str(n_sent)), "ok"))
        sent()
        bounced()
        inst.run("ingest-log", "--postfix", pf.maillog)
        sa, sb = states(inst, a), states(inst, b)
        check(sa == {"ok@dest.test": "delivered", "gone@dest.test": "bounced"},
              f"first message: {sa}")
        check(sb == {"ok@dest.test": "delivered", "gone@dest.test": "registered"},
              f"second message: {sb}")
        check(same == bool(extra), f"Message-IDs {mids} (--keep-message-id: {bool(extra)})")
        # the 5.1.1 put gone@ on the suppression list (docs/suppression.md):
        # taken off again, so the next pair reaches Postfix and bounces anew
        p = inst.run("suppress", "list", "--format", "csv")
        check(re.search(r"^gone@dest\.test,[^,]*,hard_bounce,", p.stdout, re.M) is not None,
              f"not listed after its bounce: {p.stdout!r}")
        inst.run("suppress", "remove", "gone@dest.test")
        return a, b

    run_pair([], 2, 1)
    # the Message-ID kept: refused without --retrack, then told apart by queue id
    src = write(inst, "pair.eml", "ok@dest.test, gone@dest.test", "Pair")
    inst.run("track", "--keep-message-id", "-o", os.path.join(inst.tmp, "k1"), src)
    p = inst.run("track", "--keep-message-id", "-o", os.path.join(inst.tmp, "k2"), src,
                 check_rc=False)
    check(p.returncode == 2 and "registered already" in p.stderr, f"re-track: {p.stderr!r}")
    check(not os.path.exists(os.path.join(inst.tmp, "k2")) or
          not os.listdir(os.path.join(inst.tmp, "k2")), "a refused track wrote copies")
    run_pair(["--keep-message-id"], 4, 2)


def test_notifications_once(inst, pf, sink):
    """A delivery reported by DSN and log notifies once; a deferral once."""
    src = write(inst, "note.eml", "ok@dest.test, slow@dest.test", "Note")
    out = os.path.join(inst.tmp, "note")
    pub = track(inst, src, out)
    maildir = os.path.join(pf.mail, "bounces")
    if os.path.isdir(os.path.join(maildir, "cur")):
        inst.run("ingest", "--maildir", maildir)  # earlier tests' notices out of the way
    deferred = wait_log(pf, r"to=<slow@dest\.test>.*status=deferred", 4)
    inst.run("send", out)
    # slow@ is retried every second or two: wait for several deferrals, and for
    # the success DSN of ok@ (the sink offers no DSN: Postfix reports "relayed")
    # and a delay notice of slow@
    deferred()
    deadline = time.time() + WAIT_S
    while time.time() < deadline and notices(pf) < 2:
        time.sleep(0.3)
    inst.run("ingest-log", "--postfix", pf.maillog)
    inst.run("ingest", "--maildir", maildir)
    with inst.db() as c:
        ev = c.execute("SELECT kind, recipient FROM events WHERE message = ?",
                       (int(pub, 16),)).fetchall()
    delivered = [e for e in ev if e[0] == "delivered"]
    delayed = [e for e in ev if e[0] == "delayed"]
    check(len(delivered) >= 2, f"delivered reported by DSN and log: {ev}")
    check(len(delayed) >= 3, f"several delay events: {ev}")
    inst.serve()
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with inst.db() as c:
                cur = c.execute("SELECT event FROM cursors WHERE name = 'notify'").fetchone()
                last = c.execute("SELECT max(id) FROM events").fetchone()[0]
            if cur and cur[0] >= last:
                break
            time.sleep(0.1)
        with inst.db() as c:
            rows = c.execute("SELECT kind, recipient FROM notifications WHERE message = ? "
                             "ORDER BY id", (int(pub, 16),)).fetchall()
        check(sorted(rows) == [("delayed", 2), ("delivered", 1)], f"notifications: {rows}")
    finally:
        inst.stop()


def test_example_pixel_records_nothing(inst, pf, sink):
    src = write(inst, "px.eml", "reader@dest.test", "Pixel")
    pub = track(inst, src, os.path.join(inst.tmp, "px"))
    inst.serve()
    try:
        deadline = time.time() + 10
        line = None
        while time.time() < deadline and not line:
            m = re.search(r"example pixel[^\n]*?(http://\S+)", inst.daemon_log())
            line = m and m.group(1)
            time.sleep(0.1)
        check(line is not None, f"no example pixel printed: {inst.daemon_log()}")
        path = line.split(str(inst.public_port), 1)[1]
        st, _, body = http_get(inst.public_port, path)
        check(st == 200 and body.startswith(b"GIF"), f"example pixel: {st}")
        before = inst.event_count()
        time.sleep(0.5)
        with inst.db() as c:
            opens = c.execute("SELECT count(*) FROM events WHERE kind = 'open'").fetchone()[0]
        check(opens == 0, f"the example pixel recorded {opens} opens")
        check(inst.event_count() == before, "events recorded")
        check(states(inst, pub) == {"reader@dest.test": "registered"}, "state changed")
        p = inst.run("report", pub)
        check("open" not in p.stdout.lower() or "0" in p.stdout, f"report: {p.stdout!r}")
    finally:
        inst.stop()


def main():
    if not os.path.exists(POSTFIX):
        print("FAIL: postfix is not installed (scripts/setup.sh installs it)")
        sys.exit(1)
    r = Runner()
    sink = Sink(dsn=False)  # Postfix itself then reports a relayed delivery
    inst = Instance()
    pf = None
    try:
        pf = Postfix(inst.tmp, sink.port)
        setup(inst, pf.port)
        pf.start()
        for t in (test_copy_goes_to_its_recipient, test_retrack_same_eml,
                  test_example_pixel_records_nothing, test_notifications_once):
            r.run(t, inst, pf, sink)
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    finally:
        if pf:
            pf.stop()
        sink.stop()
        inst.close()
    r.finish()


if __name__ == "__main__":
    main()
