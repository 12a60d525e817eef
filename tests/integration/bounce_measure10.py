#!/usr/bin/env python3
"""bounce_measure10.py: scores `homing bounce --json` on the tenth measure-only bounce
corpus (tests/data/bounces-measure10: the DSN of Python's email package tests, labelled from
the taxonomy before homing ran on them; see its README). Nothing is tuned on it;
MEASURE10_FLOORS in test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer;
alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure10.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure10", "bounces-measure10")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
