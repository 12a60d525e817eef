"""Shared harness for integration tests: a homing instance in a temporary
directory, a daemon on free loopback ports, and small HTTP helpers.

Everything listens on 127.0.0.0/8 only; every wait is bounded; the daemon is
stopped (and the directory removed) even when a test fails.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import http.client
import ssl

HOMING = os.environ.get("HOMING_BIN", "build/src/homing")
SRC = os.environ.get("HOMING_SRC", os.getcwd())


# Ports handed out for servers come from below Linux's ephemeral range
# (32768-60999 by default): a port the kernel picks for bind(0) is the kind
# it also gives every outgoing connection, so on a loaded machine running
# several suites at once (CI run23: EADDRINUSE in integration_pg/notify) one
# of the many client sockets could take it between this check and the
# server's own bind. Random picks below the range, each checked by a bind,
# leave only other test processes' picks to collide with.
FREE_PORT_LOW, FREE_PORT_HIGH = 20000, 32767
FREE_PORT_TRIES = 200
_ports_given = set()


def free_port(host="127.0.0.1"):
    for _ in range(FREE_PORT_TRIES):
        port = random.randint(FREE_PORT_LOW, FREE_PORT_HIGH)
        if port in _ports_given:
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    with socket.socket() as s:  # the range is full: let the kernel choose
        s.bind((host, 0))
        return s.getsockname()[1]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Instance:
    """homing init in a temp dir; serve() starts the daemon on free ports."""

    def __init__(self, extra_config=None, init_args=()):
        self.tmp = tempfile.mkdtemp(prefix="homing-it-")
        os.chmod(self.tmp, 0o755)  # the daemon drops to the homing user when root
        self.dir = os.path.join(self.tmp, "var")
        self.conf = os.path.join(self.dir, "homing.conf")
        self.public_port = free_port()
        self.admin_port = free_port()
        self.proc = None
        # public.tls_cert set: the public listener speaks HTTPS only.
        self.public_tls = bool((extra_config or {}).get("public.tls_cert"))
        # init_args: more for homing init (--store URL makes the store.url)
        self.init_out = self.run("init", self.dir, *init_args).stdout
        overrides = {
            "public.listen": f"127.0.0.1:{self.public_port}",
            "public.base_url": f"http://127.0.0.1:{self.public_port}",
            "admin.listen": f"127.0.0.1:{self.admin_port}",
        }
        # Run beside tests/pg_cluster.py, the instance's store is a schema of
        # its own in that PostgreSQL server (the integration_pg suites).
        pg = os.environ.get("HOMING_TEST_STORE_POSTGRESQL")
        if pg and not init_args:
            overrides["store.url"] = pg % ("it_" + os.urandom(6).hex())
            # required on a store nodes may share, and each instance's own:
            # tests that point several instances at one schema are nodes
            overrides["node.id"] = "it-" + os.urandom(4).hex()
        overrides.update(extra_config or {})
        self.pg_url = overrides.get("store.url") if str(
            overrides.get("store.url", "")).startswith(("postgresql://", "postgres://")) else None
        self.set_config(overrides)

    def set_config(self, values):
        lines = open(self.conf).read().splitlines()
        section = None
        out = []
        for line in lines:
            s = line.strip()
            if s.startswith("[") and s.endswith("]"):
                section = s[1:-1]
            elif "=" in s and not s.startswith("#") and section:
                key = f"{section}.{s.split('=', 1)[0].strip()}"
                if key in values:
                    line = f"{key.split('.', 1)[1]} = {values[key]}"
            out.append(line)
        open(self.conf, "w").write("\n".join(out) + "\n")

    def run(self, *args, check_rc=True, input=None, timeout=60):
        # The CLI reads the store, which hits reach a few ms after their answer.
        self.settle()
        p = subprocess.run([HOMING, "-c", self.conf, *args], capture_output=True, text=True,
                           input=input, timeout=timeout)
        if check_rc and p.returncode != 0:
            raise Failure(f"homing {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def api_key(self, name="test", scope=None):
        """A new API key; without scope, the default (read)."""
        out = self.run("api-keys", "create", name,
                       *(["--scope", scope] if scope else [])).stdout
        for word in out.split():
            if word.startswith("hk_"):
                return word
        raise Failure(f"no key in: {out!r}")

    def add_message(self, recipients, links=(), subject="Test", per_message=False):
        args = ["message", "add", "--subject", subject, "--from", "alice@example.org", "--json"]
        for r in recipients:
            args += ["--to", r]
        for l in links:
            args += ["--link", l]
        if per_message:
            args.append("--per-message")
        return json.loads(self.run(*args).stdout)

    def serve(self, *args, preexec_fn=None):
        self.log = open(os.path.join(self.tmp, "serve.log"), "w+")
        self.proc = subprocess.Popen([HOMING, "-c", self.conf, "serve", *args],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec_fn)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"daemon exited {self.proc.returncode}: {self.daemon_log()}")
            try:
                get = https_get if self.public_tls else http_get
                st, _, _ = get(self.public_port, "/healthz", timeout=1)
                st2, _, _ = http_get(self.admin_port, "/healthz", timeout=1)
                if st == 200 and st2 == 200:
                    return self.proc
            except OSError:
                pass
            time.sleep(0.05)
        raise Failure("daemon did not become ready in 15 s")

    def daemon_log(self):
        if not getattr(self, "log", None):
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure(f"daemon did not stop within {timeout} s after signal {sig}")
        return self.proc.returncode if self.proc else None

    def settle(self, stall=10, limit=120):
        """Waits until every hit the daemon answered is in the store: answered
        hits pass through the journal, whose backlog /metrics reports. The
        ingester shares the store's write lock with enrichment and the
        notifier, so after a flood under ASan on a loaded machine it may take
        longer than any fixed wait: this fails when the backlog has not
        shrunk for `stall` seconds, or is not empty after `limit`."""
        if not self.proc or self.proc.poll() is not None:
            return
        start = time.time()
        best, best_at = None, start
        depth = None
        while time.time() - start < limit:
            _, _, body = http_get(self.admin_port, "/metrics")
            m = re.search(rb"^homing_queue_depth (\d+)$", body, re.M)
            depth = int(m.group(1)) if m else None
            if depth == 0:
                return
            now = time.time()
            if depth is not None and (best is None or depth < best):
                best, best_at = depth, now
            elif now - best_at >= stall:
                raise Failure(f"journaled hits not in the store: backlog {depth}, "
                              f"not shrinking for {stall} s")
            time.sleep(0.01)
        raise Failure(f"journaled hits not in the store after {limit} s: backlog {depth}")

    def db(self, raw=False):
        """The store, with every answered hit in it (see settle): a sqlite3
        connection, or on PostgreSQL a PgStore that runs the same statements
        through psql in the instance's schema. Rows are read back with their
        sealed values opened (seal_open.py), unless raw."""
        self.settle()
        opener = None
        if not raw:
            from seal_open import Seal
            opener = Seal(os.path.join(self.dir, "data.key")).text
        if self.pg_url:
            return PgStore(self.pg_url, opener)
        c = sqlite3.connect(os.path.join(self.dir, "homing.db"), timeout=10)
        if opener:
            c.row_factory = lambda cur, row: tuple(opener(v) for v in row)
        return c

    def event_count(self, message_hex=None):
        with self.db() as c:
            if message_hex:
                return c.execute("SELECT count(*) FROM events WHERE message = ?",
                                 (int(message_hex, 16),)).fetchone()[0]
            return c.execute("SELECT count(*) FROM events").fetchone()[0]

    def close(self):
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


PG_CMD_TIMEOUT_S = 60  # one psql run
PG_MONTHS_MAX = 12     # partitions PgStore makes for one planted statement
PG_INSERT_ROWS = 1000  # rows per INSERT of PgStore.insert_many


def pg_literal(v):
    """v as an SQL literal for PgStore (the tests' own values, not input)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "'\\x" + bytes(v).hex() + "'::bytea"
    return "'" + str(v).replace("'", "''") + "'"


def pg_bind(sql, params):
    """Replaces each ? outside quotes with the next parameter as a literal."""
    out, it, quote = [], iter(params or ()), None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append(pg_literal(next(it)))
            continue
        out.append(ch)
    return "".join(out)


def pg_value(v):
    """A JSON value psql gave back, as sqlite3 would give it: booleans as 0/1,
    bytea (\\x...) as bytes."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, str) and v.startswith("\\x") and re.fullmatch(r"\\x([0-9a-f]{2})*", v):
        return bytes.fromhex(v[2:])
    return v


class PgRows:
    def __init__(self, rows):
        self.rows = rows
        self.lastrowid = None

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return list(self.rows)

    def __iter__(self):
        return iter(self.rows)


class PgStore:
    """The part of a sqlite3 connection the tests use (execute, fetchone,
    fetchall, iteration, with, commit, close), on an instance's PostgreSQL
    schema through psql: a SELECT (or WITH, VALUES) is run as
    json_agg(row_to_json(...)) so values keep their types (duplicate column
    names are kept: the row is read as a list of pairs); anything else is run
    as it is. ? parameters are bound as literals. Each call is its own
    transaction (autocommit)."""

    def __init__(self, url, opener=None):
        self.open = opener or (lambda v: v)  # a sealed value's opener, per value
        q = url.split("?", 1)
        args = [a for a in (q[1].split("&") if len(q) > 1 else []) if a]
        self.schema = next((a.split("=", 1)[1] for a in args if a.startswith("schema=")), None)
        keep = [a for a in args if not a.startswith("schema=")]
        self.uri = q[0] + ("?" + "&".join(keep) if keep else "")

    def env(self):
        env = dict(os.environ)
        if self.schema:
            env["PGOPTIONS"] = f"-c search_path={self.schema}"
        return env

    def dump(self):
        """pg_dump of the instance's schema (data and definitions), as bytes."""
        p = subprocess.run(["pg_dump", "-d", self.uri] + (["-n", self.schema] if self.schema
                                                           else []),
                           capture_output=True, timeout=PG_CMD_TIMEOUT_S)
        if p.returncode != 0:
            raise sqlite3.DatabaseError(f"pg_dump: {p.stderr.decode(errors='replace')}")
        return p.stdout

    def hold(self, sql):
        """A psql session that ran sql in an open transaction (to hold a lock)
        and keeps it until release(proc)."""
        proc = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", self.uri],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=self.env())
        proc.stdin.write(f"BEGIN;\n{sql};\nSELECT 'held';\n")
        proc.stdin.flush()
        while True:
            line = proc.stdout.readline()
            if not line or line.strip() == "held":
                break
        return proc

    @staticmethod
    def release(proc):
        proc.stdin.write("ROLLBACK;\n")
        proc.stdin.close()
        proc.wait(timeout=PG_CMD_TIMEOUT_S)

    def psql(self, sql):
        env = self.env()
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.uri, "-f", "-"], input=sql + ";\n", capture_output=True,
                           text=True, env=env, timeout=PG_CMD_TIMEOUT_S)
        if p.returncode != 0:
            raise sqlite3.DatabaseError(f"psql: {p.stderr.strip()} in: {sql}")
        return p.stdout

    def run(self, sql):
        for _ in range(PG_MONTHS_MAX):
            try:
                return self.psql(sql)
            except sqlite3.DatabaseError as e:
                # A test planting an event of a month with no partition yet:
                # make it, as the daemon's append does, and try again.
                m = re.search(r"no partition of relation \"events\".*\(time_us\) = \((\d+)\)",
                              str(e), re.S)
                if not m:
                    raise
                self.psql(f"SELECT homing_events_partitions(ARRAY[{m.group(1)}]::bigint[])")
        return self.psql(sql)

    def insert_many(self, sql, rows):
        """Runs the one-row INSERT sql ('... VALUES (?, ...)') for every
        parameter tuple of rows in one statement (a psql run per row would
        take minutes for thousands); returns their ids in order."""
        head, values = re.match(r"(?is)^(.*\bVALUES)\s*(\(.*\))\s*$", sql.strip()).groups()
        ids = []
        for i in range(0, len(rows), PG_INSERT_ROWS):
            part = ", ".join(pg_bind(values, r) for r in rows[i:i + PG_INSERT_ROWS])
            ids += json.loads(self.run(f"WITH q AS ({head} {part} RETURNING id) "
                                       "SELECT coalesce(json_agg(id), '[]') FROM q"))
        return ids

    def execute(self, sql, params=()):
        sql = pg_bind(sql, params).strip().rstrip(";")
        if re.match(r"(?is)^(select|with|values)\b", sql):
            out = self.run("SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM ("
                           + sql + ") q")
            rows = json.loads(out, object_pairs_hook=lambda kv: tuple(
                self.open(pg_value(v)) for _, v in kv))
            return PgRows(rows)
        if re.match(r"(?is)^insert\b", sql) and not re.search(r"(?i)\breturning\b", sql):
            # sqlite3's lastrowid: the id of the (last) row inserted, if it has one
            out = self.run("WITH q AS (" + sql + " RETURNING *) "
                           "SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM q")
            rows = PgRows([])
            got = json.loads(out)
            rows.lastrowid = got[-1].get("id") if got else None
            return rows
        self.run(sql)
        return PgRows([])

    def commit(self):
        pass

    def rollback(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


PG_CTL_TIMEOUT_S = 60  # pg_ctl -t for the tests' stops and starts


def pg_server(action):
    """Stops ('stop', -m fast: sessions are ended, as a crash or restart of
    the server ends them) or starts ('start') the private PostgreSQL server of
    tests/pg_cluster.py, waiting until it is done."""
    ctl = json.loads(os.environ["HOMING_TEST_PG_CTL"])
    data = os.environ["HOMING_TEST_PG_DATA"]
    if action == "stop":
        args = ["-D", data, "-m", "fast", "-w", "-t", str(PG_CTL_TIMEOUT_S), "stop"]
    else:
        args = ["-D", data, "-l", os.environ["HOMING_TEST_PG_LOG"], "-o",
                os.environ["HOMING_TEST_PG_OPTS"], "-w", "-t", str(PG_CTL_TIMEOUT_S), "start"]
    subprocess.run(ctl + args, check=True, stdout=subprocess.DEVNULL,
                   timeout=PG_CTL_TIMEOUT_S + 10, cwd=os.path.dirname(data))


def record_api(method, path, status, headers, data):
    """With HOMING_API_RECORD set (tests/meson.build sets it), every /api/v1/
    answer is appended to that file, one JSON object a line, for
    tests/api_validate.py to check against docs/api/openapi.yaml."""
    out = os.environ.get("HOMING_API_RECORD")
    if not out or not path.startswith("/api/v1/"):
        return
    rec = {"method": method, "path": path, "status": status,
           "type": headers.get("content-type", ""),
           "body": data.decode("utf-8", "backslashreplace")}
    with open(out, "a") as f:  # one write of one line: appends from parallel tests interleave whole
        f.write(json.dumps(rec) + "\n")


def http_request(port, method, path, headers=None, body=None, source=None, host="127.0.0.1",
                 timeout=10):
    c = http.client.HTTPConnection(host, port, timeout=timeout,
                                   source_address=(source, 0) if source else None)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        record_api(method, path, r.status, hdrs, data)
        return r.status, hdrs, data
    finally:
        c.close()


def http_get(port, path, **kw):
    return http_request(port, "GET", path, **kw)


def tls_client_context():
    """A client context that takes any certificate: the tests' are self-signed."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def https_get(port, path, headers=None, host="127.0.0.1", timeout=10):
    c = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_client_context())
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def dest_form(url):
    """The form homing stores a destination in (homing_url_check, docs/tracking.md):
    the scheme in lower case, non-ASCII percent-encoded as UTF-8, and in the path,
    query and fragment whatever RFC 3986 does not allow percent-encoded."""
    scheme, rest = url.split("://", 1)
    cut = min([i for i in (rest.find(c) for c in "/?#") if i >= 0] or [len(rest)])
    out = scheme.lower() + "://"
    for b in rest[:cut].encode():
        out += f"%{b:02X}" if b >= 0x80 else chr(b)
    tail = rest[cut:].encode()
    fragment = False
    for i, b in enumerate(tail):
        c = chr(b)
        if c == "%":
            keep = re.fullmatch(rb"[0-9A-Fa-f]{2}", tail[i + 1:i + 3]) is not None
        elif c == "#":
            keep, fragment = not fragment, True
        else:
            keep = b < 0x80 and (c.isalnum() or c in "-._~!$&'()*+,;=:@/?")
        out += c if keep else f"%{b:02X}"
    return out


def path_of(url):
    return "/" + url.split("/", 3)[3]


class Runner:
    """Runs test functions, prints one line per test, exits non-zero on failure."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def run(self, fn, *args):
        name = fn.__name__
        t0 = time.time()
        try:
            fn(*args)
            self.passed += 1
            print(f"ok   {name} ({time.time() - t0:.2f}s)")
        except Exception as e:  # report and keep going: one line per failed test
            self.failed += 1
            # where, when it is not a check's own Failure: the line that raised
            where = ''
            if not isinstance(e, Failure):
                tb = traceback.extract_tb(e.__traceback__)[-1]
                where = f" (at {os.path.basename(tb.filename)}:{tb.lineno})"
            print(f"FAIL {name}: {type(e).__name__}: {e}{where}")
        sys.stdout.flush()

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
