#!/usr/bin/env python3
"""make_measure_h.py: appends part H of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule was
written from: other projects' issue threads about fake opens and bot clicks
(mautic/mautic#16263 and #9162, warmbly/warmbly#410 and #412,
fleetdm/fleet#26976, putyourlightson/craft-campaign#546, mautic/mautic#6591,
dubinc/dub#1860, TryGhost/Ghost#30388), ESPs' help pages (Mailgun's "Open
and Click Bot Detection", Plunk's "Open and click tracking", Postmark's
"Tracking links", Arternal's "clickthroughs triggered by email security
scanners"), security vendors' documentation of their link checks (Mimecast
URL Protect, Proofpoint URL Defense, Barracuda Link Protection and
Sentinel's "Unwanted link clicks", Microsoft Defender Safe Links), Apple's
Mail Privacy Protection and Private Relay pages, and providers' pages on
their image and content proxies (HEY's image proxy, Yahoo Mail Proxy,
Google's special-case crawlers, Meta's crawler, Zscaler's cloud enforcement
nodes).

Each scenario takes from its source what the source reports: the
User-Agent (quoted where the source quotes one), the network (an address
the source gives; else, where the source names the provider, an address
from that provider's published ranges in data/published/ or, when it
publishes none we carry, its autonomous system in ipldb, named per line),
the timing relative to delivery, which request (pixel or link), and what
the request really was according to the source. Where a source says a
scanner sends "human-looking" User-Agents without quoting one, the line has
an ordinary current browser's User-Agent and no Accept-Language, and says
so; a person's request where the source quotes no User-Agent gets an
ordinary browser with the Accept-Language every browser sends, from a
consumer network (as part G did).

Labels follow docs/verdicts.md's definitions: a security product fetching
the pixel or following the link to inspect it is `scanner`, also at click
time; scripted clients, link-preview fetchers and loops are `probe`; Apple
MPP's background loads and a provider proxy's fetch as mail arrives are
`prefetch`; a provider proxy's fetch when its user views the message is
`proxy-open`; a person's own request, through whatever web proxy the
person's employer runs, is `human`.

Written on 2026-12-07 AFTER rules version 7 and before rules version 8,
with these labels decided in this script before the first run; the rules
are never fitted to its rows (docs/verdicts.md, "The order in which this
was done", step 11). Every row's last column names its source.

Run from the source root, after make_measure_g.py (which rewrites from part
G on): python3 tests/data/hits/make_measure_h.py
"""
from measure_writer import Part

UA = {
    # an ordinary current browser, for scanners the sources call
    # "human-looking" without quoting the string
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    # fleetdm/fleet#26976: "Chrome 125 (so, 8+ versions old) on Windows 10"
    "chrome125_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    # people's browsers and clients
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "safari_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "iosmail": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "chrome_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "chrome_android": "Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "outlook": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
    # Mailgun's "Open and Click Bot Detection": the Apple MPP event's user-agent
    "bare": "Mozilla/5.0",
    # Mailgun's bot-detection post and Plunk's tracking page: Gmail's image proxy
    "gmail_proxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # HEY's "HEY Image Proxy" page: the full User-Agent it documents
    "hey_proxy": "hey.com/imageproxy Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
    # Yahoo's "Yahoo Mail Proxy" help page (SLN28749), as the User-Agent names it
    "yahoo_proxy": "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    # Google's "Google special-case crawlers": Google-Safety's User-Agent token
    "google_safety": "Google-Safety",
    # putyourlightson/craft-campaign#546: "Python Requests" as the client
    "python_requests": "python-requests/2.32.3",
    # mautic/mautic#6591: Bitly's link checker
    "bitlybot": "bitlybot/3.0 (+http://bit.ly/)",
    # dubinc/dub#1860 (links shared on X); X's documented card crawler
    "twitterbot": "Twitterbot/1.0",
    # Meta's "The Facebook Crawler" page
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    # Slack's "Slackbot" robots page: the link-expanding fetcher
    "slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
}

# (address, where it comes from)
NET = {
    # mail-security-gateways.txt: Mimecast's published netblocks
    "mimecast1": ("205.139.110.61", "net: Mimecast 205.139.110.0/24 (mail-security-gateways.txt, _netblocks.mimecast.com)"),
    "mimecast2": ("170.10.133.20", "net: Mimecast 170.10.133.0/24 (mail-security-gateways.txt)"),
    "mimecast3": ("207.211.31.40", "net: Mimecast 207.211.31.0/25 (mail-security-gateways.txt)"),
    # Proofpoint and Barracuda publish no list we carry: ipldb
    "proofpoint1": ("66.159.227.40", "net: AS26211 Proofpoint (ipldb 66.159.227.0/24)"),
    "proofpoint2": ("66.159.228.90", "net: AS22843 Proofpoint (ipldb 66.159.228.0/24)"),
    "barracuda1": ("64.235.150.20", "net: AS15324 Barracuda Networks (ipldb 64.235.150.0-64.235.159.255)"),
    "barracuda2": ("64.235.145.14", "net: AS15324 Barracuda Networks (ipldb 64.235.144.0/22)"),
    "cisco": ("23.90.97.33", "net: AS16417 Cisco Systems Ironport Division (ipldb 23.90.96.0-23.90.101.255)"),
    "sophos": ("103.29.28.70", "net: AS58976 Sophos (ipldb 103.29.28.0/24)"),
    "trend": ("150.70.4.18", "net: AS16880 Trend Micro (ipldb 150.70.0.0/20)"),
    # Exchange Online Protection (microsoft-eop.txt)
    "eop_52_102": ("52.102.140.9", "net: EOP 52.100.0.0/14 (microsoft-eop.txt, Microsoft 365 URLs and IP address ranges)"),
    "eop_40_93": ("40.93.12.7", "net: EOP 40.92.0.0/15 (microsoft-eop.txt)"),
    # Microsoft's own network (ipldb AS8075), the network the threads name
    "ms_13_72": ("13.72.245.10", "net: AS8075 Microsoft (ipldb 13.64.0.0/11), the network the thread names"),
    "ms_13_77": ("13.77.161.30", "net: AS8075 Microsoft (ipldb 13.64.0.0/11), the network the thread names"),
    # Amazon (ipldb AS16509): a network Arternal's page names for scanners;
    # Slack's and Bitly's fetchers run there
    "aws1": ("3.2.80.14", "net: AS16509 Amazon (ipldb 3.2.75.0-3.2.98.255)"),
    "aws2": ("3.0.44.201", "net: AS16509 Amazon (ipldb 3.0.0.0-3.2.63.255)"),
    # Google: the user-triggered fetchers (GoogleImageProxy) and special-case crawlers lists
    "g_fetch": ("107.178.192.40", "net: Google user-triggered fetchers 107.178.192.32/27 (google-user-triggered-fetchers.json)"),
    "g_fetch2": ("107.178.192.100", "net: Google user-triggered fetchers 107.178.192.96/27 (google-user-triggered-fetchers.json)"),
    "g_special": ("108.177.2.10", "net: Google special-case crawlers 108.177.2.0/27 (google-special-crawlers.json)"),
    "gcloud": ("34.3.0.77", "net: AS396982 Google Cloud (ipldb 34.3.0.0/23)"),
    # Apple: 17.0.0.0/8 and the iCloud Private Relay egress list
    "apple17": ("17.58.63.20", "net: Apple 17.0.0.0/8 (AS714)"),
    "relay_akamai": ("172.224.226.5", "net: iCloud Private Relay egress 172.224.226.0/26 (icloud-private-relay.txt, Apple egress-ip-ranges.csv)"),
    "relay_fastly": ("146.75.128.40", "net: iCloud Private Relay egress 146.75.128.0/23 (icloud-private-relay.txt)"),
    "relay_v6": ("2a02:26f7:f6d6:4000::12", "net: iCloud Private Relay egress 2a02:26f7:f6d6:4000::/64 (icloud-private-relay.txt)"),
    # Yahoo, HEY (Basecamp), X, Meta (ipldb)
    "yahoo": ("63.250.193.22", "net: AS36647 Oath/Yahoo (ipldb 63.250.192.0/22)"),
    "hey": ("64.202.125.30", "net: AS25657 Basecamp (ipldb 64.202.125.0/24), HEY's operator"),
    "twitter": ("69.195.160.90", "net: AS13414 Twitter (ipldb 69.195.160.0/19)"),
    "meta": ("31.13.103.10", "net: AS32934 Facebook (ipldb 31.13.64.0/18)"),
    # Zscaler Internet Access egress (ipldb AS22616; Zscaler's "Cloud Enforcement Node Ranges")
    "zscaler": ("8.34.34.60", "net: AS22616 Zscaler (ipldb 8.34.34.0/24)"),
    # consumer networks (ipldb)
    "comcast": ("23.24.61.80", "net: AS7922 Comcast (ipldb)"),
    "verizon": ("23.29.100.44", "net: AS701 Verizon (ipldb)"),
    "vodafone_de": ("5.10.170.12", "net: AS3209 Vodafone DE (ipldb)"),
    "telefonica": ("2.138.44.91", "net: AS3352 Telefonica ES (ipldb)"),
    "virgin": ("45.43.169.15", "net: AS5089 Virgin Media (ipldb)"),
    "free": ("78.200.14.33", "net: AS12322 Free (ipldb)"),
    "cox": ("5.183.89.20", "net: AS22773 Cox (ipldb)"),
}

URL = {
    "mautic16263": "https://github.com/mautic/mautic/issues/16263",
    "mautic9162": "https://github.com/mautic/mautic/issues/9162",
    "warmbly410": "https://github.com/warmbly/warmbly/issues/410",
    "warmbly412": "https://github.com/warmbly/warmbly/pull/412 (quoting Microsoft's Safe Links documentation)",
    "fleet26976": "https://github.com/fleetdm/fleet/issues/26976",
    "craft546": "https://github.com/putyourlightson/craft-campaign/issues/546",
    "mautic6591": "https://github.com/mautic/mautic/pull/6591",
    "dub1860": "https://github.com/dubinc/dub/issues/1860",
    "ghost30388": "https://github.com/TryGhost/Ghost/issues/30388 (Mailgun's client-info.bot)",
    "mailgun": "https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/open-click-bot-detect",
    "mailgun_blog": "https://www.mailgun.com/blog/product/bot-detection/",
    "plunk": "https://docs.useplunk.com/tracking",
    "postmark": "https://postmarkapp.com/developer/user-guide/tracking-links",
    "arternal": "https://support.arternal.com/en/articles/15216436-smart-mail-clickthroughs-triggered-by-email-security-scanners",
    "mimecast": "https://community.mimecast.com/docs/DOC-1027 (Targeted Threat Protection - URL Protect)",
    "proofpoint": "https://hawaii.edu/askus/1889 (Proofpoint URL Defense: every click sent to a sandbox first)",
    "barracuda_lp": "https://campus.barracuda.com/product/emailgatewaydefense/doc/96023012/understanding-link-protection",
    "barracuda_sentinel": "https://campus.barracuda.com/product/sentinel/doc/498468311/unwanted-link-clicks",
    "safelinks": "https://learn.microsoft.com/en-us/defender-office-365/safe-links-about",
    "apple_mpp": "https://support.apple.com/guide/mail/use-mail-privacy-protection-mlhl03be2866/mac (Apple: remote content loaded privately in the background)",
    "apple_relay": "https://developer.apple.com/support/prepare-your-network-for-icloud-private-relay",
    "hey": "https://www.hey.com/image-proxy",
    "yahoo": "https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    "google_special": "https://developers.google.com/crawling/docs/crawlers-fetchers/google-special-case-crawlers (Google-Safety: malware discovery for links)",
    "meta": "https://developers.facebook.com/docs/sharing/webmasters/web-crawlers",
    "slack": "https://api.slack.com/robots",
    "zscaler": "https://config.zscaler.com/zscaler.net/cenr (Zscaler Internet Access: users' web traffic leaves through these nodes)",
}

P = Part("ph-", 8000, UA, NET, URL)
add, msg = P.add, P.msg

HUMAN_LOOKING = "UA not quoted ('human-looking'): an ordinary current browser, no Accept-Language"

# -- mautic#16263: Safe Links, Mimecast, Proofpoint URL Defense and Barracuda
# fetch every link (and the pixel) of a message at delivery, with User-Agents
# that match no block list.
M = msg()
add("mimecast-pixel-delivery", "scanner", M, 1, 0, "open", 3, "mimecast1", "", "chrome_win", "mautic16263", "Mimecast fetches the pixel at delivery; " + HUMAN_LOOKING)
add("mimecast-link-delivery", "scanner", M, 1, 1, "click", 4, "mimecast1", "", "chrome_win", "mautic16263", "and follows the link; " + HUMAN_LOOKING)
add("proofpoint-pixel-delivery", "scanner", M, 2, 0, "open", 5, "proofpoint1", "", "edge_win", "mautic16263", "Proofpoint at delivery; " + HUMAN_LOOKING)
add("proofpoint-link-delivery", "scanner", M, 2, 1, "click", 6, "proofpoint1", "", "edge_win", "mautic16263", "Proofpoint URL Defense follows the link at delivery; " + HUMAN_LOOKING)
add("barracuda-link-delivery", "scanner", M, 3, 1, "click", 8, "barracuda1", "", "chrome_win", "mautic16263", "Barracuda at delivery; " + HUMAN_LOOKING)
add("safelinks-link-delivery", "scanner", M, 4, 1, "click", 2, "eop_52_102", "", "edge_win", "mautic16263", "Safe Links at delivery; " + HUMAN_LOOKING)

# -- mautic#9162: a secure email gateway opens every link of the message,
# the unsubscribe link among them, as the message arrives.
M = msg()
add("seg-every-link-1", "scanner", M, 1, 1, "click", 5.0, "mimecast2", "", "chrome_win", "mautic9162", "the gateway opens all links of the message; " + HUMAN_LOOKING)
add("seg-every-link-2", "scanner", M, 1, 2, "click", 5.3, "mimecast2", "", "chrome_win", "mautic9162", "the next link")
add("seg-every-link-unsub", "scanner", M, 1, 3, "click", 5.6, "mimecast2", "", "chrome_win", "mautic9162", "the unsubscribe link too")

# -- warmbly#410: one Microsoft-owned address (AS8075) fetched the pixel and
# the link of one message with two different human-looking User-Agents; the
# recipient opened and clicked neither. warmbly#412: a person's click through
# Safe Links comes from the person's own address (the browser is redirected).
M = msg()
add("m365-open-humanlooking", "scanner", M, 1, 0, "open", 6, "ms_13_72", "", "edge_win", "warmbly410", "Microsoft 365's delivery-time pixel fetch; " + HUMAN_LOOKING)
add("m365-click-humanlooking", "scanner", M, 1, 1, "click", 7, "ms_13_72", "", "chrome_win", "warmbly410", "the same address clicks with another User-Agent; " + HUMAN_LOOKING)
add("safelinks-person-redirected", "human", M, 2, 1, "click", 1800, "comcast", "en-US,en;q=0.9", "chrome_mac", "warmbly412", "a person's click through Safe Links arrives from the person's own address")

# -- fleet#26976: Microsoft's link scanning visits an MFA magic link from a
# Microsoft address with Chrome 125 on Windows 10; the person, waiting for
# the mail, clicks it within a minute (a quick click, no open).
M = msg()
add("m365-mfa-link-chrome125", "scanner", M, 1, 1, "click", 4, "ms_13_77", "", "chrome125_win", "fleet26976", "Microsoft link scanning redeems the MFA link")
add("mfa-person-quick-click", "human", M, 1, 1, "click", 50, "verizon", "en-US,en;q=0.9", "safari_mac", "fleet26976", "the intended user clicks the MFA link she asked for, within a minute")

# -- craft-campaign#546: contacts at large corporate domains "click on every
# link several times", some with Python Requests as the client: a scripted
# client in a loop (probe). Network not given: Amazon, a network Arternal's
# help page names for such clicks.
M = msg()
for i, (item, t) in enumerate([(1, 900.0), (2, 900.5), (3, 901.0), (1, 901.6), (2, 902.1), (3, 902.7)]):
    add(f"python-every-link-{i + 1}", "probe", M, 1, item, "click", t, "aws2", "", "python_requests", "craft546", "Python Requests clicks every link several times")

# -- Arternal's help page: a security scanner clicks every link of the message
# within 1-5 s of its arrival, from Microsoft, Google, AWS, Proofpoint or
# Mimecast addresses.
M = msg()
add("every-link-aws-1", "scanner", M, 1, 1, "click", 2.0, "aws1", "", "chrome_win", "arternal", "every link clicked within seconds of arrival; " + HUMAN_LOOKING)
add("every-link-aws-2", "scanner", M, 1, 2, "click", 2.3, "aws1", "", "chrome_win", "arternal", "")
add("every-link-aws-3", "scanner", M, 1, 3, "click", 2.6, "aws1", "", "chrome_win", "arternal", "")
add("every-link-gcloud-1", "scanner", M, 2, 1, "click", 3.1, "gcloud", "", "chrome_win", "arternal", "the same from Google's cloud; " + HUMAN_LOOKING)
add("every-link-gcloud-2", "scanner", M, 2, 2, "click", 3.4, "gcloud", "", "chrome_win", "arternal", "")

# -- Barracuda's "Unwanted link clicks": Impersonation Protection and Incident
# Response click links in email; exempting a few Barracuda addresses no longer
# stops it.
M = msg()
add("barracuda-sentinel-click", "scanner", M, 1, 1, "click", 40, "barracuda2", "", "chrome_win", "barracuda_sentinel", "Barracuda's link verification clicks the link; " + HUMAN_LOOKING)

# -- Mimecast URL Protect: on a click, the rewritten link points to Mimecast,
# which scans the destination before redirecting the user. The person opened
# the message in Outlook two hours after delivery.
M = msg()
add("mimecast-reader-open", "human", M, 1, 0, "open", 7200, "virgin", "en-GB", "outlook", "mimecast", "the reader opens the message in Outlook")
add("mimecast-click-time-scan", "scanner", M, 1, 1, "click", 7260, "mimecast3", "", "chrome_win", "mimecast", "URL Protect scans the destination at the click; " + HUMAN_LOOKING)
add("mimecast-person-redirected", "human", M, 1, 1, "click", 7262, "virgin", "en-GB,en;q=0.9", "firefox_win", "mimecast", "then the person's browser is redirected to the site")

# -- Proofpoint URL Defense: every click goes to a sandbox that scans the
# destination before the user gets there; next day.
M = msg()
add("proofpoint-reader-open", "human", M, 1, 0, "open", 86000, "cox", "en-US", "outlook", "proofpoint", "the reader opens the message the next day")
add("proofpoint-click-time-sandbox", "scanner", M, 1, 1, "click", 86100, "proofpoint2", "", "chrome_win", "proofpoint", "URL Defense's sandbox fetches the destination at the click; " + HUMAN_LOOKING)
add("proofpoint-person-redirected", "human", M, 1, 1, "click", 86101, "cox", "en-US,en;q=0.9", "chrome_win", "proofpoint", "the person's browser redirected to the site")

# -- Barracuda Link Protection: a good URL redirects the user with no
# noticeable delay; the person clicks three minutes after delivery, images off.
M = msg()
add("barracuda-lp-person-quick", "human", M, 1, 1, "click", 190, "free", "fr-FR,fr;q=0.9", "firefox_win", "barracuda_lp", "the user is redirected to the website: the person's click, no open before it")

# -- Postmark's "Tracking links": the URL opens in the recipient's default
# browser; a person clicks a password reset on the phone a minute after it arrives.
M = msg()
add("postmark-person-phone-quick", "human", M, 1, 1, "click", 70, "vodafone_de", "de-DE,de;q=0.9,en;q=0.8", "chrome_android", "postmark", "the recipient's default browser opens the link")

# -- Google's special-case crawlers: Google-Safety handles abuse-specific
# crawling (malware discovery for links), from its published ranges.
M = msg()
add("google-safety-link", "scanner", M, 1, 1, "click", 20, "g_special", "", "google_safety", "google_special", "Google-Safety checks the link for malware")

# -- Plunk's tracking page and Mailgun's bot detection post: Gmail fetches
# the pixel as the message is delivered (not a read); the reader's later
# open through the image proxy is a read. Corporate gateways pre-fetch
# images too (Plunk).
M = msg()
add("gmail-proxy-delivery", "prefetch", M, 1, 0, "open", 3, "g_fetch", "", "gmail_proxy", "plunk", "Gmail fetches the pixel as soon as the email is delivered")
add("gmail-proxy-reader", "proxy-open", M, 1, 0, "open", 20000, "g_fetch", "", "gmail_proxy", "mailgun_blog", "the reader's open through Google's image proxy")
add("gmail-proxy-reader-2", "proxy-open", M, 2, 0, "open", 40000, "g_fetch2", "", "gmail_proxy", "mailgun_blog", "another reader's open")
add("gateway-image-prefetch-cisco", "scanner", M, 3, 0, "open", 4, "cisco", "", "chrome_win", "plunk", "a corporate mail security gateway pre-fetches the images; " + HUMAN_LOOKING)

# -- Mailgun's bot detection: Apple MPP ("Mozilla/5.0", bot apple) and
# generic bots, "mostly likely a firewall or anti-virus scan"
# (TryGhost/Ghost#30388 cites it for newsletters' inflated rates).
M = msg()
add("mpp-apple17", "prefetch", M, 1, 0, "open", 40, "apple17", "", "bare", "mailgun", "the Apple MPP open event of Mailgun's example")
add("mpp-relay-sync", "prefetch", M, 2, 0, "open", 10800, "relay_akamai", "", "bare", "mailgun", "MPP loads when the device next syncs, through Private Relay")
add("av-scan-open-sophos", "scanner", M, 3, 0, "open", 6, "sophos", "", "chrome_win", "ghost30388", "an anti-virus gateway's fetch of the pixel at delivery; " + HUMAN_LOOKING)
add("av-scan-click-trend", "scanner", M, 4, 1, "click", 9, "trend", "", "chrome_win", "ghost30388", "a gateway's link check at delivery; " + HUMAN_LOOKING)

# -- Apple: MPP loads remote content in the background whether or not the
# message is read; without MPP (it is optional) Mail loads when the reader
# opens. Private Relay carries Safari's browsing: a click through it is the
# person's.
M = msg()
add("mpp-relay-v6-delivery", "prefetch", M, 1, 0, "open", 20, "relay_v6", "", "bare", "apple_mpp", "MPP's background load at delivery")
add("iosmail-no-mpp-reader", "human", M, 2, 0, "open", 7300, "vodafone_de", "de-DE", "iosmail", "apple_mpp", "Mail without MPP loads images when the reader opens")
add("relay-safari-click", "human", M, 3, 1, "click", 5000, "relay_fastly", "en-US,en;q=0.9", "safari_ios", "apple_relay", "a Safari user's click through Private Relay")
add("relay-safari-quick-click", "human", M, 4, 1, "click", 95, "relay_fastly", "en-GB,en;q=0.9", "safari_ios", "apple_relay", "a Safari user's click 95 s after delivery, no open")

# -- HEY's image proxy fetches an email's images only when a HEY user views
# the email, with its documented User-Agent and Accept-Language.
M = msg()
add("hey-proxy-view", "proxy-open", M, 1, 0, "open", 3600, "hey", "en-US,en;q=0.9", "hey_proxy", "hey", "the proxy fetches the image as the user views the email")
add("hey-proxy-view-quick", "proxy-open", M, 2, 0, "open", 45, "hey", "en-US,en;q=0.9", "hey_proxy", "hey", "a quick read: the proxy fetches only when the email is viewed")

# -- Yahoo Mail Proxy: fetches the images of an email its user views (a read),
# and retrieves the content of links embedded in emails for the users'
# security (a link check, not a click).
M = msg()
add("yahoo-proxy-view", "proxy-open", M, 1, 0, "open", 9000, "yahoo", "", "yahoo_proxy", "yahoo", "the reader views the message")
add("yahoo-proxy-link-fetch", "scanner", M, 2, 1, "click", 12, "yahoo", "", "yahoo_proxy", "yahoo", "the proxy retrieves a link's content for the users' security")

# -- Link fetchers when a link is shared: Bitly's checker (mautic#6591), X's
# card crawler (dub#1860), Meta's crawler, Slack's link expander: probes.
M = msg()
add("bitlybot-check", "probe", M, 1, 1, "click", 3600, "aws2", "", "bitlybot", "mautic6591", "Bitly's bot clicks the shortened link to analyse it")
add("twitterbot-card", "probe", M, 2, 1, "click", 5400, "twitter", "", "twitterbot", "dub1860", "X checks the shared link")
add("facebook-crawler", "probe", M, 3, 1, "click", 6000, "meta", "", "facebook", "meta", "the link shared on Facebook is fetched for its preview")
add("slack-unfurl", "probe", M, 4, 1, "click", 7000, "aws1", "", "slackbot", "slack", "the link pasted into Slack is unfurled")

# -- Zscaler Internet Access: employees' web traffic leaves through Zscaler's
# enforcement nodes, so a person's click (and Outlook's image fetch) at work
# comes from Zscaler's addresses.
M = msg()
add("zscaler-person-quick-click", "human", M, 1, 1, "click", 45, "zscaler", "en-US,en;q=0.9", "chrome_win", "zscaler", "an employee clicks 45 s after delivery, through the company's Zscaler egress")
add("zscaler-outlook-open", "human", M, 2, 0, "open", 3000, "zscaler", "en-US", "outlook", "zscaler", "Outlook's open at work, through Zscaler")
add("zscaler-person-click-after-open", "human", M, 2, 1, "click", 3060, "zscaler", "en-US,en;q=0.9", "edge_win", "zscaler", "and the click after it")

P.write("# ---- part H: real-network scenarios from public evidence not used before, written after rules version 7, measured once ----\n")
