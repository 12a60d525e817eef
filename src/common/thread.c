/*
 * thread.c: see thread.h. On Linux, nice is per thread (a thread is a task), so
 * setpriority on the thread id affects only the caller.
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "thread.h"

/* Failing to change one's own priority is harmless: the thread just competes
 * as it is. Going back to 0 needs RLIMIT_NICE (serve raises it while still
 * root) or CAP_SYS_NICE; without either the ingester stays at +10. */
static void set_nice(int nice)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    (void)setpriority(PRIO_PROCESS, (id_t)tid, nice);
}

void thread_background(void)
{
    set_nice(THREAD_BACKGROUND_NICE);
}

void thread_ingest_priority(int urgent)
{
    set_nice(urgent ? 0 : THREAD_BACKGROUND_NICE);
}
