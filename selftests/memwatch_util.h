/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for memwatch's selftests: load and unload the module, run a
 * command and capture its output, and speak generic netlink on a raw
 * socket (independent of memctl's libnl code, so the tests check the
 * protocol itself).
 */
#ifndef MEMWATCH_UTIL_H
#define MEMWATCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/*
 * Module file, memctl binary and the test workload; $MEMWATCH_KO, $MEMCTL
 * and $MEMWATCH_HOG override.
 */
const char *mw_module_path(void);
const char *mw_memctl_path(void);
const char *mw_hog_path(void);

bool mw_module_loaded(void);
/* finit_module() with params ("" for none): 0 or -errno. */
int mw_module_load(const char *params);
/* delete_module(): 0 or -errno. */
int mw_module_unload(void);
/* Make sure the module is loaded (true) or not (false): 0 or -errno. */
int mw_module_ensure(bool loaded);
/*
 * A fixture's setup: note in *was_loaded whether memwatch was loaded, and
 * load it: 0, or -1 having said why on stderr.
 */
int mw_fx_load(bool *was_loaded);

/*
 * Run argv with stdout and stderr captured (NUL-terminated, truncated to
 * the buffers); returns the exit status, or -1 if it did not exit.
 */
int mw_run(char *const argv[], char *out, size_t outsz, char *err,
	   size_t errsz);

/*
 * Run memctl with the arguments up to MW_END, output captured in out and
 * err (MW_OUTSZ each): its exit status, or -1.
 */
#define MW_OUTSZ 65536
#define MW_END ((char *)NULL)
int mw_memctl(char *out, char *err, ...);
/* jq -e FILTER on json, with $v bound to var: 0 when the filter holds. */
int mw_jq(const char *json, const char *filter, const char *var);
/* How many lines s has. */
int mw_lines(const char *s);

/*
 * Allocate and touch bytes of anonymous memory in 4 KiB pages, bound to
 * node (MPOL_BIND), or anywhere for node < 0.
 */
void *mw_alloc_on(size_t bytes, int node);
/* Run the calling thread on node's CPUs only: 0 or -errno. */
int mw_pin_to_node(int node);

/* A pipe pair for a parent and a child to take turns. */
struct mw_sync {
	int to_child[2];
	int to_parent[2];
};

int mw_sync_init(struct mw_sync *s);
/* The child's side: tell the parent, wait for its go; false on EOF. */
bool mw_sync_child(struct mw_sync *s);
/* The parent's side: wait for the child's word; false if it died. */
bool mw_sync_wait(struct mw_sync *s);
void mw_sync_go(struct mw_sync *s);

/*
 * For FIXTURE_TEARDOWN: SIGKILL every other process in the caller's
 * process group (the harness gives each test its own) and reap the
 * caller's children. A test that fails half-way leaves no child behind
 * to hold its memory, a cgroup, or the runner's output pipe. Returns how
 * many it killed.
 */
int mw_reap_group(void);

/*
 * A child that, if the caller still runs after secs, prints the state,
 * wait channel and kernel stack of each process in the caller's group and
 * each node's free memory to stderr: why a test nears its timeout. It
 * dies with the caller; mw_watchdog_stop() ends it sooner.
 */
pid_t mw_watchdog(unsigned int secs);
/* Node's MemFree, FilePages, Shmem, AnonPages lines to stderr ("# "). */
void mw_node_meminfo_log(int node);
/* A file of at least bytes on the host root (9p, loose: a page cache). */
const char *mw_big_file(size_t bytes);
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t mw_now_ms(void);
void mw_watchdog_stop(pid_t pid);

#define MW_NL_BUFSZ 65536

struct mw_nl_reply {
	int error;		/* 0 or -errno from the kernel's ACK */
	char extack[256];	/* NLMSGERR_ATTR_MSG, or "" */
	bool intr;		/* a dump's message had NLM_F_DUMP_INTR */
	int len;		/* bytes of attributes in attrs */
	char attrs[MW_NL_BUFSZ];/* the first reply's attributes */
};

int mw_nl_open(void);
/* The id, version and "events" group id of family name: 0 or -ENOENT. */
int mw_nl_family(int fd, const char *name, uint16_t *id, uint32_t *version,
		 uint32_t *events_grp);
/*
 * A socket with the memwatch family resolved (its id, and its events
 * group when grp is not NULL): the fd, or -errno. What a fixture opens.
 */
int mw_nl_open_family(uint16_t *id, uint32_t *grp);
/*
 * Close *fd, unload memwatch, load it with params, and open *fd again as
 * mw_nl_open_family() does: 0 or -errno.
 */
int mw_reload_open(int *fd, const char *params, uint16_t *id, uint32_t *grp);
/*
 * A fixture's setup: mw_fx_load(), then *fd as mw_nl_open_family() opens
 * it: 0, or -1 having said on stderr which step failed.
 */
int mw_fx_open(bool *was_loaded, int *fd, uint16_t *id, uint32_t *grp);
/* The id of the family's multicast group: 0 or -ENOENT. */
int mw_nl_group(int fd, const char *name, const char *group, uint32_t *id);
/*
 * Wait until process pid has joined one of memwatch's multicast groups
 * (/proc/net/netlink; 2 s if the group ids are past what it shows):
 * 0, or -ETIMEDOUT after timeout_ms.
 */
int mw_wait_subscribed(pid_t pid, int timeout_ms);
/*
 * Send a request (NLM_F_REQUEST | NLM_F_ACK | flags) with raw attribute
 * bytes and wait for the ACK; returns r->error.
 */
int mw_nl_xfer(int fd, uint16_t family, uint8_t cmd, uint16_t flags,
	       const void *attrs, size_t attrs_len, struct mw_nl_reply *r);
/*
 * The same, calling each(attrs, len, arg) for every reply message (a dump
 * with NLM_F_DUMP); r->attrs still holds the first.
 */
typedef void (*mw_nl_each_fn)(const void *attrs, int len, void *arg);
int mw_nl_dump(int fd, uint16_t family, uint8_t cmd, const void *attrs,
	       size_t attrs_len, mw_nl_each_fn each, void *arg,
	       struct mw_nl_reply *r);
/* Append one attribute to buf at *len; returns false if it would overflow. */
bool mw_nla_put(char *buf, size_t size, size_t *len, uint16_t type,
		const void *data, size_t data_len);
/* Open a nest: returns its offset for mw_nla_nest_end(), or -1. */
int mw_nla_nest_start(char *buf, size_t size, size_t *len, uint16_t type);
void mw_nla_nest_end(char *buf, int offset, size_t len);

/* A socket joined to the "events" group of the family: fd or -errno. */
int mw_nl_events_open(uint32_t group);
/*
 * The next event (a message of cmd) within timeout_ms: its attributes in
 * buf (MW_NL_BUFSZ), their length returned; 0 on timeout, -errno.
 */
int mw_nl_next(int fd, uint8_t cmd, int timeout_ms, char *buf);
/*
 * The next event about cgroup cgid within timeout_ms, as mw_nl_next():
 * events of other cgroups (an earlier test's, still being sent) are
 * skipped, and so is an overflow of the socket they caused (-ENOBUFS).
 */
int mw_nl_next_of(int fd, uint64_t cgid, int timeout_ms, char *buf);


/* One PROC_GET record, as the tests read it. */
#define MW_MAX_NODES 8
#define MW_MAX_PROCS 1024
struct mw_proc {
	uint32_t pid;
	uint8_t state;
	char comm[32];
	char cgroup[256];
	uint64_t cgroup_id, live, local, remote, allocated, released, rate;
	uint64_t anon, file, swap;
	uint64_t node[MW_MAX_NODES];
};

/* A dump's records: the first MW_MAX_PROCS in v, all of them counted. */
struct mw_procs {
	int n, total;
	struct mw_proc v[MW_MAX_PROCS];
};

/*
 * PROC_GET dump with the request attributes attrs (filters) into procs:
 * 0 or -errno (the reply's error in r).
 */
int mw_proc_dump(int fd, uint16_t family, const void *attrs, size_t len,
		 struct mw_procs *procs, struct mw_nl_reply *r);
/* The record of pid in procs, or NULL. */
const struct mw_proc *mw_proc_find(const struct mw_procs *procs,
				   uint32_t pid);


/*
 * The record of pid (PROC_GET with its pid, scratch for the dump) into
 * *out, zeroed when it has none: 1, 0 or -errno.
 */
int mw_proc_record(int fd, uint16_t family, uint32_t pid, struct mw_proc *out,
		   struct mw_procs *scratch, struct mw_nl_reply *r);
/*
 * Empty every CPU's LRU-add batch (lru_add_drain_all(), through an empty
 * move_pages()): a page unmapped while in one is not freed yet. 0 or
 * -errno.
 */
int mw_drain_lru(void);

/*
 * Fault injection (CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAILSLAB): fail
 * page_pct% of the page and slab_pct% of the slab allocations of tasks
 * marked /proc/<pid>/make-it-fail (a child inherits the mark), sleeping
 * ones and user pages included; with 0 and 0, only what a thread's
 * /proc/thread-self/fail-nth asks. Set through mw_knob_set(), so
 * mw_knobs_restore() turns it off. 0 or -errno (-ENOENT: the kernel has
 * not both).
 */
int mw_faults_on(int page_pct, int slab_pct);
/* Failures injected since mw_faults_on(): of slab (true) or page ones. */
long mw_faults_injected(bool slab);

/* The WMARKS nest of n (level, percent) pairs, into attrs at *len. */
void mw_put_wmarks(char *attrs, size_t size, size_t *len, int n,
		   const int (*lp)[2]);
/* POLICY_SET for cgid, n (level, percent) pairs: 0 or -errno (reply in r). */
int mw_policy_set(int fd, uint16_t family, uint64_t cgid, int n,
		  const int (*lp)[2], struct mw_nl_reply *r);
/* POLICY_SET: notify at pct% of cgid's effective limit: 0 or -errno. */
int mw_policy_notify_at(int fd, uint16_t family, uint64_t cgid, uint32_t pct,
			struct mw_nl_reply *r);

/* One table of STATUS (MEMWATCH_A_STATUS_TABLE). */
struct mw_table {
	uint32_t entries, capacity;
	uint64_t overflows;
};

/* The module answers: a STATUS reply with its version. */
bool mw_status_answers(int fd, uint16_t family, struct mw_nl_reply *r);
/* The STATUS figures of the table called name: 0 or -errno. */
int mw_status_table(int fd, uint16_t family, const char *name,
		    struct mw_table *t, struct mw_nl_reply *r);
/*
 * Read every file this process maps (the binary, libc, ld.so) into the
 * page cache before a child is forked: a child that is the first to
 * fault a page of one reads it in, with readahead around it, and that
 * page cache is the child's and keeps its record after it exits.
 */
void mw_cache_mapped_files(void);
/* A /proc/vmstat counter, or -1. */
long long mw_vmstat(const char *name);

/* Become the user "nobody" (no groups, no capabilities): 0 or -errno. */
int mw_become_nobody(void);

/* Write val to the file at path: 0 or -errno. */
int mw_write(const char *path, const char *val);
/* The first line of path, without its newline: 0 or -errno. */
int mw_read_line(const char *path, char *buf, size_t len);
/*
 * Write val to the knob at path (a sysctl, a sysfs or debugfs file),
 * first noting what it held; mw_knobs_restore() (for FIXTURE_TEARDOWN,
 * which the harness runs after a failed assertion too) puts every knob
 * back, the last changed first: 0 or -errno.
 */
int mw_knob_set(const char *path, const char *val);
void mw_knobs_restore(void);

/* /dev/kmsg, read from its end (what the kernel logs next): fd or -errno. */
int mw_kmsg_open(void);
/*
 * The first line logged since the last call (or the open) that reports a
 * bug, copied to line, or NULL. The guest panics on a WARNING or an Oops,
 * so on a guest that lives to read this, a line here is a BUG (a bad
 * page state, say), a KASAN or lockdep report, or one from a module that
 * does not go through WARN().
 */
const char *mw_kmsg_splat(int fd, char *line, size_t len);
/* A cgroup under the cgroup2 root with memory.max (0: none): its id. */
uint64_t mw_cgroup_make(const char *name, const char *max);
/* Kill what runs in it and remove it: 0 or -errno. */
int mw_cgroup_remove(const char *name);
/* Move the calling process into the cgroup: 0 or -errno. */
int mw_cgroup_enter(const char *name);

/* The first attribute of type in [buf, buf + len), or NULL. */
const struct nlattr *mw_nla_find(const void *buf, int len, int type);
/* Its value, or 0 when absent. */
uint64_t mw_nla_u64(const void *buf, int len, int type);
uint8_t mw_nla_u8(const void *buf, int len, int type);
#define mw_nla_data(a) ((const void *)((const char *)(a) + NLA_HDRLEN))
#define mw_nla_len(a) ((int)(a)->nla_len - NLA_HDRLEN)
#define mw_nla_for_each(a, buf, len, rem)				\
	for ((a) = (const struct nlattr *)(buf), (rem) = (len);		\
	     (rem) >= (int)sizeof(*(a)) && (a)->nla_len >= sizeof(*(a)) && \
	     (a)->nla_len <= (rem);					\
	     (rem) -= NLA_ALIGN((a)->nla_len),				\
	     (a) = (const struct nlattr *)((const char *)(a) +		\
					   NLA_ALIGN((a)->nla_len)))

#endif
