#!/usr/bin/env python3
"""make_measure_e.py: appends part E of measure.tsv, from two sources none of
the rules (nor parts A to D) was written from:

- browscap's test fixtures (MIT; browscap/browscap 6c0c9208, 2024-03-27,
  tests/issues/*.php): each entry's User-Agent and its own "Browser_Type".
  "Bot" and "Bot/Crawler" (crawlers, link-preview fetchers of chat and
  social apps, monitors, libraries) follow a link: expected probe; "Feed
  Reader", "Offline Browser" and "Tool" too (they fetch by schedule or by
  program); "Email Client" (mail clients, mail apps) is a person's open:
  expected human; "Application" (apps' own User-Agents and in-app browsers)
  is a person's click: human, every 5th distinct one; "Browser" a person's
  click: human, every 25th distinct one. "Multimedia Player", "unknown" and
  entries without a type are left out.
- WhichBrowser's test fixtures (MIT; WhichBrowser/Parser-PHP 581d614d,
  2024-04-17, tests/data/*/*.yaml): an entry whose result's device type is
  "bot" follows a link: probe (bots/disabled.yaml, where bot detection is
  switched off, is left out); browser type "app:email" is a person's open:
  human; "app:feedreader" a scheduled fetch: probe; other apps ("app",
  "app:chat", "app:social", "app:news", "app:search", "app:shopping",
  "app:editor"; in-app browsers and apps' own User-Agents) and every entry
  of mobile/carrier-*.yaml (Japanese carriers' feature phones) a person's
  click: human; media players, games, downloads and antivirus apps are left
  out; every other entry (a browser on a person's device) a person's click:
  human, every 5th distinct one.

Only User-Agents that are in no earlier part nor in the tuned split are taken,
each once (browscap first). Written on 2026-12-07 AFTER rules version 4 and
BEFORE rules version 5, with these labels decided before the first run; no
rule is written from its lines (docs/verdicts.md). The network is neutral (a
consumer address, AS7922 Comcast); a person's hit carries Accept-Language; one
row a minute.

Usage (source root):
  python3 tests/data/hits/make_measure_e.py BROWSCAP_TESTS_ISSUES_DIR WHICHBROWSER_TESTS_DATA_DIR
"""
import glob
import os
import re
import sys

import yaml

UA_MAX = 511
here = os.path.dirname(os.path.abspath(__file__))

seen = set()
for name in ("measure.tsv", "tune.tsv", "hits.tsv"):
    for line in open(os.path.join(here, name)):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) > 10:
            seen.add(f[10])

rows = []


def add(label, i, expected, kind, ua, what, lic):
    ua = str(ua).strip()[:UA_MAX]
    if "\t" in ua or "\n" in ua or "\r" in ua or not ua or ua in seen:
        return
    seen.add(ua)
    n = len(rows)
    msg = 5000 + n // 100
    lang = "en-US,en;q=0.9" if expected == "human" else ""
    rows.append([f"e-{label}-{i}", expected, str(msg), str(n % 100 + 1),
                 "0" if kind == "open" else "1", kind, "GET", str(9000 + (n % 100) * 60),
                 "73.162.40.17", lang, ua,
                 f"{what} ({lic}); net: AS7922 Comcast (neutral)"])


# browscap: PHP arrays of 'id' => ['ua' => '...', 'properties' => [...]]
BC = "MIT, browscap/browscap 6c0c9208"
ENTRY = re.compile(r"'([^']+)' => \[\s*'ua' => '((?:[^'\\]|\\.)*)',\s*'properties' => \[(.*?)\n        \],", re.S)
PROP = re.compile(r"'(\w+)' => '((?:[^'\\]|\\.)*)'")
count = {"Application": 0, "Browser": 0}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.php"))):
    base = os.path.basename(path)[:-4]
    for m in ENTRY.finditer(open(path, encoding="utf-8").read()):
        ua = re.sub(r"\\(.)", r"\1", m.group(2))
        props = dict(PROP.findall(m.group(3)))
        bt, browser = props.get("Browser_Type"), props.get("Browser", "")
        what = f'browscap tests/issues/{base}.php {m.group(1)}: {bt} "{browser}"'
        if bt in ("Bot", "Bot/Crawler", "Feed Reader", "Offline Browser", "Tool"):
            add("bc", m.group(1), "probe", "click", ua, what, BC)
        elif bt == "Email Client":
            add("bc", m.group(1), "human", "open", ua, what, BC)
        elif bt in count and ua not in seen:
            count[bt] += 1
            if count[bt] % (5 if bt == "Application" else 25) == 1:
                add("bc", m.group(1), "human", "click", ua, what, BC)

# WhichBrowser
WB = "MIT, WhichBrowser/Parser-PHP 581d614d"
HUMAN_APPS = ("app", "app:chat", "app:social", "app:news", "app:search", "app:shopping", "app:editor")
other = 0
for path in sorted(glob.glob(os.path.join(sys.argv[2], "*", "*.yaml"))):
    rel = os.path.relpath(path, sys.argv[2])
    if rel == os.path.join("bots", "disabled.yaml"):
        continue
    label = "wb-" + rel[:-5].replace("/", "-")
    for i, e in enumerate(yaml.load(open(path), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or [], 1):
        h = e.get("headers")
        if isinstance(h, str):
            ua = h[len("User-Agent: "):] if h.startswith("User-Agent: ") else ""
        else:
            ua = (h or {}).get("User-Agent", "")
        r = e.get("result") or {}
        dev = str((r.get("device") or {}).get("type", ""))
        bt = str((r.get("browser") or {}).get("type", ""))
        what = f'WhichBrowser tests/data/{rel}: "{e.get("readable", "")}"'
        if dev == "bot":
            add(label, i, "probe", "click", ua, what, WB)
        elif bt == "app:email":
            add(label, i, "human", "open", ua, what, WB)
        elif bt == "app:feedreader":
            add(label, i, "probe", "click", ua, what, WB)
        elif bt in HUMAN_APPS or os.path.basename(rel).startswith("carrier-"):
            add(label, i, "human", "click", ua, what, WB)
        elif bt.startswith("app"):
            continue
        elif ua and ua not in seen:
            other += 1
            if other % 5 == 1:
                add(label, i, "human", "click", ua, what, WB)

path = os.path.join(here, "measure.tsv")
text = open(path).read()
mark = "# ---- part E"
if mark in text:
    text = text[:text.index(mark)]
with open(path, "w") as f:
    f.write(text)
    f.write("# ---- part E: browscap's and WhichBrowser's fixtures, written after rules version 4, "
            "measured once before rules version 5 and once after ----\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
print(len(rows), "rows")
