"""The daemon against real HTTP clients on loopback: pixel bytes and headers,
HEAD, click redirects, invalid and forged tokens, the admin API and its keys,
events carrying client address and User-Agent, trusted-proxy handling,
metrics, and a clean SIGTERM."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get, http_request, path_of  # noqa: E402

GIF = bytes.fromhex("474946383961010001008000000000"
                    "00ffffff21f90401000000002c0000"
                    "0000010001000002024401003b")
NO_CACHE = "no-store, no-cache, must-revalidate, private"

inst = Instance({"public.trusted_proxies": "127.0.0.2, 10.0.0.0/8"})
T = Runner()
try:
    msg = inst.add_message(["bob@example.net", "carol@example.com"],
                           ["https://example.com/offer?a=1&b=%C3%A9#top",
                            "http://example.org/"], subject="Q3 offer")
    bob, carol = msg["copies"]
    inst.serve()

    def pixel_bytes_and_headers():
        st, h, body = http_get(inst.public_port, path_of(bob["open_url"]),
                               headers={"User-Agent": "Mozilla/5.0 (Test) Thunderbird/115.0",
                                        "Accept-Language": "de-DE,de;q=0.9"})
        check(st == 200, f"status {st}")
        check(body == GIF and len(body) == 43, f"body {body!r}")
        check(h.get("content-type") == "image/gif", h)
        check(h.get("cache-control") == NO_CACHE, h)
        check(h.get("pragma") == "no-cache" and h.get("expires") == "0", h)
        check(h.get("content-length") == "43", h)
        check(inst.event_count(msg["id"]) == 1, "one event after one open")

    def head_is_recorded_with_method():
        st, h, body = http_request(inst.public_port, "HEAD", path_of(carol["open_url"]))
        check(st == 200 and body == b"", f"{st} {body!r}")
        with inst.db() as c:
            row = c.execute("SELECT kind, method, recipient FROM events ORDER BY id DESC LIMIT 1"
                            ).fetchone()
        check(row == ("open", "HEAD", 2), row)

    def click_redirects_to_stored_destination():
        st, h, body = http_get(inst.public_port, path_of(bob["links"][0]["click_url"]))
        check(st == 302, st)
        check(h.get("location") == "https://example.com/offer?a=1&b=%C3%A9#top", h)
        check(h.get("referrer-policy") == "no-referrer", h)
        st, h, _ = http_get(inst.public_port, path_of(carol["links"][1]["click_url"]) + "?utm=x")
        check(st == 302 and h.get("location") == "http://example.org/", (st, h))
        with inst.db() as c:
            rows = c.execute("SELECT recipient, item FROM events WHERE kind='click' ORDER BY id"
                             ).fetchall()
        check(rows == [(1, 1), (2, 2)], rows)

    def invalid_tokens():
        before = inst.event_count()
        tok = path_of(bob["open_url"])[3:-4]
        forged = tok[:-1] + ("A" if tok[-1] != "A" else "B")
        for path in [f"/o/{forged}.gif", "/o/short.gif", "/o/.gif",
                     "/o/" + path_of(bob["links"][0]["click_url"])[3:] + ".gif"]:
            st, h, body = http_get(inst.public_port, path)
            check(st == 200 and body == GIF, f"{path}: invalid pixel must still get the GIF")
        ctok = path_of(bob["links"][0]["click_url"])[3:]
        for path in ["/c/" + ctok[:-1] + ("A" if ctok[-1] != "A" else "B"), "/c/x",
                     "/c/" + tok, "/c/https://evil.example/"]:
            st, h, body = http_get(inst.public_port, path)
            check(st == 404 and "location" not in h, f"{path}: {st} {h}")
        st, _, _ = http_get(inst.public_port, "/nothing")
        check(st == 404, st)
        st, h, _ = http_request(inst.public_port, "POST", path_of(bob["open_url"]), body=b"x")
        check(st == 405, st)
        check(inst.event_count() == before, "invalid tokens must not be recorded")
        _, _, m = http_get(inst.admin_port, "/metrics")
        m = m.decode()
        check('homing_invalid_tokens_total{kind="open"} 4' in m, m)
        # /c/https://evil.example/ is no route at all (a token has no '/'): not a token
        check('homing_invalid_tokens_total{kind="click"} 3' in m, m)

    def client_address_and_trusted_proxies():
        p = path_of(carol["open_url"])
        # Untrusted peer: its X-Forwarded-For is ignored.
        http_get(inst.public_port, p, headers={"X-Forwarded-For": "198.51.100.1"},
                 source="127.0.0.1")
        # Trusted proxy: rightmost untrusted address wins.
        http_get(inst.public_port, p, headers={"X-Forwarded-For": "203.0.113.9, 10.1.2.3"},
                 source="127.0.0.2")
        http_get(inst.public_port, p, headers={"Forwarded": 'for="[2001:db8::5]:4711";proto=https'},
                 source="127.0.0.2")
        # Trusted proxy with garbage: falls back to the proxy itself.
        http_get(inst.public_port, p, headers={"X-Forwarded-For": "not-an-ip"}, source="127.0.0.2")
        with inst.db() as c:
            rows = [r[0] for r in c.execute(
                "SELECT client FROM events ORDER BY id DESC LIMIT 4").fetchall()][::-1]
        check(rows == ["127.0.0.1", "203.0.113.9", "2001:db8::5", "127.0.0.2"], rows)

    def api_requires_key():
        for hdr in [{}, {"Authorization": "Bearer hk_wrong"},
                    {"Authorization": "Bearer hk_" + "A" * 43}, {"Authorization": "Basic eDp5"}]:
            st, h, body = http_get(inst.admin_port, "/api/v1/events", headers=hdr)
            check(st == 401, f"{hdr}: {st}")
            check("bearer" in h.get("www-authenticate", "").lower(), h)
        key = inst.api_key("revoked")
        st, _, _ = http_get(inst.admin_port, "/api/v1/events",
                            headers={"Authorization": f"Bearer {key}"})
        check(st == 200, st)
        inst.run("api-keys", "revoke", "revoked")
        st, _, _ = http_get(inst.admin_port, "/api/v1/events",
                            headers={"Authorization": f"Bearer {key}"})
        check(st == 401, f"revoked key still works: {st}")

    def api_register_read_and_list():
        key = inst.api_key("api", scope="write")
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        body = json.dumps({"subject": "From the API", "from": "alice@example.org",
                           "recipients": ["dave@example.net"],
                           "links": ["https://example.net/x"]})
        st, _, data = http_request(inst.admin_port, "POST", "/api/v1/messages", headers=auth,
                                   body=body)
        check(st == 201, (st, data))
        out = json.loads(data)
        copy = out["copies"][0]
        check(copy["address"] == "dave@example.net" and copy["recipient"] == 1, out)
        st, h, _ = http_get(inst.public_port, path_of(copy["open_url"]),
                            headers={"User-Agent": "UA-from-api-test"})
        check(st == 200, st)
        st, h, _ = http_get(inst.public_port, path_of(copy["links"][0]["click_url"]))
        check(st == 302 and h["location"] == "https://example.net/x", (st, h))
        st, _, data = http_get(inst.admin_port, f"/api/v1/messages/{out['id']}", headers=auth)
        m = json.loads(data)
        check(st == 200 and m["subject"] == "From the API", m)
        r = m["recipients"][0]
        check(r["opens"] == 1 and r["clicks"] == 1 and r["first_open"], r)
        st, _, data = http_get(inst.admin_port, f"/api/v1/messages/{out['id']}/events",
                               headers=auth)
        evs = json.loads(data)["events"]
        check([e["kind"] for e in evs] == ["open", "click"], evs)
        check(evs[0]["user_agent"] == "UA-from-api-test" and evs[0]["client"] == "127.0.0.1", evs)
        # The cursor: everything after the first event of all messages, in order.
        st, _, data = http_get(inst.admin_port, "/api/v1/events?after=0&limit=3", headers=auth)
        page = json.loads(data)
        check(len(page["events"]) == 3, page)
        st, _, data = http_get(inst.admin_port, f"/api/v1/events?after={page['next']}",
                               headers=auth)
        rest = json.loads(data)["events"]
        check(rest and rest[0]["id"] > page["next"], rest)
        check(len(page["events"]) + len(rest) == inst.event_count(), "cursor covers all")
        for bad in ["/api/v1/messages/zz", "/api/v1/messages/0000000000000001",
                    "/api/v1/nothing"]:
            st, _, _ = http_get(inst.admin_port, bad, headers=auth)
            check(st == 404, f"{bad}: {st}")
        st, _, _ = http_get(inst.admin_port, "/api/v1/events?limit=-1", headers=auth)
        check(st == 400, st)
        for bad_body in ["{", "[]", json.dumps({"recipients": []}),
                         json.dumps({"recipients": ["x@y"], "links": ["javascript:alert(1)"]})]:
            st, _, _ = http_request(inst.admin_port, "POST", "/api/v1/messages", headers=auth,
                                    body=bad_body)
            check(st == 400, f"{bad_body}: {st}")

    def metrics_exposition():
        st, h, body = http_get(inst.admin_port, "/metrics")
        text = body.decode()
        check(st == 200 and h["content-type"].startswith("text/plain"), h)
        for name in ["homing_hits_total{kind=\"open\"}", "homing_invalid_tokens_total",
                     "homing_queue_depth", "homing_batch_size_bucket{le=\"+Inf\"}",
                     "homing_commit_seconds_bucket", "homing_commit_seconds_count"]:
            check(name in text, f"{name} missing")

    def sigterm_exits_cleanly():
        rc = inst.stop(signal.SIGTERM)
        check(rc == 0, f"exit status {rc}: {inst.daemon_log()}")
        check("stopped" in inst.daemon_log(), inst.daemon_log())

    for t in [pixel_bytes_and_headers, head_is_recorded_with_method,
              click_redirects_to_stored_destination, invalid_tokens,
              client_address_and_trusted_proxies, api_requires_key, api_register_read_and_list,
              metrics_exposition, sigterm_exits_cleanly]:
        T.run(t)
finally:
    if T.failed:
        print(inst.daemon_log()[-3000:])
    inst.close()
T.finish()
