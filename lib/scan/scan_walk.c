/*
 * scan_walk.c: the MIME side of scan and strip. GMime parses the message; the
 * walk visits every part (multipart, nested message/rfc822) up to the named
 * limits, decodes transfer encodings, converts charsets that are not ASCII
 * supersets to UTF-8 for the HTML scanner, and reads the headers that matter
 * (the recipient's address, the sender for the allow-list, read receipts).
 * strip writes changed HTML and text/plain parts back in their charset and
 * transfer encoding and lets GMime serialise the rest from the original bytes.
 *
 * Contract: see homing/scan.h. The only file of the scan that includes GMime.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "lib/mime/addr_check_int.h"
#include "lib/mime/mime_int.h"
#include "scan_int.h"

_Static_assert(HOMING_MIME_ADDR_DEPTH_MAX == MIME_ADDR_DEPTH_MAX, "one address nesting limit");
_Static_assert(HOMING_MIME_ADDR_COLONS_MAX == MIME_ADDR_COLONS_MAX, "one address colon limit");

static const char *const receipt_headers[] = {"Disposition-Notification-To", "Return-Receipt-To",
                                              "X-Confirm-Reading-To", NULL};

/* Charsets in which every ASCII byte means ASCII, so HTML markup can be found
 * and spliced in the raw bytes without converting (and without changing them). */
static int ascii_superset(const char *cs)
{
    if (!cs || !*cs) return 1;
    static const char *const bad[] = {"utf-16", "utf-32", "ucs-2",  "ucs-4",  "utf-7", "iso-2022",
                                      "hz-",    "cp037",  "ebcdic", "ibm037", NULL};
    for (size_t i = 0; bad[i]; i++)
        if (strncasecmp(cs, bad[i], strlen(bad[i])) == 0) return 0;
    return 1;
}

static char *first_mailbox(InternetAddressList *l)
{
    if (!l) return NULL;
    int n = internet_address_list_length(l);
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            const char *s = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
            if (s && *s) return strdup(s);
        }
    }
    return NULL;
}

/* The address the message was delivered to: Delivered-To, then X-Original-To
 * (Postfix's envelope recipient), then the first To mailbox. */
static char *recipient_of(GMimeMessage *m)
{
    static const char *const fields[] = {"Delivered-To", "X-Original-To", NULL};
    for (size_t i = 0; fields[i]; i++) {
        const char *d = g_mime_object_get_header(GMIME_OBJECT(m), fields[i]);
        if (!d) continue;
        InternetAddressList *l = internet_address_list_parse(NULL, d);
        char *r = first_mailbox(l);
        if (l) g_object_unref(l);
        if (r) return r;
    }
    return first_mailbox(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO));
}

struct walker {
    int dos;                        /* strip of a message with CRLF line ends */
    int nested;                     /* inside an attached message/rfc822 */
    int noticed_text, noticed_html; /* the notice is in the message's first part of each */
    const struct homing_scan_options *o;
    struct homing_scan_result *res; /* scan */
    struct homing_strip_stats *st;  /* strip */
    const char *sender;
    unsigned parts;
    int err;
};

/* Makes out the part's content: converted back from UTF-8 into charset cs
 * when the part was converted, then written in the part's own transfer
 * encoding (GMime encodes on output). */
static int part_replace(GMimePart *part, const char *cs, int converted,
                        const struct homing_buf *out)
{
    char *back = NULL;
    gsize backlen = out->len;
    if (converted &&
        !(back = g_convert(out->data, (gssize)out->len, cs, "UTF-8", NULL, &backlen, NULL)))
        return -EILSEQ;
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    const char *text = back ? back : out->data;
    GMimeStream *ns;
    GMimeContentEncoding given = GMIME_CONTENT_ENCODING_DEFAULT;
    if (enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
        /* encoded here, handed over as encoded: GMime's encoder wrote lines of
         * 77 characters (RFC 2045 allows 76) */
        struct homing_buf qp;
        homing_buf_init(&qp, SIZE_MAX / 4);
        const char *eol = memmem(text, backlen, "\r\n", 2) ? "\r\n" : "\n";
        int r = homing_mime_encode_qp(&qp, text, backlen, eol);
        /* the boundary after it must start a line: a soft break adds nothing */
        if (r == 0 && qp.len && qp.data[qp.len - 1] != '\n') r = homing_buf_printf(&qp, "=%s", eol);
        if (r < 0) {
            homing_buf_free(&qp);
            g_free(back);
            return r;
        }
        ns = g_mime_stream_mem_new_with_buffer(qp.data ? qp.data : "", qp.len);
        homing_buf_free(&qp);
        given = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
    } else {
        ns = g_mime_stream_mem_new_with_buffer(text, backlen);
    }
    GMimeDataWrapper *nw = g_mime_data_wrapper_new_with_stream(ns, given);
    g_mime_part_set_content(part, nw);
    /* keep the original transfer encoding (set_content may reset it) */
    if (enc != GMIME_CONTENT_ENCODING_DEFAULT) g_mime_part_set_content_encoding(part, enc);
    g_object_unref(nw);
    g_object_unref(ns);
    g_free(back);
    return 0;
}

/* An inline PGP block (RFC 4880 armour) in a text part: its bytes are what
 * the signature covers, so keep_signed leaves the part alone. */
static int inline_pgp(const GByteArray *ba)
{
    static const char *const armour[] = {"-----BEGIN PGP SIGNED MESSAGE-----",
                                         "-----BEGIN PGP MESSAGE-----", NULL};
    for (size_t i = 0; armour[i]; i++)
        if (ba->len && memmem(ba->data, ba->len, armour[i], strlen(armour[i]))) return 1;
    return 0;
}

static int keep_signed(struct walker *w)
{
    if (!w->st || !w->o || !w->o->keep_signed) return 0;
    w->st->signed_kept++;
    return 1;
}

/* Where the notice goes in an HTML document: just after the <body ...> start
 * tag (quoted attribute values may hold '>'), or at the start when there is
 * none. */
static size_t body_start(const char *s, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++) {
        if (s[i] != '<' || strncasecmp(s + i + 1, "body", 4) != 0) continue;
        size_t j = i + 5;
        if (j < n && s[j] != '>' && s[j] != '/' && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' &&
            s[j] != '\r' && s[j] != '\f')
            continue;
        char q = 0;
        for (; j < n; j++) {
            if (q) {
                if (s[j] == q) q = 0;
            } else if (s[j] == '"' || s[j] == '\'') {
                q = s[j];
            } else if (s[j] == '>') {
                return j + 1;
            }
        }
        return 0;
    }
    return 0;
}

/* out with the notice put in at offset at; text is ASCII. */
static int notice_insert(struct homing_buf *out, size_t at, const char *text, const char *nl)
{
    struct homing_buf b;
    homing_buf_init(&b, out->max + strlen(text) + 8);
    int r = homing_buf_append(&b, out->data, at);
    if (r == 0) r = homing_buf_puts(&b, text);
    if (r == 0 && nl) r = homing_buf_printf(&b, "%s%s", nl, nl);
    if (r == 0) r = homing_buf_append(&b, out->data + at, out->len - at);
    if (r < 0) {
        homing_buf_free(&b);
        return r;
    }
    homing_buf_free(out);
    *out = b;
    return 0;
}

static void visit_html(struct walker *w, GMimePart *part, const char *path, int inline_part)
{
    GByteArray *ba = homing_mime_part_bytes(part);
    if (!ba) return;
    if (inline_pgp(ba) && keep_signed(w)) {
        g_byte_array_free(ba, TRUE);
        return;
    }
    if (ba->len > HOMING_SCAN_HTML_MAX) {
        g_byte_array_free(ba, TRUE);
        w->err = -E2BIG;
        return;
    }
    const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    char *conv = NULL;
    gsize convlen = 0;
    /* an empty part has no buffer, which g_convert refuses */
    if (ba->len && !ascii_superset(cs)) {
        conv =
            g_convert((const char *)ba->data, (gssize)ba->len, "UTF-8", cs, NULL, &convlen, NULL);
        if (!conv && w->st) {
            /* an unreadable document cannot be shown safe: refuse rather than pass loads */
            g_byte_array_free(ba, TRUE);
            w->err = -EILSEQ;
            return;
        }
    }
    const char *html = conv ? conv : (const char *)ba->data;
    size_t len = conv ? convlen : ba->len;
    if (w->res) {
        w->res->html_parts++;
        int r = homing_scan_html(html, len, w->o, w->sender, path, w->res);
        if (r < 0) w->err = r;
    } else {
        struct homing_buf out;
        homing_buf_init(&out, HOMING_SCAN_HTML_MAX * 2);
        unsigned before = w->st->html_parts;
        int r = homing_strip_html(html, len, w->o, &out, w->st);
        int noticed = 0;
        if (r == 0 && w->o && w->o->notice_html && inline_part && !w->nested && !w->noticed_html) {
            w->noticed_html = 1;
            r = notice_insert(&out, body_start(out.data, out.len), w->o->notice_html, NULL);
            noticed = r == 0;
            w->st->notices += noticed;
        }
        if (r < 0) {
            w->err = r;
        } else if (w->st->html_parts != before || noticed) {
            w->err = part_replace(part, cs, conv != NULL, &out);
        }
        homing_buf_free(&out);
    }
    g_free(conv);
    g_byte_array_free(ba, TRUE);
}

/* Links in plain text: scan judges them; strip unwraps the wrapped ones. A
 * text that is too large or cannot be converted loads nothing, so strip
 * leaves it as it is. */
static void visit_text(struct walker *w, GMimePart *part, const char *path)
{
    GByteArray *ba = homing_mime_part_bytes(part);
    if (!ba) return;
    if (inline_pgp(ba) && keep_signed(w)) {
        g_byte_array_free(ba, TRUE);
        return;
    }
    const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    char *conv = NULL;
    gsize convlen = 0;
    if (ba->len && !ascii_superset(cs)) /* an empty part has no buffer for g_convert */
        conv =
            g_convert((const char *)ba->data, (gssize)ba->len, "UTF-8", cs, NULL, &convlen, NULL);
    const char *text = conv ? conv : (const char *)ba->data;
    size_t len = conv ? convlen : ba->len;
    if (w->res) {
        int r = homing_scan_text(text, len, w->o, w->sender, path, w->res);
        if (r == -E2BIG)
            w->res->truncated = 1;
        else if (r < 0)
            w->err = r;
    } else if ((conv || ascii_superset(cs)) && len <= HOMING_SCAN_HTML_MAX) {
        const char *fmt = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "format");
        const char *dsp = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "delsp");
        int delsp = fmt && strcasecmp(fmt, "flowed") == 0 && dsp && strcasecmp(dsp, "yes") == 0;
        struct homing_buf out;
        homing_buf_init(&out, HOMING_SCAN_HTML_MAX * 2);
        unsigned before = w->st->text_parts;
        int r = homing_strip_text(text, len, w->o, delsp, &out, w->st);
        int noticed = 0;
        if (r == 0 && w->o && w->o->notice_text && !w->nested && !w->noticed_text) {
            w->noticed_text = 1;
            const char *nl = memmem(text, len, "\r\n", 2) ? "\r\n" : "\n";
            r = notice_insert(&out, 0, w->o->notice_text, nl);
            noticed = r == 0;
            w->st->notices += noticed;
        }
        if (r < 0 && r != -E2BIG) /* past the limit: the part stays as it was */
            w->err = r;
        else if (r == 0 && (w->st->text_parts != before || noticed))
            w->err = part_replace(part, cs, conv != NULL, &out);
        homing_buf_free(&out);
    }
    g_free(conv);
    g_byte_array_free(ba, TRUE);
}

static void walk(struct walker *w, GMimeObject *obj, const char *path, int depth);

/* GMime keeps a multipart's prologue and epilogue with LF line ends and writes
 * them unfiltered: back to CRLF for a message written with CRLF. */
static char *crlf_dup(const char *s)
{
    if (!s) return NULL;
    size_t n = 0;
    for (const char *p = s; *p; p++) n += *p == '\n' && (p == s || p[-1] != '\r');
    char *o = g_malloc(strlen(s) + n + 1), *q = o;
    for (const char *p = s; *p; p++) {
        if (*p == '\n' && (p == s || p[-1] != '\r')) *q++ = '\r';
        *q++ = *p;
    }
    *q = '\0';
    return o;
}

static void dos_text(GMimeMultipart *mp)
{
    char *pro = crlf_dup(g_mime_multipart_get_prologue(mp));
    char *epi = crlf_dup(g_mime_multipart_get_epilogue(mp));
    if (pro) g_mime_multipart_set_prologue(mp, pro);
    if (epi) g_mime_multipart_set_epilogue(mp, epi);
    g_free(pro);
    g_free(epi);
}

static void walk_message(struct walker *w, GMimeMessage *m, const char *path, int depth)
{
    GMimeObject *body = g_mime_message_get_mime_part(m);
    if (!body) return;
    char sub[HOMING_SCAN_PART_MAX];
    if (GMIME_IS_MULTIPART(body)) {
        walk(w, body, path, depth + 1);
    } else {
        snprintf(sub, sizeof sub, "%s%s1", path, *path ? "." : "");
        walk(w, body, sub, depth + 1);
    }
}

static void walk(struct walker *w, GMimeObject *obj, const char *path, int depth)
{
    if (w->err) return;
    if (depth > HOMING_SCAN_MIME_DEPTH_MAX || ++w->parts > HOMING_SCAN_PARTS_MAX) {
        if (w->res) w->res->truncated = 1;
        if (w->st) w->err = -E2BIG; /* a part left unvisited could still load */
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeContentType *mct = g_mime_object_get_content_type(obj);
        if (mct &&
            (g_mime_content_type_is_type(mct, "multipart", "signed") ||
             g_mime_content_type_is_type(mct, "multipart", "encrypted")) &&
            keep_signed(w))
            return; /* not even its prologue is rewritten */
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        if (w->dos) dos_text(mp);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n && !w->err; i++) {
            char sub[HOMING_SCAN_PART_MAX];
            snprintf(sub, sizeof sub, "%s%s%d", path, *path ? "." : "", i + 1);
            walk(w, g_mime_multipart_get_part(mp, i), sub, depth + 1);
        }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        int nested = w->nested;
        w->nested = 1;
        if (m) walk_message(w, m, path, depth + 1);
        w->nested = nested;
    } else if (GMIME_IS_PART(obj)) {
        GMimeContentType *ct = g_mime_object_get_content_type(obj);
        if (ct &&
            (g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
             g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime")) &&
            keep_signed(w))
            return; /* opaque S/MIME: nothing to strip in it, counted as kept */
        if (ct && g_mime_content_type_is_type(ct, "text", "plain")) {
            GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
            if (!(cd && g_mime_content_disposition_is_attachment(cd)))
                visit_text(w, GMIME_PART(obj), path);
            return;
        }
        if (!ct || !g_mime_content_type_is_type(ct, "text", "html")) return;
        GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
        /* an attached .html file is not rendered when the message is opened
         * (scan skips it), but strip still makes it safe to open */
        int attached = cd && g_mime_content_disposition_is_attachment(cd);
        if (attached && w->res) return;
        visit_html(w, GMIME_PART(obj), path, !attached);
    }
}

static void receipts(GMimeMessage *m, struct homing_scan_result *res)
{
    for (size_t i = 0; receipt_headers[i]; i++) {
        const char *v = g_mime_object_get_header(GMIME_OBJECT(m), receipt_headers[i]);
        if (!v) continue;
        char why[600], clean[400];
        homing_str_sanitize(clean, sizeof clean, v, strlen(v));
        snprintf(why, sizeof why, "asks the mail client to send a read receipt to %s", clean);
        scan_add(res, HOMING_SCAN_READ_RECEIPT, "", "header", receipt_headers[i], NULL, NULL, why,
                 NULL);
    }
}

int homing_scan_message(const char *data, size_t len, const struct homing_scan_options *o,
                        struct homing_scan_result **out)
{
    if (len > HOMING_SCAN_MESSAGE_MAX) return -E2BIG;
    int depth = mime_addr_check(data, len); /* GMime's group parser recurses */
    if (depth < 0) return depth;
    GMimeMessage *m = homing_mime_parse(data, len);
    if (!m) return -EBADMSG;
    struct homing_scan_result *res = calloc(1, sizeof *res);
    if (!res) {
        g_object_unref(m);
        return -ENOMEM;
    }
    if (o && o->recipient && *o->recipient)
        res->recipient = strdup(o->recipient);
    else
        res->recipient = recipient_of(m);
    char *sender = first_mailbox(g_mime_message_get_from(m));
    receipts(m, res);
    struct walker w = {.o = o, .res = res, .sender = sender};
    walk_message(&w, m, "", 0);
    free(sender);
    g_object_unref(m);
    if (w.err) {
        homing_scan_result_free(res);
        return w.err;
    }
    *out = res;
    return 0;
}

int homing_strip_message(const char *data, size_t len, const struct homing_scan_options *o,
                         char **out, size_t *outlen, struct homing_strip_stats *st)
{
    if (len > HOMING_SCAN_MESSAGE_MAX) return -E2BIG;
    int depth = mime_addr_check(data, len); /* GMime's group parser recurses */
    if (depth < 0) return depth;
    GMimeMessage *m = homing_mime_parse(data, len);
    if (!m) return -EBADMSG;
    struct homing_strip_stats s = {0};
    char *sender = first_mailbox(g_mime_message_get_from(m));
    /* GMime writes LF line ends unless told otherwise: a message whose first
     * line ends in CRLF is written back with CRLF */
    const char *nl = memchr(data, '\n', len);
    int dos = nl && nl > data && nl[-1] == '\r';
    struct walker w = {.dos = dos, .o = o, .st = &s, .sender = sender};
    walk_message(&w, m, "", 0);
    free(sender);
    if (w.err) {
        g_object_unref(m);
        return w.err;
    }
    for (size_t i = 0; receipt_headers[i]; i++)
        while (g_mime_object_remove_header(GMIME_OBJECT(m), receipt_headers[i])) s.receipts++;
    char summary[200];
    /* short enough to stay on one line, so the rest of the header is untouched */
    snprintf(summary, sizeof summary,
             "%u tracking, %u other loads, %u links unwrapped, %u receipts", s.pixels, s.loads,
             s.unwrapped, s.receipts);
    g_mime_object_prepend_header(GMIME_OBJECT(m), "X-Homing-Stripped", summary, NULL);
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    int r = 0;
    GMimeFormatOptions *fo = g_mime_format_options_new();
    if (dos) g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    if (g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, mem) < 0) r = -EIO;
    g_mime_format_options_free(fo);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_object_unref(mem);
    g_object_unref(m);
    if (r == 0) {
        char *buf = malloc(ba->len + 1);
        if (!buf) {
            r = -ENOMEM;
        } else {
            memcpy(buf, ba->data, ba->len);
            buf[ba->len] = '\0';
            *out = buf;
            *outlen = ba->len;
            if (st) *st = s;
        }
    }
    g_byte_array_free(ba, TRUE);
    return r;
}
