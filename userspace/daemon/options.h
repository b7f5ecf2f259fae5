/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_OPTIONS_H
#define MEMCTL_OPTIONS_H

#include <stdbool.h>

#include "config.h"

/* What memctl daemon's command line said. */
struct daemon_opts {
	const char *config_path;	/* --config, or NULL */
	bool dry_run, check;
	struct settings cli;		/* the settings it gave */
};

/* Parse the options into o: 0, -1 after --help, or EXIT_USAGE. */
int daemon_options(int argc, char **argv, struct daemon_opts *o);
/* --check: the settings and the sections in force, as a file says them. */
void daemon_print_config(const struct settings *s, const struct config *cfg);

#endif
