"""Flood control loses no count: a client floods one pixel URL over one
keep-alive connection and the daemon is killed (SIGKILL) or stopped (SIGTERM)
in the middle of the flood, well inside its 2 s quiet period. After the
restart, the opens recorded plus the `dropped` counts of the `suppressed`
events must equal, exactly, the number of 200s the client received: an answer
means a recorded hit, suppressed or not."""
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Failure, Instance, Runner, check, path_of  # noqa: E402

HITS = 1000      # the flood, bounded
SIGNAL_AT = 500  # answers received before the signal
BURST = 20


def flood(port, path, inst, sig):
    """Sends up to HITS requests one after another on one connection; after
    SIGNAL_AT answers signals the daemon and goes on until the connection
    ends. Returns the complete 200 answers with the 43-byte GIF."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=("127.0.0.2", 0))
    req = f"GET {path} HTTP/1.1\r\nHost: t\r\nUser-Agent: durable-flood\r\n\r\n".encode()
    buf = b""
    ok = 0
    signalled = False
    try:
        for _ in range(HITS):
            if not signalled and ok >= SIGNAL_AT:
                inst.proc.send_signal(sig)
                signalled = True
            s.sendall(req)
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                buf += chunk
            head, rest = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            while len(rest) < length:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("closed mid-body")
                rest += chunk
            status = int(head.split(b" ", 2)[1])
            ok += status == 200 and length == 43
            buf = rest[length:]
    except OSError:
        pass  # the daemon went away: what was answered is counted
    finally:
        s.close()
    check(signalled, f"only {ok} answers: the flood ended before the signal")
    return ok


def recorded(inst, recipient):
    """Opens recorded and the suppressed events' counts of one recipient."""
    with inst.db() as c:
        opens = c.execute("SELECT count(*) FROM events WHERE kind='open' AND recipient=?",
                          (recipient,)).fetchone()[0]
        rows = c.execute("SELECT client, detail FROM events WHERE kind='suppressed' AND "
                         "recipient=?", (recipient,)).fetchall()
    return opens, rows


# Addresses kept whole: the suppressed events name the flooding client.
inst = Instance({"serve.flood_rate": "2", "serve.flood_burst": str(BURST),
                 "privacy.truncate": "no"})
T = Runner()
try:
    msg = inst.add_message(["bob@example.net", "carol@example.com"])
    paths = [path_of(c["open_url"]) for c in msg["copies"]]
    inst.serve()

    def signal_mid_flood_loses_no_count(sig, recipient):
        answered = flood(inst.public_port, paths[recipient - 1], inst, sig)
        inst.proc.wait(timeout=30)
        check(answered > BURST + 100, f"only {answered} answers: no flood")
        inst.serve()
        # The restart stores what the journal held and closes the flood; poll
        # (bounded) in case anything still trails.
        deadline = time.time() + 15
        while True:
            opens, rows = recorded(inst, recipient)
            dropped = sum(json.loads(d)["dropped"] for _, d in rows)
            if opens + dropped >= answered or time.time() > deadline:
                break
            time.sleep(0.2)
        print(f"     {signal.Signals(sig).name} after {SIGNAL_AT} answers: {answered} answered; "
              f"{opens} opens recorded + {dropped} suppressed in {len(rows)} event(s)")
        check(opens + dropped == answered,
              f"{answered} answered but {opens} opens + {dropped} suppressed recorded")
        check(BURST <= opens < answered // 2, f"{opens} opens recorded: flood control did not act")
        check(rows and all(c == "127.0.0.2" for c, _ in rows), rows)
        check(all(json.loads(d)["of"] == "open" for _, d in rows), rows)

    def sigkill_mid_flood_loses_no_count():
        signal_mid_flood_loses_no_count(signal.SIGKILL, 1)

    def sigterm_mid_flood_loses_no_count():
        signal_mid_flood_loses_no_count(signal.SIGTERM, 2)

    T.run(sigkill_mid_flood_loses_no_count)
    T.run(sigterm_mid_flood_loses_no_count)
finally:
    if T.failed:
        print(inst.daemon_log()[-2000:])
    inst.close()
T.finish()
