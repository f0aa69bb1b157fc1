/* Fuzz the route table matcher and the subscription key parser with
 * "METHOD PATH" inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "decide.h"
#include "router.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	char *sp = strchr(s, ' ');
	const struct route *routes;
	struct route_match m;
	char key[SUBSCRIPTION_KEY_MAX];
	size_t n, i;

	routes = app_routes(&n);
	if (sp) {
		*sp = '\0';
		if (router_match(routes, n, s, sp + 1, &m) == ROUTE_FOUND)
			for (i = 0; i < m.n_params; i++)
				subscription_key_parse(m.param[i], m.param_len[i], key, sizeof(key));
	}
	subscription_key_parse((const char *)data, size, key, sizeof(key));
	free(s);
	return 0;
}
