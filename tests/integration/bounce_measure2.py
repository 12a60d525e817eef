#!/usr/bin/env python3
"""bounce_measure2.py: scores `homing bounce --json` on the second measure-only bounce
corpus (tests/data/bounces-measure2: Mail::DeliveryStatus::BounceParser's test bounces,
labelled with that project's own `std_reason` by make_labels.py there). Nothing is
tuned on it.

BounceParser's reasons are coarser than Sisimai's taxonomy, so homing's reason is
mapped into BounceParser's classes by CLASSES below, written from the meaning
BounceParser's documentation and its _std_reason patterns give each class (fixed
before homing ran on the corpus): a row counts when homing's reason is one of its
class's reasons. BounceParser calls a suspended, disabled or inactive mailbox
"user_unknown" (and 5.2.1 "user_disabled"): both are one class here; Sisimai's
convention files a "user unknown" with no sign of RCPT as `filtered`, so filtered
belongs to it as well as to spam (a content filter's refusal).

Prints recipients (a bounce recipient found: the source's addresses where its test
names them, else any), reason class accuracy overall and per class, and the negatives
(non-bounces per the source) that gave a bounce recipient. -v lists the misses.

    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure2.py
"""
import json
import os
import subprocess
import sys

CLASSES = {
    "user_unknown": {"userunknown", "hasmoved", "suspend", "filtered"},
    "user_disabled": {"userunknown", "hasmoved", "suspend", "filtered"},
    "domain_error": {"hostunknown", "notaccept", "norelaying", "networkerror", "expired"},
    "over_quota": {"mailboxfull", "exceedlimit"},
    "spam": {"spamdetected", "blocked", "badreputation", "policyviolation", "filtered"},
    "message_too_large": {"mesgtoobig", "exceedlimit"},
}


def base_dir():
    return os.path.join(os.environ["HOMING_SRC"], "tests", "data", "bounces-measure2")


def run(binary, base, names):
    p = subprocess.run([binary, "bounce", "--json"] + [os.path.join(base, n) for n in names],
                       capture_output=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit("homing bounce exited %d: %s" %
                         (p.returncode, p.stderr.decode(errors="replace")))
    lines = p.stdout.decode("utf-8").splitlines()
    if len(lines) != len(names):
        raise SystemExit("expected %d lines, got %d" % (len(names), len(lines)))
    return {n: json.loads(l) for n, l in zip(names, lines)}


def bounce_rcpts(res):
    if res.get("kind") not in ("dsn", "bounce"):
        return []
    return [r for r in res.get("recipients", []) if r.get("action") != "delivered"]


def measure(binary, verbose=False):
    base = base_dir()
    rows = [json.loads(l) for l in open(os.path.join(base, "labels.jsonl"))]
    res = run(binary, base, [r["file"] for r in rows])
    tot = {"recipients": [0, 0], "reason": [0, 0]}
    per = {}
    wrong = []
    for row in rows:
        rc = bounce_rcpts(res[row["file"]])
        got = None
        if row["addresses"]:
            for r in rc:
                if {(r.get("address") or "").lower(),
                        (r.get("original_recipient") or "").lower()} & set(row["addresses"]):
                    got = r
                    break
        elif rc:
            got = rc[0]
        ok_r = got is not None and got.get("reason") in CLASSES[row["std_reason"]]
        tot["recipients"][0] += got is not None
        tot["recipients"][1] += 1
        tot["reason"][0] += ok_r
        tot["reason"][1] += 1
        c = per.setdefault(row["std_reason"], [0, 0])
        c[0] += ok_r
        c[1] += 1
        if not ok_r:
            wrong.append((row, got))
    negs = [l.strip() for l in open(os.path.join(base, "negatives.txt")) if l.strip()]
    nres = run(binary, base, negs)
    neg_bad = [n for n in negs if bounce_rcpts(nres[n])]
    if verbose:
        for row, got in wrong:
            print("WRONG %s want %s: got %s" % (row["file"], row["std_reason"],
                                                 got.get("reason") if got else "NOT FOUND"))
    out = {k: (a / b if b else 1.0, a, b) for k, (a, b) in tot.items()}
    out["per_class"] = per
    out["negatives_wrong"] = neg_bad
    return out


def report(m):
    for k in ("recipients", "reason"):
        v, a, b = m[k]
        print("measure2 %-11s %.4f (%d/%d)" % (k, v, a, b))
    for c, (a, b) in sorted(m["per_class"].items()):
        print("measure2 %-17s %d/%d" % (c, a, b))
    print("measure2 negatives giving bounce recipients: %s" % (m["negatives_wrong"] or "none"))


if __name__ == "__main__":
    report(measure(os.environ["HOMING_BIN"], "-v" in sys.argv))
