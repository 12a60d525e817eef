#!/usr/bin/env python3
"""bounce_measure8.py: scores `homing bounce --json` on the eighth measure-only bounce
corpus (tests/data/bounces-measure8: listmonk's and Stalwart's real bounces, labelled from
the taxonomy before homing ran on them; see its README). Nothing is tuned on it;
MEASURE8_FLOORS in test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer;
alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure8.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure8", "bounces-measure8")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
