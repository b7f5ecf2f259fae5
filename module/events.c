// SPDX-License-Identifier: GPL-2.0
/*
 * Events are detected in probe context, where nothing may sleep or
 * allocate: there they only go into a fixed ring (a raw spinlock, held for
 * a copy), and a work item sends them from process context. A full ring,
 * or no memory for a message, drops the event and counts it: STATUS
 * reports sent and dropped events, so a loss is never silent.
 */
#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "events.h"
#include "netlink.h"

#define MEMWATCH_EVENT_RING 256

static struct memwatch_event memwatch_ring[MEMWATCH_EVENT_RING];
static unsigned int memwatch_ring_head, memwatch_ring_len;
static DEFINE_RAW_SPINLOCK(memwatch_ring_lock);
static atomic64_t memwatch_sent, memwatch_dropped;
static struct work_struct memwatch_event_work;
static bool memwatch_events_on;

void memwatch_event_push(const struct memwatch_event *e)
{
	unsigned long flags;
	bool queued = false;

	raw_spin_lock_irqsave(&memwatch_ring_lock, flags);
	if (READ_ONCE(memwatch_events_on) &&
	    memwatch_ring_len < MEMWATCH_EVENT_RING) {
		memwatch_ring[(memwatch_ring_head + memwatch_ring_len++) %
			      MEMWATCH_EVENT_RING] = *e;
		queued = true;
	}
	raw_spin_unlock_irqrestore(&memwatch_ring_lock, flags);
	if (!queued) {
		atomic64_inc(&memwatch_dropped);
		return;
	}
	queue_work(system_unbound_wq, &memwatch_event_work);
}

static bool memwatch_event_pop(struct memwatch_event *e)
{
	unsigned long flags;
	bool got = false;

	raw_spin_lock_irqsave(&memwatch_ring_lock, flags);
	if (memwatch_ring_len) {
		*e = memwatch_ring[memwatch_ring_head];
		memwatch_ring_head = (memwatch_ring_head + 1) %
				     MEMWATCH_EVENT_RING;
		memwatch_ring_len--;
		got = true;
	}
	raw_spin_unlock_irqrestore(&memwatch_ring_lock, flags);
	return got;
}

static void memwatch_event_send(struct work_struct *work)
{
	struct memwatch_event e;

	while (memwatch_event_pop(&e)) {
		if (memwatch_genl_event(&e))
			atomic64_inc(&memwatch_dropped);
		else
			atomic64_inc(&memwatch_sent);
	}
}

int memwatch_events_init(void)
{
	INIT_WORK(&memwatch_event_work, memwatch_event_send);
	memwatch_ring_head = 0;
	memwatch_ring_len = 0;
	atomic64_set(&memwatch_sent, 0);
	atomic64_set(&memwatch_dropped, 0);
	WRITE_ONCE(memwatch_events_on, true);
	return 0;
}

/* After the hooks are gone: nothing pushes any more. */
void memwatch_events_exit(void)
{
	WRITE_ONCE(memwatch_events_on, false);
	cancel_work_sync(&memwatch_event_work);
}

u64 memwatch_events_sent(void)
{
	return atomic64_read(&memwatch_sent);
}

u64 memwatch_events_dropped(void)
{
	return atomic64_read(&memwatch_dropped);
}
