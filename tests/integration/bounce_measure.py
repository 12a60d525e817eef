#!/usr/bin/env python3
"""bounce_measure.py: scores `homing bounce --json` on the measure-only bounce corpus
(tests/data/bounces-measure: other open-source projects' test bounces, labelled by hand
before homing ran on them; see its README). Nothing is tuned on it: the figures say how
the reason rules generalise to bounces they were not written from.

Prints recipients, reason and hard/soft accuracy over all rows, the same per source, and
reason accuracy per distinct wording (rows that share source, reason label and the
first 60 characters of the diagnostic with its addresses blanked count once, so thirty
copies of one Hotmail bounce weigh as one), and the misses as label -> homing pairs.
With -v, every wrong row.

The later measure-only corpora (tests/data/bounces-measure3 and on) share one scorer,
scorer() below: totals only, from their labels.jsonl and negatives.txt. The second
(tests/data/bounces-measure2) has its own, bounce_measure2.py.

Used by test_bounce_corpus.py (floors there) and runnable alone, the first corpus:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure.py -v
and a later one by its name (tests/data/bounces-NAME), e.g. the eighth:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure.py measure8 -v
"""
import json
import os
import re
import subprocess
import sys

NEGATIVES = ("bounce_email/tt_1234241664.txt", "cfortune/unsubscribe.txt")


def measure_dir():
    return os.environ.get("HOMING_BOUNCE_MEASURE") or os.path.join(
        os.environ["HOMING_SRC"], "tests", "data", "bounces-measure")


def run(binary, base, names):
    out = {}
    if not names:  # a folder with no negatives: nothing to run
        return out
    paths = [os.path.join(base, n) for n in names]
    p = subprocess.run([binary, "bounce", "--json"] + paths, capture_output=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit("homing bounce exited %d: %s" %
                         (p.returncode, p.stderr.decode(errors="replace")))
    lines = p.stdout.decode("utf-8").splitlines()
    if len(lines) != len(names):
        raise SystemExit("expected %d lines, got %d" % (len(names), len(lines)))
    for n, line in zip(names, lines):
        out[n] = json.loads(line)
    return out


def find(row, res):
    want = [row["recipient"]] + row.get("also", [])
    for r in res.get("recipients", []):
        for k in ("address", "original_recipient"):
            if (r.get(k) or "").lower() in want:
                return r
    return None


def tally(rows, res):
    """Scores labelled rows against `homing bounce` results: the totals of recipients,
    reason and hard/soft ([right, all] each), the wrong rows as (row, got), and every
    row as (row, got, reason right, hard/soft right)."""
    tot = {"recipients": [0, 0], "reason": [0, 0], "hard": [0, 0]}
    wrong = []
    scored = []
    for row in rows:
        got = find(row, res[row["file"]])
        ok_r = got is not None and got["reason"] == row["reason"]
        ok_h = got is not None and bool(got["hard"]) == bool(row["hard"])
        for k, ok in (("recipients", got is not None), ("reason", ok_r), ("hard", ok_h)):
            tot[k][1] += 1
            tot[k][0] += 1 if ok else 0
        if not ok_r or not ok_h:
            wrong.append((row, got))
        scored.append((row, got, ok_r, ok_h))
    return tot, wrong, scored


def print_wrong(prefix, wrong, res):
    """Prints each wrong row (what homing gave, or the addresses it found instead)."""
    for row, got in wrong:
        g = "NOT FOUND %s" % [r.get("address") for r in res[row["file"]]["recipients"]]
        if got is not None:
            g = "%s %s %s %s | %s" % (got["reason"], got["status"], got["reply_code"],
                                      got["hard"], (got.get("diagnostic") or "")[:140])
        print("%sWRONG %s %s want %s: got %s" % (prefix, row["file"], row["recipient"],
                                                 row["reason"], g))


def score_dir(binary, base, name, verbose=False):
    """Scores the labelled rows of a measure-only folder laid out like
    tests/data/bounces-measure3 (labels.jsonl with file/recipient/also/reason/hard and
    negatives.txt): totals of recipients, reason and hard/soft, and the negatives that
    gave a bounce recipient. With verbose, prints each wrong row prefixed by name."""
    rows = [json.loads(l) for l in open(os.path.join(base, "labels.jsonl"))]
    names = sorted(set(r["file"] for r in rows))
    res = run(binary, base, names)
    tot, wrong, _ = tally(rows, res)
    negs = [l.strip() for l in open(os.path.join(base, "negatives.txt")) if l.strip()]
    nres = run(binary, base, negs)
    neg_bad = [n for n, o in nres.items() if o["kind"] in ("dsn", "bounce") and o["recipients"]]
    if verbose:
        print_wrong(name + " ", wrong, res)
    out = {k: (a / b if b else 1.0, a, b) for k, (a, b) in tot.items()}
    out["negatives_wrong"] = neg_bad
    return out


def report_dir(name, m):
    """Prints score_dir's totals only."""
    for k in ("recipients", "reason", "hard"):
        v, a, b = m[k]
        print("%s %-10s %.4f (%d/%d)" % (name, k, v, a, b))
    print("%s negatives giving bounce recipients: %s" % (name, m["negatives_wrong"] or "none"))


def data_dir(sub):
    return os.path.join(os.environ["HOMING_SRC"], "tests", "data", sub)


def scorer(name, sub):
    """The measure(binary, verbose) and report(m) of the measure-only folder
    tests/data/SUB (bounces-measure3 and later): score_dir's row matching (the
    label's recipient or one of its `also` names against a parser row's address or
    original recipient), totals only, so that a run does not show which rows miss,
    each line prefixed by name. Used by test_bounce_corpus.py, and alone through main."""
    def measure(binary, verbose=False):
        return score_dir(binary, data_dir(sub), name, verbose)

    def report(m):
        report_dir(name, m)
    return measure, report


def measure(binary, verbose=False):
    base = measure_dir()
    rows = [json.loads(l) for l in open(os.path.join(base, "labels.jsonl"))]
    names = sorted(set(r["file"] for r in rows))
    res = run(binary, base, names)
    tot, wrong, scored = tally(rows, res)
    per_src = {}
    distinct = {}
    for row, got, ok_r, ok_h in scored:
        src = row["file"].split("/")[0]
        s = per_src.setdefault(src, {"rows": 0, "reason": 0, "hard": 0})
        s["rows"] += 1
        s["reason"] += ok_r
        s["hard"] += ok_h
        diag = re.sub(r"\S+@\S+", "@", ((got or {}).get("diagnostic") or "").lower())
        key = (src, row["reason"], diag[:60])
        distinct.setdefault(key, []).append(ok_r)
    neg = run(binary, base, list(NEGATIVES))
    neg_bad = [n for n, o in neg.items() if o["kind"] in ("dsn", "bounce") and o["recipients"]]
    if verbose:
        print_wrong("", wrong, res)
    confusion = {}
    for row, got in wrong:
        if got is None or got["reason"] != row["reason"]:
            k = (row["reason"], got["reason"] if got else "(not found)")
            confusion[k] = confusion.get(k, 0) + 1
    d_ok = sum(1 for v in distinct.values() if all(v))
    out = {k: (a / b if b else 1.0, a, b) for k, (a, b) in tot.items()}
    out["distinct_reason"] = (d_ok / len(distinct), d_ok, len(distinct))
    out["per_source"] = per_src
    out["negatives_wrong"] = neg_bad
    out["confusion"] = confusion
    return out


def report(m):
    for k in ("recipients", "reason", "hard", "distinct_reason"):
        v, a, b = m[k]
        print("measure %-15s %.4f (%d/%d)" % (k, v, a, b))
    for src, s in sorted(m["per_source"].items()):
        print("measure %-15s reason %.4f hard %.4f (%d rows)" % (
            src, s["reason"] / s["rows"], s["hard"] / s["rows"], s["rows"]))
    print("measure negatives giving bounce recipients: %s" % (m["negatives_wrong"] or "none"))
    print("measure misses (label -> homing): " + ", ".join(
        "%s->%s %d" % (a, b, n) for (a, b), n in sorted(m["confusion"].items(),
                                                       key=lambda x: (-x[1], x[0]))))


def main(argv):
    """Runs one corpus alone (HOMING_BIN, HOMING_SRC): the first with no name, else
    tests/data/bounces-NAME through scorer(); totals, and the wrong rows too with -v."""
    names = [a for a in argv[1:] if a != "-v"]
    if len(names) > 1:
        raise SystemExit("usage: bounce_measure.py [NAME] [-v]")
    m, r = measure, report
    if names:
        name = names[0]
        if name == "measure2":  # its labels are BounceParser's classes: its own scorer
            raise SystemExit("measure2 is scored by bounce_measure2.py")
        if not os.path.isdir(data_dir("bounces-" + name)):
            raise SystemExit("no tests/data/bounces-%s" % name)
        m, r = scorer(name, "bounces-" + name)
    r(m(os.environ["HOMING_BIN"], "-v" in argv))


if __name__ == "__main__":
    main(sys.argv)
