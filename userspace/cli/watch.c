// SPDX-License-Identifier: GPL-2.0
/* memctl watch: stream memwatch's events as they happen. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/memwatch.h>

#include "cgroup.h"
#include "util.h"
#include "commands.h"
#include "event.h"
#include "json.h"
#include "nl.h"

#define WATCH_TOP 8

static const char watch_usage[] =
"Usage: memctl watch [--json] [--cgroup CGROUP] [--count N]\n"
"\n"
"Print memwatch's events as they come: a cgroup crossing one of its\n"
"watermarks (see 'memctl policy'), up or down, with its usage, limit and\n"
"the threshold, when the kernel detected it and when memctl received it\n"
"(both CLOCK_MONOTONIC), and the processes of the cgroup holding the most\n"
"memory; and every time the kernel OOM killer picks a victim anyway.\n"
"Without CAP_SYS_ADMIN the events come without the processes (top is\n"
"empty, no victim): 'memctl top' shows a user its own.\n"
"\n"
"Options:\n"
"  -j, --json          one JSON object per line: cgroup, cgroup_id, level\n"
"                      (notify, reclaim, throttle, freeze, kill, oom),\n"
"                      direction (up, down), usage_bytes, limit_bytes,\n"
"                      threshold_bytes, ts_ns, recv_ns, work_ns and\n"
"                      built_ns (when the module's event work took it and\n"
"                      built the message), levels ([{level,\n"
"                      threshold_bytes}]: every level of the policy),\n"
"                      top ([{pid, comm, live_bytes, alloc_bytes_per_s,\n"
"                      anon_bytes, file_bytes}]); OOM events add\n"
"                      victim_pid, victim_comm, watermark_fired\n"
"  -c, --cgroup CGROUP only events of this cgroup and those below it\n"
"  -n, --count N       exit after N events\n"
"  -h, --help          show this help\n"
"\n"
"Exit status: 0 after N events, 1 if the module is not loaded or goes\n"
"away, 2 on a bad argument.\n";

struct watch {
	bool json;
	char prefix[4096];	/* cgroup filter, "" for all */
	long count, seen;
};

static uint64_t u64_of(struct nlattr *a)
{
	return a ? nla_get_u64(a) : 0;
}

static bool watch_match(const struct watch *w, const char *path)
{
	size_t n = strlen(w->prefix);

	if (!n || !strcmp(w->prefix, "/"))
		return true;
	return !strncmp(path, w->prefix, n) && (!path[n] || path[n] == '/');
}

static void watch_top_json(struct json *j, struct nlattr *top)
{
	json_begin_array(j, "top");
	if (top) {
		struct nlattr *a;
		int rem;

		nla_for_each_nested(a, top, rem) {
			struct nlattr *t[MEMWATCH_A_PROC_MAX + 1];

			if (nla_parse_nested(t, MEMWATCH_A_PROC_MAX, a, NULL))
				continue;
			json_begin_object(j, NULL);
			json_u64(j, "pid", t[MEMWATCH_A_PROC_PID] ?
				 nla_get_u32(t[MEMWATCH_A_PROC_PID]) : 0);
			json_string(j, "comm", t[MEMWATCH_A_PROC_COMM] ?
				    nla_get_string(t[MEMWATCH_A_PROC_COMM]) : "");
			json_u64(j, "live_bytes",
				 u64_of(t[MEMWATCH_A_PROC_LIVE_BYTES]));
			json_u64(j, "alloc_bytes_per_s",
				 u64_of(t[MEMWATCH_A_PROC_RATE]));
			json_u64(j, "anon_bytes",
				 u64_of(t[MEMWATCH_A_PROC_ANON_BYTES]));
			json_u64(j, "file_bytes",
				 u64_of(t[MEMWATCH_A_PROC_FILE_BYTES]));
			json_end(j, '}');
		}
	}
	json_end(j, ']');
}

static void watch_top_text(struct nlattr *top)
{
	char live[16], rate[16];
	struct nlattr *a;
	int rem, i = 0;

	if (!top)
		return;
	nla_for_each_nested(a, top, rem) {
		struct nlattr *t[MEMWATCH_A_PROC_MAX + 1];

		if (i++ == WATCH_TOP ||
		    nla_parse_nested(t, MEMWATCH_A_PROC_MAX, a, NULL))
			break;
		printf("%s %u %s %s (%s/s)", i == 1 ? "  top:" : ",",
		       t[MEMWATCH_A_PROC_PID] ?
		       nla_get_u32(t[MEMWATCH_A_PROC_PID]) : 0,
		       t[MEMWATCH_A_PROC_COMM] ?
		       nla_get_string(t[MEMWATCH_A_PROC_COMM]) : "?",
		       cli_bytes(u64_of(t[MEMWATCH_A_PROC_LIVE_BYTES]), live,
				 sizeof(live)),
		       cli_bytes(u64_of(t[MEMWATCH_A_PROC_RATE]), rate,
				 sizeof(rate)));
	}
}

/* "levels": every level of the crossing's policy, as policy list's. */
static void watch_levels_json(struct json *j, struct nlattr *nest)
{
	uint64_t thr[MEMWATCH_NR_LEVELS + 1];
	unsigned int l;

	event_wmarks(nest, thr);
	json_begin_array(j, "levels");
	for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
		if (!thr[l])
			continue;
		json_begin_object(j, NULL);
		json_string(j, "level", cli_level_name(l));
		json_u64(j, "threshold_bytes", thr[l]);
		json_end(j, '}');
	}
	json_end(j, ']');
}

static int watch_event(struct nlattr **tb, void *arg)
{
	struct watch *w = arg;
	const char *path = tb[MEMWATCH_A_EVENT_CGROUP_PATH] ?
			   nla_get_string(tb[MEMWATCH_A_EVENT_CGROUP_PATH]) : "";
	unsigned int level = tb[MEMWATCH_A_EVENT_LEVEL] ?
			     nla_get_u8(tb[MEMWATCH_A_EVENT_LEVEL]) : 0;
	bool up = !tb[MEMWATCH_A_EVENT_DIRECTION] ||
		  nla_get_u8(tb[MEMWATCH_A_EVENT_DIRECTION]) == MEMWATCH_DIR_UP;
	bool oom = level == MEMWATCH_LEVEL_OOM;
	char usage[16], limit[16], thr[16];
	struct timespec now;
	uint64_t recv_ns, ts_ns = u64_of(tb[MEMWATCH_A_EVENT_TS_NS]);
	struct json j;

	clock_gettime(CLOCK_MONOTONIC, &now);
	recv_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	if (!watch_match(w, path))
		return 0;
	if (w->json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_string(&j, "cgroup", path);
		json_u64(&j, "cgroup_id", u64_of(tb[MEMWATCH_A_EVENT_CGROUP_ID]));
		json_string(&j, "level", cli_level_name(level));
		json_string(&j, "direction", up ? "up" : "down");
		json_u64(&j, "usage_bytes", u64_of(tb[MEMWATCH_A_EVENT_USAGE]));
		json_u64(&j, "limit_bytes", u64_of(tb[MEMWATCH_A_EVENT_LIMIT]));
		json_u64(&j, "threshold_bytes",
			 u64_of(tb[MEMWATCH_A_EVENT_THRESHOLD]));
		json_u64(&j, "ts_ns", ts_ns);
		json_u64(&j, "recv_ns", recv_ns);
		if (tb[MEMWATCH_A_EVENT_WORK_NS])
			json_u64(&j, "work_ns",
				 u64_of(tb[MEMWATCH_A_EVENT_WORK_NS]));
		if (tb[MEMWATCH_A_EVENT_BUILT_NS])
			json_u64(&j, "built_ns",
				 u64_of(tb[MEMWATCH_A_EVENT_BUILT_NS]));
		if (tb[MEMWATCH_A_EVENT_WMARKS])
			watch_levels_json(&j, tb[MEMWATCH_A_EVENT_WMARKS]);
		watch_top_json(&j, tb[MEMWATCH_A_EVENT_TOP]);
		if (oom) {
			json_u64(&j, "victim_pid",
				 tb[MEMWATCH_A_EVENT_VICTIM_PID] ?
				 nla_get_u32(tb[MEMWATCH_A_EVENT_VICTIM_PID]) : 0);
			json_string(&j, "victim_comm",
				    tb[MEMWATCH_A_EVENT_VICTIM_COMM] ?
				    nla_get_string(tb[MEMWATCH_A_EVENT_VICTIM_COMM]) : "");
			json_bool(&j, "watermark_fired",
				  tb[MEMWATCH_A_EVENT_WMARK_FIRED] &&
				  nla_get_u8(tb[MEMWATCH_A_EVENT_WMARK_FIRED]));
		}
		json_end(&j, '}');
	} else if (oom) {
		printf("[%llu.%06llu] %s: kernel OOM killer killed %u (%s); a watermark had%s fired\n",
		       (unsigned long long)(ts_ns / 1000000000ULL),
		       (unsigned long long)(ts_ns % 1000000000ULL / 1000),
		       path,
		       tb[MEMWATCH_A_EVENT_VICTIM_PID] ?
		       nla_get_u32(tb[MEMWATCH_A_EVENT_VICTIM_PID]) : 0,
		       tb[MEMWATCH_A_EVENT_VICTIM_COMM] ?
		       nla_get_string(tb[MEMWATCH_A_EVENT_VICTIM_COMM]) : "?",
		       tb[MEMWATCH_A_EVENT_WMARK_FIRED] &&
		       nla_get_u8(tb[MEMWATCH_A_EVENT_WMARK_FIRED]) ? "" : " not");
	} else {
		printf("[%llu.%06llu] %s: %s %s: usage %s of %s, threshold %s, received after %llu us",
		       (unsigned long long)(ts_ns / 1000000000ULL),
		       (unsigned long long)(ts_ns % 1000000000ULL / 1000),
		       path, cli_level_name(level), up ? "up" : "down",
		       cli_bytes(u64_of(tb[MEMWATCH_A_EVENT_USAGE]), usage,
				 sizeof(usage)),
		       cli_bytes(u64_of(tb[MEMWATCH_A_EVENT_LIMIT]), limit,
				 sizeof(limit)),
		       cli_bytes(u64_of(tb[MEMWATCH_A_EVENT_THRESHOLD]), thr,
				 sizeof(thr)),
		       (unsigned long long)(recv_ns > ts_ns ?
					    (recv_ns - ts_ns) / 1000 : 0));
		watch_top_text(tb[MEMWATCH_A_EVENT_TOP]);
		printf("\n");
	}
	fflush(stdout);
	return w->count && ++w->seen >= w->count;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct watch w;
	struct mw_nl nl;
	uint64_t id;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jc:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			w.json = true;
			break;
		case 'c':
			err = cg_resolve(optarg, &id, w.prefix, sizeof(w.prefix));
			if (err)
				return cli_usage_error("watch", "'%s' is not a cgroup: %s",
						       optarg, strerror(-err));
			break;
		case 'n':
			if (cli_parse_long(optarg, 1, 1000000000, &w.count))
				return cli_usage_error("watch", "--count takes a positive number, not '%s'",
						       optarg);
			break;
		case 'h':
			fputs(watch_usage, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("watch", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("watch", "unexpected argument '%s'",
				       argv[optind]);
	if (mw_nl_connect(&nl))
		return EXIT_FAIL;
	err = mw_nl_subscribe(&nl, true);
	if (err == 1) {
		fprintf(stderr, "memctl: watch: not privileged: events come without their processes\n");
		err = 0;
	}
	while (!err) {
		err = mw_nl_receive(&nl, MEMWATCH_A_EVENT_MAX, watch_event, &w);
		if (err == -ENOBUFS) {
			fprintf(stderr, "memctl: events were lost: the receive buffer overflowed\n");
			err = 0;
		}
	}
	if (err > 0)
		err = 0;
	if (err)
		fprintf(stderr, "memctl: watch: %s\n", err == -EIO ?
			"lost the connection to memwatch (module unloaded?)" :
			strerror(-err));
	mw_nl_close(&nl);
	return err ? EXIT_FAIL : EXIT_OK;
}
