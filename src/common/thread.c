/*
 * thread.c: see thread.h. On Linux a thread is a task with its own id, nice
 * value and scheduling policy, so setpriority and sched_setscheduler on a
 * thread id affect that thread only, and any thread of the process may change
 * another's (same user; raising needs RLIMIT_NICE, see can_return).
 */
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "thread.h"

struct entry {
    pid_t tid; /* 0: free slot */
    int urgent;
};

/* The registry. The lock also orders every change of a registered thread's
 * policy, so two changes (the watch, a waiting writer, the thread itself)
 * never interleave their two system calls. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry threads[THREAD_MAX];
static int flood;  /* mode, see thread.h */
static int raised; /* thread_store_waits raised everyone since the last thread_set_flood */
static atomic_int raised_hint; /* lock-free copy of raised: repeated waits do not queue */
static atomic_ullong raises;   /* thread_raises */
static __thread int registered, urgent_self;

static pid_t self_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* Whether the caller holds CAP_SYS_NICE (serve keeps it when it cannot raise
 * RLIMIT_NICE). glibc has no wrapper for capget. */
static int has_cap_sys_nice(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) return 0;
    return (d[CAP_SYS_NICE / 32].effective >> (CAP_SYS_NICE % 32)) & 1;
}

/* Whether a thread put in SCHED_IDLE can be brought back to nice 0: needs
 * RLIMIT_NICE 20 (nice down to 20 - 20 = 0) or CAP_SYS_NICE. Failing to change
 * a priority is harmless otherwise: the thread just competes as it is. */
static int can_return(void)
{
    struct rlimit rl;
    return (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur >= 20) || has_cap_sys_nice();
}

/* Applies a policy to one thread; called with the lock held. Nice first, then
 * the class: from SCHED_IDLE the switch to SCHED_OTHER keeps the nice value,
 * which the kernel checks against RLIMIT_NICE. */
static void apply(pid_t tid, int urgent, int in_registry)
{
    int nice = urgent || raised ? 0 : THREAD_BACKGROUND_NICE;
    /* A thread the registry has no room for is never raised: never idle. */
    int idle = in_registry && !urgent && !raised && flood && can_return();
    struct sched_param sp = {0};
    (void)setpriority(PRIO_PROCESS, (id_t)tid, nice);
    (void)sched_setscheduler(tid, idle ? SCHED_IDLE : SCHED_OTHER, &sp);
}

static void enroll(int urgent)
{
    pid_t tid = self_tid();
    pthread_mutex_lock(&lock);
    struct entry *e = NULL;
    for (int i = 0; i < THREAD_MAX && !e; i++)
        if (threads[i].tid == tid || (!registered && threads[i].tid == 0)) e = &threads[i];
    if (e) {
        e->tid = tid;
        e->urgent = urgent;
        registered = 1;
    }
    urgent_self = urgent;
    apply(tid, urgent, e != NULL);
    pthread_mutex_unlock(&lock);
}

void thread_background(void)
{
    enroll(0);
}

void thread_ingest_priority(int urgent)
{
    enroll(urgent);
}

void thread_background_end(void)
{
    pid_t tid = self_tid();
    pthread_mutex_lock(&lock);
    for (int i = 0; i < THREAD_MAX; i++)
        if (threads[i].tid == tid) threads[i].tid = 0;
    registered = 0;
    pthread_mutex_unlock(&lock);
}

static void apply_all(void)
{
    for (int i = 0; i < THREAD_MAX; i++)
        if (threads[i].tid) apply(threads[i].tid, threads[i].urgent, 1);
}

void thread_set_flood(int on)
{
    pthread_mutex_lock(&lock);
    if (flood != on || raised) {
        flood = on;
        raised = 0;
        atomic_store(&raised_hint, 0);
        apply_all();
    }
    pthread_mutex_unlock(&lock);
}

void thread_store_waits(void)
{
    if (registered && !urgent_self) return;
    if (atomic_exchange(&raised_hint, 1)) return; /* already raised */
    atomic_fetch_add(&raises, 1);
    pthread_mutex_lock(&lock);
    raised = 1;
    apply_all();
    pthread_mutex_unlock(&lock);
}

unsigned long long thread_raises(void)
{
    return atomic_load(&raises);
}
