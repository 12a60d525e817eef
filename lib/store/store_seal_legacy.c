/*
 * store_seal_legacy.c: placeholder, replaced below.
 */
#include "lib/store/store_int.h"

int store_seal_legacy(struct homing_store *s)
{
    (void)s;
    return 0;
}
