// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture of memctl daemon's tests and its helpers (memctl_daemon.h).
 * Not kselftest_harness.h: see memwatch_fixture.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memctl_daemon.h"

static char logbuf[4 * MW_OUTSZ];
char outbuf[MW_OUTSZ], errbuf[MW_OUTSZ];


long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int cg_get(const char *name, const char *file, char *buf, size_t size)
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
long long cg_key(const char *name, const char *file, const char *key)
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

bool file_has(const char *path, const char *needle)
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

int daemon_fx_setup(FIXTURE_DATA(daemon) *self)
{
	if (mw_fx_load(&self->was_loaded))
		return -1;
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
	if (!mw_cgroup_make(self->name, LIMIT)) {
		fprintf(stderr, "# setup: cgroup %s (memory.max %s) failed\n",
			self->name, LIMIT);
		return -1;
	}
	self->daemon = 0;
	self->nhogs = 0;
	self->host = false;
	self->node = false;
	return 0;
}

void stop_daemon(FIXTURE_DATA(daemon) *self)
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

void daemon_fx_teardown(FIXTURE_DATA(daemon) *self, bool passed)
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
		if (!passed || getenv("MEMWATCH_VERBOSE"))
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
int put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) ? -1 : 0;
}

/* The config: a [daemon] section, then the cgroup's levels. */
void write_conf(FIXTURE_DATA(daemon) *self, const char *daemon,
		       const char *levels)
{
	char text[1024];

	snprintf(text, sizeof(text), "[daemon]\n%s\n[cgroup %s]\n%s", daemon,
		 self->path, levels);
	put_file(self->conf, text);
}

/* Print a file of /proc/PID to stderr, each line as a comment. */
static void say_proc(pid_t pid, const char *file)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "# %s: %s%s", file, line,
			strchr(line, '\n') ? "" : "\n");
	if (f)
		fclose(f);
}

/* A daemon that did not get ready: where it is stuck. */
static void say_where(pid_t pid)
{
	fprintf(stderr, "# daemon %d: not ready in 10 s; where it is:\n", pid);
	say_proc(pid, "stat");
	say_proc(pid, "wchan");
	say_proc(pid, "stack");
	say_proc(pid, "syscall");
}

/*
 * memctl daemon --log-json LOG --state STATE --incidents INC and the arguments up to
 * MW_END, until it says it is ready: 0, or -1 if it is not.
 */
int start_daemon(FIXTURE_DATA(daemon) *self, ...)
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
	say_where(pid);
	return -1;
}

/*
 * memwatch_hog with args (NULL-terminated) in the test cgroup; returns
 * once it has touched its --hold memory: its pid, or -1.
 */
pid_t spawn_hog(FIXTURE_DATA(daemon) *self, ...)
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
int spawn_pair_how(FIXTURE_DATA(daemon) *self, pid_t *innocent,
			  pid_t *leaker, const char *how)
{
	*innocent = spawn_hog(self, "--hold", "60M", "--name", "innocent",
			      MW_END);
	*leaker = *innocent < 0 ? -1 :
		  spawn_hog(self, "--leak", "1M", "--name", "leaker", how,
			    MW_END);
	return *leaker < 0 ? -1 : 0;
}

int spawn_pair(FIXTURE_DATA(daemon) *self, pid_t *innocent,
		      pid_t *leaker)
{
	return spawn_pair_how(self, innocent, leaker, NULL);
}

/* Wait up to ms for pid to end: its wait status, or -1. */
int wait_end(pid_t pid, long ms)
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

bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* Wait up to ms for the cgroup to be thawed and memory.high high. */
bool wait_restored_to(FIXTURE_DATA(daemon) *self, const char *high,
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


/* Wait up to ms for the file at path to hold needle. */
bool wait_file(const char *path, const char *needle, long ms)
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
int log_jq(FIXTURE_DATA(daemon) *self, const char *filter)
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
int incidents_jq(FIXTURE_DATA(daemon) *self, const char *filter,
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
int cg_set(FIXTURE_DATA(daemon) *self, const char *file, const char *val)
{
	char path[192];

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", self->name, file);
	return mw_write(path, val) ? -1 : 0;
}

/* The ladder's steps came in order: first occurrences, by time. */
const char ladder_order[] =
	"[sort_by(.ts_ns)[] | select(.cgroup == $v) | .action] as $a"
	" | [\"notify\", \"reclaim\", \"throttle\", \"freeze\", \"kill\"]"
	" | map(. as $x | $a | index($x)) as $i"
	" | all($i[]; . != null) and $i == ($i | sort)";
