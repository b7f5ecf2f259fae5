// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>
#include <netlink/genl/family.h>
#include <linux/memwatch.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int mw_nl_open(struct mw_nl *nl)
{
	struct nl_cache *cache = NULL;
	struct genl_family *fam;
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	if (genl_connect(nl->sk)) {
		err = -EIO;
		goto err_free;
	}
	/* Ask for the kernel's error messages, without the echoed request. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	if (genl_ctrl_alloc_cache(nl->sk, &cache)) {
		err = -EIO;
		goto err_free;
	}
	fam = genl_ctrl_search_by_name(cache, MEMWATCH_GENL_NAME);
	if (!fam) {
		err = -ENOENT;
		goto err_cache;
	}
	nl->family = genl_family_get_id(fam);
	nl->version = genl_family_get_version(fam);
	genl_family_put(fam);
	nl_cache_free(cache);
	return 0;

err_cache:
	nl_cache_free(cache);
err_free:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return err;
}

void mw_nl_close(struct mw_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *mw_nl_msg(struct mw_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags, cmd, MEMWATCH_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct mw_nl_req {
	struct mw_nl *nl;
	int maxattr;
	mw_nl_parse_fn parse;
	void *arg;
	int done;
	bool intr;		/* a message had NLM_F_DUMP_INTR */
};

static int mw_nl_on_valid(struct nl_msg *msg, void *data)
{
	struct mw_nl_req *req = data;
	struct nlattr *tb[MW_NL_MAXATTR + 1];
	int err;

	if (req->maxattr > MW_NL_MAXATTR) {
		req->nl->err = -EINVAL;
		return NL_STOP;
	}
	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, req->maxattr, NULL);
	if (err) {
		req->nl->err = -EPROTO;
		return NL_STOP;
	}
	err = req->parse ? req->parse(tb, req->arg) : 0;
	if (err) {
		req->nl->err = err;
		return NL_STOP;
	}
	return NL_OK;
}

static void mw_nl_extack(struct mw_nl *nl, const struct nlmsghdr *hdr,
			 const void *tlvs, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)tlvs, len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->extack, sizeof(nl->extack), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
}

static int mw_nl_on_error(struct sockaddr_nl *nla, struct nlmsgerr *e,
			  void *data)
{
	const struct nlmsghdr *hdr = (void *)((char *)e - NLMSG_HDRLEN);
	struct mw_nl_req *req = data;

	(void)nla;
	req->nl->err = e->error;
	req->done = 1;
	mw_nl_extack(req->nl, hdr, e + 1,
		     (int)hdr->nlmsg_len - NLMSG_HDRLEN - (int)sizeof(*e));
	return NL_STOP;
}

/*
 * The module changed the table during the dump (NLM_F_DUMP_INTR): read
 * on to its end, then say so (-EINTR), so the caller may ask again.
 */
static int mw_nl_on_intr(struct nl_msg *msg, void *data)
{
	struct mw_nl_req *req = data;

	(void)msg;
	req->intr = true;
	return NL_OK;
}

/* The ACK, or the end of a dump: an NLMSG_DONE carries its error too. */
static int mw_nl_on_done(struct nl_msg *msg, void *data)
{
	const struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct mw_nl_req *req = data;
	int err;

	req->done = 1;
	if (hdr->nlmsg_type != NLMSG_DONE ||
	    hdr->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
		return NL_STOP;
	memcpy(&err, nlmsg_data(hdr), sizeof(err));
	if (err < 0) {
		req->nl->err = err;
		mw_nl_extack(req->nl, hdr, (const char *)nlmsg_data(hdr) +
			     sizeof(int), (int)hdr->nlmsg_len - NLMSG_HDRLEN -
			     (int)sizeof(int));
	}
	return NL_STOP;
}

int mw_nl_request(struct mw_nl *nl, struct nl_msg *msg, int maxattr,
		  mw_nl_parse_fn parse, void *arg)
{
	struct mw_nl_req req = {
		.nl = nl, .maxattr = maxattr, .parse = parse, .arg = arg,
	};
	struct nl_cb *cb;
	int err;

	nl->err = 0;
	nl->extack[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return nl->err = -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, mw_nl_on_valid, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, mw_nl_on_done, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, mw_nl_on_done, &req);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, mw_nl_on_intr, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, mw_nl_on_error, &req);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		nl->err = -EIO;
		goto out;
	}
	while (!req.done && !nl->err) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !nl->err)
			nl->err = err == -NLE_DUMP_INTR ? -EINTR : -EIO;
	}
	if (req.intr && !nl->err)
		nl->err = -EINTR;
out:
	nl_cb_put(cb);
	return nl->err;
}

void mw_nl_perror(const struct mw_nl *nl, const char *what)
{
	fprintf(stderr, "memctl: %s: %s\n", what, strerror(-nl->err));
	if (nl->extack[0])
		fprintf(stderr, "memctl: kernel reports: %s\n", nl->extack);
}

int mw_nl_connect(struct mw_nl *nl)
{
	int err = mw_nl_open(nl);

	if (err == -ENOENT)
		fprintf(stderr, "memctl: " MW_NOT_LOADED_MSG
			" (load it with 'modprobe memwatch' or 'insmod memwatch.ko')\n");
	else if (err)
		fprintf(stderr, "memctl: cannot open generic netlink: %s\n",
			strerror(-err));
	return err;
}

struct mw_nl_listener {
	int maxattr;
	mw_nl_parse_fn parse;
	void *arg;
	int stop;
};

/* Events are not answers to a request: no sequence number to check. */
static int mw_nl_any_seq(struct nl_msg *msg, void *data)
{
	(void)msg;
	(void)data;
	return NL_OK;
}

static int mw_nl_on_event(struct nl_msg *msg, void *data)
{
	struct mw_nl_listener *l = data;
	struct nlattr *tb[MW_NL_MAXATTR + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, l->maxattr, NULL))
		return NL_SKIP;
	if (l->parse(tb, l->arg)) {
		l->stop = 1;
		return NL_STOP;
	}
	return NL_OK;
}

int mw_nl_subscribe(struct mw_nl *nl, bool public_ok)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, MEMWATCH_GENL_NAME,
					MEMWATCH_MCGRP_EVENTS);
	int ret = 0;

	if (grp < 0)
		return -ENOENT;
	if (nl_socket_add_membership(nl->sk, grp)) {
		/* The full group needs CAP_SYS_ADMIN. */
		if (!public_ok)
			return -EPERM;
		grp = genl_ctrl_resolve_grp(nl->sk, MEMWATCH_GENL_NAME,
					    MEMWATCH_MCGRP_PUBLIC);
		if (grp < 0)
			return -ENOENT;
		if (nl_socket_add_membership(nl->sk, grp))
			return -EPERM;
		ret = 1;
	}
	nl_socket_set_buffer_size(nl->sk, 4 << 20, 0);
	return ret;
}

int mw_nl_receive(struct mw_nl *nl, int maxattr, mw_nl_parse_fn parse,
		  void *arg)
{
	struct mw_nl_listener l = {
		.maxattr = maxattr, .parse = parse, .arg = arg,
	};
	struct nl_cb *cb;
	int n;

	if (maxattr > MW_NL_MAXATTR)
		return -EINVAL;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, mw_nl_any_seq, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, mw_nl_on_event, &l);
	n = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (l.stop)
		return 1;
	if (n == -NLE_NOMEM)
		return -ENOBUFS;
	if (n == -NLE_AGAIN || n == -NLE_INTR || n >= 0)
		return 0;
	return -EIO;
}
