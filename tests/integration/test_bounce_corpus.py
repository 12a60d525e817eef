#!/usr/bin/env python3
"""test_bounce_corpus.py: runs `homing bounce --json` over the shared bounce corpus
and scores it against labels.jsonl (Sisimai's expected results), as the corpus
README describes: recipient recall, reason accuracy, hard/soft accuracy, status
and reply-code accuracy. Fails below the thresholds below. Also runs cr/, crlf/,
unlabelled/ and negatives/: no crash, cr/crlf give the same result as eml/ for
the same name (mismatches are printed), negatives give no recipients. Fails when a
figure of the tuned split drops below RECORDED. Then scores the measure-only corpora
of MEASURED: the first (tests/data/bounces-measure) by bounce_measure.py's own
measure/report, the second (tests/data/bounces-measure2) by bounce_measure2.py's, the
third to twelfth (tests/data/bounces-measure3 ... bounces-measure12) by
bounce_measure.scorer; prints their figures (the third's to twelfth's totals only), fails
below MEASURE_FLOORS, MEASURE2_FLOORS ... MEASURE12_FLOORS.

Environment: HOMING_BIN (the binary), HOMING_SRC (the source tree; the corpus is
$HOMING_SRC/tests/data/bounces, a verbatim copy of the shared corpus with its
LICENSE, unless HOMING_BOUNCE_CORPUS says otherwise).
With -v, every wrong row is printed.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bounce_measure  # noqa: E402
import bounce_measure2  # noqa: E402

THRESHOLDS = {"recipients": 0.98, "reason": 0.95, "hard": 0.97, "status": 0.95}

# The tuned split's figures as recorded in docs/delivery.md ("Accuracy"): rows right
# out of 336 (status: of 254, reply: of 222). The test fails when any drops: a rule
# change that loses a row here must say why in that section and lower the record.
RECORDED = {"recipients": 333, "reason": 322, "hard": 327, "status": 247, "reply": 199}

# The measure-only corpus (tests/data/bounces-measure, never tuned on): its figures
# are printed; the test fails only below these floors, set under the measured
# figures (docs/delivery.md) so that a change that makes the rules generalise worse
# is caught, not to chase that corpus.
MEASURE_FLOORS = {"recipients": 0.98, "reason": 0.79, "hard": 0.90}

# The second measure-only corpus (tests/data/bounces-measure2, BounceParser's test
# bounces scored in that project's own classes by bounce_measure2.py): the same kind of
# floors, and at most this many of its non-bounces (challenge-response mails that read
# like bounces) may give bounce recipients, as they do today. Reason 0.90 since round 9
# (0.9020, blind: its rows were not looked at; 0.8922 before).
MEASURE2_FLOORS = {"recipients": 0.99, "reason": 0.90}
MEASURE2_NEGATIVES_WRONG_MAX = 3

# The third measure-only corpus (tests/data/bounces-measure3, six other projects'
# test bounces, labelled from the taxonomy before homing ran on them): the measured
# figures of issue 16's round 7 rounded down (0.7353 reason, 0.8529 hard/soft); its
# negative must give no bounce recipient.
MEASURE3_FLOORS = {"recipients": 0.97, "reason": 0.73, "hard": 0.85}

# The fourth measure-only corpus (tests/data/bounces-measure4: Exim's own test-suite
# bounces and real bounces of Froide, mail_manager and go-gmime, labelled before homing
# ran on them): its blind figures of issue 16's round 8 rounded down (recipients 0.9211,
# hard/soft 0.8947), reason at the figure after round 8's rules (0.8684, a seen figure:
# the blind run was 0.7895); its negatives must give no bounce recipient.
MEASURE4_FLOORS = {"recipients": 0.92, "reason": 0.86, "hard": 0.89}

# The fifth measure-only corpus (tests/data/bounces-measure5: SpamAssassin's backscatter
# rule tests, enmime's DSN fixtures, RT's DSN test mail, labelled before homing ran on
# them): its blind figures of issue 16's round 9 rounded down (recipients 1.0000,
# hard/soft 0.9565, commit 3f8b408), reason at the figure after round 9's rules (0.9130,
# a seen figure: the blind run was 0.7391); its negatives must give no bounce recipient.
MEASURE5_FLOORS = {"recipients": 1.00, "reason": 0.91, "hard": 0.95}

# The sixth measure-only corpus (tests/data/bounces-measure6: Delta Chat's and Zammad's
# real NDNs, labelled before homing ran on them, in two batches each run once blind on the
# rules of round 10; commits in its README): together recipients 1.0000 (14/14), reason
# 0.9286 (13/14), hard/soft 1.0000 (14/14), rounded down.
MEASURE6_FLOORS = {"recipients": 1.00, "reason": 0.92, "hard": 1.00}

# The seventh measure-only corpus (tests/data/bounces-measure7: CiviCRM's, SpamScope
# mail-parser's, Chatwoot's and mailparser's real bounces, labelled before homing ran on
# them, in two batches each run once blind on the rules of round 11, main 6a89896):
# together recipients 1.0000 (6/6), reason 0.8333 (5/6), hard/soft 0.8333 (5/6), rounded
# down; its negative must give no bounce recipient.
MEASURE7_FLOORS = {"recipients": 1.00, "reason": 0.83, "hard": 0.83}

# The eighth measure-only corpus (tests/data/bounces-measure8: listmonk's and Stalwart's
# real bounces, labelled before homing ran on them, run once blind on the rules of round
# 12, main 50ef4e7): recipients 1.0000 (10/10), reason 0.9000 (9/10), hard/soft 1.0000
# (10/10); it has no negatives.
MEASURE8_FLOORS = {"recipients": 1.00, "reason": 0.90, "hard": 1.00}

# The ninth measure-only corpus (tests/data/bounces-measure9: EspoCRM's real bounces,
# labelled before homing ran on them, run once blind on the rules of round 14, main
# bf6d197, scorer e14a45f): recipients 1.0000 (2/2), reason 0.5000 (1/2), hard/soft 1.0000
# (2/2); its negative must give no bounce recipient.
MEASURE9_FLOORS = {"recipients": 1.00, "reason": 0.50, "hard": 1.00}

# The tenth measure-only corpus (tests/data/bounces-measure10: the DSN of Python's email
# package tests, labelled before homing ran on it, run once blind on the rules of round 15,
# main c42c7cd, scorer e7db90e): recipients 1.0000 (1/1), reason 1.0000 (1/1), hard/soft
# 1.0000 (1/1); it has no negatives.
MEASURE10_FLOORS = {"recipients": 1.00, "reason": 1.00, "hard": 1.00}

# The eleventh measure-only corpus (tests/data/bounces-measure11: Dada Mail's, OTOBO's,
# laminas-mail's and postal-mime's real bounces, labelled before homing ran on them, run
# once blind on the rules of round 16, main bf8a4eb, scorer b1fa41c): recipients 1.0000
# (21/21), reason 0.8571 (18/21), hard/soft 0.9048 (19/21). Since the merge with round
# 18 it keeps the 4 rows measure-only 12 does not hold (its README): 4/4 each, blind on
# the same rules; it has no negative.
MEASURE11_FLOORS = {"recipients": 1.00, "reason": 1.00, "hard": 1.00}
# The twelfth measure-only corpus (tests/data/bounces-measure12: Odoo's and Dada Mail's
# real bounces in two batches, each labelled before homing ran on it (9220eee, 2051b32),
# each run once blind on the rules of round 15, main bf8a4eb, scorer 1c186a5): recipients
# 1.0000 (20/20), reason 0.8000 (16/20), hard/soft 0.9000 (18/20) blind; after round 18's
# rule (Yahoo!'s documented unknown-user reply after DATA) 1.0000, 0.8500 (17/20), 0.9500
# (19/20), seen, rounded down here; its negatives must give no bounce recipient.
MEASURE12_FLOORS = {"recipients": 1.00, "reason": 0.85, "hard": 0.95}

# The measure-only corpora in the order they are scored: the folder under tests/data,
# the name failures give, its floors, how many of its negatives may give bounce
# recipients. OWN_SCORERS are the folders with a scorer of their own; the others are
# scored by bounce_measure.scorer.
MEASURED = (
    ("bounces-measure", "measure-only", MEASURE_FLOORS, 0),
    ("bounces-measure2", "measure-only 2", MEASURE2_FLOORS, MEASURE2_NEGATIVES_WRONG_MAX),
    ("bounces-measure3", "measure-only 3", MEASURE3_FLOORS, 0),
    ("bounces-measure4", "measure-only 4", MEASURE4_FLOORS, 0),
    ("bounces-measure5", "measure-only 5", MEASURE5_FLOORS, 0),
    ("bounces-measure6", "measure-only 6", MEASURE6_FLOORS, 0),
    ("bounces-measure7", "measure-only 7", MEASURE7_FLOORS, 0),
    ("bounces-measure8", "measure-only 8", MEASURE8_FLOORS, 0),
    ("bounces-measure9", "measure-only 9", MEASURE9_FLOORS, 0),
    ("bounces-measure10", "measure-only 10", MEASURE10_FLOORS, 0),
    ("bounces-measure11", "measure-only 11", MEASURE11_FLOORS, 0),
    ("bounces-measure12", "measure-only 12", MEASURE12_FLOORS, 0),
)
OWN_SCORERS = {
    "bounces-measure": (bounce_measure.measure, bounce_measure.report),
    "bounces-measure2": (bounce_measure2.measure, bounce_measure2.report),
}


def measured_scorer(folder):
    """The measure(binary, verbose) and report(m) of a MEASURED folder; the later
    corpora's lines are prefixed by the folder's name without "bounces-"."""
    if folder in OWN_SCORERS:
        return OWN_SCORERS[folder]
    return bounce_measure.scorer(folder[len("bounces-"):], folder)


def corpus_dir():
    d = os.environ.get("HOMING_BOUNCE_CORPUS")
    if d:
        return d
    return os.path.join(os.environ["HOMING_SRC"], "tests", "data", "bounces")


def run(binary, files):
    """Runs homing bounce --json; returns {basename: object}. A crash fails."""
    out = {}
    for i in range(0, len(files), 200):
        chunk = files[i:i + 200]
        p = subprocess.run([binary, "bounce", "--json"] + chunk, capture_output=True,
                           timeout=300)
        if p.returncode not in (0,) or p.returncode < 0:
            raise SystemExit("homing bounce exited %d on %s...: %s" %
                             (p.returncode, chunk[0], p.stderr.decode(errors="replace")))
        lines = p.stdout.decode("utf-8").splitlines()
        if len(lines) != len(chunk):
            raise SystemExit("expected %d lines, got %d" % (len(chunk), len(lines)))
        for f, line in zip(chunk, lines):
            o = json.loads(line)
            if o["file"] != f:
                raise SystemExit("line for %s names %s" % (f, o["file"]))
            for k in ("kind", "recipients", "feedback_type", "original_message_id"):
                if k not in o:
                    raise SystemExit("%s: no %r field" % (f, k))
            out[os.path.basename(f)] = o
    return out


def listdir(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith("."))


def score(labels, results, verbose):
    n = {"recipients": 0, "reason": 0, "hard": 0, "status": 0, "reply": 0}
    ok = dict.fromkeys(n, 0)
    wrong = []
    for row in labels:
        res = results.get(row["file"], {"recipients": []})
        rcpts = res["recipients"]
        got = None
        if row["recipient"] is None:
            if len(rcpts) >= row["index"]:
                got = rcpts[row["index"] - 1]
        else:
            for r in rcpts:
                if (r.get("address") or "").lower() == row["recipient"]:
                    got = r
                    break
        n["recipients"] += 1
        n["reason"] += 1
        n["hard"] += 1
        if got is not None:
            ok["recipients"] += 1
        if got is not None and got["reason"] == row["reason"]:
            ok["reason"] += 1
        if got is not None and bool(got["hard"]) == bool(row["hard"]):
            ok["hard"] += 1
        st = row["status"]
        if st and ".0.9" not in st:
            n["status"] += 1
            if got is not None and got.get("status") == st:
                ok["status"] += 1
        if row["reply_code"]:
            n["reply"] += 1
            if got is not None and got.get("reply_code") == row["reply_code"]:
                ok["reply"] += 1
        if got is None or got["reason"] != row["reason"] or bool(got["hard"]) != row["hard"] or (
                st and ".0.9" not in st and got.get("status") != st):
            wrong.append((row, got))
    if verbose:
        for row, got in wrong:
            g = "NOT FOUND %s" % [r.get("address") for r in
                                 results.get(row["file"], {"recipients": []})["recipients"]]
            if got is not None:
                g = "%s %s %s %s | %s" % (got["reason"], got["status"], got["reply_code"],
                                          got["hard"], (got.get("diagnostic") or "")[:150])
            print("WRONG %s #%d %s want %s %s %s: got %s" % (
                row["file"], row["index"], row["recipient"], row["reason"], row["status"],
                row["reply_code"], g))
    return {k: (ok[k] / n[k] if n[k] else 1.0, ok[k], n[k]) for k in n}


def main():
    verbose = "-v" in sys.argv
    binary = os.environ["HOMING_BIN"]
    base = corpus_dir()
    labels = [json.loads(l) for l in open(os.path.join(base, "labels.jsonl"))]
    failures = []

    eml = run(binary, listdir(os.path.join(base, "eml")))
    s = score(labels, eml, verbose)
    for k, (v, a, b) in s.items():
        print("%-10s %.4f (%d/%d)" % (k, v, a, b))
    for k, t in THRESHOLDS.items():
        if s[k][0] < t:
            failures.append("%s %.4f below %.2f" % (k, s[k][0], t))
    for k, want in RECORDED.items():
        if s[k][1] < want:
            failures.append("%s %d rows right, below the recorded %d" % (k, s[k][1], want))

    for folder, label, floors, negatives_max in MEASURED:
        measure, report = measured_scorer(folder)
        m = measure(binary, verbose)
        report(m)
        for k, floor in floors.items():
            if m[k][0] < floor:
                failures.append("%s %s %.4f below the floor %.2f" % (label, k, m[k][0], floor))
        if len(m["negatives_wrong"]) > negatives_max:
            failures.append("%s negatives gave bounce recipients: %s" %
                            (label, m["negatives_wrong"]))

    kinds = {}
    for o in eml.values():
        kinds[o["kind"]] = kinds.get(o["kind"], 0) + 1
    print("kinds:", json.dumps(kinds, sort_keys=True))

    for sub in ("cr", "crlf"):
        res = run(binary, listdir(os.path.join(base, sub)))
        same = diff = 0
        for name, o in sorted(res.items()):
            if name not in eml:
                continue
            a = [(r["address"], r["reason"], r["status"]) for r in o["recipients"]]
            b = [(r["address"], r["reason"], r["status"]) for r in eml[name]["recipients"]]
            if a == b and o["kind"] == eml[name]["kind"]:
                same += 1
            else:
                diff += 1
                print("%s/%s differs from eml/: %s vs %s" % (sub, name, a, b))
        print("%s: %d files, %d same as eml/, %d differ" % (sub, len(res), same, diff))
        if sub == "crlf" and diff:
            failures.append("%s: %d files differ from eml/" % (sub, diff))

    res = run(binary, listdir(os.path.join(base, "unlabelled")))
    print("unlabelled: %d files parsed" % len(res))
    res = run(binary, listdir(os.path.join(base, "negatives")))
    for name, o in res.items():
        if o["recipients"]:
            failures.append("negative %s gave recipients %s" % (name, o["recipients"]))
    print("negatives: %d files" % len(res))

    # An unreadable file: a line with an error, the batch goes on, exit 2.
    p = subprocess.run([binary, "bounce", "--json", "/nonexistent/x.eml",
                        listdir(os.path.join(base, "negatives"))[0]], capture_output=True,
                       timeout=60)
    lines = p.stdout.decode().splitlines()
    if p.returncode != 2 or len(lines) != 2 or "error" not in json.loads(lines[0]) or \
            json.loads(lines[0])["kind"] != "none":
        failures.append("unreadable file handling: rc %d, %r" % (p.returncode, lines))

    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
