// SPDX-License-Identifier: GPL-2.0
/*
 * memctl daemon against real pressure: a cgroup with memory.max 256M, an
 * innocent process holding 60M and leakers (memwatch_hog). The kernel OOM
 * killer must never fire, the leaker must be the one stopped, and the
 * cgroup must be left neither frozen nor throttled.
 *
 * Built with MEMCTL_SWAP_TESTS it is memctl_swap: the tests that need
 * swap, run in the --profile host guest (scripts/check).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>

#ifdef MEMCTL_SWAP_TESTS
/* The helpers the other tests use. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#endif
#include "kselftest_harness.h"
#include "memwatch_util.h"

#define LIMIT "256M"
#define MAX_HOGS 4

static char logbuf[4 * MW_OUTSZ];
static char outbuf[MW_OUTSZ], errbuf[MW_OUTSZ];

FIXTURE(daemon) {
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

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int cg_get(const char *name, const char *file, char *buf, size_t size)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", name, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

/* The value of key in a flat-keyed file such as memory.events, or -1. */
static long long cg_key(const char *name, const char *file, const char *key)
{
	char buf[4096], *p;
	size_t klen = strlen(key);

	if (cg_get(name, file, buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return atoll(p + klen + 1);
	}
	return -1;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, needle) != NULL;
}

FIXTURE_SETUP(daemon)
{
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	snprintf(self->name, sizeof(self->name), "mw-daemon-%d", getpid());
	snprintf(self->path, sizeof(self->path), "/%s", self->name);
	snprintf(self->conf, sizeof(self->conf), "/tmp/%s.conf", self->name);
	snprintf(self->log, sizeof(self->log), "/tmp/%s.jsonl", self->name);
	snprintf(self->out, sizeof(self->out), "/tmp/%s.out", self->name);
	snprintf(self->state, sizeof(self->state), "/tmp/%s.state",
		 self->name);
	snprintf(self->inc, sizeof(self->inc), "/tmp/%s.incidents",
		 self->name);
	snprintf(self->hog_cg, sizeof(self->hog_cg), "%s", self->name);
	unlink(self->log);
	ASSERT_NE(0, mw_cgroup_make(self->name, LIMIT));
	self->daemon = 0;
	self->nhogs = 0;
	self->host = false;
	self->node = false;
}

static void stop_daemon(FIXTURE_DATA(daemon) *self)
{
	int i;

	if (self->daemon <= 0)
		return;
	kill(self->daemon, SIGTERM);
	for (i = 0; i < 100 && !waitpid(self->daemon, NULL, WNOHANG); i++)
		usleep(50000);
	if (i == 100) {
		kill(self->daemon, SIGKILL);
		waitpid(self->daemon, NULL, 0);
	}
	self->daemon = 0;
}

/* A directory of files, and the files. */
static void rm_dir(const char *path)
{
	char file[512];
	struct dirent *e;
	DIR *dir = opendir(path);

	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] ||
					    !strcmp(e->d_name, "..")))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		unlink(file);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

FIXTURE_TEARDOWN(daemon)
{
	int i, fd;

	stop_daemon(self);
	for (i = 0; i < self->nhogs; i++) {
		kill(self->hog[i], SIGKILL);
		waitpid(self->hog[i], NULL, 0);
	}
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	/* The module keeps policies: the root's must not outlive the test. */
	if (self->host) {
		static char out[MW_OUTSZ], err[MW_OUTSZ];

		if (mw_memctl(out, err, "policy", "clear", "/", MW_END))
			fprintf(stderr, "# policy clear /: %s", err);
	}
	if (self->node) {
		static char out[MW_OUTSZ], err[MW_OUTSZ];

		if (mw_memctl(out, err, "policy", "clear", "--node", "1", MW_END))
			fprintf(stderr, "# policy clear --node 1: %s", err);
	}
	mw_cgroup_remove(self->name);
	/* The daemon's own account, for whoever reads a failure. */
	fd = open(self->out, O_RDONLY);
	if (fd >= 0) {
		char buf[MW_OUTSZ];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		if (_metadata->passed == 0 || getenv("MEMWATCH_VERBOSE"))
			fprintf(stderr, "# daemon output:\n%s", buf);
		close(fd);
	}
	unlink(self->conf);
	unlink(self->out);
	unlink(self->state);
	unlink(self->log);
	rm_dir(self->inc);
	mw_module_ensure(self->was_loaded);
}

/* Replace the file at path with text: 0 or -1. */
static int put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) ? -1 : 0;
}

/* The config: a [daemon] section, then the cgroup's levels. */
static void write_conf(FIXTURE_DATA(daemon) *self, const char *daemon,
		       const char *levels)
{
	char text[1024];

	snprintf(text, sizeof(text), "[daemon]\n%s\n[cgroup %s]\n%s", daemon,
		 self->path, levels);
	put_file(self->conf, text);
}

/*
 * memctl daemon --log-json LOG --state STATE --incidents INC and the arguments up to
 * MW_END, until it says it is ready: 0, or -1 if it is not.
 */
static int start_daemon(FIXTURE_DATA(daemon) *self, ...)
{
	char *argv[20];
	struct timespec t0;
	va_list ap;
	int n = 0;
	pid_t pid;

	argv[n++] = "memctl";
	argv[n++] = "daemon";
	argv[n++] = "--log-json";
	argv[n++] = self->log;
	argv[n++] = "--state";
	argv[n++] = self->state;
	argv[n++] = "--incidents";
	argv[n++] = self->inc;
	va_start(ap, self);
	while (n < 19 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	/* Before the fork: a previous daemon's "ready" must not count. */
	if (put_file(self->out, ""))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open(self->out, O_WRONLY | O_APPEND);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(mw_memctl_path(), argv);
		_exit(127);
	}
	self->daemon = pid;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 10000) {
		if (file_has(self->out, "memctl daemon: ready"))
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			self->daemon = 0;
			return -1;
		}
		usleep(20000);
	}
	return -1;
}

/*
 * memwatch_hog with args (NULL-terminated) in the test cgroup; returns
 * once it has touched its --hold memory: its pid, or -1.
 */
static pid_t spawn_hog(FIXTURE_DATA(daemon) *self, ...)
{
	char *argv[24], fdarg[16];
	int p[2], n = 0;
	va_list ap;
	pid_t pid;
	char c;

	if (pipe(p) || self->nhogs == MAX_HOGS)
		return -1;
	argv[n++] = "memwatch_hog";
	va_start(ap, self);
	while (n < 20 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
	argv[n++] = "--ready";
	argv[n++] = fdarg;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(p[0]);
		if (mw_cgroup_enter(self->hog_cg))
			_exit(126);
		execv(mw_hog_path(), argv);
		_exit(127);
	}
	close(p[1]);
	self->hog[self->nhogs++] = pid;
	if (read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

/*
 * The scenario's pair: an innocent holding 60M, a leaker (1M at a time;
 * with how, one more memwatch_hog option, or NULL).
 */
static int spawn_pair_how(FIXTURE_DATA(daemon) *self, pid_t *innocent,
			  pid_t *leaker, const char *how)
{
	*innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent",
			      MW_END);
	*leaker = *innocent < 0 ? -1 :
		  spawn_hog(self, "--leak", "1M", "--name", "leaker", how,
			    MW_END);
	return *leaker < 0 ? -1 : 0;
}

static int spawn_pair(FIXTURE_DATA(daemon) *self, pid_t *innocent,
		      pid_t *leaker)
{
	return spawn_pair_how(self, innocent, leaker, NULL);
}

/* Wait up to ms for pid to end: its wait status, or -1. */
static int wait_end(pid_t pid, long ms)
{
	struct timespec t0;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < ms) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(20000);
	}
	return -1;
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* Wait up to ms for the cgroup to be thawed and memory.high high. */
static bool wait_restored_to(FIXTURE_DATA(daemon) *self, const char *high,
			     long ms)
{
	struct timespec t0;
	char f[32], h[32];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (!cg_get(self->name, "cgroup.freeze", f, sizeof(f)) &&
		    !cg_get(self->name, "memory.high", h, sizeof(h)) &&
		    !strcmp(f, "0") && !strcmp(h, high))
			return true;
		usleep(50000);
	} while (ms_since(&t0) < ms);
	return false;
}

#define wait_restored(self, ms) wait_restored_to(self, "max", ms)

/* Wait up to ms for the file at path to hold needle. */
static bool wait_file(const char *path, const char *needle, long ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (file_has(path, needle))
			return true;
		usleep(50000);
	} while (ms_since(&t0) < ms);
	return false;
}

/* The action log, and the daemon's output. */
#define wait_log(self, needle, ms) wait_file((self)->log, needle, ms)
#define wait_out(self, needle, ms) wait_file((self)->out, needle, ms)

/* The action log (JSON lines) as one JSON array in logbuf. */
static const char *log_array(FIXTURE_DATA(daemon) *self)
{
	FILE *f = fopen(self->log, "r");
	char line[4096];
	size_t len = 0;

	len += snprintf(logbuf + len, sizeof(logbuf) - len, "[");
	while (f && fgets(line, sizeof(line), f) &&
	       len < sizeof(logbuf) - sizeof(line) - 4) {
		line[strcspn(line, "\n")] = '\0';
		len += snprintf(logbuf + len, sizeof(logbuf) - len, "%s%s",
				len > 1 ? "," : "", line);
	}
	snprintf(logbuf + len, sizeof(logbuf) - len, "]");
	if (f)
		fclose(f);
	return logbuf;
}

/* jq on the log; on failure print it. */
static int log_jq(FIXTURE_DATA(daemon) *self, const char *filter)
{
	const char *log = log_array(self);
	int rc = mw_jq(log, filter, self->path);

	if (rc)
		fprintf(stderr, "# action log: %s\n", log);
	return rc;
}

/*
 * jq on `memctl incidents --json` (the reports as an array, oldest
 * first), waiting up to ms for it to hold: the daemon writes a report
 * after the kill. On failure print the list.
 */
static int incidents_jq(FIXTURE_DATA(daemon) *self, const char *filter,
			long ms)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ], jq[MW_OUTSZ];
	char file[] = "/tmp/memwatch-inc.XXXXXX";
	char *argv[] = { "jq", "-e", "--arg", "v", self->path, (char *)filter,
			 file, NULL };
	struct timespec t0;
	int rc, fd = mkstemp(file);

	if (fd < 0)
		return -1;
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		rc = mw_memctl(out, err, "incidents", "--dir", self->inc,
			       "--json", MW_END);
		if (!rc)
			rc = put_file(file, out);
		if (!rc)
			rc = mw_run(argv, jq, sizeof(jq), err, sizeof(err));
		if (!rc)
			break;
		usleep(100000);
	} while (ms_since(&t0) < ms);
	unlink(file);
	if (rc)
		fprintf(stderr, "# incidents (%d): %.4000s%s\n# filter: %s\n",
			rc, out, err, filter);
	return rc;
}

/* The cgroup's own file, written: 0 or -1. */
static int cg_set(FIXTURE_DATA(daemon) *self, const char *file, const char *val)
{
	char path[192];

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", self->name, file);
	return mw_write(path, val) ? -1 : 0;
}

/* The ladder's steps came in order: first occurrences, by time. */
static const char ladder_order[] =
	"[sort_by(.ts_ns)[] | select(.cgroup == $v) | .action] as $a"
	" | [\"notify\", \"reclaim\", \"throttle\", \"freeze\", \"kill\"]"
	" | map(. as $x | $a | index($x)) as $i"
	" | all($i[]; . != null) and $i == ($i | sort)";

#define SCENARIO_DAEMON "freeze-grace = 1s\nkill-grace = 2s\nsettle = 3s\n"
#define SCENARIO_LEVELS "notify = 40%\nreclaim = 50%\nthrottle = 60%\n" \
			"freeze = 64%\nkill = 80%\n"

#ifndef MEMCTL_SWAP_TESTS
/* (1) One leaker beside an innocent: the leaker goes, step by step. */
TEST_F(daemon, leaker_is_killed_innocent_survives)
{
	char filter[512];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_restored(self, 15000))
		TH_LOG("the cgroup was left frozen or throttled");
	EXPECT_TRUE(wait_log(self, "\"unthrottle\"", 15000));

	EXPECT_EQ(0, log_jq(self, ladder_order));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d and .comm == \"leaker\" and .result == \"ok\""
		 " and (.reason | contains(\"the most\")))"
		 " and any(.[]; .action == \"thaw\") and any(.[]; .action == \"unthrottle\")"
		 " and all(.[]; .action == \"reclaim\" or .result == \"ok\")"
		 " and all(.[]; .dry_run == false)", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	/* The incident report: the kill, and what led to it. */
	snprintf(filter, sizeof(filter),
		 "length == 1 and (.[0] | .kind == \"kill\" and .action == \"kill\""
		 " and .cgroup == $v and .victims[0].pid == %d"
		 " and .victims[0].comm == \"leaker\" and .limit == 268435456"
		 " and .thresholds.kill > 0 and .memory_stat.anon > 0"
		 " and (.memory_events | has(\"max\"))"
		 " and .memory_pressure.some.avg10 != null"
		 " and any(.timeline[]; .action == \"freeze\")"
		 " and any(.top[]; .pid == %d and .growth > 0 and (.nodes | length) >= 1)"
		 " and any(.top[]; .comm == \"innocent\"))", leaker, leaker);
	EXPECT_EQ(0, incidents_jq(self, filter, 5000));
}

/*
 * A leaker whose first thread called pthread_exit() (a zombie leader, a
 * thread leaking on): its process is not taken for one on its way out
 * (every thread would be), and its anonymous growth is seen through the
 * thread that has the mm. It dies, the innocent lives.
 */
TEST_F(daemon, leaker_behind_a_zombie_leader_is_killed)
{
	char filter[512];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair_how(self, &innocent, &leaker, "--thread"));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(alive(innocent));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d and .result == \"ok\""
		 " and (.reason | contains(\"the most\"))"
		 " and (.reason | contains(\"(anonymous 0B)\") | not))"
		 " and all(.[]; (.reason // \"\") | startswith(\"waiting\") | not)",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

/* (2) Eight leaking children of one parent go together. */
TEST_F(daemon, leaking_children_are_killed_together)
{
	char filter[512];
	pid_t innocent, parent;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	parent = spawn_hog(self, "--children", "8", "--leak", "256K",
			   "--name", "leakers", MW_END);
	ASSERT_LT(0, parent);

	/* The parent returns once all its children are gone. */
	status = wait_end(parent, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaking children were not stopped in 90 s");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_restored(self, 15000));

	EXPECT_EQ(0, log_jq(self, ladder_order));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k"
		 " | ([$k[].pid] | unique | length) == 8"
		 " and all($k[]; .comm == \"leakers\" and .pid != %d and .pid != %d)",
		 innocent, parent);
	EXPECT_EQ(0, log_jq(self, filter));
}

/* (3) A slow leak: reclaim and throttle hold it, nothing is killed. */
TEST_F(daemon, slow_leak_is_contained_without_a_kill)
{
	char high[32];
	pid_t innocent, leaker;
	long long usage;

	write_conf(self, SCENARIO_DAEMON,
		   "notify = 40%\nreclaim = 50%\nthrottle = 60%\n"
		   "freeze = 90%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	leaker = spawn_hog(self, "--hold", "90M", "--leak", "256K", "--every",
			   "25", "--name", "slowleak", MW_END);
	ASSERT_LT(0, leaker);

	ASSERT_TRUE(wait_log(self, "\"throttle\"", 30000));
	sleep(12);
	EXPECT_TRUE(alive(leaker));
	EXPECT_TRUE(alive(innocent));
	usage = cg_key(self->name, "memory.stat", "anon");
	EXPECT_GT(256LL * 1024 * 1024 * 90 / 100, usage);
	ASSERT_EQ(0, cg_get(self->name, "memory.high", high, sizeof(high)));
	/* 60% of 256M, in whole pages. */
	EXPECT_EQ(65536LL * 60 / 100 * 4096, atoll(high)) TH_LOG("memory.high %s", high);
	EXPECT_EQ(0, log_jq(self,
		"[.[] | .action] as $a | ($a | index(\"reclaim\")) != null"
		" and ($a | index(\"throttle\")) != null"
		" and all($a[]; . != \"freeze\" and . != \"kill\")"));

	/* The leak ends: memory.high goes back. */
	kill(leaker, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 15000));
	EXPECT_TRUE(wait_log(self, "\"unthrottle\"", 5000));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
}

/* (4) --dry-run logs the ladder and touches nothing. */
TEST_F(daemon, dry_run_acts_on_nothing)
{
	char f[32], h[32], filter[512];
	pid_t innocent, leaker;
	int status = -1;
	struct timespec t0;
	bool changed = false;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--dry-run",
				  MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	/* Nothing stops the leaker but the kernel OOM killer. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 90000) {
		if (waitpid(leaker, &status, WNOHANG) == leaker)
			break;
		if (!cg_get(self->name, "cgroup.freeze", f, sizeof(f)) &&
		    !cg_get(self->name, "memory.high", h, sizeof(h)) &&
		    (strcmp(f, "0") || strcmp(h, "max")))
			changed = true;
		usleep(10000);
	}
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	EXPECT_FALSE(changed);
	EXPECT_LE(1, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_log(self, "\"oom\"", 5000));
	EXPECT_EQ(0, log_jq(self, ladder_order));
	/* A pretended kill leaves the leaker running: on a slow kernel the
	 * daemon "kills" it again at the kill level, never anyone else.
	 */
	snprintf(filter, sizeof(filter),
		 "all(.[]; .dry_run == true and"
		 " (.result == \"dry-run\" or .action == \"oom\"))"
		 " and ([.[] | select(.action == \"kill\") | .pid] |"
		 " length >= 1 and all(. == %d))",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_FALSE(file_has(self->state, "frozen"));
	/* A dry run writes no report, not even of the kernel's kill. */
	EXPECT_EQ(0, incidents_jq(self, "length == 0", 0));
}

/* (5) oom_score_adj -1000 and --avoid: never chosen, whatever they hold. */
TEST_F(daemon, protected_processes_are_never_chosen)
{
	char filter[512];
	pid_t protected, avoided, other;
	int status;

	write_conf(self, SCENARIO_DAEMON "avoid = ^avoided$\n",
		   "notify = 40%\nfreeze = 60%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	avoided = spawn_hog(self, "--hold", "30M", "--name", "avoided", MW_END);
	ASSERT_LT(0, avoided);
	other = spawn_hog(self, "--hold", "20M", "--name", "other", MW_END);
	ASSERT_LT(0, other);
	protected = spawn_hog(self, "--oom-score-adj", "-1000", "--leak", "1M",
			      "--max", "150M", "--name", "protected", MW_END);
	ASSERT_LT(0, protected);

	/* The only process that may go is "other"; then there is none. */
	status = wait_end(other, 60000);
	ASSERT_NE(-1, status) TH_LOG("the unprotected process was not killed");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(wait_log(self, "no process may be killed", 30000));
	EXPECT_TRUE(alive(protected));
	EXPECT_TRUE(alive(avoided));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\" and .pid)] as $k"
		 " | ($k | length) >= 1 and all($k[]; .pid == %d)"
		 " and any(.[]; .action == \"kill\" and .result == \"no victim\""
		 " and (.reason | contains(\"1 protected by oom_score_adj -1000, 1 matched --avoid\")))",
		 other);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	kill(protected, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 20000));
}

/* The cgroup's policy as `memctl policy list --json` shows it. */
static int policy_jq(FIXTURE_DATA(daemon) *self, const char *filter)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	char full[512];

	if (mw_memctl(out, err, "policy", "list", "--json", MW_END))
		return -1;
	snprintf(full, sizeof(full), "[.[] | select(.cgroup == $v)] | %s",
		 filter);
	return mw_jq(out, full, self->path);
}

/* SIGHUP: a good file replaces the policies, a bad one changes nothing. */
TEST_F(daemon, sighup_reloads_the_configuration)
{
	write_conf(self, "", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	EXPECT_EQ(0, policy_jq(self, "length == 1 and .[0].levels == "
			       "[{\"level\": \"notify\", \"percent\": 40, "
			       "\"threshold_bytes\": 107372544}]"));

	write_conf(self, "", "notify = 30%\nreclaim = 128M\n");
	kill(self->daemon, SIGHUP);
	ASSERT_TRUE(wait_out(self, "reloaded", 5000));
	EXPECT_EQ(0, policy_jq(self, "length == 1 and [.[0].levels[] | "
			       "[.level, .percent, .bytes]] == "
			       "[[\"notify\", 30, null], [\"reclaim\", null, 134217728]]"));

	/* A bad file: the daemon says why and keeps what it had. */
	write_conf(self, "freeze-grace = soon\n", "notify = 20%\n");
	kill(self->daemon, SIGHUP);
	ASSERT_TRUE(wait_out(self, "not reloaded", 5000));
	EXPECT_TRUE(wait_out(self, "freeze-grace: takes a duration", 100));
	EXPECT_EQ(0, policy_jq(self, ".[0].levels[0].percent == 30"));
	EXPECT_TRUE(alive(self->daemon));

	/* A cgroup gone from the file loses its policy. */
	ASSERT_EQ(0, put_file(self->conf, "[daemon]\n"));
	kill(self->daemon, SIGHUP);
	ASSERT_TRUE(wait_out(self, "policy cleared", 5000));
	EXPECT_EQ(0, policy_jq(self, "length == 0"));
}

/*
 * The daemon dies while the cgroup is throttled: a new one, with no
 * --config, undoes that from the state file and goes on with the
 * policies the module kept.
 */
TEST_F(daemon, restart_restores_and_keeps_the_module_policies)
{
	char high[32];
	pid_t leaker;

	write_conf(self, SCENARIO_DAEMON,
		   "notify = 40%\nthrottle = 60%\nfreeze = 90%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	leaker = spawn_hog(self, "--hold", "150M", "--leak", "256K",
			   "--every", "50", "--name", "slowleak", MW_END);
	ASSERT_LT(0, leaker);
	ASSERT_TRUE(wait_log(self, "\"throttle\"", 30000));
	kill(self->daemon, SIGKILL);
	waitpid(self->daemon, NULL, 0);
	self->daemon = 0;
	ASSERT_EQ(0, cg_get(self->name, "memory.high", high, sizeof(high)));
	EXPECT_STRNE("max", high);
	EXPECT_TRUE(file_has(self->state, "throttled max"));

	ASSERT_EQ(0, start_daemon(self, MW_END));
	EXPECT_TRUE(wait_log(self, "left by a memctl daemon", 5000));
	/* Still over the throttle level: throttled again, by the new one. */
	EXPECT_EQ(0, log_jq(self,
		"[.[] | select(.action | test(\"throttle\")) | .action]"
		" == [\"throttle\", \"unthrottle\", \"throttle\"]"));
	kill(leaker, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 15000));
	EXPECT_TRUE(wait_out(self, "unthrottle: ok: usage fell", 5000));
}

/*
 * The daemon dies while the cgroup is frozen and throttled (a long freeze
 * grace keeps it there): a new one thaws it and puts memory.high back.
 */
TEST_F_TIMEOUT(daemon, restart_thaws_and_unthrottles_what_it_left, 180)
{
	char high[32], frozen[8];
	pid_t leaker;

	write_conf(self, "freeze-grace = 60s\nkill-grace = 2s\nsettle = 3s\n",
		   "notify = 40%\nthrottle = 55%\nfreeze = 64%\nkill = 95%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	leaker = spawn_hog(self, "--hold", "150M", "--leak", "1M", "--every",
			   "20", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);
	ASSERT_TRUE(wait_log(self, "\"freeze\"", 60000));
	kill(self->daemon, SIGKILL);
	waitpid(self->daemon, NULL, 0);
	self->daemon = 0;
	ASSERT_EQ(0, cg_get(self->name, "cgroup.freeze", frozen, sizeof(frozen)));
	EXPECT_STREQ("1", frozen);
	ASSERT_EQ(0, cg_get(self->name, "memory.high", high, sizeof(high)));
	EXPECT_STRNE("max", high);
	EXPECT_TRUE(file_has(self->state, "frozen "));
	EXPECT_TRUE(file_has(self->state, "throttled "));

	ASSERT_EQ(0, start_daemon(self, MW_END));
	EXPECT_TRUE(wait_log(self, "left by a memctl daemon", 5000));
	EXPECT_EQ(0, log_jq(self,
		"any(.[]; .action == \"thaw\" and .result == \"ok\""
		" and (.reason | contains(\"left by\")))"
		" and any(.[]; .action == \"unthrottle\" and .result == \"ok\""
		" and (.reason | contains(\"left by\")))"));
	kill(leaker, SIGKILL);
	EXPECT_TRUE(wait_restored(self, 15000));
}

/* --exec runs for each event with the event in MEMCTL_* variables. */
TEST_F(daemon, exec_hook_gets_the_event)
{
	char hook[256], file[96], want[128];
	pid_t hog;
	int i;

	snprintf(file, sizeof(file), "/tmp/%s.hook", self->name);
	unlink(file);
	snprintf(hook, sizeof(hook), "env | grep ^MEMCTL_ | sort >> %s", file);
	write_conf(self, "", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--exec",
				  hook, MW_END));
	hog = spawn_hog(self, "--hold", "120M", "--name", "big", MW_END);
	ASSERT_LT(0, hog);
	ASSERT_TRUE(wait_log(self, "\"notify\"", 10000));
	/*
	 * The hook runs on its own: sort writes when its input ends, after
	 * a shell, env and grep have started (over a second on the debug
	 * kernel).
	 */
	for (i = 0; i < 300 && !file_has(file, "MEMCTL_TOP_COMM="); i++)
		usleep(50000);
	EXPECT_TRUE(file_has(file, "MEMCTL_LEVEL=notify\n"));
	EXPECT_TRUE(file_has(file, "MEMCTL_DIRECTION=up\n"));
	EXPECT_TRUE(file_has(file, "MEMCTL_LIMIT=268435456\n"));
	EXPECT_TRUE(file_has(file, "MEMCTL_THRESHOLD=107372544\n"));
	snprintf(want, sizeof(want), "MEMCTL_CGROUP=%s\n", self->path);
	EXPECT_TRUE(file_has(file, want));
	snprintf(want, sizeof(want), "MEMCTL_TOP_PID=%d\n", hog);
	EXPECT_TRUE(file_has(file, want));
	EXPECT_TRUE(file_has(file, "MEMCTL_TOP_COMM=big\n"));
	unlink(file);
}

/* The daemon locks itself in memory and sets its own oom_score_adj. */
TEST_F(daemon, protects_itself)
{
	char path[64], buf[32];
	long long locked;
	FILE *f;

	write_conf(self, "oom-score-adj = -900\n", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", self->daemon);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_EQ(-900, atoi(buf));
	snprintf(path, sizeof(path), "/proc/%d/status", self->daemon);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	locked = -1;
	while (fgets(logbuf, 4096, f))
		if (sscanf(logbuf, "VmLck: %lld", &locked) == 1)
			break;
	fclose(f);
	/* Its heap, warmed at start, is locked too: a few MiB at least. */
	EXPECT_LT(4096, locked);
}

TEST_F(daemon, bad_arguments_are_one_line_and_status_2)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	static const char *const bad[][3] = {
		{ "--freeze-grace", "0", "--freeze-grace takes a duration" },
		{ "--kill-grace", "1h1", "--kill-grace takes a duration" },
		{ "--oom-score-adj", "-1001", "--oom-score-adj takes a number" },
		{ "--avoid", "(", "--avoid not a regular expression" },
		{ "--config", "/nonexistent", "/nonexistent: No such file" },
		{ "--bogus", "", "option '--bogus' is unknown" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(2, mw_memctl(out, err, "daemon", bad[i][0],
				       bad[i][1][0] ? bad[i][1] : MW_END,
				       MW_END)) TH_LOG("%s", bad[i][0]);
		EXPECT_EQ(1, mw_lines(err)) TH_LOG("%s", err);
		EXPECT_NE(NULL, strstr(err, bad[i][2])) TH_LOG("%s", err);
		EXPECT_STREQ("", out);
	}
	write_conf(self, "kill-grace = 3s\n", "notify = 40%\nkill = 512M\n");
	ASSERT_EQ(0, mw_memctl(out, err, "daemon", "--config", self->conf,
			       "--check", "--kill-grace", "1500ms", MW_END));
	EXPECT_NE(NULL, strstr(out, "kill-grace = 1500ms\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "notify = 40%\nkill = 512.0M\n"));
	ASSERT_EQ(0, put_file(self->conf, "[cgroup /x]\nnotify = 101%\n"));
	EXPECT_EQ(2, mw_memctl(out, err, "daemon", "--config", self->conf,
			       MW_END));
	EXPECT_NE(NULL, strstr(err, ":2: notify takes a percentage")) TH_LOG("%s", err);
}

/* oom_kill from /proc/vmstat: the host's kernel OOM kills since boot. */
static long long host_oom_kills(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * (11) The whole host, with no cgroup limit anywhere: a policy on "/"
 * (usage MemTotal - MemAvailable). An innocent holds 200M, a leaker takes
 * 8M every 20 ms: the daemon kills the leaker before the kernel's OOM
 * killer has to, and says it cannot throttle or freeze the root.
 */
TEST_F_TIMEOUT(daemon, host_policy_stops_a_leak_with_no_limit, 180)
{
	char max[96], filter[512];
	long long oom0 = host_oom_kills();
	pid_t innocent, leaker;
	int status;

	snprintf(max, sizeof(max), "/sys/fs/cgroup/%s/memory.max", self->name);
	ASSERT_EQ(0, put_file(max, "max"));
	ASSERT_EQ(0, put_file(self->conf,
		"[daemon]\nfreeze-grace = 1s\nkill-grace = 2s\nsettle = 3s\n"
		"[cgroup /]\nnotify = 50%\nreclaim = 60%\nthrottle = 65%\n"
		"freeze = 70%\nkill = 80%\n"));
	ASSERT_LE(0, oom0);
	self->host = true;
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	innocent = spawn_hog(self, "--hold", "200M", "--name", "innocent",
			     MW_END);
	ASSERT_LT(0, innocent);
	leaker = spawn_hog(self, "--leak", "8M", "--every", "20", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 120000);
	EXPECT_NE(-1, status) TH_LOG("the leaker was not stopped in 120 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(oom0, host_oom_kills()) TH_LOG("the kernel OOM killer ran");
	EXPECT_TRUE(wait_log(self, "\"kill\"", 5000));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .cgroup == \"/\" and .pid == %d and .result == \"ok\")"
		 " and any(.[]; .cgroup == \"/\" and .action == \"notify\")"
		 " and all(.[]; .action != \"throttle\" or .result == \"skipped\")",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, mw_memctl(outbuf, errbuf, "status", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(outbuf, "any(.policies[]; .cgroup == \"/\" and (has(\"node\") | not))", ""))
		TH_LOG("status: %s", outbuf);
}

/* Pages of pid on node nid, from /proc/PID/numa_maps: -1 if unreadable. */
static long long pages_on_node(pid_t pid, int nid)
{
	char path[64], key[16], line[4096];
	long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	snprintf(key, sizeof(key), " N%d=", nid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);

		if (p)
			n += atoll(p + strlen(key));
	}
	fclose(f);
	return n;
}

/*
 * (12) A process on node 1's CPU fills node 1 while node 0 has room: at
 * node 1's reclaim level the daemon moves its pages to node 0, named by
 * the node's event; nothing is killed.
 */
TEST_F_TIMEOUT(daemon, node_short_of_memory_gets_its_offender_migrated, 180)
{
	char max[96], filter[512];
	long long oom0 = host_oom_kills(), on0;
	pid_t hog;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "one NUMA node: memwatch's guest has two");
	snprintf(max, sizeof(max), "/sys/fs/cgroup/%s/memory.max", self->name);
	ASSERT_EQ(0, put_file(max, "max"));
	ASSERT_EQ(0, put_file(self->conf,
		"[daemon]\nsettle = 3s\n"
		"[node 1]\nnotify = 40%\nreclaim = 60%\n"));
	self->node = true;
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	hog = spawn_hog(self, "--node", "1", "--leak", "8M", "--every", "50",
			"--max", "720M", "--name", "nodehog", MW_END);
	ASSERT_LT(0, hog);
	ASSERT_TRUE(wait_log(self, "\"migrate\"", 90000))
		TH_LOG("node 1 was not relieved in 90 s");
	/* The move is done in the reclaim thread: its log line says so. */
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"migrate\")] as $m | ($m | length) >= 1"
		 " and all($m[]; .pid == %d and .comm == \"nodehog\""
		 " and (.result == \"ok\" or (.result | startswith(\"partial\")))"
		 " and (.reason | contains(\"node 1 is short: to node 0\")))"
		 " and any(.[]; .action == \"notify\" and (.reason | startswith(\"node 1\")))",
		 hog);
	EXPECT_EQ(0, log_jq(self, filter));
	/* policy list and status show node 1's policy. */
	EXPECT_EQ(0, mw_memctl(outbuf, errbuf, "status", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(outbuf, "any(.policies[]; .node == 1 and .cgroup == \"/\")", ""))
		TH_LOG("status: %s", outbuf);
	EXPECT_EQ(0, mw_memctl(outbuf, errbuf, "policy", "list", MW_END));
	EXPECT_NE(NULL, strstr(outbuf, "node 1: usage"));
	on0 = pages_on_node(hog, 0);
	EXPECT_LE(64LL * 256, on0) TH_LOG("%lld pages on node 0", on0);
	EXPECT_TRUE(alive(hog));
	EXPECT_EQ(oom0, host_oom_kills());
}

/* kill = cgroup: the whole cgroup goes at once, the innocent with it. */
TEST_F(daemon, kill_cgroup_empties_the_cgroup)
{
	char filter[768], procs[256];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS "kill = cgroup\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	status = wait_end(innocent, 10000);
	EXPECT_NE(-1, status) TH_LOG("the rest of the cgroup was left");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_EQ(0, cg_get(self->name, "cgroup.procs", procs, sizeof(procs)));
	EXPECT_STREQ("", procs);
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	EXPECT_TRUE(wait_restored(self, 15000));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) == 1"
		 " and ($k[0] | .target == $v and .signal == \"SIGKILL\""
		 " and .result == \"ok\" and (.reason | contains(\"kill = cgroup\"))"
		 " and (.reason | contains(\"offender %d (leaker)\")))", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, incidents_jq(self,
		  "length == 1 and .[0].action == \"kill-cgroup\" and .[0].target == $v",
		  5000));
}

/*
 * memory.oom.group on the offender's cgroup: that cgroup goes whole, as
 * the kernel would take it; a sibling cgroup under the same policy stays.
 */
TEST_F(daemon, oom_group_cgroup_is_killed_whole)
{
	char path[192], filter[768], a[160], b[160];
	pid_t innocent, sibling, leaker;
	int status;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.subtree_control",
		 self->name);
	ASSERT_EQ(0, mw_write(path, "+memory"));
	snprintf(a, sizeof(a), "%s/a", self->name);
	snprintf(b, sizeof(b), "%s/b", self->name);
	ASSERT_NE(0, mw_cgroup_make(a, NULL));
	ASSERT_NE(0, mw_cgroup_make(b, NULL));
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/memory.oom.group", a);
	ASSERT_EQ(0, mw_write(path, "1"));
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	snprintf(self->hog_cg, sizeof(self->hog_cg), "%s", b);
	innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	snprintf(self->hog_cg, sizeof(self->hog_cg), "%s", a);
	sibling = spawn_hog(self, "--hold", "20M", "--name", "sibling", MW_END);
	ASSERT_LT(0, sibling);
	leaker = spawn_hog(self, "--leak", "1M", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	status = wait_end(sibling, 10000);
	EXPECT_NE(-1, status) TH_LOG("the leaker's cgroup was not killed whole");
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and ($k[0] | .target == \"%s/a\" and .result == \"ok\""
		 " and (.reason | contains(\"memory.oom.group is 1\")))",
		 self->path);
	EXPECT_EQ(0, log_jq(self, filter));
}

/* A [cgroup] section's prefer wins over the [daemon] section's. */
TEST_F(daemon, section_prefer_overrides_the_daemons)
{
	char filter[512];
	pid_t innocent, leaker;
	int status;

	write_conf(self, SCENARIO_DAEMON "prefer = ^innocent$\n",
		   SCENARIO_LEVELS "prefer = ^leaker$\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(alive(innocent));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d and (.reason | contains(\"prefer matches\")))",
		 leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

/*
 * --pre-kill: the hook runs with the victim named, the cgroup frozen and
 * the victim alive, and the kill waits for it to end.
 */
TEST_F(daemon, pre_kill_hook_runs_before_the_kill)
{
	char hook[512], file[96], want[128], filter[512];
	pid_t innocent, leaker;
	int status;

	snprintf(file, sizeof(file), "/tmp/%s.prekill", self->name);
	unlink(file);
	snprintf(hook, sizeof(hook),
		 "{ echo \"victim $MEMCTL_VICTIM_PID $MEMCTL_VICTIM_COMM $MEMCTL_KILL frozen=$MEMCTL_FROZEN\";"
		 " kill -0 $MEMCTL_VICTIM_PID && echo alive;"
		 " grep frozen /sys/fs/cgroup$MEMCTL_CGROUP/cgroup.events;"
		 " sleep 1; kill -0 $MEMCTL_VICTIM_PID && echo still alive; } > %s",
		 file);
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--pre-kill",
				  hook, MW_END));
	ASSERT_EQ(0, spawn_pair(self, &innocent, &leaker));

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(alive(innocent));
	snprintf(want, sizeof(want), "victim %d leaker kill frozen=1\n", leaker);
	EXPECT_TRUE(file_has(file, want)) TH_LOG("the hook did not run, or not first");
	EXPECT_TRUE(file_has(file, "alive\nfrozen 1\n"));
	EXPECT_TRUE(file_has(file, "still alive\n"))
		TH_LOG("the victim died before the hook ended");
	snprintf(filter, sizeof(filter),
		 "(map(select(.action == \"pre-kill\")) | .[0]) as $p"
		 " | (map(select(.action == \"kill\")) | .[0]) as $k"
		 " | $p.pid == %d and $p.result == \"ok\" and $k.pid == %d"
		 " and $p.ts_ns <= $k.ts_ns and $k.ts_ns - $p.ts_ns < 1000000000",
		 leaker, leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	EXPECT_EQ(0, incidents_jq(self,
		  ".[0].pre_kill.result == \"ok\" and .[0].pre_kill.ms >= 1000",
		  5000));
	unlink(file);
}

/* A pre-kill hook that overstays is killed, with what it started. */
TEST_F(daemon, pre_kill_hook_that_overstays_is_killed)
{
	char hook[256], file[96];
	pid_t leaker;
	int status;

	snprintf(file, sizeof(file), "/tmp/%s.late", self->name);
	unlink(file);
	snprintf(hook, sizeof(hook), "sleep 5; echo late > %s", file);
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS);
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, "--pre-kill",
				  hook, "--pre-kill-timeout", "1s", MW_END));
	leaker = spawn_hog(self, "--leak", "1M", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_EQ(0, log_jq(self,
		  "any(.[]; .action == \"pre-kill\" and"
		  " (.result | startswith(\"error: timed out after\")))"));
	sleep(6);
	EXPECT_FALSE(file_has(file, "late")) TH_LOG("the hook's sleep was left running");
	unlink(file);
}

/* The kernel's own OOM kill leaves a report too, readable by a person. */
TEST_F(daemon, kernel_oom_kill_leaves_an_incident_report)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	char filter[512], id[128];
	pid_t leaker;
	int status;
	char *p;

	write_conf(self, "", "notify = 40%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	leaker = spawn_hog(self, "--leak", "2M", "--name", "leaker", MW_END);
	ASSERT_LT(0, leaker);
	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_LE(1, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "length == 1 and (.[0] | .kind == \"oom\" and .cgroup == $v"
		 " and .victims[0].pid == %d and .victims[0].comm == \"leaker\""
		 /*
		  * Read when the kernel chose its victim: oom is counted
		  * by then, oom_kill only once the kill is done.
		  */
		 " and .memory_events.oom >= 1)", leaker);
	ASSERT_EQ(0, incidents_jq(self, filter, 10000));

	/* The list, for a person: a header and the report's line. */
	ASSERT_EQ(0, mw_memctl(out, err, "incidents", "--dir", self->inc, MW_END));
	EXPECT_EQ(2, mw_lines(out)) TH_LOG("%s", out);
	p = strchr(out, '\n');
	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, sscanf(p + 1, "%127s", id));
	EXPECT_NE(NULL, strstr(id, "-oom-"));
	ASSERT_EQ(0, mw_memctl(out, err, "incidents", "--dir", self->inc,
			       "show", id, MW_END));
	EXPECT_NE(NULL, strstr(out, "the kernel OOM killer")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "memory.stat\nanon ")) TH_LOG("%s", out);
	/* A bad ID: one line, status 1; a bad argument: status 2. */
	EXPECT_EQ(1, mw_memctl(out, err, "incidents", "--dir", self->inc,
			       "show", "19700101", MW_END));
	EXPECT_EQ(1, mw_lines(err));
	EXPECT_EQ(2, mw_memctl(out, err, "incidents", "--bogus", MW_END));
	EXPECT_EQ(2, mw_memctl(out, err, "incidents", "show", MW_END));
}

/*
 * Thrashing under every level: memory.high 64M squeezes a leaker that
 * memory.max (256M) would let grow, so it stalls in reclaim and the
 * throttle while usage stays under notify (40%). Usage alone never acts;
 * the pressure trigger, with on-pressure = kill, does.
 */
TEST_F(daemon, thrash_under_the_levels_is_caught_by_pressure)
{
	char filter[512];
	pid_t thrasher;
	int status;

	ASSERT_EQ(0, cg_set(self, "memory.high", "64M"));
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS
		   "pressure = some 20% 1s\non-pressure = kill\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	thrasher = spawn_hog(self, "--leak", "1M", "--max", "200M", "--name",
			     "thrasher", MW_END);
	ASSERT_LT(0, thrasher);

	status = wait_end(thrasher, 90000);
	ASSERT_NE(-1, status) TH_LOG("the thrasher was left stalling for 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "any(.[]; .action == \"pressure\" and .trigger == \"pressure\")"
		 " and ([.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and $k[0].pid == %d and $k[0].trigger == \"pressure\")"
		 " and all(.[]; .action != \"notify\" and .action != \"throttle\")",
		 thrasher);
	EXPECT_EQ(0, log_jq(self, filter));
	/* Thawed, and memory.high as the test set it. */
	EXPECT_TRUE(wait_restored_to(self, "67108864", 15000));
}

/*
 * needs-pressure = freeze: usage over the kill level with no stall (a
 * big process that just holds its memory) is left alone; once a leaker
 * stalls against memory.high, the trigger fires and the ladder acts on
 * the leaker, with both signals named.
 */
TEST_F(daemon, needs_pressure_holds_the_kill_until_stalls)
{
	char filter[768];
	pid_t holder, leaker;
	int status;

	/*
	 * No reclaim or throttle level: memory.high under the holder would
	 * stall it. The holder first: it is the baseline, the leaker grows.
	 */
	holder = spawn_hog(self, "--hold", "215M", "--name", "holder", MW_END);
	ASSERT_LT(0, holder);
	write_conf(self, SCENARIO_DAEMON, "notify = 40%\nfreeze = 64%\nkill = 80%\n"
		   "pressure = some 20% 1s\nneeds-pressure = freeze\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	/* Over the kill level (80% is 205M), no stall: nothing happens. */
	ASSERT_TRUE(wait_log(self, "needs-pressure = freeze", 20000))
		TH_LOG("the freeze step was not held back");
	sleep(5);
	EXPECT_TRUE(alive(holder));
	EXPECT_EQ(0, log_jq(self,
		  "all(.[]; (.action != \"kill\" and .action != \"freeze\" and"
		  " .action != \"throttle\") or .result == \"skipped\")"));

	/* A leaker squeezed by memory.high: stalls, then the ladder acts. */
	ASSERT_EQ(0, cg_set(self, "memory.high", "225M"));
	leaker = spawn_hog(self, "--leak", "1M", "--max", "40M", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);
	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	EXPECT_TRUE(WIFSIGNALED(status));
	/* The stall is over: the holder, still over the kill level, stays. */
	sleep(5);
	EXPECT_TRUE(alive(holder));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "any(.[]; .action == \"freeze\" and .result == \"ok\" and .trigger == \"usage+pressure\")"
		 " and ([.[] | select(.action == \"kill\" and .result != \"skipped\")] as $k"
		 " | ($k | length) >= 1 and all($k[]; .pid == %d))", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

/*
 * A reader of a big file beside a leaker: the reader's page cache grows
 * faster than the leaker's heap, but it is page cache; the leaker, whose
 * anonymous memory grows, is the one killed, and the reader lives.
 */
TEST_F(daemon, page_cache_reader_is_not_taken_for_the_leaker)
{
	const char *file = mw_big_file(130UL << 20);
	char filter[512];
	pid_t reader, leaker;
	int status;

	ASSERT_NE(NULL, file);
	sync();
	ASSERT_EQ(0, mw_write("/proc/sys/vm/drop_caches", "3"));
	/*
	 * No reclaim level: memory.reclaim would take the reader's cache.
	 * Growth counts from notify (51M): by the freeze level (164M) the
	 * reader (20M/s, up to 130M) has gained about twice the leaker's
	 * (5M/s), so growth of live bytes alone would choose the reader.
	 */
	write_conf(self, SCENARIO_DAEMON, "notify = 20%\nfreeze = 64%\nkill = 80%\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	reader = spawn_hog(self, "--read", file, "--leak", "2M", "--every",
			   "100", "--max", "130M", "--name", "reader", MW_END);
	ASSERT_LT(0, reader);
	leaker = spawn_hog(self, "--leak", "1M", "--every", "200", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);

	status = wait_end(leaker, 90000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 90 s");
	sleep(3);
	EXPECT_TRUE(alive(reader)) TH_LOG("the reader was killed");
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d)", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
}

#else

/* The swap device's size in bytes (SwapTotal), 0 without. */
static long long swap_total(void)
{
	char line[128];
	long long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "SwapTotal: %lld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib * 1024;
}

/*
 * A leak the kernel pushes to swap: the throttle level's memory.high
 * (153M) holds memory.current under the freeze level (164M) while the
 * leak drains into swap. With swap = yes the cgroup's usage counts the
 * swap, climbs on, and the leaker is killed early, with little in swap;
 * without, it thrashes on until swap (512M) runs out.
 */
TEST_F_TIMEOUT(daemon, leak_into_swap_is_killed, 240)
{
	static char out[MW_OUTSZ], err[MW_OUTSZ];
	char filter[512];
	pid_t innocent, leaker;
	long long cur, swp;
	int status;

	ASSERT_LE(256LL << 20, swap_total()) TH_LOG("the guest has no swap");
	write_conf(self, SCENARIO_DAEMON, SCENARIO_LEVELS "swap = yes\n");
	ASSERT_EQ(0, start_daemon(self, "--config", self->conf, MW_END));
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	EXPECT_EQ(0, mw_jq(out, "any(.[]; .cgroup == $v and .swap == true)",
			   self->path));
	innocent = spawn_hog(self, "--hold", "30M", "--name", "innocent", MW_END);
	ASSERT_LT(0, innocent);
	leaker = spawn_hog(self, "--leak", "1M", "--every", "10", "--name",
			   "leaker", MW_END);
	ASSERT_LT(0, leaker);

	/* The module's usage is memory.current + memory.swap.current. */
	ASSERT_TRUE(wait_log(self, "\"throttle\"", 60000));
	cur = cg_key(self->name, "memory.stat", "anon");
	ASSERT_EQ(0, cg_get(self->name, "memory.swap.current", filter,
			    sizeof(filter)));
	swp = atoll(filter);
	ASSERT_EQ(0, mw_memctl(out, err, "policy", "list", "--json", MW_END));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.cgroup == $v)][0].usage_bytes >= %lld",
		 cur + swp - (16LL << 20));
	EXPECT_EQ(0, mw_jq(out, filter, self->path));

	status = wait_end(leaker, 180000);
	ASSERT_NE(-1, status) TH_LOG("the leaker was not stopped in 180 s");
	EXPECT_TRUE(alive(innocent));
	EXPECT_EQ(0, cg_key(self->name, "memory.events", "oom_kill"));
	snprintf(filter, sizeof(filter),
		 "[.[] | select(.action == \"kill\")] as $k | ($k | length) >= 1"
		 " and all($k[]; .pid == %d)", leaker);
	EXPECT_EQ(0, log_jq(self, filter));
	/* Killed once swap held about 52M (205M less 153M), not 512M. */
	EXPECT_EQ(0, incidents_jq(self,
		  ".[0].swap > 0 and .[0].swap < 134217728", 5000));
}
#endif

TEST_HARNESS_MAIN
