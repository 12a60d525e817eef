/*
 * mime.c: GMime's one-time set-up for every module of libhoming (mime_int.h).
 * It was written three times (report, scan, track), each with its own once
 * flag; g_mime_init itself is not safe to race. And the one RFC 2047 decoder
 * (report and trace each had one), the one reader of a leaf part's decoded
 * bytes and the one parse of a message held in memory (scan, trace and
 * track each had their own).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mime_int.h"

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void mime_start(void)
{
    g_mime_init();
}

void homing_mime_init(void)
{
    pthread_once(&mime_once, mime_start);
}

char *homing_mime_decode_words(const char *s)
{
    if (!strstr(s, "=?")) return strdup(s);
    homing_mime_init();
    char *d = g_mime_utils_header_decode_text(NULL, s);
    if (!d) return strdup(s);
    char *r = strdup(d);
    g_free(d);
    return r;
}

GByteArray *homing_mime_part_bytes(GMimePart *part)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (!w) return NULL;
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    if (g_mime_data_wrapper_write_to_stream(w, mem) < 0) {
        g_object_unref(mem);
        return NULL;
    }
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_object_unref(mem);
    return ba;
}

GMimeMessage *homing_mime_parse(const char *data, size_t len)
{
    homing_mime_init();
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *p = g_mime_parser_new_with_stream(st);
    g_object_unref(st);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
    g_object_unref(p);
    return m;
}
