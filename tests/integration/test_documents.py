"""Documents end to end: homing doc add (encrypted at rest), grant to two
recipients, download through the daemon's /d/ links (bytes, headers, one
document-open event each, a file of many chunks), expiry, use limits and
revocation (410), forged and other recipients' tokens (404), and what lies on
disk: no plaintext in the encrypted file, no key in the database, and a keyed
digest (BLAKE2b-256 under the digest key derived from the key file), never
the plain one, which only `doc add` prints; `doc verify` checks a download."""
import base64
import hashlib
import hmac
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get, http_request, path_of  # noqa: E402

MARKER = b"PLAINTEXT-MARKER-court-notice-7c1f"


def pdf_like(size, seed):
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + MARKER + b"\n"
    body = hashlib.shake_256(seed).digest(size - len(head) - 6)
    return head + body + b"%%EOF\n"


def grants_of(out):
    """{address: (grant id, url)} from `homing doc grant` output."""
    res = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) == 4 and w[0] == "grant":
            res[w[2]] = (int(w[1]), w[3])
    return res


def read_keys(inst):
    keys = {}
    for line in open(os.path.join(inst.dir, "token.keys")):
        w = line.split()
        if len(w) == 3 and not line.startswith("#"):
            keys[int(w[0])] = bytes.fromhex(w[2])
    return keys


def digest_key(inst):
    """homing_keyring_digest_key: libsodium's crypto_kdf_derive_from_key(32, 1,
    "homingdg", oldest key), i.e. BLAKE2b-256 of nothing keyed with the key,
    salt = subkey id (64-bit little-endian), personal = the context."""
    keys = read_keys(inst)
    return hashlib.blake2b(b"", digest_size=32, key=keys[min(keys)],
                           salt=struct.pack("<Q", 1), person=b"homingdg").digest()


def make_token(keys, kind, message, recipient, item):
    kid = max(keys)
    raw = struct.pack(">BHBQII", 1, kid, kind, message, recipient, item)
    mac = hmac.new(keys[kid], raw, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(raw + mac).rstrip(b"=").decode()


inst = Instance()
T = Runner()
try:
    tmp = inst.tmp
    small = pdf_like(300 * 1024 + 17, b"small")
    big = pdf_like(5 * 1024 * 1024 + 4099, b"big")
    small_path = os.path.join(tmp, "notice.pdf")
    big_path = os.path.join(tmp, "big.bin")
    open(small_path, "wb").write(small)
    open(big_path, "wb").write(big)
    NAME = 'Notice "final" \\ court.pdf'
    added = inst.run("doc", "add", small_path, "--name", NAME).stdout
    inst.run("doc", "add", big_path, "--name", "bundle", "--type", "application/octet-stream")
    out = inst.run("doc", "grant", NAME, "bob@example.net", "carol@example.com").stdout
    g = grants_of(out)
    msg_hex = out.split("message ")[1].split()[0]
    inst.serve()

    def add_registers_encrypted_file():
        with inst.db() as c:
            rows = c.execute("SELECT name, media_type, size, digest, file FROM documents "
                             "ORDER BY id").fetchall()
        check(len(rows) == 2, rows)
        name, mtype, size, digest, fname = rows[0]
        check(name == NAME and mtype == "application/pdf" and size == len(small), rows[0])
        plain = hashlib.blake2b(small, digest_size=32).hexdigest()
        check(digest == hashlib.blake2b(small, digest_size=32, key=digest_key(inst)).hexdigest(),
              f"keyed digest: {digest}")
        check(digest != plain and plain not in open(os.path.join(inst.dir, "homing.db"),
                                                    "rb").read().decode("latin-1"),
              "the plain digest is stored")
        check(added.strip().endswith("blake2b-256 " + plain), f"add prints the plain: {added}")
        check(f"keyed-digest {digest}" in inst.run("doc", "list").stdout, "list: keyed")
        p = inst.run("doc", "verify", NAME, small_path)
        check(p.returncode == 0 and "is the document" in p.stdout, p.stdout)
        other = os.path.join(inst.tmp, "other.pdf")
        open(other, "wb").write(small[:-1] + bytes([small[-1] ^ 1]))
        p = inst.run("doc", "verify", NAME, other, check_rc=False)
        check(p.returncode == 1 and "NOT" in p.stdout, (p.returncode, p.stdout, p.stderr))
        path = os.path.join(inst.dir, "documents", fname)
        data = open(path, "rb").read()
        check(os.stat(path).st_mode & 0o077 == 0, "encrypted file readable by others")
        check(MARKER not in data and b"%PDF" not in data, "plaintext in the encrypted file")
        check(small[4096:4160] not in data, "plaintext bytes in the encrypted file")
        check(data.startswith(b"HOMINGD1"), "magic")
        chunks = (len(small) + 65535) // 65536
        check(len(data) == 32 + len(small) + 17 * chunks, f"size {len(data)}")
        listing = inst.run("doc", "list").stdout
        check("bundle" in listing and str(len(big)) in listing, listing)

    def download_each_recipient():
        for addr, rcpt in (("bob@example.net", 1), ("carol@example.com", 2)):
            gid, url = g[addr]
            st, h, body = http_get(inst.public_port, path_of(url),
                                   headers={"User-Agent": "DocTest/1.0"})
            check(st == 200, f"{addr}: status {st} {body[:200]!r}")
            check(body == small, f"{addr}: bytes differ ({len(body)} vs {len(small)})")
            check(h.get("content-type") == "application/pdf", h)
            check(h.get("content-disposition") ==
                  'attachment; filename="Notice \\"final\\" \\\\ court.pdf"', h)
            check(h.get("cache-control") == "no-store, private", h)
            check(h.get("x-content-type-options") == "nosniff", h)
            check(h.get("content-length") == str(len(small)), h)
            with inst.db() as c:
                rows = c.execute("SELECT recipient, item, user_agent FROM events WHERE "
                                 "kind = 'document-open' AND recipient = ?", (rcpt,)).fetchall()
            check(rows == [(rcpt, gid, "DocTest/1.0")], rows)

    def large_file_streams():
        out = inst.run("doc", "grant", "bundle", "dave@example.org").stdout
        gid, url = grants_of(out)["dave@example.org"]
        st, h, body = http_get(inst.public_port, path_of(url), timeout=60)
        check(st == 200 and h.get("content-length") == str(len(big)), (st, h))
        check(body == big, f"big file differs ({len(body)} of {len(big)} bytes)")
        check(h.get("content-type") == "application/octet-stream", h)

    def expired_is_gone():
        out = inst.run("doc", "grant", NAME, "erin@example.org", "--expires", "1s").stdout
        _, url = grants_of(out)["erin@example.org"]
        st, _, body = http_get(inst.public_port, path_of(url))
        check(st == 200 and body == small, f"before expiry: {st}")
        time.sleep(1.3)
        st, h, body = http_get(inst.public_port, path_of(url))
        check(st == 410 and b"no longer valid" in body, (st, body[:100]))
        check(h.get("content-type", "").startswith("text/html"), h)

    def max_uses_is_gone():
        out = inst.run("doc", "grant", NAME, "frank@example.org", "--max-uses", "2").stdout
        _, url = grants_of(out)["frank@example.org"]
        st, _, _ = http_request(inst.public_port, "HEAD", path_of(url))
        check(st == 200, f"HEAD {st}")  # a HEAD does not use up a download
        for i in range(2):
            st, _, body = http_get(inst.public_port, path_of(url))
            check(st == 200 and body == small, f"use {i + 1}: {st}")
        st, _, _ = http_get(inst.public_port, path_of(url))
        check(st == 410, f"third use: {st}")

    def revoked_is_gone():
        out = inst.run("doc", "grant", NAME, "gina@example.org", "hal@example.org").stdout
        gg = grants_of(out)
        gid, url = gg["gina@example.org"]
        inst.run("doc", "revoke", str(gid))
        st, _, _ = http_get(inst.public_port, path_of(url))
        check(st == 410, f"revoked grant: {st}")
        st, _, _ = http_get(inst.public_port, path_of(gg["hal@example.org"][1]))
        check(st == 200, f"other grant still works: {st}")
        p = inst.run("doc", "revoke", str(gid), check_rc=False)
        check(p.returncode == 2, "revoking twice is an error")

    def forged_and_foreign_tokens():
        gid_bob, url_bob = g["bob@example.net"]
        gid_carol, _ = g["carol@example.com"]
        tok = path_of(url_bob).split("/")[-1]
        bad = tok[:-2] + ("A" if tok[-2] != "A" else "B") + tok[-1]
        st, h, body = http_get(inst.public_port, "/d/" + bad)
        check(st == 404 and b"not found" in body.lower(), (st, body[:80]))
        st, _, _ = http_get(inst.public_port, "/d/short")
        check(st == 404, st)
        keys = read_keys(inst)
        message = int(msg_hex, 16)
        # correctly signed, but recipient 1 naming recipient 2's grant
        foreign = make_token(keys, 3, message, 1, gid_carol)
        st, _, _ = http_get(inst.public_port, "/d/" + foreign)
        check(st == 404, f"recipient 1 opened recipient 2's grant: {st}")
        # a click token for the same numbers is not a document token
        click = make_token(keys, 2, message, 1, gid_bob)
        st, _, _ = http_get(inst.public_port, "/d/" + click)
        check(st == 404, f"click token accepted as document: {st}")
        # an unknown grant
        st, _, _ = http_get(inst.public_port, "/d/" + make_token(keys, 3, message, 1, 999999))
        check(st == 404, st)
        with inst.db() as c:
            n = c.execute("SELECT count(*) FROM events WHERE kind = 'document-open' "
                          "AND item IN (?, 999999) AND recipient = 1 AND id > 0",
                          (gid_carol,)).fetchone()[0]
        check(n == 0, "a refused token was recorded")

    def track_puts_per_recipient_links():
        eml = ("From: alice@example.org\r\nTo: ivan@example.net, judy@example.com\r\n"
               "Subject: Service of process\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
               "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               "The notice: {{doc:bundle}}\r\n"
               "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
               "<html><body><p><a href=\"{{doc:bundle}}\">notice</a></p></body></html>\r\n"
               "--b--\r\n")
        src = os.path.join(tmp, "serve.eml")
        open(src, "w", newline="").write(eml)
        outdir = os.path.join(tmp, "tracked")
        inst.run("track", src, "-o", outdir, "--doc", NAME)
        import re
        urls = {}
        for i, f in enumerate(sorted(os.listdir(outdir))):
            text = open(os.path.join(outdir, f)).read()
            check("{{doc:" not in text, "placeholder left in the copy")
            found = re.findall(r"http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_-]{48}", text)
            check(len(set(found)) == 2, f"two document links per copy: {found}")
            # the pixel at the top (track.pixel_placement's default), the
            # added link at the end, where the reader looks for attachments
            check(re.search(r'<html><body><img src="[^"]*/o/[A-Za-z0-9_-]{48}\.gif"[^>]*/><p>'
                            r'<a href="[^"]*/d/[^"]*">notice</a></p><p><a href="[^"]*/d/[^"]*">'
                            + re.escape(NAME) + r"</a></p></body>", text) is not None,
                  f"pixel first, added link last: {text[-700:]!r}")
            urls[i + 1] = found
        check(not set(urls[1]) & set(urls[2]), "recipients share a document link")
        for rcpt, found in urls.items():
            bodies = {http_get(inst.public_port, path_of(u), timeout=60)[2] for u in set(found)}
            check(bodies == {big, small}, f"recipient {rcpt}: downloads differ")
        p = inst.run("track", src, "-o", outdir + "2", "--doc", "nonesuch", check_rc=False)
        check(p.returncode == 2 and "nonesuch" in p.stderr, p.stderr)

    def no_key_in_database():
        rc = inst.stop()
        log = inst.daemon_log()
        check(rc == 0 and "Sanitizer" not in log, f"daemon exit {rc}: {log[-2000:]}")
        keys = read_keys(inst)
        blob = inst.db().dump() if inst.pg_url else b""
        for suffix in ("", "-wal"):
            p = os.path.join(inst.dir, "homing.db" + suffix)
            if os.path.exists(p):
                blob += open(p, "rb").read()
        for secret in keys.values():
            check(secret not in blob and secret.hex().encode() not in blob, "key in database")
        check(MARKER not in blob and small[8192:8256] not in blob, "plaintext in database")
        with inst.db() as c:
            cols = [r[0] for t in ("documents", "grants") for r in c.execute(
                "SELECT column_name FROM information_schema.columns WHERE "
                f"table_schema = current_schema() AND table_name = '{t}'")] if inst.pg_url else \
                [r[1] for t in ("documents", "grants")
                 for r in c.execute(f"PRAGMA table_info({t})")]
        # digest_keyed is a flag (0009: is the digest keyed yet), not a key
        check(not any("key" in col for col in cols if col != "digest_keyed"), cols)

    T.run(add_registers_encrypted_file)
    T.run(download_each_recipient)
    T.run(large_file_streams)
    T.run(expired_is_gone)
    T.run(max_uses_is_gone)
    T.run(revoked_is_gone)
    T.run(forged_and_foreign_tokens)
    T.run(track_puts_per_recipient_links)
    T.run(no_key_in_database)
finally:
    log = inst.daemon_log()
    inst.close()
if T.failed:
    print(log[-3000:])
T.finish()
