/*
 * ua.c: the User-Agent parser. homing's own rules (data/useragents.tsv: mail
 * clients, provider proxies, scanners and tools that uap-core does not name) are
 * tried first; then the uap-core regexes.yaml, read with libyaml and evaluated as
 * its specification says (first match wins, $N replacements, regex_flag 'i').
 * Every regex is compiled once with PCRE2 and JIT-compiled where the JIT allows.
 *
 * A parse walks up to ~1,200 regexes, so results are kept in a bounded LRU cache
 * keyed by the exact User-Agent bytes. The hash is keyed SipHash (libsodium)
 * with a per-parser random key: User-Agents are attacker text and a fixed hash
 * would let a sender of crafted strings pile them into one bucket.
 *
 * Contract: see homing/reader.h. Not thread-safe (cache, match data).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pcre2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "homing/reader.h"
#include "reader_int.h"

/* Limits on what a regexes.yaml may hold, so a damaged file cannot make the
 * loader allocate without bound. */
#define UA_YAML_REGEXES_MAX 16384
#define UA_REPL_MAX         256 /* bytes of one replacement template */
#define UA_OVECTOR_MAX      16
/* Backtracking steps one regex may take on one User-Agent: the uap-core set is
 * tuned, but a crafted string against a damaged rule must not stall the
 * enrichment thread. Hitting the limit counts as no match. */
#define UA_MATCH_LIMIT 200000

enum { F_FAMILY, F_V1, F_V2, F_V3, F_V4, F_BRAND, F_MODEL, F_COUNT };

/* ---- generic rules (rules version 4) --------------------------------------
 * What no list names can still be told by the grammar of a User-Agent
 * (RFC 9110 section 10.1.5: product tokens and comments). These apply only to
 * what homing's rules did not name and uap-core called a browser or did not
 * know, after the published bot list; docs/verdicts.md lists them.
 *
 * UA_GEN_BOT: words by which automation names itself. Crawlers and fetchers
 * are asked to name themselves and give a contact URL (Google's "Overview of
 * Google crawlers and fetchers": "Googlebot/2.1; +http://www.google.com/
 * bot.html"; Bing's "Which crawlers does Bing use"; robotstxt.org's guidelines
 * for robot writers); a browser's User-Agent never carries a URL. "bot" is
 * case-sensitive at a word's end (Googlebot, AhrefsBot; not the phone brand
 * "CUBOT"); the other words are whole words in any case, or end a product
 * name in CamelCase ("LinkChecker", "FeedFetcher"). Feed readers follow
 * links by schedule, not by a person's click (device-detector and woothee
 * class them apart from browsers).
 * Rules version 5 adds: a contact e-mail address (robotstxt.org's
 * "Guidelines for Robot Writers" ask a robot to identify itself with a way to
 * reach its owner, as HTTP's From header does: RFC 9110 section 10.1.2);
 * "unfurl", the word Slack's and other chat apps' link-preview documentation
 * uses for fetching a link's preview (api.slack.com/reference/messaging/
 * link-unfurling); and Google's fetchers, which its "Overview of Google
 * crawlers and fetchers" names "Google-<Name>" (Google-InspectionTool,
 * Google-Read-Aloud, Google-Site-Verification...) or GoogleOther. */
/* Rules version 6 adds (docs/verdicts.md, "Generic User-Agent rules"):
 * - more words by which automation names itself, whole or ending a CamelCase
 *   name: synthetic monitoring and performance tools ("synthetics",
 *   "observatory", "diagnostics", "inspector", "lighthouse", "pagespeed",
 *   "measurement"; Datadog's, Splunk's and New Relic's synthetic-monitoring
 *   documentation, Cloudflare's Observatory, Google's Lighthouse), scanners
 *   and classifiers ("scanner", "classifier", "transcoder", and "linkcheck"
 *   anywhere, "BrokenLinkCheck", "CMLINKCHECK"),
 *   feed aggregators ("aggregator", "syndication", and "RSS" as a word or
 *   ending a name: "QuiteRSS", "Windows-RSS-Platform"; RSS 2.0's
 *   specification calls the programs that poll feeds aggregators), and
 *   harvesters ("extractor", "harvester", "screenshot", "webcapture");
 * - a fetcher's name inside a browser's engine comment: browsers write
 *   exactly "(KHTML, like Gecko)"; Google's fetchers add their name there
 *   ("(KHTML, like Gecko; Google-InspectionTool/1.0;)", "(KHTML, like
 *   Gecko; compatible; Googlebot/2.1; +URL)" in Google's "Overview of Google
 *   crawlers and fetchers"), and so do others;
 * - "(compatible; ...)" after a WebKit engine token: only MSIE used the
 *   "compatible" form, and crawlers that pose as Chrome append it
 *   ("... Mobile Safari/537.36 (compatible; Googlebot/2.1; +URL)", Google's
 *   smartphone crawler);
 * - a host name in the User-Agent ("rivaliq.com", "web-capture.net"):
 *   robotstxt.org's guidelines ask a robot to say where its owner is found;
 *   no browser names a web site;
 * - a product token ending in "-Google" (Google's documented fetchers
 *   "AdsBot-Google", "Mediapartners-Google", "FeedFetcher-Google",
 *   "DuplexWeb-Google", "Storebot-Google") and Google's fetchers named in a
 *   comment ("googleweblight", "Google Web Preview", "Google Page Speed
 *   Insights", "Google Search Console", "GoogleAdSense...", "Google Keyword
 *   Suggestion", "Google Wireless Transcoder");
 * - an attack payload: SQL ("' OR 1=1", "UNION SELECT", "SLEEP(", "PG_SLEEP",
 *   "load_file("), Shellshock's "() { :;};" (CVE-2014-6271), Log4Shell's
 *   "${jndi:" (CVE-2021-44228), PHP or script tags, path traversal: the
 *   OWASP Web Security Testing Guide's injection tests put these in
 *   headers; no client sends them. */
#define UA_GEN_BOT6_RE                                                                             \
    "\\b(?i:synthetics?|observatory|diagnostics?|inspector|lighthouse|page ?speed|measurement|"    \
    "scanner|classifier|transcoder|aggregator|syndication|rss|extractor|"                          \
    "exractor|harvester|screenshots?|web-?capture)(?![a-z])|"                                      \
    "(?<=[a-z])(?:Synthetics?|Observatory|Diagnostics|Inspector|Classifier|Aggregator|"            \
    "Extractor|Harvester|RSS|Rss)(?![a-z])|_scanner\\b|(?i:link[ -]?check)|"                       \
    "(?i:\\(KHTML, like Gecko(?:;|,(?! ?Safari)))|AppleWebKit/.*\\(compatible;|"                   \
    "(?<![\\w.@/-])[a-z0-9][a-z0-9-]*(?:\\.[a-z0-9-]+)*\\.(?:com|net|org|io|info|biz)(?![\\w.-])|" \
    "(?i:\\b[a-z]+-google\\b)|(?i:\\bgoogle ?(?:weblight|web preview|page ?speed|search console|"  \
    "adsense\\w*|adwords\\w*|keyword|wireless transcoder|pp default|partner_monitoring))|"         \
    "(?i:'\\)?\\s*or\\s+\\d|\\bunion\\s+select\\b|\\bselect\\s.*\\bfrom\\b|\\bp?g?_?sleep\\s*\\(|" \
    "load_file\\(|\\(\\)\\s*\\{\\s*:;\\s*\\};|\\$\\{jndi:|<\\?(?:=|php)|<script|\\.\\./\\.\\./)"
#define UA_GEN_BOT_RE                                                                              \
    "(?:bot|Bot)(?![a-z])|\\b(?i:crawl(?:er|ing)?|spider|scrap(?:er|ing)|fetch(?:er|ing)?|"        \
    "monitor(?:ing)?|checker|validator|preview|archiver|indexer|headless|uptime|"                  \
    "feed ?(?:fetcher|reader|parser)|rss ?reader|(?:link|url) ?(?:checker|expander|resolver))"     \
    "(?![a-z])|(?<=[a-z])(?:Crawler|Spider|Scraper|Fetcher|Monitor|Checker|Validator|Preview|"     \
    "Archiver|Indexer)"                                                                            \
    "(?![a-z])|(?i:\\bhttps?://|\\bwww\\.[a-z0-9-]+\\.[a-z]{2,})|"                                 \
    "[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)*\\.[A-Za-z]{2,}|\\b(?i:unfurl(?:er|ing)?)(?![a-z])|"          \
    "\\bGoogle-[A-Z][A-Za-z-]+|\\bGoogleOther\\b|" UA_GEN_BOT6_RE
/* UA_GEN_TOOL: HTTP client libraries and command-line tools, by the product
 * token their documentation gives as the default User-Agent (curl(1), wget(1),
 * requests' default_user_agent, urllib, OkHttp, Go net/http, Java's
 * HttpURLConnection, Apache HttpComponents, LWP::UserAgent, PHP's and Ruby's
 * clients, Guzzle, axios, node-fetch, reqwest, PowerShell's Invoke-WebRequest,
 * Postman, HTTPie, libcurl bindings; gRPC's "grpc-LANG/VERSION" of its
 * PROTOCOL-HTTP2.md), as a product token with a version
 * ("Java/1.8.0", "python-requests/2.31"): J2ME phone browsers write "(Java;
 * U; MIDP-2.0...)" in a comment. */
#define UA_GEN_TOOL_RE                                                                             \
    "(?:^|[\\s;(])(?i:curl|libcurl|wget|python|urllib|httplib2?|requests|httpx|aiohttp|okhttp|"    \
    "go-http-client|java|jakarta|apache-httpclient|httpclient|http_request2?|libwww-perl|lwp|"     \
    "php|guzzlehttp|ruby|faraday|axios|node-fetch|undici|superagent|reqwest|winhttp|"              \
    "powershell|postmanruntime|insomnia|httpie|mechanize|httrack|wordpress|zgrab|nmap|nikto|"      \
    "sqlmap|masscan|grpc|pycurl|http\\.rb|lua-resty-http|scalaj-http|fasthttp|needle|got|dart|"    \
    "deno|bun|restsharp|typhoeus|urlgrabber|apt-http|microsoft-cryptoapi|microsoft bits|"          \
    "reactor-netty|vert\\.x-webclient|commons-httpclient|libsoup|urllib3|akka-http|hackney|"       \
    "colly|jsdom|cypress|wp-url|mechanicalsoup|ocaml-cohttp|cpp-httplib|"                          \
    "windows-update-agent|clamav)(?:[-_.][\\w.-]*)?/\\d|^Java\\d\\.\\d"
/* UA_GEN_ENGINE: the tokens of a browser engine. Every browser and in-app web
 * view since Netscape sends "Mozilla/" (the compatibility token the HTML
 * Living Standard's navigator.userAgent keeps), but crawlers copy it, so it
 * counts only with an engine's or a platform's token; Opera's own "Opera/";
 * WebKit, Blink, Gecko, Trident, Presto and KHTML name themselves; feature
 * phones' WAP browsers send UP.Browser, NetFront, Obigo or Openwave, or the
 * J2ME profile (MIDP, CLDC; MIDP is also their platform below).
 *
 * UA_GEN_CARRIER (rules version 5): the browsers of Japanese carriers'
 * feature phones name the carrier and the handset and nothing else, in the
 * forms each carrier documents for its sites' developers: NTT docomo's
 * i-mode browser "DoCoMo/1.0/MODEL/..." and "DoCoMo/2.0 MODEL(c100;...)"
 * (docomo's "User Agent" page of its i-mode technical information),
 * SoftBank's "SoftBank/1.0/MODEL/...", its former names "Vodafone/1.0/..."
 * and "J-PHONE/..." (SoftBank's "User-Agent" developer page), au's
 * "KDDI-MODEL UP.Browser/..." (KDDI's EZweb User-Agent list), WILLCOM's
 * "Mozilla/3.0(WILLCOM;..." and its former "DDIPOCKET", and i-mode outside
 * Japan, "portalmmm/". The token is both the engine (the phone's own
 * browser) and the platform (the handset). */
#define UA_GEN_CARRIER_RE                                                                          \
    "DoCoMo/\\d|SoftBank/\\d|Vodafone/\\d|J-PHONE/\\d|KDDI-|WILLCOM|DDIPOCKET|portalmmm/"

/* UA_GEN_PHONE (rules version 6): a browser that names itself one, and
 * phones' own browsers, which send neither an engine token nor a platform
 * but their handset's name, each counting as engine and platform:
 * - a product token "Browser/VERSION", alone or ending a name ("LG
 *   Browser/5.0", "W106-Browser/1.0", "InettvBrowser/2.2"), a name ending in
 *   "Browse" ("IBrowse"), or a WAP browser ("Wap Browser", "wap_browser":
 *   WAP is phones' protocol): the HTTP product token of a browser (RFC 9110
 *   section 10.1.5) names the program; automation words and tools are tried
 *   first;
 * - a handset maker's name before the model, in the form the makers
 *   document for their phones' browsers: Nokia's "Nokia6230/2.0 (04.44)
 *   Profile/MIDP-2.0 ...", Sony Ericsson's "SonyEricssonK750i/R1AA
 *   Browser/SEMC-Browser/4.2", Motorola's "MOT-V3/...", Siemens' "SIE-S65/",
 *   Samsung's "SAMSUNG-SGH-E250/", LG's "LG-KU990", Sanyo's, Sharp's,
 *   Philips', Alcatel's, Sagem's (the makers' developer guides; the OMA
 *   UAProf specification's User-Agent examples);
 * - docomo's i-mode browser 2.0, "Mozilla/5.0 (MODEL;FOMA;like Gecko)"
 *   (docomo's "User Agent" page), and docomo's name in any case;
 * - Netscape Navigator's own form, "Mozilla/4.78 [ja] (Win98; U)",
 *   "Mozilla/3.0 (X11; I; SunOS 5.4 sun4m)": a language in brackets or the
 *   encryption strength I, U or N after the platform (Netscape's
 *   JavaScript Guide, navigator.userAgent), which MSIE's "compatible" form
 *   and crawlers do not send. */
#define UA_GEN_PHONE_RE                                                                            \
    "(?i:(?<![a-z])wap[ _-]?browser(?![a-z]))|(?<![A-Za-z])[Bb]rowser/\\d|(?<=[a-z])Browser/\\d|"  \
    "(?<=[a-z])[Bb]rowse\\b|"                                                                      \
    "^(?:Nokia|NOKIA|SonyEricsson|Ericsson|MOT-|SIE-|SAMSUNG-|Samsung-|SEC-|LG-|LGE-|LG\\d|"       \
    "Sanyo-|SANYO|SHARP-|Sharp-|PHILIPS-|Philips-|Alcatel-|ALCATEL-|Sagem-|SAGEM-|Panasonic-|"     \
    "NEC-|KWC-|Vertu|HTC_|ZTE-|Pantech|PANTECH|Audiovox|BenQ|Haier|Lenovo|Amoi|AMOI|BIRD\\.|"      \
    "DESAY|Ziox|Karbonn|Micromax|Videocon|Spice|Wynncom)[\\w-]*|;FOMA;|(?i:\\bdocomo/\\d)|"        \
    "^Mozilla/[1-4]\\.\\d+\\w* ?\\[[A-Za-z-]+\\]|"                                                 \
    "^Mozilla/[1-4]\\.\\d+\\w* \\((?![^)]*compatible)[^)]*; ?[IUN](?:;|\\))"

#define UA_GEN_ENGINE_RE                                                                           \
    "Opera[/ ]|AppleWebKit|\\bWebKit/\\d|Gecko|Trident/|Presto/|KHTML|MSIE "                       \
    "|UP\\.Browser|NetFront|"                                                                      \
    "Obigo|Openwave|MIDP|CLDC|" UA_GEN_CARRIER_RE "|" UA_GEN_PHONE_RE
/* UA_GEN_PLATFORM: an operating system or device in the User-Agent's comment,
 * as browsers, web views and apps' own HTTP stacks write it (Apple's
 * CFNetwork/Darwin, Android's Dalvik, consoles' and TVs' names); and any OS
 * uap-core's os_parsers name. Rules version 6: the TV platforms OpenTV,
 * Hybridcast, KreaTV and Panasonic's Viera, and Ubuntu Touch's "(Ubuntu;
 * Mobile) WebKit/537.36" (so "WebKit/" counts as an engine token too). */
#define UA_GEN_PLATFORM_RE                                                                         \
    "Windows|Win64|WOW64|Macintosh|Mac OS X|X11|Linux|Android|iPhone|iPad|iPod|iOS|CrOS|"          \
    "CPU OS|Darwin|CFNetwork|Dalvik|BlackBerry|BB10|PlayBook|Symbian|S60|KAIOS|KaiOS|Tizen|"       \
    "webOS|Web0S|PlayStation|Nintendo|Xbox|SMART-TV|SmartTV|HbbTV|CrKey|Roku|AppleTV|tvOS|"        \
    "watchOS|FreeBSD|OpenBSD|NetBSD|SunOS|Solaris|Fuchsia|HarmonyOS|OpenHarmony|Mac OS|"           \
    "AmigaOS|MorphOS|Haiku|BeOS|RISC OS|OS/2|MIDP|OpenTV|Hybridcast|KreaTV|Viera|Ubuntu|"          \
    "(?i:\\bwin(?:32|64|nt|\\d+)\\b)|" UA_GEN_CARRIER_RE "|" UA_GEN_PHONE_RE
/* UA_GEN_MAIL (rules version 5): a mail client or mail app that names itself
 * a mail program in its product token or comment: "Mail" as a word or the
 * last part of a CamelCase name, "E-mail"/"Email" likewise, or a name that
 * begins with "Mail" (AquaMail/, SamsungEmail/, YahooMobileMail/, Claws
 * Mail, Windows Live Mail, Opera Mail, (Android Mail; ...), Mailspring/).
 * Mail clients that render a message fetch its images as the reader opens
 * it, with the app's own HTTP stack or web view; tried only on what names no
 * known client and no automation (bot words, tools, the bot list go first,
 * so "Mail.RU_Bot" stays a bot). */
#define UA_GEN_MAIL_RE                                                                             \
    "(?i:(?<![a-z0-9])e?-?mail(?![a-z]))|(?<=[a-z])E?-?[Mm]ail(?![a-z])|"                          \
    "(?<![A-Za-z])Mail[a-z]+/\\d"
/* UA_GEN_DEVICE (rules version 5): an app's own User-Agent on a person's
 * device: a comment naming a phone's, tablet's, computer's, TV's or
 * console's operating system ("App/2.1 (iPhone; iOS 17.1; Scale/3.00)",
 * "App/5 (Linux; U; Android 13; SM-S918B)", "App/1.0 (Windows NT 10.0)"), or
 * the HTTP stacks of those systems' apps: Apple's "CFNetwork/" with
 * "Darwin/", Android's "Dalvik/" (Apple's URL Loading System and Android's
 * HttpURLConnection document these defaults). Server platforms (plain Linux,
 * BSDs, Solaris, X11) are not a person's device, and a platform word outside a
 * comment is a product's name ("Windows-Update-Agent/10.0"), so neither
 * counts. Rules version 6 adds the desktop systems of older and rarer
 * computers (classic Mac OS and Office for Mac's "(Mac OS/14.0; Desktop;
 * ...)", AmigaOS, RISC OS, BeOS, Haiku, OS/2, Windows 3.x-XP's "Win16",
 * "Win98", "win10"), phones' (Maemo, MeeGo, Sailfish, Bada, Windows Phone,
 * BREW), Roku's documented "Roku/DVP-" and CFNetwork and Dalvik in any
 * case; outside a comment, a phone's OS with its version as a product
 * ("YelpWebView/1.5 Android/6.0.1", "App/1 Windows Phone/10.0"), "Android
 * Application" and Instagram's "Android (SDK/VERSION; ...)", and TV
 * platforms that name themselves as products (HbbTV's "HbbTV/1.2.1 (...)"
 * of ETSI TS 102 796, IPTV Forum Japan's "Hybridcast/1.0", Google Cast's
 * "CrKey/", OpenTV, ARRIS KreaTV, Samsung's "SmartTV/"). */
#define UA_GEN_DEVICE_RE                                                                           \
    "\\([^)]*(?:Windows|Win64|WOW64|Macintosh|Mac OS X|Android|iPhone|iPad|iPod|iOS|CPU OS|"       \
    "BlackBerry|BB10|PlayBook|Symbian|S60|KAIOS|KaiOS|Tizen|webOS|Web0S|PlayStation|Nintendo|"     \
    "Xbox|SMART-TV|SmartTV|HbbTV|CrKey|Roku|AppleTV|tvOS|watchOS|HarmonyOS|OpenHarmony|"           \
    "Mac ?OS|AmigaOS|MorphOS|RISC OS|BeOS|Haiku|OS/2|Syllable|Maemo|MeeGo|Sailfish|Bada|"          \
    "Windows Phone|BREW|(?i:\\bwin(?:16|32|64|95|98|nt|me|xp|\\d+)\\b))|"                          \
    "(?i:\\bCFNetwork/\\d|\\bDalvik/\\d)|\\bRoku\\w*/DVP-|"                                        \
    "\\b(?:Android|iOS|iPhone OS|Windows Phone)/\\d|\\bAndroid (?:Application|\\(\\d)|"            \
    "\\b(?:SmartTV|CrKey|HbbTV|Hybridcast|OpenTV|KreaTV)\\b"
enum {
    UA_GEN_BOT,
    UA_GEN_TOOL,
    UA_GEN_ENGINE,
    UA_GEN_PLATFORM,
    UA_GEN_MAIL,
    UA_GEN_DEVICE,
    UA_GENERIC_COUNT
};

struct ua_regex {
    pcre2_code *re;
    char *repl[F_COUNT]; /* NULL: take the capture group */
    /* homing rules only */
    uint8_t ua_class, type;
    uint8_t view_only; /* class "proxy-view": a proxy that fetches only when viewed */
};

struct ua_list {
    struct ua_regex *v;
    size_t n, cap;
};

struct ua_cache_entry {
    char *key;
    size_t klen;
    uint64_t hash;
    struct homing_ua val;
    struct ua_cache_entry *next_in_bucket;
    struct ua_cache_entry *lru_prev, *lru_next;
};

struct homing_ua_parser {
    struct ua_list rules, ua, os, device;
    pcre2_code **bots; /* published automation patterns, HOMING_UA_BOTS_CHUNK to a regex */
    size_t nbots;
    pcre2_code *generic[UA_GENERIC_COUNT]; /* the built-in token rules (ua_generic) */
    pcre2_match_data *md;
    pcre2_match_context *mc;
    size_t jit;
    /* cache */
    struct ua_cache_entry *entries;
    size_t cap, used;
    struct ua_cache_entry **buckets;
    size_t nbuckets;                            /* power of two */
    struct ua_cache_entry *lru_head, *lru_tail; /* head: most recent */
    unsigned char key[crypto_shorthash_KEYBYTES];
    uint64_t lookups, hits;
};

/* ---- compiling ---------------------------------------------------------- */

static int list_push(struct ua_list *l, struct ua_regex *r)
{
    int e = homing_array_grow((void **)&l->v, &l->cap, l->n, sizeof *l->v, 64);
    if (e < 0) return e;
    l->v[l->n++] = *r;
    return 0;
}

static void regex_clear(struct ua_regex *r)
{
    pcre2_code_free(r->re);
    for (int i = 0; i < F_COUNT; i++) free(r->repl[i]);
    memset(r, 0, sizeof *r);
}

static void list_free(struct ua_list *l)
{
    for (size_t i = 0; i < l->n; i++) regex_clear(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int compile(struct homing_ua_parser *p, const char *pattern, size_t len, int caseless,
                   pcre2_code **out)
{
    int errcode;
    PCRE2_SIZE erroff;
    if (len > HOMING_UA_REGEX_MAX) return -EINVAL;
    /* No UTF mode: User-Agents are bytes and need not be valid UTF-8. */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, caseless ? PCRE2_CASELESS : 0,
                                   &errcode, &erroff, NULL);
    if (!re) return -EINVAL;
    /* A regex the JIT refuses still works, interpreted. */
    if (pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0) p->jit++;
    *out = re;
    return 0;
}

/* ---- regexes.yaml ------------------------------------------------------- */

static const char *scalar(yaml_document_t *d, yaml_node_t *n, size_t *len)
{
    if (!n || n->type != YAML_SCALAR_NODE) return NULL;
    (void)d;
    *len = n->data.scalar.length;
    return (const char *)n->data.scalar.value;
}

/* Field names per list: which yaml key fills which replacement slot. */
struct field_map {
    const char *key;
    int slot;
};
static const struct field_map ua_fields[] = {{"family_replacement", F_FAMILY},
                                             {"v1_replacement", F_V1},
                                             {"v2_replacement", F_V2},
                                             {"v3_replacement", F_V3},
                                             {NULL, 0}};
static const struct field_map os_fields[] = {
    {"os_replacement", F_FAMILY}, {"os_v1_replacement", F_V1}, {"os_v2_replacement", F_V2},
    {"os_v3_replacement", F_V3},  {"os_v4_replacement", F_V4}, {NULL, 0}};
static const struct field_map dev_fields[] = {{"device_replacement", F_FAMILY},
                                              {"brand_replacement", F_BRAND},
                                              {"model_replacement", F_MODEL},
                                              {NULL, 0}};

static int load_list(struct homing_ua_parser *p, yaml_document_t *d, yaml_node_t *seq,
                     const struct field_map *fields, struct ua_list *out)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE) return -EINVAL;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *m = yaml_document_get_node(d, *it);
        if (!m || m->type != YAML_MAPPING_NODE) return -EINVAL;
        if (out->n >= UA_YAML_REGEXES_MAX) return -E2BIG;
        const char *pattern = NULL;
        size_t plen = 0;
        int caseless = 0;
        struct ua_regex r = {0};
        int rc = 0;
        for (yaml_node_pair_t *pr = m->data.mapping.pairs.start;
             pr < m->data.mapping.pairs.top && rc == 0; pr++) {
            size_t kl, vl;
            const char *k = scalar(d, yaml_document_get_node(d, pr->key), &kl);
            const char *v = scalar(d, yaml_document_get_node(d, pr->value), &vl);
            if (!k || !v) {
                rc = -EINVAL;
                break;
            }
            if (strcmp(k, "regex") == 0) {
                pattern = v;
                plen = vl;
            } else if (strcmp(k, "regex_flag") == 0) {
                caseless = strchr(v, 'i') != NULL;
            } else {
                for (const struct field_map *f = fields; f->key; f++) {
                    if (strcmp(k, f->key) != 0) continue;
                    if (vl > UA_REPL_MAX) {
                        rc = -EINVAL;
                        break;
                    }
                    free(r.repl[f->slot]);
                    r.repl[f->slot] = strndup(v, vl);
                    if (!r.repl[f->slot]) rc = -ENOMEM;
                }
            }
        }
        if (rc == 0 && !pattern) rc = -EINVAL;
        if (rc == 0) rc = compile(p, pattern, plen, caseless, &r.re);
        if (rc == 0) rc = list_push(out, &r);
        if (rc < 0) {
            regex_clear(&r);
            return rc;
        }
    }
    return 0;
}

static int load_yaml(struct homing_ua_parser *p, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    yaml_parser_t ps;
    yaml_document_t d;
    if (!yaml_parser_initialize(&ps)) {
        fclose(f);
        return -ENOMEM;
    }
    yaml_parser_set_input_file(&ps, f);
    int rc = -EINVAL;
    if (yaml_parser_load(&ps, &d)) {
        yaml_node_t *root = yaml_document_get_root_node(&d);
        if (root && root->type == YAML_MAPPING_NODE) {
            rc = 0;
            int seen = 0;
            for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
                 pr < root->data.mapping.pairs.top && rc == 0; pr++) {
                size_t kl;
                const char *k = scalar(&d, yaml_document_get_node(&d, pr->key), &kl);
                yaml_node_t *v = yaml_document_get_node(&d, pr->value);
                if (!k) continue;
                if (strcmp(k, "user_agent_parsers") == 0)
                    rc = load_list(p, &d, v, ua_fields, &p->ua), seen |= 1;
                else if (strcmp(k, "os_parsers") == 0)
                    rc = load_list(p, &d, v, os_fields, &p->os), seen |= 2;
                else if (strcmp(k, "device_parsers") == 0)
                    rc = load_list(p, &d, v, dev_fields, &p->device), seen |= 4;
            }
            if (rc == 0 && seen != 7) rc = -EINVAL;
        }
        yaml_document_delete(&d);
    }
    yaml_parser_delete(&ps);
    fclose(f);
    return rc;
}

/* ---- useragents.tsv ----------------------------------------------------- */

/* "proxy-view" is a proxy whose operator documents that it fetches only when
 * its user views the message (never as mail arrives): class proxy with
 * *view_only set. */
static int class_parse(const char *s, uint8_t *view_only)
{
    static const char *names[] = {"",         "browser", "mail", "proxy",
                                  "prefetch", "scanner", "tool", "bot"};
    *view_only = strcmp(s, "proxy-view") == 0;
    if (*view_only) return HOMING_UA_CLASS_PROXY;
    for (int i = 1; i < 8; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -EINVAL;
}

static int type_parse(const char *s)
{
    if (strcmp(s, "-") == 0) return HOMING_DEVICE_UNKNOWN;
    for (unsigned i = 1; i <= HOMING_DEVICE_BOT; i++)
        if (strcmp(s, homing_device_type_name(i)) == 0) return (int)i;
    return -EINVAL;
}

/* A rules line is a regex and a few short columns; the file at most that many. */
#define UA_RULES_LINE_MAX (HOMING_UA_REGEX_MAX + 1024)
#define UA_RULES_FILE_MAX ((size_t)HOMING_UA_RULES_MAX * UA_RULES_LINE_MAX)

/* Columns: class, family, type, regex, source. '#' starts a comment line. */
static int load_rules(struct homing_ua_parser *p, const char *path)
{
    struct homing_buf text;
    int rc = homing_file_read(path, UA_RULES_FILE_MAX, &text);
    if (rc < 0) return rc;
    struct homing_lines lines;
    homing_lines_init(&lines, text.data, text.len, UA_RULES_LINE_MAX, HOMING_LINES_SKIP);
    char *line;
    while (rc == 0 && (rc = homing_lines_next(&lines, &line, NULL)) > 0) {
        rc = 0;
        char *col[5];
        int nc = reader_split_tabs(line, col, 5);
        if (nc < 4 || p->rules.n >= HOMING_UA_RULES_MAX) {
            rc = nc < 4 ? -EINVAL : -E2BIG;
            break;
        }
        uint8_t view_only;
        int cl = class_parse(col[0], &view_only), ty = type_parse(col[2]);
        if (cl < 0 || ty < 0 || !col[1][0] || strlen(col[1]) >= HOMING_UA_FIELD_MAX) {
            rc = -EINVAL;
            break;
        }
        struct ua_regex r = {.ua_class = (uint8_t)cl, .type = (uint8_t)ty, .view_only = view_only};
        r.repl[F_FAMILY] = strdup(col[1]);
        if (!r.repl[F_FAMILY]) rc = -ENOMEM;
        if (rc == 0) rc = compile(p, col[3], strlen(col[3]), 0, &r.re);
        if (rc == 0) rc = list_push(&p->rules, &r);
        if (rc < 0) regex_clear(&r);
    }
    homing_buf_free(&text);
    return rc;
}

/* ---- matching ----------------------------------------------------------- */

/* Copies capture group g (1-based) or "" into dst. */
static void group(const char *s, const PCRE2_SIZE *ov, int rc, int g, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (g >= rc || ov[2 * g] == PCRE2_UNSET) return;
    size_t n = ov[2 * g + 1] - ov[2 * g];
    if (n >= cap) n = cap - 1;
    memcpy(dst, s + ov[2 * g], n);
    dst[n] = '\0';
}

/* Expands $1..$9 of tmpl with the groups, trimmed, into dst. */
static void expand(const char *tmpl, const char *s, const PCRE2_SIZE *ov, int rc, char *dst,
                   size_t cap)
{
    size_t o = 0;
    for (const char *t = tmpl; *t && o + 1 < cap; t++) {
        if (t[0] == '$' && t[1] >= '1' && t[1] <= '9') {
            int g = t[1] - '0';
            t++;
            if (g < rc && ov[2 * g] != PCRE2_UNSET) {
                size_t n = ov[2 * g + 1] - ov[2 * g];
                if (n > cap - 1 - o) n = cap - 1 - o;
                memcpy(dst + o, s + ov[2 * g], n);
                o += n;
            }
        } else {
            dst[o++] = *t;
        }
    }
    dst[o] = '\0';
    /* Replacements such as "$1 $2" leave blanks when a group is unset. */
    while (o && dst[o - 1] == ' ') dst[--o] = '\0';
    size_t lead = strspn(dst, " ");
    if (lead) memmove(dst, dst + lead, o - lead + 1);
}

/* Fills field slot from its replacement, else from capture group g. */
static void field(const struct ua_regex *r, int slot, int g, const char *s, const PCRE2_SIZE *ov,
                  int rc, char *dst, size_t cap)
{
    if (r->repl[slot])
        expand(r->repl[slot], s, ov, rc, dst, cap);
    else
        group(s, ov, rc, g, dst, cap);
}

/* Index of the first regex of l matching s, or -1; rc gets pcre2_match's. */
static long first_match(struct homing_ua_parser *p, const struct ua_list *l, const char *s,
                        size_t n, int *rc)
{
    for (size_t i = 0; i < l->n; i++) {
        int r = pcre2_match(l->v[i].re, (PCRE2_SPTR)s, n, 0, 0, p->md, p->mc);
        if (r >= 0) {
            /* 0 means the ovector was too small: every group past it is unset. */
            *rc = r == 0 ? UA_OVECTOR_MAX : r;
            return (long)i;
        }
        /* Match limits or other errors count as no match: never fail a parse. */
    }
    return -1;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static uint8_t derive_type(const struct homing_ua *u, const char *s, size_t n)
{
    if (strcmp(u->device, "Spider") == 0) return HOMING_DEVICE_BOT;
    if (strcmp(u->os, "iOS") == 0 || strcmp(u->os, "iPadOS") == 0)
        return strstr(u->device, "iPad") ? HOMING_DEVICE_TABLET : HOMING_DEVICE_MOBILE;
    if (strcmp(u->os, "Android") == 0)
        return memmem(s, n, "Mobile", 6) ? HOMING_DEVICE_MOBILE : HOMING_DEVICE_TABLET;
    if (strstr(u->device, "Tablet")) return HOMING_DEVICE_TABLET;
    if (strstr(u->device, "Smartphone") || strstr(u->device, "Feature Phone"))
        return HOMING_DEVICE_MOBILE;
    if (starts(u->os, "Windows Phone")) return HOMING_DEVICE_MOBILE;
    static const char *desktops[] = {"Windows", "Mac OS X", "macOS",  "Linux",
                                     "Ubuntu",  "Fedora",   "Debian", "Chrome OS",
                                     "FreeBSD", "OpenBSD",  "NetBSD", NULL};
    for (int i = 0; desktops[i]; i++)
        if (starts(u->os, desktops[i])) return HOMING_DEVICE_DESKTOP;
    return HOMING_DEVICE_UNKNOWN;
}

/* uap-core names a few mail clients and both provider proxies itself (its
 * regexes.yaml, sections "Outlook", "Thunderbird", "Apple Mail", "Gmail",
 * "Yahoo"): those families keep their meaning when homing's rules are off or
 * miss a variant. */
static const struct {
    const char *family;
    uint8_t ua_class, type;
} uap_families[] = {
    {"GmailImageProxy", HOMING_UA_CLASS_PROXY, HOMING_DEVICE_PROXY},
    {"YahooMailProxy", HOMING_UA_CLASS_PROXY, HOMING_DEVICE_PROXY},
    {"Outlook", HOMING_UA_CLASS_MAIL, 0},
    {"Windows Live Mail", HOMING_UA_CLASS_MAIL, 0},
    {"Thunderbird", HOMING_UA_CLASS_MAIL, 0},
    {"Apple Mail", HOMING_UA_CLASS_MAIL, 0},
    {"Airmail", HOMING_UA_CLASS_MAIL, 0},
    {"Postbox", HOMING_UA_CLASS_MAIL, 0},
    {"Lotus Notes", HOMING_UA_CLASS_MAIL, 0},
    {"Superhuman", HOMING_UA_CLASS_MAIL, 0},
    {"Barca", HOMING_UA_CLASS_MAIL, 0},
};

/* uap-core names crawlers, link-preview fetchers and headless engines as
 * families of their own, often with a browser's device ("Other", not
 * "Spider"): a family is a browser unless its name says it is automation.
 * Case-sensitive, so a phone named "CUBOT" stays a browser (issue #16). */
static int ua_family_automated(const char *family)
{
    static const char *const marks[] = {"bot",     "Bot",      "crawler",  "Crawler", "spider",
                                        "Spider",  "Headless", "headless", "Preview", "preview",
                                        "Monitor", "Scraper",  NULL};
    for (int i = 0; marks[i]; i++) {
        const char *p = strstr(family, marks[i]);
        /* "bot"/"Bot" ends a word: Googlebot, AhrefsBot; not "Bottle" */
        if (p && (i > 1 || !isalpha((unsigned char)p[strlen(marks[i])]))) return 1;
    }
    return 0;
}

/* Does generic rule g match s? On a match, [*a, *z) is the matched text. */
static int gen_match(struct homing_ua_parser *p, int g, const char *s, size_t n, size_t *a,
                     size_t *z)
{
    if (pcre2_match(p->generic[g], (PCRE2_SPTR)s, n, 0, 0, p->md, p->mc) < 0) return 0;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    *a = ov[0];
    *z = ov[1];
    return 1;
}

/* Only "Mozilla/N.N" and nothing else: the bare User-Agent of Apple's Mail
 * Privacy Protection fetches, which the verdict judges by itself (ua-bare). */
static int ua_compat_only(const char *s, size_t n)
{
    while (n && s[n - 1] == ' ') n--;
    if (n < 9 || memcmp(s, "Mozilla/", 8) != 0) return 0;
    for (size_t i = 8; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && s[i] != '.') return 0;
    return 1;
}

/* Does the User-Agent name a product of its own, not only "Mozilla/N.N
 * (comment)"? An app's own HTTP stack names the app ("App/2.1 (...)",
 * "CFNetwork/...", "Dalvik/..."); the compatibility token "Mozilla/" with a
 * platform and nothing after it is a browser's string cut short, which no
 * browser sends (it always adds its engine) and scripts copy. */
static int ua_own_product(const char *s, size_t n)
{
    if (n < 8 || memcmp(s, "Mozilla/", 8) != 0) return 1;
    const char *close = memchr(s, ')', n);
    return close && memchr(close, '/', n - (size_t)(close - s)) != NULL;
}

/* The generic rules (see UA_GEN_BOT_RE and after) on what homing's rules did
 * not name and uap-core called a browser or did not know. */
static void ua_generic(struct homing_ua_parser *p, const char *s, size_t n, struct homing_ua *u)
{
    /* uap-core's mail families (uap_families) are its guesses from an
     * engine's shape ("AppleWebKit/... (KHTML, like Gecko)" without Safari is
     * its Apple Mail): automation naming itself there is still automation
     * (rules version 6). */
    if (u->from_rules ||
        (u->ua_class != HOMING_UA_CLASS_BROWSER && u->ua_class != HOMING_UA_CLASS_NONE &&
         u->ua_class != HOMING_UA_CLASS_MAIL))
        return;
    size_t a, z;
    uint8_t cl = 0;
    if (gen_match(p, UA_GEN_TOOL, s, n, &a, &z))
        cl = HOMING_UA_CLASS_TOOL;
    else if (gen_match(p, UA_GEN_BOT, s, n, &a, &z))
        cl = HOMING_UA_CLASS_BOT;
    if (cl) {
        u->ua_class = cl;
        if (strcmp(u->family, "Other") == 0) {
            /* the product token around the match, as the bot list does */
            while (a > 0 && (isalnum((unsigned char)s[a - 1]) || s[a - 1] == '-')) a--;
            while (z < n && (isalnum((unsigned char)s[z]) || s[z] == '-')) z++;
            while (a < z && !isalnum((unsigned char)s[a])) a++;
            if (z > a) homing_str_sanitize(u->family, sizeof u->family, s + a, z - a);
        }
        return;
    }
    if (u->ua_class != HOMING_UA_CLASS_NONE) return;
    if (gen_match(p, UA_GEN_MAIL, s, n, &a, &z)) {
        /* a mail program naming itself (UA_GEN_MAIL_RE) */
        u->ua_class = HOMING_UA_CLASS_MAIL;
        return;
    }
    int engine = gen_match(p, UA_GEN_ENGINE, s, n, &a, &z);
    /* uap-core's os_parsers naming an OS count as a platform too */
    int platform = strcmp(u->os, "Other") != 0 || gen_match(p, UA_GEN_PLATFORM, s, n, &a, &z);
    if (engine && platform) {
        /* A browser engine on a real platform that uap-core has no family
         * for: TV, console and car browsers, apps' web views. */
        u->ua_class = HOMING_UA_CLASS_BROWSER;
    } else if (!engine && ua_own_product(s, n) && gen_match(p, UA_GEN_DEVICE, s, n, &a, &z)) {
        /* An app's own HTTP stack on a person's device (UA_GEN_DEVICE_RE):
         * decided as a browser, with reason ua-app. A bare "Mozilla/5.0
         * (Windows NT 10.0; Win64; x64)" names no app: it stays unknown. */
        u->ua_class = HOMING_UA_CLASS_BROWSER;
        u->app = 1;
    } else if (n && !engine && !platform && !ua_compat_only(s, n)) {
        /* No browser engine and no platform: no browser or web view sent it
         * (a person's click always opens one, and every browser names its
         * platform, even in the "compatible" form of MSIE); the verdict says
         * probe. "Mozilla/5.0 (compatible; Name/1.0)" is the crawlers' form
         * (Bing's "Mozilla/5.0 (compatible; bingbot/2.0; +URL)"). */
        u->no_browser = 1;
    }
}

static void parse_uncached(struct homing_ua_parser *p, const char *s, size_t n, struct homing_ua *u)
{
    memset(u, 0, sizeof *u);
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    int rc;
    long i;
    const struct ua_regex *rule = NULL;
    uint8_t forced_type = 0;

    /* OS and device first: they hold no pointer into the match data that a
     * later match would overwrite (all fields are copied out right away). */
    if ((i = first_match(p, &p->os, s, n, &rc)) >= 0) {
        const struct ua_regex *r = &p->os.v[i];
        field(r, F_FAMILY, 1, s, ov, rc, u->os, sizeof u->os);
        field(r, F_V1, 2, s, ov, rc, u->os_major, sizeof u->os_major);
    }
    if ((i = first_match(p, &p->device, s, n, &rc)) >= 0)
        field(&p->device.v[i], F_FAMILY, 1, s, ov, rc, u->device, sizeof u->device);

    if ((i = first_match(p, &p->rules, s, n, &rc)) >= 0) {
        rule = &p->rules.v[i];
        expand(rule->repl[F_FAMILY], s, ov, rc, u->family, sizeof u->family);
        group(s, ov, rc, 1, u->major, sizeof u->major);
        group(s, ov, rc, 2, u->minor, sizeof u->minor);
        group(s, ov, rc, 3, u->patch, sizeof u->patch);
        u->ua_class = rule->ua_class;
        u->view_only = rule->view_only;
        u->from_rules = 1;
    } else if ((i = first_match(p, &p->ua, s, n, &rc)) >= 0) {
        const struct ua_regex *r = &p->ua.v[i];
        field(r, F_FAMILY, 1, s, ov, rc, u->family, sizeof u->family);
        field(r, F_V1, 2, s, ov, rc, u->major, sizeof u->major);
        field(r, F_V2, 3, s, ov, rc, u->minor, sizeof u->minor);
        field(r, F_V3, 4, s, ov, rc, u->patch, sizeof u->patch);
        u->ua_class = HOMING_UA_CLASS_BROWSER;
        for (size_t k = 0; k < sizeof uap_families / sizeof uap_families[0]; k++) {
            if (strcmp(u->family, uap_families[k].family) != 0) continue;
            u->ua_class = uap_families[k].ua_class;
            forced_type = uap_families[k].type;
        }
    }
    if (!u->family[0]) {
        homing_strlcpy(u->family, "Other", sizeof u->family);
        u->ua_class = HOMING_UA_CLASS_NONE;
    }
    if (!u->os[0]) homing_strlcpy(u->os, "Other", sizeof u->os);
    if (!u->device[0]) homing_strlcpy(u->device, "Other", sizeof u->device);
    if (!u->from_rules && (strcmp(u->device, "Spider") == 0 || ua_family_automated(u->family)))
        u->ua_class = HOMING_UA_CLASS_BOT;
    /* What uap-core calls a browser, or does not know, may still be on a
     * published list of automation: then it is a bot, named by uap-core if it
     * knows it. */
    if (!u->from_rules &&
        (u->ua_class == HOMING_UA_CLASS_BROWSER || u->ua_class == HOMING_UA_CLASS_NONE)) {
        for (size_t b = 0; b < p->nbots; b++) {
            int r = pcre2_match(p->bots[b], (PCRE2_SPTR)s, n, 0, 0, p->md, p->mc);
            if (r < 0) continue;
            u->ua_class = HOMING_UA_CLASS_BOT;
            if (strcmp(u->family, "Other") == 0) {
                /* the matched token, without the separators around it */
                PCRE2_SIZE a = ov[0], z = ov[1];
                while (a < z && !isalnum((unsigned char)s[a])) a++;
                while (z > a && !isalnum((unsigned char)s[z - 1])) z--;
                if (z > a) homing_str_sanitize(u->family, sizeof u->family, s + a, z - a);
            }
            break;
        }
    }
    ua_generic(p, s, n, u);
    if (rule && rule->type) forced_type = rule->type;
    u->type = forced_type ? forced_type : derive_type(u, s, n);
}

/* ---- cache -------------------------------------------------------------- */

static void lru_unlink(struct homing_ua_parser *p, struct ua_cache_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        p->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        p->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct homing_ua_parser *p, struct ua_cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = p->lru_head;
    if (p->lru_head) p->lru_head->lru_prev = e;
    p->lru_head = e;
    if (!p->lru_tail) p->lru_tail = e;
}

static void bucket_remove(struct homing_ua_parser *p, struct ua_cache_entry *e)
{
    struct ua_cache_entry **pp = &p->buckets[e->hash & (p->nbuckets - 1)];
    while (*pp && *pp != e) pp = &(*pp)->next_in_bucket;
    if (*pp) *pp = e->next_in_bucket;
}

int homing_ua_parse(struct homing_ua_parser *p, const char *ua, size_t n, struct homing_ua *out)
{
    if (!p || !out || (!ua && n)) return -EINVAL;
    if (n > HOMING_UA_MAX - 1) n = HOMING_UA_MAX - 1;
    const char *nul = ua ? memchr(ua, '\0', n) : NULL;
    if (nul) n = (size_t)(nul - ua);
    if (!ua) ua = "";

    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)ua, n, p->key);
    p->lookups++;
    struct ua_cache_entry *e = p->buckets[h & (p->nbuckets - 1)];
    for (; e; e = e->next_in_bucket)
        if (e->hash == h && e->klen == n && memcmp(e->key, ua, n) == 0) break;
    if (e) {
        p->hits++;
        lru_unlink(p, e);
        lru_push_front(p, e);
        *out = e->val;
        return 0;
    }

    struct homing_ua val;
    parse_uncached(p, ua, n, &val);

    char *key = malloc(n + 1);
    if (key) {
        memcpy(key, ua, n);
        key[n] = '\0';
        if (p->used < p->cap) {
            e = &p->entries[p->used++];
        } else {
            e = p->lru_tail; /* evict the least recently used */
            lru_unlink(p, e);
            bucket_remove(p, e);
            free(e->key);
        }
        e->key = key;
        e->klen = n;
        e->hash = h;
        e->val = val;
        size_t b = h & (p->nbuckets - 1);
        e->next_in_bucket = p->buckets[b];
        p->buckets[b] = e;
        lru_push_front(p, e);
    }
    /* Out of memory for the cache entry is not a parse failure. */
    *out = val;
    return 0;
}

/* ---- lifetime ----------------------------------------------------------- */

int homing_ua_parser_new(const char *uap_yaml, const char *rules_tsv, size_t cache_size,
                         struct homing_ua_parser **out)
{
    if (cache_size == 0) cache_size = HOMING_UA_CACHE_DEFAULT;
    if (cache_size > HOMING_UA_CACHE_MAX) return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    struct homing_ua_parser *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    randombytes_buf(p->key, sizeof p->key);
    p->cap = cache_size;
    p->nbuckets = 1;
    while (p->nbuckets < cache_size) p->nbuckets <<= 1;
    p->entries = calloc(p->cap, sizeof *p->entries);
    p->buckets = calloc(p->nbuckets, sizeof *p->buckets);
    p->md = pcre2_match_data_create(UA_OVECTOR_MAX, NULL);
    p->mc = pcre2_match_context_create(NULL);
    int rc = (p->entries && p->buckets && p->md && p->mc) ? 0 : -ENOMEM;
    if (rc == 0) pcre2_set_match_limit(p->mc, UA_MATCH_LIMIT);

    char def[4096];
    if (rc == 0 && !rules_tsv) {
        rc = reader_data_path("useragents.tsv", def, sizeof def);
        rules_tsv = def;
    }
    if (rc == 0 && rules_tsv[0]) rc = load_rules(p, rules_tsv);
    if (rc == 0) rc = load_yaml(p, uap_yaml ? uap_yaml : HOMING_UAP_REGEXES_DEFAULT);
    static const char *const generic[UA_GENERIC_COUNT] = {UA_GEN_BOT_RE,    UA_GEN_TOOL_RE,
                                                          UA_GEN_ENGINE_RE, UA_GEN_PLATFORM_RE,
                                                          UA_GEN_MAIL_RE,   UA_GEN_DEVICE_RE};
    size_t jit = p->jit; /* the stats count the loaded files' regexes only */
    for (int g = 0; rc == 0 && g < UA_GENERIC_COUNT; g++)
        rc = compile(p, generic[g], strlen(generic[g]), 0, &p->generic[g]);
    p->jit = jit;
    if (rc < 0) {
        homing_ua_parser_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void homing_ua_parser_free(struct homing_ua_parser *p)
{
    if (!p) return;
    list_free(&p->rules);
    list_free(&p->ua);
    list_free(&p->os);
    list_free(&p->device);
    for (size_t i = 0; i < p->nbots; i++) pcre2_code_free(p->bots[i]);
    free(p->bots);
    for (int g = 0; g < UA_GENERIC_COUNT; g++) pcre2_code_free(p->generic[g]);
    pcre2_match_data_free(p->md);
    pcre2_match_context_free(p->mc);
    for (size_t i = 0; i < p->used; i++) free(p->entries[i].key);
    free(p->entries);
    free(p->buckets);
    free(p);
}

/* ---- published automation patterns -------------------------------------- */

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void homing_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

/* A pattern that is exactly an Android build ID, the dotted form Android
 * documents since 8.0 ("Codenames, tags, and build numbers",
 * source.android.com: AP3A.240617.008 is a platform release, a date, a build
 * number), with its dots escaped or not. The published crawler list has one
 * such entry (a device's build, knownagents.com); it matches every browser
 * and web view of those phones, which send it in their "Build/" token. */
static int ua_android_build_id(const char *s, size_t n)
{
    static const int width[] = {4, 6, 3}; /* platform (alphanumeric), date, build */
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        if (part) {
            if (i < n && s[i] == '\\') i++;
            if (i >= n || s[i] != '.') return 0;
            i++;
        }
        for (int k = 0; k < width[part]; k++, i++) {
            if (i >= n) return 0;
            char c = s[i];
            int ok = (c >= '0' && c <= '9') || (part == 0 && c >= 'A' && c <= 'Z');
            if (!ok) return 0;
        }
    }
    return i == n;
}

int homing_ua_bots_read(const char *path, char ***out, size_t *n)
{
    if (!path || !out || !n) return -EINVAL;
    struct homing_buf text;
    int rc = homing_file_read(path, HOMING_PUBLISHED_FILE_MAX, &text);
    if (rc < 0) return rc;
    json_t *root = json_loadb(text.data, text.len, 0, NULL);
    homing_buf_free(&text);
    if (!json_is_array(root) || json_array_size(root) > HOMING_UA_BOTS_MAX) {
        json_decref(root);
        return -EINVAL;
    }
    size_t cnt = json_array_size(root);
    char **v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) rc = -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < cnt; i++) {
        json_t *pat = json_object_get(json_array_get(root, i), "pattern");
        const char *ps = json_string_value(pat);
        size_t pl = ps ? json_string_length(pat) : 0;
        int errcode;
        PCRE2_SIZE erroff;
        pcre2_code *re = NULL;
        if (!ps || pl == 0 || pl > HOMING_UA_REGEX_MAX || memchr(ps, 0, pl) ||
            !(re = pcre2_compile((PCRE2_SPTR)ps, pl, 0, &errcode, &erroff, NULL))) {
            rc = -EINVAL;
            break;
        }
        pcre2_code_free(re);
        if (ua_android_build_id(ps, pl)) continue;
        if (!(v[k] = strdup(ps)))
            rc = -ENOMEM;
        else
            k++;
    }
    json_decref(root);
    if (rc < 0) {
        homing_strv_free(v, k);
        return rc;
    }
    if (k) qsort(v, k, sizeof *v, strp_cmp);
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (w && strcmp(v[w - 1], v[i]) == 0) {
            free(v[i]);
            continue;
        }
        v[w++] = v[i];
    }
    *out = v;
    *n = w;
    return 0;
}

int homing_ua_parser_load_bots(struct homing_ua_parser *p, const char *path)
{
    if (!p || !path) return -EINVAL;
    char **v;
    size_t n;
    int rc = homing_ua_bots_read(path, &v, &n);
    if (rc < 0) return rc;
    size_t chunks = (n + HOMING_UA_BOTS_CHUNK - 1) / HOMING_UA_BOTS_CHUNK;
    pcre2_code **bots = calloc(chunks ? chunks : 1, sizeof *bots);
    struct homing_buf alt;
    homing_buf_init(&alt, (size_t)HOMING_UA_BOTS_CHUNK * (HOMING_UA_REGEX_MAX + 8));
    if (!bots) rc = -ENOMEM;
    /* One alternation per chunk: a single one of every pattern would pass
     * PCRE2's compiled size limit; one regex per pattern costs a match each. */
    for (size_t c = 0; rc == 0 && c < chunks; c++) {
        alt.len = 0;
        for (size_t i = c * HOMING_UA_BOTS_CHUNK;
             rc == 0 && i < n && i < (c + 1) * HOMING_UA_BOTS_CHUNK; i++) {
            if (i > c * HOMING_UA_BOTS_CHUNK) rc = homing_buf_append(&alt, "|", 1);
            if (rc == 0) rc = homing_buf_append(&alt, "(?:", 3);
            if (rc == 0) rc = homing_buf_append(&alt, v[i], strlen(v[i]));
            if (rc == 0) rc = homing_buf_append(&alt, ")", 1);
        }
        int errcode;
        PCRE2_SIZE erroff;
        if (rc == 0 &&
            !(bots[c] = pcre2_compile((PCRE2_SPTR)alt.data, alt.len, 0, &errcode, &erroff, NULL)))
            rc = -EINVAL;
        if (rc == 0 && pcre2_jit_compile(bots[c], PCRE2_JIT_COMPLETE) == 0) p->jit++;
    }
    homing_buf_free(&alt);
    homing_strv_free(v, n);
    if (rc < 0) {
        for (size_t c = 0; bots && c < chunks; c++) pcre2_code_free(bots[c]);
        free(bots);
        return rc;
    }
    for (size_t i = 0; i < p->nbots; i++) pcre2_code_free(p->bots[i]);
    free(p->bots);
    p->bots = bots;
    p->nbots = chunks;
    return 0;
}

void homing_ua_parser_stats(const struct homing_ua_parser *p, struct homing_ua_stats *out)
{
    memset(out, 0, sizeof *out);
    out->ua_regexes = p->ua.n;
    out->os_regexes = p->os.n;
    out->device_regexes = p->device.n;
    out->rules = p->rules.n;
    out->jit = p->jit;
    out->lookups = p->lookups;
    out->hits = p->hits;
    out->cached = p->used;
}

const char *homing_device_type_name(unsigned type)
{
    static const char *names[] = {"unknown", "desktop", "mobile", "tablet", "proxy", "bot"};
    return type <= HOMING_DEVICE_BOT ? names[type] : "unknown";
}

const char *homing_ua_class_name(unsigned c)
{
    static const char *names[] = {"none",     "browser", "mail", "proxy",
                                  "prefetch", "scanner", "tool", "bot"};
    return c <= HOMING_UA_CLASS_BOT ? names[c] : "none";
}
