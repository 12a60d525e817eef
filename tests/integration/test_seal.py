"""Encryption at rest (issue #14 item 6, docs/privacy.md): after a realistic
run on SQLite (a message with recipients, opens and a click from two client
addresses through a trusted proxy, a hard bounce ingested, a suppression
added by hand, a webhook with notifications queued for a receiver that is
down), `sqlite3 .dump` of the store names no recipient address and no client
address in clear, while the CLI still shows them (message show, events,
suppress list), `homing forget` still finds them, the privacy sweep truncates
sealed clients, and a store opened with another data key is refused. A store
holding rows in clear (as an older homing wrote them) is sealed in place by the
next command, and every command still reads and forgets them."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, free_port, http_get, path_of  # noqa: E402

DATA = os.path.join(os.environ.get("HOMING_SRC", "."), "tests", "data", "reports")
WAIT_S = 30
CLIENTS = ["203.0.113.77", "2001:db8:1:2::77"]
ADDRS = ["nobody@dest.example", "full@dest.example", "carol@seal.example", "eve@dest.example"]

inst = Instance({"public.trusted_proxies": "127.0.0.2", "webhooks.allow_private": "yes",
                 "notify.poll_ms": "50", "privacy.truncate": "no"})
T = Runner()


def dump():
    return subprocess.run(["sqlite3", os.path.join(inst.dir, "homing.db"), ".dump"],
                          capture_output=True, text=True, check=True).stdout


def in_clear(text):
    low = text.lower()
    return [a for a in ADDRS + CLIENTS if a.lower() in low]


try:
    out = inst.run("message", "add", "--subject", "q3", "--from", "Alice@Homing.Example",
                   "--to", "nobody@dest.example", "--to", "full@dest.example",
                   "--to", "Carol@Seal.Example", "--link", "https://example.com/a",
                   "--message-id", "q3.report.1@homing.example", "--json").stdout
    msg = json.loads(out)
    mid = msg["id"]
    dead = free_port()  # a webhook receiver that is not there: deliveries stay queued
    inst.run("webhooks", "add", f"http://127.0.0.1:{dead}/hook", "--events", "*")
    inst.serve()

    def realistic_run():
        for i, copy in enumerate(msg["copies"]):
            st, _, _ = http_get(inst.public_port, path_of(copy["open_url"]),
                                headers={"X-Forwarded-For": CLIENTS[i % 2]}, source="127.0.0.2")
            check(st == 200, st)
        http_get(inst.public_port, path_of(msg["copies"][2]["links"][0]["click_url"]),
                 headers={"X-Forwarded-For": CLIENTS[0]}, source="127.0.0.2")
        inst.run("ingest", input=open(os.path.join(DATA, "dsn-two.eml")).read())
        inst.run("suppress", "add", "eve@dest.example", "--note", "asked by eve@dest.example")
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            with inst.db() as c:
                n = c.execute("SELECT count(*) FROM notifications").fetchone()[0]
                d = c.execute("SELECT count(*) FROM deliveries").fetchone()[0]
            if n >= 3 and d >= 3:
                break
            time.sleep(0.2)
        check(n >= 3 and d >= 3, (n, d))

    def dump_names_nobody():
        inst.settle()
        text = dump()
        check("~s1:" in text, "nothing sealed in the dump")
        check(in_clear(text) == [], in_clear(text))

    def cli_reads_them():
        show = json.loads(inst.run("message", "show", mid, "--json").stdout)
        addrs = sorted(r["address"] for r in show["recipients"])
        check(addrs == sorted(["nobody@dest.example", "full@dest.example",
                               "Carol@Seal.Example"]), addrs)
        out = inst.run("events", "--json").stdout
        check(all(c in out for c in CLIENTS), out[:2000])
        sup = inst.run("suppress", "list", "--json").stdout
        check("eve@dest.example" in sup and "nobody@dest.example" in sup, sup)

    def forget_finds_sealed_rows():
        p = inst.run("forget", "CAROL@seal.example")
        check(p.stdout.startswith("forgot CAROL@seal.example:") or "recipients" in p.stdout,
              p.stdout)
        show = json.loads(inst.run("message", "show", mid, "--json").stdout)
        addrs = [r["address"] for r in show["recipients"]]
        check("forgotten" in addrs and "Carol@Seal.Example" not in addrs, addrs)
        with inst.db() as c:  # rows opened: nothing names her any more
            for t in ("events", "notifications", "recipients"):
                for row in c.execute(f'SELECT * FROM "{t}"').fetchall():
                    check(not any(isinstance(v, str) and "carol@seal.example" in v.lower()
                                  for v in row), (t, row))

    def sweep_truncates_sealed_clients():
        inst.set_config({"privacy.truncate": "yes"})
        inst.run("privacy", "sweep")
        with inst.db() as c:
            clients = {r[0] for r in c.execute(
                "SELECT client FROM events WHERE client IS NOT NULL").fetchall()}
        check(clients <= {"203.0.113.0", "2001:db8:1::"} and clients, clients)
        check(in_clear(dump()) == [], in_clear(dump()))

    def another_key_is_refused():
        inst.stop()
        key = os.path.join(inst.dir, "data.key")
        shutil.move(key, key + ".kept")
        # missing: no new key is made for a sealed store, the message says to copy it
        p = inst.run("events", "--json", check_rc=False)
        check(p.returncode != 0 and "copy it from the node or backup" in p.stderr and
              not os.path.exists(key), (p.returncode, p.stderr))
        # another key: refused, the store left as it was
        open(key, "w").write("# another key\n" + "ab" * 32 + "\n")
        os.chmod(key, 0o600)
        p = inst.run("events", "--json", check_rc=False)
        check(p.returncode != 0 and "sealed with data key" in p.stderr, (p.returncode, p.stderr))
        shutil.move(key + ".kept", key)
        check(inst.run("events", "--json").returncode == 0, "the store's own key again")

    def old_rows_sealed_on_open():
        old = Instance()
        try:
            import sqlite3
            db = sqlite3.connect(os.path.join(old.dir, "homing.db"))
            now = int(time.time() * 1e6)
            with db:
                db.execute("DELETE FROM sync_state WHERE name IN ('seal-key', 'seal-legacy')")
                db.execute("INSERT INTO messages (id, message_id, subject, sender, created_us) "
                           "VALUES (4242, 'old@homing.example', 'old', 'alice@homing.example', 1)")
                db.execute("INSERT INTO recipients (message, idx, address, state_us) "
                           "VALUES (4242, 1, 'Old.Reader@Legacy.Example', 1)")
                db.execute("INSERT INTO events (time_us, kind, method, message, recipient, item, "
                           "client) VALUES (?, 'open', 'GET', 4242, 1, 0, '198.51.100.9')", (now,))
                db.execute("INSERT INTO events (time_us, kind, message, recipient, item, detail) "
                           "VALUES (?, 'bounced', 4242, 1, 0, "
                           "'{\"diagnostic\":\"550 <old.reader@legacy.example> unknown\"}')",
                           (now,))
                db.execute("INSERT INTO suppressions (sender, address, reason, created_us) "
                           "VALUES ('', 'old.reader@legacy.example', 'manual', 1)")
            db.close()
            old_text = subprocess.run(["sqlite3", os.path.join(old.dir, "homing.db"), ".dump"],
                                      capture_output=True, text=True, check=True).stdout
            check("old.reader@legacy.example" in old_text.lower(), "the rows are not in clear")
            show = json.loads(old.run("message", "show", "0000000000001092", "--json").stdout)
            check([r["address"] for r in show["recipients"]] == ["Old.Reader@Legacy.Example"],
                  show)
            text = subprocess.run(["sqlite3", os.path.join(old.dir, "homing.db"), ".dump"],
                                  capture_output=True, text=True, check=True).stdout.lower()
            for v in ("old.reader@legacy.example", "198.51.100.9"):
                check(v not in text, f"{v} still in clear")
            evs = old.run("events", "--json").stdout
            check("198.51.100.9" in evs and "<old.reader@legacy.example>" in evs, evs)
            sup = old.run("suppress", "list", "--json").stdout
            check("old.reader@legacy.example" in sup, sup)
            p = old.run("forget", "old.reader@legacy.example")
            check("events" in p.stdout and "suppressions" in p.stdout, p.stdout)
            check("198.51.100.9" not in old.run("events", "--json").stdout, "events left")
        finally:
            old.close()

    T.run(old_rows_sealed_on_open)
    T.run(realistic_run)
    T.run(dump_names_nobody)
    T.run(cli_reads_them)
    T.run(forget_finds_sealed_rows)
    T.run(sweep_truncates_sealed_clients)
    T.run(another_key_is_refused)
finally:
    inst.close()
T.finish()
