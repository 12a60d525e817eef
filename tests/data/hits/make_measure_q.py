#!/usr/bin/env python3
"""make_measure_q.py: appends part Q of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule cites
(each checked before the first run against tests/data/hits/README.md, every
make_measure_*.py, hits.tsv, tune.tsv, measure.tsv, data/*.tsv,
data/published/README.md and docs/ by `owner/repo#number`, by
`/issues/number` and by page address), weighted towards what failed blind in
earlier rounds:

- scanners as phishing-simulation vendors describe them in their own help
  pages, which no earlier part cites: KnowBe4's "Identify and Address False
  Positives" (bot clicks: delivered, open and click at the same time, from
  addresses not the organisation's; forwarded mail sandboxed; link previews
  of mobile systems; endpoint security; MDM security software) and its
  "False-Positive Phishing Evasion Settings" (a hidden link, then a failure
  soon after from the same address), Trend Micro Phish Insight's sandbox
  rules (the hidden link, Java or Python User-Agents, Windows XP or Vista, a
  user clicking more than 3 times within 3 seconds), MetaCompliance's
  "genuine or caused by scanning software" (seconds after delivery: a false
  click; minutes, hours or days: a person), Phishing Tackle's false positives
  (a third-party reporting tool detonating the links of a reported mail),
  Venza's and Living Security's false-positive pages, OutThink's (EDR, mobile
  link previews), Keepnet Labs' false-click post (Mimecast, Barracuda,
  Microsoft Defender), and MicrosoftDocs/microsoft-365-docs#6451 (Safe Links
  scans inbound mail and again at the time of click);
- prefetchers and proxies: SocketLabs' MPP page (Apple downloads every image
  as the message lands), Cleanbox's MPP explainer (prefetch on Apple's own
  schedule; clicks still come from the device), Word to the Wise's "Apple
  MPP", Proton's "Enhanced email tracker protection" support page and a
  press account of it (remote images loaded through a proxy with a generic
  address), justingit/dada-mail#906 (opens from the mail provider's proxy);
- people: gophish/gophish#1166 (users opening a message several times) and
  #771 (Outlook shows images once the user downloads them).

Conventions as part P's (make_measure_p.py): the User-Agent a source
quotes, else the standard string of what it names (said per line), else an
ordinary current browser without Accept-Language for a machine and with one
for a person; the network a source gives, else the provider's autonomous
system (ipldb), else, for a machine whose network no source gives, a
security vendor's network no earlier line uses (Netskope AS55256, Zscaler
AS62044, said per line) or a consumer address no list names (AT&T AS7018,
Telecom Italia AS3269: networks no earlier part used).

Written on 2026-12-08 AFTER rules version 13, with the labels decided in
this script and committed before the first run; measured once, totals only,
before any rule of round 17 (docs/verdicts.md, "The order in which this was
done").

Run from the source root, after make_measure_p.py (which rewrites from
part P on): python3 tests/data/hits/make_measure_q.py
"""
from measure_writer import NOT_QUOTED, PERSON, Part

UA = {
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    "chrome_win_old": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
    # Phish Insight names "Java or Python": the standard strings of Java's URL client and of requests
    "java": "Java/1.8.0_401",
    "python": "python-requests/2.31.0",
    # Phish Insight names Windows XP: Chrome's last release for it, the standard string
    "chrome_xp": "Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36",
    # KnowBe4 and OutThink name mobile systems' link previews: the string Apple's Messages previews send
    "apple_preview": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    # MPP's fetches as earlier parts write them (make_measure_j.py "bare")
    "bare": "Mozilla/5.0",
    "gproxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # classic Outlook's form (the sources name Outlook, quote none)
    "outlook_std": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
}

CONSUMER = "a consumer address no list names"
NOT_GIVEN = "net: not given by the source; "
NET = {
    "att1": ("99.110.44.7", "net: AS7018 AT&T (ipldb), " + CONSUMER),
    "att2": ("99.110.44.8", "net: AS7018 AT&T (ipldb), " + CONSUMER),
    "att3": ("99.110.50.9", "net: AS7018 AT&T (ipldb), " + CONSUMER),
    "att4": ("99.110.60.3", "net: AS7018 AT&T (ipldb), " + CONSUMER),
    "att5": ("99.110.70.2", "net: AS7018 AT&T (ipldb), " + CONSUMER),
    "att6": ("99.110.80.14", "net: AS7018 AT&T (ipldb), " + CONSUMER),
    "tim1": ("2.112.40.10", "net: AS3269 Telecom Italia (ipldb), " + CONSUMER),
    "tim2": ("2.115.80.9", "net: AS3269 Telecom Italia (ipldb), " + CONSUMER),
    "tim3": ("2.113.12.40", "net: AS3269 Telecom Italia (ipldb), " + CONSUMER),
    "tim4": ("2.114.9.77", "net: AS3269 Telecom Italia (ipldb), " + CONSUMER),
    "netskope1": ("8.36.116.40", NOT_GIVEN + "a security vendor's network no earlier line uses: AS55256 Netskope (ipldb)"),
    "netskope2": ("8.36.116.41", NOT_GIVEN + "a security vendor's network no earlier line uses: AS55256 Netskope (ipldb)"),
    "zscaler": ("87.58.70.20", NOT_GIVEN + "a security service's network no earlier measured line uses: AS62044 Zscaler (ipldb)"),
    "trend1": ("150.70.10.25", NOT_GIVEN + "Trend Micro's own AS16880 (ipldb)"),
    "trend2": ("66.180.85.40", NOT_GIVEN + "Trend Micro's own AS16880 (ipldb)"),
    "trend3": ("66.180.85.41", NOT_GIVEN + "Trend Micro's own AS16880 (ipldb)"),
    "trend4": ("150.70.10.26", NOT_GIVEN + "Trend Micro's own AS16880 (ipldb)"),
    "eop1": ("40.107.100.22", NOT_GIVEN + "Microsoft's mail filtering from EOP's published ranges (40.107.0.0/16)"),
    "eop2": ("40.107.100.23", NOT_GIVEN + "Microsoft's mail filtering from EOP's published ranges (40.107.0.0/16)"),
    "eop3": ("40.107.100.24", NOT_GIVEN + "Microsoft Defender from EOP's published ranges (40.107.0.0/16)"),
    "eop4": ("52.100.10.5", NOT_GIVEN + "the mail server's sandbox from EOP's published ranges (52.100.0.0/14)"),
    "aws": ("3.120.10.9", NOT_GIVEN + "a reporting tool's cloud: AS16509 Amazon (ipldb)"),
    "barracuda1": ("64.235.144.20", NOT_GIVEN + "a filter's network: AS15324 Barracuda (ipldb)"),
    "barracuda2": ("64.235.144.21", NOT_GIVEN + "AS15324 Barracuda (ipldb)"),
    "proofpoint": ("148.163.129.44", NOT_GIVEN + "a filter's network: AS13916 Proofpoint (ipldb)"),
    "mimecast": ("91.220.42.30", NOT_GIVEN + "Mimecast's published netblock 91.220.42.0/24 (data/published)"),
    "relay1": ("104.28.40.10", "net: an iCloud Private Relay egress 104.28.40.0/25 (data/published/icloud-private-relay.txt); the source gives none"),
    "relay2": ("104.28.40.130", "net: an iCloud Private Relay egress 104.28.40.128/27 (data/published/icloud-private-relay.txt); the source gives none"),
    "relay3": ("104.28.40.11", "net: an iCloud Private Relay egress 104.28.40.0/25 (data/published/icloud-private-relay.txt); the source gives none"),
    "proton1": ("95.36.97.10", NOT_GIVEN + "AS62371 Proton (ipldb)"),
    "proton2": ("95.36.97.11", NOT_GIVEN + "AS62371 Proton (ipldb)"),
    "google": ("66.249.84.20", NOT_GIVEN + "Gmail's proxy, which the thread links: AS15169 Google (ipldb 66.249.64.0/19)"),
}

URL = {
    "kb4fp": "https://support.knowbe4.com/hc/en-us/articles/360059091413-Identify-and-Address-False-Positives (bot clicks: delivered, open and click times the same, addresses not the organisation's; forwarded mail sandboxed by the mail server; mobile link previews; endpoint security; MDM security software)",
    "kb4ev": "https://support.knowbe4.com/hc/en-us/articles/36630765844115-False-Positive-Phishing-Evasion-Settings (a hidden link accessed, then failures soon after and from the same address are bot-associated)",
    "pi": "https://success.phishinsight.trendmicro.com/en/support/solutions/articles/61000296773-checking-your-simulation-campaign-results-for-false-positives (sandbox: the hidden link, Java or Python User-Agents, Windows Vista or XP; uncertain: more than 3 clicks within 3 seconds)",
    "mc": "https://support.metacompliance.com/hc/en-gb/articles/13056444972817-How-to-identify-if-a-click-is-genuine-or-caused-by-scanning-software (seconds after delivery: a false click; minutes, hours or days: a genuine click)",
    "ptk": "https://support.phishingtackle.com/hc/en-gb/articles/11054664247325-False-Positives-in-Simulated-Phishing-Emails (a third-party reporting tool scans the reported mail and detonates its links)",
    "ms6451": "https://github.com/MicrosoftDocs/microsoft-365-docs/issues/6451 (Safe Links scans the URLs of inbound mail and again at the time of click)",
    "venza": "https://help.venzagroup.com/phishing-campaign-false-positives/ (the email provider's security filter inspects the mail before the inbox; this looks like an open and a click)",
    "ls": "https://www.livingsecurity.com/migration/support/identify-and-address-false-positives-on-the-ls-phishing-tool (a 100% click rate or addresses not the organisation's; forwarded mail sandboxed)",
    "ot": "https://help.outthink.io/why-we-are-getting-false-positive-clicks (EDR or antivirus; link previews of mobile devices)",
    "kpb": "https://keepnetlabs.com/blog/how-to-manage-false-clicks-in-phishing-simulations-for-security-awareness-training (Mimecast, Barracuda and Microsoft Defender scan mail and set off false clicks)",
    "socketlabs": "https://help.socketlabs.com/docs/identifying-apple-mpp-opens-in-notification-api-events (as the message lands, Apple downloads all its images through two proxies)",
    "cleanbox": "https://cleanbox.app/blog/apple-mail-privacy-protection-explained (MPP prefetches whether or not you open, on Apple's schedule; clicks come from the device)",
    "wttw": "https://wordtothewise.com/2021/09/apple-mpp/ (Apple MPP loads the images of every message)",
    "proton": "https://proton.me/support/fr/email-tracker-protection (remote images loaded on the user's behalf through a proxy with a generic address)",
    "shepherd": "https://shepherdgazette.com/protonmail-introduces-tracking-protection-feature/ (ProtonMail blocks remote content by default; when loaded, through a proxy with a generic address)",
    "dada906": "https://github.com/justingit/dada-mail/issues/906 (opens recorded from the mail provider's proxy, not the reader's address)",
    "g1166": "https://github.com/gophish/gophish/issues/1166 (users open emails multiple times)",
    "g771": "https://github.com/gophish/gophish/issues/771 (Outlook disables external images until the user downloads them)",
}

Q = Part("pq-", 17000, UA, NET, URL)
add, msg = Q.add, Q.msg

# -- phishing-simulation vendors' accounts of bot clicks
M = msg()
add("kb4fp-same-time-open", "scanner", M, 1, 0, "open", 1, "netskope1", "", "chrome_win", "kb4fp", "the open at the delivery time; " + NOT_QUOTED)
add("kb4fp-same-time-click", "scanner", M, 1, 1, "click", 1, "netskope1", "", "chrome_win", "kb4fp", "and the click in the same second; " + NOT_QUOTED)
add("kb4fp-forward-sandbox", "scanner", M, 2, 1, "click", 4000, "eop4", "", "chrome_win_old", "kb4fp", "the forwarded mail sandboxed and checked by the mail server; " + NOT_QUOTED)
add("kb4fp-mobile-preview", "probe", M, 3, 1, "click", 900, "att1", "", "apple_preview", "kb4fp", "a mobile system's link preview as the user reads; network not given")
add("kb4fp-endpoint-av", "scanner", M, 4, 1, "click", 700, "att2", "", "chrome_win", "kb4fp", "endpoint security on the user's machine fetches the link; network not given; " + NOT_QUOTED)
add("kb4fp-mdm", "scanner", M, 5, 1, "click", 20, "zscaler", "", "safari_iphone", "kb4fp", "MDM security software checks the link on the phone's behalf; UA not quoted: the phone's browser, no language")
add("kb4fp-person", "human", M, 6, 1, "click", 5200, "tim1", "it-IT,it;q=0.9", "chrome_win", "kb4fp", "a user clicking the phishing link; " + PERSON)
M = msg()
add("kb4ev-hidden-link", "scanner", M, 1, 3, "click", 6, "netskope2", "", "chrome_win_old", "kb4ev", "the hidden link accessed; " + NOT_QUOTED)
add("kb4ev-bot-failure", "scanner", M, 1, 1, "click", 6, "netskope2", "", "chrome_win_old", "kb4ev", "the failure soon after, same address; " + NOT_QUOTED)
add("kb4ev-person", "human", M, 2, 1, "click", 8000, "att3", "en-US,en;q=0.9", "edge_win", "kb4ev", "a real failure, no hidden link before it; " + PERSON)
M = msg()
add("pi-hidden-link", "scanner", M, 1, 3, "click", 9, "trend1", "", "chrome_win_old", "pi", "the IP clicks the hidden link; " + NOT_QUOTED)
add("pi-python", "scanner", M, 2, 1, "click", 11, "trend2", "", "python", "pi", "an unusual User-Agent: Python")
add("pi-java", "scanner", M, 3, 1, "click", 14, "trend3", "", "java", "pi", "an unusual User-Agent: Java")
add("pi-winxp", "scanner", M, 4, 1, "click", 16, "trend4", "", "chrome_xp", "pi", "an unusual OS: Windows XP; no language")
add("pi-burst-1", "scanner", M, 5, 1, "click", 40, "tim2", "", "chrome_win", "pi", "more than 3 clicks within 3 seconds (uncertain sandbox activity): the first; network not given; " + NOT_QUOTED)
add("pi-burst-2", "scanner", M, 5, 1, "click", 40, "tim2", "", "chrome_win", "pi", "the second; " + NOT_QUOTED)
add("pi-burst-3", "scanner", M, 5, 1, "click", 41, "tim2", "", "chrome_win", "pi", "the third; " + NOT_QUOTED)
add("pi-burst-4", "scanner", M, 5, 1, "click", 42, "tim2", "", "chrome_win", "pi", "the fourth; " + NOT_QUOTED)
add("pi-person", "human", M, 6, 1, "click", 3000, "att4", "en-US,en;q=0.9", "safari_mac", "pi", "actual user activity; " + PERSON)
M = msg()
add("mc-seconds", "scanner", M, 1, 1, "click", 5, "att4", "", "chrome_win", "mc", "a click seconds after delivery: a false click; network not given; " + NOT_QUOTED)
add("mc-minutes", "human", M, 2, 1, "click", 600, "tim3", "it-IT,it;q=0.9", "firefox_win", "mc", "minutes after delivery: a genuine click; " + PERSON)
add("mc-days", "human", M, 3, 1, "click", 259200, "att5", "en-US,en;q=0.9", "firefox_win", "mc", "days after delivery: a genuine click; " + PERSON)
M = msg()
add("ptk-person-reads", "human", M, 1, 0, "open", 2600, "tim4", "it-IT", "outlook_std", "ptk", "the user reads the mail before reporting it; UA not quoted: classic Outlook's form")
add("ptk-report-detonate-1", "scanner", M, 1, 1, "click", 2700, "aws", "", "chrome_win_old", "ptk", "the reporting tool scans the reported mail and detonates the first link; " + NOT_QUOTED)
add("ptk-report-detonate-2", "scanner", M, 1, 2, "click", 2700, "aws", "", "chrome_win_old", "ptk", "and the second in the same second; " + NOT_QUOTED)
M = msg()
add("ms6451-inbound", "scanner", M, 1, 1, "click", 3, "eop1", "", "chrome_win_old", "ms6451", "Safe Links scans the URL of the inbound mail; " + NOT_QUOTED)
add("ms6451-time-of-click", "human", M, 1, 1, "click", 3300, "att6", "en-US,en;q=0.9", "edge_win", "ms6451", "the user's click, let through after the time-of-click check; " + PERSON)
M = msg()
add("venza-filter-open", "scanner", M, 1, 0, "open", 2, "barracuda1", "", "chrome_win", "venza", "the filter's inspection registers an open; " + NOT_QUOTED)
add("venza-filter-click", "scanner", M, 1, 1, "click", 2, "barracuda1", "", "chrome_win", "venza", "and a click; " + NOT_QUOTED)
M = msg()
add("ls-all-clicked-1", "scanner", M, 1, 1, "click", 7, "proofpoint", "", "chrome_win", "ls", "a 100% click rate from an address not the organisation's; " + NOT_QUOTED)
add("ls-all-clicked-2", "scanner", M, 2, 1, "click", 7, "proofpoint", "", "chrome_win", "ls", "another recipient; " + NOT_QUOTED)
add("ls-all-clicked-3", "scanner", M, 3, 1, "click", 8, "proofpoint", "", "chrome_win", "ls", "a third; " + NOT_QUOTED)
add("ls-forward-sandbox", "scanner", M, 4, 1, "click", 5000, "eop2", "", "chrome_win_old", "ls", "the forwarded mail sandboxed; " + NOT_QUOTED)
M = msg()
add("ot-edr", "scanner", M, 1, 1, "click", 60, "tim3", "", "chrome_win", "ot", "EDR on the user's machine fetches the link; network not given; " + NOT_QUOTED)
add("ot-mobile-preview", "probe", M, 2, 1, "click", 1200, "att6", "", "apple_preview", "ot", "a mobile device's link preview; network not given")
M = msg()
add("kpb-mimecast", "scanner", M, 1, 1, "click", 6, "mimecast", "", "chrome_win", "kpb", "Mimecast scans the mail; " + NOT_QUOTED)
add("kpb-barracuda", "scanner", M, 2, 1, "click", 9, "barracuda2", "", "chrome_win", "kpb", "Barracuda scans the mail; " + NOT_QUOTED)
add("kpb-defender", "scanner", M, 3, 1, "click", 4, "eop3", "", "edge_win", "kpb", "Microsoft Defender scans the mail; " + NOT_QUOTED)

# -- prefetchers and proxies
M = msg()
add("socketlabs-mpp", "prefetch", M, 1, 0, "open", 20, "relay1", "", "bare", "socketlabs", "Apple downloads the images as the message lands")
add("cleanbox-mpp", "prefetch", M, 2, 0, "open", 900, "relay2", "", "bare", "cleanbox", "MPP prefetches on Apple's schedule, not at a read")
add("cleanbox-device-click", "human", M, 2, 1, "click", 6000, "att5", "en-US,en;q=0.9", "safari_iphone", "cleanbox", "the click from the user's device; " + PERSON)
add("wttw-mpp", "prefetch", M, 3, 0, "open", 40, "relay3", "", "bare", "wttw", "MPP loads the images")
add("proton-support-proxy", "proxy-open", M, 4, 0, "open", 7000, "proton1", "", "chrome_win", "proton", "the reader's images through Proton's proxy; " + NOT_QUOTED)
add("shepherd-proton-load", "proxy-open", M, 5, 0, "open", 15000, "proton2", "", "chrome_win", "shepherd", "the user loads remote content through the proxy; " + NOT_QUOTED)
add("dada906-provider-proxy", "proxy-open", M, 6, 0, "open", 5000, "google", "", "gproxy", "dada906", "the reader's open through the provider's proxy; UA not quoted: Gmail proxy's string")

# -- people's opens
M = msg()
add("g1166-open-1", "human", M, 1, 0, "open", 3000, "tim1", "it-IT", "outlook_std", "g1166", "a user opens the message; UA not quoted: classic Outlook's form")
add("g1166-open-2", "human", M, 1, 0, "open", 9000, "tim1", "it-IT", "outlook_std", "g1166", "and opens it again; UA not quoted: classic Outlook's form")
add("g771-download-pictures", "human", M, 2, 0, "open", 1800, "att3", "en-US", "outlook_std", "g771", "the user downloads the pictures in Outlook; UA not quoted: classic Outlook's form")

Q.write("# ---- part Q: real-network scenarios from public evidence not used before (phishing-simulation vendors' bot-click pages, MPP and Proton proxies, people's opens), written after rules version 13, measured once ----\n")
