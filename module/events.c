// SPDX-License-Identifier: GPL-2.0
/*
 * The events' ring. Events are detected in probe context, where nothing
 * may sleep or allocate: there they only go into a fixed ring (a raw
 * spinlock, held for a copy and queue_work()), and a work item takes them
 * out in process context. What the work does with them is its owner's
 * (memwatch_events_init()'s send: netlink's, nl_event.c): this file knows
 * no message. The ring's size is the module parameter max_events. A full
 * ring, or an event the sender could not send, is dropped and counted:
 * STATUS reports sent and dropped events, so a loss is never silent.
 *
 * The work runs on a workqueue of its own with WQ_MEM_RECLAIM (a rescuer
 * thread runs it when no worker can be made) and WQ_HIGHPRI: events
 * matter most when memory is short.
 */
#include <linux/atomic.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "events.h"

static struct memwatch_event *memwatch_ring;	/* memwatch_ring_size long */
static unsigned int memwatch_ring_size;
static unsigned int memwatch_ring_head, memwatch_ring_len;
static DEFINE_RAW_SPINLOCK(memwatch_ring_lock);
static atomic64_t memwatch_sent, memwatch_dropped;
static struct workqueue_struct *memwatch_events_wq;
static struct work_struct memwatch_event_work;
static bool memwatch_events_on;

void memwatch_event_push(const struct memwatch_event *e)
{
	unsigned long flags;
	bool queued = false;

	/*
	 * The work is queued under the lock too: once exit has turned the
	 * queue off, nothing queues the work again behind its cancel.
	 */
	raw_spin_lock_irqsave(&memwatch_ring_lock, flags);
	if (READ_ONCE(memwatch_events_on) &&
	    memwatch_ring_len < memwatch_ring_size) {
		memwatch_ring[(memwatch_ring_head + memwatch_ring_len++) %
			      memwatch_ring_size] = *e;
		queue_work(memwatch_events_wq, &memwatch_event_work);
		queued = true;
	}
	raw_spin_unlock_irqrestore(&memwatch_ring_lock, flags);
	if (!queued)
		atomic64_inc(&memwatch_dropped);
}

bool memwatch_event_pop(struct memwatch_event *e)
{
	unsigned long flags;
	bool got = false;

	raw_spin_lock_irqsave(&memwatch_ring_lock, flags);
	if (memwatch_ring_len) {
		*e = memwatch_ring[memwatch_ring_head];
		memwatch_ring_head = (memwatch_ring_head + 1) %
				     memwatch_ring_size;
		memwatch_ring_len--;
		got = true;
	}
	raw_spin_unlock_irqrestore(&memwatch_ring_lock, flags);
	return got;
}

void memwatch_event_done(bool sent)
{
	atomic64_inc(sent ? &memwatch_sent : &memwatch_dropped);
}

int memwatch_events_init(unsigned int size, work_func_t send)
{
	memwatch_ring_size = clamp(size, MEMWATCH_EVENTS_MIN,
				   MEMWATCH_EVENTS_MAX);
	memwatch_ring = kvcalloc(memwatch_ring_size, sizeof(*memwatch_ring),
				 GFP_KERNEL);
	if (!memwatch_ring)
		return -ENOMEM;
	memwatch_events_wq = alloc_workqueue("memwatch_events",
					     WQ_UNBOUND | WQ_MEM_RECLAIM |
					     WQ_HIGHPRI, 1);
	if (!memwatch_events_wq) {
		kvfree(memwatch_ring);
		memwatch_ring = NULL;
		return -ENOMEM;
	}
	INIT_WORK(&memwatch_event_work, send);
	memwatch_ring_head = 0;
	memwatch_ring_len = 0;
	atomic64_set(&memwatch_sent, 0);
	atomic64_set(&memwatch_dropped, 0);
	WRITE_ONCE(memwatch_events_on, true);
	return 0;
}

void memwatch_events_exit(void)
{
	unsigned long flags;

	/*
	 * Under the lock: a push that saw the queue on has finished with it
	 * before the queue goes (the watermark worker may still push).
	 */
	raw_spin_lock_irqsave(&memwatch_ring_lock, flags);
	WRITE_ONCE(memwatch_events_on, false);
	raw_spin_unlock_irqrestore(&memwatch_ring_lock, flags);
	cancel_work_sync(&memwatch_event_work);
	destroy_workqueue(memwatch_events_wq);
	memwatch_events_wq = NULL;
	kvfree(memwatch_ring);
	memwatch_ring = NULL;
}

unsigned int memwatch_events_queued(void)
{
	return READ_ONCE(memwatch_ring_len);
}

unsigned int memwatch_events_capacity(void)
{
	return memwatch_ring_size;
}

/* The ring (the sender's reserve is its own: nl_event.c). */
size_t memwatch_events_bytes(void)
{
	return (size_t)memwatch_ring_size * sizeof(*memwatch_ring);
}

u64 memwatch_events_sent(void)
{
	return atomic64_read(&memwatch_sent);
}

u64 memwatch_events_dropped(void)
{
	return atomic64_read(&memwatch_dropped);
}
