/*
 * message.c: registering a message, the one way every front end does it
 * (homing/service.h). The admin API, `homing message add` and `homing track`
 * each checked what they registered in their own way (three address checks,
 * two link checks); these are the rules now, and the store's own check of
 * links stays behind them as the last line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/service.h"
#include "homing/util.h"

#define SHOWN_MAX 96 /* bytes of a refused value quoted in an error, escaped */

static const char doc_prefix[] = "{{doc:";

/* Well-formed UTF-8 of 1..max bytes with no byte in `refused` (and no NUL,
 * which a C string cannot hold anyway); with no_controls, no C0, DEL or C1
 * control either. */
static int text_ok(const char *s, size_t max, const char *refused, int no_controls)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = homing_utf8_decode(s + i, n - i, &cp);
        if (k == 0 || (cp < 0x80 && strchr(refused, (int)cp)) ||
            (no_controls && (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))))
            return 0;
        i += k;
    }
    return 1;
}

int homing_message_subject_ok(const char *s)
{
    return s && text_ok(s, HOMING_MESSAGE_TEXT_MAX, "\r\n", 0);
}

int homing_message_address_ok(const char *s)
{
    if (!s) return 0;
    /* No space or control, and nothing that ends or lists an address in a
     * header. */
    const char *at = strrchr(s, '@');
    return text_ok(s, HOMING_MESSAGE_ADDR_MAX, " <>,", 1) && at && at != s && at[1];
}

/* Writes "what \"value\"" with the value escaped and cut, then ": why". */
static int refuse(char *err, size_t errcap, int r, const char *what, const char *value,
                  const char *why)
{
    if (!err || !errcap) return r;
    char safe[SHOWN_MAX * 4 + 4];
    size_t n = value ? strlen(value) : 0;
    homing_str_escape(safe, sizeof safe, value ? value : "", n < SHOWN_MAX ? n : SHOWN_MAX, 0);
    if (value)
        snprintf(err, errcap, "%s \"%s%s\": %s", what, safe, n > SHOWN_MAX ? "..." : "", why);
    else
        snprintf(err, errcap, "%s: %s", what, why);
    return r;
}

void homing_message_checked_free(struct homing_message_checked *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_links; i++) free(c->links[i]);
    free(c->links);
    c->links = NULL;
    c->n_links = 0;
}

int homing_message_check(const struct homing_message_request *rq,
                         struct homing_message_checked *out, char *err, size_t errcap)
{
    if (!rq || !out) return -EINVAL;
    if (rq->mode != HOMING_MODE_PER_RECIPIENT && rq->mode != HOMING_MODE_PER_MESSAGE)
        return refuse(err, errcap, -EINVAL, "mode", NULL, "per-recipient or per-message");
    if (rq->tracking < HOMING_TRACKING_INDIVIDUAL || rq->tracking > HOMING_TRACKING_OFF)
        return refuse(err, errcap, -EINVAL, "tracking", NULL,
                      "off, delivery, anonymous or individual");
    if (rq->subject && !homing_message_subject_ok(rq->subject))
        return refuse(err, errcap, -EINVAL, "subject", rq->subject,
                      "one line of UTF-8 text, at most 998 bytes");
    if (rq->message_id && !text_ok(rq->message_id, HOMING_MESSAGE_TEXT_MAX, " ", 1))
        return refuse(err, errcap, -EINVAL, "message_id", rq->message_id,
                      "UTF-8 without spaces or controls, at most 998 bytes");
    if (rq->sender && !homing_message_address_ok(rq->sender))
        return refuse(err, errcap, -EINVAL, "from", rq->sender, "not an address");
    if (rq->campaign && !homing_campaign_ok(rq->campaign))
        return refuse(err, errcap, -EINVAL, "campaign", rq->campaign,
                      "1 to 200 bytes of UTF-8 without controls");
    if (rq->n_recipients == 0 || !rq->recipients)
        return refuse(err, errcap, -EINVAL, "recipients", NULL, "at least one address");
    if (rq->n_recipients > HOMING_STORE_RECIPIENTS_MAX || rq->n_links > HOMING_STORE_LINKS_MAX) {
        if (err)
            snprintf(err, errcap, "too many recipients or links (at most %d and %d)",
                     HOMING_STORE_RECIPIENTS_MAX, HOMING_STORE_LINKS_MAX);
        return -E2BIG;
    }
    for (size_t i = 0; i < rq->n_recipients; i++)
        if (!rq->recipients[i] || !homing_message_address_ok(rq->recipients[i])) {
            char what[48];
            snprintf(what, sizeof what, "recipient %zu", i + 1);
            return refuse(err, errcap, -EINVAL, what, rq->recipients[i], "not an address");
        }
    struct homing_message_checked c = {0};
    if (rq->n_links && !(c.links = calloc(rq->n_links, sizeof *c.links))) return -ENOMEM;
    for (size_t i = 0; i < rq->n_links; i++) {
        const char *l = rq->links ? rq->links[i] : NULL, *why = "not a string";
        char what[48];
        snprintf(what, sizeof what, "link %zu", i + 1);
        int r = -EINVAL;
        if (l && strncmp(l, doc_prefix, sizeof doc_prefix - 1) == 0) {
            /* A document placeholder of `homing track`: its form is the
             * store's to check (homing_store_message_add). */
            r = (c.links[i] = strdup(l)) ? 0 : -ENOMEM;
        } else if (l) {
            struct homing_buf b;
            homing_buf_init(&b, HOMING_URL_DEST_MAX + 1);
            r = homing_url_check(l, strlen(l), &b, &why);
            if (r == 0) c.links[i] = homing_buf_steal(&b);
            homing_buf_free(&b);
        }
        c.n_links = i + 1;
        if (r < 0) {
            homing_message_checked_free(&c);
            if (r == -ENOMEM) return r;
            char reason[128];
            snprintf(reason, sizeof reason, "not a valid http or https destination (%s)",
                     why && *why ? why : "refused");
            return refuse(err, errcap, -EINVAL, what, l, reason);
        }
    }
    *out = c;
    return 0;
}

int homing_message_register(struct homing_store *st, const struct homing_message_request *rq,
                            uint64_t *id_out, char *err, size_t errcap)
{
    if (!st || !rq || !id_out) return -EINVAL;
    struct homing_message_checked c;
    int r = homing_message_check(rq, &c, err, errcap);
    if (r < 0) return r;
    struct homing_message_spec spec = {
        .message_id = rq->message_id,
        .subject = rq->subject,
        .sender = rq->sender,
        .mode = rq->mode,
        .recipients = rq->recipients,
        .n_recipients = rq->n_recipients,
        .links = (const char *const *)c.links,
        .n_links = c.n_links,
        .campaign = rq->campaign,
        .tracking = rq->tracking,
    };
    uint64_t id;
    r = homing_store_message_add(st, &spec, &id);
    homing_message_checked_free(&c);
    if (r < 0) {
        if (err) snprintf(err, errcap, "cannot register the message: %s", homing_store_errmsg(st));
        return r;
    }
    *id_out = id;
    return 0;
}

/* What homing_message_request_json keeps alive for the request's pointers. */
struct message_json {
    json_t *root;
    const char **recipients, **links;
};

void homing_message_json_free(void *hold)
{
    struct message_json *h = hold;
    if (!h) return;
    json_decref(h->root);
    free(h->recipients);
    free(h->links);
    free(h);
}

/* A string member, or NULL when absent; -EINVAL when present and not one. */
static int member_text(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return -EINVAL; /* not a string, or one with a NUL inside */
    *out = json_string_value(v);
    return 0;
}

/* The strings of an array member into a NULL-terminated vector. */
static int member_texts(json_t *o, const char *key, const char ***out, size_t *n, size_t max)
{
    json_t *a = json_object_get(o, key);
    *out = NULL;
    *n = 0;
    if (!a || json_is_null(a)) return 0;
    if (!json_is_array(a)) return -EINVAL;
    size_t k = json_array_size(a);
    if (k > max) return -E2BIG;
    const char **v = calloc(k + 1, sizeof *v);
    if (!v) return -ENOMEM;
    for (size_t i = 0; i < k; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
            free(v);
            return -EINVAL;
        }
        v[i] = json_string_value(s);
    }
    *out = v;
    *n = k;
    return 0;
}

int homing_message_request_json(const char *body, size_t len, struct homing_message_request *rq,
                                void **hold, char *err, size_t errcap)
{
    if (!rq || !hold) return -EINVAL;
    if (!body || len == 0) return refuse(err, errcap, -EINVAL, "body", NULL, "a JSON object");
    if (len > HOMING_MESSAGE_JSON_MAX)
        return refuse(err, errcap, -E2BIG, "body", NULL, "too large");
    struct message_json *h = calloc(1, sizeof *h);
    if (!h) return -ENOMEM;
    json_error_t jerr;
    /* A duplicated member is refused, not silently resolved one way. */
    h->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!h->root || !json_is_object(h->root)) {
        homing_message_json_free(h);
        return refuse(err, errcap, -EINVAL, "body", NULL, "not a JSON object");
    }
    struct homing_message_request r = {.mode = HOMING_MODE_PER_RECIPIENT,
                                       .tracking = HOMING_TRACKING_INDIVIDUAL};
    const char *mode = NULL, *tracking = NULL, *bad = NULL;
    size_t nr = 0, nl = 0;
    int rc = 0;
    if (member_text(h->root, "subject", &r.subject) < 0)
        bad = "subject";
    else if (member_text(h->root, "from", &r.sender) < 0)
        bad = "from";
    else if (member_text(h->root, "message_id", &r.message_id) < 0)
        bad = "message_id";
    else if (member_text(h->root, "mode", &mode) < 0)
        bad = "mode";
    else if (member_text(h->root, "tracking", &tracking) < 0)
        bad = "tracking";
    else if (member_text(h->root, "campaign", &r.campaign) < 0)
        bad = "campaign";
    if (bad) {
        homing_message_json_free(h);
        return refuse(err, errcap, -EINVAL, bad, NULL, "must be a string");
    }
    if ((rc = member_texts(h->root, "recipients", &h->recipients, &nr,
                           HOMING_STORE_RECIPIENTS_MAX)) < 0 ||
        (rc = member_texts(h->root, "links", &h->links, &nl, HOMING_STORE_LINKS_MAX)) < 0) {
        homing_message_json_free(h);
        if (rc == -ENOMEM) return rc;
        if (rc == -E2BIG && err)
            snprintf(err, errcap, "too many recipients or links (at most %d and %d)",
                     HOMING_STORE_RECIPIENTS_MAX, HOMING_STORE_LINKS_MAX);
        else if (err)
            snprintf(err, errcap, "recipients and links must be arrays of strings");
        return rc;
    }
    if (mode) {
        if (strcmp(mode, "per-message") == 0)
            r.mode = HOMING_MODE_PER_MESSAGE;
        else if (strcmp(mode, "per-recipient") != 0)
            r.mode = -1; /* homing_message_check names it */
    }
    if (tracking) r.tracking = homing_tracking_parse(tracking);
    r.recipients = h->recipients;
    r.n_recipients = nr;
    r.links = h->links;
    r.n_links = nl;
    if (r.mode < 0) {
        homing_message_json_free(h);
        return refuse(err, errcap, -EINVAL, "mode", NULL, "per-recipient or per-message");
    }
    if (r.tracking < 0) {
        homing_message_json_free(h);
        return refuse(err, errcap, -EINVAL, "tracking", NULL,
                      "off, delivery, anonymous or individual");
    }
    *rq = r;
    *hold = h;
    return 0;
}
