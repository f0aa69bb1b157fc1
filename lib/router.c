#include "router.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Compare one pattern against a path; capture "{x}" segments. */
static bool match_path(const char *pat, const char *path, struct route_match *m)
{
	m->n_params = 0;
	while (*pat && *path) {
		if (*pat != '/' || *path != '/')
			return false;
		pat++;
		path++;
		if (*pat == '{') {
			size_t seg = strcspn(path, "/");

			if (seg == 0 || m->n_params == ROUTER_MAX_PARAMS)
				return false;
			m->param[m->n_params] = path;
			m->param_len[m->n_params] = seg;
			m->n_params++;
			path += seg;
			pat = strchr(pat, '}');
			if (!pat)
				return false;
			pat++;
		} else {
			size_t pseg = strcspn(pat, "/");
			size_t seg = strcspn(path, "/");

			if (pseg != seg || strncmp(pat, path, seg) != 0)
				return false;
			pat += pseg;
			path += seg;
		}
	}
	return *pat == '\0' && *path == '\0';
}

static void allow_add(char *allow, size_t n, const char *method)
{
	size_t used = strlen(allow);

	if (strstr(allow, method))
		return;
	snprintf(allow + used, n - used, "%s%s", used ? ", " : "", method);
}

enum router_result router_match(const struct route *table, size_t n,
				const char *method, const char *path,
				struct route_match *m)
{
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	bool path_known = false;
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++) {
		struct route_match tmp;

		if (!match_path(table[i].pattern, path, &tmp))
			continue;
		if (strcmp(table[i].method, want) == 0) {
			tmp.route = &table[i];
			tmp.index = i;
			memcpy(tmp.allow, m->allow, sizeof(tmp.allow));
			*m = tmp;
			return ROUTE_FOUND;
		}
		path_known = true;
		allow_add(m->allow, sizeof(m->allow), table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			allow_add(m->allow, sizeof(m->allow), "HEAD");
	}
	return path_known ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

bool scope_allows(enum scope have, enum scope need)
{
	return have >= need;
}

const char *scope_name(enum scope s)
{
	switch (s) {
	case SCOPE_READ:
		return "read";
	case SCOPE_ADMIN:
		return "admin";
	case SCOPE_NONE:
		break;
	}
	return "none";
}

int scope_parse(const char *s)
{
	if (str_eq(s, "read"))
		return SCOPE_READ;
	if (str_eq(s, "admin"))
		return SCOPE_ADMIN;
	return -1;
}
