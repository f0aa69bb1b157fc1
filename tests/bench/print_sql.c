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
	/* pgbench variables cannot build strings; use a prepared-style
	 * parameter by inlining the expression for $1. */
	for (p = sql; *p; p++) {
		if (p[0] == '$' && p[1] == '1') {
			fputs("('A-S' || lpad(:i::text, 8, '0'))", stdout);
			p++;
		} else {
			putchar(*p);
		}
	}
	puts(";");
	return 0;
}
