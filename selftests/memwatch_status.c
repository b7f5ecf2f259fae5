// SPDX-License-Identifier: GPL-2.0
/* The generic netlink family and its STATUS command, on a raw socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define MAX_HOOKS 16

struct hook {
	char name[64];
	uint8_t attached;
	uint64_t hits;
};

struct status {
	char version[32];
	int n_hooks;
	struct hook hooks[MAX_HOOKS];
	bool has_tables;
};

static void parse_status(const struct mw_nl_reply *r, struct status *st)
{
	const struct nlattr *a, *h, *f;
	int rem;

	memset(st, 0, sizeof(*st));
	a = mw_nla_find(r->attrs, r->len, MEMWATCH_A_STATUS_VERSION);
	if (a)
		snprintf(st->version, sizeof(st->version), "%s",
			 (const char *)mw_nla_data(a));
	st->has_tables = mw_nla_find(r->attrs, r->len,
				     MEMWATCH_A_STATUS_TABLES) != NULL;
	a = mw_nla_find(r->attrs, r->len, MEMWATCH_A_STATUS_HOOKS);
	if (!a)
		return;
	mw_nla_for_each(h, mw_nla_data(a), mw_nla_len(a), rem) {
		struct hook *hk;

		if (st->n_hooks == MAX_HOOKS)
			break;
		hk = &st->hooks[st->n_hooks++];
		f = mw_nla_find(mw_nla_data(h), mw_nla_len(h),
				MEMWATCH_A_HOOK_NAME);
		if (f)
			snprintf(hk->name, sizeof(hk->name), "%s",
				 (const char *)mw_nla_data(f));
		f = mw_nla_find(mw_nla_data(h), mw_nla_len(h),
				MEMWATCH_A_HOOK_ATTACHED);
		hk->attached = f ? *(const uint8_t *)mw_nla_data(f) : 0xff;
		f = mw_nla_find(mw_nla_data(h), mw_nla_len(h),
				MEMWATCH_A_HOOK_HITS);
		if (f)
			memcpy(&hk->hits, mw_nla_data(f), sizeof(hk->hits));
	}
}

static uint64_t hook_hits(const struct status *st, const char *name)
{
	int i;

	for (i = 0; i < st->n_hooks; i++)
		if (!strcmp(st->hooks[i].name, name))
			return st->hooks[i].hits;
	return UINT64_MAX;
}

FIXTURE(family) {
	int fd;
	uint16_t id;
	uint32_t version, events_grp;
	bool was_loaded;
	struct mw_nl_reply r;
};

FIXTURE_SETUP(family)
{
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	self->fd = mw_nl_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mw_nl_family(self->fd, MEMWATCH_GENL_NAME, &self->id,
				  &self->version, &self->events_grp));
}

FIXTURE_TEARDOWN(family)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	close(self->fd);
	mw_module_ensure(self->was_loaded);
}

TEST_F(family, has_version_and_events_group)
{
	EXPECT_EQ(MEMWATCH_GENL_VERSION, self->version);
	EXPECT_NE(0, self->events_grp);
}

TEST_F(family, status_reports_module_version)
{
	struct status st;
	char sysfs[32] = "";
	FILE *f;

	ASSERT_EQ(0, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS, 0,
				NULL, 0, &self->r));
	parse_status(&self->r, &st);
	f = fopen("/sys/module/memwatch/version", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(sysfs, sizeof(sysfs), f));
	fclose(f);
	sysfs[strcspn(sysfs, "\n")] = '\0';
	ASSERT_STREQ(sysfs, st.version);
	ASSERT_TRUE(st.has_tables);
}

TEST_F(family, status_hooks_attached_and_counting)
{
	const size_t bytes = 16 << 20, pages = bytes / 4096;
	const char *got = "__mem_cgroup_charge", *gone = "uncharge_folio";
	struct status before, after;
	uint64_t un_before, un_after;
	void *p;
	int i;

	ASSERT_EQ(0, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS, 0,
				NULL, 0, &self->r));
	parse_status(&self->r, &before);
	ASSERT_LE(1, before.n_hooks);
	for (i = 0; i < before.n_hooks; i++)
		EXPECT_EQ(1, before.hooks[i].attached)
			TH_LOG("%s", before.hooks[i].name);

	/* The mode loaded: its hooks for a page's start and end. */
	if (hook_hits(&before, "mm_page_alloc") != UINT64_MAX) {
		got = "mm_page_alloc";
		gone = "mm_page_free";
	}
	ASSERT_NE(UINT64_MAX, hook_hits(&before, got));
	ASSERT_NE(UINT64_MAX, hook_hits(&before, gone));

	/* Every 4 KiB anonymous page faulted in is seen once... */
	p = mw_alloc_on(bytes, -1);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS, 0,
				NULL, 0, &self->r));
	parse_status(&self->r, &after);
	EXPECT_LE(pages, hook_hits(&after, got) - hook_hits(&before, got))
		TH_LOG("%s", got);

	/*
	 * ...and again when unmapped. munmap() drains this CPU's LRU-add
	 * batch, not another's: a page still held there (the test ran on
	 * another CPU for a while) is freed when that drains, so drain all.
	 */
	un_before = hook_hits(&after, gone);
	munmap(p, bytes);
	ASSERT_EQ(0, mw_drain_lru());
	ASSERT_EQ(0, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS, 0,
				NULL, 0, &self->r));
	parse_status(&self->r, &after);
	un_after = hook_hits(&after, gone);
	EXPECT_LE(pages, un_after - un_before) TH_LOG("%s", gone);
}

TEST_F(family, status_rejects_attributes)
{
	uint32_t v = 1;
	char attrs[64];
	size_t len = 0;

	/* A known attribute number the command does not take... */
	ASSERT_TRUE(mw_nla_put(attrs, sizeof(attrs), &len,
			       MEMWATCH_A_STATUS_VERSION, &v, sizeof(v)));
	EXPECT_EQ(-EINVAL, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS,
				      0, attrs, len, &self->r));
	EXPECT_NE(0, strlen(self->r.extack)) TH_LOG("no extack message");
	/* ...and one past every attribute set. */
	len = 0;
	ASSERT_TRUE(mw_nla_put(attrs, sizeof(attrs), &len, 200, &v,
			       sizeof(v)));
	EXPECT_EQ(-EINVAL, mw_nl_xfer(self->fd, self->id, MEMWATCH_CMD_STATUS,
				      0, attrs, len, &self->r));
	EXPECT_NE(0, strlen(self->r.extack)) TH_LOG("no extack message");
}

TEST_F(family, unknown_command_is_refused)
{
	EXPECT_EQ(-EOPNOTSUPP, mw_nl_xfer(self->fd, self->id, 200, 0, NULL, 0,
					  &self->r));
	EXPECT_EQ(-EOPNOTSUPP, mw_nl_xfer(self->fd, self->id,
					  MEMWATCH_CMD_UNSPEC, 0, NULL, 0,
					  &self->r));
}

TEST_F(family, status_works_unprivileged)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (mw_become_nobody())
			_exit(2);
		fd = mw_nl_open();
		if (fd < 0)
			_exit(3);
		_exit(mw_nl_xfer(fd, self->id, MEMWATCH_CMD_STATUS, 0,
				 NULL, 0, &self->r) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
