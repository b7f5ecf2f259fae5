// SPDX-License-Identifier: GPL-2.0
/*
 * memwatch_fuzz's engine (see memwatch_fuzzer.h): the messages, their
 * exchange with the kernel, and the rules every answer must keep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/memwatch.h>

#include "memwatch_fuzzer.h"
#include "memwatch_util.h"

#define CHECK_EVERY 500

static uint64_t rnd(struct fuzz *f)
{
	/* xorshift64* */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned int below(struct fuzz *f, unsigned int n)
{
	return n ? rnd(f) % n : 0;
}

static void fail(struct fuzz *f, const char *fmt, ...)
{
	va_list ap;

	if (f->failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->failure, sizeof(f->failure), fmt, ap);
	va_end(ap);
}

int fuzz_open_socket(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int one = 1, fd = mw_nl_open();

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void msg_init(struct msg *m, struct fuzz *f, uint8_t cmd,
		     uint16_t flags)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g = NLMSG_DATA(h);

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = f->family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++f->seq;
	g->cmd = cmd;
	g->version = MEMWATCH_GENL_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	mw_nla_put(m->buf, sizeof(m->buf) - 8, &m->len, type, data, len);
}

static void put_u64(struct msg *m, uint16_t type, uint64_t v)
{
	put(m, type, &v, sizeof(v));
}

static void random_bytes(struct fuzz *f, char *p, size_t n)
{
	while (n--)
		*p++ = rnd(f);
}

/* Attributes of any type, size and nesting, some of them lying. */
static void soup(struct fuzz *f, struct msg *m, int depth)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 16 };
	int n = below(f, 6), i;

	for (i = 0; i < n && m->len < FUZZ_BUFSZ / 2; i++) {
		uint16_t type = below(f, 4) ? below(f, 20) : rnd(f);
		char data[300];
		size_t len;

		if (depth < 3 && !below(f, 4)) {
			int nest = mw_nla_nest_start(m->buf, FUZZ_BUFSZ / 2,
						     &m->len, type);

			if (nest < 0)
				return;
			if (below(f, 3))	/* some without the flag */
				((struct nlattr *)(m->buf + nest))->nla_type &=
					~NLA_F_NESTED;
			soup(f, m, depth + 1);
			mw_nla_nest_end(m->buf, nest, m->len);
			continue;
		}
		len = below(f, 3) ? sizes[below(f, 11)] : below(f, sizeof(data));
		random_bytes(f, data, len);
		put(m, type, data, len);
	}
}

/* A message the family accepts (as root), to be mutated. */
uint8_t fuzz_valid_message(struct fuzz *f, struct msg *m)
{
	int which = below(f, 6), nest, i;
	uint32_t pid = getpid();
	bool bytes;

	switch (which) {
	case 0:
		msg_init(m, f, MEMWATCH_CMD_STATUS, 0);
		break;
	case 1:
		msg_init(m, f, MEMWATCH_CMD_PROC_GET, NLM_F_DUMP);
		if (below(f, 2))
			put(m, MEMWATCH_A_PROC_PID, &pid, sizeof(pid));
		else
			put_u64(m, MEMWATCH_A_PROC_CGROUP_ID, f->cgid);
		break;
	case 2:
	case 3:
		msg_init(m, f, MEMWATCH_CMD_POLICY_SET, 0);
		put_u64(m, MEMWATCH_A_POLICY_CGROUP_ID, f->cgid);
		nest = mw_nla_nest_start(m->buf, FUZZ_BUFSZ, &m->len,
					 MEMWATCH_A_POLICY_WMARKS);
		bytes = below(f, 2);
		for (i = 1; i <= 1 + (int)below(f, 5); i++) {
			uint8_t level = i;
			uint32_t pct = 10 + 15 * i;
			int w;

			w = mw_nla_nest_start(m->buf, FUZZ_BUFSZ, &m->len,
					      MEMWATCH_A_POLICY_WMARK);
			put(m, MEMWATCH_A_WMARK_LEVEL, &level, 1);
			if (!bytes)
				put(m, MEMWATCH_A_WMARK_PERCENT, &pct, 4);
			else
				put_u64(m, MEMWATCH_A_WMARK_BYTES,
					(uint64_t)pct << 20);
			mw_nla_nest_end(m->buf, w, m->len);
		}
		mw_nla_nest_end(m->buf, nest, m->len);
		break;
	case 4:
		msg_init(m, f, MEMWATCH_CMD_POLICY_DEL, 0);
		put_u64(m, MEMWATCH_A_POLICY_CGROUP_ID, f->cgid);
		break;
	default:
		msg_init(m, f, MEMWATCH_CMD_POLICY_GET, NLM_F_DUMP);
		break;
	}
	return ((struct genlmsghdr *)NLMSG_DATA((struct nlmsghdr *)m->buf))->cmd;
}

/* One to three changes to the attributes of a valid message. */
static void mutate(struct fuzz *f, struct msg *m)
{
	size_t start = NLMSG_HDRLEN + GENL_HDRLEN;
	int n = 1 + below(f, 3);

	while (n--) {
		size_t span = m->len - start;

		switch (below(f, 7)) {
		case 0:		/* flip bits */
			if (span)
				m->buf[start + below(f, span)] ^= 1 << below(f, 8);
			break;
		case 1:		/* truncate */
			m->len = start + below(f, span + 1);
			break;
		case 2:		/* a random byte anywhere in the attributes */
			if (span)
				m->buf[start + below(f, span)] = rnd(f);
			break;
		case 3:		/* garbage after */
			soup(f, m, 0);
			break;
		case 4:		/* an attribute's length lies */
			if (span >= 4) {
				struct nlattr *a = (struct nlattr *)(m->buf + start +
						(below(f, span / 4) * 4));

				a->nla_len = below(f, 2) ? below(f, 4) : rnd(f);
			}
			break;
		case 5:		/* oversized: one attribute of up to 32 KiB */
			if (m->len < FUZZ_BUFSZ / 2) {
				size_t len = below(f, 32768);

				random_bytes(f, m->buf + m->len + NLA_HDRLEN, len);
				mw_nla_put(m->buf, FUZZ_BUFSZ, &m->len,
					   below(f, 12), m->buf + m->len + NLA_HDRLEN,
					   len);
			}
			break;
		default:	/* another command, or dump flag toggled */
			if (below(f, 2))
				((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->cmd =
					below(f, 9);
			else
				((struct nlmsghdr *)m->buf)->nlmsg_flags ^=
					NLM_F_DUMP;
			break;
		}
	}
}

static bool allowed_errno(int e)
{
	switch (e) {
	case EINVAL: case EPERM: case ENOENT: case EOPNOTSUPP: case ENOSPC:
	case ERANGE: case EMSGSIZE: case EBUSY: case E2BIG:
		return true;
	}
	return false;
}

/* The extack message in an NLMSG_ERROR or NLMSG_DONE, or NULL. */
static const char *extack_msg(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const struct nlattr *a;
	size_t off;
	int rem;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (h->nlmsg_type == NLMSG_DONE)
		off = NLMSG_HDRLEN + sizeof(int);
	else if (h->nlmsg_flags & NLM_F_CAPPED)
		off = NLMSG_HDRLEN + sizeof(*e);
	else
		off = NLMSG_HDRLEN + sizeof(*e) + e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off > h->nlmsg_len)
		return NULL;
	mw_nla_for_each(a, (const char *)h + NLMSG_ALIGN(off),
			(int)h->nlmsg_len - (int)NLMSG_ALIGN(off), rem)
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
			return mw_nla_data(a);
	return NULL;
}

/* An unprivileged dump must show only the reader's own processes. */
static void check_record(struct fuzz *f, const struct nlmsghdr *h)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	const void *attrs = (const char *)g + GENL_HDRLEN;
	int len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	const struct nlattr *a;
	char path[32];
	struct stat st;
	uint32_t pid;

	f->records++;
	if (f->root || g->cmd != MEMWATCH_CMD_PROC_GET)
		return;
	a = mw_nla_find(attrs, len, MEMWATCH_A_PROC_PID);
	pid = a ? *(const uint32_t *)mw_nla_data(a) : 0;
	if (!pid || pid == (uint32_t)f->hidden) {
		fail(f, "an unprivileged dump showed pid %u", pid);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%u", pid);
	if (!stat(path, &st) && st.st_uid != getuid())
		fail(f, "an unprivileged dump showed pid %u of uid %u", pid,
		     st.st_uid);
}

/*
 * Send m on fd and read to its end: the ACK, the error, or NLMSG_DONE.
 * Returns the kernel's errno (0 for success), -1 on no answer.
 */
int fuzz_exchange(struct fuzz *f, int fd, struct msg *m, const char **msgp,
		  bool half)
{
	static char buf[FUZZ_BUFSZ];
	struct nlmsghdr *sent = (struct nlmsghdr *)m->buf;
	uint32_t seq = sent->nlmsg_seq;
	static char text[256];

	sent->nlmsg_len = m->len;
	*msgp = NULL;
	f->sent++;
	if (send(fd, m->buf, m->len, 0) < 0)
		return errno;	/* EMSGSIZE, ... : the socket refused */
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0)
			return -1;
		if (half) {
			f->interrupted++;
			return 0;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR ||
			    h->nlmsg_type == NLMSG_DONE) {
				int err = h->nlmsg_type == NLMSG_DONE ?
					-*(int *)NLMSG_DATA(h) :
					-((struct nlmsgerr *)NLMSG_DATA(h))->error;
				const char *s = extack_msg(h);

				if (s) {
					snprintf(text, sizeof(text), "%s", s);
					*msgp = text;
				}
				if (h->nlmsg_type == NLMSG_DONE)
					f->dumped++;
				return err;
			}
			check_record(f, h);
		}
	}
}

/* The policies as a string: "id level=pct/bytes ..." per line, in order. */
static void snapshot_rec(const void *attrs, int len, void *arg)
{
	char *s = arg, line[256];
	const struct nlattr *wm = mw_nla_find(attrs, len,
					      MEMWATCH_A_POLICY_WMARKS);
	size_t n;

	n = snprintf(line, sizeof(line), "%llu",
		     (unsigned long long)mw_nla_u64(attrs, len,
						    MEMWATCH_A_POLICY_CGROUP_ID));
	if (wm) {
		const struct nlattr *w;
		int rem;

		mw_nla_for_each(w, mw_nla_data(wm), mw_nla_len(wm), rem) {
			const struct nlattr *pct = mw_nla_find(mw_nla_data(w),
					mw_nla_len(w), MEMWATCH_A_WMARK_PERCENT);

			n += snprintf(line + n, sizeof(line) - n, " %u=%u/%llu",
				      mw_nla_u8(mw_nla_data(w), mw_nla_len(w),
						MEMWATCH_A_WMARK_LEVEL),
				      pct ? *(const uint32_t *)mw_nla_data(pct) : 0,
				      (unsigned long long)mw_nla_u64(mw_nla_data(w),
						mw_nla_len(w), MEMWATCH_A_WMARK_BYTES));
			if (n >= sizeof(line))
				break;
		}
	}
	strncat(s, line, 8191 - strlen(s));
	strncat(s, "\n", 8191 - strlen(s));
}

int fuzz_snapshot(struct fuzz *f, char *out)
{
	static struct mw_nl_reply r;
	int fd = fuzz_open_socket(), err;

	if (fd < 0)
		return fd;
	out[0] = '\0';
	err = mw_nl_dump(fd, f->family, MEMWATCH_CMD_POLICY_GET, NULL, 0,
			 snapshot_rec, out, &r);
	close(fd);
	return err;
}

static void check_state(struct fuzz *f, unsigned long i)
{
	static char now[8192];

	if (fuzz_snapshot(f, now))
		fail(f, "message %lu: POLICY_GET failed", i);
	else if (strcmp(now, f->snapshot))
		fail(f, "policies changed by a rejected message (within the %d before %lu): was\n%s now\n%s",
		     CHECK_EVERY, i, f->snapshot, now);
}

/* A dump read for one buffer, then abandoned: the socket goes, or a second
 * request comes while the first dump runs. */
static void interrupted_dump(struct fuzz *f)
{
	struct msg *m = malloc(sizeof(*m));
	const char *s;
	int fd = fuzz_open_socket(), err;

	if (fd < 0 || !m) {
		fail(f, "no socket for an interrupted dump");
		goto out;
	}
	msg_init(m, f, below(f, 2) ? MEMWATCH_CMD_PROC_GET :
		 MEMWATCH_CMD_POLICY_GET, NLM_F_DUMP);
	fuzz_exchange(f, fd, m, &s, true);
	if (below(f, 2)) {
		msg_init(m, f, MEMWATCH_CMD_PROC_GET, NLM_F_DUMP);
		err = fuzz_exchange(f, fd, m, &s, false);
		if (err && !allowed_errno(err))
			fail(f, "a request during a dump got errno %d", err);
	}
out:
	if (fd >= 0)
		close(fd);
	free(m);
}

static void fuzz_one(struct fuzz *f, struct msg *m, unsigned long i)
{
	uint8_t cmd;
	bool known, whole, changes;
	const char *s;
	int err;

	switch (below(f, 10)) {
	case 0:
	case 1:		/* anything at all */
		cmd = below(f, 4) ? below(f, 9) : rnd(f);
		msg_init(m, f, cmd, below(f, 2) ? NLM_F_DUMP : 0);
		soup(f, m, 0);
		break;
	case 2:		/* header trouble */
		fuzz_valid_message(f, m);
		if (below(f, 2))
			m->len = NLMSG_HDRLEN + below(f, GENL_HDRLEN);
		else
			((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->reserved =
				1 + below(f, 65535);
		break;
	case 3:
		interrupted_dump(f);
		return;
	default:	/* a valid message, mutated */
		fuzz_valid_message(f, m);
		mutate(f, m);
		break;
	}
	cmd = ((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->cmd;
	whole = m->len >= NLMSG_HDRLEN + GENL_HDRLEN;
	known = whole && cmd >= MEMWATCH_CMD_STATUS &&
		cmd <= MEMWATCH_CMD_POLICY_GET;
	changes = cmd == MEMWATCH_CMD_POLICY_SET || cmd == MEMWATCH_CMD_POLICY_DEL;
	err = fuzz_exchange(f, f->fd, m, &s, false);
	if (err < 0) {
		fail(f, "message %lu (cmd %u, %zu bytes): no answer", i, cmd,
		     m->len);
		return;
	}
	if (err >= (int)(sizeof(f->errnos) / sizeof(f->errnos[0])))
		err = sizeof(f->errnos) / sizeof(f->errnos[0]) - 1;
	f->errnos[err]++;
	if (!err) {
		f->acked++;
		if (known && changes && whole) {
			if (!f->root)
				fail(f, "message %lu: an unprivileged user changed policy",
				     i);
			f->changes++;
			fuzz_snapshot(f, f->snapshot);
		}
		return;
	}
	if (s)
		f->with_msg++;
	if (!allowed_errno(err))
		fail(f, "message %lu (cmd %u): errno %d (%s) is not in the protocol",
		     i, cmd, err, strerror(err));
	/*
	 * A dump of a command that has none: since 6.2 (split ops) the core
	 * refuses it with EOPNOTSUPP before it checks the permission; 6.1
	 * says EPERM first. Either way nothing changed.
	 */
	else if (!f->root && known && changes && err != EPERM &&
		 !(err == EOPNOTSUPP &&
		   (((struct nlmsghdr *)m->buf)->nlmsg_flags & NLM_F_DUMP) ==
		   NLM_F_DUMP) &&
		 !((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->reserved)
		fail(f, "message %lu: unprivileged cmd %u got %s, not EPERM", i,
		     cmd, strerror(err));
	/*
	 * EINVAL for a command the family has must say why. The generic
	 * netlink core's refusal of a short header carries no message, and
	 * the family cannot add one: those are not "known".
	 */
	else if (err == EINVAL && known && !s) {
		char hex[3 * 96 + 1] = "";
		size_t k;

		for (k = 0; k < m->len && k < 96; k++)
			sprintf(hex + 3 * k, " %02x", (unsigned char)m->buf[k]);
		fail(f, "message %lu (cmd %u, %zu bytes): EINVAL without an extack message:%s",
		     i, cmd, m->len, hex);
	}
}

/* Send n messages; f->failure says what broke, if anything. */
void fuzz_run(struct fuzz *f, unsigned long n)
{
	struct msg *m = malloc(sizeof(*m));
	unsigned long i;

	if (!m) {
		fail(f, "out of memory");
		return;
	}
	if (fuzz_snapshot(f, f->snapshot))
		fail(f, "POLICY_GET failed before fuzzing");
	for (i = 1; i <= n && !f->failure[0]; i++) {
		fuzz_one(f, m, i);
		if (i % CHECK_EVERY == 0 || i == n)
			check_state(f, i);
	}
	free(m);
}

double fuzz_scale(void)
{
	const char *s = getenv("MEMWATCH_FUZZ_N");

	return s ? atof(s) : 1.0;
}

uint64_t fuzz_seed(void)
{
	const char *s = getenv("MEMWATCH_FUZZ_SEED");
	struct timespec ts;

	if (s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000000007ULL) ^ ts.tv_nsec ^ getpid();
}
