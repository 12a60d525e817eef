#!/usr/bin/env python3
"""bounce_measure11.py: scores `homing bounce --json` on the eleventh measure-only bounce
corpus (tests/data/bounces-measure11: Dada Mail's, OTOBO's, laminas-mail's and
postal-mime's real bounces and a negative, labelled from the taxonomy before homing ran
on them; see its README). Nothing is tuned on it; MEASURE11_FLOORS in
test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer; alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure11.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure11", "bounces-measure11")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
