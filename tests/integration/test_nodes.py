"""Three `homing serve` nodes on one PostgreSQL store (issue #14 item 3; run by
tests/pg_cluster.py, which exports how to stop and start its server).

Each node has its own directory (configuration, journal), the first node's
token.keys and its own node.id. A bounded load runs on all three (clients that
remember every request answered 200 or 302, each with a User-Agent naming it
uniquely); during it one node is killed with SIGKILL and started again, and
PostgreSQL is stopped for a few seconds and started again. Afterwards (polled,
bounded): every answered hit is stored, none twice, and nothing is stored that
was not sent; `homing events --json` on any node shows every node's hits.
A webhook receiver on 127.0.0.1 gets the notifications of person-like hits
sent to every node before, during and after the outage: one leader at a time
runs the notifier and the deliverer (the killed node may be it), and every
notification the store holds reaches the receiver exactly once."""
import http.client
import json
import os
import re
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import (Failure, Instance, Runner, check, http_get, path_of,  # noqa: E402
                         pg_server)
from test_notify import FAST, THUNDERBIRD, Receiver, add_webhook  # noqa: E402

NODES = 3
CLIENTS = 2           # client threads per node
LOAD_SECONDS = 14.0   # bounded: the load stops by itself
KILL_AT = 2.0         # seconds into the load: SIGKILL node 2, then start it again
PG_DOWN_AT = 5.0      # seconds into the load: stop PostgreSQL...
PG_DOWN_SECONDS = 5.0  # ...for this long
SETTLE_S = 120        # how long the nodes may take to ship their backlog
REQUEST_TIMEOUT_S = 5
# Requests per second per client of node 1; node i gets i times as many, so
# the nodes' journal positions differ (nodes that shared a cursor would skip
# or repeat each other's hits when they read it back, at the restart and after
# the outage). Few enough that three nodes, their PostgreSQL and the clients
# share 2 CPUs without starving a node that restarts (the test is about what
# is stored, not how fast).
CLIENT_RATE = 30


class Client(threading.Thread):
    """Keep-alive GETs on one node until `stop`, each with its own
    User-Agent; `answered` holds those answered 200 or 302, `sent` all."""

    def __init__(self, node, n, paths, stop):
        super().__init__(daemon=True)
        self.node, self.n, self.paths, self.stop = node, n, paths, stop
        self.sent, self.answered, self.errors = [], [], 0

    def run(self):
        conn, seq = None, 0
        start = time.time()
        rate = CLIENT_RATE * (nodes.index(self.node) + 1)
        while not self.stop.is_set():
            ahead = start + seq / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.node.public_port,
                                                  timeout=REQUEST_TIMEOUT_S)
            ua = f"nodes-test/{self.node.name}/{self.n}/{seq}"
            path = self.paths[seq % len(self.paths)]
            seq += 1
            try:
                self.sent.append(ua)
                conn.request("GET", path, headers={"User-Agent": ua})
                r = conn.getresponse()
                r.read()
                if r.status in (200, 302):
                    self.answered.append(ua)
            except (OSError, http.client.HTTPException):
                # the node was killed (or is starting): a new connection
                self.errors += 1
                conn.close()
                conn = None
                time.sleep(0.05)
        if conn:
            conn.close()


def backlog(node):
    try:
        _, _, body = http_get(node.admin_port, "/metrics", timeout=5)
    except OSError:
        return None
    m = re.search(rb"^homing_queue_depth (\d+)$", body, re.M)
    return int(m.group(1)) if m else None


def stored_hits(inst):
    """User-Agent -> how many events carry it, for the load's hits."""
    with inst.db() as c:
        rows = c.execute("SELECT user_agent, count(*) FROM events "
                         "WHERE user_agent LIKE 'nodes-test/%' GROUP BY user_agent").fetchall()
    return dict(rows)


T = Runner()
nodes = []
rcv = None
try:
    first = Instance(dict(FAST, **{"serve.flood_rate": "0", "node.id": "n1"}))
    first.name = "n1"
    nodes.append(first)
    url = open(first.conf).read().split("\nurl = ", 1)[1].split("\n", 1)[0]
    check(url.startswith("postgresql://"), f"run under tests/pg_cluster.py: store.url {url}")
    for i in range(2, NODES + 1):
        inst = Instance(dict(FAST, **{"serve.flood_rate": "0", "node.id": f"n{i}",
                                       "store.url": url}))
        inst.name = f"n{i}"
        for k in ("token.keys", "data.key"):  # and one data key: the store is sealed
            shutil.copy(os.path.join(first.dir, k), os.path.join(inst.dir, k))
        nodes.append(inst)
    msg = first.add_message(["bob@example.net", "carol@example.com"], ["https://example.com/a"])
    paths = [path_of(c["open_url"]) for c in msg["copies"]] + \
            [path_of(c["links"][0]["click_url"]) for c in msg["copies"]]
    # a link no node has looked up before PostgreSQL goes down
    fresh = path_of(first.add_message(["dave@example.org"], ["https://example.com/fresh"])
                    ["copies"][0]["links"][0]["click_url"])
    rcv = Receiver()
    rcv.start()
    rcv.secret = add_webhook(first, rcv.url())
    # Readers of a message of their own: each phase of the load (before the
    # kill, during the outage, at its end) opens new copies, one per node, so
    # each phase makes notifications of its own (a reader's first open).
    PHASES = 3
    readers = first.add_message([f"p{i}@example.net" for i in range(PHASES * NODES)],
                                subject="People")
    opens = [path_of(c["open_url"]) for c in readers["copies"]]
    people = []  # (phase, node, answer) of each person-like open sent

    def person_opens(phase):
        """A Thunderbird open of this phase's copies, each on another node."""
        for k, n in enumerate(nodes):
            try:
                st, _, _ = http_get(n.public_port, opens[phase * NODES + k],
                                    timeout=REQUEST_TIMEOUT_S,
                                    headers={"User-Agent": THUNDERBIRD, "Accept-Language": "en"})
            except OSError:
                st = None
            people.append((phase, n.name, st))

    for inst in nodes:
        inst.serve()

    def every_answered_hit_stored_once_through_a_kill_and_an_outage():
        stop = threading.Event()
        clients = [Client(node, n, paths, stop) for node in nodes for n in range(CLIENTS)]
        for c in clients:
            c.start()
        try:
            t0 = time.time()
            victim = nodes[1]
            person_opens(0)
            time.sleep(max(0.0, KILL_AT - (time.time() - t0)))
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait(timeout=10)
            victim.serve()  # its journal's hits reach the store before it answers
            time.sleep(max(0.0, PG_DOWN_AT - (time.time() - t0)))
            pg_server("stop")
            down_at = time.time()
            # A click whose destination the node cannot look up now: come back
            # later (503, Retry-After), not "no such link" (404).
            fresh_down = http_get(nodes[2].public_port, fresh, timeout=REQUEST_TIMEOUT_S)
            person_opens(1)  # journaled while the store is away
            time.sleep(max(0.0, PG_DOWN_SECONDS - (time.time() - down_at)))
            # the nodes kept answering: their journals hold what they answered
            during = [backlog(n) for n in nodes]
            pg_server("start")
            up_after = time.time() - down_at
            time.sleep(max(0.0, LOAD_SECONDS - 1 - (time.time() - t0)))
            person_opens(2)
            time.sleep(max(0.0, LOAD_SECONDS - (time.time() - t0)))
        finally:
            stop.set()
            for c in clients:
                c.join(timeout=REQUEST_TIMEOUT_S + 5)
        answered = [ua for c in clients for ua in c.answered]
        sent = {ua for c in clients for ua in c.sent}
        per_node = {n.name: sum(len(c.answered) for c in clients if c.node is n) for n in nodes}
        print(f"     answered {len(answered)} hits {per_node}, sent {len(sent)}; "
              f"PostgreSQL down {up_after:.1f} s, backlog then {during}")
        check(all(v > 100 for v in per_node.values()), f"no load on some node: {per_node}")
        check(fresh_down[0] == 503 and "retry-after" in fresh_down[1],
              f"an uncached click while PostgreSQL is down: {fresh_down[0]} {fresh_down[1]}")
        st, h, _ = http_get(nodes[2].public_port, fresh, timeout=REQUEST_TIMEOUT_S)
        check(st == 302 and h.get("location") == "https://example.com/fresh",
              f"the same click with PostgreSQL back: {st} {h}")
        check(all(b is not None and b > 0 for b in during),
              f"every node journaled hits while PostgreSQL was down: backlogs {during}")
        # Every node ships what it journaled once PostgreSQL is back.
        deadline = time.time() + SETTLE_S
        stored, left = {}, None
        while time.time() < deadline:
            left = [backlog(n) for n in nodes]
            if left == [0] * NODES:
                stored = stored_hits(first)
                if all(ua in stored for ua in answered):
                    break
            time.sleep(0.2)
        check(left == [0] * NODES, f"backlogs not shipped in {SETTLE_S} s: {left}")
        missing = [ua for ua in answered if ua not in stored]
        check(not missing, f"{len(missing)} answered hits not stored, e.g. {missing[:3]}")
        twice = {ua: n for ua, n in stored.items() if n != 1}
        check(not twice, f"{len(twice)} hits stored more than once, e.g. {list(twice.items())[:3]}")
        unsent = [ua for ua in stored if ua not in sent]
        check(not unsent, f"stored hits nobody sent: {unsent[:3]}")
        print(f"     stored {len(stored)} hits ({len(stored) - len(set(answered))} journaled "
              "whose answer the kill cut off), none twice")
        # Errors while PostgreSQL was down are logged, a few lines, not one a try.
        for n in nodes:
            lines = [ln for ln in n.daemon_log().splitlines() if "cannot move hits" in ln]
            check(len(lines) <= 12, f"{n.name}: {len(lines)} ingester error lines: {lines[:3]}")

    def every_notification_sent_once():
        answered = sum(1 for _, _, st in people if st == 200)
        check(answered == len(opens), f"person-like opens answered: {people}")
        deadline = time.time() + SETTLE_S
        ids, got = set(), []
        while time.time() < deadline:
            with first.db() as c:
                ids = {r[0] for r in c.execute("SELECT id FROM notifications").fetchall()}
                busy = c.execute("SELECT count(*) FROM deliveries "
                                 "WHERE delivered_us IS NULL").fetchone()[0]
            with rcv.lock:
                got = [n["id"] for n in rcv.got]
            # Done only when every reader's first open has its notification
            # (the leader may still be enriching the last ones) and every
            # stored one has arrived.
            if len(ids) >= len(opens) and set(got) >= ids and busy == 0:
                break
            time.sleep(0.2)
        check(len(ids) >= len(opens), f"{len(ids)} notifications stored for {len(opens)} "
                                      "readers' first opens")
        check(set(got) == ids, f"notifications stored {sorted(ids)}, received {sorted(set(got))}")
        twice = sorted({i for i in got if got.count(i) > 1})
        check(not twice, f"notifications received more than once: {twice}")
        check(not rcv.bad, f"{len(rcv.bad)} deliveries with a bad signature")
        leaders = [n.name for n in nodes if "leader: this node is the leader" in n.daemon_log()]
        print(f"     {len(ids)} notifications, each received once; led by {leaders}")

    def any_node_shows_every_nodes_hits():
        for inst in nodes:
            out = inst.run("events", "--json").stdout
            uas = [json.loads(line)["user_agent"] for line in out.splitlines()]
            seen = {ua.split("/")[1] for ua in uas if ua.startswith("nodes-test/")}
            check(seen == {n.name for n in nodes}, f"{inst.name} shows hits of {seen}")

    def each_node_its_own_cursors():
        with first.db() as c:
            names = sorted(r[0] for r in c.execute(
                "SELECT name FROM cursors WHERE name LIKE 'journal.%'").fetchall())
        check(names == [f"journal.n{i}.0" for i in range(1, NODES + 1)], names)

    def a_node_without_id_is_refused():
        inst = Instance({"store.url": url, "node.id": ""})
        shutil.copy(os.path.join(first.dir, "data.key"), os.path.join(inst.dir, "data.key"))
        try:
            p = inst.run("serve", check_rc=False, timeout=30)
            check(p.returncode != 0 and "node.id" in p.stderr, (p.returncode, p.stderr))
            # and homing doctor says so
            p = inst.run("doctor", check_rc=False, timeout=30)
            check(p.returncode == 1 and re.search(r"^FAIL\s+node\.id: empty", p.stdout, re.M),
                  p.stdout)
            out = first.run("doctor", check_rc=False, timeout=30).stdout
            check(re.search(r"^ok\s+node\.id: n1 ", out, re.M), out)
        finally:
            inst.close()

    T.run(every_answered_hit_stored_once_through_a_kill_and_an_outage)
    T.run(every_notification_sent_once)
    T.run(any_node_shows_every_nodes_hits)
    T.run(each_node_its_own_cursors)
    T.run(a_node_without_id_is_refused)
except Failure as e:
    print(f"FAIL setup: {e}")
    T.failed += 1
finally:
    if T.failed:
        for n in nodes:
            print(f"--- {getattr(n, 'name', '?')}:\n{n.daemon_log()[-3000:]}")
    for n in nodes:
        n.close()
    if rcv:
        rcv.stop()
T.finish()
