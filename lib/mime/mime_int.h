/*
 * mime_int.h (internal to libhoming, for its feature modules): the one place
 * GMime is set up. Every module that parses MIME (report, scan, track) calls
 * homing_mime_init before its first GMime call (homing_mime_decode_words
 * does); GMime's global tables are
 * made once per process, thread-safely, and never torn down (GMime keeps
 * them until exit, and a module cannot know it is the last user).
 */
#ifndef HOMING_LIB_MIME_INT_H
#define HOMING_LIB_MIME_INT_H

void homing_mime_init(void);

/* RFC 2047 encoded words in header text decoded into UTF-8 (GMime's decoder:
 * every charset it knows, blanks between adjacent encoded words dropped), as
 * a malloc'd string; text without "=?" is copied as it is. NULL only when
 * out of memory. */
char *homing_mime_decode_words(const char *s);

#endif
