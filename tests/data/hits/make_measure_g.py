#!/usr/bin/env python3
"""make_measure_g.py: appends part G of measure.tsv: real-network scenarios
from issue threads that neither the rules nor part A was written from
(part A used gophish/gophish#973 and #2115, mautic/mautic#9400 and #9798).

Each scenario takes from its thread what the thread reports: the User-Agent,
the source network (an address the thread gives, or one from the provider's
published ranges or its autonomous system in ipldb when the thread names only
the provider), the timing relative to delivery, which request (pixel open or
link click, and its method), and what the request really was according to the
thread. Where a thread gives no User-Agent or no network, none is invented:
such a thread is left out (listmonk#1025 reports opens within a minute or
two of sending but names neither; mautic#8692 reports every link clicked
within ten seconds and names neither). The person's hits a thread mentions
without a User-Agent (emdash#3298's real click four minutes later) get an
ordinary browser with Accept-Language from a consumer network: the thread
says a person clicked, and those are what a person's browser sends.

Written on 2026-12-07 AFTER rules version 6, with these labels decided in
this script before the first run; the rules are never fitted to its rows
(docs/verdicts.md, "The order in which this was done", step 10). Every row's
last column names its source thread or document.

Run from the source root, after make_measure_f.py (which rewrites from part F
on), and then make_measure_h.py (this script rewrites from part G on, so it
drops part H): python3 tests/data/hits/make_measure_g.py
"""
from measure_writer import Part

UA = {
    # phpList/phplist3#415 (the User-Agent quoted there); Bing's link preview
    "bingpreview": "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b",
    # edalzell/laravel-passwordless-login#79 (quoted with 20.72.100.79)
    "chrome97": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36",
    # gophish/gophish#2446: "Windows 10 ... Chrome 80.0.3987.132, 96.0.4664.110, 79.0.3945.136"
    "chrome80": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.132 Safari/537.36",
    "chrome96": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.110 Safari/537.36",
    "chrome79": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.136 Safari/537.36",
    # emdash-cms/emdash#3298: "headless Chrome user agent" from AS8075
    "headless": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
    # resend/resend-node#901: "Mac OS X / Chrome 146" (person), "Windows NT 10.0 / Chrome 146" (scanner)
    "chrome146_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/146.0.0.0 Safari/537.36",
    "chrome146_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/146.0.0.0 Safari/537.36",
    # gophish/gophish#1390, mautic/mautic#7884, browscap/browscap#1108
    "gmail_proxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # pentacent/keila#55 and #164, jdavidbakr/mail-tracker#255 (GMass, "false opens in Gmail")
    "gmail_bot": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0",
    # gophish/gophish#499: a person's Safari 10 on macOS 10.12
    "safari10": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_2) AppleWebKit/602.3.12 (KHTML, like Gecko) Version/10.0.2 Safari/602.3.12",
    # Apple MPP (SendGrid's "Apple Mail Privacy Protection" post, cited in mirajavora/sendgrid-webhooks#39; kannon-email/kannon#412)
    "bare": "Mozilla/5.0",
    # a person's ordinary browser where the thread names none
    "firefox_linux": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "chrome_android": "Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "outlook": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "": "",
}

# (address, where it comes from)
NET = {
    # Bing's published crawler ranges (data/published/bingbot.json): BingPreview fetches from them
    "bing1": ("207.46.13.41", "net: bingbot.json 207.46.13.0/24 (Bing's published crawler ranges)"),
    "bing2": ("157.55.39.200", "net: bingbot.json 157.55.39.0/24"),
    "bing3": ("40.77.167.66", "net: bingbot.json 40.77.167.0/24"),
    "bing4": ("52.167.144.20", "net: bingbot.json 52.167.144.0/24"),
    # Microsoft: the thread's own addresses, and EOP's published ranges
    "ms_20_72": ("20.72.100.79", "net: 20.72.100.79 as quoted in the thread (ipldb AS8075 Microsoft)"),
    "eop_104_47_1": ("104.47.1.254", "net: 104.47.1.254 as quoted (EOP 104.47.0.0/17, microsoft-eop.txt)"),
    "eop_104_47_30": ("104.47.30.126", "net: 104.47.30.126 as quoted (EOP 104.47.0.0/17)"),
    "eop_104_47_2": ("104.47.2.254", "net: 104.47.2.254 as quoted (EOP 104.47.0.0/17)"),
    "eop_40_92": ("40.92.66.21", "net: EOP 40.92.0.0/15 (Microsoft 365 URLs and IP address ranges, Exchange Online)"),
    "eop_52_101": ("52.101.8.14", "net: EOP 52.100.0.0/14 (Microsoft 365 URLs and IP address ranges)"),
    "eop_40_107": ("40.107.244.70", "net: EOP 40.107.0.0/16 (Microsoft 365 URLs and IP address ranges)"),
    "ms_azure": ("20.72.100.80", "net: AS8075 Microsoft (ipldb), the network the thread names"),
    "ms_azure2": ("20.98.4.17", "net: AS8075 Microsoft (ipldb), the network the thread names"),
    # Brazil: resend-node#901's two networks
    "vero6": ("2804:10b4:1a2:3b00::5", "net: 2804:10b4::/32 VERO S.A (ipldb AS263645), the thread's residential IPv6"),
    "megatele": ("168.90.91.133", "net: 168.90.91.133 as quoted (ipldb AS265269 MEGA TELE INFORMATICA)"),
    # Google: Gmail's image proxy and Gmail's own fetches
    "google_66_102": ("66.102.8.51", "net: AS15169 Google (ipldb) 66.102.0.0/20, Gmail image proxy hosts"),
    "google_66_249": ("66.249.88.40", "net: AS15169 Google (ipldb) 66.249.64.0/19"),
    # Barracuda: ipldb AS15324 (supabase/auth#1214 names Barracuda's link protection)
    "barracuda": ("198.35.20.71", "net: AS15324 Barracuda (ipldb)"),
    # iCloud Private Relay egress (Apple's egress-ip-ranges.csv, data/published/icloud-private-relay.txt)
    "relay_cf": ("104.28.34.100", "net: iCloud Private Relay egress 104.28.34.96/28 (Apple egress-ip-ranges.csv)"),
    "relay_v6": ("2a02:26f7:b9b0:6021::9", "net: iCloud Private Relay egress 2a02:26f7:b9b0:6020::/59 (Apple egress-ip-ranges.csv)"),
    # consumer networks (ipldb, as in part A)
    "comcast": ("73.162.40.88", "net: AS7922 Comcast (ipldb)"),
    "orange": ("90.24.117.60", "net: AS3215 Orange (ipldb)"),
    "dtag": ("84.160.12.70", "net: AS3320 DTAG (ipldb)"),
    "bt": ("86.160.44.90", "net: AS2856 BT (ipldb)"),
}

URL = {
    "phplist415": "https://github.com/phpList/phplist3/issues/415",
    "sesame45": "https://github.com/aaugustin/django-sesame/issues/45",
    "sirepo1937": "https://github.com/radiasoft/sirepo/issues/1937",
    "laravel79": "https://github.com/edalzell/laravel-passwordless-login/issues/79",
    "emdash3298": "https://github.com/emdash-cms/emdash/issues/3298",
    "resend901": "https://github.com/resend/resend-node/issues/901",
    "gophish2446": "https://github.com/gophish/gophish/issues/2446",
    "gophish1390": "https://github.com/gophish/gophish/issues/1390",
    "mautic7884": "https://github.com/mautic/mautic/issues/7884",
    "keila55": "https://github.com/pentacent/keila/issues/55 (and #164; jdavidbakr/mail-tracker#255; GMass 'false opens in Gmail')",
    "gophish499": "https://github.com/gophish/gophish/issues/499",
    "supabase1214": "https://github.com/supabase/auth/issues/1214",
    "fusionauth2922": "https://github.com/FusionAuth/fusionauth-site/pull/2922",
    "uptimepage92": "https://github.com/uptimepage/uptimepage/issues/92",
    "sendgrid39": "https://github.com/mirajavora/sendgrid-webhooks/pull/39 (SendGrid's Apple MPP post); https://github.com/kannon-email/kannon/issues/412",
}

P = Part("g-", 7000, UA, NET, URL)
add, msg = P.add, P.msg

# -- Outlook.com / OWA link previews: BingPreview follows the links of a
# delivered message within minutes (phpList#415), seconds (django-sesame#45),
# an auth link (sirepo#1937). A preview fetcher: probe.
M = msg()
add("bingpreview-confirm-1", "probe", M, 1, 1, "click", 180, "bing1", "", "bingpreview", "phplist415", "BingPreview visits the confirmation link within minutes of delivery to Outlook.com")
add("bingpreview-confirm-2", "probe", M, 2, 1, "click", 420, "bing2", "", "bingpreview", "phplist415", "BingPreview, a few minutes after delivery")
add("bingpreview-owa-1", "probe", M, 3, 1, "click", 6, "bing3", "", "bingpreview", "sesame45", "OWA's Bing preview fetches a one-time link seconds after delivery")
add("bingpreview-owa-2", "probe", M, 4, 1, "click", 9000, "bing4", "", "bingpreview", "sesame45", "OWA preview when the reader opens the message hours later")
add("bingpreview-auth", "probe", M, 5, 1, "click", 40, "bing1", "", "bingpreview", "sirepo1937", "Outlook clicks the auth link (BingPreview)")
# the Outlook.com user who later clicks the link herself (phpList#415: a person subscribes)
add("outlookcom-person-click", "human", M, 1, 1, "click", 3600, "bt", "en-GB,en;q=0.9", "firefox_linux", "phplist415", "the subscriber's own click an hour later")

# -- Microsoft Safe Links / Defender (laravel-passwordless-login#79): Chrome 97
# from 20.72.100.79 (AS8075), and blank User-Agents from 104.47.x (EOP), at delivery.
M = msg()
add("safelinks-chrome97", "scanner", M, 1, 1, "click", 3, "ms_20_72", "", "chrome97", "laravel79", "Safe Links checks the one-time link at delivery")
add("safelinks-blank-1", "scanner", M, 2, 1, "click", 2, "eop_104_47_1", "", "", "laravel79", "Defender pre-check, blank User-Agent")
add("safelinks-blank-2", "scanner", M, 3, 1, "click", 4, "eop_104_47_30", "", "", "laravel79", "Defender pre-check, blank User-Agent")
add("safelinks-blank-3", "scanner", M, 4, 1, "click", 5, "eop_104_47_2", "", "", "laravel79", "Defender pre-check, blank User-Agent")
add("safelinks-head", "scanner", M, 5, 1, "click", 2, "eop_104_47_1", "", "", "laravel79", "the HEAD the link check sends before its GET", method="HEAD")

# -- emdash#3298: 22 s after sending, two GETs from AS8075 with a headless
# Chrome User-Agent (Safe Links); 4 minutes later the person's click.
M = msg()
add("safelinks-headless-1", "scanner", M, 1, 1, "click", 22, "ms_azure", "", "headless", "emdash3298", "Safe Links' first GET 22 s after sending (AS8075, headless Chrome, no cookies)")
add("safelinks-headless-2", "scanner", M, 1, 1, "click", 22.4, "ms_azure", "", "headless", "emdash3298", "Safe Links' second GET")
add("person-after-safelinks", "human", M, 1, 1, "click", 262, "comcast", "en-US,en;q=0.9", "chrome_android", "emdash3298", "the real click four minutes later")

# -- resend-node#901: a person's click from a residential IPv6 (Mac, Chrome
# 146), and a link scanner 12 s after delivery from another network (Windows, Chrome 146).
M = msg()
add("resend-person", "human", M, 1, 1, "click", 1500, "vero6", "pt-BR,pt;q=0.9,en;q=0.8", "chrome146_mac", "resend901", "the human click from a residential IPv6")
add("resend-scanner", "scanner", M, 1, 1, "click", 12, "megatele", "", "chrome146_win", "resend901", "link scanner 12 s after delivery: different network, different OS")

# -- gophish#2446: Office 365 tenants; Windows 10 with three old Chrome
# versions clicks (and opens) before the user has the message.
M = msg()
add("o365-chrome80-open", "scanner", M, 1, 0, "open", 3, "eop_40_92", "", "chrome80", "gophish2446", "pixel fetched before delivery to the mailbox")
add("o365-chrome80-click", "scanner", M, 1, 1, "click", 4, "eop_40_92", "", "chrome80", "gophish2446", "link clicked before the user received it")
add("o365-chrome96-click", "scanner", M, 2, 1, "click", 7, "eop_52_101", "", "chrome96", "gophish2446", "")
add("o365-chrome79-open", "scanner", M, 3, 0, "open", 5, "eop_40_107", "", "chrome79", "gophish2446", "")
add("o365-chrome79-click", "scanner", M, 3, 1, "click", 6, "eop_40_107", "", "chrome79", "gophish2446", "")
add("o365-chrome96-azure", "scanner", M, 4, 1, "click", 9, "ms_azure2", "", "chrome96", "gophish2446", "detonation from Microsoft's cloud")

# -- Gmail: the image proxy fetches at delivery (gophish#1390, mautic#7884):
# prefetch; the reader's later open through it: proxy-open.
M = msg()
add("gmail-proxy-at-send-1", "prefetch", M, 1, 0, "open", 4, "google_66_102", "", "gmail_proxy", "gophish1390", "flagged opened within seconds of sending")
add("gmail-proxy-at-send-2", "prefetch", M, 2, 0, "open", 11, "google_66_249", "", "gmail_proxy", "mautic7884", "Gmail fetches the pixel as the message arrives")
add("gmail-proxy-reader", "proxy-open", M, 3, 0, "open", 14000, "google_66_102", "", "gmail_proxy", "mautic7884", "the reader opens hours later through the proxy")
add("gmail-proxy-reader-2", "proxy-open", M, 4, 0, "open", 52000, "google_66_249", "", "gmail_proxy", "gophish1390", "an open the next day")

# -- Gmail's own scan (GMass, cited in keila#55/#164 and mail-tracker#255):
# a fixed, impossible User-Agent (Chrome 42 with Edge 12) from Google's
# network at delivery: a security scan, not a read.
M = msg()
add("gmail-scan-1", "scanner", M, 1, 0, "open", 2, "google_66_102", "", "gmail_bot", "keila55", "Gmail's scan opens the message at delivery")
add("gmail-scan-2", "scanner", M, 2, 0, "open", 5, "google_66_249", "", "gmail_bot", "keila55", "")

# -- gophish#499: a person's real click (Safari on macOS) from a home address, minutes after delivery.
M = msg()
add("apple-person-click", "human", M, 1, 1, "click", 660, "orange", "fr-FR,fr;q=0.9", "safari10", "gophish499", "the actual click (with the favicon fetch a browser makes)")

# -- supabase/auth#1214 and FusionAuth's notes: link checkers send HEAD then
# GET at delivery (Barracuda's link protection); Safe Links GETs the page.
M = msg()
add("barracuda-head", "scanner", M, 1, 1, "click", 3, "barracuda", "", "", "supabase1214", "Barracuda link protection's HEAD", method="HEAD")
add("barracuda-get", "scanner", M, 1, 1, "click", 3.5, "barracuda", "", "", "supabase1214", "then its GET")
# FusionAuth also reports Safe Links submitting the page's form (a POST): homing
# answers a POST to a click URL with 405 and records nothing, so it is no hit.
# That line was in the first run (labelled scanner, called probe) and was taken
# out when the live replay could not store it; see docs/verdicts.md, step 10.
add("safelinks-get-before-post", "scanner", M, 2, 1, "click", 7, "eop_40_107", "", "", "fusionauth2922", "Safe Links' GET")
# uptimepage#92: Microsoft 365 opens all links during delivery
add("m365-delivery-click", "scanner", M, 3, 1, "click", 1, "eop_52_101", "", "", "uptimepage92", "the mail server opens every link during delivery")

# -- Apple MPP (sendgrid-webhooks#39, kannon#412): machine opens through
# iCloud Private Relay egress, bare User-Agent; and an Outlook reader.
M = msg()
add("mpp-relay-1", "prefetch", M, 1, 0, "open", 7, "relay_cf", "", "bare", "sendgrid39", "MPP loads every message's images at delivery")
add("mpp-relay-2", "prefetch", M, 2, 0, "open", 30000, "relay_v6", "", "bare", "sendgrid39", "MPP fetch when the device syncs")
add("outlook-reader", "human", M, 3, 0, "open", 7200, "dtag", "de-DE", "outlook", "sendgrid39", "a desktop client's open, two hours later")

P.write("# ---- part G: real-network scenarios from issue threads not used before, written after rules version 6, measured once ----\n")
