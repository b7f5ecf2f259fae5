/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture of memctl daemon's tests (memctl_daemon, memctl_daemon_ops,
 * memctl_daemon_host, memctl_swap): a cgroup with memory.max 256M, a
 * daemon started on a config the test writes, its action log, state and
 * incident reports under /tmp, and the memwatch_hog processes the test
 * spawns in the cgroup. memctl_daemon_fx.c sets it up, tears it down
 * (killing what the test left) and holds the helpers (see
 * memwatch_fixture.h for the pattern).
 */
#ifndef MEMCTL_DAEMON_H
#define MEMCTL_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "memwatch_fixture.h"
#include "memwatch_util.h"

#define LIMIT "256M"
#define MAX_HOGS 4

/*
 * The harness's timeout for a test that waits for a leak to reach a level
 * and for what the daemon then does (wait_end()'s 90 s, then the
 * restore's 15 s). kselftest's default, 30 s, is shorter than those
 * waits: on the sanitizer kernel beside a second guest it ended the
 * kernel OOM test there, before the test could say what it waited for.
 */
#define MW_LADDER_TIMEOUT 180

FIXTURE_DATA(daemon) {
	bool was_loaded;
	char name[64];		/* under the cgroup2 root */
	char path[80];		/* as memctl takes it: /name */
	char conf[96], log[96], out[96], state[96];
	char inc[96];		/* the daemon's incident reports */
	char hog_cg[160];	/* where spawn_hog puts a hog */
	pid_t daemon;
	pid_t hog[MAX_HOGS];
	int nhogs;
	bool host;		/* the test set a policy on "/" */
	bool node;		/* the test set node 1's policy */
};

int daemon_fx_setup(FIXTURE_DATA(daemon) *self);
void daemon_fx_teardown(FIXTURE_DATA(daemon) *self, bool passed);

/* memctl's output, for the tests' mw_memctl() calls. */
extern char outbuf[MW_OUTSZ], errbuf[MW_OUTSZ];

long ms_since(const struct timespec *t0);
/* The cgroup's file, trailing newlines cut: 0 or -1. */
int cg_get(const char *name, const char *file, char *buf, size_t size);
/* The value of key in a flat-keyed file such as memory.events, or -1. */
long long cg_key(const char *name, const char *file, const char *key);
/* The test's own cgroup's file, written: 0 or -1. */
int cg_set(FIXTURE_DATA(daemon) *self, const char *file, const char *val);
bool file_has(const char *path, const char *needle);
/* Replace the file at path with text: 0 or -1. */
int put_file(const char *path, const char *text);

/* The config: a [daemon] section, then the cgroup's levels. */
void write_conf(FIXTURE_DATA(daemon) *self, const char *daemon,
		const char *levels);
/*
 * memctl daemon --log-json LOG --state STATE --incidents INC and the
 * arguments up to MW_END, until it says it is ready: 0, or -1 if it is not.
 */
int start_daemon(FIXTURE_DATA(daemon) *self, ...);
/* SIGTERM, then SIGKILL after 5 s; reaped. */
void stop_daemon(FIXTURE_DATA(daemon) *self);

/*
 * memwatch_hog with args (MW_END-terminated) in self->hog_cg; returns
 * once it has touched its --hold memory: its pid, or -1.
 */
pid_t spawn_hog(FIXTURE_DATA(daemon) *self, ...);
/*
 * The scenario's pair: an innocent holding 60M, a leaker (1M at a time;
 * with how, one more memwatch_hog option, or NULL).
 */
int spawn_pair_how(FIXTURE_DATA(daemon) *self, pid_t *innocent,
		   pid_t *leaker, const char *how);
int spawn_pair(FIXTURE_DATA(daemon) *self, pid_t *innocent, pid_t *leaker);
/* Wait up to ms for pid to end: its wait status, or -1. */
int wait_end(pid_t pid, long ms);
bool alive(pid_t pid);

/* Wait up to ms for the cgroup to be thawed and memory.high high. */
bool wait_restored_to(FIXTURE_DATA(daemon) *self, const char *high,
		      long ms);
#define wait_restored(self, ms) wait_restored_to(self, "max", ms)
/* Wait up to ms for the file at path to hold needle. */
bool wait_file(const char *path, const char *needle, long ms);
/* The action log, and the daemon's output. */
#define wait_log(self, needle, ms) wait_file((self)->log, needle, ms)
#define wait_out(self, needle, ms) wait_file((self)->out, needle, ms)

/* jq on the action log (one JSON array, $v the cgroup); on failure print it. */
int log_jq(FIXTURE_DATA(daemon) *self, const char *filter);
/*
 * jq on `memctl incidents --json`, waiting up to ms for it to hold; on
 * failure print the list.
 */
int incidents_jq(FIXTURE_DATA(daemon) *self, const char *filter, long ms);

/* For log_jq: the ladder's steps came in order. */
extern const char ladder_order[];

/* The scenario: the daemon's timings, and the cgroup's levels. */
#define SCENARIO_DAEMON "freeze-grace = 1s\nkill-grace = 2s\nsettle = 3s\n"
#define SCENARIO_LEVELS "notify = 40%\nreclaim = 50%\nthrottle = 60%\n" \
			"freeze = 64%\nkill = 80%\n"

#endif
