/*
 * floor.h: the plain parse that issue #6 measures `homing scan` and
 * `homing trace` against (bench/scan_floor.c, bench/trace_bench.c): GMime for
 * the MIME structure, gumbo for the HTML.
 */
#ifndef HOMING_BENCH_FLOOR_H
#define HOMING_BENCH_FLOOR_H

#include <gmime/gmime.h>

/* Walks the MIME tree below o (multiparts, attached messages), decodes each
 * text/html part and parses it with gumbo; returns how many it parsed. */
unsigned long bench_floor_walk(GMimeObject *o);

#endif
