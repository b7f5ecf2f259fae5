// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

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

int cli_json_only(const char *cmd, const char *usage, int argc, char **argv,
		  bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*json = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option(cmd, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return -1;
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

int cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_duration_ms(const char *s, unsigned int *ms)
{
	double v, scale = 1000;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		scale = 1;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	v *= scale;
	if (v > 3600 * 1000)
		return -EINVAL;
	*ms = (unsigned int)v;
	return 0;
}

void cli_sleep(double seconds)
{
	struct timespec ts = {
		.tv_sec = (time_t)seconds,
		.tv_nsec = (long)((seconds - (time_t)seconds) * 1e9),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *cli_bytes(unsigned long long bytes, char *buf, unsigned long size)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%lluB", bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f%c", v, units[u]);
	return buf;
}

static const char *const cli_levels[] = {
	"none", "notify", "reclaim", "throttle", "freeze", "kill", "oom",
};

const char *cli_level_name(unsigned int level)
{
	return level < sizeof(cli_levels) / sizeof(cli_levels[0]) ?
	       cli_levels[level] : "unknown";
}

unsigned int cli_level_parse(const char *s)
{
	unsigned int l;

	for (l = 1; l <= 5; l++)
		if (!strcmp(s, cli_levels[l]))
			return l;
	return 0;
}

int cli_parse_bytes(const char *s, unsigned long long *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (*end) {
		const char *u = strchr(units, *end == 'k' ? 'K' : *end);

		if (!u || !*u || (end[1] && strcmp(end + 1, "iB") &&
				  strcmp(end + 1, "B")))
			return -EINVAL;
		for (; u >= units; u--) {
			if (v > (~0ULL >> 10))
				return -EINVAL;
			v <<= 10;
		}
	}
	*out = v;
	return 0;
}
