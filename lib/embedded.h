#pragma once
/*
 * embedded: files compiled into the binaries at build time (migrations,
 * the OpenAPI spec, the lookup page), so an installed binary needs no
 * source tree. The table ends with a NULL name; data is NUL-terminated.
 */
#include <stddef.h>

struct embedded_file {
	const char *name; /* path relative to the source root */
	const unsigned char *data;
	size_t len;
};

extern const struct embedded_file embedded_files[];

/* The file with this exact name, or NULL. */
const struct embedded_file *embedded_find(const char *name);
