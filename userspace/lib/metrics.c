// SPDX-License-Identifier: GPL-2.0
/*
 * The module's figures in the Prometheus text format (memctl metrics, and
 * the daemon's metrics file), and writing such a file whole.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "metrics.h"
#include "policy.h"
#include "procs.h"
#include "status.h"
#include "util.h"

#define METRICS_MAX_NODES 1024

/* A label value, escaped as the text format wants. */
static void metrics_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void metrics_help(FILE *f, const char *name, const char *type,
			 const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_status(FILE *f, const struct status *st)
{
	unsigned int i;

	metrics_help(f, "memwatch_info", "gauge", "The memwatch module's version.");
	fputs("memwatch_info{version=\"", f);
	metrics_label(f, st->version);
	fprintf(f, "\",family_version=\"%u\"} 1\n", st->family_version);

	metrics_help(f, "memwatch_hook_attached", "gauge",
		     "1 when the hook is attached to the allocation path.");
	for (i = 0; i < st->n_hooks; i++)
		fprintf(f, "memwatch_hook_attached{hook=\"%s\",kind=\"%s\"} %d\n",
			st->hooks[i].name,
			status_hook_kind_name(st->hooks[i].kind),
			st->hooks[i].attached);
	metrics_help(f, "memwatch_hook_hits_total", "counter",
		     "Times the hook's handler ran since the module was loaded.");
	for (i = 0; i < st->n_hooks; i++)
		fprintf(f, "memwatch_hook_hits_total{hook=\"%s\"} %llu\n",
			st->hooks[i].name,
			(unsigned long long)st->hooks[i].hits);
	metrics_help(f, "memwatch_hook_missed_total", "counter",
		     "Hits the kernel could not deliver to the handler.");
	for (i = 0; i < st->n_hooks; i++)
		fprintf(f, "memwatch_hook_missed_total{hook=\"%s\"} %llu\n",
			st->hooks[i].name,
			(unsigned long long)st->hooks[i].missed);

	metrics_help(f, "memwatch_table_entries", "gauge",
		     "Entries in use in each table the module keeps.");
	for (i = 0; i < st->n_tables; i++)
		fprintf(f, "memwatch_table_entries{table=\"%s\"} %u\n",
			st->tables[i].name, st->tables[i].entries);
	metrics_help(f, "memwatch_table_capacity", "gauge",
		     "Each table's ceiling.");
	for (i = 0; i < st->n_tables; i++)
		fprintf(f, "memwatch_table_capacity{table=\"%s\"} %u\n",
			st->tables[i].name, st->tables[i].capacity);
	metrics_help(f, "memwatch_table_bytes", "gauge",
		     "Memory each table holds.");
	for (i = 0; i < st->n_tables; i++)
		fprintf(f, "memwatch_table_bytes{table=\"%s\"} %llu\n",
			st->tables[i].name,
			(unsigned long long)st->tables[i].bytes);
	metrics_help(f, "memwatch_table_overflows_total", "counter",
		     "Times an entry could not be had in the table.");
	for (i = 0; i < st->n_tables; i++)
		fprintf(f, "memwatch_table_overflows_total{table=\"%s\"} %llu\n",
			st->tables[i].name,
			(unsigned long long)st->tables[i].overflows);

	metrics_help(f, "memwatch_events_sent_total", "counter",
		     "Watermark and OOM events multicast.");
	fprintf(f, "memwatch_events_sent_total %llu\n",
		(unsigned long long)st->events_sent);
	metrics_help(f, "memwatch_events_dropped_total", "counter",
		     "Events lost: the queue was full, or no memory to send one.");
	fprintf(f, "memwatch_events_dropped_total %llu\n",
		(unsigned long long)st->events_dropped);
}

/* Node policies are not here: their series would clash with the root's. */
static void metrics_cgroup_line(FILE *f, const char *name,
				const struct policy_rec *r,
				unsigned long long v)
{
	if (r->node >= 0)
		return;
	fprintf(f, "%s{cgroup=\"", name);
	metrics_label(f, r->cgroup);
	fprintf(f, "\"} %llu\n", v);
}

static void metrics_policies(FILE *f, const struct policy_list *pl)
{
	unsigned int l;
	size_t i;

	metrics_help(f, "memwatch_cgroup_usage_bytes", "gauge",
		     "Memory use of each cgroup with a policy.");
	for (i = 0; i < pl->n; i++)
		metrics_cgroup_line(f, "memwatch_cgroup_usage_bytes",
				    &pl->v[i], pl->v[i].usage);
	metrics_help(f, "memwatch_cgroup_limit_bytes", "gauge",
		     "The effective limit its levels are percentages of.");
	for (i = 0; i < pl->n; i++)
		metrics_cgroup_line(f, "memwatch_cgroup_limit_bytes",
				    &pl->v[i], pl->v[i].limit);
	metrics_help(f, "memwatch_cgroup_level", "gauge",
		     "The highest level crossed: 0 none, 1 notify, 2 reclaim, 3 throttle, 4 freeze, 5 kill.");
	for (i = 0; i < pl->n; i++)
		metrics_cgroup_line(f, "memwatch_cgroup_level", &pl->v[i],
				    pl->v[i].level);
	metrics_help(f, "memwatch_cgroup_threshold_bytes", "gauge",
		     "Each level's threshold, resolved against the limit now.");
	for (i = 0; i < pl->n; i++)
		for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
			if (!pl->v[i].w[l].threshold || pl->v[i].node >= 0)
				continue;
			fputs("memwatch_cgroup_threshold_bytes{cgroup=\"", f);
			metrics_label(f, pl->v[i].cgroup);
			fprintf(f, "\",level=\"%s\"} %llu\n", cli_level_name(l),
				(unsigned long long)pl->v[i].w[l].threshold);
		}
}

static int metrics_by_live(const void *a, const void *b)
{
	const struct mw_proc *x = a, *y = b;

	return x->live < y->live ? 1 : x->live > y->live ? -1 : 0;
}

static void metrics_proc_line(FILE *f, const char *name,
			      const struct mw_proc *p, unsigned long long v)
{
	fprintf(f, "%s{pid=\"%u\",comm=\"", name, p->pid);
	metrics_label(f, p->comm);
	fputs("\",cgroup=\"", f);
	metrics_label(f, p->cgroup);
	fprintf(f, "\"} %llu\n", v);
}

/* The same processes' live bytes split: anonymous and file; swapped out. */
static void metrics_proc_split(FILE *f, const struct mw_procs *l,
			       unsigned int top)
{
	static const char *const name[] = {
		"memwatch_process_anon_bytes", "memwatch_process_file_bytes",
		"memwatch_process_swap_bytes",
	};
	static const char *const help[] = {
		"Their resident anonymous memory (RssAnon), part of live.",
		"The rest of their live bytes: page cache they brought in.",
		"Their anonymous memory swapped out (VmSwap), not in live.",
	};
	unsigned int k, n;
	size_t i;

	for (k = 0; k < 3; k++) {
		metrics_help(f, name[k], "gauge", help[k]);
		for (i = 0, n = 0; i < l->n && n < top; i++) {
			const struct mw_proc *p = &l->v[i];

			if (p->state != MEMWATCH_PROC_ALIVE)
				continue;
			metrics_proc_line(f, name[k], p, k == 0 ? p->anon :
					  k == 1 ? p->file : p->swap);
			n++;
		}
	}
}

static void metrics_procs(FILE *f, struct mw_procs *l, unsigned int top)
{
	static unsigned long long node[METRICS_MAX_NODES];
	unsigned long long local = 0, remote = 0;
	unsigned int max_node = 0, alive = 0, n, k;
	size_t i;

	memset(node, 0, sizeof(node));
	for (i = 0; i < l->n; i++) {
		const struct mw_proc *p = &l->v[i];

		local += p->local;
		remote += p->remote;
		alive += p->state == MEMWATCH_PROC_ALIVE;
		for (k = 0; k < p->n_nodes; k++) {
			if (p->nodes[k].node >= METRICS_MAX_NODES)
				continue;
			node[p->nodes[k].node] += p->nodes[k].live;
			if (p->nodes[k].node + 1 > max_node)
				max_node = p->nodes[k].node + 1;
		}
	}
	metrics_help(f, "memwatch_processes", "gauge",
		     "Live processes memwatch keeps a record of (that you may see).");
	fprintf(f, "memwatch_processes %u\n", alive);
	metrics_help(f, "memwatch_node_live_bytes", "gauge",
		     "Bytes of tracked pages live on each NUMA node.");
	for (k = 0; k < max_node; k++)
		fprintf(f, "memwatch_node_live_bytes{node=\"%u\"} %llu\n", k,
			node[k]);
	metrics_help(f, "memwatch_live_bytes", "gauge",
		     "Bytes of tracked pages, on the charging CPU's node (local) or another (remote).");
	fprintf(f, "memwatch_live_bytes{locality=\"local\"} %llu\n", local);
	fprintf(f, "memwatch_live_bytes{locality=\"remote\"} %llu\n", remote);

	qsort(l->v, l->n, sizeof(*l->v), metrics_by_live);
	metrics_help(f, "memwatch_process_live_bytes", "gauge",
		     "Live bytes of the processes holding the most.");
	for (i = 0, n = 0; i < l->n && n < top; i++) {
		if (l->v[i].state != MEMWATCH_PROC_ALIVE)
			continue;
		metrics_proc_line(f, "memwatch_process_live_bytes", &l->v[i],
				  l->v[i].live);
		n++;
	}
	metrics_help(f, "memwatch_process_rate_bytes_per_second", "gauge",
		     "Bytes they charged over the last second.");
	for (i = 0, n = 0; i < l->n && n < top; i++) {
		if (l->v[i].state != MEMWATCH_PROC_ALIVE)
			continue;
		metrics_proc_line(f, "memwatch_process_rate_bytes_per_second",
				  &l->v[i], l->v[i].rate);
		n++;
	}
	metrics_proc_split(f, l, top);
}

int metrics_module(FILE *f, struct mw_nl *nl, struct metrics_buf *b,
		   unsigned int top)
{
	static struct status st;
	int err = 0;

	metrics_help(f, "memwatch_up", "gauge",
		     "1 when the memwatch module answered.");
	if (!nl) {
		fputs("memwatch_up 0\n", f);
		return -ENOENT;
	}
	err = status_fetch(nl, &st);
	if (!err)
		err = policy_fetch(nl, &b->policies);
	if (!err)
		err = mw_procs_fetch(nl, 0, 0, &b->procs);
	fprintf(f, "memwatch_up %d\n", !err);
	if (err)
		return err;
	metrics_status(f, &st);
	metrics_policies(f, &b->policies);
	metrics_procs(f, &b->procs, top);
	return 0;
}

int metrics_write_file(const char *path,
		       void (*fill)(FILE *f, void *arg), void *arg)
{
	char tmp[1100];
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fill(f, arg);
	if (fflush(f) || ferror(f))
		err = errno ? -errno : -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && chmod(tmp, 0644))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
