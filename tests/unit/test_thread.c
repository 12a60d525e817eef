/*
 * test_thread.c: the background threads' scheduling (src/common/thread.c):
 * normal mode at nice +10, flood mode in SCHED_IDLE, the raise to nice 0 when
 * a writer waits for the store's lock, the urgent ingester, and a registry
 * with no room left. Policies are read back from the kernel
 * (sched_getscheduler, getpriority on the thread id).
 *
 * SCHED_IDLE is only used when a thread can be brought back (thread.c's
 * can_return: root or RLIMIT_NICE 20). The test raises RLIMIT_NICE if it can;
 * a process that cannot must see nice +10 in flood mode as well, which is
 * checked instead.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "thread.h"

enum role { ROLE_BACKGROUND, ROLE_INGEST };

/* A thread that registers, reports its id, then does what it is told until
 * told to end. */
struct worker {
    pthread_t thread;
    enum role role;
    pid_t tid;
    int command; /* 0 none, 1 store waits, 2 urgent, 3 not urgent, 4 end */
    int done;    /* commands carried out */
    pthread_mutex_t m;
    pthread_cond_t c;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (w->role == ROLE_INGEST)
        thread_ingest_priority(0);
    else
        thread_background();
    pthread_mutex_lock(&w->m);
    w->tid = (pid_t)syscall(SYS_gettid);
    pthread_cond_broadcast(&w->c);
    for (;;) {
        while (!w->command) pthread_cond_wait(&w->c, &w->m);
        int cmd = w->command;
        w->command = 0;
        if (cmd == 1) thread_store_waits();
        if (cmd == 2) thread_ingest_priority(1);
        if (cmd == 3) thread_ingest_priority(0);
        w->done++;
        pthread_cond_broadcast(&w->c);
        if (cmd == 4) break;
    }
    pthread_mutex_unlock(&w->m);
    thread_background_end();
    return NULL;
}

static void worker_start(struct worker *w, enum role role)
{
    *w = (struct worker){.role = role};
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
    assert_int_equal(pthread_create(&w->thread, NULL, worker_main, w), 0);
    pthread_mutex_lock(&w->m);
    while (!w->tid) pthread_cond_wait(&w->c, &w->m);
    pthread_mutex_unlock(&w->m);
}

static void worker_do(struct worker *w, int cmd)
{
    pthread_mutex_lock(&w->m);
    int before = w->done;
    w->command = cmd;
    pthread_cond_broadcast(&w->c);
    while (w->done == before) pthread_cond_wait(&w->c, &w->m);
    pthread_mutex_unlock(&w->m);
}

static void worker_end(struct worker *w)
{
    worker_do(w, 4);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->m);
    pthread_cond_destroy(&w->c);
}

/* Set in setup: whether this process may bring a thread back to nice 0, and
 * so whether flood mode may use SCHED_IDLE and a waiting writer may raise. */
static int idle_usable;

static void expect(pid_t tid, int policy, int nice)
{
    assert_int_equal(sched_getscheduler(tid), policy);
    errno = 0;
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)tid), nice);
    assert_int_equal(errno, 0);
}

/* What a raise (or urgency) gives a thread here: nice 0, or nice +10 in a
 * process that may not lower a nice value. */
static void expect_raised(pid_t tid)
{
    expect(tid, SCHED_OTHER, idle_usable ? 0 : THREAD_BACKGROUND_NICE);
}

/* What flood mode gives a background thread here. */
static void expect_flood(pid_t tid)
{
    if (idle_usable)
        assert_int_equal(sched_getscheduler(tid), SCHED_IDLE);
    else
        expect(tid, SCHED_OTHER, THREAD_BACKGROUND_NICE);
}

static int setup(void **state)
{
    (void)state;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur < 20 && rl.rlim_max >= 20) {
        rl.rlim_cur = 20;
        setrlimit(RLIMIT_NICE, &rl);
    }
    idle_usable = geteuid() == 0 || (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur >= 20);
    print_message("SCHED_IDLE in flood mode: %s\n", idle_usable ? "yes" : "no (nice +10)");
    return 0;
}

static void test_modes(void **state)
{
    (void)state;
    struct worker w;
    worker_start(&w, ROLE_BACKGROUND);
    expect(w.tid, SCHED_OTHER, THREAD_BACKGROUND_NICE);
    thread_set_flood(1);
    expect_flood(w.tid);
    thread_set_flood(0);
    expect(w.tid, SCHED_OTHER, THREAD_BACKGROUND_NICE);
    /* A thread that registers during a flood starts in flood mode. */
    thread_set_flood(1);
    struct worker late;
    worker_start(&late, ROLE_BACKGROUND);
    expect_flood(late.tid);
    thread_set_flood(0);
    expect(late.tid, SCHED_OTHER, THREAD_BACKGROUND_NICE);
    worker_end(&late);
    worker_end(&w);
}

/* The main thread is not a background thread: its wait raises everyone. */
static void test_waiting_writer_raises(void **state)
{
    (void)state;
    struct worker a, b;
    worker_start(&a, ROLE_BACKGROUND);
    worker_start(&b, ROLE_INGEST);
    thread_set_flood(1);
    unsigned long long before = thread_raises();
    thread_store_waits();
    assert_int_equal(thread_raises(), before + 1);
    expect_raised(a.tid);
    expect_raised(b.tid);
    /* A second wait before the next watch tick changes nothing more. */
    thread_store_waits();
    assert_int_equal(thread_raises(), before + 1);
    /* The watch's next tick ends the raise, even with the mode unchanged. */
    thread_set_flood(1);
    expect_flood(a.tid);
    expect_flood(b.tid);
    thread_store_waits();
    assert_int_equal(thread_raises(), before + 2);
    thread_set_flood(0);
    expect(a.tid, SCHED_OTHER, THREAD_BACKGROUND_NICE);
    worker_end(&a);
    worker_end(&b);
}

/* A background thread waiting for the lock is no more urgent than the holder:
 * nobody is raised. The urgent ingester is, and does raise. */
static void test_background_waiter(void **state)
{
    (void)state;
    struct worker a, ing;
    worker_start(&a, ROLE_BACKGROUND);
    worker_start(&ing, ROLE_INGEST);
    thread_set_flood(1);
    unsigned long long before = thread_raises();
    worker_do(&a, 1);
    assert_int_equal(thread_raises(), before);
    expect_flood(a.tid);
    worker_do(&ing, 1);
    assert_int_equal(thread_raises(), before);
    worker_do(&ing, 2); /* urgent: nice 0 whatever the mode */
    expect_raised(ing.tid);
    expect_flood(a.tid);
    worker_do(&ing, 1);
    assert_int_equal(thread_raises(), before + 1);
    expect_raised(a.tid);
    thread_set_flood(1);
    expect_raised(ing.tid);
    expect_flood(a.tid);
    worker_do(&ing, 3);
    expect_flood(ing.tid);
    thread_set_flood(0);
    worker_end(&a);
    worker_end(&ing);
}

/* With the registry full, one more thread gets nice +10 and is never put in
 * SCHED_IDLE, since no waiting writer could raise it. */
static void test_registry_full(void **state)
{
    (void)state;
    static struct worker w[THREAD_MAX + 1];
    for (int i = 0; i < THREAD_MAX; i++) worker_start(&w[i], ROLE_BACKGROUND);
    thread_set_flood(1);
    worker_start(&w[THREAD_MAX], ROLE_BACKGROUND); /* enrolls during the flood */
    for (int i = 0; i < THREAD_MAX; i++) expect_flood(w[i].tid);
    expect(w[THREAD_MAX].tid, SCHED_OTHER, THREAD_BACKGROUND_NICE);
    thread_store_waits();
    thread_set_flood(1);
    expect(w[THREAD_MAX].tid, SCHED_OTHER, THREAD_BACKGROUND_NICE);
    thread_set_flood(0);
    for (int i = 0; i <= THREAD_MAX; i++) worker_end(&w[i]);
    /* Their slots are free again. */
    struct worker again;
    worker_start(&again, ROLE_BACKGROUND);
    thread_set_flood(1);
    expect_flood(again.tid);
    thread_set_flood(0);
    worker_end(&again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_waiting_writer_raises),
        cmocka_unit_test(test_background_waiter),
        cmocka_unit_test(test_registry_full),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
