/*
 * mention: whole-word search of partner names in free text (see
 * mention.h). Quadratic in the worst case (text length times name length
 * per candidate), which is fine for notes and registry names: a mismatch
 * mostly ends at the first byte, and offsets inside a word are skipped.
 */
#include "mention.h"

#include <stdbool.h>
#include <string.h>

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Letters, digits and any byte of a multi-byte UTF-8 character. */
static bool is_word(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') || c >= 0x80;
}

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Length of the match of name[0, nlen) at t (whitespace runs match
 * runs), or 0. */
static size_t match_at(const char *t, const char *name, size_t nlen)
{
	const unsigned char *p = (const unsigned char *)t;
	const unsigned char *n = (const unsigned char *)name;
	const unsigned char *end = n + nlen;

	while (n < end) {
		if (is_space(*n)) {
			if (!is_space(*p))
				return 0;
			while (n < end && is_space(*n))
				n++;
			while (is_space(*p))
				p++;
			continue;
		}
		if (ascii_lower(*p) != ascii_lower(*n))
			return 0; /* also at the end of t: *n is not NUL */
		p++;
		n++;
	}
	return (size_t)(p - (const unsigned char *)t);
}

/*
 * Whole-word search. Boundaries are checked only where name itself begins
 * or ends with a word character, so "Example Ltd." matches before a
 * letter too, while "Acme" never matches inside "Acmes" or "SuperAcme".
 * Returns the offset or -1; never fails otherwise.
 */
long mention_find(const char *text, const char *name, size_t *len)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t nlen, i, m;
	bool word_first, word_last;

	if (text == NULL || name == NULL || text[0] == '\0')
		return -1;
	while (is_space((unsigned char)*name))
		name++;
	nlen = strlen(name);
	while (nlen > 0 && is_space((unsigned char)name[nlen - 1]))
		nlen--;
	if (nlen == 0)
		return -1;
	word_first = is_word((unsigned char)name[0]);
	word_last = is_word((unsigned char)name[nlen - 1]);
	for (i = 0; t[i] != '\0'; i++) {
		if (word_first && i > 0 && is_word(t[i - 1]))
			continue;
		m = match_at(text + i, name, nlen);
		if (m == 0 || (word_last && is_word(t[i + m])))
			continue;
		if (len != NULL)
			*len = m;
		return (long)i;
	}
	return -1;
}

/* A row that can be a resale partner. */
static bool resale_type(const struct partner_in *p)
{
	return p->present && (p->type == PARTNER_RESELLER || p->type == PARTNER_MSP);
}

/* Does [a, a + alen) lie inside [b, b + blen), and differ from it? */
static bool inside(long a, size_t alen, long b, size_t blen)
{
	return a >= b && a + (long)alen <= b + (long)blen && alen < blen;
}

/*
 * The first registry reseller or MSP the notes name (see mention.h). The
 * result points into cands (borrowed); NULL when none is named. Other
 * rows are counted by their first match, which is the same mention when it
 * lies inside a longer match ("Acme" in "Acme Corp"): the count is for a
 * reason sentence, not a decision.
 */
const struct partner_in *mention_pick(const char *notes, const struct partner_in *cands,
				      size_t n, size_t *others)
{
	long at[CLASSIFY_MAX_NOTES_PARTNERS];
	size_t len[CLASSIFY_MAX_NOTES_PARTNERS];
	size_t best = 0, i, j;
	bool found = false;

	*others = 0;
	if (notes == NULL || notes[0] == '\0')
		return NULL;
	if (n > CLASSIFY_MAX_NOTES_PARTNERS)
		n = CLASSIFY_MAX_NOTES_PARTNERS;
	for (i = 0; i < n; i++) {
		len[i] = 0;
		at[i] = resale_type(&cands[i]) ? mention_find(notes, cands[i].name, &len[i]) : -1;
		if (at[i] < 0)
			continue;
		if (!found || at[i] < at[best] || (at[i] == at[best] && len[i] > len[best]))
			best = i;
		found = true;
	}
	if (!found)
		return NULL;
	for (i = 0; i < n; i++) {
		bool same_mention = i == best || at[i] < 0 || inside(at[i], len[i], at[best], len[best]);

		for (j = 0; !same_mention && j < n; j++)
			same_mention = at[j] >= 0 && inside(at[i], len[i], at[j], len[j]);
		if (!same_mention)
			(*others)++;
	}
	return &cands[best];
}
