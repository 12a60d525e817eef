"""API key scopes with the real daemon (docs/api.md "Scopes"): every route of
the admin API called with a read, a write and an admin key, and with a key made
before scopes existed, against the route table: a key at or above the route's
scope gets the route's answer, a key below it 403 with a JSON error naming the
scope it lacks. The old key comes from a store built with the migrations
before the scope column (the schema of the previous release, planted with
sqlite3), which homing then migrates: such a key keeps full access (admin).
GET /api/v1/api-keys lists names and scopes, never a key or its hash."""
import base64
import glob
import hashlib
import json
import os
import re
import socket
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_request  # noqa: E402

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "lib", "store", "migrations",
                          "sqlite")

inst = Instance()
T = Runner()


def plant_old_store():
    """Replaces the new store with one at the schema before the scope migration,
    holding one API key as the old code stored it (name, hash, created_us);
    returns that key."""
    files = sorted(glob.glob(os.path.join(MIGRATIONS, "[0-9][0-9][0-9][0-9]_*.sql")))
    scope = [f for f in files if f.endswith("_api_key_scope.sql")]
    check(len(scope) == 1, f"one scope migration: {scope}")
    before = int(os.path.basename(scope[0])[:4])
    db = os.path.join(inst.dir, "homing.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    key = "hk_" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    c = sqlite3.connect(db)
    try:
        c.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                  "applied_us INTEGER NOT NULL)")
        for f in files:
            v = int(os.path.basename(f)[:4])
            if v >= before:
                continue
            c.executescript(open(f).read())
            c.execute("INSERT INTO schema_migrations VALUES (?, 1)", (v,))
        cols = [r[1] for r in c.execute("PRAGMA table_info(api_keys)")]
        check("scope" not in cols, f"old schema has no scope: {cols}")
        c.execute("INSERT INTO api_keys (name, hash, created_us) VALUES (?, ?, ?)",
                  ("legacy", hashlib.blake2b(key.encode(), digest_size=32).digest(),
                   int(time.time() * 1e6)))
        c.commit()
    finally:
        c.close()
    return key


def stream_status(key):
    """The status of GET /api/v1/stream, read from its first line (the body is
    an endless event stream), and the body when it is a JSON error."""
    s = socket.create_connection(("127.0.0.1", inst.admin_port), timeout=10)
    try:
        s.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                  "\r\n".encode())
        data = b""
        deadline = time.time() + 10
        while b"\r\n\r\n" not in data and time.time() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ", 2)[1])
        if status != 200:  # a short JSON answer: read it whole
            while time.time() < deadline:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
                if data.rstrip().endswith(b"}"):
                    break
        body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
        return status, body
    finally:
        s.close()


SCOPES = {"read": 1, "write": 2, "admin": 3}

try:
    legacy = plant_old_store()
    keys = {scope: inst.api_key(f"k-{scope}", scope=scope) for scope in SCOPES}
    default_key = inst.api_key("k-default")
    msg = inst.add_message(["bob@example.net"], links=["https://example.com/a"])
    inst.serve()
    body = json.dumps({"subject": "s", "from": "alice@example.org",
                       "recipients": ["carol@example.net"]})
    # Every route of admin.c's table: method, path, body, least scope, answer.
    ROUTES = [
        ("GET", "/api/v1/events", None, "read", 200),
        ("GET", "/api/v1/stream", None, "read", 200),
        ("GET", f"/api/v1/messages/{msg['id']}", None, "read", 200),
        ("GET", f"/api/v1/messages/{msg['id']}/events", None, "read", 200),
        ("POST", "/api/v1/messages", body, "write", 201),
        ("GET", "/api/v1/messages", None, "read", 200),
        ("GET", "/api/v1/campaigns", None, "read", 200),
        ("GET", "/api/v1/stats", None, "read", 200),
        ("GET", "/api/v1/stats/series", None, "read", 200),
        ("GET", "/api/v1/api-keys", None, "admin", 200),
    ]

    def call(method, path, key, data=None):
        if path.endswith("/stream"):
            return stream_status(key)
        st, _, out = http_request(inst.admin_port, method, path, body=data,
                                  headers={"Authorization": f"Bearer {key}",
                                           "Content-Type": "application/json"})
        return st, out

    def scopes_listed():
        rows = inst.run("api-keys", "list").stdout.splitlines()
        got = {r.split()[1]: r.split()[2] for r in rows[1:]}
        check(got == {"legacy": "admin", "k-read": "read", "k-write": "write",
                      "k-admin": "admin", "k-default": "read"}, got)

    def route_matrix():
        """Each key on each route: allowed exactly when its scope reaches the
        route's; 403 otherwise, naming the missing scope."""
        cases = [(s, k) for s, k in keys.items()] + [("admin", legacy), ("read", default_key)]
        for scope, key in cases:
            for method, path, data, need, ok_status in ROUTES:
                st, out = call(method, path, key, data)
                what = f"{scope} key, {method} {path}"
                if SCOPES[scope] >= SCOPES[need]:
                    check(st == ok_status, f"{what}: {st} {out[:200]!r}, want {ok_status}")
                    continue
                check(st == 403, f"{what}: {st}, want 403")
                err = json.loads(out)
                check(err.get("required_scope") == need and err.get("scope") == scope
                      and need in err.get("error", ""), f"{what}: {err}")

    def unknown_and_wrong_method():
        """The scope check comes after the route is found: an unknown path is
        404 and a wrong method 405 for every key, and no key reaches a route
        without one (401)."""
        for key in keys.values():
            st, _ = call("GET", "/api/v1/nothing", key)
            check(st == 404, f"unknown path: {st}")
            st, _ = call("DELETE", "/api/v1/api-keys", key)
            check(st == 405, f"DELETE api-keys: {st}")
            st, _ = call("PUT", "/api/v1/messages", key)
            check(st == 405, f"PUT messages: {st}")
        for method, path, data, _, _ in ROUTES:
            if path.endswith("/stream"):
                continue
            st, _, _ = http_request(inst.admin_port, method, path, body=data)
            check(st == 401, f"{method} {path} without a key: {st}")

    def api_keys_route():
        st, out = call("GET", "/api/v1/api-keys", keys["admin"])
        check(st == 200, st)
        listed = json.loads(out)["api_keys"]
        check({k["name"]: k["scope"] for k in listed}
              == {"legacy": "admin", "k-read": "read", "k-write": "write", "k-admin": "admin",
                  "k-default": "read"}, listed)
        text = out.decode()
        check(not re.search(r"hk_[A-Za-z0-9_-]{43}", text), "no key in the listing")
        check(all(set(k) == {"id", "name", "scope", "created", "revoked"} for k in listed),
              listed)
        inst.run("api-keys", "revoke", "k-read")
        st, out = call("GET", "/api/v1/api-keys", keys["admin"])
        revoked = [k for k in json.loads(out)["api_keys"] if k["name"] == "k-read"]
        check(len(revoked) == 1 and revoked[0]["revoked"], revoked)
        st, _ = call("GET", "/api/v1/events", keys["read"])
        check(st == 401, f"revoked read key: {st}")

    T.run(scopes_listed)
    T.run(route_matrix)
    T.run(unknown_and_wrong_method)
    T.run(api_keys_route)
    rc = inst.stop()
    check(rc == 0, f"daemon exit {rc}")
finally:
    inst.close()
T.finish()
