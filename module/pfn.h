/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MEMWATCH_PFN_H
#define _MEMWATCH_PFN_H

#include <linux/compiler.h>
#include <linux/types.h>

/*
 * A page's owner entry: 0 when memwatch did not see it charged, else the
 * owner's slot id (proc.h) and whether it landed off the node of the CPU
 * that charged it.
 */
#define MEMWATCH_PFN_REMOTE	0x8000
#define MEMWATCH_PFN_SLOT	0x7fff

struct memwatch_pfn_node {
	unsigned long start;	/* first pfn */
	unsigned long pages;	/* spanned; 0 without a table */
	u16 *owner;
};

/* [nr_node_ids], set at load before the hooks and freed after them. */
extern struct memwatch_pfn_node *memwatch_pfn_nodes;

int memwatch_pfn_init(void);
void memwatch_pfn_exit(void);
void memwatch_pfn_outside(void);

/*
 * The entry of the page at pfn on node nid in *entry, or false outside
 * the table (a node without one has pages 0). Inline: the fault path
 * looks an entry up at every allocation and free.
 */
static __always_inline bool memwatch_pfn_entry(int nid, unsigned long pfn,
					       u16 **entry)
{
	const struct memwatch_pfn_node *n = &memwatch_pfn_nodes[nid];
	unsigned long i = pfn - n->start;

	if (unlikely(i >= n->pages)) {
		memwatch_pfn_outside();
		return false;
	}
	*entry = &n->owner[i];
	return true;
}

unsigned long memwatch_pfn_capacity(void);
size_t memwatch_pfn_bytes(void);
u64 memwatch_pfn_untracked(void);

#endif /* _MEMWATCH_PFN_H */
