// SPDX-License-Identifier: GPL-2.0
/*
 * Incident reports: what was true when the daemon killed, or the kernel
 * did. incident_capture() reads the cgroup's files and the module's
 * records into buffers reserved at start; incident_write() writes them
 * with the decision after the kill was sent, so the report never delays
 * it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "actions.h"
#include "actlog.h"
#include "util.h"
#include "incident.h"
#include "json.h"
#include "procs.h"

#define INCIDENT_PROCS 4096
#define INCIDENT_TOP 10
#define INCIDENT_TIMELINE 32

static struct mw_nl *incident_nl;
static struct mw_procs incident_procs;
static struct act_rec incident_timeline[INCIDENT_TIMELINE];
static char incident_stat[16384], incident_events[1024];
static char incident_pressure[512];
static uint64_t incident_usage, incident_swap, incident_ts;
static bool incident_swap_known;

int incident_init(struct mw_nl *nl)
{
	incident_nl = nl;
	incident_procs.v = calloc(INCIDENT_PROCS, sizeof(*incident_procs.v));
	if (!incident_procs.v)
		return -ENOMEM;
	incident_procs.cap = INCIDENT_PROCS;
	return 0;
}

void incident_exit(void)
{
	free(incident_procs.v);
	memset(&incident_procs, 0, sizeof(incident_procs));
}

void incident_new_id(struct incident *in, uint32_t pid)
{
	time_t t = time(NULL);
	struct tm tm;
	char when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(in->id, sizeof(in->id), "%s-%s-%u", when, in->kind, pid);
}

/* A file of the host's: the first size - 1 bytes, trimmed. */
static void read_host(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
}

static uint64_t meminfo_kb(const char *key)
{
	char line[128];
	unsigned long long v = 0;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			sscanf(line + klen + 1, "%llu", &v);
			break;
		}
	fclose(f);
	return v << 10;
}

void incident_capture(const char *cgroup, uint64_t cgroup_id)
{
	bool host = !strcmp(cgroup, "/");
	char buf[64];

	incident_ts = now_ns();
	if (cg_read(cgroup, "memory.stat", incident_stat,
		    sizeof(incident_stat)))
		incident_stat[0] = '\0';
	if (host || cg_read(cgroup, "memory.events", incident_events,
			    sizeof(incident_events)))
		incident_events[0] = '\0';
	if (host)
		read_host("/proc/pressure/memory", incident_pressure,
			  sizeof(incident_pressure));
	else if (cg_read(cgroup, "memory.pressure", incident_pressure,
			 sizeof(incident_pressure)))
		incident_pressure[0] = '\0';
	incident_usage = cg_usage(cgroup);
	incident_swap_known = true;
	if (host) {
		uint64_t total = meminfo_kb("SwapTotal");
		uint64_t free = meminfo_kb("SwapFree");

		incident_swap = total > free ? total - free : 0;
	} else if (!cg_read(cgroup, "memory.swap.current", buf, sizeof(buf))) {
		incident_swap = strtoull(buf, NULL, 10);
	} else {
		incident_swap_known = false;
	}
	incident_procs.n = 0;
	if (incident_procs.cap &&
	    mw_procs_fetch(incident_nl, 0, cgroup_id, &incident_procs))
		incident_procs.n = 0;
}

/* "key value" lines as an object of numbers. */
static void json_flat(struct json *j, const char *key, const char *text)
{
	const char *p = text;

	json_begin_object(j, key);
	while (*p) {
		char k[64], v[32];
		int used = 0;

		if (sscanf(p, "%63s %31s%n", k, v, &used) == 2)
			json_number(j, k, v);
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	json_end(j, '}');
}

/* memory.pressure: {"some": {"avg10": 0.0, ..., "total": N}, "full": ...} */
static void json_pressure(struct json *j, const char *text)
{
	const char *p = text;

	json_begin_object(j, "memory_pressure");
	while (*p) {
		char kind[8], f[4][32];

		if (sscanf(p, "%7s %31s %31s %31s %31s", kind, f[0], f[1], f[2],
			   f[3]) == 5) {
			int k;

			json_begin_object(j, kind);
			for (k = 0; k < 4; k++) {
				char *eq = strchr(f[k], '=');

				if (!eq)
					continue;
				*eq = '\0';
				json_number(j, f[k], eq + 1);
			}
			json_end(j, '}');
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	json_end(j, '}');
}

static uint64_t incident_growth(const struct incident *in,
				const struct mw_proc *p)
{
	unsigned int i;

	for (i = 0; i < in->nbase; i++)
		if (in->base[i].pid == p->pid)
			return p->live > in->base[i].live ?
			       p->live - in->base[i].live : 0;
	return in->nbase ? p->live : 0;
}

static int proc_live_cmp(const void *a, const void *b)
{
	const struct mw_proc *x = a, *y = b;

	return x->live != y->live ? (x->live > y->live ? -1 : 1) : 0;
}

static void incident_json(FILE *f, const struct incident *in,
			  unsigned int ntl, const char *when)
{
	struct json j;
	unsigned int i, l, k;

	json_init(&j, f);
	json_begin_object(&j, NULL);
	json_string(&j, "id", in->id);
	json_string(&j, "kind", in->kind);
	json_string(&j, "time", when);
	json_u64(&j, "ts_ns", incident_ts);
	json_string(&j, "cgroup", in->cgroup);
	json_u64(&j, "cgroup_id", in->cgroup_id);
	json_string(&j, "level", cli_level_name(in->level));
	json_string(&j, "action", in->action);
	if (in->target)
		json_string(&j, "target", in->target);
	json_string(&j, "reason", in->reason ? in->reason : "");
	json_u64(&j, "usage", incident_usage);
	json_u64(&j, "limit", in->limit);
	if (incident_swap_known)
		json_u64(&j, "swap", incident_swap);
	json_begin_object(&j, "thresholds");
	for (l = MEMWATCH_LEVEL_NOTIFY; in->thr && l <= MEMWATCH_LEVEL_KILL; l++)
		if (in->thr[l])
			json_u64(&j, cli_level_name(l), in->thr[l]);
	json_end(&j, '}');
	json_begin_array(&j, "victims");
	for (i = 0; i < in->nv; i++) {
		json_begin_object(&j, NULL);
		json_u64(&j, "pid", in->v[i].pid);
		json_string(&j, "comm", in->v[i].comm);
		json_u64(&j, "live", in->v[i].live);
		json_u64(&j, "growth", in->v[i].growth);
		json_u64(&j, "anon_growth", in->v[i].anon_growth);
		json_end(&j, '}');
	}
	json_end(&j, ']');
	if (in->pre_kill) {
		json_begin_object(&j, "pre_kill");
		json_string(&j, "result", in->pre_kill);
		json_u64(&j, "ms", in->pre_kill_ms);
		json_end(&j, '}');
	}
	json_flat(&j, "memory_stat", incident_stat);
	json_flat(&j, "memory_events", incident_events);
	json_pressure(&j, incident_pressure);
	json_begin_array(&j, "timeline");
	for (i = 0; i < ntl; i++) {
		const struct act_rec *r = &incident_timeline[i];

		json_begin_object(&j, NULL);
		json_u64(&j, "ts_ns", r->ts_ns);
		json_string(&j, "level", cli_level_name(r->level));
		json_string(&j, "action", r->action);
		if (r->pid) {
			json_u64(&j, "pid", r->pid);
			json_string(&j, "comm", r->comm);
		}
		if (r->bytes)
			json_u64(&j, "bytes", r->bytes);
		json_string(&j, "result", r->result);
		json_string(&j, "reason", r->reason);
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_begin_array(&j, "top");
	for (i = 0; i < incident_procs.n && i < INCIDENT_TOP; i++) {
		const struct mw_proc *p = &incident_procs.v[i];

		json_begin_object(&j, NULL);
		json_u64(&j, "pid", p->pid);
		json_string(&j, "comm", p->comm);
		json_string(&j, "cgroup", p->cgroup);
		json_bool(&j, "alive", p->state == MEMWATCH_PROC_ALIVE);
		json_u64(&j, "live", p->live);
		json_u64(&j, "growth", incident_growth(in, p));
		json_u64(&j, "rate", p->rate);
		json_u64(&j, "anon", p->anon);
		json_u64(&j, "file", p->file);
		json_u64(&j, "swap", p->swap);
		json_u64(&j, "local", p->local);
		json_u64(&j, "remote", p->remote);
		json_begin_array(&j, "nodes");
		for (k = 0; k < p->n_nodes; k++) {
			json_begin_object(&j, NULL);
			json_u64(&j, "node", p->nodes[k].node);
			json_u64(&j, "live", p->nodes[k].live);
			json_end(&j, '}');
		}
		json_end(&j, ']');
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_end(&j, '}');
}

static void incident_text(FILE *f, const struct incident *in,
			  unsigned int ntl, const char *when)
{
	char b[5][16];
	unsigned int i, l;
	const char *v0 = in->nv ? in->v[0].comm : "?";

	/* The summary line `memctl incidents` lists. */
	fprintf(f, "%-36s %-20s %-4s %-24s %u (%s)%s %s\n", in->id, when,
		in->kind, in->cgroup, in->nv ? in->v[0].pid : 0, v0,
		in->nv > 1 ? " and others" : "", in->action);
	fprintf(f, "\n%s %s in %s at %s\n", !strcmp(in->kind, "oom") ?
		"the kernel OOM killer: oom kill" : "memctl daemon:",
		in->action, in->cgroup, when);
	if (in->target)
		fprintf(f, "  target      %s\n", in->target);
	fprintf(f, "  level       %s\n  reason      %s\n",
		cli_level_name(in->level), in->reason ? in->reason : "");
	fprintf(f, "  usage       %s of %s", cli_bytes(incident_usage, b[0], 16),
		in->limit ? cli_bytes(in->limit, b[1], 16) : "no limit");
	if (incident_swap_known)
		fprintf(f, ", swap %s", cli_bytes(incident_swap, b[2], 16));
	fprintf(f, "\n  levels     ");
	for (l = MEMWATCH_LEVEL_NOTIFY; in->thr && l <= MEMWATCH_LEVEL_KILL; l++)
		if (in->thr[l])
			fprintf(f, " %s %s", cli_level_name(l),
				cli_bytes(in->thr[l], b[3], 16));
	fprintf(f, "\n");
	if (in->pre_kill)
		fprintf(f, "  pre-kill    %s after %u ms\n", in->pre_kill,
			in->pre_kill_ms);
	fprintf(f, "\nvictims\n");
	for (i = 0; i < in->nv; i++)
		fprintf(f, "  %7u %-16s live %s, grew %s\n", in->v[i].pid,
			in->v[i].comm, cli_bytes(in->v[i].live, b[0], 16),
			cli_bytes(in->v[i].growth, b[1], 16));
	fprintf(f, "\ntimeline (the daemon's actions on %s)\n", in->cgroup);
	for (i = 0; i < ntl; i++) {
		const struct act_rec *r = &incident_timeline[i];
		long long ms = (long long)(r->ts_ns - incident_ts) / 1000000;

		fprintf(f, "  %+8lld ms %-8s %-10s %s%s%s\n", ms,
			cli_level_name(r->level), r->action, r->result,
			r->reason[0] ? ": " : "", r->reason);
	}
	fprintf(f, "\ntop processes       live   growth   rate/s     anon     file     swap    local   remote  nodes\n");
	for (i = 0; i < incident_procs.n && i < INCIDENT_TOP; i++) {
		const struct mw_proc *p = &incident_procs.v[i];
		unsigned int k;

		fprintf(f, "  %7u %-10.10s %8s %8s %8s ", p->pid, p->comm,
			cli_bytes(p->live, b[0], 16),
			cli_bytes(incident_growth(in, p), b[1], 16),
			cli_bytes(p->rate, b[2], 16));
		fprintf(f, "%8s %8s %8s %8s %8s ", cli_bytes(p->anon, b[0], 16),
			cli_bytes(p->file, b[1], 16),
			cli_bytes(p->swap, b[2], 16),
			cli_bytes(p->local, b[3], 16),
			cli_bytes(p->remote, b[4], 16));
		for (k = 0; k < p->n_nodes; k++)
			fprintf(f, " %u:%s", p->nodes[k].node,
				cli_bytes(p->nodes[k].live, b[0], 16));
		fprintf(f, "\n");
	}
	fprintf(f, "\nmemory.pressure\n%s\n\nmemory.events\n%s\n\nmemory.stat\n%s\n",
		incident_pressure, incident_events, incident_stat);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_report(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

/* Keep the newest max reports: remove the oldest (ids sort by time). */
static void incident_prune(const char *dir, unsigned int max)
{
	struct dirent **names;
	char path[1200];
	int n, i;

	n = scandir(dir, &names, is_report, name_cmp);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		if ((unsigned int)(n - i) > max) {
			size_t len = strlen(names[i]->d_name) - 5;

			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			unlink(path);
			snprintf(path, sizeof(path), "%s/%.*s.txt", dir,
				 (int)len, names[i]->d_name);
			unlink(path);
		}
		free(names[i]);
	}
	free(names);
}

/* Write one of the two files: by a temporary name, then renamed. */
static int incident_file(const char *dir, const struct incident *in,
			 const char *ext, unsigned int ntl, const char *when)
{
	char tmp[1200], path[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, in->id, ext);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%s.new", dir, in->id, ext);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (!strcmp(ext, "json"))
		incident_json(f, in, ntl, when);
	else
		incident_text(f, in, ntl, when);
	if (fclose(f) || rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

int incident_write(const char *dir, unsigned int max,
		   const struct incident *in)
{
	static bool said;
	unsigned int ntl;
	char when[32];
	struct tm tm;
	time_t t;
	int err;

	if (!dir || !*dir)
		return 0;
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ntl = actlog_recent(in->cgroup, incident_timeline, INCIDENT_TIMELINE);
	qsort(incident_procs.v, incident_procs.n, sizeof(*incident_procs.v),
	      proc_live_cmp);
	err = incident_file(dir, in, "json", ntl, when);
	if (!err)
		err = incident_file(dir, in, "txt", ntl, when);
	if (err) {
		if (!said)
			say("memctl daemon: cannot write incident reports in %s: %s",
			    dir, strerror(-err));
		said = true;
		return err;
	}
	said = false;
	incident_prune(dir, max);
	say("%s: incident report %s/%s.json", in->cgroup, dir, in->id);
	return 0;
}
