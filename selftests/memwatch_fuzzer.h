/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memwatch_fuzz's engine (memwatch_fuzzer.c): it builds random and mutated
 * memwatch messages from a seeded generator, sends them, and checks every
 * answer against the protocol's rules. The first broken rule goes into
 * struct fuzz's failure, with counters of what happened, for the tests to
 * assert on; the engine itself does not need the harness.
 *
 * The message sequence depends on the seed alone, not on the answers, so
 * MEMWATCH_FUZZ_SEED replays a run.
 */
#ifndef MEMWATCH_FUZZER_H
#define MEMWATCH_FUZZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A message's buffer, and a read of the replies. */
#define FUZZ_BUFSZ 65536

struct fuzz {
	int fd;
	uint16_t family;
	uint32_t seq;
	uint64_t rng;
	bool root;
	uint64_t cgid;		/* the test's cgroup, a valid target */
	pid_t hidden;		/* a root process an unprivileged dump must not show */
	char snapshot[8192];	/* the policies, as last known */
	/* What happened. */
	unsigned long sent, acked, dumped, records, interrupted;
	unsigned long errnos[134];
	unsigned long with_msg, changes;
	char failure[512];	/* the first broken rule, or "" */
};

/* A message being built: header, genl header, attributes. */
struct msg {
	char buf[FUZZ_BUFSZ];
	size_t len;
};

/* A memwatch socket with extended ACKs and a 5 s receive timeout, or < 0. */
int fuzz_open_socket(void);

/* Build in m a message the family accepts (as root); returns its command. */
uint8_t fuzz_valid_message(struct fuzz *f, struct msg *m);

/*
 * Send m on fd and read to its end: the ACK, the error, or NLMSG_DONE.
 * Returns the kernel's errno (0 for success), -1 on no answer; *msgp is the
 * extack message, or NULL. half: read one buffer of the reply, then stop.
 */
int fuzz_exchange(struct fuzz *f, int fd, struct msg *m, const char **msgp,
		  bool half);

/* The policies as a string (8192 bytes) in out: 0, or the dump's error. */
int fuzz_snapshot(struct fuzz *f, char *out);

/* Send n messages; f->failure says what broke, if anything. */
void fuzz_run(struct fuzz *f, unsigned long n);

/* $MEMWATCH_FUZZ_N, the factor of the message counts (default 1.0). */
double fuzz_scale(void);
/* $MEMWATCH_FUZZ_SEED, or one from the clock and the pid. */
uint64_t fuzz_seed(void);

#endif
