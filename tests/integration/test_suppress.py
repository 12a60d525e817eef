"""The suppression list and one-click unsubscribe with the real binary
(docs/suppression.md):

- a real 5.1.1 bounce (tests/data/reports/dsn-two.eml) ingested lists its
  recipient as hard_bounce (the 4.2.2 beside it is soft: not listed), with a
  `suppression` event; `homing send` then refuses it with one line naming the
  address and the reason and exit 1, sends the other recipient of the same
  run, and records the refusal;
- an ARF complaint (tests/data/reports/arf-rfc5965.eml) lists its recipient;
- `homing suppress add/list/remove` (table, JSON, CSV escaped);
- `homing track` with track.list_unsubscribe = yes writes List-Unsubscribe and
  List-Unsubscribe-Post per copy; on the daemon a GET of /u/TOKEN only shows the
  confirmation page, a POST with List-Unsubscribe=One-Click from a browser
  lists the recipient, one from a link scanner's User-Agent is recorded but
  lists nobody, a POST without the one-click body is refused, and a bad token
  is a 404.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import HOMING, Instance, Runner, check, http_request  # noqa: E402
from smtp_sink import Sink  # noqa: E402

DATA = os.path.join(os.environ.get("HOMING_SRC", "."), "tests", "data", "reports")
WAIT_S = 20  # the enrichment thread judging an unsubscribe
BROWSER = ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
SCANNER = "Mozilla/5.0 (compatible; Mimecast URL Protect)"
ONE_CLICK = "List-Unsubscribe=One-Click"

MESSAGE = """From: Alice <alice@homing.example>
To: bob@dest.example, carol@dest.example, dave@dest.example
Subject: News
Message-ID: <news.1@homing.example>
List-Unsubscribe: <mailto:old@lists.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Hello <a href="https://example.org/a">there</a></p>
"""

inst = Instance({"track.list_unsubscribe": "yes"})
T = Runner()


def listed():
    p = inst.run("suppress", "list", "--json")
    return {(e["address"], e["sender"]): e for e in json.loads(p.stdout)["suppressions"]}


def suppression_events(kind_filter=None):
    with inst.db() as c:
        rows = c.execute("SELECT recipient, detail FROM events WHERE kind = 'suppression' "
                         "ORDER BY id").fetchall()
    out = [(r, json.loads(d)) for r, d in rows]
    return [x for x in out if not kind_filter or x[1]["action"] == kind_filter]


def send_env():
    # libesmtp's EHLO keyword compare trips ASan's strict_string_checks (see
    # test_privacy.py): not a homing finding
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("strict_string_checks=1",
                                                          "strict_string_checks=0")
    return env


def hard_bounce_then_send_refuses():
    out = inst.run("message", "add", "--subject", "q3", "--from", "Alice@Homing.Example",
                   "--to", "nobody@dest.example", "--to", "full@dest.example",
                   "--message-id", "q3.report.1@homing.example", "--json").stdout
    pub = json.loads(out)["id"]
    p = inst.run("ingest", input=open(os.path.join(DATA, "dsn-two.eml")).read())
    have = listed()
    e = have.get(("nobody@dest.example", "alice@homing.example"))
    check(e is not None and e["reason"] == "hard_bounce" and e["recipient"] == 1 and
          e["message"] == pub, f"after the 5.1.1: {have}")
    check(not any(a == "full@dest.example" for a, _ in have), "a 4.2.2 listed its recipient")
    ev = suppression_events("listed")
    check(len(ev) == 1 and ev[0][0] == 1 and ev[0][1]["reason"] == "hard_bounce" and
          ev[0][1]["address"] == "nobody@dest.example", f"events: {ev}")
    # the same report again lists nothing twice
    inst.run("ingest", input=open(os.path.join(DATA, "dsn-two.eml")).read())
    check(len(suppression_events("listed")) == 1, "a second ingest listed again")

    eml = os.path.join(inst.tmp, "plain.eml")
    open(eml, "w").write("From: alice@homing.example\nTo: nobody@dest.example\n"
                         "Subject: again\n\nhello\n")
    sink = Sink(dsn=True)
    try:
        with open(inst.conf, "a") as f:
            f.write(f"\n[send]\nsmtp = 127.0.0.1:{sink.port}\nstarttls = off\n"
                    "verp = bounce+{token}@bounces.example\n")
        # NOBODY in capitals: the list compares case-folded
        p = subprocess.run([HOMING, "-c", inst.conf, "send", "--message", pub, "--to",
                            "full@dest.example", "--to", "NOBODY@dest.example", eml],
                           capture_output=True, text=True, env=send_env(), timeout=60)
        rcpts = [r for m in sink.received for r in m["rcpts"]]
    finally:
        sink.stop()
    check(p.returncode == 1, f"exit {p.returncode}: {p.stderr!r}")
    lines = [l for l in p.stderr.splitlines() if "suppression list" in l]
    check(len(lines) == 1 and "nobody@dest.example is on the suppression list (hard_bounce"
          in lines[0], f"stderr: {p.stderr!r}")
    check(len(rcpts) == 1 and "full@dest.example" in rcpts[0], f"the sink got {rcpts}")
    check("1 sent, 0 refused, 0 not sent, 1 suppressed" in p.stderr, p.stderr)
    ref = suppression_events("refused")
    check(len(ref) == 1 and ref[0][0] == 1 and ref[0][1]["by"] == "send", f"refusal: {ref}")

    # all of a run suppressed: nothing sent, exit 1, no connection needed
    p = subprocess.run([HOMING, "-c", inst.conf, "send", "--message", pub, "--to",
                        "nobody@dest.example", eml],
                       capture_output=True, text=True, env=send_env(), timeout=60)
    check(p.returncode == 1 and "on the suppression list" in p.stderr,
          f"all suppressed: {p.returncode} {p.stderr!r}")


def complaint_lists_recipient():
    inst.run("message", "add", "--subject", "s", "--from", "news@example.net",
             "--to", "user@example.com",
             "--message-id", "8787KJKJ3K4J3K4J3K4J3.mail@example.net")
    inst.run("ingest", input=open(os.path.join(DATA, "arf-rfc5965.eml")).read())
    e = listed().get(("user@example.com", "news@example.net"))
    check(e is not None and e["reason"] == "complaint", f"after the ARF report: {listed()}")


def suppress_cli():
    p = inst.run("suppress", "add", "  <Eve@Dest.Example>  ", "--note", "=HYPERLINK(\"x\")")
    check("eve@dest.example added" in p.stderr, p.stderr)
    p = inst.run("suppress", "add", "eve@dest.example")
    check("listed already" in p.stderr, p.stderr)
    inst.run("suppress", "add", "eve@dest.example", "--sender", "alice@homing.example")
    e = listed()
    check(e[("eve@dest.example", None)]["reason"] == "manual", e)
    check(("eve@dest.example", "alice@homing.example") in e, e)
    csv = inst.run("suppress", "list", "--format", "csv").stdout
    check("'=HYPERLINK" in csv and "\n=HYPERLINK" not in csv and ",=HYPERLINK" not in csv,
          f"a formula reached the CSV: {csv!r}")
    table = inst.run("suppress", "list").stdout
    check(re.search(r"^eve@dest\.example +\(every sender\) +manual", table, re.M), table)
    # only the sender's entry
    inst.run("suppress", "remove", "eve@dest.example", "--sender", "alice@homing.example")
    e = listed()
    check(("eve@dest.example", None) in e and
          ("eve@dest.example", "alice@homing.example") not in e, e)
    inst.run("suppress", "remove", "EVE@dest.example")
    check(not any(a == "eve@dest.example" for a, _ in listed()), listed())
    p = inst.run("suppress", "remove", "eve@dest.example", check_rc=False)
    check(p.returncode == 1 and "not on the list" in p.stderr, (p.returncode, p.stderr))
    p = inst.run("suppress", "add", "no address", check_rc=False)
    check(p.returncode == 2, p.returncode)
    p = inst.run("suppress", "--help")
    check("homing suppress list" in p.stdout, p.stdout)


def unsubscribe_urls():
    src = os.path.join(inst.tmp, "news.eml")
    open(src, "w").write(MESSAGE)
    out = os.path.join(inst.tmp, "news")
    p = inst.run("track", "-o", out, src)
    pub = re.search(r"tracked ([0-9a-f]{16})", p.stdout).group(1)
    urls = {}
    for name in sorted(os.listdir(out)):
        data = open(os.path.join(out, name)).read()
        head = data.split("\n\n", 1)[0]
        lu = re.findall(r"^List-Unsubscribe: (.*)$", head, re.M)
        lp = re.findall(r"^List-Unsubscribe-Post: (.*)$", head, re.M)
        check(len(lu) == 1 and len(lp) == 1 and lp[0] == ONE_CLICK,
              f"{name}: List-Unsubscribe {lu}, -Post {lp}")
        m = re.fullmatch(r"<http://127\.0\.0\.1:\d+(/u/[A-Za-z0-9_-]{48})>", lu[0])
        check(m is not None, f"{name}: {lu[0]}")
        addr = re.search(r"-(.*)\.eml$", name).group(1)
        urls[addr] = m.group(1)
    check(sorted(urls) == ["bob@dest.example", "carol@dest.example", "dave@dest.example"],
          urls)
    check(len(set(urls.values())) == 3, "copies share an unsubscribe token")
    return pub, urls


def wait_listed(addr, want=True):
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        have = any(a == addr for a, _ in listed())
        if have == want:
            return True
        time.sleep(0.1)
    return False


def one_click(pub, urls):
    inst.serve()
    port = inst.public_port
    # a GET (a person opening the link, or a scanner following it): the page
    # and its form, nothing recorded or listed
    st, h, body = http_request(port, "GET", urls["bob@dest.example"],
                               headers={"User-Agent": BROWSER})
    check(st == 200 and b'<form method="post">' in body and
          b'name="List-Unsubscribe" value="One-Click"' in body, (st, body))
    check(h.get("referrer-policy") == "no-referrer" and "default-src 'none'" in
          h.get("content-security-policy", ""), h)
    st, _, _ = http_request(port, "HEAD", urls["bob@dest.example"])
    check(st == 200, st)
    # a POST without the one-click body: refused, nothing recorded
    st, _, _ = http_request(port, "POST", urls["bob@dest.example"], body="hello=1",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400, st)
    # a forged token: 404; a pixel token on /u/: 404
    bad = urls["bob@dest.example"][:-2] + ("AA" if not urls["bob@dest.example"].endswith("AA")
                                           else "BB")
    st, _, _ = http_request(port, "POST", bad, body=ONE_CLICK)
    check(st == 404, st)
    st, _, _ = http_request(port, "PUT", urls["bob@dest.example"], body=ONE_CLICK)
    check(st == 405, st)
    with inst.db() as c:
        n = c.execute("SELECT count(*) FROM events WHERE kind = 'unsubscribe'").fetchone()[0]
    check(n == 0, f"{n} unsubscribe events before any one-click POST")

    # a link scanner's POST: recorded, judged, nobody listed
    st, _, body = http_request(port, "POST", urls["carol@dest.example"], body=ONE_CLICK,
                               headers={"User-Agent": SCANNER,
                                        "Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200 and b"Unsubscribed" in body, (st, body))
    deadline = time.time() + WAIT_S
    while time.time() < deadline and not suppression_events("ignored"):
        time.sleep(0.1)
    ign = suppression_events("ignored")
    check(len(ign) == 1 and ign[0][0] == 2 and ign[0][1]["verdict"] == "scanner",
          f"scanner POST: {ign}")
    check(not any(a == "carol@dest.example" for a, _ in listed()), "a scanner unsubscribed")
    # the enrichment thread is past the GETs of bob's link: they listed nobody
    check(not any(a == "bob@dest.example" for a, _ in listed()), "a GET unsubscribed")

    # the mail provider's one-click POST (RFC 8058), or the page's form from a
    # browser: listed under the message's sender
    st, _, body = http_request(port, "POST", urls["bob@dest.example"], body=ONE_CLICK,
                               headers={"User-Agent": BROWSER, "Accept-Language": "en",
                                        "Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200 and b"Unsubscribed" in body, (st, body))
    # multipart/form-data is RFC 8058's other form
    mp = ("--xyz\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
          "One-Click\r\n--xyz--\r\n")
    st, _, _ = http_request(port, "POST", urls["dave@dest.example"], body=mp,
                            headers={"User-Agent": BROWSER, "Accept-Language": "en",
                                     "Content-Type": "multipart/form-data; boundary=xyz"})
    check(st == 200, st)
    check(wait_listed("bob@dest.example") and wait_listed("dave@dest.example"),
          f"not listed: {listed()}")
    e = listed()[("bob@dest.example", "alice@homing.example")]
    check(e["reason"] == "unsubscribe" and e["message"] == pub and e["recipient"] == 1, e)
    with inst.db() as c:
        kinds = [r[0] for r in c.execute("SELECT kind FROM events WHERE message = ? AND "
                                         "kind IN ('unsubscribe', 'suppression') ORDER BY id",
                                         (int(pub, 16),))]
    check(kinds.count("unsubscribe") == 3, kinds)
    # a second POST of the same link lists nothing twice
    http_request(port, "POST", urls["bob@dest.example"], body=ONE_CLICK,
                 headers={"User-Agent": BROWSER, "Accept-Language": "en"})
    # judged once the enrichment cursor is past its event
    deadline = time.time() + WAIT_S
    while True:
        with inst.db() as c:
            last = c.execute("SELECT max(id) FROM events WHERE kind = 'unsubscribe'").fetchone()[0]
            cur = c.execute("SELECT event FROM cursors WHERE name = 'enrich'").fetchone()
        if cur and cur[0] >= last:
            break
        check(time.time() < deadline, f"enrichment cursor {cur} not past event {last}")
        time.sleep(0.1)
    listed_bob = [x for x in suppression_events("listed")
                  if x[1]["address"] == "bob@dest.example"]
    check(len(listed_bob) == 1, listed_bob)
    _, _, m = http_request(inst.admin_port, "GET", "/metrics")
    check(b'homing_hits_total{kind="unsubscribe"} 4' in m, "unsubscribe metric")


try:
    T.run(hard_bounce_then_send_refuses)
    T.run(complaint_lists_recipient)
    T.run(suppress_cli)
    pub, urls = unsubscribe_urls()
    T.run(one_click, pub, urls)
    rc = inst.stop()
    check(rc == 0, f"daemon exit {rc}")
finally:
    inst.close()
T.finish()
