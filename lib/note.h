#pragma once
/*
 * note: ticket-ready internal notes in Markdown, built from the same
 * decision and evaluation structs as the JSON (never a second code path
 * that could drift). Returned strings are malloc'd; the caller frees.
 */
#include <stddef.h>

#include "decide.h"
#include "evaluate.h"

char *note_decision(struct app *app, const struct decided *x, size_t *len);
char *note_evaluation(struct app *app, const struct decided *x, const struct evaluation *ev,
		      enum request_type type);
