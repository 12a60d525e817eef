/*
 * thread.c: see thread.h. On Linux, nice is per thread (a thread is a task), so
 * setpriority on the thread id affects only the caller.
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "thread.h"

void thread_background(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    /* Failing to lower one's own priority is harmless: the thread just competes. */
    (void)setpriority(PRIO_PROCESS, (id_t)tid, THREAD_BACKGROUND_NICE);
}

void thread_ingest_priority(int urgent)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    /* Raising it back to 0 needs CAP_SYS_NICE once dropped to an unprivileged
     * user (RLIMIT_NICE is usually 0): then it stays at +10 and lags longer. */
    (void)setpriority(PRIO_PROCESS, (id_t)tid, urgent ? 0 : THREAD_BACKGROUND_NICE);
}
