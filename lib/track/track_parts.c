/*
 * track_parts.c: every text/html part of a message as `homing track` reads it
 * (transfer encoding undone, converted to UTF-8 from its charset or its
 * <meta>), for the test that checks rewrite_html against rewrite_html_gumbo
 * over the corpus (tests/unit/test_rewrite_diff.c). Not used by the command:
 * track.c keeps its own walk, which also knows where each part lies.
 */
#include <errno.h>
#include <string.h>

#include <gmime/gmime.h>

#include "lib/mime/addr_check_int.h"
#include "track_int.h"

struct parts_walk {
    int (*cb)(void *ctx, const char *html, size_t len);
    void *ctx;
    int r;
};

static void one_part(GMimeObject *parent, GMimeObject *obj, gpointer user)
{
    (void)parent;
    struct parts_walk *w = user;
    if (w->r != 0 || !GMIME_IS_PART(obj)) return;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (!ct || !g_mime_content_type_is_type(ct, "text", "html")) return;
    GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));
    if (!dw) return;
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, mem);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    const char *body = ba->len ? (const char *)ba->data : "";
    const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
    char meta[64];
    int by_meta = (!cs || !*cs) && track_text_meta_charset(body, ba->len, meta, sizeof meta);
    if (by_meta) cs = meta;
    struct track_text tt;
    int r = track_text_decode(cs, body, ba->len, &tt);
    if (r == -ENOTSUP) r = track_text_decode(NULL, body, ba->len, &tt);
    if (r == 0) {
        w->r = w->cb(w->ctx, tt.utf8, tt.len);
        track_text_free(&tt);
    } else if (r != -E2BIG) {
        w->r = r;
    }
    g_object_unref(mem);
}

int track_html_parts(const char *msg, size_t len,
                     int (*cb)(void *ctx, const char *html, size_t len), void *ctx)
{
    if (mime_addr_check(msg, len) < 0) return -ELOOP; /* GMime's group parser recurses */
    GMimeMessage *m = homing_mime_parse(msg, len);
    struct parts_walk w = {cb, ctx, 0};
    if (m) {
        g_mime_message_foreach(m, one_part, &w);
        g_object_unref(m);
    }
    return w.r;
}
