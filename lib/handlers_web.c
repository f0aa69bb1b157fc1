/*
 * The lookup page (issue 8): GET / serves web/index.html and
 * GET /static/{file} serves web/app.js and web/style.css, all compiled into
 * the binary (lib/embedded.h). A fixed allow-list: nothing else under web/
 * is reachable through /static. The page runs under a strict CSP (no
 * inline script or style, no other origin), so it works offline.
 */
#include <string.h>

#include "embedded.h"
#include "handlers.h"
#include "util.h"

#define WEB_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

/* The files /static/{file} may serve, with their media types. */
static const struct {
	const char *file; /* the {file} segment */
	const char *path; /* embedded name */
	const char *ctype;
} static_files[] = {
	{"app.js", "web/app.js", "text/javascript; charset=utf-8"},
	{"style.css", "web/style.css", "text/css; charset=utf-8"},
};

/* Send an embedded file with the page's CSP, or a 404 problem. */
static void serve_embedded(const struct http_request *req, struct http_response *res,
			   const char *path, const char *ctype)
{
	const struct embedded_file *f = embedded_find(path);

	if (!f) {
		respond_problem(res, req, ERR_NOT_FOUND, "this build has no lookup page");
		return;
	}
	respond_text(res, 200, ctype, (const char *)f->data, f->len);
	http_set_header(res, "Content-Security-Policy", WEB_CSP);
	http_set_header(res, "Cache-Control", "no-cache");
}

HANDLER(h_index)
{
	(void)app;
	(void)m;
	serve_embedded(req, res, "web/index.html", "text/html; charset=utf-8");
}

HANDLER(h_static)
{
	size_t i;

	(void)app;
	for (i = 0; i < ARRAY_SIZE(static_files); i++) {
		if (m->n_params == 1 && m->param_len[0] == strlen(static_files[i].file) &&
		    memcmp(m->param[0], static_files[i].file, m->param_len[0]) == 0) {
			serve_embedded(req, res, static_files[i].path, static_files[i].ctype);
			return;
		}
	}
	respond_problem(res, req, ERR_NOT_FOUND, "no such static file");
}
