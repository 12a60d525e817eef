"""Keyed document digests across installs and upgrades (docs/documents.md
"Digests"). Two installs (two key files) store different digests of the same
file, each BLAKE2b-256 keyed with the digest key derived from its own key file.
A store from before the keyed digests (built here from the migrations before
0009 with sqlite3, holding rows with the plain digest as the old code wrote
them, over files the old code's format encrypted) is upgraded: `homing doc
list` keys the rows it can decrypt and names the one whose file is missing;
`homing serve` does the same at start. After the upgrade no plain digest is
left in the documents table, and `doc verify` accepts the original."""
import glob
import hashlib
import os
import sqlite3
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check  # noqa: E402

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "lib", "store", "migrations",
                          "sqlite")


def digest_key(inst):
    """homing_keyring_digest_key: crypto_kdf_derive_from_key(32, 1, "homingdg",
    the key file's oldest key), which is BLAKE2b-256 of nothing keyed with that
    key, salt = the subkey id (64-bit little-endian), personal = the context."""
    keys = {}
    for line in open(os.path.join(inst.dir, "token.keys")):
        w = line.split()
        if len(w) == 3 and not line.startswith("#"):
            keys[int(w[0])] = bytes.fromhex(w[2])
    return hashlib.blake2b(b"", digest_size=32, key=keys[min(keys)],
                           salt=struct.pack("<Q", 1), person=b"homingdg").digest()


def keyed(inst, data):
    return hashlib.blake2b(data, digest_size=32, key=digest_key(inst)).hexdigest()


def plain(data):
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def documents(inst):
    with sqlite3.connect(os.path.join(inst.dir, "homing.db")) as c:
        return {r[0]: (r[1], r[2]) for r in
                c.execute("SELECT name, digest, digest_keyed FROM documents")}


def plant_old_store(inst, rows):
    """Replaces inst's store with one at the schema before migration 0009,
    holding rows (name, media_type, size, plain digest, file) as the old code
    wrote them."""
    files = sorted(glob.glob(os.path.join(MIGRATIONS, "[0-9][0-9][0-9][0-9]_*.sql")))
    mine = [f for f in files if f.endswith("_document_digest_keyed.sql")]
    check(len(mine) == 1, f"one digest migration: {mine}")
    before = int(os.path.basename(mine[0])[:4])
    db = os.path.join(inst.dir, "homing.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    c = sqlite3.connect(db)
    try:
        c.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                  "applied_us INTEGER NOT NULL)")
        for f in files:
            v = int(os.path.basename(f)[:4])
            if v < before:
                c.executescript(open(f).read())
                c.execute("INSERT INTO schema_migrations VALUES (?, 1)", (v,))
        cols = [r[1] for r in c.execute("PRAGMA table_info(documents)")]
        check("digest_keyed" not in cols, f"old schema: {cols}")
        for name, mtype, size, digest, fname in rows:
            c.execute("INSERT INTO documents (name, media_type, size, digest, file, created_us) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      (name, mtype, size, digest, fname, int(time.time() * 1e6)))
        c.commit()
    finally:
        c.close()


T = Runner()
a, b = Instance(), Instance()
try:
    content = os.urandom(200 * 1024 + 3)
    src = os.path.join(a.tmp, "report.pdf")
    open(src, "wb").write(content)
    a.run("doc", "add", src, "--name", "report.pdf")
    a.run("doc", "add", src, "--name", "copy.pdf")
    b.run("doc", "add", src, "--name", "report.pdf")

    def two_installs_two_digests():
        da, db_ = documents(a)["report.pdf"], documents(b)["report.pdf"]
        check(da == (keyed(a, content), 1), f"install a: {da}")
        check(db_ == (keyed(b, content), 1), f"install b: {db_}")
        check(da[0] != db_[0], "two key files, one digest")
        check(plain(content) not in (da[0], db_[0]), "the plain digest is stored")

    def old_store_upgraded_by_cli():
        # The files the old code wrote are the files written now (the format
        # did not change): plant their rows with the plain digest, and a third
        # row whose file is missing.
        with sqlite3.connect(os.path.join(a.dir, "homing.db")) as c:
            rows = [r + (plain(content),) for r in c.execute(
                "SELECT name, media_type, size, file FROM documents ORDER BY id")]
        old = [(n, t, s, d, f) for n, t, s, f, d in rows]
        old.append(("lost.pdf", "application/pdf", 10, plain(b"lost"), "d-" + "0" * 32 + ".enc"))
        plant_old_store(a, old)
        p = a.run("doc", "list")
        check("1 document digest(s) stay unkeyed" in p.stderr, p.stderr)
        docs = documents(a)
        check(docs["report.pdf"] == (keyed(a, content), 1), docs)
        check(docs["copy.pdf"] == (keyed(a, content), 1), docs)
        check(docs["lost.pdf"] == (plain(b"lost"), 0), docs)
        check(f"keyed-digest {keyed(a, content)}" in p.stdout, p.stdout)
        check(f"blake2b-256 {plain(b'lost')}" in p.stdout, p.stdout)
        v = a.run("doc", "verify", "report.pdf", src)
        check(v.returncode == 0 and "is the document" in v.stdout, v.stdout)

    def old_store_upgraded_by_serve():
        with sqlite3.connect(os.path.join(a.dir, "homing.db")) as c:
            rows = list(c.execute("SELECT name, media_type, size, file FROM documents "
                                  "WHERE digest_keyed = 1 ORDER BY id"))
        plant_old_store(a, [(n, t, s, plain(content), f) for n, t, s, f in rows])
        a.serve()
        docs = documents(a)
        check(docs == {"report.pdf": (keyed(a, content), 1), "copy.pdf": (keyed(a, content), 1)},
              docs)
        rc = a.stop()
        check(rc == 0, f"daemon exit {rc}")
        log = a.daemon_log()
        check("keyed the stored digest of 2 document(s)" in log, log[-2000:])

    T.run(two_installs_two_digests)
    T.run(old_store_upgraded_by_cli)
    T.run(old_store_upgraded_by_serve)
finally:
    a.close()
    b.close()
T.finish()
