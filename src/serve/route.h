/*
 * route.h: maps a request path of the public listener to a route, without
 * touching the network or the store, so it can be fuzzed on its own.
 *
 *   /o/<token>.gif   open pixel       /c/<token>   click redirect
 *   /d/<token>       document         /healthz     liveness
 *   /u/<token>       one-click unsubscribe (RFC 8058): GET a confirmation
 *                    page, POST the unsubscribe
 *
 * A query string is ignored (mail clients and proxies append their own); any
 * other path is ROUTE_NOT_FOUND. The token is returned as a slice into the path.
 */
#ifndef HOMING_SERVE_ROUTE_H
#define HOMING_SERVE_ROUTE_H

#include <stddef.h>

#include "homing/util.h"

#define ROUTE_PATH_MAX 2048 /* longer paths are not ours: ROUTE_NOT_FOUND */

enum route_kind {
    ROUTE_NOT_FOUND = 0,
    ROUTE_PIXEL,
    ROUTE_CLICK,
    ROUTE_DOCUMENT,
    ROUTE_HEALTHZ,
    ROUTE_UNSUBSCRIBE,
};

struct route {
    enum route_kind kind;
    struct homing_slice token; /* for PIXEL, CLICK, DOCUMENT, UNSUBSCRIBE */
};

void route_parse(const char *path, size_t len, struct route *out);

/* Whether the body of a POST to /u/ is the one-click request of RFC 8058
 * (section 3.1): the key/value pair List-Unsubscribe=One-Click, sent as
 * application/x-www-form-urlencoded (what mail providers send, and the
 * confirmation page's form) or as multipart/form-data (a part named
 * List-Unsubscribe whose value is One-Click). 1 yes, 0 no. Only the first
 * ROUTE_FORM_MAX bytes are looked at: a longer body is not one. */
#define ROUTE_FORM_MAX 8192

int route_one_click(const char *body, size_t len);

/* Message framing of an HTTP/1 request (RFC 9112 section 6.3): head is the
 * raw request as received, from its request line up to and including the
 * blank line that ends the fields (more bytes after it are ignored). Returns
 * 0 when at most one Content-Length or one Transfer-Encoding field frames the
 * body, -EINVAL for a second Content-Length, a second Transfer-Encoding, both
 * together, or an obsolete line folding (a field line starting with a space
 * or tab), which a server must refuse rather than guess: a proxy in front may
 * have framed the body the other way and the rest would run as a second
 * request. Only the first ROUTE_HEAD_MAX bytes are looked at; a head without
 * its blank line within them is -EINVAL too. */
#define ROUTE_HEAD_MAX (512 * 1024) /* above h2o 2.2's own bound on a request head */

int route_framing_check(const char *head, size_t len);

/* Client address of a request: the peer, unless the peer is a trusted proxy;
 * then the rightmost address of X-Forwarded-For (or else Forwarded "for=")
 * that is not itself a trusted proxy. Header values are untrusted bytes. */
#define CLIENTADDR_HEADER_MAX  2048 /* longer forwarding headers are ignored */
#define CLIENTADDR_HOPS_MAX    32   /* addresses examined, from the right */
#define CLIENTADDR_PROXIES_MAX 64

struct trusted_proxies {
    size_t n;
    struct homing_cidr nets[CLIENTADDR_PROXIES_MAX];
};

/* Parses "127.0.0.1, 10.0.0.0/8": -EINVAL naming nothing on a bad entry. */
int trusted_proxies_parse(const char *text, struct trusted_proxies *out);
int trusted_proxies_contains(const struct trusted_proxies *t, const struct homing_addr *a);

/* xff / fwd may be NULL. Writes the chosen client into out (always succeeds:
 * falls back to the peer). */
void clientaddr_resolve(const struct trusted_proxies *t, const struct homing_addr *peer,
                        const char *xff, size_t xff_len, const char *fwd, size_t fwd_len,
                        struct homing_addr *out);

#endif
