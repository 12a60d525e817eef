#!/usr/bin/env python3
"""Parser depth: every recipient-side command on about 1 MB of each nesting a
hostile mail can carry, within 1 s of CPU, without dying of a signal, with
the exit status docs/investigators.md gives and, where the message is
refused, one line on stderr that names the limit.

Shapes: groups nested in To (GMime's group parser recursed into a stack
overflow), comments nested in From, in Received and in
Authentication-Results (trace's own parsers), nested <div>s, nested tables, nested
<b><i> and a saw-tooth of <div>s (gumbo's time grew with the square of the
depth; its tree was freed recursively), nested multiparts and nested
message/rfc822 parts. Commands: scan, strip, track, trace, bounce.

The bound is CPU time (RUSAGE_CHILDREN before and after each command), so a
loaded 2-core machine cannot make it fail; wall time is printed too. Each
command runs under a 60 s timeout so the unguarded code fails rather than
hangs. Standard library only. Env: HOMING_BIN.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HOMING = os.environ.get("HOMING_BIN", "build/src/homing")
SIZE = 1 << 20
CPU_MAX = 1.0

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


HDR = ("From: a@example.org\r\nTo: b@example.org\r\nSubject: depth\r\n"
       "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <depth@example.org>\r\n"
       "MIME-Version: 1.0\r\n")
PIXEL = "<img src=http://t.example/p.gif width=1 height=1>"


def html_message(body):
    return (HDR + "Content-Type: text/html; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def text_message(headers):
    return (headers + "Content-Type: text/plain\r\n\r\nhi\r\n").encode()


def shapes():
    n = SIZE // 3
    yield "groups in To", text_message(HDR.replace(
        "To: b@example.org", "To: " + "g:" * n + "b@example.org" + ";" * n)), "address"
    n = SIZE // 2
    yield "comments in From", text_message(HDR.replace(
        "From: a@example.org", "From: a@example.org " + "(" * n + ")" * n)), "address"
    yield "comments in Received", text_message(
        "Received: from a.example (" + "(" * n + ")" * n + ") by b.example; "
        "Mon, 1 Jan 2024 00:00:00 +0000\r\n" + HDR), "trace"
    yield "comments in Authentication-Results", text_message(
        "Authentication-Results: mx.example; spf=pass (" + "(" * n + ")" * n + ") "
        "smtp.mailfrom=a@example.org\r\n" + HDR), "trace"
    n = SIZE // 11
    yield "nested divs", html_message("<div>" * n + PIXEL + "</div>" * n), "html"
    yield "nested tables", html_message("<table><tr><td>" * (SIZE // 15) + PIXEL), "html"
    yield "nested inline", html_message("<b><i>" * (SIZE // 6) + PIXEL), "html"
    saw = "<div>" * 1000 + PIXEL + "</div>" * 1000
    yield "div saw-tooth", html_message(saw * (SIZE // len(saw))), "html"
    parts = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"
                    for i in range(SIZE // 60))
    yield "nested multiparts", (HDR + parts + "Content-Type: text/html\r\n\r\n" + PIXEL
                                + "\r\n").encode(), "mime"
    yield "nested message/rfc822", (HDR + "Content-Type: message/rfc822\r\n\r\n" * (SIZE // 33)
                                    + "Content-Type: text/html\r\n\r\n" + PIXEL
                                    + "\r\n").encode(), "mime"


# what each command must do with each kind: exit status, and the phrase of the
# one stderr line when it refuses
EXPECT = {
    "address": {"scan": (2, "address header nested deeper than 64"),
                "strip": (2, "address header nested deeper than 64"),
                "track": (2, "address header nested deeper than 64"),
                "trace": (0, None), "bounce": (0, None)},
    "trace": {"scan": (0, None), "strip": (0, None), "track": (0, None), "trace": (0, None),
              "bounce": (0, None)},
    "html": {"scan": (0, None),  # the part is skipped, the result marked truncated
             "strip": (2, "HTML part nested deeper than 1024 elements"),
             "track": (0, None), "trace": (0, None), "bounce": (0, None)},
    "mime": {"scan": (0, None),
             "strip": (2, "beyond the scanner's limits"),
             "track": (2, "MIME nesting too deep"),
             "trace": (0, None), "bounce": (0, None)},
}


def run(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        p = subprocess.run(args, capture_output=True, timeout=60)
        rc, out, err = p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        rc, out, err = "timeout", b"", ""
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return rc, out, err, cpu, wall


def main():
    tmp = tempfile.mkdtemp(prefix="homing-depth-")
    try:
        conf = os.path.join(tmp, "var", "homing.conf")
        p = subprocess.run([HOMING, "init", os.path.join(tmp, "var")], capture_output=True)
        check(p.returncode == 0, "homing init")
        for name, data, kind in shapes():
            path = os.path.join(tmp, "in.eml")
            with open(path, "wb") as f:
                f.write(data)
            out = os.path.join(tmp, "out.eml")
            cmds = {
                "scan": ["scan", "--json", path],
                "strip": ["strip", "-o", out, path],
                "track": ["track", "--per-message", "-o", out, path],
                "trace": ["trace", "--offline", path],
                "bounce": ["bounce", path],
            }
            for cmd, args in cmds.items():
                if os.path.exists(out):
                    os.unlink(out)
                rc, stdout, err, cpu, wall = run([HOMING, "-c", conf, *args])
                want_rc, phrase = EXPECT[kind][cmd]
                what = f"{cmd} on {name} ({len(data)} bytes)"
                print(f"{what}: exit {rc}, cpu {cpu:.2f} s, wall {wall:.2f} s")
                check(rc != "timeout", f"{what}: still running after 60 s")
                check(not (isinstance(rc, int) and rc < 0), f"{what}: killed by signal {rc}")
                check(rc == want_rc, f"{what}: exit {rc}, want {want_rc}: {err[:200]!r}")
                check(cpu < CPU_MAX, f"{what}: {cpu:.2f} s of CPU, want < {CPU_MAX}")
                if phrase:
                    lines = err.splitlines()
                    check(len(lines) == 1 and phrase in lines[0],
                          f"{what}: want one line naming the limit, got {err[:300]!r}")
                    check(not os.path.exists(out), f"{what}: refused but wrote {out}")
                if cmd == "scan" and kind in ("html", "mime"):
                    check(b'"truncated": true' in stdout, f"{what}: result not marked truncated")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks} checks, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
