/*
 * mime_int.h (internal to libhoming, for its feature modules): the one place
 * GMime is set up. Every module that parses MIME (report, scan, track) calls
 * homing_mime_init before its first GMime call; GMime's global tables are
 * made once per process, thread-safely, and never torn down (GMime keeps
 * them until exit, and a module cannot know it is the last user).
 */
#ifndef HOMING_LIB_MIME_INT_H
#define HOMING_LIB_MIME_INT_H

void homing_mime_init(void);

#endif
