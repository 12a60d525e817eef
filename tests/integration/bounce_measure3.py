#!/usr/bin/env python3
"""bounce_measure3.py: scores `homing bounce --json` on the third measure-only bounce
corpus (tests/data/bounces-measure3: test bounces of flanker, the mail gem,
MailBounceDetector, MediaWiki BounceHandler, MimeKit and CwsMailBounceHandler, labelled
from the taxonomy before homing ran on them; see its README). Nothing is tuned on it.

Scored by bounce_measure.score_dir (the same row matching as bounce_measure.py: the
label's recipient or one of its `also` names against a parser row's address or original
recipient). Prints totals
only (recipients, reason, hard/soft, and the negatives that gave a bounce recipient), so
that a run does not show which rows miss; -v lists the wrong rows.

Used by test_bounce_corpus.py (MEASURE3_FLOORS there) and runnable alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure3.py
"""
import os
import sys

import bounce_measure


def base_dir():
    return os.path.join(os.environ["HOMING_SRC"], "tests", "data", "bounces-measure3")


def measure(binary, verbose=False):
    return bounce_measure.score_dir(binary, base_dir(), "measure3", verbose)


def report(m):
    bounce_measure.report_dir("measure3", m)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    report(measure(os.environ["HOMING_BIN"], "-v" in sys.argv))
