// SPDX-License-Identifier: GPL-2.0
/* Memory pressure stall triggers, as the daemon's second signal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "psi.h"
#include "util.h"

int psi_parse(const char *s, struct psi_spec *p, char *why, size_t whysz)
{
	char kind[8], pct[16], win[16], extra;
	unsigned int ms;
	char *end;
	long v;

	if (sscanf(s, "%7s %15s %15s %c", kind, pct, win, &extra) != 3 ||
	    (strcmp(kind, "some") && strcmp(kind, "full")))
		goto bad;
	errno = 0;
	v = strtol(pct, &end, 10);
	if (errno || end == pct || strcmp(end, "%") || v < 1 || v > 100)
		goto bad;
	if (cli_parse_duration_ms(win, &ms) || ms < 500 || ms > 10000)
		goto bad;
	p->full = !strcmp(kind, "full");
	p->pct = (unsigned int)v;
	p->window_ms = ms;
	return 0;
bad:
	snprintf(why, whysz,
		 "pressure takes 'some|full PERCENT WINDOW' (e.g. 'full 10%% 2s'; 1%% to 100%%, 500ms to 10s), not '%s'",
		 s);
	return -EINVAL;
}

const char *psi_format(const struct psi_spec *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s %u%% %ums", p->full ? "full" : "some", p->pct,
		 p->window_ms);
	return buf;
}

static void psi_path(const char *cgroup, char *path, size_t size)
{
	const char *root = cg_root();

	if (!strcmp(cgroup, "/") || !root)
		snprintf(path, size, "/proc/pressure/memory");
	else
		snprintf(path, size, "%s%s/memory.pressure", root, cgroup);
}

int psi_open(const char *cgroup, const struct psi_spec *p)
{
	char path[PATH_MAX], trig[64];
	int fd, len;

	psi_path(cgroup, path, sizeof(path));
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(trig, sizeof(trig), "%s %llu %llu",
		       p->full ? "full" : "some",
		       (unsigned long long)p->window_ms * 1000 * p->pct / 100,
		       (unsigned long long)p->window_ms * 1000);
	/* The trigger string with its NUL, as psi.rst's example writes it. */
	if (write(fd, trig, len + 1) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

const char *psi_avg10(const char *cgroup, const struct psi_spec *p,
		      char *buf, size_t size)
{
	char path[PATH_MAX], line[256];
	const char *want = p->full ? "full" : "some";
	FILE *f;

	psi_path(cgroup, path, sizeof(path));
	snprintf(buf, size, "?");
	f = fopen(path, "re");
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f)) {
		char avg[16];

		if (!strncmp(line, want, 4) &&
		    sscanf(line + 4, " avg10=%15s", avg) == 1) {
			snprintf(buf, size, "%s", avg);
			break;
		}
	}
	fclose(f);
	return buf;
}
