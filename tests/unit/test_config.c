/* config: defaults, bounds, secrets from files, every bad name reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
	const char *const *e;
	size_t n = strlen(name);

	for (e = fake_env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static bool load(const char *const *env, struct config *c, char *err, size_t n)
{
	fake_env = env;
	return config_load(c, fake_getenv, err, n);
}

static void test_defaults(void **state)
{
	const char *env[] = {"DATABASE_URL=postgresql:///x", NULL};
	struct config c;
	char err[512];

	(void)state;
	assert_true(load(env, &c, err, sizeof(err)));
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8080);
	assert_string_equal(c.zuora_sspchannel_field, "SSPChannel__c");
	assert_string_equal(c.salesforce_api_version, "v59.0");
	assert_string_equal(c.salesforce_subscription_field, "zqu__Subscription_Name__c");
	assert_string_equal(c.salesforce_resale_partner_field, "Resale_Partner__c");
	assert_string_equal(c.salesforce_distributor_field, "Distributor__c");
	assert_string_equal(c.salesforce_vp_channel_notes_field,
			    "Required_Approvals_From_VP_of_Channel__c");
	assert_null(c.zuora_base_url);
	assert_int_equal(c.sync_timeout_ms, 30000);
	assert_int_equal(c.sync_max_attempts, 5);
	config_release(&c);
}

static void test_missing_database_url(void **state)
{
	const char *env[] = {NULL};
	struct config c;
	char err[512];

	(void)state;
	assert_false(load(env, &c, err, sizeof(err)));
	assert_non_null(strstr(err, "DATABASE_URL is not set"));
	config_release(&c);
}

static void test_every_bad_value_named(void **state)
{
	const char *env[] = {"DATABASE_URL=x", "RESELLERD_LISTEN=nonsense",
			     "RESELLERD_SYNC_INTERVAL=-5", "RESELLERD_DB_POOL_SIZE=abc",
			     "ZUORA_BASE_URL=http://rest.zuora.com",
			     "SALESFORCE_LOGIN_URL=ftp://x", "RESELLERD_LOG_LEVEL=loud",
			     "RESELLERD_CA_FILE=/nonexistent/ca.pem", "RESELLERD_SYNC_TIMEOUT_MS=10",
			     "RESELLERD_SYNC_MAX_ATTEMPTS=0", NULL};
	struct config c;
	char err[2048];

	(void)state;
	assert_false(load(env, &c, err, sizeof(err)));
	assert_non_null(strstr(err, "RESELLERD_LISTEN"));
	assert_non_null(strstr(err, "RESELLERD_SYNC_INTERVAL"));
	assert_non_null(strstr(err, "RESELLERD_DB_POOL_SIZE"));
	assert_non_null(strstr(err, "ZUORA_BASE_URL"));
	assert_non_null(strstr(err, "SALESFORCE_LOGIN_URL"));
	assert_non_null(strstr(err, "RESELLERD_LOG_LEVEL"));
	assert_non_null(strstr(err, "RESELLERD_CA_FILE"));
	assert_non_null(strstr(err, "RESELLERD_SYNC_TIMEOUT_MS"));
	assert_non_null(strstr(err, "RESELLERD_SYNC_MAX_ATTEMPTS"));
	assert_null(strstr(err, "DATABASE_URL is"));
	config_release(&c);
}

static void test_listen_forms(void **state)
{
	const char *v4[] = {"DATABASE_URL=x", "RESELLERD_LISTEN=0.0.0.0:9000", NULL};
	const char *v6[] = {"DATABASE_URL=x", "RESELLERD_LISTEN=[::1]:0", NULL};
	const char *badport[] = {"DATABASE_URL=x", "RESELLERD_LISTEN=127.0.0.1:70000", NULL};
	struct config c;
	char err[512];

	(void)state;
	assert_true(load(v4, &c, err, sizeof(err)));
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 9000);
	config_release(&c);
	assert_true(load(v6, &c, err, sizeof(err)));
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 0);
	config_release(&c);
	assert_false(load(badport, &c, err, sizeof(err)));
	config_release(&c);
}

static void test_secret_from_file(void **state)
{
	char path[] = "/tmp/resellerd-secret-XXXXXX";
	int fd = mkstemp(path);
	char env_secret[128];
	const char *env[] = {"DATABASE_URL=x", env_secret, NULL};
	struct config c;
	char err[512];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);
	snprintf(env_secret, sizeof(env_secret), "RESELLERD_WEBHOOK_SECRET=@%s", path);
	assert_true(load(env, &c, err, sizeof(err)));
	assert_string_equal(c.webhook_secret, "s3cret");
	config_release(&c);
	unlink(path);
	assert_false(load(env, &c, err, sizeof(err)));
	assert_non_null(strstr(err, "RESELLERD_WEBHOOK_SECRET"));
	config_release(&c);
}

static void test_url_policy(void **state)
{
	char err[128];

	(void)state;
	assert_true(config_url_allowed("https://rest.zuora.com", err, sizeof(err)));
	assert_true(config_url_allowed("http://127.0.0.1:9000", err, sizeof(err)));
	assert_true(config_url_allowed("http://localhost:9000/x", err, sizeof(err)));
	assert_true(config_url_allowed("http://[::1]:9000", err, sizeof(err)));
	assert_false(config_url_allowed("http://rest.zuora.com", err, sizeof(err)));
	assert_false(config_url_allowed("http://127.0.0.1.evil.com", err, sizeof(err)));
	assert_false(config_url_allowed("http://localhost.evil.com", err, sizeof(err)));
	assert_false(config_url_allowed("file:///etc/passwd", err, sizeof(err)));
	assert_false(config_url_allowed("https://", err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_missing_database_url),
		cmocka_unit_test(test_every_bad_value_named),
		cmocka_unit_test(test_listen_forms),
		cmocka_unit_test(test_secret_from_file),
		cmocka_unit_test(test_url_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
