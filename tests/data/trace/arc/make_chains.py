#!/usr/bin/python3
"""make_chains.py: writes the ARC test messages of tests/data/trace/arc with
dkimpy (Debian python3-dkim, dkim.arc_sign), the oracle of issue 15.

Run from the source tree with Debian's python3 (dkimpy and authres are Debian
packages): /usr/bin/python3 tests/data/trace/arc/make_chains.py

Every set is sealed at a fixed time (t=1647504000) with the RSA-1024 test key
../dkim/test.private, published for each relay in ../zone.txt
(arc1._domainkey.relay1.example ...); RSA PKCS#1 v1.5 is deterministic, so a
second run writes the same bytes. tests/integration/test_trace.py verifies
every message again with dkim.arc_verify and compares its verdict with ours.
"""
import os

import dkim

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = open(os.path.join(HERE, "..", "dkim", "test.private"), "rb").read()
T = 1647504000

# CRLF throughout: dkimpy 1.1.4 ends the ARC-Authentication-Results it seals
# with CRLF whatever linesep says, so a chain made with LF does not verify even
# in dkimpy.
BASE = (b"From: Alice <alice@sender.example>\r\n"
        b"To: list@lists.example\r\n"
        b"Subject: ARC test message\r\n"
        b"Date: Thu, 17 Mar 2022 08:00:00 +0000\r\n"
        b"Message-ID: <arc-test@sender.example>\r\n"
        b"\r\n"
        b"A message forwarded through relays that seal it with ARC.\r\n")


def hop(msg, n, ar):
    """Relay n adds its Authentication-Results and seals (one ARC set)."""
    srv = b"relay%d.example" % n
    msg = b"Authentication-Results: " + srv + b"; " + ar + b"\r\n" + msg
    lines = dkim.arc_sign(msg, b"arc%d" % n, srv, KEY, srv, timestamp=T)
    assert lines, f"dkimpy did not seal hop {n}"
    return b"".join(lines) + msg


def deliver(msg, arc_result):
    """The final receiver (mx.example.org) on top: its Received and results."""
    return (b"Received: from relay.example (relay.example [192.0.2.10])\r\n"
            b"\tby mx.example.org (Postfix) with ESMTPS id 4Zarc\r\n"
            b"\tfor <bob@example.org>; Thu, 17 Mar 2022 08:00:09 +0000\r\n"
            b"Authentication-Results: mx.example.org; arc=" + arc_result + b"\r\n" + msg)


def write(name, msg):
    with open(os.path.join(HERE, name + ".eml"), "wb") as f:
        f.write(msg)


def main():
    h1 = hop(BASE, 1, b"spf=pass smtp.mailfrom=sender.example; dkim=none")
    h2 = hop(h1, 2, b"arc=pass (i=1); spf=fail smtp.mailfrom=sender.example")
    h3 = hop(h2, 3, b"arc=pass (i=2); spf=pass smtp.mailfrom=relay2.example")
    write("arc-1hop", deliver(h1, b"pass"))
    write("arc-2hop", deliver(h2, b"pass"))
    write("arc-3hop", deliver(h3, b"pass"))
    # instance 2 loses its ARC-Message-Signature: the chain is broken
    lines = h3.split(b"\r\n")
    out, skip = [], False
    for line in lines:
        if line.lower().startswith(b"arc-message-signature:") and b"i=2;" in line:
            skip = True
            continue
        if skip and line[:1] in (b" ", b"\t"):
            continue
        skip = False
        out.append(line)
    write("arc-missing", deliver(b"\r\n".join(out), b"fail"))
    # relay 2 found the chain broken and sealed it so (cv=fail)
    bad = h1.replace(b"A message forwarded", b"A message altered and forwarded")
    f2 = hop(bad, 2, b"arc=fail (i=1); spf=fail smtp.mailfrom=sender.example")
    assert b"cv=fail" in f2
    write("arc-sealed-fail", deliver(f2, b"fail"))
    # altered after the last seal: body, then an earlier hop's results
    write("arc-tampered-body",
          deliver(h2.replace(b"through relays", b"through other relays"), b"fail"))
    t = h2.replace(b"i=1; relay1.example; spf=pass", b"i=1; relay1.example; spf=softfail")
    assert t != h2
    write("arc-tampered-header", deliver(t, b"fail"))


if __name__ == "__main__":
    main()
