#!/usr/bin/env python3
"""Webhook isolation and the SSRF guard (docs/notifications.md, "Delivery").

Three receivers on 127.0.0.1 (webhooks.allow_private = yes): one accepts each
connection and never answers (it would hang 30 s; the daemon's timeout ends
each attempt), one answers 500, one is healthy. Opens of several messages are
hit one after the other; the healthy receiver must get each notification
within 1 s of its hit, exactly once, while the failing receivers are retried
with a back-off that grows.

The guard: without webhooks.allow_private, `homing webhooks add` refuses
loopback and private IP literals and "localhost", and a webhook registered
while the option was on fails at delivery with the reason recorded, its
receiver never reached (the address is checked after DNS, just before
connecting).
"""
import http.server
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import Failure, Instance, Runner, check  # noqa: E402
from test_notify import Receiver, add_webhook, hit  # noqa: E402

CONFIG = {
    "notify.poll_ms": "200",       # the default
    "notify.timeout_ms": "4000",   # each attempt at the hanging receiver ends here
    "notify.retry_min_ms": "200",
    "notify.retry_max_ms": "6400",
    "webhooks.allow_private": "yes",  # the receivers are on 127.0.0.1
}
HITS = 8              # messages opened, one notification each
HIT_GAP_S = 0.6       # between two hits
LATENCY_MAX_S = 1.0   # the healthy receiver's bound per notification
HANG_S = 30           # how long the hanging receiver sits on a connection


def thread_cpu_s(pid, name):
    """CPU seconds (user + system) used so far by the daemon's thread `name`."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    raise Failure(f"no thread {name} in the daemon")


class Hanging:
    """Accepts connections and never answers; records when each came."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.attempts = []
        self.held = []
        self.stopping = False
        self.lock = threading.Lock()

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with self.lock:
                self.attempts.append(time.time())
                self.held.append((conn, time.time() + HANG_S))
            # Held open, unanswered, until HANG_S passed or the test ends.
            now = time.time()
            with self.lock:
                keep = []
                for c, until in self.held:
                    if until < now:
                        c.close()
                    else:
                        keep.append((c, until))
                self.held = keep

    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self):
        self.stopping = True
        with self.lock:
            for c, _ in self.held:
                c.close()
            self.held = []
        self.sock.close()


class Timed(Receiver):
    """A webhook receiver answering `status`, noting when each POST came:
    arrivals is [(time, notification or None if its signature failed)]."""

    def __init__(self, status=204):
        super().__init__()
        self.status = status
        self.arrivals = []

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                t = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = outer.verify(self.headers.get("Homing-Signature", ""), body)
                with outer.lock:
                    note = json.loads(body) if ok else None
                    outer.arrivals.append((t, note))
                    (outer.got if ok else outer.bad).append(note or body)
                self.send_response(outer.status if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self


def test_isolation():
    inst = Instance(CONFIG)
    hang, fail, good = Hanging(), Timed(status=500), Timed()
    try:
        add_webhook(inst, hang.url())
        fail.secret = add_webhook(inst, fail.url())
        good.secret = add_webhook(inst, good.url())
        hang.start()
        fail.start()
        good.start()
        msgs = [inst.add_message([f"r{i}@example.net"], subject=f"M{i}") for i in range(HITS)]
        inst.serve()
        t_start = time.time()
        latency = {}
        for m in msgs:
            t_hit = time.time()
            hit(inst, m["copies"][0]["open_url"])
            # Wait (bounded) for this message's notification at the healthy one.
            deadline = t_hit + LATENCY_MAX_S + 9
            while time.time() < deadline and m["id"] not in latency:
                with good.lock:
                    for t, note in good.arrivals:
                        if note and note["message"] == m["id"]:
                            latency[m["id"]] = t - t_hit
                            break
                time.sleep(0.02)
            rest = t_hit + HIT_GAP_S - time.time()
            if rest > 0:
                time.sleep(rest)
        worst = max(latency.values()) if latency else None
        print(f"healthy receiver latency per notification (s): "
              f"{[round(latency.get(m['id'], -1), 3) for m in msgs]}")
        check(len(latency) == HITS,
              f"the healthy receiver got {len(latency)} of {HITS} notifications")
        check(worst < LATENCY_MAX_S,
              f"each within {LATENCY_MAX_S} s of its hit: worst {worst:.2f} s "
              f"({sorted(round(v, 2) for v in latency.values())})")
        # Nothing twice, nothing more (a little longer for a late duplicate).
        time.sleep(1.5)
        ids = [g["id"] for g in good.got]
        check(len(ids) == HITS and len(set(ids)) == HITS,
              f"each notification once to the healthy receiver: {ids}")
        check(not good.bad and not fail.bad, "every signature verified")
        # The failing receiver: attempts one after another, spaced more and more.
        with fail.lock:
            times = [t for t, _ in fail.arrivals]
        gaps = [b - a for a, b in zip(times, times[1:])]
        print(f"500 receiver: {len(times)} attempts, gaps (s): {[round(g, 2) for g in gaps]}")
        check(len(times) >= 5, f"the failing receiver was retried: {len(times)} attempts")
        for a, b in zip(gaps, gaps[1:]):
            # (each step doubles; the jitter keeps a wait in the upper half)
            check(b >= a - 0.3, f"back-off never shrinks: gaps {[round(g, 2) for g in gaps]}")
        check(gaps[-1] >= 2 * gaps[0] and gaps[-1] >= 0.8,
              f"back-off grows: gaps {[round(g, 2) for g in gaps]}")
        # The hanging receiver: while it looked healthy, a few connections at
        # once (NOTIFY_INFLIGHT_PER_WEBHOOK, 4); once they timed out, one
        # probe at a time, each ended by the timeout and followed by a back-off.
        with hang.lock:
            hang_times = list(hang.attempts)
        print(f"hanging receiver: {len(hang_times)} attempts at (s): "
              f"{[round(t - hang_times[0], 2) for t in hang_times]}")
        timeout = int(CONFIG["notify.timeout_ms"]) / 1000
        first = [t for t in hang_times if t < hang_times[0] + timeout - 0.2]
        later = [t for t in hang_times if t >= hang_times[0] + timeout - 0.2]
        check(1 <= len(first) <= 4, f"at most 4 at once to one webhook: {len(first)}")
        probes = [b - a for a, b in zip(later, later[1:])]
        check(all(g >= timeout - 0.2 for g in probes),
              f"then one probe per timeout plus back-off: gaps {probes}")
        with inst.db() as db:
            rows = db.execute("SELECT webhook, count(*), sum(CASE WHEN delivered_us IS NOT NULL THEN 1 ELSE 0 END), "
                              "max(attempts) FROM deliveries GROUP BY webhook ORDER BY webhook"
                              ).fetchall()
        check(rows[2][1] == HITS and rows[2][2] == HITS, f"all delivered to the healthy: {rows}")
        check(rows[0][2] == 0 and rows[1][2] == 0, f"none to the failing ones: {rows}")
        # Waiting on receivers costs no CPU (no busy loop while transfers hang).
        cpu = thread_cpu_s(inst.proc.pid, "homing-deliver")
        print(f"delivery thread CPU: {cpu:.2f} s over {time.time() - t_start:.1f} s")
        check(cpu < 1.0, f"the delivery thread waits, it does not spin: {cpu:.2f} s of CPU")
        check(inst.stop() == 0, "daemon exits 0")
    finally:
        hang.stop()
        fail.stop()
        good.stop()
        inst.close()


def test_guard_registration():
    """Without webhooks.allow_private, private destinations are refused at
    registration with the reason and the option to set."""
    inst = Instance()
    try:
        refused = {
            "http://127.0.0.1:9/hook": "127.0.0.1, loopback",
            "http://10.1.2.3/hook": "10.1.2.3, private",
            "http://169.254.169.254/latest/meta-data/": "169.254.169.254, link-local",
            "http://[::1]:8080/": "::1, loopback",
            "http://[::ffff:192.168.1.1]/": "192.168.1.1, private",
            "https://localhost/hook": "localhost, loopback",
            "http://100.64.0.1/": "100.64.0.1, shared (CGNAT)",
        }
        for url, what in refused.items():
            p = inst.run("webhooks", "add", url, check_rc=False)
            check(p.returncode == 2, f"{url} refused with status 2: {p.returncode} {p.stderr!r}")
            want = (f"webhook URL points at a private address ({what}); "
                    "set webhooks.allow_private = yes to allow")
            check(want in p.stderr, f"{url}: the reason and the option: {p.stderr!r}")
        for url in ("http://0x7f.1/hook", "http://2130706433/", "http://127.1/",
                    "http://0177.0.0.1/", "http://[fe80::1%25eth0]/"):
            p = inst.run("webhooks", "add", url, check_rc=False)
            check(p.returncode == 2 and "not a webhook URL" in p.stderr,
                  f"{url}: not a canonical host, refused: {p.returncode} {p.stderr!r}")
        # The admin listener is refused even with the option on.
        inst.set_config({"webhooks.allow_private": "yes"})
        p = inst.run("webhooks", "add", f"http://127.0.0.1:{inst.admin_port}/api/v1/x",
                     check_rc=False)
        check(p.returncode == 2 and "own admin listener" in p.stderr,
              f"the admin listener is never a webhook: {p.stderr!r}")
        out = inst.run("webhooks", "add", "http://127.0.0.1:9/hook").stdout
        check("webhook 1 added" in out, f"allowed with the option: {out!r}")
        out = inst.run("webhooks", "add", "https://hooks.example.org/homing").stdout
        check("webhook 2 added" in out, f"a public name is fine: {out!r}")
        with inst.db() as db:
            n = db.execute("SELECT count(*) FROM webhooks").fetchone()[0]
        check(n == 2, f"only the allowed ones stored: {n}")
    finally:
        inst.close()


def test_guard_at_delivery():
    """Registered while allowed, delivered after the option was turned off:
    every attempt is refused before connecting, with the reason recorded; a
    name ("localhost") is checked once resolved."""
    inst = Instance(dict(CONFIG, **{"notify.retry_hours": "0"}))
    by_ip, by_name = Receiver(), Receiver()
    try:
        by_ip.secret = add_webhook(inst, by_ip.url())
        by_name.secret = add_webhook(inst, f"http://localhost:{by_name.port}/hook")
        by_ip.start()
        by_name.start()
        inst.set_config({"webhooks.allow_private": "no"})
        m = inst.add_message(["bob@example.net"])
        inst.serve()
        hit(inst, m["copies"][0]["open_url"])
        deadline, rows = time.time() + 15, []
        while time.time() < deadline:
            with inst.db() as db:
                rows = db.execute("SELECT webhook, failed_us IS NOT NULL, last_error "
                                  "FROM deliveries ORDER BY webhook").fetchall()
            if len(rows) == 2 and all(r[1] for r in rows):
                break
            time.sleep(0.1)
        check(len(rows) == 2 and all(r[1] for r in rows), f"both failed: {rows}")
        for r in rows:
            check("points at a private address" in (r[2] or "") and "loopback" in r[2],
                  f"the guard's reason recorded: {r}")
        check(not by_ip.got and not by_name.got and not by_ip.bad and not by_name.bad,
              "neither receiver was reached")
        check(inst.stop() == 0, "daemon exits 0")
    finally:
        by_ip.stop()
        by_name.stop()
        inst.close()


if __name__ == "__main__":
    r = Runner()
    r.run(test_guard_registration)
    r.run(test_guard_at_delivery)
    r.run(test_isolation)
    r.finish()
