#!/usr/bin/env python3
"""make_measure_m.py: appends part M of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule cites
(each checked against tests/data/hits/README.md, every make_measure_*.py,
hits.tsv, tune.tsv, data/*.tsv and docs/verdicts.md before the first run),
weighted towards kinds of machine activity the rules have not seen:

- security gateways whose vendor no earlier part names: Hornetsecurity's
  ATP (URL scanning of incoming mail; "Secure Links"/URL Rewriting, where
  the ATP service acts as a web proxy and checks the target before it
  forwards the user), Vade Cloud's Time-of-Click (links rewritten to Vade's
  infrastructure and analysed in real time when clicked), Avanan's
  Click-Time Protection (the site behind the link inspected at every
  click), Abnormal Security's URL rewriting (an interstitial page shown to
  the user who clicks), and link protection hitting a magic link before the
  user (creode/magic-login#31), gateways requesting links and pixels
  (gophish/gophish#1607, #1611);
- link previews of chat apps: iMessage (forestnode-io/oneshot#7; its
  User-Agent quoted by hachyderm/community#212 and
  wireapp/wire-ios-link-preview#59; fetched from the user's own address,
  arcjet/well-known-bots#36), WhatsApp and Telegram (wire-ios-link-preview#59),
  Signal (flyerhq/flutter_link_previewer#43: Signal sends WhatsApp's
  User-Agent), Facebook's (atoponce/d-note#61), Microsoft Teams' URL Preview
  service (MicrosoftDocs/OfficeDocs-SkypeForBusiness#9988), Slack's and
  the others a pasted login link meets (fredrik/rekorderlig#106);
- uptime monitors: a published log of monitors' requests with their
  addresses (gist lazureykis/8bed02a4...: uptime-monitor.io, Google Cloud
  Monitoring, Freshping, StatusCake), Sentry's uptime bot (docs.sentry.io),
  exit1.dev's monitor (docs.exit1.dev), GlitchTip's monitor before its
  own User-Agent (gitlab.com/glitchtip/glitchtip-backend MR 134);
- people and proxies in proportion: Gmail's proxy opening for readers
  (mautic/mautic#16069, iGLOO-be/nodemailer-mail-tracking#7) and fetching
  at once (gophish/gophish#1248), MPP loading every image
  (apparition47/MailTrackerBlocker#172), and the people behind each
  scanner's and preview's scenario.

Conventions as part L's (make_measure_l.py): the User-Agent a source
quotes, else the standard string of what it names (said per line), else an
ordinary current browser without Accept-Language for a machine and with one
for a person; the network a source gives, else the provider's autonomous
system (ipldb), else a consumer address no list names (Swisscom, Proximus,
Bell Canada: not used by earlier parts).

Written on 2026-12-07 AFTER rules version 11, with the labels decided in
this script before the first run; measured once, totals only, before any
rule of round 13 (docs/verdicts.md, "The order in which this was done").

Run from the source root, after make_measure_l.py (which rewrites from
part L on): python3 tests/data/hits/make_measure_m.py
"""
from measure_writer import Part, NOT_QUOTED, PERSON

UA = {
    # quoted: hachyderm/community#212 and wire-ios-link-preview#59 (iMessage's link preview)
    "imessage": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    # quoted: wire-ios-link-preview#59 (WhatsApp's and Telegram's preview fetchers)
    "whatsapp": "WhatsApp/2.20.70 i",
    "telegram": "TelegramBot (like TwitterBot)",
    # quoted: flutter_link_previewer#43 (Signal crawls previews as "WhatsApp/2")
    "signal": "WhatsApp/2",
    # d-note#61 names Facebook's preview: its published crawler string
    "fbhit": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    # Teams' URL Preview service (OfficeDocs#9988 names the service, not the string): the
    # string crawler-user-agents gives for SkypeUriPreview
    "teams": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    # rekorderlig#106 names Slack's unfurler: Slack's published string
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    # quoted: the gist's monitor log
    "upmon_de": "UptimeMonitor/1.0 (eu-germany https://uptime-monitor.io)",
    "upmon_us": "UptimeMonitor/1.0 (us-east https://uptime-monitor.io)",
    "stackdriver": "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)",
    "freshping": "FreshpingBot/1.0 (+https://freshping.io/)",
    "statuscake": "Mozilla/5.0 (Windows NT 6.2; WOW64) AppleWebKit/537.4 (KHTML, like Gecko) Chrome/98 Safari/537.4 (StatusCake)",
    # quoted: Sentry's uptime troubleshooting page; exit1.dev's request headers page
    "sentry": "SentryUptimeBot/1.0 (+http://docs.sentry.io/product/monitors/uptime-monitoring/)",
    "exit1": "Exit1-Website-Monitor/1.0",
    # GlitchTip MR 134 quotes aiohttp's template "Python/<python-version> aiohttp/<aiohttp-version>"; filled in
    "aiohttp": "Python/3.11 aiohttp/3.8.4",
    # quoted: mautic#16069, nodemailer-mail-tracking#7 (Gmail's image proxy)
    "gproxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # MPP's bare string (MailTrackerBlocker#172 names the proxy, not the string)
    "mpp": "Mozilla/5.0",
    # ordinary current browsers: machines (no language) and people (with one)
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "chrome_android": "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
}

NET = {
    "swisscom": ("46.14.20.10", "net: AS3303 Swisscom (ipldb), a consumer address no list names"),
    "swisscom2": ("46.14.88.3", "net: AS3303 Swisscom (ipldb), a consumer address no list names"),
    "proximus": ("37.62.10.10", "net: AS5432 Proximus (ipldb), a consumer address no list names"),
    "proximus2": ("37.62.77.4", "net: AS5432 Proximus (ipldb), a consumer address no list names"),
    "bell": ("65.92.10.10", "net: AS577 Bell Canada (ipldb), a consumer address no list names"),
    "bell2": ("67.69.90.4", "net: AS577 Bell Canada (ipldb), a consumer address no list names"),
    "hornet": ("185.140.204.20", "net: not given by the source; AS401943 Hornetsecurity (ipldb 185.140.204.0-185.140.206.255)"),
    "hornet2": ("185.140.205.31", "net: not given by the source; AS401943 Hornetsecurity (ipldb)"),
    "checkpoint": ("194.29.44.10", "net: not given by the source; Avanan is Check Point's Harmony Email: AS25046 Check Point (ipldb)"),
    "google_proxy": ("66.249.93.20", "net: AS15169 Google (ipldb 66.249.64.0/19), Gmail's proxy"),
    "google_proxy2": ("66.249.93.21", "net: AS15169 Google (ipldb)"),
    "apple": ("17.58.63.10", "net: AS714 Apple (ipldb 17.0.0.0/8)"),
    "meta": ("31.13.115.10", "net: not given by the source; AS32934 Facebook (ipldb)"),
    "telegram": ("91.108.5.10", "net: not given by the source; AS62041 Telegram Messenger (ipldb)"),
    "ms_teams": ("52.114.14.70", "net: not given by the source; AS8075 Microsoft (ipldb 52.113.198.0-52.115.255.255), outside EOP's ranges"),
    "hetzner_mon": ("148.251.23.119", "net: the log's address (ipldb AS24940 Hetzner)"),
    "interserver_mon": ("69.10.35.226", "net: the log's address (ipldb AS19318 Interserver)"),
    "gcp_mon": ("35.205.234.10", "net: the log's address (ipldb AS396982 Google Cloud)"),
    "gcp_mon2": ("35.186.176.31", "net: the log's address (ipldb AS396982 Google Cloud)"),
    "aws_mon": ("35.173.69.86", "net: the log's address (ipldb AS14618 Amazon)"),
    "vultr_mon": ("45.63.121.159", "net: the log's address (ipldb AS20473 The Constant Company, Vultr)"),
}

URL = {
    "hornet_rw": "https://support.hornetsecurity.com/en/support/solutions/articles/9000124607-setting-up-the-url-rewriting-mechanism (ATP URL Rewriting: the ATP filter acts as a web proxy and scans the website before forwarding the user; de: 'ATP im Detail: Secure Links')",
    "hornet_atp": "https://support.everycloudtech.com/support/solutions/articles/4000109696 (Hornetsecurity-powered ATP: ATP-Filter with sandbox engine, freezing and URL scanning of incoming mail)",
    "vade": "https://cloud.vadesecure.com/help/EN/reseller/EN/setting/toc.html (Vade Cloud Time-of-Click: URLs rewritten to Vade's infrastructure, analysed in real time when clicked, the user redirected after the analysis or its time-out)",
    "avanan": "https://www.avanan.com/product-updates/click-time-url-format-change (Avanan Click-Time Protection: every time a user clicks, the website behind the link is inspected by Avanan's engines)",
    "abnormal": "https://patents.google.com/patent/US11943257 (Abnormal Security's URL rewriting: replacement links track the recipient's click and show an interstitial page)",
    "creode31": "https://github.com/creode/magic-login/issues/31 (a magic link invalidated before the click: the provider's redirection software hits the link first)",
    "g1607": "https://github.com/gophish/gophish/issues/1607 (mail gateways and spam filters extract links and request them for inspection)",
    "g1611": "https://github.com/gophish/gophish/issues/1611 (opens recorded for mail never opened, probably by corporate protection)",
    "oneshot7": "https://github.com/forestnode-io/oneshot/issues/7 (a URL sent over iMessage is fetched for its preview before the user taps it)",
    "hach212": "https://github.com/hachyderm/community/issues/212 (iOS fetches link previews with the User-Agent quoted)",
    "arcjet36": "https://github.com/arcjet/well-known-bots/issues/36 (iMessage's preview comes from the user's own address)",
    "wire59": "https://github.com/wireapp/wire-ios-link-preview/issues/59 (the User-Agents of WhatsApp's, Telegram's and iMessage's preview fetchers quoted)",
    "flp43": "https://github.com/flyerhq/flutter_link_previewer/pull/43 (Signal crawls link previews as WhatsApp/2)",
    "dnote61": "https://github.com/atoponce/d-note/issues/61 (pasting a one-time link into Facebook, Signal and others fetches it for a preview)",
    "teams9988": "https://github.com/MicrosoftDocs/OfficeDocs-SkypeForBusiness/pull/9988 (Teams' URL Preview service requests the URL as the user types the message)",
    "rek106": "https://github.com/fredrik/rekorderlig/issues/106 (Slack, Teams, Discord and iMessage fetch pasted login links for previews before the person clicks)",
    "gist": "https://gist.github.com/lazureykis/8bed02a462f42c7a97e23db4f04fd7f7 (incoming requests of monitoring tools, with their addresses and User-Agents)",
    "sentry": "https://docs.sentry.io/product/new-monitors-and-alerts/monitors/uptime-monitoring/troubleshooting (SentryUptimeBot's User-Agent)",
    "exit1": "https://docs.exit1.dev/monitoring/request-headers (exit1.dev's default monitor User-Agent)",
    "glitchtip": "https://gitlab.com/glitchtip/glitchtip-backend/-/merge_requests/134 (GlitchTip's uptime monitor sent aiohttp's default User-Agent)",
    "m16069": "https://github.com/mautic/mautic/issues/16069 (Gmail opens fetched by GoogleImageProxy, User-Agent quoted; the same URL requested with a browser as a control)",
    "nmt7": "https://github.com/iGLOO-be/nodemailer-mail-tracking/issues/7 (Gmail's proxy fetches the pixel when the user agrees to display images)",
    "g1248": "https://github.com/gophish/gophish/issues/1248 (a Gmail address shown as opened immediately after sending)",
    "g9389": "https://github.com/gophish/gophish/issues/9389 (Gmail Workspace: no open logged until the recipient clicks the link)",
    "mtb172": "https://github.com/apparition47/MailTrackerBlocker/issues/172 (Monterey's Mail Privacy Protection loads all images through a proxy)",
}

P = Part("pm-", 13000, UA, NET, URL)
add, msg = P.add, P.msg

# -- security gateways of vendors no earlier part names, and the people they forward
M = msg()
add("hornet-atp-delivery", "scanner", M, 1, 1, "click", 9, "hornet", "", "chrome_win", "hornet_atp", "the ATP filter's URL scanning of the incoming mail; " + NOT_QUOTED)
add("hornet-securelinks-scan", "scanner", M, 2, 1, "click", 10800, "hornet", "", "chrome_win", "hornet_rw", "the user clicks the rewritten link three hours later: the ATP web proxy checks the target first; " + NOT_QUOTED)
add("hornet-securelinks-person", "human", M, 2, 1, "click", 10803, "swisscom", "de-CH,de;q=0.9,en;q=0.8", "chrome_win", "hornet_rw", "then forwards the user, whose browser follows; " + PERSON)
add("hornet-securelinks-scan-2", "scanner", M, 3, 2, "click", 5400, "hornet2", "", "chrome_win", "hornet_rw", "another recipient's click, checked by the proxy first; " + NOT_QUOTED)
add("hornet-securelinks-person-2", "human", M, 3, 2, "click", 5402, "swisscom2", "fr-CH,fr;q=0.9", "edge_win", "hornet_rw", "and the recipient forwarded; " + PERSON)
M = msg()
add("vade-toc-scan", "scanner", M, 1, 1, "click", 7200, "proximus", "", "chrome_win", "vade", "Time-of-Click analyses the URL as the user clicks, two hours after delivery; network not given; " + NOT_QUOTED)
add("vade-toc-person", "human", M, 1, 1, "click", 7202, "bell", "en-CA,en;q=0.9,fr-CA;q=0.8", "safari_mac", "vade", "the user, redirected after the analysis; " + PERSON)
add("vade-person-open", "human", M, 2, 0, "open", 560, "bell2", "fr-CA,fr;q=0.9,en;q=0.8", "chrome_win", "vade", "another recipient opens in webmail with images on; " + PERSON)
add("vade-toc-scan-2", "scanner", M, 2, 1, "click", 600, "proximus2", "", "chrome_win", "vade", "and clicks: Time-of-Click's analysis; network not given; " + NOT_QUOTED)
add("vade-toc-person-2", "human", M, 2, 1, "click", 602, "bell2", "fr-CA,fr;q=0.9,en;q=0.8", "chrome_win", "vade", "then the recipient's own browser")
M = msg()
add("avanan-ctp-scan", "scanner", M, 1, 1, "click", 3600, "checkpoint", "", "chrome_win", "avanan", "Click-Time Protection inspects the site as the user clicks; " + NOT_QUOTED)
add("avanan-ctp-person", "human", M, 1, 1, "click", 3603, "bell", "en-CA,en;q=0.9", "safari_mac", "avanan", "and the user reaches it; " + PERSON)
add("avanan-ctp-scan-2", "scanner", M, 2, 1, "click", 900, "checkpoint", "", "chrome_win", "avanan", "another recipient's click, after an open, inspected first; " + NOT_QUOTED)
add("avanan-ctp-person-open", "human", M, 2, 0, "open", 870, "proximus", "nl-BE,nl;q=0.9,en;q=0.8", "edge_win", "avanan", "that recipient's open in webmail; " + PERSON)
add("avanan-ctp-person-2", "human", M, 2, 1, "click", 903, "proximus", "nl-BE,nl;q=0.9,en;q=0.8", "edge_win", "avanan", "and click after the inspection")
add("abnormal-interstitial-person", "human", M, 3, 1, "click", 5000, "swisscom", "it-CH,it;q=0.9", "firefox_win", "abnormal", "the recipient passes the interstitial page and reaches the link; " + PERSON)
M = msg()
add("creode-protect-scan", "scanner", M, 1, 1, "click", 1800, "swisscom2", "", "chrome_win", "creode31", "the provider's redirection software hits the magic link as the user clicks; network not given; " + NOT_QUOTED)
add("creode-person", "human", M, 1, 1, "click", 1802, "bell2", "en-CA,en;q=0.9", "chrome_android", "creode31", "the user's click, to a spent link; " + PERSON)
add("g1607-gateway-link", "scanner", M, 2, 1, "click", 15, "proximus2", "", "chrome_win", "g1607", "a spam filter requests the link for inspection as the mail arrives; network not given; " + NOT_QUOTED)
add("g1611-protection-open", "scanner", M, 3, 0, "open", 12, "bell", "", "chrome_win", "g1611", "an open nobody made, as the mail arrives; network not given; " + NOT_QUOTED)

# -- chat apps' link previews and unfurlers (a recipient passes the tracked link on)
M = msg()
add("oneshot-imessage-preview", "probe", M, 1, 1, "click", 86400, "bell", "", "imessage", "oneshot7", "the link sent over iMessage is fetched for its preview, from the sender's device (arcjet#36)")
add("oneshot-friend-click", "human", M, 1, 1, "click", 86460, "bell2", "en-CA,en;q=0.9", "safari_iphone", "oneshot7", "the friend taps the link; " + PERSON)
add("hach212-imessage-preview", "probe", M, 2, 2, "click", 40000, "swisscom", "", "imessage", "hach212", "iOS Messages' preview fetch of a shared link")
add("wire59-whatsapp-preview", "probe", M, 3, 1, "click", 20000, "proximus", "", "whatsapp", "wire59", "WhatsApp's preview of a shared link; network not given (WhatsApp previews on the device)")
add("wire59-telegram-preview", "probe", M, 4, 1, "click", 30000, "telegram", "", "telegram", "wire59", "Telegram's preview fetch")
add("flp43-signal-preview", "probe", M, 5, 1, "click", 50000, "swisscom2", "", "signal", "flp43", "Signal's preview fetch as WhatsApp/2; network not given (Signal previews on the device)")
add("dnote61-facebook-preview", "probe", M, 6, 1, "click", 60000, "meta", "", "fbhit", "dnote61", "the link pasted into Facebook is fetched for its preview")
add("teams9988-url-preview", "probe", M, 7, 1, "click", 70000, "ms_teams", "", "teams", "teams9988", "Teams' URL Preview service fetches the link as it is typed into a chat")
add("rek106-slack-unfurl", "probe", M, 8, 1, "click", 3000, "proximus2", "", "slack", "rek106", "Slack unfurls the pasted login link; network not given")
add("rek106-person", "human", M, 8, 1, "click", 3120, "proximus", "fr-BE,fr;q=0.9", "chrome_win", "rek106", "the person's own click after the unfurl; " + PERSON)

# -- uptime monitors pointed at a tracked URL
M = msg()
add("gist-upmon-de", "probe", M, 1, 1, "click", 259200, "hetzner_mon", "", "upmon_de", "gist", "uptime-monitor.io's German node")
add("gist-upmon-de-2", "probe", M, 1, 1, "click", 259230, "hetzner_mon", "", "upmon_de", "gist", "its next check 30 s later")
add("gist-upmon-us", "probe", M, 1, 1, "click", 259220, "interserver_mon", "", "upmon_us", "gist", "its us-east node")
add("gist-stackdriver", "probe", M, 1, 1, "click", 259210, "gcp_mon", "", "stackdriver", "gist", "Google Cloud Monitoring's uptime check")
add("gist-stackdriver-2", "probe", M, 1, 1, "click", 259222, "gcp_mon2", "", "stackdriver", "gist", "another of its checkers")
add("gist-freshping", "probe", M, 1, 1, "click", 259218, "aws_mon", "", "freshping", "gist", "Freshping's check")
add("gist-statuscake", "probe", M, 1, 1, "click", 259221, "vultr_mon", "", "statuscake", "gist", "StatusCake's check, a Chrome string naming StatusCake")
add("sentry-uptime", "probe", M, 2, 1, "click", 300000, "bell", "", "sentry", "sentry", "Sentry's uptime check; network not given")
add("exit1-monitor", "probe", M, 3, 1, "click", 310000, "swisscom", "", "exit1", "exit1", "exit1.dev's check; network not given")
add("glitchtip-aiohttp", "probe", M, 4, 1, "click", 320000, "proximus", "", "aiohttp", "glitchtip", "GlitchTip's check with aiohttp's default string; network not given")

# -- webmail proxies and Apple's prefetch
M = msg()
add("m16069-gmail-open-1", "proxy-open", M, 1, 0, "open", 300, "google_proxy", "", "gproxy", "m16069", "an internal recipient opens the message in Gmail")
add("m16069-gmail-open-2", "proxy-open", M, 2, 0, "open", 900, "google_proxy2", "", "gproxy", "m16069", "another")
add("m16069-gmail-open-3", "proxy-open", M, 3, 0, "open", 1500, "google_proxy", "", "gproxy", "m16069", "and a third")
add("m16069-control-browser", "human", M, 4, 0, "open", 2000, "swisscom", "de-CH,de;q=0.9", "chrome_win", "m16069", "the tester requests the same pixel URL in a browser; " + PERSON)
add("nmt7-gmail-images-shown", "proxy-open", M, 5, 0, "open", 4000, "google_proxy2", "", "gproxy", "nmt7", "the user agrees to display images")
add("g1248-gmail-immediate", "prefetch", M, 6, 0, "open", 5, "google_proxy", "", "gproxy", "g1248", "the Gmail address shows opened seconds after sending")
add("g9389-person-click", "human", M, 7, 1, "click", 6000, "bell", "en-CA,en;q=0.9", "chrome_win", "g9389", "the Workspace recipient clicks; " + PERSON)
add("mtb172-mpp-1", "prefetch", M, 8, 0, "open", 7, "apple", "", "mpp", "mtb172", "MPP loads the images as the mail arrives")
add("mtb172-mpp-2", "prefetch", M, 9, 0, "open", 11, "apple", "", "mpp", "mtb172", "another Apple Mail recipient")

P.write("# ---- part M: real-network scenarios from public evidence not used before (new gateways, chat previews, monitors), written after rules version 11, measured once ----\n")
