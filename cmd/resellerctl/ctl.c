#include "ctl.h"

#include <string.h>

struct store *ctl_store(struct ctl *ctl)
{
	struct store_options so;

	if (ctl->store)
		return ctl->store;
	memset(&so, 0, sizeof(so));
	so.url = ctl->cfg.database_url;
	so.pool_size = 1;
	so.checkout_timeout_ms = (unsigned)ctl->cfg.db_checkout_timeout_ms;
	so.statement_timeout_ms = (unsigned)ctl->cfg.db_statement_timeout_ms;
	so.connect_timeout_s = (unsigned)ctl->cfg.db_connect_timeout_s;
	so.application_name = "resellerctl";
	ctl->store = store_open(&so);
	return ctl->store;
}

void ctl_release(struct ctl *ctl)
{
	store_close(ctl->store);
	ctl->store = NULL;
	config_release(&ctl->cfg);
}
