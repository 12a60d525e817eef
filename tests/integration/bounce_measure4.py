#!/usr/bin/env python3
"""bounce_measure4.py: scores `homing bounce --json` on the fourth measure-only bounce
corpus (tests/data/bounces-measure4: bounces Exim wrote in its test suite and real
bounces of Froide, mail_manager and go-gmime, labelled from the taxonomy before homing
ran on them; see its README). Nothing is tuned on it.

Scored by bounce_measure.score_dir (the same row matching as the other measure-only
corpora). Prints totals only, so that a run does not show which rows miss; -v lists the
wrong rows.

Used by test_bounce_corpus.py (MEASURE4_FLOORS there) and runnable alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure4.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bounce_measure  # noqa: E402


def base_dir():
    return os.path.join(os.environ["HOMING_SRC"], "tests", "data", "bounces-measure4")


def measure(binary, verbose=False):
    return bounce_measure.score_dir(binary, base_dir(), "measure4", verbose)


def report(m):
    bounce_measure.report_dir("measure4", m)


if __name__ == "__main__":
    report(measure(os.environ["HOMING_BIN"], "-v" in sys.argv))
