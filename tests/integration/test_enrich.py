"""Enrichment in the daemon, end to end: hits of known machines and of people
get the right verdicts in the enrichments table (Gmail image proxy through a
trusted proxy's X-Forwarded-For, Apple Mail Privacy Protection, a Thunderbird
reader, a Safe Links scan of a click, a HEAD probe); two human readers of one
copy give two readers and the second is a possible forward; a restart resumes
at the enrichment cursor (nothing enriched twice, nothing missed, events
committed while the daemon was down included); homing report (JSON, CSV) and
GET /api/v1/messages/ID count human, machine and unknown apart; homing
reclassify reports 0 changes on unchanged rules.

The country and ASN files come from scripts/setup.sh (make test runs it): a
missing file is a failure, not a skip."""
import csv
import io
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import SRC, Failure, Instance, Runner, check, http_get, http_request, path_of  # noqa: E402

ASN_DB = os.path.join(SRC, "var/geo/asn.hmasn")
COUNTRY_DB = os.path.join(SRC, "var/npm/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/"
                               "geo-whois-asn-country.mmdb")
for f in (ASN_DB, COUNTRY_DB):
    if not os.path.exists(f):
        print(f"FAIL setup: {f} is missing: run scripts/setup.sh (make setup)")
        sys.exit(1)

GMAIL_UA = ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
            "(via ggpht.com GoogleImageProxy)")
THUNDERBIRD_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 "
                  "Thunderbird/115.3.1")
OUTLOOK_MAC_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                  "(KHTML, like Gecko)")
EDGE_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/115.0.0.0 Safari/537.36 Edg/115.0.1901.183")

inst = Instance({"public.trusted_proxies": "127.0.0.2",
                 "geo.asn_db": ASN_DB, "geo.country_db": COUNTRY_DB})
T = Runner()


def db_id(hex_id):
    """The public id as SQLite stores it (a signed 64-bit integer)."""
    v = int(hex_id, 16)
    return v - (1 << 64) if v >= 1 << 63 else v


def add_event(message_hex, kind, recipient, age_s, method=None, client=None, ua=None,
              lang=None, item=0):
    """Appends an event as the daemon or homing ingest would have committed it."""
    with inst.db() as c:
        c.execute("INSERT INTO events (time_us, kind, method, message, recipient, item, client, "
                  "user_agent, accept_language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (int((time.time() - age_s) * 1e6), kind, method, db_id(message_hex),
                   recipient, item, client, ua, lang))


def hit(url, client, ua, lang=None, method="GET"):
    headers = {"User-Agent": ua, "X-Forwarded-For": client}
    if lang:
        headers["Accept-Language"] = lang
    st, _, _ = http_request(inst.public_port, method, path_of(url), headers=headers,
                            source="127.0.0.2")
    check(st in (200, 302), f"{method} {url}: status {st}")
    with inst.db() as c:
        return c.execute("SELECT max(id) FROM events").fetchone()[0]


def wait_enriched(timeout=15):
    """Until the enrichment cursor reaches the newest event."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with inst.db() as c:
            last = c.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            cur = c.execute("SELECT event FROM cursors WHERE name = 'enrich'").fetchone()[0]
        if cur >= last:
            return
        time.sleep(0.05)
    raise Failure(f"enrichment cursor {cur} did not reach event {last} in {timeout} s")


def enrichment(event):
    with inst.db() as c:
        row = c.execute("SELECT verdict, reasons, reader, new_reader, forward, json "
                        "FROM enrichments WHERE event = ?", (event,)).fetchone()
    check(row is not None, f"event {event} has no enrichment")
    return {"verdict": row[0], "reasons": row[1], "reader": row[2], "new_reader": row[3],
            "forward": row[4], "json": json.loads(row[5])}


try:
    # m1: one copy, read by machines and by its recipient; delivered an hour ago
    # (a delivered report), so a proxy fetch now is an open, not a prefetch.
    m1 = inst.add_message(["bob@example.net"], ["https://example.com/offer"], subject="offer")
    bob = m1["copies"][0]
    add_event(m1["id"], "delivered", 1, 3600)
    # m2: the forward: one copy read by two people.
    m2 = inst.add_message(["carol@example.com"], subject="minutes")
    carol = m2["copies"][0]
    add_event(m2["id"], "delivered", 1, 3600)
    # m3: a fresh message whose link a security scanner follows at once.
    m3 = inst.add_message(["dave@example.org"], ["https://example.org/doc"], subject="doc")
    dave = m3["copies"][0]
    add_event(m3["id"], "delivered", 1, 5)
    # m4: the context the enrichment thread keeps from page to page.
    m4 = inst.add_message(["erin@example.net"], subject="kept")
    inst.serve()
    ev = {}

    def verdicts_of_machines_and_people():
        ev["thunderbird"] = hit(bob["open_url"], "90.12.3.4", THUNDERBIRD_UA, "de-DE,de;q=0.9")
        ev["gmail"] = hit(bob["open_url"], "66.249.93.10", GMAIL_UA)
        ev["apple"] = hit(bob["open_url"], "17.58.63.1", "Mozilla/5.0")
        ev["head"] = hit(bob["open_url"], "203.0.113.7", "curl/8.5.0", method="HEAD")
        ev["safelinks"] = hit(dave["links"][0]["click_url"], "40.94.1.1", EDGE_UA)
        wait_enriched()
        want = {"thunderbird": "human", "gmail": "proxy-open", "apple": "prefetch",
                "head": "probe", "safelinks": "scanner"}
        got = {k: enrichment(ev[k])["verdict"] for k in want}
        check(got == want, f"verdicts {got}")
        tb = enrichment(ev["thunderbird"])
        check(tb["reader"] and tb["new_reader"] == 1 and tb["forward"] == 0, tb)
        check(tb["json"]["client"]["family"] == "Thunderbird", tb["json"])
        check(tb["json"]["network"].get("country") == "FR", tb["json"])
        check(tb["json"]["possible_forward"] is False, tb["json"])
        for k in ("gmail", "apple", "head", "safelinks"):
            check(enrichment(ev[k])["reader"] is None, f"{k} made a reader")
        check("net-proxy" in enrichment(ev["gmail"])["reasons"], enrichment(ev["gmail"]))

    def second_reader_is_a_possible_forward():
        a = hit(carol["open_url"], "90.12.3.4", THUNDERBIRD_UA, "de-DE,de;q=0.9")
        again = hit(carol["open_url"], "90.12.3.77", THUNDERBIRD_UA, "de-DE,de;q=0.9")
        b = hit(carol["open_url"], "81.2.69.160", OUTLOOK_MAC_UA, "en-GB,en;q=0.8")
        wait_enriched()
        ea, eagain, eb = enrichment(a), enrichment(again), enrichment(b)
        check(ea["verdict"] == "human" and eb["verdict"] == "human", (ea, eb))
        check(ea["forward"] == 0 and ea["new_reader"] == 1, ea)
        check(eagain["reader"] == ea["reader"] and eagain["new_reader"] == 0, eagain)
        check(eb["reader"] != ea["reader"] and eb["new_reader"] == 1 and eb["forward"] == 1, eb)
        check(eb["json"]["possible_forward"] is True, eb["json"])
        with inst.db() as c:
            rows = c.execute("SELECT fingerprint, opens, forward FROM readers WHERE message = ? "
                             "ORDER BY first_us", (db_id(m2["id"]),)).fetchall()
        check(rows == [(ea["reader"], 2, 0), (eb["reader"], 1, 1)], rows)
        # The notifier takes the stored verdicts and reader flags: one
        # "new-reader" notification, for the second reader's open.
        deadline, kinds = time.time() + 10, []
        while time.time() < deadline:
            with inst.db() as c:
                kinds = c.execute("SELECT kind, event, reader FROM notifications "
                                  "WHERE message = ? AND kind IN ('open', 'new-reader') ORDER BY id",
                                  (db_id(m2["id"]),)).fetchall()
            if len(kinds) >= 2:
                break
            time.sleep(0.1)
        check(kinds == [("open", a, ea["reader"]), ("new-reader", b, eb["reader"])], kinds)

    def restart_resumes_at_the_cursor():
        check(inst.stop() == 0, inst.daemon_log())
        # Committed while the daemon was down (another node, or just before a
        # crash): enriched after the restart, exactly once.
        add_event(m1["id"], "open", 1, 0, "GET", "90.12.3.4", THUNDERBIRD_UA, "de-DE,de;q=0.9")
        add_event(m1["id"], "sent", 1, 0)
        inst.serve()
        hit(bob["open_url"], "17.58.63.2", "Mozilla/5.0")
        wait_enriched()
        with inst.db() as c:
            hits = c.execute("SELECT id FROM events WHERE kind IN ('open', 'click', "
                             "'document-open') ORDER BY id").fetchall()
            enriched = c.execute("SELECT event FROM enrichments ORDER BY event").fetchall()
            last = c.execute("SELECT max(id) FROM events").fetchone()[0]
            cur = c.execute("SELECT event FROM cursors WHERE name = 'enrich'").fetchone()[0]
            notify = c.execute("SELECT event FROM cursors WHERE name = 'notify'").fetchone()[0]
        check(hits == enriched, f"hits {hits} enriched {enriched}")
        check(cur == last, (cur, last))
        check(notify <= cur, f"notifier cursor {notify} passed the enrichment cursor {cur}")
        check("not enriched" not in inst.daemon_log(), inst.daemon_log())

    def report_counts_human_machine_unknown():
        p = inst.run("report", m1["id"], "--format", "json")
        r = json.loads(p.stdout)
        bobr = r["recipients"][0]
        # Opens of bob's copy: Thunderbird twice and Gmail (people); Apple
        # twice and the HEAD probe (machines).
        oc = bobr["opens_by_class"]
        check((oc["human"], oc["machine"], oc["unknown"]) == (3, 3, 0), oc)
        check(oc["by_verdict"] == {"unknown": 0, "human": 2, "proxy-open": 1, "prefetch": 2,
                                   "scanner": 0, "probe": 1, "pending": 0}, oc["by_verdict"])
        check(bobr["human_opens"] == 3 and bobr["first_human_open"], bobr)
        check(len(bobr["readers"]) == 1 and not bobr["readers"][0]["possible_forward"], bobr)
        check(r["totals"]["unique_openers"] == 1 and r["totals"]["readers"] == 1, r["totals"])
        r2 = json.loads(inst.run("report", m2["id"], "--json").stdout)
        check(r2["totals"]["readers"] == 2 and r2["totals"]["possible_forwards"] == 1,
              r2["totals"])
        check([x["possible_forward"] for x in r2["recipients"][0]["readers"]] == [False, True],
              r2["recipients"][0]["readers"])
        r3 = json.loads(inst.run("report", m3["id"], "--format", "json").stdout)
        lk = r3["recipients"][0]["links_clicked"]
        check(len(lk) == 1 and (lk[0]["human"], lk[0]["machine"]) == (0, 1), lk)
        check(r3["totals"]["unique_clickers"] == 0, r3["totals"])
        rows = list(csv.DictReader(io.StringIO(inst.run("report", m1["id"], "--format",
                                                        "csv").stdout)))
        check(len(rows) == 1, rows)
        check((rows[0]["human_opens"], rows[0]["machine_opens"], rows[0]["readers"]) ==
              ("3", "3", "1"), rows[0])
        text = inst.run("report", m2["id"]).stdout
        check("POSSIBLE FORWARD" in text, text)
        bad = inst.run("report", m1["id"], "--format", "xml", check_rc=False)
        check(bad.returncode == 2, bad)

    def api_shows_the_same_counts():
        key = inst.api_key()
        st, _, body = http_get(inst.admin_port, f"/api/v1/messages/{m2['id']}",
                               headers={"Authorization": f"Bearer {key}"})
        check(st == 200, body)
        j = json.loads(body)
        check(j["totals"]["possible_forwards"] == 1, j["totals"])
        rc = j["recipients"][0]
        check(len(rc["readers"]) == 2 and rc["opens_by_class"]["human"] == 3, rc)

    def reclassify_unchanged_rules():
        out = inst.run("reclassify").stdout
        check(" 0 changed" in out, out)
        with inst.db() as c:
            n = c.execute("SELECT count(*) FROM enrichments").fetchone()[0]
        check(f"reclassify: {n} verdicts" in out, out)
        # A stored verdict that the rules no longer give (as after a rules
        # change) is rewritten, and the change is counted old -> new.
        with inst.db() as c:
            c.execute("UPDATE enrichments SET verdict = 'scanner', rules_version = 0 "
                      "WHERE event = ?", (ev["thunderbird"],))
        dry = inst.run("reclassify", "--dry-run").stdout
        check(" 1 changed" in dry and "scanner -> human: 1" in dry, dry)
        check(enrichment(ev["thunderbird"])["verdict"] == "scanner", "dry run wrote")
        out = inst.run("reclassify").stdout
        check(" 1 changed" in out and "scanner -> human: 1" in out, out)
        check(enrichment(ev["thunderbird"])["verdict"] == "human", enrichment(ev["thunderbird"]))
        check(" 0 changed" in inst.run("reclassify").stdout, "not stable")

    def kept_context_sees_truncated_clients():
        # The enrichment thread keeps a message's first events from one page
        # to the next (src/serve/enrich.c). Four opens of one client are
        # enriched, then the privacy sweep truncates their clients; a fifth
        # open must be judged against the truncated clients, as a fresh read
        # gives: no repeat. A context kept stale would see five: "repeat".
        url = m4["copies"][0]["open_url"]
        first = [hit(url, "81.2.69.161", EDGE_UA) for _ in range(4)]
        wait_enriched()
        deadline, left = time.time() + 15, 4
        while left and time.time() < deadline:
            # clients are sealed in the store: compared once opened (inst.db)
            with inst.db() as c:
                left = sum(r[0] == "81.2.69.161" for r in c.execute(
                    "SELECT client FROM events WHERE id BETWEEN ? AND ?",
                    (first[0], first[-1])).fetchall())
            time.sleep(0.1)
        check(left == 0, f"{left} clients not truncated")
        fifth = hit(url, "81.2.69.161", EDGE_UA)
        wait_enriched()
        check("repeat" not in enrichment(fifth)["reasons"].split(","), enrichment(fifth))

    def geo_import_builds_the_range_file():
        csv_path = os.path.join(inst.tmp, "asn.csv")
        with open(csv_path, "w") as f:
            f.write('192.0.2.0,192.0.2.255,64500,"Example Net"\n'
                    '2001:db8::,2001:db8::ffff,64501,"Example V6"\n')
        out = os.path.join(inst.tmp, "asn.hmasn")
        p = inst.run("geo-import", "--out", out, csv_path)
        check("2 ranges written" in p.stdout and os.path.getsize(out) > 0, p.stdout)
        bad = inst.run("geo-import", "--out", out, csv_path + ".missing", check_rc=False)
        check(bad.returncode == 2 and "missing" in bad.stderr, bad)

    for t in [verdicts_of_machines_and_people, second_reader_is_a_possible_forward,
              restart_resumes_at_the_cursor, report_counts_human_machine_unknown,
              api_shows_the_same_counts, reclassify_unchanged_rules,
              kept_context_sees_truncated_clients, geo_import_builds_the_range_file]:
        T.run(t)

    # Without truncation, a kept context grows with the events appended since.
    inst.close()
    inst = Instance({"public.trusted_proxies": "127.0.0.2", "privacy.truncate": "no",
                     "geo.asn_db": ASN_DB, "geo.country_db": COUNTRY_DB})
    m5 = inst.add_message(["frank@example.org"], ["https://example.org/b"], subject="pages")
    # m6: delivered an hour ago, so no delivery-window rule applies to its clicks.
    m6 = inst.add_message(["grace@example.org"], ["https://example.org/c"], subject="toc")
    add_event(m6["id"], "delivered", 1, 3600)
    inst.serve()

    def kept_context_sees_new_events():
        # One page each, five hits of one client: a click before any open, an
        # open, a click after it, two more opens. A context that did not grow
        # would miss the open, and the fifth would not count five.
        f = m5["copies"][0]
        ip = "81.2.69.162"

        def one(url):
            event = hit(url, ip, EDGE_UA)
            wait_enriched()
            return enrichment(event)["reasons"].split(",")

        check("click-without-open" in one(f["links"][0]["click_url"]), "first click")
        check("repeat" not in one(f["open_url"]), "the open")
        check("click-without-open" not in one(f["links"][0]["click_url"]), "a click after the open")
        check("repeat" not in one(f["open_url"]), "the fourth hit of the client")
        check("repeat" in one(f["open_url"]), "the fifth hit of the client within 10 s")

    def later_hits_decide_earlier_ones_again():
        # A gateway's time-of-click check (a browser's User-Agent without
        # Accept-Language) is enriched before the person's click it lets
        # through comes in, so it is first decided without it. The person's
        # click (another address, with a language, 3 s later) makes the daemon
        # decide the check again (rule 11c, docs/verdicts.md), as homing
        # reclassify would. The times are written, not waited for, so a slow
        # machine cannot stretch the 3 s past the rule's 30 s.
        t0 = time.time() - 20
        add_event(m6["id"], "click", 1, time.time() - t0, "GET", "81.2.69.170", EDGE_UA, item=1)
        wait_enriched()
        with inst.db() as c:
            check_ev = c.execute("SELECT max(id) FROM events").fetchone()[0]
        before = enrichment(check_ev)
        check(before["verdict"] == "human" and "handoff" not in before["reasons"], before)
        add_event(m6["id"], "click", 1, time.time() - (t0 + 3), "GET", "81.2.69.171", EDGE_UA,
                  "en-GB,en;q=0.9", item=1)
        wait_enriched()
        with inst.db() as c:
            person = c.execute("SELECT max(id) FROM events").fetchone()[0]
        # decided again right after the page with the person's click is stored
        deadline = time.time() + 15
        while enrichment(check_ev)["verdict"] != "scanner" and time.time() < deadline:
            time.sleep(0.05)
        after = enrichment(check_ev)
        check(after["verdict"] == "scanner" and "handoff" in after["reasons"], after)
        check(after["json"]["verdict"] == "scanner", after["json"])
        check(after["reader"] == before["reader"], "the reader row is kept")
        check(enrichment(person)["verdict"] == "human", enrichment(person))
        check("the hits after it show it" in inst.daemon_log(), "no log line for the change")
        # and reclassify, with every later hit, agrees: nothing left to change
        p = inst.run("reclassify", "--dry-run")
        check(" 0 changed" in p.stdout, p.stdout)

    T.run(kept_context_sees_new_events)
    T.run(later_hits_decide_earlier_ones_again)

    # A flood on one message, committed before the daemon starts so that its
    # pages are full: a verdict sees the first ENRICH_OTHERS_MAX events of the
    # message, so once a page's hits are past them deciding the earlier hits
    # again changes nothing, and the daemon does not (before, each of the
    # flood's pages decided ENRICH_REVISIT_MAX rows again: 11,520 here).
    inst.close()
    inst = Instance({"privacy.truncate": "no", "geo.asn_db": ASN_DB, "geo.country_db": COUNTRY_DB})
    m7 = inst.add_message(["heidi@example.org"], subject="flood")
    FLOOD_HITS = 6000  # 24 pages of ENRICH_EVENTS_PAGE (256), all within 30 s
    t0 = time.time() - 10
    with inst.db() as c:
        sql = ("INSERT INTO events (time_us, kind, method, message, recipient, item, client, "
               "user_agent) VALUES (?, 'open', 'GET', ?, 1, 0, ?, ?)")
        params = [(int((t0 + i / 1000) * 1e6), db_id(m7["id"]), "81.2.69.180", EDGE_UA)
                  for i in range(FLOOD_HITS)]
        if inst.pg_url:  # one statement: thousands of psql runs take minutes
            c.insert_many(sql, params)
        else:
            c.executemany(sql, params)
    inst.serve()

    def flood_revisit_stops_past_the_context():
        wait_enriched(timeout=120)
        inst.stop()
        log = inst.daemon_log()
        m = re.search(r"enrich: (\d+) hits enriched, \d+ not enrichable, \d+ changed after later "
                      r"hits \((\d+) decided again\)", log)
        check(m is not None, "no enrichment summary in the log")
        check(int(m.group(1)) == FLOOD_HITS, m.group(0))
        # Pages 1-8 hold the first 2,000 events: 256 + 6 * 512 rows at most
        # (ENRICH_REVISIT_MAX 512 per page), and none after them.
        check(int(m.group(2)) <= 256 + 6 * 512, m.group(0))

    T.run(flood_revisit_stops_past_the_context)
finally:
    if T.failed:
        print(inst.daemon_log()[-3000:])
    inst.close()
T.finish()
