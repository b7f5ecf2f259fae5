// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's configuration file: a [daemon] section with the settings
 * the options also take, and one [cgroup PATH] section per policy.
 * Documentation/daemon.md describes the format; memctl.conf is a sample.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "config.h"
#include "metrics.h"

void settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->freeze_grace_ms = 2000;
	s->kill_grace_ms = 2000;
	s->settle_ms = 5000;
	s->oom_score_adj = -1000;
	snprintf(s->state, sizeof(s->state), "/run/memctl/daemon.state");
	snprintf(s->metrics, sizeof(s->metrics), "%s", METRICS_DAEMON_FILE);
	s->metrics_interval_ms = 15000;
	s->pre_kill_timeout_ms = 10000;
	snprintf(s->incidents, sizeof(s->incidents), "%s",
		 "/var/lib/memctl/incidents");
	s->incidents_max = 100;
}

void settings_merge(struct settings *out, const struct settings *base,
		    const struct settings *over)
{
	struct settings r = *base;

#define MERGE(bit, field)						\
	do {								\
		if (over->set & (bit))					\
			memcpy(&r.field, &over->field, sizeof(r.field)); \
	} while (0)
	MERGE(SET_FREEZE_GRACE, freeze_grace_ms);
	MERGE(SET_KILL_GRACE, kill_grace_ms);
	MERGE(SET_SETTLE, settle_ms);
	MERGE(SET_OOM_SCORE_ADJ, oom_score_adj);
	MERGE(SET_EXEC, exec);
	MERGE(SET_AVOID, avoid);
	MERGE(SET_PREFER, prefer);
	MERGE(SET_LOG_JSON, log_json);
	MERGE(SET_STATE, state);
	MERGE(SET_METRICS, metrics);
	MERGE(SET_METRICS_INTERVAL, metrics_interval_ms);
	MERGE(SET_SYSLOG, syslog);
	MERGE(SET_PRE_KILL, pre_kill);
	MERGE(SET_PRE_KILL_TIMEOUT, pre_kill_timeout_ms);
	MERGE(SET_INCIDENTS, incidents);
	MERGE(SET_INCIDENTS_MAX, incidents_max);
#undef MERGE
	r.set = base->set | over->set;
	*out = r;
}

static int set_string(char *dst, size_t size, const char *val, char *why,
		      size_t whysz)
{
	if (strlen(val) >= size) {
		snprintf(why, whysz, "too long (at most %zu characters)",
			 size - 1);
		return -EINVAL;
	}
	snprintf(dst, size, "%s", val);
	return 0;
}

static int set_regex(char *dst, size_t size, const char *val, char *why,
		     size_t whysz)
{
	regex_t re;
	int err = regcomp(&re, val, REG_EXTENDED | REG_NOSUB);

	if (err) {
		char msg[128];

		regerror(err, &re, msg, sizeof(msg));
		snprintf(why, whysz, "not a regular expression: %s", msg);
		return -EINVAL;
	}
	regfree(&re);
	return set_string(dst, size, val, why, whysz);
}

int settings_set(struct settings *s, const char *key, const char *val,
		 char *why, size_t whysz)
{
	unsigned int *ms = NULL;
	unsigned int bit = 0;
	int err = 0;

	why[0] = '\0';
	if (!strcmp(key, "freeze-grace")) {
		ms = &s->freeze_grace_ms;
		bit = SET_FREEZE_GRACE;
	} else if (!strcmp(key, "kill-grace")) {
		ms = &s->kill_grace_ms;
		bit = SET_KILL_GRACE;
	} else if (!strcmp(key, "settle")) {
		ms = &s->settle_ms;
		bit = SET_SETTLE;
	} else if (!strcmp(key, "metrics-interval")) {
		ms = &s->metrics_interval_ms;
		bit = SET_METRICS_INTERVAL;
	} else if (!strcmp(key, "pre-kill-timeout")) {
		ms = &s->pre_kill_timeout_ms;
		bit = SET_PRE_KILL_TIMEOUT;
	}
	if (ms) {
		if (cli_parse_duration_ms(val, ms) || !*ms) {
			snprintf(why, whysz,
				 "takes a duration above 0 and up to an hour (2s, 500ms, 1.5), not '%s'",
				 val);
			return -EINVAL;
		}
	} else if (!strcmp(key, "oom-score-adj")) {
		long v;

		if (cli_parse_long(val, -1000, 1000, &v)) {
			snprintf(why, whysz,
				 "takes a number from -1000 to 1000, not '%s'",
				 val);
			return -EINVAL;
		}
		s->oom_score_adj = (int)v;
		bit = SET_OOM_SCORE_ADJ;
	} else if (!strcmp(key, "exec")) {
		err = set_string(s->exec, sizeof(s->exec), val, why, whysz);
		bit = SET_EXEC;
	} else if (!strcmp(key, "pre-kill")) {
		err = set_string(s->pre_kill, sizeof(s->pre_kill), val, why,
				 whysz);
		bit = SET_PRE_KILL;
	} else if (!strcmp(key, "incidents")) {
		err = set_string(s->incidents, sizeof(s->incidents), val, why,
				 whysz);
		bit = SET_INCIDENTS;
	} else if (!strcmp(key, "incidents-max")) {
		long v;

		if (cli_parse_long(val, 1, 100000, &v)) {
			snprintf(why, whysz,
				 "takes a number from 1 to 100000, not '%s'",
				 val);
			return -EINVAL;
		}
		s->incidents_max = (unsigned int)v;
		bit = SET_INCIDENTS_MAX;
	} else if (!strcmp(key, "avoid")) {
		err = set_regex(s->avoid, sizeof(s->avoid), val, why, whysz);
		bit = SET_AVOID;
	} else if (!strcmp(key, "prefer")) {
		err = set_regex(s->prefer, sizeof(s->prefer), val, why, whysz);
		bit = SET_PREFER;
	} else if (!strcmp(key, "log-json")) {
		err = set_string(s->log_json, sizeof(s->log_json), val, why,
				 whysz);
		bit = SET_LOG_JSON;
	} else if (!strcmp(key, "state")) {
		err = set_string(s->state, sizeof(s->state), val, why, whysz);
		bit = SET_STATE;
	} else if (!strcmp(key, "metrics")) {
		err = set_string(s->metrics, sizeof(s->metrics), val, why,
				 whysz);
		bit = SET_METRICS;
	} else if (!strcmp(key, "syslog")) {
		if (!strcmp(val, "yes") || !strcmp(val, "true") ||
		    !strcmp(val, "1")) {
			s->syslog = true;
		} else if (!strcmp(val, "no") || !strcmp(val, "false") ||
			   !strcmp(val, "0")) {
			s->syslog = false;
		} else {
			snprintf(why, whysz, "takes yes or no, not '%s'", val);
			return -EINVAL;
		}
		bit = SET_SYSLOG;
	} else {
		snprintf(why, whysz, "unknown setting '%s'", key);
		return -EINVAL;
	}
	if (!err)
		s->set |= bit;
	return err;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A systemd unit's name: letters, digits and ":-_.\\@", with a dot. */
static bool unit_name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@");

	return n && !s[n] && strchr(s, '.') && s[0] != '-' && n < 256;
}

/* kill, avoid, prefer, restart in a [cgroup] section: 1 if key is none. */
static int config_rule(struct cfg_cgroup *cg, const char *key,
		       const char *val, char *why, size_t whysz)
{
	bool root = cg->node < 0 && !strcmp(cg->path, "/");

	struct policy_level lv;

	if (!strcmp(key, "kill") && !policy_parse_value(val, &lv))
		return 1;	/* a level */
	if (strcmp(key, "kill") && strcmp(key, "avoid") &&
	    strcmp(key, "prefer") && strcmp(key, "restart") &&
	    strcmp(key, "pressure") && strcmp(key, "needs-pressure") &&
	    strcmp(key, "on-pressure") && strcmp(key, "swap"))
		return 1;
	if (cg->node >= 0) {
		snprintf(why, whysz, "'%s' is for [cgroup PATH] sections, not [node N]",
			 key);
		return -EINVAL;
	}
	if (!strcmp(key, "pressure"))
		return psi_parse(val, &cg->psi, why, whysz);
	if (!strcmp(key, "swap")) {
		if (!strcmp(val, "yes") || !strcmp(val, "no")) {
			cg->swap = !strcmp(val, "yes");
			return 0;
		}
		snprintf(why, whysz, "swap takes yes or no, not '%s'", val);
		return -EINVAL;
	}
	if (!strcmp(key, "needs-pressure") || !strcmp(key, "on-pressure")) {
		unsigned int l = cli_level_parse(val);

		if (!l || l > MEMWATCH_LEVEL_KILL) {
			snprintf(why, whysz,
				 "%s takes a level (notify, reclaim, throttle, freeze, kill), not '%s'",
				 key, val);
			return -EINVAL;
		}
		if (key[0] == 'n')
			cg->needs_pressure = l;
		else
			cg->on_pressure = l;
		return 0;
	}
	if (!strcmp(key, "avoid"))
		return set_regex(cg->avoid, sizeof(cg->avoid), val, why, whysz);
	if (!strcmp(key, "prefer"))
		return set_regex(cg->prefer, sizeof(cg->prefer), val, why,
				 whysz);
	if (!strcmp(key, "restart")) {
		if (root || !unit_name_ok(val)) {
			snprintf(why, whysz, root ?
				 "restart is for a service's cgroup, not the root" :
				 "restart takes a systemd unit name (e.g. web.service), not '%s'",
				 val);
			return -EINVAL;
		}
		snprintf(cg->restart, sizeof(cg->restart), "%s", val);
		return 0;
	}
	if (!strcmp(val, "process")) {
		cg->kill = KILL_PROCESS;
	} else if (!strcmp(val, "cgroup") && !root) {
		cg->kill = KILL_CGROUP;
	} else {
		snprintf(why, whysz, root && !strcmp(val, "cgroup") ?
			 "kill = cgroup would kill every process on the host: not for the root" :
			 "kill takes a level (a percentage or bytes), process or cgroup, not '%s'",
			 val);
		return -EINVAL;
	}
	return 0;
}

/* One "key = value" line of a [cgroup] section. */
static int config_level(struct cfg_cgroup *cg, const char *key,
			const char *val, char *why, size_t whysz)
{
	unsigned int l = cli_level_parse(key);
	int err = config_rule(cg, key, val, why, whysz);

	if (err <= 0)
		return err;
	if (!l) {
		snprintf(why, whysz,
			 "unknown key '%s' (notify, reclaim, throttle, freeze, kill; kill, avoid, prefer, restart; pressure, needs-pressure, on-pressure; swap)",
			 key);
		return -EINVAL;
	}
	if (policy_parse_value(val, &cg->lv[l])) {
		snprintf(why, whysz,
			 "%s takes a percentage (1%% to 100%%) or bytes (at least 4096, e.g. 512M), not '%s'",
			 key, val);
		return -EINVAL;
	}
	return 0;
}

bool cfg_cgroup_empty(const struct cfg_cgroup *cg)
{
	unsigned int l;

	for (l = 1; l <= MEMWATCH_NR_LEVELS; l++)
		if (cg->lv[l].pct || cg->lv[l].bytes)
			return false;
	return true;
}

/* "[node N]": a NUMA node's policy, or -EINVAL. */
static int config_node(struct config *c, const char *arg,
		       struct cfg_cgroup **cur, char *why, size_t whysz)
{
	unsigned int i;
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 0 || n > 1023) {
		snprintf(why, whysz, "[node N] takes a node number (0 to 1023), not '%s'",
			 arg);
		return -EINVAL;
	}
	for (i = 0; i < c->n; i++) {
		if (c->cg[i].node == n) {
			snprintf(why, whysz, "node %ld has two sections", n);
			return -EINVAL;
		}
	}
	if (c->n == CFG_MAX_CGROUPS) {
		snprintf(why, whysz, "more than %d sections", CFG_MAX_CGROUPS);
		return -EINVAL;
	}
	*cur = &c->cg[c->n++];
	memset(*cur, 0, sizeof(**cur));
	snprintf((*cur)->path, sizeof((*cur)->path), "/");
	(*cur)->node = (int)n;
	return 0;
}

/* A "[...]" header: the section it opens, or -EINVAL. */
static int config_section(struct config *c, char *hdr, struct cfg_cgroup **cur,
			  char *why, size_t whysz)
{
	size_t len = strlen(hdr);
	unsigned int i;
	char *name;

	if (len < 2 || hdr[len - 1] != ']') {
		snprintf(why, whysz, "a section header ends with ']'");
		return -EINVAL;
	}
	hdr[len - 1] = '\0';
	name = trim(hdr + 1);
	*cur = NULL;
	if (!strcmp(name, "daemon"))
		return 0;
	if (!strncmp(name, "node", 4) && isspace((unsigned char)name[4]))
		return config_node(c, trim(name + 4), cur, why, whysz);
	if (strncmp(name, "cgroup", 6) || !isspace((unsigned char)name[6])) {
		snprintf(why, whysz,
			 "unknown section '[%s]' ([daemon], [cgroup PATH] or [node N])",
			 name);
		return -EINVAL;
	}
	name = trim(name + 6);
	if (!*name || strlen(name) >= sizeof(c->cg[0].path)) {
		snprintf(why, whysz, "[cgroup PATH] needs a path under 256 characters");
		return -EINVAL;
	}
	for (i = 0; i < c->n; i++) {
		if (c->cg[i].node < 0 && !strcmp(c->cg[i].path, name)) {
			snprintf(why, whysz, "cgroup '%s' has two sections",
				 name);
			return -EINVAL;
		}
	}
	if (c->n == CFG_MAX_CGROUPS) {
		snprintf(why, whysz, "more than %d cgroups", CFG_MAX_CGROUPS);
		return -EINVAL;
	}
	*cur = &c->cg[c->n++];
	memset(*cur, 0, sizeof(**cur));
	snprintf((*cur)->path, sizeof((*cur)->path), "%s", name);
	(*cur)->node = -1;
	return 0;
}

int config_load(const char *path, struct config *c, char *why, size_t whysz)
{
	struct cfg_cgroup *cur = NULL;
	bool in_daemon = false;
	char line[2048], msg[512];
	unsigned int lineno = 0, i;
	FILE *f = fopen(path, "r");
	int err = 0;

	memset(c, 0, sizeof(*c));
	if (!f) {
		err = -errno;
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return err;
	}
	msg[0] = '\0';
	while (!err && fgets(line, sizeof(line), f)) {
		char *s, *eq, *hash;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(msg, sizeof(msg), "line too long");
			err = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			err = config_section(c, s, &cur, msg, sizeof(msg));
			in_daemon = !err && !cur;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(msg, sizeof(msg), "expected 'key = value'");
			err = -EINVAL;
			break;
		}
		*eq = '\0';
		if (cur)
			err = config_level(cur, trim(s), trim(eq + 1), msg,
					   sizeof(msg));
		else if (in_daemon) {
			char reason[400];
			const char *key = trim(s);

			err = settings_set(&c->s, key, trim(eq + 1), reason,
					   sizeof(reason));
			if (err)
				snprintf(msg, sizeof(msg), "%s: %s", key, reason);
		}
		else {
			snprintf(msg, sizeof(msg),
				 "'%s' comes before any [daemon] or [cgroup PATH] section",
				 trim(s));
			err = -EINVAL;
		}
	}
	fclose(f);
	for (i = 0; !err && i < c->n; i++) {
		if ((c->cg[i].needs_pressure || c->cg[i].on_pressure) &&
		    !c->cg[i].psi.pct) {
			snprintf(msg, sizeof(msg),
				 "[cgroup %s] has %s but no 'pressure = some|full PERCENT WINDOW'",
				 c->cg[i].path, c->cg[i].needs_pressure ?
				 "needs-pressure" : "on-pressure");
			lineno = 0;
			err = -EINVAL;
			break;
		}
		if (cfg_cgroup_empty(&c->cg[i]) && !c->cg[i].on_pressure) {
			if (c->cg[i].node >= 0)
				snprintf(msg, sizeof(msg), "[node %d] sets no level",
					 c->cg[i].node);
			else
				snprintf(msg, sizeof(msg),
					 "[cgroup %s] sets no level",
					 c->cg[i].path);
			lineno = 0;
			err = -EINVAL;
		}
	}
	if (err && lineno)
		snprintf(why, whysz, "%s:%u: %s", path, lineno, msg);
	else if (err)
		snprintf(why, whysz, "%s: %s", path, msg);
	return err;
}
