/*
 * ui_int.h (private to src/serve): what the dashboard's page files share:
 * ui.c (sessions, sign-in, dispatch, the style sheet and script),
 * ui_recipient.c (a message's recipients, a recipient's timeline, the live
 * feeds) and ui_admin.c (webhooks, documents and grants). All of it runs on the admin listener's
 * loop thread only.
 */
#ifndef HOMING_SERVE_UI_INT_H
#define HOMING_SERVE_UI_INT_H

#include <time.h>

#include <h2o.h>
#include <jansson.h>
#include <sodium.h>

#include "homing/util.h"

#define UI_SESSIONS_MAX  256        /* signed-in browsers at once; the oldest goes first */
#define UI_SESSION_TTL_S (8 * 3600) /* a session ends this long after sign-in */
#define UI_TOKEN_BYTES   32         /* session id and CSRF tokens */
#define UI_TOKEN_TEXT    (HOMING_B64URL_LEN(UI_TOKEN_BYTES) + 1)
#define UI_FORM_MAX      4096        /* a form body */
#define UI_PAGE_MAX      (4u << 20)  /* a rendered page */
#define UI_COOKIE        "homing_ui" /* the session cookie */
#define UI_LOGIN_COOKIE  "homing_ui_login"

struct worker;

struct ui_session {
    unsigned char id_hash[crypto_generichash_BYTES]; /* of the cookie's value, never the value */
    char csrf[UI_TOKEN_TEXT];
    int scope;
    time_t expires; /* 0: free slot */
};

/* The security headers every answer carries (CSP, nosniff, no-referrer, ...). */
void ui_headers(h2o_req_t *req);
/* Sends b (freed) with status and type; 0. */
int ui_send(h2o_req_t *req, int status, const char *reason, const char *type, struct homing_buf *b);
/* A page's start (title escaped, navigation, sign-out form when s) and end. */
void ui_head(struct homing_buf *b, const char *title, const struct ui_session *s);
void ui_foot(struct homing_buf *b);
/* ui_foot, then sends b as a 200 page. */
int ui_page(h2o_req_t *req, struct homing_buf *b);
/* A figure: an integer, a rate as a percentage, or a dash for null. */
void ui_num(struct homing_buf *b, json_t *v);
/* An error page with status and reason saying why (escaped). */
int ui_error_page(h2o_req_t *req, const struct ui_session *s, int status, const char *reason,
                  const char *why);
/* A 400 page saying what of the query was wrong. */
int ui_bad_request(h2o_req_t *req, const struct ui_session *s, const char *why);

/* ui_recipient.c */
int ui_message(struct worker *w, h2o_req_t *req, struct ui_session *s);
int ui_recipient(struct worker *w, h2o_req_t *req, struct ui_session *s);
/* JSON for the live script: a recipient's events after an id, and the
 * notifications after an id (the live feed). */
int ui_recipient_json(struct worker *w, h2o_req_t *req);
int ui_live(struct worker *w, h2o_req_t *req, struct ui_session *s);
int ui_live_json(struct worker *w, h2o_req_t *req);

/* ui_admin.c: webhooks and their deliveries; documents, grants, revocation */
int ui_webhooks(struct worker *w, h2o_req_t *req, struct ui_session *s);
int ui_documents(struct worker *w, h2o_req_t *req, struct ui_session *s);
int ui_grant_revoke(struct worker *w, h2o_req_t *req, struct ui_session *s);

#endif
