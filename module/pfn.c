// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns each page: one u16 per page frame of every node with memory,
 * allocated on that node at load, so 2 bytes per 4 KiB page (0.05% of
 * RAM) whatever the load. Entries change in probe context, only by the
 * path that holds the page (acct.c); a page's entry is set when its
 * charge succeeds and cleared when it is uncharged, so each live page is
 * released exactly once.
 */
#include <linux/atomic.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "pfn.h"

struct memwatch_pfn_node *memwatch_pfn_nodes __read_mostly;
static atomic64_t memwatch_pfn_outside_pages;

/* A page in no node's table (memory hot-added since load). */
void memwatch_pfn_outside(void)
{
	atomic64_inc(&memwatch_pfn_outside_pages);
}

int memwatch_pfn_init(void)
{
	int nid;

	memwatch_pfn_nodes = kcalloc(nr_node_ids, sizeof(*memwatch_pfn_nodes),
				     GFP_KERNEL);
	if (!memwatch_pfn_nodes)
		return -ENOMEM;
	atomic64_set(&memwatch_pfn_outside_pages, 0);
	for_each_node_state(nid, N_MEMORY) {
		struct memwatch_pfn_node *n = &memwatch_pfn_nodes[nid];

		n->start = NODE_DATA(nid)->node_start_pfn;
		n->pages = NODE_DATA(nid)->node_spanned_pages;
		n->owner = vzalloc_node(array_size(n->pages, sizeof(u16)), nid);
		if (!n->owner) {
			memwatch_pfn_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

void memwatch_pfn_exit(void)
{
	int nid;

	if (!memwatch_pfn_nodes)
		return;
	for (nid = 0; nid < nr_node_ids; nid++)
		vfree(memwatch_pfn_nodes[nid].owner);
	kfree(memwatch_pfn_nodes);
	memwatch_pfn_nodes = NULL;
}

unsigned long memwatch_pfn_capacity(void)
{
	unsigned long pages = 0;
	int nid;

	for (nid = 0; nid < nr_node_ids; nid++)
		if (memwatch_pfn_nodes[nid].owner)
			pages += memwatch_pfn_nodes[nid].pages;
	return pages;
}

size_t memwatch_pfn_bytes(void)
{
	return memwatch_pfn_capacity() * sizeof(u16) +
	       nr_node_ids * sizeof(*memwatch_pfn_nodes);
}

u64 memwatch_pfn_untracked(void)
{
	return atomic64_read(&memwatch_pfn_outside_pages);
}
