/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_CLI_H
#define MEMCTL_CLI_H

/* Exit statuses, as memctl(8) documents them. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/*
 * One line on stderr about the argument getopt_long() rejected, naming the
 * command's --help; returns EXIT_USAGE. Call with opterr = 0.
 */
int cli_bad_option(const char *cmd, char **argv);

/* One line on stderr for a bad argument; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
