#pragma once
/*
 * Private to lib/upstream*.c: JSON field access for the mappers. Upstream
 * data is untrusted: every accessor tolerates absent keys, nulls, wrong
 * types and oversized values (NULL / false), never crashes.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "upstream.h"

/* Longest string value we keep. */
#define UJ_MAX_STR 4096

/* o[key], by exact key then case-insensitively; key may be a dotted path
 * through nested objects ("AccountTo.Name"). NULL when absent or null. */
const json_t *uj_get(const json_t *o, const char *key);
/* A string value (borrowed): NULL when absent, null, not a string, empty
 * or longer than UJ_MAX_STR. Numbers are not strings. */
const char *uj_str(const json_t *o, const char *key);
/* uj_str copied (xstrdup) or NULL. */
char *uj_dup(const json_t *o, const char *key);
/* true/false, also "true"/"false" strings; TRI_NULL otherwise. */
enum tristate uj_bool(const json_t *o, const char *key);
/* An integer (or an integral string) within [min, max]. */
bool uj_long(const json_t *o, const char *key, long min, long max, long *out);
/* A timestamp field into *ms and its canonical UTC text. */
bool uj_time(const json_t *o, const char *key, int64_t *ms, char *text, size_t n);

/* Parse a response body (NUL-terminated, len bytes); NULL with a reason
 * in why on garbage. Caller json_decrefs. */
json_t *uj_parse(const char *body, size_t len, char *why, size_t whylen);

/* Grow page->rows to hold one more row of size sz; return the new row
 * (zeroed). cap tracks the allocation. */
void *uj_page_push(struct upstream_page *p, size_t *cap, size_t sz);
/* Account for a mapped row's timestamp in the page's bounds and order. */
void uj_page_time(struct upstream_page *p, int64_t ms);
/* Log a rejected record (first few per page only) and count it. */
void uj_page_skip(struct upstream_page *p, const char *what, const json_t *rec,
		  const char *why);
