/*
 * ui.h: the dashboard at /ui/ on the admin listener (ui.c, docs/dashboard.md).
 */
#ifndef HOMING_SERVE_UI_H
#define HOMING_SERVE_UI_H

#include <h2o.h>

struct worker;

/* Answers a request whose path (without the query) starts with /ui. Runs on
 * the admin loop thread only. */
int ui_handle(struct worker *w, h2o_req_t *req, h2o_iovec_t path);

#endif
