#!/usr/bin/env python3
"""bounce_measure7.py: scores `homing bounce --json` on the seventh measure-only bounce
corpus (tests/data/bounces-measure7: CiviCRM's and SpamScope mail-parser's real bounces, labelled
from the taxonomy before homing ran on them; see its README). Nothing is tuned on it; MEASURE7_FLOORS in
test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer; alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure7.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure7", "bounces-measure7")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
