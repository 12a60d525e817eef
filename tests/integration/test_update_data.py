"""homing update-data: refreshes the published range lists of a directory
from files downloaded into another (--from) or an npm package (--npm, found
under $HOMING_NPM_ROOT), under a list's own name or its upstream file's name;
prints the prefixes added and removed per list; parses every new list before
writing any (a malformed or empty one changes nothing); refuses a list that
would lose more than half its prefixes unless --force; --dry-run writes
nothing; replaced files are whole (no temporary file left behind). Then the
daemon's reader loads the new lists: a prefix added by the update decides a
verdict."""
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import SRC, Instance, Runner, check  # noqa: E402

BIN = os.environ.get("HOMING_BIN", os.path.join(SRC, "build/src/homing"))
T = Runner()
tmp = tempfile.mkdtemp(prefix="homing-update-")
target = os.path.join(tmp, "published")
source = os.path.join(tmp, "download")


def homing(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60, env=e,
                          cwd=tmp)


def reset():
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(os.path.join(SRC, "data/published"), target)
    os.mkdir(source)


def read(name):
    return open(os.path.join(target, name)).read()


def googlebot(drop, add):
    d = json.load(open(os.path.join(SRC, "data/published/googlebot.json")))
    d["prefixes"] = d["prefixes"][drop:] + [{"ipv4Prefix": p} for p in add]
    return json.dumps(d)


def updates_with_a_diff_summary():
    reset()
    open(os.path.join(source, "googlebot.json"), "w").write(googlebot(3, ["192.0.2.0/24"]))
    # Apple's file under its upstream name, in its CSV shape
    relay = read("icloud-private-relay.txt").splitlines()
    open(os.path.join(source, "egress-ip-ranges.csv"), "w").write(
        "".join(f"{p},US,US-CA,Los Angeles,\n" for p in relay[:-2] + ["198.51.100.0/24"]))
    before = read("googlebot.json")
    r = homing("update-data", "--from", source, "--to", target, "--dry-run")
    check(r.returncode == 0, r.stderr)
    check("googlebot.json: 313 prefixes, 1 added, 3 removed" in r.stdout, r.stdout)
    check("icloud-private-relay.txt: 13744 prefixes, 1 added, 2 removed" in r.stdout, r.stdout)
    check("microsoft-eop.txt: not in the source, kept" in r.stdout, r.stdout)
    check("2 of 8 lists changed (dry run" in r.stdout, r.stdout)
    check(read("googlebot.json") == before, "dry run wrote")
    r = homing("update-data", "--from", source, "--to", target)
    check(r.returncode == 0, r.stderr)
    check(read("googlebot.json") == open(os.path.join(source, "googlebot.json")).read(),
          "googlebot.json not replaced")
    check("198.51.100.0/24" in read("icloud-private-relay.txt"), "relay list not replaced")
    check(not [f for f in os.listdir(target) if f.endswith(".tmp")], os.listdir(target))
    r = homing("update-data", "--from", source, "--to", target)
    check("googlebot.json: 313 prefixes, 0 added, 0 removed (unchanged)" in r.stdout, r.stdout)
    check("0 of 8 lists changed" in r.stdout, r.stdout)


def a_bad_list_changes_nothing():
    reset()
    open(os.path.join(source, "googlebot.json"), "w").write(googlebot(0, ["192.0.2.0/24"]))
    open(os.path.join(source, "bingbot.json"), "w").write('{"prefixes": [{"ipv4Prefix": "nope"}]}')
    before = read("googlebot.json")
    r = homing("update-data", "--from", source, "--to", target)
    check(r.returncode == 2 and "bingbot.json: malformed prefix list; nothing updated" in r.stderr,
          (r.returncode, r.stderr))
    check(read("googlebot.json") == before, "a list was written despite a bad one")
    open(os.path.join(source, "bingbot.json"), "w").write('{"prefixes": []}')
    r = homing("update-data", "--from", source, "--to", target)
    check(r.returncode == 2 and "no prefixes" in r.stderr, r.stderr)
    check(read("googlebot.json") == before, "written despite an empty list")


def a_list_that_shrinks_by_half_needs_force():
    reset()
    open(os.path.join(source, "googlebot.json"), "w").write(googlebot(200, []))
    before = read("googlebot.json")
    r = homing("update-data", "--from", source, "--to", target)
    check(r.returncode == 2 and "would remove 200 of 315" in r.stderr, r.stderr)
    check(read("googlebot.json") == before, "written without --force")
    r = homing("update-data", "--from", source, "--to", target, "--force")
    check(r.returncode == 0, r.stderr)
    check(read("googlebot.json") != before, "not written with --force")


def user_agent_pattern_lists():
    """The crawler User-Agent list is diffed by pattern, and a pattern that
    does not compile refuses the update."""
    reset()
    d = json.load(open(os.path.join(SRC, "data/published/crawler-user-agents.json")))
    # The count is of the patterns homing uses: the reader leaves out a pattern
    # that is only an Android build ID (docs/verdicts.md, rules version 10).
    build_id = re.compile(r"[0-9A-Z]{4}\\?\.[0-9]{6}\\?\.[0-9]{3}")
    n = len({e["pattern"] for e in d if not build_id.fullmatch(e["pattern"])})
    d = d[1:] + [{"pattern": "ExampleMailBot/", "instances": []}]
    open(os.path.join(source, "crawler-user-agents.json"), "w").write(json.dumps(d))
    r = homing("update-data", "--from", source, "--to", target)
    check(r.returncode == 0 and f"crawler-user-agents.json: {n} patterns, 1 added, 1 removed"
          in r.stdout, (r.stdout, r.stderr))
    d.append({"pattern": "Broken(Bot"})
    open(os.path.join(source, "crawler-user-agents.json"), "w").write(json.dumps(d))
    before = read("crawler-user-agents.json")
    r = homing("update-data", "--from", source, "--to", target)
    check(r.returncode == 2 and "malformed pattern list" in r.stderr, r.stderr)
    check(read("crawler-user-agents.json") == before, "written despite a bad pattern")


def from_an_npm_package():
    reset()
    root = os.path.join(tmp, "node_modules")
    pkg = os.path.join(root, "@example", "ranges")
    os.makedirs(pkg, exist_ok=True)
    open(os.path.join(pkg, "googlebot.json"), "w").write(googlebot(1, []))
    r = homing("update-data", "--npm", "@example/ranges", "--to", target,
               env={"HOMING_NPM_ROOT": root})
    check(r.returncode == 0 and "googlebot.json: 314 prefixes, 0 added, 1 removed" in r.stdout,
          (r.stdout, r.stderr))
    r = homing("update-data", "--npm", "../etc", "--to", target)
    check(r.returncode == 2, "a package name with .. accepted")
    r = homing("update-data", "--to", target)
    check(r.returncode == 2, "no source accepted")


def m365_endpoints(extra):
    """Microsoft 365's endpoint data as endpoints.office.com/endpoints/worldwide
    serves it: EOP's two sets (the committed prefixes, plus extra) among sets
    of other services, whose addresses are no scanners."""
    eop = [ln for ln in read("microsoft-eop.txt").splitlines() if ln and not ln.startswith("#")]
    return json.dumps([
        {"id": 1, "serviceArea": "Exchange", "urls": ["outlook.office.com"],
         "ips": ["192.0.2.0/24"], "tcpPorts": "80,443"},
        {"id": 9, "serviceArea": "Exchange", "urls": ["*.mail.protection.outlook.com"],
         "ips": [p for p in eop if p != "52.238.78.88/32"] + extra, "tcpPorts": "25"},
        {"id": 10, "serviceArea": "Exchange", "urls": ["*.protection.outlook.com"],
         "ips": ["52.238.78.88/32"], "tcpPorts": "443"},
        {"id": 31, "serviceArea": "SharePoint", "urls": ["*.sharepoint.com"],
         "ips": ["198.51.100.0/24"], "tcpPorts": "443"},
        {"id": 56, "serviceArea": "Common", "urls": ["*.protection.outlook.com.example"],
         "tcpPorts": "443"},
    ])


def the_daemon_loads_the_new_lists():
    """The daemon reads enrich.published: an open at delivery from an address
    the update added to the EOP list is a scanner's. The EOP list comes from
    Microsoft's own endpoint data, saved under its upstream name (worldwide):
    only Exchange Online Protection's sets count."""
    reset()
    open(os.path.join(source, "worldwide"), "w").write(m365_endpoints(["203.0.113.0/24"]))
    r = homing("update-data", "--from", source, "--to", target)
    check(r.returncode == 0 and "microsoft-eop.txt: 8 prefixes, 1 added, 0 removed" in r.stdout,
          (r.stdout, r.stderr))
    r = homing("update-data", "--from", source, "--to", target)
    check("microsoft-eop.txt: 8 prefixes, 0 added, 0 removed (unchanged)" in r.stdout, r.stdout)
    inst = Instance({"enrich.published": target, "geo.asn_db": "", "geo.country_db": ""})
    try:
        m = inst.add_message(["bob@example.net"])
        mid = int(m["id"], 16)
        mid = mid - (1 << 64) if mid >= 1 << 63 else mid
        now = time.time()
        with inst.db() as c:
            c.execute("INSERT INTO events (time_us, kind, message, recipient, item) "
                      "VALUES (?, 'delivered', ?, 1, 0)", (int((now - 60) * 1e6), mid))
            ev = c.execute(
                "INSERT INTO events (time_us, kind, method, message, recipient, item, client, "
                "user_agent) VALUES (?, 'open', 'GET', ?, 1, 0, '203.0.113.9', ?)",
                (int((now - 57) * 1e6), mid, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                 "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")).lastrowid
        inst.serve()
        deadline = time.time() + 30
        row = None
        while time.time() < deadline and not row:
            with inst.db() as c:
                row = c.execute("SELECT verdict, json FROM enrichments WHERE event = ?",
                                (ev,)).fetchone()
            time.sleep(0.05)
        check(row is not None, "not enriched")
        j = json.loads(row[1])
        check(row[0] == "scanner" and j["network"]["machine"] == "Exchange Online Protection",
              row)
    finally:
        inst.close()


try:
    T.run(updates_with_a_diff_summary)
    T.run(a_bad_list_changes_nothing)
    T.run(a_list_that_shrinks_by_half_needs_force)
    T.run(user_agent_pattern_lists)
    T.run(from_an_npm_package)
    T.run(the_daemon_loads_the_new_lists)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
T.finish()
