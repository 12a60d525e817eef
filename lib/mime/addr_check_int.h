/*
 * addr_check_int.h (internal to libhoming): a linear pre-scan of a raw message
 * for address headers that GMime's address parser would recurse on too deeply.
 * GMime parses From, Sender, Reply-To, To, Cc and Bcc of every message it
 * builds (the top one and each message/rfc822 part) while it constructs the
 * message, and its group parser calls itself once per nested "name:" group:
 * `To: g:g:g:...` 100,000 deep overflows the stack inside
 * g_mime_parser_construct_message. So every caller checks the raw bytes here
 * before it hands them to GMime (lib/mime/scan_walk.c, track.c,
 * track_parts.c), and before internet_address_list_parse of Delivered-To.
 *
 * Contract: reads len bytes (NUL bytes included) and nothing else; no
 * allocation; time linear in len. Returns 0, or -ELOOP when one of those
 * fields (or Delivered-To) on any line of the message, folded lines included,
 * nests groups or comments deeper than MIME_ADDR_DEPTH_MAX, or holds
 * more than MIME_ADDR_COLONS_MAX colons at all.
 */
#ifndef HOMING_LIB_MIME_ADDR_CHECK_H
#define HOMING_LIB_MIME_ADDR_CHECK_H

#include <stddef.h>

/* The limits (homing/scan.h repeats them as MIME_ADDR_DEPTH_MAX and
 * MIME_ADDR_COLONS_MAX for the programs; lib/scan/scan_walk.c checks
 * that the two agree). */
#define MIME_ADDR_DEPTH_MAX  64
#define MIME_ADDR_COLONS_MAX 1000

/* The depth of one address header's value (groups and comments, quotes
 * respected): 0 for a plain list; the larger of the two kinds. *colons gets
 * the number of ':' anywhere in it. */
unsigned mime_addr_value_depth(const char *v, size_t len, size_t *colons);

/* 0, or -ELOOP: see above. */
int mime_addr_check(const char *msg, size_t len);

#endif
