// SPDX-License-Identifier: GPL-2.0
/* The daemon's record of what it did: for a person, and as JSON lines. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "actlog.h"
#include "util.h"
#include "dstats.h"
#include "json.h"

static FILE *actlog_file;
static bool actlog_dry_run, actlog_syslog;
static pthread_mutex_t actlog_lock = PTHREAD_MUTEX_INITIALIZER;
#define ACTLOG_RING 256
static struct act_rec actlog_ring[ACTLOG_RING];
static unsigned int actlog_next;	/* how many were ever logged */

void act_outcome_set(struct act *a, int err, bool dry_run)
{
	a->outcome = dry_run ? ACT_DRY_RUN : err ? ACT_ERROR : ACT_OK;
	a->detail = !dry_run && err ? strerror(-err) : NULL;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int actlog_open(const char *path, bool dry_run, bool use_syslog)
{
	actlog_dry_run = dry_run;
	actlog_syslog = use_syslog;
	if (use_syslog)
		openlog("memctl", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (!path || !*path)
		return 0;
	actlog_file = fopen(path, "ae");
	if (!actlog_file)
		return -errno;
	setvbuf(actlog_file, NULL, _IOLBF, 0);
	return 0;
}

void actlog_close(void)
{
	if (actlog_file)
		fclose(actlog_file);
	actlog_file = NULL;
	if (actlog_syslog)
		closelog();
	actlog_syslog = false;
}

static void say_locked(uint64_t ts, int prio, const char *fmt, va_list ap)
{
	if (actlog_syslog) {
		va_list aq;

		va_copy(aq, ap);
		vsyslog(prio, fmt, aq);
		va_end(aq);
	}
	printf("[%5llu.%06llu] ", (unsigned long long)(ts / 1000000000ULL),
	       (unsigned long long)(ts % 1000000000ULL / 1000));
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&actlog_lock);
	say_locked(now_ns(), LOG_NOTICE, fmt, ap);
	pthread_mutex_unlock(&actlog_lock);
	va_end(ap);
}

static void say_at(uint64_t ts, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say_locked(ts, prio, fmt, ap);
	va_end(ap);
}

/* Into the ring of recent actions; under actlog_lock. */
static void actlog_keep(uint64_t ts, const struct act *a, const char *result)
{
	struct act_rec *r = &actlog_ring[actlog_next++ % ACTLOG_RING];

	r->ts_ns = ts;
	snprintf(r->cgroup, sizeof(r->cgroup), "%s", a->cgroup);
	r->level = a->level;
	snprintf(r->action, sizeof(r->action), "%s", a->action);
	r->pid = a->pid;
	snprintf(r->comm, sizeof(r->comm), "%s", a->comm ? a->comm : "");
	r->bytes = a->bytes;
	/* Cut to the ring's size, as the reason is. */
	snprintf(r->result, sizeof(r->result), "%.*s",
		 (int)sizeof(r->result) - 1, result);
	snprintf(r->reason, sizeof(r->reason), "%s",
		 a->reason ? a->reason : "");
}

void act_log(const struct act *a)
{
	uint64_t ts = a->ts_ns ? a->ts_ns : now_ns();
	char b[16], who[320] = "", result[256];
	struct json j;

	if (a->target)
		snprintf(who, sizeof(who), " %s%s%s%s%s", a->signal ? a->signal : "",
			 a->signal ? " " : "", a->target, a->bytes ? ", " : "",
			 a->bytes ? cli_bytes(a->bytes, b, sizeof(b)) : "");
	else if (a->pid)
		snprintf(who, sizeof(who), " %s %u (%s%s%s)",
			 a->signal ? a->signal : "pid", a->pid,
			 a->comm ? a->comm : "?", a->bytes ? ", " : "",
			 a->bytes ? cli_bytes(a->bytes, b, sizeof(b)) : "");
	else if (a->bytes)
		snprintf(who, sizeof(who), " %s", cli_bytes(a->bytes, b, sizeof(b)));
	act_result(a->outcome, a->detail, result, sizeof(result));
	dstats_action(a->action, a->outcome);
	pthread_mutex_lock(&actlog_lock);
	say_at(ts, !strcmp(a->action, "kill") || !strcmp(a->action, "oom") ||
		   a->outcome == ACT_ERROR ? LOG_WARNING : LOG_NOTICE,
	       "%s: %s%s: %s%s%s", a->cgroup, a->action, who, result,
	       a->reason ? ": " : "", a->reason ? a->reason : "");
	if (actlog_file) {
		json_init(&j, actlog_file);
		json_begin_object(&j, NULL);
		json_u64(&j, "ts_ns", ts);
		json_string(&j, "cgroup", a->cgroup);
		json_string(&j, "level", cli_level_name(a->level));
		json_string(&j, "action", a->action);
		if (a->pid) {
			json_u64(&j, "pid", a->pid);
			json_string(&j, "comm", a->comm ? a->comm : "");
		}
		if (a->signal)
			json_string(&j, "signal", a->signal);
		if (a->target)
			json_string(&j, "target", a->target);
		if (a->trigger)
			json_string(&j, "trigger", a->trigger);
		if (a->bytes)
			json_u64(&j, "bytes", a->bytes);
		json_string(&j, "result", result);
		if (a->reason)
			json_string(&j, "reason", a->reason);
		json_bool(&j, "dry_run", actlog_dry_run);
		json_end(&j, '}');
	}
	actlog_keep(ts, a, result);
	pthread_mutex_unlock(&actlog_lock);
}

unsigned int actlog_recent(const char *cgroup, struct act_rec *out,
			   unsigned int max)
{
	unsigned int i, n = 0, first;

	pthread_mutex_lock(&actlog_lock);
	first = actlog_next > ACTLOG_RING ? actlog_next - ACTLOG_RING : 0;
	for (i = first; i < actlog_next; i++) {
		const struct act_rec *r = &actlog_ring[i % ACTLOG_RING];

		if (strcmp(r->cgroup, cgroup))
			continue;
		/* Keep the newest max: drop the oldest when full. */
		if (n == max) {
			memmove(out, out + 1, (max - 1) * sizeof(*out));
			n--;
		}
		if (max)
			out[n++] = *r;
	}
	pthread_mutex_unlock(&actlog_lock);
	return n;
}
