#!/usr/bin/env python3
"""make_measure_dd.py: appends part C of measure.tsv: the User-Agents of
matomo-org/device-detector's test fixtures (LGPL-3.0, commit 3856a286,
2026-08-19): Tests/fixtures/bots.yml, desktop.yml and smartphone.yml.

Written on 2026-12-07 AFTER rules version 3 (commit 5d5fe77) and before
running the rules on it; no rule is changed for its misses (docs/verdicts.md).
The labels follow the fixture's own classification, decided before the run:
- bots.yml: a bot whose name says it is a mail image proxy ("Mail Proxy",
  "Image Proxy", "Email Proxy") fetches the pixel hours after delivery:
  expected proxy-open; category "Security Checker" is left out (web
  vulnerability scanners: neither a mail scanner nor plain automation); every
  other bot follows a link: expected probe.
- desktop.yml, smartphone.yml: client type "browser" or "mobile app" is a
  person's click with Accept-Language; "pim" (a mail client) a person's open:
  expected human; "library" and "feed reader" follow a link: expected probe;
  other types and entries without a client are left out.
The network is neutral (a consumer address, AS7922 Comcast); one row a minute.

Usage (source root): python3 tests/data/hits/make_measure_dd.py BOTS.yml DESKTOP.yml SMARTPHONE.yml
"""
import os
import sys

import yaml

UA_MAX = 511
here = os.path.dirname(os.path.abspath(__file__))


def load(path):
    return yaml.load(open(path), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []


rows = []


def add(label, i, expected, kind, lang, ua, what):
    ua = str(ua)
    if "\t" in ua or "\n" in ua or not ua.strip():
        return
    n = len(rows)
    msg = 3000 + n // 100
    rows.append([f"dd-{label}-{i}", expected, str(msg), str(n % 100 + 1),
                 "0" if kind == "open" else "1", kind, "GET", str(9000 + (n % 100) * 60),
                 "73.162.40.17", lang, ua[:UA_MAX],
                 f"device-detector Tests/fixtures/{label}.yml: {what} (LGPL-3.0, matomo-org/device-detector "
                 f"3856a286); net: AS7922 Comcast (neutral)"])


for i, e in enumerate(load(sys.argv[1]), 1):
    bot = e.get("bot") or {}
    name, cat = str(bot.get("name", "")), str(bot.get("category") or "")
    if cat == "Security Checker":
        continue
    if any(k in name for k in ("Mail Proxy", "Image Proxy", "Email Proxy")):
        add("bots", i, "proxy-open", "open", "", e["user_agent"], f'bot "{name}"')
    else:
        add("bots", i, "probe", "click", "", e["user_agent"], f'bot "{name}" ({cat or "no category"})')
for label, path in (("desktop", sys.argv[2]), ("smartphone", sys.argv[3])):
    for i, e in enumerate(load(path), 1):
        client = e.get("client") or {}
        t, name = client.get("type"), str(client.get("name", ""))
        if t in ("browser", "mobile app"):
            add(label, i, "human", "click", "en-US,en;q=0.9", e["user_agent"], f'{t} "{name}"')
        elif t == "pim":
            add(label, i, "human", "open", "en-US,en;q=0.9", e["user_agent"], f'mail client "{name}"')
        elif t in ("library", "feed reader"):
            add(label, i, "probe", "click", "", e["user_agent"], f'{t} "{name}"')

path = os.path.join(here, "measure.tsv")
text = open(path).read()
mark = "# ---- part C"
if mark in text:
    text = text[:text.index(mark)]
with open(path, "w") as f:
    f.write(text)
    f.write("# ---- part C: device-detector's fixtures, written after rules version 3, never tuned on ----\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
print(len(rows), "rows")
