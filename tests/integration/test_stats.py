"""Campaigns and figures with the real daemon (docs/reports.md "Campaigns and
rates", docs/api.md): messages registered with --campaign and through the
API, hits from a browser and a HEAD probe, then
GET /api/v1/stats equals `homing stats --json` for the same filter, the
figures are the ones the hits make (a browser's opens and click human, a
HEAD probe machine), the message
list pages by cursor without repeats, campaigns are listed, and bad query
strings get a 400 naming the parameter. Nothing is hard-coded from the
output: the expected counts are the hits this test makes."""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get, http_request, path_of  # noqa: E402

inst = Instance()
T = Runner()
FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")


def api(path, key):
    st, _, body = http_request(inst.admin_port, "GET", path,
                               headers={"Authorization": f"Bearer {key}"})
    return st, json.loads(body) if body else None


def wait_enriched(key, campaign, want_hits, timeout=20):
    """Polls the figures until the enrichment thread has judged every hit."""
    deadline = time.time() + timeout
    q = urllib.parse.quote(campaign)
    while time.time() < deadline:
        st, o = api(f"/api/v1/stats?campaign={q}", key)
        if st == 200 and o["opens"]["all"] + o["clicks"]["all"] >= want_hits:
            return o
        time.sleep(0.1)
    raise AssertionError(f"not every hit enriched after {timeout} s")


def main():
    inst.serve()
    key = inst.api_key("stats")
    wkey = inst.api_key("stats-w", scope="write")
    camp = "Spring sale 2026 – été"
    a = json.loads(inst.run("message", "add", "--subject", "A", "--from", "alice@example.org",
                            "--to", "bob@example.net", "--to", "carol@example.com",
                            "--link", "https://example.com/x", "--campaign", camp,
                            "--json").stdout)
    body = json.dumps({"subject": "B", "from": "alice@example.org", "campaign": camp,
                       "recipients": ["dave@example.org"], "links": ["https://example.com/y"]})
    st, _, out = http_request(inst.admin_port, "POST", "/api/v1/messages", body=body,
                              headers={"Authorization": f"Bearer {wkey}",
                                       "Content-Type": "application/json"})
    check(st == 201, f"API add with campaign: {st} {out!r}")
    b = json.loads(out)
    other = inst.add_message(["erin@example.org"], subject="no campaign")

    bob, carol = a["copies"][0], a["copies"][1]
    browser = {"User-Agent": FIREFOX, "Accept-Language": "en-GB,en;q=0.8"}
    # bob opens twice and clicks in a browser; carol's pixel is checked with
    # HEAD (a probe: a machine, never a reader).
    for _ in range(2):
        check(http_get(inst.public_port, path_of(bob["open_url"]), headers=browser)[0] == 200,
              "bob's open")
    st, _, _ = http_get(inst.public_port, path_of(bob["links"][0]["click_url"]), headers=browser)
    check(st == 302, f"bob's click: {st}")
    st, _, _ = http_request(inst.public_port, "HEAD", path_of(carol["open_url"]),
                            headers={"User-Agent": FIREFOX})
    check(st == 200, f"carol's probe: {st}")
    other_open = other["copies"][0]["open_url"]
    check(http_get(inst.public_port, path_of(other_open), headers=browser)[0] == 200,
          "open outside the campaign")

    def figures():
        o = wait_enriched(key, camp, 4)
        cli = json.loads(inst.run("stats", "--campaign", camp, "--json").stdout)
        check(o == cli, f"API and CLI differ:\n{o}\n{cli}")
        check(o["messages"] == 2 and o["recipients"] == 3, f"counts {o['messages']} "
              f"{o['recipients']}")
        check(o["opens"]["human"] == 2, f"human opens {o['opens']}")
        check(o["openers"]["human"] == 1, f"human openers {o['openers']}")
        check(o["opens"]["all"] == 3 and o["opens"]["machine"] == 1, f"all opens {o['opens']}")
        check(o["openers"]["machine"] == 1 and o["openers"]["all"] == 2, f"{o['openers']}")
        check(o["clicks"]["human"] == 1 and o["clickers"]["human"] == 1, f"clicks {o['clicks']}")
        links = o["links"]
        check(len(links) == 1 and links[0]["url"] == "https://example.com/x" and
              links[0]["clickers"]["human"] == 1, f"links {links}")
        r = o["rates"]["open_of_recipients"]
        check(r["definition"] == "unique openers / recipients" and
              abs(r["human"] - 1 / 3) < 1e-9, f"open rate {r}")
        check(o["rates"]["open"]["human"] is None, "no delivered recipient: open rate null")
        # the message outside the campaign is counted only without the filter
        st, allf = api("/api/v1/stats", key)
        check(allf["messages"] == 3 and allf["opens"]["all"] == o["opens"]["all"] + 1,
              f"unfiltered {allf['messages']} {allf['opens']}")
        st, one = api(f"/api/v1/stats?message={other['id']}", key)
        check(one["messages"] == 1 and one["opens"]["all"] == 1, f"one message {one}")
        st, none = api("/api/v1/stats?campaign=", key)
        check(none["messages"] == 1, f"messages without a campaign {none['messages']}")
        csv = inst.run("stats", "--campaign", camp, "--csv").stdout.splitlines()
        check(csv[0] == "metric,class,value" and "opens,human,2" in csv, f"csv {csv[:14]}")

    def series():
        st, o = api("/api/v1/stats/series?bucket=day&campaign=" + urllib.parse.quote(camp), key)
        check(st == 200 and o["bucket"] == "day", f"series {st}")
        total = sum(p["count"] for p in o["points"] if p["class"] != "delivery")
        check(total == 4, f"hits in the series {total}: {o}")

    def paging():
        seen = []
        cursor = None
        for _ in range(5):
            q = "/api/v1/messages?limit=2" + (f"&cursor={cursor}" if cursor else "")
            st, o = api(q, key)
            check(st == 200, f"list {st}")
            seen += [m["id"] for m in o["messages"]]
            cursor = o["next"]
            if not cursor:
                break
        check(sorted(seen) == sorted([a["id"], b["id"], other["id"]]), f"pages {seen}")
        st, o = api("/api/v1/messages?campaign=" + urllib.parse.quote(camp), key)
        check({m["id"] for m in o["messages"]} == {a["id"], b["id"]} and
              all(m["campaign"] == camp for m in o["messages"]), f"by campaign {o}")
        st, c = api("/api/v1/campaigns", key)
        check(c["campaigns"][0]["name"] == camp and c["campaigns"][0]["messages"] == 2,
              f"campaigns {c}")
        out = inst.run("stats", "--campaigns").stdout
        check(camp in out, f"stats --campaigns: {out!r}")

    def bad_queries():
        for q, word in [("campaign=%zz", "percent"), ("limit=0", "limit"),
                        ("since=tomorrow", "since"), ("state=lost", "state"),
                        ("nope=1", "unknown parameter"), ("campaign=%1B%5B31m", "campaign"),
                        ("cursor=1-x", "cursor")]:
            st, o = api("/api/v1/stats?" + q, key)
            check(st == 400 and word in o["error"], f"{q}: {st} {o}")
        p = inst.run("stats", "--campaign", "a\x1bb", check_rc=False)
        check(p.returncode == 2 and "campaign" in p.stderr and "\x1b" not in p.stderr,
              f"CLI bad campaign: {p.returncode} {p.stderr!r}")
        p = inst.run("message", "add", "--subject", "s", "--from", "a@example.org", "--to",
                     "b@example.org", "--campaign", "x\u202ey", check_rc=False)
        check(p.returncode != 0 and "campaign" in p.stderr, f"bidi campaign: {p.stderr!r}")

    T.run(figures)
    T.run(series)
    T.run(paging)
    T.run(bad_queries)


try:
    main()
finally:
    inst.close()
T.finish()
