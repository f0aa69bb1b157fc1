#pragma once
/*
 * mention: which partner registry row a free-text note names, for the
 * quote's "Required Approvals From VP of Channel" notes (DOMAIN.md,
 * Salesforce signals). Pure like the classifier that uses it: no I/O, no
 * logging, no globals, no allocation; strings are borrowed.
 */
#include <stddef.h>

#include "classify.h"

/*
 * Where text names name as a whole word: ASCII case-insensitive, a run of
 * whitespace in name matching any run of whitespace in text, and neither
 * end of the match inside a word (letters, digits and bytes >= 0x80 are
 * word characters; an end of name that is punctuation, like "Ltd.", needs
 * no boundary; leading and trailing whitespace of name is ignored).
 * Returns the offset in text of the first match and its length in *len,
 * or -1 when there is none (NULL or empty arguments, or a name of only
 * whitespace). len may be NULL.
 */
long mention_find(const char *text, const char *name, size_t *len);

/*
 * The registry row among cands[0, n) that notes names: present rows of
 * type reseller or MSP (the types a resale partner has; a distributor or
 * a marketplace named in the notes is not the resale partner) whose name
 * notes contains as a whole word (mention_find). The first one named wins,
 * the longest at the same offset ("Acme Corp" over "Acme"). *others gets
 * the number of other such rows the notes name, judged by each row's
 * first match: a first match inside a longer match ("Acme" in "Acme
 * Corp") is that mention, not another. Only the first
 * CLASSIFY_MAX_NOTES_PARTNERS rows are read. Returns a pointer into cands, or NULL (also for NULL or
 * empty notes).
 */
const struct partner_in *mention_pick(const char *notes, const struct partner_in *cands,
				      size_t n, size_t *others);
