"""DKIM signing on the sending path (issue 17): `homing dkim-keys create` makes
a key and prints its DNS record, `homing track` + `homing send` deliver signed
copies to an SMTP sink, and `homing trace --dns-zone` verifies each copy as the
sink got it against that record, with both verifiers (ours and libopendkim's):
pass as sent, fail once the body is changed. Also: a domain without a key is
sent unsigned, a key readable by others stops the run before anything is sent,
a key is never replaced, and `dkim-keys show` / `list` agree with `create`.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import HOMING, Instance, Runner, check, Failure  # noqa: E402
from smtp_sink import Sink  # noqa: E402

WAIT_S = 30

MESSAGE = """\
From: Alice <alice@{domain}>
To: bob@dest.test, carol@dest.test
Subject: Figures
Message-ID: <{mid}@{domain}>
Date: Mon, 07 Dec 2026 03:00:00 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=us-ascii

<html><body><p>Hello, see <a href="https://example.org/figures">the figures</a></p></body></html>
"""


def write(inst, name, domain):
    path = os.path.join(inst.tmp, name + ".eml")
    open(path, "w").write(MESSAGE.format(domain=domain, mid=name))
    return path


def track(inst, src, name):
    out = os.path.join(inst.tmp, name)
    p = inst.run("track", "-o", out, src)
    check(re.search(r"tracked [0-9a-f]{16}", p.stdout), f"track: {p.stdout!r}")
    return out


def received(sink, n, before):
    deadline = time.time() + WAIT_S
    while time.time() < deadline and len(sink.received) < before + n:
        time.sleep(0.1)
    got = sink.received[before:]
    check(len(got) == n, f"the sink got {len(got)} messages, wanted {n}")
    return got


def zone_file(inst, line, name="zone.txt"):
    """The `name TXT "text"` file homing trace --dns-zone reads, from the zone
    line dkim-keys printed: NAME. IN TXT ( "..." "..." ), strings joined."""
    m = re.match(r'^(\S+)\. IN TXT \(((?: "[^"]{1,255}")+) \)$', line)
    check(m is not None, f"not a zone line: {line!r}")
    text = "".join(re.findall(r'"([^"]*)"', m.group(2)))
    check(text.startswith("v=DKIM1; k=rsa; p="), f"record: {text!r}")
    path = os.path.join(inst.tmp, name)
    open(path, "w").write(f'{m.group(1)} TXT "{text}"\n')
    return path


def dkim_results(inst, zone, data, verifier):
    path = os.path.join(inst.tmp, "copy.eml")
    open(path, "wb").write(data)
    p = subprocess.run([HOMING, "-c", inst.conf, "trace", "--json", "--dns-zone", zone,
                        "--dkim-verifier", verifier, path], capture_output=True, timeout=60)
    check(p.returncode == 0, f"trace: {p.returncode} {p.stderr!r}")
    sigs = json.loads(p.stdout)["verification"].get("dkim") or []
    return [(g.get("d"), g.get("s"), g.get("algorithm"), g.get("result")) for g in sigs]


def test_create_show_list(inst, st):
    p = inst.run("dkim-keys", "create", "Homing.Test")
    lines = p.stdout.splitlines()
    check(len(lines) == 1 and lines[0].startswith("homing._domainkey.homing.test. IN TXT ("),
          f"create printed {p.stdout!r}")
    key = os.path.join(inst.dir, "dkim", "homing.test.homing.key")
    check(os.stat(key).st_mode & 0o777 == 0o600, "key file mode is not 0600")
    st["line"] = lines[0]
    st["zone"] = zone_file(inst, lines[0])
    before = open(key).read()
    again = inst.run("dkim-keys", "create", "homing.test", check_rc=False)
    check(again.returncode == 2 and "never replaced" in again.stderr,
          f"second create: {again.returncode} {again.stderr!r}")
    check(open(key).read() == before, "the key was replaced")
    show = inst.run("dkim-keys", "show", "homing.test")
    check(show.stdout.strip() == lines[0], f"show: {show.stdout!r}")
    lst = inst.run("dkim-keys", "list")
    check(re.search(r"^homing\.test\s+homing\s+2048\s+yes$", lst.stdout, re.M),
          f"list: {lst.stdout!r}")
    none = inst.run("dkim-keys", "show", "other.test", check_rc=False)
    check(none.returncode == 1, f"show of a domain without key: {none.returncode}")
    bad = inst.run("dkim-keys", "create", "../x", check_rc=False)
    check(bad.returncode == 2 and not os.path.exists(os.path.join(inst.dir, "dkim", "..", "x")),
          "a path as a domain")


def test_send_signed(inst, st, sink):
    out = track(inst, write(inst, "signed", "homing.test"), "signed")
    before = len(sink.received)
    p = inst.run("send", out, check_rc=False)
    check(p.returncode == 0, f"send: {p.returncode} {p.stderr!r}")
    check("2 of 2 copies DKIM-signed" in p.stderr, f"send summary: {p.stderr!r}")
    for got in received(sink, 2, before):
        data = got["data"]
        check(data.startswith(b"DKIM-Signature: "), f"not signed first: {data[:80]!r}")
        check(b"X-Homing-Copy" not in data, "the mark left homing")
        for verifier in ("homing", "opendkim"):
            res = dkim_results(inst, st["zone"], data, verifier)
            check(res == [("homing.test", "homing", "rsa-sha256", "pass")],
                  f"{verifier}: {res}")
            # the tracked body is what was signed: one changed byte fails
            bad = data.replace(b"the figures", b"the flgures", 1)
            check(bad != data, "nothing to change")
            res = dkim_results(inst, st["zone"], bad, verifier)
            check(res == [("homing.test", "homing", "rsa-sha256", "fail")],
                  f"{verifier}, changed body: {res}")


def test_send_unsigned_without_key(inst, st, sink):
    out = track(inst, write(inst, "nokey", "nokey.test"), "nokey")
    before = len(sink.received)
    p = inst.run("send", out, check_rc=False)
    check(p.returncode == 0, f"send: {p.returncode} {p.stderr!r}")
    check("0 of 2 copies DKIM-signed" in p.stderr, f"send summary: {p.stderr!r}")
    for got in received(sink, 2, before):
        check(b"DKIM-Signature" not in got["data"], "a copy without key was signed")


def test_key_readable_by_others_stops(inst, st, sink):
    key = os.path.join(inst.dir, "dkim", "homing.test.homing.key")
    out = track(inst, write(inst, "open", "homing.test"), "open")
    os.chmod(key, 0o644)
    try:
        before = len(sink.received)
        p = inst.run("send", out, check_rc=False)
        check(p.returncode == 2 and "readable by others" in p.stderr,
              f"send with a 0644 key: {p.returncode} {p.stderr!r}")
        time.sleep(0.5)
        check(len(sink.received) == before, "a copy left unsigned")
    finally:
        os.chmod(key, 0o600)


def main():
    r = Runner()
    sink = Sink()
    inst = Instance()
    st = {}
    try:
        inst.set_config({"send.smtp": f"127.0.0.1:{sink.port}", "send.starttls": "off",
                         "send.verp": "bounce+{token}@bounces.homing.test"})
        r.run(test_create_show_list, inst, st)
        if "zone" not in st:
            raise Failure("no key to go on with")
        for t in (test_send_signed, test_send_unsigned_without_key,
                  test_key_readable_by_others_stops):
            r.run(t, inst, st, sink)
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    finally:
        sink.stop()
        inst.close()
    r.finish()


if __name__ == "__main__":
    main()
