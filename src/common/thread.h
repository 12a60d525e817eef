/*
 * thread.h: scheduling of the daemon's background threads.
 */
#ifndef HOMING_THREAD_H
#define HOMING_THREAD_H

#define THREAD_BACKGROUND_NICE 10

/* Lowers the calling thread's priority (nice +10). Enrichment, notifications,
 * checkpoints and privacy sweeps are asynchronous by design: under a flood of
 * hits they may fall behind and catch up, while the loop threads answering hits
 * keep most of the CPU. Not SCHED_IDLE: these threads take the store's write
 * lock, and an idle-class thread preempted while holding it would stall the
 * loop threads' commits behind it (priority inversion). */
void thread_background(void);

#endif
