"""homing ingest from stdin and a Maildir, with the shared report samples
(tests/data/reports): correlation by Message-ID, ORCPT and VERP token, every
report kind's event and state, the unmatched list (non-reports and unparsable
input kept, never dropped), duplicates, and the MTA exit statuses (0, 75).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from homing_test import HOMING, Instance, Runner, check  # noqa: E402

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
        conf = open(inst.conf).read().replace("homing.db", "no/such/dir/homing.db")
        open(bad, "w").write(conf)
        p = subprocess.run([HOMING, "-c", bad, "ingest"], input=sample("dsn-two.eml"),
                           text=True, capture_output=True, timeout=30)
        check(p.returncode == 75, f"store unavailable: exit {p.returncode} {p.stderr}")
    finally:
        inst.close()


if __name__ == "__main__":
    r = Runner()
    r.run(test_stdin_kinds)
    r.run(test_exit_statuses)
    r.finish()
