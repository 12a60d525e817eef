"""Checks admin API answers against docs/api/openapi.yaml (OpenAPI 3.1, whose
schemas are JSON Schema 2020-12: Debian's python3-jsonschema validates them).

usage:
  api_validate.py SPEC RECORDS [SUITE...]
      RECORDS: what tests/integration/homing_test.py appended (HOMING_API_RECORD),
      one {"method", "path", "status", "type", "body"} a line. Every answer must
      have its path and method in the spec, its status listed for them, and a
      JSON body that validates against that status's schema. The file is
      removed after a run, so the next run of the suites starts a new one. When
      it does not exist or is empty (this test run alone), each SUITE (an
      integration script) is run first with HOMING_API_RECORD set, to fill it.
  api_validate.py --self-test SPEC
      Proves the check can fail: known answers pass the spec; the same answers
      fail a copy of the spec with one schema broken; answers with a member of
      the wrong type, a missing member, an undocumented status or path fail.

Exit 0 when everything validates, 1 with one line per failure otherwise.
"""
import copy
import json
import os
import re
import subprocess
import sys
import warnings

import jsonschema
import yaml

RECORDS_MIN = 20  # fewer answers than this: the suites did not run the API


def load_spec(path):
    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    if not str(spec.get("openapi", "")).startswith("3.1"):
        raise SystemExit(f"{path}: not an OpenAPI 3.1 document")
    # YAML 1.1 reads an unquoted off/on/yes/no as a boolean: in an enum of
    # words that silently changes the schema (it happened to tracking "off").
    def walk(o, where):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "enum" and any(isinstance(x, bool) for x in v):
                    raise SystemExit(f"{path}: {where}/enum holds a boolean: quote the word")
                walk(v, f"{where}/{k}")
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, f"{where}/{i}")
    walk(spec, "")
    return spec


def path_regex(template):
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p)
                                    for p in parts) + "$")


class Validator:
    def __init__(self, spec):
        self.spec = spec
        self.paths = [(path_regex(t), t, ops) for t, ops in spec["paths"].items()]
        # Literal templates first, so /api/v1/messages is not taken for {id}.
        self.paths.sort(key=lambda p: "{" in p[1])
        jsonschema.Draft202012Validator.check_schema({"$defs": spec["components"]["schemas"]})
        # RefResolver is what Debian 12's jsonschema (4.10) has; newer ones warn.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resolver = jsonschema.RefResolver.from_schema(spec)

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def check(self, rec):
        """None if rec matches the spec, else a reason."""
        path = rec["path"].split("?", 1)[0]
        where = f'{rec["method"]} {rec["path"]} -> {rec["status"]}'
        # A path or method the spec does not list: its x-homing-other-requests.
        other = self.spec["x-homing-other-requests"]["responses"]
        for rx, template, ops in self.paths:
            if rx.match(path):
                op = ops.get(rec["method"].lower())
                if op is None:
                    op, template = {"responses": other}, f"{template} (other method)"
                break
        else:
            op, template = {"responses": other}, "(a path not in the spec)"
        resp = op["responses"].get(str(rec["status"])) or op["responses"].get("default")
        if resp is None:
            return f"{where}: status not in the spec for {rec['method']} {template}"
        content = self.deref(resp).get("content")
        mtype = rec["type"].split(";", 1)[0].strip()
        if not content:
            return None
        if mtype not in content:
            return f"{where}: content type {mtype!r} not in the spec ({', '.join(content)})"
        schema = content[mtype].get("schema")
        if schema is None:
            return None
        try:
            body = json.loads(rec["body"])
        except ValueError as e:
            return f"{where}: body is not JSON ({e})"
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        errors = sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            at = "/".join(str(p) for p in e.absolute_path)
            return f"{where}: at /{at}: {e.message[:300]}"
        return None


def validate_records(spec_path, records_path, suites):
    if not os.path.exists(records_path) or os.path.getsize(records_path) == 0:
        env = dict(os.environ, HOMING_API_RECORD=os.path.abspath(records_path))
        for suite in suites:
            p = subprocess.run([sys.executable, suite], env=env, capture_output=True, text=True,
                               timeout=600)
            if p.returncode != 0:
                print(p.stdout + p.stderr)
                print(f"FAIL {suite} (run to record answers) exited {p.returncode}")
                return 1
    v = Validator(load_spec(spec_path))
    with open(records_path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    os.unlink(records_path)
    failures = [r for r in (v.check(rec) for rec in records) if r]
    routes = sorted({(rec["method"], re.sub(r"/[0-9a-f]{16}", "/{id}", rec["path"].split("?")[0]))
                     for rec in records})
    for f in failures:
        print("FAIL", f)
    print(f"{len(records)} answers on {len(routes)} routes checked, {len(failures)} not as the "
          "spec says")
    if len(records) < RECORDS_MIN:
        print(f"FAIL only {len(records)} answers recorded (want at least {RECORDS_MIN})")
        return 1
    return 1 if failures else 0


GOOD = [
    {"method": "GET", "path": "/api/v1/api-keys", "status": 200, "type": "application/json",
     "body": '{"api_keys":[{"id":1,"name":"a","scope":"admin",'
             '"created":"2026-12-07T00:05:41.385177Z","revoked":null}]}'},
    {"method": "GET", "path": "/api/v1/events?limit=1", "status": 200,
     "type": "application/json",
     "body": '{"events":[{"id":1,"time":"2026-12-07T00:05:41.391845Z","time_us":1,'
             '"kind":"open","method":"GET","message":"4d102c472585a88a","recipient":1,'
             '"item":0,"client":"127.0.0.1","user_agent":"x","accept_language":"",'
             '"via":"","from":"","detail":null}],"next":1}'},
    {"method": "GET", "path": "/api/v1/messages/4d102c472585a88a", "status": 404,
     "type": "application/json", "body": '{"error":"no such message"}'},
    {"method": "POST", "path": "/api/v1/messages", "status": 403, "type": "application/json",
     "body": '{"error":"lacks","required_scope":"write","scope":"read"}'},
]


def self_test(spec_path):
    spec = load_spec(spec_path)
    failures = []
    v = Validator(spec)
    for rec in GOOD:
        r = v.check(rec)
        if r:
            failures.append(f"a good answer failed the spec: {r}")
    # One schema broken: ApiKey.id a string, Event.kind without "open".
    broken = copy.deepcopy(spec)
    broken["components"]["schemas"]["ApiKey"]["properties"]["id"] = {"type": "string"}
    broken["components"]["schemas"]["Event"]["properties"]["kind"]["enum"].remove("open")
    bv = Validator(broken)
    for rec in GOOD[:2]:
        if bv.check(rec) is None:
            failures.append(f"passed a broken spec: {rec['path']}")
    bad = [
        dict(GOOD[0], body=GOOD[0]["body"].replace('"admin"', '"root"')),   # enum
        dict(GOOD[0], body=GOOD[0]["body"].replace('"id":1,', '')),        # required
        dict(GOOD[1], body=GOOD[1]["body"].replace('"next":1', '"next":"1"')),  # type
        dict(GOOD[1], body=GOOD[1]["body"].replace('"time":"2026-12-07T00:05:41.391845Z"',
                                                   '"time":"yesterday"')),  # pattern
        dict(GOOD[2], status=418),                                          # status
        dict(GOOD[2], path="/api/v1/nothing", status=200),                  # other path
        dict(GOOD[2], method="DELETE", status=200),                         # other method
        dict(GOOD[2], body="not json"),
        dict(GOOD[2], type="text/html"),
    ]
    for rec in bad:
        if v.check(rec) is None:
            failures.append(f"a bad answer passed: {rec}")
    for f in failures:
        print("FAIL", f)
    print(f"self-test: {len(GOOD)} good, {len(bad)} bad answers, 1 broken spec; "
          f"{len(failures)} failure(s)")
    return 1 if failures else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        return self_test(sys.argv[2])
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    return validate_records(sys.argv[1], sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    sys.exit(main())
