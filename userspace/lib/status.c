// SPDX-License-Identifier: GPL-2.0
/* STATUS: the module's version, hooks, tables and event counts. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/memwatch.h>

#include "nl.h"
#include "status.h"

static void copy_str(char *dst, size_t size, const struct nlattr *a)
{
	snprintf(dst, size, "%s", a ? nla_get_string((struct nlattr *)a) : "");
}

static int status_parse_hook(struct status *st, struct nlattr *nest)
{
	struct nlattr *tb[MEMWATCH_A_HOOK_MAX + 1];
	struct status_hook *h;

	if (st->n_hooks == STATUS_MAX_ITEMS)
		return 0;
	if (nla_parse_nested(tb, MEMWATCH_A_HOOK_MAX, nest, NULL))
		return -EPROTO;
	h = &st->hooks[st->n_hooks++];
	copy_str(h->name, sizeof(h->name), tb[MEMWATCH_A_HOOK_NAME]);
	h->kind = tb[MEMWATCH_A_HOOK_KIND] ?
		  nla_get_u8(tb[MEMWATCH_A_HOOK_KIND]) : 0;
	h->attached = tb[MEMWATCH_A_HOOK_ATTACHED] &&
		      nla_get_u8(tb[MEMWATCH_A_HOOK_ATTACHED]);
	h->hits = tb[MEMWATCH_A_HOOK_HITS] ?
		  nla_get_u64(tb[MEMWATCH_A_HOOK_HITS]) : 0;
	h->missed = tb[MEMWATCH_A_HOOK_MISSED] ?
		    nla_get_u64(tb[MEMWATCH_A_HOOK_MISSED]) : 0;
	h->error = tb[MEMWATCH_A_HOOK_ERROR] ?
		   nla_get_u32(tb[MEMWATCH_A_HOOK_ERROR]) : 0;
	copy_str(h->uncounted, sizeof(h->uncounted),
		 tb[MEMWATCH_A_HOOK_UNCOUNTED]);
	return 0;
}

static int status_parse_table(struct status *st, struct nlattr *nest)
{
	struct nlattr *tb[MEMWATCH_A_TABLE_MAX + 1];
	struct status_table *t;

	if (st->n_tables == STATUS_MAX_ITEMS)
		return 0;
	if (nla_parse_nested(tb, MEMWATCH_A_TABLE_MAX, nest, NULL))
		return -EPROTO;
	t = &st->tables[st->n_tables++];
	copy_str(t->name, sizeof(t->name), tb[MEMWATCH_A_TABLE_NAME]);
	t->entries = tb[MEMWATCH_A_TABLE_ENTRIES] ?
		     nla_get_u32(tb[MEMWATCH_A_TABLE_ENTRIES]) : 0;
	t->capacity = tb[MEMWATCH_A_TABLE_CAPACITY] ?
		      nla_get_u32(tb[MEMWATCH_A_TABLE_CAPACITY]) : 0;
	t->bytes = tb[MEMWATCH_A_TABLE_BYTES] ?
		   nla_get_u64(tb[MEMWATCH_A_TABLE_BYTES]) : 0;
	t->overflows = tb[MEMWATCH_A_TABLE_OVERFLOWS] ?
		       nla_get_u64(tb[MEMWATCH_A_TABLE_OVERFLOWS]) : 0;
	return 0;
}

static int status_parse(struct nlattr **tb, void *arg)
{
	struct status *st = arg;
	struct nlattr *a;
	int rem, err;

	copy_str(st->version, sizeof(st->version),
		 tb[MEMWATCH_A_STATUS_VERSION]);
	if (tb[MEMWATCH_A_STATUS_EVENTS_SENT])
		st->events_sent = nla_get_u64(tb[MEMWATCH_A_STATUS_EVENTS_SENT]);
	if (tb[MEMWATCH_A_STATUS_EVENTS_DROPPED])
		st->events_dropped =
			nla_get_u64(tb[MEMWATCH_A_STATUS_EVENTS_DROPPED]);
	if (tb[MEMWATCH_A_STATUS_HOOKS]) {
		nla_for_each_nested(a, tb[MEMWATCH_A_STATUS_HOOKS], rem) {
			err = status_parse_hook(st, a);
			if (err)
				return err;
		}
	}
	if (tb[MEMWATCH_A_STATUS_TABLES]) {
		nla_for_each_nested(a, tb[MEMWATCH_A_STATUS_TABLES], rem) {
			err = status_parse_table(st, a);
			if (err)
				return err;
		}
	}
	return 0;
}

const char *status_hook_kind_name(unsigned int kind)
{
	switch (kind) {
	case MEMWATCH_HOOK_KPROBE:
		return "kprobe";
	case MEMWATCH_HOOK_KRETPROBE:
		return "kretprobe";
	case MEMWATCH_HOOK_TRACEPOINT:
		return "tracepoint";
	}
	return "unknown";
}

int status_fetch(struct mw_nl *nl, struct status *st)
{
	struct nl_msg *msg;

	memset(st, 0, sizeof(*st));
	st->family_version = nl->version;
	msg = mw_nl_msg(nl, MEMWATCH_CMD_STATUS, 0);
	if (!msg)
		return nl->err = -ENOMEM;
	return mw_nl_request(nl, msg, MEMWATCH_A_STATUS_MAX, status_parse, st);
}
