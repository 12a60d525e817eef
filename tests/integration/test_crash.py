"""Crash test: under load, kill -9 the daemon. Every 200 and 302 a client
received must be in the store after the restart (a response is only sent once
its event is in the journal, which the restart moves into the store), and the
store must open and keep working."""
import os
import selectors
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get, path_of  # noqa: E402

CONNECTIONS = 32
LOAD_SECONDS = 4.0  # bounded: the load stops by itself
KILL_AFTER = 1.5


def load(port, paths, kill):
    """Keep-alive clients on one selector; returns complete 200/302 responses."""
    sel = selectors.DefaultSelector()
    ok = 0
    conns = []
    for i in range(CONNECTIONS):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        req = (f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: t\r\n"
               f"User-Agent: crash-test/{i}\r\n\r\n").encode()
        st = {"sock": s, "req": req, "buf": b""}
        s.send(req)
        sel.register(s, selectors.EVENT_READ, st)
        conns.append(st)
    start = time.time()
    killed = False
    while time.time() - start < LOAD_SECONDS and sel.get_map():
        if not killed and time.time() - start > KILL_AFTER:
            kill()
            killed = True
        for key, _ in sel.select(timeout=0.1):
            st = key.data
            try:
                chunk = st["sock"].recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(st["sock"])
                st["sock"].close()
                continue
            st["buf"] += chunk
            while b"\r\n\r\n" in st["buf"]:
                head, rest = st["buf"].split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v)
                if len(rest) < length:
                    break
                status = int(head.split(b" ", 2)[1])
                if status in (200, 302):
                    ok += 1
                st["buf"] = rest[length:]
                try:
                    st["sock"].send(st["req"])
                except OSError:
                    pass
    for st in conns:
        st["sock"].close()
    check(killed, "the load ended before the kill")
    return ok


# One client hammering a few URLs is exactly what flood control stops recording.
# Both durability modes: normal (the journal in the page cache answers at once)
# and full (one fdatasync per round of the event loop before answering).
# On PostgreSQL only normal: durability there is the server's (synchronous_commit),
# and store.sync = full is refused (docs/internals/store.md, HOMING_STORE_CAP_SYNC).
T = Runner()
for sync in ("normal",) if os.environ.get("HOMING_TEST_STORE_POSTGRESQL") else ("normal", "full"):
    inst = Instance({"serve.flood_rate": "0", "store.sync": sync})
    try:
        msg = inst.add_message(["bob@example.net", "carol@example.com"], ["https://example.com/"])
        paths = [path_of(c["open_url"]) for c in msg["copies"]] + \
                [path_of(c["links"][0]["click_url"]) for c in msg["copies"]]
        inst.serve()

        def kill9_under_load_loses_no_answered_hit():
            answered = load(inst.public_port, paths, lambda: inst.proc.send_signal(signal.SIGKILL))
            inst.proc.wait(timeout=10)
            check(answered > 100, f"only {answered} answers before the kill: no load")
            # Restart on the same store: the journal's hits reach the store, the
            # store opens (WAL recovery) and keeps working.
            inst.serve()
            stored = inst.event_count(msg["id"])
            print(f"     store.sync={sync}: answered {answered} hits before kill -9; "
                  f"{stored} events stored after the restart")
            check(stored >= answered, f"lost hits: {answered} answered, {stored} stored")
            st, _, _ = http_get(inst.public_port, paths[0])
            after = inst.event_count(msg["id"])
            check(st == 200 and after == stored + 1,
                  f"store works after restart: status {st}, {after} events after one more hit")
            check(inst.stop() == 0, "clean stop after restart")
            check(inst.event_count(msg["id"]) == after, "a clean stop stores what it journaled")

        kill9_under_load_loses_no_answered_hit.__name__ += "_" + sync
        T.run(kill9_under_load_loses_no_answered_hit)
    finally:
        if T.failed:
            print(inst.daemon_log()[-2000:])
        inst.close()
T.finish()
