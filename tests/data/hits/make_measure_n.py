#!/usr/bin/env python3
"""make_measure_n.py: appends part N of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule cites
(each checked against tests/data/hits/README.md, every make_measure_*.py,
hits.tsv, tune.tsv, data/*.tsv, data/published/README.md and
docs/verdicts.md before the first run), weighted towards what rules
version 12 has not seen:

- link checkers of vendors no earlier part names: TitanHQ's Link Lock
  (SpamTitan/PhishTitan: every link rewritten, checked in real time when
  clicked, redirects followed; a warning page the user may pass), the same
  Link Lock in Comodo's Email Protection, Trellix Email Security's Advanced
  URL Defense (URLs of arriving mail analysed and rewritten), Cloudflare
  Email Security's "instant crawl of links" and its Email Link Isolation
  (the page rendered for the user in a remote browser; the vendor's egress
  list for mail is in data/published, its crawler's addresses are not),
  SparkPost following links of mail it sends, and CanIt-Domain-PRO's
  URLProxy landing page (SUNET's re-implementation);
- Microsoft's: Safe Links and Proofpoint URL Defense requesting the URL
  before forwarding the user (SalesforceLinkUnwrap), Outlook's "Report
  Phishing" sandbox clicking (gophish/gophish#3317), a Microsoft bot scan
  (gophish#2961), a ticketing system's intake following a forwarded
  message's link (gophish#2853);
- an antivirus on the person's own machine following a one-time link
  (jhaals/yopass#3961, #741), mail services visiting every link
  (yopass#2154, #3032);
- chat servers' previews: Rocket.Chat's oEmbed fetch with the Chrome 41
  User-Agent its settings default to (RocketChat/Rocket.Chat#6421,
  #19188), and a Rocket.Chat server opening a pasted link (yopass#741);
- people and proxies in proportion: Gmail's proxy at arrival and at the
  reads, with the address a guide quotes (Kushagrabainsla/sentinel's
  OPEN_TRACKING_GUIDE.md; a project's FALSE_POSITIVE_READ_TRACKING.md),
  Gmail's proxy for readers (ua-parser/uap-core#170), Fastmail's and
  Proton's server-side fetches and a webmail's direct fetch once the user
  allows remote content (bulwarkmail/webmail#1021), Tutanota's desktop
  client loading images from the user's device (tutao/tutanota#1279), and
  people clicking with images blocked (gophish#2124).

Conventions as part M's (make_measure_m.py): the User-Agent a source
quotes, else the standard string of what it names (said per line), else an
ordinary current browser without Accept-Language for a machine and with one
for a person; the network a source gives, else the provider's autonomous
system (ipldb), else a consumer address no list names (Telia and Telstra: part J
and the t13 tune lines use other addresses of the same networks for
people).

Written on 2026-12-07 AFTER rules version 12, with the labels decided in
this script before the first run; measured once, totals only, before any
rule of round 14 (docs/verdicts.md, "The order in which this was done").

Run from the source root, after make_measure_m.py (which rewrites from
part M on): python3 tests/data/hits/make_measure_n.py
"""
from measure_writer import Part, NOT_QUOTED, PERSON

UA = {
    # quoted: RocketChat#6421 and #19188 (the oEmbed request's default User-Agent)
    "rocketchat": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.0 Safari/537.36",
    # the guide quotes "Mozilla/5.0 ... (via ggpht.com GoogleImageProxy)": Gmail's full published string
    "gproxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # Outlook for Windows' image download (the page names Outlook's preview pane): its standard string
    "outlook": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    # ordinary current browsers: machines (no language) and people (with one)
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "chrome_android": "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
}

NET = {
    "telia": ("2.248.10.10", "net: AS3301 Telia (ipldb), a consumer address no list names"),
    "telia2": ("2.250.77.4", "net: AS3301 Telia (ipldb), a consumer address no list names"),
    "telia3": ("2.252.31.9", "net: AS3301 Telia (ipldb), a consumer address no list names"),
    "telstra": ("1.125.10.10", "net: AS1221 Telstra (ipldb), a consumer address no list names"),
    "telstra2": ("58.160.20.5", "net: AS1221 Telstra (ipldb), a consumer address no list names"),
    "telstra3": ("1.130.44.7", "net: AS1221 Telstra (ipldb), a consumer address no list names"),
    "trellix": ("38.109.230.20", "net: not given by the source; AS46484 Trellix (ipldb)"),
    "sparkpost": ("147.253.210.10", "net: not given by the source; AS23528 Sparkpost (ipldb)"),
    "cloudflare": ("8.6.112.20", "net: not given by the source; AS13335 Cloudflare (ipldb), not its mail egress list"),
    "cloudflare2": ("8.6.112.31", "net: not given by the source; AS13335 Cloudflare (ipldb)"),
    "eop": ("40.107.200.15", "net: Safe Links from EOP's published ranges (40.107.0.0/16)"),
    "proofpoint": ("66.159.227.40", "net: not given by the source; AS26211 Proofpoint (ipldb)"),
    "msft": ("4.150.20.10", "net: not given by the source; AS8075 Microsoft (ipldb), outside EOP's ranges"),
    "msft2": ("4.160.3.77", "net: not given by the source; AS8075 Microsoft (ipldb), outside EOP's ranges"),
    "ovh": ("54.36.10.10", "net: not given by the source; a self-hosted server: AS16276 OVH (ipldb)"),
    "ovh2": ("54.38.200.5", "net: not given by the source; a self-hosted server: AS16276 OVH (ipldb)"),
    "gproxy_quoted": ("66.102.7.236", "net: the guide's address (ipldb AS15169 Google)"),
    "gproxy": ("66.102.6.200", "net: AS15169 Google (ipldb 66.102.0.0/20; the guide names 66.102.x.x)"),
    "gproxy2": ("66.249.84.10", "net: AS15169 Google (ipldb; the guide names 66.249.x.x)"),
    "fastmail": ("103.168.172.40", "net: not given by the source; AS151847 Fastmail (ipldb)"),
    "proton": ("79.135.106.20", "net: not given by the source; AS62371 Proton (ipldb)"),
}

URL = {
    "titan": "https://support.titanhq.com/en/66570-link-lock.html (Link Lock rewrites every link of inbound mail and checks it in real time when clicked; https://radishnetworks.atlassian.net/wiki/spaces/PKB/pages/1109131348: Link Lock follows redirected URLs)",
    "estreet": "https://estreet.com/knowledge-base/what-is-link-lock/ (SpamTitan's Link Lock: a warning page when a link cannot be determined safe; the user may proceed)",
    "comodo": "http://help.comodo.com/topic-1400009-1-1400010-1400554-.html (Comodo Email Protection's Link Lock: links rewritten, checked in real time once clicked)",
    "trellix": "https://docs.trellix.com/data-and-email/docs/enabling-disabling-or-whitelisting-rewriting-urls-using-the-cli.md (Trellix Email Security's Advanced URL Defense analysis of URLs and rewriting)",
    "cf_crawl": "https://github.com/cloudflare/cloudflare-docs/pull/15928 (Cloudflare Email Security detections: instant crawl of links in a message)",
    "cf_isolation": "https://github.com/cloudflare/cloudflare-docs/blob/production/content/email-security/email-configuration/email-policies/link-actions.md (Email Link Isolation: the clicked page fetched and rendered on a remote server for the user)",
    "sparkpost": "https://github.com/SparkPost/developers.sparkpost.com/blob/master/_faqs/automated_link_clicking.md (SparkPost follows some links of mail it sends, to check the content)",
    "sfunwrap": "https://github.com/denisab85/SalesforceLinkUnwrap (Safe Links' and URL Defense's backend requests the original URL before forwarding the user)",
    "urlproxy": "https://github.com/SUNET/Mailfilter-URLProxy (CanIt-Domain-PRO's URLProxy: rewritten links lead to a landing page about the URL, the user goes on from there)",
    "g3317": "https://github.com/gophish/gophish/issues/3317 (users reporting the message with Outlook's Report Phishing are logged as clicks; the Outlook sandbox)",
    "g2961": "https://github.com/gophish/gophish/issues/2961 (links recorded as clicked when a Microsoft bot scans the page)",
    "g2853": "https://github.com/gophish/gophish/issues/2853 (people who forward the message to the IT ticketing system show as clicked)",
    "g2124": "https://github.com/gophish/gophish/issues/2124 (Outlook blocks the pixel by default: people read without an open being logged)",
    "y2154": "https://github.com/jhaals/yopass/issues/2154 (the recipient's email service automatically visits all links to scan them)",
    "y3032": "https://github.com/jhaals/yopass/issues/3032 (email scanners open the link to inspect it)",
    "y3961": "https://github.com/jhaals/yopass/issues/3961 (antivirus systems follow the link and trigger the reveal)",
    "y741": "https://github.com/jhaals/yopass/issues/741 (a Rocket.Chat server opens a shared link; a local antivirus may open it)",
    "rc6421": "https://github.com/RocketChat/Rocket.Chat/issues/6421 (Rocket.Chat's oEmbed fetch of a posted link, its User-Agent quoted)",
    "rc19188": "https://github.com/RocketChat/Rocket.Chat/issues/19188 (the oEmbed request's default User-Agent is a spoofed Chrome)",
    "sentinel": "https://github.com/Kushagrabainsla/sentinel/blob/main/assets/docs/OPEN_TRACKING_GUIDE.md (Gmail's proxy fetches at arrival from 66.102.7.236, the user's opens hours later)",
    "hoteltok": "https://github.com/Ahmedaee1717/Thehoteltoksite/blob/main/FALSE_POSITIVE_READ_TRACKING.md (Gmail prefetches images at arrival; Outlook's preview pane loads images)",
    "uap170": "https://github.com/ua-parser/uap-core/pull/170 (Gmail's client browsers request a message's images from the Gmail Image Proxy)",
    "bulwark": "https://github.com/bulwarkmail/webmail/issues/1021 (allowed remote content is fetched by the user's browser; Gmail, Fastmail, Proton and Yahoo fetch it server-side)",
    "tuta1279": "https://github.com/tutao/tutanota/issues/1279 (Tutanota loads external images from the user's device, not through its servers)",
}

P = Part("pn-", 14000, UA, NET, URL)
add, msg = P.add, P.msg

# -- link checkers of vendors no earlier part names, and the people they let through
M = msg()
add("titan-linklock-scan", "scanner", M, 1, 1, "click", 5400, "telia", "", "chrome_win", "titan", "Link Lock checks the target as the user clicks, following its redirects; TitanHQ's network has no AS in ipldb, so a consumer stand-in; " + NOT_QUOTED)
add("titan-linklock-person", "human", M, 1, 1, "click", 5403, "telia2", "sv-SE,sv;q=0.9,en;q=0.8", "chrome_win", "titan", "and sends the user on; " + PERSON)
add("titan-warning-scan", "scanner", M, 2, 1, "click", 600, "telia", "", "chrome_win", "estreet", "a link Link Lock cannot call safe: the check at the click; " + NOT_QUOTED)
add("titan-warning-person", "human", M, 2, 1, "click", 625, "telstra", "en-AU,en;q=0.9", "safari_mac", "estreet", "the user reads the warning page and proceeds; " + PERSON)
add("comodo-linklock-scan", "scanner", M, 3, 2, "click", 3600, "telstra2", "", "chrome_win", "comodo", "Comodo's Link Lock check at the click; network not given; " + NOT_QUOTED)
add("comodo-linklock-person", "human", M, 3, 2, "click", 3602, "telstra3", "en-AU,en;q=0.9", "edge_win", "comodo", "then the recipient; " + PERSON)
M = msg()
add("trellix-aud-link", "scanner", M, 1, 1, "click", 25, "trellix", "", "chrome_win", "trellix", "Advanced URL Defense analyses the arriving message's URL; " + NOT_QUOTED)
add("trellix-aud-link-2", "scanner", M, 1, 2, "click", 26, "trellix", "", "chrome_win", "trellix", "and its second link; " + NOT_QUOTED)
add("trellix-person-click", "human", M, 1, 1, "click", 14400, "telia3", "sv-SE,sv;q=0.9", "firefox_win", "trellix", "the recipient clicks the rewritten link four hours later; " + PERSON)
add("cf-instant-crawl", "scanner", M, 2, 1, "click", 6, "cloudflare", "", "chrome_win", "cf_crawl", "Cloudflare Email Security crawls the links as the message arrives; " + NOT_QUOTED)
add("cf-instant-crawl-2", "scanner", M, 2, 2, "click", 7, "cloudflare", "", "chrome_win", "cf_crawl", "its second link; " + NOT_QUOTED)
add("cf-person-open", "human", M, 3, 0, "open", 8900, "telstra", "en-AU,en;q=0.9", "safari_mac", "cf_isolation", "a recipient's open in webmail; " + PERSON)
add("cf-isolation-person", "human", M, 3, 1, "click", 9000, "cloudflare2", "en-AU,en;q=0.9", "chrome_win", "cf_isolation", "and the click, rendered for the recipient in Cloudflare's remote browser; UA not quoted: Chromium, with the user's language")
add("sparkpost-policy-link", "scanner", M, 4, 1, "click", 1, "sparkpost", "", "chrome_win", "sparkpost", "the sending ESP follows a link to check the content as it sends; " + NOT_QUOTED)
add("urlproxy-person", "human", M, 5, 1, "click", 5000, "telia2", "sv-SE,sv;q=0.9", "chrome_android", "urlproxy", "the user goes on from URLProxy's landing page; " + PERSON)

# -- Microsoft's and Proofpoint's checks, sandboxes and intake systems
M = msg()
add("sfunwrap-safelinks-scan", "scanner", M, 1, 1, "click", 7200, "eop", "", "chrome_win", "sfunwrap", "Safe Links requests the reset link as the user clicks, two hours after delivery; " + NOT_QUOTED)
add("sfunwrap-safelinks-person", "human", M, 1, 1, "click", 7202, "telstra2", "en-AU,en;q=0.9", "edge_win", "sfunwrap", "and forwards the user, whose link has expired; " + PERSON)
add("sfunwrap-urldefense-scan", "scanner", M, 2, 1, "click", 3000, "proofpoint", "", "chrome_win", "sfunwrap", "URL Defense's backend requests the URL first; " + NOT_QUOTED)
add("sfunwrap-urldefense-person", "human", M, 2, 1, "click", 3002, "telia3", "sv-SE,sv;q=0.9", "chrome_win", "sfunwrap", "then the user; " + PERSON)
add("g3317-report-sandbox", "scanner", M, 3, 1, "click", 10800, "msft", "", "chrome_win", "g3317", "the user reports the message three hours later; the sandbox clicks; " + NOT_QUOTED)
add("g3317-report-sandbox-2", "scanner", M, 4, 1, "click", 20000, "msft2", "", "edge_win", "g3317", "another user's report; " + NOT_QUOTED)
add("g2961-ms-bot", "scanner", M, 5, 1, "click", 20, "msft", "", "chrome_win", "g2961", "a Microsoft bot scans the page as the message arrives; " + NOT_QUOTED)
add("g2853-ticket-click", "scanner", M, 6, 1, "click", 2400, "telia", "", "chrome_win", "g2853", "the message forwarded to the ticketing system, whose intake requests the link; network not given; " + NOT_QUOTED)
add("g2853-ticket-click-2", "scanner", M, 7, 1, "click", 5000, "telstra3", "", "chrome_win", "g2853", "another forward; network not given; " + NOT_QUOTED)

# -- one-time links: mail services, an antivirus on the person's machine, a chat server
M = msg()
add("y2154-mailscan", "scanner", M, 1, 1, "click", 8, "telstra", "", "chrome_win", "y2154", "the email service visits every link as the message arrives; network not given; " + NOT_QUOTED)
add("y2154-person", "human", M, 1, 1, "click", 1200, "telstra2", "en-AU,en;q=0.9", "safari_iphone", "y2154", "the recipient's own click twenty minutes later; " + PERSON)
add("y3032-scanner", "scanner", M, 2, 1, "click", 15, "telia", "", "chrome_win", "y3032", "an email scanner opens the link; network not given; " + NOT_QUOTED)
add("y3961-antivirus", "scanner", M, 3, 1, "click", 900, "telia2", "", "chrome_win", "y3961", "the antivirus on the recipient's computer follows the link, from the recipient's address; " + NOT_QUOTED)
add("y3961-person", "human", M, 3, 1, "click", 903, "telia2", "sv-SE,sv;q=0.9", "chrome_win", "y3961", "the recipient's own click, from the same address; " + PERSON)
add("y741-rocketchat-open", "probe", M, 4, 1, "click", 30000, "ovh", "", "rocketchat", "y741", "the link pasted into Rocket.Chat is opened by the server (the oEmbed fetch of rc6421)")

# -- chat servers' previews
M = msg()
add("rc6421-oembed", "probe", M, 1, 1, "click", 40000, "ovh2", "", "rocketchat", "rc6421", "Rocket.Chat's oEmbed fetch of the posted link")
add("rc19188-oembed", "probe", M, 2, 1, "click", 50000, "ovh", "", "rocketchat", "rc19188", "another server's fetch, default settings")
add("rc19188-oembed-2", "probe", M, 3, 2, "click", 50040, "ovh2", "", "rocketchat", "rc19188", "the same message's other link, posted too")

# -- proxies, clients and people
M = msg()
add("sentinel-gmail-arrival", "prefetch", M, 1, 0, "open", 2, "gproxy_quoted", "", "gproxy", "sentinel", "Gmail's proxy fetches the pixel seconds after arrival")
add("sentinel-gmail-read", "proxy-open", M, 1, 0, "open", 13500, "gproxy", "", "gproxy", "sentinel", "the user opens the message 3 h 45 min later")
add("sentinel-gmail-reread", "proxy-open", M, 1, 0, "open", 15300, "gproxy2", "", "gproxy", "sentinel", "and again half an hour after")
add("hoteltok-gmail-prefetch", "prefetch", M, 2, 0, "open", 4, "gproxy2", "", "gproxy", "hoteltok", "Gmail prefetches at arrival")
add("hoteltok-outlook-preview", "human", M, 3, 0, "open", 600, "telstra", "en-AU,en;q=0.9", "outlook", "hoteltok", "Outlook's preview pane loads the images as the person selects the message")
add("uap170-gmail-read", "proxy-open", M, 4, 0, "open", 20000, "gproxy", "", "gproxy", "uap170", "a reader's browser has the proxy fetch the images")
add("bulwark-fastmail-proxy", "proxy-open", M, 5, 0, "open", 7000, "fastmail", "", "chrome_win", "bulwark", "Fastmail fetches the remote content server-side as the user reads; UA not quoted: an ordinary browser, no language")
add("bulwark-proton-proxy", "proxy-open", M, 6, 0, "open", 9000, "proton", "", "chrome_win", "bulwark", "Proton's server-side fetch as the user reads; UA not quoted: an ordinary browser, no language")
add("bulwark-direct-open", "human", M, 7, 0, "open", 4000, "telia3", "sv-SE,sv;q=0.9", "firefox_win", "bulwark", "the user allows remote content and the browser fetches it directly; " + PERSON)
add("tuta1279-desktop-open", "human", M, 8, 0, "open", 6000, "telstra3", "en-AU,en;q=0.9", "chrome_win", "tuta1279", "Tutanota loads the external image from the user's device; " + PERSON)
add("g2124-click-no-images", "human", M, 9, 1, "click", 8000, "telia", "sv-SE,sv;q=0.9", "edge_win", "g2124", "images blocked in Outlook, the reader clicks; " + PERSON)
add("g2124-click-phone", "human", M, 10, 1, "click", 9000, "telstra2", "en-AU,en;q=0.9", "safari_iphone", "g2124", "another reader, on a phone; " + PERSON)

P.write("# ---- part N: real-network scenarios from public evidence not used before (new link checkers, sandboxes, antivirus, chat servers), written after rules version 12, measured once ----\n")
