/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bench's reader of memctl's JSON lines (`memctl watch --json`, the
 * daemon's --log-json): one flat line each, so a key's number is found
 * by its text; a missing key reads 0.
 */
#ifndef BENCH_JSONL_H
#define BENCH_JSONL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* key is quoted with its colon: "\"ts_ns\":". */
static inline uint64_t jsonl_u64(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

#endif /* BENCH_JSONL_H */
