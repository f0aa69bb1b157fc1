#pragma once
/* resellerctl sync: one synchronous sync run (ctl_sync.c). */
#include "ctl.h"

/*
 * resellerctl sync [--full] [--source zuora|salesforce] [--batch-size N]
 * Progress on stderr when it is a terminal, a summary on stdout (JSON with
 * --json). Returns the exit code: 0 success, 1 failure (message on
 * stderr), 2 usage error.
 */
int ctl_cmd_sync(struct ctl *ctl, int argc, char **argv);
