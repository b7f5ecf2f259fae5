// SPDX-License-Identifier: GPL-2.0
/* memctl status, as a user runs it, with the module loaded and not. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "memwatch_util.h"

#define OUTSZ 65536

static char out[OUTSZ], err[OUTSZ];

static int memctl(const char *a1, const char *a2)
{
	char *argv[] = { (char *)mw_memctl_path(), (char *)a1, (char *)a2,
			 NULL };

	return mw_run(argv, out, sizeof(out), err, sizeof(err));
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
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
	EXPECT_NE(NULL, strstr(out, "__mem_cgroup_charge"));
	EXPECT_NE(NULL, strstr(out, "tables:"));
	EXPECT_STREQ("", err);
}

TEST_F(memctl, status_json_when_loaded)
{
	static const char filter[] =
		".version == $v and .family_version == 1"
		" and (.hooks | length) >= 1"
		" and all(.hooks[]; .attached == true"
		" and (.kind == \"kprobe\" or .kind == \"kretprobe\")"
		" and (.hits | type) == \"number\")"
		" and ([.tables[].name] | sort) == [\"pages\", \"procs\"]"
		" and all(.tables[]; .capacity > 0 and .bytes > 0)";
	static const char file[] = "/tmp/memctl-status.json";
	char version[32];
	char *jq[] = { "jq", "-e", "--arg", "v", version, (char *)filter,
		       (char *)file, NULL };
	FILE *f;

	read_sysfs_version(version, sizeof(version));
	ASSERT_EQ(0, memctl("status", "--json")) TH_LOG("stderr: %s", err);
	/* Feed memctl's output to jq through a file: mw_run has no stdin. */
	f = fopen(file, "w");
	ASSERT_NE(NULL, f);
	fputs(out, f);
	fclose(f);
	EXPECT_EQ(0, mw_run(jq, out, sizeof(out), err, sizeof(err)))
		TH_LOG("jq: %s%s", out, err);
	unlink(file);
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
	EXPECT_EQ(1, lines(err)) TH_LOG("stderr: %s", err);
	EXPECT_STREQ("", out);
	EXPECT_EQ(2, memctl("status", "extra"));
	EXPECT_EQ(1, lines(err)) TH_LOG("stderr: %s", err);
	EXPECT_EQ(2, memctl("no-such-command", NULL));
	EXPECT_EQ(1, lines(err)) TH_LOG("stderr: %s", err);
}

TEST_F(memctl, help)
{
	EXPECT_EQ(0, memctl("status", "--help"));
	EXPECT_NE(NULL, strstr(out, "--json"));
	EXPECT_EQ(0, memctl("--help", NULL));
	EXPECT_NE(NULL, strstr(out, "status"));
}

TEST_HARNESS_MAIN
