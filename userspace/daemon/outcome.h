/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_OUTCOME_H
#define MEMCTL_OUTCOME_H

#include <stddef.h>

/* How an action ended; its name is the first word of the result. */
enum act_outcome {
	ACT_OK,
	ACT_PARTIAL,		/* reclaim or migration: less than asked */
	ACT_ERROR,
	ACT_DRY_RUN,
	ACT_NO_VICTIM,		/* a kill found no process it may take */
	ACT_SKIPPED,		/* a step that does not apply (on /) */
	ACT_OBSERVED,		/* the kernel's OOM kill, seen */
	ACT_NR_OUTCOMES
};

/* "ok", "partial", "error", "dry-run", "no victim", "skipped", "observed". */
const char *act_outcome_name(enum act_outcome o);
/* The result as logged: the outcome's name, then ": detail" if any. */
const char *act_result(enum act_outcome o, const char *detail, char *buf,
		       size_t size);

#endif
