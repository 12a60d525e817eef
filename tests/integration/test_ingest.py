"""homing ingest from stdin and a Maildir, with the shared report samples
(tests/data/reports): correlation by Message-ID, ORCPT and VERP token, every
report kind's event and state, the unmatched list (non-reports and unparsable
input kept, never dropped), duplicates, and the MTA exit statuses (0, 75).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import HOMING, Failure, Instance, Runner, check  # noqa: E402

DATA = os.path.join(os.environ.get("HOMING_SRC", os.getcwd()), "tests", "data", "reports")


def sample(name):
    return open(os.path.join(DATA, name)).read()


def ingest(inst, data, check_rc=True):
    p = inst.run("ingest", "--json", input=data, check_rc=check_rc)
    return p, (json.loads(p.stdout) if p.stdout.strip() else None)


def states(inst):
    with inst.db() as c:
        return dict(c.execute("SELECT address, state FROM recipients").fetchall())


def test_stdin_kinds():
    inst = Instance()
    try:
        inst.run("message", "add", "--subject", "q3", "--from", "alice@homing.example",
                 "--to", "nobody@dest.example", "--to", "full@dest.example",
                 "--message-id", "q3.report.1@homing.example")
        inst.run("message", "add", "--subject", "mdn", "--from", "Jane_Sender@huge.example",
                 "--to", "joe_recipient@mega.example",
                 "--message-id", "199509192301.23456@huge.example")
        p, r = ingest(inst, sample("dsn-two.eml"))
        check(r["outcome"] == "matched" and r["events"] == 2, f"dsn: {r}")
        check(r["matched_by"] == "original-message-id", f"dsn key: {r}")
        p, r = ingest(inst, sample("mdn-rfc8098.eml"))
        check(r["outcome"] == "matched" and r["kind"] == "mdn", f"mdn: {r}")
        st = states(inst)
        check(st == {"nobody@dest.example": "bounced", "full@dest.example": "delayed",
                     "joe_recipient@mega.example": "read"}, f"states: {st}")
        p, r = ingest(inst, sample("dsn-two.eml"))
        check(r["outcome"] == "duplicate", f"replay: {r}")
        p, r = ingest(inst, sample("not-a-report.eml"))
        check(r["outcome"] == "unmatched", f"not a report: {r}")
        before = states(inst)
        p, r = ingest(inst, sample("autoreply.eml"))
        check(r["kind"] == "autoreply", f"autoreply: {r}")
        check(states(inst) == before, "an auto-reply changed a recipient state")
        autoreply_kept = r["outcome"] == "unmatched"
        p, r = ingest(inst, "")
        check(r["outcome"] == "unparsable", f"empty: {r}")
        p = inst.run("ingest", "--unmatched", "--json")
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        want = ["none", "autoreply", "unparsable"] if autoreply_kept else ["none", "unparsable"]
        check([x["kind"] for x in rows] == want, f"list: {rows}")
        raw = inst.run("ingest", "--raw", str(rows[0]["id"])).stdout
        check(raw == sample("not-a-report.eml"), "raw copy differs from the input")
        with inst.db() as c:
            d = json.loads(c.execute("SELECT detail FROM events WHERE kind = 'bounced'")
                           .fetchone()[0])
        check(d["status"] == "5.1.1" and d["hard"] is True and d["reason"], f"detail: {d}")
    finally:
        inst.close()


def test_exit_statuses():
    inst = Instance()
    try:
        p = subprocess.run([HOMING, "-c", inst.conf, "ingest"], input="x", text=True,
                           capture_output=True, timeout=30)
        check(p.returncode == 0, f"garbage on stdin: {p.returncode}")
        # store unavailable: EX_TEMPFAIL so the MTA retries
        bad = os.path.join(inst.tmp, "bad.conf")
        conf = open(inst.conf).read()
        if inst.pg_url:  # a server that is not there
            conf = conf.replace(inst.pg_url, inst.pg_url.replace("host=", "host=/no/such/dir"))
        else:
            conf = conf.replace("homing.db", "no/such/dir/homing.db")
        open(bad, "w").write(conf)
        p = subprocess.run([HOMING, "-c", bad, "ingest"], input=sample("dsn-two.eml"),
                           text=True, capture_output=True, timeout=30)
        check(p.returncode == 75, f"store unavailable: exit {p.returncode} {p.stderr}")
    finally:
        inst.close()


def suppression_events(inst):
    with inst.db() as c:
        return c.execute("SELECT count(*) FROM events WHERE kind = 'suppression'").fetchone()[0]


def test_maildir_concurrent():
    """Two runs at once over the same Maildir: rename is the claim, so every
    message is ingested by exactly one of them, and all end in cur/ as seen."""
    inst = Instance()
    try:
        inst.run("message", "add", "--subject", "q3", "--from", "alice@homing.example",
                 "--to", "nobody@dest.example", "--to", "full@dest.example",
                 "--message-id", "q3.report.1@homing.example")
        md = os.path.join(inst.tmp, "Maildir")
        for d in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, d))
        base = sample("dsn-two.eml")
        n = 60
        for i in range(n):  # distinct reports: a header line differs
            open(os.path.join(md, "new", f"{i}.host"), "w").write(f"X-Seq: {i}\n" + base)
        procs = [subprocess.Popen([HOMING, "-c", inst.conf, "ingest", "--maildir", md, "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        check(all(p.returncode == 0 for p in procs), f"exit: {[o[1] for o in outs]}")
        lines = [json.loads(l) for o in outs for l in o[0].splitlines()]
        check(len(lines) == n, f"{len(lines)} messages processed, want {n}")
        check(sum(1 for l in lines if l["outcome"] == "matched") == n, "not all matched once")
        # One event per recipient block, and one `suppression` event: the
        # first report's hard bounce listed nobody@ (the other 59 found it
        # listed already).
        check(inst.event_count() == 2 * n + 1, f"events: {inst.event_count()}")
        check(suppression_events(inst) == 1, f"suppression events: {suppression_events(inst)}")
        cur = os.listdir(os.path.join(md, "cur"))
        check(len(cur) == n and all(c.endswith(":2,S") for c in cur), "cur/ incomplete")
        check(not os.listdir(os.path.join(md, "new")), "new/ not empty")
    finally:
        inst.close()


def test_ingest_log_follow_rotation():
    """--follow across a rotation (rename + new file) and a restart: each line
    counted once, the position kept in the store."""
    inst = Instance()
    try:
        inst.run("message", "add", "--subject", "s", "--from", "alice@homing.example",
                 "--to", "a@dest.example", "--to", "b@dest.example", "--to", "c@dest.example",
                 "--message-id", "log.1@homing.example")
        log = os.path.join(inst.tmp, "maillog")
        stamp = "2026-11-22T20:00:0%d.000000+00:00 mx postfix/%s[1]: 4ABCDEF123: %s\n"
        open(log, "w").write(
            stamp % (1, "cleanup", "message-id=<log.1@homing.example>") +
            stamp % (2, "smtp", "to=<a@dest.example>, relay=r[127.0.0.1]:25, delay=1, "
                     "dsn=2.0.0, status=sent (250 ok)") +
            stamp % (2, "cleanup", "XYZ: message-id=<other@else>"))
        p = subprocess.Popen([HOMING, "-c", inst.conf, "ingest-log", "--postfix", log, "--follow"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            def wait_events(k):
                deadline = time.time() + 20
                while time.time() < deadline:
                    if inst.event_count() >= k:
                        return
                    time.sleep(0.1)
                raise Failure(f"{inst.event_count()} events, want {k}")
            wait_events(1)
            os.rename(log, log + ".1")
            with open(log + ".1", "a") as f:  # written just before the rotation
                f.write(stamp % (3, "smtp", "to=<b@dest.example>, relay=r[127.0.0.1]:25, "
                                 "dsn=4.2.0, status=deferred (450 later)"))
            open(log, "w").write(stamp % (4, "smtp", "to=<c@dest.example>, relay=r[1.2.3.4]:25, "
                                          "dsn=5.1.1, status=bounced (550 5.1.1 unknown)"))
            wait_events(4)  # the third line and its suppression event
        finally:
            p.send_signal(signal.SIGTERM)
            p.communicate(timeout=20)
        check(p.returncode == 0, f"ingest-log exit {p.returncode}")
        st = states(inst)
        check(st == {"a@dest.example": "delivered", "b@dest.example": "delayed",
                     "c@dest.example": "bounced"}, f"states: {st}")
        inst.run("ingest-log", "--postfix", log)
        inst.run("ingest-log", "--postfix", log, "--from-start")
        # three lines, and the listing of c@ after its 5.1.1 (docs/suppression.md)
        check(inst.event_count() == 4, f"re-reads counted again: {inst.event_count()}")
        check(suppression_events(inst) == 1, f"suppression events: {suppression_events(inst)}")
    finally:
        inst.close()


if __name__ == "__main__":
    r = Runner()
    r.run(test_stdin_kinds)
    r.run(test_exit_statuses)
    r.run(test_maildir_concurrent)
    r.run(test_ingest_log_follow_rotation)
    r.finish()
