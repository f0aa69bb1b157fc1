#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

enum cfg_type {
	CFG_STRING,  /* any text */
	CFG_SECRET,  /* text, masked in logs */
	CFG_URL,     /* upstream base URL: https or loopback http */
	CFG_LISTEN,  /* host:port */
	CFG_INT,     /* decimal in [min, max] */
	CFG_LEVEL,   /* log level */
	CFG_FILE,    /* a readable file */
};

enum cfg_flags {
	CFG_REQUIRED = 1 << 0,
};

struct cfg_entry {
	const char *name;
	enum cfg_type type;
	const char *def; /* NULL: unset */
	long min, max;
	size_t offset;
	unsigned flags;
};

#define S(f) offsetof(struct config, f)

/* The one table of settings. Names are the fixed interface of DESIGN.md. */
static const struct cfg_entry table[] = {
	{"DATABASE_URL", CFG_SECRET, NULL, 0, 0, S(database_url), CFG_REQUIRED},
	{"RESELLERD_LISTEN", CFG_LISTEN, "127.0.0.1:8080", 0, 0, S(listen_host), 0},
	{"ZUORA_BASE_URL", CFG_URL, NULL, 0, 0, S(zuora_base_url), 0},
	{"ZUORA_CLIENT_ID", CFG_STRING, NULL, 0, 0, S(zuora_client_id), 0},
	{"ZUORA_CLIENT_SECRET", CFG_SECRET, NULL, 0, 0, S(zuora_client_secret), 0},
	{"ZUORA_SSPCHANNEL_FIELD", CFG_STRING, "SSPChannel__c", 0, 0, S(zuora_sspchannel_field), 0},
	{"ZUORA_SSPCHANNEL_RESELLER_VALUE", CFG_STRING, "Reseller", 0, 0, S(zuora_sspchannel_reseller_value), 0},
	{"ZUORA_FULFILLMENT_USER_ID", CFG_STRING, "2c92a0fd55822b4d015590d1f3a40b5f", 0, 0, S(zuora_fulfillment_user_id), 0},
	{"SALESFORCE_LOGIN_URL", CFG_URL, NULL, 0, 0, S(salesforce_login_url), 0},
	{"SALESFORCE_CLIENT_ID", CFG_STRING, NULL, 0, 0, S(salesforce_client_id), 0},
	{"SALESFORCE_CLIENT_SECRET", CFG_SECRET, NULL, 0, 0, S(salesforce_client_secret), 0},
	{"SALESFORCE_API_VERSION", CFG_STRING, "v59.0", 0, 0, S(salesforce_api_version), 0},
	{"SALESFORCE_SUBSCRIPTION_FIELD", CFG_STRING, "zqu__Subscription_Name__c", 0, 0, S(salesforce_subscription_field), 0},
	{"SALESFORCE_RESALE_PARTNER_FIELD", CFG_STRING, "Resale_Partner__c", 0, 0, S(salesforce_resale_partner_field), 0},
	{"SALESFORCE_DISTRIBUTOR_FIELD", CFG_STRING, "Distributor__c", 0, 0, S(salesforce_distributor_field), 0},
	{"SALESFORCE_VP_CHANNEL_NOTES_FIELD", CFG_STRING, "Required_Approvals_From_VP_of_Channel__c", 0, 0, S(salesforce_vp_channel_notes_field), 0},
	{"RESELLERD_CA_FILE", CFG_FILE, NULL, 0, 0, S(ca_file), 0},
	{"RESELLERD_TLS_CERT", CFG_FILE, NULL, 0, 0, S(tls_cert), 0},
	{"RESELLERD_TLS_KEY", CFG_FILE, NULL, 0, 0, S(tls_key), 0},
	{"RESELLERD_WEBHOOK_SECRET", CFG_SECRET, NULL, 0, 0, S(webhook_secret), 0},
	{"RESELLERD_HANDBOOK_BASE_URL", CFG_STRING, "https://handbook.gitlab.com", 0, 0, S(handbook_base_url), 0},
	{"RESELLERD_LOG_LEVEL", CFG_LEVEL, "info", 0, 0, S(log_level), 0},
	{"RESELLERD_SYNC_INTERVAL", CFG_INT, "300", 0, 86400, S(sync_interval), 0},
	{"RESELLERD_DB_POOL_SIZE", CFG_INT, "8", 1, 256, S(db_pool_size), 0},
	{"RESELLERD_DB_CHECKOUT_TIMEOUT_MS", CFG_INT, "2000", 1, 60000, S(db_checkout_timeout_ms), 0},
	{"RESELLERD_DB_STATEMENT_TIMEOUT_MS", CFG_INT, "5000", 1, 600000, S(db_statement_timeout_ms), 0},
	{"RESELLERD_DB_CONNECT_TIMEOUT", CFG_INT, "2", 1, 60, S(db_connect_timeout_s), 0},
	{"RESELLERD_HTTP_THREADS", CFG_INT, "2", 0, 64, S(http_threads), 0},
	{"RESELLERD_MAX_CONNECTIONS", CFG_INT, "512", 1, 60000, S(http_max_connections), 0},
	{"RESELLERD_PER_IP_CONNECTIONS", CFG_INT, "64", 0, 60000, S(http_per_ip_connections), 0},
	{"RESELLERD_CONNECTION_TIMEOUT", CFG_INT, "10", 1, 3600, S(http_connection_timeout_s), 0},
	{"RESELLERD_MAX_BODY", CFG_INT, "65536", 1024, 16777216, S(http_max_body), 0},
	{"RESELLERD_SHUTDOWN_TIMEOUT", CFG_INT, "10", 0, 300, S(shutdown_timeout_s), 0},
	{"RESELLERD_DECISION_CACHE_MB", CFG_INT, "32", 0, 65536, S(decision_cache_mb), 0},
	{"RESELLERD_TOKEN_CACHE_TTL", CFG_INT, "5", 0, 3600, S(token_cache_ttl_s), 0},
	{"RESELLERD_READTHROUGH_TIMEOUT_MS", CFG_INT, "3000", 100, 60000, S(readthrough_timeout_ms), 0},
	{"RESELLERD_READTHROUGH_CONCURRENCY", CFG_INT, "4", 0, 64, S(readthrough_concurrency), 0},
	{"RESELLERD_SYNC_TIMEOUT_MS", CFG_INT, "30000", 1000, 600000, S(sync_timeout_ms), 0},
	{"RESELLERD_SYNC_MAX_ATTEMPTS", CFG_INT, "5", 1, 20, S(sync_max_attempts), 0},
};
#undef S

static bool is_loopback_host(const char *h, size_t n)
{
	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return true;
	if (n == 5 && strncmp(h, "[::1]", 5) == 0)
		return true;
	return n >= 4 && strncmp(h, "127.", 4) == 0 &&
	       strspn(h, "0123456789.") == n;
}

bool config_url_allowed(const char *url, char *err, size_t errlen)
{
	const char *host, *end;
	bool https = strncasecmp(url, "https://", 8) == 0;
	bool http = strncasecmp(url, "http://", 7) == 0;

	if (!https && !http) {
		snprintf(err, errlen, "must start with https://");
		return false;
	}
	host = url + (https ? 8 : 7);
	if (*host == '[')
		end = strchr(host, ']') ? strchr(host, ']') + 1 : host;
	else
		end = host + strcspn(host, ":/?#");
	if (end == host) {
		snprintf(err, errlen, "has no host");
		return false;
	}
	if (http && !is_loopback_host(host, (size_t)(end - host))) {
		snprintf(err, errlen,
			 "plain http is allowed only to a loopback host; use https://");
		return false;
	}
	return true;
}

/* "@/path" reads the value from a file (capped at 64 KiB). */
static char *read_value(const char *raw, char *why, size_t whylen)
{
	struct buf b;
	char chunk[4096];
	FILE *f;
	size_t n;

	if (raw[0] != '@')
		return xstrdup(raw);
	f = fopen(raw + 1, "r");
	if (!f) {
		snprintf(why, whylen, "cannot read %s: %s", raw + 1, strerror(errno));
		return NULL;
	}
	buf_init(&b, 65536);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (!buf_append(&b, chunk, n)) {
			snprintf(why, whylen, "%s is larger than 64 KiB", raw + 1);
			buf_release(&b);
			fclose(f);
			return NULL;
		}
	}
	fclose(f);
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

static bool parse_listen(struct config *c, const char *v)
{
	const char *colon = strrchr(v, ':');
	const char *host = v;
	size_t hlen;

	if (!colon || colon == v)
		return false;
	hlen = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hlen < 3 || v[hlen - 1] != ']')
			return false;
		host = v + 1;
		hlen -= 2;
	}
	if (!parse_long(colon + 1, 0, 65535, &c->listen_port))
		return false;
	free(c->listen_host);
	c->listen_host = xstrndup(host, hlen);
	return true;
}

static bool apply(struct config *c, const struct cfg_entry *e, const char *v,
		  char *why, size_t whylen)
{
	char **sp = (char **)(void *)((char *)c + e->offset);
	long *lp = (long *)(void *)((char *)c + e->offset);

	switch (e->type) {
	case CFG_INT:
		if (!parse_long(v, e->min, e->max, lp)) {
			snprintf(why, whylen, "must be an integer from %ld to %ld",
				 e->min, e->max);
			return false;
		}
		return true;
	case CFG_LISTEN:
		if (!parse_listen(c, v)) {
			snprintf(why, whylen, "must be HOST:PORT (port 0-65535)");
			return false;
		}
		return true;
	case CFG_URL:
		if (!config_url_allowed(v, why, whylen))
			return false;
		break;
	case CFG_LEVEL:
		if (log_level_parse(v) < 0) {
			snprintf(why, whylen, "must be debug, info, warn or error");
			return false;
		}
		break;
	case CFG_FILE:
		if (access(v, R_OK) != 0) {
			snprintf(why, whylen, "cannot read file %s", v);
			return false;
		}
		break;
	case CFG_STRING:
	case CFG_SECRET:
		break;
	}
	free(*sp);
	*sp = xstrdup(v);
	return true;
}

bool config_load(struct config *c, config_getenv_fn getenv_fn, char *err,
		 size_t errlen)
{
	struct buf msg;
	size_t i;
	bool ok = true;

	memset(c, 0, sizeof(*c));
	if (!getenv_fn)
		getenv_fn = (config_getenv_fn)getenv;
	buf_init(&msg, 8192);
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		const struct cfg_entry *e = &table[i];
		const char *raw = getenv_fn(e->name);
		char why[256] = "";
		char *v = NULL;
		bool good;

		if (!raw || !*raw) {
			if (!e->def && (e->flags & CFG_REQUIRED)) {
				buf_printf(&msg, "%s%s is not set", ok ? "" : "; ", e->name);
				ok = false;
				continue;
			}
			raw = e->def;
			if (!raw)
				continue;
		}
		v = read_value(raw, why, sizeof(why));
		good = v && apply(c, e, v, why, sizeof(why));
		if (!good) {
			buf_printf(&msg, "%s%s %s", ok ? "" : "; ", e->name, why);
			ok = false;
		}
		free(v);
	}
	if (ok && !c->tls_cert != !c->tls_key) {
		buf_printf(&msg, "RESELLERD_TLS_CERT and RESELLERD_TLS_KEY must be set together");
		ok = false;
	}
	if (!ok) {
		snprintf(err, errlen, "bad configuration: %s", msg.ptr ? msg.ptr : "");
		config_release(c); /* callers that exit at once leaked it (LSan) */
	}
	buf_release(&msg);
	return ok;
}

void config_release(struct config *c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].type != CFG_INT) {
			char **sp = (char **)(void *)((char *)c + table[i].offset);

			free(*sp);
			*sp = NULL;
		}
	}
}

void config_log(const struct config *c)
{
	struct buf b;
	size_t i;

	buf_init(&b, 16384);
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		const struct cfg_entry *e = &table[i];
		const char *p = (const char *)c + e->offset;

		buf_printf(&b, "%s%s=", i ? " " : "", e->name);
		if (e->type == CFG_INT) {
			buf_printf(&b, "%ld", *(const long *)(const void *)p);
		} else if (e->type == CFG_LISTEN) {
			buf_printf(&b, "%s:%ld", c->listen_host, c->listen_port);
		} else {
			const char *s = *(char *const *)(const void *)p;

			if (!s)
				buf_puts(&b, "(unset)");
			else if (e->type == CFG_SECRET)
				buf_puts(&b, "****");
			else
				buf_puts(&b, s);
		}
	}
	log_info("effective configuration: %s", b.ptr ? b.ptr : "");
	buf_release(&b);
}
