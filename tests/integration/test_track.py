#!/usr/bin/env python3
"""Integration test of `homing track` over the corpus in tests/data/track/.

For every corpus message, per recipient and per message:
- every output parses as MIME (Python's email package) with the same structure;
- headers are the original header block byte for byte, but for a fresh
  Message-ID in place of the original's, plus only the headers homing adds
  (Message-ID when missing, Disposition-Notification-To when asked, and one
  X-Homing-Copy naming the copy's message and recipient);
- parts that are not rewritten are byte for byte the original;
- in rewritten parts, the decoded text equals the original outside the
  spliced URLs and the pixel, and each spliced URL carries a token (decoded
  here) whose link index names, in the store, exactly the original value as a
  browser follows it (entities decoded, white space trimmed);
- the store holds the message with the right recipients and mode, and the link
  list this script derives on its own from the original;
and bad inputs exit 2 with one line on stderr and register nothing.

Standard library only. Env: HOMING_BIN, HOMING_SRC.
"""
import base64
import email
import email.policy
import email.utils
import html
import html.parser
import json
import mailbox
import os
import re
import shutil
import subprocess
import sys
import tempfile

from homing_test import dest_form

HOMING = os.environ.get("HOMING_BIN", "build/src/homing")
SRC = os.environ.get("HOMING_SRC", os.getcwd())
CORPUS = os.path.join(SRC, "tests", "data", "track")
BASE = "http://127.0.0.1:8080"  # public.base_url as `homing init` writes it

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def run(conf, *args, stdin=None):
    p = subprocess.run([HOMING, "-c", conf, *args], input=stdin, capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def decode_token(tok):
    raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
    assert len(raw) == 36
    return {"kind": raw[3], "message": int.from_bytes(raw[4:12], "big"),
            "recipient": int.from_bytes(raw[12:16], "big"),
            "item": int.from_bytes(raw[16:20], "big")}


# --- what a browser (and homing) should track, derived independently ---------

def browser_url(value):
    v = value.strip("".join(chr(c) for c in range(0x21)))
    return re.sub(r"[\t\n\r]", "", v)


def trackable(url):
    low = url.lower()
    if not (low.startswith("http://") and len(url) > 7 or
            low.startswith("https://") and len(url) > 8):
        return False
    if low.startswith(BASE.lower()) and (len(url) == len(BASE) or url[len(BASE)] in "/?#"):
        return False
    return True


class Links(html.parser.HTMLParser):
    def __init__(self, conditional=False):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.conditional = conditional

    def handle_starttag(self, tag, attrs):
        t = tag.lower()
        if t in ("a", "area") or (self.conditional and t.startswith("v:")):
            d = {}
            for k, v in attrs:  # the first of duplicated attributes counts
                d.setdefault(k.lower(), v)
            if (d.get("data-homing") or "").strip().lower() == "notrack":
                return
            href = d.get("href")
            if href is not None:
                u = browser_url(href)
                if trackable(u):
                    self.found.append(u)

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        if not self.conditional and data.lstrip().lower().startswith("[if"):
            sub = Links(conditional=True)
            sub.feed(data)
            sub.close()
            self.found.extend(sub.found)


TEXT_URL = re.compile(r"(?<![A-Za-z0-9])https?://[\x21-\x7e]*", re.I)


def text_links(text):
    out = []
    for m in TEXT_URL.finditer(text):
        u = re.split(r'[<>"`]', m.group(0))[0]
        while u:
            c = u[-1]
            if c in ".,;:!?'*":
                u = u[:-1]
                continue
            if c in ")]":
                o = "(" if c == ")" else "["
                if u.count(c) > u.count(o):
                    u = u[:-1]
                    continue
            break
        if len(u) > len(u.split("//", 1)[0]) + 2 and trackable(u):
            out.append(u)
    return out


def leaf_parts(msg):
    """(part, trackable kind or None) for every leaf, in order."""
    out = []

    def walk(p, frozen):
        if p.get_content_type() == "message/rfc822":
            out.append((p, None))  # an attached message is never changed
            return
        if p.is_multipart():
            ct = p.get_content_type()
            fz = frozen or ct in ("multipart/signed", "multipart/encrypted")
            for sub in p.get_payload():
                walk(sub, fz)
            return
        ct = p.get_content_type()
        kind = None
        if not frozen and ct in ("text/html", "text/plain") and \
                p.get_content_disposition() != "attachment":
            kind = "html" if ct == "text/html" else "text"
        out.append((p, kind))

    if msg.get_content_type() == "message/rfc822":
        return [(msg, None)]
    walk(msg, False)
    return out


def charset_of(p):
    cs = p.get_content_charset() or "utf-8"
    return "utf-8" if cs in ("us-ascii", "ascii") else cs


def part_text(p):
    return p.get_payload(decode=True).decode(charset_of(p), "replace")


def expected_links(msg, with_text=True):
    links = []
    for p, kind in leaf_parts(msg):
        if kind == "html":
            lp = Links()
            lp.feed(part_text(p))
            lp.close()
            found = lp.found
        elif kind == "text" and with_text:
            found = text_links(part_text(p))
        else:
            continue
        for u in map(dest_form, found):
            if u not in links:
                links.append(u)
    return links


def expected_recipients(msg):
    seen, out = set(), []
    for h in ("To", "Cc", "Bcc"):
        for _, addr in email.utils.getaddresses(msg.get_all(h, [])):
            if "@" in addr and addr.lower() not in seen:
                seen.add(addr.lower())
                out.append(addr)
    return out


# --- checking one output -------------------------------------------------------

CLICK = re.compile(re.escape(BASE) + r"/c/([A-Za-z0-9_-]{48})")
PIXEL = re.compile(r'<img src="' + re.escape(BASE) + r'/o/([A-Za-z0-9_-]{48})\.gif" width="1" '
                   r'height="1" alt="" border="0" style="position:absolute;float:left;border:0;'
                   r'margin:0;padding:0;width:0;height:0" />')


MSGID_FIELD = re.compile(rb"(?im)^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*")


def header_block(data):
    m = re.search(rb"\r?\n\r?\n", data)
    return data[:m.start() + 1] if m else data


def check_copy(name, orig_bytes, out_bytes, msg_id, recipient, stored_links, with_text=True,
               added_ok=("message-id",)):
    orig = email.message_from_bytes(orig_bytes, policy=email.policy.compat32)
    out = email.message_from_bytes(out_bytes, policy=email.policy.compat32)
    check(not out.defects, f"{name}: output has MIME defects {out.defects}")
    # headers: the original block, then only added ones
    ob, nb = header_block(orig_bytes), header_block(out_bytes)
    # a fresh Message-ID stands where the original one stood
    om, nm = MSGID_FIELD.search(ob), list(MSGID_FIELD.finditer(nb))
    if om and check(len(nm) == 1, f"{name}: {len(nm)} Message-ID fields"):
        check(nm[0].group(0) != om.group(0), f"{name}: the Message-ID was kept")
        nb = nb[:nm[0].start()] + om.group(0) + nb[nm[0].end():]
    marks = 0
    if check(nb.startswith(ob.rstrip(b"\r\n")), f"{name}: original headers not kept as they were"):
        extra = nb[len(ob.rstrip(b"\r\n")):].strip(b"\r\n")
        for line in extra.splitlines():
            hn = line.split(b":", 1)[0].decode().lower()
            if hn == "x-homing-copy":  # whom the copy is for (homing send reads it)
                t = decode_token(line.split(b":", 1)[1].strip().decode())
                check(t["kind"] == 5 and t["message"] == msg_id and t["recipient"] == recipient,
                      f"{name}: X-Homing-Copy names {t}")
                marks += 1
                continue
            check(hn in added_ok, f"{name}: unexpected added header {line!r}")
        check(marks == 1, f"{name}: {marks} X-Homing-Copy headers")
    ol, nl = leaf_parts(orig), leaf_parts(out)
    check([p.get_content_type() for p, _ in ol] == [p.get_content_type() for p, _ in nl],
          f"{name}: MIME structure changed")
    clicks = pixels = 0
    for (op, kind), (np_, _) in zip(ol, nl):
        if kind is None or (kind == "text" and not with_text):
            check(op.as_bytes() == np_.as_bytes() if op.get_content_type() == "message/rfc822"
                  else op.get_payload() == np_.get_payload(),
                  f"{name}: part {op.get_content_type()} that is not to be tracked changed")
            continue
        check(op.get("Content-Transfer-Encoding", "").lower() ==
              np_.get("Content-Transfer-Encoding", "").lower(), f"{name}: encoding changed")
        a, b = part_text(op), part_text(np_)
        if kind == "html":
            pm = list(PIXEL.finditer(b))
            if check(len(pm) == 1, f"{name}: {len(pm)} pixels in an HTML part"):
                t = decode_token(pm[0].group(1))
                check(t["kind"] == 1 and t["message"] == msg_id and t["recipient"] == recipient
                      and t["item"] == 0, f"{name}: bad pixel token {t}")
                # track.pixel_placement = top (the default): right after the
                # body's own start tag, which these messages all have
                before = b[:pm[0].start()]
                if re.search(r"<body[^>]*>", a, re.I):
                    check(re.search(r"<body[^>]*>$", before, re.I) is not None,
                          f"{name}: pixel not right after <body>")
                b = b[:pm[0].start()] + b[pm[0].end():]
                pixels += 1
        # the original = the output with each click URL replaced by its original text
        segs = CLICK.split(b)
        literal, toks = segs[0::2], segs[1::2]
        pat = "(.+?)".join(re.escape(s) for s in literal)
        m = re.fullmatch(pat, a, re.S)
        if not check(m is not None, f"{name}: {kind} part differs outside the rewritten URLs"):
            continue
        for i, tok in enumerate(toks):
            t = decode_token(tok)
            check(t["kind"] == 2 and t["message"] == msg_id and t["recipient"] == recipient,
                  f"{name}: bad click token {t}")
            raw = m.group(i + 1)
            if raw[:1] in "\"'" and raw[-1:] == raw[:1]:
                raw = raw[1:-1]
            want = dest_form(browser_url(html.unescape(raw)) if kind == "html" else raw)
            got = stored_links.get(t["item"])
            check(got == want, f"{name}: link {t['item']} stored as {got!r}, original {want!r}")
            clicks += 1
    return clicks, pixels


# --- the test ---------------------------------------------------------------------

def message_count(conf):
    rc, out, _ = run(conf, "message", "list", "--json")
    check(rc == 0, "message list failed")
    return len([line for line in out.splitlines() if line.strip()])  # one JSON object a line


def show(conf, mid):
    rc, out, err = run(conf, "message", "show", mid, "--json")
    check(rc == 0, f"message show {mid}: {err}")
    return json.loads(out)


def tracked_id(stdout_or_err):
    m = re.search(r"tracked ([0-9a-f]{16})", stdout_or_err)
    return m.group(1) if m else None


def check_qp_fidelity(conf, tmp):
    """Item 9 of issue 17: a changed quoted-printable part keeps every line the
    rewriting does not touch byte for byte (bare LFs in a CRLF message, soft
    breaks where the author's program put them, a final soft break), and
    every line written is at most 76 characters."""
    body = (b"<html><body>\r\n"
            b"<p>a long paragraph wrapped by its mail program at sixty=\r\n"
            b" characters, with =C3=A9 and a bare line feed next</p>\n"
            b"<p><a href=3D\"https://example.org/offer\">offer</a> and a l=\n"
            b"ine with a soft break after the link</p>\r\n"
            b"<p>untouched tail with a final soft break</p></body></html>=\r\n")
    msg = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: qp\r\n"
           b"Message-ID: <qp.1@example.org>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/alternative; boundary=\"BB\"\r\n\r\n"
           b"--BB\r\nContent-Type: text/html; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body +
           b"--BB--\r\n")
    src = os.path.join(tmp, "qp.eml")
    open(src, "wb").write(msg)
    out = os.path.join(tmp, "qp-out")
    rc, _, err = run(conf, "track", "-o", out, src)
    if not check(rc == 0, f"qp: track exit {rc}: {err}"):
        return
    ob = open(os.path.join(out, os.listdir(out)[0]), "rb").read()
    i = ob.index(b"quoted-printable\r\n\r\n") + len(b"quoted-printable\r\n\r\n")
    got = ob[i:ob.index(b"--BB--")]
    orig_lines = body.splitlines(keepends=True)
    got_lines = got.splitlines(keepends=True)
    # lines 2-3 and the last are untouched; the pixel's (right after <body>,
    # track.pixel_placement = top) and the link's hard lines re-encoded; the
    # end site, with no document link to add, changes nothing
    for ln in orig_lines[1:3] + orig_lines[-1:]:
        check(ln in got_lines, f"qp: line {ln!r} not kept byte for byte in {got!r}")
    check(got.endswith(b"</html>=\r\n"), f"qp: final soft break not kept: {got[-40:]!r}")
    check(b"/c/" in got and b"example.org/offer" not in got, "qp: link not rewritten")
    check(b"</body>" in got.replace(b"=\r\n", b"").replace(b"=\n", b""), "qp: pixel part")
    for ln in got_lines:
        check(len(ln.rstrip(b"\r\n")) <= 76, f"qp: line of {len(ln.rstrip())} characters")


def check_domain_base_url(conf, tmp):
    """Item 7 of issue 17: mail From a domain named in [domain NAME] is tracked
    under that domain's public_base_url (pixel, links), a link already under it
    left alone; mail from another domain (a subdomain too) under
    public.base_url; `homing message add --json` gives the domain's URLs."""
    dconf = os.path.join(os.path.dirname(conf), "domains.conf")
    open(dconf, "w").write(open(conf).read() +
                           "\n[domain Example.ORG]\npublic_base_url = https://t.example.org/h\n"
                           "[domain example.net]\npublic_base_url = https://t.example.net\n")
    for sender, want in (("alice@example.org", "https://t.example.org/h"),
                         ("bob@EXAMPLE.net", "https://t.example.net"),
                         ("carol@mail.example.org", BASE)):
        html = ('<html><body><a href="https://shop.example/x">x</a>'
                '<a href="https://t.example.org/h/c/already">y</a></body></html>')
        msg = (f"From: {sender}\nTo: dan@example.com\nSubject: d\nMIME-Version: 1.0\n"
               f"Content-Type: text/html; charset=utf-8\n\n{html}\n").encode()
        src = os.path.join(tmp, f"dom-{sender}.eml")
        open(src, "wb").write(msg)
        out = os.path.join(tmp, f"dom-{sender}.out")
        rc, _, err = run(dconf, "track", "--per-message", "-o", out, src)
        if not check(rc == 0, f"domain {sender}: track exit {rc}: {err}"):
            continue
        got = open(out, "rb").read().decode()
        check(re.search(re.escape(want) + r"/o/[A-Za-z0-9_-]{48}\.gif", got) is not None,
              f"domain {sender}: pixel not under {want}: {got!r}")
        check(re.search(r'href="' + re.escape(want) + r"/c/[A-Za-z0-9_-]{48}\"", got) is not None,
              f"domain {sender}: link not under {want}: {got!r}")
        others = {BASE, "https://t.example.org/h", "https://t.example.net"} - {want}
        check(not any(re.search(re.escape(o) + r"/[oc]/[A-Za-z0-9_-]{48}", got) for o in others),
              f"domain {sender}: URLs of another domain: {got!r}")
        if want != BASE:
            check('href="https://t.example.org/h/c/already"' in got or "example.org" not in want,
                  f"domain {sender}: a link under its own base URL was rewritten")
    rc, out, err = run(dconf, "message", "add", "--json", "--subject", "s", "--from", "eve@example.org", "--to",
                       "frank@example.com", "--link", "https://shop.example/y")
    if check(rc == 0, f"message add: exit {rc}: {err}"):
        j = json.loads(out)
        urls = [c["open_url"] for c in j["copies"]] + \
            [ln["click_url"] for c in j["copies"] for ln in c["links"]]
        check(urls and all(u.startswith("https://t.example.org/h/") for u in urls),
              f"message add: copies not under the domain's URL: {urls}")


def check_strip_qp_lines(conf, tmp):
    """Item 9 of issue 17: `homing strip` re-encodes a changed quoted-printable
    part in lines of at most 76 characters (GMime's encoder wrote 77), and the
    text decodes to what it was."""
    import quopri
    import random
    rnd = random.Random(5)
    longest = 0
    for trial in range(40):
        text = "".join("".join(rnd.choice("ab \u00e9=\t.") for _ in range(rnd.randint(60, 90))) +
                       rnd.choice(["\n", " \n", "\t\n", "=\n"]) for _ in range(30))
        html = '<html><body><img src="https://t.example.com/p.gif"><p>' + text + "</p></body></html>\n"
        eol = "\r\n" if trial % 2 else "\n"
        msg = ("From: a@x.org\nTo: b@y.org\nSubject: s\nMIME-Version: 1.0\n"
               "Content-Type: multipart/alternative; boundary=BB\n\n--BB\n"
               "Content-Type: text/html; charset=utf-8\n"
               "Content-Transfer-Encoding: quoted-printable\n\n" +
               quopri.encodestring(html.encode()).decode() + "--BB--\n").replace("\n", eol)
        src = os.path.join(tmp, "strip-qp.eml")
        open(src, "w", newline="").write(msg)
        rc, out, err = run(conf, "strip", src)
        if not check(rc == 0, f"strip qp: exit {rc}: {err}"):
            return
        longest = max([longest] + [len(ln.rstrip(b"\r")) for ln in out.split(b"\n")])
        m = email.message_from_bytes(out, policy=email.policy.compat32)
        part = [p for p in m.walk() if p.get_content_type() == "text/html"][0]
        got = part.get_payload(decode=True).decode().replace("\r\n", "\n")
        check(text in got, f"strip qp: text changed in trial {trial}")
    check(longest <= 76, f"strip qp: a line of {longest} characters")


def main():
    tmp = tempfile.mkdtemp(prefix="homing-track-")
    try:
        var = os.path.join(tmp, "var")
        subprocess.run([HOMING, "init", var], check=True, capture_output=True, timeout=60)
        conf = os.path.join(var, "homing.conf")
        files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))
        check(len(files) >= 8, "corpus too small")
        total_clicks = 0
        for f in files:
            path = os.path.join(CORPUS, f)
            data = open(path, "rb").read()
            orig = email.message_from_bytes(data, policy=email.policy.compat32)
            want_rcpt = expected_recipients(orig)
            want_links = expected_links(orig)
            added = ("message-id",)

            # per recipient
            outdir = os.path.join(tmp, "out-" + f)
            rc, out, err = run(conf, "track", "-o", outdir, path)
            if not check(rc == 0, f"{f}: track exit {rc}: {err}"):
                continue
            mid = tracked_id(out.decode())
            stored = show(conf, mid)
            check([r["address"] for r in stored["recipients"]] == want_rcpt,
                  f"{f}: recipients {[r['address'] for r in stored['recipients']]} != {want_rcpt}")
            check([r["index"] for r in stored["recipients"]] == list(range(1, len(want_rcpt) + 1)),
                  f"{f}: recipient indexes")
            check(stored["mode"] == "per-recipient", f"{f}: mode {stored['mode']}")
            links = {l["index"]: l["url"] for l in stored["links"]}
            check([links[i] for i in sorted(links)] == want_links,
                  f"{f}: links {[links[i] for i in sorted(links)]} != {want_links}")
            if orig["Message-ID"]:  # each tracked message gets its own
                check(stored["message_id"] != orig["Message-ID"].strip().strip("<>"),
                      f"{f}: Message-ID stored {stored['message_id']}")
            outs = sorted(os.listdir(outdir))
            check(len(outs) == len(want_rcpt), f"{f}: {len(outs)} files for {len(want_rcpt)}")
            for i, name in enumerate(outs):
                check(name.startswith("%03d-" % (i + 1)) and name.endswith(".eml") and
                      want_rcpt[i].split("@")[0] in name, f"{f}: output name {name}")
                ob = open(os.path.join(outdir, name), "rb").read()
                c, _ = check_copy(f"{f}/{name}", data, ob, int(mid, 16), i + 1, links,
                                  added_ok=added)
                total_clicks += c
                # added or replaced: the stored one
                om = email.message_from_bytes(ob)
                check(om["Message-ID"] == "<%s>" % stored["message_id"],
                      f"{f}: the copy's Message-ID is not the stored one")

            # per message, written to stdout
            rc, out, err = run(conf, "track", "--per-message", path)
            if check(rc == 0, f"{f}: per-message exit {rc}: {err}"):
                mid2 = tracked_id(err)
                check(mid2 and mid2 != mid, f"{f}: per-message id")
                s2 = show(conf, mid2)
                check(s2["mode"] == "per-message", f"{f}: per-message mode")
                links2 = {l["index"]: l["url"] for l in s2["links"]}
                check_copy(f"{f} (per message)", data, out, int(mid2, 16), 0, links2,
                           added_ok=added)

        check(total_clicks > 40, f"only {total_clicks} click URLs checked")

        # options
        nl = os.path.join(CORPUS, "newsletter.eml")
        data = open(nl, "rb").read()
        rc, out, err = run(conf, "track", "--per-message", "--no-text", "--read-receipt", nl)
        if check(rc == 0, f"--no-text: {err}"):
            s = show(conf, tracked_id(err))
            links = {l["index"]: l["url"] for l in s["links"]}
            orig = email.message_from_bytes(data, policy=email.policy.compat32)
            check([links[i] for i in sorted(links)] == expected_links(orig, with_text=False),
                  "--no-text: links")
            check_copy("--no-text", data, out, int(tracked_id(err), 16), 0, links,
                       with_text=False, added_ok=("disposition-notification-to",))
            check(email.message_from_bytes(out)["Disposition-Notification-To"] ==
                  "<news@riverside-coop.example>", "--read-receipt header")
        rc, out, err = run(conf, "track", "--per-message", "--read-receipt-to", "r@example.com",
                           "-", stdin=data)
        check(rc == 0 and email.message_from_bytes(out)["Disposition-Notification-To"] ==
              "<r@example.com>", "--read-receipt-to from stdin")
        mb = os.path.join(tmp, "copies.mbox")
        rc, out, err = run(conf, "track", "--to", "x@example.com", "--to", "y@example.org",
                           "--mbox", mb, nl)
        if check(rc == 0, f"--mbox: {err}"):
            s = show(conf, tracked_id(out.decode()))
            check([r["address"] for r in s["recipients"]] == ["x@example.com", "y@example.org"],
                  "--to recipients")
            box = list(mailbox.mbox(mb))
            check(len(box) == 2, f"mbox has {len(box)} messages")
            for i, m in enumerate(box):
                toks = [decode_token(t) for t in CLICK.findall(m.as_string())]
                check(toks and all(t["recipient"] == i + 1 for t in toks),
                      "mbox copy tokens per recipient")
        rc, _, err = run(conf, "track", "-o", os.path.join(tmp, "dk"),
                         os.path.join(CORPUS, "signed-dkim.eml"))
        check(rc == 0 and "DKIM" in err, "DKIM warning")

        check_qp_fidelity(conf, tmp)
        check_domain_base_url(conf, tmp)
        check_strip_qp_lines(conf, tmp)

        # bad input: exit 2, one line, nothing registered, no files
        before = message_count(conf)
        bad = sorted(os.listdir(os.path.join(CORPUS, "bad")))
        check(len(bad) >= 6, "bad corpus too small")
        for f in bad:
            od = os.path.join(tmp, "bad-" + f)
            rc, out, err = run(conf, "track", "-o", od, os.path.join(CORPUS, "bad", f))
            check(rc == 2, f"bad/{f}: exit {rc}")
            check(len(err.splitlines()) == 1, f"bad/{f}: stderr {err!r}")
            check(not os.path.exists(od) or not os.listdir(od), f"bad/{f}: wrote files")
        rc, _, err = run(conf, "track", "--per-message", "-", stdin=b"")
        check(rc == 2 and len(err.splitlines()) == 1, "empty stdin")
        # over track.max_size
        text = open(conf).read()
        text = re.sub(r"(?m)^max_size = .*$", "max_size = 1000", text)
        open(conf, "w").write(text)
        rc, _, err = run(conf, "track", "-o", os.path.join(tmp, "big"), nl)
        check(rc == 2 and "max_size" in err and len(err.splitlines()) == 1, "track.max_size")
        check(message_count(conf) == before, "bad input registered a message")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("track: all checks passed")


if __name__ == "__main__":
    main()
