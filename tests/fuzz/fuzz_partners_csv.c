/* Fuzz the partner registry CSV parser and validator. */
#include <stddef.h>
#include <stdint.h>

#include "partners_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct partners_csv csv;
	struct buf errors;

	buf_init(&errors, 1 << 20);
	partners_csv_parse((const char *)data, size, &csv, &errors);
	partners_csv_release(&csv);
	buf_release(&errors);
	return 0;
}
