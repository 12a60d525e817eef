#!/usr/bin/env python3
"""bounce_measure5.py: scores `homing bounce --json` on the fifth measure-only bounce
corpus (tests/data/bounces-measure5: real bounces of SpamAssassin's backscatter rule tests,
enmime's DSN fixtures and RT's DSN test mail, labelled from the taxonomy before homing
ran on them; see its README). Nothing is tuned on it.

Scored by bounce_measure.score_dir (the same row matching as the other measure-only
corpora). Prints totals only, so that a run does not show which rows miss; -v lists the
wrong rows.

Used by test_bounce_corpus.py (MEASURE5_FLOORS there) and runnable alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure5.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bounce_measure  # noqa: E402


def base_dir():
    return os.path.join(os.environ["HOMING_SRC"], "tests", "data", "bounces-measure5")


def measure(binary, verbose=False):
    return bounce_measure.score_dir(binary, base_dir(), "measure5", verbose)


def report(m):
    bounce_measure.report_dir("measure5", m)


if __name__ == "__main__":
    report(measure(os.environ["HOMING_BIN"], "-v" in sys.argv))
