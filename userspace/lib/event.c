// SPDX-License-Identifier: GPL-2.0
/* What the decoders of MEMWATCH_CMD_EVENT (daemon, watch) share. */
#include <string.h>

#include "event.h"

int event_wmarks(struct nlattr *nest, uint64_t thr[MEMWATCH_NR_LEVELS + 1])
{
	struct nlattr *a, *w[MEMWATCH_A_WMARK_MAX + 1];
	int rem, n = 0;

	memset(thr, 0, sizeof(uint64_t) * (MEMWATCH_NR_LEVELS + 1));
	nla_for_each_nested(a, nest, rem) {
		unsigned int l;

		if (nla_parse_nested(w, MEMWATCH_A_WMARK_MAX, a, NULL) ||
		    !w[MEMWATCH_A_WMARK_LEVEL] || !w[MEMWATCH_A_WMARK_THRESHOLD])
			continue;
		l = nla_get_u8(w[MEMWATCH_A_WMARK_LEVEL]);
		if (l < 1 || l > MEMWATCH_NR_LEVELS)
			continue;
		thr[l] = nla_get_u64(w[MEMWATCH_A_WMARK_THRESHOLD]);
		n++;
	}
	return n;
}
