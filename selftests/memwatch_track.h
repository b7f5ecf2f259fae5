/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture `track` of memwatch_track and memwatch_thp: the module
 * loaded (and left as it was found) and a raw generic netlink socket on
 * its family, into which PROC_GET dumps the records. Its teardown also
 * puts back khugepaged's knobs, if a huge-page test changed them.
 */
#ifndef MEMWATCH_TRACK_H
#define MEMWATCH_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch_fixture.h"
#include "memwatch_util.h"

#define MIB (1024UL * 1024)

/*
 * Tests that move hundreds of MiB take a second or two in our guest, but
 * under emulation each page is cleared byte by byte (rep stosb, Debian's
 * init_on_alloc), and on a slow or busy host one of them ran past
 * kselftest's default 30 s: in CI once, and here in 2 of 5 runs of these
 * suites, its child still allocating (NMI backtrace: readahead into
 * clear_page), not stuck. On sid's 7.2 in the kprobe mode, with a second
 * guest beside it, the first 200 MiB test ran past 120 s once (alone it
 * passed, the whole kprobe run in 3.5 minutes). A hang is still caught,
 * at 240 s.
 */
#define MW_SLOW 240

FIXTURE_DATA(track) {
	int fd;
	uint16_t id;
	bool was_loaded;
	struct mw_nl_reply r;
	struct mw_procs recs;
};

int track_fx_setup(FIXTURE_DATA(track) *self);
void track_fx_teardown(FIXTURE_DATA(track) *self, bool passed);

/*
 * khugepaged's knobs as the test found them ("" if untouched): a test
 * that changes one saves it here, and the teardown writes it back.
 */
extern char thp_enabled[32], thp_sleep[32];
extern const char thp_enabled_path[], thp_sleep_path[];

/* Dump with the filters that are not 0: 0 or -errno. */
int dump(FIXTURE_DATA(track) *self, uint32_t pid, uint64_t cgid);
/* Wait for pid's own exit (kill first): its exit status, or 128 + signal. */
int wait_exit(pid_t pid, bool kill_first);
int reap(pid_t pid);

#endif
