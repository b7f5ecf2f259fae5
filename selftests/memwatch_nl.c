// SPDX-License-Identifier: GPL-2.0
/*
 * The tests' netlink: a raw generic netlink socket, attributes, requests
 * with their ACK and extack, dumps, events, and memwatch's requests
 * (process records, STATUS tables, POLICY_SET). memwatch_util.c has the
 * rest: processes, cgroups, the module, knobs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/memwatch.h>

#include "memwatch_util.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int mw_nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

bool mw_nla_put(char *buf, size_t size, size_t *len, uint16_t type,
		const void *data, size_t data_len)
{
	struct nlattr *a = (struct nlattr *)(buf + *len);
	size_t total = NLA_ALIGN(NLA_HDRLEN + data_len);

	if (*len + total > size || NLA_HDRLEN + data_len > 0xffff)
		return false;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + data_len;
	if (data_len)
		memcpy(buf + *len + NLA_HDRLEN, data, data_len);
	memset(buf + *len + NLA_HDRLEN + data_len, 0,
	       total - NLA_HDRLEN - data_len);
	*len += total;
	return true;
}

int mw_nla_nest_start(char *buf, size_t size, size_t *len, uint16_t type)
{
	int offset = *len;

	if (!mw_nla_put(buf, size, len, type | NLA_F_NESTED, NULL, 0))
		return -1;
	return offset;
}

void mw_nla_nest_end(char *buf, int offset, size_t len)
{
	((struct nlattr *)(buf + offset))->nla_len = len - offset;
}

int mw_nl_events_open(uint32_t group)
{
	int fd = mw_nl_open();

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group))) {
		close(fd);
		return -errno;
	}
	return fd;
}

int mw_nl_next(int fd, uint8_t cmd, int timeout_ms, char *buf)
{
	static char msg[MW_NL_BUFSZ];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *h = (struct nlmsghdr *)msg;
		struct genlmsghdr *g;
		int len;
		ssize_t n;

		n = poll(&p, 1, timeout_ms);
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		n = recv(fd, msg, sizeof(msg), 0);
		if (n < 0)
			return -errno;
		if (!NLMSG_OK(h, n) || h->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		g = NLMSG_DATA(h);
		if (g->cmd != cmd)
			continue;
		len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
		memcpy(buf, (char *)g + GENL_HDRLEN, len);
		return len;
	}
}

int mw_nl_next_of(int fd, uint64_t cgid, int timeout_ms, char *buf)
{
	struct timespec t0, t;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int len = mw_nl_next(fd, MEMWATCH_CMD_EVENT, left, buf);
		if (len > 0 &&
		    mw_nla_u64(buf, len, MEMWATCH_A_EVENT_CGROUP_ID) == cgid)
			return len;
		if (len == 0 || (len < 0 && len != -ENOBUFS))
			return len;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
	}
}

const struct nlattr *mw_nla_find(const void *buf, int len, int type)
{
	const struct nlattr *a;
	int rem;

	mw_nla_for_each(a, buf, len, rem) {
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	}
	return NULL;
}

static int mw_nl_send(int fd, uint16_t family, uint8_t cmd, uint16_t flags,
		      const void *attrs, size_t attrs_len, mw_nl_each_fn each,
		      void *arg, struct mw_nl_reply *r);

uint64_t mw_nla_u64(const void *buf, int len, int type)
{
	const struct nlattr *a = mw_nla_find(buf, len, type);
	uint64_t v = 0;

	if (a)
		memcpy(&v, mw_nla_data(a), sizeof(v));
	return v;
}

uint8_t mw_nla_u8(const void *buf, int len, int type)
{
	const struct nlattr *a = mw_nla_find(buf, len, type);

	return a ? *(const uint8_t *)mw_nla_data(a) : 0;
}

/*
 * The error of an NLMSG_ERROR (struct nlmsgerr, the request capped) or of
 * an NLMSG_DONE (an int), and the extack TLVs that follow either.
 */
static void mw_nl_parse_error(const struct nlmsghdr *h, struct mw_nl_reply *r)
{
	size_t head = h->nlmsg_type == NLMSG_ERROR ? sizeof(struct nlmsgerr)
						    : sizeof(int);
	const struct nlattr *msg;
	int len;

	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
		return;
	memcpy(&r->error, NLMSG_DATA(h), sizeof(int));
	len = (int)h->nlmsg_len - NLMSG_HDRLEN - (int)head;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || len <= 0)
		return;
	msg = mw_nla_find((const char *)NLMSG_DATA(h) + head, len,
			  NLMSGERR_ATTR_MSG);
	if (msg)
		snprintf(r->extack, sizeof(r->extack), "%.*s",
			 mw_nla_len(msg), (const char *)mw_nla_data(msg));
}

int mw_nl_xfer(int fd, uint16_t family, uint8_t cmd, uint16_t flags,
	       const void *attrs, size_t attrs_len, struct mw_nl_reply *r)
{
	return mw_nl_send(fd, family, cmd, flags, attrs, attrs_len, NULL, NULL,
			  r);
}

int mw_nl_dump(int fd, uint16_t family, uint8_t cmd, const void *attrs,
	       size_t attrs_len, mw_nl_each_fn each, void *arg,
	       struct mw_nl_reply *r)
{
	return mw_nl_send(fd, family, cmd, NLM_F_DUMP, attrs, attrs_len, each,
			  arg, r);
}

static int mw_nl_send(int fd, uint16_t family, uint8_t cmd, uint16_t flags,
		      const void *attrs, size_t attrs_len, mw_nl_each_fn each,
		      void *arg, struct mw_nl_reply *r)
{
	static char buf[MW_NL_BUFSZ];
	static uint32_t seq = 1;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(h);
	size_t hlen = NLMSG_HDRLEN + GENL_HDRLEN;
	bool got = false, done = false;

	memset(r, 0, sizeof(*r));
	if (hlen + attrs_len > sizeof(buf))
		return r->error = -EMSGSIZE;
	memset(buf, 0, hlen);
	h->nlmsg_len = hlen + attrs_len;
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++seq;
	g->cmd = cmd;
	g->version = 1;
	memcpy(buf + hlen, attrs, attrs_len);
	if (send(fd, buf, h->nlmsg_len, 0) < 0)
		return r->error = -errno;
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0)
			return r->error = -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				r->intr = true;
			if (h->nlmsg_type == NLMSG_ERROR) {
				mw_nl_parse_error(h, r);
				done = true;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				mw_nl_parse_error(h, r);
				done = true;
			} else {
				const char *a = (char *)NLMSG_DATA(h) +
						GENL_HDRLEN;
				int alen = h->nlmsg_len - NLMSG_HDRLEN -
					   GENL_HDRLEN;

				if (each)
					each(a, alen, arg);
				if (!got) {
					got = true;
					r->len = alen;
					memcpy(r->attrs, a, alen);
				}
			}
		}
	}
	return r->error;
}

/* The family's id and version, and the id of its multicast group grp_name. */
static int mw_nl_getfamily(int fd, const char *name, const char *grp_name,
			   uint16_t *id, uint32_t *version, uint32_t *grp_id)
{
	static struct mw_nl_reply r;
	const struct nlattr *a, *grp;
	char attrs[64];
	size_t len = 0;
	int rem;

	if (!mw_nla_put(attrs, sizeof(attrs), &len, CTRL_ATTR_FAMILY_NAME,
			name, strlen(name) + 1))
		return -EINVAL;
	if (mw_nl_xfer(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, attrs, len, &r))
		return r.error;
	a = mw_nla_find(r.attrs, r.len, CTRL_ATTR_FAMILY_ID);
	if (!a)
		return -EPROTO;
	*id = *(const uint16_t *)mw_nla_data(a);
	a = mw_nla_find(r.attrs, r.len, CTRL_ATTR_VERSION);
	*version = a ? *(const uint32_t *)mw_nla_data(a) : 0;
	*grp_id = 0;
	a = mw_nla_find(r.attrs, r.len, CTRL_ATTR_MCAST_GROUPS);
	if (!a)
		return 0;
	mw_nla_for_each(grp, mw_nla_data(a), mw_nla_len(a), rem) {
		const struct nlattr *gname, *gid;

		gname = mw_nla_find(mw_nla_data(grp), mw_nla_len(grp),
				    CTRL_ATTR_MCAST_GRP_NAME);
		gid = mw_nla_find(mw_nla_data(grp), mw_nla_len(grp),
				  CTRL_ATTR_MCAST_GRP_ID);
		if (gname && gid && !strcmp(mw_nla_data(gname), grp_name))
			*grp_id = *(const uint32_t *)mw_nla_data(gid);
	}
	return 0;
}

int mw_nl_family(int fd, const char *name, uint16_t *id, uint32_t *version,
		 uint32_t *events_grp)
{
	return mw_nl_getfamily(fd, name, "events", id, version, events_grp);
}

int mw_nl_open_family(uint16_t *id, uint32_t *grp)
{
	uint32_t version, events;
	int fd = mw_nl_open(), err;

	if (fd < 0)
		return fd;
	err = mw_nl_family(fd, MEMWATCH_GENL_NAME, id, &version,
			   grp ? grp : &events);
	if (err) {
		close(fd);
		return err < 0 ? err : -EIO;
	}
	return fd;
}

int mw_nl_group(int fd, const char *name, const char *group, uint32_t *id)
{
	uint32_t version;
	uint16_t family;
	int err = mw_nl_getfamily(fd, name, group, &family, &version, id);

	if (!err && !*id)
		err = -ENOENT;
	return err;
}

static void mw_proc_collect(const void *buf, int len, void *arg)
{
	struct mw_procs *ps = arg;
	const struct nlattr *a, *n;
	struct mw_proc *r;
	int rem;

	if (ps->total++ >= MW_MAX_PROCS)
		return;
	r = &ps->v[ps->n++];
	memset(r, 0, sizeof(*r));
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_PID);
	if (a)
		r->pid = *(const uint32_t *)mw_nla_data(a);
	r->state = mw_nla_u8(buf, len, MEMWATCH_A_PROC_STATE);
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_COMM);
	if (a)
		snprintf(r->comm, sizeof(r->comm), "%s",
			 (const char *)mw_nla_data(a));
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_CGROUP_PATH);
	if (a)
		snprintf(r->cgroup, sizeof(r->cgroup), "%s",
			 (const char *)mw_nla_data(a));
	r->cgroup_id = mw_nla_u64(buf, len, MEMWATCH_A_PROC_CGROUP_ID);
	r->live = mw_nla_u64(buf, len, MEMWATCH_A_PROC_LIVE_BYTES);
	r->local = mw_nla_u64(buf, len, MEMWATCH_A_PROC_LOCAL_BYTES);
	r->remote = mw_nla_u64(buf, len, MEMWATCH_A_PROC_REMOTE_BYTES);
	r->allocated = mw_nla_u64(buf, len, MEMWATCH_A_PROC_ALLOCATED_BYTES);
	r->released = mw_nla_u64(buf, len, MEMWATCH_A_PROC_RELEASED_BYTES);
	r->rate = mw_nla_u64(buf, len, MEMWATCH_A_PROC_RATE);
	r->anon = mw_nla_u64(buf, len, MEMWATCH_A_PROC_ANON_BYTES);
	r->file = mw_nla_u64(buf, len, MEMWATCH_A_PROC_FILE_BYTES);
	r->swap = mw_nla_u64(buf, len, MEMWATCH_A_PROC_SWAP_BYTES);
	a = mw_nla_find(buf, len, MEMWATCH_A_PROC_NODES);
	if (!a)
		return;
	mw_nla_for_each(n, mw_nla_data(a), mw_nla_len(a), rem) {
		const struct nlattr *id = mw_nla_find(mw_nla_data(n),
						      mw_nla_len(n),
						      MEMWATCH_A_NODE_ID);
		uint32_t nid = id ? *(const uint32_t *)mw_nla_data(id) : 0;

		if (nid < MW_MAX_NODES)
			r->node[nid] = mw_nla_u64(mw_nla_data(n), mw_nla_len(n),
						  MEMWATCH_A_NODE_LIVE_BYTES);
	}
}

int mw_proc_dump(int fd, uint16_t family, const void *attrs, size_t len,
		 struct mw_procs *procs, struct mw_nl_reply *r)
{
	procs->n = 0;
	procs->total = 0;
	return mw_nl_dump(fd, family, MEMWATCH_CMD_PROC_GET, attrs, len,
			  mw_proc_collect, procs, r);
}

const struct mw_proc *mw_proc_find(const struct mw_procs *procs, uint32_t pid)
{
	int i;

	for (i = 0; i < procs->n; i++)
		if (procs->v[i].pid == pid)
			return &procs->v[i];
	return NULL;
}

int mw_status_table(int fd, uint16_t family, const char *name,
		    struct mw_table *t, struct mw_nl_reply *r)
{
	const struct nlattr *tables, *a;
	int rem;

	if (mw_nl_xfer(fd, family, MEMWATCH_CMD_STATUS, 0, NULL, 0, r))
		return r->error;
	tables = mw_nla_find(r->attrs, r->len, MEMWATCH_A_STATUS_TABLES);
	if (!tables)
		return -EPROTO;
	mw_nla_for_each(a, mw_nla_data(tables), mw_nla_len(tables), rem) {
		const struct nlattr *n = mw_nla_find(mw_nla_data(a),
						     mw_nla_len(a),
						     MEMWATCH_A_TABLE_NAME);

		if (!n || strcmp(mw_nla_data(n), name))
			continue;
		t->entries = mw_nla_u64(mw_nla_data(a), mw_nla_len(a),
					MEMWATCH_A_TABLE_ENTRIES);
		t->capacity = mw_nla_u64(mw_nla_data(a), mw_nla_len(a),
					 MEMWATCH_A_TABLE_CAPACITY);
		t->overflows = mw_nla_u64(mw_nla_data(a), mw_nla_len(a),
					  MEMWATCH_A_TABLE_OVERFLOWS);
		return 0;
	}
	return -ENOENT;
}

void mw_put_wmarks(char *attrs, size_t size, size_t *len, int n,
		   const int (*lp)[2])
{
	int nest = mw_nla_nest_start(attrs, size, len, MEMWATCH_A_POLICY_WMARKS);
	int i;

	for (i = 0; i < n; i++) {
		uint8_t level = lp[i][0];
		uint32_t pct = lp[i][1];
		int w = mw_nla_nest_start(attrs, size, len,
					  MEMWATCH_A_POLICY_WMARK);

		mw_nla_put(attrs, size, len, MEMWATCH_A_WMARK_LEVEL, &level,
			   sizeof(level));
		mw_nla_put(attrs, size, len, MEMWATCH_A_WMARK_PERCENT, &pct,
			   sizeof(pct));
		mw_nla_nest_end(attrs, w, *len);
	}
	mw_nla_nest_end(attrs, nest, *len);
}

int mw_policy_set(int fd, uint16_t family, uint64_t cgid, int n,
		  const int (*lp)[2], struct mw_nl_reply *r)
{
	char attrs[512];
	size_t len = 0;

	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_POLICY_CGROUP_ID,
		   &cgid, sizeof(cgid));
	mw_put_wmarks(attrs, sizeof(attrs), &len, n, lp);
	return mw_nl_xfer(fd, family, MEMWATCH_CMD_POLICY_SET, 0, attrs, len, r);
}

int mw_policy_notify_at(int fd, uint16_t family, uint64_t cgid, uint32_t pct,
			struct mw_nl_reply *r)
{
	const int lp[1][2] = { { MEMWATCH_LEVEL_NOTIFY, (int)pct } };

	return mw_policy_set(fd, family, cgid, 1, lp, r);
}

int mw_proc_record(int fd, uint16_t family, uint32_t pid, struct mw_proc *out,
		   struct mw_procs *scratch, struct mw_nl_reply *r)
{
	char attrs[16];
	size_t len = 0;
	int err;

	mw_nla_put(attrs, sizeof(attrs), &len, MEMWATCH_A_PROC_PID, &pid,
		   sizeof(pid));
	err = mw_proc_dump(fd, family, attrs, len, scratch, r);
	if (err)
		return err;
	if (!scratch->n) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	*out = scratch->v[0];
	return 1;
}

bool mw_status_answers(int fd, uint16_t family, struct mw_nl_reply *r)
{
	return !mw_nl_xfer(fd, family, MEMWATCH_CMD_STATUS, 0, NULL, 0, r) &&
	       mw_nla_find(r->attrs, r->len, MEMWATCH_A_STATUS_VERSION);
}

/* Whether pid has a NETLINK_GENERIC socket in group id (1 to 32). */
static bool mw_in_group(pid_t pid, uint32_t id)
{
	FILE *f = fopen("/proc/net/netlink", "r");
	unsigned int proto, portid, groups;
	char line[256];
	bool in = false;

	if (!f)
		return false;
	while (!in && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %u %u %x", &proto, &portid, &groups) != 3)
			continue;
		/* libnl's port is the pid in its low 22 bits. */
		in = proto == NETLINK_GENERIC &&
		     (portid & 0x3fffff) == (unsigned int)pid &&
		     (groups & (1U << (id - 1)));
	}
	fclose(f);
	return in;
}

int mw_wait_subscribed(pid_t pid, int timeout_ms)
{
	uint32_t ids[2] = { 0, 0 };
	int fd = mw_nl_open(), i, waited;

	if (fd < 0)
		return fd;
	mw_nl_group(fd, MEMWATCH_GENL_NAME, MEMWATCH_MCGRP_EVENTS, &ids[0]);
	mw_nl_group(fd, MEMWATCH_GENL_NAME, MEMWATCH_MCGRP_PUBLIC, &ids[1]);
	close(fd);
	for (i = 0; i < 2; i++) {
		if (!ids[i] || ids[i] > 32) {	/* not shown: wait */
			usleep(2000000);
			return 0;
		}
	}
	for (waited = 0; waited < timeout_ms; waited += 20) {
		if (mw_in_group(pid, ids[0]) || mw_in_group(pid, ids[1]))
			return 0;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

int mw_fx_open(bool *was_loaded, int *fd, uint16_t *id, uint32_t *grp)
{
	if (mw_fx_load(was_loaded))
		return -1;
	*fd = mw_nl_open_family(id, grp);
	if (*fd < 0) {
		fprintf(stderr, "# setup: opening memwatch's family failed: %s\n",
			strerror(-*fd));
		return -1;
	}
	return 0;
}

int mw_reload_open(int *fd, const char *params, uint16_t *id, uint32_t *grp)
{
	int err;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	err = mw_module_ensure(false);
	if (!err)
		err = mw_module_load(params);
	if (err)
		return err;
	*fd = mw_nl_open_family(id, grp);
	return *fd < 0 ? *fd : 0;
}
