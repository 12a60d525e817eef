/*
 * auth_dmarc.c: DMARC (RFC 7489) evaluated now with libopendmarc from the
 * SPF and DKIM results just re-verified. The policy record is fetched through
 * struct homing_resolver (at the From domain, then its organisational
 * domain) and handed to OpenDMARC with opendmarc_policy_store_dmarc, so
 * OpenDMARC never queries DNS itself.
 *
 * Contract: fills out with "result" (pass, fail, none, temperror, permerror),
 * "policy" (none, quarantine, reject), "record_domain", and "aligned"
 * {"spf", "dkim"}; returns a negative errno only on resource failure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <opendmarc/dmarc.h>

#include "trace_int.h"

#define DMARC_NAME_MAX 300

/* OpenDMARC keeps its library settings in a process-wide variable: set once,
 * before any thread uses a policy. */
static pthread_once_t dmarc_once = PTHREAD_ONCE_INIT;

static void dmarc_setup(void)
{
    OPENDMARC_LIB_T lib;
    memset(&lib, 0, sizeof lib);
    lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
    opendmarc_policy_library_init(&lib);
}

/* The DMARC record at _dmarc.domain: 1 found, 0 none, <0 error. */
static int fetch(struct homing_resolver *res, const char *domain, char **rec)
{
    char name[DMARC_NAME_MAX];
    if (strlen(domain) + 8 >= sizeof name) return 0;
    strcpy(name, "_dmarc.");
    strcat(name, domain);
    struct homing_dns_answer a = {0};
    int rc = auth_txt(res, name, &a);
    if (rc == -ENOENT) return 0;
    if (rc < 0) return rc;
    int found = 0;
    for (size_t i = 0; i < a.n; i++)
        if (strncasecmp(a.rr[i], "v=DMARC1", 8) == 0) {
            if (found) { /* RFC 7489 6.6.3: more than one record means none */
                free(*rec);
                *rec = NULL;
                found = 0;
                break;
            }
            *rec = strdup(a.rr[i]);
            found = *rec ? 1 : -ENOMEM;
        }
    homing_dns_answer_clear(&a);
    return found;
}

int auth_dmarc_check(struct homing_resolver *res, const char *from_domain, const char *spf_result,
                     const char *spf_domain, json_t *dkim_arr, json_t *out)
{
    if (!from_domain) {
        json_object_set_new(out, "result", json_string("permerror"));
        json_object_set_new(out, "note", json_string("no From domain"));
        return 0;
    }
    char org[DMARC_NAME_MAX];
    trace_org_domain(from_domain, org, sizeof org);
    char *rec = NULL;
    const char *where = from_domain;
    int rc = fetch(res, from_domain, &rec);
    if (rc == 0 && strcasecmp(org, from_domain) != 0) {
        where = org;
        rc = fetch(res, org, &rec);
    }
    if (rc == -ENOMEM) return rc;
    if (rc < 0) {
        json_object_set_new(out, "result", json_string("temperror"));
        return 0;
    }
    if (rc == 0) {
        json_object_set_new(out, "result", json_string("none"));
        json_object_set_new(out, "policy", json_null());
        json_object_set_new(out, "record_domain", json_null());
        return 0;
    }
    pthread_once(&dmarc_once, dmarc_setup);
    DMARC_POLICY_T *p = opendmarc_policy_connect_init((u_char *)"192.0.2.0", 4);
    if (!p) {
        free(rec);
        return -ENOMEM;
    }
    const char *result = "permerror";
    if (opendmarc_policy_store_from_domain(p, (u_char *)from_domain) != DMARC_PARSE_OKAY ||
        opendmarc_policy_store_dmarc(p, (u_char *)rec, (u_char *)where, (u_char *)org) !=
            DMARC_PARSE_OKAY) {
        json_object_set_new(out, "result", json_string("permerror"));
        json_object_set_new(out, "note", json_string("DMARC record not usable"));
        goto done;
    }
    if (spf_result && spf_domain) {
        int sr = strcmp(spf_result, "pass") == 0        ? DMARC_POLICY_SPF_OUTCOME_PASS
                 : strcmp(spf_result, "temperror") == 0 ? DMARC_POLICY_SPF_OUTCOME_TMPFAIL
                 : strcmp(spf_result, "none") == 0      ? DMARC_POLICY_SPF_OUTCOME_NONE
                                                        : DMARC_POLICY_SPF_OUTCOME_FAIL;
        opendmarc_policy_store_spf(p, (u_char *)spf_domain, sr, DMARC_POLICY_SPF_ORIGIN_MAILFROM,
                                   NULL);
    }
    size_t i;
    json_t *sig;
    json_array_foreach(dkim_arr, i, sig)
    {
        const char *d = json_string_value(json_object_get(sig, "d"));
        const char *s = json_string_value(json_object_get(sig, "s"));
        const char *r = json_string_value(json_object_get(sig, "result"));
        if (!d || !r) continue;
        int dr = strcmp(r, "pass") == 0        ? DMARC_POLICY_DKIM_OUTCOME_PASS
                 : strcmp(r, "temperror") == 0 ? DMARC_POLICY_DKIM_OUTCOME_TMPFAIL
                                               : DMARC_POLICY_DKIM_OUTCOME_FAIL;
        opendmarc_policy_store_dkim(p, (u_char *)d, (u_char *)s, dr, NULL);
    }
    int pol = opendmarc_get_policy_to_enforce(p);
    result = pol == DMARC_POLICY_PASS ? "pass" : pol == DMARC_POLICY_ABSENT ? "none" : "fail";
    int da = 0, sa = 0, pp = 0;
    opendmarc_policy_fetch_alignment(p, &da, &sa);
    opendmarc_policy_fetch_p(p, &pp);
    json_object_set_new(out, "result", json_string(result));
    json_object_set_new(out, "policy",
                        json_string(pp == DMARC_RECORD_P_REJECT       ? "reject"
                                    : pp == DMARC_RECORD_P_QUARANTINE ? "quarantine"
                                                                      : "none"));
    json_object_set_new(out, "record_domain", json_string(where));
    json_object_set_new(out, "aligned",
                        json_pack("{s:b, s:b}", "spf", sa == DMARC_POLICY_SPF_ALIGNMENT_PASS,
                                  "dkim", da == DMARC_POLICY_DKIM_ALIGNMENT_PASS));
done:
    opendmarc_policy_connect_shutdown(p);
    free(rec);
    return 0;
}
