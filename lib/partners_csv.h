#pragma once
/*
 * partners_csv: parse and validate the partner registry CSV of DESIGN.md
 * (header "name,type,zuora_account_numbers,email_domains,track"; list
 * cells separated by ';'). RFC 4180 quoting, LF or CRLF. Pure: no I/O.
 */
#include <stddef.h>

#include "store.h"
#include "util.h"

#define PARTNERS_CSV_HEADER "name,type,zuora_account_numbers,email_domains,track"

struct partners_csv {
	struct partner_row *rows; /* valid only when there were no errors */
	size_t n;
	char **strings; /* everything the rows point into */
	size_t n_strings;
};

/*
 * Parse text (len bytes). Returns the number of errors; each error line
 * ("line N: ...") is appended to errors. out is filled either way; free
 * with partners_csv_release.
 */
size_t partners_csv_parse(const char *text, size_t len, struct partners_csv *out,
			  struct buf *errors);
void partners_csv_release(struct partners_csv *p);
