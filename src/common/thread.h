/*
 * thread.h: scheduling of the daemon's background threads.
 */
#ifndef HOMING_THREAD_H
#define HOMING_THREAD_H

#define THREAD_BACKGROUND_NICE 10

/* Lowers the calling thread's priority (nice +10). Enrichment, notifications,
 * checkpoints and privacy sweeps are all asynchronous by design: under load they
 * fall behind and catch up, while the loop threads answering hits keep the CPU. */
void thread_background(void);

#endif
