#!/usr/bin/env python3
"""`homing scan` on real newsletter templates (tests/data/templates): no finding
on any untracked template but the ones expected.tsv names, and every tracker
found in their tracked copies (homing track's, and known vendors' put in), on
the split the rules were tuned on and on the split only measured. The figures
are those of docs/investigators.md ("Precision on real templates")."""
import os, subprocess, sys

BIN = os.environ['HOMING_BIN']
SRC = os.environ['HOMING_SRC']
p = subprocess.run([sys.executable, os.path.join(SRC, 'tests', 'data', 'templates', 'measure.py'),
                    '--check', BIN], timeout=600)
sys.exit(p.returncode)
