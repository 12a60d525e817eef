/*
 * thread.h: scheduling of the daemon's background threads.
 *
 * The loop threads answer hits; everything else (the journal's ingester,
 * enrichment, notifications and their delivery, checkpoints, privacy sweeps)
 * is asynchronous by design and may fall behind under a flood and catch up.
 * Those threads register here and the daemon moves them between two modes:
 *
 * - normal: nice +10, so they still get a fair share of a machine that other
 *   programs keep busy and notifications go out at once;
 * - flood (serve's watch saw a loop thread busy, see thread_set_flood):
 *   SCHED_IDLE, so they run only on CPU the loop threads leave free. At nice
 *   +10 the kernel lets a background thread finish its slice before a waking
 *   loop thread runs, which cost the loop a third of a core under wrk.
 *
 * No loop thread touches the store (hits and document-grant uses go through
 * the journal), so the store's write lock is wanted only by these threads,
 * the admin thread (API writes) and the CLI. An idle-class thread preempted
 * while holding it would stall the admin thread or the urgent ingester until
 * the CPU frees up (priority inversion). So a thread that has to wait for
 * the lock calls thread_store_waits (at its first wait and every 20 ms after:
 * the store's busy handler), which raises every registered thread to nice 0
 * until the next thread_set_flood. The ingester also runs at nice 0 whenever its
 * backlog is large (thread_ingest_priority), so a sustained flood cannot grow
 * the journal without bound.
 *
 * Going back from SCHED_IDLE to nice 10 or 0 needs RLIMIT_NICE (serve raises
 * it while still root) or CAP_SYS_NICE; a process without it never uses
 * SCHED_IDLE and stays at nice +10 in both modes.
 */
#ifndef HOMING_THREAD_H
#define HOMING_THREAD_H

#define THREAD_BACKGROUND_NICE 10
#define THREAD_MAX             32 /* registered background threads per process */

/* Registers the calling thread as a background thread and applies the
 * current mode to it. A thread past THREAD_MAX just gets nice +10. */
void thread_background(void);

/* The journal's ingester: registers like thread_background, and runs at nice
 * 0 in both modes while urgent (its backlog is large). */
void thread_ingest_priority(int urgent);

/* Removes the calling thread from the registry (before it exits). */
void thread_background_end(void);

/* Switches every registered thread to flood (1) or normal (0) mode, and ends
 * any raise by thread_store_waits. Called by serve's watch, a few times a
 * second. */
void thread_set_flood(int on);

/* The store's hook for a write that has to wait for another handle's write
 * lock (homing_store_set_wait_hook): raises every registered thread to nice
 * 0, so the holder finishes whatever its class. Does nothing when called by
 * a background thread that is not urgent: it is no more urgent than the
 * holder. */
void thread_store_waits(void);

/* How many times thread_store_waits raised the registered threads. */
unsigned long long thread_raises(void);

#endif
