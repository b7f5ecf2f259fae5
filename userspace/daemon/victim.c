// SPDX-License-Identifier: GPL-2.0
/* Whom the daemon's kill step chooses, from the module's attribution. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "procs.h"
#include "victim.h"

#define VICTIM_CANDIDATES 4096
/* include/linux/sched.h: the task is in do_exit(). */
#define VICTIM_PF_EXITING 0x00000004UL
/*
 * How long a process that is exiting holds the kill back: its memory is
 * coming back. One stuck in its exit longer (an mm held by something
 * else, a thread in D state) no longer does.
 */
#define VICTIM_EXIT_WAIT_MS 10000

static struct {
	uint32_t pid;
	uint64_t since_ms;
} victim_wait;

static struct mw_procs victim_procs;
static struct victim victim_cand[VICTIM_CANDIDATES];

int victims_init(void)
{
	victim_procs.v = calloc(VICTIM_CANDIDATES, sizeof(*victim_procs.v));
	if (!victim_procs.v)
		return -ENOMEM;
	victim_procs.cap = VICTIM_CANDIDATES;
	return 0;
}

void victims_exit(void)
{
	free(victim_procs.v);
	memset(&victim_procs, 0, sizeof(victim_procs));
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return (int)n;
}

/* oom_score_adj and parent of pid: 0, or -errno if it is gone. */
static int proc_info(uint32_t pid, int *adj, uint32_t *ppid)
{
	char path[64], buf[512];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%u/oom_score_adj", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	*adj = atoi(buf);
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	/* pid (comm) state ppid ...: comm may hold anything but ')'s end. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %u", ppid) != 1)
		return -ESRCH;
	return 0;
}

static bool rule_match(const regex_t *re, uint32_t pid, const char *comm)
{
	char path[64], cmd[4096];
	int n, i;

	if (!re)
		return false;
	if (!regexec(re, comm, 0, NULL, 0))
		return true;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_file(path, cmd, sizeof(cmd));
	if (n <= 0)
		return false;
	for (i = 0; i < n - 1; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	return !regexec(re, cmd, 0, NULL, 0);
}

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/*
 * Whether every thread of pid is exiting (PF_EXITING, or a zombie): its
 * memory is on its way back. A leader that called pthread_exit() while
 * other threads run is not: its process goes on.
 */
static bool proc_exiting(uint32_t pid)
{
	char path[96], buf[512];
	bool any = false, all = true;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (all && (e = readdir(d))) {
		unsigned long flags;
		const char *p;
		char state;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%u/task/%.16s/stat", pid,
			 e->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0)
			continue;	/* gone meanwhile */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state,
				 &flags) != 2)
			continue;
		any = true;
		all = (flags & VICTIM_PF_EXITING) || state == 'Z' ||
		      state == 'X';
	}
	closedir(d);
	return any && all;
}

static const struct baseline *base_of(const struct baseline *base,
				      unsigned int nbase, uint32_t pid)
{
	unsigned int i;

	for (i = 0; i < nbase; i++)
		if (base[i].pid == pid)
			return &base[i];
	return NULL;
}

static uint64_t growth(const struct victim *v)
{
	return v->growth < VICTIM_GROWTH_NOISE ? 0 : v->growth;
}

static uint64_t anon_growth(const struct victim *v)
{
	return v->anon_growth < VICTIM_GROWTH_NOISE ? 0 : v->anon_growth;
}

static int victim_cmp(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	if (x->preferred != y->preferred)
		return x->preferred ? -1 : 1;
	if (anon_growth(x) != anon_growth(y))
		return anon_growth(x) > anon_growth(y) ? -1 : 1;
	if (growth(x) != growth(y))
		return growth(x) > growth(y) ? -1 : 1;
	if (x->live != y->live)
		return x->live > y->live ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int victims_choose(struct mw_nl *nl, uint64_t cgroup_id,
		   const struct baseline *base, unsigned int nbase,
		   const struct victim_rules *rules, struct victim *out,
		   unsigned int max, char *why, size_t whysz)
{
	unsigned int n = 0, protected = 0, avoided = 0, i, k;
	uint32_t self = (uint32_t)getpid();
	const struct mw_proc *exiting = NULL;
	int err;

	why[0] = '\0';
	err = mw_procs_fetch(nl, 0, cgroup_id, &victim_procs);
	if (err) {
		snprintf(why, whysz, "cannot read the module's records: %s",
			 strerror(-err));
		return err;
	}
	for (i = 0; i < victim_procs.n && n < VICTIM_CANDIDATES; i++) {
		const struct mw_proc *p = &victim_procs.v[i];
		struct victim *v = &victim_cand[n];
		const struct baseline *b;
		int adj;

		if (p->state != MEMWATCH_PROC_ALIVE || p->pid <= 1 ||
		    p->pid == self)
			continue;
		/*
		 * One on its way out with memory: that memory comes back.
		 * The kernel's OOM killer waits for such a task too rather
		 * than kill another (task_will_free_mem()).
		 */
		if (p->live >= VICTIM_GROWTH_NOISE && proc_exiting(p->pid)) {
			if (!exiting || p->live > exiting->live)
				exiting = p;
			continue;
		}
		memset(v, 0, sizeof(*v));
		if (proc_info(p->pid, &adj, &v->ppid))
			continue;
		if (adj == -1000) {
			protected++;
			continue;
		}
		if (rule_match(rules->avoid, p->pid, p->comm)) {
			avoided++;
			continue;
		}
		v->pid = p->pid;
		snprintf(v->comm, sizeof(v->comm), "%s", p->comm);
		snprintf(v->cgroup, sizeof(v->cgroup), "%s", p->cgroup);
		v->live = p->live;
		v->anon = p->anon + p->swap;
		b = base_of(base, nbase, p->pid);
		v->growth = p->live > (b ? b->live : 0) ?
			    p->live - (b ? b->live : 0) : 0;
		v->anon_growth = v->anon > (b ? b->anon : 0) ?
				 v->anon - (b ? b->anon : 0) : 0;
		v->preferred = rule_match(rules->prefer, p->pid, p->comm);
		v->pidfd = -1;
		n++;
	}
	if (exiting) {
		uint64_t now = mono_ms();

		if (victim_wait.pid != exiting->pid) {
			victim_wait.pid = exiting->pid;
			victim_wait.since_ms = now;
		}
		if (now - victim_wait.since_ms < VICTIM_EXIT_WAIT_MS) {
			snprintf(why, whysz,
				 "waiting: %u (%s) is exiting with %llu bytes, which come back first",
				 exiting->pid, exiting->comm,
				 (unsigned long long)exiting->live);
			return 0;
		}
	}
	if (!n) {
		snprintf(why, whysz,
			 "no process may be killed (%u protected by oom_score_adj -1000, %u matched --avoid)",
			 protected, avoided);
		return 0;
	}
	qsort(victim_cand, n, sizeof(victim_cand[0]), victim_cmp);
	out[0] = victim_cand[0];
	k = 1;
	for (i = 1; i < n && k < max && growth(&out[0]); i++) {
		const struct victim *c = &victim_cand[i];

		if (c->ppid == out[0].ppid && c->ppid > 1 &&
		    !strcmp(c->comm, out[0].comm) &&
		    c->preferred == out[0].preferred &&
		    growth(c) >= growth(&out[0]) / 4)
			out[k++] = *c;
	}
	return (int)k;
}

static int base_cmp(const void *a, const void *b)
{
	const struct baseline *x = a, *y = b;

	return x->live != y->live ? (x->live > y->live ? -1 : 1) : 0;
}

unsigned int victims_baseline(struct mw_nl *nl, uint64_t cgroup_id,
			      struct baseline *base, unsigned int max)
{
	unsigned int n = 0, i;

	if (mw_procs_fetch(nl, 0, cgroup_id, &victim_procs))
		return 0;
	for (i = 0; i < victim_procs.n; i++) {
		const struct mw_proc *p = &victim_procs.v[i];

		if (p->state != MEMWATCH_PROC_ALIVE || !p->live)
			continue;
		/* Keep the biggest: a process left out counts as new. */
		if (n == max && p->live <= base[max - 1].live)
			continue;
		if (n < max)
			n++;
		base[n - 1].pid = p->pid;
		base[n - 1].live = p->live;
		base[n - 1].anon = p->anon + p->swap;
		qsort(base, n, sizeof(*base), base_cmp);
	}
	return n;
}
