"""Operating the daemon: log.format = json, the OpenAPI document served by the
admin listener, the Grafana dashboard's metrics, and homing doctor on a good
and on a broken setup."""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get, path_of, HOMING, SRC  # noqa: E402

T = Runner()


def doctor(inst):
    p = subprocess.run([HOMING, "-c", inst.conf, "doctor"], capture_output=True, text=True,
                       timeout=60)
    lines = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^(ok|warn|FAIL)\s+([\w.]+): (.*)$", line)
        if m:
            lines.setdefault(m.group(2), []).append((m.group(1), m.group(3)))
    return p.returncode, lines, p.stdout + p.stderr


def levels(lines, key):
    return [lvl for lvl, _ in lines.get(key, [])]


def make_cert(d, name, days="30"):
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", days, "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


inst = Instance({"log.format": "json"})
work = tempfile.mkdtemp(prefix="homing-ops-")
try:
    msg = inst.add_message(["bob@example.net"], ["https://example.com/"])
    inst.serve()

    def log_lines_are_json_objects():
        http_get(inst.public_port, path_of(msg["copies"][0]["open_url"]))
        log = inst.daemon_log()
        objs = []
        for line in log.splitlines():
            if line.startswith("homing serve:") or line.startswith("example pixel"):
                continue  # the banner on stdout, not the log
            check(line.startswith("{") and line.endswith("}"), f"not a JSON line: {line!r}")
            o = json.loads(line)
            check(set(o) >= {"ts", "level", "prog", "msg"} and
                  set(o) <= {"ts", "level", "prog", "msg", "withheld"}, o)
            check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o["ts"]), o["ts"])
            check(o["level"] in ("error", "warning", "info", "debug"), o)
            check(o["prog"] == "homing", o)
            objs.append(o)
        check(any(o["msg"].startswith("ready:") for o in objs), log)

    def openapi_document_served_without_key():
        st, h, body = http_get(inst.admin_port, "/api/v1/openapi.yaml")
        check(st == 200, st)
        check(h.get("content-type") == "application/yaml", h)
        want = open(os.path.join(SRC, "docs/api/openapi.yaml"), "rb").read()
        check(body == want, "the served document is docs/api/openapi.yaml byte for byte")
        st, _, _ = http_get(inst.admin_port, "/api/v1/events")
        check(st == 401, "the rest of the API still needs a key")

    def grafana_dashboard_metrics_exist():
        dash = json.load(open(os.path.join(SRC, "contrib/grafana/homing.json")))
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        names = set()
        for e in exprs + [dash["templating"]["list"][0]["definition"]]:
            names |= set(re.findall(r"\bhoming_[a-z_]+\b", e))
        check(len(names) >= 15, names)
        _, _, body = http_get(inst.admin_port, "/metrics")
        have = set(re.findall(r"^(homing_[a-z_]+)[{ ]", body.decode(), re.M))
        missing = sorted(names - have)
        check(not missing, f"metrics in the dashboard but not in /metrics: {missing}")
        for p in dash["panels"]:
            check(p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"])

    def doctor_good_setup_while_serving():
        rc, lines, out = doctor(inst)
        check(rc == 0, out)
        for key in ("public.listen", "admin.listen"):
            check(levels(lines, key) == ["ok"] and "this homing" in lines[key][0][1], out)
        check(set(levels(lines, "keys.file")) == {"ok"}, out)
        check(levels(lines, "store.url") == ["ok"], out)
        check("FAIL" not in out, out)

    T.run(log_lines_are_json_objects)
    T.run(openapi_document_served_without_key)
    T.run(grafana_dashboard_metrics_exist)
    T.run(doctor_good_setup_while_serving)
    check(inst.stop() == 0, "stopped")

    def doctor_good_setup_with_tls():
        cert, key = make_cert(work, "good")
        if os.geteuid() == 0:  # the daemon reads it again as serve.user on SIGHUP
            import pwd
            pw = pwd.getpwnam("homing")
            os.chown(key, pw.pw_uid, pw.pw_gid)
        inst.set_config({"public.tls_cert": cert, "public.tls_key": key,
                         "public.base_url": f"https://127.0.0.1:{inst.public_port}"})
        rc, lines, out = doctor(inst)
        check(rc == 0, out)
        check(levels(lines, "public.tls_cert") == ["ok"], out)
        check(levels(lines, "public.tls_key") == ["ok", "ok"], out)
        check(levels(lines, "public.listen") == ["ok"] and "free" in out, out)

    def doctor_broken_setup():
        other_cert, _ = make_cert(work, "other", days="1")
        _, good_key = make_cert(work, "mismatch")
        os.chmod(good_key, 0o644)
        os.chmod(os.path.join(inst.dir, "token.keys"), 0o644)
        if inst.pg_url:  # the store's schema is gone, as the file is on SQLite
            pg = inst.db()
            pg.execute(f"DROP SCHEMA {pg.schema} CASCADE")
        else:
            os.unlink(os.path.join(inst.dir, "homing.db"))
        squatter = socket.socket()
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        try:
            inst.set_config({"public.tls_cert": other_cert, "public.tls_key": good_key,
                             "public.listen": f"127.0.0.1:{squatter.getsockname()[1]}",
                             "public.base_url": "https://tracking.invalid",
                             "public.domain_base_urls":
                                 "example.org=https://t.example.invalid example.net=http://[::1]:9"})
            rc, lines, out = doctor(inst)
        finally:
            squatter.close()
        check(rc == 1, f"exit {rc}: {out}")
        check(levels(lines, "public.listen") == ["FAIL"] and "another program" in out, out)
        check(levels(lines, "admin.listen") == ["ok"], out)
        check("FAIL" in levels(lines, "keys.file") and "chmod 600" in out, out)
        check(levels(lines, "store.url") == ["FAIL"] and "homing init" in out, out)
        check(levels(lines, "public.base_url")[0] == "FAIL" and "RFC 6761" in out, out)
        # each sending domain's tracking host too (issue 17, item 7)
        check(levels(lines, "public.domain_base_urls") == ["FAIL", "ok"] and
              "t.example.invalid is under .invalid" in out and "::1 is an address" in out, out)
        tls = lines.get("public.tls_cert", [])
        check(any(l == "warn" and re.search(r"expires in [01] day", t) for l, t in tls), out)
        check(any(l == "warn" and "does not name tracking.invalid" in t for l, t in tls), out)
        key_lines = lines.get("public.tls_key", [])
        check(any(l == "FAIL" and "does not match" in t for l, t in key_lines), out)
        check(any(l == "FAIL" and "chmod 640" in t for l, t in key_lines), out)
        m = re.search(r"^(\d+) problem\(s\)", out, re.M)
        check(m and int(m.group(1)) == 7, out)

    T.run(doctor_good_setup_with_tls)
    T.run(doctor_broken_setup)
finally:
    inst.close()
    shutil.rmtree(work, ignore_errors=True)
T.finish()
