// SPDX-License-Identifier: GPL-2.0
/* How an action ended, by name: what the log and the counters share. */
#include <stdio.h>

#include "outcome.h"

static const char *const act_outcomes[ACT_NR_OUTCOMES] = {
	[ACT_OK] = "ok", [ACT_PARTIAL] = "partial", [ACT_ERROR] = "error",
	[ACT_DRY_RUN] = "dry-run", [ACT_NO_VICTIM] = "no victim",
	[ACT_SKIPPED] = "skipped", [ACT_OBSERVED] = "observed",
};

const char *act_outcome_name(enum act_outcome o)
{
	return o < ACT_NR_OUTCOMES ? act_outcomes[o] : "error";
}

const char *act_result(enum act_outcome o, const char *detail, char *buf,
		       size_t size)
{
	snprintf(buf, size, "%s%s%s", act_outcome_name(o),
		 detail ? ": " : "", detail ? detail : "");
	return buf;
}
