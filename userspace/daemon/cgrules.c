// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cgroup kill rules. Two tables: the one in force and the one a
 * reload builds; a reload that fails leaves the old one. The ladder
 * reads the table in force on the daemon's one thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgrules.h"

struct cgrule_set {
	unsigned int n;
	struct cgrule r[CFG_MAX_CGROUPS];
	regex_t avoid[CFG_MAX_CGROUPS], prefer[CFG_MAX_CGROUPS];
	char restart[CFG_MAX_CGROUPS][256];
	char path[CFG_MAX_CGROUPS][256];
};

static struct cgrule_set cgrule_sets[2];
static struct cgrule_set *cgrules_now = &cgrule_sets[0];

static void cgrules_free_set(struct cgrule_set *set)
{
	unsigned int i;

	for (i = 0; i < set->n; i++) {
		if (set->r[i].psi_fd >= 0)
			close(set->r[i].psi_fd);
		if (set->r[i].avoid)
			regfree(&set->avoid[i]);
		if (set->r[i].prefer)
			regfree(&set->prefer[i]);
	}
	set->n = 0;
}

static int cgrules_compile(regex_t *re, const char *src, const char *path,
			   const char *key, char *why, size_t whysz)
{
	if (!regcomp(re, src, REG_EXTENDED | REG_NOSUB))
		return 0;
	snprintf(why, whysz, "[cgroup %s] %s: not a regular expression", path,
		 key);
	return -EINVAL;
}

int cgrules_load(const struct config *c, char *why, size_t whysz)
{
	struct cgrule_set *set = cgrules_now == &cgrule_sets[0] ?
				 &cgrule_sets[1] : &cgrule_sets[0];
	char rel[4096];
	unsigned int i;
	int err = 0;

	cgrules_free_set(set);
	for (i = 0; i < c->n && !err; i++) {
		const struct cfg_cgroup *cg = &c->cg[i];
		struct cgrule *r = &set->r[set->n];
		uint64_t id;

		if (cg->node >= 0 || (cg->kill == KILL_DEFAULT &&
				      !cg->avoid[0] && !cg->prefer[0] &&
				      !cg->restart[0] && !cg->psi.pct))
			continue;
		if (cg_resolve(cg->path, &id, rel, sizeof(rel)))
			continue;	/* not there: no policy either */
		memset(r, 0, sizeof(*r));
		r->psi_fd = -1;
		r->id = id;
		snprintf(set->path[set->n], sizeof(set->path[0]), "%.255s", rel);
		r->path = set->path[set->n];
		r->kill = cg->kill;
		r->psi = cg->psi;
		r->needs_pressure = cg->needs_pressure;
		r->on_pressure = cg->on_pressure;
		if (cg->psi.pct) {
			r->psi_fd = psi_open(rel, &cg->psi);
			if (r->psi_fd < 0) {
				snprintf(why, whysz,
					 "[cgroup %s] pressure: cannot set the trigger: %s",
					 cg->path, strerror(-r->psi_fd));
				r->psi_fd = -1;
				err = -EINVAL;
				set->n++;
				break;
			}
		}
		snprintf(set->restart[set->n], sizeof(set->restart[0]), "%s",
			 cg->restart);
		r->restart = set->restart[set->n];
		if (cg->avoid[0]) {
			err = cgrules_compile(&set->avoid[set->n], cg->avoid,
					      cg->path, "avoid", why, whysz);
			if (!err)
				r->avoid = &set->avoid[set->n];
		}
		if (!err && cg->prefer[0]) {
			err = cgrules_compile(&set->prefer[set->n], cg->prefer,
					      cg->path, "prefer", why, whysz);
			if (!err)
				r->prefer = &set->prefer[set->n];
		}
		set->n++;
	}
	if (err) {
		cgrules_free_set(set);
		return err;
	}
	cgrules_free_set(cgrules_now);
	cgrules_now = set;
	return 0;
}

const struct cgrule *cgrules_find(uint64_t id)
{
	unsigned int i;

	for (i = 0; i < cgrules_now->n; i++)
		if (cgrules_now->r[i].id == id)
			return &cgrules_now->r[i];
	return NULL;
}

int cgrules_pollfds(struct pollfd *fds, int max)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < cgrules_now->n && n < max; i++) {
		if (cgrules_now->r[i].psi_fd < 0)
			continue;
		fds[n].fd = cgrules_now->r[i].psi_fd;
		fds[n].events = POLLPRI;
		fds[n++].revents = 0;
	}
	return n;
}

const struct cgrule *cgrules_by_fd(int fd)
{
	unsigned int i;

	for (i = 0; i < cgrules_now->n; i++)
		if (cgrules_now->r[i].psi_fd == fd)
			return &cgrules_now->r[i];
	return NULL;
}

void cgrules_free(void)
{
	cgrules_free_set(&cgrule_sets[0]);
	cgrules_free_set(&cgrule_sets[1]);
}
