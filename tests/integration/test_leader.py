#!/usr/bin/env python3
"""One leader for background work (issue #14 item 4).

On PostgreSQL (run by tests/pg_cluster.py, `integration_pg/leader`): three
`homing serve` nodes, each with its own directory and journal, the same token
keys and one store (the same schema). Exactly one is the leader (/metrics
`homing_leader`); `homing watch` against a node that is not the leader shows
hits answered by the others; the leader is killed with SIGKILL while a webhook
POST of it is held by the receiver (claimed, never answered), another node
takes over within a few seconds; then the new leader's lock connection is
ended by the server (its process lives): it stops its background work and a
node leads again. Every hit answered before, between and after is notified to
the receiver exactly once (counted by notification id), the held one
included, and no notification is sent by two nodes while a slow receiver
sits on it.

On SQLite (`integration/leader`): the one node is the leader at once.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import (HOMING, Failure, Instance, Runner, check, http_get,  # noqa: E402
                         path_of)
from test_notify import FAST, Receiver, add_webhook, hit, read_lines  # noqa: E402

FAILOVER_MAX_S = 10  # the "a few seconds": the lock is tried every second


def leader_of(inst):
    """homing_leader of the node's /metrics: 0, 1, or None when it does not answer."""
    try:
        st, _, body = http_get(inst.admin_port, "/metrics", timeout=2)
    except OSError:
        return None
    m = re.search(rb"^homing_leader (\d)$", body, re.M)
    check(st == 200 and m, f"/metrics shows homing_leader: {st}")
    return int(m.group(1))


def wait_leaders(nodes, timeout):
    """Polls until exactly one of nodes says it is the leader; returns it."""
    deadline = time.time() + timeout
    seen = None
    while time.time() < deadline:
        seen = [leader_of(n) for n in nodes]
        if seen.count(1) == 1 and seen.count(0) == len(nodes) - 1:
            return nodes[seen.index(1)]
        time.sleep(0.05)
    raise Failure(f"no single leader within {timeout} s: {seen}")


class HoldingReceiver(Receiver):
    """A Receiver that, while hold is set, keeps each POST without answering
    (recording its notification id in held) until release is set, then drops
    the connection: a delivery claimed and sent, never acknowledged."""

    def __init__(self):
        super().__init__()
        self.hold = False
        self.held = []
        self.release = threading.Event()

    def start(self):
        super().start()
        handler = self.server.RequestHandlerClass
        outer = self
        plain = handler.do_POST

        def do_POST(h):
            if not outer.hold:
                return plain(h)
            body = h.rfile.read(int(h.headers.get("Content-Length", "0")))
            with outer.lock:
                outer.held.append(json.loads(body)["id"])
            outer.release.wait(60)
            h.close_connection = True  # no answer at all

        handler.do_POST = do_POST
        return self


def test_failover_once_each():
    url = os.environ["HOMING_TEST_STORE_POSTGRESQL"] % ("lead_" + os.urandom(6).hex())
    config = dict(FAST, **{"store.url": url})
    nodes = [Instance(config) for _ in range(3)]
    rcv = HoldingReceiver().start()
    watch = None
    try:
        a = nodes[0]
        # One set of token keys: a hit verifies on whichever node it reaches.
        for n in nodes[1:]:
            for k in ("token.keys", "data.key"):  # and one data key: the store is sealed
                shutil.copy(os.path.join(a.dir, k), os.path.join(n.dir, k))
        rcv.secret = add_webhook(a, rcv.url(), "open")
        key = a.api_key()
        rcpts = [f"r{i}@example.net" for i in range(1, 9)]
        copies = {c["address"]: c for c in a.add_message(rcpts, subject="Failover")["copies"]}
        for n in nodes:
            n.serve()
        leader = wait_leaders(nodes, 15)
        f1, f2 = [n for n in nodes if n is not leader]
        deadline = time.time() + 15  # each node has tried (a 0 before that says nothing)
        while time.time() < deadline and not all("leader:" in n.daemon_log() for n in nodes):
            time.sleep(0.05)
        for n in nodes:
            check("leader:" in n.daemon_log(), f"a leader: line in the log: {n.daemon_log()}")
        check(leader is wait_leaders(nodes, 1), "still one leader, the same")
        check("this node is the leader" in leader.daemon_log(), leader.daemon_log())

        # The stream of a node that is not the leader shows hits of the others.
        env = dict(os.environ, HOMING_API_KEY=key)
        watch = subprocess.Popen([HOMING, "-c", f1.conf, "watch", "--json", "--url",
                                  f"http://127.0.0.1:{f1.admin_port}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
        time.sleep(1.0)  # connected: only new notifications from here
        hit(leader, copies["r1@example.net"]["open_url"])
        hit(f2, copies["r2@example.net"]["open_url"])
        lines = read_lines(watch, 2, 20)
        shown = sorted(json.loads(l)["payload"]["address"] for l in lines)
        check(shown == ["r1@example.net", "r2@example.net"],
              f"watch on a follower shows the leader's and the other follower's hits: {lines}")
        # A receiver slow to answer: the delivery stays pending for a second,
        # and no node but the one that sent it may send it again meanwhile.
        rcv.delay = 1.0
        hit(f1, copies["r3@example.net"]["open_url"])
        rcv.wait(3, timeout=20)
        time.sleep(1.5)
        rcv.delay = 0

        # A POST claimed and sent by the leader, held unanswered; then the
        # leader dies.
        rcv.hold = True
        hit(f1, copies["r4@example.net"]["open_url"])
        deadline = time.time() + 20
        while time.time() < deadline and not rcv.held:
            time.sleep(0.05)
        check(rcv.held, "the leader sent r4's notification")
        leader.proc.send_signal(signal.SIGKILL)
        leader.proc.wait(10)
        killed = time.time()
        rcv.hold = False
        rcv.release.set()
        new = wait_leaders([f1, f2], FAILOVER_MAX_S)
        failover = time.time() - killed
        print(f"     failover in {failover:.2f} s")
        check("this node is the leader" in new.daemon_log(), new.daemon_log())
        other = f1 if new is f2 else f2
        hit(other, copies["r5@example.net"]["open_url"])
        hit(new, copies["r6@example.net"]["open_url"])
        # The held one goes again once its claim's lease (timeout_ms + 5 s) ends.
        rcv.wait(6, timeout=40)

        # The leader's lock connection ends while its process lives (the
        # server restarted it, the network cut it): it stops its stages, and a
        # node (it or the other) leads again.
        conninfo = url.split("&schema=")[0]
        p = subprocess.run(["psql", "-qAtX", conninfo, "-c",
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                            "WHERE locktype = 'advisory' AND objsubid = 2 AND granted"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and p.stdout.strip() == "1",
              f"the leader's lock session ended: {p.stdout} {p.stderr}")
        deadline = time.time() + FAILOVER_MAX_S
        while time.time() < deadline and "lost the leader lock" not in new.daemon_log():
            time.sleep(0.05)
        check("lost the leader lock" in new.daemon_log(), new.daemon_log())
        again = wait_leaders([f1, f2], FAILOVER_MAX_S)
        hit(f1, copies["r7@example.net"]["open_url"])
        hit(f2, copies["r8@example.net"]["open_url"])
        rcv.wait(8, timeout=40)
        check(again.proc.poll() is None and new.proc.poll() is None, "both nodes still run")

        time.sleep(2)  # anything sent twice would arrive meanwhile
        with rcv.lock:
            got = list(rcv.got)
        ids = [g["id"] for g in got]
        addrs = sorted(g["payload"]["address"] for g in got)
        check(len(ids) == len(set(ids)) == 8, f"eight notifications, each once: {ids}")
        check(addrs == rcpts, f"one per recipient: {addrs}")
        check(rcv.held[0] in ids, f"the held notification delivered once: {rcv.held} {ids}")
        check(not rcv.bad, f"every POST signed: {rcv.bad}")
        watch.send_signal(signal.SIGINT)
        check(watch.wait(timeout=10) == 0, "watch exits 0")
        for n in (f1, f2):
            check(n.stop() == 0, "a surviving node exits 0 on SIGTERM")
    finally:
        if watch and watch.poll() is None:
            watch.kill()
            watch.wait()
        rcv.stop()
        for n in nodes:
            n.close()


def test_sqlite_node_leads_at_once():
    inst = Instance()
    try:
        inst.serve()
        check(leader_of(inst) == 1, "the one node of a SQLite store is the leader from the start")
        check("another node is the leader" not in inst.daemon_log(), inst.daemon_log())
        check(inst.stop() == 0, "exits 0")
    finally:
        inst.close()


def main():
    r = Runner()
    if os.environ.get("HOMING_TEST_STORE_POSTGRESQL"):
        r.run(test_failover_once_each)
    else:
        r.run(test_sqlite_node_leads_at_once)
    r.finish()


if __name__ == "__main__":
    main()
