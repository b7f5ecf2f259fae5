/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMCTL_NL_H
#define MEMCTL_NL_H

#include <stdbool.h>
#include <netlink/genl/genl.h>

/* A generic netlink socket bound to the memwatch family. */
struct mw_nl {
	struct nl_sock *sk;
	int family;
	unsigned int version;
	int err;		/* last error of mw_nl_request(), -errno */
	char extack[256];	/* the kernel's message for it, or "" */
};

/* The most attributes one reply level may carry. */
#define MW_NL_MAXATTR 64

typedef int (*mw_nl_parse_fn)(struct nlattr **tb, void *arg);

/* 0, or -ENOENT when the module is not loaded, or another -errno. */
int mw_nl_open(struct mw_nl *nl);
void mw_nl_close(struct mw_nl *nl);

/* A request message for cmd; NULL when out of memory. */
struct nl_msg *mw_nl_msg(struct mw_nl *nl, uint8_t cmd, int flags);

/*
 * Send msg (freed here), hand every reply's attributes, parsed up to
 * maxattr, to parse, and wait for the kernel's ACK. Returns 0 or -errno;
 * nl->extack then holds what the kernel said about the error.
 */
int mw_nl_request(struct mw_nl *nl, struct nl_msg *msg, int maxattr,
		  mw_nl_parse_fn parse, void *arg);

/*
 * Join the "events" group: 0; or, when that is refused (it needs
 * CAP_SYS_ADMIN) and public_ok, "events-public", whose events name no
 * processes: 1; or -errno.
 */
int mw_nl_subscribe(struct mw_nl *nl, bool public_ok);
/*
 * Receive what is waiting (blocking until something is, unless the
 * socket is non-blocking) and hand each event's attributes, parsed up to
 * maxattr, to parse: 1 if parse returned nonzero (stop), 0, -ENOBUFS if
 * events were lost (the receive buffer overflowed), or another -errno.
 */
int mw_nl_receive(struct mw_nl *nl, int maxattr, mw_nl_parse_fn parse,
		  void *arg);

/* "memctl: WHAT: strerror" and, if the kernel said why, "kernel reports: ..." */
void mw_nl_perror(const struct mw_nl *nl, const char *what);

#define MW_NOT_LOADED_MSG "memwatch module not loaded"

/* mw_nl_open(), saying why on stderr if it fails: 0 or -errno. */
int mw_nl_connect(struct mw_nl *nl);

#endif
