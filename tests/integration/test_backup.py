"""homing backup and homing restore.

An instance with two recipients, hits, a rotated key and a shared document is
backed up while its daemon runs; the backup is restored into a fresh directory
holding only a configuration. Reports (text, JSON, CSV) match the original byte
for byte, the document verifies, and the daemon on the restored copy records a
pixel hit of a token signed before the backup (by the first key and by the
rotated one) for the right recipient. A wrong passphrase (file or environment)
is one line, exit 2, and writes nothing; a damaged backup is refused the same
way; an existing target needs --force; the keys in the backup are not readable
without the passphrase."""
import json
import os
import shutil
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import (Instance, Runner, check, free_port, http_get, path_of,  # noqa: E402
                         HOMING)
import subprocess  # noqa: E402

PASS = "correct horse battery staple"


def homing(conf, *args, env=None, input=None):
    e = dict(os.environ)
    e.pop("HOMING_BACKUP_PASSPHRASE", None)
    e.update(env or {})
    return subprocess.run([HOMING, "-c", conf, *args], capture_output=True, text=True,
                          env=e, input=input, timeout=120)


def fresh_instance(conf_from):
    """A directory holding nothing but a configuration (ports of its own)."""
    f = Instance.__new__(Instance)
    f.tmp = tempfile.mkdtemp(prefix="homing-it-")
    os.chmod(f.tmp, 0o755)
    f.dir = os.path.join(f.tmp, "var")
    os.makedirs(f.dir)
    f.conf = os.path.join(f.dir, "homing.conf")
    shutil.copy(conf_from, f.conf)
    f.public_port, f.admin_port = free_port(), free_port()
    f.proc = None
    f.public_tls = False
    f.pg_url = None  # backup is SQLite's (homing_test.Instance sets it in __init__)
    f.set_config({"public.listen": f"127.0.0.1:{f.public_port}",
                  "admin.listen": f"127.0.0.1:{f.admin_port}"})
    return f


def listing(d):
    out = []
    for root, _, files in os.walk(d):
        out += [os.path.relpath(os.path.join(root, n), d) for n in files]
    return sorted(out)


T = Runner()
a = Instance({"serve.flood_rate": "0"})  # one client hammers one URL below
f = None
work = tempfile.mkdtemp(prefix="homing-backup-")
try:
    passfile = os.path.join(work, "pass")
    with open(passfile, "w") as fh:
        fh.write(PASS + "\n")
    os.chmod(passfile, 0o600)
    m1 = a.add_message(["bob@example.net", "carol@example.com"], ["https://example.com/p"],
                       subject="Before rotation")
    a.run("token-keys", "rotate")
    m2 = a.add_message(["dave@example.org"], subject="After rotation")
    docfile = os.path.join(work, "plan.pdf")
    with open(docfile, "wb") as fh:
        fh.write(b"%PDF-1.4 a plan\n" * 100)
    a.run("doc", "add", docfile, "--name", "plan")
    a.serve()
    bob, carol = m1["copies"]
    http_get(a.public_port, path_of(bob["open_url"]),
             headers={"User-Agent": "Mozilla/5.0 Thunderbird/115.0"})
    http_get(a.public_port, path_of(carol["links"][0]["click_url"]))
    a.settle()

    def state():
        return ({fmt: a.run("report", m1["id"], "--format", fmt).stdout
                 for fmt in ("text", "json", "csv")}, a.run("events", "--json").stdout)

    # Enrichment and the privacy sweep (client addresses truncated once
    # enriched) run after the hits are stored: the backup must be taken once
    # they are done, or the original moves on after it.
    deadline = time.time() + 60
    while True:
        s1 = state()
        evs = [json.loads(line) for line in s1[1].splitlines()]
        if all(e["client"].endswith(".0") for e in evs):
            time.sleep(1.2)
            if state() == s1:
                break
        check(time.time() < deadline, f"enrichment and the privacy sweep not done: {s1[1]}")
        time.sleep(0.2)
    backup = os.path.join(work, "b1")

    def backup_while_serving():
        p = homing(a.conf, "backup", backup, "--passphrase-file", passfile)
        check(p.returncode == 0, p.stderr)
        check(listing(backup) == sorted(["MANIFEST", "homing.conf", "homing.db", "keys.sealed"]
                                        + ["documents/" + n for n in
                                           os.listdir(os.path.join(a.dir, "documents"))]),
              listing(backup))
        check(stat.S_IMODE(os.stat(backup).st_mode) == 0o700, "backup dir 0700")
        for n in ("homing.db", "keys.sealed", "homing.conf"):
            check(stat.S_IMODE(os.stat(os.path.join(backup, n)).st_mode) == 0o600, n)
        keys = open(os.path.join(a.dir, "token.keys"), "rb").read()
        sealed = open(os.path.join(backup, "keys.sealed"), "rb").read()
        check(sealed.startswith(b"HOMINGKB"), sealed[:8])
        for line in keys.splitlines():
            for word in line.split():
                if len(word) >= 32:
                    check(word not in sealed, "a key in clear in the backup")
        check(a.proc.poll() is None, "the daemon kept running")

    def backup_refuses_existing_dir_and_short_passphrase():
        p = homing(a.conf, "backup", backup, "--passphrase-file", passfile)
        check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr)
        p = homing(a.conf, "backup", os.path.join(work, "short"),
                   env={"HOMING_BACKUP_PASSPHRASE": "short"})
        check(p.returncode == 2 and "at least 8" in p.stderr, p.stderr)
        check(not os.path.exists(os.path.join(work, "short")), "nothing made")

    def backup_during_a_stream_of_hits():
        import sqlite3
        import threading
        before = a.event_count()
        stop = threading.Event()

        def hits():
            while not stop.is_set():
                http_get(a.public_port, path_of(carol["open_url"]))
        th = threading.Thread(target=hits)
        th.start()
        try:
            time.sleep(0.3)
            p = homing(a.conf, "backup", os.path.join(work, "b2"), "--passphrase-file",
                       passfile)
        finally:
            stop.set()
            th.join()
        check(p.returncode == 0, p.stderr)
        after = a.event_count()
        db = sqlite3.connect(os.path.join(work, "b2", "homing.db"))
        check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity")
        check(db.execute("PRAGMA journal_mode").fetchone()[0] == "delete", "one file")
        n = db.execute("SELECT count(*) FROM events").fetchone()[0]
        db.close()
        check(before <= n <= after and after > before, (before, n, after))

    T.run(backup_while_serving)
    T.run(backup_refuses_existing_dir_and_short_passphrase)
    # The state the first backup holds (nothing happened since it was taken).
    reports, events_before = state()
    T.run(backup_during_a_stream_of_hits)
    check(a.stop() == 0, "daemon stopped")
    f = fresh_instance(os.path.join(backup, "homing.conf"))

    def wrong_passphrase_writes_nothing():
        before = listing(f.dir)
        for how in ({"env": {"HOMING_BACKUP_PASSPHRASE": "not the passphrase"}},):
            p = homing(f.conf, "restore", backup, **how)
            check(p.returncode == 2, p.returncode)
            lines = p.stderr.strip().splitlines()
            check(len(lines) == 1 and "wrong passphrase" in lines[0], p.stderr)
        bad = os.path.join(work, "bad")
        with open(bad, "w") as fh:
            fh.write("Correct horse battery staple\n")
        p = homing(f.conf, "restore", backup, "--passphrase-file", bad)
        check(p.returncode == 2 and "wrong passphrase" in p.stderr, p.stderr)
        p = homing(f.conf, "restore", backup)  # no file, no variable, no terminal
        check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr)
        check(listing(f.dir) == before, f"written: {listing(f.dir)}")

    def damaged_backup_refused():
        broken = os.path.join(work, "broken")
        shutil.copytree(backup, broken)
        db = os.path.join(broken, "homing.db")
        data = bytearray(open(db, "rb").read())
        data[len(data) // 2] ^= 1
        open(db, "wb").write(data)
        before = listing(f.dir)
        p = homing(f.conf, "restore", broken, "--passphrase-file", passfile)
        check(p.returncode == 2 and "damaged" in p.stderr, p.stderr)
        check(listing(f.dir) == before, "nothing written")

    def restore_reports_match_byte_for_byte():
        p = homing(f.conf, "restore", backup, "--passphrase-file", passfile)
        check(p.returncode == 0, p.stderr)
        for fmt, want in reports.items():
            got = f.run("report", m1["id"], "--format", fmt).stdout
            check(got == want, f"{fmt} report differs:\n{want}\n---\n{got}")
        check(f.run("events", "--json").stdout == events_before, "events differ")
        check(stat.S_IMODE(os.stat(os.path.join(f.dir, "token.keys")).st_mode) == 0o600,
              "keys 0600")
        f.run("doc", "verify", "plan", docfile)

    def restore_again_needs_force():
        p = homing(f.conf, "restore", backup, "--passphrase-file", passfile)
        check(p.returncode == 2 and "--force" in p.stderr, p.stderr)

    def old_tokens_verify_on_restored_daemon():
        f.serve()
        n0 = f.event_count(m1["id"])
        st, _, body = http_get(f.public_port, path_of(bob["open_url"]))
        check(st == 200 and len(body) == 43, st)
        dave = m2["copies"][0]
        st, _, _ = http_get(f.public_port, path_of(dave["open_url"]))
        check(st == 200, st)
        with f.db() as c:
            rows = c.execute("SELECT message, recipient FROM events WHERE kind = 'open' "
                             "ORDER BY id DESC LIMIT 2").fetchall()
        check(rows == [(int(m2["id"], 16), 1), (int(m1["id"], 16), 1)], rows)
        check(f.event_count(m1["id"]) == n0 + 1, "one more event for the first message")
        check(f.stop() == 0, "restored daemon stops cleanly")

    T.run(wrong_passphrase_writes_nothing)
    T.run(damaged_backup_refused)
    T.run(restore_reports_match_byte_for_byte)
    T.run(restore_again_needs_force)
    T.run(old_tokens_verify_on_restored_daemon)
finally:
    a.close()
    if f:
        f.close()
    shutil.rmtree(work, ignore_errors=True)
T.finish()
