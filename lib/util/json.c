/*
 * json.c: JSON strings for text that came from outside. jansson refuses text
 * that is not UTF-8; a header or URL from a hostile message must still be shown,
 * so such text is shown with control and non-ASCII bytes replaced by '?'.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/util.h"

void *homing_json_text(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c) return json_null();
    homing_str_sanitize(c, n + 1, s, n);
    j = json_string(c);
    free(c);
    return j ? j : json_null();
}
