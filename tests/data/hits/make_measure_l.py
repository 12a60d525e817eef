#!/usr/bin/env python3
"""make_measure_l.py: appends part L of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule cites
(each checked against tests/data/hits/README.md, every make_measure_*.py,
hits.tsv, tune.tsv, data/*.tsv and docs/verdicts.md before the first run):
gophish/gophish#427 and #388, donatj/PhpUserAgent#53,
gshutler/useragent#33, yathit/email-tracker-chrome-extension#3,
DevSpeaks/mail-tracker#1, warmbly/warmbly#569, medama-io/go-useragent#10,
civicrm/civicrm-core#35328, KacemMathlouthi/animus#31,
polarsource/polar#3786, MicahParks/magiclinksdev#2,
nextauthjs/next-auth#8737, mariusv/nginx-badbot-blocker#22 and #174,
mitchellkrogza/nginx-ultimate-bad-bot-blocker#561 and #536,
hotline-webring/hotline-webring#362.

Every class a sender sees, roughly in proportion: people (mail clients,
webmail through proxies, browsers on consumer networks, some within the
first two minutes), image proxies and Apple's prefetch, security
gateways and link scanners, crawlers and scripts.

Conventions as part K's (make_measure_k.py): the User-Agent a source
quotes, else the standard string of what it names (said per line), else an
ordinary current browser without Accept-Language for a machine and with one
for a person; the network a source gives, else the provider's published
ranges or autonomous system (ipldb), else a consumer address no list names
(Deutsche Telekom, Telefonica, Vodafone: not used by earlier parts).

Written on 2026-12-07 AFTER rules version 11, with the labels decided in
this script before the first run; measured once, totals only, before any
rule of round 12 (docs/verdicts.md, "The order in which this was done").

Run from the source root, after make_measure_k.py (which rewrites from
part K on): python3 tests/data/hits/make_measure_l.py
"""
from measure_writer import Part, NOT_QUOTED, PERSON

UA = {
    # quoted: gophish#427 (Outlook 2010's pixel request)
    "outlook2010": "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; WOW64; Trident/7.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; .NET4.0C; .NET4.0E; Microsoft Outlook 14.0.7109; ms-office; MSOffice 14)",
    # quoted: PhpUserAgent#53 (Thunderbird; Gmail's proxy)
    "thunderbird52": "Mozilla/5.0 (Windows NT 10.0; WOW64; rv:52.0) Gecko/20100101 Thunderbird/52.9.1 Lightning/5.4.9.1",
    "gproxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # Yahoo's proxy names itself (yathit#3 names Yahoo's proxy; its string as Yahoo's help page gives it)
    "yproxy": "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    # quoted: go-useragent#10 (Apple Mail), the stripped WebKit string of warmbly#569
    "applemail": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    # Apple's Mail Privacy Protection fetcher: the bare string (warmbly#569 names it a proxy fetch at delivery)
    "mpp": "Mozilla/5.0",
    # quoted: nginx-badbot-blocker#22 and #174, ultimate-bad-bot-blocker#561, #536
    "semrush11": "Mozilla/5.0 (compatible; SemrushBot/1.1~bl; +http://www.semrush.com/bot.html)",
    "semrush2": "Mozilla/5.0 (compatible; SemrushBot/2~bl; +http://www.semrush.com/bot.html)",
    "bytespider": "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "tinybot": "my-tiny-bot",
    # hotline-webring#362 names Applebot, PetalBot, DataForSeoBot: their operators' published strings
    "applebot": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "petalbot": "Mozilla/5.0 (compatible;PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
    "dataforseo": "Mozilla/5.0 (compatible; DataForSeoBot/1.0; +https://dataforseo.com/dataforseo-bot)",
    # ordinary current browsers: machines (no language) and people (with one)
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
    "ie11_win7": "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "brave_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    "chrome_android": "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
}

NET = {
    "dtag": ("79.192.10.10", "net: AS3320 Deutsche Telekom (ipldb), a consumer address no list names"),
    "dtag2": ("79.192.44.7", "net: AS3320 Deutsche Telekom (ipldb)"),
    "telefonica": ("83.32.10.10", "net: AS3352 Telefonica de Espana (ipldb), a consumer address no list names"),
    "vodafone_de": ("188.96.10.10", "net: AS3209 Vodafone GmbH (ipldb), a consumer address no list names"),
    "vodafone_de2": ("109.40.10.10", "net: AS3209 Vodafone GmbH mobile (ipldb)"),
    "vodafone_nl": ("84.27.10.10", "net: AS33915 Vodafone Libertel (ipldb)"),
    "charter": ("70.120.10.10", "net: AS11427 Charter (ipldb)"),
    "charter2": ("75.140.10.10", "net: AS20115 Charter (ipldb)"),
    "cox": ("68.100.10.10", "net: AS22773 Cox (ipldb)"),
    "google_proxy": ("66.249.84.30", "net: AS15169 Google (ipldb 66.249.64.0/19), Gmail's proxy"),
    "yahoo_proxy": ("98.137.12.60", "net: AS36647 Oath/Yahoo (ipldb)"),
    "apple": ("17.58.101.5", "net: AS714 Apple (ipldb 17.0.0.0/8)"),
    "eop_a": ("40.107.220.40", "net: EOP 40.107.0.0/16 (microsoft-eop.txt)"),
    "eop_b": ("52.101.40.9", "net: EOP 52.100.0.0/14 (microsoft-eop.txt)"),
    "semrush": ("46.229.168.71", "net: the thread's address (ipldb AS39572 DataWeb)"),
    "semrush2": ("46.229.168.69", "net: the thread's address (ipldb AS39572)"),
    "aws_tiny": ("100.21.24.205", "net: the thread's address (ipldb AS16509 Amazon)"),
    "aws_tiny2": ("44.230.252.91", "net: the thread's address (ipldb AS16509 Amazon)"),
    "huawei": ("114.119.130.10", "net: not given by the source; AS136907 Huawei Cloud (ipldb), where PetalBot crawls from"),
    "applebot": ("17.241.219.10", "net: not given by the source; AS714 Apple (ipldb)"),
}

URL = {
    "g427": "https://github.com/gophish/gophish/issues/427 (Outlook 2010's pixel request, User-Agent quoted)",
    "g388": "https://github.com/gophish/gophish/issues/388 (opens and clicks possibly by a mail-checking sandbox)",
    "pua53": "https://github.com/donatj/PhpUserAgent/issues/53 (pixel opens: Thunderbird's and Gmail's proxy's User-Agents quoted)",
    "gsh33": "https://github.com/gshutler/useragent/pull/33 (Gmail web and app proxy the pixel)",
    "yat3": "https://github.com/yathit/email-tracker-chrome-extension/issues/3 (Gmail, Yahoo and Outlook fetch tracking images through proxies)",
    "dev1": "https://github.com/DevSpeaks/mail-tracker/issues/1 (opens logged by Google's bots scanning the mail)",
    "wb569": "https://github.com/warmbly/warmbly/pull/569 (a user's Outlook image download 24 min after dispatch with a stripped WebKit UA; proxy fetches at delivery)",
    "gua10": "https://github.com/medama-io/go-useragent/issues/10 (Apple Mail's User-Agent)",
    "civi": "https://github.com/civicrm/civicrm-core/pull/35328 (HEAD requests on click tracking are security scanners such as SafeLinks)",
    "animus31": "https://github.com/KacemMathlouthi/animus/pull/31 (paired verify hits 134 ms apart ~23 s after send by a JS-running scanner, then the human's clicks)",
    "polar3786": "https://github.com/polarsource/polar/pull/3786 (email scanning systems open magic links)",
    "mld2": "https://github.com/MicahParks/magiclinksdev/issues/2 (Defender Safe Links follows all links before the inbox)",
    "na8737": "https://github.com/nextauthjs/next-auth/issues/8737 (antivirus email scanners click the magic link; reporter's Brave, Edge, Safari on macOS)",
    "nbb22": "https://github.com/mariusv/nginx-badbot-blocker/issues/22 (SemrushBot from 46.229.168.x)",
    "nbb174": "https://github.com/mariusv/nginx-badbot-blocker/issues/174 (SemrushBot/2~bl)",
    "nubb561": "https://github.com/mitchellkrogza/nginx-ultimate-bad-bot-blocker/issues/561 (Bytespider)",
    "nubb536": "https://github.com/mitchellkrogza/nginx-ultimate-bad-bot-blocker/pull/536 (my-tiny-bot from AWS addresses)",
    "hw362": "https://github.com/hotline-webring/hotline-webring/pull/362 (Applebot, SemrushBot, PetalBot, DataForSeoBot)",
}

P = Part("pl-", 12000, UA, NET, URL)
add, msg = P.add, P.msg

# -- people with mail clients
M = msg()
add("g427-outlook-open", "human", M, 1, 0, "open", 1500, "dtag", "de-DE", "outlook2010", "g427", "Outlook 2010 loads the pixel (the thread's address is a placeholder; a consumer one)")
add("g427-outlook-click", "human", M, 1, 1, "click", 1560, "dtag", "de-DE,de;q=0.9", "ie11_win7", "g427", "the same reader follows the link in IE 11; " + PERSON)
add("pua53-thunderbird-open", "human", M, 2, 0, "open", 3600, "telefonica", "es-ES,es;q=0.8,en-US;q=0.5,en;q=0.3", "thunderbird52", "pua53", "Thunderbird loads the pixel (Gecko sends the language)")
add("pua53-thunderbird-click", "human", M, 2, 1, "click", 3640, "telefonica", "es-ES,es;q=0.8,en-US;q=0.5,en;q=0.3", "firefox_win", "pua53", "and the link opens in Firefox; " + PERSON)
add("gua10-applemail-open-early", "human", M, 3, 0, "open", 75, "vodafone_de", "de-DE,de;q=0.9", "applemail", "gua10", "Apple Mail (MPP off) shows the message 75 s after it arrives (WebKit sends the language)")
add("gua10-applemail-click", "human", M, 3, 1, "click", 100, "vodafone_de", "de-DE,de;q=0.9", "safari_mac", "gua10", "and the reader clicks in Safari")
add("wb569-outlook-late", "human", M, 4, 0, "open", 1440, "charter", "en-US,en;q=0.9", "applemail", "wb569", "a user's Outlook image download 24 min after dispatch, stripped WebKit UA")

# -- webmail through providers' proxies, and Apple's prefetch
M = msg()
add("pua53-gmail-open", "proxy-open", M, 1, 0, "open", 7200, "google_proxy", "", "gproxy", "pua53", "Gmail's proxy fetches the pixel as the reader views the message")
add("gsh33-gmail-web", "proxy-open", M, 2, 0, "open", 5400, "google_proxy", "", "gproxy", "gsh33", "Gmail on the web proxies the pixel")
add("gsh33-gmail-app", "proxy-open", M, 3, 0, "open", 9000, "google_proxy", "", "gproxy", "gsh33", "and the Gmail app")
add("yat3-gmail", "proxy-open", M, 4, 0, "open", 3000, "google_proxy", "", "gproxy", "yat3", "Gmail's proxy, a reader's view")
add("yat3-yahoo", "proxy-open", M, 5, 0, "open", 4000, "yahoo_proxy", "", "yproxy", "yat3", "Yahoo's proxy, a reader's view")
add("yat3-yahoo-2", "proxy-open", M, 6, 0, "open", 12000, "yahoo_proxy", "", "yproxy", "yat3", "another Yahoo reader")
add("dev1-google-at-delivery", "prefetch", M, 7, 0, "open", 3, "google_proxy", "", "gproxy", "dev1", "Google fetches the pixel as the mail arrives, before anyone reads it")
add("wb569-mpp-at-delivery", "prefetch", M, 8, 0, "open", 6, "apple", "", "mpp", "wb569", "Apple's privacy fetch at delivery")
add("wb569-mpp-at-delivery-2", "prefetch", M, 9, 0, "open", 8, "apple", "", "mpp", "wb569", "another Apple Mail recipient's fetch at delivery")

# -- gateways and link scanners
M = msg()
add("civi-head-safelinks", "scanner", M, 1, 1, "click", 4, "eop_a", "", "edge_win", "civi", "SafeLinks' HEAD on the tracked link; " + NOT_QUOTED, method="HEAD")
add("civi-get-safelinks", "scanner", M, 1, 1, "click", 4.4, "eop_a", "", "edge_win", "civi", "its GET after the HEAD")
add("civi-person", "human", M, 1, 1, "click", 2400, "cox", "en-US,en;q=0.9", "chrome_win", "civi", "the recipient's own click later; " + PERSON)
add("mld2-safelinks-1", "scanner", M, 2, 1, "click", 6, "eop_b", "", "edge_win", "mld2", "Safe Links follows the first link before the inbox; " + NOT_QUOTED)
add("mld2-safelinks-2", "scanner", M, 2, 2, "click", 6.2, "eop_b", "", "edge_win", "mld2", "and the second")
add("mld2-person", "human", M, 2, 1, "click", 600, "vodafone_nl", "nl-NL,nl;q=0.9,en;q=0.8", "edge_win", "mld2", "the user's click, a 404; " + PERSON)
M = msg()
add("animus-scan-1", "scanner", M, 1, 1, "click", 23, "dtag2", "", "chrome_win", "animus31", "the JS-running scanner's first verify hit; network not given; " + NOT_QUOTED)
add("animus-scan-2", "scanner", M, 1, 1, "click", 23.134, "dtag2", "", "chrome_win", "animus31", "the paired hit 134 ms later")
add("animus-person-1", "human", M, 1, 1, "click", 95, "vodafone_de2", "en-US,en;q=0.9", "chrome_android", "animus31", "the human's click, failing, within two minutes; " + PERSON)
add("animus-person-2", "human", M, 1, 1, "click", 110, "vodafone_de2", "en-US,en;q=0.9", "chrome_android", "animus31", "and again")
add("polar-scan", "scanner", M, 2, 1, "click", 9, "telefonica", "", "chrome_win", "polar3786", "an email scanning system opens the magic link; network not given; " + NOT_QUOTED)
add("polar-person", "human", M, 2, 1, "click", 400, "charter2", "en-US,en;q=0.9", "safari_iphone", "polar3786", "the person's click; " + PERSON)
add("na8737-av-scan", "scanner", M, 3, 1, "click", 12, "vodafone_de", "", "chrome_win", "na8737", "an antivirus email scanner clicks the magic link; network not given; " + NOT_QUOTED)
add("na8737-person-safari", "human", M, 3, 1, "click", 300, "charter", "en-US,en;q=0.9", "safari_mac", "na8737", "the reporter's click in Safari on macOS")
add("na8737-person-brave", "human", M, 4, 1, "click", 900, "cox", "en-US,en;q=0.9", "brave_mac", "na8737", "a click in Brave on macOS (its UA is Chrome's; it sends the language)")
add("g388-sandbox-open", "scanner", M, 5, 0, "open", 20, "dtag2", "", "chrome_win", "g388", "a mail-checking sandbox opens the message; " + NOT_QUOTED)
add("g388-sandbox-click", "scanner", M, 5, 1, "click", 21, "dtag2", "", "chrome_win", "g388", "and clicks the link")

# -- people: ordinary opens and clicks from consumer networks
M = msg()
add("g388-person-open", "human", M, 1, 0, "open", 5000, "cox", "en-US,en;q=0.9", "chrome_win", "g388", "a user opening in webmail with images on, later; " + PERSON)
add("g388-person-click", "human", M, 1, 1, "click", 5030, "cox", "en-US,en;q=0.9", "chrome_win", "g388", "and clicking")
add("pua53-person-phone", "human", M, 2, 1, "click", 20000, "vodafone_de2", "de-DE,de;q=0.9", "chrome_android", "pua53", "a reader's click on a phone; " + PERSON)
add("gsh33-person-click", "human", M, 3, 1, "click", 5460, "charter2", "en-US,en;q=0.9", "safari_iphone", "gsh33", "the Gmail app reader's click, in the phone's browser")
add("yat3-person-click", "human", M, 4, 1, "click", 4100, "vodafone_nl", "nl-NL,nl;q=0.9", "firefox_win", "yat3", "the Yahoo reader's click")

# -- crawlers and scripts
M = msg()
add("nbb22-semrush-1", "probe", M, 1, 1, "click", 172800, "semrush", "", "semrush11", "nbb22", "SemrushBot fetches a link of a published copy")
add("nbb22-semrush-2", "probe", M, 1, 2, "click", 172801, "semrush2", "", "semrush11", "nbb22", "another of its addresses, a second later")
add("nbb174-semrush2", "probe", M, 1, 3, "click", 260000, "semrush", "", "semrush2", "nbb174", "SemrushBot's later string")
add("nubb561-bytespider", "probe", M, 1, 4, "click", 300000, "charter2", "", "bytespider", "nubb561", "Bytespider; network not given: a consumer address")
add("nubb536-tinybot-1", "probe", M, 1, 5, "click", 90000, "aws_tiny", "", "tinybot", "nubb536", "my-tiny-bot from AWS")
add("nubb536-tinybot-2", "probe", M, 1, 5, "click", 90001, "aws_tiny2", "", "tinybot", "nubb536", "from another AWS address a second later")
add("hw362-applebot", "probe", M, 1, 6, "click", 400000, "applebot", "", "applebot", "hw362", "Applebot")
add("hw362-petalbot", "probe", M, 1, 7, "click", 410000, "huawei", "", "petalbot", "hw362", "PetalBot")
add("hw362-dataforseo", "probe", M, 1, 8, "click", 420000, "cox", "", "dataforseo", "hw362", "DataForSeoBot; network not given: a consumer address")

P.write("# ---- part L: real-network scenarios from public evidence not used before, written after rules version 11, measured once ----\n")
