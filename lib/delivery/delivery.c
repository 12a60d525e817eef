/*
 * delivery.c: what homing ingest, ingest-log and send share: the order of
 * recipient states, VERP addresses, and building delivery events.
 *
 * Contract: see homing/delivery.h. The state order exists because reports
 * arrive out of order (a delay notice can come after the delivery report, a
 * log line after the DSN): a recipient's state only moves forward.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "homing/delivery.h"
#include "homing/util.h"
#include "lib/delivery/delivery_int.h"

static const struct {
    const char *name;
    int rank;
} delivery_ranks[] = {
    {"registered", 0}, {"sent", 1},     {"delayed", 2}, {"delivered", 3},
    {"read", 4},       {"rejected", 5}, {"bounced", 5}, {"complained", 6},
};

int homing_delivery_state_rank(const char *state)
{
    for (size_t i = 0; state && i < sizeof delivery_ranks / sizeof delivery_ranks[0]; i++)
        if (strcmp(state, delivery_ranks[i].name) == 0) return delivery_ranks[i].rank;
    return 0;
}

int homing_delivery_state_apply(struct homing_store *s, uint64_t message, uint32_t index,
                                const char *state, int64_t at_us)
{
    if (!s || !state || index == 0) return -EINVAL;
    struct homing_message *m = NULL;
    int r = homing_store_message_get(s, message, &m);
    if (r < 0) return r;
    const char *cur = NULL;
    for (size_t i = 0; i < m->n_recipients; i++)
        if (m->recipients[i].index == index) cur = m->recipients[i].state;
    if (!cur) {
        homing_message_free(m);
        return -ENOENT;
    }
    int apply = homing_delivery_state_rank(state) >= homing_delivery_state_rank(cur);
    homing_message_free(m);
    return apply ? homing_store_recipient_set_state(s, message, index, state, at_us) : 0;
}

int homing_verp_address(const char *format, const struct homing_keyring *k, uint64_t message,
                        uint32_t recipient, char *out, size_t cap)
{
    if (!format || !k || !out) return -EINVAL;
    if (strlen(format) > HOMING_VERP_FORMAT_MAX) return -EINVAL;
    const char *t = strstr(format, "{token}");
    if (!t || strstr(t + 1, "{token}") || !strchr(t, '@')) return -EINVAL;
    struct homing_token tok = {
        .kind = HOMING_TOKEN_VERP, .message = message, .recipient = recipient};
    char text[HOMING_TOKEN_LEN + 1];
    int r = homing_token_encode(k, &tok, text);
    if (r < 0) return r;
    int n = snprintf(out, cap, "%.*s%s%s", (int)(t - format), format, text, t + 7);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int verp_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int homing_verp_find(const struct homing_keyring *k, const char *text, struct homing_token *out)
{
    if (!k || !text || !out) return -EINVAL;
    /* Only runs of exactly the token's length are tried: a handful of MAC
     * checks at most, whatever the text. */
    const char *p = text;
    while (*p) {
        while (*p && !verp_char(*p)) p++;
        const char *start = p;
        while (*p && verp_char(*p)) p++;
        size_t n = (size_t)(p - start);
        /* The token may be glued to a prefix with '-' or '_': try its tail. */
        if (n >= HOMING_TOKEN_LEN) {
            struct homing_token t;
            if (homing_token_verify(k, p - HOMING_TOKEN_LEN, HOMING_TOKEN_LEN, &t) == 0 &&
                t.kind == HOMING_TOKEN_VERP) {
                *out = t;
                return 0;
            }
            if (n > HOMING_TOKEN_LEN && homing_token_verify(k, start, HOMING_TOKEN_LEN, &t) == 0 &&
                t.kind == HOMING_TOKEN_VERP) {
                *out = t;
                return 0;
            }
        }
    }
    return -ENOENT;
}

/* ---- events ---- */

void delivery_json_set(json_t *o, const char *key, const char *v)
{
    if (!v) return;
    /* jansson refuses invalid UTF-8: such a field is kept in its escaped form
     * ("\\x9b" for a bad byte), so an investigator still sees what came */
    json_t *j = homing_json_text(v);
    if (j) json_object_set_new(o, key, j);
}

int delivery_event(struct homing_event *e, unsigned kind, uint64_t message, uint32_t recipient,
                   int64_t at_us, json_t *detail)
{
    memset(e, 0, sizeof *e);
    e->kind = (uint16_t)kind;
    e->time_us = at_us ? at_us : homing_now_us();
    e->message = message;
    e->recipient = recipient;
    if (detail) {
        e->detail = json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!e->detail) return -ENOMEM;
    }
    return 0;
}

uint32_t delivery_find_recipient(const struct homing_message *m, const char *addr)
{
    if (!m || !addr || !*addr) return 0;
    const char *a = addr;
    if (strncasecmp(a, "rfc822;", 7) == 0) a += 7;
    while (*a == ' ' || *a == '<') a++;
    size_t n = strlen(a);
    while (n && (a[n - 1] == '>' || a[n - 1] == ' ')) n--;
    for (size_t i = 0; i < m->n_recipients; i++) {
        const char *r = m->recipients[i].address;
        if (r && strlen(r) == n && strncasecmp(r, a, n) == 0) return m->recipients[i].index;
    }
    return 0;
}

void delivery_hash_key(const char *prefix, const void *data, size_t len, char *out, size_t cap)
{
    uint8_t h[16];
    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    char hex[33];
    homing_hex_encode(h, sizeof h, hex);
    snprintf(out, cap, "%s:%s", prefix, hex);
}
