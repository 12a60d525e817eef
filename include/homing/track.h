/*
 * homing/track.h: turning an RFC 5322 message into tracked copies.
 *
 * Two steps, so that bad input never leaves anything in the store:
 *
 *   homing_track_prepare   parses the message, finds every place to change
 *                          (links and pixel sites in text/html, URLs in
 *                          text/plain), decodes what it must and checks it can
 *                          write everything back. All errors happen here.
 *   (the caller registers the message, its recipients and links in the store,
 *    which hands out the public id the tokens carry)
 *   homing_track_render    writes the copy for one recipient index (0 = one copy
 *                          for everyone), with that recipient's tokens.
 *
 * Output keeps the input byte for byte except: the bodies of changed parts,
 * re-encoded in their own Content-Transfer-Encoding and charset (inside them,
 * only the spliced URLs and the pixel differ from the decoded original), and
 * headers added at the end of the top-level header block (Message-ID when
 * missing, Disposition-Notification-To when asked), and with new_message_id
 * the Message-ID field replaced in place by a fresh one (added when missing). Parts inside
 * multipart/signed, multipart/encrypted, attachments and attached messages are
 * never changed.
 *
 * Links are numbered 1..n per message in order of first appearance, one number
 * per distinct destination; the destination is what a browser follows (HTML
 * entities decoded, surrounding white space trimmed, tabs and line breaks
 * inside removed), in the form homing_url_check writes it (homing/util.h).
 * Links the author marks with data-homing="notrack" are left alone, and so
 * are http and https links homing_url_check refuses (a control character
 * left inside, a backslash, user info, a bad host ...): they are counted and
 * reported (homing_track_refused_count, a warning each), never stored.
 */
#ifndef HOMING_TRACK_H
#define HOMING_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "homing/token.h"
#include "homing/util.h"

/* Defaults of the named limits (configuration: track.max_size, track.max_depth,
 * track.max_parts). */
#define HOMING_TRACK_MAX_SIZE  (25u * 1024 * 1024)
#define HOMING_TRACK_MAX_DEPTH 32
#define HOMING_TRACK_MAX_PARTS 1000
#define HOMING_TRACK_URL_MAX   1024 /* the longest base URL accepted */

/* URLs are made with homing_token_url (homing/token.h): the pixel is
 * <base>/o/<token>.gif (kind OPEN, item 0), a click <base>/c/<token> (kind
 * CLICK, item = link index). */

struct homing_track_options {
    const char *base_url;         /* public.base_url: http(s)://host[:port][/path] */
    const char *domain_base_urls; /* public.domain_base_urls: mail From a domain it names
                                   * is tracked under that domain's URL (NULL: none) */
    int rewrite_text;             /* also rewrite URLs in text/plain parts */
    int pixel;                    /* insert the tracking pixel in text/html parts */
    int pixel_at_end;             /* track.pixel_placement = bottom: before </body>; else right
                                   * after <body ...> (where the body has that tag) */
    int no_links;                 /* leave links alone (tracking modes off and delivery) */
    int new_message_id;           /* a fresh Message-ID in place of the message's own */
    int read_receipt;             /* add Disposition-Notification-To */
    const char *read_receipt_to;  /* its address; NULL = the sender */
    size_t max_size;              /* 0 = default */
    unsigned max_depth;
    unsigned max_parts;
};

/* Flags describing the input. */
#define HOMING_TRACK_DKIM_SIGNED 0x1 /* carries DKIM-Signature: track before signing */
#define HOMING_TRACK_ADDED_MSGID 0x2 /* had no Message-ID; one was added */
#define HOMING_TRACK_NEW_MSGID   0x4 /* new_message_id: a fresh one replaced it */

struct homing_track;

/* Parses and analyses a message. Errors (-EINVAL not a message or broken MIME,
 * -E2BIG over a limit, -ENOMEM) come with a one-line reason in err. */
int homing_track_prepare(const char *data, size_t len, const struct homing_track_options *o,
                         struct homing_track **out, char *err, size_t errcap);
void homing_track_free(struct homing_track *t);

unsigned homing_track_flags(const struct homing_track *t);
/* Message-ID without angle brackets (the added one when there was none),
 * decoded subject (NULL if none), sender address (NULL if none). */
const char *homing_track_message_id(const struct homing_track *t);
const char *homing_track_subject(const struct homing_track *t);
const char *homing_track_sender(const struct homing_track *t);
/* Addresses from To, Cc and Bcc, in that order, groups flattened, each once. */
size_t homing_track_recipient_count(const struct homing_track *t);
const char *homing_track_recipient(const struct homing_track *t, size_t i);
/* Link destinations; link i has index i + 1 in the tokens. */
size_t homing_track_link_count(const struct homing_track *t);
const char *homing_track_link(const struct homing_track *t, size_t i);
/* http and https links left untracked (and not stored) because
 * homing_url_check refused them (homing/util.h); each also has a warning
 * naming it, while there is room for warnings. */
size_t homing_track_refused_count(const struct homing_track *t);
/* Parts to be changed, and notes about what was left alone and why (one line
 * each, e.g. a part in an unknown charset), for the program to show. */
size_t homing_track_part_count(const struct homing_track *t);
size_t homing_track_warning_count(const struct homing_track *t);
const char *homing_track_warning(const struct homing_track *t, size_t i);

/* Appends the tracked copy for recipient index `recipient` of message
 * `message` to out. Only -ENOMEM, -E2BIG (out's maximum) or a token error. */
int homing_track_render(const struct homing_track *t, const struct homing_keyring *k,
                        uint64_t message, uint32_t recipient, struct homing_buf *out);

/* Document links (docs/documents.md). A placeholder {{doc:NAME}}, as an href
 * in HTML or in plain text, is taken as a link whose destination is the
 * placeholder itself (it has a link number, but no click URL is ever made for
 * it). homing_track_render_docs writes it as the recipient's /d/ link, and can
 * add links before the pixel of each HTML part (homing track --doc). */
#define HOMING_TRACK_DOC_PREFIX "{{doc:"
struct homing_track_docs {
    const uint32_t *link_items; /* [i]: grant index for link i + 1, 0: not a document */
    size_t n_link_items;
    const char *const *names; /* added links: their text */
    const uint32_t *items;    /* and grant indexes */
    size_t n;
};
/* homing_track_render with document links; a placeholder without a grant
 * index is left as written (homing_track_render leaves every one so). */
int homing_track_render_docs(const struct homing_track *t, const struct homing_keyring *k,
                             uint64_t message, uint32_t recipient,
                             const struct homing_track_docs *docs, struct homing_buf *out);

/* Whether data parses again as a message without critical findings: the
 * number of MIME entities it holds (the message and every part below it, not
 * inside attached messages), or -EINVAL. For tests and fuzzing, which have no
 * MIME parser of their own. */
int homing_track_check(const char *data, size_t len);

/* The copy's mark (lib/track/mark.c): a header naming, with a signed token
 * (HOMING_TOKEN_COPY), the message and the recipient index a copy was made for
 * (0: one copy for everyone). `homing track` writes it into every copy and
 * `homing send` reads it to choose the envelope recipient, then removes it. */
#define HOMING_COPY_HEADER "X-Homing-Copy"
struct homing_copy_mark {
    uint64_t message;
    uint32_t recipient;
    size_t start, end; /* the field's bytes in the message, line break included */
};
/* Appends msg to out with one mark for (message, recipient) at the end of the
 * top-level header block, in the message's line ending; marks msg held are
 * dropped, every other byte is kept. -ENOMEM/-E2BIG (out's maximum) or a token
 * error; out is unchanged on failure. */
int homing_copy_mark(const struct homing_keyring *k, uint64_t message, uint32_t recipient,
                     const char *msg, size_t len, struct homing_buf *out);
/* Reads the mark of msg: 0 with *out set; -ENOENT when there is none (an
 * untracked message, or a copy made before marks existed); -EBADMSG when its
 * token does not verify with k or there is more than one. */
int homing_copy_find(const struct homing_keyring *k, const char *msg, size_t len,
                     struct homing_copy_mark *out);

/* One-click unsubscribe (RFC 8058; lib/track/unsubscribe.c): appends msg to
 * out with the fields
 *   List-Unsubscribe: <BASE_URL/u/TOKEN>
 *   List-Unsubscribe-Post: List-Unsubscribe=One-Click
 * at the end of the top-level header block in the message's line ending,
 * TOKEN a HOMING_TOKEN_UNSUBSCRIBE of (message, recipient). Fields of those
 * two names msg held are dropped (RFC 8058 wants the Post field to go with
 * the https URI of this List-Unsubscribe); every other byte is kept.
 * recipient must not be 0 (-EINVAL): an unsubscribe names its recipient.
 * out is unchanged on failure. */
int homing_list_unsubscribe_add(const char *base_url, const struct homing_keyring *k,
                                uint64_t message, uint32_t recipient, const char *msg, size_t len,
                                struct homing_buf *out);

struct homing_message;
/* The tracking URLs of one copy of m (recipient 0 = the per-message copy) as a
 * JSON object (json_t *, owned by the caller): {"recipient", "address",
 * "open_url", "links": [{"index", "url", "click_url"}]}, under the base URL of
 * m's sender's domain in domain_base_urls (public.domain_base_urls; NULL or ""
 * for none), else base_url. The API and `homing message add --json` both
 * answer with it. NULL on failure. */
void *homing_copy_json(const char *base_url, const char *domain_base_urls,
                       const struct homing_keyring *k, const struct homing_message *m,
                       uint32_t recipient, const char *address);

#endif
