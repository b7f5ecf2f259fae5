/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_UTIL_H
#define MEMCTL_UTIL_H

#include <stdbool.h>

/*
 * What memctl's commands and its daemon read and write alike: exit
 * statuses, arguments (numbers, sizes, durations, level names) and sizes
 * as people read them.
 */

/* Exit statuses, as memctl(8) documents them. */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/*
 * One line on stderr about the argument getopt_long() rejected, naming the
 * command's --help; returns EXIT_USAGE. Call with opterr = 0.
 */
int cli_bad_option(const char *cmd, char **argv);

/*
 * The options of a command that takes --json (-j) and --help (-h) alone:
 * -1 to go on (*json set), or the status to exit with (usage printed, or
 * a bad option or an argument said in one line).
 */
int cli_json_only(const char *cmd, const char *usage, int argc, char **argv,
		  bool *json);

/* One line on stderr for a bad argument; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse a whole number in [min, max]: 0 or -EINVAL. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* Parse seconds > 0, fractions allowed: 0 or -EINVAL. */
int cli_parse_seconds(const char *s, double *out);
/* "2s", "500ms", "1.5" (seconds), up to an hour, into ms: 0 or -EINVAL. */
int cli_parse_duration_ms(const char *s, unsigned int *ms);
void cli_sleep(double seconds);
/* bytes as "512B", "1.5K", "20.0M", "3.2G" (powers of 1024). */
const char *cli_bytes(unsigned long long bytes, char *buf, unsigned long size);

/* A level's name ("notify" ... "kill", "oom"), or "none". */
const char *cli_level_name(unsigned int level);
/* The level named s (notify..kill), or 0. */
unsigned int cli_level_parse(const char *s);
/* Bytes with an optional K, M, G or T (powers of 1024): 0 or -EINVAL. */
int cli_parse_bytes(const char *s, unsigned long long *out);

#endif
