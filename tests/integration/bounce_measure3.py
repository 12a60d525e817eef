#!/usr/bin/env python3
"""bounce_measure3.py: scores `homing bounce --json` on the third measure-only bounce
corpus (tests/data/bounces-measure3: test bounces of flanker, the mail gem,
MailBounceDetector, MediaWiki BounceHandler, MimeKit and CwsMailBounceHandler, labelled
from the taxonomy before homing ran on them; see its README). Nothing is tuned on it; MEASURE3_FLOORS in
test_bounce_corpus.py are its floors. Scored by bounce_measure.scorer; alone:
    HOMING_BIN=build/src/homing HOMING_SRC=$PWD python3 tests/integration/bounce_measure3.py [-v]
"""
import bounce_measure

measure, report = bounce_measure.scorer("measure3", "bounces-measure3")

if __name__ == "__main__":
    bounce_measure.main(measure, report)
