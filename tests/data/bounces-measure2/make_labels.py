#!/usr/bin/env python3
"""make_labels.py: writes labels.jsonl for tests/data/bounces-measure2 from the test
scripts of Mail::DeliveryStatus::BounceParser (github.com/rjbs/Mail-DeliveryStatus-BounceParser,
t/*.t), and copies the labelled corpus files here. The labels are the source's own:
the `std_reason` each test expects (user_unknown, user_disabled, over_quota,
domain_error, spam, message_too_large) and, where the test names them, the bounced
addresses. Nothing here is homing's opinion; the script was run, and its output
committed, before any rule of lib/report changed in the round that added it.

    python3 make_labels.py /path/to/Mail-DeliveryStatus-BounceParser
"""
import glob
import json
import os
import re
import shutil
import sys

src = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
t = os.path.join(src, "t")
rows = {}   # file -> {"std_reason", "addresses"}
negatives = []


def text(name):
    with open(os.path.join(t, name), encoding="utf-8", errors="replace") as f:
        return re.sub(r"(?m)^\s*#.*$", "", f.read())


def put(fn, reason, addrs=None):
    if reason in (None, "unknown"):
        return
    rows[fn] = {"std_reason": reason, "addresses": [a.lower() for a in (addrs or [])]}


# 1. check_report('t/corpus/NAME', ... std_reason => 'X' ..., addresses => [...])
for tf in sorted(glob.glob(os.path.join(t, "*.t"))):
    s = text(os.path.basename(tf))
    for m in re.finditer(r"check_report\(\s*['\"]t/corpus/([^'\"$]+)['\"](.*?)\);", s, re.S):
        body = m.group(2)
        r = re.search(r"std_reason\s*=>\s*'([a-z_]+)'", body)
        a = re.search(r"addresses\s*=>\s*\[([^\]]*)\]", body)
        addrs = re.findall(r"'([^']+@[^']+)'", a.group(1)) if a else []
        if re.search(r"is_bounce\s*=>\s*0", body):
            negatives.append(m.group(1))
        elif r:
            put(m.group(1), r.group(1), addrs)

# 2. globbed files with one expected reason per test script
for script, pat, reason in (("spam-rejection.t", "spam-rejection*.msg", "spam"),
                            ("quota.t", "quota*.msg", "over_quota"),
                            # the test's key is misspelt (std_reaons): the files are
                            # the test's message-too-large cases all the same
                            ("message-too-large.t", "message-too-large*.msg",
                             "message_too_large")):
    for p in sorted(glob.glob(os.path.join(t, "corpus", pat))):
        put(os.path.basename(p), reason)

# 3. the lists of various-unknown.t (user_unknown unless the entry says otherwise,
#    addresses recipient@example.net) and various-domain.t (domain_error)
s = text("various-unknown.t")
body = s[s.index("@files_and_responses"):s.index("while")]
for m in re.finditer(r'"([^"]+\.msg)"\s*=>\s*\{(.*?)\n\s*\},', body, re.S):
    r = re.search(r"std_reason\s*=>\s*'([a-z_]+)'", m.group(2))
    put(m.group(1), r.group(1) if r else "user_unknown", ["recipient@example.net"])
s = text("various-domain.t")
for m in re.finditer(r'"([^"]+\.msg)"\s*=>\s*\{(.*?)\}', s, re.S):
    rc = re.search(r'"recipient"\s*=>\s*\'([^\']+)\'', m.group(2))
    put(m.group(1), "domain_error", [rc.group(1)] if rc else [])

# 4. user-disabled.t and warnings.t
s = text("user-disabled.t")
for fn in re.findall(r'"([^"]+\.msg)"', s):
    put(fn, "user_disabled")
s = text("warnings.t")
for block in re.split(r"(?=readfile\('t/corpus/)", s)[1:]:
    n = re.match(r"readfile\('t/corpus/([^']+)'\)", block).group(1)
    r = re.search(r"is\(\$std_reason\d*,\s*\"([a-z_]+)\"", block)
    if r:
        put(n, r.group(1))
for fn in re.findall(r"check_one\('t/corpus/([^']+)'\)", text("non-bounce.t")):
    negatives.append(fn)

os.makedirs(os.path.join(here, "eml"), exist_ok=True)
with open(os.path.join(here, "labels.jsonl"), "w") as out:
    for fn in sorted(rows):
        shutil.copyfile(os.path.join(t, "corpus", fn), os.path.join(here, "eml", fn))
        out.write(json.dumps(dict(file="eml/" + fn, **rows[fn])) + "\n")
with open(os.path.join(here, "negatives.txt"), "w") as out:
    for fn in sorted(set(negatives)):
        shutil.copyfile(os.path.join(t, "corpus", fn), os.path.join(here, "eml", fn))
        out.write("eml/" + fn + "\n")
print("%d labelled, %d negatives" % (len(rows), len(set(negatives))))
