#!/usr/bin/env python3
"""bounce_measure4.py: scores `homing bounce --json` on the fourth measure-only bounce
corpus (tests/data/bounces-measure4: bounces Exim wrote in its test suite and real
bounces of Froide, mail_manager and go-gmime, labelled from the taxonomy before homing
ran on them; see its README). Nothing is tuned on it; MEASURE4_FLOORS in
test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer; alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure4.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure4", "bounces-measure4")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
