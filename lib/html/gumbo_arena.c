/*
 * gumbo_arena.c: gumbo's allocations for one parse in an arena (see
 * gumbo_arena_int.h). Moved here from rewrite_gumbo.c so that scan.c parses the
 * same way.
 */
#include <stddef.h>
#include <stdlib.h>

#include "gumbo_arena_int.h"

/* gumbo allocates and frees every token, string and node on its own; an arena
 * for one parse turns that into pointer bumps and the teardown of the tree into
 * freeing a few chunks. Its size is bounded by a constant times the input. */
#define ARENA_CHUNK (64u * 1024)

struct gumbo_arena_chunk {
    struct gumbo_arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

/* A few chunks are kept per thread between parses (a part's parse, and the
 * parse of a conditional comment inside it, each need one): allocating and
 * freeing the same large blocks for every part made malloc trim and grow the
 * heap, and touch fresh pages, each time. */
#define ARENA_SPARE_MAX 4

static __thread struct gumbo_arena_chunk *arena_spare;
static __thread unsigned arena_n_spare;

void *gumbo_arena_alloc(void *user, size_t n)
{
    struct gumbo_arena *a = user;
    n = (n + 15) & ~(size_t)15;
    struct gumbo_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        if (arena_spare && cap == ARENA_CHUNK) {
            c = arena_spare;
            arena_spare = c->next;
            arena_n_spare--;
        } else {
            c = malloc(sizeof *c + cap);
        }
        /* gumbo never checks an allocation (its own default aborts too) */
        if (!c) abort();
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *user, void *p)
{
    (void)user;
    (void)p;
}

void gumbo_arena_release(struct gumbo_arena *a)
{
    while (a->head) {
        struct gumbo_arena_chunk *c = a->head;
        a->head = c->next;
        if (arena_n_spare < ARENA_SPARE_MAX && c->cap == ARENA_CHUNK) {
            c->next = arena_spare;
            arena_spare = c;
            arena_n_spare++;
            continue;
        }
        free(c);
    }
}

GumboOutput *gumbo_arena_parse(struct gumbo_arena *a, const char *html, size_t len)
{
    GumboOptions opt = kGumboDefaultOptions;
    opt.max_errors = 0; /* errors are not needed, and unbounded on bad input */
    opt.allocator = gumbo_arena_alloc;
    opt.deallocator = arena_free;
    opt.userdata = a;
    return gumbo_parse_with_options(&opt, html, len);
}
