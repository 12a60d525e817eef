#!/usr/bin/env python3
"""Notifications end to end: the daemon's notifier, signed webhooks, retries
across a restart, the SSE stream and `homing watch`.

A local webhook receiver (http.server on a free loopback port) checks the
signature of every POST it gets (HMAC-SHA-256 over "t.body" with the secret
that `homing webhooks add` printed) and records the notifications by id.
"""
import hashlib
import hmac
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import (HOMING, Failure, Instance, Runner, check, free_port, http_get,  # noqa: E402
                         http_request, path_of)

THUNDERBIRD = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 "
               "Thunderbird/115.3.1")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
FAST = {  # quick polls and retries so a test takes seconds, not hours
    "notify.poll_ms": "50",
    "notify.retry_min_ms": "100",
    "notify.retry_max_ms": "400",
    "notify.timeout_ms": "2000",
    "webhooks.allow_private": "yes",  # the receivers are on 127.0.0.1
}


class Receiver:
    """A webhook receiver that verifies every signature and records bodies."""

    def __init__(self, secret=None, port=None):
        self.secret = secret
        self.port = port or free_port()
        self.got = []          # every verified notification, in arrival order
        self.bad = []          # requests whose signature did not verify
        self.status = 204
        self.delay = 0         # seconds to sit on each request (a hanging receiver)
        self.location = None   # a Location header to answer with (a redirect)
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if outer.delay:
                    time.sleep(outer.delay)
                sig = self.headers.get("Homing-Signature", "")
                ok = outer.verify(sig, body)
                with outer.lock:
                    if ok:
                        note = json.loads(body)
                        check(self.headers.get("Homing-Notification-Id") == str(note["id"]),
                              "Homing-Notification-Id header matches the body")
                        outer.got.append(note)
                    else:
                        outer.bad.append((sig, body))
                self.send_response(outer.status if ok else 401)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def verify(self, header, body):
        # The documented recipe (docs/notifications.md).
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts or not self.secret:
            return False
        want = hmac.new(self.secret.encode(), parts["t"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(parts["t"])) < 300
        return fresh and hmac.compare_digest(want, parts["v1"])

    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def wait(self, n, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.got) >= n:
                    return list(self.got)
            time.sleep(0.05)
        with self.lock:
            raise Failure(f"receiver got {len(self.got)} notifications, wanted {n}: "
                          f"{[g['kind'] for g in self.got]}")


def add_webhook(inst, url, events="*"):
    out = inst.run("webhooks", "add", url, "--events", events).stdout
    secret = [w for w in out.split() if w.startswith("whsec_")]
    check(len(secret) == 1, f"a generated secret printed once: {out!r}")
    return secret[0]


def hit(inst, url, ua=THUNDERBIRD, lang="en"):
    st, _, _ = http_get(inst.public_port, path_of(url),
                        headers={"User-Agent": ua, "Accept-Language": lang})
    check(st in (200, 302), f"hit answered {st}")


def test_open_click_signed():
    inst = Instance(FAST)
    rcv = Receiver()
    try:
        rcv.secret = add_webhook(inst, rcv.url(), "open,click,new-reader")
        rcv.start()
        m = inst.add_message(["bob@example.net"], ["https://example.com/offer"],
                             subject="Q3 offer")
        copy = m["copies"][0]
        inst.serve()
        hit(inst, copy["open_url"])
        got = rcv.wait(1)
        check(got[0]["kind"] == "open", f"first notification is an open: {got[0]}")
        check("bob@example.net opened 'Q3 offer' on Thunderbird" in got[0]["text"],
              f"readable text: {got[0]['text']!r}")
        check(got[0]["message"] == m["id"] and got[0]["recipient"] == 1, "names message")
        check(got[0]["payload"]["client"] == "127.0.0.0/24",
              f"the client's network only: {got[0]['payload'].get('client')}")
        hit(inst, copy["open_url"])  # the same client again: not news
        hit(inst, copy["links"][0]["click_url"])
        hit(inst, copy["links"][0]["click_url"])  # second click of the link: not news
        got = rcv.wait(2)
        time.sleep(1.0)  # anything extra would have arrived by now
        kinds = [g["kind"] for g in rcv.got]
        check(kinds == ["open", "click"], f"exactly open then click: {kinds}")
        check("clicked https://example.com/offer" in rcv.got[1]["text"], rcv.got[1]["text"])
        check(not rcv.bad, f"every signature verified: {rcv.bad[:1]}")
        # A machine (a scripted client) opening for the first time says nothing.
        m2 = inst.add_message(["carol@example.net"], subject="Other")
        hit(inst, m2["copies"][0]["open_url"], ua="curl/8.0.1")
        time.sleep(1.0)
        check(len(rcv.got) == 2, f"no notification for a machine open: {rcv.got[2:]}")
        with inst.db() as db:
            rows = db.execute("SELECT count(*) FROM notifications").fetchone()[0]
        check(rows == 2, f"two notifications stored: {rows}")
        # A delivery report (as homing ingest appends it) notifies with its reason.
        with inst.db() as db:
            db.execute("INSERT INTO events (time_us, kind, message, recipient, detail) "
                       "VALUES (?, 'bounced', ?, 1, ?)",
                       (int(time.time() * 1e6), int(m["id"], 16),
                        json.dumps({"status": "5.1.1", "reason": "user-unknown"})))
        time.sleep(1.0)
        check(len(rcv.got) == 2, "the webhook filter (open,click,new-reader) keeps bounces out")
        out = inst.run("webhooks", "add", rcv.url(), "--events", "bounced,delivered",
                       "--secret", rcv.secret).stdout
        check("secret" not in out, f"a given secret is not printed: {out!r}")
        # (bob's bounce was notified already: one notification per state step,
        # so the report is of carol's copy of the other message)
        with inst.db() as db:
            db.execute("INSERT INTO events (time_us, kind, message, recipient, detail) "
                       "VALUES (?, 'bounced', ?, 1, ?)",
                       (int(time.time() * 1e6), int(m2["id"], 16),
                        json.dumps({"status": "5.2.2", "reason": "mailbox-full"})))
        got = rcv.wait(3)
        check(got[2]["kind"] == "bounced" and got[2]["text"] ==
              "'Other' bounced for carol@example.net: 5.2.2 mailbox-full", f"bounce: {got[2:]}")
        check(got[2]["payload"]["detail"]["status"] == "5.2.2", "payload carries the detail")
        # webhooks test: a signed POST of kind test, from the CLI.
        out = inst.run("webhooks", "test", "1").stdout
        check("answered 204" in out, f"webhooks test: {out!r}")
        check(rcv.got[-1]["kind"] == "test" and rcv.got[-1]["id"] == 0, "test notification")
        check(inst.stop() == 0, "daemon exits 0")
    finally:
        rcv.stop()
        inst.close()


def test_machine_notified_when_asked():
    """notify.machine = yes: a scripted client's first open and its first click
    of each link are notified like a person's (once each, named [probe])."""
    inst = Instance(dict(FAST, **{"notify.machine": "yes"}))
    try:
        m = inst.add_message(["dave@example.net"], ["https://example.com/a",
                                                    "https://example.com/b"], subject="Scanned")
        copy = m["copies"][0]
        inst.serve()
        for _ in range(3):
            hit(inst, copy["open_url"], ua="curl/8.0.1")
        for link in (0, 0, 1, 1):
            hit(inst, copy["links"][link]["click_url"], ua="curl/8.0.1")
        deadline, rows = time.time() + 10, []
        while time.time() < deadline:
            with inst.db() as db:
                rows = db.execute("SELECT kind, item, text FROM notifications "
                                  "ORDER BY id").fetchall()
            if len(rows) >= 3:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # anything extra would have arrived by now
        with inst.db() as db:
            rows = db.execute("SELECT kind, item, text FROM notifications ORDER BY id").fetchall()
        check([(k, i) for k, i, _ in rows] == [("open", 0), ("click", 1), ("click", 2)] or
              [(k, i) for k, i, _ in rows] == [("open", 0), ("click", 0), ("click", 1)],
              f"one open, one click per link: {rows}")
        check(all("[probe]" in t for _, _, t in rows), rows)
    finally:
        inst.close()


def test_receiver_down_restart():
    """Receiver down, daemon restarted, receiver up: each notification arrives
    exactly once by id (a receiver dedupes by id; here it must not even need
    to) and, per message, in order."""
    inst = Instance(FAST)
    rcv = Receiver()
    try:
        rcv.secret = add_webhook(inst, rcv.url())  # receiver not started: refused
        msgs = [inst.add_message(["bob@example.net"], ["https://example.com/a"],
                                 subject=f"M{i}") for i in range(3)]
        inst.serve()
        for m in msgs:
            c = m["copies"][0]
            hit(inst, c["open_url"])
            hit(inst, c["links"][0]["click_url"])
            # (a second link clicked within a second would be a burst: a
            # scanner's verdict, which does not notify)
        want = 6
        deadline = time.time() + 15
        while time.time() < deadline:
            with inst.db() as db:
                n, tried = db.execute("SELECT count(*), sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) FROM deliveries"
                                      ).fetchone()
            if n == want and tried:
                break
            time.sleep(0.1)
        check(n == want, f"{want} deliveries pending, got {n}")
        check(tried, "deliveries were attempted while the receiver was down")
        check(inst.stop() == 0, "daemon exits 0")
        with inst.db() as db:
            delivered = db.execute("SELECT count(*) FROM deliveries WHERE delivered_us IS NOT NULL"
                                   ).fetchone()[0]
        check(delivered == 0, "nothing delivered while the receiver was down")
        inst.serve()  # restarted while the receiver is still down
        time.sleep(0.5)
        rcv.start()
        got = rcv.wait(want, timeout=30)
        time.sleep(1.0)
        ids = [g["id"] for g in rcv.got]
        check(len(ids) == want and len(set(ids)) == want,
              f"each of {want} notifications exactly once: {ids}")
        by_message = {}
        for g in rcv.got:
            by_message.setdefault(g["message"], []).append(g["id"])
        for msg, seq in by_message.items():
            check(seq == sorted(seq), f"in order for message {msg}: {seq}")
            check(len(seq) == 2, f"open and click of {msg}: {seq}")
        check(not rcv.bad, "every signature verified")
        check(inst.stop() == 0, "daemon exits 0")
        with inst.db() as db:
            left = db.execute("SELECT count(*) FROM deliveries WHERE delivered_us IS NULL"
                              ).fetchone()[0]
        check(left == 0, f"no delivery left pending: {left}")
    finally:
        rcv.stop()
        inst.close()


def test_failed_after_retry_window():
    """A receiver answering 500 is retried with backoff; past notify.retry_hours
    (0 here: no retry window) the delivery is marked failed with the reason,
    and the next notification of the message is no longer held back."""
    inst = Instance(dict(FAST, **{"notify.retry_hours": "0"}))
    rcv = Receiver()
    try:
        rcv.secret = add_webhook(inst, rcv.url())
        rcv.status = 500
        rcv.start()
        m = inst.add_message(["bob@example.net"], ["https://example.com/a"])
        inst.serve()
        hit(inst, m["copies"][0]["open_url"])
        hit(inst, m["copies"][0]["links"][0]["click_url"])
        rcv.wait(2)  # both tried once (the click once the open had failed for good)
        deadline = time.time() + 10
        while time.time() < deadline:
            with inst.db() as db:
                rows = db.execute("SELECT attempts, failed_us IS NOT NULL, last_error "
                                  "FROM deliveries ORDER BY notification").fetchall()
            if len(rows) == 2 and all(r[1] for r in rows):
                break
            time.sleep(0.1)
        check(len(rows) == 2 and all(r[1] for r in rows), f"both failed: {rows}")
        check(all(r[0] == 1 and r[2] == "receiver answered 500" for r in rows),
              f"one attempt each, with the reason: {rows}")
        check(inst.stop() == 0, "daemon exits 0")
    finally:
        rcv.stop()
        inst.close()


def test_redirect_not_followed():
    """A receiver answering a redirect has not taken the notification: the
    delivery fails with that answer, and the place it points at is never
    asked (a webhook that moved is registered again, not followed; a redirect
    to an internal address must not get around the SSRF guard)."""
    inst = Instance(dict(FAST, **{"notify.retry_hours": "0"}))
    moved, target = Receiver(), Receiver()
    try:
        moved.secret = add_webhook(inst, moved.url())
        moved.status = 302
        moved.location = target.url()
        target.secret = moved.secret
        moved.start()
        target.start()
        m = inst.add_message(["bob@example.net"])
        inst.serve()
        hit(inst, m["copies"][0]["open_url"])
        moved.wait(1)
        deadline = time.time() + 10
        rows = []
        while time.time() < deadline:
            with inst.db() as db:
                rows = db.execute("SELECT failed_us IS NOT NULL, last_error FROM deliveries"
                                  ).fetchall()
            if rows and all(r[0] for r in rows):
                break
            time.sleep(0.1)
        check(rows == [(1, "receiver answered 302")], f"delivery: {rows}")
        check(not target.got and not target.bad, f"the redirect was followed: {target.got}")
        check(inst.stop() == 0, "daemon exits 0")
    finally:
        moved.stop()
        target.stop()
        inst.close()


def test_hanging_receiver_does_not_hold_others():
    """A receiver that never answers in time holds only its own deliveries:
    the other webhook gets every notification meanwhile (deliveries run side
    by side; test_webhook_isolation.py measures each one's latency)."""
    inst = Instance(FAST)  # notify.timeout_ms = 2000
    slow, good = Receiver(), Receiver()
    try:
        slow.secret = add_webhook(inst, slow.url())
        good.secret = add_webhook(inst, good.url())
        slow.delay = 6
        slow.start()
        good.start()
        msgs = [inst.add_message(["bob@example.net"], subject=f"M{i}") for i in range(4)]
        inst.serve()
        t0 = time.time()
        for m in msgs:
            hit(inst, m["copies"][0]["open_url"])
        good.wait(4, timeout=15)
        took = time.time() - t0
        # One 2 s timeout of the slow one may come first; four would take 8 s.
        check(took < 5.0, f"the good receiver waited {took:.1f} s behind the slow one")
        check(inst.stop() == 0, "daemon exits 0")
    finally:
        slow.stop()
        good.stop()
        inst.close()


def read_lines(proc, n, timeout):
    """n lines of proc's stdout within timeout (a thread reads, we wait)."""
    lines = []
    done = threading.Event()

    def reader():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if len(lines) >= n:
                break
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    done.wait(timeout)
    return lines


def test_watch_and_stream():
    inst = Instance(FAST)
    procs = []
    try:
        key = inst.api_key()
        m = inst.add_message(["bob@example.net"], ["https://example.com/offer"], subject="Q3 offer")
        c = m["copies"][0]
        inst.serve()
        env = dict(os.environ, HOMING_API_KEY=key)
        w = subprocess.Popen([HOMING, "-c", inst.conf, "watch"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
        procs.append(w)
        time.sleep(0.7)  # connected: only new notifications from here
        hit(inst, c["open_url"])
        hit(inst, c["links"][0]["click_url"])
        hit(inst, c["open_url"], ua=FIREFOX, lang="fr")  # another reader: a forward?
        lines = read_lines(w, 3, 15)
        check(len(lines) == 3, f"watch printed 3 lines: {lines}")
        check(" open " in lines[0] and "bob@example.net opened 'Q3 offer'" in lines[0], lines[0])
        check(" click " in lines[1] and "clicked https://example.com/offer" in lines[1], lines[1])
        check(" new-reader " in lines[2] and "possibly forwarded" in lines[2], lines[2])
        w.send_signal(signal.SIGINT)
        check(w.wait(timeout=10) == 0, "watch exits 0 on SIGINT")

        # The stream itself: Last-Event-ID resumes after that id.
        st, hdrs, body = stream_read(inst.admin_port, key, {"Last-Event-ID": "1"})
        check(st == 200 and hdrs.get("content-type", "").startswith("text/event-stream"),
              f"stream answers SSE: {st} {hdrs}")
        ids = [int(l[4:]) for l in body.splitlines() if l.startswith("id: ")]
        check(ids == [1, 2, 3], f"ready event at 1 then 2 and 3: {ids}")
        check("event: click" in body and "event: new-reader" in body, body)
        st, _, _ = stream_read(inst.admin_port, "hk_wrong", {})
        check(st == 401, f"a wrong key gets 401: {st}")

        # watch --json --after 1 resumes after id 1; SIGTERM ends it with 0.
        w = subprocess.Popen([HOMING, "-c", inst.conf, "watch", "--json", "--after", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        procs.append(w)
        lines = read_lines(w, 2, 15)
        got = [json.loads(l) for l in lines]
        check([g["id"] for g in got] == [2, 3], f"--after 1 gives 2 and 3: {lines}")
        # Daemon restarted under it: watch reconnects and goes on after id 3.
        check(inst.stop() == 0, "daemon exits 0")
        inst.serve()
        m2 = inst.add_message(["dan@example.net"], subject="Later")
        hit(inst, m2["copies"][0]["open_url"])
        lines = read_lines(w, 1, 20)
        check(len(lines) == 1 and json.loads(lines[0])["id"] == 4,
              f"after the restart, id 4 only: {lines}")
        w.send_signal(signal.SIGTERM)
        check(w.wait(timeout=10) == 0, "watch exits 0 on SIGTERM")
        check(inst.stop() == 0, "daemon exits 0")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        inst.close()


def stream_read(port, key, headers, seconds=1.5):
    """Reads the stream for a moment: status, headers, the text so far."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        req = f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        for k, v in headers.items():
            req += f"{k}: {v}\r\n"
        s.sendall((req + "\r\n").encode())
        data = b""
        deadline = time.time() + seconds
        s.settimeout(0.2)
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    # Undo chunked encoding loosely: the SSE lines are what matter.
    text = body.decode(errors="replace")
    return status, hdrs, text


def main():
    r = Runner()
    r.run(test_open_click_signed)
    r.run(test_machine_notified_when_asked)
    r.run(test_receiver_down_restart)
    r.run(test_failed_after_retry_window)
    r.run(test_redirect_not_followed)
    r.run(test_hanging_receiver_does_not_hold_others)
    r.run(test_watch_and_stream)
    r.finish()


if __name__ == "__main__":
    main()
