/*
 * Print resellerd's own decision lookup statement as a pgbench script
 * (random subscription numbers over 1..N), so pgbench measures exactly the
 * SQL the service runs. usage: bench-print-sql N
 */
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

int main(int argc, char **argv)
{
	const char *sql = store_stmts[STMT_DECISION_INPUT].sql, *p;

	printf("\\set i random(1, %s)\n", argc > 1 ? argv[1] : "1000000");
	/* pgbench variables cannot build strings: compute the key once in a
	 * CTE from the one numeric parameter and use it where $1 was. */
	fputs("WITH bench_key AS (SELECT 'A-S' || lpad(:i::text, 8, '0') AS key), ", stdout);
	if (strncmp(sql, "WITH ", 5) == 0)
		sql += 5;
	for (p = sql; *p; p++) {
		/* pgbench reads ":MI" as a variable: drop the colons of the
		 * time formats (the cost of to_char does not change). */
		if (p[0] == ':' && (p[1] == 'M' || p[1] == 'S') && p[-1] != ':') {
			continue;
		} else if (p[0] == '$' && p[1] == '1') {
			fputs("(SELECT key FROM bench_key)", stdout);
			p++;
		} else {
			putchar(*p);
		}
	}
	puts(";");
	return 0;
}
