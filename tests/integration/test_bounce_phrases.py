#!/usr/bin/env python3
"""Documented bounce replies: does the reason classifier read what MTAs and
providers publish as their own error texts?

tests/data/bounce-phrases/examples.tsv holds one documented reply per line
(reason, status, the reply text as its source writes it, source key); the
README there names each source and its licence. None of these lines comes
from the tuned corpus (tests/data/bounces) or the measure-only corpus
(tests/data/bounces-measure). Each line becomes a small RFC 3464 DSN (one
recipient, Action: failed, the Status and the text as Diagnostic-Code) and
goes through `homing bounce --json`; the reason must equal the label.

This is the set the phrase families and code rows were written from, so it
proves that the rules say what the documentation says (a regression test),
not how well they generalise: docs/delivery.md has that measure.

Environment: HOMING_BIN (the binary), HOMING_SRC (the source tree).
Run with -v to list every miss.
"""
import json
import os
import subprocess
import sys
import tempfile

# Every documented example must be read right: the table is written from them.
FLOOR = 1.0

DSN = """From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.org
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0"

--b0
Content-Type: text/plain

This is the mail system at host mx.example.org.

--b0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: {status}
Diagnostic-Code: smtp; {text}

--b0--
"""


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            p = line.rstrip("\n").split("\t")
            if len(p) != 4:
                raise SystemExit("%s:%d: want 4 tab-separated fields" % (path, ln))
            rows.append({"line": ln, "reason": p[0], "status": p[1], "text": p[2],
                         "source": p[3]})
    return rows


def messages(binary, src, verbose, by_source):
    """messages.tsv: whole documented reports (an MTA's delay warning, whose form
    and not one reply carries the meaning); each row names a recipient of a file
    in messages/ and the reason and action it must get."""
    base = os.path.join(src, "tests", "data", "bounce-phrases")
    rows = []
    with open(os.path.join(base, "messages.tsv"), encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            p = line.rstrip("\n").split("\t")
            if len(p) != 5:
                raise SystemExit("messages.tsv:%d: want 5 tab-separated fields" % ln)
            rows.append(dict(zip(("file", "rcpt", "reason", "action", "source"), p), line=ln))
    names = sorted(set(r["file"] for r in rows))
    p = subprocess.run([binary, "bounce", "--json"] +
                       [os.path.join(base, "messages", n) for n in names],
                       capture_output=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit("homing bounce exited %d" % p.returncode)
    out = {n: json.loads(l) for n, l in zip(names, p.stdout.decode("utf-8").splitlines())}
    ok = 0
    for r in rows:
        o = out[r["file"]]
        got = [x for x in o.get("recipients", []) if x.get("address") == r["rcpt"]]
        g = (got[0]["reason"], got[0]["action"]) if got else ("(none)", None)
        extra = [x["address"] for x in o.get("recipients", [])
                 if x["address"] not in [q["rcpt"] for q in rows if q["file"] == r["file"]]]
        s = by_source.setdefault(r["source"], [0, 0])
        s[1] += 1
        if g == (r["reason"], r["action"]) and not extra:
            ok += 1
            s[0] += 1
        elif verbose:
            print("MISS messages.tsv:%d %s %s want %s/%s got %s/%s%s" %
                  (r["line"], r["file"], r["rcpt"], r["reason"], r["action"], g[0], g[1],
                   " extra %s" % extra if extra else ""))
    return ok, len(rows)


def main():
    verbose = "-v" in sys.argv
    src = os.environ["HOMING_SRC"]
    binary = os.environ["HOMING_BIN"]
    rows = load(os.path.join(src, "tests", "data", "bounce-phrases", "examples.tsv"))
    with tempfile.TemporaryDirectory(prefix="bounce-phrases.") as d:
        files = []
        for i, r in enumerate(rows):
            fn = os.path.join(d, "ex-%03d.eml" % r["line"])
            with open(fn, "w", encoding="utf-8") as f:
                f.write(DSN.format(rcpt="rcpt%d@dest.example" % i, status=r["status"],
                                   text=r["text"]))
            files.append(fn)
        p = subprocess.run([binary, "bounce", "--json"] + files, capture_output=True,
                           timeout=300)
        if p.returncode != 0:
            raise SystemExit("homing bounce exited %d: %s" %
                             (p.returncode, p.stderr.decode(errors="replace")))
        lines = p.stdout.decode("utf-8").splitlines()
    if len(lines) != len(rows):
        raise SystemExit("expected %d lines, got %d" % (len(rows), len(lines)))
    ok = 0
    by_source = {}
    for r, line in zip(rows, lines):
        o = json.loads(line)
        got = o["recipients"][0]["reason"] if o.get("recipients") else "(none)"
        s = by_source.setdefault(r["source"], [0, 0])
        s[1] += 1
        if got == r["reason"]:
            ok += 1
            s[0] += 1
        elif verbose:
            print("MISS line %d [%s] want %s got %s | %s %s" %
                  (r["line"], r["source"], r["reason"], got, r["status"], r["text"]))
    m_ok, m_n = messages(binary, src, verbose, by_source)
    ok += m_ok
    acc = ok / (len(rows) + m_n)
    print("documented examples %.4f (%d/%d; %d of them whole reports)" %
          (acc, ok, len(rows) + m_n, m_n))
    print("per source: " + ", ".join("%s %d/%d" % (k, v[0], v[1])
                                     for k, v in sorted(by_source.items())))
    if acc < FLOOR:
        raise SystemExit("documented examples %.4f below the floor %.2f" % (acc, FLOOR))


if __name__ == "__main__":
    main()
