#pragma once
/*
 * codec: the JSON shapes of the API (api/openapi.yaml), built from the
 * plain domain structs. Every function returns a new jansson reference the
 * caller owns (json_decref), and never fails (jansson aborts on OOM via
 * our allocator policy).
 */
#include <jansson.h>

#include "catalog.h"
#include "evaluate.h"
#include "store.h"

/* The channel decision for one subscription. */
json_t *codec_decision(const struct decision_record *rec, const struct channel_decision *d,
		       const struct catalog_snap *cat, const char *handbook_base);

/* One workflow of the catalog (full, with steps, warnings and proof). */
json_t *codec_workflow(const struct workflow_row *w, const char *handbook_base);

/* The evaluation of a request. */
json_t *codec_evaluation(const struct decision_record *rec, const struct channel_decision *d,
			 const struct evaluation *ev, const struct catalog_snap *cat,
			 const char *handbook_base);

/* The policy that follows from a decision (portal access, changes, license);
 * in is the input the decision was made from (term start for the cloud
 * licensing cutoff). */
json_t *codec_policy(const struct channel_input *in, const struct channel_decision *d,
		     const struct catalog_snap *cat);

/* A workflow's link: handbook_base + its path + "#" + its first section
 * (when it has one), as a new string (free it). */
char *codec_workflow_url(const char *base, const struct workflow_row *w);

/* The portal policy setting as the evaluator's enum. */
enum portal_policy codec_portal_policy(const struct catalog_snap *cat);
