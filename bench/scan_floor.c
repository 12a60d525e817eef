/*
 * scan_floor.c: the floor `homing scan` is measured against (bench/scan): for
 * every file in the directories given, read it, parse it with GMime, walk the
 * MIME tree, decode each text/html part and parse it with gumbo; nothing else.
 * Prints "floor: N messages in S s = R messages/s".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "floor.h"

static unsigned long html_parts;

int main(int argc, char **argv)
{
    g_mime_init();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long n = 0;
    for (int a = 1; a < argc; a++) {
        struct dirent **names;
        int k = scandir(argv[a], &names, NULL, alphasort);
        for (int i = 0; i < k; i++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[a], names[i]->d_name);
            free(names[i]);
            FILE *f = fopen(p, "rb");
            if (!f || p[strlen(argv[a]) + 1] == '.') {
                if (f) fclose(f);
                continue;
            }
            GMimeStream *s = g_mime_stream_file_new(f); /* owns f */
            GMimeParser *parser = g_mime_parser_new_with_stream(s);
            GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
            if (m) {
                if (g_mime_message_get_mime_part(m))
                    html_parts += bench_floor_walk(g_mime_message_get_mime_part(m));
                g_object_unref(m);
                n++;
            }
            g_object_unref(parser);
            g_object_unref(s);
        }
        free(names);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("floor: %lu messages (%lu HTML parts) in %.3f s = %.0f messages/s\n", n, html_parts, sec,
           n / sec);
    return n ? 0 : 1;
}
