// SPDX-License-Identifier: GPL-2.0
/* Policies in the module: parse a level, set or clear one, dump them. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/memwatch.h>

#include "nl.h"
#include "policy.h"
#include "util.h"

int policy_parse_value(const char *v, struct policy_level *out)
{
	if (v[0] && v[strlen(v) - 1] == '%') {
		char *end;
		long pct;

		errno = 0;
		pct = strtol(v, &end, 10);
		if (errno || end == v || *end != '%' || pct < 1 || pct > 100)
			return -EINVAL;
		out->pct = pct;
		return 0;
	}
	out->pct = 0;
	if (cli_parse_bytes(v, &out->bytes) || out->bytes < 4096)
		return -EINVAL;
	return 0;
}

int policy_request(struct mw_nl *nl, uint8_t cmd, uint64_t id, int node,
		   const struct policy_level *lv, unsigned int flags)
{
	struct nlattr *wmarks, *w;
	struct nl_msg *msg;
	unsigned int l;

	msg = mw_nl_msg(nl, cmd, 0);
	if (!msg || ((node < 0 || id) &&
		     nla_put_u64(msg, MEMWATCH_A_POLICY_CGROUP_ID, id)) ||
	    (node >= 0 && nla_put_u32(msg, MEMWATCH_A_POLICY_NODE, node)) ||
	    ((flags & POLICY_SWAP) && nla_put_u8(msg, MEMWATCH_A_POLICY_SWAP, 1)))
		goto nomem;
	if (lv) {
		wmarks = nla_nest_start(msg, MEMWATCH_A_POLICY_WMARKS);
		if (!wmarks)
			goto nomem;
		for (l = 1; l <= MEMWATCH_NR_LEVELS; l++) {
			if (!lv[l].pct && !lv[l].bytes)
				continue;
			w = nla_nest_start(msg, MEMWATCH_A_POLICY_WMARK);
			if (!w || nla_put_u8(msg, MEMWATCH_A_WMARK_LEVEL, l) ||
			    (lv[l].pct ?
			     nla_put_u32(msg, MEMWATCH_A_WMARK_PERCENT, lv[l].pct) :
			     nla_put_u64(msg, MEMWATCH_A_WMARK_BYTES, lv[l].bytes)))
				goto nomem;
			nla_nest_end(msg, w);
		}
		nla_nest_end(msg, wmarks);
	}
	return mw_nl_request(nl, msg, 0, NULL, NULL);
nomem:
	nlmsg_free(msg);
	nl->extack[0] = '\0';
	return nl->err = -ENOMEM;
}

#define POLICY_MAX 65536

static int policy_parse(struct nlattr **tb, void *arg)
{
	struct policy_list *pl = arg;
	struct policy_rec *r;
	struct nlattr *a;
	int rem;

	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 64;
		struct policy_rec *v = realloc(pl->v, cap * sizeof(*v));

		if (!v || cap > POLICY_MAX)
			return -ENOMEM;
		pl->v = v;
		pl->cap = cap;
	}
	r = &pl->v[pl->n++];
	memset(r, 0, sizeof(*r));
	r->node = tb[MEMWATCH_A_POLICY_NODE] ?
		  (int)nla_get_u32(tb[MEMWATCH_A_POLICY_NODE]) : -1;
	r->swap = tb[MEMWATCH_A_POLICY_SWAP] &&
		  nla_get_u8(tb[MEMWATCH_A_POLICY_SWAP]);
	if (tb[MEMWATCH_A_POLICY_CGROUP_ID])
		r->id = nla_get_u64(tb[MEMWATCH_A_POLICY_CGROUP_ID]);
	if (tb[MEMWATCH_A_POLICY_CGROUP_PATH])
		snprintf(r->cgroup, sizeof(r->cgroup), "%s",
			 nla_get_string(tb[MEMWATCH_A_POLICY_CGROUP_PATH]));
	if (tb[MEMWATCH_A_POLICY_LEVEL])
		r->level = nla_get_u8(tb[MEMWATCH_A_POLICY_LEVEL]);
	if (tb[MEMWATCH_A_POLICY_USAGE])
		r->usage = nla_get_u64(tb[MEMWATCH_A_POLICY_USAGE]);
	if (tb[MEMWATCH_A_POLICY_LIMIT])
		r->limit = nla_get_u64(tb[MEMWATCH_A_POLICY_LIMIT]);
	if (!tb[MEMWATCH_A_POLICY_WMARKS])
		return 0;
	nla_for_each_nested(a, tb[MEMWATCH_A_POLICY_WMARKS], rem) {
		struct nlattr *wt[MEMWATCH_A_WMARK_MAX + 1];
		unsigned int l;

		if (nla_parse_nested(wt, MEMWATCH_A_WMARK_MAX, a, NULL) ||
		    !wt[MEMWATCH_A_WMARK_LEVEL])
			return -EPROTO;
		l = nla_get_u8(wt[MEMWATCH_A_WMARK_LEVEL]);
		if (l < 1 || l > MEMWATCH_NR_LEVELS)
			continue;
		if (wt[MEMWATCH_A_WMARK_PERCENT])
			r->w[l].pct = nla_get_u32(wt[MEMWATCH_A_WMARK_PERCENT]);
		if (wt[MEMWATCH_A_WMARK_BYTES])
			r->w[l].bytes = nla_get_u64(wt[MEMWATCH_A_WMARK_BYTES]);
		if (wt[MEMWATCH_A_WMARK_THRESHOLD])
			r->w[l].threshold =
				nla_get_u64(wt[MEMWATCH_A_WMARK_THRESHOLD]);
	}
	return 0;
}

/*
 * A dump the module marked interrupted (a policy changed meanwhile) is
 * asked again, up to this many times in all.
 */
#define POLICY_FETCH_TRIES 5

static int policy_dump(struct mw_nl *nl, struct policy_list *pl,
		       const uint64_t *id)
{
	int tries = 0, err;

	do {
		struct nl_msg *msg = mw_nl_msg(nl, MEMWATCH_CMD_POLICY_GET,
					       NLM_F_DUMP);

		pl->n = 0;
		if (!msg)
			return nl->err = -ENOMEM;
		if (id && nla_put_u64(msg, MEMWATCH_A_POLICY_CGROUP_ID, *id)) {
			nlmsg_free(msg);
			return nl->err = -ENOMEM;
		}
		err = mw_nl_request(nl, msg, MEMWATCH_A_POLICY_MAX,
				    policy_parse, pl);
	} while (err == -EINTR && ++tries < POLICY_FETCH_TRIES);
	return err;
}

int policy_fetch(struct mw_nl *nl, struct policy_list *pl)
{
	return policy_dump(nl, pl, NULL);
}

int policy_fetch_id(struct mw_nl *nl, uint64_t id, struct policy_list *pl)
{
	return policy_dump(nl, pl, &id);
}
