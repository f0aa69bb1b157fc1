/*
 * resellerctl simulate ARGS...: run the Zuora + Salesforce simulator
 * (tests/simulator, built next to resellerctl) in the foreground, for
 * demos and manual testing. RESELLERD_SIMULATOR overrides its path.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

int ctl_cmd_simulate(struct ctl *ctl, int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	const char *env = getenv("RESELLERD_SIMULATOR");
	ssize_t n;

	(void)ctl;
	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			fprintf(stderr, "resellerctl simulate: cannot find myself; set RESELLERD_SIMULATOR\n");
			return 1;
		}
		self[n] = '\0';
		snprintf(path, sizeof(path), "%s/tests/simulator/upstream-sim", dirname(self));
	}
	argv[0] = path;
	(void)argc;
	execv(path, argv);
	fprintf(stderr, "resellerctl simulate: cannot run %s (build with -DRESELLERD_TESTS=ON, "
		"or set RESELLERD_SIMULATOR)\n", path);
	return 1;
}
