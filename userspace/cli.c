// SPDX-License-Identifier: GPL-2.0
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_bad_option(const char *cmd, char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt && optopt != '?')
		fprintf(stderr,
			"memctl %s: option '-%c' is unknown or needs a value (see 'memctl %s --help')\n",
			cmd, optopt, cmd);
	else
		fprintf(stderr,
			"memctl %s: option '%s' is unknown or needs a value (see 'memctl %s --help')\n",
			cmd, arg, cmd);
	return EXIT_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "memctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'memctl %s --help')\n", cmd);
	return EXIT_USAGE;
}
