"""contrib/systemd/homing.service: the settings docs/operations.md lists are in
the unit, and `systemd-analyze security --offline=yes` rates it with exactly the
score docs/operations.md gives (so neither drifts from the other).

The unit's behaviour that needs no systemd (readiness, watchdog) is
integration/sdnotify's; the package's install of it is integration/package's.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Runner, check  # noqa: E402

SRC = os.environ.get("HOMING_SRC", os.getcwd())
UNIT = os.path.join(SRC, "contrib", "systemd", "homing.service")
T = Runner()


def settings():
    out = {}
    section = None
    for line in open(UNIT):
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out.setdefault((section, k), []).append(v)
    return out


def hardening_settings():
    s = settings()
    want = {
        "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s",
        "ExecStart": "/usr/bin/homing -c /etc/homing/homing.conf serve",
        "ExecReload": "/bin/kill -HUP $MAINPID", "User": "homing",
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "NoNewPrivileges": "yes", "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
        "AmbientCapabilities": "CAP_NET_BIND_SERVICE", "ReadWritePaths": "/var/lib/homing",
        "LimitNOFILE": "65536", "LimitNICE": "20",
    }
    for k, v in want.items():
        check(s.get(("Service", k)) == [v], f"{k}={s.get(('Service', k))}, want {v}")
    check("@system-service" in s.get(("Service", "SystemCallFilter"), []), "SystemCallFilter")
    check(("Service", "MemoryDenyWriteExecute") not in s, "MemoryDenyWriteExecute breaks PCRE2 JIT")


def security_score_is_documented():
    doc = open(os.path.join(SRC, "docs", "operations.md")).read()
    for name in ("homing.service", "homing-milter.service"):
        unit = os.path.join(SRC, "contrib", "systemd", name)
        p = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit],
                           capture_output=True, text=True, timeout=60)
        m = re.search(rf"Overall exposure level for {re.escape(name)}: ([0-9.]+) (\w+)", p.stdout)
        check(m, f"systemd-analyze printed: {p.stdout[-500:]} {p.stderr}")
        flat = " ".join(doc.split())
        check(re.search(rf"contrib/systemd/{re.escape(name)}`[^*]*?rates it "
                        rf"\*\*{re.escape(m.group(1))} {m.group(2)}\*\*", flat),
              f"docs/operations.md does not give {name}'s score {m.group(1)} {m.group(2)}")
        print(f"     systemd-analyze security {name}: {m.group(1)} {m.group(2)}")


def milter_unit():
    unit = os.path.join(SRC, "contrib", "systemd", "homing-milter.service")
    s = {}
    section = None
    for line in open(unit):
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif line and not line.startswith("#"):
            k, _, v = line.partition("=")
            s.setdefault((section, k), []).append(v)
    for k, v in {"ExecStart": "/usr/bin/homing -c /etc/homing/homing.conf milter",
                 "User": "homing", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
                 "CapabilityBoundingSet": ""}.items():
        check(s.get(("Service", k)) == [v], f"milter unit {k}={s.get(('Service', k))}")
    # the command the unit runs exists and takes the configuration it names
    p = subprocess.run([os.environ.get("HOMING_BIN", "build/src/homing"), "milter", "--help"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "milter" in p.stdout, f"homing milter --help: {p.stderr}")


T.run(hardening_settings)
T.run(security_score_is_documented)
T.run(milter_unit)
T.finish()
