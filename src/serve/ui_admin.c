/*
 * ui_admin.c: the dashboard's operator pages (docs/dashboard.md): webhooks
 * with their delivery health and the retries waiting, and shared documents
 * with their grants, each grant revocable by a form (CSRF-checked by ui.c's
 * dispatch, and allowed to sessions of write scope or more, as the API's
 * grant revocation is).
 *
 * Webhook secrets are never shown. Every text from the store is written by
 * homing_buf_html.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "homing/apikey.h"
#include "homing/store.h"
#include "serve.h"
#include "ui_int.h"

#define UI_RETRIES_SHOWN    100 /* pending deliveries listed on the webhooks page */
#define UI_RETRIES_PER_HOOK 20  /* of one webhook */
#define UI_GRANTS_SHOWN     500 /* grants listed on the documents page */

static void ui_time(struct homing_buf *b, int64_t t_us)
{
    if (t_us <= 0) {
        homing_buf_puts(b, "–");
        return;
    }
    char t[HOMING_TIME_STR_MAX];
    homing_time_format(t_us, t);
    homing_buf_printf(b, "%.10s %.8s", t, t + 11);
}

int ui_webhooks(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, "Webhooks", s);
    struct homing_webhook *hooks = NULL;
    size_t n = 0;
    int64_t pending = 0, delivered = 0, failed = 0;
    if (homing_store_webhook_list(w->store, &hooks, &n) < 0 ||
        homing_store_delivery_counts(w->store, &pending, &delivered, &failed) < 0) {
        homing_webhooks_free(hooks, n);
        homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
        return ui_page(req, &b);
    }
    homing_buf_printf(&b,
                      "<p>Deliveries: %" PRId64 " delivered, %" PRId64 " pending, %" PRId64
                      " failed for good (every webhook).</p>\n",
                      delivered, pending, failed);
    if (n == 0)
        homing_buf_puts(&b, "<p>No webhook: add one with <code>homing webhooks add URL</code>."
                            "</p>\n");
    else
        homing_buf_puts(&b, "<table><caption>Receivers of signed notifications (the secret is "
                            "never shown)</caption><thead><tr><th scope=\"col\">id</th>"
                            "<th scope=\"col\">URL</th><th scope=\"col\">kinds</th>"
                            "<th scope=\"col\">added</th><th scope=\"col\">state</th></tr>"
                            "</thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        homing_buf_printf(&b, "<tr><th scope=\"row\">%" PRId64 "</th><td class=\"url\">",
                          hooks[i].id);
        homing_buf_html(&b, hooks[i].url);
        homing_buf_puts(&b, "</td><td>");
        homing_buf_html(&b, hooks[i].events);
        homing_buf_puts(&b, "</td><td>");
        ui_time(&b, hooks[i].created_us);
        homing_buf_puts(&b, "</td><td>");
        if (hooks[i].disabled_us) {
            homing_buf_puts(&b, "disabled ");
            ui_time(&b, hooks[i].disabled_us);
        } else
            homing_buf_puts(&b, "enabled");
        homing_buf_puts(&b, "</td></tr>\n");
    }
    if (n) homing_buf_puts(&b, "</tbody></table>\n");
    homing_webhooks_free(hooks, n);

    /* every pending delivery, due or not: INT64_MAX as "now" */
    struct homing_delivery *d = NULL;
    size_t nd = 0;
    if (homing_store_deliveries_due_fair(w->store, INT64_MAX, UI_RETRIES_PER_HOOK, UI_RETRIES_SHOWN,
                                         &d, &nd) == 0 &&
        nd > 0) {
        homing_buf_printf(&b,
                          "<table><caption>Pending deliveries (at most %d, %d per webhook)"
                          "</caption><thead><tr><th scope=\"col\">notification</th>"
                          "<th scope=\"col\">webhook</th><th scope=\"col\">kind</th>"
                          "<th scope=\"col\">what</th><th scope=\"col\">attempts</th>"
                          "<th scope=\"col\">made</th></tr></thead><tbody>\n",
                          UI_RETRIES_SHOWN, UI_RETRIES_PER_HOOK);
        for (size_t i = 0; i < nd; i++) {
            homing_buf_printf(&b, "<tr><th scope=\"row\">%" PRId64 "</th><td>%" PRId64 "</td><td>",
                              d[i].notification, d[i].webhook);
            homing_buf_html(&b, d[i].n.kind);
            homing_buf_puts(&b, "</td><td>");
            homing_buf_html(&b, d[i].n.text);
            homing_buf_printf(&b, "</td><td>%d</td><td>", d[i].attempts);
            ui_time(&b, d[i].notification_us);
            homing_buf_puts(&b, "</td></tr>\n");
        }
        homing_buf_puts(&b, "</tbody></table>\n");
    } else
        homing_buf_puts(&b, "<p>No delivery waiting.</p>\n");
    homing_deliveries_free(d, nd);
    return ui_page(req, &b);
}

int ui_documents(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    struct homing_buf b;
    homing_buf_init(&b, UI_PAGE_MAX);
    ui_head(&b, "Documents", s);
    struct homing_document *docs = NULL;
    size_t n = 0;
    struct homing_grant *g = NULL;
    size_t ng = 0;
    if (homing_store_document_list(w->store, &docs, &n) < 0 ||
        homing_store_grant_list(w->store, 0, &g, &ng) < 0) {
        homing_documents_free(docs, n);
        homing_buf_puts(&b, "<p class=\"err\">The store could not be read.</p>");
        return ui_page(req, &b);
    }
    if (n == 0)
        homing_buf_puts(&b, "<p>No shared document: add one with <code>homing doc add FILE"
                            "</code>.</p>\n");
    else
        homing_buf_puts(&b, "<table><caption>Shared documents</caption><thead><tr>"
                            "<th scope=\"col\">name</th><th scope=\"col\">type</th>"
                            "<th scope=\"col\">bytes</th><th scope=\"col\">grants</th>"
                            "<th scope=\"col\">downloads</th><th scope=\"col\">added</th>"
                            "</tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        homing_buf_puts(&b, "<tr><th scope=\"row\">");
        homing_buf_html(&b, docs[i].name);
        homing_buf_puts(&b, "</th><td>");
        homing_buf_html(&b, docs[i].media_type);
        homing_buf_printf(&b,
                          "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>",
                          docs[i].size, docs[i].grants, docs[i].uses);
        ui_time(&b, docs[i].created_us);
        homing_buf_puts(&b, "</td></tr>\n");
    }
    if (n) homing_buf_puts(&b, "</tbody></table>\n");
    homing_documents_free(docs, n);
    int can_revoke = s->scope >= HOMING_APIKEY_SCOPE_WRITE;
    if (ng) {
        homing_buf_printf(&b,
                          "<table><caption>Grants: who may open which document (%s)</caption>"
                          "<thead><tr><th scope=\"col\">grant</th><th scope=\"col\">document"
                          "</th><th scope=\"col\">recipient</th><th scope=\"col\">uses</th>"
                          "<th scope=\"col\">expires</th><th scope=\"col\">state</th></tr>"
                          "</thead><tbody>\n",
                          can_revoke ? "revoke stops the next download"
                                     : "signed in with read scope: revoking needs write");
    }
    for (size_t i = 0; i < ng && i < UI_GRANTS_SHOWN; i++) {
        homing_buf_printf(&b, "<tr><th scope=\"row\">%" PRId64 "</th><td>", g[i].id);
        homing_buf_html(&b, g[i].document_name);
        homing_buf_puts(&b, "</td><td>");
        homing_buf_html(&b, g[i].address ? g[i].address : "(per message)");
        if (g[i].max_uses)
            homing_buf_printf(&b, "</td><td>%" PRId64 " of %" PRId64 "</td><td>", g[i].uses,
                              g[i].max_uses);
        else
            homing_buf_printf(&b, "</td><td>%" PRId64 "</td><td>", g[i].uses);
        ui_time(&b, g[i].expires_us);
        homing_buf_puts(&b, "</td><td>");
        if (g[i].revoked_us) {
            homing_buf_puts(&b, "revoked ");
            ui_time(&b, g[i].revoked_us);
        } else if (can_revoke) {
            homing_buf_printf(&b,
                              "<form method=\"post\" action=\"/ui/grant/revoke\">"
                              "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                              "<input type=\"hidden\" name=\"grant\" value=\"%" PRId64 "\">"
                              "<button type=\"submit\" aria-label=\"Revoke grant %" PRId64
                              "\">Revoke</button></form>",
                              s->csrf, g[i].id, g[i].id);
        } else
            homing_buf_puts(&b, "active");
        homing_buf_puts(&b, "</td></tr>\n");
    }
    if (ng) homing_buf_puts(&b, "</tbody></table>\n");
    if (ng > UI_GRANTS_SHOWN)
        homing_buf_printf(&b,
                          "<p>The first %d of %zu grants; <code>homing doc grants</code> "
                          "lists them all.</p>",
                          UI_GRANTS_SHOWN, ng);
    homing_grants_free(g, ng);
    return ui_page(req, &b);
}

/* POST /ui/grant/revoke: the form's CSRF token was checked by the dispatch. */
int ui_grant_revoke(struct worker *w, h2o_req_t *req, struct ui_session *s)
{
    if (s->scope < HOMING_APIKEY_SCOPE_WRITE)
        return ui_error_page(req, s, 403, "Forbidden",
                             "Revoking a grant needs a session of write scope: sign in with a "
                             "write or admin API key. Nothing was changed.");
    char v[24];
    int64_t id = 0;
    int n = homing_form_get(req->entity.base, req->entity.len, "grant", v, sizeof v);
    for (int i = 0; n > 0 && i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || id > (INT64_MAX - 9) / 10) {
            id = 0;
            break;
        }
        id = id * 10 + (v[i] - '0');
    }
    if (id <= 0) return ui_bad_request(req, s, "No grant named: grant=ID.");
    int r = homing_store_grant_revoke(w->store, id, 0, NULL);
    if (r < 0 && r != -ENOENT)
        return ui_bad_request(req, s, "The store could not revoke it; nothing was changed.");
    /* revoked now, or already: either way the page shows it revoked */
    req->res.status = 303;
    req->res.reason = "See Other";
    ui_headers(req);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL,
                   H2O_STRLIT("/ui/documents"));
    req->res.content_length = 0;
    h2o_send_inline(req, "", 0);
    return 0;
}
