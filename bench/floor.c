/*
 * floor.c: the MIME walk of the floor (floor.h), shared by the benchmarks
 * that compare against it so both measure the same work.
 */
#include "floor.h"

#include <gumbo.h>

unsigned long bench_floor_walk(GMimeObject *o)
{
    unsigned long n = 0;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            n += bench_floor_walk(g_mime_multipart_get_part(mp, i));
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (m && g_mime_message_get_mime_part(m))
            n += bench_floor_walk(g_mime_message_get_mime_part(m));
    } else if (GMIME_IS_PART(o)) {
        GMimeContentType *ct = g_mime_object_get_content_type(o);
        if (!ct || !g_mime_content_type_is_type(ct, "text", "html")) return 0;
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
        if (!w) return 0;
        GMimeStream *mem = g_mime_stream_mem_new();
        g_mime_data_wrapper_write_to_stream(w, mem);
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
        GumboOutput *g =
            gumbo_parse_with_options(&kGumboDefaultOptions, (const char *)ba->data, ba->len);
        gumbo_destroy_output(&kGumboDefaultOptions, g);
        g_object_unref(mem);
        n++;
    }
    return n;
}
