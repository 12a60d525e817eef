#!/usr/bin/env python3
"""make_measure_isbot.py: appends part B of measure.tsv: every User-Agent of
isbot's test fixtures (github.com/omrilotan/isbot, Unlicense, commit 344052da,
2026-07-20): fixtures/crawlers.yml (bots: expected probe) and
fixtures/browsers.yml (people's browsers and apps: expected human).

Written on 2026-12-07 AFTER rules version 2 (commit 31fe569) and before
looking at how the rules do on it; no rule is changed for its misses
(docs/verdicts.md records the order). The network is neutral on purpose
(a consumer ISP address, AS7922 Comcast) so that the User-Agent decides:
a bot's link fetch as a click with no open, 2.5 h after delivery, without
Accept-Language; a person's click at the same time with Accept-Language.
One row a minute, so that no two rows make a loop.

Usage (source root): python3 tests/data/hits/make_measure_isbot.py CRAWLERS.yml BROWSERS.yml
"""
import os
import sys

import yaml

UA_MAX = 511  # HOMING_EVENT_UA_MAX - 1: what the daemon keeps of a User-Agent


def uas(path):
    out = []
    for name, v in yaml.safe_load(open(path)).items():
        for ua in v or []:
            ua = str(ua)
            if "\t" in ua or "\n" in ua or not ua.strip():
                continue
            out.append((str(name), ua[:UA_MAX]))
    return out


here = os.path.dirname(os.path.abspath(__file__))
rows = []
per_message = 100
for label, path, expected, lang in (("crawler", sys.argv[1], "probe", ""),
                                    ("browser", sys.argv[2], "human", "en-US,en;q=0.9")):
    for i, (name, ua) in enumerate(uas(path)):
        n = len(rows)
        # browsers.yml keeps, under a section of its own, bots that isbot
        # chooses not to flag ("ZZZ Insignificat bots - These bots have very
        # low appearance rate..."): bots by that title, so expected probe.
        # (A labelling fix made after the first run; no rule changed.)
        exp, lng = (("probe", "") if name.startswith("ZZZ Insignificat bots")
                    else (expected, lang))
        msg = 1000 + n // per_message
        rcpt = n % per_message + 1
        t = 9000 + (n % per_message) * 60
        src = (f"isbot fixtures/{label}s.yml \"{name}\" (Unlicense, omrilotan/isbot 344052da); "
               f"net: AS7922 Comcast (neutral)")
        rows.append([f"isbot-{label}-{i + 1}", exp, str(msg), str(rcpt), "1", "click", "GET",
                     str(t), "73.162.40.17", lng, ua, src])
path = os.path.join(here, "measure.tsv")
text = open(path).read()
mark = "# ---- part B"
if mark in text:  # rewrite part B, keep part A as written
    text = text[:text.index(mark)]
with open(path, "w") as f:
    f.write(text)
    f.write("# ---- part B: isbot's fixtures, written after rules version 2, never tuned on ----\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
print(len(rows), "rows")
