#pragma once
/*
 * config: every setting comes from the environment through one table
 * (config.c: name, type, default, bounds, field), like redis's
 * static_configs. Bad values fail fast with every offending name listed.
 * A string value "@/path" is read from that file (secrets), trailing
 * newlines dropped.
 */
#include <stdbool.h>
#include <stddef.h>

struct config {
	char *database_url;
	char *listen_host; /* from RESELLERD_LISTEN */
	long listen_port;
	char *zuora_base_url;
	char *zuora_client_id;
	char *zuora_client_secret;
	char *zuora_sspchannel_field;
	char *zuora_sspchannel_reseller_value;
	char *zuora_fulfillment_user_id;
	char *salesforce_login_url;
	char *salesforce_client_id;
	char *salesforce_client_secret;
	char *salesforce_api_version;
	char *salesforce_subscription_field;
	char *salesforce_resale_partner_field;
	char *salesforce_distributor_field;
	char *salesforce_vp_channel_notes_field; /* approval notes naming the partner */
	char *ca_file;
	char *tls_cert;  /* RESELLERD_TLS_CERT: PEM file, with tls_key */
	char *tls_key;
	char *webhook_secret;
	char *handbook_base_url;
	char *log_level;
	long sync_interval;        /* seconds, 0 = no background sync */
	long db_pool_size;
	long db_checkout_timeout_ms;
	long db_statement_timeout_ms;
	long db_connect_timeout_s;
	long http_threads;         /* HTTP pool size; 0 = thread per connection */
	long http_max_connections;
	long http_per_ip_connections;
	long http_connection_timeout_s;
	long http_max_body;
	long shutdown_timeout_s;
	long decision_cache_mb;    /* MiB, 0 = off */
	long token_cache_ttl_s;
	long readthrough_timeout_ms;
	long readthrough_concurrency;
	long sync_timeout_ms;   /* per upstream request attempt of a sync */
	long sync_max_attempts; /* per upstream request of a sync, the first included */
};

typedef const char *(*config_getenv_fn)(const char *name);

/*
 * Fill c from the environment (getenv_fn; NULL means getenv). On error
 * return false and write one message naming every bad setting to err.
 * c owns its strings: release with config_release. After a failure c
 * holds nothing (config_release on it is harmless).
 */
bool config_load(struct config *c, config_getenv_fn getenv_fn, char *err,
		 size_t errlen);
void config_release(struct config *c);

/* Log the effective configuration, secrets masked. */
void config_log(const struct config *c);

/*
 * Check an upstream base URL: https, or plain http to a loopback host
 * (127.0.0.0/8, ::1, localhost). Returns false with a reason in err.
 */
bool config_url_allowed(const char *url, char *err, size_t errlen);
