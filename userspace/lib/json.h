/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_JSON_H
#define MEMCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

/* A streaming JSON writer: keys are NULL inside arrays and at the top. */
struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j, const char *key);
void json_begin_array(struct json *j, const char *key);
void json_end(struct json *j, char close);
void json_string(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_bool(struct json *j, const char *key, bool val);
/* A number as text ("0.25"); null if it is not one. */
void json_number(struct json *j, const char *key, const char *num);

#endif
