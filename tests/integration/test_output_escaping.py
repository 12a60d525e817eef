#!/usr/bin/env python3
"""Output escaping end to end (docs/hacking.md, "Output escaping").

Hostile strings from tests/data/hostile/strings.json are planted in a store
through the real paths: pixel and click hits sent over a raw socket with a
User-Agent, Accept-Language, Via and From holding ESC sequences, C1 controls
(as UTF-8 and as raw 0x9b bytes) and bidi overrides; a message registered
through the admin API with such a subject and address (and a link with a bidi
override: one with ESC or C1 is refused at the way in); a bounce whose
Diagnostic-Code and Remote-MTA hold them, through `homing ingest`. Then every
output that shows them is read: `homing report` (text, csv, json), `homing
events` (text, json), `homing message show` (text, json), `homing bounce`
(text, json), `homing watch` (text, json), the admin API's JSON, the SSE
stream and the webhook bodies.

Every output: no ESC byte, no C1 control (U+0080..U+009F as UTF-8, or a raw
byte 0x80..0x9f), no DEL; text outputs also no other control than LF, no
bidi override or line separator, no byte that is not UTF-8. JSON outputs parse
and give back the planted value (its escaped form for bytes that are not
UTF-8); SSE data lines carry one JSON document each.
"""
import csv
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import (HOMING, Failure, dest_form, Instance, Runner, check, free_port, http_get,  # noqa: E402
                         path_of)
from test_notify import FAST, Receiver, add_webhook, stream_read  # noqa: E402

SRC = os.environ.get("HOMING_SRC", os.getcwd())
CORPUS = {c["name"]: c for c in json.load(open(os.path.join(SRC, "tests", "data", "hostile",
                                                            "strings.json")))}


def raw(name):
    return bytes.fromhex(CORPUS[name]["hex"])


THUNDERBIRD = (b"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 "
               b"Thunderbird/115.3.1")
# UTF-8 hostile text: must come back exactly from every JSON output. h2o
# answers 400 to C0 controls (but TAB) and DEL in a header, so hits carry C1
# controls, bidi overrides and line separators; ESC comes in through the API
# and the bounce.
UA = THUNDERBIRD + b" " + raw("csi-c1-utf8") + raw("bidi") + raw("c1-nel-osc")
LANG = b"en" + raw("csi-c1-utf8") + raw("line-separators")
VIA = b"1.1 proxy\t" + raw("bidi")
FROM = b"bot" + raw("csi-c1-utf8") + b"@example.org"
# Not UTF-8: a raw CSI byte; JSON outputs show its escaped form.
UA_RAW = b"Mozilla/5.0 " + raw("csi-raw-byte") + raw("csi-c1-utf8")
UA_RAW_SHOWN = "Mozilla/5.0 a\\x9b2Jbred\\u009b31mX"
# A UTF-8 PostgreSQL database refuses bytes that are not UTF-8: its backend
# stores each such byte as '?' (docs/internals/store.md), so the value is
# UTF-8 and JSON carries it as it is (the C1 character as \u009b, read back).
RAW_BYTE_SHOWN = "a\\x9b2Jb"
if os.environ.get("HOMING_TEST_STORE_POSTGRESQL"):
    RAW_BYTE_SHOWN = "a?2Jb"
    UA_RAW_SHOWN = "Mozilla/5.0 a?2Jbred\u009b31mX"

SUBJECT = "Q3 " + raw("osc-title").decode() + raw("csi-c1-utf8").decode() + raw("bidi").decode()
# a notification's text line carries it escaped; its payload the value itself
SUBJECT_SHOWN = "Q3 \\x1b]0;pwned\\x07red\\u009b31mXabc\\u202eevil\\u2066x\\u2069\\u202a\\u202d"
# An address with ESC or C1 is refused at the way in (homing/service.h); one
# with a bidi override is kept, and shown escaped.
ADDRESS = "bob\u202e@example.net"
# A link with ESC or C1 is refused at the way in (test_response_splitting); one
# with a bidi override is stored percent-encoded, and shown as stored.
LINK = "https://example.com/\u202egnp.exe"
MESSAGE_ID = "hostile.1@homing.example"

DIAG = b"smtp; 550 5.1.1 " + raw("osc-title") + raw("csi-c1-utf8") + b" gone " + raw("csi-raw-byte")
# not UTF-8 either (the raw 0x9b): JSON outputs show the escaped form
DIAG_SHOWN = "550 5.1.1 \\x1b]0;pwned\\x07red\\u009b31mX gone a\\x9b2Jb"
REMOTE_MTA = b"dns; mx" + raw("clear-screen") + b".example"

DSN = b"""Return-Path: <>
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounce@homing.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"
Message-Id: <hostile-dsn@mx.sender.example>

--B0UND
Content-Type: text/plain; charset=us-ascii

Undelivered.

--B0UND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example

Final-Recipient: rfc822; carol@example.net
Action: failed
Status: 5.1.1
Remote-MTA: """ + REMOTE_MTA + b"""
Diagnostic-Code: """ + DIAG + b"""

--B0UND
Content-Type: text/rfc822-headers

From: Alice <alice@homing.example>
To: carol@example.net
Subject: Q3
Message-ID: <""" + MESSAGE_ID.encode() + b""">

--B0UND--
"""

BIDI = set(range(0x202a, 0x202f)) | set(range(0x2066, 0x206a)) | {0x2028, 0x2029}


def assert_clean(what, data, text):
    """No byte or character that can drive a terminal, in output `what`."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    check(b"\x1b" not in data, f"{what}: a raw ESC byte")
    s = data.decode("utf-8", "surrogateescape")
    for i, ch in enumerate(s):
        o = ord(ch)
        where = f"{what}: {ch!r} at {i}: ...{s[max(0, i - 40):i + 20]!r}"
        check(not 0x7f <= o <= 0x9f, f"{where}: DEL or a C1 control as UTF-8")
        check(not 0xdc80 <= o <= 0xdc9f, f"{where}: a raw C1 byte")
        if text:
            check(o >= 0x20 or ch == "\n", f"{where}: a control character")
            check(not 0xdc80 <= o <= 0xdcff, f"{where}: a byte that is not UTF-8")
            check(o not in BIDI, f"{where}: a bidi override or line separator")
        else:
            check(o not in BIDI, f"{where}: U+2028..U+202E / U+2066..U+2069 raw in JSON")


def raw_hit(port, path, headers):
    """One GET with header values as raw bytes (http.client would refuse some)."""
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for k, v in headers.items():
        req += k.encode() + b": " + v + b"\r\n"
    req += b"Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    check(status in (200, 302), f"hit {path} answered {status}: {data[:200]!r}")


def run(inst, *args, env=None, input=None):
    inst.settle()
    p = subprocess.run([HOMING, "-c", inst.conf, *args], capture_output=True, input=input,
                       timeout=60, env=env)
    if p.returncode != 0:
        raise Failure(f"homing {' '.join(args)} exited {p.returncode}: {p.stderr[-400:]!r}")
    assert_clean(f"homing {' '.join(args)} (stderr)", p.stderr, True)
    return p.stdout


def read_lines(proc, n, timeout):
    got = []

    def reader():
        for line in proc.stdout:
            got.append(line)
            if len(got) >= n:
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    return list(got)


def find(cond, items, what):
    for x in items:
        if cond(x):
            return x
    raise Failure(f"no {what} in {items!r:.600}")


def test_hostile_store():
    inst = Instance(FAST)
    rcv = Receiver()
    procs = []
    try:
        key = inst.api_key(scope="write")  # registers a message
        rcv.secret = add_webhook(inst, rcv.url())
        bodies = []  # the raw POST bodies, as the daemon sent them
        verify = rcv.verify
        rcv.verify = lambda sig, body: bodies.append(body) or verify(sig, body)
        rcv.start()
        inst.serve()

        # A message through the admin API, with ESC, C1 and bidi in its text.
        body = json.dumps({"subject": SUBJECT, "from": "alice@homing.example",
                           "recipients": [ADDRESS, "carol@example.net"], "links": [LINK],
                           "message_id": MESSAGE_ID})
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", inst.admin_port, timeout=10)
        c.request("POST", "/api/v1/messages", body=body,
                  headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        check(r.status in (200, 201), f"message added over the API: {r.status} {data[:300]!r}")
        assert_clean("POST /api/v1/messages", data, False)
        m = json.loads(data)
        mid = m["id"]
        check(m.get("subject", SUBJECT) == SUBJECT, f"API answer's subject: {m.get('subject')!r}")
        copy = find(lambda x: x.get("recipient") == 1, m["copies"], "copy of recipient 1")

        # Hits with hostile headers, sent as raw bytes.
        raw_hit(inst.public_port, path_of(copy["open_url"]),
                {"User-Agent": UA, "Accept-Language": LANG, "Via": VIA, "From": FROM})
        raw_hit(inst.public_port, path_of(copy["links"][0]["click_url"]), {"User-Agent": UA})
        raw_hit(inst.public_port, path_of(copy["open_url"]), {"User-Agent": UA_RAW})

        # A bounce for carol with a hostile diagnostic and remote MTA.
        dsn = os.path.join(inst.tmp, "hostile-dsn.eml")
        open(dsn, "wb").write(DSN)
        out = run(inst, "ingest", "--json", input=DSN)
        assert_clean("homing ingest --json", out, False)
        res = json.loads(out)
        check(res["outcome"] == "matched" and res["events"] == 1, f"the DSN matched: {res}")
        out = run(inst, "ingest", input=DSN)  # a duplicate now: the text form
        assert_clean("homing ingest", out, True)

        # homing bounce: the report itself.
        out = run(inst, "bounce", dsn)
        assert_clean("homing bounce", out, True)
        check("\\x1b]0;pwned\\x07" in out.decode() and "\\u009b31mX" in out.decode(),
              f"bounce text shows the escapes: {out!r}")
        out = run(inst, "bounce", "--json", dsn)
        assert_clean("homing bounce --json", out, False)
        b = json.loads(out)
        check(b["recipients"][0]["diagnostic"] == DIAG_SHOWN, f"bounce diagnostic: {b}")
        check(b["recipients"][0]["remote_mta"] == "mx\x1b[2J\x1b[H.example",
              f"remote MTA: {b['recipients'][0]['remote_mta']!r}")

        # Notifications: open and click of recipient 1, the bounce of carol.
        got = rcv.wait(3, timeout=30)
        for body in bodies:
            assert_clean("webhook body", body, False)
        check(all(g["payload"]["subject"] == SUBJECT for g in got), f"webhook subject: {got}")
        check(all(SUBJECT_SHOWN in g["text"] for g in got), f"webhook text: {got}")
        check(not rcv.bad, "webhook signatures verify")

        # homing report: text, csv, json.
        out = run(inst, "report", mid)
        assert_clean("homing report", out, True)
        t = out.decode()
        check(SUBJECT_SHOWN in t, f"report shows the subject escaped: {t}")
        check("bob\\u202e@example.net" in t, f"report address: {t}")
        out = run(inst, "report", mid, "--format", "csv")
        assert_clean("homing report --format csv", out, True)
        rows = list(csv.reader(io.StringIO(out.decode())))
        check(len(rows) == 3 and all(len(r) == len(rows[0]) for r in rows), f"csv rows: {rows}")
        check(rows[1][1] == "bob\\u202e@example.net",
              f"csv address cell: {rows[1]}")
        out = run(inst, "report", mid, "--format", "json")
        assert_clean("homing report --format json", out, False)
        j = json.loads(out)
        check(j["subject"] == SUBJECT, f"report json subject: {j['subject']!r}")
        r1 = find(lambda x: x["recipient"] == 1, j["recipients"], "recipient 1")
        check(r1["address"] == ADDRESS, f"report json address: {r1}")
        lk = r1.get("links_clicked") or []
        check(any(x.get("url") == dest_form(LINK) for x in lk), f"report json link: {lk}")

        # homing events: text and json.
        out = run(inst, "events")
        assert_clean("homing events", out, True)
        check("red\\u009b31mXabc\\u202e" in out.decode() and RAW_BYTE_SHOWN in out.decode(),
              f"events text: {out!r}")
        out = run(inst, "events", "--json")
        assert_clean("homing events --json", out, False)
        evs = [json.loads(line) for line in out.splitlines()]
        e = find(lambda x: x["kind"] == "open" and x["user_agent"] == UA.decode(), evs,
                 "open with the UTF-8 User-Agent")
        check(e["accept_language"] == LANG.decode() and e["via"] == VIA.decode() and
              e["from"] == FROM.decode(), f"header fields round-trip: {e}")
        find(lambda x: x["user_agent"] == UA_RAW_SHOWN, evs, "the raw User-Agent, escaped")
        bo = find(lambda x: x["kind"] == "bounced", evs, "bounce event")
        check(bo["detail"]["diagnostic"] == DIAG_SHOWN and
              bo["detail"]["remote_mta"] == "mx\x1b[2J\x1b[H.example", f"bounce detail: {bo}")

        # homing message show / list.
        for args in (("message", "show", mid), ("message", "list")):
            out = run(inst, *args)
            assert_clean("homing " + " ".join(args), out, True)
            out = run(inst, *args, "--json")
            assert_clean("homing " + " ".join(args) + " --json", out, False)
        j = json.loads(run(inst, "message", "show", mid, "--json"))
        check(j["subject"] == SUBJECT, f"message show --json subject: {j.get('subject')!r}")

        # The admin API.
        for path in ("/api/v1/events", f"/api/v1/messages/{mid}",
                     f"/api/v1/messages/{mid}/events"):
            st, _, data = http_get(inst.admin_port, path,
                                   headers={"Authorization": f"Bearer {key}"})
            check(st == 200, f"GET {path}: {st}")
            assert_clean(f"GET {path}", data, False)
            json.loads(data)
        st, _, data = http_get(inst.admin_port, "/api/v1/events",
                               headers={"Authorization": f"Bearer {key}"})
        api = json.loads(data)
        api_evs = api["events"] if isinstance(api, dict) else api
        find(lambda x: x.get("user_agent") == UA.decode(), api_evs, "API event with the UA")

        # The SSE stream: one JSON document per data line, nothing raw.
        st, _, text = stream_read(inst.admin_port, key, {"Last-Event-ID": "0"}, seconds=2)
        check(st == 200, f"stream: {st}")
        assert_clean("SSE stream", text.encode("utf-8", "surrogateescape"), False)
        # split on LF only, as SSE does (str.splitlines would split at U+2028)
        datas = [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: ")]
        notes = [d for d in datas if "payload" in d]
        check(len(notes) >= 3 and all(d["payload"]["subject"] == SUBJECT for d in notes),
              f"SSE keeps the subject: {text}")

        # homing watch, text and json, from the start of the stream.
        env = dict(os.environ, HOMING_API_KEY=key)
        for extra, shown in (((), "\\x1b]0;pwned\\x07"), (("--json",), "\\u009b")):
            w = subprocess.Popen([HOMING, "-c", inst.conf, "watch", "--after", "0", *extra],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            procs.append(w)
            lines = read_lines(w, 3, 20)
            w.terminate()
            w.wait(timeout=10)
            out = b"".join(lines)
            check(len(lines) >= 3, f"watch {extra} printed {lines}")
            assert_clean(f"homing watch {' '.join(extra)}", out, not extra)
            check(shown in out.decode(), f"watch {extra} shows the escape: {out!r}")
        check(inst.stop() == 0, "daemon exits 0")
        assert_clean("daemon log", inst.daemon_log(), True)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        rcv.stop()
        inst.close()


def main():
    r = Runner()
    r.run(test_hostile_store)
    r.finish()


if __name__ == "__main__":
    main()
