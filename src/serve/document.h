/*
 * document.h (internal to src/serve/): serving shared documents at /d/, see
 * document.c.
 */
#ifndef HOMING_SERVE_DOCUMENT_H
#define HOMING_SERVE_DOCUMENT_H

#include "homing/journal.h"
#include "log.h"
#include "serve.h"

/* Checks the grant of a verified document token and opens its file. 0: *out is
 * the stream state (in req's pool) to queue with the hit; -1: answered here
 * (404 or 410); -2: the store or the file failed, the caller answers 503. */
int document_prepare(struct worker *w, h2o_req_t *req, const struct homing_token *t, void **out);
/* Downloads (GETs) answered whose `document-open` event is not in the store
 * yet, per grant: the store counts a use only when it stores that event
 * (migration 0011), so the check of the next download adds these. Made once
 * at start; the ingester thread forgets each download once its event is
 * stored, in the same hold of the lock as the commit (document_stored, a
 * journal hook); a download that could not be journaled is forgotten by
 * document_unanswered. DOC_PENDING_MAX grants at once at most:
 * past that a download gets 503. */
#define DOC_PENDING_MAX 4096
int document_pending_init(struct serve *s);
void document_pending_free(struct serve *s);
void document_stored(void *serve, const struct homing_event *evs, size_t n,
                     enum homing_journal_phase phase);
/* A queued download that was answered 503 (its event never stored). */
void document_unanswered(struct serve *s, const struct homing_event *ev);
/* Starts the streamed answer (after the hit's commit). */
void document_send(h2o_req_t *req, void *stream);
/* The plain 404 page of an unknown document link. */
void document_not_found(h2o_req_t *req);
/* At start: rewrites the digests stored before they were keyed (migration
 * 0009) with st, logging what it did; never fails the start (a document whose
 * file cannot be read keeps its old digest and is tried again next time). */
void document_digests_upgrade(struct serve *s, struct homing_store *st);

#endif
