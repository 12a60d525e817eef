#!/usr/bin/env python3
"""bounce_measure9.py: scores `homing bounce --json` on the ninth measure-only bounce
corpus (tests/data/bounces-measure9: EspoCRM's real bounces and a negative, labelled from
the taxonomy before homing ran on them; see its README). Nothing is tuned on it;
MEASURE9_FLOORS in test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer;
alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure9.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure9", "bounces-measure9")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
