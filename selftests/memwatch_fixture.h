/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One fixture for several test programs (memwatch_track and memwatch_thp,
 * memctl_daemon and its siblings, ...).
 *
 * kselftest_harness.h defines its runner in every file that includes it,
 * so only a program's own file may include it. The fixture's data, setup
 * and teardown live in a file of their own (NAME_fx.c) that does not:
 *
 *   NAME.h	  FIXTURE_DATA(NAME) { ... }; and what NAME_fx.c offers:
 *		  int NAME_fx_setup(FIXTURE_DATA(NAME) *self), 0 or -1
 *		  having said why on stderr; and
 *		  void NAME_fx_teardown(FIXTURE_DATA(NAME) *self, bool passed)
 *   NAME_fx.c	  those, and the helpers every program of the fixture uses
 *   program.c	  #include "kselftest_harness.h", then NAME.h, then
 *		  MW_FIXTURE(NAME); and its tests, TEST_F(NAME, ...)
 *
 * FIXTURE_DATA() is the harness's name for the fixture's struct; where the
 * harness is not included it is spelled as the harness spells it (a
 * mismatch would not compile: the harness's TEST_F needs the complete
 * type).
 */
#ifndef MEMWATCH_FIXTURE_H
#define MEMWATCH_FIXTURE_H

#include <stdbool.h>

#ifndef FIXTURE_DATA
#define FIXTURE_DATA(name) struct _test_data_##name
#endif

/* In a program's file: register the fixture, set it up, tear it down. */
#define MW_FIXTURE(name)						\
	FIXTURE(name);							\
	FIXTURE_SETUP(name)						\
	{								\
		ASSERT_EQ(0, name##_fx_setup(self));			\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		name##_fx_teardown(self, _metadata->passed);		\
	}

#endif
