#!/usr/bin/env python3
"""make_measure_i.py: appends part I of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule was
written from: other projects' issue threads about fake opens and bot clicks
(opencollective/opencollective#3656, gophish/gophish#2646, #2549, #1598 and
#2887, outline/outline#9227, nextauthjs/next-auth#1840,
FusionAuth/fusionauth-issues#629, TryGhost/Ghost#12347,
baptisteArno/typebot.io#1221, anymail/django-anymail#200,
postalserver/postal#74, mautic/mautic#10245, ua-parser/uap-core#509,
Jericho/StrongGrid#405, privacyguides/privacyguides.org#2014,
AdguardTeam/AdguardKnowledgeBase#959, easylist/easylist#3577), an ESP's help
page (Adobe Marketo Engage's "Filtering Email Bot Activity"), security
vendors' documentation of their click-time link checks (Sophos Central's
"URL Protection", Trend Vision One's "URL Click Tracking", FortiMail's
"system fortiguard url-protection", a Proofpoint partner's "Things to Know
About Proofpoint URL Defense"), and Google's and Bing's published crawler
and fetcher lists (data/published/).

Each scenario takes from its source what the source reports: the
User-Agent where it quotes one, the network (an address the source gives;
else, where the source names the provider, an address from that provider's
published ranges in data/published/ or its autonomous system in ipldb,
named per line), the timing relative to delivery, which request (pixel or
link), and what the request really was according to the source. Where a
source does not quote a scanner's User-Agent, the line has an ordinary
current browser's and no Accept-Language, and says so; a person's request
where the source quotes no User-Agent gets an ordinary browser with the
Accept-Language every browser sends, from a consumer network (as parts G
and H did). Where a source gives no network at all (Marketo's proximity
pattern, anymail#200's click clusters), the line uses a consumer address
from no list, so that the timing alone can decide, and says so.

Labels follow docs/verdicts.md's definitions: a security product fetching
the pixel or following the link to inspect it is `scanner`, also at click
time, and so is a machine clicking several links of one message within a
second; scripted clients, crawlers and feed fetchers are `probe`; Apple
MPP's background loads are `prefetch`; a provider proxy's fetch when its
user views the message is `proxy-open`; a person's own request, also one
redirected through a vendor's click-time check, is `human`.

Written on 2026-12-07 AFTER rules version 8 and before rules version 9,
with these labels decided in this script before the first run; the rules
are never fitted to its rows (docs/verdicts.md, "The order in which this
was done", step 13). Every row's last column names its source.

Run from the source root, after make_measure_h.py (which rewrites from part
H on): python3 tests/data/hits/make_measure_i.py
"""
from measure_writer import Part, NOT_QUOTED

UA = {
    # opencollective#3656: the Safe Links User-Agents the thread quotes
    "chrome72": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.109 Safari/537.36",
    "chrome64": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.140 Safari/537.36",
    # gophish#2646: the User-Agent of the log lines it quotes
    "chrome101": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/101.0.4951.54 Safari/537.36",
    # mautic#10245: the User-Agent of Gmail's fetch at arrival, as the PR quotes it
    "gmail_arrival": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0",
    # Gmail's image proxy (easylist#3577 shows the proxy's googleusercontent.com URL)
    "gmail_proxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # uap-core#509: "Apple Mail Privacy Protection forces the following user agent: Mozilla/5.0"
    "bare": "Mozilla/5.0",
    # ordinary current browsers, for scanners whose User-Agent the source does not quote
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    # people's browsers and clients
    "firefox_linux": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "chrome_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "safari_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "chrome_android": "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "outlook": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    # Apple Mail on macOS and iOS without MPP: WebKit without a Safari token
    "applemail_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "iosmail": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    # Google's and Bing's crawler pages: their documented User-Agents
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    # Google's user-triggered fetchers page: Feedfetcher
    "feedfetcher": "FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)",
}

# (address, where it comes from)
NET = {
    # Exchange Online Protection (microsoft-eop.txt); opencollective#3656 quotes 40.107.235.*
    "eop_40_107_235": ("40.107.235.40", "net: EOP 40.107.0.0/16 (microsoft-eop.txt), the thread's 40.107.235.*"),
    "eop_40_107_236": ("40.107.236.71", "net: EOP 40.107.0.0/16 (microsoft-eop.txt), the nam12 region the thread's link names"),
    "eop_40_92": ("40.92.18.33", "net: EOP 40.92.0.0/15 (microsoft-eop.txt), Outlook.com's protection"),
    "eop_104_47": ("104.47.58.112", "net: EOP 104.47.0.0/17 (microsoft-eop.txt)"),
    "eop_52_103": ("52.103.20.5", "net: EOP 52.100.0.0/14 (microsoft-eop.txt)"),
    "eop_52_102": ("52.102.7.90", "net: EOP 52.100.0.0/14 (microsoft-eop.txt)"),
    # Microsoft's own network (ipldb AS8075), addresses the threads quote
    "ms_40_94_16": ("40.94.16.21", "net: AS8075 Microsoft (ipldb 40.87.40.0-40.108.31.255), the thread's 40.94.16.*"),
    "ms_40_94_89_21": ("40.94.89.21", "net: AS8075 Microsoft (ipldb), the thread's 40.94.89.21"),
    "ms_40_94_89_23": ("40.94.89.23", "net: AS8075 Microsoft (ipldb), the thread's 40.94.89.23"),
    "ms_40_94_89_19": ("40.94.89.19", "net: AS8075 Microsoft (ipldb), the thread's 40.94.89.19"),
    "ms_20_190": ("20.190.10.10", "net: AS8075 Microsoft (ipldb 20.184.0.0-20.255.255.255), the Microsoft ASN the thread names"),
    # vendors' networks (ipldb)
    "proofpoint": ("185.132.182.10", "net: AS52129 Proofpoint (ipldb 185.132.180.0-185.132.183.255)"),
    "fortinet": ("154.52.2.10", "net: AS40934 Fortinet (ipldb 154.52.0.0-154.52.18.255), FortiMail Cloud's vendor"),
    # Google: AS15169 (Gmail's fetches), the published lists
    "google": ("173.194.10.10", "net: AS15169 Google (ipldb 173.194.0.0/16)"),
    "googlebot": ("66.249.79.40", "net: Googlebot 66.249.79.32/27 (googlebot.json)"),
    "g_fetch": ("35.243.23.40", "net: Google user-triggered fetchers 35.243.23.32/27 (google-user-triggered-fetchers.json)"),
    "bingbot": ("207.46.13.77", "net: Bingbot 207.46.13.0/24 (bingbot.json)"),
    # Apple: 17.0.0.0/8 and the iCloud Private Relay egress list
    "apple17": ("17.58.100.7", "net: Apple 17.0.0.0/8 (AS714)"),
    "relay_cf": ("104.28.28.10", "net: iCloud Private Relay egress 104.28.28.0/26 (icloud-private-relay.txt)"),
    "relay_akamai": ("172.226.50.16", "net: iCloud Private Relay egress 172.226.50.16/31 (icloud-private-relay.txt)"),
    "relay_v6": ("2a02:26f7:dbc5:4000::20", "net: iCloud Private Relay egress 2a02:26f7:dbc5:4000::/64 (icloud-private-relay.txt)"),
    # no network given by the source: a consumer address no list names
    "none_given": ("73.15.10.10", "net: not given by the source; AS7922 Comcast (ipldb), a consumer address no list names, so that the timing decides"),
    # consumer networks (ipldb)
    "comcast": ("24.30.10.10", "net: AS7922 Comcast (ipldb)"),
    "bt": ("86.145.10.10", "net: AS2856 British Telecommunications (ipldb)"),
    "orange": ("90.52.10.10", "net: AS3215 Orange (ipldb)"),
    "vodafone_de": ("95.90.10.10", "net: AS3209 Vodafone DE (ipldb)"),
    "dtag": ("84.148.10.10", "net: AS3320 Deutsche Telekom (ipldb)"),
    "claro": ("201.17.10.10", "net: AS28573 Claro BR (ipldb)"),
    "sfr": ("212.99.100.10", "net: AS15557 SFR (ipldb)"),
    "aaisp": ("81.2.69.160", "net: AS20712 Andrews & Arnold (ipldb)"),
}

URL = {
    "oc3656": "https://github.com/opencollective/opencollective/issues/3656",
    "gophish2646": "https://github.com/gophish/gophish/issues/2646",
    "gophish2549": "https://github.com/gophish/gophish/issues/2549",
    "gophish1598": "https://github.com/gophish/gophish/issues/1598",
    "gophish2887": "https://github.com/gophish/gophish/issues/2887",
    "outline9227": "https://github.com/outline/outline/issues/9227",
    "nextauth1840": "https://github.com/nextauthjs/next-auth/issues/1840",
    "fusionauth629": "https://github.com/FusionAuth/fusionauth-issues/issues/629",
    "ghost12347": "https://github.com/TryGhost/Ghost/issues/12347",
    "typebot1221": "https://github.com/baptisteArno/typebot.io/issues/1221",
    "anymail200": "https://github.com/anymail/django-anymail/issues/200",
    "postal74": "https://github.com/postalserver/postal/issues/74",
    "mautic10245": "https://github.com/mautic/mautic/pull/10245",
    "uap509": "https://github.com/ua-parser/uap-core/issues/509",
    "stronggrid405": "https://github.com/Jericho/StrongGrid/issues/405 (SendGrid's sg_machine_open: Apple machine opens)",
    "privacyguides2014": "https://github.com/privacyguides/privacyguides.org/issues/2014",
    "adguard959": "https://github.com/AdguardTeam/AdguardKnowledgeBase/issues/959",
    "easylist3577": "https://github.com/easylist/easylist/pull/3577",
    "marketo": "https://experienceleague.adobe.com/docs/marketo/using/product-docs/administration/email-setup/filtering-email-bot-activity.html",
    "sophos": "https://doc.sophos.com/central/Customer/help/en-us/ManageYourProducts/EmailSecurity/EmailSecurityPolicy/EmailURLProtection/index.html",
    "trend": "https://docs.trendmicro.com (Trend Vision One, Cloud Email Gateway Protection, Understanding URL Click Tracking)",
    "fortimail": "https://docs.fortinet.com/document/fortimail/7.2.0/cli-reference/622553 (system fortiguard url-protection: FortiSandbox scan on click)",
    "proofpoint": "https://support.vircom.com/support/solutions/articles/48000961469-things-to-know-about-proofpoint-url-defense",
    "googlebot": "https://developers.google.com/search/docs/crawling-indexing/verifying-googlebot (googlebot.json)",
    "bingbot": "https://www.bing.com/webmasters/help/verifying-that-bingbot-is-bingbot-3905dc26 (bingbot.json)",
    "feedfetcher": "https://developers.google.com/crawling/docs/crawlers-fetchers/google-user-triggered-fetchers (Feedfetcher)",
}

P = Part("pi-", 9000, UA, NET, URL)
add, msg = P.add, P.msg

# -- opencollective#3656: Outlook's ATP (Safe Links) fetches the magic link
# as it arrives, from 40.107.235.* and 40.94.16.*, with the Chrome
# User-Agents the thread quotes; the user's own click then fails.
M = msg()
add("oc-safelinks-chrome72", "scanner", M, 1, 1, "click", 3, "eop_40_107_235", "", "chrome72", "oc3656", "Outlook's robot fetches the sign-in link on arrival")
add("oc-safelinks-chrome64", "scanner", M, 2, 1, "click", 5, "ms_40_94_16", "", "chrome64", "oc3656", "the Chrome version varies from one request to another")
add("oc-person-click", "human", M, 1, 1, "click", 300, "comcast", "en-US,en;q=0.9", "firefox_linux", "oc3656", "the member's own click, which finds the token used")

# -- gophish#2646: every message to one domain shows opened and clicked
# seconds after sending, from 40.94.89.* with Chrome 101 (the page's assets
# fetched too): a scan, not the users.
M = msg()
add("m365-open-1", "scanner", M, 1, 0, "open", 4, "ms_40_94_89_23", "", "chrome101", "gophish2646", "the pixel fetched seconds after sending")
add("m365-click-1", "scanner", M, 1, 1, "click", 6, "ms_40_94_89_21", "", "chrome101", "gophish2646", "the link followed, with the landing page's scripts")
add("m365-open-2", "scanner", M, 2, 0, "open", 5, "ms_40_94_89_19", "", "chrome101", "gophish2646", "another recipient of the domain")
add("m365-click-2", "scanner", M, 2, 1, "click", 7, "ms_40_94_89_19", "", "chrome101", "gophish2646", "")

# -- gophish#2549: a Microsoft 365 tenant with Defender Plan 1 shows every
# message opened; without Defender none: Defender pings the tracking image.
M = msg()
add("defender-pixel-1", "scanner", M, 1, 0, "open", 8, "eop_52_103", "", "edge_win", "gophish2549", "Defender inspects the mail and fetches the pixel; " + NOT_QUOTED)
add("defender-pixel-2", "scanner", M, 2, 0, "open", 11, "eop_104_47", "", "edge_win", "gophish2549", "the next recipient of the tenant; " + NOT_QUOTED)

# -- outline#9227: the magic link is consumed before the message shows in
# Outlook, from a Microsoft ASN, which also follows the page's client-side
# redirect (&follow=true); the user's own click then fails.
M = msg()
add("ms-scan-link", "scanner", M, 1, 1, "click", 2, "ms_20_190", "", "chrome_win", "outline9227", "Microsoft's link scanning consumes the link before delivery completes; " + NOT_QUOTED)
add("ms-scan-follow", "scanner", M, 1, 1, "click", 3, "ms_20_190", "", "chrome_win", "outline9227", "and follows the client-side redirect")
add("outline-person", "human", M, 1, 1, "click", 150, "bt", "en-GB,en;q=0.9", "edge_win", "outline9227", "the user's click, told the link is no longer valid")

# -- next-auth#1840: Outlook with Safe Links follows the sign-in link;
# messages arrive about ten minutes late while Outlook checks them.
M = msg()
add("nextauth-safelinks", "scanner", M, 1, 1, "click", 1, "eop_40_107_236", "", "edge_win", "nextauth1840", "Outlook follows the link while it checks the message; " + NOT_QUOTED)
add("nextauth-person-late", "human", M, 1, 1, "click", 660, "vodafone_de", "de-DE,de;q=0.9,en;q=0.8", "chrome_android", "nextauth1840", "the user clicks when the message finally shows, ten minutes on")

# -- fusionauth-issues#629: an outlook.com address; Safe Links rewrites the
# link and the magic link is used before the user's click.
M = msg()
add("outlookcom-safelinks", "scanner", M, 1, 1, "click", 2, "eop_40_92", "", "chrome_win", "fusionauth629", "the Safe Links check of an outlook.com recipient's link; " + NOT_QUOTED)
add("outlookcom-person-quick", "human", M, 1, 1, "click", 80, "aaisp", "en-GB,en;q=0.9", "firefox_win", "fusionauth629", "the user clicks the magic link she asked for, within two minutes")

# -- Ghost#12347: members with corporate addresses; the token is already
# used when they click.
M = msg()
add("ghost-safelinks", "scanner", M, 1, 1, "click", 4, "eop_52_102", "", "edge_win", "ghost12347", "Office 365's scan of the member's sign-in link; " + NOT_QUOTED)
add("ghost-member-click", "human", M, 1, 1, "click", 1300, "dtag", "de-DE,de;q=0.9", "safari_mac", "ghost12347", "the member's own click")

# -- typebot#1221: a nam12.safelinks.protection.outlook.com link fails; the
# same flow works for a Gmail account.
M = msg()
add("typebot-safelinks", "scanner", M, 1, 1, "click", 3, "eop_40_107_236", "", "chrome_win", "typebot1221", "Outlook opens the link first; " + NOT_QUOTED)
add("typebot-gmail-person", "human", M, 2, 1, "click", 420, "claro", "pt-BR,pt;q=0.9,en;q=0.8", "chrome_mac", "typebot1221", "the Gmail user's click works")

# -- Marketo's "Filtering Email Bot Activity": more than two activities of
# one lead on one email within a second are a bot's (proximity pattern).
M = msg()
add("marketo-proximity-1", "scanner", M, 1, 1, "click", 30.0, "none_given", "", "chrome_win", "marketo", "three clicks of one lead within a second; " + NOT_QUOTED)
add("marketo-proximity-2", "scanner", M, 1, 2, "click", 30.3, "none_given", "", "chrome_win", "marketo", "")
add("marketo-proximity-3", "scanner", M, 1, 3, "click", 30.6, "none_given", "", "chrome_win", "marketo", "")

# -- anymail#200: on SES, a cluster of clicks on every link of the message
# within a minute of sending (or up to five minutes), before any open; then
# the person's own behaviour.
M = msg()
add("ses-cluster-1", "scanner", M, 1, 1, "click", 55.0, "none_given", "", "chrome_win", "anymail200", "a cluster over the message's links before any open; " + NOT_QUOTED)
add("ses-cluster-2", "scanner", M, 1, 2, "click", 55.2, "none_given", "", "chrome_win", "anymail200", "")
add("ses-cluster-3", "scanner", M, 1, 3, "click", 55.4, "none_given", "", "chrome_win", "anymail200", "")
add("ses-cluster-4", "scanner", M, 1, 4, "click", 55.5, "none_given", "", "chrome_win", "anymail200", "")
add("ses-person-no-pixel", "human", M, 1, 2, "click", 9000, "comcast", "en-US,en;q=0.9", "chrome_mac", "anymail200", "the recipient's own click; her Outlook blocks the pixel, so no open")

# -- gophish#1598: many clients block the pixel; a click without an open is
# a person's. gophish#2887: a plain-text message has no pixel, and the
# user's click is the first event.
M = msg()
add("pixel-blocked-person", "human", M, 1, 1, "click", 5400, "orange", "fr-FR,fr;q=0.9", "firefox_win", "gophish1598", "the user's click, images blocked")
add("plaintext-person", "human", M, 2, 1, "click", 900, "sfr", "fr-FR,fr;q=0.9,en;q=0.8", "chrome_win", "gophish2887", "the click on a plain-text message's link")

# -- postal#74: Outlook blocks images until the recipient loads them; the
# open counts then, and the click after it.
M = msg()
add("outlook-load-images", "human", M, 1, 0, "open", 5400, "bt", "en-GB", "outlook", "postal74", "the recipient loads the images in Outlook")
add("outlook-click-after", "human", M, 1, 1, "click", 5460, "bt", "en-GB,en;q=0.9", "edge_win", "postal74", "and clicks a link")

# -- mautic#10245: Gmail's fetch as the message arrives, from Google's
# addresses, with its fixed User-Agent (not a read); the reader's open with
# images on, through Gmail's image proxy (easylist#3577 shows the proxy URL).
M = msg()
add("gmail-arrival-fetch", "scanner", M, 1, 0, "open", 2, "google", "", "gmail_arrival", "mautic10245", "Gmail's fetch at arrival, before anyone reads")
add("gmail-reader-open", "proxy-open", M, 1, 0, "open", 16000, "google", "", "gmail_proxy", "mautic10245", "the user opens the message with images enabled")
add("gmail-proxy-open-2", "proxy-open", M, 2, 0, "open", 30000, "g_fetch", "", "gmail_proxy", "easylist3577", "the reader's open fetched through Gmail's proxy")

# -- uap-core#509 and StrongGrid#405: MPP's fetches send exactly
# "Mozilla/5.0" (SendGrid marks them machine opens): prefetch, from Apple
# and Private Relay egress.
M = msg()
add("mpp-apple17", "prefetch", M, 1, 0, "open", 15, "apple17", "", "bare", "uap509", "MPP forces the bare User-Agent")
add("mpp-relay-cf", "prefetch", M, 2, 0, "open", 50, "relay_cf", "", "bare", "uap509", "MPP through Private Relay")
add("mpp-relay-akamai", "prefetch", M, 3, 0, "open", 600, "relay_akamai", "", "bare", "stronggrid405", "an Apple machine open")
add("mpp-relay-v6", "prefetch", M, 4, 0, "open", 14000, "relay_v6", "", "bare", "stronggrid405", "an Apple machine open when the device syncs")

# -- privacyguides#2014: MPP is off unless chosen at setup on the Mac; and
# AdguardKnowledgeBase#959: Mail turns MPP off under a VPN. Then Mail loads
# images as the reader opens the message.
M = msg()
add("applemail-mac-no-mpp", "human", M, 1, 0, "open", 3000, "vodafone_de", "de-DE", "applemail_mac", "privacyguides2014", "Apple Mail on macOS without MPP")
add("iosmail-vpn-no-mpp", "human", M, 2, 0, "open", 4200, "comcast", "en-US", "iosmail", "adguard959", "iOS Mail with MPP off under a VPN")

# -- Click-time protection: the vendor checks the link when the user clicks
# it. Sophos (an SXL reputation lookup) and Trend Vision One (click
# tracking) then send the user's browser on: the person's click.
# FortiMail's click protection submits the URL to FortiSandbox; Proofpoint
# URL Defense verifies the URL at each click: the vendor's fetch, then the
# person's redirected click.
M = msg()
add("sophos-toc-person", "human", M, 1, 1, "click", 2000, "bt", "en-GB,en;q=0.9", "chrome_win", "sophos", "the user taken to the destination after the lookup")
add("trend-toc-person", "human", M, 2, 1, "click", 7000, "dtag", "de-DE,de;q=0.9", "firefox_win", "trend", "the user allowed through to the URL")
add("forti-reader-open", "human", M, 3, 0, "open", 3500, "orange", "fr-FR", "outlook", "fortimail", "the reader opens the message")
add("forti-sandbox-click", "scanner", M, 3, 1, "click", 3560, "fortinet", "", "chrome_win", "fortimail", "FortiSandbox scans the URL on the click; " + NOT_QUOTED)
add("forti-person-click", "human", M, 3, 1, "click", 3575, "orange", "fr-FR,fr;q=0.9", "edge_win", "fortimail", "the person reaches the page once it is allowed")
add("pp-reader-open", "human", M, 4, 0, "open", 20000, "aaisp", "en-GB", "outlook", "proofpoint", "the reader opens the message")
add("pp-click-verify", "scanner", M, 4, 1, "click", 20040, "proofpoint", "", "chrome_win", "proofpoint", "URL Defense verifies the URL at the click; " + NOT_QUOTED)
add("pp-person-redirect", "human", M, 4, 1, "click", 20041, "aaisp", "en-GB,en;q=0.9", "firefox_linux", "proofpoint", "then redirects the user to the site")

# -- Published crawler and fetcher lists: a newsletter's links on a public
# archive page are crawled; a feed of it is fetched: probes.
M = msg()
add("googlebot-link", "probe", M, 1, 1, "click", 86400, "googlebot", "", "googlebot", "googlebot", "Googlebot follows a link from the archive")
add("bingbot-link", "probe", M, 2, 1, "click", 90000, "bingbot", "", "bingbot", "bingbot", "Bingbot follows a link")
add("feedfetcher-link", "probe", M, 3, 1, "click", 7200, "g_fetch", "", "feedfetcher", "feedfetcher", "Feedfetcher fetches the feed a user subscribed to")

P.write("# ---- part I: real-network scenarios from public evidence not used before, written after rules version 8, measured once ----\n")
