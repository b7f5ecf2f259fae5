// SPDX-License-Identifier: GPL-2.0
/* Loading and unloading memwatch.ko, and what each leaves behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/memwatch.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

/* Whether the family is registered, or -errno if that cannot be told. */
static int family_present(void)
{
	uint32_t version, grp;
	uint16_t id;
	int fd, err;

	fd = mw_nl_open();
	if (fd < 0)
		return fd;
	err = mw_nl_family(fd, MEMWATCH_GENL_NAME, &id, &version, &grp);
	close(fd);
	if (err == -ENOENT)
		return 0;
	return err ? err : 1;
}

FIXTURE(module) {
	bool was_loaded;
};

FIXTURE_SETUP(module)
{
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(false));
}

FIXTURE_TEARDOWN(module)
{
	mw_module_ensure(false);
	if (self->was_loaded)
		mw_module_ensure(true);
}

/* A child that faults in and frees anonymous pages until killed. */
static pid_t start_faulting(void)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	for (;;) {
		void *p = mw_alloc_on(8 << 20, -1);

		if (p)
			munmap(p, 8 << 20);
	}
}

/* The hooks are attached and detached while another task faults pages. */
TEST_F(module, load_unload_20_times)
{
	pid_t child;
	int i, status;

	child = start_faulting();
	ASSERT_LT(0, child);
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, mw_module_load("")) TH_LOG("load %d", i);
		ASSERT_TRUE(mw_module_loaded());
		ASSERT_EQ(1, family_present()) TH_LOG("load %d", i);
		ASSERT_EQ(0, mw_module_unload()) TH_LOG("unload %d", i);
		ASSERT_FALSE(mw_module_loaded());
		ASSERT_EQ(0, family_present()) TH_LOG("unload %d", i);
	}
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
}

TEST_F(module, second_load_is_refused)
{
	ASSERT_EQ(0, mw_module_load(""));
	ASSERT_EQ(-EEXIST, mw_module_load(""));
	ASSERT_EQ(1, family_present());
}

TEST_F(module, malformed_parameter_is_refused)
{
	ASSERT_EQ(-EINVAL, mw_module_load("track=maybe"));
	ASSERT_FALSE(mw_module_loaded());
	ASSERT_EQ(0, family_present());
}

TEST_F(module, track_parameter_is_reported)
{
	char buf[8] = "";
	FILE *f;

	ASSERT_EQ(0, mw_module_load("track=0"));
	f = fopen("/sys/module/memwatch/parameters/track", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT_STREQ("N\n", buf);
}

TEST_HARNESS_MAIN
