#!/usr/bin/env python3
"""make_measure_f.py: appends part F of measure.tsv, from four projects' test
fixtures none of the rules (nor parts A to E) was written from:

- bowser (MIT; lancedikson/bowser f0941148, 2020-09-12,
  test/acceptance/useragentstrings.yml): each entry's User-Agent and its own
  spec. platform.type "bot" follows a link: expected probe; so do the
  headless engines bowser lists among browsers ("PhantomJS", "SlimerJS":
  automation, issue #16); every other entry (desktop, mobile, tablet, tv) is
  a person's click: human.
- detect-browser (MIT; DamonOehlman/detect-browser 546e6f13, 2021-12-05,
  test/logic.js): each assertAgentString's User-Agent and its expected type.
  "bot" and "bot-device" follow a link: probe; "browser" is a person's click:
  human, except the names "phantomjs" and "curl" (automation and a tool:
  probe). Other types (react-native, node) are left out.
- platform.js (MIT; bestiejs/platform.js 44978b28, 2020-07-04, test/test.js):
  every entry with a 'ua' is a browser on a person's device by platform.js's
  own description: a person's click, human; those its description calls
  "(headless)" or PhantomJS: probe.
- express-useragent (MIT; biggora/express-useragent 015f88b9, 2026-07-29,
  tests/legacy/*.js and tests/bots.test.ts): the cases of the bots files
  (bots.test.js, bots.test.ts) follow a link: probe; the cases of the other
  files (browsers, phones, tablets, iOS, Silk, smart TVs, WeChat, Electron,
  native mobile apps) are a person's click: human, unless the case asserts
  isBot true (then probe).

Left out on purpose: uap-core's tests/test_ua.yaml and test_device.yaml, and
3rd-Eden/useragent's fixtures (ua-parser's test files): homing parses
User-Agents with uap-core's regexes.yaml, so those files test the very
regexes homing runs and would not be a blind measure.

Only User-Agents that are in no earlier part nor in the tuned split are taken,
each once (in the order above). Written on 2026-12-07 AFTER rules version 5 and
BEFORE rules version 6, with these labels decided before the first run; no
rule is written from its lines (docs/verdicts.md). The network is neutral (a
consumer address, AS7922 Comcast); a person's hit carries Accept-Language; one
row a minute.

Usage (source root; each argument a file as it is at the commit above):
  python3 tests/data/hits/make_measure_f.py BOWSER_useragentstrings.yml \\
      DETECT_BROWSER_test_logic.js PLATFORM_test_test.js EXPRESS_UA_TESTS_DIR
where EXPRESS_UA_TESTS_DIR holds tests/legacy/*.js and tests/bots.test.ts.
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
        if line.startswith("# ---- part F"):
            break  # part F itself, when rebuilt
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) > 10:
            seen.add(f[10])

rows = []


def add(label, i, expected, ua, what, lic):
    ua = str(ua).strip()[:UA_MAX]
    if "\t" in ua or "\n" in ua or "\r" in ua or not ua or ua in seen:
        return
    seen.add(ua)
    n = len(rows)
    msg = 6000 + n // 100
    lang = "en-US,en;q=0.9" if expected == "human" else ""
    rows.append([f"fx-{label}-{i}", expected, str(msg), str(n % 100 + 1),
                 "1", "click", "GET", str(9000 + (n % 100) * 60),
                 "73.162.40.17", lang, ua,
                 f"{what} ({lic}); net: AS7922 Comcast (neutral)"])


def unjs(s):
    return re.sub(r"\\(.)", r"\1", s)


# bowser
BW = "MIT, lancedikson/bowser f0941148"
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
for browser, entries in doc.items():
    for i, e in enumerate(entries or [], 1):
        spec = e.get("spec") or {}
        ptype = str((spec.get("platform") or {}).get("type", ""))
        what = f'bowser useragentstrings.yml {browser} #{i}: platform {ptype or "-"}'
        bot = ptype == "bot" or browser in ("PhantomJS", "SlimerJS")
        add("bw-" + re.sub(r"\W+", "", browser), i, "probe" if bot else "human", e.get("ua", ""), what, BW)

# detect-browser
DB = "MIT, DamonOehlman/detect-browser 546e6f13"
text = open(sys.argv[2], encoding="utf-8").read()
CALL = re.compile(r"assertAgentString\(\s*t,\s*(['\"])((?:(?!\1)[^\\]|\\.)*)\1,\s*\{\s*type:\s*'([\w-]+)'(?:,\s*name:\s*'([\w-]+)')?", re.S)
for i, m in enumerate(CALL.finditer(text), 1):
    ua, typ, name = unjs(m.group(2)), m.group(3), m.group(4) or ""
    what = f"detect-browser test/logic.js #{i}: type {typ} name {name or '-'}"
    if typ in ("bot", "bot-device") or name in ("phantomjs", "curl"):
        add("db", i, "probe", ua, what, DB)
    elif typ == "browser":
        add("db", i, "human", ua, what, DB)

# platform.js
PJ = "MIT, bestiejs/platform.js 44978b28"
text = open(sys.argv[3], encoding="utf-8").read()
ENTRY = re.compile(r"\n +'((?:[^'\\]|\\.)*)': \{\s*'ua': '((?:[^'\\]|\\.)*)'", re.S)
for i, m in enumerate(ENTRY.finditer(text), 1):
    desc, ua = unjs(m.group(1)), unjs(m.group(2))
    what = f'platform.js test/test.js: "{desc}"'
    bot = "(headless)" in desc or "PhantomJS" in desc
    add("pj", i, "probe" if bot else "human", ua, what, PJ)

# express-useragent: a case's User-Agent is one string literal or several
# joined by '+'
LIT = r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
LIT_G = r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\""
EU = "MIT, biggora/express-useragent 015f88b9"
d = sys.argv[4]
for path in sorted(glob.glob(os.path.join(d, "*.js"))) + sorted(glob.glob(os.path.join(d, "*.ts"))):
    base = os.path.basename(path)
    text = open(path, encoding="utf-8").read()
    botfile = base.startswith("bots.")
    if base.endswith(".ts"):
        blocks = re.split(r"\n  \{\n", text)[1:]
        SRC = re.compile(r"source:\s*((?:" + LIT + r"\s*\+?\s*)+)")
    else:
        blocks = re.split(r"\nexports\[", text)[1:]
        SRC = re.compile(r"(?:var (?:s|source)\s*=|\.parse\()\s*((?:" + LIT + r"\s*\+?\s*)+)")
    for i, b in enumerate(blocks, 1):
        m = SRC.search(b)
        if not m:
            continue
        ua = "".join(unjs(x[0] or x[1]) for x in re.findall(LIT_G, m.group(1)))
        isbot = botfile or re.search(r"ok\(\s*\w+\.isBot\b|isBot:\s*(true|'[^']+')", b)
        what = f"express-useragent tests/{base} case {i}"
        add("eu-" + base.split(".")[0], i, "probe" if isbot else "human", ua, what, EU)

path = os.path.join(here, "measure.tsv")
text = open(path).read()
mark = "# ---- part F"
if mark in text:
    text = text[:text.index(mark)]
with open(path, "w") as f:
    f.write(text)
    f.write("# ---- part F: bowser's, detect-browser's, platform.js's and express-useragent's fixtures, "
            "written after rules version 5, measured once before rules version 6 and once after ----\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
from collections import Counter
print(len(rows), "rows", dict(Counter((r[0].split("-")[1], r[1]) for r in rows)))
