// SPDX-License-Identifier: GPL-2.0
/*
 * memwatch: per-process page allocation tracking and per-cgroup memory
 * watermark events over generic netlink.
 */
#include <linux/module.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "memwatch.h"
#include "compat.h"
#include "hooks.h"
#include "netlink.h"
#include "events.h"
#include "pfn.h"
#include "proc.h"
#include "rank.h"
#include "node.h"
#include "wmark.h"

static bool memwatch_track = true;
module_param_named(track, memwatch_track, bool, 0444);
MODULE_PARM_DESC(track, "Attach the allocation hooks at load (default: 1)");

static bool memwatch_probe_only;
module_param_named(probe_only, memwatch_probe_only, bool, 0444);
MODULE_PARM_DESC(probe_only,
		 "Hooks count their hits and account nothing (default: 0)");

static char *memwatch_hooks_param = "tracepoint";
module_param_named(hooks, memwatch_hooks_param, charp, 0444);
MODULE_PARM_DESC(hooks,
		 "Hook mode: tracepoint (page allocation to free) or kprobe (memcg charge to uncharge, costlier) (default: tracepoint)");

static char *memwatch_absent = "";
module_param_named(absent, memwatch_absent, charp, 0444);
MODULE_PARM_DESC(absent,
		 "Hooks to load as if this kernel had not their function, comma-separated (tests the load without them) (default: none)");

static unsigned int memwatch_max_procs = 4096;
module_param_named(max_procs, memwatch_max_procs, uint, 0444);
MODULE_PARM_DESC(max_procs,
		 "Process records kept, 16 to 32764 (default: 4096)");

static unsigned int memwatch_max_policies = 1024;
module_param_named(max_policies, memwatch_max_policies, uint, 0444);
MODULE_PARM_DESC(max_policies,
		 "Cgroups with watermarks, 1 to 65536 (default: 1024)");

static unsigned int memwatch_max_events = 256;
module_param_named(max_events, memwatch_max_events, uint, 0444);
MODULE_PARM_DESC(max_events,
		 "Events queued for sending, 4 to 65536 (default: 256)");

/*
 * The module's one tick, every 200 ms: the process table (drain the
 * CPUs' batches, growth rates, reaping), the host's and the nodes'
 * rankings, then the cgroup policies (the safety net's check, their
 * rankings, policies of removed cgroups), then the node policies. In
 * that order: the rankings read the counters the drain folded.
 */
static struct delayed_work memwatch_tick_work;

static void memwatch_tick(struct work_struct *work)
{
	memwatch_proc_tick();
	memwatch_rank_tick();
	memwatch_wmark_tick();
	memwatch_node_tick();
	queue_delayed_work(memwatch_unbound_wq, &memwatch_tick_work,
			   msecs_to_jiffies(MEMWATCH_TICK_MS));
}

static void memwatch_tick_start(void)
{
	INIT_DELAYED_WORK(&memwatch_tick_work, memwatch_tick);
	queue_delayed_work(memwatch_unbound_wq, &memwatch_tick_work,
			   msecs_to_jiffies(MEMWATCH_TICK_MS));
}

/* cancel_delayed_work_sync() waits for a running tick and its requeue. */
static void memwatch_tick_stop(void)
{
	cancel_delayed_work_sync(&memwatch_tick_work);
}

/*
 * Tables first, then what reads them: the family (commands), the event
 * sender (its reserve, then the ring), the tick, and last the hooks that
 * feed it all. Exit, and a failed load, unwind in reverse.
 */
static int __init memwatch_init(void)
{
	unsigned int mode;
	int err;

	if (sysfs_streq(memwatch_hooks_param, "kprobe")) {
		mode = MEMWATCH_HOOKS_KPROBE;
	} else if (sysfs_streq(memwatch_hooks_param, "tracepoint")) {
		mode = MEMWATCH_HOOKS_TRACEPOINT;
	} else {
		pr_err("hooks=%s: not kprobe or tracepoint\n",
		       memwatch_hooks_param);
		return -EINVAL;
	}
	err = memwatch_pfn_init();
	if (err)
		return err;
	err = memwatch_proc_init(memwatch_max_procs);
	if (err)
		goto err_pfn;
	err = memwatch_rank_init();
	if (err)
		goto err_proc;
	err = memwatch_node_init();
	if (err)
		goto err_rank;
	err = memwatch_wmark_init(memwatch_max_policies);
	if (err)
		goto err_node;
	err = memwatch_genl_init();
	if (err)
		goto err_wmark;
	err = memwatch_nl_event_init();
	if (err)
		goto err_genl;
	err = memwatch_events_init(memwatch_max_events, memwatch_nl_event_send);
	if (err)
		goto err_nl_event;
	memwatch_tick_start();
	err = memwatch_hooks_init(memwatch_track, memwatch_probe_only, mode,
				  memwatch_absent);
	if (err)
		goto err_tick;
	pr_info("loaded, version %s\n", MEMWATCH_VERSION);
	return 0;

err_tick:
	memwatch_tick_stop();
	memwatch_events_exit();
err_nl_event:
	memwatch_nl_event_exit();
err_genl:
	memwatch_genl_exit();
err_wmark:
	memwatch_wmark_exit();
err_node:
	memwatch_node_exit();
err_rank:
	memwatch_rank_exit();
err_proc:
	memwatch_proc_exit();
err_pfn:
	memwatch_pfn_exit();
	return err;
}

static void __exit memwatch_exit(void)
{
	memwatch_hooks_exit();
	memwatch_tick_stop();
	memwatch_events_exit();
	memwatch_nl_event_exit();
	memwatch_genl_exit();
	memwatch_wmark_exit();
	memwatch_node_exit();
	memwatch_rank_exit();
	memwatch_proc_exit();
	memwatch_pfn_exit();
	pr_info("unloaded\n");
}

module_init(memwatch_init);
module_exit(memwatch_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("memwatch developers");
MODULE_DESCRIPTION("Page allocation tracking and memory watermark events");
MODULE_VERSION(MEMWATCH_VERSION);
