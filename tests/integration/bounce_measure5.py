#!/usr/bin/env python3
"""bounce_measure5.py: scores `homing bounce --json` on the fifth measure-only bounce
corpus (tests/data/bounces-measure5: real bounces of SpamAssassin's backscatter rule
tests, enmime's DSN fixtures and RT's DSN test mail, labelled from the taxonomy before
homing ran on them; see its README). Nothing is tuned on it; MEASURE5_FLOORS in
test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer; alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure5.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure5", "bounces-measure5")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
