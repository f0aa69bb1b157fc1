/* Fuzz the configuration table with NAME=value lines as the environment. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *lines[64];
static size_t n_lines;

static const char *fake_getenv(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n_lines; i++)
		if (strncmp(lines[i], name, n) == 0 && lines[i][n] == '=')
			return lines[i] + n + 1;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *p = s;
	struct config c;
	char err[1024];

	n_lines = 0;
	while (p && *p && n_lines < 64) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		/* never read files named by the fuzzer */
		if (!strchr(p, '@'))
			lines[n_lines++] = p;
		p = nl ? nl + 1 : NULL;
	}
	config_load(&c, fake_getenv, err, sizeof(err));
	config_release(&c);
	free(s);
	return 0;
}
