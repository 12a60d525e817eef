/*
 * reader_int.h: helpers shared by the files of lib/reader, not part of the
 * public API.
 */
#ifndef HOMING_READER_INTERNAL_H
#define HOMING_READER_INTERNAL_H

#include <stddef.h>

/* Splits line in place at tabs into at most max columns (the last one keeps any
 * further tabs); returns the number of columns. */
int reader_split_tabs(char *line, char **col, int max);

/* path of name in the data directory (HOMING_DATADIR) into out. */
int reader_data_path(const char *name, char *out, size_t cap);

#endif
