/*
 * depth_int.h (internal to libhoming): a linear pre-scan of an HTML document,
 * with our own tokenizer, that bounds what gumbo's tree builder will do with
 * it before lib/html/scan.c hands it to gumbo.
 *
 * gumbo has no limits of its own: every start and end tag walks its stack of
 * open elements (scope checks, "any other end tag"), so 100,000 nested <div>s
 * cost it 24 s, and it frees its tree recursively (gumbo_destroy_output), so
 * 70,000 nested tables overflow the stack. html_depth_check runs a small model
 * of the tree builder (docs/internals/scan.md): the stack of open elements with
 * the end tags and implied end tags that pop it, the elements whose content is
 * text, foreign content, and the list of active formatting elements that the
 * builder reopens. Where the model cannot be sure the builder pops, it does not
 * pop, so its depth is never less than gumbo's.
 *
 * Contract: reads len bytes; time and memory linear in len (the model stops
 * at the first limit). Returns 0 with the deepest nesting and the work done
 * in *out (may be NULL), -EMLINK when the document nests deeper than
 * HTML_DEPTH_NEST_MAX elements or the model's work (the depth at every
 * element opened plus every element looked at to close one) passes
 * HTML_DEPTH_WORK_MAX, or holds a <frameset> start tag (depth.c says
 * why), or -ENOMEM.
 */
#ifndef HOMING_LIB_HTML_DEPTH_H
#define HOMING_LIB_HTML_DEPTH_H

#include <stddef.h>
#include <stdint.h>

/* The limits (homing/scan.h repeats them as HTML_DEPTH_NEST_MAX and
 * HTML_DEPTH_WORK_MAX for the programs; lib/scan/scan.c checks that the
 * two agree): element nesting, and the model's work. */
#define HTML_DEPTH_NEST_MAX 1024
#define HTML_DEPTH_WORK_MAX (32u << 20)

struct html_depth {
    size_t max_depth; /* the deepest the stack of open elements got */
    uint64_t work;    /* the model's steps */
};

int html_depth_check(const char *html, size_t len, struct html_depth *out);

#endif
