"""Response splitting through click links (issue 11 item 1).

Links carrying CR, LF, bare CR, VT, FF, ESC or C1 characters are sent through
every way a destination reaches the store: the API (POST /api/v1/messages),
the CLI (homing message add --link), homing track (an .eml whose hrefs carry
them), and a row planted directly in the SQLite store (a row older than the
check, or written by hand). Whatever each entry point does with them, every
click the daemon answers is read back over one raw keep-alive connection with
the requests pipelined, so a split response would show as an extra response,
a header the daemon does not send itself (Set-Cookie, ...), or bytes that do
not parse. Asserted: the number of responses is the number of requests, each
response carries only the daemon's own headers (the store supplies nothing but
Location), every header value is printable ASCII (Location without spaces),
the entry points refuse or leave the bad links untracked naming them escaped,
a planted bad row is answered 404 and counted in
homing_redirects_refused_total, and an old row with raw UTF-8 is redirected
to its percent-encoded form.
"""
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import (Instance, Runner, check, http_get, http_request,  # noqa: E402
                         path_of)

# The splitting payloads. SPLIT ends inside a header line, so the headers h2o
# adds after Location would continue the injected response's header block.
SPLIT = ("https://example.com/a\r\nContent-Length:0\r\n\r\nHTTP/1.1 200 OK\r\n"
         "Set-Cookie:injected=crlf\r\nX-Pad:")
# No spaces: `homing message add` refused a space before it checked anything else.
PAYLOADS = {
    "crlf": SPLIT,
    "cr": "https://example.com/b\rSet-Cookie:injected=cr",
    "lf": "https://example.com/c\nSet-Cookie:injected=lf",
    "vt": "https://example.com/d\x0bSet-Cookie:injected=vt",
    "ff": "https://example.com/e\x0cSet-Cookie:injected=ff",
    "esc": "https://example.com/f\x1b[2JSet-Cookie:injected=esc",
    "nel": "https://example.com/g\u0085Set-Cookie:injected=nel",
    "del": "https://example.com/h\x7fSet-Cookie:injected=del",
}

# What the daemon itself puts on each answer of the public listener: a store
# may supply the value of Location, and nothing else.
OWN = {"date", "server", "connection", "content-length", "content-type", "cache-control",
       "pragma", "expires", "referrer-policy"}
REDIRECT = OWN | {"location"}


def pipeline(port, paths, timeout=20):
    """GETs every path over one keep-alive connection, all requests written
    before any answer is read, then /healthz with Connection: close. Returns
    the parsed responses [(status, [(name, value bytes)], body)] and the bytes
    left over; parsing stops at the first thing that is not a response."""
    reqs = b"".join(f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for p in paths)
    reqs += b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    data = b""
    deadline = time.time() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(reqs)
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    out = []
    rest = data
    while rest:
        end = rest.find(b"\r\n\r\n")
        if end < 0:
            break
        head, rest = rest[:end], rest[end + 4:]
        lines = head.split(b"\r\n")
        m = re.fullmatch(rb"HTTP/1\.[01] (\d{3})(?: .*)?", lines[0])
        if not m:
            out.append((None, [("?", lines[0])], b""))
            break
        headers = []
        for ln in lines[1:]:
            name, sep, value = ln.partition(b":")
            headers.append((name.decode("latin-1").strip().lower() if sep else "?",
                            value.strip()))
        n = 0
        for name, value in headers:
            if name == "content-length" and value.isdigit():
                n = int(value)
        out.append((int(m.group(1)), headers, rest[:n]))
        rest = rest[n:]
    return out, rest


def check_clicks(what, paths, want_status, want_location=None):
    """Clicks every path twice (the second from the daemon's link cache), and
    checks the answers as described at the top. want_status: one per path."""
    for round_ in (1, 2):
        resp, rest = pipeline(inst.public_port, paths)
        check(len(resp) == len(paths) + 1 and rest == b"",
              f"{what} (round {round_}): {len(paths) + 1} requests gave {len(resp)} responses"
              f" and {len(rest)} stray bytes: the response was split: {resp!r} {rest[:200]!r}")
        for i, (st, headers, _) in enumerate(resp[:len(paths)]):
            names = {n for n, _ in headers}
            allowed = REDIRECT if st == 302 else OWN
            check(names <= allowed,
                  f"{what} #{i}: headers the daemon does not send: {sorted(names - allowed)}"
                  f" in {headers!r}")
            for n, v in headers:
                check(all(0x20 <= b < 0x7f for b in v),
                      f"{what} #{i}: header {n} carries a control or non-ASCII byte: {v!r}")
            loc = [v for n, v in headers if n == "location"]
            check(st == want_status[i], f"{what} #{i}: status {st}, want {want_status[i]}")
            if st == 302:
                check(len(loc) == 1 and all(0x21 <= b < 0x7f for b in loc[0]),
                      f"{what} #{i}: Location {loc!r} not one printable ASCII value")
                if want_location and want_location[i] is not None:
                    check(loc == [want_location[i].encode()],
                          f"{what} #{i}: Location {loc!r}, want {want_location[i]!r}")
            else:
                check(not loc, f"{what} #{i}: a Location on a {st}: {loc!r}")
        if resp:
            check(resp[-1][0] == 200 and resp[-1][2] == b"ok\n",
                  f"{what}: the /healthz after the clicks: {resp[-1]!r}")


def refused_metric():
    """homing_redirects_refused_total, None when /metrics has none."""
    _, _, body = http_get(inst.admin_port, "/metrics")
    m = re.search(rb"^homing_redirects_refused_total (\d+)$", body, re.M)
    return int(m.group(1)) if m else None


def no_controls(text, what):
    """A line meant for a terminal or a log: no control character but the
    line ends, no C1, no DEL."""
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
    check(not bad, f"{what}: control characters reach the terminal: {bad!r} in {text!r}")


def click_urls(copy_json):
    return [path_of(l["click_url"]) for c in copy_json["copies"] for l in c["links"]]


inst = Instance()
T = Runner()
try:
    key = inst.api_key(scope="write")  # POSTs messages
    inst.serve()
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def api_refuses_and_nothing_splits():
        accepted = []
        for name, link in PAYLOADS.items():
            body = json.dumps({"subject": "s", "from": "alice@example.org",
                               "recipients": ["bob@example.net"],
                               "links": ["https://example.com/ok", link]})
            st, _, data = http_request(inst.admin_port, "POST", "/api/v1/messages",
                                       headers=auth, body=body)
            if st == 201:
                accepted.append((name, click_urls(json.loads(data))))
                continue
            check(st == 400, f"api {name}: status {st}")
            err = json.loads(data).get("error", "")
            check("link 2" in err and "not a valid" in err, f"api {name}: error {err!r}")
            no_controls(err, f"api {name} error")
        # what a daemon that took them does with them, then that it did not
        paths = [p for _, ps in accepted for p in ps]
        if paths:
            check_clicks("api clicks", paths, [302] * len(paths))
        check(not accepted, f"api accepted {[n for n, _ in accepted]}")
        # a link with a space and non-ASCII is taken, in its encoded form
        body = json.dumps({"subject": "s", "from": "alice@example.org",
                           "recipients": ["bob@example.net"],
                           "links": ["HTTPS://example.com/a b/caf\u00e9?q=\u20ac"]})
        st, _, data = http_request(inst.admin_port, "POST", "/api/v1/messages", headers=auth,
                                   body=body)
        check(st == 201, f"api good link: {st} {data!r}")
        if st == 201:
            j = json.loads(data)
            want = "https://example.com/a%20b/caf%C3%A9?q=%E2%82%AC"
            check(j["copies"][0]["links"][0]["url"] == want, j)
            check_clicks("api good link", click_urls(j), [302], [want])

    def cli_refuses_and_nothing_splits():
        accepted = []
        for name, link in PAYLOADS.items():
            r = inst.run("message", "add", "--subject", "s", "--from", "alice@example.org",
                         "--to", "bob@example.net", "--link", "https://example.com/ok",
                         "--link", link, "--json", check_rc=False)
            if r.returncode == 0:
                accepted.append((name, click_urls(json.loads(r.stdout))))
                continue
            check(r.returncode == 2, f"cli {name}: exit {r.returncode}")
            check("link 2" in r.stderr and "not a valid" in r.stderr and
                  r.stderr.count("\n") == 1,
                  f"cli {name}: stderr {r.stderr!r}")
            no_controls(r.stderr, f"cli {name} stderr")
        paths = [p for _, ps in accepted for p in ps]
        if paths:
            check_clicks("cli clicks", paths, [302] * len(paths))
        check(not accepted, f"cli accepted {[n for n, _ in accepted]}")

    def track_leaves_them_untracked_and_nothing_splits():
        # As a browser reads an href: CR and LF (raw or as references) are
        # removed, so those links are tracked, without them; VT, FF, ESC, C1
        # left inside make a link that is left untracked and reported.
        hrefs = {
            "crlf-ref": "https://example.com/t1&#13;&#10;Set-Cookie: injected=ref",
            "crlf-raw": "https://example.com/t2\r\nSet-Cookie: injected=raw",
            "vt": "https://example.com/t3&#11;Set-Cookie: injected=vt",
            "ff": "https://example.com/t4&#12;Set-Cookie: injected=ff",
            "esc": "https://example.com/t5&#27;[2JSet-Cookie: injected=esc",
            "c1": "https://example.com/t6&#x81;Set-Cookie: injected=c1",
            "good": "https://example.com/t7",
        }
        html = "".join(f'<p><a href="{h}">{n}</a></p>\r\n' for n, h in hrefs.items())
        eml = ("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: t\r\n"
               "Message-ID: <split@example.org>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               f"<html><body>\r\n{html}</body></html>\r\n")
        src = os.path.join(inst.tmp, "split.eml")
        out = os.path.join(inst.tmp, "split.out")
        open(src, "w", newline="").write(eml)
        r = inst.run("track", src, "--keep-message-id", "--per-message", "-o", out,
                     check_rc=False)
        check(r.returncode == 0, f"track: exit {r.returncode}: {r.stderr!r}")
        copy = open(out, newline="").read()
        paths = ["/c/" + t for t in re.findall(r'href="http://127\.0\.0\.1:\d+/c/([A-Za-z0-9_-]+)"',
                                               copy)]
        check(len(paths) >= 3, f"track: {len(paths)} tracked links in the copy")
        check_clicks("track clicks", paths, [302] * len(paths))
        no_controls(r.stderr, "track stderr")
        no_controls(r.stdout, "track stdout")
        for name in ("vt", "ff", "esc", "c1"):
            want = hrefs[name].split("&")[0]
            check(any(want in ln and "left untracked" in ln for ln in r.stderr.splitlines()),
                  f"track: no warning naming the {name} link: {r.stderr!r}")
        check("4 links left untracked" in r.stdout, f"track summary: {r.stdout!r}")
        for name in ("vt", "ff", "esc", "c1"):
            check(f'href="{hrefs[name]}"' in copy, f"track: the {name} href was changed")
        with inst.db() as c:
            mid = c.execute("SELECT id FROM messages WHERE message_id = 'split@example.org'"
                            ).fetchone()
            urls = [u for (u,) in c.execute("SELECT url FROM links WHERE message = ? ORDER BY idx",
                                            (mid[0] if mid else 0,))]
        check(urls == ["https://example.com/t1Set-Cookie:%20injected=ref",
                       "https://example.com/t2Set-Cookie:%20injected=raw",
                       "https://example.com/t7"], f"track stored {urls!r}")

    def planted_rows_are_never_written():
        # a message with eight links; their rows are then replaced by hand
        j = inst.add_message(["bob@example.net"], [f"https://example.com/p{i}" for i in range(1, 9)])
        mid = int(j["id"], 16)
        planted = [SPLIT, PAYLOADS["cr"], PAYLOADS["lf"], PAYLOADS["vt"], PAYLOADS["nel"],
                   PAYLOADS["del"], "https://example.com/caf\u00e9 x", "https://example.com/p8"]
        with inst.db() as db:
            for i, u in enumerate(planted, 1):
                db.execute("UPDATE links SET url = ? WHERE message = ? AND idx = ?", (u, mid, i))
        before = refused_metric()
        paths = click_urls(j)
        check(len(paths) == len(planted), f"{len(paths)} click URLs")
        status = [404] * 6 + [302, 302]
        check_clicks("planted rows", paths, status,
                     [None] * 6 + ["https://example.com/caf%C3%A9%20x", "https://example.com/p8"])
        # two rounds of six refused clicks; nothing of them recorded
        after = refused_metric()
        check(before is not None and after is not None and after - before == 12,
              f"homing_redirects_refused_total went {before} -> {after}")
        inst.settle()
        with inst.db() as c:
            items = sorted(i for (i,) in c.execute(
                "SELECT item FROM events WHERE kind = 'click' AND message = ?", (mid,)))
        check(items == [7, 7, 8, 8], f"clicks recorded for items {items}")
        # logged once per fill of the link cache (again only if another link
        # took its slot in between), escaped
        log = inst.daemon_log()
        lines = [ln for ln in log.splitlines() if "is not a valid destination" in ln]
        logged = {int(m.group(1)) for ln in lines
                  for m in [re.search(r"link (\d+) of message", ln)] if m}
        check(logged == set(range(1, 7)) and len(lines) <= 12,
              f"{len(lines)} log lines for links {sorted(logged)}: {lines!r}")
        for ln in lines:
            no_controls(ln, "daemon log")

    T.run(api_refuses_and_nothing_splits)
    T.run(cli_refuses_and_nothing_splits)
    T.run(track_leaves_them_untracked_and_nothing_splits)
    T.run(planted_rows_are_never_written)
    inst.stop()
finally:
    inst.close()
T.finish()
