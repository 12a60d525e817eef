/*
 * trace.c: `homing trace FILE`: header forensics of one message, for people
 * (text) or programs (--json). All analysis is in libhoming (homing/trace.h);
 * this file reads options, picks the resolver and renders the JSON document
 * as text.
 *
 * Contract: exit 0 after printing the analysis, 2 after one line on stderr
 * for bad usage or input. Attacker text is sanitised before it reaches the
 * terminal in text mode; JSON output is escaped by jansson.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "homing/trace.h"
#include "homing/util.h"

static const char usage_text[] =
    "usage: homing trace [OPTIONS] FILE\n"
    "\n"
    "Reads a message's headers forensically: the Received chain as hops with\n"
    "signed delays, the connecting address seen by your trusted boundary,\n"
    "Authentication-Results from your own authserv-id, SPF, DKIM and DMARC\n"
    "re-verified now beside the verdict at delivery, and spoofing indicators.\n"
    "FILE is a message (RFC 5322); '-' reads standard input.\n"
    "\n"
    "Options:\n"
    "  --trusted-host NAME  a host of yours that writes Received fields\n"
    "                       (repeatable; '.example.org' = any host below,\n"
    "                       '2002::/16' = hops named by an address in it; adds\n"
    "                       to trace.trusted_hosts of the configuration)\n"
    "  --authserv-id ID     believe Authentication-Results from ID (repeatable;\n"
    "                       adds to trace.authserv_ids)\n"
    "  --offline            do not re-verify SPF, DKIM and DMARC (no DNS)\n"
    "  --dns-zone FILE      answer DNS from FILE ('name TYPE data' lines)\n"
    "                       instead of the system resolver\n"
    "  --dns-budget SECONDS time all DNS of the message may take (default 3,\n"
    "                       trace.dns_budget_ms); unanswered lookups are temperror\n"
    "  --dnsbl-zone ZONE    ask DNS blocklist ZONE about the boundary's connecting\n"
    "                       address (repeatable; adds to trace.dnsbl_zones)\n"
    "  --date-skew SECONDS  flag a Date further than this from the first hop\n"
    "                       (default 86400)\n"
    "  --dkim-verifier NAME which code re-verifies DKIM: 'homing' (the default,\n"
    "                       ours on libcrypto) or 'opendkim' (OpenDKIM's library,\n"
    "                       slower per key; overrides trace.dkim_verifier)\n"
    "  --json               print the analysis as JSON\n"
    "  --iocs               print only the message's indicators: URLs, domains, IP\n"
    "                       and e-mail addresses, attachments with size and SHA-256\n"
    "                       (with --json as JSON; no DNS)\n"
    "  --defang             with --iocs: hxxp://, example[.]com\n"
    "  --html FILE          also write a self-contained report page to FILE\n"
    "  -h, --help           this help\n";

#define TRACE_TEXT_MAX  1024
#define TRACE_TEXT_RING 8 /* escaped values one printf may use at once */

/* How trace shows message text: every non-ASCII character escaped whatever
 * the locale, so a look-alike letter reads "p\u0430ypal.com" and not as the
 * "paypal.com" it imitates (issue 15; a replacement '?' hid it), and marked in
 * colour on a terminal (not with NO_COLOR set or TERM=dumb). The JSON keeps
 * the characters (as \u escapes). */
static unsigned trace_escape_flags(void)
{
    static int flags = -1;
    if (flags >= 0) return (unsigned)flags;
    unsigned f = cli_escape_flags() & ~HOMING_ESCAPE_UTF8;
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (isatty(STDOUT_FILENO) && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0))
        f |= HOMING_ESCAPE_MARK;
    flags = (int)f;
    return f;
}

static void clean(char *dst, size_t cap, const char *s)
{
    homing_str_escape(dst, cap, s, strlen(s), trace_escape_flags());
}

static void put(const char *label, json_t *v)
{
    char buf[TRACE_TEXT_MAX];
    const char *s = json_string_value(v);
    if (!s) return;
    clean(buf, sizeof buf, s);
    printf("  %-18s %s\n", label, buf);
}

/* The string k of o escaped for the terminal ("-" if absent), in one of
 * TRACE_TEXT_RING buffers used in turn. */
static const char *str(json_t *o, const char *k)
{
    static char ring[TRACE_TEXT_RING][TRACE_TEXT_MAX];
    static unsigned next;
    const char *s = json_string_value(json_object_get(o, k));
    if (!s) return "-";
    char *b = ring[next++ % TRACE_TEXT_RING];
    clean(b, TRACE_TEXT_MAX, s);
    return b;
}

static void print_text(json_t *root)
{
    char a[TRACE_TEXT_MAX], b[TRACE_TEXT_MAX], c[TRACE_TEXT_MAX], d[TRACE_TEXT_MAX];
    size_t i;
    json_t *h;
    printf("Hops (oldest first):\n");
    json_array_foreach(json_object_get(root, "hops"), i, h)
    {
        if (json_is_false(json_object_get(h, "parsed"))) {
            printf("  %zu. (unparsable Received field)\n", i + 1);
            continue;
        }
        homing_strlcpy(a, str(h, "from_helo"), sizeof a);
        homing_strlcpy(b, str(h, "from_ip"), sizeof b);
        homing_strlcpy(c, str(h, "by"), sizeof c);
        homing_strlcpy(d, str(h, "protocol"), sizeof d);
        printf("  %zu. %s [%s] -> %s  with %s%s%s\n", i + 1, a, b, c, d,
               json_is_true(json_object_get(json_object_get(h, "tls"), "used")) ? ", TLS" : "",
               json_is_true(json_object_get(h, "boundary"))  ? "  <- trusted boundary"
               : json_is_true(json_object_get(h, "trusted")) ? "  (trusted)"
                                                             : "");
        json_t *tls = json_object_get(h, "tls");
        if (json_string_value(json_object_get(tls, "version")) ||
            json_string_value(json_object_get(tls, "cipher"))) {
            homing_strlcpy(a, str(tls, "version"), sizeof a);
            homing_strlcpy(b, str(tls, "cipher"), sizeof b);
            printf("     tls %s %s\n", a, b);
        }
        json_t *delay = json_object_get(h, "delay_to_next_s");
        printf("     at %s", str(h, "time"));
        if (json_is_integer(delay)) {
            long long dl = (long long)json_integer_value(delay);
            printf(", %+lld s to the next hop%s", dl, dl < 0 ? " (clock skew)" : "");
        }
        printf("\n");
    }
    json_t *bnd = json_object_get(root, "boundary");
    printf("\nTrusted boundary:\n");
    if (json_is_integer(json_object_get(bnd, "hop"))) {
        printf("  hop %lld by %s\n", (long long)json_integer_value(json_object_get(bnd, "hop")),
               str(bnd, "by"));
        put("connecting ip", json_object_get(bnd, "connecting_ip"));
        put("connecting rdns", json_object_get(bnd, "connecting_rdns"));
        put("connecting helo", json_object_get(bnd, "connecting_helo"));
        put("originating ip", json_object_get(bnd, "originating_ip"));
    } else {
        put("none", json_object_get(bnd, "note"));
    }
    put("claimed origin", json_object_get(root, "claimed_origin_ip_untrusted"));

    printf("\nAuthentication-Results at delivery (trusted):\n");
    json_t *ar = json_object_get(root, "authentication_results");
    json_array_foreach(json_object_get(ar, "trusted"), i, h)
    {
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(h, "results"), k, r)
        {
            homing_strlcpy(a, str(r, "method"), sizeof a);
            homing_strlcpy(b, str(r, "result"), sizeof b);
            homing_strlcpy(c, str(h, "authserv_id"), sizeof c);
            printf("  %-8s %-10s (%s)\n", a, b, c);
        }
    }
    json_array_foreach(json_object_get(ar, "ignored"), i, h)
    {
        homing_strlcpy(a, str(h, "authserv_id"), sizeof a);
        printf("  ignored from %s: %s\n", a, str(h, "why"));
    }

    json_t *v = json_object_get(root, "verification");
    printf("\nVerified now:\n");
    if (json_string_value(json_object_get(v, "skipped"))) {
        printf("  skipped (%s)\n", str(v, "skipped"));
    } else {
        json_t *spf = json_object_get(v, "spf");
        printf("  spf      now %-10s at delivery %s\n", str(spf, "result"),
               str(spf, "at_delivery"));
        json_array_foreach(json_object_get(v, "dkim"), i, h)
        {
            homing_strlcpy(a, str(h, "d"), sizeof a);
            homing_strlcpy(b, str(h, "s"), sizeof b);
            printf("  dkim     now %-10s at delivery %s  d=%s s=%s %s\n", str(h, "result"),
                   str(h, "at_delivery"), a, b, str(h, "algorithm"));
            if (json_string_value(json_object_get(h, "difference")) &&
                strcmp(str(h, "difference"), "same") != 0)
                printf("           %s\n", str(h, "difference"));
        }
        json_t *arc = json_object_get(v, "arc");
        if (arc) {
            printf("  arc      now %-10s at delivery %s  (%lld sets)\n", str(arc, "cv"),
                   str(arc, "at_delivery"),
                   (long long)json_integer_value(json_object_get(arc, "sets")));
            if (json_string_value(json_object_get(arc, "reason")))
                printf("           %s\n", str(arc, "reason"));
            json_array_foreach(json_object_get(arc, "hops"), i, h)
            {
                json_t *seal = json_object_get(h, "seal"),
                       *ams = json_object_get(h, "message_signature");
                printf(
                    "           i=%lld sealed by d=%s s=%s cv=%s: seal %s, message signature %s\n",
                    (long long)json_integer_value(json_object_get(h, "instance")), str(seal, "d"),
                    str(seal, "s"), str(seal, "cv"), str(seal, "result"), str(ams, "result"));
                json_t *aar = json_object_get(h, "authentication_results");
                size_t k;
                json_t *r;
                json_array_foreach(json_object_get(aar, "results"), k, r)
                    printf("             %s saw %s=%s\n", str(aar, "authserv_id"), str(r, "method"),
                           str(r, "result"));
            }
        }
        json_t *dm = json_object_get(v, "dmarc");
        printf("  dmarc    now %-10s at delivery %s\n", str(dm, "result"), str(dm, "at_delivery"));
    }

    json_t *bl = json_object_get(root, "dnsbl");
    if (bl) {
        printf("\nDNS blocklists (%s):\n", str(bl, "address"));
        json_array_foreach(json_object_get(bl, "zones"), i, h)
        {
            printf("  %-28s %s", str(h, "zone"), str(h, "result"));
            size_t k;
            json_t *c;
            json_array_foreach(json_object_get(h, "codes"), k, c)
            {
                const char *cs = json_string_value(c);
                char cb[TRACE_TEXT_MAX];
                clean(cb, sizeof cb, cs ? cs : "");
                printf(" %s", cb);
            }
            printf("\n");
        }
    }

    json_t *vh = json_object_get(root, "vendor_headers");
    if (json_array_size(vh)) {
        printf("\nAnti-spam filters' fields (a field not marked trusted may be the sender's):\n");
        json_array_foreach(vh, i, h)
        {
            printf("  %-28s %-12s verdict %s%s\n", str(h, "field"), str(h, "vendor"),
                   str(h, "verdict"),
                   json_is_true(json_object_get(h, "trusted")) ? "  (trusted)" : "");
            const char *key;
            json_t *val;
            json_t *meaning = json_object_get(h, "meaning");
            json_object_foreach(json_object_get(h, "values"), key, val)
            {
                char kb[TRACE_TEXT_MAX];
                clean(kb, sizeof kb, key);
                const char *vs = json_string_value(val);
                char vb[TRACE_TEXT_MAX];
                clean(vb, sizeof vb, vs ? vs : "");
                const char *m = json_string_value(json_object_get(meaning, key));
                printf("      %s=%s%s%s\n", kb, vb, m ? "  " : "", m ? m : "");
            }
            size_t k;
            json_t *r;
            json_t *rules = json_object_get(h, "rules");
            if (json_array_size(rules)) {
                printf("      rules:");
                json_array_foreach(rules, k, r)
                {
                    const char *rs = json_string_value(r);
                    char rb[TRACE_TEXT_MAX];
                    clean(rb, sizeof rb, rs ? rs : "");
                    printf(" %s", rb);
                }
                printf("\n");
            }
        }
    }

    printf("\nIndicators:\n");
    json_t *ind = json_object_get(root, "indicators");
    if (json_array_size(ind) == 0) printf("  none\n");
    json_array_foreach(ind, i, h)
    {
        char det[TRACE_TEXT_MAX];
        homing_strlcpy(det, str(h, "detail"), sizeof det);
        printf("  [%s] %s: %s\n", str(h, "severity"), str(h, "kind"), det);
    }
    put("\nsending service", json_object_get(root, "sending_service"));
}

/* --iocs: one "kind value" line each (escaped for the terminal, defanged on
 * request), or the JSON object. */
static int print_iocs(json_t *io, int json, int defang)
{
    static const char *const kinds[] = {"urls", "domains", "ips", "emails"};
    static const char *const words[] = {"url", "domain", "ip", "email"};
    if (defang) {
        for (size_t k = 0; k < 4; k++) {
            json_t *arr = json_object_get(io, kinds[k]);
            for (size_t i = 0; i < json_array_size(arr); i++) {
                char d[HOMING_IOCS_DEFANG_MAX];
                homing_iocs_defang(json_string_value(json_array_get(arr, i)), d, sizeof d);
                json_array_set_new(arr, i, homing_json_text(d));
            }
        }
    }
    if (json) {
        char *s = homing_json_dumps(io, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        if (!s) return -ENOMEM;
        puts(s);
        free(s);
        return 0;
    }
    size_t i;
    json_t *v;
    for (size_t k = 0; k < 4; k++) json_array_foreach(json_object_get(io, kinds[k]), i, v)
        {
            char b[TRACE_TEXT_MAX];
            clean(b, sizeof b, json_string_value(v));
            printf("%-10s %s\n", words[k], b);
        }
    json_array_foreach(json_object_get(io, "attachments"), i, v)
        printf("%-10s %s  %lld bytes  sha256 %s  %s\n", "attachment", str(v, "name"),
               (long long)json_integer_value(json_object_get(v, "size")), str(v, "sha256"),
               str(v, "content_type"));
    return 0;
}

/* Splits a configured list (blanks or commas) into names, in place. */
static int split_list(char *s, const char **out, size_t *n)
{
    for (char *tok = strtok(s, " \t,"); tok; tok = strtok(NULL, " \t,")) {
        if (*n >= HOMING_TRACE_TRUSTED_MAX) return -E2BIG;
        out[(*n)++] = tok;
    }
    return 0;
}

int cmd_trace(struct cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage_text)) return CLI_OK;
    const char *trusted[HOMING_TRACE_TRUSTED_MAX], *ids[HOMING_TRACE_TRUSTED_MAX];
    const char *bl[HOMING_TRACE_DNSBL_ZONES_MAX];
    struct homing_trace_options o = {
        .trusted_hosts = trusted, .authserv_ids = ids, .dnsbl_zones = bl};
    /* The configuration is optional here: trace needs no store or keys. */
    char cfg_hosts[4096] = "", cfg_ids[4096] = "", cfg_bl[4096] = "";
    if (access(cli->config_path, R_OK) == 0) {
        if (cli_config(cli) < 0) return CLI_ERROR;
        const struct homing_settings *set = homing_config_settings(cli->config);
        homing_strlcpy(cfg_hosts, set->trace.trusted_hosts, sizeof cfg_hosts);
        homing_strlcpy(cfg_ids, set->trace.authserv_ids, sizeof cfg_ids);
        if (split_list(cfg_hosts, trusted, &o.n_trusted_hosts) < 0 ||
            split_list(cfg_ids, ids, &o.n_authserv_ids) < 0)
            return cli_fail("%s: too many names in trace.trusted_hosts or trace.authserv_ids",
                            cli->config_path);
        homing_strlcpy(cfg_bl, set->trace.dnsbl_zones, sizeof cfg_bl);
        size_t nbl = 0;
        for (char *tok = strtok(cfg_bl, " \t,"); tok; tok = strtok(NULL, " \t,")) {
            if (nbl >= HOMING_TRACE_DNSBL_ZONES_MAX)
                return cli_fail("%s: more than %d zones in trace.dnsbl_zones", cli->config_path,
                                HOMING_TRACE_DNSBL_ZONES_MAX);
            bl[nbl++] = tok;
        }
        o.n_dnsbl_zones = nbl;
        const char *dv = set->trace.dkim_verifier;
        enum homing_dkim_verifier v;
        if (homing_dkim_verifier_parse(dv, &v) < 0)
            return cli_fail("%s: trace.dkim_verifier must be homing or opendkim, not '%s'",
                            cli->config_path, dv);
        o.dkim_verifier = v;
        long long b = set->trace.dns_budget_ms;
        if (b > HOMING_TRACE_DNS_BUDGET_MAX_MS)
            return cli_fail("%s: trace.dns_budget_ms must be 1..%d", cli->config_path,
                            HOMING_TRACE_DNS_BUDGET_MAX_MS);
        o.dns_budget_ms = (int)b;
    }
    const char *file = NULL, *zone = NULL, *html = NULL;
    int json = 0, iocs = 0, defang = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--iocs") == 0) {
            iocs = 1;
        } else if (strcmp(a, "--defang") == 0) {
            defang = 1;
        } else if (strcmp(a, "--html") == 0) {
            if (++i >= argc) return cli_usage_error("trace", "--html needs a FILE");
            html = argv[i];
        } else if (strcmp(a, "--offline") == 0) {
            o.offline = 1;
        } else if (strcmp(a, "--trusted-host") == 0 || strcmp(a, "--authserv-id") == 0 ||
                   strcmp(a, "--dns-zone") == 0 || strcmp(a, "--date-skew") == 0 ||
                   strcmp(a, "--dkim-verifier") == 0 || strcmp(a, "--dns-budget") == 0 ||
                   strcmp(a, "--dnsbl-zone") == 0) {
            if (++i >= argc) return cli_usage_error("trace", "%s needs a value", a);
            if (strcmp(a, "--trusted-host") == 0) {
                if (o.n_trusted_hosts >= HOMING_TRACE_TRUSTED_MAX)
                    return cli_usage_error("trace", "too many --trusted-host");
                trusted[o.n_trusted_hosts++] = argv[i];
            } else if (strcmp(a, "--authserv-id") == 0) {
                if (o.n_authserv_ids >= HOMING_TRACE_TRUSTED_MAX)
                    return cli_usage_error("trace", "too many --authserv-id");
                ids[o.n_authserv_ids++] = argv[i];
            } else if (strcmp(a, "--dnsbl-zone") == 0) {
                if (o.n_dnsbl_zones >= HOMING_TRACE_DNSBL_ZONES_MAX)
                    return cli_usage_error("trace", "too many --dnsbl-zone (at most %d)",
                                           HOMING_TRACE_DNSBL_ZONES_MAX);
                bl[o.n_dnsbl_zones++] = argv[i];
            } else if (strcmp(a, "--dns-budget") == 0) {
                char *end;
                double sec = strtod(argv[i], &end);
                if (*end || !(sec > 0) || sec * 1000 > HOMING_TRACE_DNS_BUDGET_MAX_MS)
                    return cli_usage_error("trace", "bad --dns-budget '%s' (seconds, up to %d)",
                                           argv[i], HOMING_TRACE_DNS_BUDGET_MAX_MS / 1000);
                o.dns_budget_ms = (int)(sec * 1000 + 0.5);
                if (o.dns_budget_ms < 1) o.dns_budget_ms = 1;
            } else if (strcmp(a, "--dns-zone") == 0) {
                zone = argv[i];
            } else if (strcmp(a, "--dkim-verifier") == 0) {
                enum homing_dkim_verifier v;
                if (!*argv[i] || homing_dkim_verifier_parse(argv[i], &v) < 0)
                    return cli_usage_error("trace", "bad --dkim-verifier '%s' (homing or opendkim)",
                                           argv[i]);
                o.dkim_verifier = v;
            } else {
                char *end;
                long long v = strtoll(argv[i], &end, 10);
                if (*end || v <= 0)
                    return cli_usage_error("trace", "bad --date-skew '%s'", argv[i]);
                o.date_skew_max = v;
            }
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("trace", "unknown option '%s'", a);
        } else if (file) {
            return cli_usage_error("trace", "only one FILE");
        } else {
            file = a;
        }
    }
    if (!file) return cli_usage_error("trace", "no FILE given");

    char *msg;
    size_t len;
    int r = cli_read_file(file, HOMING_TRACE_MESSAGE_MAX, &msg, &len);
    if (r == -E2BIG) return cli_fail("%s: larger than %u bytes", file, HOMING_TRACE_MESSAGE_MAX);
    if (r < 0) return cli_fail("%s: %s", file, strerror(-r));

    if (defang && !iocs) {
        free(msg);
        return cli_usage_error("trace", "--defang goes with --iocs");
    }
    if (iocs) {
        json_t *io = NULL;
        r = homing_trace_iocs(msg, len, &io);
        free(msg);
        if (r == -EBADMSG) return cli_fail("%s: not a message", file);
        if (r < 0) return cli_fail("%s: %s", file, strerror(-r));
        r = print_iocs(io, json, defang);
        json_decref(io);
        return r < 0 ? cli_fail("out of memory") : CLI_OK;
    }

    struct homing_resolver *res = NULL;
    if (!o.offline) {
        r = zone ? homing_resolver_zone_new(zone, &res) : homing_resolver_system_new(&res);
        if (r < 0) {
            free(msg);
            return cli_fail("%s: %s", zone ? zone : "resolver", strerror(-r));
        }
        o.resolver = res;
    }
    json_t *out = NULL, *io = NULL;
    r = homing_trace_run(msg, len, &o, &out);
    if (r == 0 && html) {
        int ir = homing_trace_iocs(msg, len, &io);
        if (ir == -ENOMEM) r = ir;
    }
    free(msg);
    homing_resolver_free(res);
    if (r == 0 && html) {
        r = trace_html_write(html, out, io, file);
        json_decref(io);
        if (r < 0) {
            json_decref(out);
            return cli_fail("%s: %s", html, strerror(-r));
        }
    }
    if (r == -EBADMSG) return cli_fail("%s: not a message (no header section)", file);
    if (r == -E2BIG) return cli_fail("%s: over a parser limit", file);
    if (r < 0) return cli_fail("%s: %s", file, strerror(-r));
    if (json) {
        char *s = homing_json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        if (!s) {
            json_decref(out);
            return cli_fail("out of memory");
        }
        puts(s);
        free(s);
    } else {
        print_text(out);
    }
    json_decref(out);
    return CLI_OK;
}
