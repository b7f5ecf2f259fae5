// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns each page: one u16 per page frame, from the first frame of
 * the lowest node with memory to the last of the highest, so 2 bytes per
 * 4 KiB page (0.05% of RAM) whatever the load; a hole between nodes
 * costs the same per frame. One virtually contiguous table, so a lookup
 * is an offset and a bound, and each of its pages is allocated on the
 * node whose frames it describes (vmap()), so a lookup reads local
 * memory. Entries change in probe context, only by the path that holds
 * the page (acct.c); a page's entry is set when it is counted and
 * cleared when it is released, so each live page is released exactly
 * once. Memory hot-added outside the table is not tracked (counted).
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "pfn.h"

/* Frames one page of the table describes. */
#define MEMWATCH_PFN_PER_PAGE	(PAGE_SIZE / sizeof(u16))

struct memwatch_pfn_table memwatch_pfn __read_mostly;
static struct page **memwatch_pfn_pages;
static unsigned long memwatch_pfn_npages;
static atomic64_t memwatch_pfn_outside_pages;

/* A page in no node's table (memory hot-added since load). */
void memwatch_pfn_outside(void)
{
	atomic64_inc(&memwatch_pfn_outside_pages);
}

/* The node whose frames from pfn on a table page describes, if any. */
static int memwatch_pfn_node(unsigned long pfn)
{
	unsigned long last = pfn + MEMWATCH_PFN_PER_PAGE - 1;
	int nid;

	for_each_node_state(nid, N_MEMORY)
		if (pfn < node_end_pfn(nid) &&
		    last >= NODE_DATA(nid)->node_start_pfn)
			return nid;
	return NUMA_NO_NODE;
}

int memwatch_pfn_init(void)
{
	unsigned long start = ULONG_MAX, end = 0, spanned = 0, i;
	int nid;

	atomic64_set(&memwatch_pfn_outside_pages, 0);
	for_each_node_state(nid, N_MEMORY) {
		start = min(start, NODE_DATA(nid)->node_start_pfn);
		end = max(end, node_end_pfn(nid));
		spanned += NODE_DATA(nid)->node_spanned_pages;
	}
	if (end <= start)
		return -ENODEV;
	start = ALIGN_DOWN(start, MEMWATCH_PFN_PER_PAGE);
	memwatch_pfn_npages = DIV_ROUND_UP(end - start, MEMWATCH_PFN_PER_PAGE);
	if (end - start > 2 * spanned)
		pr_warn("page frames %lu to %lu: %lu KiB of owner table, holes between nodes included\n",
			start, end - 1,
			memwatch_pfn_npages << (PAGE_SHIFT - 10));
	memwatch_pfn_pages = kvcalloc(memwatch_pfn_npages,
				      sizeof(*memwatch_pfn_pages), GFP_KERNEL);
	if (!memwatch_pfn_pages)
		return -ENOMEM;
	for (i = 0; i < memwatch_pfn_npages; i++) {
		nid = memwatch_pfn_node(start + i * MEMWATCH_PFN_PER_PAGE);
		memwatch_pfn_pages[i] = alloc_pages_node(nid, GFP_KERNEL |
							 __GFP_ZERO, 0);
		if (!memwatch_pfn_pages[i])
			goto err;
		cond_resched();
	}
	memwatch_pfn.owner = vmap(memwatch_pfn_pages, memwatch_pfn_npages,
				  VM_MAP, PAGE_KERNEL);
	if (!memwatch_pfn.owner)
		goto err;
	memwatch_pfn.start = start;
	memwatch_pfn.pages = end - start;
	return 0;
err:
	memwatch_pfn_exit();
	return -ENOMEM;
}

void memwatch_pfn_exit(void)
{
	unsigned long i;

	memwatch_pfn.pages = 0;
	if (memwatch_pfn.owner)
		vunmap(memwatch_pfn.owner);
	memwatch_pfn.owner = NULL;
	for (i = 0; memwatch_pfn_pages && i < memwatch_pfn_npages; i++)
		if (memwatch_pfn_pages[i])
			__free_page(memwatch_pfn_pages[i]);
	kvfree(memwatch_pfn_pages);
	memwatch_pfn_pages = NULL;
	memwatch_pfn_npages = 0;
}

/*
 * The worker's fold (proc.c): every entry whose slot is set in map now
 * says slot to, its remote bit kept. Entries are swapped with cmpxchg(),
 * so one that its page's holder changes meanwhile (memwatch_folding is
 * on: it swaps too) is left to the holder. Returns how many it rewrote.
 */
unsigned long memwatch_pfn_fold(const unsigned long *map, u16 to)
{
	unsigned long i, n = 0;

	for (i = 0; i < memwatch_pfn.pages; i++) {
		u16 *entry = &memwatch_pfn.owner[i];
		u16 val = READ_ONCE(*entry);

		if (val && test_bit(val & MEMWATCH_PFN_SLOT, map) &&
		    cmpxchg(entry, val, to | (val & MEMWATCH_PFN_REMOTE)) == val)
			n++;
		if (!(i % (64 * MEMWATCH_PFN_PER_PAGE)))
			cond_resched();
	}
	return n;
}

unsigned long memwatch_pfn_capacity(void)
{
	return memwatch_pfn.pages;
}

size_t memwatch_pfn_bytes(void)
{
	return memwatch_pfn_npages * (PAGE_SIZE + sizeof(struct page *));
}

u64 memwatch_pfn_untracked(void)
{
	return atomic64_read(&memwatch_pfn_outside_pages);
}
