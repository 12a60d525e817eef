#!/usr/bin/env python3
"""make_measure_o.py: appends part O of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule cites
(each checked against tests/data/hits/README.md, every make_measure_*.py,
hits.tsv, tune.tsv, data/*.tsv, data/published/README.md and
docs/verdicts.md before the first run), weighted towards what rules
version 13 has not seen:

- ESPs' and newsletter tools' own pages and threads about bot clicks and
  fake opens: Laposta's help (rapid click sequences from one address),
  QuickHelp's (bots open then click, mostly near the send), Braze's bot
  filtering page, Yandex Cloud Postbox's (extra opens from antimalware
  scanning), Mautic's threads on Proofpoint following every link and the
  pixel from changing addresses and User-Agents (mautic#9798) and on
  Yandex Mail's bot reading the pixel (mautic#8718, YandexImageResizer),
  listmonk's "open rate hits 50% within a minute" (knadh/listmonk#1025),
  Collie's bot suppression (MPP through Private Relay, gateways' HEAD or
  GET seconds after delivery), AutoEmails' bot filter (three links in two
  seconds, a datacenter address) and a deliverability field guide
  (Safe Links leaking MSOffice or an empty User-Agent; Barracuda);
- mail clients and proxies no rule names: Superhuman's image proxy
  (trockerapp/trocker#11), Gmail's proxy whatever the reader's browser
  (browscap#1108, powergo/pytracking#24, IP-Biter#5, subhuman#3), the
  sender's own view of the message (macro-inc/macro#3943), a reader with
  images off (nylas/nylas-mail#2418), a help desk's late read receipt
  (freescout#4938);
- Slack's link unfurling, twice for one message (slackapi/bolt-js#1525;
  Slack's unfurling post).

Conventions as part N's (make_measure_n.py): the User-Agent a source
quotes, else the standard string of what it names (said per line), else an
ordinary current browser without Accept-Language for a machine and with one
for a person; the network a source gives, else the provider's autonomous
system (ipldb), else a consumer address no list names (Telia and Telstra,
other addresses than part N's).

Written on 2026-12-07 AFTER rules version 13, with the labels decided in
this script before the first run; measured once, totals only, before any
rule of round 15 (docs/verdicts.md, "The order in which this was done").

Run from the source root, after make_measure_n.py (which rewrites from
part N on): python3 tests/data/hits/make_measure_o.py
"""
from measure_writer import Part, NOT_QUOTED, PERSON

UA = {
    # the standard form of the token mautic#8718 quotes (YandexImageResizer)
    "yandex": "Mozilla/5.0 (compatible; YandexImageResizer/2.0; +http://yandex.com/bots)",
    # quoted in full by browscap#1108
    "gproxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # Collie#50 names Apple Mail's UA: its standard stripped WebKit string
    "applemail": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    # the field guide: Safe Links "usually leaks MSOffice or empty User-Agent"
    "msoffice": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "none": "",
    # Slack's unfurler, the string of Slack's robots page
    "slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "chrome_android": "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
}

NET = {
    "telia4": ("2.249.100.20", "net: AS3301 Telia (ipldb), a consumer address no list names"),
    "telia5": ("2.251.60.8", "net: AS3301 Telia (ipldb), a consumer address no list names"),
    "telia6": ("2.253.14.77", "net: AS3301 Telia (ipldb), a consumer address no list names"),
    "telstra4": ("1.140.22.9", "net: AS1221 Telstra (ipldb), a consumer address no list names"),
    "telstra5": ("58.165.3.12", "net: AS1221 Telstra (ipldb), a consumer address no list names"),
    "telstra6": ("1.152.70.3", "net: AS1221 Telstra (ipldb), a consumer address no list names"),
    "proofpoint": ("66.159.227.61", "net: not given by the source; AS26211 Proofpoint (ipldb)"),
    "proofpoint2": ("66.159.227.90", "net: another address of AS26211 Proofpoint (the source: traffic from different IPs)"),
    "yandex": ("77.88.21.30", "net: not given by the source; AS13238 Yandex (ipldb)"),
    "yandex2": ("5.255.231.40", "net: not given by the source; AS13238 Yandex (ipldb)"),
    "relay": ("104.28.66.240", "net: an iCloud Private Relay egress (data/published/icloud-private-relay.txt), as Collie#50 says"),
    "mimecast": ("205.139.110.45", "net: not given by the source; AS30031 Mimecast (ipldb)"),
    "barracuda": ("64.235.153.20", "net: not given by the source; AS15324 Barracuda (ipldb)"),
    "eop": ("40.107.220.30", "net: Safe Links from EOP's published ranges (40.107.0.0/16)"),
    "aws": ("52.21.40.50", "net: a datacenter address, as the source says: AS14618 Amazon (ipldb)"),
    "aws_proxy": ("52.22.9.17", "net: not given by the source; Superhuman's proxy network unknown, a cloud stand-in: AS14618 Amazon (ipldb)"),
    "aws_slack": ("3.85.12.40", "net: not given by the source; Slack runs on AWS: AS14618 Amazon (ipldb)"),
    "gproxy": ("66.102.8.40", "net: AS15169 Google (ipldb 66.102.0.0/20)"),
    "gproxy2": ("66.249.88.12", "net: AS15169 Google (ipldb 66.249.64.0/19)"),
}

URL = {
    "laposta": "https://docs.laposta.org/article/943-clicks-by-bots-spam-filters (filters follow the links of arriving mail; Laposta looks for rapid click sequences from one address)",
    "quickhelp": "https://support.quickhelp.com/support/solutions/articles/6000270899-email-bots-are-our-friends (bots open then click; most false events near the send)",
    "braze": "https://www.braze.com/docs/user_guide/administrative/app_settings/email_settings/bot_filtering (bot clicks: clicks generated by an automated program)",
    "postbox": "https://yandex.cloud/en/docs/postbox/concepts/mail-opened (more open notifications than opens: clients preloading images, antimalware scanning)",
    "m9798": "https://github.com/mautic/mautic/issues/9798 (Proofpoint follows all links including the tracking pixel, from different IPs and User-Agents, and the unsubscribe link)",
    "m8718": "https://github.com/mautic/mautic/issues/8718 (a yandex.ru mailbox's bot reads the pixel, YandexImageResizer; the person did not open)",
    "lm1025": "https://github.com/knadh/listmonk/issues/1025 (the open rate hits 50% within a minute or two of the send: bots rendering messages)",
    "collie": "https://github.com/jusso-dev/Collie/pull/50 (MPP prefetches the pixel: Apple Mail UA, Private Relay egress; gateways HEAD or GET the click URL seconds after delivery)",
    "autoemails": "https://www.autoemails.com/help/agent/mark-bot-unsubscribe (three or more links in under two seconds, or a click from a known datacenter address, is a scanner)",
    "guide": "https://check.live-direct-marketing.online/blog/bot-clicks-security-scanners-detect (Safe Links leaks MSOffice or an empty User-Agent; Barracuda's link protection; clicks within 5 s of delivery)",
    "trocker11": "https://github.com/trockerapp/trocker/issues/11 (Superhuman loads a message's images through media.superhumanapp.com)",
    "bc1108": "https://github.com/browscap/browscap/issues/1108 (Gmail's proxy fetches a message's images with its own string, whatever the reader's browser)",
    "pyt24": "https://github.com/powergo/pytracking/issues/24 (Gmail's proxy, not the reader, requests the pixel)",
    "ipb5": "https://github.com/damianofalcioni/IP-Biter/issues/5 (Gmail's proxy fetches the image; the reader's own address only when reading in another client)",
    "sub3": "https://github.com/jochasinga/subhuman/issues/3 (Gmail passes images through ci5.googleusercontent.com/proxy)",
    "macro3943": "https://github.com/macro-inc/macro/pull/3943 (the pixel cannot tell the recipient, the sender or Gmail's image proxy apart)",
    "nylas2418": "https://github.com/nylas/nylas-mail/issues/2418 (turning off images turns off the tracking)",
    "fs4938": "https://github.com/freescout-help-desk/freescout/issues/4938 (a read receipt from an email sent 14 minutes before)",
    "bolt1525": "https://github.com/slackapi/bolt-js/issues/1525 (a link posted to Slack unfurls twice)",
    "unfurl": "https://medium.com/slack-developer-blog/everything-you-ever-wanted-to-know-about-unfurling-but-were-afraid-to-ask-or-how-to-make-your-e64b4bb9254 (Slack fetches a posted link to unfurl it)",
}

P = Part("po-", 15000, UA, NET, URL)
add, msg = P.add, P.msg

# -- ESPs' and newsletter tools' pages and threads about bot clicks and fake opens
M = msg()
add("laposta-burst-1", "scanner", M, 1, 1, "click", 40, "telia4", "", "chrome_win", "laposta", "a filter follows the first link; network not given; " + NOT_QUOTED)
add("laposta-burst-2", "scanner", M, 1, 2, "click", 40, "telia4", "", "chrome_win", "laposta", "the second, in the same second; " + NOT_QUOTED)
add("laposta-burst-3", "scanner", M, 1, 3, "click", 41, "telia4", "", "chrome_win", "laposta", "the third; " + NOT_QUOTED)
add("laposta-person", "human", M, 2, 1, "click", 7200, "telia5", "sv-SE,sv;q=0.9", "safari_mac", "laposta", "another recipient's click two hours later; " + PERSON)
add("quickhelp-open", "scanner", M, 3, 0, "open", 30, "telstra4", "", "chrome_win", "quickhelp", "a bot opens near the send; network not given; " + NOT_QUOTED)
add("quickhelp-click", "scanner", M, 3, 1, "click", 32, "telstra4", "", "chrome_win", "quickhelp", "then clicks; " + NOT_QUOTED)
add("quickhelp-person", "human", M, 4, 1, "click", 20000, "telstra5", "en-AU,en;q=0.9", "safari_iphone", "quickhelp", "a recipient's click hours later; " + PERSON)
add("braze-bot-click", "scanner", M, 5, 1, "click", 5, "telia6", "", "edge_win", "braze", "a bot click seconds after delivery; network not given; " + NOT_QUOTED)
add("postbox-antimalware-open", "scanner", M, 6, 0, "open", 15, "telstra6", "", "chrome_win", "postbox", "antimalware scanning loads the pixel; network not given; " + NOT_QUOTED)
add("postbox-person-open", "human", M, 7, 0, "open", 5000, "telstra5", "en-AU,en;q=0.9", "chrome_android", "postbox", "the recipient opens the message; " + PERSON)
M = msg()
add("m9798-proofpoint-pixel", "scanner", M, 1, 0, "open", 20, "proofpoint", "", "chrome_win", "m9798", "Proofpoint follows the pixel; " + NOT_QUOTED)
add("m9798-proofpoint-link", "scanner", M, 1, 1, "click", 21, "proofpoint2", "", "firefox_win", "m9798", "and the link, from another address and User-Agent; " + NOT_QUOTED)
add("m9798-proofpoint-unsub", "scanner", M, 1, 2, "click", 22, "proofpoint", "", "edge_win", "m9798", "and the unsubscribe link; " + NOT_QUOTED)
add("m8718-yandex-bot", "prefetch", M, 2, 0, "open", 60, "yandex", "", "yandex", "m8718", "the yandex.ru mailbox's bot fetches the pixel; nobody opened")
add("m8718-yandex-bot-2", "prefetch", M, 3, 0, "open", 75, "yandex2", "", "yandex", "m8718", "another yandex.ru recipient")
add("lm1025-open-burst", "scanner", M, 4, 0, "open", 50, "telia4", "", "chrome_win", "lm1025", "an open a minute after the send; network not given; " + NOT_QUOTED)
add("lm1025-open-burst-2", "scanner", M, 5, 0, "open", 80, "telstra4", "", "firefox_win", "lm1025", "another; network not given; " + NOT_QUOTED)
M = msg()
add("collie-mpp", "prefetch", M, 1, 0, "open", 8, "relay", "", "applemail", "collie", "MPP prefetches the pixel at delivery")
add("collie-gateway-head", "scanner", M, 2, 1, "click", 2, "mimecast", "", "none", "collie", "a gateway's HEAD of the click URL seconds after delivery; no UA", method="HEAD")
add("collie-gateway-get", "scanner", M, 2, 1, "click", 3, "mimecast", "", "chrome_win", "collie", "then its GET; " + NOT_QUOTED)
add("collie-person", "human", M, 2, 1, "click", 3600, "telia5", "sv-SE,sv;q=0.9", "chrome_win", "collie", "the recipient an hour later; " + PERSON)
add("autoemails-dc-1", "scanner", M, 3, 1, "click", 90, "aws", "", "chrome_win", "autoemails", "three links in under two seconds from a datacenter; " + NOT_QUOTED)
add("autoemails-dc-2", "scanner", M, 3, 2, "click", 90, "aws", "", "chrome_win", "autoemails", "the second; " + NOT_QUOTED)
add("autoemails-dc-3", "scanner", M, 3, 3, "click", 91, "aws", "", "chrome_win", "autoemails", "the third; " + NOT_QUOTED)
add("guide-safelinks-msoffice", "scanner", M, 4, 1, "click", 3, "eop", "", "msoffice", "guide", "Safe Links leaking MSOffice")
add("guide-safelinks-empty", "scanner", M, 5, 1, "click", 4, "eop", "", "none", "guide", "Safe Links with an empty User-Agent")
add("guide-barracuda", "scanner", M, 6, 1, "click", 4, "barracuda", "", "chrome_win", "guide", "Barracuda's link protection fetches the link; UA not quoted (the guide says only that it names Barracuda): an ordinary browser, no language")

# -- mail clients and image proxies
M = msg()
add("trocker11-superhuman", "proxy-open", M, 1, 0, "open", 5000, "aws_proxy", "", "chrome_win", "trocker11", "Superhuman's image proxy fetches the pixel as the user reads; " + NOT_QUOTED)
add("bc1108-gmail-safari", "proxy-open", M, 2, 0, "open", 9000, "gproxy", "", "gproxy", "bc1108", "a reader in Safari on macOS; the proxy's string")
add("pyt24-gmail", "proxy-open", M, 3, 0, "open", 12000, "gproxy2", "", "gproxy", "pyt24", "a Gmail reader's open")
add("ipb5-gmail", "proxy-open", M, 4, 0, "open", 3000, "gproxy", "", "gproxy", "ipb5", "the proxy's fetch as the user reads")
add("ipb5-other-client", "human", M, 4, 0, "open", 30000, "telia6", "sv-SE,sv;q=0.9", "firefox_win", "ipb5", "the same user reading in another client; " + PERSON)
add("sub3-gmail", "proxy-open", M, 5, 0, "open", 40000, "gproxy2", "", "gproxy", "sub3", "a Gmail reader's open")
add("macro3943-gmail", "proxy-open", M, 6, 0, "open", 6000, "gproxy", "", "gproxy", "macro3943", "the recipient reads in Gmail")
add("macro3943-sender", "human", M, 6, 0, "open", 120, "telia5", "sv-SE,sv;q=0.9", "safari_mac", "macro3943", "the sender views the sent message in another client; " + PERSON)
add("nylas2418-images-off-click", "human", M, 7, 1, "click", 4000, "telstra5", "en-AU,en;q=0.9", "chrome_win", "nylas2418", "a reader with images off clicks; " + PERSON)
add("fs4938-late-open", "human", M, 8, 0, "open", 840, "telstra6", "en-AU,en;q=0.9", "edge_win", "fs4938", "the customer reads 14 minutes after the send; " + PERSON)

# -- Slack's unfurling
M = msg()
add("bolt1525-unfurl", "probe", M, 1, 1, "click", 600, "aws_slack", "", "slackbot", "bolt1525", "the link posted to Slack is unfurled")
add("bolt1525-unfurl-2", "probe", M, 1, 1, "click", 601, "aws_slack", "", "slackbot", "bolt1525", "and unfurled again")
add("unfurl-slack", "probe", M, 2, 1, "click", 900, "aws_slack", "", "slackbot", "unfurl", "Slack fetches a posted link")
add("unfurl-person", "human", M, 2, 1, "click", 960, "telia6", "sv-SE,sv;q=0.9", "chrome_win", "unfurl", "a colleague clicks the posted link; " + PERSON)

P.write("# ---- part O: real-network scenarios from public evidence not used before (ESPs' and newsletter tools' bot pages, mail clients' proxies, Slack), written after rules version 13, measured once ----\n")
