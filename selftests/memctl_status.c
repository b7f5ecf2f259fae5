// SPDX-License-Identifier: GPL-2.0
/* memctl status, as a user runs it, with the module loaded and not. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

static char out[MW_OUTSZ], err[MW_OUTSZ];

static int memctl(const char *a1, const char *a2)
{
	return mw_memctl(out, err, a1, a2, MW_END);
}

static void read_sysfs_version(char *buf, size_t size)
{
	FILE *f = fopen("/sys/module/memwatch/version", "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, size, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
}

FIXTURE(memctl) {
	bool was_loaded;
};

FIXTURE_SETUP(memctl)
{
	self->was_loaded = mw_module_loaded();
	ASSERT_EQ(0, mw_module_ensure(true));
	ASSERT_EQ(0, access(mw_memctl_path(), X_OK))
		TH_LOG("%s: %s", mw_memctl_path(), strerror(errno));
}

FIXTURE_TEARDOWN(memctl)
{
	if (mw_reap_group())
		fprintf(stderr, "# teardown: killed what the test left running\n");
	mw_module_ensure(self->was_loaded);
}

TEST_F(memctl, status_text_when_loaded)
{
	char version[32], want[64];

	read_sysfs_version(version, sizeof(version));
	ASSERT_NE(0, strlen(version));
	ASSERT_EQ(0, memctl("status", NULL)) TH_LOG("stderr: %s", err);
	snprintf(want, sizeof(want), "memwatch %s ", version);
	EXPECT_EQ(0, strncmp(out, want, strlen(want))) TH_LOG("stdout: %s", out);
	EXPECT_TRUE(strstr(out, "mm_page_alloc") ||
		    strstr(out, "__mem_cgroup_charge")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "tables:"));
	EXPECT_STREQ("", err);
}

TEST_F(memctl, status_json_when_loaded)
{
	static const char filter[] =
		".version == $v and .family_version == 1"
		" and (.hooks | length) >= 1"
		" and all(.hooks[]; .attached == true"
		" and (.kind == \"kprobe\" or .kind == \"kretprobe\""
		" or .kind == \"tracepoint\")"
		" and (.hits | type) == \"number\")"
		" and ([.tables[].name] | sort) =="
		" [\"events\", \"node-policies\", \"pages\", \"policies\", \"procs\"]"
		" and all(.tables[]; .capacity > 0 and .bytes > 0)"
		" and (.policies | type) == \"array\""
		" and (.events_sent | type) == \"number\""
		" and (.events_dropped | type) == \"number\"";
	char version[32];

	read_sysfs_version(version, sizeof(version));
	ASSERT_EQ(0, memctl("status", "--json")) TH_LOG("stderr: %s", err);
	EXPECT_EQ(0, mw_jq(out, filter, version));
}

TEST_F(memctl, status_when_not_loaded)
{
	ASSERT_EQ(0, mw_module_ensure(false));
	EXPECT_EQ(1, memctl("status", NULL));
	EXPECT_NE(NULL, strstr(err, "memwatch module not loaded"))
		TH_LOG("stderr: %s", err);
	EXPECT_STREQ("", out);
	EXPECT_EQ(1, memctl("status", "--json"));
	EXPECT_NE(NULL, strstr(err, "memwatch module not loaded"));
	EXPECT_STREQ("", out);
}

TEST_F(memctl, bad_argument_is_one_line_and_status_2)
{
	EXPECT_EQ(2, memctl("status", "--no-such-option"));
	EXPECT_EQ(1, mw_lines(err)) TH_LOG("stderr: %s", err);
	EXPECT_STREQ("", out);
	EXPECT_EQ(2, memctl("status", "extra"));
	EXPECT_EQ(1, mw_lines(err)) TH_LOG("stderr: %s", err);
	EXPECT_EQ(2, memctl("no-such-command", NULL));
	EXPECT_EQ(1, mw_lines(err)) TH_LOG("stderr: %s", err);
}

TEST_F(memctl, help)
{
	EXPECT_EQ(0, memctl("status", "--help"));
	EXPECT_NE(NULL, strstr(out, "--json"));
	EXPECT_EQ(0, memctl("--help", NULL));
	EXPECT_NE(NULL, strstr(out, "status"));
}

TEST_HARNESS_MAIN
