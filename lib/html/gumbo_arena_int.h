/*
 * gumbo_arena_int.h (internal to libhoming): gumbo parses into an arena that is
 * dropped whole. Besides being fast (gumbo allocates and frees every token,
 * string and node on its own), it means gumbo_destroy_output is never called:
 * gumbo frees its tree recursively, one call per level, so a deep tree
 * overflowed the stack there. (gumbo also frees a <body> recursively when a
 * <frameset> replaces it; lib/html/depth.c refuses documents with one.)
 *
 * Contract: gumbo_arena_parse returns gumbo's output (max_errors 0, so no
 * error list) or NULL; everything it points to lives until
 * gumbo_arena_release. An allocation that fails aborts, as gumbo's own
 * allocator does (gumbo never checks one). A few chunks are kept per thread
 * for the next parse.
 */
#ifndef HOMING_LIB_HTML_GUMBO_ARENA_H
#define HOMING_LIB_HTML_GUMBO_ARENA_H

#include <stddef.h>

#include <gumbo.h>

struct gumbo_arena_chunk;

struct gumbo_arena {
    struct gumbo_arena_chunk *head;
};

/* gumbo's allocator signature; user is the struct gumbo_arena */
void *gumbo_arena_alloc(void *user, size_t n);
GumboOutput *gumbo_arena_parse(struct gumbo_arena *a, const char *html, size_t len);
void gumbo_arena_release(struct gumbo_arena *a);

#endif
