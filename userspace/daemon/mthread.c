// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's metrics file: a thread of its own rewrites it (the
 * module's figures and the daemon's own) every interval, off the action
 * path, with a netlink socket of its own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dstats.h"
#include "metrics.h"
#include "mthread.h"
#include "nl.h"

/* The daemon's writer: a thread of its own, off the action path. */
static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running, stop;
	char path[1024];
	unsigned int interval_ms, top;
	struct mw_nl nl;
	bool connected;
	struct metrics_buf b;
} mt = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void metrics_daemon_fill(FILE *f, void *arg)
{
	(void)arg;
	if (!mt.connected)
		mt.connected = !mw_nl_open(&mt.nl);
	if (metrics_module(f, mt.connected ? &mt.nl : NULL, &mt.b, mt.top) &&
	    mt.connected) {
		/* The module went away, or the socket broke: reconnect. */
		mw_nl_close(&mt.nl);
		mt.connected = false;
	}
	dstats_write(f);
}

static void *metrics_thread(void *arg)
{
	struct timespec deadline;
	int last_err = 0;

	(void)arg;
	pthread_mutex_lock(&mt.lock);
	while (!mt.stop) {
		int err;

		pthread_mutex_unlock(&mt.lock);
		err = metrics_write_file(mt.path, metrics_daemon_fill, NULL);
		if (err && err != last_err)
			fprintf(stderr, "memctl daemon: cannot write %s: %s\n",
				mt.path, strerror(-err));
		last_err = err;
		pthread_mutex_lock(&mt.lock);
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += mt.interval_ms / 1000;
		deadline.tv_nsec += (long)(mt.interval_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (!mt.stop &&
		       pthread_cond_timedwait(&mt.cond, &mt.lock, &deadline) !=
		       ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&mt.lock);
	return NULL;
}

int metrics_start(const char *path, unsigned int interval_ms,
		  unsigned int top)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	int err;

	if (!path || !*path)
		return 0;
	snprintf(mt.path, sizeof(mt.path), "%s", path);
	mt.interval_ms = interval_ms;
	mt.top = top;
	mt.stop = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&mt.cond);
	pthread_cond_init(&mt.cond, &ca);
	pthread_condattr_destroy(&ca);
	/* A small stack: under mlockall every byte of it stays resident. */
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, 256 << 10);
	err = pthread_create(&mt.thread, &ta, metrics_thread, NULL);
	pthread_attr_destroy(&ta);
	if (err)
		return -err;
	mt.running = true;
	return 0;
}

void metrics_stop(void)
{
	if (!mt.running)
		return;
	pthread_mutex_lock(&mt.lock);
	mt.stop = true;
	pthread_cond_signal(&mt.cond);
	pthread_mutex_unlock(&mt.lock);
	pthread_join(mt.thread, NULL);
	mt.running = false;
	/* Figures of a daemon that stopped would mislead: take them away
	 * (memctl metrics then says memctl_daemon_up 0). */
	unlink(mt.path);
	if (mt.connected)
		mw_nl_close(&mt.nl);
	mt.connected = false;
	free(mt.b.policies.v);
	free(mt.b.procs.v);
	memset(&mt.b, 0, sizeof(mt.b));
}
