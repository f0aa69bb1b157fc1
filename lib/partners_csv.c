#include "partners_csv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 8
#define MAX_LIST 64

struct cursor {
	const char *p, *end;
	size_t line;
};

static char *keep(struct partners_csv *out, char *s)
{
	out->strings = xrealloc(out->strings, (out->n_strings + 1) * sizeof(*out->strings));
	out->strings[out->n_strings++] = s;
	return s;
}

/* Read one record into fields; false at end of input. A quoted field may
 * span lines. *bad is set on a stray quote. */
static bool read_record(struct cursor *c, struct buf *fields, size_t *nf, bool *bad)
{
	size_t i;

	if (c->p >= c->end)
		return false;
	*nf = 0;
	*bad = false;
	for (i = 0; i < MAX_FIELDS; i++)
		buf_reset(&fields[i]);
	for (;;) {
		struct buf *f = &fields[*nf < MAX_FIELDS ? *nf : MAX_FIELDS - 1];

		if (c->p < c->end && *c->p == '"') {
			c->p++;
			while (c->p < c->end) {
				if (*c->p == '"' && c->p + 1 < c->end && c->p[1] == '"') {
					buf_append(f, "\"", 1);
					c->p += 2;
				} else if (*c->p == '"') {
					c->p++;
					break;
				} else {
					if (*c->p == '\n')
						c->line++;
					buf_append(f, c->p++, 1);
				}
			}
		}
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
			if (*c->p == '"')
				*bad = true;
			buf_append(f, c->p++, 1);
		}
		(*nf)++;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n')
			c->p++;
		c->line++;
		return true;
	}
}

static char *trim(const char *s)
{
	size_t n;

	while (*s && isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static bool all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* Split a ';' list into trimmed items (kept in out->strings). */
static size_t split_list(struct partners_csv *out, const char *cell, const char **items, bool lower)
{
	size_t n = 0;
	const char *p = cell;

	while (*p && n < MAX_LIST) {
		size_t len = strcspn(p, ";");
		char *raw = xstrndup(p, len), *item = trim(raw), *q;

		free(raw);
		if (lower)
			for (q = item; *q; q++)
				*q = (char)tolower((unsigned char)*q);
		if (*item)
			items[n++] = keep(out, item);
		else
			free(item);
		p += len;
		if (*p == ';')
			p++;
	}
	return n;
}

static const char *norm_track(const char *t)
{
	static const char *const tracks[] = {"Select", "Open", "Technology"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tracks); i++)
		if (str_ieq(t, tracks[i]))
			return tracks[i];
	return NULL;
}

static const char *norm_type(const char *t)
{
	static const char *const types[] = {"reseller", "distributor", "msp", "marketplace"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (str_ieq(t, types[i]))
			return types[i];
	return NULL;
}

/* Validate one data row into r; errors go to errors with the line. */
static size_t check_row(struct partners_csv *out, struct buf *f, size_t line,
			struct partner_row *r, struct buf *errors)
{
	const char *accts[MAX_LIST], *doms[MAX_LIST];
	char *name = keep(out, trim(f[0].ptr ? f[0].ptr : ""));
	char *type = keep(out, trim(f[1].ptr ? f[1].ptr : ""));
	char *track = keep(out, trim(f[4].ptr ? f[4].ptr : ""));
	size_t na, nd, i, bad = 0;

	memset(r, 0, sizeof(*r));
	if (!*name || strlen(name) > 200) {
		buf_printf(errors, "line %zu: name must be 1 to 200 characters\n", line);
		bad++;
	}
	r->name = name;
	r->type = norm_type(type);
	if (!r->type) {
		buf_printf(errors, "line %zu: type '%s' must be reseller, distributor, msp or marketplace\n",
			   line, type);
		bad++;
	}
	r->track = *track ? norm_track(track) : NULL;
	if (*track && !r->track) {
		buf_printf(errors, "line %zu: track '%s' must be Select, Open, Technology or empty\n",
			   line, track);
		bad++;
	}
	na = split_list(out, f[2].ptr ? f[2].ptr : "", accts, false);
	for (i = 0; i < na; i++) {
		if (!all_of(accts[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ||
		    strlen(accts[i]) > 64) {
			buf_printf(errors, "line %zu: zuora account '%s' must be an account number or id\n",
				   line, accts[i]);
			bad++;
		}
	}
	nd = split_list(out, f[3].ptr ? f[3].ptr : "", doms, true);
	for (i = 0; i < nd; i++) {
		if (!all_of(doms[i], "abcdefghijklmnopqrstuvwxyz0123456789.-") || !strchr(doms[i], '.') ||
		    doms[i][0] == '.' || strlen(doms[i]) > 253) {
			buf_printf(errors, "line %zu: email domain '%s' is not a domain name\n", line, doms[i]);
			bad++;
		}
	}
	r->accounts = xcalloc(na ? na : 1, sizeof(char *));
	memcpy((void *)(uintptr_t)r->accounts, accts, na * sizeof(char *));
	r->n_accounts = na;
	r->domains = xcalloc(nd ? nd : 1, sizeof(char *));
	memcpy((void *)(uintptr_t)r->domains, doms, nd * sizeof(char *));
	r->n_domains = nd;
	return bad;
}

/* Duplicate names and accounts across rows (line numbers of both). */
static size_t check_duplicates(const struct partners_csv *out, const size_t *lines, struct buf *errors)
{
	size_t i, j, k, l, bad = 0;

	for (i = 0; i < out->n; i++) {
		for (j = i + 1; j < out->n; j++) {
			if (str_ieq(out->rows[i].name, out->rows[j].name)) {
				buf_printf(errors, "line %zu: partner '%s' already appears on line %zu\n",
					   lines[j], out->rows[j].name, lines[i]);
				bad++;
			}
			for (k = 0; k < out->rows[i].n_accounts; k++)
				for (l = 0; l < out->rows[j].n_accounts; l++)
					if (strcmp(out->rows[i].accounts[k], out->rows[j].accounts[l]) == 0) {
						buf_printf(errors, "line %zu: zuora account '%s' already belongs to '%s' (line %zu)\n",
							   lines[j], out->rows[j].accounts[l], out->rows[i].name, lines[i]);
						bad++;
					}
		}
	}
	return bad;
}

size_t partners_csv_parse(const char *text, size_t len, struct partners_csv *out,
			  struct buf *errors)
{
	struct cursor c = {text, text + len, 1};
	struct buf fields[MAX_FIELDS];
	size_t nf, bad = 0, i, *lines = NULL;
	bool stray;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < MAX_FIELDS; i++)
		buf_init(&fields[i], 1 << 16);
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	if (!read_record(&c, fields, &nf, &stray) || nf != 5 ||
	    strcmp(fields[0].ptr ? fields[0].ptr : "", "name") || strcmp(fields[1].ptr ? fields[1].ptr : "", "type") ||
	    strcmp(fields[2].ptr ? fields[2].ptr : "", "zuora_account_numbers") ||
	    strcmp(fields[3].ptr ? fields[3].ptr : "", "email_domains") ||
	    strcmp(fields[4].ptr ? fields[4].ptr : "", "track")) {
		buf_printf(errors, "line 1: the header must be exactly " PARTNERS_CSV_HEADER "\n");
		bad++;
		goto out;
	}
	while (c.p < c.end) {
		size_t line = c.line;

		if (!read_record(&c, fields, &nf, &stray))
			break;
		if (nf == 1 && fields[0].len == 0)
			continue; /* blank line */
		if (nf != 5 || stray) {
			buf_printf(errors, "line %zu: expected 5 fields, found %zu%s\n", line, nf,
				   stray ? " (or a stray quote)" : "");
			bad++;
			continue;
		}
		out->rows = xrealloc(out->rows, (out->n + 1) * sizeof(*out->rows));
		lines = xrealloc(lines, (out->n + 1) * sizeof(*lines));
		lines[out->n] = line;
		bad += check_row(out, fields, line, &out->rows[out->n], errors);
		out->n++;
	}
	bad += check_duplicates(out, lines, errors);
out:
	free(lines);
	for (i = 0; i < MAX_FIELDS; i++)
		buf_release(&fields[i]);
	return bad;
}

void partners_csv_release(struct partners_csv *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free((void *)(uintptr_t)p->rows[i].accounts);
		free((void *)(uintptr_t)p->rows[i].domains);
	}
	free(p->rows);
	for (i = 0; i < p->n_strings; i++)
		free(p->strings[i]);
	free(p->strings);
	memset(p, 0, sizeof(*p));
}
