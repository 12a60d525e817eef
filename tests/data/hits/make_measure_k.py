#!/usr/bin/env python3
"""make_measure_k.py: appends part K of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule cites
(checked against every make_measure_*.py, hits.tsv, tune.tsv,
data/machines.tsv, data/useragents.tsv and docs/verdicts.md before the
first run): other projects' threads about links used up by scanners and
opens nobody made (nomadkaraoke/karaoke-gen#870,
onetimesecret/onetimesecret#359, boldsoftware/exe.dev#89,
better-auth/better-auth#5550, turf-tools/turf-tools#44,
jdavidbakr/mail-tracker#228, gophish/gophish#2803, #2679, #2357, #1555,
#3055, #3208, #2177), two bot threads quoting crawlers' User-Agents and
addresses (CIDRAM/CIDRAM#317, mitchellkrogza/nginx-ultimate-bad-bot-blocker
#549), and ESPs' and senders' pages on machine clicks (Instiller's
"Automated Email Scanning", Insider One's "Email Bot Clicks", the Constant
Contact community's "bots following links in e-mails", Bulk Mail
Verifier's "Bot clicks" measurement post).

Weighted towards what the blind runs of parts H to J missed most: security
products fetching links and the pixel at delivery (scanner), early machine
opens, and people's own requests (human: consumer networks, real browsers,
Accept-Language, a person's timing).

Each scenario takes from its source what the source reports: the
User-Agent where it quotes one (or names browser and version: then that
browser's standard string, said per line), the network (an address the
source gives; else, where the source names the provider, an address from
its published ranges in data/published/ or its autonomous system in
ipldb, named per line), the timing relative to delivery, which request
(pixel or link), and what the request really was according to the
source. Where a source does not quote a scanner's User-Agent, the line has
an ordinary current browser's and no Accept-Language, and says so; a
person's request where the source quotes no User-Agent gets an ordinary
browser with the Accept-Language every browser sends. Where a source gives
no network at all, the line uses a consumer address no list names (not
Comcast's, which part J used for that) and says so.

Labels follow docs/verdicts.md's definitions: a security product fetching
the pixel or following the link to inspect it is `scanner`, and so is a
machine clicking several links of one message within seconds of delivery;
scripted clients and crawlers are `probe`; a person's own request is
`human`.

Written on 2026-12-07 AFTER rules version 10 and before rules version 11,
with these labels decided in this script before the first run; the rules
are never fitted to its rows (docs/verdicts.md, "The order in which this
was done", step 17). Every row's last column names its source.

Run from the source root, after make_measure_j.py (which rewrites from part
J on): python3 tests/data/hits/make_measure_k.py
"""
from measure_writer import Part, NOT_QUOTED

UA = {
    # karaoke-gen#870 names "Chrome/149 headless" from Google and the
    # person's Chrome/148: Chrome's standard strings for those versions
    "headless149": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/149.0.0.0 Safari/537.36",
    "chrome148_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36",
    # gophish#1555 names "Windows 7" and "IE 8.0" for the automatic clicks:
    # IE 8's standard string on Windows 7; and IE 11's for the people's
    "ie8_win7": "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
    "ie11_win7": "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
    # gophish#2357: "an older version of Chrome" than installed
    "chrome_old": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.75 Safari/537.36",
    # quoted: CIDRAM#317 (Amazonbot), nginx-ultimate-bad-bot-blocker#549
    "amazonbot": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/600.2.5 (KHTML, like Gecko) Version/8.0.2 Safari/600.2.5 (Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot)",
    "gptbot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "claudebot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    # ordinary current browsers, for scanners whose User-Agent the source does not quote
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
    # people's browsers
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
    "chrome_android": "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
    "edge_win_person": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0",
}

# (address, where it comes from)
NET = {
    # karaoke-gen#870: Google LLC addresses (the thread elides the middle
    # of 2607:f8b0…::12 and …::7; ipldb AS15169 2607:f8b0::/32)
    "google6_12": ("2607:f8b0:4004:c1b::12", "net: the thread's 2607:f8b0...::12 (middle elided there, filled in), AS15169 Google (ipldb 2607:f8b0::/32)"),
    "google6_7": ("2607:f8b0:4004:c1b::7", "net: the thread's 2607:f8b0...::7, AS15169 Google (ipldb)"),
    "vpn_person": ("173.245.209.177", "net: the thread's address, the person's VPN (ipldb AS140952 Strong Technology)"),
    # onetimesecret#359: AWS and Cogent
    "aws": ("18.204.10.10", "net: AWS, as the thread says (ipldb AS14618 Amazon 18.204.0.0-18.215.255.255)"),
    "cogent": ("38.104.10.10", "net: Cogent, as the thread says (ipldb AS174 Cogent 38.103.252.0-38.105.0.255)"),
    # CIDRAM#317: the thread's Amazonbot address
    "amazonbot": ("3.224.220.101", "net: the thread's address (ipldb AS14618 Amazon)"),
    # Exchange Online Protection (microsoft-eop.txt)
    "eop_40_107": ("40.107.150.25", "net: EOP 40.107.0.0/16 (microsoft-eop.txt)"),
    "eop_52_102": ("52.102.7.9", "net: EOP 52.100.0.0/14 (microsoft-eop.txt)"),
    "eop_40_107b": ("40.107.96.12", "net: EOP 40.107.0.0/16 (microsoft-eop.txt)"),
    # Google (ipldb AS15169), for Gmail's link checking
    "google4": ("209.85.238.10", "net: AS15169 Google (ipldb 209.85.128.0-209.85.255.255)"),
    # Proofpoint (ipldb AS26211)
    "proofpoint": ("148.163.150.30", "net: AS26211 Proofpoint (ipldb 148.163.144.0-148.163.151.255)"),
    # no network given by the source: consumer addresses no list names
    "none_kpn": ("86.80.10.10", "net: not given by the source; AS1136 KPN (ipldb), a consumer address no list names, the thread's Dutch office"),
    "none_rogers": ("99.230.10.10", "net: not given by the source; AS812 Rogers (ipldb), a consumer address no list names"),
    "none_wind": ("151.20.10.10", "net: not given by the source; AS1267 Wind Tre (ipldb), a consumer address no list names"),
    # consumer networks (ipldb), for people
    "bt": ("81.130.10.10", "net: AS2856 British Telecommunications (ipldb)"),
    "three_uk": ("92.40.10.10", "net: AS206067 Three UK, mobile (ipldb)"),
    "kpn_person": ("80.100.10.10", "net: AS1136 KPN (ipldb)"),
    "comcast_person": ("71.200.10.10", "net: AS7922 Comcast (ipldb)"),
    "comcast_person2": ("24.5.10.10", "net: AS7922 Comcast (ipldb)"),
}

URL = {
    "karaoke870": "https://github.com/nomadkaraoke/karaoke-gen/pull/870 (login links used within ~60 s of delivery by Google addresses, Chrome/149 headless; the person's click lost the race)",
    "ots359": "https://github.com/onetimesecret/onetimesecret/issues/359 (two link reads in quick succession from AWS and Cogent addresses after the one-time link was e-mailed; Safe Links named)",
    "exedev89": "https://github.com/boldsoftware/exe.dev/issues/89 (mailbox security scanners open all links of incoming mail)",
    "ba5550": "https://github.com/better-auth/better-auth/issues/5550 (Defender Safe Links and Gmail's link checking use up magic links)",
    "turf44": "https://github.com/turf-tools/turf-tools/pull/44 (scanned mail burns the token; some scanners run the page's script)",
    "mt228": "https://github.com/jdavidbakr/mail-tracker/issues/228 (mail clients scan links as a message is sent: opens and clicks)",
    "g2803": "https://github.com/gophish/gophish/issues/2803 (Microsoft Outlook: opened 20-30 s after sending)",
    "g2679": "https://github.com/gophish/gophish/issues/2679 (a test to four coworkers: opened immediately, nobody opened it)",
    "g2357": "https://github.com/gophish/gophish/issues/2357 (false clicks from an older Chrome than installed, and opens)",
    "g1555": "https://github.com/gophish/gophish/issues/1555 (clicks 1-3 s after sending, Windows 7 IE 8.0; genuine clicks another IE)",
    "g3055": "https://github.com/gophish/gophish/issues/3055 (a gateway requests all links of the mail right after it is sent)",
    "g3208": "https://github.com/gophish/gophish/issues/3208 (Outlook without images: the user clicks without an open)",
    "g2177": "https://github.com/gophish/gophish/issues/2177 (OWA: the user clicks before allowing external content, then allows it)",
    "cidram317": "https://github.com/CIDRAM/CIDRAM/issues/317 (Amazonbot from 3.224.220.101)",
    "nubb549": "https://github.com/mitchellkrogza/nginx-ultimate-bad-bot-blocker/issues/549 (AI crawlers' User-Agents)",
    "instiller": "https://instiller.co.uk/help/campaigns/reporting/link_scanning (a fake click on each link, an implied open; some scanners only open)",
    "insider": "https://academy.insiderone.com/docs/email-bot-clicks (clicks within seconds of delivery, on every link including unsubscribe, from Proofpoint, Barracuda, Mimecast; clicks without opens when images are off)",
    "ccommunity": "https://community.constantcontact.com/t5/Help-Center-International/bots-following-links-in-e-mails/m-p/409175 (all poll options clicked at once within 1-2 minutes of sending)",
    "bmv": "https://bulkmailverifier.com/blog/bot-clicks-email-metrics-measurement-framework (every click within three seconds of delivery: unsubscribe, pricing, book a call)",
}

P = Part("pk-", 11000, UA, NET, URL)
add, msg = P.add, P.msg

# -- karaoke-gen#870: two GETs from Google addresses with headless Chrome
# 149 within about a minute of delivery, then the person's click 82 ms
# later from his VPN with Chrome 148.
M = msg()
add("karaoke-google-1", "scanner", M, 1, 1, "click", 55.0, "google6_12", "", "headless149", "karaoke870", "the first GET, which used the token")
add("karaoke-google-2", "scanner", M, 1, 1, "click", 55.05, "google6_7", "", "headless149", "karaoke870", "the second Google edge")
add("karaoke-person", "human", M, 1, 1, "click", 55.08, "vpn_person", "en-US,en;q=0.9", "chrome148_mac", "karaoke870", "the person's own click from his VPN (Chrome/148; platform not given)")

# -- onetimesecret#359: two reads in quick succession from AWS and Cogent.
M = msg()
add("ots-aws", "scanner", M, 1, 1, "click", 9, "aws", "", "chrome_win", "ots359", "the first read after the link was e-mailed; " + NOT_QUOTED)
add("ots-cogent", "scanner", M, 1, 1, "click", 10, "cogent", "", "chrome_win", "ots359", "the second read in quick succession")

# -- exe.dev#89, turf-tools#44: scanners open every link at delivery.
M = msg()
add("exedev-scan", "scanner", M, 1, 1, "click", 4, "none_rogers", "", "chrome_win", "exedev89", "a mailbox scanner opens the login link; " + NOT_QUOTED)
add("turf-scan", "scanner", M, 2, 1, "click", 6, "none_rogers", "", "edge_win", "turf44", "a scanner fetches the magic link and runs its script; " + NOT_QUOTED)

# -- better-auth#5550: Safe Links and Gmail's link checking.
M = msg()
add("ba5550-safelinks", "scanner", M, 1, 1, "click", 3, "eop_40_107b", "", "edge_win", "ba5550", "Defender Safe Links checks the magic link; " + NOT_QUOTED)
add("ba5550-gmail", "scanner", M, 2, 1, "click", 5, "google4", "", "chrome_win", "ba5550", "Gmail's link checking; " + NOT_QUOTED)

# -- mail-tracker#228: a client scans the links as the mail is sent.
M = msg()
add("mt228-open", "scanner", M, 1, 0, "open", 5, "none_wind", "", "chrome_win", "mt228", "an open as the mail is sent; " + NOT_QUOTED)
add("mt228-click", "scanner", M, 1, 1, "click", 6, "none_wind", "", "chrome_win", "mt228", "the link scanned as the mail is sent")

# -- gophish#2803: Outlook (Microsoft 365; the thread sets Safe Links'
# processing header): opened 20-30 s after sending, nobody opened it.
M = msg()
add("g2803-open-1", "scanner", M, 1, 0, "open", 20, "eop_40_107", "", "chrome_win", "g2803", "an open 20 s after sending; the thread names Microsoft 365, so EOP's network; " + NOT_QUOTED)
add("g2803-open-2", "scanner", M, 2, 0, "open", 30, "eop_52_102", "", "chrome_win", "g2803", "the next recipient, 30 s")

# -- gophish#2679: four coworkers' copies opened at once; nobody opened.
M = msg()
for i, t in enumerate((2, 3, 3, 4)):
    add(f"g2679-open-{i+1}", "scanner", M, i + 1, 0, "open", t, "none_kpn", "", "chrome_win", "g2679", "opened immediately, unread; " + NOT_QUOTED)

# -- gophish#2357: a click and an open from an older Chrome than the
# users have, which they did not make (timing not given: at delivery).
M = msg()
add("g2357-open", "scanner", M, 1, 0, "open", 15, "none_rogers", "", "chrome_old", "g2357", "an open nobody made; timing not given, at delivery")
add("g2357-click", "scanner", M, 1, 1, "click", 16, "none_rogers", "", "chrome_old", "g2357", "the click nobody made, an old Chrome")

# -- gophish#1555: clicks 1-3 s after sending, all Windows 7 IE 8.0;
# genuine clicks came later with another IE.
M = msg()
add("g1555-ie8-1", "scanner", M, 1, 1, "click", 1, "none_wind", "", "ie8_win7", "g1555", "an automatic click one second after sending (IE 8's standard string)")
add("g1555-ie8-2", "scanner", M, 2, 1, "click", 3, "none_wind", "", "ie8_win7", "g1555", "three seconds")
add("g1555-person", "human", M, 3, 1, "click", 2700, "bt", "en-GB", "ie11_win7", "g1555", "a genuine click, same OS, another IE (IE 11's standard string)")

# -- gophish#3055: the gateway requests every link right after sending.
M = msg()
add("g3055-link-1", "scanner", M, 1, 1, "click", 2, "none_kpn", "", "chrome_win", "g3055", "the gateway requests the first link; " + NOT_QUOTED)
add("g3055-link-2", "scanner", M, 1, 2, "click", 2.3, "none_kpn", "", "chrome_win", "g3055", "and the second")

# -- gophish#3208: images not shown in Outlook, the user clicks anyway.
M = msg()
add("g3208-person", "human", M, 1, 1, "click", 1900, "comcast_person", "en-US,en;q=0.9", "edge_win_person", "g3208", "a person's click with the pixel not loaded")

# -- gophish#2177: OWA: the user clicks before allowing external content
# (no open), then allows it (the open).
M = msg()
add("g2177-click", "human", M, 1, 1, "click", 900, "kpn_person", "nl-NL,nl;q=0.9,en;q=0.8", "edge_win_person", "g2177", "the user clicks the link before allowing external content")
add("g2177-open", "human", M, 1, 0, "open", 960, "kpn_person", "nl-NL,nl;q=0.9,en;q=0.8", "edge_win_person", "g2177", "OWA loads the images once allowed")

# -- crawlers: Amazonbot from AWS (CIDRAM#317); GPTBot and ClaudeBot
# (nginx-ultimate-bad-bot-blocker#549; network not given).
M = msg()
add("cidram-amazonbot", "probe", M, 1, 1, "click", 86400, "amazonbot", "", "amazonbot", "cidram317", "Amazonbot fetches a link of a published copy")
add("nubb-gptbot", "probe", M, 1, 2, "click", 90000, "none_wind", "", "gptbot", "nubb549", "OpenAI's crawler; network not given")
add("nubb-claudebot", "probe", M, 1, 3, "click", 95000, "none_rogers", "", "claudebot", "nubb549", "Anthropic's crawler; network not given")

# -- Instiller: scanners click each link (and so imply an open); some
# only open the message (network not given).
M = msg()
add("instiller-click-1", "scanner", M, 1, 1, "click", 8, "none_wind", "", "chrome_win", "instiller", "a fake click on the first link; " + NOT_QUOTED)
add("instiller-click-2", "scanner", M, 1, 2, "click", 8.4, "none_wind", "", "chrome_win", "instiller", "and the next link")
add("instiller-open-only", "scanner", M, 2, 0, "open", 7, "none_wind", "", "chrome_win", "instiller", "a scanner that only opens; " + NOT_QUOTED)

# -- Insider One: clicks within seconds of delivery on every link,
# unsubscribe too, from Proofpoint; and a person's click without an open.
M = msg()
for i, t in enumerate((4.0, 4.3, 4.7)):
    add(f"insider-pp-{i+1}", "scanner", M, 1, i + 1, "click", t, "proofpoint", "", "chrome_win", "insider", "a gateway clicking every link at delivery (the third is unsubscribe); " + NOT_QUOTED)
add("insider-person-no-open", "human", M, 2, 1, "click", 5400, "three_uk", "en-GB,en;q=0.9", "safari_iphone", "insider", "a person with images off clicks without an open")

# -- Constant Contact community: every poll option clicked at once within
# a minute or two of sending (network not given).
M = msg()
for i, t in enumerate((80.0, 80.2, 80.3)):
    add(f"cc-poll-{i+1}", "scanner", M, 1, i + 1, "click", t, "none_rogers", "", "chrome_win", "ccommunity", "all poll options clicked at the same time; " + NOT_QUOTED)

# -- Bulk Mail Verifier: unsubscribe, pricing and book-a-call within three
# seconds of delivery in one session (network not given).
M = msg()
for i, t in enumerate((1.5, 2.2, 2.9)):
    add(f"bmv-{i+1}", "scanner", M, 1, i + 1, "click", t, "none_kpn", "", "chrome_win", "bmv", "every link within three seconds of delivery; " + NOT_QUOTED)

# -- people reading the ordinary way, from the same pages' contrasts: the
# reader's open and click hours later (Insider One: a human opens, then
# clicks one link; Constant Contact: real clicks come over the day).
M = msg()
add("insider-person-open", "human", M, 1, 0, "open", 14400, "comcast_person2", "en-US,en;q=0.9", "chrome_android", "insider", "a person opens on a phone hours after delivery")
add("insider-person-click", "human", M, 1, 1, "click", 14460, "comcast_person2", "en-US,en;q=0.9", "chrome_android", "insider", "and clicks one link a minute later")
add("cc-person", "human", M, 2, 2, "click", 30000, "bt", "en-GB,en;q=0.9", "firefox_win", "ccommunity", "a real reader's click during the day")

P.write("# ---- part K: real-network scenarios from public evidence not used before, written after rules version 10, measured once ----\n")
