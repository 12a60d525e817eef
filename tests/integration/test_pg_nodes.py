"""Two node directories on one PostgreSQL store, made by `homing init DIR
--store postgresql://ADMIN@...` (docs/operations.md "A second node on
PostgreSQL"), beside a private server (run by tests/pg_cluster.py, whose
HOMING_TEST_STORE_POSTGRESQL names the cluster's superuser).

The first init makes the schemas and roles, the second finds them; each
node's homing.conf (mode 0600) holds a login of its own, never the
superuser's. After copying node 1's token.keys to node 2: an admin API key
made on node 1 is listed by node 2's CLI and accepted by node 2's daemon;
node 2's daemon, with no DDL right, answers a pixel and stores it (the
month's partition made by the schema owner's function); node 1's CLI sees
that hit. As node 2's login, psql is refused the silo's tables. Bad input
(an unreachable server, a login that may not create roles, a schema that is
not a store) exits 2 with one line and leaves no node directory."""
import glob
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import (HOMING, Instance, Runner, check, http_get,  # noqa: E402
                         http_request, path_of)

T = Runner()
TEMPLATE = os.environ.get("HOMING_TEST_STORE_POSTGRESQL", "")
if "&schema=%s" not in TEMPLATE:
    sys.exit("run me with tests/pg_cluster.py (HOMING_TEST_STORE_POSTGRESQL)")
ADMIN = TEMPLATE.replace("&schema=%s", "") + "&schema=nodes"
SOCKET = urllib.parse.parse_qs(urllib.parse.urlsplit(ADMIN).query)["host"][0]
nodes = []


def psql(url, sql):
    """sql through psql as the URL's user (homing's schema= removed)."""
    conn = "&".join(p for p in url.split("&") if not p.startswith("schema="))
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    cmd = found[-1] if found else "psql"
    return subprocess.run([cmd, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql, conn],
                          capture_output=True, text=True, timeout=30)


def store_url(inst):
    for line in open(inst.conf):
        if line.startswith("url = "):
            return line[6:].strip()
    raise AssertionError("no store url in " + inst.conf)


def test_two_nodes():
    n1 = Instance(init_args=("--store", ADMIN))
    nodes.append(n1)
    check("schemas and roles made" in n1.init_out, f"first init: {n1.init_out!r}")
    n2 = Instance(init_args=("--store", ADMIN))
    nodes.append(n2)
    check("schemas and roles found" in n2.init_out, f"second init: {n2.init_out!r}")
    check("token.keys" in n2.init_out and "data.key" in n2.init_out and "copy" in n2.init_out,
          f"the second init says to copy token.keys: {n2.init_out!r}")
    u1, u2 = store_url(n1), store_url(n2)
    for inst, url in ((n1, u1), (n2, u2)):
        check("user=postgres" not in url and "user=nodes_node_" in url,
              f"a node login in {inst.conf}: {url}")
        mode = stat.S_IMODE(os.stat(inst.conf).st_mode)
        check(mode == 0o600, f"{inst.conf} mode {oct(mode)}")
        check("password=" not in inst.init_out, "init printed the password")
    check(u1 != u2, "each node has a login of its own")
    # the same token keys and data key on both nodes
    check(not os.path.exists(os.path.join(n2.dir, "data.key")),
          "the second init made no data key of its own (the store has one)")
    for name in ("token.keys", "data.key"):
        k1, k2 = os.path.join(n1.dir, name), os.path.join(n2.dir, name)
        shutil.copyfile(k1, k2)
        st1 = os.stat(k1)
        os.chown(k2, st1.st_uid, st1.st_gid)
        os.chmod(k2, 0o600)

    key = n1.api_key("ops", scope="admin")
    listed = n2.run("api-keys", "list").stdout
    check("ops" in listed and "admin" in listed, f"node 2 lists node 1's key: {listed!r}")

    # node 2's daemon: no DDL right, yet it stores a hit (the month's partition
    # is made by the owner's SECURITY DEFINER function)
    msg = n2.add_message(["bob@example.org"])
    n2.serve()
    st, _, body = http_request(n2.admin_port, "GET", "/api/v1/api-keys",
                               headers={"Authorization": f"Bearer {key}"})
    check(st == 200 and b"ops" in body, f"node 1's key on node 2's API: {st} {body!r}")
    st, _, _ = http_request(n2.admin_port, "GET", "/api/v1/api-keys",
                            headers={"Authorization": "Bearer hk_" + "A" * 43})
    check(st == 401, f"an unknown key: {st}")
    st, _, _ = http_get(n2.public_port, path_of(msg["copies"][0]["open_url"]),
                        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    check(st == 200, f"the pixel on node 2: {st}")
    n2.settle()
    out = n1.run("events", "--json").stdout  # one object a line
    opens = [e for e in map(json.loads, out.splitlines()) if e.get("kind") == "open"]
    check(len(opens) == 1, f"node 1 sees node 2's hit: {out!r}")
    owner = psql(ADMIN, "SELECT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                 "ON n.oid = c.relnamespace WHERE n.nspname = 'nodes' AND c.relkind = 'r' "
                 "AND c.relname LIKE 'events_2%'")
    check(owner.returncode == 0 and owner.stdout.split() == ["nodes_owner"],
          f"the month's partition, made as the owner: {owner.stdout!r} {owner.stderr!r}")
    n2.stop()
    log = n2.daemon_log()
    check("permission denied" not in log and "must be owner" not in log,
          f"node 2's daemon was refused something: {log[-2000:]!r}")
    # the privacy sweep (truncation, retention) and forget with DML only
    p = n2.run("privacy", "sweep", "--retention-days", "1", check_rc=False)
    check(p.returncode == 0, f"sweep as the node: {p.returncode} {p.stderr!r}")
    p = n2.run("forget", "bob@example.org", check_rc=False)
    check(p.returncode == 0, f"forget as the node: {p.returncode} {p.stderr!r}")

    # the node's login cannot read the silo's tables; the admin can
    for table in ("api_keys", "relay_users"):
        p = psql(u2, f"SELECT count(*) FROM nodes_keys.{table}")
        check(p.returncode != 0 and "permission denied" in p.stderr,
              f"node reads nodes_keys.{table}: rc {p.returncode} {p.stdout!r} {p.stderr!r}")
    p = psql(ADMIN, "SELECT count(*) FROM nodes_keys.api_keys")
    check(p.returncode == 0 and p.stdout.strip() == "1", f"admin: {p.stdout!r} {p.stderr!r}")


def init_fails(url, why):
    tmp = tempfile.mkdtemp(prefix="homing-it-")
    try:
        d = os.path.join(tmp, "node")
        p = subprocess.run([HOMING, "init", d, "--store", url], capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 2, f"{why}: exit {p.returncode} {p.stderr!r}")
        check(p.stderr.count("\n") == 1, f"{why}: not one line: {p.stderr!r}")
        check(not os.path.exists(d), f"{why}: {d} left behind")
        return p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_bad_input():
    err = init_fails("postgresql:///homing_test?host=/nonexistent&user=postgres&schema=x",
                     "unreachable")
    check("connecting to PostgreSQL" in err, err)
    node = store_url(nodes[1]) if len(nodes) > 1 else None
    check(node is not None, "needs test_two_nodes")
    err = init_fails(node, "no CREATEROLE")
    check("may not create roles" in err, err)
    p = psql(ADMIN, "CREATE SCHEMA notours; CREATE TABLE notours.t (a int)")
    check(p.returncode == 0, p.stderr)
    err = init_fails(ADMIN.replace("schema=nodes", "schema=notours"), "foreign schema")
    check("not a homing store" in err, err)


def main():
    try:
        T.run(test_two_nodes)
        T.run(test_bad_input)
    finally:
        for inst in nodes:
            inst.close()
    T.finish()


main()
