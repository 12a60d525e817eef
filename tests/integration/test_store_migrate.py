"""homing store migrate --to postgresql://... (docs/operations.md, "Moving a
store to PostgreSQL"): a SQLite store built with the real binary and daemon
(messages with recipients and links, opens and clicks enriched, a document
opened through its grant, a bounce ingested, suppressions, API keys, a
webhook with a notification queued) is copied into PostgreSQL; then the same
configuration pointed at the PostgreSQL URL answers events, stats, report,
api-keys, suppress, webhooks and doc listings exactly as the SQLite store
did, every table has the same rows, and a hit stored after the move gets a
fresh id (the sequence moved past the copied ones). Bad targets (unreachable,
not PostgreSQL, holding data) and a source column the target lacks fail with
one line, exit 2, and change neither store; after a failed copy the target is
empty and the same command succeeds once the cause is gone.

Runs beside tests/pg_cluster.py (integration_pg/store_migrate): the source
instance is SQLite, the targets are schemas on that server."""
import glob
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, free_port, http_get, path_of  # noqa: E402

TEMPLATE = os.environ.pop("HOMING_TEST_STORE_POSTGRESQL", None)
if not TEMPLATE:
    sys.exit("test_store_migrate.py runs beside a PostgreSQL server: "
             "python3 tests/pg_cluster.py python3 tests/integration/test_store_migrate.py")
DATA = os.path.join(os.environ.get("HOMING_SRC", "."), "tests", "data", "reports")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
BROWSER = {"User-Agent": FIREFOX, "Accept-Language": "en-GB,en;q=0.8"}

# node.id: homing serve needs one on a PostgreSQL store (the move keeps it).
inst = Instance({"notify.poll_ms": "50", "notify.retry_min_ms": "60000",
                 "notify.retry_max_ms": "60000", "webhooks.allow_private": "yes",
                 "node.id": "moved"})
T = Runner()
SQLITE_URL = "sqlite:homing.db"
PG_URL = TEMPLATE % "migrated"
state = {}


def url(schema):
    return TEMPLATE % schema


def counts_sqlite():
    with sqlite3.connect(os.path.join(inst.dir, "homing.db")) as c:
        names = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'schema_migrations' ORDER BY name")]
        return {n: c.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def source_dump():
    with sqlite3.connect(os.path.join(inst.dir, "homing.db")) as c:
        return hashlib.sha256("\n".join(c.iterdump()).encode()).hexdigest()


def psql(target, sql, check_rc=True):
    """Runs sql on the server of target (a store URL) in its schema and its key
    silo (the schema's "_keys" twin: API keys, relay users, webhook secrets)."""
    host = re.search(r"host=([^&]*)", target).group(1)
    schema = re.search(r"schema=([A-Za-z0-9_]*)", target).group(1)
    exe = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    p = subprocess.run([exe, "-X", "-q", "-h", host, "-U", "postgres", "-d", "homing_test",
                        "-v", "ON_ERROR_STOP=1", "-At", "-c",
                        f"SET search_path TO {schema}, {schema}_keys; {sql}"],
                       capture_output=True, text=True, timeout=60)
    if check_rc and p.returncode != 0:
        raise AssertionError(f"psql {sql!r}: {p.stderr}")
    return p


def unescape_copy(v):
    if v == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1),
                                                                           m.group(1)), v)


def same_rows(target):
    """Every table's rows in the target equal the source's, value by value."""
    with sqlite3.connect(os.path.join(inst.dir, "homing.db")) as c:
        names = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'schema_migrations'")]
        for t in names:
            cols = [r[1] for r in c.execute(f"PRAGMA table_info({t})")]
            want = sorted(tuple("\\x" + v.hex() if isinstance(v, bytes) else
                                None if v is None else str(v) for v in row)
                          for row in c.execute(f'SELECT {", ".join(cols)} FROM "{t}"'))
            # The key silo keeps webhooks' secrets in a table of its own.
            pg_cols = [col for col in cols if (t, col) != ("webhooks", "secret")]
            sql = f'SELECT {", ".join(pg_cols)} FROM "{t}"'
            if pg_cols != cols:
                sql = (f'SELECT {", ".join("w." + col if col != "secret" else "s.secret" for col in cols)} '
                       f'FROM "{t}" w LEFT JOIN webhook_secrets s ON s.webhook = w.id')
            out = psql(target, f'COPY ({sql}) TO STDOUT').stdout
            got = sorted(tuple(unescape_copy(v) for v in line.split("\t"))
                         for line in out.splitlines())
            check(got == want, f"table {t}: {len(got)} rows differ from the source's "
                               f"{len(want)}:\n{got[:3]}\n{want[:3]}")


def views():
    """What the CLI shows of the configured store."""
    msg = state["a"]["id"]
    out = {}
    for name, args in [("events", ["events", "--json", "--limit", "1000"]),
                       ("stats", ["stats", "--json"]),
                       ("stats_a", ["stats", "--message", msg, "--json"]),
                       ("report", ["report", msg]),
                       ("report_doc", ["report", state["doc_msg"]]),
                       ("api_keys", ["api-keys", "list"]),
                       ("suppress", ["suppress", "list", "--json"]),
                       ("webhooks", ["webhooks", "list"]),
                       ("series", ["stats", "--series", "hour", "--json"]),
                       ("docs", ["doc", "list"]),
                       ("grants", ["doc", "list", "notice.pdf"])]:
        out[name] = inst.run(*args).stdout
    return out


def wait_enriched(want, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        o = json.loads(inst.run("stats", "--json").stdout)
        if o["opens"]["all"] + o["clicks"]["all"] + o["document_opens"]["all"] >= want:
            return
        time.sleep(0.1)
    raise AssertionError(f"not every hit enriched after {timeout} s")


def build_source():
    pdf = os.path.join(inst.tmp, "notice.pdf")
    open(pdf, "wb").write(b"%PDF-1.4\n" + os.urandom(2048) + b"\n%%EOF\n")
    inst.run("doc", "add", pdf, "--name", "notice.pdf")
    out = inst.run("doc", "grant", "notice.pdf", "dora@example.org").stdout
    grant_url = [w for w in out.split() if w.startswith("http")][0]
    state["doc_msg"] = out.split("message ")[1].split()[0]
    inst.run("webhooks", "add", f"http://127.0.0.1:{free_port()}/hook", "--events", "*")
    state["key"] = inst.api_key("reader")
    inst.api_key("old", scope="admin")
    inst.run("api-keys", "revoke", "old")
    inst.serve()
    a = inst.add_message(["bob@example.net", "carol@example.com"],
                         links=["https://example.com/x", "https://example.com/y?q=1"],
                         subject="Spring – été")
    state["a"] = a
    inst.run("message", "add", "--subject", "q3", "--from", "alice@homing.example",
             "--to", "nobody@dest.example", "--to", "full@dest.example",
             "--message-id", "q3.report.1@homing.example")
    bob, carol = a["copies"][0], a["copies"][1]
    for _ in range(2):
        check(http_get(inst.public_port, path_of(bob["open_url"]), headers=BROWSER)[0] == 200,
              "bob's open")
    check(http_get(inst.public_port, path_of(bob["links"][1]["click_url"]),
                   headers=BROWSER)[0] == 302, "bob's click")
    check(http_get(inst.public_port, path_of(carol["open_url"]),
                   headers={"User-Agent": "curl/8.0"})[0] == 200, "carol's open")
    check(http_get(inst.public_port, path_of(grant_url), headers=BROWSER)[0] == 200,
          "the document through its grant")
    inst.run("ingest", input=open(os.path.join(DATA, "dsn-two.eml")).read())
    inst.run("suppress", "add", "eve@dest.example", "--note", "asked by phone")
    wait_enriched(5)
    # a notification waits for its webhook (nobody listens there)
    deadline = time.time() + 20
    while time.time() < deadline:
        with inst.db() as c:
            if c.execute("SELECT count(*) FROM deliveries WHERE delivered_us IS NULL").fetchone()[0]:
                break
        time.sleep(0.1)
    else:
        raise AssertionError("no delivery queued")
    inst.stop()
    with inst.db() as c:
        state["max_event"] = c.execute("SELECT max(id) FROM events").fetchone()[0]
        for t in ("grants", "hourly_stats", "recipient_bounces", "message_stats",
                  "link_totals", "message_states", "notifications", "enrichments"):
            check(c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] > 0, f"{t} is empty")
        check(c.execute("SELECT uses FROM grants").fetchone()[0] == 1, "grant used once")


def dry_run():
    before = source_dump()
    p = inst.run("store", "migrate", "--to", PG_URL, "--dry-run")
    rows = {l.split()[0]: int(l.split()[1]) for l in p.stdout.splitlines()[1:-1]}
    want = {k: v for k, v in counts_sqlite().items()}
    check(rows == want, f"dry run counts {rows} != {want}")
    check("creates it" in p.stdout, f"dry run on a new schema: {p.stdout!r}")
    check(source_dump() == before, "the dry run changed the source")


def migrate():
    state["source"] = views()
    before = source_dump()
    p = inst.run("store", "migrate", "--to", PG_URL)
    copied = {l.split()[0]: int(l.split()[1]) for l in p.stdout.splitlines()[1:-1]}
    check(copied == counts_sqlite(), f"copied {copied}")
    check("homing store migrate: events:" in p.stderr, f"progress on stderr: {p.stderr!r}")
    check(source_dump() == before, "the copy changed the source")
    inst.set_config({"store.url": PG_URL})
    after = views()
    for k, v in state["source"].items():
        check(after[k] == v, f"{k} differs after the move:\n{v}\n---\n{after[k]}")
    inst.set_config({"store.url": SQLITE_URL})
    # the same rows in every table, read through PostgreSQL itself: ids,
    # counters and grant uses as they were, not recounted
    same_rows(PG_URL)
    # the insert triggers are on again, and the events still refuse changes
    off = psql(PG_URL, "SELECT count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
                       "WHERE c.relnamespace = 'migrated'::regnamespace AND NOT g.tgisinternal "
                       "AND g.tgenabled <> 'O'").stdout.strip()
    check(off == "0", f"{off} triggers left disabled")
    p = psql(PG_URL, "UPDATE events SET kind = kind", check_rc=False)
    check(p.returncode != 0 and "append-only" in p.stderr, f"events changed: {p.stderr!r}")


def new_hit_fresh_id():
    inst.set_config({"store.url": PG_URL})
    try:
        inst.serve()
        a = state["a"]
        check(http_get(inst.public_port, path_of(a["copies"][1]["open_url"]),
                       headers=BROWSER)[0] == 200, "open after the move")
        inst.settle()
        evs = [json.loads(l) for l in
               inst.run("events", "--json", "--limit", "1000").stdout.splitlines()]
        ids = [e["id"] for e in evs]
        check(len(ids) == len(set(ids)), "an id twice")
        # the journal's cursors moved with the store: its replay on start
        # stored nothing twice
        before = len([l for l in state["source"]["events"].splitlines() if l.strip()])
        check(len(ids) == before + 1, f"{len(ids)} events after one hit, {before} before")
        check(max(ids) > state["max_event"] and len(ids) == len(set(ids)),
              f"new event id {max(ids)} not past {state['max_event']}")
        # a new key and webhook get ids past the copied ones too
        inst.api_key("after")
        keys = inst.run("api-keys", "list").stdout
        check("after" in keys, keys)
        inst.run("webhooks", "add", f"http://127.0.0.1:{free_port()}/h2")
    finally:
        inst.stop()
        inst.set_config({"store.url": SQLITE_URL})


def one_line_error(p, word):
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and word in lines[0],
          f"exit {p.returncode}, stderr {p.stderr!r} (wanted one line with {word!r})")


def bad_targets():
    before = source_dump()
    p = inst.run("store", "migrate", "--to",
                 "postgresql:///homing_test?host=/nonexistent-dir&user=postgres&schema=x",
                 check_rc=False)
    one_line_error(p, "connecting to PostgreSQL")
    p = inst.run("store", "migrate", "--to", "sqlite:/tmp/other.db", check_rc=False)
    one_line_error(p, "PostgreSQL URL")
    p = inst.run("store", "migrate", "--to", "mysql://localhost/x", check_rc=False)
    one_line_error(p, "PostgreSQL URL")
    p = inst.run("store", "migrate", check_rc=False)
    one_line_error(p, "--to")
    # the target already migrated into holds data
    p = inst.run("store", "migrate", "--to", PG_URL, check_rc=False)
    one_line_error(p, "holds data")
    check("table" in p.stderr and "nothing was copied" in p.stderr, p.stderr)
    p = inst.run("store", "migrate", "--to", PG_URL, "--dry-run", check_rc=False)
    one_line_error(p, "holds data")
    # a store that is PostgreSQL already is no source
    inst.set_config({"store.url": PG_URL})
    try:
        p = inst.run("store", "migrate", "--to", url("other"), check_rc=False)
        one_line_error(p, "not a SQLite store")
    finally:
        inst.set_config({"store.url": SQLITE_URL})
    check(source_dump() == before, "a refused copy changed the source")


def unknown_column_then_retry():
    """A source column with data that the target lacks: refused before anything
    is written; the target stays empty, and the copy succeeds once it is gone."""
    target = url("retry")
    with sqlite3.connect(os.path.join(inst.dir, "homing.db")) as c:
        c.execute("ALTER TABLE messages ADD COLUMN extra TEXT")
        c.execute("UPDATE messages SET extra = 'x'")
    p = inst.run("store", "migrate", "--to", target, check_rc=False)
    one_line_error(p, "messages.extra")
    check("nothing was copied" in p.stderr, p.stderr)
    # an empty extra column is no data: left out
    with sqlite3.connect(os.path.join(inst.dir, "homing.db")) as c:
        c.execute("UPDATE messages SET extra = NULL")
    inst.run("store", "migrate", "--to", target)
    inst.set_config({"store.url": target})
    try:
        check(inst.run("stats", "--json").stdout == state["source"]["stats"], "retry's stats")
    finally:
        inst.set_config({"store.url": SQLITE_URL})


try:
    T.run(build_source)
    T.run(dry_run)
    T.run(migrate)
    T.run(new_hit_fresh_id)
    T.run(bad_targets)
    T.run(unknown_column_then_retry)
finally:
    inst.close()
T.finish()
