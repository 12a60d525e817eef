#!/usr/bin/env python3
"""bounce_measure6.py: scores `homing bounce --json` on the sixth measure-only bounce
corpus (tests/data/bounces-measure6: Delta Chat's real non-delivery notices, labelled
from the taxonomy before homing ran on them; see its README). Nothing is tuned on it; MEASURE6_FLOORS in
test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer; alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure6.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure6", "bounces-measure6")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
