/*
 * resellerctl: the operator's CLI. One table of commands; each parses its
 * own arguments, reads the same environment as resellerd and exits
 * 0 on success, 1 on failure (a message on stderr says what to do next),
 * 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "ctl.h"
#include "ctl_sync.h"
#include "upstream.h"
#include "log.h"
#include "store.h"
#include "util.h"

struct command {
	const char *name;
	int (*fn)(struct ctl *ctl, int argc, char **argv);
	const char *usage;
	const char *help;
};

static int cmd_migrate(struct ctl *ctl, int argc, char **argv);
static int cmd_token(struct ctl *ctl, int argc, char **argv);

static const struct command commands[] = {
	{"migrate", cmd_migrate, "migrate",
	 "Apply pending database migrations (safe to run concurrently)."},
	{"token", cmd_token, "token create --name N --scope read|admin | token revoke N",
	 "Create an API token (printed once) or revoke one by name."},
	{"sync", ctl_cmd_sync, "sync [--full] [--source zuora|salesforce] [--batch-size N]",
	 "Fetch changes from Zuora and Salesforce into the cache (--full: everything)."},
	{"partners", ctl_cmd_partners, "partners import FILE",
	 "Replace the partner registry with a CSV file (all or nothing)."},
	{"lookup", ctl_cmd_lookup, "lookup SUBSCRIPTION",
	 "Print the channel decision JSON for a subscription number or id."},
	{"simulate", ctl_cmd_simulate, "simulate --port N [--data FILE | --generate N]",
	 "Run the Zuora and Salesforce simulator in the foreground (demo, tests)."},
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: resellerctl [--json] COMMAND [ARGS]\n\ncommands:\n", f);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-58s %s\n", commands[i].usage, commands[i].help);
	fputs("\nConfiguration comes from the environment (DATABASE_URL, ...; see\n"
	      "README.md). Exit codes: 0 success, 1 failure, 2 usage error.\n"
	      "Run 'resellerctl COMMAND --help' for a command's own help.\n", f);
}

static int cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	char why[1024] = "";
	int applied = 0;
	enum err e;

	(void)argv;
	if (argc != 1)
		return ctl_usage(ctl, "migrate");
	e = store_migrate(ctl->cfg.database_url, (unsigned)ctl->cfg.db_connect_timeout_s,
			  &applied, why, sizeof(why));
	if (e) {
		fprintf(stderr, "resellerctl migrate: %s\n", why[0] ? why : "failed");
		return 1;
	}
	if (ctl->json)
		printf("{\"applied\":%d,\"schema_version\":%d}\n", applied, migrations_latest());
	else
		printf("migrations: %d applied, schema at %d\n", applied, migrations_latest());
	return 0;
}

static int token_create(struct ctl *ctl, int argc, char **argv)
{
	const char *name = NULL, *scope = NULL;
	char token[AUTH_TOKEN_LEN + 1], hash[65];
	enum err e;
	int i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc)
			scope = argv[++i];
		else
			return ctl_usage(ctl, "token");
	}
	if (!name || !scope)
		return ctl_usage(ctl, "token");
	if (!auth_name_valid(name)) {
		fprintf(stderr, "resellerctl token create: the name must be 1-63 characters of A-Z a-z 0-9 . _ -\n");
		return 2;
	}
	if (scope_parse(scope) < 0) {
		fprintf(stderr, "resellerctl token create: --scope must be read or admin\n");
		return 2;
	}
	auth_token_generate(token, sizeof(token));
	auth_token_hash(token, hash);
	e = store_token_create(ctl_store(ctl), name, hash, scope);
	if (e == ERR_CONFLICT) {
		fprintf(stderr, "resellerctl token create: an active token is already named %s; "
			"revoke it first or pick another name\n", name);
		return 1;
	}
	if (e) {
		fprintf(stderr, "resellerctl token create: failed (is the database up and migrated?)\n");
		return 1;
	}
	if (ctl->json)
		printf("{\"name\":\"%s\",\"scope\":\"%s\",\"token\":\"%s\"}\n", name, scope, token);
	else
		printf("%s\n", token);
	return 0;
}

static int cmd_token(struct ctl *ctl, int argc, char **argv)
{
	enum err e;

	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return token_create(ctl, argc, argv);
	if (argc != 3 || strcmp(argv[1], "revoke") != 0)
		return ctl_usage(ctl, "token");
	e = store_token_revoke(ctl_store(ctl), argv[2]);
	if (e == ERR_NOT_FOUND) {
		fprintf(stderr, "resellerctl token revoke: no active token is named %s\n", argv[2]);
		return 1;
	}
	if (e) {
		fprintf(stderr, "resellerctl token revoke: failed (is the database up?)\n");
		return 1;
	}
	if (ctl->json)
		printf("{\"revoked\":\"%s\"}\n", argv[2]);
	else
		printf("revoked %s\n", argv[2]);
	return 0;
}

int ctl_usage(struct ctl *ctl, const char *name)
{
	size_t i;

	(void)ctl;
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			fprintf(stderr, "usage: resellerctl %s\n  %s\n", commands[i].usage,
				commands[i].help);
	return 2;
}

int main(int argc, char **argv)
{
	struct ctl ctl;
	char err[1024];
	size_t i;
	int rc;

	memset(&ctl, 0, sizeof(ctl));
	if (argc > 1 && strcmp(argv[1], "--json") == 0) {
		ctl.json = true;
		argc--;
		argv++;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			break;
	if (i == ARRAY_SIZE(commands)) {
		fprintf(stderr, "resellerctl: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
		return 2;
	}
	if (strcmp(commands[i].name, "simulate") == 0)
		return ctl_cmd_simulate(&ctl, argc - 1, argv + 1);
	if (argc > 2 && strcmp(argv[2], "--help") == 0) {
		printf("usage: resellerctl %s\n  %s\n", commands[i].usage, commands[i].help);
		return 0;
	}
	/* Commands log only warnings and errors unless asked for more. */
	if (!getenv("RESELLERD_LOG_LEVEL"))
		setenv("RESELLERD_LOG_LEVEL", "warn", 1);
	if (strcmp(commands[i].name, "simulate") != 0 &&
	    !config_load(&ctl.cfg, NULL, err, sizeof(err))) {
		fprintf(stderr, "resellerctl: %s\n", err);
		config_release(&ctl.cfg);
		return 1;
	}
	if (ctl.cfg.log_level)
		log_set_level((enum log_level)log_level_parse(ctl.cfg.log_level));
	if (!upstream_global_init()) {
		fprintf(stderr, "resellerctl: cannot initialise libcurl\n");
		ctl_release(&ctl);
		return 1;
	}
	rc = commands[i].fn(&ctl, argc - 1, argv + 1);
	upstream_global_cleanup();
	ctl_release(&ctl);
	return rc;
}
