// SPDX-License-Identifier: GPL-2.0
/* memctl status: what the module is doing. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/memwatch.h>

#include "util.h"
#include "commands.h"
#include "json.h"
#include "nl.h"
#include "policy.h"
#include "status.h"

static const char status_usage[] =
"Usage: memctl status [--json]\n"
"\n"
"Show the memwatch module's state: its version, each hook point on the\n"
"allocation path with whether it is attached, how often it ran and how\n"
"often the kernel missed it (a hook this kernel lacks is named with what\n"
"is not counted without it), and every table the module keeps: entries in\n"
"use, its ceiling, the memory it holds, and how often an entry could not\n"
"be had (a process went to the [overflow] record, or a page lay outside\n"
"the page table); then each policy, a cgroup's or a NUMA node's, with the\n"
"highest level crossed, usage and limit.\n"
"\n"
"Options:\n"
"  -j, --json   print one JSON object instead of text\n"
"  -h, --help   show this help\n"
"\n"
"Exit status: 0 on success, 1 if the module is not loaded or cannot be\n"
"reached, 2 on a bad argument.\n";

static void status_print_json(const struct status *st,
			      const struct policy_list *pl)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_string(&j, "version", st->version);
	json_u64(&j, "family_version", st->family_version);
	json_u64(&j, "events_sent", st->events_sent);
	json_u64(&j, "events_dropped", st->events_dropped);
	json_begin_array(&j, "hooks");
	for (i = 0; i < st->n_hooks; i++) {
		const struct status_hook *h = &st->hooks[i];

		json_begin_object(&j, NULL);
		json_string(&j, "name", h->name);
		json_string(&j, "kind", status_hook_kind_name(h->kind));
		json_bool(&j, "attached", h->attached);
		json_u64(&j, "hits", h->hits);
		json_u64(&j, "missed", h->missed);
		if (!h->attached && h->uncounted[0]) {
			json_string(&j, "error", strerror((int)h->error));
			json_string(&j, "uncounted", h->uncounted);
		}
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_begin_array(&j, "tables");
	for (i = 0; i < st->n_tables; i++) {
		const struct status_table *t = &st->tables[i];

		json_begin_object(&j, NULL);
		json_string(&j, "name", t->name);
		json_u64(&j, "entries", t->entries);
		json_u64(&j, "capacity", t->capacity);
		json_u64(&j, "bytes", t->bytes);
		json_u64(&j, "overflows", t->overflows);
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_begin_array(&j, "policies");
	for (i = 0; i < pl->n; i++) {
		const struct policy_rec *r = &pl->v[i];

		json_begin_object(&j, NULL);
		json_string(&j, "cgroup", r->cgroup);
		if (r->node >= 0)
			json_u64(&j, "node", (uint64_t)r->node);
		json_string(&j, "level", cli_level_name(r->level));
		json_u64(&j, "usage_bytes", r->usage);
		json_u64(&j, "limit_bytes", r->limit);
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_end(&j, '}');
}

static void status_print_text(const struct status *st,
			      const struct policy_list *pl)
{
	char a[16], b[16], what[32];
	unsigned int i;

	printf("memwatch %s (netlink family \"%s\" version %u)\n",
	       st->version, MEMWATCH_GENL_NAME, st->family_version);
	printf("events: %llu sent, %llu dropped\n",
	       (unsigned long long)st->events_sent,
	       (unsigned long long)st->events_dropped);
	printf("\nhooks:\n");
	printf("  %-32s %-10s %-8s %14s %10s\n",
	       "NAME", "KIND", "ATTACHED", "HITS", "MISSED");
	for (i = 0; i < st->n_hooks; i++) {
		const struct status_hook *h = &st->hooks[i];

		printf("  %-32s %-10s %-8s %14llu %10llu\n", h->name,
		       status_hook_kind_name(h->kind), h->attached ? "yes" : "no",
		       (unsigned long long)h->hits,
		       (unsigned long long)h->missed);
	}
	/* A hook this kernel lacks: say what that costs. */
	for (i = 0; i < st->n_hooks; i++) {
		const struct status_hook *h = &st->hooks[i];

		if (!h->attached && h->uncounted[0])
			printf("  not attached: %s (%s): %s\n", h->name,
			       strerror((int)h->error), h->uncounted);
	}
	printf("\ntables:\n");
	if (!st->n_tables)
		printf("  (none)\n");
	else
		printf("  %-32s %10s %10s %14s %10s\n",
		       "NAME", "ENTRIES", "CAPACITY", "BYTES", "OVERFLOWS");
	for (i = 0; i < st->n_tables; i++) {
		const struct status_table *t = &st->tables[i];

		printf("  %-32s %10u %10u %14llu %10llu\n", t->name,
		       t->entries, t->capacity, (unsigned long long)t->bytes,
		       (unsigned long long)t->overflows);
	}
	printf("\npolicies (memctl policy list has their levels):\n");
	if (!pl->n)
		printf("  (none)\n");
	else
		printf("  %-32s %10s %10s %14s\n", "CGROUP OR NODE", "LEVEL",
		       "USAGE", "LIMIT");
	for (i = 0; i < pl->n; i++) {
		const struct policy_rec *r = &pl->v[i];

		snprintf(what, sizeof(what), "node %d", r->node);
		printf("  %-32s %10s %10s %14s\n",
		       r->node >= 0 ? what : r->cgroup,
		       cli_level_name(r->level),
		       cli_bytes(r->usage, a, sizeof(a)),
		       cli_bytes(r->limit, b, sizeof(b)));
	}
}

int cmd_status(int argc, char **argv)
{
	static struct status st;
	struct policy_list pl = { 0 };
	struct mw_nl nl;
	bool json;
	int err;

	err = cli_json_only("status", status_usage, argc, argv, &json);
	if (err >= 0)
		return err;
	if (mw_nl_connect(&nl))
		return EXIT_FAIL;
	err = status_fetch(&nl, &st);
	if (!err)
		err = policy_fetch(&nl, &pl);
	if (err) {
		mw_nl_perror(&nl, "status");
		mw_nl_close(&nl);
		free(pl.v);
		return EXIT_FAIL;
	}
	mw_nl_close(&nl);
	if (json)
		status_print_json(&st, &pl);
	else
		status_print_text(&st, &pl);
	free(pl.v);
	return EXIT_OK;
}
