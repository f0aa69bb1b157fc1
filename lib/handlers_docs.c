/*
 * GET /docs: the human-readable API reference, web/docs.html, compiled
 * into the binary (lib/embedded.h). The page is generated from
 * api/openapi.yaml by tests/contract/docs.mjs and committed; the
 * contract/docs-fresh test fails when it drifts from the spec. It has no
 * script and loads nothing, so the CSP forbids everything except its one
 * inline <style> block.
 */
#include "embedded.h"
#include "handlers.h"

#define DOCS_CSP "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

/* Declared in handlers.h; repeated so this file builds on its own. */
HANDLER(h_docs);

HANDLER(h_docs)
{
	const struct embedded_file *f = embedded_find("web/docs.html");

	(void)app;
	(void)m;
	if (!f) {
		respond_problem(res, req, ERR_NOT_FOUND, "this build has no API reference");
		return;
	}
	respond_text(res, 200, "text/html; charset=utf-8", (const char *)f->data, f->len);
	http_set_header(res, "Content-Security-Policy", DOCS_CSP);
	http_set_header(res, "Cache-Control", "no-cache");
}
