// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions.h"
#include "actlog.h"
#include "cgroup.h"
#include "migrate.h"

extern char **environ;

int proc_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int proc_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) ? -errno : 0;
}

int proc_mrelease(int pidfd)
{
	return syscall(SYS_process_mrelease, pidfd, 0) ? -errno : 0;
}

bool proc_catches(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "SigCgt: %llx", &mask) == 1;
	fclose(f);
	return found && (mask >> (sig - 1) & 1);
}

/* memory.reclaim requests, one slot per cgroup, served in order. */
#define RECLAIM_QUEUE 32

struct reclaim_req {
	char cg[256];		/* for a migration: "/" */
	unsigned int level;
	uint64_t bytes, ts;
	pid_t pid;		/* a migration of pid's pages, else 0 */
	char comm[32];
	int from, to;		/* its nodes */
};

static struct reclaim_req reclaim_q[RECLAIM_QUEUE];
static unsigned int reclaim_head, reclaim_len;
static bool reclaim_quit, reclaim_running;
static pthread_mutex_t reclaim_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reclaim_cond = PTHREAD_COND_INITIALIZER;
static pthread_t reclaim_thread;

static void reclaim_one(const struct reclaim_req *r)
{
	uint64_t before = cg_usage(r->cg), after;
	char val[32];
	int err;

	snprintf(val, sizeof(val), "%llu", (unsigned long long)r->bytes);
	err = cg_write(r->cg, "memory.reclaim", val);
	after = cg_usage(r->cg);
	{
		char why[128];
		struct act a = {
			.ts_ns = r->ts, .cgroup = r->cg, .level = r->level,
			.action = "reclaim", .bytes = r->bytes, .reason = why,
		};

		if (err == -EAGAIN) {
			a.outcome = ACT_PARTIAL;
			a.detail = "the kernel found less to reclaim";
		} else if (err) {
			a.outcome = ACT_ERROR;
			a.detail = strerror(-err);
		}

		snprintf(why, sizeof(why),
			 "toward the level below; usage %llu -> %llu KiB in %llu ms",
			 (unsigned long long)(before >> 10),
			 (unsigned long long)(after >> 10),
			 (unsigned long long)((now_ns() - r->ts) / 1000000));
		act_log(&a);
	}
}

static void migrate_one(const struct reclaim_req *r)
{
	char why[160], detail[64];
	uint64_t before = node_free(r->to);
	long left = proc_migrate(r->pid, r->from, r->to);
	uint64_t moved = node_free(r->to);
	struct act a = {
		.ts_ns = r->ts, .cgroup = r->cg, .level = r->level,
		.action = "migrate", .pid = (uint32_t)r->pid, .comm = r->comm,
		.bytes = r->bytes, .detail = detail, .reason = why,
	};

	moved = before > moved ? before - moved : 0;
	if (left < 0) {
		a.outcome = ACT_ERROR;
		snprintf(detail, sizeof(detail), "%s", strerror((int)-left));
	} else if (left) {
		a.outcome = ACT_PARTIAL;
		snprintf(detail, sizeof(detail), "%ld pages not moved", left);
	} else {
		a.detail = NULL;
	}
	snprintf(why, sizeof(why),
		 "node %d is short: to node %d, the roomiest; %llu MiB landed there in %llu ms",
		 r->from, r->to, (unsigned long long)(moved >> 20),
		 (unsigned long long)((now_ns() - r->ts) / 1000000));
	act_log(&a);
}

static void *reclaim_main(void *arg)
{
	struct reclaim_req r;

	(void)arg;
	pthread_mutex_lock(&reclaim_lock);
	for (;;) {
		while (!reclaim_len && !reclaim_quit)
			pthread_cond_wait(&reclaim_cond, &reclaim_lock);
		if (reclaim_quit)
			break;
		r = reclaim_q[reclaim_head];
		reclaim_head = (reclaim_head + 1) % RECLAIM_QUEUE;
		reclaim_len--;
		pthread_mutex_unlock(&reclaim_lock);
		if (r.pid)
			migrate_one(&r);
		else
			reclaim_one(&r);
		pthread_mutex_lock(&reclaim_lock);
	}
	pthread_mutex_unlock(&reclaim_lock);
	return NULL;
}

int reclaim_start(void)
{
	sigset_t all, old;
	pthread_attr_t ta;
	int err;

	/* Signals belong to the main loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/*
	 * A small stack, as the metrics thread's: under mlockall the
	 * default 8 MiB stays resident, all of it.
	 */
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, 256 << 10);
	err = pthread_create(&reclaim_thread, &ta, reclaim_main, NULL);
	pthread_attr_destroy(&ta);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	reclaim_running = !err;
	return -err;
}

void reclaim_stop(void)
{
	if (!reclaim_running)
		return;
	pthread_mutex_lock(&reclaim_lock);
	reclaim_quit = true;
	pthread_cond_signal(&reclaim_cond);
	pthread_mutex_unlock(&reclaim_lock);
	/* A reclaim in progress finishes first: the kernel bounds it. */
	pthread_join(reclaim_thread, NULL);
	reclaim_running = false;
}

/*
 * Under reclaim_lock: the queued request like r (the same cgroup, or the
 * same process and node to migrate from), else a new slot, else NULL.
 * Filled from r, and the thread woken.
 */
static bool reclaim_enqueue(const struct reclaim_req *r)
{
	struct reclaim_req *q = NULL;
	unsigned int i;

	pthread_mutex_lock(&reclaim_lock);
	for (i = 0; i < reclaim_len; i++) {
		struct reclaim_req *o = &reclaim_q[(reclaim_head + i) %
						   RECLAIM_QUEUE];

		if (o->pid == r->pid &&
		    (r->pid ? o->from == r->from : !strcmp(o->cg, r->cg)))
			q = o;
	}
	if (!q && reclaim_len < RECLAIM_QUEUE)
		q = &reclaim_q[(reclaim_head + reclaim_len++) % RECLAIM_QUEUE];
	if (q) {
		*q = *r;
		q->ts = now_ns();
		pthread_cond_signal(&reclaim_cond);
	}
	pthread_mutex_unlock(&reclaim_lock);
	return q != NULL;
}

bool reclaim_request(const char *cg, unsigned int level, uint64_t bytes)
{
	struct reclaim_req r = { .level = level, .bytes = bytes };

	snprintf(r.cg, sizeof(r.cg), "%s", cg);
	return reclaim_enqueue(&r);
}

bool migrate_request(pid_t pid, const char *comm, int from, int to,
		     unsigned int level, uint64_t bytes)
{
	struct reclaim_req r = {
		.level = level, .bytes = bytes, .pid = pid, .from = from,
		.to = to,
	};

	snprintf(r.cg, sizeof(r.cg), "/");
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	return reclaim_enqueue(&r);
}

/* The daemon's environment plus the event's, built without malloc. */
#define HOOK_ENV_MAX 256

/* Hooks whose end someone waits for: their exit status once reaped. */
#define HOOK_WATCHED 16
static struct {
	pid_t pid;
	bool done;
	int status;
} hook_watched[HOOK_WATCHED];

int hook_spawn(const char *cmd, char *const env[], pid_t *pidp)
{
	static char *envp[HOOK_ENV_MAX];
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	posix_spawnattr_t attr;
	unsigned int n = 0, i, slot = 0;
	sigset_t none, all;
	pid_t pid;
	int err;

	for (i = 0; env[i] && n < HOOK_ENV_MAX - 1; i++)
		envp[n++] = env[i];
	for (i = 0; environ[i] && n < HOOK_ENV_MAX - 1; i++)
		if (strncmp(environ[i], "MEMCTL_", 7))
			envp[n++] = environ[i];
	envp[n] = NULL;
	/*
	 * posix_spawn uses CLONE_VM|CLONE_VFORK: no copy of the daemon. The
	 * hook starts with no signal blocked and every handler default, in
	 * a process group of its own (a waited-for hook that overstays is
	 * killed whole, with what it started).
	 */
	if (pidp) {
		for (slot = 0; slot < HOOK_WATCHED && hook_watched[slot].pid;
		     slot++)
			;
		if (slot == HOOK_WATCHED)
			return -EBUSY;
	}
	sigemptyset(&none);
	sigfillset(&all);
	err = posix_spawnattr_init(&attr);
	if (err)
		return -err;
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	err = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	if (err)
		return -err;
	if (pidp) {
		hook_watched[slot].pid = pid;
		hook_watched[slot].done = false;
		*pidp = pid;
	}
	return 0;
}

void hook_reap(void)
{
	unsigned int i;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < HOOK_WATCHED; i++)
			if (hook_watched[i].pid == pid) {
				hook_watched[i].done = true;
				hook_watched[i].status = status;
			}
}

int hook_result(pid_t pid, int *status)
{
	unsigned int i;

	hook_reap();
	for (i = 0; i < HOOK_WATCHED; i++) {
		if (hook_watched[i].pid != pid)
			continue;
		if (!hook_watched[i].done)
			return 0;
		*status = hook_watched[i].status;
		hook_watched[i].pid = 0;
		return 1;
	}
	return -ENOENT;
}

void hook_forget(pid_t pid)
{
	unsigned int i;

	for (i = 0; i < HOOK_WATCHED; i++)
		if (hook_watched[i].pid == pid)
			hook_watched[i].pid = 0;
}
