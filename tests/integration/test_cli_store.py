#!/usr/bin/env python3
"""test_cli_store.py: the store-centric subcommands of the real binary against a
fresh `homing init` directory: api-keys (create, duplicate, list, revoke),
message add/show/list (tracking URLs, per-message mode, bad input), events
(text, --json, --message, --after, --limit, --follow stopped by SIGTERM with
exit 0), report (numbers per recipient) and a store from a newer homing refused.

Events are written with Python's sqlite3 module, as the daemon's writer would
commit them, so this test does not need the daemon.

Environment: HOMING_BIN (the binary).
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("HOMING_BIN", "build/src/homing")
TOKEN = r"[A-Za-z0-9_-]{48}"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def homing(conf, *args, ok=True):
    p = subprocess.run([BIN, "-c", conf] + list(args), capture_output=True, timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    if ok and p.returncode != 0:
        raise SystemExit("homing %s exited %d: %s" % (" ".join(args), p.returncode, err))
    return p.returncode, out, err


def bad_input(conf, *args):
    """Bad input: exit 2 and exactly one line on stderr."""
    rc, out, err = homing(conf, *args, ok=False)
    check(rc == 2, "%s: exit %d, want 2" % (args, rc))
    check(err.count("\n") == 1, "%s: want one stderr line, got %r" % (args, err))


def main():
    tmp = tempfile.mkdtemp(prefix="homing-cli-store-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


def run(tmp):
    d = os.path.join(tmp, "var")
    subprocess.run([BIN, "init", d], check=True, capture_output=True, timeout=60)
    conf = os.path.join(d, "homing.conf")
    db = os.path.join(d, "homing.db")

    for cmd in (["api-keys"], ["message"], ["events"], ["report"]):
        rc, out, _ = homing(conf, *(cmd + ["--help"]))
        check(out.startswith("usage: homing " + cmd[0]), "%s --help" % cmd[0])

    # api-keys
    rc, out, err = homing(conf, "api-keys", "create", "admin")
    check(re.fullmatch(r"hk_[A-Za-z0-9_-]{43}\n", out) is not None, "key alone on stdout: %r" % out)
    check("not be shown again" in err, "create warns the key is shown once")
    bad_input(conf, "api-keys", "create", "admin")
    bad_input(conf, "api-keys", "create", "bad name")
    bad_input(conf, "api-keys", "frobnicate")
    bad_input(conf, "api-keys", "create", "ci", "--scope", "root")
    bad_input(conf, "api-keys", "create", "ci", "--scope")
    bad_input(conf, "api-keys", "list", "--scope", "read")
    rc, _, err = homing(conf, "api-keys", "create", "ci", "--scope", "write")
    check("scope write" in err, "create names the scope: %r" % err)
    rc, out, _ = homing(conf, "api-keys", "list")
    rows = out.splitlines()[1:]
    check(len(rows) == 2 and rows[0].split()[1] == "admin" and rows[1].split()[-1] == "-",
          "list shows both keys, active: %r" % out)
    check(out.splitlines()[0].split()[2] == "SCOPE" and rows[0].split()[2] == "read"
          and rows[1].split()[2] == "write", "list shows the scopes (default read): %r" % out)
    homing(conf, "api-keys", "revoke", "admin")
    bad_input(conf, "api-keys", "revoke", "admin")
    rc, out, _ = homing(conf, "api-keys", "list")
    check(out.splitlines()[1].split()[-1] != "-", "revoked key shows its revocation time")
    rc, out, _ = homing(conf, "api-keys", "list", "--json")
    keys = [json.loads(l) for l in out.splitlines()]
    check([(k["name"], k["revoked"] is None, k["scope"]) for k in keys]
          == [("admin", False, "read"), ("ci", True, "write")], "list --json: %r" % keys)

    # message add: per recipient
    rc, out, _ = homing(conf, "message", "add", "--subject", "Hello", "--from", "alice@example.com",
                        "--message-id", "<m1@example.com>", "--to", "bob@example.org",
                        "--to", "carol@example.org", "--link", "https://example.com/a",
                        "--link", "https://example.com/b", "--json")
    m = json.loads(out)
    mid = m["id"]
    check(re.fullmatch(r"[0-9a-f]{16}", mid) is not None, "public id is 16 hex digits")
    check(m["mode"] == "per-recipient" and len(m["copies"]) == 2, "two copies")
    c1 = m["copies"][0]
    check(c1["recipient"] == 1 and c1["address"] == "bob@example.org", "copy 1 is bob")
    check(re.fullmatch(r"http://127\.0\.0\.1:8080/o/" + TOKEN + r"\.gif", c1["open_url"]) is not None,
          "open URL shape: %s" % c1["open_url"])
    check([l["index"] for l in c1["links"]] == [1, 2], "links 1 and 2")
    check(all(re.fullmatch(r"http://127\.0\.0\.1:8080/c/" + TOKEN, l["click_url"])
              for l in c1["links"]), "click URL shape")
    urls = {c1["open_url"], m["copies"][1]["open_url"]}
    check(len(urls) == 2, "each recipient has its own pixel")

    rc, out, _ = homing(conf, "message", "add", "--subject", "All", "--from", "alice@example.com",
                        "--to", "bob@example.org", "--per-message")
    check(out.startswith("message ") and "all recipients (per-message)" in out and "/o/" in out,
          "per-message text output: %r" % out)
    pm_id = out.split()[1]

    bad_input(conf, "message", "add", "--subject", "S", "--from", "a@example.com")
    bad_input(conf, "message", "add", "--subject", "S", "--from", "a@example.com", "--to", "nobody")
    bad_input(conf, "message", "add", "--subject", "S", "--from", "a@example.com", "--to",
              "b@example.org", "--link", "javascript:alert(1)")
    bad_input(conf, "message", "add", "--bogus")
    bad_input(conf, "message", "add", "--subject", b"not UTF-8 \xff", "--from", "a@example.com",
              "--to", "b@example.org")
    bad_input(conf, "message", "show", "not-an-id")
    bad_input(conf, "message", "show", "nothere@example.com")

    rc, out, _ = homing(conf, "message", "show", "m1@example.com", "--json")
    s = json.loads(out)
    check(s["id"] == mid and s["message_id"] == "<m1@example.com>", "show by Message-ID")
    check([r["state"] for r in s["recipients"]] == ["registered", "registered"], "states")
    check([l["url"] for l in s["links"]] == ["https://example.com/a", "https://example.com/b"],
          "links round-trip")
    rc, out, _ = homing(conf, "message", "list", "--json")
    ids = [json.loads(l)["id"] for l in out.splitlines()]
    check(sorted(ids) == sorted([mid, pm_id]), "list has both messages")

    # events, written as the daemon would
    mnum = int(mid, 16)
    con = sqlite3.connect(db)
    rows = [
        (1_800_000_000_000_000, "open", "GET", mnum, 1, 0, "192.0.2.1", "Mozilla/5.0 \x1b[31mred"),
        (1_800_000_100_000_000, "open", "GET", mnum, 1, 0, "192.0.2.1", "Mozilla/5.0"),
        (1_800_000_200_000_000, "open", "HEAD", mnum, 2, 0, "192.0.2.2", None),
        (1_800_000_300_000_000, "click", "GET", mnum, 1, 2, "192.0.2.1", "Mozilla/5.0"),
        (1_800_000_400_000_000, "open", "GET", int(pm_id, 16), 0, 0, "198.51.100.7", "x"),
    ]
    con.executemany("INSERT INTO events (time_us, kind, method, message, recipient, item, client,"
                    " user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()

    rc, out, _ = homing(conf, "events")
    lines = out.splitlines()
    check(len(lines) == 5, "5 event lines")
    check("\x1b" not in out and "\\x1b[31mred" in lines[0], "User-Agent escaped on the terminal")
    check(lines[3].split()[2:4] == ["click", "GET"] and " r1 " in lines[3] and " i2 " in lines[3],
          "click line: %r" % lines[3])
    rc, out, _ = homing(conf, "events", "--json", "--message", mid)
    evs = [json.loads(l) for l in out.splitlines()]
    check(len(evs) == 4 and all(e["message"] == mid for e in evs), "--message filters")
    check(evs[0]["user_agent"] == "Mozilla/5.0 \x1b[31mred", "JSON keeps the raw User-Agent")
    check(evs[2]["method"] == "HEAD" and evs[2]["user_agent"] == "", "NULL field reads as ''")
    rc, out, _ = homing(conf, "events", "--json", "--after", str(evs[1]["id"]), "--limit", "2")
    got = [json.loads(l)["id"] for l in out.splitlines()]
    check(got == [evs[2]["id"], evs[3]["id"]], "--after and --limit: %r" % got)
    bad_input(conf, "events", "--limit", "0")
    bad_input(conf, "events", "--after", "x")
    bad_input(conf, "events", "--frob")

    # --follow prints what comes later and exits 0 on SIGTERM
    p = subprocess.Popen([BIN, "-c", conf, "events", "--follow", "--json", "--after",
                          str(evs[3]["id"] + 1)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.8)
    con.execute("INSERT INTO events (time_us, kind, message, recipient) VALUES (?, 'delivered', ?, 2)",
                (1_800_000_500_000_000, mnum))
    con.commit()
    deadline = time.time() + 10
    line = b""
    os.set_blocking(p.stdout.fileno(), False)
    while time.time() < deadline and not line.endswith(b"\n"):
        chunk = p.stdout.read()
        if chunk:
            line += chunk
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -1
    check(rc == 0, "--follow exits 0 on SIGTERM (got %d)" % rc)
    followed = [json.loads(l) for l in line.decode().splitlines() if l]
    check(len(followed) == 1 and followed[0]["kind"] == "delivered" and followed[0]["method"] is None,
          "--follow printed the new event: %r" % line)

    # report
    rc, out, _ = homing(conf, "report", mid, "--json")
    r = json.loads(out)
    rec = {x["recipient"]: x for x in r["recipients"]}
    check(sorted(rec) == [1, 2], "report rows 1 and 2 (no recipient 0 without its events)")
    check(rec[1]["opens"] == 2 and rec[1]["clicks"] == 1 and rec[1]["probes"] == 0, "bob's counts")
    check(rec[1]["first_open"] == "2027-01-15T08:00:00.000000Z"
          and rec[1]["last_open"] == "2027-01-15T08:01:40.000000Z", "bob's open times: %r" % rec[1])
    check(rec[2]["opens"] == 0 and rec[2]["probes"] == 1 and rec[2]["first_open"] is None,
          "carol: one HEAD probe, no open")
    rc, out, _ = homing(conf, "report", pm_id)
    check("(per-message)" in out, "per-message hits shown as recipient 0")
    bad_input(conf, "report")
    bad_input(conf, "report", "0123456789abcdef")

    # a database from a newer homing is refused, not modified
    con.execute("INSERT INTO schema_migrations VALUES (9999, 0)")
    con.commit()
    con.close()
    rc, out, err = homing(conf, "message", "list", ok=False)
    check(rc == 2 and "newer" in err, "newer schema refused: %r" % err)


if __name__ == "__main__":
    sys.exit(main())
