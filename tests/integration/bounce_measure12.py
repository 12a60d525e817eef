#!/usr/bin/env python3
"""bounce_measure12.py: scores `homing bounce --json` on the twelfth measure-only bounce
corpus (tests/data/bounces-measure12: Odoo's real bounces, labelled from
the taxonomy before homing ran on them; see its README). Nothing is tuned on it;
MEASURE12_FLOORS in test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer;
alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure12.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure12", "bounces-measure12")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
