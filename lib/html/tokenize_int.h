/*
 * tokenize.h (internal to libhoming): an HTML tokenizer after the WHATWG
 * standard's tokenization states, for finding things in a document without
 * building its tree (lib/track/rewrite.c, docs/internals/track.md).
 *
 * It returns tokens as byte ranges into the caller's buffer and copies
 * nothing: start and end tags with their attributes (raw values, quotes
 * included), comments (including bogus ones and `<!-->`), doctypes, and the
 * text of elements whose content is not markup. Text in the data state is
 * skipped, not returned. Which elements switch to RAWTEXT, RCDATA, script data
 * or PLAINTEXT is the tree builder's decision, so it is the caller's too: after
 * a start tag it calls html_tok_text_mode. Character references are not
 * decoded here; html_tok_attr_value does it for the values that need it.
 *
 * Input is UTF-8 of any length; invalid bytes never stop the tokenizer. Limits:
 * HTML_TOK_ATTRS_MAX attributes per tag are returned (the rest are read past,
 * never misread as markup); the attribute array grows on demand and is freed
 * by html_tok_free.
 */
#ifndef HOMING_LIB_HTML_TOKENIZE_H
#define HOMING_LIB_HTML_TOKENIZE_H

#include <stddef.h>

#include "homing/util.h"

#define HTML_TOK_ATTRS_MAX 65536 /* attributes kept per tag; later ones are skipped */
#define HTML_TOK_NAME_MAX  64    /* tag names longer than this are compared by prefix only */

enum html_tok_type {
    HTML_TOK_EOF = 0,
    HTML_TOK_START,   /* start tag */
    HTML_TOK_END,     /* end tag */
    HTML_TOK_COMMENT, /* <!-- -->, <!-->, bogus comments (<? >, </3 >, <!x >) */
    HTML_TOK_DOCTYPE,
    HTML_TOK_TEXT, /* content of a RAWTEXT, RCDATA, script or PLAINTEXT element */
};

enum html_tok_mode {
    HTML_TOK_DATA = 0,
    HTML_TOK_RCDATA,    /* textarea, title */
    HTML_TOK_RAWTEXT,   /* style, xmp, iframe, noembed, noframes */
    HTML_TOK_SCRIPT,    /* script */
    HTML_TOK_PLAINTEXT, /* plaintext: the rest of the input is text */
};

struct html_tok_attr {
    size_t name, name_len;   /* raw name (compare without case) */
    size_t value, value_len; /* raw value, quotes included; value_len 0 if none */
    char quote;              /* '"' or '\'' if quoted (and terminated), else 0 */
};

struct html_token {
    int type;
    size_t start, end; /* the whole token, from its '<' to after its '>' */
    /* START and END: the tag name, lowercased into name (NUL-terminated,
     * HTML_TOK_NAME_MAX bytes at most); name_len is the full length */
    char name[HTML_TOK_NAME_MAX + 1];
    size_t name_len;
    int self_closing;
    struct html_tok_attr *attrs; /* owned by the html_tok */
    size_t n_attrs;
    /* COMMENT: the comment's data (between "<!--" and "-->", or of the bogus
     * comment); TEXT: the text */
    size_t data, data_len;
    int bogus; /* COMMENT: a bogus comment */
};

struct html_tok {
    const char *s;
    size_t len, pos;
    int mode;
    char last_start[HTML_TOK_NAME_MAX + 1]; /* for the appropriate end tag */
    size_t last_start_len;
    struct html_tok_attr *attrs;
    size_t attrs_cap;
    int nomem; /* an attribute array could not grow: html_tok_next returned EOF */
};

void html_tok_init(struct html_tok *t, const char *s, size_t len);

/* The next token into *tok; HTML_TOK_EOF at the end (or when memory ran out:
 * t->nomem). Tags cut off by the end of input are dropped, as the standard
 * says. */
int html_tok_next(struct html_tok *t, struct html_token *tok);

void html_tok_free(struct html_tok *t);

/* Switches the tokenizer after the start tag just returned. */
void html_tok_text_mode(struct html_tok *t, int mode);

/* Decodes an attribute value as the standard's tokenizer does: character
 * references (a named one without ';' followed by '=' or an alphanumeric stays
 * as written), NUL and invalid UTF-8 become U+FFFD, CR LF and CR become LF.
 * value/len is the raw value without its quotes; quote is the quote (0 if
 * unquoted). Appends to b; -ENOMEM or b's limit. */
int html_tok_attr_value(const char *value, size_t len, char quote, struct homing_buf *b);

#endif
