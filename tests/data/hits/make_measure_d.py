#!/usr/bin/env python3
"""make_measure_d.py: appends part D of measure.tsv, from three sources none of
the rules was written against:

- woothee's testsets (Apache-2.0; npm woothee 1.11.1, woothee/testsets/*.yaml):
  category "crawler" and "misc" (feed readers, HTTP libraries, desktop
  search tools) follow a link: expected probe; "pc", "smartphone",
  "mobilephone" and "appliance" (browsers of computers, phones, feature
  phones, consoles and TVs) are a person's click: expected human; blank and
  UNKNOWN entries are left out.
- Intoli's user-agents (BSD-2-Clause; npm user-agents 2.1.198,
  dist/user-agents.json): User-Agents of real browsers seen on the web; every
  tenth distinct one (in the file's order) as a person's click: expected human.
- ua-parser-js's test fixtures (AGPL-3.0 at this commit; faisalman/ua-parser-js
  18d39b53, test/data/ua/): only the User-Agent strings and the fixture's own
  type are taken. browser/browser-all.json (browsers and in-app browsers) and
  extension/inapp.json are a person's click: human; extension/email.json
  (mail clients) a person's open: human; extension/crawler.json,
  fetcher.json, cli.json and library.json follow a link: probe.
  mediaplayer, vehicle and extra-devices are left out.

Written on 2026-12-07 AFTER rules version 3 and BEFORE rules version 4, with
these labels decided before the first run; no rule is written from its lines
(docs/verdicts.md). The network is neutral (a consumer address, AS7922 Comcast);
one row a minute.

Usage (source root):
  python3 tests/data/hits/make_measure_d.py WOOTHEE_TESTSETS_DIR USER_AGENTS_JSON UAPARSERJS_TEST_DATA_UA_DIR
(make_measure_dd.py rewrites from part C on: run this one after it.)
"""
import glob
import json
import os
import sys

import yaml

UA_MAX = 511
here = os.path.dirname(os.path.abspath(__file__))
rows = []


def add(label, i, expected, kind, ua, what, lic):
    ua = str(ua).strip()
    if "\t" in ua or "\n" in ua or "\r" in ua or not ua:
        return
    n = len(rows)
    msg = 4000 + n // 100
    lang = "en-US,en;q=0.9" if expected == "human" else ""
    rows.append([f"d-{label}-{i}", expected, str(msg), str(n % 100 + 1),
                 "0" if kind == "open" else "1", kind, "GET", str(9000 + (n % 100) * 60),
                 "73.162.40.17", lang, ua[:UA_MAX],
                 f"{what} ({lic}); net: AS7922 Comcast (neutral)"])


# woothee
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    base = os.path.basename(path)[:-5]
    for i, e in enumerate(yaml.safe_load(open(path)) or [], 1):
        cat, name = str(e.get("category", "")), str(e.get("name", ""))
        if cat in ("crawler", "misc"):
            add(f"woothee-{base}", i, "probe", "click", e.get("target", ""),
                f'woothee testsets/{base}.yaml: {cat} "{name}"', "Apache-2.0, npm woothee 1.11.1")
        elif cat in ("pc", "smartphone", "mobilephone", "appliance"):
            add(f"woothee-{base}", i, "human", "click", e.get("target", ""),
                f'woothee testsets/{base}.yaml: {cat} "{name}"', "Apache-2.0, npm woothee 1.11.1")

# Intoli user-agents
seen, distinct = set(), []
for e in json.load(open(sys.argv[2])):
    if e["userAgent"] not in seen:
        seen.add(e["userAgent"])
        distinct.append(e)
for i, e in enumerate(distinct[::10], 1):
    add("intoli", i, "human", "click", e["userAgent"],
        f'Intoli user-agents dist/user-agents.json: {e.get("deviceCategory")} browser',
        "BSD-2-Clause, npm user-agents 2.1.198")

# ua-parser-js
LIC = "AGPL-3.0, faisalman/ua-parser-js 18d39b53"
for rel, expected, kind in (("browser/browser-all.json", "human", "click"),
                            ("extension/inapp.json", "human", "click"),
                            ("extension/email.json", "human", "open"),
                            ("extension/crawler.json", "probe", "click"),
                            ("extension/fetcher.json", "probe", "click"),
                            ("extension/cli.json", "probe", "click"),
                            ("extension/library.json", "probe", "click")):
    label = "uapjs-" + os.path.basename(rel)[:-5]
    for i, e in enumerate(json.load(open(os.path.join(sys.argv[3], rel))), 1):
        add(label, i, expected, kind, e["ua"],
            f'ua-parser-js test/data/ua/{rel}: "{e.get("desc", "")}"', LIC)

path = os.path.join(here, "measure.tsv")
text = open(path).read()
mark = "# ---- part D"
if mark in text:
    text = text[:text.index(mark)]
with open(path, "w") as f:
    f.write(text)
    f.write("# ---- part D: woothee, Intoli user-agents and ua-parser-js fixtures, written after "
            "rules version 3, measured blind once after rules version 4 ----\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
print(len(rows), "rows")
