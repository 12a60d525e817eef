"""Shared harness for integration tests: a homing instance in a temporary
directory, a daemon on free loopback ports, and small HTTP helpers.

Everything listens on 127.0.0.0/8 only; every wait is bounded; the daemon is
stopped (and the directory removed) even when a test fails.
"""
import json
import os
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


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Instance:
    """homing init in a temp dir; serve() starts the daemon on free ports."""

    def __init__(self, extra_config=None):
        self.tmp = tempfile.mkdtemp(prefix="homing-it-")
        os.chmod(self.tmp, 0o755)  # the daemon drops to the homing user when root
        self.dir = os.path.join(self.tmp, "var")
        self.conf = os.path.join(self.dir, "homing.conf")
        self.public_port = free_port()
        self.admin_port = free_port()
        self.proc = None
        # public.tls_cert set: the public listener speaks HTTPS only.
        self.public_tls = bool((extra_config or {}).get("public.tls_cert"))
        self.run("init", self.dir)
        overrides = {
            "public.listen": f"127.0.0.1:{self.public_port}",
            "public.base_url": f"http://127.0.0.1:{self.public_port}",
            "admin.listen": f"127.0.0.1:{self.admin_port}",
        }
        overrides.update(extra_config or {})
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
        """The store, with every answered hit in it (see settle). Rows read back
        with their sealed values opened (seal_open.py), unless raw."""
        self.settle()
        c = sqlite3.connect(os.path.join(self.dir, "homing.db"), timeout=10)
        if not raw:
            from seal_open import Seal
            seal = Seal(os.path.join(self.dir, "data.key"))
            c.row_factory = lambda cur, row: tuple(seal.text(v) for v in row)
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
