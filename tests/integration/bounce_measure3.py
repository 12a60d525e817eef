#!/usr/bin/env python3
"""bounce_measure3.py: scores `homing bounce --json` on the third measure-only bounce
corpus (tests/data/bounces-measure3: test bounces of flanker, the mail gem,
MailBounceDetector, MediaWiki BounceHandler, MimeKit and CwsMailBounceHandler, labelled
from the taxonomy before homing ran on them; see its README). Nothing is tuned on it.

Scored like bounce_measure.py (the same row matching: the label's recipient or one of
its `also` names against a parser row's address or original recipient). Prints totals
only (recipients, reason, hard/soft, and the negatives that gave a bounce recipient), so
that a run does not show which rows miss; -v lists the wrong rows.

Used by test_bounce_corpus.py (MEASURE3_FLOORS there) and runnable alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure3.py
"""
import json
import os
import sys

import bounce_measure


def base_dir():
    return os.path.join(os.environ["HOMING_SRC"], "tests", "data", "bounces-measure3")


def measure(binary, verbose=False):
    base = base_dir()
    rows = [json.loads(l) for l in open(os.path.join(base, "labels.jsonl"))]
    names = sorted(set(r["file"] for r in rows))
    res = bounce_measure.run(binary, base, names)
    tot = {"recipients": [0, 0], "reason": [0, 0], "hard": [0, 0]}
    wrong = []
    for row in rows:
        got = bounce_measure.find(row, res[row["file"]])
        ok_r = got is not None and got["reason"] == row["reason"]
        ok_h = got is not None and bool(got["hard"]) == bool(row["hard"])
        for k, ok in (("recipients", got is not None), ("reason", ok_r), ("hard", ok_h)):
            tot[k][1] += 1
            tot[k][0] += 1 if ok else 0
        if not ok_r or not ok_h:
            wrong.append((row, got))
    negs = [l.strip() for l in open(os.path.join(base, "negatives.txt")) if l.strip()]
    nres = bounce_measure.run(binary, base, negs)
    neg_bad = [n for n, o in nres.items() if o["kind"] in ("dsn", "bounce") and o["recipients"]]
    if verbose:
        for row, got in wrong:
            g = "NOT FOUND %s" % [r.get("address") for r in res[row["file"]]["recipients"]]
            if got is not None:
                g = "%s %s %s %s | %s" % (got["reason"], got["status"], got["reply_code"],
                                          got["hard"], (got.get("diagnostic") or "")[:140])
            print("WRONG %s %s want %s: got %s" % (row["file"], row["recipient"], row["reason"], g))
    out = {k: (a / b if b else 1.0, a, b) for k, (a, b) in tot.items()}
    out["negatives_wrong"] = neg_bad
    return out


def report(m):
    for k in ("recipients", "reason", "hard"):
        v, a, b = m[k]
        print("measure3 %-10s %.4f (%d/%d)" % (k, v, a, b))
    print("measure3 negatives giving bounce recipients: %s" % (m["negatives_wrong"] or "none"))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    report(measure(os.environ["HOMING_BIN"], "-v" in sys.argv))
