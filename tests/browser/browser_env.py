"""What every browser test needs: node, Debian's Chromium, and playwright-core and
axe-core in tests/browser/node_modules (installed from package-lock.json when
missing). A
missing tool is a failure, never a skip."""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = '/usr/bin/chromium'


def need_tools():
    """Returns the path of node, or exits 1 naming what is missing."""
    node = shutil.which('node')
    if not node or not os.path.exists(CHROMIUM):
        print(f'FAIL: node and {CHROMIUM} are needed')
        sys.exit(1)
    if not all(os.path.isdir(os.path.join(HERE, 'node_modules', m))
               for m in ('playwright-core', 'axe-core')):
        r = subprocess.run(['npm', 'install', '--no-audit', '--no-fund'], cwd=HERE, timeout=600)
        if r.returncode != 0:
            print('FAIL: npm install')
            sys.exit(1)
    return node
