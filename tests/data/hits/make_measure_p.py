#!/usr/bin/env python3
"""make_measure_p.py: appends part P of measure.tsv: real-network scenarios
from public evidence that no earlier part, no tuned line and no rule cites
(each checked before the first run against tests/data/hits/README.md, every
make_measure_*.py, hits.tsv, tune.tsv, data/*.tsv, data/published/README.md
and docs/ by `owner/repo#number`, by `/issues/number` and by page address,
not only by whole URL), weighted towards what failed blind in earlier rounds:

- scanners no earlier part names in these words: mail security following
  every recipient's personal unsubscribe link at delivery (Rock RMS,
  Mailtrain, useSend, emailflare, Frappe, mailkick, EspoCRM, Craft Campaign,
  wagtail-indymeet and SuiteCRM threads), Safe Links detonating every URL and
  the provider prefetching the pixel at delivery (OpenAEV#7470), a reply or
  forward registering clicks from devices the users do not own
  (gophish#2565), security software visiting the link (gophish#1764);
  and the people those gateways let through: Cisco Secure Email's redirect
  to its Web Security proxy (AsyncOS user guide, "Redirected URLs"),
  Barracuda LinkProtect's redirect (blpdecode), a Safe Links unwrapper
  (simonrob/atp-link-cleaner);
- mail providers' and clients' image proxies and prefetchers: Mail.ru's bot
  and Google's proxy with the networks a thread quotes (mssola/user_agent#54),
  Yahoo Mail Proxy (JayBizzle/Crawler-Detect#393,
  matomo-org/device-detector#6736), Yahoo Link Preview
  (monperrus/crawler-user-agents#43), Gmail's prefetch at arrival and its
  image cache at the read (SparkPost/Bird's "Gmail prefetching images"),
  MailPing's two studies (Gmail prefetches, Outlook loads from the device),
  Fastmail's help on remote images, Keepnet Labs' Outlook whitelisting page,
  a webmail's external-image blocking (thexyz), WhichBrowser#127 and a
  dev.to comment on Gmail's proxy;
- people: Outlook's opens with the User-Agents browscap#1634, #666, #2468
  and ua-parser/uap-core#132 quote, the sender's own Outlook preview
  (mautic#5432), a click with the address and User-Agent gophish#280
  quotes, a person's repeated click (gophish#2565).

Conventions as part O's (make_measure_o.py): the User-Agent a source
quotes, else the standard string of what it names (said per line), else an
ordinary current browser without Accept-Language for a machine and with one
for a person; the network a source gives, else the provider's autonomous
system (ipldb), else a consumer address no list names (Comcast, Orange,
BT; other addresses than any earlier line's).

Written on 2026-12-08 AFTER rules version 13, with the labels decided in
this script and committed before the first run; measured once, totals only,
before any rule of round 16 (docs/verdicts.md, "The order in which this was
done").

Run from the source root, after make_measure_o.py (which rewrites from
part O on): python3 tests/data/hits/make_measure_p.py
"""
from measure_writer import NOT_QUOTED, PERSON, Part

UA = {
    # quoted by mssola/user_agent#54 for the Mail.ru bot
    "mailru": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.2 Safari/537.36",
    # quoted by mssola/user_agent#54 and WhichBrowser/Parser-PHP#127
    "gproxy": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    # the string of Crawler-Detect#393's and device-detector#6736's Yahoo page
    "yproxy": "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    # the standard string of the page crawler-user-agents#43 links
    "ypreview": "Mozilla/5.0 (compatible; Yahoo Link Preview; https://help.yahoo.com/kb/mail/yahoo-link-preview-SLN23615.html)",
    # quoted by SparkPost/Bird's "Gmail prefetching images"
    "gprefetch": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0",
    # Fastmail's string with its token (fastmail.com/policies/bots); the help page quotes none
    "fastmail": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 FastmailUA/1.0",
    # quoted by browscap#1634
    "outlook16": "Microsoft Office/16.0 (Microsoft Outlook 16.0.8241; Pro)",
    "outlook_mac0": "Mozilla/5.0 (Macintosh; Intel Mac OS X) Outlook/0.0.0",
    # quoted by browscap#666
    "outlook14": "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/7.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; .NET4.0C; .NET4.0E; Microsoft Outlook 14.0.7149; ms-office; MSOffice 14)",
    # quoted by browscap#2468
    "outlook_desk": "Microsoft Office Outlook/16.0.12527.21378 (Windows/10.0; Desktop x64; en-GB; Desktop app; Hewlett-Packard/HP ProBook 650 G1)",
    # quoted by ua-parser/uap-core#132
    "outlook2016a": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.6326; Pro)",
    "outlook2016b": "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/8.0; .NET4.0C; .NET4.0E; .NET CLR 2.0.50727; .NET CLR 3.0.30729; .NET CLR 3.5.30729; Microsoft Outlook 16.0.6366; ms-office; MSOffice 16)",
    # classic Outlook's form (the sources name Outlook, quote none): browscap#1634's form, another build
    "outlook_std": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    # quoted by gophish#280
    "g280": "Mozilla/5.0 (Windows; U; MSIE 9.0; WIndows NT 9.0; en-US))",
    # gophish#2565 names a Samsung SM-G998U: its standard Chrome string
    "sm_g998u": "Mozilla/5.0 (Linux; Android 13; SM-G998U) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36",
    "chrome_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    "chrome_win_old": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "edge_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0",
    "firefox_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "chrome_android": "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
    "safari_iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
}

CONSUMER = "a consumer address no list names"
NET = {
    "comcast1": ("73.162.10.20", "net: AS7922 Comcast (ipldb), " + CONSUMER),
    "comcast2": ("73.41.200.8", "net: AS7922 Comcast (ipldb), " + CONSUMER),
    "comcast3": ("24.4.120.77", "net: AS7922 Comcast (ipldb), " + CONSUMER),
    "orange1": ("92.184.100.7", "net: AS3215 Orange (ipldb), " + CONSUMER),
    "orange2": ("92.184.110.40", "net: AS3215 Orange (ipldb), " + CONSUMER),
    "bt1": ("86.140.22.5", "net: AS2856 BT (ipldb), " + CONSUMER),
    "bt2": ("81.152.40.9", "net: AS2856 BT (ipldb), " + CONSUMER),
    "bt3": ("86.150.7.66", "net: AS2856 BT (ipldb), " + CONSUMER),
    "airtel": ("122.182.121.123", "net: the address gophish#280 quotes (AS9498 Bharti Airtel, ipldb)"),
    "eop": ("40.107.94.12", "net: not given by the source; Safe Links from EOP's published ranges (40.107.0.0/16)"),
    "eop2": ("40.107.96.40", "net: not given by the source; Safe Links from EOP's published ranges (40.107.0.0/16)"),
    "ms_other": ("20.190.140.10", "net: not given by the source ('the mail provider's infrastructure'); AS8075 Microsoft outside EOP's ranges (ipldb)"),
    "mimecast": ("205.139.110.80", "net: not given by the source; AS30031 Mimecast (ipldb)"),
    "barracuda": ("64.235.154.30", "net: not given by the source; AS15324 Barracuda (ipldb)"),
    "proofpoint": ("148.163.128.10", "net: not given by the source; AS13916 Proofpoint (ipldb)"),
    "vk": ("188.93.56.44", "net: 188.93.56.0/24, quoted by mssola/user_agent#54 (AS47764 LLC VK, ipldb)"),
    "vk2": ("185.30.176.88", "net: 185.30.176.0/23, quoted by mssola/user_agent#54 (AS60476, ipldb)"),
    "gproxy_a": ("64.233.160.20", "net: 64.233.160.0/19, quoted by mssola/user_agent#54 (AS15169 Google, ipldb)"),
    "gproxy_b": ("66.249.88.30", "net: AS15169 Google (ipldb 66.249.64.0/19)"),
    "gproxy_c": ("66.102.6.9", "net: AS15169 Google (ipldb 66.102.0.0/20)"),
    "yahoo": ("98.137.12.75", "net: not given by the source; AS36647 Oath/Yahoo (ipldb)"),
    "yahoo2": ("98.137.12.90", "net: not given by the source; AS36647 Oath/Yahoo (ipldb)"),
    "fastmail": ("103.168.172.55", "net: not given by the source; AS151847 Fastmail (ipldb)"),
}

URL = {
    "openaev": "https://github.com/OpenAEV-Platform/openaev/issues/7470 (seconds after sending, Safe Links detonates every URL at delivery and the provider prefetches the pixel; the recipient never opened)",
    "rock7034": "https://github.com/SparkDevNetwork/Rock/issues/7034 (the church's own email security scanner followed each recipient's unsubscribe link and unsubscribed all its staff)",
    "usesend412": "https://github.com/usesend/useSend/issues/412 (security gateways prefetch every link of inbound mail, unsubscribing real recipients)",
    "emailflare190": "https://github.com/0xdps/emailflare/issues/190 (link scanners issue GETs on every URL without any user action)",
    "mailtrain1195": "https://github.com/Mailtrain-org/mailtrain/issues/1195 (all registered addresses of one domain unsubscribed after a send; a scanner probing all links)",
    "frappe2582": "https://github.com/frappe/frappe/issues/2582 (unsubscribe links used before the recipient had opened the email)",
    "mailkick84": "https://github.com/ankane/mailkick/issues/84 (virus scanners open the unsubscribe link)",
    "espocrm3094": "https://github.com/espocrm/espocrm/issues/3094 (email security scanners checking links unsubscribed recipients)",
    "craft529": "https://github.com/putyourlightson/craft-campaign/issues/529 (security systems scan and visit every link, the unsubscribe link included)",
    "wagtail307": "https://github.com/djangonaut-space/wagtail-indymeet/issues/307 (mail hosting services follow the link to verify it is safe)",
    "suitecrm628": "https://github.com/SuiteCRM/SuiteCRM-Core/issues/628 (the opt-out link triggered by security scanners analysing the links)",
    "g2565": "https://github.com/gophish/gophish/issues/2565 (forwarding the email registered clicks from a Samsung SM-G998U and a Windows 10 device the users do not own; real clicks registered more than once from the same device)",
    "g1764": "https://github.com/gophish/gophish/issues/1764 (security software visits the link in the email before the user; Mimecast asked about)",
    "cisco": "https://manualsbrain.com/fr/manuals/1649696/?page=403 (AsyncOS 10.0 for Cisco Email Security user guide, 'Redirected URLs': a benign site, and the user is directed to it)",
    "blpdecode": "https://pypi.org/project/blpdecode/0.1.25/ (Barracuda LinkProtect proxies each URL through a realtime filtering API at linkprotect.cudasvc.com)",
    "atp": "https://github.com/simonrob/atp-link-cleaner (replaces Safe Links' redirect with a prompt showing the real URL, which the user then visits)",
    "mssola54": "https://github.com/mssola/user_agent/issues/54 (the Mail.ru bot from 188.93.56.0/24 and 185.30.176.0/23 with a Chrome 32 string; Google's proxy from 66.102.0.0/20, 66.249.64.0/19, 64.233.160.0/19)",
    "wb127": "https://github.com/WhichBrowser/Parser-PHP/issues/127 (Gmail's image proxy)",
    "cd393": "https://github.com/JayBizzle/Crawler-Detect/pull/393 (Yahoo Mail Proxy)",
    "dd6736": "https://github.com/matomo-org/device-detector/pull/6736 (Yahoo! Mail Proxy)",
    "cua43": "https://github.com/monperrus/crawler-user-agents/pull/43 (Yahoo Link Preview)",
    "bird": "https://bird.com/zh-sg/blog/gmail-prefetching-images (Gmail prefetches all images from Google addresses for a recipient with an open session, before the UI shows the email; distinct from the Google Image Cache open when the user opens it)",
    "mp_protocol": "https://mailping.pro/research/email-client-protocol-study (Gmail: a proxy request before user interaction; Outlook: a direct device request at open)",
    "mp_ip": "https://mailping.pro/research/email-privacy-ip-exposure-study (Outlook clients load remote images directly from the user's device)",
    "fastmail_help": "https://www.fastmail.help/hc/en-us/articles/1500000278102-Blocking-remote-images (if you load remote images, Fastmail's servers load them on your behalf)",
    "keepnet": "https://oldui.keepnetlabs.com/documentation-platform/technical-guide/whitelisting/whitelisting-the-pictures-on-microsoft-outlook-apps (Outlook blocks images until the user downloads them; Google Workspace shows them through its image proxy)",
    "thexyz": "https://thexyz.com/account/knowledgebase/104/External-image-privacy-protection-for-Webmail.html (images are blocked until the user clicks Show Images)",
    "devto": "https://dev.to/aleccool213/comment/12o6l (Gmail loads tracking pixels from a proxy)",
    "m5432": "https://github.com/mautic/mautic/issues/5432 (the sender's Outlook preview of the sent email loads the pixel)",
    "bc1634": "https://github.com/browscap/browscap/issues/1634 (Outlook 16's User-Agents)",
    "bc666": "https://github.com/browscap/browscap/issues/666 (Outlook 2010's User-Agent)",
    "bc2468": "https://github.com/browscap/browscap/issues/2468 (Outlook desktop's User-Agent)",
    "uap132": "https://github.com/ua-parser/uap-core/issues/132 (Outlook 2016's User-Agents)",
    "g280": "https://github.com/gophish/gophish/issues/280 (a click with its address and User-Agent about five minutes after sending; the reporter took the extra clicks for recipients forwarding the mail)",
}

P = Part("pp-", 16000, UA, NET, URL)
add, msg = P.add, P.msg

# -- scanners at delivery: Safe Links and gateways following every link, the unsubscribe link included
M = msg()
add("openaev-safelinks", "scanner", M, 1, 1, "click", 4, "eop", "", "chrome_win_old", "openaev", "Safe Links detonates the URL at delivery; " + NOT_QUOTED)
add("openaev-pixel", "scanner", M, 1, 0, "open", 3, "ms_other", "", "chrome_win_old", "openaev", "the provider prefetches the pixel at delivery; " + NOT_QUOTED)
add("rock7034-staff-1", "scanner", M, 2, 1, "click", 25, "comcast1", "", "chrome_win", "rock7034", "the scanner follows one staff member's unsubscribe link; network not given; " + NOT_QUOTED)
add("rock7034-staff-2", "scanner", M, 3, 1, "click", 26, "comcast1", "", "chrome_win", "rock7034", "another's; " + NOT_QUOTED)
add("rock7034-staff-3", "scanner", M, 4, 1, "click", 28, "comcast1", "", "chrome_win", "rock7034", "a third's; " + NOT_QUOTED)
add("usesend412-gateway", "scanner", M, 5, 2, "click", 6, "barracuda", "", "chrome_win", "usesend412", "a gateway prefetches the unsubscribe link; Barracuda one of those named; " + NOT_QUOTED)
add("emailflare190-safelinks", "scanner", M, 6, 2, "click", 5, "eop2", "", "edge_win", "emailflare190", "Outlook Safe Links' GET of the unsubscribe URL; " + NOT_QUOTED)
M = msg()
add("mailtrain1195-domain-1", "scanner", M, 1, 2, "click", 40, "orange1", "", "firefox_win", "mailtrain1195", "one address of the domain; network not given; " + NOT_QUOTED)
add("mailtrain1195-domain-2", "scanner", M, 2, 2, "click", 41, "orange1", "", "firefox_win", "mailtrain1195", "another address of the domain; " + NOT_QUOTED)
add("mailtrain1195-domain-3", "scanner", M, 3, 2, "click", 43, "orange1", "", "firefox_win", "mailtrain1195", "a third; " + NOT_QUOTED)
add("frappe2582-unsub", "scanner", M, 4, 2, "click", 45, "bt1", "", "chrome_win", "frappe2582", "the unsubscribe link used before the recipient opened; timing and network not given; " + NOT_QUOTED)
add("mailkick84-virus-scanner", "scanner", M, 5, 2, "click", 12, "bt2", "", "chrome_win", "mailkick84", "a virus scanner opens the unsubscribe link; network not given; " + NOT_QUOTED)
add("espocrm3094-scanner", "scanner", M, 6, 2, "click", 20, "comcast2", "", "edge_win", "espocrm3094", "a scanner checks the unsubscribe link; network not given; " + NOT_QUOTED)
add("craft529-every-link-1", "scanner", M, 7, 1, "click", 15, "proofpoint", "", "chrome_win", "craft529", "the security system visits the first link; network not given; " + NOT_QUOTED)
add("craft529-every-link-2", "scanner", M, 7, 2, "click", 15, "proofpoint", "", "chrome_win", "craft529", "and the unsubscribe link in the same second; " + NOT_QUOTED)
add("wagtail307-host-check", "scanner", M, 8, 2, "click", 30, "bt3", "", "chrome_win", "wagtail307", "the mail host follows the link to verify it; network not given; " + NOT_QUOTED)
add("suitecrm628-optout", "scanner", M, 9, 2, "click", 18, "orange2", "", "edge_win", "suitecrm628", "a security scanner triggers the opt-out link; network not given; " + NOT_QUOTED)
add("g1764-mimecast", "scanner", M, 10, 1, "click", 8, "mimecast", "", "chrome_win", "g1764", "security software visits the link before the user; " + NOT_QUOTED)
# -- clicks on forwarding, from devices the users do not own, and the person's own repeated click
M = msg()
add("g2565-forward-samsung", "scanner", M, 1, 1, "click", 5400, "comcast3", "", "sm_g998u", "g2565", "a click registered as the user forwards the email; the device the thread names, its standard string, no language; network not given")
add("g2565-forward-windows", "scanner", M, 2, 1, "click", 9000, "comcast3", "", "chrome_win", "g2565", "another, from a Windows 10 device the user does not own; " + NOT_QUOTED)
add("g2565-person-1", "human", M, 3, 1, "click", 3000, "comcast2", "en-US,en;q=0.9", "chrome_win", "g2565", "a real click; " + PERSON)
add("g2565-person-2", "human", M, 3, 1, "click", 3004, "comcast2", "en-US,en;q=0.9", "chrome_win", "g2565", "registered again from the same device; " + PERSON)
# -- people let through by the gateways' redirects
M = msg()
add("cisco-redirect-person", "human", M, 1, 1, "click", 7200, "bt1", "en-GB,en;q=0.9", "edge_win", "cisco", "the user arrives after Cisco's proxy redirect; " + PERSON)
add("blpdecode-person", "human", M, 2, 1, "click", 5000, "bt2", "en-GB,en;q=0.9", "safari_mac", "blpdecode", "the user's click after LinkProtect's redirect; " + PERSON)
add("atp-person", "human", M, 3, 1, "click", 11000, "comcast1", "en-US,en;q=0.9", "firefox_win", "atp", "the user visits the unwrapped URL; " + PERSON)
add("g280-click", "human", M, 4, 1, "click", 282, "airtel", "", "g280", "g280", "the click the thread quotes; a person by the thread's account (recipients forwarding); no language given")

# -- mail providers' and clients' image proxies and prefetchers
M = msg()
add("mssola54-mailru", "proxy-open", M, 1, 0, "open", 14000, "vk", "", "mailru", "mssola54", "the Mail.ru bot fetches the pixel; timing not given: hours after delivery, as a reader's open")
add("mssola54-mailru-2", "proxy-open", M, 2, 0, "open", 30000, "vk2", "", "mailru", "mssola54", "from the other network the thread quotes")
add("mssola54-gproxy", "proxy-open", M, 3, 0, "open", 9000, "gproxy_a", "", "gproxy", "mssola54", "Google's proxy from a network the thread quotes")
add("wb127-gproxy", "proxy-open", M, 4, 0, "open", 20000, "gproxy_b", "", "gproxy", "wb127", "a Gmail reader's open")
add("cd393-yahoo", "proxy-open", M, 5, 0, "open", 6000, "yahoo", "", "yproxy", "cd393", "a Yahoo Mail reader's open")
add("dd6736-yahoo", "proxy-open", M, 6, 0, "open", 16000, "yahoo2", "", "yproxy", "dd6736", "another Yahoo Mail reader")
add("cua43-yahoo-preview", "probe", M, 6, 1, "click", 16010, "yahoo2", "", "ypreview", "cua43", "Yahoo Mail's link preview fetches the link")
M = msg()
add("bird-gmail-prefetch", "prefetch", M, 1, 0, "open", 2, "gproxy_c", "", "gprefetch", "bird", "Gmail prefetches the pixel before the UI shows the email")
add("bird-gmail-cache-open", "proxy-open", M, 1, 0, "open", 4000, "gproxy_c", "", "gproxy", "bird", "the Google Image Cache open when the user opens the email; the proxy's string")
add("mp-gmail-prefetch", "prefetch", M, 2, 0, "open", 6, "gproxy_b", "", "gproxy", "mp_protocol", "a proxy request before user interaction; UA not quoted: the proxy's string")
add("mp-outlook-open", "human", M, 3, 0, "open", 2500, "orange2", "fr-FR", "outlook_std", "mp_protocol", "Outlook's direct device request at open; UA not quoted: classic Outlook's form")
add("mp-ip-outlook-open", "human", M, 4, 0, "open", 8000, "bt3", "en-GB", "outlook_std", "mp_ip", "Outlook loads the image from the user's device; UA not quoted: classic Outlook's form")
add("fastmail-help-load", "proxy-open", M, 5, 0, "open", 12000, "fastmail", "", "fastmail", "fastmail_help", "the user loads remote images; Fastmail's servers fetch them")
add("keepnet-outlook-download", "human", M, 6, 0, "open", 3600, "comcast3", "en-US", "outlook_std", "keepnet", "the user downloads the pictures in Outlook; UA not quoted: classic Outlook's form")
add("keepnet-gsuite-proxy", "proxy-open", M, 7, 0, "open", 5400, "gproxy_a", "", "gproxy", "keepnet", "Google Workspace shows the images through its proxy")
add("thexyz-show-images", "human", M, 8, 0, "open", 7000, "orange1", "fr-FR,fr;q=0.9", "firefox_win", "thexyz", "the user clicks Show Images in the webmail; " + PERSON)
add("devto-gmail-proxy", "proxy-open", M, 9, 0, "open", 26000, "gproxy_c", "", "gproxy", "devto", "a Gmail reader's open through the proxy")

# -- people's opens in Outlook with the User-Agents threads quote
M = msg()
add("m5432-sender-preview", "human", M, 1, 0, "open", 10, "bt1", "en-GB", "outlook_std", "m5432", "the sender's Outlook shows the sent copy at once; UA not quoted: classic Outlook's form")
add("bc1634-outlook16", "human", M, 2, 0, "open", 4000, "comcast1", "en-US", "outlook16", "bc1634", "a reader's open in Outlook 16")
add("bc1634-outlook-mac", "human", M, 3, 0, "open", 9500, "comcast2", "en-US", "outlook_mac0", "bc1634", "the string without a version number")
add("bc666-outlook2010", "human", M, 4, 0, "open", 15000, "orange2", "fr-FR", "outlook14", "bc666", "a reader's open in Outlook 2010")
add("bc2468-outlook-desktop", "human", M, 5, 0, "open", 2200, "bt2", "en-GB", "outlook_desk", "bc2468", "a reader's open in Outlook desktop")
add("uap132-outlook2016-a", "human", M, 6, 0, "open", 6600, "bt3", "en-GB", "outlook2016a", "uap132", "a reader's open in Outlook 2016")
add("uap132-outlook2016-b", "human", M, 7, 0, "open", 13000, "comcast3", "en-US", "outlook2016b", "uap132", "another, Outlook 2016's IE-engine string")

P.write("# ---- part P: real-network scenarios from public evidence not used before (gateways following unsubscribe links, mail providers' proxies and prefetchers, Outlook's opens), written after rules version 13, measured once ----\n")
