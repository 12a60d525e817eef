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

/* The journal's ingester: nice +10 (as thread_background) while its backlog
 * is small, so a burst of hits is absorbed by the journal while the loop
 * threads keep the CPU; nice 0 when urgent, so a sustained flood cannot grow
 * the journal without bound. Not SCHED_IDLE, for the reason above. */
void thread_ingest_priority(int urgent);

#endif
