#!/usr/bin/env python3
"""Writes the scan corpus (tests/data/scan/msgs/*.eml, mbox/). Run once by hand;
the messages are committed, and goldens are made from them by test_scan.py with
UPDATE_GOLDEN=1. Hashes and encodings are computed here so they are right.
Every host is fictional or a real vendor's tracking domain; no real person."""
import base64, hashlib, os, quopri

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'msgs')

def qp(s):
    return quopri.encodestring(s.encode('utf-8')).decode('ascii')

def b64(b):
    e = base64.encodebytes(b).decode('ascii')
    return e

def hexd(alg, s):
    return hashlib.new(alg, s.encode()).hexdigest()

def write(name, text):
    with open(os.path.join(D, name), 'w', newline='') as f:
        f.write(text.replace('\n', '\r\n') if name.endswith('.crlf.eml') else text)

def head(frm, to, subj, extra=''):
    return (f"Return-Path: <bounce@{frm.split('@')[1]}>\n"
            f"From: Sender <{frm}>\nTo: <{to}>\nSubject: {subj}\n"
            f"Date: Mon, 02 Nov 2026 10:00:00 +0000\n"
            f"Message-ID: <{subj.replace(' ', '.').lower()}@{frm.split('@')[1]}>\n"
            f"MIME-Version: 1.0\n{extra}")

# 1. Mailchimp: multipart/alternative, QP HTML, list-manage pixel and click links
html = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Autumn news</title></head>
<body style="margin:0">
<table width="600"><tr><td>
<h1>Autumn news from the bakery</h1>
<p>Our new sourdough is here. <a href="https://bakery.us21.list-manage.com/track/click?u=5c1e7d9a8b&amp;id=29f3a7c4e1&amp;e=7b2d91c0aa">Read more</a></p>
<img src="https://mcusercontent.com/5c1e7d9a8b/images/bread.jpg" width="560" height="300" alt="Bread">
<p><a href="https://bakery.us21.list-manage.com/unsubscribe?u=5c1e7d9a8b&amp;id=29f3a7c4e1&amp;e=7b2d91c0aa">Unsubscribe</a></p>
</td></tr></table>
<img src="https://bakery.us21.list-manage.com/track/open.php?u=5c1e7d9a8b&amp;id=29f3a7c4e1&amp;e=7b2d91c0aa" height="1" width="1" alt="">
</body></html>
"""
write('mailchimp.eml', head('news@bakery.example', 'ann.lee@example.net', 'Autumn news',
 'Content-Type: multipart/alternative; boundary="=_mc1"\n') + f"""
This is a multi-part message in MIME format.

--=_mc1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Autumn news from the bakery. Read more: https://bakery.us21.list-manage.com/track/click?u=5c1e7d9a8b

--=_mc1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--=_mc1--
""")

# 2. SendGrid: base64 HTML, ct.sendgrid.net open pixel and click links
html = """<html><body>
<p>Your order #10442 has shipped.</p>
<p><a href="https://u1234567.ct.sendgrid.net/ls/click?upn=Vn8Qz3kLmP2xR7tY9wA4bC6dE1fG0hJ5">Track your parcel</a></p>
<p><a href="https://shop.example/account">Your account</a></p>
<img src="https://u1234567.ct.sendgrid.net/wf/open?upn=Xy7Tq2Lm9Pz4Rk8Wv3Nb6Hc1Jd5Fg0Ks" alt="" width="1" height="1" border="0" style="height:1px !important;width:1px !important">
</body></html>
"""
write('sendgrid.eml', head('orders@shop.example', 'ann.lee@example.net', 'Your order has shipped',
 'Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n') + "\n" + b64(html.encode()))

# 3. HubSpot: hidden pixel (display:none ancestor), sha256 of the address, wrapped links
rc = 'Ben.Okafor@Example.org'
h256 = hexd('sha256', rc.lower())
dest = 'https%3A%2F%2Fwww.softco.example%2Fwebinar%3Fref%3Dmail'
html = f"""<html><head><style>p {{ font-family: Arial; }}</style></head><body>
<p>Join our webinar on Thursday.</p>
<p><a href="https://t.hubspotlinks.com/Ctc/5D+113/d2Vf3q04/VWq8Nm2lz9WkW3Qx?url={dest}&amp;hsenc=p2ANqtz">Register</a></p>
<div style="display: none; max-height: 0px; overflow: hidden;">
<img src="https://track.softco.example/e2t/to/VWq8Nm2lz9WkW3Qx.gif" alt="">
</div>
<img src="https://t.hubspotemail.net/e1t/o/5/f18dQhb0S7kF8?si=5123&amp;pi=8c1f{h256}" width="600" height="2">
</body></html>
"""
write('hubspot.eml', head('events@softco.example', rc, 'Webinar invitation',
 'Content-Type: multipart/alternative; boundary="b2"\n') + f"""
--b2
Content-Type: text/plain; charset=us-ascii

Join our webinar on Thursday.

--b2
Content-Type: text/html; charset=us-ascii
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--b2--
""")

# 4. Amazon SES: awstrack.me with the destination in the path, sha1 of local part, Delivered-To
rc = 'carla.diaz@example.com'
s1 = hexd('sha1', 'carla.diaz')
html = f"""<html><body>
<p>Your invoice for November is ready.</p>
<a href="https://abc123.r.us-east-1.awstrack.me/L0/https:%2F%2Fbilling.utility.example%2Finvoices%2F2026-11/1/0100018b-5c3a-4d2e-9f1a-7e6b5c4d3e2f-000000/Qm9ndXM=">View invoice</a>
<img alt="" src="https://abc123.r.us-east-1.awstrack.me/I0/0100018b-5c3a-4d2e-9f1a-7e6b5c4d3e2f-000000/{s1}" style="display: none; width: 1px; height: 1px;">
</body></html>
"""
write('ses.eml', f"Delivered-To: {rc}\n" + head('billing@utility.example', 'Carla Diaz <carla.diaz@example.com>',
 'Your invoice', 'Content-Type: text/html; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable\n') + "\n" + qp(html))

# 5. Salesforce Marketing Cloud: multipart/related with cid: logo, CSS beacons in <style>
html = """<html><head>
<style type="text/css">
@import url("https://fonts.airline.example/css?family=Brand");
@font-face { font-family: Brand; src: url(https://click.airline.example/open.aspx?ffcb10-fe8c1c7-7c3b9a1f2e4d5c6b&d=40) format('woff'); }
.hero { background-image: url('https://view.airline.example/bg/hero.jpg'); }
@media print { .x { background: url(https://click.airline.example/open.aspx?ffcb10-print-7c3b9a1f2e4d5c6b) } }
</style></head><body>
<img src="cid:logo@airline.example" alt="Airline">
<div class="hero"><h1>Fly to Lisbon from 49</h1></div>
<p><a href="https://click.airline.example/?qs=8d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a">Book now</a></p>
<p><a href="http://cl.exct.net/?qs=4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c">View online</a></p>
<img src="https://click.airline.example/open.aspx?ffcb10-fe8c1c7-7c3b9a1f2e4d5c6b&amp;d=40&amp;bmt=0" width="1" height="1" alt="">
</body></html>
"""
gif = base64.b64decode('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7')
write('salesforce.eml', head('offers@airline.example', 'dan.muller@example.net', 'Fly to Lisbon',
 'Content-Type: multipart/related; boundary="rel3"; type="text/html"\n') + f"""
--rel3
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{b64(html.encode())}
--rel3
Content-Type: image/gif
Content-Transfer-Encoding: base64
Content-ID: <logo@airline.example>
Content-Disposition: inline; filename="logo.gif"

{b64(gif)}
--rel3--
""")

# 6. Klaviyo: base64 address in a link, id image without size, srcset, <picture>
rc = 'eve.martin@example.net'
e64 = base64.urlsafe_b64encode(rc.encode()).decode().rstrip('=')
html = f"""<html><body>
<picture>
<source srcset="https://img.shoes.example/p/7f3e9b2a1c8d4e6f0a5b.webp 1x, https://img.shoes.example/p/7f3e9b2a1c8d4e6f0a5b@2x.webp 2x" type="image/webp">
<img src="https://img.shoes.example/hero.jpg" width="600" height="400" alt="Sneakers">
</picture>
<p><a href="https://ctrk.klclick.com/l/01HF8Z3KQ7RM5X2N9B4VDT6YWC_{e64}">Shop the sale</a></p>
<img src="https://trk.shoes.example/open/01HF8Z3KQ7RM5X2N9B4VDT6YWC" alt="">
<p><a href="https://shoes.example/sale">See all</a></p>
</body></html>
"""
write('klaviyo.eml', head('hello@shoes.example', rc, 'The sale starts now',
 'Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n') + "\n" + html)

# 7. Sales engagement tools: 1x1 pixels of Yesware, Mailtrack, Superhuman; read-receipt headers
html = """<div dir="ltr">Hi Frank,<br><br>Following up on our call. Deck attached.<br><br>Grace</div>
<img width="0" height="0" class="mailtrack-img" alt="" style="display:flex" src="https://mailtrack.io/trace/mail/3f8e2a9c1b7d4e6f5a0b9c8d7e6f5a4b3c2d1e0f.png?u=7429031">
<img src="https://t.yesware.com/t/8f2e1d0c9b8a7f6e5d4c3b2a19080706/a1b2c3d4e5f60718293a4b5c6d7e8f90/spacer.gif" style="border:0; width:1px; height:1px;" alt="">
<img src="https://r.superhuman.com/K9dQ2mXvB7pL4sN8wZ1cR5tY3uE6iO0a.gif" alt=" " width="1" height="1" style="display:block">
"""
write('sales_tools.eml', head('grace@vendor.example', 'frank.wu@example.org', 'Following up',
 'Disposition-Notification-To: grace@vendor.example\nReturn-Receipt-To: grace@vendor.example\n'
 'X-Confirm-Reading-To: <grace@vendor.example>\n'
 'Content-Type: text/html; charset=UTF-8\n') + "\n" + html)

# 8. Every other kind of remote load
html = """<!DOCTYPE html><html><head>
<meta http-equiv="refresh" content="30; URL='https://news.portal.example/r/2b9f4e1a7c3d5e8f'">
<link rel="stylesheet" href="https://news.portal.example/mail.css?r=2b9f4e1a7c3d5e8f">
<link rel="dns-prefetch" href="//beacon.portal.example">
<link rel="preconnect" href="https://beacon.portal.example">
<link rel="prefetch" href="https://beacon.portal.example/p/2b9f4e1a7c3d5e8f">
</head><body background="https://news.portal.example/bg/2b9f4e1a7c3d5e8f.png">
<table><tr><td background="https://news.portal.example/cell.png" style="background:url(&quot;https://beacon.portal.example/c/2b9f4e1a7c3d5e8f.gif&quot;)">News</td></tr></table>
<iframe src="https://beacon.portal.example/frame/2b9f4e1a7c3d5e8f" width="0" height="0"></iframe>
<object data="https://beacon.portal.example/obj/2b9f4e1a7c3d5e8f"></object>
<embed src="https://beacon.portal.example/emb/2b9f4e1a7c3d5e8f.swf">
<video poster="https://beacon.portal.example/poster/2b9f4e1a7c3d5e8f.jpg" width="320" height="180"></video>
<img src="https://beacon.portal.example/a.gif" style="position:absolute; left:-5000px">
<img src="https://beacon.portal.example/b.gif" style="opacity:0">
<img src="https://beacon.portal.example/c.gif" style="visibility:hidden">
<span style="max-height:0;overflow:hidden"><img src="https://beacon.portal.example/d.gif"></span>
<img src="https://beacon.portal.example/e.gif" width="5" height="5">
</body></html>
"""
write('loads.eml', head('digest@portal.example', 'gus.tan@example.com', 'Daily digest',
 'Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n') + "\n" + qp(html))

# 9. ISO-8859-1 newsletter (CleverReach-style), QP, SHA-512 and MD5 of the address
rc = 'Hanna.Schoen@example.de'
m5 = hexd('md5', rc)
s512 = hexd('sha512', rc.lower())
html = f"""<html><body>
<p>Gr\u00fc\u00dfe aus M\u00fcnchen! Unsere Angebote f\u00fcr Sie.</p>
<p><a href="https://verein.example/angebote?mid={m5}">Angebote ansehen</a></p>
<img src="https://eu.crsend.com/stats/{s512}.gif" width="1" height="1">
</body></html>
"""
enc = quopri.encodestring(html.encode('iso-8859-1')).decode('ascii')
write('latin1.eml', head('info@verein.example', rc, 'Angebote',
 'Content-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n') + "\n" + enc)

# 10. Forwarded message: the tracked mail inside message/rfc822
inner = open(os.path.join(D, 'sendgrid.eml')).read()
write('forwarded.eml', head('ivan@example.org', 'jo.kim@example.net', 'Fwd: Your order has shipped',
 'Content-Type: multipart/mixed; boundary="fw10"\n') + f"""
--fw10
Content-Type: text/plain; charset=utf-8

See below.

--fw10
Content-Type: message/rfc822
Content-Disposition: inline

{inner}
--fw10--
""")

# 11. Redirect wrappers: Google, Safe Links, a share link that must stay as it is
html = """<html><body>
<p><a href="https://www.google.com/url?q=https://docs.example.org/spec&amp;sa=D&amp;ust=1700000000000000">Spec</a></p>
<p><a href="https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fintranet.example.com%2Fpolicy%3Fv%3D2&amp;data=05%7C01%7C&amp;reserved=0">Policy</a></p>
<p><a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fblog.example.org%2Fpost">Share</a></p>
<p><a href="https://links.example-club.org/redirect?url=https%3A%2F%2Fevents.example-club.org%2Fmeetup&amp;id=88f1c2d3e4a5b6c7">Meetup</a></p>
</body></html>
"""
write('wrappers.eml', head('club@example-club.org', 'kim.lo@example.com', 'Links',
 'Content-Type: text/html; charset=utf-8\n') + "\n" + html)

# 16. CSS escapes (CSS Syntax 3, 4.3.7) spelling url( and @import, strings ended by FF
# and CR, and an SVG <style> (not RAWTEXT: character references count); base64 keeps
# the CR and FF bytes. strip must neutralise the loads and keep the rest of the CSS.
html = """<html><head><style>
body{color:#222;font-family:Georgia,serif}
.hero{background:u\\72l(https://t.escapes.example/o/1f9c2b7a3e5d4c6b.gif) no-repeat;padding:8px}
.band{background-image:url(\\68 ttps://t.escapes.example/o/2a8d3c6b1e4f5a7c.gif);color:#036}
</style>
<style>@\\69mport "https://t.escapes.example/s/3b7e4d5c2a1f6e8d.css";h1{font-size:22px}</style>
<style>.ff{font-family:"F\fx;background:url(https://t.escapes.example/o/4c6f5e4d3b2a1f9e.gif)}"</style>
<style>.cr{font-family:"C\rx;background:url(https://t.escapes.example/o/7f3a8b7c6e5d4f3a.gif)}"</style>
</head><body>
<h1 class="hero">Escapes</h1>
<p class="band">Band</p>
<p style="color:\\72 ed;background:\\75 rl(https://t.escapes.example/o/5d5a6f5e4c3b2a1f.gif)">Red</p>
<p class="ff">Form feed</p>
<p class="cr">Carriage return</p>
<svg width="10" height="10"><style>.svgbg{background:&#117;rl(https://t.escapes.example/o/6e4b7a6f5d4c3b2a.gif)}</style><circle cx="5" cy="5" r="4"/></svg>
<div class="svgbg">SVG style</div>
</body></html>
"""
write('css_escapes.eml', head('letters@escapes.example', 'quinn.ho@example.org', 'Escapes',
 'Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n') + "\n" + b64(html.encode()))

# 17. Wrapped links in text/plain (the text alternative of a newsletter, ISO-8859-1 in QP,
# and an inline UTF-16 part in base64): strip replaces them by their destinations and keeps
# every other character, the charsets and the transfer encodings.
text = """Grüße aus dem Verein!

Programm: https://www.google.com/url?q=https://verein.example/programm?jahr=2026&sa=D&ust=1700000000000000.
Anmeldung <https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fanmeldung.verein.example%2Fform%3Fid%3D7&data=05%7C01%7C&reserved=0>
Rechnung (https://abc123.r.us-east-1.awstrack.me/L0/https:%2F%2Fkasse.verein.example%2Frechnung%2F2026-11/1/0100018b-5c3a-4d2e-9f1a-7e6b5c4d3e2f-000000/Qm9ndXM=)
Newsletter: https://u1234567.ct.sendgrid.net/ls/click?upn=Vn8Qz3kLmP2xR7tY9wA4bC6dE1fG0hJ5
Karte: https://maps.example/verein — bis bald, Jörg
"""
html = """<html><body><p>Grüße aus dem Verein!</p>
<p><a href="https://www.google.com/url?q=https://verein.example/programm?jahr=2026&amp;sa=D">Programm</a></p>
<img src="https://links.verein.example/o/8c1d2e3f4a5b6c7d.gif" width="1" height="1" alt="">
</body></html>
"""
note = "Notiz: https://links.verein.example/redirect?url=https%3A%2F%2Fverein.example%2Fnotiz ✓\n"
write('text_wrapped.eml', head('vorstand@verein.example', 'ria.berg@example.de', 'Programm 2026',
 'Content-Type: multipart/mixed; boundary="tw1"\n') + f"""
--tw1
Content-Type: multipart/alternative; boundary="tw2"

--tw2
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

{quopri.encodestring(text.replace(chr(8212), '-').encode('iso-8859-1')).decode('ascii')}
--tw2
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

{html}
--tw2--

--tw1
Content-Type: text/plain; charset=utf-16
Content-Transfer-Encoding: base64
Content-Disposition: inline

{b64(note.encode('utf-16'))}
--tw1--
""")

# ---- controls: no tracking ----
# 12. cid: images only (multipart/related)
html = """<html><body><img src="cid:header@shop.example" width="600" height="200" alt="Header">
<p>Thank you for your order.</p><img src="cid:footer@shop.example" width="1" height="1" alt=""></body></html>
"""
write('clean_cid.eml', head('orders@shop.example', 'lee.park@example.com', 'Thank you',
 'Content-Type: multipart/related; boundary="c12"\n') + f"""
--c12
Content-Type: text/html; charset=utf-8

{html}
--c12
Content-Type: image/gif
Content-Transfer-Encoding: base64
Content-ID: <header@shop.example>

{b64(gif)}
--c12
Content-Type: image/gif
Content-Transfer-Encoding: base64
Content-ID: <footer@shop.example>

{b64(gif)}
--c12--
""")

# 13. a spacer gif repeated in a table layout
row = '<tr><td><img src="https://www.oldschool.example/img/spacer.gif" width="1" height="1" alt=""></td><td>Item</td></tr>\n'
html = '<html><body><table>\n' + row * 6 + '</table></body></html>\n'
write('clean_spacer.eml', head('list@oldschool.example', 'max.ng@example.org', 'Listing',
 'Content-Type: text/html; charset=us-ascii\n') + "\n" + html)

# 14. normal sized images and plain links from the sender's site
html = """<html><body>
<img src="https://www.museum.example/images/exhibition-2026-spring.jpg" width="600" height="300" alt="Exhibition">
<img src="https://www.museum.example/images/logo.png" alt="Museum">
<p>Opening hours: <a href="https://www.museum.example/visit?lang=en">Visit</a>,
<a href="mailto:info@museum.example">write to us</a>.</p>
</body></html>
"""
write('clean_images.eml', head('friends@museum.example', 'nia.roy@example.com', 'Spring exhibition',
 'Content-Type: multipart/alternative; boundary="c14"\n') + f"""
--c14
Content-Type: text/plain; charset=utf-8

Spring exhibition.

--c14
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{b64(html.encode())}
--c14--
""")

# 15. plain text only
write('clean_plain.eml', head('oscar@example.org', 'pat.ma@example.net', 'Lunch',
 'Content-Type: text/plain; charset=utf-8\n') + "\nLunch on Friday? https://maps.example/place/42\n")

# mbox with two messages (one tracked, one clean)
os.makedirs(os.path.join(D, '..', 'mbox'), exist_ok=True)
with open(os.path.join(D, '..', 'mbox', 'two.mbox'), 'w') as f:
    for n in ('sales_tools.eml', 'clean_plain.eml'):
        f.write('From sender@example Mon Nov  2 10:00:00 2026\n')
        f.write(open(os.path.join(D, n)).read())
        f.write('\n')
