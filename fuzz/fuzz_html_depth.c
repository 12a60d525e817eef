/*
 * fuzz_html_depth.c: the pre-scan of lib/html/depth.c against gumbo, the tree
 * builder it stands in front of. The property: whenever the model lets a
 * document through, gumbo's tree is no deeper than the model's deepest stack
 * plus the html and body elements and a void or self-closing leaf, none of
 * which the model counts, so the limit the
 * model enforces holds for gumbo too. (The model may be deeper: it keeps
 * elements open where it cannot be sure the builder closes them.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <gumbo.h>

#include "lib/html/depth_int.h"

/* gumbo's tree depth in elements, walked with an explicit stack (the tree may
 * be deep; that is the point) */
static size_t tree_depth(const GumboNode *root)
{
    size_t cap = 1024, n = 0, max = 0;
    struct item {
        const GumboNode *node;
        size_t depth;
    } *st = malloc(cap * sizeof *st);
    if (!st) abort();
    st[n++] = (struct item){root, 0};
    while (n) {
        struct item it = st[--n];
        if (it.node->type != GUMBO_NODE_ELEMENT && it.node->type != GUMBO_NODE_TEMPLATE &&
            it.node->type != GUMBO_NODE_DOCUMENT)
            continue;
        size_t d = it.depth + (it.node->type != GUMBO_NODE_DOCUMENT);
        if (d > max) max = d;
        const GumboVector *ch = it.node->type == GUMBO_NODE_DOCUMENT ? &it.node->v.document.children
                                                                     : &it.node->v.element.children;
        for (unsigned i = 0; i < ch->length; i++) {
            if (n == cap) {
                cap *= 2;
                void *p = realloc(st, cap * sizeof *st);
                if (!p) abort();
                st = p;
            }
            st[n++] = (struct item){ch->data[i], d};
        }
    }
    free(st);
    return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct html_depth d;
    if (html_depth_check((const char *)data, size, &d) < 0) return 0;
    GumboOptions opt = kGumboDefaultOptions;
    opt.max_errors = 0;
    GumboOutput *g = gumbo_parse_with_options(&opt, (const char *)data, size);
    if (!g) abort();
    size_t gd = tree_depth(g->document);
    gumbo_destroy_output(&opt, g);
    if (gd > d.max_depth + 3) {
        fprintf(stderr, "gumbo's tree is %zu deep, the model's stack %zu\n", gd, d.max_depth);
        abort();
    }
    return 0;
}
