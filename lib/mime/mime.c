/*
 * mime.c: GMime's one-time set-up for every module of libhoming (mime_int.h).
 * It was written three times (report, scan, track), each with its own once
 * flag; g_mime_init itself is not safe to race.
 */
#include <pthread.h>

#include <gmime/gmime.h>

#include "mime_int.h"

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void mime_start(void)
{
    g_mime_init();
}

void homing_mime_init(void)
{
    pthread_once(&mime_once, mime_start);
}
