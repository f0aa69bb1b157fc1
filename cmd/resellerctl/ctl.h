#pragma once
/* Shared state of one resellerctl run. */
#include <stdbool.h>

#include "config.h"
#include "store.h"

struct ctl {
	struct config cfg;
	bool json;          /* --json: machine-readable output */
	struct store *store; /* opened on first use */
};

/* The pool (one connection), opened on first use; owned by ctl. */
struct store *ctl_store(struct ctl *ctl);
void ctl_release(struct ctl *ctl);
/* Print a command's usage to stderr; returns 2. */
int ctl_usage(struct ctl *ctl, const char *name);

/* ctl_data.c */
int ctl_cmd_partners(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_lookup(struct ctl *ctl, int argc, char **argv);

/* ctl_simulate.c */
int ctl_cmd_simulate(struct ctl *ctl, int argc, char **argv);
